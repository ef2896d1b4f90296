/**
 * The log alerts built from the stack config: an error-count rule split per service, and one
 * "stopped logging" rule per service that sets maxLogSilence; their Grafana model chains.
 */
import * as fs from "fs";
import * as path from "path";
import { ERROR_LINES_QUERY, histogramInterval, LOG_ALERT_GROUP, LOG_ALERTS, logAlertGroups, SILENCE_CONFIRMATION } from "../../components/alerting/log-alerts";
import { ruleUid } from "../../components/alerting/grafana-rules";
import { FAILURE_STORE_DATASOURCE } from "../../components/grafana/grafana-configuration";
import { resolveStackConfig } from "../../components/config/resolve";
import { SHARD_COUNTS, shardOf } from "../../components/alerting/rule-shards";

const { config } = resolveStackConfig({
  stack: "dev",
  values: {
    services: [
      { name: "api", logs: ["/srv/logs/api*.log"], maxLogSilence: "30m" },
      { name: "worker", logs: ["/srv/logs/worker*.log"] },
      { name: "agent", health: "http://agent:8010/health" },
      { name: "nightly", logs: ["/srv/logs/nightly*.log"], maxLogSilence: "26h" },
    ],
    logs: { errorRateThreshold: 4, errorRateWindow: "10m" },
  },
  secretKeys: [],
});
const groups = logAlertGroups(config.logs, config.services, {
  elasticsearchDatasourceUid: "es-uid",
  failureStoreDatasourceUid: FAILURE_STORE_DATASOURCE.uid,
  interval: "1m",
  host: "obs-1.example.internal",
  runbookBaseUrl: "https://git.example/obs/blob/main",
});
// Every rule of every group (the stack-wide ones in atra-logs, the silences in their shard groups).
const group = { rules: groups.flatMap((g) => g.rules) };
const models = (rule: (typeof group.rules)[number]) => Object.fromEntries(rule.datas.map((data) => [data.refId, { ...data, model: JSON.parse(data.model) }]));
const silenceGroup = (service: string) => `${LOG_ALERT_GROUP}:${shardOf(service, SHARD_COUNTS.logSilence)}`;

test("atra-logs holds the stack-wide rules; each service's silence rule sits in atra-logs:<its shard>, with the uid it had in atra-logs", () => {
  expect(shardOf("api", SHARD_COUNTS.logSilence)).not.toBe(shardOf("nightly", SHARD_COUNTS.logSilence));
  // Shard groups in shard order.
  const silences = ["api", "nightly"]
    .map((service) => [silenceGroup(service), 60, [`${LOG_ALERTS.stoppedLogging} ${service}`]] as const)
    .sort(([a], [b]) => Number(a.split(":")[1]) - Number(b.split(":")[1]));
  expect(groups.map((g) => [g.name, g.intervalSeconds, g.rules.map((rule) => rule.name)])).toEqual([
    [LOG_ALERT_GROUP, 60, [LOG_ALERTS.errorsHigh, LOG_ALERTS.ingestFailures]],
    ...silences,
  ]);
  const uids = group.rules.map((rule) => rule.uid);
  expect(new Set(uids).size).toBe(uids.length);
  // The uids of the single group these rules shared before shards: Grafana moves a rule whose uid another group's PUT names.
  expect(group.rules.find((rule) => rule.name === `${LOG_ALERTS.stoppedLogging} api`)!.uid).toBe(ruleUid(LOG_ALERT_GROUP, `${LOG_ALERTS.stoppedLogging}/api`));
  expect(groups[0].rules.map((rule) => rule.uid)).toEqual([
    ruleUid(LOG_ALERT_GROUP, LOG_ALERTS.errorsHigh),
    ruleUid(LOG_ALERT_GROUP, LOG_ALERTS.ingestFailures),
  ]);
});

test("error rule: count of error lines per host and service over the window, summed, above the stack's threshold", () => {
  const [rule] = group.rules;
  const { A, TOTAL, ABOVE } = models(rule);
  expect(rule.condition).toBe("ABOVE");
  expect(A).toMatchObject({ datasourceUid: "es-uid", relativeTimeRange: { from: 600, to: 0 } });
  expect(A.model).toMatchObject({ query: ERROR_LINES_QUERY, timeField: "@timestamp", metrics: [{ type: "count" }] });
  expect(A.model.bucketAggs.map((agg: { type: string; field: string }) => [agg.type, agg.field])).toEqual([
    ["terms", "host.name"],
    ["terms", "service.name"],
    ["date_histogram", "@timestamp"],
  ]);
  expect(TOTAL.model).toMatchObject({ type: "reduce", expression: "A", reducer: "sum" });
  expect(ABOVE.model).toMatchObject({ type: "threshold", expression: "TOTAL", conditions: [{ evaluator: { type: "gt", params: [4] } }] });
  expect([rule.noDataState, rule.execErrState]).toEqual(["OK", "KeepLast"]);
  expect(rule.labels.service).toContain('"service.name"');
  expect(rule.labels.host).toBe('{{ index $labels "host.name" }}');
  expect(rule.annotations.summary).toContain('on {{ index $labels "host.name" }}');
  expect(rule.annotations.runbook_url).toBe("https://git.example/obs/blob/main/docs/runbook.md#servicelogerrorshigh");
});

test("silence rule: lines of that one service on this host over maxLogSilence, below one; no data alerts", () => {
  const rule = group.rules.find((r) => r.name === `${LOG_ALERTS.stoppedLogging} nightly`)!;
  const { A, SILENT } = models(rule);
  // This host's lines only: the same service on an agent host must not hide this one going quiet.
  expect(A.model.query).toBe('service.name:"nightly" AND host.name:"obs-1.example.internal"');
  expect(A.relativeTimeRange.from).toBe(26 * 3600);
  expect(A.model.bucketAggs.map((agg: { type: string }) => agg.type)).toEqual(["date_histogram"]);
  expect(SILENT.model).toMatchObject({ type: "threshold", expression: "TOTAL", conditions: [{ evaluator: { type: "lt", params: [1] } }] });
  // A failed search is not silence: it keeps the last state (grafana/grafana pkg/services/ngalert/state/state.go resultKeepLast).
  expect([rule.noDataState, rule.execErrState]).toEqual(["Alerting", "KeepLast"]);
  expect(rule.labels).toEqual({ severity: "warning", service: "nightly", host: "obs-1.example.internal" });
  // 26 h in 26-minute buckets: 60 buckets, far below Elasticsearch's search.max_buckets.
  expect(A.model.bucketAggs[0].settings.interval).toBe("26m");
});

test("histogram buckets: about 60 per window, never under a minute", () => {
  expect([histogramInterval(300), histogramInterval(3600), histogramInterval(3601), histogramInterval(60 * 86400)]).toEqual(["1m", "1m", "2m", "1440m"]);
});

test("every condition refers to nodes of its own rule", () => {
  for (const rule of group.rules) {
    const refIds = rule.datas.map((data) => data.refId);
    expect(refIds).toContain(rule.condition);
    for (const data of rule.datas) {
      const input = JSON.parse(data.model).expression;
      if (input !== undefined) expect(refIds).toContain(input);
    }
  }
});

// Grafana's PreSave copies the model's queryType onto the query (grafana
// pkg/services/ngalert/models/alert_query.go, setQueryType; a model without the key leaves the query's
// own value). If the two differ, what Grafana stores is not what the program sent, and rule group
// atra-logs shows a change on every `up`.
test("every query's queryType is what Grafana stores after copying the model's", () => {
  const asGrafanaSaves = (data: (typeof group.rules)[number]["datas"][number]) => {
    const model = JSON.parse(data.model) as Record<string, unknown>;
    if (!("queryType" in model)) return data.queryType;
    if (typeof model.queryType !== "string") throw new Error(`${data.refId}: Grafana refuses a non-string model queryType`);
    return model.queryType;
  };
  let elasticsearchQueries = 0;
  for (const rule of group.rules) {
    for (const data of rule.datas) {
      expect({ rule: rule.name, refId: data.refId, queryType: data.queryType }).toEqual({
        rule: rule.name,
        refId: data.refId,
        queryType: asGrafanaSaves(data),
      });
      if (data.datasourceUid === "es-uid") {
        elasticsearchQueries++;
        expect(data.queryType).toBe("lucene");
      }
    }
  }
  // Every rule has one Elasticsearch query; LogIngestFailures's is on the failure-store datasource.
  expect(elasticsearchQueries).toBe(group.rules.length - 1);
});

// ---------------------------------------------------------------------------------------------
// LogIngestFailures: documents in the failure store
// ---------------------------------------------------------------------------------------------

describe("LogIngestFailures (on the failure-store datasource)", () => {
  const rule = group.rules.find((r) => r.name === LOG_ALERTS.ingestFailures)!;

  test("counts failure documents over the window on the failure-store datasource and fires above zero", () => {
    const { A, TOTAL, FAILED } = models(rule);
    expect(rule.condition).toBe("FAILED");
    expect(A).toMatchObject({ datasourceUid: FAILURE_STORE_DATASOURCE.uid, queryType: "lucene", relativeTimeRange: { from: 600, to: 0 } });
    expect(A.model).toMatchObject({ query: "*", queryType: "lucene", timeField: "@timestamp", metrics: [{ type: "count" }] });
    expect(A.model.bucketAggs.map((agg: { type: string }) => agg.type)).toEqual(["date_histogram"]);
    expect(TOTAL.model).toMatchObject({ type: "reduce", expression: "A", reducer: "sum" });
    expect(FAILED.model).toMatchObject({ type: "threshold", expression: "TOTAL", conditions: [{ evaluator: { type: "gt", params: [0] } }] });
    expect([rule.noDataState, rule.execErrState]).toEqual(["OK", "KeepLast"]);
  });

  test("monitoring-mixin conventions: CamelCase name, severity, summary, description, runbook section", () => {
    expect(rule.name).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(rule.labels).toEqual({ severity: "warning" });
    expect(rule.annotations.summary).toContain("failure store");
    expect(rule.annotations.description).toMatch(/re-index/);
    expect(rule.annotations.runbook_url).toBe("https://git.example/obs/blob/main/docs/runbook.md#logingestfailures");
    const runbook = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "runbook.md"), "utf8");
    expect(runbook).toMatch(/^## LogIngestFailures$/m);
    // The runbook's recipe reads the failure store and replays into the data stream with op_type create.
    const section = runbook.slice(runbook.indexOf("## LogIngestFailures"));
    expect(section).toContain("::failures");
    expect(section).toContain('"op_type": "create"');
  });
});

/** Every `log.level:(...)` clause of a dashboard's queries (Lucene), and the panels that have one. */
function errorLevelClauses(dashboardJson: string): { panel: string; clause: string }[] {
  const found: { panel: string; clause: string }[] = [];
  const walk = (panels: { title?: string; panels?: unknown[]; targets?: { query?: string }[] }[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? [])
        for (const [clause] of (target.query ?? "").matchAll(/log\.level:\([^)]*\)/g)) found.push({ panel: panel.title ?? "", clause });
      walk((panel.panels ?? []) as typeof panels);
    }
  };
  walk((JSON.parse(dashboardJson) as { panels: [] }).panels);
  return found;
}

test("the Logs dashboard's error panels count exactly the levels ServiceLogErrorsHigh counts (fatal included)", () => {
  // One list: ERROR_LEVELS (components/logs/kibana-bodies.ts) makes ERROR_LINES_QUERY, the alert's query.
  const clauses = errorLevelClauses(fs.readFileSync(path.join(__dirname, "../../dashboards/logs.json"), "utf8"));
  expect(clauses.length).toBeGreaterThanOrEqual(4);
  for (const { panel, clause } of clauses) expect([panel, clause]).toEqual([panel, ERROR_LINES_QUERY]);
  expect(ERROR_LINES_QUERY).toContain("fatal");
});

test("silence rules wait two minutes past maxLogSilence: after a long Elasticsearch outage the first answered search may precede Filebeat's re-send (elastic/beats libbeat/outputs/elasticsearch/config.go: backoff.max 60s)", () => {
  const silence = group.rules.filter((rule) => rule.name.startsWith(LOG_ALERTS.stoppedLogging));
  expect(silence).toHaveLength(2);
  for (const rule of silence) expect(rule.for).toBe(SILENCE_CONFIRMATION);
  expect(SILENCE_CONFIRMATION).toBe("2m");
});

test("a large catalog's silence rules: a fixed number of groups, each well under 300 KiB, uids as in the single group, none moving as the catalog grows", () => {
  const catalog = (count: number) =>
    resolveStackConfig({
      stack: "dev",
      values: { services: Array.from({ length: count }, (_, i) => ({ name: `svc-${i}`, logs: [`/srv/svc-${i}/*.log`], maxLogSilence: "30m" })) },
      secretKeys: [],
    }).config;
  const context = { elasticsearchDatasourceUid: "es", failureStoreDatasourceUid: "es-f", interval: "1m", host: "obs-1" };
  const many = catalog(2000);
  const sharded = logAlertGroups(many.logs, many.services, context);
  // atra-logs keeps the stack-wide rules; 2,000 services fill every one of the 32 shard groups.
  expect(sharded[0].rules.map((rule) => rule.name)).toEqual([LOG_ALERTS.errorsHigh, LOG_ALERTS.ingestFailures]);
  expect(sharded.slice(1).map((g) => g.name)).toEqual(Array.from({ length: SHARD_COUNTS.logSilence }, (_, shard) => `${LOG_ALERT_GROUP}:${shard}`));
  const silences = sharded.flatMap((g) => g.rules).filter((rule) => rule.name.startsWith(LOG_ALERTS.stoppedLogging));
  expect(silences).toHaveLength(2000);
  expect(silences.find((rule) => rule.name === `${LOG_ALERTS.stoppedLogging} svc-7`)!.uid).toBe(ruleUid(LOG_ALERT_GROUP, `${LOG_ALERTS.stoppedLogging}/svc-7`));
  // Every service with maxLogSilence (four times the bench catalog's share): the largest group is still under half of 300 KiB.
  expect(Math.max(...sharded.map((g) => JSON.stringify(g).length))).toBeLessThan(150 * 1024);
  // Growing from 20 to 2,000 services moves no rule: each keeps the group it had (rule-shards.ts).
  const small = catalog(20);
  const groupOf = (list: typeof sharded) => new Map(list.flatMap((g) => g.rules.map((rule) => [rule.uid, g.name] as const)));
  const before = groupOf(logAlertGroups(small.logs, small.services, context));
  const after = groupOf(sharded);
  for (const [uid, name] of before) expect([uid, after.get(uid)]).toEqual([uid, name]);
});
