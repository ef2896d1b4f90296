/**
 * A catalog service's identity and labels (components/catalog.ts): one function gives them to every
 * consumer, and every field Filebeat ships is mapped in the data stream's index template.
 */
import * as yaml from "js-yaml";
import type { estypes } from "@elastic/elasticsearch";
import { CATALOG_LOG_FIELDS, logFields, serviceLabels } from "../../components/catalog";
import { renderFilebeatConfig } from "../../components/logs/filebeat-config";
import { renderIndexTemplate } from "../../components/logs/elastic-bodies";
import { MESSAGE_PATTERN_FIELD } from "../../components/logs/ingest-pipeline";
import { REQUEST_FIELD_TYPES } from "../../components/logs/request-fields";

/** Leaf paths of a nested object (`{ service: { name: "x" } }` gives `service.name`); dotted keys count as nested. */
function leafPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => leafPaths(inner, prefix ? `${prefix}.${key}` : key));
}

/** Whether the mapping has an explicit property at a dotted path. */
function mapped(properties: Record<string, estypes.MappingProperty>, fieldPath: string): boolean {
  const [head, ...rest] = fieldPath.split(".");
  const property = properties[head] as (estypes.MappingProperty & { properties?: Record<string, estypes.MappingProperty> }) | undefined;
  if (!property) return false;
  if (rest.length === 0) return property.properties === undefined;
  return property.properties !== undefined && mapped(property.properties, rest.join("."));
}

describe("catalog labels", () => {
  test("service and host, host only when given", () => {
    expect(serviceLabels({ name: "api" }, "host-1")).toEqual({ service: "api", host: "host-1" });
    expect(serviceLabels({ name: "api" })).toEqual({ service: "api" });
    expect(logFields(serviceLabels({ name: "api" }, "host-1"))).toEqual({ service: { name: "api" }, host: { name: "host-1" } });
  });

  test("every field Filebeat adds to an event is mapped in the index template", () => {
    const config = yaml.load(
      renderFilebeatConfig({
        elasticsearchUrl: "http://atra-dev-elasticsearch:9200",
        dataStream: "logs-atra-dev",
        pipeline: "atra-structlog",
        host: "app-host-7",
        usernameEnv: "U",
        passwordEnv: "P",
        stack: "dev",
        services: [
          { name: "api", logs: ["/srv/logs/api*.log"] },
          { name: "worker", logs: ["/srv/logs/worker*.log"] },
        ],
      }),
    ) as { "filebeat.inputs": { fields: unknown }[]; processors: { add_fields?: { fields: unknown } }[] };
    const shipped = new Set([
      ...config["filebeat.inputs"].flatMap((input) => leafPaths(input.fields)),
      ...config.processors.flatMap((processor) => (processor.add_fields ? leafPaths(processor.add_fields.fields) : [])),
    ]);
    expect([...shipped].sort()).toEqual(["host.name", "service.name"]);
    const properties = renderIndexTemplate({ dataStream: "logs-atra-dev", ilmPolicy: "p", pipeline: "q", finalPipeline: "f", failureStoreRetention: "30d" })
      .template!.mappings!.properties!;
    for (const field of [...shipped, ...CATALOG_LOG_FIELDS]) expect({ field, mapped: mapped(properties, field) }).toEqual({ field, mapped: true });
  });

  test("every request field and the message pattern the pipeline writes is mapped, with its ECS type", () => {
    const properties = renderIndexTemplate({ dataStream: "logs-atra-dev", ilmPolicy: "p", pipeline: "q", finalPipeline: "f", failureStoreRetention: "30d" })
      .template!.mappings!.properties!;
    const typeAt = (fieldPath: string): unknown =>
      fieldPath
        .split(".")
        .reduce<Record<string, unknown> | undefined>(
          (node, key, index, all) =>
            index === all.length - 1 ? (node?.[key] as Record<string, unknown>) : (node?.[key] as { properties?: Record<string, unknown> })?.properties,
          properties as Record<string, unknown>,
        )?.type;
    const expected = { ...REQUEST_FIELD_TYPES, [MESSAGE_PATTERN_FIELD]: "keyword" };
    for (const [field, type] of Object.entries(expected)) expect({ field, type: typeAt(field) }).toEqual({ field, type });
  });
});
