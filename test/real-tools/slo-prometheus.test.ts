/**
 * The SLO recording rules in a real Prometheus (Debian's 2.42) with a real blackbox exporter, driven
 * by the rendered prometheus.yml (its rule_files naming the rendered rule file), against a stand-in
 * service on 127.0.0.1 that the test turns unhealthy:
 * - the rule groups load and every rule evaluates without error;
 * - the availability ratio from the probe equals the share of failed probes Prometheus holds for the
 *   same 5m range, and moves from 0 to the outage's share once the health endpoint answers 500;
 * - the request-based availability and the latency ratios equal the stand-in's exact error and slow shares.
 * Bounded waits; the processes are stopped by PID.
 *
 * The rule file is rendered as for a stack whose evaluation interval is 1m (the long-window group then
 * has no interval of its own): here every group runs at the test's 1s global interval, so the test
 * does not wait a minute for the long group's first evaluation. The rules are the same.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { renderBlackboxConfig, renderPrometheusConfig } from "../../components/metrics/prometheus-config";
import { RECORDED, renderSloRuleFile, sloDefinitions } from "../../components/slo/slo-rules";
import { writeBlackboxLogin } from "../support/blackbox-login";
import { describeWithTools, freePort, getJson, RunningProcess, runTool, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

const TOOLS = ["prometheus", "promtool", "prometheus-blackbox-exporter"];

/** Per scrape of /metrics: 10 requests, 1 of them failed (code 500), 8 within 0.5 s. */
const PER_SCRAPE = { total: 10, failed: 1, fast: 8 };

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: unknown[] };
}

function startStandIn(port: number): Promise<{ server: http.Server; setHealthy: (healthy: boolean) => void }> {
  let healthy = true;
  let scrapes = 0;
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    if (pathname === "/health") {
      response.writeHead(healthy ? 200 : 500, { "content-type": "application/json" });
      response.end(JSON.stringify({ status: healthy ? "ok" : "failing" }));
      return;
    }
    if (pathname === "/metrics") {
      scrapes += 1;
      const n = scrapes;
      const lines = [
        "# TYPE http_requests_total counter",
        `http_requests_total{code="200",handler="/api"} ${n * (PER_SCRAPE.total - PER_SCRAPE.failed)}`,
        `http_requests_total{code="500",handler="/api"} ${n * PER_SCRAPE.failed}`,
        "# TYPE http_request_duration_seconds histogram",
        // The Python client's forms of the bounds (0.5, 1.0), which the rule's le matcher must take.
        `http_request_duration_seconds_bucket{handler="/api",le="0.5"} ${n * PER_SCRAPE.fast}`,
        `http_request_duration_seconds_bucket{handler="/api",le="1.0"} ${n * PER_SCRAPE.total}`,
        `http_request_duration_seconds_bucket{handler="/api",le="+Inf"} ${n * PER_SCRAPE.total}`,
        `http_request_duration_seconds_sum{handler="/api"} ${n * 3}`,
        `http_request_duration_seconds_count{handler="/api"} ${n * PER_SCRAPE.total}`,
      ];
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      response.end(`${lines.join("\n")}\n`);
      return;
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, setHealthy: (value) => (healthy = value) })));
}

describeWithTools(TOOLS, "SLO recording rules in a real Prometheus", () => {
  const processes: RunningProcess[] = [];
  let standIn: Awaited<ReturnType<typeof startStandIn>> | undefined;
  let workDir: string;
  let prometheusUrl: string;
  let config: StackConfig;

  beforeAll(async () => {
    workDir = tempDir("atra-slo-prometheus-");
    const [prometheusPort, blackboxPort, servicePort] = [await freePort(), await freePort(), await freePort()];
    standIn = await startStandIn(servicePort);
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    const base = `http://127.0.0.1:${servicePort}`;
    config = resolveStackConfig({
      stack: "slotest",
      values: {
        services: [
          {
            name: "demo-api",
            metrics: `${base}/metrics`,
            health: `${base}/health`,
            slo: { availability: 99, latency: { thresholdSeconds: 0.5, objective: 99 }, window: "7d" },
          },
          { name: "demo-orders", metrics: `${base}/metrics?svc=orders`, slo: { availability: 99.5, requests: {}, window: "7d" } },
        ],
        prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s", evaluationInterval: "1s" },
        cadvisor: { enabled: false },
        logs: { enabled: false },
      },
      secretKeys: [],
    }).config;

    const ruleFile = path.join(workDir, "slo.yml");
    // The 5-minute counts every second, as the rest here, not every 5 minutes: the long windows' ratios
    // (and the budget left) appear within seconds; overlapping counts leave them unchanged.
    fs.writeFileSync(ruleFile, renderSloRuleFile(sloDefinitions(config.services), "1m", { eventsInterval: "1s" }));
    const prometheusYml = path.join(workDir, "prometheus.yml");
    // The blackbox exporter's login (components/metrics/blackbox-login.ts), at local paths.
    const blackboxLogin = writeBlackboxLogin(workDir);
    fs.writeFileSync(
      prometheusYml,
      blackboxLogin.localize(
        renderPrometheusConfig(
          config,
          {
            prometheus: `127.0.0.1:${prometheusPort}`,
            nodeExporter: `127.0.0.1:${await freePort()}`,
            blackboxExporter: `127.0.0.1:${blackboxPort}`,
            grafana: `127.0.0.1:${servicePort}`,
          },
          [ruleFile],
        ),
      ),
    );
    const blackboxYml = path.join(workDir, "blackbox.yml");
    fs.writeFileSync(blackboxYml, renderBlackboxConfig());
    const check = runTool("promtool", ["check", "config", prometheusYml]);
    if (check.status !== 0) throw new Error(`promtool rejected the test config:\n${check.output}`);

    processes.push(
      startProcess("blackbox-exporter", "prometheus-blackbox-exporter", [
        `--config.file=${blackboxYml}`,
        `--web.listen-address=127.0.0.1:${blackboxPort}`,
        blackboxLogin.flag,
      ]),
    );
    processes.push(
      startProcess("prometheus", "prometheus", [
        `--config.file=${prometheusYml}`,
        `--storage.tsdb.path=${path.join(workDir, "data")}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ]),
    );
    await waitFor("Prometheus to be ready", 30_000, async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    await new Promise<void>((resolve) => (standIn ? standIn.server.close(() => resolve()) : resolve()));
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  const logsOnFailure = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join("\n");

  async function query(expr: string, time?: number): Promise<QueryResponse> {
    const at = time === undefined ? "" : `&time=${time}`;
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}${at}`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as QueryResponse;
  }
  async function scalarOf(expr: string): Promise<number | undefined> {
    const response = await query(expr);
    const sample = response.data?.result[0] as Sample | undefined;
    return sample ? Number(sample.value[1]) : undefined;
  }

  /** The recorded 5m probe ratio and, at the same evaluation time, the share of failed probes Prometheus holds for that range. */
  async function probeRatioAndRawShare(): Promise<{ recorded: number; raw: number; samples: number }> {
    const series = `${RECORDED.errorRatio("5m")}{service="demo-api", slo="availability"}`;
    const at = await scalarOf(`timestamp(${series})`);
    const recorded = await scalarOf(series);
    if (at === undefined || recorded === undefined) throw new Error("no recorded ratio yet");
    const raw = await query(`probe_success{job="blackbox-health", service="demo-api"}[5m]`, at);
    const values = (raw.data.result as { values: [number, string][] }[]).flatMap((series_) => series_.values.map(([, value]) => Number(value)));
    return { recorded, raw: 1 - values.reduce((sum, value) => sum + value, 0) / values.length, samples: values.length };
  }

  test("the rule groups load, and every rule evaluates without error", async () => {
    try {
      const groups = await waitFor("every SLO rule evaluated", 30_000, async () => {
        const response = await getJson<{ data: { groups: { name: string; file: string; rules: { name: string; health: string; lastError?: string }[] }[] } }>(
          `${prometheusUrl}/api/v1/rules`,
        );
        const all = response.data.groups.flatMap((group) => group.rules);
        return all.length > 0 && all.every((rule) => rule.health === "ok") ? response.data.groups : undefined;
      });
      // Three groups per service (components/slo/rule-groups.ts); the API lists them sorted.
      expect(groups.map((group) => group.name).sort()).toEqual(
        ["demo-api", "demo-orders"]
          .flatMap((service) => [`atra-slo-ratios:${service}`, `atra-slo-events:${service}`, `atra-slo-ratios-long:${service}`])
          .sort(),
      );
      const slos = sloDefinitions(config.services);
      // Per SLO: 5 short windows, 2 counts, 1d, 3d and its window, objective, budget, budget left.
      expect(groups.flatMap((group) => group.rules).length).toBe(slos.length * 13);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logsOnFailure()}`, { cause: error });
    }
  }, 40_000);

  test("request-based availability and latency: the stand-in's exact shares of failed and slow requests", async () => {
    const orders = await waitFor("the orders ratio", 20_000, () => scalarOf(`${RECORDED.errorRatio("5m")}{service="demo-orders", slo="availability"}`));
    const latency = await waitFor("the latency ratio", 20_000, () => scalarOf(`${RECORDED.errorRatio("5m")}{service="demo-api", slo="latency"}`));
    expect(orders).toBeCloseTo(PER_SCRAPE.failed / PER_SCRAPE.total, 9);
    expect(latency).toBeCloseTo(1 - PER_SCRAPE.fast / PER_SCRAPE.total, 9);
    // The long windows, summed from the 5-minute counts on this real Prometheus, give the same share.
    const day = await waitFor("the orders 1d ratio", 20_000, () => scalarOf(`${RECORDED.errorRatio("1d")}{service="demo-orders", slo="availability"}`));
    expect(day).toBeCloseTo(PER_SCRAPE.failed / PER_SCRAPE.total, 6);
    // Budget left over the window: 1 - 0.1 / 0.005 (orders), 1 - 0.2 / 0.01 (latency).
    const left = await waitFor("the budget left", 20_000, () => scalarOf(`${RECORDED.budgetRemaining}{service="demo-orders", slo="availability"}`));
    expect(left).toBeCloseTo(1 - 0.1 / 0.005, 6);
    expect(await scalarOf(`${RECORDED.objective}{service="demo-orders"}`)).toBe(0.995);
  }, 60_000);

  test("the probe ratio follows the real probe: 0 while healthy, the outage's share once /health fails", async () => {
    const healthy = await waitFor("a healthy ratio over 5 probes", 20_000, async () => {
      const result = await probeRatioAndRawShare();
      return result.samples >= 5 ? result : undefined;
    });
    expect(healthy.recorded).toBe(0);
    expect(healthy.raw).toBe(0);

    standIn!.setHealthy(false);
    const outageStarted = Date.now();
    // Bounded: about 10 failed probes after the healthy ones.
    const during = await waitFor(
      "a ratio with 8 failed probes",
      30_000,
      async () => {
        const result = await probeRatioAndRawShare();
        return result.raw * result.samples >= 8 ? result : undefined;
      },
      500,
    );
    standIn!.setHealthy(true);
    // The recorded ratio is the failed share of exactly the probes Prometheus holds for the range (at most one
    // probe appended after the evaluation can differ), and lies strictly between 0 and 1.
    expect(Math.abs(during.recorded - during.raw)).toBeLessThanOrEqual(1 / during.samples + 1e-9);
    expect(during.recorded).toBeGreaterThan(0);
    expect(during.recorded).toBeLessThan(1);
    const failed = Math.round(during.raw * during.samples);
    // Probes fail from the switch on: as many as 1s probes fit in the time since then (+/- 2).
    expect(Math.abs(failed - (Date.now() - outageStarted) / 1000)).toBeLessThanOrEqual(3);
    console.log(
      `SLO real Prometheus: probe ratio ${during.recorded.toFixed(4)} recorded vs ${during.raw.toFixed(4)} from the raw probes (${failed} of ${during.samples} failed); ` +
        `requests ratio ${PER_SCRAPE.failed / PER_SCRAPE.total}, latency ratio ${1 - PER_SCRAPE.fast / PER_SCRAPE.total}`,
    );
  }, 60_000);
});
