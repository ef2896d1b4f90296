/**
 * One real Prometheus (Debian's 2.42, as the tests use) on 127.0.0.1 over a prepared TSDB, evaluating
 * one rule file, and what its own metrics say about each rule group. Prometheus's rule manager
 * (prometheus/prometheus rules/manager.go, Group.run and Group.Eval) evaluates a group's rules one
 * after the other every `interval`; when an evaluation outlasts the interval, the next ones are
 * skipped and counted in `prometheus_rule_group_iterations_missed_total`. Each evaluation's wall time is
 * `prometheus_rule_group_last_duration_seconds{rule_group="<file>;<group>"}`.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export interface GroupFigures {
  group: string;
  intervalSeconds: number;
  rules: number;
  /** Every evaluation's duration seen (one per change of the last-evaluation timestamp), seconds. */
  durations: number[];
  missed: number;
  iterations: number;
}

export interface RunFigures {
  groups: GroupFigures[];
  /** Samples the query engine loaded while the rules ran (prometheus_engine_query_samples_total), when exposed. */
  samplesLoaded?: number;
  wallSeconds: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metricsText(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** `name{labels} value` lines of one metric, as {labels text, value}. */
function samplesOf(text: string, name: string): { labels: string; value: number }[] {
  const found: { labels: string; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] === name) found.push({ labels: match[2] ?? "", value: Number(match[3]) });
  }
  return found;
}

const groupOf = (labels: string) => /rule_group="[^;"]*;([^"]*)"/.exec(labels)?.[1];

export interface PrometheusProcess {
  port: number;
  child: ChildProcess;
  stop: () => Promise<void>;
}

export async function startPrometheus(dir: string, dataDir: string, ruleFile: string | undefined, evaluationInterval: string): Promise<PrometheusProcess> {
  const port = await freePort();
  const configFile = path.join(dir, `prometheus-${port}.yml`);
  fs.writeFileSync(
    configFile,
    `global:\n  evaluation_interval: ${evaluationInterval}\n${ruleFile ? `rule_files:\n  - ${JSON.stringify(ruleFile)}\n` : ""}scrape_configs: []\n`,
  );
  const log = fs.openSync(path.join(dir, `prometheus-${port}.log`), "w");
  const child = spawn(
    "prometheus",
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      "--storage.tsdb.retention.time=90d",
      `--web.listen-address=127.0.0.1:${port}`,
      // The query log limit Prometheus applies to a rule's query (50M samples) is the default.
    ],
    { stdio: ["ignore", log, log] },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: see ${path.join(dir, `prometheus-${port}.log`)}`);
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      if (ready.ok) return { port, child, stop };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stop();
  throw new Error("prometheus did not become ready within 120 s");
}

/**
 * Backfilled 2h blocks are compacted by Prometheus in the background once a minute (tsdb/db.go,
 * DB.run): let that finish before timing rules, with no rules loaded, so the rules are timed on
 * compacted blocks as a long-running server has them, and no compaction competes for the CPU.
 */
export async function compact(dir: string, dataDir: string, maxSeconds: number): Promise<number> {
  const prometheus = await startPrometheus(dir, dataDir, undefined, "1m");
  try {
    let last = -1;
    let stableFor = 0;
    const started = Date.now();
    while (Date.now() - started < maxSeconds * 1000) {
      await sleep(10_000);
      const text = await metricsText(prometheus.port);
      const blocks = text ? samplesOf(text, "prometheus_tsdb_blocks_loaded")[0]?.value : undefined;
      const compactions = text ? samplesOf(text, "prometheus_tsdb_compactions_total")[0]?.value : undefined;
      if (blocks === undefined) continue;
      // Stable: the block count unchanged over 20 s after at least one compaction pass.
      if (blocks === last && (compactions ?? 0) >= 0 && Date.now() - started > 70_000) stableFor++;
      else stableFor = 0;
      last = blocks;
      if (stableFor >= 2) break;
    }
    return last;
  } finally {
    await prometheus.stop();
  }
}

/**
 * Runs the rule file until every group has evaluated `evaluations(interval)` times or `maxSeconds`
 * pass, polling /metrics every 2 s. Every evaluation is kept, the first too (cold caches): the report
 * takes medians.
 */
export async function measureRules(
  dir: string,
  dataDir: string,
  ruleFile: string,
  evaluationInterval: string,
  evaluations: (intervalSeconds: number) => number,
  maxSeconds: number,
): Promise<RunFigures> {
  const prometheus = await startPrometheus(dir, dataDir, ruleFile, evaluationInterval);
  const started = Date.now();
  const groups = new Map<string, GroupFigures>();
  const lastSeen = new Map<string, number>();
  let samplesAtStart: number | undefined;
  let samplesAtEnd: number | undefined;
  try {
    while (Date.now() - started < maxSeconds * 1000) {
      await sleep(2_000);
      const text = await metricsText(prometheus.port);
      if (!text) continue;
      const loaded = samplesOf(text, "prometheus_engine_query_samples_total")[0]?.value;
      samplesAtStart ??= loaded;
      samplesAtEnd = loaded;
      const value = (name: string) => new Map(samplesOf(text, name).map((s) => [groupOf(s.labels) as string, s.value]));
      const interval = value("prometheus_rule_group_interval_seconds");
      const rules = value("prometheus_rule_group_rules");
      const lastEvaluation = value("prometheus_rule_group_last_evaluation_timestamp_seconds");
      const lastDuration = value("prometheus_rule_group_last_duration_seconds");
      const missed = value("prometheus_rule_group_iterations_missed_total");
      const iterations = value("prometheus_rule_group_iterations_total");
      for (const [group, seconds] of interval) {
        const figures = groups.get(group) ?? { group, intervalSeconds: seconds, rules: rules.get(group) ?? 0, durations: [], missed: 0, iterations: 0 };
        groups.set(group, figures);
        const evaluatedAt = lastEvaluation.get(group) ?? 0;
        const previous = lastSeen.get(group);
        if (evaluatedAt > 0 && evaluatedAt !== previous) {
          figures.durations.push(lastDuration.get(group) ?? 0);
          lastSeen.set(group, evaluatedAt);
        }
        figures.missed = missed.get(group) ?? 0;
        figures.iterations = iterations.get(group) ?? 0;
      }
      if (groups.size > 0 && [...groups.values()].every((g) => g.durations.length >= evaluations(g.intervalSeconds))) break;
    }
  } finally {
    await prometheus.stop();
  }
  return {
    groups: [...groups.values()],
    samplesLoaded: samplesAtStart !== undefined && samplesAtEnd !== undefined ? samplesAtEnd - samplesAtStart : undefined,
    wallSeconds: (Date.now() - started) / 1000,
  };
}

/** `promtool tsdb create-blocks-from openmetrics`, into `dataDir`. */
export function backfill(openMetricsFile: string, dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const result = spawnSync("promtool", ["tsdb", "create-blocks-from", "openmetrics", "--quiet", openMetricsFile, dataDir], {
    encoding: "utf8",
    timeout: 1_800_000,
  });
  if (result.status !== 0) throw new Error(`promtool create-blocks-from openmetrics failed: ${result.stderr || result.stdout}`);
}
