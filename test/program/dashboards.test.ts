/**
 * Dashboards, in two kinds of tests.
 *
 * Generic, for every file under `dashboards/` (shipped or added by a user) and for Grafana's Node
 * Exporter Full dropped into a copy of the folder: it imports as the program imports it, every
 * datasource reference resolves, and every PromQL query parses once the dashboard's own template
 * variables are substituted. A dashboard that plans passes these.
 *
 * Shipped only (named in test/support/shipped-content.ts): fixed uids, one datasource of ours each,
 * layout on the grid, the host filesystem selector, the host variable and filter (several hosts write to
 * one Prometheus and one data stream), and the logs dashboard's Elasticsearch queries over the fields the
 * log pipeline produces.
 */
import * as fs from "fs";
import * as path from "path";
import { loadDashboards } from "../../components/grafana/dashboard-files";
import { DashboardImportError, importDashboards } from "../../components/grafana/dashboard-import";
import { FAILURE_STORE_DATASOURCE, PROMETHEUS_DATASOURCE, STACK_DATASOURCES } from "../../components/grafana/grafana-configuration";
import {
  dashboardQueries,
  DashboardModel,
  datasourceReferences,
  ElasticsearchTarget,
  datasourceType,
  elasticsearchTargetProblems,
  elasticsearchTargets,
  elasticsearchVariables,
  genericDashboardProblems,
  luceneProblems,
  promqlOfVariableQuery,
  substituteVariables,
  templateValues,
} from "../support/dashboard-queries";
import { hostDroppingProblems, selectorsWithout } from "../support/host-label";
import { promqlSyntaxErrors } from "../support/promql";
import { copyProject, planCopy, PROJECT_DIR, ProjectCopy, readNodeExporterFull, SHARED_FIXTURES } from "../support/project-copy";
import { isShippedDashboard, SHIPPED_DASHBOARDS } from "../support/shipped-content";
import { MESSAGE_PATTERN_FIELD } from "../../components/logs/ingest-pipeline";
import { REQUEST_FIELD_TYPES } from "../../components/logs/request-fields";
import { STACK_VARIABLES } from "../../components/grafana/dashboard-files";
import { planIsolated } from "../support/plan";
import { EXTERNAL_ELASTIC_ONLY, externalStackConfig } from "../support/external-stacks";
import type { PlanResult } from "../../scripts/lib/plan";

const DASHBOARDS_DIR = path.join(PROJECT_DIR, "dashboards");
const OURS = STACK_DATASOURCES;

/** `$stack_environment` substituted with a marker, so the matcher can be found in the parsed selectors. */
const SLO_ENVIRONMENT_MARKER = "__environment__";
/** The SLO dashboard's environment matcher once Grafana has put the stack's environment in: that environment, or no label. */
const sloEnvironmentMatcher = (environment: string) => `environment=~"${environment}|"`;

// The same call the program makes, over whatever the folder holds.
const dashboards = loadDashboards(DASHBOARDS_DIR, OURS);
const shipped = dashboards.filter((d) => isShippedDashboard(d.fileName));
const FAILURE_STORE = { type: "elasticsearch", uid: FAILURE_STORE_DATASOURCE.uid };
const datasourceOf = (uid: string) => {
  const type = SHIPPED_DASHBOARDS.find((d) => d.uid === uid)?.datasource ?? "prometheus";
  return { type, uid: OURS[type].uid };
};

// ---------------------------------------------------------------------------------------------
// Generic checks: every dashboard in the folder

describe("every dashboard under dashboards/ (shipped or added)", () => {
  test.each(dashboards.map((d) => [d.fileName, d] as const))("%s: datasource references resolve and every PromQL query parses", (_name, dashboard) => {
    expect(genericDashboardProblems(dashboard.model as DashboardModel, OURS, promqlSyntaxErrors).problems).toEqual([]);
  });

  test("no leftover export placeholder in any dashboard", () => {
    for (const dashboard of dashboards)
      expect([dashboard.fileName, JSON.stringify(dashboard.model)]).toEqual([dashboard.fileName, expect.not.stringMatching(/\$\{DS_/)]);
  });
});

describe("the generic checks themselves", () => {
  const model = (templating: unknown[], expr: string, datasource: unknown = { type: "prometheus", uid: PROMETHEUS_DATASOURCE.uid }): DashboardModel =>
    ({ templating: { list: templating }, panels: [{ title: "p", datasource, targets: [{ refId: "A", expr }] }] }) as unknown as DashboardModel;
  const check = (m: DashboardModel) => genericDashboardProblems(m, OURS, promqlSyntaxErrors).problems;

  test("values come from the dashboard's own templating.list, in every syntax Grafana substitutes", () => {
    const values = templateValues({
      templating: {
        list: [
          { name: "job", type: "query", current: { value: "node" } },
          { name: "node", type: "query", current: {} },
          { name: "step", type: "interval", query: "30s,1m,5m", current: { value: "$__auto_interval_step" } },
          { name: "topk", type: "custom", query: "5,10,20" },
          { name: "env", type: "constant", query: "prod" },
          { name: "ds_prometheus", type: "datasource", query: "prometheus" },
        ],
      },
    } as unknown as DashboardModel);
    expect(values).toMatchObject({ job: "node", node: "sample", step: "30s", topk: "5", env: "prod", __rate_interval: "1m", __interval: "15s" });
    const expr = 'topk(${topk}, rate(x{job="$job", instance=~"${node:regex}", env="[[env]]"}[$__rate_interval])) offset ${step} @ ${__to:date:seconds}';
    expect(substituteVariables(expr, values)).toEqual({
      expr: 'topk(5, rate(x{job="node", instance=~"sample", env="prod"}[1m])) offset 30s @ 1700003600000',
      missing: [],
      unknown: [],
    });
    // A name without a value is left as Grafana leaves it, and said where it is in the result.
    expect(substituteVariables('up{a="$job", b="${nope:csv}"}', values)).toEqual({
      expr: 'up{a="node", b="${nope:csv}"}',
      missing: ["nope"],
      unknown: [{ name: "nope", text: "${nope:csv}", from: 16, to: 27 }],
    });
  });

  test("a datasource variable reference (the ${ds_prometheus} form) resolves when the dashboard defines it", () => {
    const ds = { name: "ds_prometheus", type: "datasource", query: "prometheus" };
    expect(check(model([ds], "up", { type: "prometheus", uid: "${ds_prometheus}" }))).toEqual([]);
    expect(check(model([], "up", { type: "prometheus", uid: "${ds_prometheus}" }))).toEqual([
      expect.stringContaining("refers to $ds_prometheus, which the dashboard does not define"),
    ]);
  });

  test("an unknown datasource uid, a variable the dashboard lacks and a broken query are each reported", () => {
    expect(check(model([], "up", { type: "prometheus", uid: "000000001" }))).toEqual([
      expect.stringContaining('uid "000000001" is not a datasource of this stack'),
    ]);
    expect(check(model([], 'up{job="$job"}'))).toEqual([expect.stringContaining("uses $job, which the dashboard does not define")]);
    expect(check(model([], "sum(rate(x[5m])"))).toEqual([expect.stringContaining("not valid PromQL")]);
  });

  /**
   * Grafana leaves a `$name` it has no variable or macro for as it is (grafana/grafana
   * public/app/features/templating/template_srv.ts, `_evaluateVariableExpression` returns the match), and
   * Prometheus expands `$1`, `${1}` and `$name` in label_replace's replacement from the regex's groups
   * (prometheus/prometheus promql/functions.go, funcLabelReplace: `regex.ExpandString`).
   */
  test("a regex capture in label_replace's replacement is Prometheus's, not an undefined dashboard variable", () => {
    for (const expr of [
      'label_replace(up, "metric_name", "$1", "__name__", "(.*)")',
      'sum by (short) (label_replace(up{instance=~"$host"}, "short", "${1}-$port", "instance", "(?P<host>[^:]+):(?P<port>.*)"))',
    ])
      expect([expr, check(model([{ name: "host", type: "query", current: { value: "a" } }], expr))]).toEqual([expr, []]);
    // The same capture outside the replacement is literal text Grafana sends as it is: reported.
    expect(check(model([], 'label_replace(up{job="$1"}, "dst", "$1", "src", "(.*)")'))).toEqual([
      expect.stringContaining("uses $1, which the dashboard does not define; Grafana sends it as it is, so the query matches that literal text"),
    ]);
  });

  test("an undefined name outside a string breaks the PromQL Grafana sends, and is named in the report", () => {
    expect(check(model([], "rate(x[$window])"))).toEqual([
      expect.stringMatching(
        /not valid PromQL once variables are substituted \(syntax error .*; \$window left as Grafana leaves a name the dashboard does not define\): rate\(x\[\$window\]\)/,
      ),
    ]);
    // `$__auto` is an interval variable's value (scenes IntervalVariable), no built-in Grafana substitutes in PromQL.
    expect(check(model([], "rate(x[$__auto])"))).toEqual([expect.stringContaining("$__auto left as Grafana leaves")]);
  });

  test("Grafana's built-ins in every syntax, and an interval variable set to auto", () => {
    const step = { name: "step", type: "interval", query: "1m,10m", current: { text: "auto", value: "$__auto" } };
    for (const expr of [
      "rate(x[$__rate_interval]) * $__range_s / ${__interval_ms}",
      "increase(x[${__range}]) offset [[__interval]]",
      "x @ ${__to:date:seconds}",
      "avg_over_time(x[$step]) and rate(y[${step}])",
    ])
      expect([expr, check(model([step], expr))]).toEqual([expr, []]);
  });

  test("variable queries: the PromQL inside Grafana's functions is what is parsed", () => {
    expect(promqlOfVariableQuery('label_values(node_uname_info{job="$job"}, nodename)')).toBe('node_uname_info{job="$job"}');
    expect(promqlOfVariableQuery('label_values(up{a=",b"}, instance)')).toBe('up{a=",b"}');
    expect(promqlOfVariableQuery("label_values(job)")).toBeUndefined();
    expect(promqlOfVariableQuery("query_result(topk(5, up))")).toBe("topk(5, up)");
    expect(promqlOfVariableQuery("metrics(node_.*)")).toBeUndefined();
    expect(promqlOfVariableQuery("up")).toBe("up");
    const variable = {
      name: "v",
      type: "query",
      datasource: { type: "prometheus", uid: PROMETHEUS_DATASOURCE.uid },
      query: { query: "label_values(up{job=}, instance)" },
    };
    expect(check({ templating: { list: [variable] }, panels: [] } as unknown as DashboardModel)).toEqual([
      expect.stringContaining("variable $v: not valid PromQL"),
    ]);
  });

  test("the PromQL check rejects what Prometheus would reject", () => {
    expect(promqlSyntaxErrors('sum(rate(http_requests_total{job="x"}[5m])')).not.toEqual([]);
    expect(promqlSyntaxErrors("up{job=}")).not.toEqual([]);
    expect(promqlSyntaxErrors('sum by (job) (rate(http_requests_total{job="x"}[5m]))')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// A user's dashboard: Grafana's Node Exporter Full (grafana.com 1860), as a user would add it

describe("Node Exporter Full dropped into a copy of the program's dashboards/", () => {
  let copy: ProjectCopy;
  const text = readNodeExporterFull();
  const fileName = "dashboards/node-exporter-full.json";

  /** The folder's dashboards other than Node Exporter Full (a user may have added it to the real folder already). */
  const others = dashboards.filter((d) => d.uid !== "rYdddlPWk");

  beforeAll(() => {
    copy = copyProject();
    for (const dashboard of dashboards.filter((d) => d.uid === "rYdddlPWk")) fs.rmSync(path.join(copy.dir, dashboard.fileName));
    copy.add(fileName, text);
  });
  afterAll(() => copy?.remove());

  const loadCopy = () => loadDashboards(path.join(copy.dir, "dashboards"), OURS);
  const nodeExporterFull = () => loadCopy().find((d) => d.fileName === fileName)!;

  test("imports beside the shipped dashboards, keeping its uid", () => {
    const all = loadCopy();
    expect(all.map((d) => d.fileName).sort()).toEqual([...others.map((d) => d.fileName), fileName].sort());
    expect(nodeExporterFull()).toMatchObject({ uid: "rYdddlPWk", title: "Node Exporter Full" });
  });

  test("its datasource variable is kept and pinned to our Prometheus; its references stay on the variable", () => {
    const model = nodeExporterFull().model as DashboardModel;
    const variable = model.templating!.list!.find((v) => v.name === "ds_prometheus")!;
    expect(variable).toMatchObject({
      type: "datasource",
      query: "prometheus",
      current: { selected: true, text: "Prometheus", value: PROMETHEUS_DATASOURCE.uid },
    });
    const uids = new Set(datasourceReferences(model).map(({ ref }) => (ref as { uid?: string }).uid));
    expect([...uids].sort()).toEqual(["${ds_prometheus}", "grafana"]);
  });

  test("passes the generic checks: every reference resolves, every one of its PromQL queries parses", () => {
    const { problems, queriesParsed } = genericDashboardProblems(nodeExporterFull().model as DashboardModel, OURS, promqlSyntaxErrors);
    expect(problems).toEqual([]);
    // Panels nested in its 14 collapsed rows and its variable queries: about 290 (figure in the README).
    expect(queriesParsed).toBeGreaterThan(250);
  });

  test("the program plans with it: the dashboard is sent to Grafana as imported", async () => {
    const plan = await planCopy(copy, "dev");
    const artifact = plan.artifacts.find((a) => a.path === "grafana/dashboards/rYdddlPWk.json");
    expect(artifact).toBeDefined();
    const sent = JSON.parse(artifact!.content) as DashboardModel & Record<string, unknown>;
    expect(sent).not.toHaveProperty("__requires");
    expect(sent.templating!.list!.find((v) => v.name === "ds_prometheus")!.current).toEqual({
      selected: true,
      text: "Prometheus",
      value: PROMETHEUS_DATASOURCE.uid,
    });
    const dashboardsSent = plan.run.resources.filter((r) => r.type === "grafana:oss/dashboard:Dashboard");
    expect(dashboardsSent.length).toBe(others.length + 1);
  });

  test("negative controls: a broken query or an unknown datasource uid in the same file is caught", () => {
    const broken = JSON.parse(text);
    broken.panels.find((p: { panels?: unknown[] }) => p.panels?.length).panels[0].targets[0].expr += ")";
    const [imported] = importDashboards([{ fileName, text: JSON.stringify(broken) }], OURS);
    expect(genericDashboardProblems(imported.model as DashboardModel, OURS, promqlSyntaxErrors).problems).toEqual([
      expect.stringContaining("not valid PromQL"),
    ]);

    const oldUid = text.replaceAll("${ds_prometheus}", "000000001");
    expect(() => importDashboards([{ fileName, text: oldUid }], OURS)).toThrow(DashboardImportError);
    expect(() => importDashboards([{ fileName, text: oldUid }], OURS)).toThrow(
      /dashboards\/node-exporter-full\.json: datasource uid "000000001" \(panel "[^"]+".* and \d+ more\) is no datasource of this stack/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Real public dashboards, as users add them: each plans and passes the generic checks

/**
 * Node Exporter Full and Prometheus 2.0 Stats from ../shared/fixtures (see its README), and Grafana's own
 * devenv dashboard `devenv/dev-dashboards/datasource-elasticsearch/elasticsearch_v7_filebeat.json`
 * (grafana/grafana, AGPL-3.0; a verbatim copy under test/fixtures/dashboards, see the README there), whose
 * panels and ad hoc filter name their Elasticsearch datasource (`gdev-elasticsearch-v7-filebeat`).
 */
const REAL_DASHBOARDS = [
  { file: "dashboards/node-exporter-full.json", source: path.join(SHARED_FIXTURES, "dashboards", "node-exporter-full.json"), uid: "rYdddlPWk" },
  { file: "dashboards/prometheus2-3681.json", source: path.join(SHARED_FIXTURES, "dashboards", "prometheus2-3681.json"), uid: "prometheus2-3681" },
  {
    file: "dashboards/elasticsearch_v7_filebeat.json",
    source: path.join(PROJECT_DIR, "test", "fixtures", "dashboards", "grafana-devenv-elasticsearch_v7_filebeat.json"),
    uid: "M94gguRWz",
  },
];

describe("real public dashboards dropped together into a copy of the program's dashboards/", () => {
  let copy: ProjectCopy;
  const uids = new Set(REAL_DASHBOARDS.map((d) => d.uid));

  beforeAll(() => {
    copy = copyProject();
    // A user may have added one of them to the real folder already: the copy holds each once.
    for (const dashboard of dashboards.filter((d) => uids.has(d.uid))) fs.rmSync(path.join(copy.dir, dashboard.fileName));
    for (const real of REAL_DASHBOARDS) {
      if (!fs.existsSync(real.source)) throw new Error(`${real.source} is missing (../shared/fixtures must sit beside the clone)`);
      copy.add(real.file, fs.readFileSync(real.source, "utf8"));
    }
  });
  afterAll(() => copy?.remove());

  const loadCopy = () => loadDashboards(path.join(copy.dir, "dashboards"), OURS);

  test.each(REAL_DASHBOARDS.map((d) => [d.file, d] as const))("%s imports and passes the generic checks", (_file, real) => {
    const imported = loadCopy().find((d) => d.fileName === real.file);
    expect(imported?.uid).toBe(real.uid);
    expect(genericDashboardProblems(imported!.model as DashboardModel, OURS, promqlSyntaxErrors).problems).toEqual([]);
  });

  test("Prometheus 2.0 Stats: its label_replace capture is parsed as Prometheus runs it", () => {
    const model = loadCopy().find((d) => d.uid === "prometheus2-3681")!.model as DashboardModel;
    const withCapture = dashboardQueries(model).filter((q) => q.expr.includes('"$1"'));
    expect(withCapture.map((q) => q.where)).toEqual(['panel "Prometheus errors in $aggregation_interval" A']);
    expect(genericDashboardProblems(model, OURS, promqlSyntaxErrors).queriesParsed).toBeGreaterThan(60);
  });

  test("the program plans with all three; the devenv dashboard's panels and ad hoc filter query our Elasticsearch", async () => {
    const plan = await planCopy(copy, "dev");
    const sent = (uid: string) => {
      const artifact = plan.artifacts.find((a) => a.path === `grafana/dashboards/${uid}.json`);
      expect([uid, artifact !== undefined]).toEqual([uid, true]);
      return JSON.parse(artifact!.content) as DashboardModel & { panels: { datasource?: unknown }[] };
    };
    for (const uid of uids) sent(uid);
    const devenv = sent("M94gguRWz");
    const elasticsearch = { type: "elasticsearch", uid: OURS.elasticsearch.uid };
    expect(devenv.panels.map((p) => p.datasource)).toEqual([elasticsearch, elasticsearch]);
    expect(devenv.templating!.list!.map((v) => [v.name, v.datasource])).toEqual([["Filters", elasticsearch]]);
    expect(elasticsearchTargets(devenv)).toHaveLength(2);
    expect(dashboardQueries(devenv)).toEqual([]);
    const dashboardsSent = plan.run.resources.filter((r) => r.type === "grafana:oss/dashboard:Dashboard");
    expect(dashboardsSent.length).toBe(dashboards.filter((d) => !uids.has(d.uid)).length + REAL_DASHBOARDS.length);
  });
});

// ---------------------------------------------------------------------------------------------
// Shipped dashboards only

describe("the shipped dashboards", () => {
  test("every manifest entry is in dashboards/ with its fixed uid", () => {
    for (const entry of SHIPPED_DASHBOARDS) expect(fs.existsSync(path.join(PROJECT_DIR, entry.file))).toBe(true);
    expect(shipped.map((d) => [d.fileName, d.uid])).toEqual(SHIPPED_DASHBOARDS.map((d) => [d.file, d.uid]));
  });

  test.each(shipped.map((d) => [d.fileName, d] as const))("%s queries only its one datasource of ours", (_name, dashboard) => {
    const refs = datasourceReferences(dashboard.model).map(({ ref }) => ref);
    expect(refs.length).toBeGreaterThan(5);
    // Grafana's built-in annotation source is the one other reference allowed, and on the logs
    // dashboard the failure store of the same data stream (its own datasource: the index is the datasource's).
    const allowed = [datasourceOf(dashboard.uid), ...(dashboard.uid === "atra-logs" ? [FAILURE_STORE] : [])];
    for (const ref of refs) if ((ref as { uid?: string })?.uid !== "-- Grafana --") expect(allowed).toContainEqual(ref);
  });

  test("the logs dashboard's Elasticsearch placeholder needs the stack's Elasticsearch datasource", () => {
    expect(() => loadDashboards(DASHBOARDS_DIR, { prometheus: PROMETHEUS_DATASOURCE })).toThrow(
      /logs\.json: input DS_ELASTICSEARCH needs a "elasticsearch" datasource/,
    );
  });

  test("the shipped dashboards have queries to check", () => {
    expect(shipped.flatMap((d) => dashboardQueries(d.model as DashboardModel)).length).toBeGreaterThan(40);
  });

  test("the host dashboard's filesystem panels use the selector that works on ext4, xfs, btrfs, zfs and overlay hosts", () => {
    const host = shipped.find((d) => d.uid === "atra-host");
    const fsQueries = dashboardQueries(host!.model as DashboardModel).filter((q) => q.expr.includes("node_filesystem_"));
    expect(fsQueries.length).toBeGreaterThan(0);
    for (const query of fsQueries) expect(query.expr).toContain('fstype=~"ext4|xfs|btrfs|zfs|overlay"');
  });
});

// ---------------------------------------------------------------------------------------------
// Several hosts: every Prometheus dashboard filters and splits by the host label

describe("the shipped Prometheus dashboards with several hosts", () => {
  const prometheusDashboards = shipped.filter((d) => datasourceOf(d.uid).type === "prometheus");
  /** `$host` substituted with a marker, so the matcher can be found in the parsed selectors. */
  const HOST_MARKER = "__host__";
  const queriesOf = (dashboard: (typeof shipped)[number]) => {
    const model = dashboard.model as DashboardModel;
    const values = { ...templateValues(model), host: HOST_MARKER, [STACK_VARIABLES.environment]: SLO_ENVIRONMENT_MARKER };
    return dashboardQueries(model)
      .filter((query) => query.where !== "variable $host")
      .map((query) => ({ where: query.where, expr: substituteVariables(promqlOfVariableQuery(query.expr) ?? "", values).expr }));
  };
  /**
   * The SLO dashboard's series are recording rules that aggregate a service over every host
   * (components/slo/slo-rules.ts, `by (service)`): they carry no host, so its queries keep the services
   * with a target on the selected hosts through `and on (service) up{host=~"$host"}` instead.
   */
  const SLO_HOST_FILTER = `and on (service) up{host=~"${HOST_MARKER}",service!="",${sloEnvironmentMatcher(SLO_ENVIRONMENT_MARKER)}}`;
  /** Queries over those host-less series: the SLO dashboard's panels (each ends with the filter) and its service list. */
  const sloExempt = (dashboard: (typeof shipped)[number], where: string, expr: string) =>
    dashboard.uid === "atra-slo" && (expr.endsWith(` ${SLO_HOST_FILTER}`) || where === "variable $service");

  test("the SLO dashboard: every panel query keeps the services on the selected hosts", () => {
    const slo = shipped.find((d) => d.uid === "atra-slo")!;
    const panels = queriesOf(slo).filter((query) => !query.where.startsWith("variable "));
    expect(panels.length).toBeGreaterThan(5);
    for (const { where, expr } of panels) expect([where, expr.startsWith("(") && expr.endsWith(`) ${SLO_HOST_FILTER}`)]).toEqual([where, true]);
  });

  test.each(prometheusDashboards.map((d) => [d.fileName, d] as const))(
    "%s: a host variable over label_values(up, host), several or all hosts, refreshed on load, All by default",
    (_name, dashboard) => {
      const host = (dashboard.model as DashboardModel).templating!.list!.find((v) => v.name === "host");
      expect(host).toMatchObject({
        type: "query",
        definition: "label_values(up, host)",
        query: { query: "label_values(up, host)" },
        multi: true,
        includeAll: true,
        refresh: 1,
        current: { value: ["$__all"] },
      });
      expect(datasourceType(host!.datasource)).toBe("prometheus");
      // Declared first: the other variables (and a service list of the selected hosts) may use it.
      expect((dashboard.model as DashboardModel).templating!.list![0].name).toBe("host");
    },
  );

  test.each(prometheusDashboards.map((d) => [d.fileName, d] as const))("%s: every selector of every query is filtered by $host", (_name, dashboard) => {
    const queries = queriesOf(dashboard);
    expect(queries.length).toBeGreaterThan(0);
    const missing = queries.flatMap(({ where, expr }) =>
      sloExempt(dashboard, where, expr) ? [] : selectorsWithout(expr, `host=~"${HOST_MARKER}"`).map((selector) => `${where}: ${selector}`),
    );
    expect(missing).toEqual([]);
  });

  test.each(prometheusDashboards.map((d) => [d.fileName, d] as const))("%s: no aggregation or vector matching merges hosts", (_name, dashboard) => {
    const problems = queriesOf(dashboard).flatMap(({ where, expr }) =>
      sloExempt(dashboard, where, expr) ? [] : hostDroppingProblems(expr).map((problem) => `${where}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  test("the host check itself finds what merges hosts", () => {
    expect(hostDroppingProblems('sum by (host, mode) (rate(x{host=~"h"}[5m])) / on (host) group_left () count by (host) (y)')).toEqual([]);
    expect(hostDroppingProblems("sum(rate(x[5m]))")).toEqual(["aggregation drops host: sum(rate(x[5m]))"]);
    expect(hostDroppingProblems("max by (job) (x)")).toEqual(["aggregation drops host: max by (job) (x)"]);
    expect(hostDroppingProblems("count without (host) (x)")).toEqual(["aggregation drops host: count without (host) (x)"]);
    expect(hostDroppingProblems("a / on (instance) b")).toEqual(["vector matching ignores host: on (instance)"]);
    expect(hostDroppingProblems("a / ignoring (host) b")).toEqual(["vector matching ignores host: ignoring (host)"]);
    expect(hostDroppingProblems("a / scalar(count(b))")).toEqual(["scalar() drops host: scalar(count(b))", "aggregation drops host: count(b)"]);
    expect(selectorsWithout('a{host=~"h"} / b{job="x"}', 'host=~"h"')).toEqual(['b{job="x"}']);
  });

  /**
   * Grafana's row model (grafana/grafana kinds/dashboard/dashboard_kind.cue, `#RowPanel`: `collapsed`,
   * `panels`, `repeat`): an expanded row keeps its panels at the top level after it, up to the next row
   * (public/app/features/dashboard/state/DashboardModel.ts, `getRowPanels`), and `panels` stays empty
   * (the collapsed form holds them there instead). A row with `repeat` is copied once per value of that
   * variable, its panels with it, each copy with the variable set to its one value. (`repeatDirection`
   * belongs to repeated panels, not rows: rows always repeat downwards.)
   */
  test("the host dashboard: one expanded row repeated per host on top, every node_exporter panel inside it", () => {
    const host = shipped.find((d) => d.uid === "atra-host")!;
    const [row, ...rest] = host.model.panels as (GridPanel & { collapsed?: boolean; repeat?: string })[];
    expect(row).toMatchObject({ type: "row", title: "Host: $host", repeat: "host", collapsed: false, panels: [], gridPos: { x: 0, y: 0, w: 24, h: 1 } });
    expect(rest.length).toBeGreaterThan(10);
    for (const panel of rest) expect([panel.title, panel.type, panel.gridPos!.y >= 1]).toEqual([panel.title, expect.not.stringMatching(/^row$/), true]);
  });
});

interface GridPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  panels?: GridPanel[];
}

test.each(shipped.map((d) => [d.fileName, d] as const))("%s lays out its panels on Grafana's 24-column grid without overlap", (_name, dashboard) => {
  const all: GridPanel[] = [];
  const walk = (panels: GridPanel[] | undefined) => panels?.forEach((panel) => (all.push(panel), walk(panel.panels)));
  walk(dashboard.model.panels as GridPanel[]);
  const ids = all.map((panel) => panel.id);
  expect(new Set(ids).size).toBe(ids.length);
  const top = dashboard.model.panels as GridPanel[];
  for (const panel of all) {
    expect(panel.gridPos).toBeDefined();
    const { x, w } = panel.gridPos!;
    expect(x + w).toBeLessThanOrEqual(24);
  }
  const overlaps = (a: GridPanel, b: GridPanel) => {
    const p = a.gridPos!;
    const q = b.gridPos!;
    return p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
  };
  for (let i = 0; i < top.length; i++)
    for (let j = i + 1; j < top.length; j++) expect([top[i].title, top[j].title, overlaps(top[i], top[j])]).toEqual([top[i].title, top[j].title, false]);
});

// ---------------------------------------------------------------------------------------------
// The logs dashboard over Elasticsearch

/** The fields the logs stage produces (Filebeat's service.name tag; the ingest pipeline's ECS mapping of structlog). */
const LOG_FIELDS = { time: "@timestamp", known: ["@timestamp", "message", "log.level", "log.logger", "service.name", "host.name", "error.stack_trace"] };
/** `$service` and `$host` as Grafana's Lucene formatter writes them: several values, and the custom All value. */
const serviceValues = [
  { service: '("knowledge-os-api" OR "worker")', host: '("obs-1" OR "app-2")' },
  { service: "*", host: "*" },
];
const FILTER = "service.name:$service AND host.name:$host";
/** The levels ServiceLogErrorsHigh counts (dashboards/logs.json follows the alert). */
const ERROR_FILTER = "log.level:(error OR critical OR exception OR fatal)";

describe("the logs dashboard", () => {
  const logs = shipped.find((d) => d.uid === "atra-logs")!;
  const model = logs.model as DashboardModel;
  const onFailureStore = (t: { target: ElasticsearchTarget; panel?: unknown }) =>
    (t.target.datasource as { uid?: string } | undefined)?.uid === FAILURE_STORE_DATASOURCE.uid;
  const allTargets = elasticsearchTargets(model);
  // The data stream's own lines; the failure-store panel is checked against failure documents below.
  const targets = allTargets.filter((t) => !onFailureStore(t));
  interface LogsPanel {
    id: number;
    type: string;
    title: string;
    targets: { query: string; metrics: { type: string; settings?: Record<string, string> }[]; bucketAggs: { type: string; field?: string }[] }[];
    transformations?: { id: string; options: Record<string, unknown> }[];
  }
  const panels = model.panels as unknown as LogsPanel[];
  const panel = (title: string) => panels.find((p) => p.title === title)!;

  test("every panel queries Elasticsearch, none Prometheus", () => {
    expect(allTargets.length).toBe(panels.reduce((n, p) => n + p.targets.length, 0));
    expect(targets.length).toBeGreaterThanOrEqual(8);
    expect(dashboardQueries(model)).toEqual([]);
  });

  test.each(targets.flatMap((t) => serviceValues.map((values) => [`${t.where} with $service=${values.service}`, t.target, values] as const)))(
    "%s has the shape Grafana's Elasticsearch datasource runs, over known fields only",
    (_where, target, values) => {
      expect(elasticsearchTargetProblems(target, LOG_FIELDS, values)).toEqual([]);
    },
  );

  test("one stat counts the failure store's documents, over the fields a failure document has", () => {
    const failures = allTargets.filter(onFailureStore);
    expect(failures).toHaveLength(1);
    expect(panel("Refused by Elasticsearch (failure store)").type).toBe("stat");
    // elastic/docs-content manage-data/data-store/data-streams/failure-store.md, "Failure document structure".
    const failureFields = {
      time: "@timestamp",
      known: ["@timestamp", "document.id", "document.index", "error.type", "error.message", "error.pipeline", "error.processor_type"],
    };
    expect(elasticsearchTargetProblems(failures[0].target, failureFields, {})).toEqual([]);
    expect(failures[0].target.metrics).toEqual([{ id: "1", type: "count" }]);
  });

  test("every target is filtered by the service and host variables", () => {
    for (const { where, target } of targets)
      expect([where, String(target.query)]).toEqual([where, expect.stringMatching(/^service\.name:\$service AND host\.name:\$host( AND |$)/)]);
  });

  test("the host and service variables list the host.name and service.name terms, several or all at once", () => {
    const variables = elasticsearchVariables(model);
    expect(variables.map((v) => v.name)).toEqual(["host", "service"]);
    const [host, service] = variables;
    for (const [variable, field] of [
      [host, "host.name"],
      [service, "service.name"],
    ] as const) {
      expect(typeof variable.query).toBe("string");
      expect(JSON.parse(variable.query as string)).toEqual({ find: "terms", field });
      expect(variable.definition).toBe(variable.query);
      expect(datasourceType(variable.datasource)).toBe("elasticsearch");
      expect(variable).toMatchObject({ multi: true, includeAll: true, allValue: "*" });
    }
    expect(service.refresh).toBe(2);
    expect(host).toMatchObject({ refresh: 1, current: { value: ["$__all"] } });
  });

  /**
   * Nested terms split by each: Grafana's Elasticsearch backend adds every terms bucket's key as a label
   * named after the field and the innermost date_histogram makes the series (grafana/grafana
   * pkg/tsdb/elasticsearch/response_parser.go, processBuckets and processMetrics).
   */
  test("volume by level, and by host and service, are time series of counts split by terms", () => {
    for (const [title, fields] of [
      ["Log volume by level", ["log.level"]],
      ["Log volume by service", ["host.name", "service.name"]],
      ["Errors by service", ["host.name", "service.name"]],
    ] as const) {
      const [target] = panel(title).targets;
      expect([title, panel(title).type, target.metrics.map((m) => m.type), target.bucketAggs.map((b) => [b.type, b.field])]).toEqual([
        title,
        "timeseries",
        ["count"],
        [...fields.map((field) => ["terms", field]), ["date_histogram", "@timestamp"]],
      ]);
    }
  });

  test("the error panels select error, critical, exception and fatal lines", () => {
    for (const title of ["Errors", "Errors by service", "Top loggers with errors", "Recent errors"]) {
      expect([title, panel(title).targets[0].query]).toEqual([title, `${FILTER} AND ${ERROR_FILTER}`]);
    }
  });

  test("recent errors: a table of the latest error documents with their time, host, service, level, logger, message and stack trace", () => {
    const recent = panel("Recent errors");
    expect(recent.type).toBe("table");
    expect(recent.targets[0].metrics).toEqual([{ type: "raw_data", id: "1", settings: { size: "100" } }]);
    const columns = ["@timestamp", "host.name", "service.name", "log.level", "log.logger", "message", "error.stack_trace"];
    expect(recent.transformations?.[0]).toEqual({ id: "filterFieldsByName", options: { include: { names: columns } } });
    expect(recent.transformations?.[1]).toMatchObject({ id: "organize", options: { indexByName: Object.fromEntries(columns.map((c, i) => [c, i])) } });
  });

  test("the logs panel shows the latest lines of the selected services", () => {
    const lines = panels.filter((p) => p.type === "logs");
    expect(lines.map((p) => [p.title, p.targets[0].query, p.targets[0].metrics])).toEqual([
      ["Logs", FILTER, [{ type: "logs", id: "1", settings: { limit: "500" } }]],
    ]);
  });

  test("the Elasticsearch check rejects what Grafana or Elasticsearch would not run", () => {
    const good = targets[0].target;
    const check = (target: ElasticsearchTarget) => elasticsearchTargetProblems(target, LOG_FIELDS, serviceValues[0]);
    expect(check(good)).toEqual([]);
    expect(check({ ...good, timeField: "timestamp" })).toEqual([expect.stringContaining("timeField")]);
    expect(check({ ...good, query: "service.name:$service AND level:error" })).toEqual([expect.stringContaining("unknown field level")]);
    expect(check({ ...good, query: "service.name:$service AND $env" })).toEqual([expect.stringContaining("unknown variables env")]);
    expect(check({ ...good, metrics: [] })).toEqual(["no metrics"]);
    expect(check({ ...good, metrics: [{ type: "avg", id: "1", field: "duration" }] })).toEqual([expect.stringContaining('unknown field "duration"')]);
    expect(
      check({
        ...good,
        metrics: [{ type: "logs", id: "1" }],
        bucketAggs: [{ type: "date_histogram", id: "2", field: "@timestamp", settings: { interval: "auto" } }],
      }),
    ).toEqual(["a logs query takes no bucket aggregations"]);
    const histogram = { type: "date_histogram", id: "2", field: "@timestamp", settings: { interval: "auto" } };
    const terms = { type: "terms", id: "3", field: "log.level", settings: { order: "desc", orderBy: "_count", size: "10" } };
    expect(check({ ...good, bucketAggs: [histogram, terms] })).toEqual(["the date_histogram must be the last bucket aggregation"]);
    expect(check({ ...good, bucketAggs: [{ ...terms, id: "1" }, histogram] })).toEqual([expect.stringContaining("aggregation ids repeat")]);
    expect(check({ ...good, bucketAggs: [{ ...terms, settings: { ...terms.settings, size: 10 } }, histogram] })).toEqual([
      expect.stringContaining("setting size is 10, not a string"),
    ]);
    expect(check({ ...good, bucketAggs: [{ ...terms, field: "level" }, histogram] })).toEqual([expect.stringContaining("bucket terms on unknown field")]);
  });

  test("the Lucene check rejects malformed queries", () => {
    const known = new Set(LOG_FIELDS.known);
    expect(luceneProblems(`service.name:("a" OR "b") AND ${ERROR_FILTER}`, known)).toEqual([]);
    expect(luceneProblems('service.name:knowledge\\-os\\-api AND message:"timed out"', known)).toEqual([]);
    expect(luceneProblems("log.level:(error OR critical", known)).toEqual([expect.stringContaining("unbalanced parentheses")]);
    expect(luceneProblems('message:"timed out', known)).toEqual([expect.stringContaining("unbalanced quotes")]);
    expect(luceneProblems("log.level:error and service.name:a", known)).toEqual([expect.stringContaining("lowercase boolean operator")]);
    expect(luceneProblems("log.level:error AND", known)).toEqual([expect.stringContaining("ends with AND")]);
    expect(luceneProblems("log.level:error AND OR service.name:a", known)).toEqual([expect.stringContaining("AND OR")]);
    expect(luceneProblems("log.level: AND service.name:a", known)).toEqual([expect.stringContaining("field without a value")]);
    expect(luceneProblems("", known)).toEqual([expect.stringContaining("empty query")]);
  });
});

/**
 * The logs performance dashboard (dashboards/logs-performance.json): panels over the request fields the ingest
 * pipeline writes (components/logs/request-fields.ts). Query model: grafana/grafana
 * public/app/plugins/datasource/elasticsearch/dataquery.gen.ts (Percentiles: `settings.percents` as strings; Max;
 * Count; terms `orderBy` a metric id) and pkg/tsdb/elasticsearch (terms keys become labels, the innermost
 * date_histogram makes the series). Data links: packages/grafana-data/src/types/dataLink.ts (`internal` opens
 * Explore with a query on a datasource).
 */
describe("the logs performance dashboard", () => {
  const dashboard = shipped.find((d) => d.uid === "atra-logs-performance")!;
  const model = dashboard.model as DashboardModel;
  const targets = elasticsearchTargets(model);
  const REQUEST_FIELDS = {
    time: "@timestamp",
    known: [...LOG_FIELDS.known, ...Object.keys(REQUEST_FIELD_TYPES), MESSAGE_PATTERN_FIELD],
  };
  interface Panel {
    title: string;
    type: string;
    repeat?: string;
    targets?: ElasticsearchTarget[];
    fieldConfig?: { defaults?: { unit?: string }; overrides?: { matcher: { options: string }; properties: { id: string; value: unknown }[] }[] };
  }
  const panels = model.panels as unknown as Panel[];
  const panel = (title: string) => panels.find((p) => p.title === title)!;

  test.each(targets.flatMap((t) => serviceValues.map((values) => [`${t.where} with $service=${values.service}`, t.target, values] as const)))(
    "%s has the shape Grafana's Elasticsearch datasource runs, over fields the pipeline maps",
    (_where, target, values) => {
      expect(elasticsearchTargetProblems(target, REQUEST_FIELDS, values)).toEqual([]);
      expect(String(target.query)).toMatch(/^service\.name:\$service AND host\.name:\$host( AND |$)/);
    },
  );

  test("latency percentiles of event.duration (ns) by service and route; 5xx and error levels by service", () => {
    const latency = panel("Latency percentiles by service and route");
    expect(latency.fieldConfig?.defaults?.unit).toBe("ns");
    expect(latency.targets![0].metrics).toEqual([{ type: "percentiles", id: "1", field: "event.duration", settings: { percents: ["50", "95", "99"] } }]);
    expect(latency.targets![0].bucketAggs!.map((b) => b.field)).toEqual(["service.name", "url.path", "@timestamp"]);
    expect(panel("5xx responses by service and route").targets![0].query).toContain("http.response.status_code:[500 TO 599]");
    expect(panel("Error-level request lines by service").targets![0].query).toContain(ERROR_FILTER);
    expect(panel("Requests by service and route").targets![0].bucketAggs!.map((b) => b.field)).toEqual(["service.name", "url.path", "@timestamp"]);
  });

  test('the route panels count lines without url.path under "(no route)" instead of dropping them', () => {
    // Grafana's Elasticsearch datasource passes a terms bucket's `settings.missing` into the terms aggregation's
    // `missing` (grafana/grafana pkg/tsdb/elasticsearch/aggregation_factory.go, addTermsAgg:
    // `if missing, err := bucketAgg.Settings.Get("missing").String(); err == nil { a.Missing = &missing }`), and
    // Elasticsearch's terms aggregation puts documents without the field in a bucket of that key. Without it, a request
    // line with a duration or a status but no route/path would vanish from these panels.
    const routePanels = ["Requests by service and route", "5xx responses by service and route", "Latency percentiles by service and route"];
    for (const title of routePanels) {
      const routeTerms = panel(title).targets![0].bucketAggs!.filter((b) => b.field === "url.path");
      expect({ title, settings: routeTerms.map((b) => b.settings) }).toEqual({
        title,
        settings: [{ order: "desc", orderBy: "_count", size: "10", min_doc_count: "1", missing: "(no route)" }],
      });
    }
    // Every terms bucket over url.path on the dashboard is one of those.
    const everyRouteTerms = panels.filter((p) => (p.targets ?? []).some((t) => (t.bucketAggs ?? []).some((b) => b.field === "url.path")));
    expect(everyRouteTerms.map((p) => p.title).sort()).toEqual([...routePanels].sort());
  });

  test("every selected service, the health-only agents among them, gets its own latency and error panel", () => {
    expect(panel("Latency: $service")).toMatchObject({ repeat: "service", type: "timeseries" });
    expect(panel("Errors: $service")).toMatchObject({ repeat: "service", type: "timeseries" });
  });

  test("slowest requests: request ids by their longest duration, linked to Kibana Discover and Grafana Explore", () => {
    const slowest = panel("Slowest requests");
    const [target] = slowest.targets!;
    expect(target.metrics).toEqual([{ type: "max", id: "1", field: "event.duration" }]);
    expect(target.bucketAggs).toEqual([
      { type: "terms", id: "3", field: "http.request.id", settings: { order: "desc", orderBy: "1", size: "20", min_doc_count: "1" } },
    ]);
    const links = slowest.fieldConfig!.overrides!.find((o) => o.matcher.options === "http.request.id")!.properties[0].value as {
      url: string;
      internal?: { datasourceUid: string; datasourceName: string; query: ElasticsearchTarget };
    }[];
    expect(links[0].url).toMatch(
      /^\$\{kibana_url\}\/app\/discover#\/\?_g=\(time:.*dataViewId:'\$\{kibana_data_view\}'.*http\.request\.id:"\$\{__value\.raw\}"/,
    );
    // The import put the stack's Elasticsearch datasource uid in place of the placeholder; the name is that datasource's
    // (components/grafana/grafana-configuration.ts, ELASTICSEARCH_DATASOURCE: "Elasticsearch logs").
    expect(links[1].internal?.datasourceUid).toBe(OURS.elasticsearch.uid);
    expect(links[1].internal?.datasourceName).toBe(OURS.elasticsearch.name);
    expect(OURS.elasticsearch.name).toBe("Elasticsearch logs");
    // `${__value.raw}`: the clicked cell, a data-link variable (packages/grafana-data/src/types/dataLink.ts).
    expect(elasticsearchTargetProblems(links[1].internal!.query, REQUEST_FIELDS, { __value: "0f8fad5b" })).toEqual([]);
    const variables = (model.templating?.list ?? []).map((v) => v.name);
    expect(variables).toEqual(expect.arrayContaining(["kibana_url", "kibana_data_view"]));
  });

  test("top message patterns: terms of atra.message_pattern", () => {
    expect(panel("Top message patterns").targets![0].bucketAggs).toEqual([
      { type: "terms", id: "3", field: MESSAGE_PATTERN_FIELD, settings: { order: "desc", orderBy: "_count", size: "20", min_doc_count: "1" } },
    ]);
  });
});

/**
 * The SLO dashboard in a backend several environments record their SLO series into (agent mode with
 * prometheus.external: components/slo/slo-rules.ts, each series labelled with its environment): every
 * selector keeps this stack's environment, or series without the label (this stack's own Prometheus,
 * whose recorded series carry none: an empty-matching matcher also selects series without the label,
 * prometheus/prometheus docs/querying/basics.md). Otherwise the panels dividing by the budget find two
 * budgets per (service, slo), one per environment, and fail ("found duplicate series for the match
 * group"; played on promtool in test/real-tools/slo-rules.test.ts). The value is the hidden constant
 * `stack_environment`, which the import fills per stack (components/grafana/dashboard-files.ts, STACK_VARIABLES).
 */
describe("the SLO dashboard, per stack environment", () => {
  type Variable = { name: string; type: string; query?: unknown; current?: { text?: unknown; value?: unknown }; hide?: number };
  const DASHBOARD = "grafana:oss/dashboard:Dashboard";
  const slo = shipped.find((d) => d.uid === "atra-slo")!;
  const model = slo.model as DashboardModel;
  /** Panel queries and the PromQL of the service list, with the environment substituted. */
  const queries = (environment: string) =>
    dashboardQueries(model).map(({ where, expr }) => ({
      where,
      expr: substituteVariables(promqlOfVariableQuery(expr) ?? "", { ...templateValues(model), [STACK_VARIABLES.environment]: environment }).expr,
    }));
  const sentVariable = (plan: PlanResult): Variable => {
    const sent = plan.run.resources
      .filter((r) => r.type === DASHBOARD)
      .map((r) => JSON.parse(String(r.inputs.configJson)) as DashboardModel & { uid: string })
      .find((d) => d.uid === "atra-slo");
    expect(sent).toBeDefined();
    return (sent!.templating!.list as unknown as Variable[]).find((v) => v.name === STACK_VARIABLES.environment)!;
  };

  test("every selector of every query, the service list's included, keeps the stack's environment or no label", () => {
    // Except the host list, the same on every dashboard (above): in a shared backend it lists every
    // environment's hosts, and another environment's host selects no service of this one's (the host
    // filter's `up` keeps this environment too), so the panels come out empty, not wrong.
    const all = queries(SLO_ENVIRONMENT_MARKER).filter((q) => q.where !== "variable $host");
    expect(all.length).toBeGreaterThan(10);
    expect(all.map((q) => q.where)).toContain("variable $service");
    const missing = all.flatMap(({ where, expr }) =>
      selectorsWithout(expr, sloEnvironmentMatcher(SLO_ENVIRONMENT_MARKER)).map((selector) => `${where}: ${selector}`),
    );
    expect(missing).toEqual([]);
    // The budget divided by is taken once per SLO: a metadata change leaves two labellings for the lookback.
    for (const { where, expr } of all.filter((q) => q.expr.includes("group_left")))
      expect([where, expr]).toEqual([where, expect.stringContaining("group_left () max by (service, slo) (service_slo:slo_error_budget:ratio{")]);
  });

  test("with an environment put in, every query still parses", () => {
    for (const environment of ["dev", "prod", ""]) {
      for (const { where, expr } of queries(environment)) expect({ where, expr, errors: promqlSyntaxErrors(expr) }).toEqual({ where, expr, errors: [] });
    }
  });

  test("a hidden constant; the plan's dashboard carries each stack's environment (dev, prod), the file's empty value none", async () => {
    const variable = (model.templating!.list as unknown as Variable[]).find((v) => v.name === STACK_VARIABLES.environment)!;
    expect(variable).toMatchObject({ type: "constant", hide: 2, query: "" });
    for (const stack of ["dev", "prod"]) {
      const sent = sentVariable(await planIsolated(stack));
      expect(sent).toMatchObject({ type: "constant", hide: 2, query: stack, current: { text: stack, value: stack } });
    }
  }, 240_000);
});

/**
 * The Slowest requests links open Kibana Discover at `${kibana_url}` with `${kibana_data_view}`: hidden textbox
 * variables the import fills with each stack's own values (components/grafana/dashboard-files.ts, stackVariableValues),
 * so the link is right on every stack. Grafana reads a textbox's value from `current.value`, falling back to `query`
 * (grafana/grafana public/app/features/dashboard-scene/serialization/transformSaveModelToScene.ts,
 * createSceneVariableFromVariableModel): both are checked.
 */
describe("the logs performance dashboard's Kibana link, per stack", () => {
  type Variable = { name: string; type: string; query?: unknown; current?: { text?: unknown; value?: unknown }; hide?: number };
  const DASHBOARD = "grafana:oss/dashboard:Dashboard";
  const DATA_VIEW = "pulumi-nodejs:dynamic/elastic:KibanaDataView";

  /** The variables of the logs performance dashboard as the plan sends it to Grafana. */
  function sentVariables(plan: PlanResult): Record<string, Variable> {
    const sent = plan.run.resources
      .filter((r) => r.type === DASHBOARD)
      .map((r) => JSON.parse(String(r.inputs.configJson)) as DashboardModel & { uid: string })
      .find((d) => d.uid === "atra-logs-performance");
    expect(sent).toBeDefined();
    return Object.fromEntries((sent!.templating!.list as unknown as Variable[]).map((v) => [v.name, v]));
  }
  const valueOf = (variable: Variable) => {
    expect(variable).toMatchObject({ type: "textbox", hide: 2 });
    expect(variable.current).toEqual({ text: variable.query, value: variable.query });
    return variable.query;
  };
  const dataViewIds = (plan: PlanResult) => plan.run.resources.filter((r) => r.type === DATA_VIEW).map((r) => (r.inputs.dataView as { id: string }).id);

  let prod: PlanResult;
  let dev: PlanResult;
  beforeAll(async () => {
    prod = await planIsolated("prod");
    dev = await planIsolated("dev");
  }, 120_000);

  test("prod: its Kibana public URL and its data view id (the outputs kibanaUrl and kibanaDataViewId, the KibanaDataView made)", () => {
    const variables = sentVariables(prod);
    expect(valueOf(variables[STACK_VARIABLES.kibanaUrl]!)).toBe(prod.run.outputs.kibanaUrl!.value);
    expect(valueOf(variables[STACK_VARIABLES.kibanaDataView]!)).toBe(prod.run.outputs.kibanaDataViewId!.value);
    expect(dataViewIds(prod)).toEqual([prod.run.outputs.kibanaDataViewId!.value]);
    // prod serves other hosts, so its tls is generated: Kibana is https (docs/tls.md).
    expect(prod.run.outputs.kibanaUrl!.value).toBe("https://obs-prod.atra.internal:5601");
    expect(prod.run.outputs.kibanaDataViewId!.value).toBe("atra-prod-logs-data-view");
  });

  test("dev: its own values, not prod's", () => {
    const variables = sentVariables(dev);
    expect(valueOf(variables[STACK_VARIABLES.kibanaUrl]!)).toBe(dev.run.outputs.kibanaUrl!.value);
    expect(valueOf(variables[STACK_VARIABLES.kibanaDataView]!)).toBe(dev.run.outputs.kibanaDataViewId!.value);
    expect(dataViewIds(dev)).toEqual([dev.run.outputs.kibanaDataViewId!.value]);
    expect(dev.run.outputs.kibanaDataViewId!.value).not.toBe(prod.run.outputs.kibanaDataViewId!.value);
  });

  test("an external Elastic cluster: the link opens its Kibana (logs.external.kibanaUrl)", async () => {
    const plan = await planIsolated("external-kibana", { config: externalStackConfig(EXTERNAL_ELASTIC_ONLY) });
    const variables = sentVariables(plan);
    expect(valueOf(variables[STACK_VARIABLES.kibanaUrl]!)).toBe("https://kibana.internal.example:5601");
    expect(valueOf(variables[STACK_VARIABLES.kibanaDataView]!)).toBe("atra-external-kibana-logs-data-view");
    expect(dataViewIds(plan)).toEqual(["atra-external-kibana-logs-data-view"]);
  });

  test("loaded without a stack (as the folder checks above do), the file's placeholders stay", () => {
    const variables = Object.fromEntries(
      ((shipped.find((d) => d.uid === "atra-logs-performance")!.model as DashboardModel).templating!.list as unknown as Variable[]).map((v) => [v.name, v]),
    );
    expect(variables[STACK_VARIABLES.kibanaUrl]!.query).toBe("http://localhost:5601");
  });
});
