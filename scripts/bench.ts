/**
 * `npm run bench`: how the offline plan scales. Plans the dev stack and a generated stack with
 * 200 services and 50 dashboards (a copy of the program in a temp folder, so the real code runs),
 * with and without the logs stage, each in a fresh process, three times, and reports medians, the
 * ratio, the cost per resource and what the logs stage adds.
 * A script, not a test: it prints figures and never fails on a slow machine.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RUNS = 3;

interface Sample {
  elapsedMs: number;
  resources: number;
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

/** A copy of the program whose stack has 200 services and whose dashboards folder holds 50 dashboards. */
function generatedProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-bench-"));
  for (const entry of ["index.ts", "Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(PROJECT_DIR, entry), path.join(dir, entry));
  for (const entry of ["components", "node_modules", "alerts"]) fs.symlinkSync(path.join(PROJECT_DIR, entry), path.join(dir, entry));
  const shipped = fs.readdirSync(path.join(PROJECT_DIR, "dashboards")).filter((f) => f.endsWith(".json"));
  fs.mkdirSync(path.join(dir, "dashboards"));
  for (let i = 0; i < 50; i++) {
    const model = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "dashboards", shipped[i % shipped.length]), "utf8"));
    model.uid = `bench-${i}`;
    model.title = `Bench ${i}`;
    fs.writeFileSync(path.join(dir, "dashboards", `bench-${i}.json`), JSON.stringify(model));
  }
  const services = Array.from({ length: 200 }, (_, i) => ({
    name: `svc-${i}`,
    metrics: `http://svc-${i}:8000/metrics`,
    health: `http://svc-${i}:8000/health`,
    logs: [`/srv/logs/svc-${i}/*.log`],
    ...(i % 4 === 0 ? { maxLogSilence: "30m" } : {}),
  }));
  const common = `config:\n  atra-observability:appNetworks: ["atra-network"]\n  atra-observability:services: ${JSON.stringify(services)}\n`;
  fs.writeFileSync(path.join(dir, "Pulumi.bench.yaml"), common);
  fs.writeFileSync(path.join(dir, "Pulumi.bench-nologs.yaml"), `${common}  atra-observability:logs: { enabled: false }\n`);
  return dir;
}

function main(): void {
  const small = median(Array.from({ length: RUNS }, () => planOnce(PROJECT_DIR, "dev")));
  const dir = generatedProject();
  try {
    const large = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench")));
    const withoutLogs = median(Array.from({ length: RUNS }, () => planOnce(dir, "bench-nologs")));
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
    console.log(`  goal: dev plan well under 5000 ms: ${small.elapsedMs < 5000 ? "met" : "NOT met"}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
