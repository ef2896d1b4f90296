/**
 * Pure renderers of the SLO room: from the catalog's `slo` entries to
 * - the Prometheus recording rules (one rule file, evaluated by Prometheus itself): each SLO's error
 *   ratio over 5m, 30m, 1h, 2h, 6h, 1d, 3d and its window, its objective, its error budget and the
 *   budget left over the window;
 * - the multiwindow, multi-burn-rate alerts on those ratios (SRE Workbook ch. 5, iteration 6), as
 *   PromQL expressions shared by the Grafana-managed rule group and the promtool test wrapper.
 *
 * Names follow the Prometheus recording-rule convention `level:metric:operations` (prometheus/docs
 * content/docs/practices/rules.md): level `service_slo` (the output's labels are `service` and `slo`),
 * metric `slo_errors_per_request` (the Workbook's own name; a health probe counts as a request), and
 * operations `ratio_rate<window>` ("when taking a ratio ... call the operation ratio"). The rules
 * aggregate `by (service)`, not by `job` as that page advises: an SLI's series come from different
 * jobs (the probe job, the service's scrape job), and `service` is the catalog's key on all of them.
 */
import * as yaml from "js-yaml";
import type { ServiceConfig } from "../config/stack-config";
import {
  EVALUATION_ERROR_STATE,
  GrafanaRule,
  GrafanaRuleGroup,
  PROMETHEUS_MISSING_SERIES_EVALS,
  promqlRuleQueries,
  resolveRunbookUrl,
  ruleUid,
} from "../alerting/grafana-rules";
import { durationMs } from "../lib/validators";
import { STACK_SERVICES } from "../stack-services";
import { serviceLabels } from "../catalog";
import { BURN_RATE_ALERTS, RATIO_WINDOWS, SLO_DEFAULTS } from "./config";

export type SloKind = "availability" | "latency";
export type SliSource = "probe" | "requests" | "histogram";

export interface SloDefinition {
  service: string;
  /** The service's labels (catalog.ts: `service` and its metadata; no `host`, an SLO spans every host), on its recorded series and alerts. */
  labels: Record<string, string>;
  slo: SloKind;
  /** Percentage, as configured (99.9). */
  objective: number;
  /** The error budget as a ratio (0.001 for 99.9%). */
  budget: number;
  window: string;
  source: SliSource;
  /** The share of bad events over a range, as PromQL, labelled `service`. */
  errorRatio: (range: string) => string;
  /** What a bad event is, for people (alert descriptions, the dashboard). */
  badEvents: string;
}

export const RECORDED = {
  errorRatio: (range: string) => `service_slo:slo_errors_per_request:ratio_rate${range}`,
  objective: "service_slo:slo_objective:ratio",
  budget: "service_slo:slo_error_budget:ratio",
  budgetRemaining: "service_slo:slo_error_budget_remaining:ratio",
} as const;

export const SLO_ALERTS = { page: "SLOErrorBudgetFastBurn", ticket: "SLOErrorBudgetSlowBurn" } as const;
export const SLO_ALERT_GROUP = "atra-slo";
export const SLO_RULE_GROUPS = { short: "atra-slo-ratios", long: "atra-slo-ratios-long" } as const;
/** Where the rule file sits in the Prometheus container, next to prometheus.yml. */
export const SLO_RULE_FILE_PATH = "/etc/prometheus/rules/slo.yml";
const RUNBOOK = "docs/runbook.md";
/** Windows of a day and more are evaluated at most once a minute: each evaluation reads every sample of the window. */
const LONG_GROUP_MIN_INTERVAL = "1m";

/** Every SLO of the catalog, defaults filled in, in catalog order (availability before latency). */
export function sloDefinitions(services: readonly ServiceConfig[]): SloDefinition[] {
  return services.flatMap((service) => {
    const slo = service.slo;
    if (!slo) return [];
    const window = slo.window ?? SLO_DEFAULTS.window;
    const selector = `service="${service.name}"`;
    const found: SloDefinition[] = [];
    // What every objective of this service shares: who, which kind, the objective, its budget and window.
    const objectiveOf = (kind: SloDefinition["slo"], objective: number) => ({
      service: service.name,
      labels: serviceLabels(service),
      slo: kind,
      objective,
      budget: budgetOf(objective),
      window,
    });
    if (slo.availability !== undefined) {
      if (service.health) {
        const probe = `probe_success{job="${STACK_SERVICES.blackboxExporter.probeJob}", ${selector}}`;
        found.push({
          ...objectiveOf("availability", slo.availability),
          source: "probe",
          // Success ratio of the probes in the range: their sum over their count (each sample 0 or 1).
          errorRatio: (range) => `1 - (sum by (service) (sum_over_time(${probe}[${range}])) / sum by (service) (count_over_time(${probe}[${range}])))`,
          badEvents: "failed health probes",
        });
      } else {
        const total = slo.requests?.total ?? SLO_DEFAULTS.requestsTotal;
        const errors = slo.requests?.errors ?? SLO_DEFAULTS.requestsErrors;
        const all = (range: string) => `sum by (service) (rate(${total}{${selector}}[${range}]))`;
        found.push({
          ...objectiveOf("availability", slo.availability),
          source: "requests",
          // Client libraries create a labelled series at its first observation: before the first
          // error there is no error series at all, which must read as 0 errors, not as no data.
          errorRatio: (range) => `(sum by (service) (rate(${total}{${selector}, ${errors}}[${range}])) or 0 * ${all(range)}) / ${all(range)}`,
          badEvents: `failed requests (${total}{${errors}})`,
        });
      }
    }
    if (slo.latency) {
      const bucket = `${slo.latency.histogram ?? SLO_DEFAULTS.histogram}_bucket`;
      const le = leMatcher(slo.latency.thresholdSeconds);
      found.push({
        ...objectiveOf("latency", slo.latency.objective),
        source: "histogram",
        errorRatio: (range) =>
          `1 - (sum by (service) (rate(${bucket}{${selector}, ${le}}[${range}])) / sum by (service) (rate(${bucket}{${selector}, le="+Inf"}[${range}])))`,
        badEvents: `requests slower than ${slo.latency.thresholdSeconds}s`,
      });
    }
    return found;
  });
}

/** 1 - objective as a ratio, without binary noise (99.9 gives 0.001, not 0.0010000000000000009). */
function budgetOf(objectivePercent: number): number {
  return Number((1 - objectivePercent / 100).toPrecision(12));
}

/**
 * The bucket whose upper bound is the threshold. Its `le` value is the client's formatting of the
 * bound ("1" from the Go client, "1.0" from the Python client), which Prometheus 3 normalises to a
 * float form ("1.0") at ingestion (prometheus/prometheus docs/migration.md, "le and quantile label
 * values"), while 2.x keeps what the text format said: match every form.
 */
export function leMatcher(thresholdSeconds: number): string {
  const text = String(thresholdSeconds);
  const [whole, fraction] = text.split(".");
  const pattern = fraction === undefined ? `${whole}(\\\\.0+)?` : `${whole}\\\\.${fraction}0*`;
  return `le=~"${pattern}"`;
}

/** The ranges an SLO keeps a ratio for: the fixed ones and its window (once). */
export function ratioRanges(slo: Pick<SloDefinition, "window">): string[] {
  return [...RATIO_WINDOWS, ...((RATIO_WINDOWS as readonly string[]).includes(slo.window) ? [] : [slo.window])];
}

interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}
export interface RecordingRuleGroup {
  name: string;
  interval?: string;
  rules: RecordingRule[];
}

const SHORT_RANGES = new Set(["5m", "30m", "1h", "2h", "6h"]);

/**
 * Two groups: the short ranges at the global evaluation interval (the page alerts read them), the
 * ranges of a day and more (and what is derived from the window's ratio) at most once a minute.
 */
export function sloRecordingGroups(slos: readonly SloDefinition[], evaluationInterval: string): RecordingRuleGroup[] {
  const short: RecordingRule[] = [];
  const long: RecordingRule[] = [];
  for (const slo of slos) {
    // `service` too, though the expression keeps it: two rules with the same name and static labels are duplicates to promtool.
    const labels = { ...slo.labels, slo: slo.slo };
    for (const range of ratioRanges(slo)) {
      (SHORT_RANGES.has(range) ? short : long).push({ record: RECORDED.errorRatio(range), expr: slo.errorRatio(range), labels });
    }
    const identity = `service="${slo.service}", slo="${slo.slo}"`;
    const withWindow = { ...labels, window: slo.window };
    long.push(
      { record: RECORDED.objective, expr: `vector(${budgetOf(100 - slo.objective)})`, labels: withWindow },
      { record: RECORDED.budget, expr: `vector(${slo.budget})`, labels },
      // Budget left over the window: 1 with no error, 0 when the window's errors used it all, negative beyond.
      {
        record: RECORDED.budgetRemaining,
        expr: `1 - ${RECORDED.errorRatio(slo.window)}{${identity}} / ${slo.budget}`,
        labels: withWindow,
      },
    );
  }
  const longInterval = durationMs(evaluationInterval) < durationMs(LONG_GROUP_MIN_INTERVAL) ? LONG_GROUP_MIN_INTERVAL : undefined;
  return [
    { name: SLO_RULE_GROUPS.short, rules: short },
    { name: SLO_RULE_GROUPS.long, ...(longInterval ? { interval: longInterval } : {}), rules: long },
  ];
}

export function renderSloRuleFile(slos: readonly SloDefinition[], evaluationInterval: string): string {
  const header =
    "# Rendered by atra-observability from the catalog's `slo` entries (components/slo). Do not edit: change the stack config.\n" +
    "# Recording rules only: the burn-rate alerts are Grafana-managed rules (group atra-slo) querying these series.\n";
  return `${header}${yaml.dump({ groups: sloRecordingGroups(slos, evaluationInterval) }, { lineWidth: -1, noRefs: true })}`;
}

export interface BurnRateAlert {
  alert: string;
  severity: "critical" | "warning";
  /** PromQL whose value is the budget left over the window; returns a series while the alert condition holds. */
  expr: string;
  /** Summary and description with `{{ VALUE }}` where the value (the budget left) goes. */
  summary: string;
  description: string;
}

/** The page and the ticket alert of one SLO. */
export function burnRateAlerts(slo: SloDefinition): BurnRateAlert[] {
  const identity = `{service="${slo.service}", slo="${slo.slo}"}`;
  const condition = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    pairs
      .map(
        ({ factor, long, short }) =>
          `(${RECORDED.errorRatio(long)}${identity} > (${factor} * ${slo.budget}) and ${RECORDED.errorRatio(short)}${identity} > (${factor} * ${slo.budget}))`,
      )
      .join("\n  or\n  ");
  const expr = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    `${RECORDED.budgetRemaining}${identity}\nand on (service, slo)\n(\n  ${condition(pairs)}\n)`;
  const what = `the ${slo.slo} SLO of ${slo.service} (${slo.objective}% over ${slo.window}; bad events: ${slo.badEvents})`;
  const pairsText = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    pairs.map(({ factor, long, short }) => `more than ${factor}x over ${long} (and still over ${short})`).join(", or ");
  const exhaustion = (factor: number) => humanDuration(durationMs(slo.window) / factor);
  return [
    {
      alert: SLO_ALERTS.page,
      severity: "critical",
      expr: expr(BURN_RATE_ALERTS.page),
      summary: `${slo.service} burns its ${slo.slo} error budget fast: {{ VALUE }} of the ${slo.window} budget left`,
      description: `Bad events of ${what} arrive faster than the error budget allows: ${pairsText(BURN_RATE_ALERTS.page)} the sustainable rate. At 14.4x the whole ${slo.window} budget is gone in ${exhaustion(14.4)}. Error budget left over ${slo.window}: {{ VALUE }}.`,
    },
    {
      alert: SLO_ALERTS.ticket,
      severity: "warning",
      expr: expr(BURN_RATE_ALERTS.ticket),
      summary: `${slo.service} burns its ${slo.slo} error budget steadily: {{ VALUE }} of the ${slo.window} budget left`,
      description: `Bad events of ${what} arrive faster than the error budget allows: ${pairsText(BURN_RATE_ALERTS.ticket)} the sustainable rate. At 3x the whole ${slo.window} budget is gone in ${exhaustion(3)}. Error budget left over ${slo.window}: {{ VALUE }}.`,
    },
  ];
}

function humanDuration(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 48 ? `${Number((hours / 24).toFixed(1))} days` : `${Number(hours.toFixed(1))} hours`;
}

export interface SloAlertContext {
  prometheusDatasourceUid: string;
  /** Interval of the group (Prometheus duration). */
  interval: string;
  runbookBaseUrl?: string;
}

/**
 * The burn-rate alerts as one Grafana-managed group, one rule per SLO and severity, querying the
 * recording rules through the Prometheus datasource. Query A's value is the budget left, which the
 * annotations show (`$values.A.Value`, the same form translateTemplate gives rule-file alerts).
 */
export function sloAlertGroup(slos: readonly SloDefinition[], context: SloAlertContext): GrafanaRuleGroup {
  const rules: GrafanaRule[] = slos.flatMap((slo) =>
    burnRateAlerts(slo).map((alert) => ({
      uid: ruleUid(SLO_ALERT_GROUP, `${alert.alert}/${slo.service}/${slo.slo}`),
      // One rule per SLO: the title is unique in the folder and says which.
      name: `${alert.alert} ${slo.service} ${slo.slo}`,
      // No `for`, as the SRE Workbook's iteration 6: the short window already makes the alert wait
      // for errors to continue, and the page must come within minutes of a full outage. A `for`
      // would only guard against failed evaluations, which no longer fire (below).
      for: "0s",
      condition: "FIRING",
      datas: promqlRuleQueries(alert.expr, context.prometheusDatasourceUid),
      // No data is the healthy case (no series while the condition is false). A failed evaluation
      // (Prometheus replaced by `pulumi up`, restarting, timing out) keeps the last state instead of
      // paging with empty labels and a -1 value (EVALUATION_ERROR_STATE); PrometheusNotQueryable
      // reports a Prometheus that stays unreachable.
      noDataState: "OK" as const,
      execErrState: EVALUATION_ERROR_STATE,
      missingSeriesEvalsToResolve: PROMETHEUS_MISSING_SERIES_EVALS,
      labels: { severity: alert.severity, ...slo.labels, slo: slo.slo },
      annotations: {
        summary: alert.summary.replaceAll("{{ VALUE }}", "{{ humanizePercentage $values.A.Value }}"),
        description: alert.description.replaceAll("{{ VALUE }}", "{{ humanizePercentage $values.A.Value }}"),
        error_budget_remaining: "{{ humanizePercentage $values.A.Value }}",
        runbook_url: resolveRunbookUrl(`${RUNBOOK}#${alert.alert.toLowerCase()}`, context.runbookBaseUrl),
      },
      isPaused: false,
    })),
  );
  return { name: SLO_ALERT_GROUP, intervalSeconds: durationMs(context.interval) / 1000, rules, source: "stack config (services[].slo)" };
}

/**
 * Test-only: the same alert expressions as Prometheus alerting rules, so promtool can unit-test when
 * they fire (Grafana evaluates them in production; the PromQL is the same text).
 */
export function renderPromtoolAlertFile(slos: readonly SloDefinition[]): string {
  const rules = slos.flatMap((slo) =>
    burnRateAlerts(slo).map((alert) => ({
      alert: alert.alert,
      expr: alert.expr,
      // No annotations: promtool compares them exactly, and they are Grafana's templates in production.
      labels: { severity: alert.severity },
    })),
  );
  return yaml.dump({ groups: [{ name: "atra-slo-test-alerts", rules }] }, { lineWidth: -1, noRefs: true });
}
