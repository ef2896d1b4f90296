/**
 * Pure renderers for the metrics stage: prometheus.yml, the blackbox exporter's modules and the
 * Prometheus command line. The service catalog becomes one scrape job per `metrics` URL and one
 * probe target per `health` URL (a JSON health endpoint is probed, never scraped).
 *
 * Output must be accepted by Prometheus 3.x (deployed) and by the 2.42 promtool the tests run.
 */
import * as yaml from "js-yaml";
import type { StackConfig } from "../config/resolve";

/** What prometheus.yml is rendered from: the metrics slice, the catalog and which stack this is. */
export type PrometheusConfigInput = Pick<StackConfig, "stack" | "environment" | "services" | "prometheus" | "prometheusPublicUrl">;
import type { ServiceConfig } from "../config/stack-config";
import { ScrapedServiceKey, STACK_SERVICES } from "../stack-services";

/** host:port of each scrape target of the stack itself, as Prometheus reaches them. */
export interface ScrapeAddresses {
  prometheus: string;
  nodeExporter: string;
  blackboxExporter: string;
  grafana: string;
  /** Absent when cAdvisor is switched off. */
  cadvisor?: string;
}

/** The stack's own scrape jobs, in the order prometheus.yml lists them (before the catalog's). */
const OWN_JOBS_IN_ORDER: readonly ScrapedServiceKey[] = ["prometheus", "nodeExporter", "blackboxExporter", "grafana", "cadvisor"];

/** The blackbox exporter module the health probes use. */
export const HEALTH_PROBE_MODULE = "http_2xx";

/** One entry of `scrape_configs`, as far as we render it. */
export interface ScrapeConfig {
  job_name: string;
  scheme?: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  relabel_configs?: { source_labels?: string[]; target_label: string; replacement?: string }[];
}

export function renderPrometheusConfig(config: PrometheusConfigInput, addresses: ScrapeAddresses): string {
  const scrapeConfigs: ScrapeConfig[] = OWN_JOBS_IN_ORDER.flatMap((service) => {
    const target = addresses[service];
    return target !== undefined ? [{ job_name: STACK_SERVICES[service].scrapeJob, static_configs: [{ targets: [target] }] }] : [];
  });

  for (const service of config.services) {
    if (service.metrics) scrapeConfigs.push(serviceScrapeJob(service, service.metrics));
  }
  const probed = config.services.filter((service) => service.health);
  if (probed.length > 0) scrapeConfigs.push(healthProbeJob(probed, addresses.blackboxExporter));

  const document = {
    global: {
      scrape_interval: config.prometheus.scrapeInterval,
      scrape_timeout: config.prometheus.scrapeTimeout,
      evaluation_interval: config.prometheus.evaluationInterval,
      external_labels: { stack: config.stack, environment: config.environment },
    },
    scrape_configs: scrapeConfigs,
  };
  return `# Rendered by atra-observability for stack "${config.stack}". Do not edit: change the stack config.\n${yaml.dump(document, {
    lineWidth: -1,
    noRefs: true,
  })}`;
}

/** One job per service, named after it, so `up{job="<service>"}` reads naturally in queries. */
function serviceScrapeJob(service: ServiceConfig, metricsUrl: string): ScrapeConfig {
  const url = new URL(metricsUrl);
  const params: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (params[name] ??= []).push(value);
  return {
    job_name: service.name,
    scheme: url.protocol.replace(":", ""),
    metrics_path: url.pathname,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    static_configs: [{ targets: [hostPort(url)], labels: { service: service.name } }],
  };
}

/**
 * The multi-target exporter pattern: each health URL becomes the `target` parameter of a probe sent to
 * the blackbox exporter, and the `instance` label keeps the URL rather than the exporter's address.
 */
function healthProbeJob(services: ServiceConfig[], blackboxAddress: string): ScrapeConfig {
  return {
    job_name: STACK_SERVICES.blackboxExporter.probeJob,
    metrics_path: "/probe",
    params: { module: [HEALTH_PROBE_MODULE] },
    static_configs: services.map((service) => ({ targets: [service.health as string], labels: { service: service.name } })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: blackboxAddress },
    ],
  };
}

/** Explicit port, so the target label is the same under Prometheus 2 and 3. */
function hostPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

export function renderBlackboxConfig(): string {
  const document = {
    modules: {
      [HEALTH_PROBE_MODULE]: {
        prober: "http",
        timeout: "5s",
        http: { preferred_ip_protocol: "ip4", follow_redirects: true },
      },
    },
  };
  return `# Rendered by atra-observability. Do not edit.\n${yaml.dump(document, { lineWidth: -1 })}`;
}

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const PROMETHEUS_DATA_PATH = "/prometheus";

/** Command line of the Prometheus container. The lifecycle API stays off: config changes replace the container. */
export function prometheusCommand(config: Pick<StackConfig, "prometheus" | "prometheusPublicUrl">): string[] {
  return [
    `--config.file=${PROMETHEUS_CONFIG_PATH}`,
    `--storage.tsdb.path=${PROMETHEUS_DATA_PATH}`,
    `--storage.tsdb.retention.time=${config.prometheus.retentionTime}`,
    `--storage.tsdb.retention.size=${config.prometheus.retentionSize}`,
    `--web.listen-address=:${STACK_SERVICES.prometheus.port}`,
    `--web.external-url=${config.prometheusPublicUrl}`,
  ];
}
