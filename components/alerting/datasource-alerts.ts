/**
 * One rule per datasource the alerts read, firing when that datasource has failed every query for
 * several minutes: "Prometheus not queryable for 5m", "Elasticsearch not queryable for 5m". Every other
 * rule keeps its last state while its datasource fails (EVALUATION_ERROR_STATE), so a Prometheus
 * replaced by `pulumi up` pages nobody, and one that stays away raises exactly this one alert.
 *
 * How it detects the failure, from grafana/grafana pkg/services/ngalert:
 *   - a query that cannot reach the datasource makes the whole evaluation one Error result without
 *     labels (eval/eval.go, evaluateExecutionResult -> NewResultFromError);
 *   - an all-error result is applied to every state the rule has (state/manager.go,
 *     setNextStateForRule -> setNextStateForAll), and this rule's healthy answer is one series
 *     without labels, so it has exactly one state;
 *   - with execErrState Alerting, resultError hands it to resultAlerting (state/state.go), which
 *     makes it Pending and Alerting only once `for` has passed since the first failure; one answered
 *     query in between makes it Normal again (resultNormal), so the failures must be consecutive.
 * Pending is never sent to the Alertmanager (state.go, NeedsSending): a short outage notifies nobody.
 */
import { durationMs } from "../lib/validators";
import { GrafanaRule, GrafanaRuleGroup, mathExpression, promqlRuleQueries, resolveRunbookUrl, ruleUid } from "./grafana-rules";
import { elasticsearchCount, reduceSum, threshold } from "./log-alerts";

export const DATASOURCE_ALERT_GROUP = "atra-datasources";
/** Alert names; each has a section in the runbook (its anchor is the lowercased name). */
export const DATASOURCE_ALERTS = { prometheus: "PrometheusNotQueryable", elasticsearch: "ElasticsearchNotQueryable" } as const;
/**
 * How long a datasource may fail before it is reported: a Prometheus or Elasticsearch container
 * replaced by `pulumi up` is back within a minute or two. At least two evaluations after the first
 * failure, for groups evaluated less often than every 2.5 minutes.
 */
export const NOT_QUERYABLE_FOR = "5m";
const RUNBOOK = "docs/runbook.md";

export interface DatasourceAlertContext {
  prometheusDatasourceUid: string;
  /** The logs datasource, when the logs stage is on. */
  elasticsearchDatasourceUid?: string;
  /** Interval of the group (Prometheus duration). */
  interval: string;
  runbookBaseUrl?: string;
}

export function datasourceAlertGroup(context: DatasourceAlertContext): GrafanaRuleGroup {
  const waitFor = notQueryableFor(context.interval);
  const rules = [prometheusRule(context, waitFor)];
  if (context.elasticsearchDatasourceUid) rules.push(elasticsearchRule(context.elasticsearchDatasourceUid, context, waitFor));
  return { name: DATASOURCE_ALERT_GROUP, intervalSeconds: durationMs(context.interval) / 1000, rules, source: "stack config (datasources)" };
}

/** NOT_QUERYABLE_FOR, or two evaluation intervals when that is longer, as a Prometheus duration. */
export function notQueryableFor(interval: string): string {
  const ms = Math.max(durationMs(NOT_QUERYABLE_FOR), 2 * durationMs(interval));
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

/**
 * `vector(1)` reads no series, so it answers from any Prometheus (or remote backend) that answers
 * queries at all, stored data or not. The condition `$A != 1` is false for that answer.
 */
function prometheusRule(context: DatasourceAlertContext, waitFor: string): GrafanaRule {
  const alert = DATASOURCE_ALERTS.prometheus;
  const [query] = promqlRuleQueries("vector(1)", context.prometheusDatasourceUid);
  return {
    uid: ruleUid(DATASOURCE_ALERT_GROUP, alert),
    name: alert,
    for: waitFor,
    condition: "UNANSWERED",
    datas: [query, mathExpression("UNANSWERED", "$A != 1")],
    // `vector(1)` always has one sample: no data means the datasource answers, but not as Prometheus.
    noDataState: "Alerting",
    // The one rule whose point is the error (see the file comment).
    execErrState: "Alerting",
    labels: { severity: "critical", datasource: "prometheus" },
    annotations: {
      summary: `Prometheus not queryable for ${waitFor}: Grafana cannot evaluate any alert on metrics`,
      description: `Every query of Grafana's Prometheus datasource has failed for ${waitFor} (the Error annotation says why). Meanwhile every alert on metrics, the SLO burn-rate pages included, keeps the state it had: nothing new fires, nothing resolves. Check the Prometheus container (or prometheus.external.queryUrl) and the datasource in Grafana.`,
      runbook_url: runbook(alert, context),
    },
    isPaused: false,
  };
}

/**
 * A count of every line of the data stream over the last 5 minutes. Zero lines, or no data stream yet,
 * is an answer (Grafana's searches ignore a missing index), so no data is OK here: a quiet cluster is
 * ServiceStoppedLogging's business, not this rule's. The threshold (count below 0) is never true.
 */
function elasticsearchRule(datasourceUid: string, context: DatasourceAlertContext, waitFor: string): GrafanaRule {
  const alert = DATASOURCE_ALERTS.elasticsearch;
  return {
    uid: ruleUid(DATASOURCE_ALERT_GROUP, alert),
    name: alert,
    for: waitFor,
    condition: "UNANSWERED",
    datas: [elasticsearchCount("A", "*", 300, datasourceUid, false), reduceSum("TOTAL", "A"), threshold("UNANSWERED", "TOTAL", "lt", 0)],
    noDataState: "OK",
    execErrState: "Alerting",
    labels: { severity: "warning", datasource: "elasticsearch" },
    annotations: {
      summary: `Elasticsearch not queryable for ${waitFor}: Grafana cannot evaluate the alerts on logs`,
      description: `Every search of Grafana's Elasticsearch logs datasource has failed for ${waitFor} (the Error annotation says why). Meanwhile the alerts on logs (ServiceLogErrorsHigh, ServiceStoppedLogging, LogIngestFailures) keep the state they had. Filebeat keeps its place in each file and retries, so lines written meanwhile arrive when it is back. Check the Elasticsearch container (or logs.external) and the datasource in Grafana.`,
      runbook_url: runbook(alert, context),
    },
    isPaused: false,
  };
}

/** The rule of alerts/stack.yml on Grafana's own failed rule evaluations. */
export const EVALUATION_FAILURE_ALERT = "GrafanaAlertRuleEvaluationFailing";
/** The refIds the guard adds to that rule; its condition becomes GUARDED. */
export const EVALUATION_FAILURE_GUARD = { search: "LOGS", total: "LOGS_TOTAL", condition: "GUARDED" } as const;

/**
 * An Elasticsearch outage makes every rule on logs fail each evaluation, and each failure counts in
 * grafana_alerting_rule_evaluation_failures_total (grafana/grafana
 * pkg/services/ngalert/schedule/alert_rule.go: `if err != nil || results.HasErrors() {
 * evalTotalFailures.Inc() }`), which GrafanaAlertRuleEvaluationFailing reads from Prometheus: it would
 * fire ten minutes into the outage, a second alert beside ElasticsearchNotQueryable. So, when the logs
 * stage is on, its evaluation is made to depend on the logs datasource answering, and, like every
 * rule but the datasource rules, it keeps its last state (KeepLast) while its evaluation fails.
 *
 * The condition itself has to depend on the search: Grafana makes an evaluation an Error only for the
 * error of the condition node or of a node it depends on (pkg/services/ngalert/eval/eval.go,
 * queryDataResponseToExecutionResults -> FindConditionError; pkg/expr/graph.go gives a node whose
 * input failed a DependencyError). A search beside the condition would be executed, fail, and
 * change nothing. So GUARDED = `$FIRING || ($LOGS_TOTAL < 0)`: a count is never below 0, so it is
 * FIRING's value; LOGS_TOTAL is one number without labels, which Grafana's math pairs with every
 * series of FIRING and keeps FIRING's labels (pkg/expr/mathexp/exp.go, union: "len(bLabels) == 0").
 * The rule stays a plain Prometheus rule in alerts/stack.yml (promtool and the real-Prometheus tests
 * run it as it is); the guard is added to its translation only.
 *
 * Limit: Grafana makes the whole evaluation NoData when any query returns no frames
 * (eval.go, queryDataResponseToExecutionResults and evaluateExecutionResult check NoData before the
 * condition), and the rule's noDataState is OK. A count over an existing data stream answers with
 * zero-filled buckets, but before the first line has created the data stream the search may answer
 * nothing, and the rule stays Normal until it exists.
 */
export function guardEvaluationFailureAlert(groups: GrafanaRuleGroup[], elasticsearchDatasourceUid: string | undefined): GrafanaRuleGroup[] {
  if (!elasticsearchDatasourceUid) return groups;
  return groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) => (rule.name === EVALUATION_FAILURE_ALERT ? dependOnLogs(rule, elasticsearchDatasourceUid) : rule)),
  }));
}

function dependOnLogs(rule: GrafanaRule, datasourceUid: string): GrafanaRule {
  const { search, total, condition } = EVALUATION_FAILURE_GUARD;
  return {
    ...rule,
    condition,
    datas: [
      ...rule.datas,
      elasticsearchCount(search, "*", 300, datasourceUid, false),
      reduceSum(total, search),
      mathExpression(condition, `$${rule.condition} || ($${total} < 0)`),
    ],
  };
}

function runbook(alert: string, context: DatasourceAlertContext): string {
  return resolveRunbookUrl(`${RUNBOOK}#${alert.toLowerCase()}`, context.runbookBaseUrl);
}
