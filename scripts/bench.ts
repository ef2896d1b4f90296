/**
 * `npm run bench`: how the offline plan scales. Plans the dev stack and a generated stack with
 * 200 services and 50 dashboards (a copy of the program in a temp folder, so the real code runs),
 * with and without the logs stage, each in a fresh process, three times, and reports medians, the
 * ratio, the cost per resource and what the logs stage adds. Every generated service has an availability and
 * a latency objective (the SLO room): the same stack is planned without them, and the SLO renderers'
 * output (recording rules, alert rules, rule file size) is measured at 50, 100 and 200 services.
 * Past one host, it also plans an agent host and a central stack with every backend external, each
 * with the 200 services. At scale, it plans 2,000 services with two SLOs each against the goals of
 * issue 23 (time, peak memory, largest rule-group resource), and times the SLO rule groups on a real
 * Prometheus, the structure before per-service groups and today's side by side (scripts/bench-rules.ts).
 * A script, not a test: it prints figures and never fails on a slow machine.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveStackConfig } from "../components/config/resolve";
import { burnRateAlerts, renderSloRuleFile, sloDefinitions } from "../components/slo/slo-rules";
import { BENCH_PROMETHEUS, benchServices } from "./lib/bench-rules/catalog";
import { ruleEvaluationBench } from "./bench-rules";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RUNS = 3;
const LARGE_SERVICES = 2000;
/** Goals of the 2,000-service plan (issue 23): time inside the process, peak memory, the largest single rule group resource. */
const LARGE_GOALS = { elapsedMs: 3000, peakRssMb: 500, ruleGroupBytes: 300 * 1024 };

interface Sample {
  elapsedMs: number;
  resources: number;
  /** Peak resident memory of the planning process (ru_maxrss). */
  peakRssMb: number;
  ruleGroups: number;
  largestRuleGroup: { name: string; bytes: number };
  largestUpload: { file: string; bytes: number };
}

function planOnce(projectDir: string, stack: string): Sample {
  const result = spawnSync(
    process.execPath,
    [path.join(PROJECT_DIR, "scripts/run-ts.js"), path.join(PROJECT_DIR, "scripts/lib/bench-worker.ts"), projectDir, stack],
    {
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  if (result.status !== 0) throw new Error(`plan of ${stack} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop() as string) as Sample;
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.elapsedMs - b.elapsedMs);
  return sorted[Math.floor(sorted.length / 2)];
}

function generatedProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-bench-"));
  for (const entry of ["index.ts", "Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(PROJECT_DIR, entry), path.join(dir, entry));
  for (const entry of ["node_modules", "alerts"]) fs.symlinkSync(path.join(PROJECT_DIR, entry), path.join(dir, entry));
  // The program's own code, copied with one change: a 2,000-service catalog is more config than the
  // Pulumi CLI can hand to a program (components/config/pulumi-config.ts, configSizeIssues: one
  // PULUMI_CONFIG environment string of at most 128 KiB; the catalog alone is ~490 KB), so the copy
  // lifts that check to time the plan of such a catalog. Every other stack here is within the limit.
  fs.cpSync(path.join(PROJECT_DIR, "components"), path.join(dir, "components"), { recursive: true });
  const configCode = path.join(dir, "components/config/pulumi-config.ts");
  const limitCheck = "if (total <= MAX_PULUMI_CONFIG_BYTES) return [];";
  const code = fs.readFileSync(configCode, "utf8");
  if (!code.includes(limitCheck)) throw new Error(`components/config/pulumi-config.ts no longer has "${limitCheck}": update scripts/bench.ts`);
  fs.writeFileSync(configCode, code.replace(limitCheck, "if (total >= 0) return []; // lifted by scripts/bench.ts"));
  const shipped = fs.readdirSync(path.join(PROJECT_DIR, "dashboards")).filter((f) => f.endsWith(".json"));
  fs.mkdirSync(path.join(dir, "dashboards"));
  for (let i = 0; i < 50; i++) {
    const model = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "dashboards", shipped[i % shipped.length]), "utf8"));
    model.uid = `bench-${i}`;
    model.title = `Bench ${i}`;
    fs.writeFileSync(path.join(dir, "dashboards", `bench-${i}.json`), JSON.stringify(model));
  }
  const services = benchServices(200);
  const withoutSlo = services.map(({ slo: _slo, ...service }) => service);
  const head = `config:\n  atra-observability:appNetworks: ["atra-network"]\n  atra-observability:prometheus: ${JSON.stringify(BENCH_PROMETHEUS)}\n`;
  const common = `${head}  atra-observability:services: ${JSON.stringify(services)}\n`;
  fs.writeFileSync(path.join(dir, "Pulumi.bench.yaml"), common);
  fs.writeFileSync(path.join(dir, "Pulumi.bench-nologs.yaml"), `${common}  atra-observability:logs: { enabled: false }\n`);
  fs.writeFileSync(path.join(dir, "Pulumi.bench-noslo.yaml"), `${head}  atra-observability:services: ${JSON.stringify(withoutSlo)}\n`);
  // The scale goal: 2,000 services, each with an availability and a latency SLO.
  fs.writeFileSync(path.join(dir, "Pulumi.bench-2000.yaml"), `${head}  atra-observability:services: ${JSON.stringify(benchServices(LARGE_SERVICES))}\n`);
  // Past one host: an agent host, and a central stack whose every backend is external (both with 200
  // services; neither evaluates SLOs, and an agent host alerts on nothing itself).
  const agentServices = withoutSlo.map(({ maxLogSilence: _silence, ...service }) => service);
  fs.writeFileSync(path.join(dir, "Pulumi.bench-agent.yaml"), stackFile({ ...AGENT_HOST, services: agentServices }));
  fs.writeFileSync(path.join(dir, "Pulumi.bench-external.yaml"), stackFile({ ...EVERY_BACKEND_EXTERNAL, services: withoutSlo }));
  return dir;
}

/** Secrets as a stack file holds them: encrypted values, which the offline plan stands in for. */
const SECURE = { secure: "v1:bench-placeholder" };
const REMOTE_WRITE = [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "atra-agents" }];

const AGENT_HOST = {
  role: "agent",
  appNetworks: ["atra-network"],
  publicHostname: "app-2.example.internal",
  prometheus: { remoteWrite: REMOTE_WRITE },
  remoteWriteSecrets: { central: SECURE },
  logs: { dataStream: "logs-atra-prod", external: { elasticsearchUrl: "https://logs.example.internal" } },
  logShipperApiKey: SECURE,
};

/** Grafana Cloud, a remote-write backend read back through its query URL (Prometheus in agent mode), Elastic Cloud. */
const EVERY_BACKEND_EXTERNAL = {
  appNetworks: ["atra-network"],
  publicHostname: "obs.example.internal",
  grafana: { external: { url: "https://atra.grafana.net" } },
  grafanaApiToken: SECURE,
  prometheus: { mode: "agent", remoteWrite: REMOTE_WRITE, external: { queryUrl: "https://metrics.example.internal/prometheus", basicAuthUser: "reader" } },
  remoteWriteSecrets: { central: SECURE },
  prometheusQueryPassword: SECURE,
  logs: { external: { elasticsearchUrl: "https://atra.es.example.cloud", kibanaUrl: "https://atra.kb.example.cloud" } },
  elasticApiKey: SECURE,
};

function stackFile(values: Record<string, unknown>): string {
  return `config:\n${Object.entries(values)
    .map(([key, value]) => `  atra-observability:${key}: ${JSON.stringify(value)}\n`)
    .join("")}`;
}

function main(): void {
  const small = median(Array.from({ length: RUNS }, () => planOnce(PROJECT_DIR, "dev")));
  const dir = generatedProject();
  try {
    const large = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench")));
    const withoutLogs = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-nologs")));
    const withoutSlo = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-noslo")));
    const agent = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-agent")));
    const allExternal = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-external")));
    const perSmall = small.elapsedMs / small.resources;
    const perLarge = large.elapsedMs / large.resources;
    console.log(`offline plan, median of ${RUNS} runs each (time inside the process: program + mock engine, no Node start-up)`);
    console.log(
      `  dev stack:                          ${small.elapsedMs.toFixed(0).padStart(6)} ms  ${String(small.resources).padStart(4)} resources  ${perSmall.toFixed(1)} ms/resource`,
    );
    console.log(
      `  200 services + 50 dashboards:       ${large.elapsedMs.toFixed(0).padStart(6)} ms  ${String(large.resources).padStart(4)} resources  ${perLarge.toFixed(1)} ms/resource`,
    );
    console.log(
      `  the same without the logs stage:    ${withoutLogs.elapsedMs.toFixed(0).padStart(6)} ms  ${String(withoutLogs.resources).padStart(4)} resources`,
    );
    console.log(
      `  the logs stage adds ${(large.elapsedMs - withoutLogs.elapsedMs).toFixed(0)} ms and ${large.resources - withoutLogs.resources} resources at 200 services`,
    );
    console.log(
      `  time ratio ${(large.elapsedMs / small.elapsedMs).toFixed(2)} for a resource ratio of ${(large.resources / small.resources).toFixed(2)}; ` +
        `per-resource cost ratio ${(perLarge / perSmall).toFixed(2)} (<= 1 means at most linear)`,
    );
    console.log(
      `  the same without SLOs:              ${withoutSlo.elapsedMs.toFixed(0).padStart(6)} ms  ${String(withoutSlo.resources).padStart(4)} resources ` +
        `(the SLOs add ${(large.elapsedMs - withoutSlo.elapsedMs).toFixed(0)} ms and ${large.resources - withoutSlo.resources} resources at 200 services)`,
    );
    console.log("  past one host, 200 services each (the rows above for comparison):");
    for (const [label, sample] of [
      ["an agent host (role: agent)", agent],
      ["a central stack, every backend external", allExternal],
    ] as const) {
      console.log(
        `    ${label.padEnd(42)} ${sample.elapsedMs.toFixed(0).padStart(6)} ms  ${String(sample.resources).padStart(4)} resources  ` +
          `${(sample.elapsedMs / sample.resources).toFixed(1)} ms/resource`,
      );
    }
    sloFigures();
    console.log(`  goal: dev plan well under 5000 ms: ${small.elapsedMs < 5000 ? "met" : "NOT met"}`);
    const huge = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-2000")));
    const met = (ok: boolean) => (ok ? "met" : "NOT met");
    console.log(`${LARGE_SERVICES} services, each with an availability and a latency SLO, + 50 dashboards (median of ${RUNS}; 200-service figures above):`);
    console.log(
      `  plan ${huge.elapsedMs.toFixed(0)} ms in-process, ${huge.resources} resources; goal under ${LARGE_GOALS.elapsedMs} ms: ${met(huge.elapsedMs < LARGE_GOALS.elapsedMs)}`,
    );
    console.log(
      `  peak memory ${huge.peakRssMb.toFixed(0)} MB (the whole process); goal under ${LARGE_GOALS.peakRssMb} MB: ${met(huge.peakRssMb < LARGE_GOALS.peakRssMb)}`,
    );
    console.log(
      `  ${huge.ruleGroups} Grafana rule groups, the largest ${huge.largestRuleGroup.name} ${(huge.largestRuleGroup.bytes / 1024).toFixed(1)} KiB; ` +
        `goal: none over ${LARGE_GOALS.ruleGroupBytes / 1024} KiB: ${met(huge.largestRuleGroup.bytes <= LARGE_GOALS.ruleGroupBytes)}`,
    );
    console.log(
      `  largest uploaded file ${huge.largestUpload.file} ${(huge.largestUpload.bytes / 1024 / 1024).toFixed(1)} MiB (read by Prometheus at start and reload, not an API body); ` +
        `at 200 services: plan ${large.elapsedMs.toFixed(0)} ms, peak ${large.peakRssMb.toFixed(0)} MB, largest rule group ${(large.largestRuleGroup.bytes / 1024).toFixed(1)} KiB`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What the SLO renderers produce for 50, 100 and 200 services with two objectives each: it should grow linearly. */
function sloFigures(): void {
  console.log("  SLO rules (two objectives per service): services, recording rules, Grafana alert rules, rule file, render time");
  const perService: number[] = [];
  for (const count of [50, 100, 200]) {
    const { config } = resolveStackConfig({ stack: "bench", values: { services: benchServices(count), prometheus: BENCH_PROMETHEUS }, secretKeys: [] });
    const started = process.hrtime.bigint();
    const slos = sloDefinitions(config.services);
    const file = renderSloRuleFile(slos, config.prometheus.evaluationInterval);
    const alerts = slos.length > 0 ? burnRateAlerts().length : 0;
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const recording = (file.match(/^ {6}- record: /gm) ?? []).length;
    perService.push(file.length / count);
    console.log(
      `    ${String(count).padStart(4)} services: ${String(recording).padStart(5)} recording rules, ${String(alerts).padStart(4)} alert rules, ` +
        `${(file.length / 1024).toFixed(0).padStart(5)} KiB (${(file.length / count / 1024).toFixed(2)} KiB/service), ${elapsedMs.toFixed(0)} ms`,
    );
  }
  console.log(`    rule file bytes per service at 200 / at 50: ${(perService[2] / perService[0]).toFixed(2)} (1.00 is linear)`);
}

async function all(): Promise<void> {
  main();
  // The rule groups on a real Prometheus (about 10 minutes); BENCH_RULES=0 skips it.
  if (process.env.BENCH_RULES !== "0") console.log((await ruleEvaluationBench(200)).join("\n"));
}

all().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
