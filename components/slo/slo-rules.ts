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
import { RECORDED, RecordingOptions, RecordingRuleGroup, SLO_RULE_GROUP_PREFIXES, sloRecordingGroups, SliEvents } from "./rule-groups";
import { SHARD_COUNTS, shardGroupName, shardServices } from "../alerting/rule-shards";

export { RECORDED, sloRecordingGroups } from "./rule-groups";
export type { RecordingRuleGroup } from "./rule-groups";

export type SloKind = "availability" | "latency";
export type SliSource = "probe" | "requests" | "histogram";

export interface SloDefinition {
  service: string;
  /** The service's labels (catalog.ts: `service` and its metadata; no `host`, an SLO spans every host) and the scope, on its recorded series and alerts. */
  labels: Record<string, string>;
  /** The labels that pick this stack's series where several stacks' series meet (SloScope); also in `labels`. */
  scope: SloScope;
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
/**
 * The uid namespace of the Grafana-managed recording rules (metrics in an external backend), since they
 * sit in fixed shards (`<kind>:<shard>`). The layout before (commit 51146ed) kept shard 0 in the base
 * groups (atra-slo-ratios, atra-slo-events, atra-slo-ratios-long) under the namespace
 * `atra-slo-recording`. Had the uids stayed, the first `up` would have moved every rule out of the base
 * groups (a group's PUT takes over the rules its body names by uid), leaving them empty, and the
 * provider cannot delete an empty group: its delete reads the group first, and Grafana answers 404 for
 * a group without rules (grafana/terraform-provider-grafana
 * internal/resources/grafana/resource_alerting_rule_group.go, deleteAlertRuleGroup -> GetAlertRuleGroup),
 * so every `up` would fail. With new uids nothing moves: the old groups keep their rules until the
 * provider deletes them with their rules. Recording rules carry no alert state, so nothing is lost;
 * the series they write keep their names and labels.
 */
export const SLO_RECORDING_UID_NAMESPACE = "atra-slo-recording:sharded";
/** Where the rule file sits in the Prometheus container, next to prometheus.yml. */
export const SLO_RULE_FILE_PATH = "/etc/prometheus/rules/slo.yml";
const RUNBOOK = "docs/runbook.md";

/**
 * Labels that confine the SLOs to this stack's own series, where the series of several stacks meet:
 * a remote-write backend that Grafana records into (sloGrafanaRecordingGroups) holds every stack that
 * writes to it, each series marked by its Prometheus's external labels (`environment`, `stack`,
 * `host`: components/metrics/prometheus-config.ts externalLabels), while what Grafana writes carries
 * only the rule's own labels (grafana/grafana pkg/services/ngalert/writer/prom.go PointsFromFrames:
 * the frame's labels and the rule's). `environment`, not `stack`: an agent host of the environment is
 * another stack. Empty on this stack's own Prometheus, whose scraped series carry no external labels.
 */
export type SloScope = Record<string, string>;

/** Every SLO of the catalog, defaults filled in, in catalog order (availability before latency). */
export function sloDefinitions(services: readonly ServiceConfig[], scope: SloScope = {}): SloDefinition[] {
  const scopeMatchers = Object.entries(scope)
    .map(([name, value]) => `, ${name}="${value}"`)
    .join("");
  return services.flatMap((service) => {
    const slo = service.slo;
    if (!slo) return [];
    const window = slo.window ?? SLO_DEFAULTS.window;
    const selector = `service="${service.name}"${scopeMatchers}`;
    const found: SloDefinition[] = [];
    // What every objective of this service shares: who, which kind, the objective, its budget and window.
    const objectiveOf = (kind: SloDefinition["slo"], objective: number) => ({
      service: service.name,
      labels: { ...serviceLabels(service), ...scope },
      scope,
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
  return `${header}${recordingRuleFileYaml(sloRecordingGroups(slos, evaluationInterval, options))}`;
}

/**
 * The rule file's YAML, written directly rather than by js-yaml's dump: at 2,000 services the file
 * holds about 52,000 rules (16 MB), which dump took 1.3 s and 145 MB to write (`npm run bench`). Block
 * structure, every scalar a JSON string: a JSON string is a YAML double-quoted scalar (the YAML 1.2
 * spec's escapes include all of JSON's), and Prometheus reads rule files with gopkg.in/yaml.v3
 * (prometheus/prometheus model/rulefmt/rulefmt.go, ParseFile -> Parse -> yaml.NewDecoder). promtool
 * checks the rendered file in the tests (test/real-tools/).
 */
export function recordingRuleFileYaml(groups: readonly RecordingRuleGroup[]): string {
  const q = (text: string) => JSON.stringify(text);
  const lines = ["groups:"];
  for (const group of groups) {
    lines.push(`  - name: ${q(group.name)}`);
    if (group.interval !== undefined) lines.push(`    interval: ${q(group.interval)}`);
    lines.push("    rules:");
    for (const rule of group.rules) {
      lines.push(`      - record: ${q(rule.record)}`, `        expr: ${q(rule.expr)}`);
      const labels = Object.entries(rule.labels);
      if (labels.length > 0) lines.push("        labels:", ...labels.map(([name, value]) => `          ${q(name)}: ${q(value)}`));
    }
  }
  return `${lines.join("\n")}\n`;
}

export interface BurnRateAlert {
  alert: string;
  severity: "critical" | "warning";
  /** PromQL whose value is the budget left over the window, one series per SLO whose alert condition holds. */
  expr: string;
  /** Summary and description, Grafana templates over the series' labels, with `{{ VALUE }}` where the value (the budget left) goes. */
  summary: string;
  description: string;
}

/**
 * The page and the ticket alert, each ONE expression over every SLO of the stack: one series, and so
 * one alert instance, per SLO whose condition holds (Grafana-managed rules are multi-dimensional:
 * every series of the query is an instance with the series' labels, grafana/grafana
 * pkg/services/ngalert/state/manager.go ProcessEvalResults, one state per result's label set). Each
 * SLO's threshold is read from its own recorded budget (`service_slo:slo_error_budget:ratio`), matched
 * on (service, slo), so SLOs with different objectives share the rule. Two rules for any
 * catalog, instead of two per SLO: at 2,000 services, 8,000 rules made 125 groups and 30 MB of
 * provider state, and Grafana ran 8,000 queries per interval; now 2 (`npm run bench`).
 *
 * The recorded series carry the service's catalog metadata, so a metadata change leaves a second
 * series of the same SLO visible for the 5-minute lookback (rule-groups.ts, sumBySlo). A one-to-one
 * match then fails the whole query, for every SLO ("found duplicate series for the match group" or
 * "multiple matches for labels: many-to-one matching must be explicit", prometheus/prometheus
 * promql/engine.go, VectorBinop). So the budget is taken once per SLO (`max by (service, slo)`: the
 * same value under both labellings) and the ratios match it many-to-one (`group_left`): either
 * labelling over the threshold holds the condition. The `and` between the windows and with the budget
 * left are set operations, which take any number of series on either side. The instance's labels
 * stay those of the budget left (service, slo, window and the metadata).
 */
export function burnRateAlerts(scope: SloScope = {}): BurnRateAlert[] {
  const matchers = Object.entries(scope).map(([name, value]) => `${name}="${value}"`);
  const selector = matchers.length > 0 ? `{${matchers.join(", ")}}` : "";
  // One budget per SLO, and any number of ratio series: see the doc comment.
  const budget = `max by (service, slo) (${RECORDED.budget}${selector})`;
  const over = (range: string, factor: number) => `${RECORDED.errorRatio(range)}${selector} > on (service, slo) group_left () (${factor} * ${budget})`;
  const condition = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    pairs.map(({ factor, long, short }) => `(${over(long, factor)}\n    and on (service, slo)\n   ${over(short, factor)})`).join("\n  or\n  ");
  const expr = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    `${RECORDED.budgetRemaining}${selector}\nand on (service, slo)\n(\n  ${condition(pairs)}\n)`;
  const what = "the {{ $labels.slo }} SLO of {{ $labels.service }} (over {{ $labels.window }})";
  const pairsText = (pairs: readonly { factor: number; long: string; short: string }[]) =>
    pairs.map(({ factor, long, short }) => `more than ${factor}x over ${long} (and still over ${short})`).join(", or ");
  return [
    {
      alert: SLO_ALERTS.page,
      severity: "critical",
      expr: expr(BURN_RATE_ALERTS.page),
      summary: "{{ $labels.service }} burns its {{ $labels.slo }} error budget fast: {{ VALUE }} of the {{ $labels.window }} budget left",
      description: `Bad events of ${what} arrive faster than the error budget allows: ${pairsText(BURN_RATE_ALERTS.page)} the sustainable rate. At 14.4x the whole budget is gone in a 14.4th of the window ({{ $labels.window }}). Error budget left over {{ $labels.window }}: {{ VALUE }}. The SLO's objective and what counts as a bad event: the stack config's services[].slo, and the dashboard Atra / SLOs.`,
    },
    {
      alert: SLO_ALERTS.ticket,
      severity: "warning",
      expr: expr(BURN_RATE_ALERTS.ticket),
      summary: "{{ $labels.service }} burns its {{ $labels.slo }} error budget steadily: {{ VALUE }} of the {{ $labels.window }} budget left",
      description: `Bad events of ${what} arrive faster than the error budget allows: ${pairsText(BURN_RATE_ALERTS.ticket)} the sustainable rate. At 3x the whole budget is gone in a third of the window ({{ $labels.window }}). Error budget left over {{ $labels.window }}: {{ VALUE }}. The SLO's objective and what counts as a bad event: the stack config's services[].slo, and the dashboard Atra / SLOs.`,
    },
  ];
}

export interface SloAlertContext {
  prometheusDatasourceUid: string;
  /** Interval of the group (Prometheus duration). */
  interval: string;
  runbookBaseUrl?: string;
  /** Where the recorded series of several stacks meet (a backend Grafana records into): the labels that pick this stack's (SloScope). */
  scope?: SloScope;
}

/**
 * The burn-rate alerts as one Grafana-managed group, `atra-slo`, of two multi-dimensional rules (see
 * burnRateAlerts) querying the recording rules through the Prometheus datasource; none without SLOs.
 * Query A's value is the budget left, which the annotations show (`$values.A.Value`), and the series'
 * labels (service, slo, window and the catalog's metadata) are the instance's labels, as the
 * one-rule-per-SLO rules before had them.
 *
 * Replaces, on the first `up` after the change, the rules of one per SLO and severity (their uids
 * were per SLO; these two are new, `SLOErrorBudgetFastBurn` and `SLOErrorBudgetSlowBurn`): an alert
 * firing then fires again as an instance of the new rule at its next evaluation. The groups
 * `atra-slo:<n>` of the sharded layout are deleted.
 */
export function sloAlertGroups(slos: readonly SloDefinition[], context: SloAlertContext): GrafanaRuleGroup[] {
  if (slos.length === 0) return [];
  return [
    {
      name: SLO_ALERT_GROUP,
      intervalSeconds: durationMs(context.interval) / 1000,
      rules: burnRateAlerts(context.scope).map((alert) => sloAlertRule(alert, context)),
      source: "stack config (services[].slo)",
    },
  ];
}

function sloAlertRule(alert: BurnRateAlert, context: SloAlertContext): GrafanaRule {
  const value = "{{ humanizePercentage $values.A.Value }}";
  return {
    uid: ruleUid(SLO_ALERT_GROUP, alert.alert),
    name: alert.alert,
    // No `for`, as the SRE Workbook's iteration 6: the short window already makes the alert wait
    // for errors to continue, and the page must come within minutes of a full outage. A `for`
    // would only guard against failed evaluations, which no longer fire (below).
    for: "0s",
    condition: "FIRING",
    datas: promqlRuleQueries(alert.expr, context.prometheusDatasourceUid),
    // No data is the healthy case (no series while no condition holds). A failed evaluation
    // (Prometheus replaced by `pulumi up`, restarting, timing out) keeps the last state instead of
    // paging with empty labels and a -1 value (EVALUATION_ERROR_STATE); PrometheusNotQueryable
    // reports a Prometheus that stays unreachable.
    noDataState: "OK" as const,
    execErrState: EVALUATION_ERROR_STATE,
    missingSeriesEvalsToResolve: PROMETHEUS_MISSING_SERIES_EVALS,
    // service, slo, window and the catalog's metadata come from the series (above).
    labels: { severity: alert.severity },
    annotations: {
      summary: alert.summary.replaceAll("{{ VALUE }}", value),
      description: alert.description.replaceAll("{{ VALUE }}", value),
      error_budget_remaining: value,
      runbook_url: resolveRunbookUrl(`${RUNBOOK}#${alert.alert.toLowerCase()}`, context.runbookBaseUrl),
    },
    isPaused: false,
  };
}

/**
 * The recording rules as Grafana-managed recording rules, for a stack whose metrics live in an
 * external backend (`prometheus.mode: agent` with `prometheus.external`): its Prometheus evaluates no
 * rules, so Grafana evaluates the same rules (same expressions and intervals) through the Prometheus
 * datasource that reads the backend (`queryDatasourceUid`), and writes each result back with the
 * provider's `record` block (terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go:
 * `record { metric, from, target_datasource_uid }`, which refuses `for`, `condition`, `no_data_state`
 * and `exec_err_state` beside it; @pulumiverse/grafana 2.40 RuleGroupRuleRecord). The rule's labels
 * are added to the written series. The burn-rate alerts then read the recorded series from the
 * backend as they would from this stack's Prometheus.
 *
 * Grafana writes by remote write to the URL and with the login of the TARGET datasource
 * (`targetDatasourceUid`): grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go, makeWriter
 * (the datasource's basic auth, TLS and custom headers) and getRemoteWriteURL (the write path derived
 * from the datasource's URL). That is the write datasource built from the stack's remote write
 * (components/grafana/remote-write-datasource.ts), not the query datasource, whose URL and login are
 * the backend's read side.
 *
 * The rules go into groups per kind (atra-slo-ratios, atra-slo-events, atra-slo-ratios-long) and
 * service shard among SHARD_COUNTS.sloRecording: `<kind>:<shard>` (components/alerting/rule-shards.ts),
 * so a service's rules never move to another group as the catalog changes. Grafana evaluates each rule
 * on its own schedule; the group sets the interval. Their uids are in a namespace of their own
 * (SLO_RECORDING_UID_NAMESPACE says why).
 *
 * Grafana evaluates recording rules only with `[recording_rules] enabled = true` (grafana/grafana
 * pkg/setting/setting_unified_alerting.go: `rr.Key("enabled").MustBool(false)`) and the feature
 * toggle grafanaManagedRecordingRules (pkg/services/featuremgmt/registry.go: experimental, off by
 * default); the README says so for an external Grafana, and this stack's own Grafana container sets
 * both when it records SLOs (RECORDING_RULES_ENV).
 */
export function sloGrafanaRecordingGroups(
  slos: readonly SloDefinition[],
  evaluationInterval: string,
  queryDatasourceUid: string,
  targetDatasourceUid: string,
): GrafanaRuleGroup[] {
  const byName = new Map(sloRecordingGroups(slos, evaluationInterval).map((group) => [group.name, group]));
  return shardServices(slos, (slo) => slo.service, SHARD_COUNTS.sloRecording)
    .flatMap(({ shard, items }) => {
      const services = [...new Set(items.map((slo) => slo.service))];
      return Object.values(SLO_RULE_GROUP_PREFIXES).map((kind) => {
        // The Prometheus groups of the shard's services (`<kind>:<service>`), merged.
        const members = services.map((service) => byName.get(`${kind}:${service}`)).filter((group) => group !== undefined);
        return {
          name: shardGroupName(kind, shard),
          intervalSeconds: durationMs(members[0]?.interval ?? evaluationInterval) / 1000,
          rules: members.flatMap((group) =>
            group.rules.map((rule): GrafanaRule => ({
              uid: ruleUid(SLO_RECORDING_UID_NAMESPACE, `${rule.record}/${rule.labels.service}/${rule.labels.slo}`),
              // The series and whose it is, unique in the folder. Not the title of the same rule under
              // its old uid (`<record> <service> <slo>`): Grafana before 12.0 refused a title used in
              // the folder already (grafana/grafana#102067 dropped that constraint), and the old rule
              // is deleted only after the new one is created.
              name: `${rule.record} of ${rule.labels.service} ${rule.labels.slo}`,
              for: "0s",
              condition: "",
              datas: promqlRuleQueries(rule.expr, queryDatasourceUid).filter((query) => query.refId === "A"),
              noDataState: "",
              execErrState: "",
              labels: rule.labels,
              annotations: {},
              isPaused: false,
              record: { metric: rule.record, from: "A", targetDatasourceUid },
            })),
          ),
          source: "stack config (services[].slo), recorded by Grafana into the external metrics backend",
        };
      });
    })
    .filter((group) => group.rules.length > 0);
}

/** What Grafana needs to evaluate recording rules (the ini keys as GF_ environment variables). */
export const RECORDING_RULES_ENV = ["GF_FEATURE_TOGGLES_ENABLE=grafanaManagedRecordingRules", "GF_RECORDING_RULES_ENABLED=true"] as const;

/**
 * Test-only: the same alert expressions as Prometheus alerting rules, so promtool can unit-test when
 * they fire (Grafana evaluates them in production; the PromQL is the same text).
 */
export function renderPromtoolAlertFile(scope: SloScope = {}): string {
  const rules = burnRateAlerts(scope).map((alert) => ({
    alert: alert.alert,
    expr: alert.expr,
    // No annotations: promtool compares them exactly, and they are Grafana's templates in production.
    labels: { severity: alert.severity },
  }));
  return yaml.dump({ groups: [{ name: "atra-slo-test-alerts", rules }] }, { lineWidth: -1, noRefs: true });
}
