/**
 * The SLO room: the catalog's `slo` checked as a whole (every problem at once, each at its key), the
 * SLI each objective is computed from, the recording rules' names and labels, and the burn-rate
 * alerts' Grafana model chains. Every generated PromQL expression parses (Prometheus's lezer grammar).
 */
import * as yaml from "js-yaml";
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { ruleUid } from "../../components/alerting/grafana-rules";
import { parseRuleFiles } from "../../components/alerting/rule-files";
import {
  burnRateAlerts,
  leMatcher,
  RECORDED,
  renderPromtoolAlertFile,
  renderSloRuleFile,
  SLO_ALERT_GROUP,
  SLO_ALERTS,
  sloAlertGroups,
  sloDefinitions,
  sloGrafanaRecordingGroups,
  SLO_RECORDING_UID_NAMESPACE,
} from "../../components/slo/slo-rules";
import { promqlSyntaxErrors } from "../support/promql";

function issuesOf(values: Record<string, unknown>, stack = "dev"): { key: string; message: string }[] {
  try {
    resolveStackConfig({ stack, values, secretKeys: [] });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
const key = (path: string) => `atra-observability:${path}`;

const GOOD = {
  services: [
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
  ],
  prometheus: { retentionTime: "30d" },
};
const config = resolveStackConfig({ stack: "dev", values: GOOD, secretKeys: [] }).config;
const slos = sloDefinitions(config.services);

describe("config", () => {
  test("a valid catalog resolves, with the defaults filled in", () => {
    expect(slos.map((slo) => [slo.service, slo.slo, slo.source, slo.objective, slo.budget, slo.window])).toEqual([
      ["api", "availability", "probe", 99.9, 0.001, "30d"],
      ["api", "latency", "histogram", 99, 0.01, "30d"],
      ["orders", "availability", "requests", 99.5, 0.005, "28d"],
      ["search", "latency", "histogram", 95, 0.05, "30d"],
    ]);
  });

  test("every problem at once, each at its key", () => {
    const issues = issuesOf({
      services: [
        { name: "a", logs: ["/srv/a/*.log"], slo: { latency: { thresholdSeconds: 0.5, objective: 99 } } },
        { name: "b", logs: ["/srv/b/*.log"], slo: { availability: 99 } },
        { name: "c", metrics: "http://c/metrics", slo: { latency: { thresholdSeconds: 0.3, objective: 99 } } },
        { name: "d", metrics: "http://d/metrics", slo: { latency: { thresholdSeconds: 0.2, objective: 99, buckets: [0.1, 0.25] } } },
        { name: "e", health: "http://e/health", slo: { availability: 100, window: "1d" } },
        { name: "f", health: "http://f/health", slo: { availability: 90, window: "30days" } },
        { name: "g", metrics: "http://g/metrics", health: "http://g/health", slo: { availability: 99, requests: { errors: "{code=~'5..'}" } } },
        { name: "h", health: "http://h/health", slo: {} },
        { name: "i", health: "http://i/health", slo: { availability: 99, window: "120d" } },
      ],
      prometheus: { retentionTime: "400d" },
    });
    expect(issues).toEqual([
      { key: key("services[0].slo.latency"), message: expect.stringContaining("needs `metrics`") },
      { key: key("services[1].slo.availability"), message: expect.stringContaining("needs a source: `health`") },
      { key: key("services[2].slo.latency.thresholdSeconds"), message: expect.stringContaining("list its bounds in slo.latency.buckets") },
      { key: key("services[3].slo.latency.thresholdSeconds"), message: expect.stringContaining("is not one of slo.latency.buckets (0.1, 0.25)") },
      { key: key("services[4].slo.availability"), message: expect.stringContaining("must be below 100") },
      { key: key("services[4].slo.window"), message: expect.stringContaining("must be between 3d") },
      { key: key("services[5].slo.availability"), message: expect.stringContaining("must be above 93.06") },
      { key: key("services[5].slo.window"), message: expect.stringContaining("Prometheus duration") },
      { key: key("services[6].slo.requests"), message: expect.stringContaining("is not used: with `health`") },
      { key: key("services[6].slo.requests.errors"), message: expect.stringContaining("without braces") },
      { key: key("services[7].slo"), message: "needs availability, latency or both" },
      { key: key("services[8].slo.window"), message: expect.stringContaining("and 90d") },
    ]);
  });

  test("the default 30d window is refused where Prometheus keeps less (dev keeps 7d), at the key to change", () => {
    const services = [{ name: "a", health: "http://a/health", slo: { availability: 99 } }];
    expect(issuesOf({ services })).toEqual([
      { key: key("services[0].slo"), message: expect.stringContaining("the SLO window 30d (the default) is longer than prometheus.retentionTime 7d") },
    ]);
    expect(issuesOf({ services: [{ ...services[0], slo: { availability: 99, window: "21d" } }] }, "staging")[0].key).toBe(key("services[0].slo.window"));
    expect(() => resolveStackConfig({ stack: "prod", values: { services }, secretKeys: [] })).not.toThrow();
  });

  test("SLOs are refused with Prometheus in agent mode, which evaluates no rules", () => {
    // `prometheus.mode` belongs to the metrics room; the SLO rule reads it raw, so it holds whatever that room accepts.
    const issues = issuesOf({ services: [{ name: "a", health: "http://a/health", slo: { availability: 99, window: "7d" } }], prometheus: { mode: "agent" } });
    expect(issues).toContainEqual({
      key: key("services[0].slo"),
      message: expect.stringContaining("in agent mode (prometheus.mode: agent) Prometheus evaluates no rules"),
    });
  });
});

describe("recording rules", () => {
  const file = renderSloRuleFile(slos, "15s");
  const groups = (
    yaml.load(file) as { groups: { name: string; interval?: string; rules: { record: string; expr: string; labels: Record<string, string> }[] }[] }
  ).groups;
  const rules = groups.flatMap((group) => group.rules);

  test("three groups per service: the page's windows at the evaluation interval, 5-minute counts every 5m, the long windows every minute", () => {
    // Prometheus evaluates a group's rules one after the other (prometheus/prometheus rules/manager.go,
    // Group.Eval) and groups concurrently: a group per service keeps each evaluation as short as one
    // service's rules, whatever the catalog's size (test/real-tools and `npm run bench` time them).
    expect(groups.map((group) => [group.name, group.interval, group.rules.length])).toEqual([
      ["atra-slo-ratios:api", undefined, 10],
      ["atra-slo-events:api", "5m", 4],
      ["atra-slo-ratios-long:api", "1m", 12],
      ["atra-slo-ratios:orders", undefined, 5],
      ["atra-slo-events:orders", "5m", 2],
      ["atra-slo-ratios-long:orders", "1m", 6],
      ["atra-slo-ratios:search", undefined, 5],
      ["atra-slo-events:search", "5m", 2],
      ["atra-slo-ratios-long:search", "1m", 6],
    ]);
    // Within Mimir's default of 20 rules per group, so the same groups fit a backend's ruler.
    for (const group of groups) expect(group.rules.length).toBeLessThanOrEqual(20);
    const api = rules.filter((rule) => rule.labels.service === "api" && rule.labels.slo === "availability").map((rule) => rule.record);
    expect(api).toEqual([
      ...["5m", "30m", "1h", "2h", "6h"].map(RECORDED.errorRatio),
      RECORDED.errors,
      RECORDED.requests,
      ...["1d", "3d", "30d"].map(RECORDED.errorRatio),
      RECORDED.objective,
      RECORDED.budget,
      RECORDED.budgetRemaining,
    ]);
    for (const rule of rules) expect(rule.record).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    expect(rules.filter((rule) => rule.labels.service === "orders").map((rule) => rule.record)).toContain("service_slo:slo_errors_per_request:ratio_rate28d");
  });

  test("each SLI from its source", () => {
    const expr = (service: string, slo: string, range = "5m") =>
      rules.find((r) => r.labels.service === service && r.labels.slo === slo && r.record === RECORDED.errorRatio(range))?.expr;
    expect(expr("api", "availability")).toContain('probe_success{job="blackbox-health", service="api"}[5m]');
    expect(expr("api", "latency")).toContain('http_request_duration_seconds_bucket{service="api", le=~"0\\\\.250*"}[5m]');
    expect(expr("orders", "availability")).toContain('http_requests_total{service="orders", status="5xx"}[5m]');
    expect(expr("search", "latency", "6h")).toContain('search_seconds_bucket{service="search", le="+Inf"}[6h]');
    expect(rules.find((r) => r.labels.service === "orders" && r.record === RECORDED.budgetRemaining)).toMatchObject({
      expr: '1 - service_slo:slo_errors_per_request:ratio_rate28d{service="orders", slo="availability"} / 0.005',
      labels: { window: "28d" },
    });
  });

  test("the long windows are the bad events over all events of the 5-minute counts: weighted by traffic, from 288 samples a day", () => {
    const rule = (service: string, slo: string, record: string) =>
      rules.find((r) => r.labels.service === service && r.labels.slo === slo && r.record === record);
    expect(rule("orders", "availability", RECORDED.errorRatio("28d"))?.expr).toBe(
      'sum_over_time(service_slo:slo_errors:increase5m{service="orders", slo="availability"}[28d]) / sum_over_time(service_slo:slo_requests:increase5m{service="orders", slo="availability"}[28d])',
    );
    // The counts from each source: probes counted over a left-open 5 minutes (a sample on the boundary
    // of two counts counts once on Prometheus 2.x too), counters by increase.
    expect(rule("api", "availability", RECORDED.requests)?.expr).toBe(
      'sum by (service) (count_over_time(probe_success{job="blackbox-health", service="api"}[299999ms]))',
    );
    expect(rule("api", "availability", RECORDED.errors)?.expr).toBe(
      'sum by (service) (count_over_time(probe_success{job="blackbox-health", service="api"}[299999ms])) - sum by (service) (sum_over_time(probe_success{job="blackbox-health", service="api"}[299999ms]))',
    );
    expect(rule("orders", "availability", RECORDED.errors)?.expr).toBe(
      'sum by (service) (increase(http_requests_total{service="orders", status="5xx"}[5m])) or 0 * sum by (service) (increase(http_requests_total{service="orders"}[5m]))',
    );
    expect(rule("search", "latency", RECORDED.errors)?.expr).toBe(
      'sum by (service) (increase(search_seconds_bucket{service="search", le="+Inf"}[5m])) - sum by (service) (increase(search_seconds_bucket{service="search", le=~"0\\\\.30*"}[5m]))',
    );
    // No rule reads more than 6h of raw samples: the rest reads the counts.
    for (const r of rules.filter((r) => !r.expr.includes(RECORDED.errors))) {
      for (const [, range] of r.expr.matchAll(/\[(\w+)\]/g))
        expect({ record: r.record, range, ok: ["5m", "30m", "1h", "2h", "6h", "299999ms"].includes(range) }).toMatchObject({ ok: true });
    }
  });

  test("the threshold's bucket in every client's form", () => {
    const matches = (threshold: number, le: string) => new RegExp(`^(?:${JSON.parse(`"${/le=~"(.*)"/.exec(leMatcher(threshold))?.[1]}"`)})$`).test(le);
    expect([matches(1, "1"), matches(1, "1.0"), matches(0.5, "0.5"), matches(0.25, "0.25"), matches(0.25, "0.2"), matches(1, "10")]).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  test("every expression parses", () => {
    const alertExprs = slos.flatMap((slo) => burnRateAlerts(slo).map((alert) => alert.expr));
    for (const expr of [...rules.map((rule) => rule.expr), ...alertExprs]) expect({ expr, errors: promqlSyntaxErrors(expr) }).toEqual({ expr, errors: [] });
    const wrapped = yaml.load(renderPromtoolAlertFile(slos)) as { groups: { rules: { expr: string }[] }[] };
    expect(wrapped.groups[0].rules.map((rule) => rule.expr)).toEqual(alertExprs);
  });
});

describe("burn-rate alerts", () => {
  const groups = sloAlertGroups(slos, { prometheusDatasourceUid: "prom-uid", interval: "1m", runbookBaseUrl: "https://git.example/obs/blob/main" });
  const group = { rules: groups.flatMap((g) => g.rules) };

  test("a small catalog is one shard: the single atra-slo group, as before", () => {
    expect(groups.map((g) => [g.name, g.intervalSeconds, g.rules.length])).toEqual([[SLO_ALERT_GROUP, 60, 8]]);
  });

  test("2,000 services spread over groups of about 16 services: none over 300 KiB, every uid as in the single group", () => {
    const services = Array.from({ length: 2000 }, (_, i) => ({
      name: `svc-${i}`,
      health: `http://svc-${i}/health`,
      slo: { availability: 99.9, window: "7d" },
    }));
    const large = sloDefinitions(resolveStackConfig({ stack: "dev", values: { services }, secretKeys: [] }).config.services);
    const sharded = sloAlertGroups(large, { prometheusDatasourceUid: "prom-uid", interval: "1m" });
    // 2,000 / 16 = 125, so 128 shards (a power of two: a doubled catalog splits each shard in two).
    expect(sharded.length).toBeGreaterThan(100);
    expect(sharded.length).toBeLessThanOrEqual(128);
    expect(sharded[0].name).toBe(SLO_ALERT_GROUP);
    for (const g of sharded.slice(1)) expect(g.name).toMatch(/^atra-slo:\d+$/);
    // The issue's measurement: one 21 MB body for 2,000 services. Now each a few tens of KB.
    expect(Math.max(...sharded.map((g) => JSON.stringify(g).length))).toBeLessThan(300 * 1024);
    const rules = sharded.flatMap((g) => g.rules);
    expect(rules).toHaveLength(4000);
    expect(rules.find((r) => r.name === `${SLO_ALERTS.page} svc-1234 availability`)!.uid).toBe(
      ruleUid(SLO_ALERT_GROUP, `${SLO_ALERTS.page}/svc-1234/availability`),
    );
    // A service stays in its shard when others are added (the shard is its name's hash).
    const shardOfService = (groups: typeof sharded, name: string) => groups.find((g) => g.rules.some((r) => r.labels.service === name))!.name;
    const fewer = sloAlertGroups(large.slice(0, 1990), { prometheusDatasourceUid: "prom-uid", interval: "1m" });
    for (const name of ["svc-1", "svc-500", "svc-1500"]) expect(shardOfService(fewer, name)).toBe(shardOfService(sharded, name));
  });

  test("a page and a ticket per SLO, the workbook's windows and factors on the recording rules", () => {
    expect(group.rules.map((rule) => [rule.name, rule.labels.severity])).toEqual(
      slos.flatMap((slo) => [
        [`${SLO_ALERTS.page} ${slo.service} ${slo.slo}`, "critical"],
        [`${SLO_ALERTS.ticket} ${slo.service} ${slo.slo}`, "warning"],
      ]),
    );
    expect(new Set(group.rules.map((rule) => rule.uid)).size).toBe(group.rules.length);
    // The uids of the single `atra-slo` group they were in before: Grafana moves a rule whose uid another
    // group names (grafana/grafana pkg/services/ngalert/store/deltas.go, calculateChanges), so the
    // first `up` after the split keeps every alert and its state.
    expect(group.rules[0].uid).toBe(ruleUid(SLO_ALERT_GROUP, `${SLO_ALERTS.page}/api/availability`));
    // As the single group rendered it (components/ of 90920b9): literally the deployed uid.
    expect(group.rules[0].uid).toBe("sloerror-budget-fast-bur-f873d1ceb2");
    // A failed evaluation (Prometheus replaced by `pulumi up`) keeps the last state instead of paging
    // (grafana/grafana pkg/services/ngalert/state/state.go resultError -> resultKeepLast; the
    // replacement is played through test/program/datasource-outage.test.ts). No `for`: the page stays
    // within minutes of a full outage.
    for (const rule of group.rules) {
      expect(rule).toMatchObject({ for: "0s", noDataState: "OK", execErrState: "KeepLast", missingSeriesEvalsToResolve: 1 });
    }
    const [page, ticket] = burnRateAlerts(slos[0]);
    for (const [long, short, factor] of [
      ["1h", "5m", 14.4],
      ["6h", "30m", 6],
    ] as const) {
      expect(page.expr).toContain(
        `ratio_rate${long}{service="api", slo="availability"} > (${factor} * 0.001) and service_slo:slo_errors_per_request:ratio_rate${short}{service="api", slo="availability"} > (${factor} * 0.001)`,
      );
    }
    expect(ticket.expr).toContain("ratio_rate1d{");
    expect(ticket.expr).toContain("> (3 * 0.001) and service_slo:slo_errors_per_request:ratio_rate2h{");
    expect(ticket.expr).toContain("ratio_rate3d{");
    expect(ticket.expr).toContain("> (1 * 0.001) and service_slo:slo_errors_per_request:ratio_rate6h{");
  });

  test("query A through the Prometheus datasource, the any-series condition, annotations with the budget left and the runbook", () => {
    const rule = group.rules[0];
    const [a, condition] = rule.datas.map((data) => ({ ...data, model: JSON.parse(data.model) }));
    expect(rule.condition).toBe(condition.refId);
    expect(a).toMatchObject({ refId: "A", datasourceUid: "prom-uid", model: { datasource: { type: "prometheus", uid: "prom-uid" }, instant: true } });
    expect(a.model.expr.startsWith(`${RECORDED.budgetRemaining}{service="api", slo="availability"}`)).toBe(true);
    expect(condition.model).toMatchObject({ type: "math", expression: "is_number($A) || is_nan($A) || is_inf($A)" });
    expect(rule.annotations).toMatchObject({
      summary: expect.stringContaining("{{ humanizePercentage $values.A.Value }} of the 30d budget left"),
      description: expect.stringContaining("99.9% over 30d"),
      error_budget_remaining: "{{ humanizePercentage $values.A.Value }}",
      runbook_url: "https://git.example/obs/blob/main/docs/runbook.md#sloerrorbudgetfastburn",
    });
    expect(rule.labels).toEqual({ severity: "critical", service: "api", slo: "availability" });
  });
});

describe("Grafana-managed recording rules (metrics in an external backend)", () => {
  const recording = sloGrafanaRecordingGroups(slos, "1m", "prom-uid");
  const prometheusGroups = (
    yaml.load(renderSloRuleFile(slos, "1m")) as {
      groups: { name: string; interval?: string; rules: { record: string; expr: string; labels: Record<string, string> }[] }[];
    }
  ).groups;

  test("the rules and intervals of the Prometheus rule file, merged per kind and shard, each rule writing its query to the datasource", () => {
    // A small catalog is one shard: the three kinds of group, each holding every service's rules of that kind.
    expect(recording.map((g) => [g.name, g.intervalSeconds, g.rules.length])).toEqual([
      ["atra-slo-ratios", 60, 20],
      ["atra-slo-events", 300, 8],
      ["atra-slo-ratios-long", 60, 24],
    ]);
    expect(recording.flatMap((g) => g.rules.map((r) => r.record!.metric)).sort()).toEqual(prometheusGroups.flatMap((g) => g.rules.map((r) => r.record)).sort());
    const rule = recording[0].rules[0];
    // terraform-provider-grafana resource_alerting_rule_group.go refuses `for`, `condition`,
    // `no_data_state` and `exec_err_state` beside `record` (unpackAlertRule: conflicting fields).
    expect(rule).toMatchObject({
      name: `${RECORDED.errorRatio("5m")} api availability`,
      uid: ruleUid(SLO_RECORDING_UID_NAMESPACE, `${RECORDED.errorRatio("5m")}/api/availability`),
      for: "0s",
      condition: "",
      noDataState: "",
      execErrState: "",
      labels: { service: "api", slo: "availability" },
      record: { metric: RECORDED.errorRatio("5m"), from: "A", targetDatasourceUid: "prom-uid" },
    });
    expect(rule.datas.map((d) => d.refId)).toEqual(["A"]);
    expect(JSON.parse(rule.datas[0].model)).toMatchObject({ expr: prometheusGroups[0].rules[0].expr, instant: true });
    const all = recording.flatMap((g) => g.rules);
    expect(new Set(all.map((r) => r.uid)).size).toBe(all.length);
    expect(new Set(all.map((r) => r.name)).size).toBe(all.length);
  });
});

describe("rule files cannot take the names of the stack's sharded groups", () => {
  test("atra-slo:<n>, atra-logs:<n> and atra-slo-* are refused, each saying why", () => {
    const rule = "{alert: A, expr: up, labels: {severity: info}, annotations: {summary: s}}";
    for (const name of ["atra-slo:3", "atra-logs:1", "atra-slo-ratios", "atra-slo-events:2"]) {
      let message = "";
      try {
        parseRuleFiles([{ fileName: "alerts/mine.yml", text: `groups:\n  - name: "${name}"\n    rules: [${rule}]` }]);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`group "${name}": group name "${name}" is the stack's own`);
    }
  });
});
