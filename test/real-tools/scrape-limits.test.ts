/**
 * Issue 21: per-job scrape limits on the catalog services' jobs (components/metrics/scrape-limits.ts), shown
 * with a real Prometheus (Debian's 2.42) on 127.0.0.1 scraping the rendered jobs of three stand-in services:
 * one within the limits, one with more samples than `sampleLimit`, one with a label value longer than
 * `labelValueLengthLimit`. The two over their limits are down with the limit as their error and nothing of
 * them stored, the one within is up and stored, and the counters that PrometheusScrapeSamplesRejected
 * (alerts/stack.yml) sums move, so its expression (run as written, against Prometheus's own scrape) is above 0.
 * What a breach does is prometheus/prometheus scrape/scrape.go (errSampleLimit; verifyLabelLimits, "If any
 * label limits is exceeded the scrape should fail").
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { PROJECT_DIR } from "../support/plan";
import { describeWithTools, freePort, getJson, RunningProcess, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

interface TargetsResponse {
  data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
}
interface QueryResponse {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** Metrics with `series` gauges, and one label of `valueLength` characters. */
function exposition(series: number, valueLength = 8): string {
  const lines = ["# TYPE demo_value gauge"];
  for (let i = 0; i < series; i++) lines.push(`demo_value{index="${i}",note="${"x".repeat(valueLength)}"} ${i}`);
  return `${lines.join("\n")}\n`;
}

describeWithTools(["prometheus"], "scrape limits with a real Prometheus", () => {
  let server: http.Server;
  let prometheus: RunningProcess | undefined;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    dir = tempDir("atra-scrape-limits-");
    const servicePort = await freePort();
    const listen = `127.0.0.1:${await freePort()}`;
    base = `http://${listen}`;
    server = http.createServer((request, response) => {
      const body =
        request.url === "/small" ? exposition(20) : request.url === "/big" ? exposition(200) : request.url === "/long" ? exposition(3, 300) : undefined;
      response.writeHead(body ? 200 : 404, { "content-type": "text/plain; version=0.0.4" });
      response.end(body ?? "");
    });
    await new Promise<void>((resolve) => server.listen(servicePort, "127.0.0.1", resolve));

    const config = resolveStackConfig({
      stack: "dev",
      values: {
        logs: { enabled: false },
        cadvisor: { enabled: false },
        prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s", scrapeLimits: { sampleLimit: 100, labelValueLengthLimit: 200 } },
        services: [
          { name: "small", metrics: `http://127.0.0.1:${servicePort}/small` },
          { name: "big", metrics: `http://127.0.0.1:${servicePort}/big` },
          { name: "long", metrics: `http://127.0.0.1:${servicePort}/long` },
        ],
      },
      secretKeys: [],
    }).config;
    const rendered = yaml.load(renderPrometheusConfig(config, { prometheus: listen, nodeExporter: "127.0.0.1:1", blackboxExporter: "127.0.0.1:1" })) as {
      scrape_configs: ScrapeConfig[];
    } & Record<string, unknown>;
    // The catalog's jobs as rendered, and Prometheus's own (for the alert's counters); the exporters are not here.
    rendered.scrape_configs = rendered.scrape_configs.filter((job) => ["prometheus", "small", "big", "long"].includes(job.job_name));
    const file = path.join(dir, "prometheus.yml");
    fs.writeFileSync(file, yaml.dump(rendered));
    prometheus = startProcess("prometheus", "prometheus", [
      `--config.file=${file}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=${listen}`,
    ]);
    await waitFor("Prometheus ready", 30_000, async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    await stopProcess(prometheus);
    await new Promise((resolve) => server?.close(resolve));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("over the sample or label-length limit: that job is down with the limit as its error and stores nothing; the other job is up", async () => {
    const targets = await waitFor("the three catalog targets scraped", 30_000, async () => {
      const active = (await getJson<TargetsResponse>(`${base}/api/v1/targets`)).data.activeTargets;
      const byJob = Object.fromEntries(active.map((target) => [target.labels.job, target]));
      return ["small", "big", "long"].every((job) => byJob[job] && byJob[job].health !== "unknown") ? byJob : undefined;
    });
    expect(targets.small.health).toBe("up");
    expect(targets.big.health).toBe("down");
    expect(targets.big.lastError).toContain("sample limit exceeded");
    expect(targets.long.health).toBe("down");
    expect(targets.long.lastError).toMatch(/label_value_length_limit exceeded/);

    const stored = async (job: string) =>
      (await getJson<QueryResponse>(`${base}/api/v1/query?query=${encodeURIComponent(`count(demo_value{job="${job}"})`)}`)).data.result;
    expect(await stored("small")).toEqual([expect.objectContaining({ value: [expect.any(Number), "20"] })]);
    expect(await stored("big")).toEqual([]);
    expect(await stored("long")).toEqual([]);
  }, 60_000);

  test("the counters PrometheusScrapeSamplesRejected sums move, and its expression, as written, is above 0", async () => {
    const rules = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "alerts/stack.yml"), "utf8")) as {
      groups: { rules: { alert?: string; expr: string }[] }[];
    };
    const rule = rules.groups.flatMap((group) => group.rules).find((entry) => entry.alert === "PrometheusScrapeSamplesRejected");
    expect(rule).toBeDefined();
    const value = await waitFor("the alert expression above 0", 30_000, async () => {
      const result = (await getJson<QueryResponse>(`${base}/api/v1/query?query=${encodeURIComponent(rule?.expr ?? "")}`)).data.result;
      return result.length > 0 ? Number(result[0].value[1]) : undefined;
    });
    expect(value).toBeGreaterThan(0);
    const counter = async (name: string) => Number((await getJson<QueryResponse>(`${base}/api/v1/query?query=${name}`)).data.result[0]?.value[1] ?? "NaN");
    expect(await counter("prometheus_target_scrapes_exceeded_sample_limit_total")).toBeGreaterThan(0);
    expect(await counter("prometheus_target_scrape_pool_exceeded_label_limits_total")).toBeGreaterThan(0);
  }, 60_000);
});
