/**
 * Defaults, in one place: image versions and the per-environment settings a stack gets when its
 * config file is silent. A stack overrides any of them under the matching config key.
 */

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * Every image pinned to an exact tag (never `latest`). Prometheus stays on 3.x; what we render must
 * also be accepted by the 2.42 promtool the tests run, so keep to config both understand.
 */
export const DEFAULT_IMAGES = {
  prometheus: "prom/prometheus:v3.5.0",
  grafana: "grafana/grafana:12.1.1",
  nodeExporter: "prom/node-exporter:v1.9.1",
  blackboxExporter: "prom/blackbox-exporter:v0.27.0",
  cadvisor: "gcr.io/cadvisor/cadvisor:v0.52.1",
} as const;

export type ImageKey = keyof typeof DEFAULT_IMAGES;

export const DEFAULT_PORTS = {
  prometheus: 9090,
  grafana: 3000,
} as const;

/** Memory limits (MB) and Prometheus storage by environment: dev fits a laptop, prod keeps a month. */
export const ENVIRONMENT_DEFAULTS: Record<
  Environment,
  {
    memoryMb: { prometheus: number; grafana: number; nodeExporter: number; blackboxExporter: number; cadvisor: number };
    retentionTime: string;
    retentionSize: string;
  }
> = {
  dev: {
    memoryMb: { prometheus: 1024, grafana: 512, nodeExporter: 128, blackboxExporter: 128, cadvisor: 256 },
    retentionTime: "7d",
    retentionSize: "5GB",
  },
  staging: {
    memoryMb: { prometheus: 2048, grafana: 768, nodeExporter: 128, blackboxExporter: 128, cadvisor: 384 },
    retentionTime: "15d",
    retentionSize: "20GB",
  },
  prod: {
    memoryMb: { prometheus: 4096, grafana: 1024, nodeExporter: 128, blackboxExporter: 128, cadvisor: 512 },
    retentionTime: "30d",
    retentionSize: "50GB",
  },
};

/**
 * node-exporter runs in the host's network namespace (so its network panels show the host's
 * interfaces) and listens on Docker's default bridge gateway, which containers reach as
 * `host.docker.internal` and which is not reachable from outside the host.
 */
export const DEFAULT_NODE_EXPORTER_LISTEN = "172.17.0.1:9100";
