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
  // The logs stage: one version for all three (Kibana refuses an Elasticsearch of another version),
  // and the same major as the @elastic/elasticsearch client the providers use.
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:9.1.0",
  kibana: "docker.elastic.co/kibana/kibana:9.1.0",
  filebeat: "docker.elastic.co/beats/filebeat:9.1.0",
} as const;

export type ImageKey = keyof typeof DEFAULT_IMAGES;

export const DEFAULT_PORTS = {
  prometheus: 9090,
  grafana: 3000,
  elasticsearch: 9200,
  kibana: 5601,
} as const;

export type MemoryKey = "prometheus" | "grafana" | "nodeExporter" | "blackboxExporter" | "cadvisor" | "elasticsearch" | "kibana" | "filebeat";

/** Memory limits (MB) and Prometheus storage by environment: dev fits a laptop, prod keeps a month. */
export const ENVIRONMENT_DEFAULTS: Record<
  Environment,
  {
    memoryMb: Record<MemoryKey, number>;
    retentionTime: string;
    retentionSize: string;
    /** How long log lines are kept (ILM delete phase), in Elasticsearch time units. */
    logRetention: string;
  }
> = {
  // Elasticsearch gets half its container memory as heap (the rest is file cache and off-heap).
  dev: {
    memoryMb: { prometheus: 1024, grafana: 512, nodeExporter: 128, blackboxExporter: 128, cadvisor: 256, elasticsearch: 1536, kibana: 1024, filebeat: 256 },
    retentionTime: "7d",
    retentionSize: "5GB",
    logRetention: "7d",
  },
  staging: {
    memoryMb: { prometheus: 2048, grafana: 768, nodeExporter: 128, blackboxExporter: 128, cadvisor: 384, elasticsearch: 3072, kibana: 1536, filebeat: 384 },
    retentionTime: "15d",
    retentionSize: "20GB",
    logRetention: "15d",
  },
  prod: {
    memoryMb: { prometheus: 4096, grafana: 1024, nodeExporter: 128, blackboxExporter: 128, cadvisor: 512, elasticsearch: 4096, kibana: 2048, filebeat: 512 },
    retentionTime: "30d",
    retentionSize: "50GB",
    logRetention: "30d",
  },
};

/**
 * node-exporter runs in the host's network namespace (so its network panels show the host's
 * interfaces) and listens on Docker's default bridge gateway, which containers reach as
 * `host.docker.internal` and which is not reachable from outside the host.
 */
export const DEFAULT_NODE_EXPORTER_LISTEN = "172.17.0.1:9100";
