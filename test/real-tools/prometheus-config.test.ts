/** The prometheus.yml and blackbox renderers: structure from the catalog, and acceptance by the real tools. */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { prometheusCommand, renderBlackboxConfig, renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { RESERVED_JOB_NAMES } from "../../components/stack-services";
import { listStacks } from "../../scripts/lib/stack-file";
import { describeWithTools, runTool, tempDir } from "../support/real-tools";
import { PROJECT_DIR, resolvedStackConfig } from "../support/plan";

const DEFAULT_LIMITS = { sample_limit: 10000, label_limit: 30, label_name_length_limit: 128, label_value_length_limit: 1024, target_limit: 10 };

function configFor(values: Record<string, unknown>, stack = "dev"): StackConfig {
  return resolveStackConfig({ stack, values, secretKeys: [] }).config;
}

function jobs(config: StackConfig): ScrapeConfig[] {
  const document = yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config))) as { scrape_configs: ScrapeConfig[] };
  return document.scrape_configs;
}

const catalog = {
  services: [
    { name: "knowledge-os-api", metrics: "http://knowledge_os_api:8000/metrics", health: "http://knowledge_os_api:8000/health" },
    { name: "victoria-agent", health: "http://atra-victoria-agent:8010/health" },
    { name: "secure-api", metrics: "https://api.internal/prom/metrics?format=prometheus&x=1" },
    { name: "log-only", logs: ["/srv/logs/*.log"] },
  ],
};

describe("renderPrometheusConfig", () => {
  const config = configFor(catalog);
  const byName = Object.fromEntries(jobs(config).map((job) => [job.job_name, job]));

  test("the stack's own jobs come first, then one job per metrics URL, then one probe job", () => {
    expect(jobs(config).map((job) => job.job_name)).toEqual([
      "prometheus",
      "node-exporter",
      "blackbox-exporter",
      "grafana",
      "cadvisor",
      "knowledge-os-api",
      "secure-api",
      "blackbox-health",
    ]);
  });

  test("the stack's own jobs are exactly those of the stack-services table, so a catalog service can take none of them", () => {
    const catalogNames = catalog.services.map((service) => service.name);
    const ownJobs = jobs(config)
      .map((job) => job.job_name)
      .filter((name) => !catalogNames.includes(name));
    expect([...ownJobs].sort()).toEqual([...RESERVED_JOB_NAMES].sort());
  });

  test("a service's metrics URL becomes scheme, path, params and a host:port target labelled with the service", () => {
    expect(byName["knowledge-os-api"]).toEqual({
      job_name: "knowledge-os-api",
      scheme: "http",
      metrics_path: "/metrics",
      static_configs: [{ targets: ["knowledge_os_api:8000"], labels: { service: "knowledge-os-api", host: "localhost" } }],
      ...DEFAULT_LIMITS,
    });
    expect(byName["secure-api"]).toEqual({
      job_name: "secure-api",
      scheme: "https",
      metrics_path: "/prom/metrics",
      params: { format: ["prometheus"], x: ["1"] },
      static_configs: [{ targets: ["api.internal:443"], labels: { service: "secure-api", host: "localhost" } }],
      ...DEFAULT_LIMITS,
    });
  });

  /**
   * Issue 21: each catalog job has its own limits, so one service's cardinality fails that service's scrape
   * only (components/metrics/scrape-limits.ts). The stack's defaults, `prometheus.scrapeLimits` over them, a
   * service's `scrapeLimits` over those; the stack's own jobs and the probe job are not limited by them.
   */
  test("catalog jobs carry sample/label/target limits: defaults, stack-wide key, per-service override", () => {
    const limited = jobs(
      configFor({
        prometheus: { scrapeLimits: { sampleLimit: 5000, labelValueLengthLimit: 512 } },
        services: [
          { name: "big", metrics: "http://big:1/metrics", scrapeLimits: { sampleLimit: 50000, labelLimit: 40 } },
          { name: "small", metrics: "http://small:1/metrics" },
        ],
      }),
    );
    const job = (name: string) => limited.find((entry) => entry.job_name === name) as ScrapeConfig;
    expect(job("big")).toMatchObject({ sample_limit: 50000, label_limit: 40, label_name_length_limit: 128, label_value_length_limit: 512, target_limit: 10 });
    expect(job("small")).toMatchObject({ sample_limit: 5000, label_limit: 30, label_name_length_limit: 128, label_value_length_limit: 512, target_limit: 10 });
    for (const own of ["prometheus", "node-exporter", "blackbox-exporter", "grafana", "cadvisor"]) expect(job(own).sample_limit).toBeUndefined();
  });

  test("a limit of 0 (Prometheus's 'no limit'), a fraction, or a service's limits without metrics are refused at their keys", () => {
    const issues = (values: Record<string, unknown>) => {
      try {
        configFor(values);
        return [];
      } catch (error) {
        return (error as { issues: { key: string; message: string }[] }).issues.map((issue) => `${issue.key}: ${issue.message}`);
      }
    };
    expect(
      issues({
        prometheus: { scrapeLimits: { sampleLimit: 0, targetLimit: 1.5 } },
        services: [{ name: "a", health: "http://a:1/health", scrapeLimits: { labelLimit: 20 } }],
      }),
    ).toEqual([
      'atra-observability:prometheus.scrapeLimits.sampleLimit: must be at least 1 (samples per scrape; there is no "unlimited")',
      "atra-observability:prometheus.scrapeLimits.targetLimit: must be a whole number",
      "atra-observability:services[0].scrapeLimits: limits the scrape of `metrics`, and this service has none: remove it, or give metrics",
    ]);
  });

  test("health URLs are probed through the blackbox exporter, never scraped", () => {
    const probe = byName["blackbox-health"];
    expect(probe.metrics_path).toBe("/probe");
    expect(probe.params).toEqual({ module: ["http_2xx"] });
    expect(probe.static_configs).toEqual([
      { targets: ["http://knowledge_os_api:8000/health"], labels: { service: "knowledge-os-api", host: "localhost" } },
      { targets: ["http://atra-victoria-agent:8010/health"], labels: { service: "victoria-agent", host: "localhost" } },
    ]);
    expect(probe.relabel_configs).toEqual([
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: "atra-obs-dev-blackbox-exporter:9115" },
    ]);
    const scrapedPaths = jobs(config).map((job) => job.metrics_path);
    expect(scrapedPaths).not.toContain("/health");
  });

  test("every target of every job carries the host label (prometheus.hostLabel, else publicHostname)", () => {
    const targetLabels = (values: Record<string, unknown>) =>
      jobs(configFor({ ...catalog, ...values })).flatMap((job) => job.static_configs.map((group) => group.labels?.host));
    expect(targetLabels({})).toEqual(Array(9).fill("localhost"));
    expect(new Set(targetLabels({ publicHostname: "obs-1.example.internal" }))).toEqual(new Set(["obs-1.example.internal"]));
    expect(new Set(targetLabels({ publicHostname: "obs-1.example.internal", prometheus: { hostLabel: "edge-1" } }))).toEqual(new Set(["edge-1"]));
  });

  test("a catalog without health URLs has no probe job; without cAdvisor no cadvisor job", () => {
    const names = jobs(configFor({ services: [{ name: "a", metrics: "http://a:1/metrics" }], cadvisor: { enabled: false } })).map((j) => j.job_name);
    expect(names).toEqual(["prometheus", "node-exporter", "blackbox-exporter", "grafana", "a"]);
  });

  test("global settings and external labels come from the stack", () => {
    const document = yaml.load(renderPrometheusConfig(configFor({ prometheus: { scrapeInterval: "30s" } }, "prod"), dockerScrapeAddresses(config))) as {
      global: Record<string, unknown>;
    };
    expect(document.global).toEqual({
      scrape_interval: "30s",
      scrape_timeout: "10s",
      evaluation_interval: "30s",
      external_labels: { stack: "prod", environment: "prod", host: "localhost" },
    });
  });

  test("node-exporter is scraped where it listens, or through the host gateway when it listens everywhere", () => {
    expect(byName["node-exporter"].static_configs[0].targets).toEqual(["172.17.0.1:9100"]);
    expect(dockerScrapeAddresses(configFor({ nodeExporter: { listenAddress: "10.0.0.5:9200" } })).nodeExporter).toBe("10.0.0.5:9200");
    expect(dockerScrapeAddresses(configFor({ nodeExporter: { listenAddress: "0.0.0.0:9300" } })).nodeExporter).toBe("host.docker.internal:9300");
  });

  test("the Prometheus command line carries retention and keeps the lifecycle API off", () => {
    expect(prometheusCommand(configFor({}, "prod"))).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--storage.tsdb.retention.size=50GB",
      "--web.listen-address=:9090",
      "--web.external-url=http://localhost:9090",
    ]);
  });
});

describeWithTools(["promtool", "prometheus-blackbox-exporter"], "the real tools accept the rendered configs", () => {
  const dir = tempDir("atra-promtool-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stackConfigs = listStacks(PROJECT_DIR).map((stack) => [stack, resolvedStackConfig(stack)] as const);
  const generated = configFor({
    services: Array.from({ length: 200 }, (_, i) => ({
      name: `svc-${i}`,
      metrics: i % 3 === 0 ? undefined : `http://svc-${i}:${8000 + i}/metrics?i=${i}`,
      health: `https://svc-${i}.internal/health`,
    })),
  });

  test.each([...stackConfigs, ["catalog example", configFor(catalog)] as const, ["200 services", generated] as const])(
    "promtool check config accepts prometheus.yml of %s",
    (name, config) => {
      const file = path.join(dir, `${String(name).replace(/\W+/g, "-")}.yml`);
      fs.writeFileSync(file, renderPrometheusConfig(config, dockerScrapeAddresses(config)));
      // An agent host's config is checked as an agent's (promtool's --agent, as Prometheus runs it there).
      const result = runTool("promtool", ["check", "config", ...(config.prometheus.mode === "agent" ? ["--agent"] : []), file]);
      expect(result.output).toContain("SUCCESS");
      expect(result.status).toBe(0);
    },
  );

  test("promtool rejects a broken config (the check can fail)", () => {
    const file = path.join(dir, "broken.yml");
    fs.writeFileSync(
      file,
      "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: x\n    static_configs:\n      - targets: [a:1]\n  - job_name: x\n    static_configs:\n      - targets: [b:1]\n",
    );
    expect(runTool("promtool", ["check", "config", file]).status).not.toBe(0);
  });

  test("the blackbox exporter accepts its rendered modules", () => {
    const file = path.join(dir, "blackbox.yml");
    fs.writeFileSync(file, renderBlackboxConfig());
    const result = runTool("prometheus-blackbox-exporter", ["--config.check", `--config.file=${file}`]);
    expect(result.status).toBe(0);
    fs.writeFileSync(file, "modules:\n  http_2xx:\n    prober: http\n    not_a_field: 1\n");
    expect(runTool("prometheus-blackbox-exporter", ["--config.check", `--config.file=${file}`]).status).not.toBe(0);
  });
});
