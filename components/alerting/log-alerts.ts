/**
 * Alerts on the logs, built in code because their thresholds come from the stack config: a
 * service's error lines above the stack's threshold, and (per service, optional) a service that
 * stopped logging. Same shape and machinery as the rule-file alerts: Grafana rule groups (the
 * silences sharded by service, logAlertGroups).
 * Queries use Grafana's Elasticsearch datasource model (count, terms on `host.name` and `service.name`,
 * date_histogram), reduced over the window and compared with a threshold.
 */
import type { LogsConfig } from "../logs/config";
import type { ServiceConfig } from "../config/stack-config";
import { serviceLabels, ServiceIdentity } from "../catalog";
import { durationMs } from "../lib/validators";
import { EVALUATION_ERROR_STATE, EXPRESSION_DATASOURCE_UID, GrafanaRule, GrafanaRuleGroup, resolveRunbookUrl, RuleQuery, ruleUid } from "./grafana-rules";
import { ERROR_LEVELS } from "../logs/kibana-bodies";
import { SHARD_COUNTS, shardGroupName, shardServices } from "./rule-shards";

export const LOG_ALERT_GROUP = "atra-logs";
/** Alert names; each has a section in the runbook (its anchor is the lowercased name). */
export const LOG_ALERTS = { errorsHigh: "ServiceLogErrorsHigh", stoppedLogging: "ServiceStoppedLogging", ingestFailures: "LogIngestFailures" } as const;
const RUNBOOK = "docs/runbook.md";

export interface LogAlertContext {
  elasticsearchDatasourceUid: string;
  /**
   * A Grafana Elasticsearch datasource whose index is the data stream's failure store
   * (FAILURE_STORE_DATASOURCE in components/grafana), for LogIngestFailures. It must exist before the
   * group: Grafana validates a rule's condition when it is saved and resolves each query's datasource
   * on the way (grafana pkg/services/ngalert/eval, ConditionValidator.Validate -> getExprRequest).
   */
  failureStoreDatasourceUid: string;
  /** Interval of the group (Prometheus duration). */
  interval: string;
  /**
   * This stack's host label (`host.name` of its own shipper's lines). A silence rule watches the service
   * on this host only: a service of the same name on an agent host must not hide this one going quiet.
   */
  host: string;
  runbookBaseUrl?: string;
}

/**
 * Lucene query for error lines: the levels of ERROR_LEVELS, the one list that Kibana's saved search,
 * this alert and the Logs dashboard's error panels (dashboards/logs.json, held to this exact clause by
 * test/unit/log-alerts.test.ts) count.
 */
export const ERROR_LINES_QUERY = `log.level:(${ERROR_LEVELS.join(" OR ")})`;

/**
 * The stack-wide log alerts in `atra-logs`, and the services' silence alerts in groups by service
 * shard, `atra-logs:<shard>` among SHARD_COUNTS.logSilence (rule-shards.ts): a service's silence
 * rule stays in its group however the catalog grows or shrinks. A group is one provider resource and
 * one API body, re-sent whole when any of its rules changes: one group for every service's silence
 * grew with the catalog.
 *
 * The uids are those of the single group these rules used to share (ruleUid of LOG_ALERT_GROUP, the
 * alert and the service). On the first `up` after a stack had every silence rule in `atra-logs`, the
 * shard groups are created first (components/grafana/grafana-alerting.ts: a group depends on its shard
 * groups) and each one's PUT names its rules' uids, so Grafana moves those rules out of `atra-logs`
 * with their alert state instead of creating others (grafana/grafana
 * pkg/services/ngalert/store/deltas.go, calculateChanges: "Rule can be from other group or
 * namespace"); only then is `atra-logs` updated down to its stack-wide rules, with nothing left to
 * delete. After that, rules never move between groups.
 */
export function logAlertGroups(logs: LogsConfig, services: ServiceConfig[], context: LogAlertContext): GrafanaRuleGroup[] {
  const intervalSeconds = durationMs(context.interval) / 1000;
  const silent = services.filter((service) => service.maxLogSilence && service.logs?.length);
  return [
    {
      name: LOG_ALERT_GROUP,
      intervalSeconds,
      rules: [errorRateRule(logs, context), ingestFailuresRule(logs, context.failureStoreDatasourceUid, context)],
      source: "stack config (logs)",
    },
    ...shardServices(silent, (service) => service.name, SHARD_COUNTS.logSilence).map(({ shard, items }) => ({
      name: shardGroupName(LOG_ALERT_GROUP, shard),
      intervalSeconds,
      rules: items.map((service) => silenceRule(service, service.maxLogSilence as string, context)),
      source: "stack config (services[].maxLogSilence)",
    })),
  ];
}

function errorRateRule(logs: LogsConfig, context: LogAlertContext): GrafanaRule {
  const windowSeconds = durationMs(logs.errorRateWindow) / 1000;
  return {
    uid: ruleUid(LOG_ALERT_GROUP, LOG_ALERTS.errorsHigh),
    name: LOG_ALERTS.errorsHigh,
    for: "0s",
    condition: "ABOVE",
    datas: [
      elasticsearchCount("A", ERROR_LINES_QUERY, windowSeconds, context.elasticsearchDatasourceUid, true),
      reduceSum("TOTAL", "A"),
      threshold("ABOVE", "TOTAL", "gt", logs.errorRateThreshold),
    ],
    // No error line at all in the window is the healthy case. An unreachable Elasticsearch changes
    // nothing here (EVALUATION_ERROR_STATE); ElasticsearchNotQueryable reports it once.
    noDataState: "OK",
    execErrState: EVALUATION_ERROR_STATE,
    labels: { severity: "warning", service: '{{ index $labels "service.name" }}', host: '{{ index $labels "host.name" }}' },
    annotations: {
      summary: `{{ index $labels "service.name" }} on {{ index $labels "host.name" }} logged {{ $values.TOTAL.Value }} error lines in ${logs.errorRateWindow}`,
      description: `More than ${logs.errorRateThreshold} lines at level ${ERROR_LEVELS.join("/")} within ${logs.errorRateWindow} (logs.errorRateThreshold, logs.errorRateWindow). Open the Logs dashboard or Kibana's "Recent errors" search for the messages.`,
      runbook_url: runbook(LOG_ALERTS.errorsHigh, context),
    },
    isPaused: false,
  };
}

/** How long a silence must last beyond maxLogSilence before ServiceStoppedLogging fires. */
export const SILENCE_CONFIRMATION = "2m";

function silenceRule(identity: ServiceIdentity, maxSilence: string, context: LogAlertContext): GrafanaRule {
  const service = identity.name;
  const windowSeconds = durationMs(maxSilence) / 1000;
  const alert = LOG_ALERTS.stoppedLogging;
  return {
    uid: ruleUid(LOG_ALERT_GROUP, `${alert}/${service}`),
    // One rule per service: a silent service has no series to group by, so it needs its own query.
    name: `${alert} ${service}`,
    // Two minutes, not 0s: after an Elasticsearch outage longer than maxLogSilence, the first answered
    // search can come before Filebeat has re-sent its backlog (its Elasticsearch output backs off up to
    // backoff.max, 60s by default: elastic/beats libbeat/outputs/elasticsearch/config.go), and a `for`
    // of 0s would then page at once (grafana/grafana pkg/services/ngalert/state/state.go resultNoData /
    // resultAlerting). A service silent for maxLogSilence is still reported two minutes later.
    for: SILENCE_CONFIRMATION,
    condition: "SILENT",
    datas: [
      elasticsearchCount("A", `service.name:"${service}" AND host.name:"${context.host}"`, windowSeconds, context.elasticsearchDatasourceUid, false),
      reduceSum("TOTAL", "A"),
      threshold("SILENT", "TOTAL", "lt", 1),
    ],
    // No data here means no line at all (or no data stream yet): that is what this alert is for. A
    // failed search is not silence: it keeps the last state (EVALUATION_ERROR_STATE).
    noDataState: "Alerting",
    execErrState: EVALUATION_ERROR_STATE,
    // The service's labels (catalog.ts), as on its series: `service`, `host` and its metadata.
    labels: { severity: "warning", ...serviceLabels(identity, context.host) },
    annotations: {
      summary: `${service} on ${context.host} wrote no log line in ${maxSilence}`,
      description: `No line from ${service} on ${context.host} reached the log data stream within ${maxSilence} (services[].maxLogSilence). Either the service stopped, or shipping broke: check the service, then the shipper.`,
      runbook_url: runbook(alert, context),
    },
    isPaused: false,
  };
}

/**
 * Fires when any document went to the failure store within the window: a line the mapping still
 * refused (or the pipeline failed on). Nothing is lost (the failure store keeps it 30 days by
 * default), but it is not in the logs either until someone re-indexes it (runbook).
 */
function ingestFailuresRule(logs: LogsConfig, datasourceUid: string, context: LogAlertContext): GrafanaRule {
  const windowSeconds = durationMs(logs.errorRateWindow) / 1000;
  const alert = LOG_ALERTS.ingestFailures;
  return {
    uid: ruleUid(LOG_ALERT_GROUP, alert),
    name: alert,
    for: "0s",
    condition: "FAILED",
    datas: [elasticsearchCount("A", "*", windowSeconds, datasourceUid, false), reduceSum("TOTAL", "A"), threshold("FAILED", "TOTAL", "gt", 0)],
    // No failure document in the window (or no failure index yet: it is created with the first
    // failure, and Grafana's searches ignore a missing index) is the healthy case.
    noDataState: "OK",
    execErrState: EVALUATION_ERROR_STATE,
    labels: { severity: "warning" },
    annotations: {
      summary: `{{ $values.TOTAL.Value }} log documents went to the failure store in ${logs.errorRateWindow}`,
      description: `Elasticsearch refused documents of the log data stream (mapping conflict or pipeline failure) and kept them in its failure store (<data stream>::failures) instead of the logs. They are not lost, but not searchable with the logs until re-indexed. Inspect error.type and error.message of the failure documents, fix the cause, then re-index them (runbook).`,
      runbook_url: runbook(alert, context),
    },
    isPaused: false,
  };
}

/** The Elasticsearch datasource's query language for `query` (Lucene syntax). */
const LUCENE_QUERY_TYPE = "lucene";

/**
 * Count of matching lines over the window, in date buckets; split per host and service when
 * `byService`. Nested terms give one series per pair: Grafana's Elasticsearch backend labels each
 * series with every terms bucket's key under its field's name, the innermost date_histogram making
 * the series (grafana/grafana pkg/tsdb/elasticsearch/response_parser.go, processBuckets and
 * processMetrics), so the rule's alerts carry both `host.name` and `service.name`.
 */
export function elasticsearchCount(refId: string, query: string, windowSeconds: number, datasourceUid: string, byService: boolean): RuleQuery {
  const terms = (id: string, field: string) => ({ id, type: "terms", field, settings: { size: "500", order: "desc", orderBy: "_count", min_doc_count: "1" } });
  const bucketAggs = [
    ...(byService ? [terms("4", "host.name"), terms("2", "service.name")] : []),
    { id: "3", type: "date_histogram", field: "@timestamp", settings: { interval: histogramInterval(windowSeconds), min_doc_count: "0", trimEdges: "0" } },
  ];
  return {
    refId,
    datasourceUid,
    // Grafana copies the model's queryType onto the query when it saves the rule (grafana
    // pkg/services/ngalert/models/alert_query.go: PreSave calls setQueryType), and the provider
    // compares query_type as a plain string (terraform-provider-grafana
    // internal/resources/grafana/resource_alerting_rule_group.go, packRuleData): both must say the same.
    queryType: LUCENE_QUERY_TYPE,
    relativeTimeRange: { from: windowSeconds, to: 0 },
    model: JSON.stringify({
      refId,
      datasource: { type: "elasticsearch", uid: datasourceUid },
      query,
      queryType: LUCENE_QUERY_TYPE,
      alias: "",
      metrics: [{ id: "1", type: "count" }],
      bucketAggs,
      timeField: "@timestamp",
      intervalMs: 60_000 * Number.parseInt(histogramInterval(windowSeconds), 10),
      maxDataPoints: 43200,
    }),
  };
}

/**
 * About 60 buckets over the window, in whole minutes: the sum is the same, and a long window (a
 * nightly job's silence of a day or more) stays far below Elasticsearch's search.max_buckets.
 */
export function histogramInterval(windowSeconds: number): string {
  return `${Math.max(1, Math.ceil(windowSeconds / 60 / 60))}m`;
}

export function reduceSum(refId: string, input: string): RuleQuery {
  return expression(refId, { type: "reduce", expression: input, reducer: "sum", settings: { mode: "" } });
}

export function threshold(refId: string, input: string, type: "gt" | "lt", value: number): RuleQuery {
  return expression(refId, { type: "threshold", expression: input, conditions: [{ evaluator: { type, params: [value] } }] });
}

function expression(refId: string, model: Record<string, unknown>): RuleQuery {
  return {
    refId,
    datasourceUid: EXPRESSION_DATASOURCE_UID,
    queryType: "",
    relativeTimeRange: { from: 0, to: 0 },
    model: JSON.stringify({ refId, datasource: { type: "__expr__", uid: EXPRESSION_DATASOURCE_UID }, ...model }),
  };
}

function runbook(alert: string, context: LogAlertContext): string {
  return resolveRunbookUrl(`${RUNBOOK}#${alert.toLowerCase()}`, context.runbookBaseUrl);
}
