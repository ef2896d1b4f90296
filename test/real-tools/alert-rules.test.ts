/**
 * Alert rules, in two kinds of tests.
 *
 * Generic, for every rule file in `alerts/` (shipped or added by a user) and for a plain Prometheus
 * rule file added to a copy of the program: the program's own parser accepts it (what `pulumi up`
 * refuses is refused here, nothing more), promtool accepts it, every promtool unit test in
 * `alerts/tests/` passes, and the program plans with it.
 *
 * Shipped only (named in test/support/shipped-content.ts): the house conventions (CamelCase names,
 * description and runbook_url, `for` of at least 1m, templates the translator maps), the required
 * alerts, jobs the rendered prometheus.yml has, the filesystem selectors, a runbook section per alert in
 * docs/runbook.md, and a promtool test that makes each alert fire and one where it stays silent.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { parser } from "@prometheus-io/lezer-promql";
import { resolveStackConfig } from "../../components/config/resolve";
import { durationMs } from "../../components/lib/validators";
import { LOG_ALERTS, logAlertGroups } from "../../components/alerting/log-alerts";
import { SLO_ALERTS } from "../../components/slo/slo-rules";
import { DATASOURCE_ALERTS } from "../../components/alerting/datasource-alerts";
import { readRuleFiles } from "../../components/alerting/alert-files";
import { parseRuleFiles, RuleFileError } from "../../components/alerting/rule-files";
import { renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { STACK_SERVICE_LIST } from "../../components/stack-services";
import { hostDroppingProblems } from "../support/host-label";
import { promqlSyntaxErrors } from "../support/promql";
import { describeWithTools, runTool, tempDir } from "../support/real-tools";
import { copyProject, planCopy, ProjectCopy, SHARED_FIXTURES } from "../support/project-copy";
import { ruleUid } from "../../components/alerting/grafana-rules";
import { SHIPPED_RULE_FILES, SHIPPED_RULE_TESTS } from "../support/shipped-content";

const ROOT = path.join(__dirname, "..", "..");
const ALERTS_DIR = path.join(ROOT, "alerts");
const TESTS_DIR = path.join(ALERTS_DIR, "tests");
const RUNBOOK = path.join(ROOT, "docs", "runbook.md");

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}
interface RuleGroup {
  name: string;
  interval?: string;
  rules: AlertRule[];
  [key: string]: unknown;
}
interface LoadedRule {
  file: string;
  group: RuleGroup;
  rule: AlertRule;
}
interface RuleTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] }[] }[];
}

function yamlFiles(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Every rule file the program reads (the `*.yml`/`*.yaml` directly in the folder). */
const allRuleFiles = (dir: string) => readRuleFiles(dir).map((file) => path.join(path.dirname(dir), file.fileName));
const ruleFiles = SHIPPED_RULE_FILES.map((file) => path.join(ROOT, file));
const testFiles = SHIPPED_RULE_TESTS.map((file) => path.join(ROOT, file));

/** The rules of rule files; a file the program would refuse contributes none (the parser test reports it). */
function loadRules(files: string[]): LoadedRule[] {
  return files.flatMap((file) => {
    let document: { groups?: RuleGroup[] } | undefined;
    try {
      document = yaml.load(fs.readFileSync(file, "utf8")) as { groups?: RuleGroup[] } | undefined;
    } catch {
      return [];
    }
    const groups = Array.isArray(document?.groups) ? document.groups : [];
    return groups.flatMap((group) => (Array.isArray(group?.rules) ? group.rules : []).map((rule) => ({ file, group, rule })));
  });
}
/** The shipped rules: the subjects of the convention, runbook and coverage tests. */
const rules = loadRules(ruleFiles);
const alertNames = rules.map((r) => r.rule.alert);
/** Every alert any rule file in alerts/ defines (a user's too). */
const allAlertNames = loadRules(allRuleFiles(ALERTS_DIR)).map((r) => r.rule.alert);

/** Seconds in a Prometheus duration. */
const seconds = (duration: string) => durationMs(duration) / 1000;

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** `## ` headings of a markdown file, outside code fences, with the text of their section. */
function markdownSections(markdown: string): { heading: string; body: string }[] {
  const sections: { heading: string; body: string }[] = [];
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const match = inFence ? null : /^## (.+)$/.exec(line);
    if (match) sections.push({ heading: match[1].trim(), body: "" });
    else if (sections.length > 0) sections[sections.length - 1].body += `${line}\n`;
  }
  return sections;
}

/** Every `{{ ... }}` action of a template. */
function templateActions(text: string): string[] {
  return [...text.matchAll(/\{\{(.*?)\}\}/gs)].map((match) => match[1].trim());
}

/** What the translator can map to Grafana: a label, or the value, optionally through one humanize function. */
const ALLOWED_ACTION = /^(\$labels\.[a-zA-Z_][a-zA-Z0-9_]*|\$value(\s*\|\s*(humanize|humanize1024|humanizePercentage|humanizeDuration))?)$/;

/** Label matchers on `job` (= and =~ only) in an expression, read with the PromQL grammar. */
function jobMatchers(expr: string): { op: string; value: string }[] {
  const found: { op: string; value: string }[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.name !== "UnquotedLabelMatcher") return;
      const name = node.node.getChild("LabelName");
      const op = node.node.getChild("MatchOp");
      const value = node.node.getChild("StringLiteral");
      if (!name || !op || !value || expr.slice(name.from, name.to) !== "job") return;
      found.push({ op: expr.slice(op.from, op.to), value: JSON.parse(expr.slice(value.from, value.to)) as string });
    },
  });
  return found;
}

describe("shipped alert rules: structure and conventions", () => {
  test("every manifest entry exists, and every shipped file holds alerting rules only, with the known fields", () => {
    for (const file of [...ruleFiles, ...testFiles]) expect({ file, exists: fs.existsSync(file) }).toEqual({ file, exists: true });
    for (const file of ruleFiles) {
      const document = yaml.load(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      expect({ file, keys: Object.keys(document) }).toEqual({ file, keys: ["groups"] });
      for (const group of document.groups as RuleGroup[]) {
        const where = `${path.basename(file)} group ${group.name}`;
        expect({ where, extra: Object.keys(group).filter((key) => !["name", "interval", "rules"].includes(key)) }).toEqual({ where, extra: [] });
        expect(group.rules.length).toBeGreaterThan(0);
        for (const rule of group.rules) {
          const fields = Object.keys(rule).filter((key) => !["alert", "expr", "for", "keep_firing_for", "labels", "annotations"].includes(key));
          expect({ where: `${where} ${rule.alert ?? JSON.stringify(rule)}`, extra: fields }).toEqual({
            where: `${where} ${rule.alert ?? JSON.stringify(rule)}`,
            extra: [],
          });
          expect(typeof rule.alert).toBe("string");
          expect(typeof rule.expr).toBe("string");
        }
      }
    }
    const groupNames = ruleFiles.flatMap((file) => (yaml.load(fs.readFileSync(file, "utf8")) as { groups: RuleGroup[] }).groups.map((g) => g.name));
    expect(new Set(groupNames).size).toBe(groupNames.length);
  });

  test("alert names are CamelCase and unique across all files", () => {
    for (const name of alertNames) expect(name).toMatch(/^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$/);
    const duplicates = alertNames.filter((name, index) => alertNames.indexOf(name) !== index);
    expect(duplicates).toEqual([]);
  });

  test("the required alerts are shipped", () => {
    expect(alertNames).toEqual(
      expect.arrayContaining([
        "ServiceHealthProbeFailing",
        "ServiceTargetDown",
        "HostFilesystemSpaceLow",
        "HostFilesystemSpaceCritical",
        "HostFilesystemFillingUp",
        "HostHighMemoryUsage",
        "HostHighLoad",
        "HostClockSkew",
        "PrometheusConfigReloadFailed",
        "GrafanaAlertRuleEvaluationFailing",
        "PrometheusScrapeSamplesRejected",
        "GrafanaDown",
        "ExporterDown",
        "TlsCertificateExpiringSoon",
        "TlsEndpointProbeFailing",
      ]),
    );
  });

  test.each(rules.map((r) => [r.rule.alert, r] as const))("%s: severity, annotations, `for` and templates follow the conventions", (_name, { group, rule }) => {
    expect(["critical", "warning", "info"]).toContain(rule.labels?.severity);
    for (const key of ["summary", "description", "runbook_url"]) {
      expect(typeof rule.annotations?.[key]).toBe("string");
      expect((rule.annotations?.[key] ?? "").trim().length).toBeGreaterThan(0);
    }
    // Grafana: `for` is 0 or at least the group interval; the interval a multiple of 10s. We keep `for` >= 1m.
    expect(rule.for).toBeDefined();
    expect(seconds(rule.for as string)).toBeGreaterThanOrEqual(60);
    if (group.interval !== undefined) {
      expect(seconds(group.interval) % 10).toBe(0);
      expect(seconds(rule.for as string)).toBeGreaterThanOrEqual(seconds(group.interval));
    }
    if (rule.keep_firing_for !== undefined) expect(seconds(rule.keep_firing_for)).toBeGreaterThan(0);
    // Templates: only $labels.x and $value (optionally humanized): what the translator maps to Grafana.
    const texts = [...Object.values(rule.annotations ?? {}), ...Object.values(rule.labels ?? {})];
    const actions = texts.flatMap(templateActions);
    expect(actions.filter((action) => !ALLOWED_ACTION.test(action))).toEqual([]);
    // (That each label exists on the alert is checked by the promtool tests: they compare the rendered annotations.)
  });

  test.each(rules.map((r) => [r.rule.alert, r.rule.expr] as const))("%s: the expression parses as PromQL", (_name, expr) => {
    expect(promqlSyntaxErrors(expr)).toEqual([]);
  });

  test.each(rules.map((r) => [r.rule.alert, r.rule.expr] as const))(
    "%s: no aggregation or vector matching merges hosts, and the summary names the host",
    (name, expr) => {
      expect(hostDroppingProblems(expr)).toEqual([]);
      expect(rules.find((r) => r.rule.alert === name)!.rule.annotations?.summary).toContain("{{ $labels.host }}");
    },
  );

  test("every job an expression selects is a job the rendered prometheus.yml has", () => {
    const { config } = resolveStackConfig({
      stack: "dev",
      values: {
        services: [{ name: "knowledge-os-api", metrics: "http://knowledge_os_api:8000/metrics", health: "http://knowledge_os_api:8000/health" }],
        // A central stack pulling an agent host: its job agent-<host> (AgentSeriesChurn selects `agent-.+`).
        agents: [{ host: "app-2.example.com" }],
      },
      secretKeys: [],
    });
    // Every scraped stack service running (each descriptor of components/stack-services.ts with a scrape job).
    const everyTarget = Object.fromEntries(STACK_SERVICE_LIST.map((service) => [service.key, `${service.name}:${service.port}`]));
    // With tls on, as the TLS alerts (alerts/tls.yml) are loaded only then: the TLS probe job is rendered too.
    const rendered = yaml.load(
      renderPrometheusConfig(config, { prometheus: "localhost:9090", nodeExporter: "172.17.0.1:9100", blackboxExporter: "bb:9115", ...everyTarget }, [], {
        caFile: "/etc/prometheus/tls/ca.pem",
        serverName: "obs.example.internal",
        probeTargets: ["grafana:3000"],
      }),
    ) as {
      scrape_configs: ScrapeConfig[];
    };
    const stackJobs = rendered.scrape_configs.map((job) => job.job_name).filter((job) => job !== "knowledge-os-api");
    const selected = rules.flatMap(({ rule }) =>
      jobMatchers(rule.expr).flatMap((matcher) => (matcher.op === "=~" ? matcher.value.split("|") : [matcher.value]).map((job) => `${rule.alert}: ${job}`)),
    );
    expect(selected.length).toBeGreaterThan(10);
    // Each alternative of a `=~` matcher is a regex (Prometheus anchors it): it must match a rendered job.
    const renders = (job: string) => stackJobs.some((rendered) => new RegExp(`^(?:${job})$`).test(rendered));
    expect(selected.filter((entry) => !renders(entry.split(": ")[1]))).toEqual([]);
  });

  test("the host filesystem alerts select filesystems exactly as the host dashboard does", () => {
    const dashboard = fs.readFileSync(path.join(ROOT, "dashboards", "host.json"), "utf8");
    const fstype = /fstype=~\\"([^\\]+)\\"/.exec(dashboard)?.[1];
    const mountpoint = /mountpoint!~\\"([^\\]+)\\"/.exec(dashboard)?.[1];
    expect(fstype).toBeDefined();
    expect(mountpoint).toBeDefined();
    const filesystemRules = rules.filter(({ rule }) => rule.expr.includes("node_filesystem_"));
    expect(filesystemRules.map((r) => r.rule.alert).sort()).toEqual(["HostFilesystemFillingUp", "HostFilesystemSpaceCritical", "HostFilesystemSpaceLow"]);
    for (const { rule } of filesystemRules) {
      const selectors = [...rule.expr.matchAll(/node_filesystem_\w+\{([^}]*)\}/g)].map((match) => match[1]);
      expect(selectors.length).toBe([...rule.expr.matchAll(/node_filesystem_\w+/g)].length);
      for (const selector of selectors) {
        expect(selector).toContain(`fstype=~"${fstype}"`);
        expect(selector).toContain(`mountpoint!~"${mountpoint}"`);
      }
      // Read-only filesystems never fill up: every filesystem alert leaves them out.
      expect(rule.expr).toMatch(/node_filesystem_readonly\{[^}]*\} == 0/);
    }
  });
});

describe("runbook", () => {
  const markdown = fs.readFileSync(RUNBOOK, "utf8");
  const sections = markdownSections(markdown);
  const anchors = sections.map((section) => githubSlug(section.heading));

  test("GitHub's slug rules, as the anchors assume them", () => {
    expect(githubSlug("ServiceHealthProbeFailing")).toBe("servicehealthprobefailing");
    expect(githubSlug("Disk full: what now?")).toBe("disk-full-what-now");
  });

  test.each(rules.map((r) => [r.rule.alert, r.rule] as const))("%s: runbook_url points at its own runbook section", (name, rule) => {
    const url = rule.annotations?.runbook_url ?? "";
    expect(url).toMatch(/^docs\/runbook\.md#[a-z0-9_-]+$/);
    const anchor = url.split("#")[1];
    expect(anchors).toContain(anchor);
    expect(sections[anchors.indexOf(anchor)].heading).toBe(name);
  });

  test("every section is an alert's (no stale sections), once, and says what it means, what to check and how to resolve", () => {
    // The log alerts are built in code (components/alerting/log-alerts.ts) and share the runbook; a
    // user may document their own alerts here too (not required).
    const documented = [...allAlertNames, ...Object.values(LOG_ALERTS), ...Object.values(SLO_ALERTS), ...Object.values(DATASOURCE_ALERTS)];
    expect(sections.map((s) => s.heading).filter((heading) => !documented.includes(heading))).toEqual([]);
    expect(new Set(anchors).size).toBe(anchors.length);
    for (const name of [...alertNames, ...Object.values(LOG_ALERTS), ...Object.values(SLO_ALERTS), ...Object.values(DATASOURCE_ALERTS)])
      expect({ name, sections: sections.filter((s) => s.heading === name).length }).toEqual({ name, sections: 1 });
    for (const section of sections) {
      for (const part of ["**Meaning.**", "**First checks.**", "**Resolve.**"]) {
        expect({ section: section.heading, has: section.body.includes(part) }).toEqual({ section: section.heading, has: true });
      }
    }
  });

  test("the log alerts' runbook_url point at their own sections", () => {
    const { config } = resolveStackConfig({
      stack: "dev",
      values: { services: [{ name: "api", logs: ["/srv/logs/api*.log"], maxLogSilence: "30m" }] },
      secretKeys: [],
    });
    const group = {
      rules: logAlertGroups(config.logs, config.services, {
        elasticsearchDatasourceUid: "es",
        failureStoreDatasourceUid: "es-failures",
        interval: "1m",
        host: "obs-1",
      }).flatMap((g) => g.rules),
    };
    expect(group.rules.length).toBe(3);
    for (const rule of group.rules) {
      const anchor = rule.annotations.runbook_url.split("#")[1];
      expect(sections[anchors.indexOf(anchor)]?.heading).toBe(rule.name.split(" ")[0]);
    }
  });

  test("links inside the runbook point at existing sections", () => {
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((anchor) => !anchors.includes(anchor))).toEqual([]);
  });
});

describe("promtool unit tests: coverage of the shipped alerts", () => {
  // Every test file in alerts/tests/, a user's too: a shipped alert may be tested in any of them.
  const loaded = yamlFiles(TESTS_DIR, ".test.yml").map((file) => ({ file, document: yaml.load(fs.readFileSync(file, "utf8")) as RuleTestFile }));

  test("there are unit test files, and each one's rule_files are rule files of alerts/", () => {
    expect(testFiles.length).toBeGreaterThanOrEqual(3);
    const programRuleFiles = allRuleFiles(ALERTS_DIR);
    for (const { file, document } of loaded) {
      expect(document.rule_files.length).toBeGreaterThan(0);
      for (const ruleFile of document.rule_files) {
        const resolved = path.resolve(path.dirname(file), ruleFile);
        expect({ file: path.basename(file), ruleFile, exists: fs.existsSync(resolved) }).toEqual({ file: path.basename(file), ruleFile, exists: true });
        expect(programRuleFiles).toContain(resolved);
      }
    }
  });

  test.each(alertNames.map((name) => [name]))("%s is tested firing and silent, with its rule file loaded", (name) => {
    const definedIn = rules.find((r) => r.rule.alert === name)?.file;
    const cases = loaded.flatMap(({ file, document }) => {
      const loadsRule = document.rule_files.some((ruleFile) => path.resolve(path.dirname(file), ruleFile) === definedIn);
      return document.tests.flatMap((group) => (group.alert_rule_test ?? []).filter((c) => c.alertname === name).map((c) => ({ ...c, file, loadsRule })));
    });
    // A silent case in a file that does not load the rule would pass for the wrong reason.
    expect(cases.filter((c) => !c.loadsRule).map((c) => path.basename(c.file))).toEqual([]);
    expect(cases.some((c) => Array.isArray(c.exp_alerts) && c.exp_alerts.length > 0)).toBe(true);
    expect(cases.some((c) => Array.isArray(c.exp_alerts) && c.exp_alerts.length === 0)).toBe(true);
  });

  test("no unit test names an alert that no rule file defines", () => {
    const tested = loaded.flatMap(({ document }) => document.tests.flatMap((group) => (group.alert_rule_test ?? []).map((c) => c.alertname)));
    expect([...new Set(tested)].filter((name) => !allAlertNames.includes(name))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generic checks: every rule file in alerts/, and a user's plain Prometheus rule file

/** A rule file as the README's "How to add an alert" shows it: plain Prometheus format, summary, severity, runbook. */
const USER_RULE_FILE = `groups:
  - name: atra-billing
    rules:
      - alert: BillingQueueBacklog
        expr: billing_queue_depth{service="billing-api"} > 1000
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.service }} has {{ $value }} queued jobs"
          description: The queue grows faster than the workers drain it.
          runbook_url: https://wiki.example.com/runbooks/billing#queue-backlog
`;
/** The least a rule needs: alert, expr, labels.severity, annotations.summary. No for, no runbook, no unit test, any name. */
const MINIMAL_RULE_FILE = `groups:
  - name: team-minimal
    rules:
      - alert: queue_stuck
        expr: increase(jobs_done_total[15m]) == 0
        labels: { severity: info }
        annotations: { summary: no job finished in 15 minutes }
`;

describe("every rule file in alerts/ (shipped or added): the program's own checks", () => {
  test("the program's parser accepts them all", () => {
    expect(() => parseRuleFiles(readRuleFiles(ALERTS_DIR))).not.toThrow();
  });

  test("a user's rule needs exactly what the program refuses without: severity and summary", () => {
    const parse = (text: string) => () => parseRuleFiles([{ fileName: "alerts/user.yml", text }]);
    expect(parse(USER_RULE_FILE)).not.toThrow();
    expect(parse(MINIMAL_RULE_FILE)).not.toThrow();
    expect(parse(MINIMAL_RULE_FILE.replace("labels: { severity: info }", "labels: {}"))).toThrow(
      'alerts/user.yml, group "team-minimal", rule "queue_stuck": needs labels.severity',
    );
    expect(parse(MINIMAL_RULE_FILE.replace("summary: no job finished in 15 minutes", "description: x"))).toThrow(RuleFileError);
    expect(parse(MINIMAL_RULE_FILE.replace("summary: no job finished in 15 minutes", "description: x"))).toThrow("needs annotations.summary");
  });
});

describe("a plain Prometheus rule file added to a copy of the program", () => {
  let copy: ProjectCopy;
  beforeAll(() => {
    copy = copyProject();
    copy.add("alerts/billing.yml", USER_RULE_FILE);
    copy.add("alerts/minimal.yml", MINIMAL_RULE_FILE);
  });
  afterAll(() => copy?.remove());

  test("plans: each group becomes a Grafana rule group beside the shipped ones", async () => {
    const plan = await planCopy(copy, "dev");
    const groups = plan.run.resources.filter((r) => r.type === "grafana:alerting/ruleGroup:RuleGroup").map((r) => String(r.inputs.name));
    expect(groups).toEqual(expect.arrayContaining(["atra-billing", "team-minimal"]));
    const billing = JSON.parse(plan.artifacts.find((a) => a.path === "grafana/alert-rules/atra-billing.json")!.content) as {
      rules: { name: string; labels: Record<string, string>; annotations: Record<string, string>; for: string }[];
    };
    expect(billing.rules[0]).toMatchObject({
      name: "BillingQueueBacklog",
      labels: { severity: "warning" },
      annotations: { runbook_url: "https://wiki.example.com/runbooks/billing#queue-backlog" },
    });
  });

  test("the shipped-only checks do not see it (they read the manifest), the generic ones do", () => {
    expect(alertNames).not.toContain("BillingQueueBacklog");
    const copied = loadRules(allRuleFiles(path.join(copy.dir, "alerts"))).map((r) => r.rule.alert);
    expect(copied).toEqual(expect.arrayContaining(["BillingQueueBacklog", "queue_stuck", ...alertNames]));
    expect(() => parseRuleFiles(readRuleFiles(path.join(copy.dir, "alerts")))).not.toThrow();
  });

  describeWithTools(["promtool"], "promtool", () => {
    test("accepts the added rule files", () => {
      for (const file of ["billing.yml", "minimal.yml"]) {
        const result = runTool("promtool", ["check", "rules", path.join(copy.dir, "alerts", file)]);
        expect({ file, status: result.status, output: result.output }).toEqual({ file, status: 0, output: expect.stringContaining("SUCCESS") });
      }
    });
  });
});

/**
 * The node-exporter mixin's alerts as rendered for users (../shared/fixtures/alerts/node-mixin-alerts.yaml,
 * monitoring-mixins/website assets/node-exporter/alerts.yaml): warning/critical pairs that share an alert
 * name within one group. Valid Prometheus, and Grafana has accepted repeated titles since
 * grafana/grafana#102067 (the provider since terraform-provider-grafana#2323): it must plan unchanged.
 */
describe("the node-exporter mixin dropped into a copy's alerts/", () => {
  const MIXIN = path.join(SHARED_FIXTURES, "alerts", "node-mixin-alerts.yaml");
  const mixinText = () => {
    if (!fs.existsSync(MIXIN)) throw new Error(`${MIXIN} is missing: the shared fixtures must sit beside the clone (../shared/fixtures)`);
    return fs.readFileSync(MIXIN, "utf8");
  };
  let copy: ProjectCopy;
  beforeAll(() => {
    copy = copyProject();
    copy.add("alerts/node-mixin-alerts.yaml", mixinText());
  });
  afterAll(() => copy?.remove());

  interface Translated {
    uid: string;
    name: string;
    for: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    datas: { refId: string; datasourceUid: string; model: string }[];
    [key: string]: unknown;
  }

  test("plans: one rule group with all 26 rules, names repeated, uids unique and stable", async () => {
    const plan = await planCopy(copy, "dev");
    const group = plan.run.resources.find((r) => r.type === "grafana:alerting/ruleGroup:RuleGroup" && r.inputs.name === "node-exporter")!;
    const rules = group.inputs.rules as Translated[];
    const source = (yaml.load(mixinText()) as { groups: RuleGroup[] }).groups[0].rules;
    expect(rules.map((rule) => rule.name)).toEqual(source.map((rule) => rule.alert));
    expect(new Set(rules.map((rule) => rule.name)).size).toBeLessThan(rules.length);
    const allUids = plan.run.resources
      .filter((r) => r.type === "grafana:alerting/ruleGroup:RuleGroup")
      .flatMap((r) => (r.inputs.rules as Translated[]).map((rule) => rule.uid));
    expect(new Set(allUids).size).toBe(allUids.length);
    // The same file planned again gives the same uids (nothing random, nothing from the run).
    const again = (await planCopy(copy, "dev")).run.resources.find((r) => r.inputs.name === "node-exporter" && r.type === group.type)!;
    expect((again.inputs.rules as Translated[]).map((rule) => rule.uid)).toEqual(rules.map((rule) => rule.uid));
  }, 120_000);

  test("translates right: the warning/critical pair of NodeFilesystemSpaceFillingUp, as Grafana rules", async () => {
    const plan = await planCopy(copy, "dev");
    const artifact = plan.artifacts.find((a) => a.path === "grafana/alert-rules/node-exporter.json")!;
    const [warning, critical] = (JSON.parse(artifact.content) as { rules: Translated[] }).rules;
    const source = (yaml.load(mixinText()) as { groups: RuleGroup[] }).groups[0].rules;
    const expected = (rule: AlertRule, discriminator: string): Record<string, unknown> => ({
      uid: ruleUid("node-exporter", "NodeFilesystemSpaceFillingUp", discriminator),
      name: "NodeFilesystemSpaceFillingUp",
      for: "1h",
      condition: "FIRING",
      noDataState: "OK",
      execErrState: "KeepLast",
      missingSeriesEvalsToResolve: 1,
      isPaused: false,
      labels: rule.labels,
      annotations: {
        summary: rule.annotations!.summary,
        // Prometheus's $value is Grafana's $values.A.Value; printf and $labels carry over.
        description: rule.annotations!.description.replace('printf "%.2f" $value', 'printf "%.2f" $values.A.Value'),
      },
    });
    expect(warning).toMatchObject(expected(source[0], '{severity="warning"}'));
    expect(critical).toMatchObject(expected(source[1], '{severity="critical"}'));
    expect(warning.annotations.description).toContain('{{ printf "%.2f" $values.A.Value }}% available');
    for (const [rule, from] of [
      [warning, source[0]],
      [critical, source[1]],
    ] as const) {
      // The plan's artifact shows the model as JSON (the provider takes it as text).
      const model = rule.datas[0].model as unknown;
      const query = (typeof model === "string" ? JSON.parse(model) : model) as { expr: string; instant: boolean };
      expect(rule.datas.map((data) => [data.refId, data.datasourceUid])).toEqual([
        ["A", "atra-prometheus-ds"],
        ["FIRING", "__expr__"],
      ]);
      expect(query).toMatchObject({ expr: from.expr.trim(), instant: true });
    }
  }, 120_000);

  describeWithTools(["promtool"], "promtool", () => {
    test("accepts the mixin file as the copy holds it", () => {
      const result = runTool("promtool", ["check", "rules", path.join(copy.dir, "alerts", "node-mixin-alerts.yaml")]);
      expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS: 26 rules found") });
    });
  });
});

describeWithTools(["promtool"], "promtool on every rule file and unit test in alerts/", () => {
  test.each(allRuleFiles(ALERTS_DIR).map((file) => [path.relative(ROOT, file), file]))("promtool check rules %s", (_name, file) => {
    const result = runTool("promtool", ["check", "rules", file]);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
  });

  test.each(yamlFiles(TESTS_DIR, ".test.yml").map((file) => [path.relative(ROOT, file), file]))("promtool test rules %s", (_name, file) => {
    const result = runTool("promtool", ["test", "rules", file]);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
  });

  test("negative controls: promtool rejects a broken rule file and a wrong expectation", () => {
    const dir = tempDir("atra-alert-rules-");
    try {
      const broken = path.join(dir, "broken.yml");
      fs.writeFileSync(
        broken,
        yaml.dump({
          groups: [{ name: "broken", rules: [{ alert: "Broken", expr: 'up{job="x" == 0', for: "1m", annotations: { summary: "{{ $labels.job " } }] }],
        }),
      );
      const check = runTool("promtool", ["check", "rules", broken]);
      expect(check.status).not.toBe(0);
      expect(check.output).toMatch(/parse error|unexpected/i);

      // The shipped services rules with a test that expects the probe alert before its `for` has passed.
      fs.copyFileSync(path.join(ALERTS_DIR, "services.yml"), path.join(dir, "services.yml"));
      const wrongTest = path.join(dir, "wrong.test.yml");
      fs.writeFileSync(
        wrongTest,
        yaml.dump({
          rule_files: ["services.yml"],
          evaluation_interval: "1m",
          tests: [
            {
              interval: "1m",
              input_series: [{ series: 'probe_success{job="blackbox-health",service="a",instance="http://a/health"}', values: "0x10" }],
              alert_rule_test: [
                {
                  eval_time: "1m",
                  alertname: "ServiceHealthProbeFailing",
                  exp_alerts: [{ exp_labels: { severity: "critical", job: "blackbox-health", service: "a", instance: "http://a/health" } }],
                },
              ],
            },
          ],
        }),
      );
      const wrong = runTool("promtool", ["test", "rules", wrongTest]);
      expect(wrong.status).not.toBe(0);
      expect(wrong.output).toContain("FAILED");
      expect(wrong.output).toContain("got:[]");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
