/**
 * The stack's own services: the list of their descriptors (components/stack-service.ts), each owned
 * by the room that runs it. A descriptor's key is also its config key (`images.<key>`,
 * `memoryMb.<key>`, `ports.<key>`), so listing a service here is what gives it config keys, default
 * image and memory, its scrape job, its image pull and (for an optional exporter) its container, and
 * puts its job in the list the `ExporterDown` alert must cover (test/unit/stack-services.test.ts).
 *
 * It lives beside the rooms rather than in one: the config layer, the renderers and the components
 * of several rooms all read it. It imports only the descriptor modules, which import types only, so
 * any module can import it without a cycle.
 */
import type { PerEnvironment } from "./config/environments";
import { CADVISOR_SERVICE } from "./metrics/cadvisor";
import { BLACKBOX_EXPORTER_SERVICE, NODE_EXPORTER_SERVICE, PROMETHEUS_SERVICE } from "./metrics/services";
import { GRAFANA_SERVICE } from "./grafana/service";
import { ELASTICSEARCH_SERVICE, FILEBEAT_SERVICE, KIBANA_SERVICE } from "./logs/services";
import type { StackServiceDescriptor } from "./stack-service";

/** In the order images are pulled and config keys are listed. Adding a service adds it here. */
export const STACK_SERVICE_LIST = [
  PROMETHEUS_SERVICE,
  GRAFANA_SERVICE,
  NODE_EXPORTER_SERVICE,
  BLACKBOX_EXPORTER_SERVICE,
  CADVISOR_SERVICE,
  ELASTICSEARCH_SERVICE,
  KIBANA_SERVICE,
  FILEBEAT_SERVICE,
] as const;

type Listed = (typeof STACK_SERVICE_LIST)[number];
/** Every descriptor by its key. */
export type StackServices = { [Service in Listed as Service["key"]]: Service };
export const STACK_SERVICES = Object.fromEntries(STACK_SERVICE_LIST.map((service) => [service.key, service])) as StackServices;

export type StackServiceKey = Listed["key"];
/** The keys of the descriptors that have `field`. */
type KeysWith<Field extends string> = Extract<Listed, Record<Field, unknown>>["key"];
export type ScrapedServiceKey = KeysWith<"scrapeJob">;

/** Every service has an image and a memory limit; only those people open have a published port. */
export type ImageKey = StackServiceKey;
export type MemoryKey = StackServiceKey;
export type PortKey = KeysWith<"publishedPort">;

export const STACK_SERVICE_KEYS = STACK_SERVICE_LIST.map((service) => service.key) as readonly StackServiceKey[];
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
/** Memory limits (MB) of the stack's own containers by environment: dev fits a laptop. */
export const DEFAULT_MEMORY_MB: PerEnvironment<Record<MemoryKey, number>> = {
  dev: keyedBy(MEMORY_KEYS, (key) => STACK_SERVICES[key].memoryMb.dev),
  staging: keyedBy(MEMORY_KEYS, (key) => STACK_SERVICES[key].memoryMb.staging),
  prod: keyedBy(MEMORY_KEYS, (key) => STACK_SERVICES[key].memoryMb.prod),
};

/** Job names the stack itself uses; a catalog service (whose job is named after it) may not take one. */
export const RESERVED_JOB_NAMES: readonly string[] = STACK_SERVICE_LIST.flatMap((service: StackServiceDescriptor) =>
  [service.scrapeJob, service.probeJob].filter((job): job is string => job !== undefined),
);

/** The scrape jobs of the exporters (`exporter: true`): exactly what the `ExporterDown` alert (alerts/stack.yml) watches. */
export const EXPORTER_JOBS: readonly string[] = STACK_SERVICE_LIST.flatMap((service: StackServiceDescriptor) =>
  service.exporter && service.scrapeJob ? [service.scrapeJob] : [],
);

/** The key of the service a Pulumi resource name or component label names (`node-exporter` gives `nodeExporter`). */
export function stackServiceKeyNamed(name: string): StackServiceKey | undefined {
  return STACK_SERVICE_KEYS.find((key) => STACK_SERVICES[key].name === name);
}

/** Optional exporters the metrics room runs from their descriptor alone (a `container`), in list order. */
export const OPTIONAL_EXPORTERS = STACK_SERVICE_LIST.filter((service): service is Extract<Listed, { container: unknown }> => "container" in service);
/** What the optional exporters' descriptors read from the stack config. */
export type OptionalExporterConfig = UnionToIntersection<Parameters<Extract<Listed, { container: unknown }>["container"]>[0]>;

/** The config slices of the services that have config keys of their own, composed with the features' (config/stack-config.ts). */
export const STACK_SERVICE_SLICES = STACK_SERVICE_LIST.flatMap((service: StackServiceDescriptor) => (service.slice ? [service.slice] : [])) as SlicesOf<
  typeof STACK_SERVICE_LIST
>;
type SlicesOf<List> = List extends readonly [infer Head, ...infer Rest] ? [...(Head extends { slice: infer Slice } ? [Slice] : []), ...SlicesOf<Rest>] : [];

/** What decides which services run: every descriptor's `runs` reads its part of this. */
export type RunsConfig = UnionToIntersection<Parameters<Extract<Listed, { runs: unknown }>["runs"]>[0]>;

/** The services a stack runs (their images pulled, their containers made), in list order. */
export function runningServices(config: RunsConfig): StackServiceKey[] {
  return STACK_SERVICE_LIST.filter((service) => !("runs" in service) || (service.runs as (config: RunsConfig) => boolean)(config)).map(
    (service) => service.key,
  );
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
