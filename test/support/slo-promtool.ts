/**
 * promtool unit tests generated for an SLO: synthetic series of its SLI source (the blackbox probe,
 * the request counters or the duration histogram) with a healthy phase carrying some errors (half
 * the budget's rate), then
 * - "fast": a full outage, where the page alert must stay silent until the workbook's arithmetic says
 *   it fires and must fire by then (minutes: 1h x 14.4 x budget); and
 * - "slow": a degradation at 4.5x the budget's rate, where the page must never fire and the ticket
 *   must fire at 16h (1d x 3 / 4.5 and 3d x 1 / 4.5) and not hours before;
 * and in both, every alert silent at the end of the healthy phase.
 *
 * Expanding notation (prometheus docs configuration/unit_testing_rules.md): `a+bxn` is n+1 values
 * a, a+b, ..., a+nb; `axn` repeats a n+1 times.
 */
import { BURN_RATE_ALERTS } from "../../components/slo/config";
import { leMatcher, SLO_ALERTS, SloDefinition } from "../../components/slo/slo-rules";
import { durationMs } from "../../components/lib/validators";

/** The production scrape interval, so probe ratios have the granularity they have in production. */
const SAMPLE_SECONDS = 15;
const REQUESTS_PER_SAMPLE = 100;

interface Phase {
  /** Length of the phase in samples. */
  samples: number;
  /** Share of bad events in it. */
  badRatio: number;
}

export interface PromtoolCase {
  name: string;
  /** The test file's evaluation_interval. */
  evaluationInterval: string;
  test: Record<string, unknown>;
  /** What it asserts, for the test report. */
  checks: string[];
}

const minutes = (value: number) => `${Math.round(value)}m`;

/** Bad events at a steady share: 0/1 probe samples spread evenly (one failure every 1/ratio samples). */
function probeValues(phases: Phase[]): string {
  const values: number[] = [];
  let debt = 0;
  for (const phase of phases) {
    for (let i = 0; i < phase.samples; i++) {
      debt += phase.badRatio;
      if (debt >= 1 - 1e-9) {
        values.push(0);
        debt -= 1;
      } else values.push(1);
    }
  }
  // Run-length encoded: `1x(n-1)` is n ones.
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j < values.length && values[j] === values[i]) j++;
    parts.push(j - i === 1 ? String(values[i]) : `${values[i]}x${j - i - 1}`);
    i = j;
  }
  return parts.join(" ");
}

/** A counter growing by `perSample(phase)` each sample, phase after phase. */
function counterValues(phases: Phase[], perSample: (phase: Phase) => number): string {
  let value = 0;
  const parts: string[] = [];
  phases.forEach((phase, index) => {
    const step = perSample(phase);
    // Each phase continues from the last value: its first sample is one step on.
    const start = index === 0 ? 0 : value + step;
    const count = phase.samples - 1;
    parts.push(`${round(start)}+${round(step)}x${count}`);
    value = start + step * count;
  });
  return parts.join(" ");
}

function round(value: number): number {
  return Number(value.toFixed(6));
}

function inputSeries(slo: SloDefinition, phases: Phase[]): { series: string; values: string }[] {
  const service = `service="${slo.service}"`;
  if (slo.source === "probe") {
    return [{ series: `probe_success{job="blackbox-health", ${service}, instance="http://${slo.service}/health"}`, values: probeValues(phases) }];
  }
  if (slo.source === "requests") {
    // The default error matcher is code=~"5..": a 200 and a 500 series (the test derives the labels from the SLO's own matcher below).
    const { good, bad } = requestLabels(slo);
    return [
      { series: `${requestMetric(slo)}{${service}, ${good}}`, values: counterValues(phases, (p) => REQUESTS_PER_SAMPLE * (1 - p.badRatio)) },
      { series: `${requestMetric(slo)}{${service}, ${bad}}`, values: counterValues(phases, (p) => REQUESTS_PER_SAMPLE * p.badRatio) },
    ];
  }
  const bucket = histogramBucket(slo);
  return [
    { series: `${bucket}{${service}, le="${bucketLabel(slo)}"}`, values: counterValues(phases, (p) => REQUESTS_PER_SAMPLE * (1 - p.badRatio)) },
    { series: `${bucket}{${service}, le="+Inf"}`, values: counterValues(phases, () => REQUESTS_PER_SAMPLE) },
  ];
}

/** The metric and bucket names, read back from the SLO's own expression (so a configured name is what is tested). */
function requestMetric(slo: SloDefinition): string {
  return /rate\(([a-zA-Z_:][a-zA-Z0-9_:]*)\{/.exec(slo.errorRatio("5m"))?.[1] as string;
}
function requestLabels(slo: SloDefinition): { good: string; bad: string } {
  const errors = /rate\([^{]+\{service="[^"]+", ([^}]+)\}/.exec(slo.errorRatio("5m"))?.[1] as string;
  if (errors === 'code=~"5.."') return { good: 'code="200"', bad: 'code="500"' };
  const equality = /^(\w+)="([^"]*)"$/.exec(errors);
  if (equality) return { good: `${equality[1]}="ok-${equality[2]}"`, bad: errors };
  throw new Error(`no synthetic labels for the error matcher ${errors}: add them to test/support/slo-promtool.ts`);
}
function histogramBucket(slo: SloDefinition): string {
  return /rate\(([a-zA-Z_:][a-zA-Z0-9_:]*_bucket)\{/.exec(slo.errorRatio("5m"))?.[1] as string;
}
/** The Python client's form of the threshold's bucket (`0.5`, `1.0`), which the rule's matcher must take. */
function bucketLabel(slo: SloDefinition): string {
  const threshold = Number(/slower than ([\d.]+)s/.exec(slo.badEvents)?.[1]);
  const text = Number.isInteger(threshold) ? `${threshold}.0` : String(threshold);
  if (!new RegExp(`^${leMatcher(threshold).slice(5, -1).replaceAll("\\\\", "\\")}$`).test(text)) throw new Error(`le matcher misses ${text}`);
  return text;
}

/**
 * Minutes after the change at which some pair of the set first holds (both windows above factor x
 * budget), for `history` minutes at the healthy share followed by the bad share: each window holds
 * what of the history still fits in it (a window longer than the data holds all of it).
 */
function firesAfterMinutes(
  pairs: readonly { factor: number; long: string; short: string }[],
  budget: number,
  badRatio: number,
  healthyRatio: number,
  historyMinutes: number,
): number {
  const share = (windowMinutes: number, t: number) => {
    const bad = Math.min(t, windowMinutes);
    const good = Math.min(historyMinutes, windowMinutes - bad);
    return (healthyRatio * good + badRatio * bad) / (good + bad);
  };
  for (let t = 0; t <= 7 * 24 * 60; t += 0.1) {
    if (
      pairs.some(({ factor, long, short }) => share(durationMs(long) / 60_000, t) > factor * budget && share(durationMs(short) / 60_000, t) > factor * budget)
    )
      return t;
  }
  return Infinity;
}

const alertTest = (at: number, alert: string, firing: boolean, slo: SloDefinition) => ({
  eval_time: minutes(at),
  alertname: alert,
  exp_alerts: firing
    ? [{ exp_labels: { severity: alert === SLO_ALERTS.page ? "critical" : "warning", service: slo.service, slo: slo.slo, window: slo.window } }]
    : [],
});

export function promtoolCases(slo: SloDefinition): PromtoolCase[] {
  const healthy = slo.budget / 2;
  const perMinute = 60 / SAMPLE_SECONDS;
  const name = `${slo.service} ${slo.slo}`;

  // Fast: 6h healthy (the page's longest window), then a full outage for 1h.
  const fastStart = 6 * 60;
  const fastFires = firesAfterMinutes(BURN_RATE_ALERTS.page, slo.budget, 1, healthy, fastStart);
  const fastMargin = 2;
  const fastTests = [
    alertTest(fastStart - 1, SLO_ALERTS.page, false, slo),
    alertTest(fastStart - 1, SLO_ALERTS.ticket, false, slo),
    ...(fastFires - fastMargin > 1 ? [alertTest(fastStart + Math.floor(fastFires - fastMargin), SLO_ALERTS.page, false, slo)] : []),
    alertTest(fastStart + Math.ceil(fastFires + fastMargin), SLO_ALERTS.page, true, slo),
  ];
  const fast: PromtoolCase = {
    name: `${name}: fast burn (full outage) pages after ${fastFires.toFixed(1)} min`,
    evaluationInterval: "1m",
    checks: [`page silent before the outage, firing ${fastFires.toFixed(1)} +/- ${fastMargin} min into it`],
    test: {
      name: `${name} fast burn`,
      interval: `${SAMPLE_SECONDS}s`,
      input_series: inputSeries(slo, [
        { samples: fastStart * perMinute, badRatio: healthy },
        { samples: 60 * perMinute, badRatio: 1 },
      ]),
      alert_rule_test: fastTests,
      // Ten minutes into a full outage the 5m window holds only failures.
      promql_expr_test: [
        {
          expr: `service_slo:slo_errors_per_request:ratio_rate5m{service="${slo.service}", slo="${slo.slo}"}`,
          eval_time: minutes(fastStart + 10),
          exp_samples: [{ labels: `service_slo:slo_errors_per_request:ratio_rate5m{service="${slo.service}", slo="${slo.slo}"}`, value: 1 }],
        },
      ],
    },
  };

  // Slow: 2d healthy, then 1d at 4.5x the budget's rate, sampled every 30s: promtool refuses a query
  // over more than 10000 samples (a 3d range of 15s samples is 17280), which Prometheus allows (50M).
  const slowStart = 2 * 24 * 60;
  const slowSample = 30;
  const slowRatio = 4.5 * slo.budget;
  const slowFires = firesAfterMinutes(BURN_RATE_ALERTS.ticket, slo.budget, slowRatio, healthy, slowStart);
  const slowMargin = 60;
  const step = 5;
  const at = (value: number, direction: "down" | "up") => (direction === "down" ? Math.floor(value / step) : Math.ceil(value / step)) * step;
  const slow: PromtoolCase = {
    name: `${name}: slow burn (4.5x) opens a ticket after ${(slowFires / 60).toFixed(1)} h, never pages`,
    evaluationInterval: `${step}m`,
    checks: [`every alert silent after 2 healthy days; ticket firing ${(slowFires / 60).toFixed(1)} +/- 1 h into the degradation; page silent throughout`],
    test: {
      name: `${name} slow burn`,
      interval: `${slowSample}s`,
      input_series: inputSeries(slo, [
        { samples: (slowStart * 60) / slowSample, badRatio: healthy },
        { samples: (24 * 60 * 60) / slowSample, badRatio: slowRatio },
      ]),
      alert_rule_test: [
        alertTest(slowStart - step, SLO_ALERTS.page, false, slo),
        alertTest(slowStart - step, SLO_ALERTS.ticket, false, slo),
        alertTest(at(slowStart + slowFires - slowMargin, "down"), SLO_ALERTS.ticket, false, slo),
        alertTest(at(slowStart + slowFires + slowMargin, "up"), SLO_ALERTS.ticket, true, slo),
        ...[60, 6 * 60, 12 * 60, 20 * 60, 24 * 60 - step].map((offset) => alertTest(slowStart + offset, SLO_ALERTS.page, false, slo)),
      ],
    },
  };
  return [fast, slow];
}
