/**
 * The stack's own services, in one table: what each is called, the port it listens on inside its
 * container, the Prometheus jobs that use it, its pinned image and, for those people open, the host
 * port it is published on. A row's key is also its config key (`images.<key>`, `memoryMb.<key>`,
 * `ports.<key>`), so adding a service here is what gives it config keys, and every place that needs
 * one of its ports or job names reads it from here.
 *
 * It lives beside the rooms rather than in one: the config layer, the renderers and the components
 * of several rooms all read it. It imports nothing, so any of them can.
 */

interface StackService {
  /** The Pulumi resource name, the component label, the container-name suffix and the stack-network alias. */
  readonly name: string;
  /** Where it listens inside its container (node-exporter, which runs in the host's network: by default). */
  readonly port: number;
  /** The Prometheus job that scrapes it; dashboards and alerts query `job="<this>"`. */
  readonly scrapeJob?: string;
  /** The Prometheus job that sends the catalog's health probes through it. */
  readonly probeJob?: string;
  /** Pinned to an exact tag (never `latest`); a stack overrides it under `images.<key>`. */
  readonly image: string;
  /** The host port it is published on unless a stack says otherwise under `ports.<key>`. */
  readonly publishedPort?: number;
}

/**
 * In the order images are pulled and config keys are listed. Prometheus stays on 3.x; what we render
 * must also be accepted by the 2.42 promtool the tests run, so keep to config both understand.
 */
export const STACK_SERVICES = {
  prometheus: { name: "prometheus", port: 9090, scrapeJob: "prometheus", image: "prom/prometheus:v3.5.0", publishedPort: 9090 },
  grafana: { name: "grafana", port: 3000, scrapeJob: "grafana", image: "grafana/grafana:12.1.1", publishedPort: 3000 },
  nodeExporter: { name: "node-exporter", port: 9100, scrapeJob: "node-exporter", image: "prom/node-exporter:v1.9.1" },
  blackboxExporter: {
    name: "blackbox-exporter",
    port: 9115,
    scrapeJob: "blackbox-exporter",
    probeJob: "blackbox-health",
    image: "prom/blackbox-exporter:v0.27.0",
  },
  cadvisor: { name: "cadvisor", port: 8080, scrapeJob: "cadvisor", image: "gcr.io/cadvisor/cadvisor:v0.52.1" },
  // The logs stage: one version for all three (Kibana refuses an Elasticsearch of another version),
  // and the same major as the @elastic/elasticsearch client the providers use.
  elasticsearch: { name: "elasticsearch", port: 9200, image: "docker.elastic.co/elasticsearch/elasticsearch:9.1.0", publishedPort: 9200 },
  kibana: { name: "kibana", port: 5601, image: "docker.elastic.co/kibana/kibana:9.1.0", publishedPort: 5601 },
  // Filebeat's port is its HTTP monitoring endpoint, on loopback inside the container: only its healthcheck asks it.
  filebeat: { name: "filebeat", port: 5066, image: "docker.elastic.co/beats/filebeat:9.1.0" },
} as const satisfies Record<string, StackService>;

export type StackServiceKey = keyof typeof STACK_SERVICES;
/** The keys of the rows that have `field`. */
type KeysWith<Field extends keyof StackService> = {
  [Key in StackServiceKey]: (typeof STACK_SERVICES)[Key] extends Record<Field, unknown> ? Key : never;
}[StackServiceKey];
export type ScrapedServiceKey = KeysWith<"scrapeJob">;

/** Every service has an image and a memory limit; only those people open have a published port. */
export type ImageKey = StackServiceKey;
export type MemoryKey = StackServiceKey;
export type PortKey = KeysWith<"publishedPort">;

export const STACK_SERVICE_KEYS = Object.keys(STACK_SERVICES) as readonly StackServiceKey[];
export const IMAGE_KEYS: readonly ImageKey[] = STACK_SERVICE_KEYS;
export const MEMORY_KEYS: readonly MemoryKey[] = STACK_SERVICE_KEYS;
export const PORT_KEYS = STACK_SERVICE_KEYS.filter((key): key is PortKey => "publishedPort" in STACK_SERVICES[key]);

/**
 * An object with one property per key, in the keys' order, e.g. a config schema's `images` shape:
 * `z.strictObject(keyedBy(IMAGE_KEYS, () => image.optional()))` keeps the key names in the type.
 */
export function keyedBy<Key extends string, Value>(keys: readonly Key[], value: (key: Key) => Value): { [K in Key]: Value } {
  return Object.fromEntries(keys.map((key) => [key, value(key)])) as { [K in Key]: Value };
}

export const DEFAULT_IMAGES = keyedBy(IMAGE_KEYS, (key) => STACK_SERVICES[key].image);
export const DEFAULT_PORTS = keyedBy(PORT_KEYS, (key) => STACK_SERVICES[key].publishedPort);

/** Job names the stack itself uses; a catalog service (whose job is named after it) may not take one. */
export const RESERVED_JOB_NAMES: readonly string[] = STACK_SERVICE_KEYS.flatMap((key) => {
  const service: StackService = STACK_SERVICES[key];
  return [service.scrapeJob, service.probeJob].filter((job): job is string => job !== undefined);
});

/** The key of the service a Pulumi resource name or component label names (`node-exporter` gives `nodeExporter`). */
export function stackServiceKeyNamed(name: string): StackServiceKey | undefined {
  return STACK_SERVICE_KEYS.find((key) => STACK_SERVICES[key].name === name);
}
