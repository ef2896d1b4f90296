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
  recordingRuleFileYaml,
} from "../../components/slo/slo-rules";
import { RecordingRuleGroup, sloRecordingGroups } from "../../components/slo/rule-groups";
import { SHARD_COUNTS, shardOf } from "../../components/alerting/rule-shards";
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
      // Once per SLO: an older labelling of the ratio stays visible for the lookback (test/real-tools/slo-rules.test.ts).
      expr: '1 - max by (service, slo) (service_slo:slo_errors_per_request:ratio_rate28d{service="orders", slo="availability"}) / 0.005',
      labels: { window: "28d" },
    });
  });

  test("the long windows are the bad events over all events of the 5-minute counts: weighted by traffic, from 288 samples a day", () => {
    const rule = (service: string, slo: string, record: string) =>
      rules.find((r) => r.labels.service === service && r.labels.slo === slo && r.record === record);
    expect(rule("orders", "availability", RECORDED.errorRatio("28d"))?.expr).toBe(
      'sum by (service, slo) (sum_over_time(service_slo:slo_errors:increase5m{service="orders", slo="availability"}[28d])) / sum by (service, slo) (sum_over_time(service_slo:slo_requests:increase5m{service="orders", slo="availability"}[28d]))',
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
    const alertExprs = burnRateAlerts().map((alert) => alert.expr);
    for (const expr of [...rules.map((rule) => rule.expr), ...alertExprs]) expect({ expr, errors: promqlSyntaxErrors(expr) }).toEqual({ expr, errors: [] });
    const wrapped = yaml.load(renderPromtoolAlertFile()) as { groups: { rules: { expr: string }[] }[] };
    expect(wrapped.groups[0].rules.map((rule) => rule.expr)).toEqual(alertExprs);
  });
});

describe("burn-rate alerts", () => {
  const groups = sloAlertGroups(slos, { prometheusDatasourceUid: "prom-uid", interval: "1m", runbookBaseUrl: "https://git.example/obs/blob/main" });
  const group = groups[0];

  test("one group, atra-slo, of two multi-dimensional rules (a page and a ticket) for any catalog; none without SLOs", () => {
    expect(groups.map((g) => [g.name, g.intervalSeconds, g.rules.map((rule) => [rule.name, rule.labels.severity])])).toEqual([
      [
        SLO_ALERT_GROUP,
        60,
        [
          [SLO_ALERTS.page, "critical"],
          [SLO_ALERTS.ticket, "warning"],
        ],
      ],
    ]);
    expect(group.rules.map((rule) => rule.uid)).toEqual([ruleUid(SLO_ALERT_GROUP, SLO_ALERTS.page), ruleUid(SLO_ALERT_GROUP, SLO_ALERTS.ticket)]);
    expect(sloAlertGroups([], { prometheusDatasourceUid: "prom-uid", interval: "1m" })).toEqual([]);
  });

  test("2,000 services: still the two rules, a body of a few KB (one 21 MB body when there was a rule per SLO)", () => {
    const services = Array.from({ length: 2000 }, (_, i) => ({
      name: `svc-${i}`,
      health: `http://svc-${i}/health`,
      slo: { availability: 99.9, window: "7d" },
    }));
    const large = sloDefinitions(resolveStackConfig({ stack: "dev", values: { services }, secretKeys: [] }).config.services);
    const [only, ...more] = sloAlertGroups(large, { prometheusDatasourceUid: "prom-uid", interval: "1m" });
    expect(more).toEqual([]);
    expect(only.rules).toHaveLength(2);
    expect(JSON.stringify(only).length).toBeLessThan(10 * 1024);
  });

  test("the workbook's windows and factors, each SLO's threshold its own recorded budget, matched on (service, slo)", () => {
    // A failed evaluation (Prometheus replaced by `pulumi up`) keeps the last state instead of paging
    // (grafana/grafana pkg/services/ngalert/state/state.go resultError -> resultKeepLast; the
    // replacement is played through test/program/datasource-outage.test.ts). No `for`: the page stays
    // within minutes of a full outage.
    for (const rule of group.rules) {
      expect(rule).toMatchObject({ for: "0s", noDataState: "OK", execErrState: "KeepLast", missingSeriesEvalsToResolve: 1 });
    }
    const [page, ticket] = burnRateAlerts();
    const over = (range: string, factor: number) =>
      `service_slo:slo_errors_per_request:ratio_rate${range} > on (service, slo) group_left () (${factor} * max by (service, slo) (service_slo:slo_error_budget:ratio))`;
    for (const [long, short, factor] of [
      ["1h", "5m", 14.4],
      ["6h", "30m", 6],
    ] as const) {
      expect(page.expr).toContain(`(${over(long, factor)}\n    and on (service, slo)\n   ${over(short, factor)})`);
    }
    for (const [long, short, factor] of [
      ["1d", "2h", 3],
      ["3d", "6h", 1],
    ] as const) {
      expect(ticket.expr).toContain(`(${over(long, factor)}\n    and on (service, slo)\n   ${over(short, factor)})`);
    }
    expect(page.expr.startsWith(`${RECORDED.budgetRemaining}\nand on (service, slo)\n(`)).toBe(true);
  });

  test("scoped to one environment where several stacks' series meet (a backend Grafana records into)", () => {
    const [page] = burnRateAlerts({ environment: "prod" });
    expect(page.expr.startsWith(`${RECORDED.budgetRemaining}{environment="prod"}`)).toBe(true);
    expect(page.expr).toContain(
      'ratio_rate1h{environment="prod"} > on (service, slo) group_left () (14.4 * max by (service, slo) (service_slo:slo_error_budget:ratio{environment="prod"}))',
    );
    expect(promqlSyntaxErrors(page.expr)).toEqual([]);
    // The recording rules read and write the same environment only.
    const scoped = sloDefinitions(config.services, { environment: "prod" });
    expect(scoped[0].labels).toMatchObject({ service: scoped[0].service, environment: "prod" });
    expect(scoped[0].errorRatio("5m")).toContain(`service="${scoped[0].service}", environment="prod"`);
    expect(scoped[0].events.all("5m")).toContain('environment="prod"');
    // So do the rules over recorded series (the long windows, the budget left): every selector of a
    // recorded series carries the scope, or a shared backend returns every environment's (test/real-tools).
    const recordedReads = sloRecordingGroups(scoped, "1m")
      .flatMap((g) => g.rules)
      .flatMap((rule) => [...rule.expr.matchAll(/service_slo:[a-z_:0-9]+\{([^}]*)\}/g)].map((m) => ({ record: rule.record, matchers: m[1] })));
    expect(recordedReads.length).toBeGreaterThan(0);
    for (const read of recordedReads) expect(read).toEqual({ record: read.record, matchers: expect.stringMatching(/, environment="prod"$/) });
  });

  test("query A through the Prometheus datasource, the any-series condition, annotations from the series' labels with the budget left and the runbook", () => {
    const rule = group.rules[0];
    const [a, condition] = rule.datas.map((data) => ({ ...data, model: JSON.parse(data.model) }));
    expect(rule.condition).toBe(condition.refId);
    expect(a).toMatchObject({ refId: "A", datasourceUid: "prom-uid", model: { datasource: { type: "prometheus", uid: "prom-uid" }, instant: true } });
    expect(a.model.expr.startsWith(RECORDED.budgetRemaining)).toBe(true);
    expect(condition.model).toMatchObject({ type: "math", expression: "is_number($A) || is_nan($A) || is_inf($A)" });
    expect(rule.annotations).toMatchObject({
      summary:
        "{{ $labels.service }} burns its {{ $labels.slo }} error budget fast: {{ humanizePercentage $values.A.Value }} of the {{ $labels.window }} budget left",
      description: expect.stringContaining("Error budget left over {{ $labels.window }}: {{ humanizePercentage $values.A.Value }}."),
      error_budget_remaining: "{{ humanizePercentage $values.A.Value }}",
      runbook_url: "https://git.example/obs/blob/main/docs/runbook.md#sloerrorbudgetfastburn",
    });
    // service, slo, window and the catalog's metadata come from the series (the recorded budget left carries them).
    expect(rule.labels).toEqual({ severity: "critical" });
    const budgetLeft = sloRecordingGroups(slos, "1m")
      .flatMap((g) => g.rules)
      .find((r) => r.record === RECORDED.budgetRemaining)!;
    expect(Object.keys(budgetLeft.labels)).toEqual(expect.arrayContaining(["service", "slo", "window"]));
  });
});

describe("Grafana-managed recording rules (metrics in an external backend)", () => {
  const recording = sloGrafanaRecordingGroups(slos, "1m", "query-uid", "write-uid");
  const prometheusGroups = (
    yaml.load(renderSloRuleFile(slos, "1m")) as {
      groups: { name: string; interval?: string; rules: { record: string; expr: string; labels: Record<string, string> }[] }[];
    }
  ).groups;

  test("the rules and intervals of the Prometheus rule file, per kind and fixed service shard, reading through the query datasource and writing to the write datasource", () => {
    // Each service's rules of a kind sit in `<kind>:<its shard among 256>` (components/alerting/rule-shards.ts), whatever the catalog's size.
    const kinds: [string, number][] = [
      ["atra-slo-ratios", 60],
      ["atra-slo-events", 300],
      ["atra-slo-ratios-long", 60],
    ];
    for (const service of ["api", "orders", "search"]) {
      const shard = shardOf(service, SHARD_COUNTS.sloRecording);
      for (const [kind, interval] of kinds) {
        const group = recording.find((g) => g.name === `${kind}:${shard}`)!;
        expect(group.intervalSeconds).toBe(interval);
        const own = prometheusGroups.find((g) => g.name === `${kind}:${service}`)!.rules;
        expect(group.rules.filter((r) => r.labels.service === service).map((r) => r.record!.metric)).toEqual(own.map((r) => r.record));
      }
    }
    expect(recording.every((g) => /^atra-slo-(ratios|events|ratios-long):\d+$/.test(g.name))).toBe(true);
    expect(recording.flatMap((g) => g.rules.map((r) => r.record!.metric)).sort()).toEqual(prometheusGroups.flatMap((g) => g.rules.map((r) => r.record)).sort());
    const rule = recording.flatMap((g) => g.rules).find((r) => r.record?.metric === RECORDED.errorRatio("5m") && r.labels.service === "api")!;
    // terraform-provider-grafana resource_alerting_rule_group.go refuses `for`, `condition`,
    // `no_data_state` and `exec_err_state` beside `record` (unpackAlertRule: conflicting fields).
    expect(rule).toMatchObject({
      uid: ruleUid(SLO_RECORDING_UID_NAMESPACE, `${RECORDED.errorRatio("5m")}/api/availability`),
      name: `${RECORDED.errorRatio("5m")} of api availability`,
      for: "0s",
      condition: "",
      noDataState: "",
      execErrState: "",
      labels: { service: "api", slo: "availability" },
      // Grafana writes to the TARGET datasource's URL with its login (grafana/grafana
      // pkg/services/ngalert/writer/datasourcewriter.go, makeWriter): the write datasource, not the query one.
      record: { metric: RECORDED.errorRatio("5m"), from: "A", targetDatasourceUid: "write-uid" },
    });
    expect(rule.datas.map((d) => [d.refId, d.datasourceUid])).toEqual([["A", "query-uid"]]);
    expect(JSON.parse(rule.datas[0].model)).toMatchObject({ expr: prometheusGroups[0].rules[0].expr, instant: true });
    const all = recording.flatMap((g) => g.rules);
    expect(new Set(all.map((r) => r.uid)).size).toBe(all.length);
    expect(new Set(all.map((r) => r.name)).size).toBe(all.length);
  });

  test("uids and titles of their own, not those of the layout before fixed shards (commit 51146ed), whose rules therefore stay in the old groups", () => {
    // At 51146ed shard 0 of each kind was the base group (atra-slo-ratios, atra-slo-events,
    // atra-slo-ratios-long), its rules' uids ruleUid("atra-slo-recording", "<record>/<service>/<slo>")
    // and titles "<record> <service> <slo>". Reusing those uids, the first `up` would move every rule
    // out of the base groups, and the provider's delete of an empty group fails on every `up`
    // (grafana/terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go,
    // deleteAlertRuleGroup -> GetAlertRuleGroup: Grafana answers 404 for a group without rules). New
    // uids move nothing; new titles avoid the folder-wide title constraint of Grafana before 12.0.
    expect(SLO_RECORDING_UID_NAMESPACE).toBe("atra-slo-recording:sharded");
    const all = recording.flatMap((g) => g.rules);
    const before = new Set(all.map((r) => ruleUid("atra-slo-recording", `${r.record!.metric}/${r.labels.service}/${r.labels.slo}`)));
    const titlesBefore = new Set(all.map((r) => `${r.record!.metric} ${r.labels.service} ${r.labels.slo}`));
    expect(all.filter((r) => before.has(r.uid) || titlesBefore.has(r.name))).toEqual([]);
    // A pinned uid: changing the namespace again would move rules between groups (rule-shards.ts).
    expect(all.find((r) => r.name === `${RECORDED.errorRatio("5m")} of api availability`)!.uid).toBe(
      ruleUid("atra-slo-recording:sharded", `${RECORDED.errorRatio("5m")}/api/availability`),
    );
    expect(recording.map((g) => g.name).filter((name) => !name.includes(":"))).toEqual([]);
  });

  test("a service's groups, rules and uids stay the same as the catalog grows: no rule moves between groups", () => {
    const grown = sloDefinitions(
      resolveStackConfig({
        stack: "dev",
        values: {
          ...GOOD,
          services: [
            ...GOOD.services,
            ...Array.from({ length: 300 }, (_, i) => ({ name: `svc-${i}`, health: `http://svc-${i}/health`, slo: { availability: 99.9 } })),
          ],
        },
        secretKeys: [],
      }).config.services,
    );
    const groupOf = (groups: typeof recording) => new Map(groups.flatMap((g) => g.rules.map((r) => [r.uid, g.name] as const)));
    const before = groupOf(recording);
    const after = groupOf(sloGrafanaRecordingGroups(grown, "1m", "query-uid", "write-uid"));
    expect(before.size).toBe(52);
    for (const [uid, group] of before) expect([uid, after.get(uid)]).toEqual([uid, group]);
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

describe("the rule file's YAML, written without js-yaml", () => {
  test("reads back (YAML 1.2, as Prometheus's yaml.v3 reads it) as exactly the groups, whatever the strings hold", () => {
    const groups: RecordingRuleGroup[] = [
      {
        name: "atra-slo-ratios:billing-api",
        rules: [
          // Quotes, backslashes (a regex's escaped dot), a newline, a colon and a hash, non-ASCII.
          {
            record: "service_slo:x:ratio_rate5m",
            expr: 'sum(rate(x{le=~"0\\\\.5", path="a: #b"}[5m]))\nor vector(0)',
            labels: { service: "billing-api", slo: "läten'cy" },
          },
          { record: "service_slo:y", expr: "vector(1)", labels: {} },
        ],
      },
      { name: "atra-slo-events:billing-api", interval: "5m", rules: [{ record: "r", expr: "1", labels: { "a-b": "yes", n: "true" } }] },
    ];
    const text = recordingRuleFileYaml(groups);
    expect(yaml.load(text)).toEqual({
      groups: groups.map((group) => ({
        name: group.name,
        ...(group.interval ? { interval: group.interval } : {}),
        // A rule without labels has no `labels` key.
        rules: group.rules.map(({ labels, ...rule }) => (Object.keys(labels).length > 0 ? { ...rule, labels } : rule)),
      })),
    });
    // "true" stays a string (a label value), not a boolean.
    expect(text).toContain('"n": "true"');
  });

  test("the SLO rule file is the same document js-yaml would have written", () => {
    const file = renderSloRuleFile(slos, "1m");
    expect(yaml.load(file)).toEqual(yaml.load(yaml.dump({ groups: sloRecordingGroups(slos, "1m") })));
  });
});
