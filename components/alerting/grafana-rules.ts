/**
 * Prometheus alerting rules as Grafana-managed rules, with the same meaning: the expression is an
 * instant query, the rule fires for every series it returns (whatever the sample value, as in
 * Prometheus), `for`/`keep_firing_for` are kept, no data means OK, a failed evaluation changes no
 * alert (KeepLast, see EVALUATION_ERROR_STATE) and a vanished series resolves at the next evaluation.
 * Pure: the output is plain data in the shape of `grafana.alerting.RuleGroup`'s args.
 */
import { createHash } from "crypto";
import type { AlertGroupSource, AlertRuleSource } from "./rule-files";
import { durationMs } from "../lib/validators";

/** One query or expression node of a Grafana rule (`datas` in the provider). */
export interface RuleQuery {
  refId: string;
  datasourceUid: string;
  queryType: string;
  relativeTimeRange: { from: number; to: number };
  /** JSON text, as the Grafana API and provider take it. */
  model: string;
}

export interface GrafanaRule {
  uid: string;
  name: string;
  for: string;
  keepFiringFor?: string;
  condition: string;
  datas: RuleQuery[];
  /** "" on a recording rule (`record`), which the provider refuses to combine with a state. */
  noDataState: "OK" | "NoData" | "Alerting" | "KeepLast" | "";
  execErrState: "OK" | "Error" | "Alerting" | "KeepLast" | "";
  /** Evaluations a series may be missing before its alert resolves (Grafana's default is 2). */
  missingSeriesEvalsToResolve?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  isPaused: boolean;
  /** A Grafana-managed recording rule: query `from` written as `metric` to the target datasource (components/slo). */
  record?: { metric: string; from: string; targetDatasourceUid: string };
}

export interface GrafanaRuleGroup {
  name: string;
  intervalSeconds: number;
  rules: GrafanaRule[];
  /** Where the group came from, for the plan and for error messages. */
  source: string;
}

export interface TranslationContext {
  prometheusDatasourceUid: string;
  /** Interval of groups that set none (Prometheus duration). */
  defaultInterval: string;
  /** Prefix for repo-relative runbook URLs; relative ones are kept as they are when unset. */
  runbookBaseUrl?: string;
}

/** Grafana's server-side expressions are addressed by this pseudo-datasource. */
export const EXPRESSION_DATASOURCE_UID = "__expr__";
/** Instant queries look at the evaluation moment; the window only bounds what the datasource may read. */
const QUERY_WINDOW_SECONDS = 600;

/**
 * What a failed evaluation (the datasource unreachable, restarting, timing out) does to a rule's
 * alerts: nothing. In Grafana's state manager (grafana/grafana pkg/services/ngalert/state/manager.go,
 * setNextStateForRule) an all-error result is applied to every state the rule already has
 * (setNextStateForAll); an error result carries no labels (pkg/services/ngalert/eval/eval.go,
 * NewResultFromError), so a rule whose healthy answer is "no data" has exactly one such state, and
 * state.go resultError then decides:
 *   - Alerting: resultAlerting, which with `for: 0s` fires at once, with the labels of that state and
 *     no values (SetNextValues puts -1 in every value): a page that says the service is down;
 *   - Error: SetError at the first failure, sent as a separate `DatasourceError` alert per rule
 *     (state/compat.go errorAlert): as many alerts as rules, at the first failure;
 *   - OK: resultNormal, which resolves an alert that was firing;
 *   - KeepLast: resultKeepLast, which keeps Normal normal and Alerting alerting (a Pending one still
 *     fires when its `for` is over). That is Prometheus's own behaviour, whose failed rule
 *     evaluation leaves its alerts as they were (prometheus/prometheus rules/group.go, Eval).
 * A datasource that stays unreachable is reported once, by the rule of datasource-alerts.ts.
 */
export const EVALUATION_ERROR_STATE = "KeepLast" as const;
/**
 * Prometheus resolves an alert at the first evaluation that no longer returns its series; Grafana
 * waits for 2 missing evaluations unless told otherwise (pkg/services/ngalert/models/alert_rule.go,
 * GetMissingSeriesEvalsToResolve; state/manager.go processMissingSeriesStates). The provider sends
 * and reads it back as set when it is at least 1 (terraform-provider-grafana
 * internal/resources/grafana/resource_alerting_rule_group.go, packAlertRule/unpackAlertRule).
 */
export const PROMETHEUS_MISSING_SERIES_EVALS = 1;

export function toGrafanaRuleGroups(groups: AlertGroupSource[], context: TranslationContext): GrafanaRuleGroup[] {
  return groups.map((group) => {
    const uids = ruleFileUids(group.name, group.rules);
    return {
      name: group.name,
      intervalSeconds: durationMs(group.interval ?? context.defaultInterval) / 1000,
      source: group.fileName,
      rules: group.rules.map((rule, index) => toGrafanaRule(uids[index], rule, context)),
    };
  });
}

function toGrafanaRule(uid: string, rule: AlertRuleSource, context: TranslationContext): GrafanaRule {
  return {
    uid,
    name: rule.alert,
    for: rule.for,
    ...(rule.keepFiringFor ? { keepFiringFor: rule.keepFiringFor } : {}),
    condition: "FIRING",
    datas: promqlRuleQueries(rule.expr, context.prometheusDatasourceUid),
    noDataState: "OK",
    execErrState: EVALUATION_ERROR_STATE,
    missingSeriesEvalsToResolve: PROMETHEUS_MISSING_SERIES_EVALS,
    labels: Object.fromEntries(Object.entries(rule.labels).map(([name, text]) => [name, translateTemplate(text)])),
    annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([name, text]) => [
        name,
        name === "runbook_url" ? resolveRunbookUrl(text, context.runbookBaseUrl) : translateTemplate(text),
      ]),
    ),
    isPaused: false,
  };
}

/**
 * Query A is the expression, evaluated as an instant query. Prometheus fires for every series an
 * alerting expression returns, including a value of 0 (`up == 0` returns zeros), so the condition
 * is a math expression true for any sample at all, rather than a threshold on the value.
 */
export function promqlRuleQueries(expr: string, datasourceUid: string): RuleQuery[] {
  return [
    {
      refId: "A",
      datasourceUid,
      queryType: "",
      relativeTimeRange: { from: QUERY_WINDOW_SECONDS, to: 0 },
      model: JSON.stringify({
        refId: "A",
        datasource: { type: "prometheus", uid: datasourceUid },
        expr,
        instant: true,
        range: false,
        intervalMs: 1000,
        maxDataPoints: 43200,
      }),
    },
    alwaysFiringCondition("FIRING", "A"),
  ];
}

/** The condition node: 1 for every series of `input`, whatever its value (NaN and ±Inf included). */
export function alwaysFiringCondition(refId: string, input: string): RuleQuery {
  return mathExpression(refId, `is_number($${input}) || is_nan($${input}) || is_inf($${input})`);
}

/** A server-side math expression node (Grafana's `__expr__` pseudo-datasource). */
export function mathExpression(refId: string, expression: string): RuleQuery {
  return {
    refId,
    datasourceUid: EXPRESSION_DATASOURCE_UID,
    queryType: "",
    relativeTimeRange: { from: 0, to: 0 },
    model: JSON.stringify({ refId, datasource: { type: "__expr__", uid: EXPRESSION_DATASOURCE_UID }, type: "math", expression }),
  };
}

/**
 * The uids of one group's rules from a rule file. Prometheus requires neither unique alert names in
 * a group nor anywhere else (the node-exporter mixin has warning/critical pairs of one name), and
 * Grafana has not required unique titles since grafana/grafana#102067 (nor has the provider since
 * terraform-provider-grafana#2323, which kept only the uid check in putAlertRuleGroup). So:
 *   - a name used once in its group: from (group, name), as always, so existing rules keep their
 *     uid and a rule keeps it through any edit but a rename;
 *   - a name used several times: from (group, name, labels), the labels after the group's are
 *     merged in. Rules that share a name in Prometheus differ by their labels (else they make the same
 *     alerts), so each keeps its uid when its expression, `for` or annotations are edited. Adding a
 *     second rule of a name moves the first to this form: one replacement in Grafana, nothing else;
 *   - the same name and the same labels (identical alerts, which Prometheus allows): the ordinal
 *     among those, counted in file order, as nothing else tells them apart.
 * Never from the file name, so a renamed file keeps its uids.
 */
export function ruleFileUids(group: string, rules: readonly Pick<AlertRuleSource, "alert" | "labels">[]): string[] {
  const uses = new Map<string, number>();
  for (const rule of rules) uses.set(rule.alert, (uses.get(rule.alert) ?? 0) + 1);
  const seen = new Map<string, number>();
  return rules.map((rule) => {
    if (uses.get(rule.alert) === 1) return ruleUid(group, rule.alert);
    const labels = Object.entries(rule.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join(",");
    const ordinal = (seen.get(labels + "\u0000" + rule.alert) ?? 0) + 1;
    seen.set(labels + "\u0000" + rule.alert, ordinal);
    return ruleUid(group, rule.alert, ordinal === 1 ? `{${labels}}` : `{${labels}}#${ordinal}`);
  });
}

/**
 * A uid from group and alert name (and what else tells same-named rules apart): stable across runs
 * and file renames, unique per rule, within Grafana's 40-character limit, and still readable in URLs.
 */
export function ruleUid(group: string, alert: string, discriminator?: string): string {
  const identity = discriminator === undefined ? `${group}\u0000${alert}` : `${group}\u0000${alert}\u0000${discriminator}`;
  const hash = createHash("sha256").update(identity).digest("hex").slice(0, 10);
  const readable = alert
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 24)
    .replace(/-+$/, "");
  return `${readable || "rule"}-${hash}`;
}

/** Template constructs Prometheus has and Grafana's alert templating does not. */
const PROMETHEUS_ONLY = [
  { pattern: /\bquery\s+"/, what: "the `query` function" },
  { pattern: /\$externalLabels|\.ExternalLabels/, what: "external labels" },
  { pattern: /\$externalURL|\.ExternalURL/, what: "the external URL" },
];

/** Why a label or annotation template cannot be carried over to Grafana, if it cannot. */
export function templateProblems(text: string): string[] {
  const problems = PROMETHEUS_ONLY.filter(({ pattern }) => pattern.test(text)).map(({ what }) => `uses ${what}, which Grafana's alert templates do not have`);
  if ((text.match(/\{\{/g) ?? []).length !== (text.match(/\}\}/g) ?? []).length) problems.push("has unbalanced {{ }}");
  return problems;
}

/**
 * Prometheus annotation templating to Grafana's: `$labels` is the same in both; Prometheus's
 * `$value` (the sample value) is `$values.A.Value` in Grafana, where `$value` is a debug string of
 * every query's values. The dot forms `.Labels` and `.Value` are rewritten the same way.
 */
export function translateTemplate(text: string): string {
  return text.replace(/\{\{-?[\s\S]*?-?\}\}/g, (action) =>
    action
      .replace(/\$value\b(?!s)/g, "$values.A.Value")
      .replace(/(^|[\s({])\.Labels\b/g, "$1$labels")
      .replace(/(^|[\s({])\.Value\b/g, "$1$values.A.Value"),
  );
}

/** A repo-relative runbook link (`docs/runbook.md#x`) becomes absolute when a base URL is configured. */
export function resolveRunbookUrl(value: string, baseUrl: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || !baseUrl) return value;
  return `${baseUrl.replace(/\/+$/, "")}/${value.replace(/^\.?\/+/, "")}`;
}
