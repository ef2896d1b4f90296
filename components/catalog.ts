/**
 * A catalog service's identity: its name, the fields that describe it (metadata, such as an owning
 * team, as opposed to the `metrics`, `health` and `logs` the feature slices observe), and the labels
 * and log fields these become. Every consumer takes them from here: Prometheus scrape targets and
 * probes (metrics/prometheus-config.ts), Grafana alert labels (alerting/, slo/), the fields Filebeat
 * adds to each event (logs/filebeat-config.ts) and their Elasticsearch mapping (logs/elastic-bodies.ts).
 * Adding a metadata field is one entry in METADATA_FIELDS.
 *
 * Imports zod and types only, so any room can use it.
 */
import { z } from "zod";

/**
 * Fields a catalog entry may give that describe the service, each carried as a label of the same name
 * on its series, probes and alerts, and as `service.<field>` on its log events. Not something to
 * observe: an entry still needs one of `metrics`, `health`, `logs`.
 */
export const METADATA_FIELDS = {} satisfies z.ZodRawShape;
export type MetadataField = keyof typeof METADATA_FIELDS & string;
const METADATA_FIELD_NAMES = Object.keys(METADATA_FIELDS) as MetadataField[];

/** What identifies a catalog service: its name and the metadata it gives. */
export type ServiceIdentity = { name: string } & Partial<Record<MetadataField, string>>;

/** Where a host's label comes from: the metrics slice's `prometheus.hostLabel` (the same value on metrics, logs and alerts). */
export interface HostLabelConfig {
  prometheus: { hostLabel: string };
}

/**
 * The labels of a service's series, probes and alerts: `service`, then `host` when given (a rule over
 * every host leaves it to the series), then each metadata field the entry gives.
 */
export function serviceLabels(service: ServiceIdentity, host?: string): Record<string, string> {
  const metadata = METADATA_FIELD_NAMES.flatMap((field) => (service[field] === undefined ? [] : [[field, service[field] as string]]));
  return { service: service.name, ...(host === undefined ? {} : { host }), ...Object.fromEntries(metadata) };
}

/** The log event field each label is shipped as (ECS: `service.name`, `host.name`; metadata under `service.`). */
export function logFieldOf(label: string): string {
  if (label === "service") return "service.name";
  if (label === "host") return "host.name";
  return `service.${label}`;
}

/** Labels as the nested fields of a log event (`{ service: { name } }`), as Filebeat's `fields` and `add_fields` take them. */
export function logFields(labels: Record<string, string>): Record<string, Record<string, string>> {
  const fields: Record<string, Record<string, string>> = {};
  for (const [label, value] of Object.entries(labels)) {
    const [object, leaf] = logFieldOf(label).split(".");
    (fields[object] ??= {})[leaf] = value;
  }
  return fields;
}

/** Every log field the catalog's labels can become, for the index template's mapping: each an exact-match keyword. */
export const CATALOG_LOG_FIELDS: readonly string[] = ["service", "host", ...METADATA_FIELD_NAMES].map(logFieldOf);

/** The mapping of those fields, nested as Elasticsearch's `properties` are. */
export function catalogFieldMappings<Leaf>(leaf: Leaf): Record<string, { properties: Record<string, Leaf> }> {
  const mappings: Record<string, { properties: Record<string, Leaf> }> = {};
  for (const field of CATALOG_LOG_FIELDS) {
    const [object, name] = field.split(".");
    (mappings[object] ??= { properties: {} }).properties[name] = leaf;
  }
  return mappings;
}
