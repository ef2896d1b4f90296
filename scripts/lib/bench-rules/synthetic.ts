/**
 * Synthetic history for the rule-evaluation benchmark, as an OpenMetrics text file for
 * `promtool tsdb create-blocks-from openmetrics` (prometheus/prometheus cmd/promtool/backfill.go: it
 * reads the file once per block range and appends every sample in it; the text must end with
 * `# EOF`, and a family's samples come together, each series in time order, as
 * model/textparse/openmetricsparse.go requires).
 *
 * promtool re-parses the whole file for every 2-hour block it writes (backfill.go, createBlocks: one
 * pass over the input per block range), so a month in one file is read 360 times: the history is
 * written one file per 2-hour window (writeWindow) and backfilled file by file.
 *
 * What the SLO rules read, per service: the blackbox probe (`probe_success`, 0 or 1, failing at half the
 * 99.9% budget's rate) and the two buckets of the latency histogram the latency SLO selects (the
 * threshold's and `+Inf`). Other buckets and series never enter a rule's evaluation, so they would only
 * cost backfill time. And, for a rule structure that derives its long windows from recorded series,
 * those recorded series (named by the caller, read from the rendered rule file) over their own span
 * and step: the bench measures that structure as it runs after a full window of history.
 */
import * as fs from "fs";

export interface RawSeriesSpec {
  services: readonly string[];
  /** The `job` of the probe series, as the rendered rules select it. */
  probeJob: string;
  /** The histogram's bucket series name and the threshold's `le` value. */
  bucketMetric: string;
  thresholdLe: string;
}

export interface RecordedSeriesSpec {
  metric: string;
  labels: Record<string, string>;
  /** Value of each sample (a per-tile count). */
  value: number;
}

export interface Span {
  /** Unix seconds of the last sample. */
  endSeconds: number;
  spanSeconds: number;
  stepSeconds: number;
}

const REQUESTS_PER_STEP = 100;

/** Writes the samples with `fromSeconds <= t < toSeconds` to the file and returns how many it holds. */
export function writeOpenMetrics(
  file: string,
  raw: RawSeriesSpec,
  rawSpan: Span,
  recorded: readonly RecordedSeriesSpec[],
  recordedSpan: Span,
  window: { fromSeconds: number; toSeconds: number },
): number {
  const fd = fs.openSync(file, "w");
  let buffer: string[] = [];
  let samples = 0;
  const flush = () => {
    fs.writeSync(fd, buffer.join(""));
    buffer = [];
  };
  const push = (line: string) => {
    buffer.push(line);
    if (buffer.length >= 50_000) flush();
  };
  const times = (span: Span) => {
    const count = Math.floor(span.spanSeconds / span.stepSeconds);
    return Array.from({ length: count }, (_, i) => ({ i, t: span.endSeconds - (count - 1 - i) * span.stepSeconds })).filter(
      ({ t }) => t >= window.fromSeconds && t < window.toSeconds,
    );
  };
  const rawTimes = times(rawSpan);
  const labelText = (labels: Record<string, string>) =>
    Object.entries(labels)
      .map(([key, value]) => `${key}="${value}"`)
      .join(",");

  if (rawTimes.length > 0) push("# TYPE probe_success gauge\n");
  for (const service of rawTimes.length > 0 ? raw.services : []) {
    const labels = labelText({ job: raw.probeJob, service, instance: `http://${service}:8000/health` });
    for (const { i, t } of rawTimes) push(`probe_success{${labels}} ${i % 2000 === 1999 ? 0 : 1} ${t}\n`);
    samples += rawTimes.length;
  }
  // `unknown`: the bucket series alone, without the histogram family's other series.
  if (rawTimes.length > 0) push(`# TYPE ${raw.bucketMetric} unknown\n`);
  for (const service of rawTimes.length > 0 ? raw.services : []) {
    for (const le of [raw.thresholdLe, "+Inf"]) {
      const labels = labelText({ job: service, service, instance: `${service}:8000`, le });
      const perStep = le === "+Inf" ? REQUESTS_PER_STEP : REQUESTS_PER_STEP * 0.995;
      for (const { i, t } of rawTimes) push(`${raw.bucketMetric}{${labels}} ${(i + 1) * perStep} ${t}\n`);
      samples += rawTimes.length;
    }
  }
  const recordedTimes = times(recordedSpan);
  const byMetric = new Map<string, RecordedSeriesSpec[]>();
  for (const series of recorded) byMetric.set(series.metric, [...(byMetric.get(series.metric) ?? []), series]);
  for (const [metric, series] of recordedTimes.length > 0 ? byMetric : new Map<string, RecordedSeriesSpec[]>()) {
    push(`# TYPE ${metric} gauge\n`);
    for (const one of series) {
      const labels = labelText(one.labels);
      for (const { t } of recordedTimes) push(`${metric}{${labels}} ${one.value} ${t}\n`);
      samples += recordedTimes.length;
    }
  }
  push("# EOF\n");
  flush();
  fs.closeSync(fd);
  return samples;
}
