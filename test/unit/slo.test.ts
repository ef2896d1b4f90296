/**
 * The SLO room: the catalog's `slo` checked as a whole (every problem at once, each at its key), the
 * SLI each objective is computed from, the recording rules' names and labels, and the burn-rate
 * alerts' Grafana model chains. Every generated PromQL expression parses (Prometheus's lezer grammar).
 */
import * as yaml from "js-yaml";
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { ruleUid } from "../../components/alerting/grafana-rules";
import {
  burnRateAlerts,
  leMatcher,
  RECORDED,
  renderPromtoolAlertFile,
  renderSloRuleFile,
  SLO_ALERT_GROUP,
  SLO_ALERTS,
  sloAlertGroup,
  sloDefinitions,
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

  test("per SLO a ratio for every window and the SLO window, named level:metric:operations, plus objective, budget and budget left", () => {
    expect(groups.map((group) => [group.name, group.interval])).toEqual([
      ["atra-slo-ratios", undefined],
      ["atra-slo-ratios-long", "1m"],
    ]);
    const api = rules.filter((rule) => rule.labels.service === "api" && rule.labels.slo === "availability").map((rule) => rule.record);
    expect(api).toEqual([
      ...["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"].map(RECORDED.errorRatio),
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
    expect(expr("search", "latency", "30d")).toContain('search_seconds_bucket{service="search", le="+Inf"}[30d]');
    expect(rules.find((r) => r.labels.service === "orders" && r.record === RECORDED.budgetRemaining)).toMatchObject({
      expr: '1 - service_slo:slo_errors_per_request:ratio_rate28d{service="orders", slo="availability"} / 0.005',
      labels: { window: "28d" },
    });
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
  const group = sloAlertGroup(slos, { prometheusDatasourceUid: "prom-uid", interval: "1m", runbookBaseUrl: "https://git.example/obs/blob/main" });

  test("a page and a ticket per SLO, the workbook's windows and factors on the recording rules", () => {
    expect(group.name).toBe(SLO_ALERT_GROUP);
    expect(group.intervalSeconds).toBe(60);
    expect(group.rules.map((rule) => [rule.name, rule.labels.severity])).toEqual(
      slos.flatMap((slo) => [
        [`${SLO_ALERTS.page} ${slo.service} ${slo.slo}`, "critical"],
        [`${SLO_ALERTS.ticket} ${slo.service} ${slo.slo}`, "warning"],
      ]),
    );
    expect(new Set(group.rules.map((rule) => rule.uid)).size).toBe(group.rules.length);
    expect(group.rules[0].uid).toBe(ruleUid(SLO_ALERT_GROUP, `${SLO_ALERTS.page}/api/availability`));
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
