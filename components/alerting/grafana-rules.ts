/**
 * Prometheus alerting rules as Grafana-managed rules, with the same meaning: the expression is an
 * instant query, the rule fires for every series it returns (whatever the sample value, as in
 * Prometheus), `for`/`keep_firing_for` are kept, no data means OK and an evaluation error alerts.
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
  noDataState: "OK" | "NoData" | "Alerting" | "KeepLast";
  execErrState: "OK" | "Error" | "Alerting" | "KeepLast";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  isPaused: boolean;
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

export function toGrafanaRuleGroups(groups: AlertGroupSource[], context: TranslationContext): GrafanaRuleGroup[] {
  return groups.map((group) => ({
    name: group.name,
    intervalSeconds: durationMs(group.interval ?? context.defaultInterval) / 1000,
    source: group.fileName,
    rules: group.rules.map((rule) => toGrafanaRule(group.name, rule, context)),
  }));
}

function toGrafanaRule(group: string, rule: AlertRuleSource, context: TranslationContext): GrafanaRule {
  return {
    uid: ruleUid(group, rule.alert),
    name: rule.alert,
    for: rule.for,
    ...(rule.keepFiringFor ? { keepFiringFor: rule.keepFiringFor } : {}),
    condition: "FIRING",
    datas: promqlRuleQueries(rule.expr, context.prometheusDatasourceUid),
    noDataState: "OK",
    execErrState: "Alerting",
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
  return {
    refId,
    datasourceUid: EXPRESSION_DATASOURCE_UID,
    queryType: "",
    relativeTimeRange: { from: 0, to: 0 },
    model: JSON.stringify({
      refId,
      datasource: { type: "__expr__", uid: EXPRESSION_DATASOURCE_UID },
      type: "math",
      expression: `is_number($${input}) || is_nan($${input}) || is_inf($${input})`,
    }),
  };
}

/**
 * A uid from group and alert name: stable across runs and file renames, unique per rule, within
 * Grafana's 40-character limit, and still readable in URLs.
 */
export function ruleUid(group: string, alert: string): string {
  const hash = createHash("sha256").update(`${group}\u0000${alert}`).digest("hex").slice(0, 10);
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
