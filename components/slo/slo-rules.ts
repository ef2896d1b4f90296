/**
 * Pure renderers of the SLO room: from the catalog's `slo` entries to
 * - the recording rules, grouped per service (components/slo/rule-groups.ts says how and why): each
 *   SLO's error ratio over 5m, 30m, 1h, 2h, 6h (from raw samples), its 5-minute event counts, its
 *   ratio over 1d, 3d and its window (summed from those counts), its objective, its error budget and
 *   the budget left over the window. Evaluated by this stack's Prometheus (one rule file), or, when
 *   the metrics live in an external backend, by Grafana as Grafana-managed recording rules writing
 *   to that backend (sloGrafanaRecordingGroups);
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
import { BURN_RATE_ALERTS, SLO_DEFAULTS } from "./config";
import { RECORDED, RecordingOptions, SLO_RULE_GROUP_PREFIXES, sloRecordingGroups, SliEvents } from "./rule-groups";
import { shardGroupName, shardServices } from "../alerting/rule-shards";

export { RECORDED, sloRecordingGroups } from "./rule-groups";
export type { RecordingRuleGroup } from "./rule-groups";

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
  /** The number of bad and of all events over a range, as PromQL, labelled `service` (the long windows sum them). */
  events: SliEvents;
  /** What a bad event is, for people (alert descriptions, the dashboard). */
  badEvents: string;
}

export const SLO_ALERTS = { page: "SLOErrorBudgetFastBurn", ticket: "SLOErrorBudgetSlowBurn" } as const;
/**
 * The uid namespace of the burn-rate alerts (ruleUid), and the prefix of their groups: one Grafana
 * group per service, `atra-slo:<service>` (sloAlertGroups).
 */
export const SLO_ALERT_GROUP = "atra-slo";
/** The uid namespace of the Grafana-managed recording rules (metrics in an external backend). */
export const SLO_RECORDING_UID_NAMESPACE = "atra-slo-recording";
/** Where the rule file sits in the Prometheus container, next to prometheus.yml. */
export const SLO_RULE_FILE_PATH = "/etc/prometheus/rules/slo.yml";
const RUNBOOK = "docs/runbook.md";

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
        // The 5-minute counts tile time: a probe sample on the boundary between two of them must count
        // once. Prometheus 2.x range selectors include their left boundary (3.0 made them left-open:
        // prometheus/prometheus docs/migration.md, "Range selectors and lookback exclude samples
        // coinciding with the left boundary"), so the counts use the range less a millisecond.
        const probes = (range: string) => `sum by (service) (count_over_time(${probe}[${leftOpen(range)}]))`;
        found.push({
          ...objectiveOf("availability", slo.availability),
          source: "probe",
          // Success ratio of the probes in the range: their sum over their count (each sample 0 or 1).
          errorRatio: (range) => `1 - (sum by (service) (sum_over_time(${probe}[${range}])) / sum by (service) (count_over_time(${probe}[${range}])))`,
          // Probes in the range, and the failed ones: the count less the successes (each sample 0 or 1).
          events: { bad: (range) => `${probes(range)} - sum by (service) (sum_over_time(${probe}[${leftOpen(range)}]))`, all: probes },
          badEvents: "failed health probes",
        });
      } else {
        const total = slo.requests?.total ?? SLO_DEFAULTS.requestsTotal;
        const errors = slo.requests?.errors ?? SLO_DEFAULTS.requestsErrors;
        const all = (range: string) => `sum by (service) (rate(${total}{${selector}}[${range}]))`;
        const requests = (range: string) => `sum by (service) (increase(${total}{${selector}}[${range}]))`;
        found.push({
          ...objectiveOf("availability", slo.availability),
          source: "requests",
          // Client libraries create a labelled series at its first observation: before the first
          // error there is no error series at all, which must read as 0 errors, not as no data.
          errorRatio: (range) => `(sum by (service) (rate(${total}{${selector}, ${errors}}[${range}])) or 0 * ${all(range)}) / ${all(range)}`,
          events: {
            bad: (range) => `sum by (service) (increase(${total}{${selector}, ${errors}}[${range}])) or 0 * ${requests(range)}`,
            all: requests,
          },
          badEvents: `failed requests (${total}{${errors}})`,
        });
      }
    }
    if (slo.latency) {
      const bucket = `${slo.latency.histogram ?? SLO_DEFAULTS.histogram}_bucket`;
      const le = leMatcher(slo.latency.thresholdSeconds);
      const requests = (range: string) => `sum by (service) (increase(${bucket}{${selector}, le="+Inf"}[${range}]))`;
      found.push({
        ...objectiveOf("latency", slo.latency.objective),
        source: "histogram",
        errorRatio: (range) =>
          `1 - (sum by (service) (rate(${bucket}{${selector}, ${le}}[${range}])) / sum by (service) (rate(${bucket}{${selector}, le="+Inf"}[${range}])))`,
        // Slower than the threshold: all requests less those in the threshold's bucket.
        events: { bad: (range) => `${requests(range)} - sum by (service) (increase(${bucket}{${selector}, ${le}}[${range}]))`, all: requests },
        badEvents: `requests slower than ${slo.latency.thresholdSeconds}s`,
      });
    }
    return found;
  });
}

/** A range a millisecond shorter, in milliseconds (`5m` gives `299999ms`): no sample on its left boundary. */
function leftOpen(range: string): string {
  return `${durationMs(range) - 1}ms`;
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

export function renderSloRuleFile(slos: readonly SloDefinition[], evaluationInterval: string, options: RecordingOptions = {}): string {
  const header =
    "# Rendered by atra-observability from the catalog's `slo` entries (components/slo). Do not edit: change the stack config.\n" +
    "# Recording rules only, three groups per service (components/slo/rule-groups.ts); the burn-rate alerts are Grafana-managed rules (groups atra-slo, atra-slo:<shard>) querying these series.\n";
  return `${header}${yaml.dump({ groups: sloRecordingGroups(slos, evaluationInterval, options) }, { lineWidth: -1, noRefs: true })}`;
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
 * The burn-rate alerts as Grafana-managed groups, one rule per SLO and severity, querying the
 * recording rules through the Prometheus datasource. Query A's value is the budget left, which the
 * annotations show (`$values.A.Value`, the same form translateTemplate gives rule-file alerts).
 *
 * The services are spread over groups of about 16 services each (components/alerting/rule-shards.ts:
 * `atra-slo`, `atra-slo:1`, ...), not one group for the catalog: a group is one provider resource
 * and one API body, re-sent whole when any of its rules changes (2,000 services made one 21 MB body
 * and 21 MB of state). A catalog of up to 16 services keeps the single `atra-slo` group. The uids are
 * those of the single group (ruleUid of SLO_ALERT_GROUP and the alert, service and SLO): on the first
 * `up` that spreads them, each new group's PUT names its rules' uids and Grafana moves those rules
 * instead of creating others (grafana/grafana pkg/services/ngalert/store/deltas.go, calculateChanges:
 * "Rule can be from other group or namespace"), keeping their alert state; `atra-slo` keeps shard 0.
 */
export function sloAlertGroups(slos: readonly SloDefinition[], context: SloAlertContext): GrafanaRuleGroup[] {
  return shardServices(slos, (slo) => slo.service).map(({ shard, items }) => ({
    name: shardGroupName(SLO_ALERT_GROUP, shard),
    intervalSeconds: durationMs(context.interval) / 1000,
    rules: items.flatMap((slo) => sloAlertRules(slo, context)),
    source: "stack config (services[].slo)",
  }));
}

function sloAlertRules(slo: SloDefinition, context: SloAlertContext): GrafanaRule[] {
  return burnRateAlerts(slo).map((alert) => ({
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
  }));
}

/**
 * The recording rules as Grafana-managed recording rules, for a stack whose metrics live in an
 * external backend (`prometheus.mode: agent` with `prometheus.external`): its Prometheus evaluates no
 * rules, so Grafana evaluates the same groups (same names, rules and intervals) through the Prometheus
 * datasource, which reads the backend, and writes each result back to it with the provider's `record`
 * block (terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go:
 * `record { metric, from, target_datasource_uid }`, which refuses `for`, `condition`, `no_data_state`
 * and `exec_err_state` beside it; @pulumiverse/grafana 2.40 RuleGroupRuleRecord). Grafana writes by
 * remote write to the target datasource (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go,
 * getRemoteWriteURL: `<url>/api/v1/write` for a datasource typed Prometheus, else Mimir/Cortex
 * routes: a URL ending in /prometheus pushes to `/api/v1/push` beside it), with the datasource's own
 * login; the rule's labels are added to the written series. The burn-rate alerts then read the
 * recorded series from the backend as they would from this stack's Prometheus.
 *
 * Grafana evaluates recording rules only with `[recording_rules] enabled = true` (grafana/grafana
 * pkg/setting/setting_unified_alerting.go: `rr.Key("enabled").MustBool(false)`) and the feature
 * toggle grafanaManagedRecordingRules (pkg/services/featuremgmt/registry.go: experimental, off by
 * default); the README says so for an external Grafana, and this stack's own Grafana container sets
 * both when it records SLOs (RECORDING_RULES_ENV).
 */
export function sloGrafanaRecordingGroups(slos: readonly SloDefinition[], evaluationInterval: string, datasourceUid: string): GrafanaRuleGroup[] {
  // The Prometheus groups of a shard's services, merged per kind (Grafana evaluates each rule on its own): `atra-slo-ratios`, `atra-slo-ratios:1`, ...
  const groups = sloRecordingGroups(slos, evaluationInterval);
  const kinds = Object.values(SLO_RULE_GROUP_PREFIXES);
  const merged = shardServices(slos, (slo) => slo.service).flatMap(({ shard, items }) => {
    const services = new Set(items.map((slo) => slo.service));
    return kinds.map((kind) => {
      const members = groups.filter((group) => group.name.split(":")[0] === kind && services.has(group.name.slice(kind.length + 1)));
      return { kind, shard, interval: members[0].interval, rules: members.flatMap((group) => group.rules) };
    });
  });
  return merged.map((group) => ({
    name: shardGroupName(group.kind, group.shard),
    intervalSeconds: durationMs(group.interval ?? evaluationInterval) / 1000,
    rules: group.rules.map((rule) => {
      const identity = `${rule.record}/${rule.labels.service}/${rule.labels.slo}`;
      return {
        uid: ruleUid(SLO_RECORDING_UID_NAMESPACE, identity),
        // Titles are unique in the folder: the series and whose it is.
        name: `${rule.record} ${rule.labels.service} ${rule.labels.slo}`,
        for: "0s",
        condition: "",
        datas: promqlRuleQueries(rule.expr, datasourceUid).filter((query) => query.refId === "A"),
        noDataState: "",
        execErrState: "",
        labels: rule.labels,
        annotations: {},
        isPaused: false,
        record: { metric: rule.record, from: "A", targetDatasourceUid: datasourceUid },
      };
    }),
    source: "stack config (services[].slo), recorded by Grafana into the external metrics backend",
  }));
}

/** What Grafana needs to evaluate recording rules (the ini keys as GF_ environment variables). */
export const RECORDING_RULES_ENV = ["GF_FEATURE_TOGGLES_ENABLE=grafanaManagedRecordingRules", "GF_RECORDING_RULES_ENABLED=true"] as const;

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
