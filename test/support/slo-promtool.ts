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

/**
 * The SLI's input series for the phases, with `labels` added to each (by default the SLO's scope: the
 * external labels a backend's series of the environment carry).
 */
function inputSeries(slo: SloDefinition, phases: Phase[], labels: Record<string, string> = slo.scope): { series: string; values: string }[] {
  const extra = Object.entries(labels)
    .map(([name, value]) => `, ${name}="${value}"`)
    .join("");
  const service = `service="${slo.service}"${extra}`;
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
  const scope = Object.entries(slo.scope).map(([name, value]) => `${name}="${value}", `);
  const errors = scope.reduce(
    (rest, matcher) => rest.replace(matcher, ""),
    /rate\([^{]+\{service="[^"]+", ([^}]+)\}/.exec(slo.errorRatio("5m"))?.[1] as string,
  );
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

/**
 * An instance's labels: those of its SLO's recorded budget left (the service's labels, which hold the
 * scope, with slo and window) and the rule's severity.
 */
const alertLabels = (slo: SloDefinition, alert: string) => ({
  ...slo.labels,
  slo: slo.slo,
  window: slo.window,
  severity: alert === SLO_ALERTS.page ? "critical" : "warning",
});

const alertTest = (at: number, alert: string, firing: boolean, slo: SloDefinition) => ({
  eval_time: minutes(at),
  alertname: alert,
  exp_alerts: firing ? [{ exp_labels: alertLabels(slo, alert) }] : [],
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

/** A series' text with the labels in PromQL form, as promtool's exp_samples take it. */
function seriesText(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(", ")}}`;
}

/**
 * Several SLOs with data at once, each with its own budget: 6h healthy (errors at half the budget's
 * rate), then a full outage of all. Each SLO's page fires at its own time (the workbook's arithmetic
 * with its own budget): at every checked minute, the instances firing are exactly the SLOs past their
 * time, none of those still before it. Minutes within the margin of any SLO's time are not checked, and
 * the case insists on a minute where some fire and others do not (so each threshold is its own).
 * `otherEnvironment`: the same series under other labels (another environment's, in a shared backend),
 * in a full outage from the start, which must change nothing of these SLOs' alerts.
 */
export function severalSlosCase(slos: readonly SloDefinition[], name: string, otherEnvironment?: Record<string, string>): PromtoolCase {
  const perMinute = 60 / SAMPLE_SECONDS;
  const start = 6 * 60;
  const outage = 60;
  const margin = 2;
  const fires = slos.map((slo) => firesAfterMinutes(BURN_RATE_ALERTS.page, slo.budget, 1, slo.budget / 2, start));
  const candidates = [...new Set(fires.flatMap((at) => [Math.floor(at - margin), Math.ceil(at + margin)]))]
    .filter((t) => t >= 1 && t <= outage)
    .sort((a, b) => a - b);
  const checked = candidates.filter((t) => fires.every((at) => t <= at - margin || t >= at + margin));
  const firingAt = (t: number) => slos.filter((_, i) => t >= fires[i] + margin);
  if (!checked.some((t) => firingAt(t).length > 0 && firingAt(t).length < slos.length)) {
    throw new Error(`${name}: no checked minute where some SLOs page and others do not (fire times ${fires.join(", ")})`);
  }
  const phases = (slo: SloDefinition): Phase[] => [
    { samples: start * perMinute, badRatio: slo.budget / 2 },
    { samples: outage * perMinute, badRatio: 1 },
  ];
  const allBad: Phase[] = [{ samples: (start + outage) * perMinute, badRatio: 1 }];
  return {
    name: `${name}: ${slos.length} SLOs at once, each paging at its own time (${fires.map((at) => at.toFixed(1)).join(", ")} min into a full outage)`,
    evaluationInterval: "1m",
    checks: checked.map((t) => `${t} min: ${firingAt(t).length} of ${slos.length} paging`),
    test: {
      name: `${name} several SLOs`,
      interval: `${SAMPLE_SECONDS}s`,
      input_series: [
        ...slos.flatMap((slo) => inputSeries(slo, phases(slo))),
        ...(otherEnvironment ? slos.flatMap((slo) => inputSeries(slo, allBad, otherEnvironment)) : []),
      ],
      alert_rule_test: [
        { eval_time: minutes(start - 1), alertname: SLO_ALERTS.page, exp_alerts: [] },
        { eval_time: minutes(start - 1), alertname: SLO_ALERTS.ticket, exp_alerts: [] },
        ...checked.map((t) => ({
          eval_time: minutes(start + t),
          alertname: SLO_ALERTS.page,
          exp_alerts: firingAt(t).map((slo) => ({ exp_labels: alertLabels(slo, SLO_ALERTS.page) })),
        })),
      ],
    },
  };
}

/**
 * A backend shared by two environments, each with its Grafana recording its SLOs into it (each
 * environment's rule file, rendered with its scope, is loaded; the test loads both): `first` has no
 * bad event, `second` nothing else. And the 5-minute counts recorded before the scope existed (Grafana
 * recording at commit 51146ed: the same names, without `environment`) are still in the window. Every
 * SLO's long ratios and budget left come out once per environment, each from its own events only
 * (exactly 0 and 1, budget left 1 and 1 - 1/budget), and only the second environment's SLOs alert.
 */
export function sharedBackendCase(first: readonly SloDefinition[], second: readonly SloDefinition[]): PromtoolCase {
  const perMinute = 60 / SAMPLE_SECONDS;
  const span = 120;
  const at = minutes(span);
  const ratio = (slo: SloDefinition, value: number, range: string) => ({
    labels: seriesText(`service_slo:slo_errors_per_request:ratio_rate${range}`, { ...slo.labels, slo: slo.slo }),
    value,
  });
  const budgetLeft = (slo: SloDefinition, errorRatio: number) => ({
    labels: seriesText("service_slo:slo_error_budget_remaining:ratio", { ...slo.labels, slo: slo.slo, window: slo.window }),
    value: 1 - errorRatio / slo.budget,
  });
  const ranges = [...new Set(first.flatMap((slo) => ["1d", "3d", slo.window]))];
  // Unscoped 5-minute counts of every SLO, half of the events bad: they would move both environments' ratios.
  const samples = span * perMinute;
  const unscoped = first.flatMap((slo) => [
    { series: seriesText("service_slo:slo_errors:increase5m", { service: slo.service, slo: slo.slo }), values: `5x${samples}` },
    { series: seriesText("service_slo:slo_requests:increase5m", { service: slo.service, slo: slo.slo }), values: `10x${samples}` },
  ]);
  return {
    name: `two environments in one backend: ${first.length} SLOs each, every long ratio and budget left from its own environment's events only`,
    evaluationInterval: "1m",
    checks: [`${ranges.join(", ")} ratios and the budget left once per SLO and environment; only the failing environment's alerts fire`],
    test: {
      name: "two environments in one backend",
      interval: `${SAMPLE_SECONDS}s`,
      input_series: [
        ...first.flatMap((slo) => inputSeries(slo, [{ samples, badRatio: 0 }])),
        ...second.flatMap((slo) => inputSeries(slo, [{ samples, badRatio: 1 }])),
        ...unscoped,
      ],
      promql_expr_test: [
        ...ranges.map((range) => ({
          expr: `service_slo:slo_errors_per_request:ratio_rate${range}`,
          eval_time: at,
          exp_samples: [
            ...first.filter((slo) => slo.window === range || range === "1d" || range === "3d").map((slo) => ratio(slo, 0, range)),
            ...second.filter((slo) => slo.window === range || range === "1d" || range === "3d").map((slo) => ratio(slo, 1, range)),
          ],
        })),
        {
          expr: "service_slo:slo_error_budget_remaining:ratio",
          eval_time: at,
          exp_samples: [...first.map((slo) => budgetLeft(slo, 0)), ...second.map((slo) => budgetLeft(slo, 1))],
        },
      ],
      alert_rule_test: [SLO_ALERTS.page, SLO_ALERTS.ticket].map((alert) => ({
        eval_time: at,
        alertname: alert,
        exp_alerts: second.map((slo) => ({ exp_labels: alertLabels(slo, alert) })),
      })),
    },
  };
}

/**
 * A catalog metadata label changed on this stack's own Prometheus (`team` from "a" to "b" half an
 * hour ago; `slo` is rendered with team "b"): the 5-minute counts under both labellings lie in the
 * long windows, and the ratios and the budget recorded under the old one are still within the
 * 5-minute lookback. The counts are given as input (what the events rules recorded then and now),
 * so the expected values are exact: the long ratio is all bad events over all events of both
 * labellings, once; the budget left reads it once; and both alerts fire once, with the new labels.
 */
export function metadataChangeCase(slo: SloDefinition, old: Record<string, string>): PromtoolCase {
  const span = 60;
  const changed = 30;
  const at = minutes(span);
  const current = { ...slo.labels, slo: slo.slo };
  const before = { ...current, ...old };
  const series = (name: string, labels: Record<string, string>, values: string) => ({ series: seriesText(name, labels), values });
  // Every minute: old labelling 1 bad of 20 up to `changed`, the new one 3 of 20 after it.
  const errors = (changed + 1) * 1 + (span - changed) * 3;
  const requests = (span + 1) * 20;
  const longRatio = errors / requests;
  // Old labelling, its last sample 2 minutes before the evaluation: still within the lookback.
  const recent = `x${span - 2}`;
  return {
    name: `${slo.service} ${slo.slo}: a metadata label changed (${Object.keys(old).join(", ")}), both labellings in the windows`,
    evaluationInterval: "1m",
    checks: ["long ratios and budget left once, over both labellings' counts; page and ticket once, with the new labels"],
    test: {
      name: "metadata label change",
      interval: "1m",
      input_series: [
        series("service_slo:slo_errors:increase5m", before, `1x${changed}`),
        series("service_slo:slo_requests:increase5m", before, `20x${changed}`),
        series("service_slo:slo_errors:increase5m", current, `_x${changed} 3x${span - changed - 1}`),
        series("service_slo:slo_requests:increase5m", current, `_x${changed} 20x${span - changed - 1}`),
        // The raw-sample ratios (no raw series here, so the rules record none): high under both labellings.
        ...["5m", "30m", "1h", "2h", "6h"].flatMap((range) => [
          series(`service_slo:slo_errors_per_request:ratio_rate${range}`, current, `0.5x${span}`),
          series(`service_slo:slo_errors_per_request:ratio_rate${range}`, before, `0.5${recent}`),
        ]),
        // What the long group recorded under the old labelling: the window's ratio (lower) and the budget.
        series(`service_slo:slo_errors_per_request:ratio_rate${slo.window}`, before, `0.01${recent}`),
        series("service_slo:slo_error_budget:ratio", before, `${slo.budget}${recent}`),
      ],
      promql_expr_test: [
        ...[...new Set(["1d", "3d", slo.window])].map((range) => ({
          expr: `service_slo:slo_errors_per_request:ratio_rate${range}{${Object.entries(slo.labels)
            .map(([name, value]) => `${name}="${value}"`)
            .join(", ")}}`,
          eval_time: at,
          exp_samples: [{ labels: seriesText(`service_slo:slo_errors_per_request:ratio_rate${range}`, current), value: longRatio }],
        })),
        {
          expr: "service_slo:slo_error_budget_remaining:ratio",
          eval_time: at,
          exp_samples: [
            { labels: seriesText("service_slo:slo_error_budget_remaining:ratio", { ...current, window: slo.window }), value: 1 - longRatio / slo.budget },
          ],
        },
      ],
      alert_rule_test: [SLO_ALERTS.page, SLO_ALERTS.ticket].map((alert) => ({
        eval_time: at,
        alertname: alert,
        exp_alerts: [{ exp_labels: alertLabels(slo, alert) }],
      })),
    },
  };
}
