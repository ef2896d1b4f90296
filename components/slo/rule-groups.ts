/**
 * How the SLO recording rules are grouped, so that a real Prometheus keeps up at thousands of services.
 *
 * Prometheus evaluates the rules of one group one after the other, and a group whose evaluation
 * outlasts its interval skips the next ones (prometheus/prometheus rules/manager.go, Group.run:
 * `missed := (time.Since(evalTimestamp) / g.interval) - 1`, counted in
 * prometheus_rule_group_iterations_missed_total). Different groups run concurrently, each on its own
 * ticker. So each service gets its own groups (Sloth puts one group per SLO, Pyrra one rule set per
 * SLO; Mimir's ruler allows 20 rules per group by default): a group's duration no longer grows with
 * the catalog, and the evaluations spread over the interval.
 *
 * And the windows of a day and more are no longer read from raw samples every minute (a 30d window
 * of a 15 s probe is 172,800 samples per series and evaluation). Per SLO, a group every 5 minutes
 * records how many events and bad events the last 5 minutes held (`increase` of the counters, or the
 * count of probe samples and of failed ones): `service_slo:slo_requests:increase5m` and
 * `service_slo:slo_errors:increase5m`. The ratio over 1d, 3d and the SLO window is the sum of the bad
 * ones over the sum of all (`sum_over_time(errors[w]) / sum_over_time(requests[w])`, each summed per
 * SLO: sumBySlo): weighted by traffic as the ratio over raw samples is, from 288 samples a day instead
 * of 5,760 (15 s scrapes).
 * The ratio is unchanged when the 5-minute counts overlap or leave gaps evenly (a late or skipped
 * evaluation, promtool evaluating every group at its own step): the same share of events and bad
 * events is counted twice or missed. What it loses: up to 5 minutes of lag on the long windows
 * (the ticket alerts and the budget left, whose short windows are 2h and 6h), and a counter reset or
 * scrape gap inside one 5-minute count is extrapolated by `increase` as the raw ratio's `rate` is.
 *
 * The windows of the page (5m to 6h) stay computed from raw samples at the evaluation interval: the
 * page must follow a full outage within minutes.
 */
import { durationMs } from "../lib/validators";

/** The bad and all events of an SLI over a range, as PromQL labelled `service` (one series per service). */
export interface SliEvents {
  bad: (range: string) => string;
  all: (range: string) => string;
}

/** What the groups need of an SLO (components/slo/slo-rules.ts SloDefinition). */
export interface SloRuleInput {
  service: string;
  /** The service's labels (`service` and its catalog metadata, and the scope), on every recorded series. */
  labels: Record<string, string>;
  /**
   * The labels that pick this stack's series where several stacks' series meet (slo-rules.ts SloScope,
   * `{ environment }` in a backend Grafana records into); empty on this stack's own Prometheus.
   */
  scope: Record<string, string>;
  slo: string;
  objective: number;
  budget: number;
  window: string;
  errorRatio: (range: string) => string;
  events: SliEvents;
}

export const RECORDED = {
  errorRatio: (range: string) => `service_slo:slo_errors_per_request:ratio_rate${range}`,
  objective: "service_slo:slo_objective:ratio",
  budget: "service_slo:slo_error_budget:ratio",
  budgetRemaining: "service_slo:slo_error_budget_remaining:ratio",
  /** The 5-minute counts the long windows are summed from. */
  errors: "service_slo:slo_errors:increase5m",
  requests: "service_slo:slo_requests:increase5m",
} as const;

/** The step of the 5-minute counts (their range and their group's interval). */
export const EVENT_STEP = "5m";

/**
 * Per service: `<prefix>:<service>`. The prefixes are the group names of the single-group structure
 * this replaces (atra-slo-ratios, atra-slo-ratios-long) and one for the counts.
 */
export const SLO_RULE_GROUP_PREFIXES = { short: "atra-slo-ratios", events: "atra-slo-events", long: "atra-slo-ratios-long" } as const;

/** The ranges computed from raw samples at the evaluation interval: the page's windows and their short ones. */
export const SHORT_RANGES = ["5m", "30m", "1h", "2h", "6h"] as const;
/** The ranges summed from the 5-minute counts (the SLO window is added per SLO). */
export const LONG_RANGES = ["1d", "3d"] as const;

/** Windows summed from the counts are evaluated once a minute: they move by 5 minutes at most, and a minute keeps them fresh for instant queries (5 m lookback). */
const LONG_GROUP_INTERVAL = "1m";

export interface RecordingOptions {
  /**
   * How often the 5-minute counts are recorded; 5m in production. Tests that run a real Prometheus for
   * seconds record them every second: overlapping counts leave the ratios unchanged (see above).
   */
  eventsInterval?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}
export interface RecordingRuleGroup {
  name: string;
  interval?: string;
  rules: RecordingRule[];
}

export function sloRuleGroupName(kind: keyof typeof SLO_RULE_GROUP_PREFIXES, service: string): string {
  return `${SLO_RULE_GROUP_PREFIXES[kind]}:${service}`;
}

/**
 * The matchers of one SLO's recorded series: its service, its slo and the scope. Without the scope, a
 * backend shared by several environments returns every environment's series of the SLO (and, after an
 * upgrade, the unscoped series recorded before the scope existed).
 */
export function recordedSelector(slo: Pick<SloRuleInput, "service" | "slo" | "scope">): string {
  return [`service="${slo.service}"`, `slo="${slo.slo}"`, ...Object.entries(slo.scope).map(([name, value]) => `${name}="${value}"`)].join(", ");
}

/**
 * One series per SLO from recorded series that may hold several: the recorded series carry the
 * service's catalog metadata, so a metadata change (a new `team`) starts a second series of the same
 * SLO while the old one still lies within the window (up to the SLO window for the 5-minute counts,
 * the 5-minute lookback for the ratios). Without the aggregation the rule's result holds two series,
 * which its labels then make identical: Prometheus fails the rule ("vector contains metrics with the
 * same labelset after applying rule labels", prometheus/prometheus rules/recording.go, Eval), and
 * Grafana's writer overwrites the series' labels with the rule's (grafana/grafana
 * pkg/services/ngalert/writer/prom.go, PointsFromFrames) and sends two samples of one series at one
 * timestamp, of which the backend keeps one (the "duplicate sample for timestamp" answer is ignored
 * there, checkWriteError). The sum over both labellings is the window's count, as before the change.
 */
function sumBySlo(expr: string): string {
  return `sum by (service, slo) (${expr})`;
}

/** The long ranges of an SLO: 1d, 3d and its window (once). */
export function longRanges(slo: Pick<SloRuleInput, "window">): string[] {
  return [...LONG_RANGES, ...((LONG_RANGES as readonly string[]).includes(slo.window) ? [] : [slo.window])];
}

/** 1 - objective as a ratio, without binary noise (99.9 gives 0.001, not 0.0010000000000000009). */
export function ratioOf(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

/**
 * Three groups per service (in catalog order), each holding every SLO of the service: the short
 * ratios at the evaluation interval, the 5-minute counts every 5 minutes, and the long ratios with
 * the objective, the budget and the budget left once a minute. A rule reads what an earlier rule of
 * its group recorded at the same evaluation (Group.Eval commits each rule's samples before the next
 * rule runs): the budget left reads the window's ratio just recorded.
 */
export function sloRecordingGroups(slos: readonly SloRuleInput[], evaluationInterval: string, options: RecordingOptions = {}): RecordingRuleGroup[] {
  const services = [...new Set(slos.map((slo) => slo.service))];
  const longInterval = durationMs(evaluationInterval) < durationMs(LONG_GROUP_INTERVAL) ? LONG_GROUP_INTERVAL : undefined;
  return services.flatMap((service) => {
    const own = slos.filter((slo) => slo.service === service);
    const short: RecordingRule[] = [];
    const events: RecordingRule[] = [];
    const long: RecordingRule[] = [];
    for (const slo of own) {
      // `service` too, though the expression keeps it: two rules with the same name and static labels are duplicates to promtool.
      const labels = { ...slo.labels, slo: slo.slo };
      const identity = recordedSelector(slo);
      for (const range of SHORT_RANGES) short.push({ record: RECORDED.errorRatio(range), expr: slo.errorRatio(range), labels });
      events.push(
        { record: RECORDED.errors, expr: slo.events.bad(EVENT_STEP), labels },
        { record: RECORDED.requests, expr: slo.events.all(EVENT_STEP), labels },
      );
      for (const range of longRanges(slo)) {
        long.push({
          record: RECORDED.errorRatio(range),
          expr: `${sumBySlo(`sum_over_time(${RECORDED.errors}{${identity}}[${range}])`)} / ${sumBySlo(`sum_over_time(${RECORDED.requests}{${identity}}[${range}])`)}`,
          labels,
        });
      }
      const withWindow = { ...labels, window: slo.window };
      long.push(
        { record: RECORDED.objective, expr: `vector(${ratioOf(slo.objective)})`, labels: withWindow },
        { record: RECORDED.budget, expr: `vector(${slo.budget})`, labels },
        // Budget left over the window: 1 with no error, 0 when the window's errors used it all, negative beyond.
        // The window's ratio just recorded, once per SLO (see sumBySlo: an older labelling stays visible for the lookback).
        {
          record: RECORDED.budgetRemaining,
          expr: `1 - max by (service, slo) (${RECORDED.errorRatio(slo.window)}{${identity}}) / ${slo.budget}`,
          labels: withWindow,
        },
      );
    }
    return [
      { name: sloRuleGroupName("short", service), rules: short },
      { name: sloRuleGroupName("events", service), interval: options.eventsInterval ?? EVENT_STEP, rules: events },
      { name: sloRuleGroupName("long", service), ...(longInterval ? { interval: longInterval } : {}), rules: long },
    ];
  });
}
