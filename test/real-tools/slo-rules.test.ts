/**
 * The SLO rules with the real promtool (Debian's Prometheus 2.42): for every shipped stack file and
 * the every-option stack, `promtool check rules` on the generated recording-rule file and on the
 * test-only alert file (the Grafana rules' PromQL wrapped as Prometheus alerting rules), and
 * `promtool test rules` on unit tests generated for every SLO (test/support/slo-promtool.ts): a full
 * outage pages within minutes and not before the workbook's arithmetic says, a 4.5x degradation opens
 * a ticket within hours and never pages, and a healthy series with errors at half the budget's rate
 * keeps every alert silent.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { readProjectName, readStackFile } from "../../scripts/lib/stack-file";
import { rawConfigFromStore } from "../../components/config/pulumi-config";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { renderPromtoolAlertFile, renderSloRuleFile, sloDefinitions } from "../../components/slo/slo-rules";
import { describeWithTools, runTool, tempDir } from "../support/real-tools";
import { PROJECT_DIR } from "../support/plan";
import { everyOptionStackConfig } from "../support/every-option-stack";
import { metadataChangeCase, PromtoolCase, promtoolCases, severalSlosCase, sharedBackendCase } from "../support/slo-promtool";
import { loadDashboards, STACK_VARIABLES } from "../../components/grafana/dashboard-files";
import { STACK_DATASOURCES } from "../../components/grafana/grafana-configuration";
import { dashboardQueries, DashboardModel, promqlOfVariableQuery, substituteVariables, templateValues } from "../support/dashboard-queries";

type RunResult = ReturnType<typeof runTool>;

const STACK_FILES = fs
  .readdirSync(PROJECT_DIR)
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined);

function shippedStack(stack: string): StackConfig {
  const { config, secretKeys } = readStackFile(PROJECT_DIR, stack, readProjectName(PROJECT_DIR));
  return resolveStackConfig(rawConfigFromStore(stack, config, secretKeys)).config;
}

const STACKS: { name: string; config: () => StackConfig }[] = [
  ...STACK_FILES.map((stack) => ({ name: stack, config: () => shippedStack(stack) })),
  {
    name: "every-option",
    config: () => {
      const { config, secretKeys } = everyOptionStackConfig() as { config: Record<string, string>; secretKeys: string[] };
      return resolveStackConfig(rawConfigFromStore("every-option", config, secretKeys)).config;
    },
  },
];

describeWithTools(["promtool"], "SLO rules with promtool", () => {
  let workDir: string;
  beforeAll(() => {
    workDir = tempDir("atra-slo-promtool-");
  });
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  test("the dev stack has SLOs and prod none (prod's plan is unchanged by the SLO room)", () => {
    expect(sloDefinitions(shippedStack("dev").services).map((slo) => `${slo.service}/${slo.slo}`)).toEqual([
      "knowledge-os-api/availability",
      "knowledge-os-api/latency",
      "victoria-agent/availability",
      "veronica-agent/availability",
    ]);
    expect(sloDefinitions(shippedStack("prod").services)).toEqual([]);
  });

  describe.each(STACKS)("stack $name", ({ name, config }) => {
    test("promtool checks the recording rules and the wrapped alerts, and every generated unit test passes", () => {
      const resolved = config();
      const slos = sloDefinitions(resolved.services);
      if (slos.length === 0) return;
      const dir = path.join(workDir, name);
      fs.mkdirSync(dir, { recursive: true });
      const ruleFile = path.join(dir, "slo.yml");
      const alertFile = path.join(dir, "slo-alerts.yml");
      fs.writeFileSync(ruleFile, renderSloRuleFile(slos, resolved.prometheus.evaluationInterval));
      fs.writeFileSync(alertFile, renderPromtoolAlertFile());
      for (const file of [ruleFile, alertFile]) {
        const check = runTool("promtool", ["check", "rules", file]);
        expect({ file: path.basename(file), ...check, output: check.status === 0 ? "" : check.output }).toEqual({
          file: path.basename(file),
          status: 0,
          output: "",
        });
      }

      const cases = slos.flatMap(promtoolCases);
      // One test file per evaluation interval (a file-level setting), each case its own test group.
      const byInterval = new Map<string, typeof cases>();
      for (const testCase of cases) byInterval.set(testCase.evaluationInterval, [...(byInterval.get(testCase.evaluationInterval) ?? []), testCase]);
      for (const [interval, group] of byInterval) {
        const testFile = path.join(dir, `slo-${interval}.test.yml`);
        fs.writeFileSync(
          testFile,
          yaml.dump({ rule_files: [ruleFile, alertFile], evaluation_interval: interval, tests: group.map((testCase) => testCase.test) }, { lineWidth: -1 }),
        );
        const result = runTool("promtool", ["test", "rules", testFile]);
        expect({ interval, cases: group.map((testCase) => testCase.name), status: result.status, output: result.status === 0 ? "" : result.output }).toEqual({
          interval,
          cases: group.map((testCase) => testCase.name),
          status: 0,
          output: "",
        });
      }
      expect(cases.length).toBe(2 * slos.length);
    }, 300_000);
  });
});

/**
 * The rules over recorded series where several series of one SLO meet, and several SLOs at once, on
 * promtool: the long windows and the budget left aggregate to one series per SLO (a metadata change or
 * a second environment in a shared backend made them fail with "vector contains metrics with the same
 * labelset after applying rule labels", prometheus/prometheus rules/recording.go, and promtool reports
 * a rule's evaluation error as a failure), the burn-rate alerts take one budget per SLO (duplicates
 * failed the whole rule: "found duplicate series for the match group", promql/engine.go VectorBinop),
 * and each SLO pages at its own budget's time, scoped or not. The instances keep the budget left's
 * labels (test/support/slo-promtool.ts alertLabels).
 */
describeWithTools(["promtool"], "SLO rules with promtool: several SLOs, a shared backend, a metadata change", () => {
  const SERVICES = [
    {
      name: "api",
      metrics: "http://api:8000/metrics",
      health: "http://api:8000/health",
      slo: { availability: 99.9, latency: { thresholdSeconds: 0.25, objective: 99 } },
    },
    { name: "orders", metrics: "http://orders:9000/metrics", slo: { availability: 99.5, requests: { errors: 'status="5xx"' }, window: "28d" } },
    {
      name: "search",
      metrics: "http://search:9000/metrics",
      slo: { latency: { thresholdSeconds: 0.3, objective: 95, histogram: "search_seconds", buckets: [0.1, 0.3, 1] } },
    },
  ];
  const services = resolveStackConfig({ stack: "dev", values: { services: SERVICES, prometheus: { retentionTime: "30d" } }, secretKeys: [] }).config.services;
  let workDir: string;
  beforeAll(() => {
    workDir = tempDir("atra-slo-promtool-many-");
  });
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  /** Writes the rule files (recording and wrapped alerts per scope) and the case, and runs promtool test rules. */
  function runCase(name: string, ruleSets: { slos: ReturnType<typeof sloDefinitions>; scope?: Record<string, string> }[], testCase: PromtoolCase): RunResult {
    const dir = path.join(workDir, name);
    fs.mkdirSync(dir, { recursive: true });
    const files = ruleSets.flatMap(({ slos, scope }, index) => {
      const ruleFile = path.join(dir, `slo-${index}.yml`);
      const alertFile = path.join(dir, `slo-alerts-${index}.yml`);
      fs.writeFileSync(ruleFile, renderSloRuleFile(slos, testCase.evaluationInterval));
      fs.writeFileSync(alertFile, renderPromtoolAlertFile(scope));
      return [ruleFile, alertFile];
    });
    for (const file of files) {
      const check = runTool("promtool", ["check", "rules", file]);
      expect({ file, status: check.status, output: check.status === 0 ? "" : check.output }).toEqual({ file, status: 0, output: "" });
    }
    const testFile = path.join(dir, "test.yml");
    fs.writeFileSync(testFile, yaml.dump({ rule_files: files, evaluation_interval: testCase.evaluationInterval, tests: [testCase.test] }, { lineWidth: -1 }));
    return runTool("promtool", ["test", "rules", testFile]);
  }
  const passes = (result: RunResult) => ({ status: result.status, output: result.status === 0 ? "" : result.output });

  test("several SLOs with data at once, different budgets: each pages at its own time, with the budget left's labels", () => {
    const slos = sloDefinitions(services);
    expect(new Set(slos.map((slo) => slo.budget)).size).toBe(4);
    const testCase = severalSlosCase(slos, "unscoped");
    expect(testCase.checks.some((check) => !/: (0|4) of 4 paging$/.test(check))).toBe(true);
    expect(passes(runCase("several", [{ slos }], testCase))).toEqual({ status: 0, output: "" });
  }, 300_000);

  test("the same rendered with a scope, another environment's series in a full outage beside them", () => {
    const scope = { environment: "prod" };
    const slos = sloDefinitions(services, scope);
    const result = runCase("several-scoped", [{ slos, scope }], severalSlosCase(slos, "scoped", { environment: "staging" }));
    expect(passes(result)).toEqual({ status: 0, output: "" });
  }, 300_000);

  test("two environments recording into one backend, with the unscoped counts of the layout before: each environment's ratios, budget left and alerts its own", () => {
    const prod = sloDefinitions(services, { environment: "prod" });
    const staging = sloDefinitions(services, { environment: "staging" });
    const result = runCase(
      "shared-backend",
      [
        { slos: prod, scope: { environment: "prod" } },
        { slos: staging, scope: { environment: "staging" } },
      ],
      sharedBackendCase(prod, staging),
    );
    expect(passes(result)).toEqual({ status: 0, output: "" });
  }, 300_000);

  test("a catalog metadata label change: one long ratio, one budget left and one instance per alert, over both labellings", () => {
    // No metadata field exists yet (components/catalog.ts METADATA_FIELDS): the label is set as a field would set it, in the SLO's labels.
    const [api] = sloDefinitions(services);
    const slo = { ...api, labels: { ...api.labels, team: "b" } };
    const result = runCase("metadata-change", [{ slos: [slo] }], metadataChangeCase(slo, { team: "a" }));
    expect(passes(result)).toEqual({ status: 0, output: "" });
  }, 300_000);

  test("the SLO dashboard's queries where two environments' series meet, and on this stack's own Prometheus: this environment's series only, no query failing", () => {
    const slo = loadDashboards(path.join(PROJECT_DIR, "dashboards"), STACK_DATASOURCES, ["elasticsearch"]).find((d) => d.uid === "atra-slo")!;
    const model = slo.model as DashboardModel;
    const queriesFor = (environment: string) =>
      dashboardQueries(model)
        .filter((query) => query.where !== "variable $host")
        .map(({ where, expr }) => ({
          where,
          expr: substituteVariables(promqlOfVariableQuery(expr) ?? "", {
            ...templateValues(model),
            host: ".*",
            service: ".*",
            [STACK_VARIABLES.environment]: environment,
          }).expr,
        }));
    /** The recorded series of two SLOs of `api`, and its `up`, with `labels` added. */
    const seriesOf = (labels: Record<string, string>) => {
      const text = (name: string, own: Record<string, string>) =>
        `${name}{${Object.entries({ ...own, ...labels })
          .map(([label, value]) => `${label}="${value}"`)
          .join(", ")}}`;
      return [
        ...["availability", "latency"].flatMap((kind) => [
          { series: text("service_slo:slo_error_budget_remaining:ratio", { service: "api", slo: kind, window: "30d" }), values: "0.5x10" },
          { series: text("service_slo:slo_objective:ratio", { service: "api", slo: kind, window: "30d" }), values: "0.999x10" },
          { series: text("service_slo:slo_error_budget:ratio", { service: "api", slo: kind }), values: "0.001x10" },
          ...["5m", "30m", "1h", "2h", "6h", "1d", "3d"].map((range) => ({
            series: text(`service_slo:slo_errors_per_request:ratio_rate${range}`, { service: "api", slo: kind }),
            values: "0.0005x10",
          })),
        ]),
        { series: text("up", { job: "api", instance: "api:8000", service: "api", host: "h1" }), values: "1x10" },
      ];
    };
    // Each query counted by environment: two SLOs' series, all of this environment (or of none).
    const counted = (environment: string, expected: string) =>
      queriesFor(environment).map(({ expr }) => ({ expr: `count by (environment) (${expr})`, eval_time: "5m", exp_samples: [{ labels: expected, value: 2 }] }));
    const tests = [
      {
        name: "a backend shared by prod and staging, prod's budget also under an older labelling",
        interval: "1m",
        input_series: [
          ...seriesOf({ environment: "prod" }),
          ...seriesOf({ environment: "staging" }),
          { series: 'service_slo:slo_error_budget:ratio{service="api", slo="latency", environment="prod", team="a"}', values: "0.001x10" },
        ],
        promql_expr_test: counted("prod", '{environment="prod"}'),
      },
      { name: "this stack's own Prometheus: no environment label", interval: "1m", input_series: seriesOf({}), promql_expr_test: counted("dev", "{}") },
    ];
    const dir = path.join(workDir, "dashboard");
    fs.mkdirSync(dir, { recursive: true });
    const ruleFile = path.join(dir, "none.yml");
    fs.writeFileSync(ruleFile, "groups: []\n");
    const testFile = path.join(dir, "test.yml");
    fs.writeFileSync(testFile, yaml.dump({ rule_files: [ruleFile], evaluation_interval: "1m", tests }, { lineWidth: -1 }));
    expect(tests[0].promql_expr_test.length).toBeGreaterThan(10);
    expect(passes(runTool("promtool", ["test", "rules", testFile]))).toEqual({ status: 0, output: "" });
  }, 120_000);
});
