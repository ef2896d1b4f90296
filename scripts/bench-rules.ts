/**
 * The SLO recording rules on a real Prometheus (Debian's 2.42): how long each rule group takes to
 * evaluate against its interval, for the structure before per-service groups (two groups for the
 * whole catalog, every window from raw samples; components/ of OLD_STRUCTURE_COMMIT) and the current
 * one (three groups per service, long windows summed from 5-minute counts; components/slo/rule-groups.ts),
 * side by side in one run, on the same backfilled history.
 *
 * History (`promtool tsdb create-blocks-from openmetrics`): for SERVICES services, one day of the
 * probe and the two histogram buckets the rules select, every 30 s; and, for the current structure,
 * its 5-minute counts over the longest window (30d), as they stand after a month of running. The old
 * structure's 1d, 3d and 30d windows then read one day of raw samples; a month at 15 s reads more:
 * the extrapolation scales each group's measured time by the samples its rules would read (duration
 * proportional to samples read, which dominate: the issue's measurement read 7 M samples in 1.6 s)
 * and by the number of services (the old groups hold every service's rules; the new ones one service's).
 *
 * Run alone (`node scripts/run-ts.js scripts/bench-rules.ts [services]`) or from `npm run bench`.
 * Takes about 10 minutes (groups of 1 and 5 minutes must run a few times). A script, not a test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../components/config/resolve";
import { renderSloRuleFile, sloDefinitions } from "../components/slo/slo-rules";
import { RECORDED } from "../components/slo/rule-groups";
import { durationMs } from "../components/lib/validators";
import { BENCH_PROMETHEUS, benchServices } from "./lib/bench-rules/catalog";
import { loadOldStructure, OLD_STRUCTURE_COMMIT } from "./lib/bench-rules/old-structure";
import { backfill, compact, GroupFigures, measureRules } from "./lib/bench-rules/prometheus-run";
import { writeOpenMetrics, type RecordedSeriesSpec } from "./lib/bench-rules/synthetic";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RAW_SPAN_SECONDS = 24 * 3600;
const RAW_STEP_SECONDS = 30;
/** What production scrapes at (the stack's default scrape interval). */
const PRODUCTION_SCRAPE_SECONDS = 15;
const TARGET_SERVICES = 2000;

interface RuleFileGroup {
  name: string;
  interval?: string;
  rules: { record: string; expr: string; labels?: Record<string, string> }[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
};
const seconds = (value: number) => `${value.toFixed(value < 0.1 ? 4 : 3)} s`;

/** The seconds of raw history a range reads: all of it when the history is shorter. */
const rangeSeconds = (range: string) => durationMs(range) / 1000;

/**
 * Samples the rules of a group would read at the target (15 s scrapes, full windows) over what they
 * read here (30 s samples, one day of raw history; the 5-minute counts over their full span): the
 * ranges come from the rules' own expressions, each `[range]` of a raw selector counted once.
 */
function sampleScale(group: RuleFileGroup): number {
  let here = 0;
  let target = 0;
  for (const rule of group.rules) {
    for (const match of rule.expr.matchAll(/(\w+(?::\w+)*)\{[^}]*\}\[(\w+)\]/g)) {
      const [, metric, range] = match;
      if (metric === RECORDED.errors || metric === RECORDED.requests) {
        // Recorded every 5 minutes and backfilled over the full window: read here as in production.
        here += rangeSeconds(range) / 300;
        target += rangeSeconds(range) / 300;
      } else {
        here += Math.min(rangeSeconds(range), RAW_SPAN_SECONDS) / RAW_STEP_SECONDS;
        target += rangeSeconds(range) / PRODUCTION_SCRAPE_SECONDS;
      }
    }
  }
  return here === 0 ? 1 : target / here;
}

/** The kind of a group: its name up to the service (the old structure's groups are their own kind). */
const kindOf = (group: string) => group.split(":")[0];

interface KindFigures {
  kind: string;
  groups: number;
  rulesPerGroup: number;
  intervalSeconds: number;
  medianSeconds: number;
  maxSeconds: number;
  missed: number;
  /** Seconds of evaluation per second of wall time, all groups of the kind (cores kept busy). */
  load: number;
  scale: number;
  /** Services whose rules one group of this kind holds (all of them for the old structure). */
  servicesPerGroup: number;
}

function byKind(groups: GroupFigures[], file: RuleFileGroup[], services: number): KindFigures[] {
  const kinds = new Map<string, GroupFigures[]>();
  for (const group of groups) kinds.set(kindOf(group.group), [...(kinds.get(kindOf(group.group)) ?? []), group]);
  return [...kinds].map(([kind, members]) => {
    const perGroup = members.map((g) => median(g.durations)).filter((d) => !Number.isNaN(d));
    const sample = file.find((g) => kindOf(g.name) === kind) as RuleFileGroup;
    const perService = sample.name.includes(":");
    return {
      kind,
      groups: members.length,
      rulesPerGroup: median(members.map((g) => g.rules)),
      intervalSeconds: members[0].intervalSeconds,
      medianSeconds: median(perGroup),
      maxSeconds: Math.max(...perGroup),
      missed: members.reduce((sum, g) => sum + g.missed, 0),
      load: perGroup.reduce((sum, d) => sum + d, 0) / members[0].intervalSeconds,
      scale: sampleScale(sample),
      servicesPerGroup: perService ? 1 : services,
    };
  });
}

function report(label: string, kinds: KindFigures[], services: number): string[] {
  const lines = [`  ${label}`];
  for (const k of kinds) {
    const fits = k.maxSeconds < k.intervalSeconds && k.missed === 0;
    lines.push(
      `    ${k.kind.padEnd(22)} ${String(k.groups).padStart(4)} group(s) of ${String(k.rulesPerGroup).padStart(5)} rules every ${k.intervalSeconds} s: ` +
        `median ${seconds(k.medianSeconds)}, slowest ${seconds(k.maxSeconds)} (${((100 * k.maxSeconds) / k.intervalSeconds).toFixed(1)}% of the interval), ` +
        `${k.missed} missed iterations; goal: every evaluation within its interval, none missed: ${fits ? "met" : "NOT met"}`,
    );
  }
  const load = kinds.reduce((sum, k) => sum + k.load, 0);
  lines.push(`    all groups keep ${(100 * load).toFixed(1)}% of one core busy at ${services} services`);
  // Extrapolated: each group's time scaled by the samples its rules would read at 15 s scrapes over full
  // windows, and a catalog-wide group by the growth of the catalog.
  const growth = TARGET_SERVICES / services;
  lines.push(`    extrapolated to ${TARGET_SERVICES} services, 15 s scrapes and full 30d windows (time proportional to samples read):`);
  let targetLoad = 0;
  for (const k of kinds) {
    const perGroupGrowth = k.servicesPerGroup === 1 ? 1 : growth;
    const slowest = k.maxSeconds * k.scale * perGroupGrowth;
    const groups = k.servicesPerGroup === 1 ? k.groups * growth : k.groups;
    targetLoad += (k.medianSeconds * k.scale * perGroupGrowth * groups) / k.intervalSeconds;
    lines.push(
      `      ${k.kind.padEnd(22)} ${String(groups).padStart(5)} group(s): slowest evaluation ~${seconds(slowest)} per ${k.intervalSeconds} s interval ` +
        `(x${k.scale.toFixed(1)} samples${perGroupGrowth > 1 ? `, x${perGroupGrowth} rules` : ""}); goal: within the interval: ${slowest < k.intervalSeconds ? "met" : "NOT met"}`,
    );
  }
  // Informational: what all groups together keep busy (the goal is per group: no evaluation outlasting its interval).
  lines.push(`      all groups: ~${targetLoad.toFixed(2)} cores busy evaluating rules`);
  return lines;
}

/** Every figure of the rule-evaluation bench, as lines to print. */
export async function ruleEvaluationBench(services = 200): Promise<string[]> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-bench-rules-"));
  try {
    const { config } = resolveStackConfig({ stack: "bench", values: { services: benchServices(services), prometheus: BENCH_PROMETHEUS }, secretKeys: [] });
    const evaluationInterval = config.prometheus.evaluationInterval;
    const newFile = renderSloRuleFile(sloDefinitions(config.services), evaluationInterval);
    const old = loadOldStructure(PROJECT_DIR, workDir);
    const oldFile = typeof old === "string" ? undefined : old.renderSloRuleFile(old.sloDefinitions(config.services), evaluationInterval);
    const files = { old: oldFile, new: newFile };
    const parsed = (text: string) => (yaml.load(text) as { groups: RuleFileGroup[] }).groups;

    // The history: raw series, and the current structure's 5-minute counts over 30d.
    const newGroups = parsed(newFile);
    const probeJob = /probe_success\{job="([^"]+)"/.exec(newFile)?.[1] ?? "blackbox-health";
    const recorded: RecordedSeriesSpec[] = newGroups.flatMap((group) =>
      group.rules
        .filter((rule) => rule.record === RECORDED.errors || rule.record === RECORDED.requests)
        .map((rule) => ({ metric: rule.record, labels: rule.labels ?? {}, value: rule.record === RECORDED.requests ? 2000 : 1 })),
    );
    const end = Math.floor(Date.now() / 1000) - 120;
    const openMetrics = path.join(workDir, "history.om");
    const started = Date.now();
    const data = path.join(workDir, "data");
    const recordedSpan = { endSeconds: end, spanSeconds: 30 * 24 * 3600, stepSeconds: 300 };
    const block = 2 * 3600;
    let samples = 0;
    // One file per 2-hour block (promtool reads its input once per block it writes).
    for (let from = Math.floor((end - recordedSpan.spanSeconds) / block) * block; from <= end; from += block) {
      const written = writeOpenMetrics(
        openMetrics,
        { services: config.services.map((s) => s.name), probeJob, bucketMetric: "http_request_duration_seconds_bucket", thresholdLe: "0.5" },
        { endSeconds: end, spanSeconds: RAW_SPAN_SECONDS, stepSeconds: RAW_STEP_SECONDS },
        recorded,
        recordedSpan,
        { fromSeconds: from, toSeconds: from + block },
      );
      if (written > 0) backfill(openMetrics, data);
      samples += written;
    }
    fs.rmSync(openMetrics, { force: true });
    const blocks = await compact(workDir, data, 300);
    const lines = [
      `SLO rule evaluation on a real Prometheus (${services} services, an availability and a latency SLO each, evaluation interval ${evaluationInterval}):`,
      `  history: ${(samples / 1e6).toFixed(1)} M samples backfilled with promtool (1 day of raw series every ${RAW_STEP_SECONDS} s; 30 days of 5-minute counts), ` +
        `${blocks} blocks after compaction, prepared in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    ];

    for (const which of ["old", "new"] as const) {
      const text = files[which];
      const title =
        which === "old"
          ? `before: two groups for the whole catalog (components/ of ${OLD_STRUCTURE_COMMIT.slice(0, 7)})`
          : "now: three groups per service (components/slo/rule-groups.ts)";
      if (!text) {
        lines.push(`  ${title}: not measured: ${old as string}`);
        continue;
      }
      const runData = path.join(workDir, `data-${which}`);
      fs.cpSync(data, runData, { recursive: true });
      const ruleFile = path.join(workDir, `${which}.yml`);
      fs.writeFileSync(ruleFile, text);
      // Three evaluations of every group of a minute or less (the median leaves the cold first one out), one of the 5-minute groups.
      const run = await measureRules(workDir, runData, ruleFile, evaluationInterval, (interval) => (interval >= 300 ? 1 : 3), 480);
      fs.rmSync(runData, { recursive: true, force: true });
      const groups = parsed(text);
      lines.push(
        ...report(
          `${title}; ${(text.length / 1024 / 1024).toFixed(1)} MiB rule file, measured for ${run.wallSeconds.toFixed(0)} s${run.samplesLoaded !== undefined ? `, ${(run.samplesLoaded / 1e6).toFixed(0)} M samples loaded by the rules` : ""}:`,
          byKind(run.groups, groups, services),
          services,
        ),
      );
    }
    lines.push(`  (this machine: ${os.cpus().length} cores, shared; each structure measured alone on a copy of the same history)`);
    return lines;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (path.resolve(process.argv[1] ?? "") === __filename) {
  const services = Number(process.argv[2] ?? 200);
  ruleEvaluationBench(services)
    .then((lines) => console.log(lines.join("\n")))
    .catch((error: Error) => {
      console.error(error.stack ?? error.message);
      process.exit(1);
    });
}
