/**
 * The logs stage's Elasticsearch and Kibana bodies: names, ILM policy, index template, roles,
 * data view and saved search. Pure renderers, checked directly; the type-level block at the end
 * makes tsc prove that each body fits the official client's request type.
 */
import * as fs from "fs";
import * as path from "path";
import type { estypes } from "@elastic/elasticsearch";
import { REQUEST_FIELD_TYPES } from "../../components/logs/request-fields";
import {
  dataStreamParts,
  defaultDataStream,
  DERIVED_API_KEY_REFUSAL,
  derivedApiKeyRefused,
  esByteSizeAsReturned,
  failureStoreIndex,
  INDEX_TEMPLATE_PRIORITY,
  isEsByteSize,
  isEsDuration,
  logsNaming,
  READ_FAILURE_STORE_PRIVILEGE,
  renderDataView,
  renderIlmPolicy,
  renderIndexTemplate,
  agentApiKeyName,
  AGENT_HOST_METADATA,
  AGENT_SERVICES_METADATA,
  renderAgentApiKey,
  agentKeyRenewBeforeMs,
  renderIngestPipeline,
  renderReaderRole,
  renderRecentErrorsSearch,
  renderSlowestRequestsSearch,
  renderWriterRole,
  validateDataStreamName,
} from "../../components/logs/elastic-bodies";
import { ERROR_LEVELS } from "../../components/logs/kibana-bodies";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";

/** Elasticsearch's index-name rules (MetadataCreateIndexService.validateIndexOrAliasName). */
function indexNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name !== name.toLowerCase()) problems.push("uppercase");
  if (/[\\/*?"<>| ,#:]/.test(name)) problems.push("forbidden character");
  if (/^[-_+]/.test(name)) problems.push("bad first character");
  if (name === "." || name === "..") problems.push("dot name");
  if (Buffer.byteLength(name) > 255) problems.push("too long");
  return problems;
}

describe("logsNaming and the default data stream", () => {
  test.each([
    ["dev", "logs-atra-dev", "atra-dev"],
    ["prod", "logs-atra-prod", "atra-prod"],
    ["Staging", "logs-atra-staging", "atra-staging"],
    ["eu.prod-2", "logs-atra-eu_prod_2", "atra-eu-prod-2"],
    ["Team_A.Blue-Green", "logs-atra-team_a_blue_green", "atra-team_a-blue-green"],
  ])("stack %j", (stack, dataStream, prefix) => {
    expect(defaultDataStream(stack)).toBe(dataStream);
    const naming = logsNaming(stack, defaultDataStream(stack));
    expect(naming.dataStream).toBe(dataStream);
    for (const [key, name] of Object.entries(naming)) {
      if (key !== "dataStream") expect(name.startsWith(`${prefix}-`)).toBe(true);
      expect(indexNameProblems(name)).toEqual([]);
    }
    // The data stream naming scheme: type-dataset-namespace, no '-' inside the namespace.
    expect(dataStreamParts(naming.dataStream)).toEqual({ type: "logs", dataset: "atra", namespace: dataStream.slice("logs-atra-".length) });
    expect(validateDataStreamName(naming.dataStream)).toBeUndefined();
    // Distinct names: a role and a user, or a template and a data view, never share a name.
    expect(new Set(Object.values(naming)).size).toBe(Object.keys(naming).length);
  });

  test("the namespace keeps to 100 characters; an empty stack name is refused", () => {
    expect(dataStreamParts(defaultDataStream("x".repeat(150)))!.namespace).toHaveLength(100);
    expect(() => defaultDataStream("")).toThrow(/must not be empty/);
    expect(() => logsNaming("", "logs-atra-x")).toThrow(/must not be empty/);
  });

  test("the naming carries the data stream it is given (a config override); the other names follow the stack", () => {
    const custom = logsNaming("prod", "logs-payments-eu");
    expect(custom.dataStream).toBe("logs-payments-eu");
    expect({ ...custom, dataStream: undefined }).toEqual({ ...logsNaming("prod", defaultDataStream("prod")), dataStream: undefined });
  });

  test("naming is deterministic (fixed ids for a second up)", () => {
    expect(logsNaming("prod", defaultDataStream("prod"))).toEqual(logsNaming("prod", defaultDataStream("prod")));
  });
});

describe("validateDataStreamName", () => {
  test.each(["logs-atra-prod", "logs-myapp-default", "logs-foo", "logs-a.b_c-d"])("accepts %j", (name) => {
    expect(validateDataStreamName(name)).toBeUndefined();
  });

  test.each([
    ["", /empty/],
    ["Logs-atra-prod", /lowercase/],
    ["logs-Atra", /lowercase/],
    ["metrics-atra-prod", /start with "logs-"/],
    ["logs-", /start with "logs-"/],
    ["logsatra", /start with "logs-"/],
    ["logs-atra prod", /letters, digits/],
    ["logs-atra*", /letters, digits/],
    ["logs-a:b", /letters, digits/],
    ["logs-a#b,c", /letters, digits/],
    ["logs-a/b", /letters, digits/],
    ["logs-atra+x", /letters, digits/],
    ["logs-%{x}", /letters, digits/],
    [`logs-${"ü".repeat(3)}`, /letters, digits/],
    [`logs-${"a".repeat(251)}`, /at most 255 bytes, not 256/],
  ])("refuses %j", (name, message) => {
    expect(validateDataStreamName(name)).toMatch(message);
  });

  test("255 bytes is still fine", () => {
    expect(validateDataStreamName(`logs-${"a".repeat(250)}`)).toBeUndefined();
  });
});

describe("renderIlmPolicy", () => {
  test("carries the durations and the size over", () => {
    const policy = renderIlmPolicy({ rolloverMaxAge: "12h", rolloverMaxPrimaryShardSize: "5gb", deleteAfter: "14d" });
    expect(policy.phases.hot?.actions?.rollover).toEqual({ max_age: "12h", max_primary_shard_size: "5gb" });
    expect(policy.phases.delete).toEqual({ min_age: "14d", actions: { delete: {} } });
    expect(Object.keys(policy.phases).sort()).toEqual(["delete", "hot"]);
  });

  test.each([
    ["rolloverMaxAge", { rolloverMaxAge: "1w", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "30d" }],
    ["rolloverMaxAge", { rolloverMaxAge: "0d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "30d" }],
    ["rolloverMaxPrimaryShardSize", { rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10 gb", deleteAfter: "30d" }],
    ["deleteAfter", { rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "30 days" }],
  ])("refuses a bad %s", (key, options) => {
    expect(() => renderIlmPolicy(options)).toThrow(new RegExp(key));
  });

  // elastic/elasticsearch ByteSizeValue.parseBytesSizeValue lower-cases the input and keeps its
  // unit; RolloverAction writes max_primary_shard_size back with getStringRep() (number + the
  // unit's lower-case suffix). A size in any other form would read back different: drift.
  test.each([
    ["10GB", "10gb"],
    ["10gb", "10gb"],
    ["512Mb", "512mb"],
    ["1024MB", "1024mb"],
    ["1TB", "1tb"],
    ["2048b", "2048b"],
  ])("renders the size %j as Elasticsearch returns it: %j", (configured, returned) => {
    const policy = renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: configured, deleteAfter: "7d" });
    expect(policy.phases.hot?.actions?.rollover?.max_primary_shard_size).toBe(returned);
    expect(esByteSizeAsReturned(configured)).toBe(returned);
  });

  test("sizes Elasticsearch would refuse or rewrite are refused", () => {
    // ByteSizeValue.of: more than Long.MAX_VALUE bytes is refused; 8191pb is just below it.
    expect(isEsByteSize("8191pb")).toBe(true);
    expect(isEsByteSize("8192pb")).toBe(false);
    // A fraction comes back in bytes (getStringRep with a residue), a bare number is refused.
    for (const value of ["1.5gb", "10", "10 gb"]) expect(() => esByteSizeAsReturned(value)).toThrow(/not a whole byte size/);
  });

  test("duration and size syntax", () => {
    expect(["1d", "30d", "12h", "90m", "30s", "500ms"].every(isEsDuration)).toBe(true);
    expect(["1w", "1y", "d", "-1d", "1.5d", "01d", " 1d"].some(isEsDuration)).toBe(false);
    expect(["10gb", "512mb", "1tb", "10GB"].every(isEsByteSize)).toBe(true);
    expect(["10", "10g", "1.5gb", "0gb"].some(isEsByteSize)).toBe(false);
  });
});

describe("renderIndexTemplate", () => {
  const naming = logsNaming("prod", defaultDataStream("prod"));
  const template = renderIndexTemplate({
    dataStream: naming.dataStream,
    ilmPolicy: naming.ilmPolicy,
    pipeline: naming.pipeline,
    finalPipeline: naming.finalPipeline,
    failureStoreRetention: "30d",
  });
  const properties = template.template!.mappings!.properties!;
  const at = (path: string): estypes.MappingProperty | undefined => {
    const keys = path.split(".");
    let current: estypes.MappingProperty | undefined = properties[keys[0]!];
    for (const key of keys.slice(1)) current = (current as estypes.MappingObjectProperty | undefined)?.properties?.[key];
    return current;
  };

  test("a data stream template for exactly this data stream, above the built-in logs-*-*", () => {
    expect(template.index_patterns).toEqual([naming.dataStream]);
    expect(template.data_stream).toEqual({});
    expect(template.priority).toBe(INDEX_TEMPLATE_PRIORITY);
    expect(template.priority).toBeGreaterThan(100);
    expect(template.composed_of).toBeUndefined();
  });

  test("a final pipeline no request can skip, and no mapping growth from senders (dynamic: false, no dynamic templates)", () => {
    expect(template.template!.settings!.index!.default_pipeline).toBe(naming.pipeline);
    expect(template.template!.settings!.index!.final_pipeline).toBe(naming.finalPipeline);
    expect(naming.finalPipeline).toBe("atra-prod-logs-host-identity");
    expect(template.template!.mappings!.dynamic).toBe(false);
    // Dead with dynamic: false (they apply only to fields that would be added).
    expect(template.template!.mappings!.dynamic_templates).toBeUndefined();
    expect(template.template!.settings!.index!.mapping).toBeUndefined();
  });

  test("every field the dashboards, log alerts, saved searches and the data view read is mapped explicitly", () => {
    const root = path.join(__dirname, "..", "..");
    const sources = [
      ...fs.readdirSync(path.join(root, "dashboards")).map((file) => path.join(root, "dashboards", file)),
      path.join(root, "components", "alerting", "log-alerts.ts"),
      path.join(root, "components", "logs", "kibana-bodies.ts"),
    ];
    const read = new Set<string>(["@timestamp", "message", "tags", "log.file.path", "event.created", "trace.id", "user_agent.original"]);
    for (const file of sources) {
      for (const match of fs.readFileSync(file, "utf8").matchAll(/\b(?:service|host|log|event|url|http|error|atra|trace|user_agent)\.[a-z_]+(?:\.[a-z_]+)*/g)) {
        // Not field names: JavaScript calls and file names in comments, and the failure store's own error.type.
        if (/\.(replace|ts|md|go|length|max|logs|critical|exception)$/.test(match[0]) || match[0] === "error.type") continue;
        read.add(match[0]);
      }
    }
    expect([...read]).toEqual(expect.arrayContaining(["service.name", "host.name", "log.level", "event.duration", "url.path", "atra.message_pattern"]));
    for (const field of read) expect([field, at(field)]).toEqual([field, expect.objectContaining({ type: expect.any(String) })]);
  });

  test("the data stream's failure store is enabled, where Elasticsearch 9.1 reads it (template.data_stream_options)", () => {
    expect(template.template!.data_stream_options?.failure_store?.enabled).toBe(true);
    expect(template).not.toHaveProperty("data_stream_options");
    expect(failureStoreIndex(naming.dataStream)).toBe("logs-atra-prod::failures");
  });

  // docs-content manage-data/data-store/data-streams/failure-store.md, "Failure store lifecycle": without
  // data_retention failures are kept data_streams.lifecycle.retention.failures_default (30d,
  // elastic/elasticsearch DataStreamGlobalRetentionSettings), whatever logs.retention says.
  // DataStreamFailureStore.Template reads `lifecycle`; DataStreamLifecycle reads data_retention.
  test("the failure store keeps failed lines as long as logs.retention keeps indexed ones", () => {
    expect(template.template!.data_stream_options).toEqual({ failure_store: { enabled: true, lifecycle: { data_retention: "30d" } } });
    const custom = renderIndexTemplate({ dataStream: "logs-foo", ilmPolicy: "p", pipeline: "q", finalPipeline: "f", failureStoreRetention: "7d" });
    expect(custom.template!.data_stream_options!.failure_store!.lifecycle).toEqual({ data_retention: "7d" });
    expect(() => renderIndexTemplate({ dataStream: "logs-foo", ilmPolicy: "p", pipeline: "q", finalPipeline: "f", failureStoreRetention: "1w" })).toThrow(
      /failureStoreRetention "1w" is not a duration/,
    );
  });

  // elastic/elasticsearch server/src/main/java/org/elasticsearch/cluster/metadata/AutoExpandReplicas.java:
  // replicas = (matching data nodes - 1) clamped to [min, max]. A fixed number_of_replicas: 0 left an
  // external multi-node cluster without a copy.
  test("linked to the ILM policy and the pipeline by name; replicas 0 on one node, 1 on several (auto_expand_replicas)", () => {
    const index = template.template!.settings!.index!;
    expect(index.lifecycle?.name).toBe(naming.ilmPolicy);
    expect(index.default_pipeline).toBe(naming.pipeline);
    expect(index.auto_expand_replicas).toBe("0-1");
    expect(index.number_of_replicas).toBeUndefined();
    // AutoExpandReplicas.getDesiredNumberOfReplicas, for "0-1": min 0, max min(1, nodes - 1).
    const [min, max] = String(index.auto_expand_replicas).split("-").map(Number) as [number, number];
    const replicas = (dataNodes: number) => {
      const upper = Math.min(max, dataNodes - 1);
      const wanted = dataNodes - 1;
      return wanted < min ? min : wanted > upper ? upper : wanted;
    };
    expect([1, 2, 3, 5].map(replicas)).toEqual([0, 1, 1, 1]);
  });

  // x-pack/plugin/logsdb/.../LogsDBPlugin.java (CLUSTER_LOGSDB_ENABLED) and LogsdbIndexModeSettingsProvider.java:
  // an unset index.mode on a logs-*-* data stream becomes logsdb on a 9.x cluster by default; pinned, every
  // cluster gets the mode the ingest simulator models.
  test("the index mode is pinned to standard (not left to cluster.logsdb.enabled)", () => {
    expect(template.template!.settings!.index!.mode).toBe("standard");
  });

  test.each([
    ["@timestamp", "date_nanos"],
    ["message", "match_only_text"],
    ["log.level", "keyword"],
    ["log.logger", "keyword"],
    ["log.file.path", "keyword"],
    ["service.name", "keyword"],
    ["host.name", "keyword"],
    ["tags", "keyword"],
    ["error.stack_trace", "wildcard"],
    ["error.message", "match_only_text"],
    ["data_stream.type", "constant_keyword"],
    ["data_stream.dataset", "constant_keyword"],
    ["data_stream.namespace", "constant_keyword"],
    ["structlog", "flattened"],
  ])("maps %s as %s", (path, type) => {
    expect((at(path) as { type?: string } | undefined)?.type).toBe(type);
  });

  test("data_stream.* carry the values of the name when it follows the scheme, none otherwise", () => {
    expect(at("data_stream.type")).toEqual({ type: "constant_keyword", value: "logs" });
    expect(at("data_stream.dataset")).toEqual({ type: "constant_keyword", value: "atra" });
    expect(at("data_stream.namespace")).toEqual({ type: "constant_keyword", value: "prod" });
    const custom = renderIndexTemplate({ dataStream: "logs-foo", ilmPolicy: "p", pipeline: "q", finalPipeline: "f", failureStoreRetention: "7d" });
    expect((custom.template!.mappings!.properties!.data_stream as estypes.MappingObjectProperty).properties!.dataset).toEqual({ type: "constant_keyword" });
    expect(custom.index_patterns).toEqual(["logs-foo"]);
  });

  test("every field the pipeline writes is mapped", () => {
    const pipeline = renderIngestPipeline();
    const written = new Set<string>();
    const collect = (processors: estypes.IngestProcessorContainer[] | undefined): void => {
      // @elastic/elasticsearch 9.5 types a container as ExactlyOne<...> over optional props, which admits undefined.
      for (const container of (processors ?? []).filter((item): item is NonNullable<typeof item> => item !== undefined)) {
        for (const [, config] of Object.entries(container) as [string, Record<string, unknown>][]) {
          for (const key of ["target_field", "field"]) {
            const value = config[key];
            if (typeof value === "string" && !value.startsWith("structlog.")) written.add(value);
          }
          if (container.json) written.add(container.json.target_field ?? container.json.field);
          collect(config.on_failure as estypes.IngestProcessorContainer[] | undefined);
        }
      }
    };
    collect(pipeline.processors);
    collect(pipeline.on_failure);
    // A working field the pipeline removes unconditionally (the timestamp's text while it is parsed) is never indexed.
    const removed = (pipeline.processors ?? [])
      .filter((container): container is NonNullable<typeof container> => container !== undefined)
      .filter((container) => container.remove && container.remove.if === undefined && typeof container.remove.field === "string")
      .map((container) => container.remove!.field as string);
    expect(removed).toContain("structlog_timestamp_text");
    expect(removed).toContain("structlog_duration");
    for (const field of [...written]) if (removed.some((gone) => field === gone || field.startsWith(`${gone}.`))) written.delete(field);
    expect([...written].sort()).toEqual([
      "@timestamp",
      "atra.message_pattern",
      "error.message",
      "error.stack_trace",
      "event.created",
      "event.duration",
      "http.request.id",
      "http.request.method",
      "http.response.status_code",
      "log.level",
      "log.logger",
      "message",
      "structlog",
      "tags",
      "trace.id",
      "url.path",
      "user_agent.original",
    ]);
    for (const field of written) expect(at(field)).toBeDefined();
  });
});

describe("roles", () => {
  const dataStream = logsNaming("prod", defaultDataStream("prod")).dataStream;
  const FORBIDDEN = ["all", "write", "index", "delete", "delete_index", "manage", "create_index", "create"];

  test("writer: monitor on the cluster, create_doc + auto_configure on the data stream only", () => {
    const role = renderWriterRole(dataStream);
    expect(role.cluster).toEqual(["monitor"]);
    expect(role.indices).toHaveLength(1);
    expect(role.indices![0]!.names).toEqual([dataStream]);
    expect([...role.indices![0]!.privileges].sort()).toEqual(["auto_configure", "create_doc"]);
    expect(role.applications ?? []).toEqual([]);
    expect(role.run_as ?? []).toEqual([]);
  });

  test("reader: monitor on the cluster, read + view_index_metadata + read_failure_store on the data stream only", () => {
    const role = renderReaderRole(dataStream);
    expect(role.cluster).toEqual(["monitor"]);
    expect(role.indices).toHaveLength(1);
    expect(role.indices![0]!.names).toEqual([dataStream]);
    // `read` does not reach `::failures`; Elasticsearch's name for the privilege that does.
    expect([...role.indices![0]!.privileges].sort()).toEqual(["read", "read_failure_store", "view_index_metadata"]);
    expect(READ_FAILURE_STORE_PRIVILEGE).toBe("read_failure_store");
    // The writer gets nothing for the failure store: redirected documents are written under create_doc.
    expect(renderWriterRole(dataStream).indices![0]!.privileges).not.toContain(READ_FAILURE_STORE_PRIVILEGE);
  });

  test.each([
    ["writer", renderWriterRole],
    ["reader", renderReaderRole],
  ])("%s: no broad privilege, no wildcard, no restricted indices", (_name, render) => {
    const role = render(dataStream);
    const privileges = [...(role.cluster ?? []), ...(role.indices ?? []).flatMap((entry) => entry.privileges)];
    expect(privileges.filter((privilege) => FORBIDDEN.includes(privilege))).toEqual([]);
    for (const entry of role.indices ?? []) {
      expect(entry.allow_restricted_indices).toBe(false);
      for (const name of [entry.names].flat()) expect(name).not.toMatch(/[*?]/);
    }
  });
});

describe("the agents' API keys", () => {
  const naming = logsNaming("eu.prod-2", "logs-payments-eu");

  test("one per host, named after it; one role descriptor granting exactly the writer role (less its description); the host and its services in its metadata; an expiry", () => {
    expect(agentApiKeyName(naming, "App-1.Example.com")).toBe("atra-eu-prod-2-agent-filebeat-app-1.example.com");
    const body = renderAgentApiKey(naming, "app-1.example.com", ["api"], "90d");
    expect(Object.keys(body.role_descriptors!)).toEqual([naming.writerRole]);
    const { description, ...writer } = renderWriterRole(naming.dataStream);
    expect(description).toBeDefined();
    expect(body.role_descriptors![naming.writerRole]).toEqual(writer);
    // No cluster privilege but monitor (GET / and GET /_license on connect); create_doc and auto_configure on the data stream alone.
    expect(body.role_descriptors![naming.writerRole]!.cluster).toEqual(["monitor"]);
    expect(body.role_descriptors![naming.writerRole]!.indices).toEqual([
      { names: ["logs-payments-eu"], privileges: ["create_doc", "auto_configure"], allow_restricted_indices: false },
    ]);
    expect(body.metadata).toEqual({
      managed_by: "atra-observability",
      purpose: "an agent host's Filebeat",
      data_stream: "logs-payments-eu",
      [AGENT_HOST_METADATA]: "app-1.example.com",
      [AGENT_SERVICES_METADATA]: ["api"],
    });
    expect(body.expiration).toBe("90d");
    expect(() => renderAgentApiKey(naming, "h", [], "3 months")).toThrow(/expiration "3 months" is not a duration/);
  });

  test("renewed by a plain up 14 days before it expires, or in the last third of a shorter life (never on every up)", () => {
    const day = 86_400_000;
    expect(agentKeyRenewBeforeMs("90d")).toBe(14 * day);
    expect(agentKeyRenewBeforeMs("42d")).toBe(14 * day);
    expect(agentKeyRenewBeforeMs("30d")).toBe(10 * day);
    expect(agentKeyRenewBeforeMs("36h")).toBe(12 * 3_600_000);
    expect(() => agentKeyRenewBeforeMs("3 months")).toThrow(/not a duration/);
  });

  test("a request authenticated by an API key could not create it (Elasticsearch's derived-key rule)", () => {
    expect(derivedApiKeyRefused(renderAgentApiKey(naming, "h", [], "90d").role_descriptors)).toBe(true);
    // What such a request may create: role descriptors given, every one empty.
    expect(derivedApiKeyRefused({ none: {} })).toBe(false);
    expect(derivedApiKeyRefused({ none: { cluster: [], indices: [] } })).toBe(false);
    expect(derivedApiKeyRefused({})).toBe(true);
    expect(derivedApiKeyRefused(undefined)).toBe(true);
    expect(derivedApiKeyRefused({ tagged: { metadata: { a: 1 } } })).toBe(true);
    expect(DERIVED_API_KEY_REFUSAL).toEqual({
      type: "illegal_argument_exception",
      reason: "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)",
    });
  });
});

describe("Kibana bodies", () => {
  const naming = logsNaming("prod", defaultDataStream("prod"));

  test("data view over the data stream, timed by @timestamp, allowed before the data exists", () => {
    const body = renderDataView({ id: naming.dataViewId, dataStream: naming.dataStream, name: "Atra logs (prod)" });
    expect(body).toEqual({
      data_view: { id: naming.dataViewId, title: naming.dataStream, name: "Atra logs (prod)", timeFieldName: "@timestamp", allowNoIndex: true },
    });
  });

  test("recent errors search: columns, newest first, KQL on error levels, references the data view", () => {
    const body = renderRecentErrorsSearch({ id: naming.recentErrorsSearchId, dataViewId: naming.dataViewId, title: "Recent errors" });
    expect(body.attributes.title).toBe("Recent errors");
    expect(body.attributes.columns).toEqual(["service.name", "log.level", "message"]);
    expect(body.attributes.sort).toEqual([["@timestamp", "desc"]]);
    const source = JSON.parse(body.attributes.kibanaSavedObjectMeta.searchSourceJSON) as {
      query: { query: string; language: string };
      filter: unknown[];
      indexRefName: string;
      index?: string;
    };
    expect(source.query.language).toBe("kuery");
    for (const level of ["error", "critical", "exception"]) expect(source.query.query).toContain(`"${level}"`);
    expect(source.query.query).toBe(`log.level: (${ERROR_LEVELS.map((level) => `"${level}"`).join(" or ")})`);
    expect(source.index).toBeUndefined(); // by reference, not by id
    expect(body.references).toEqual([{ name: source.indexRefName, type: "index-pattern", id: naming.dataViewId }]);
    expect(body).not.toHaveProperty("id"); // the id goes in the API path
  });

  test("slowest requests search: lines with event.duration, longest first, over mapped request fields, by the data view's reference", () => {
    const body = renderSlowestRequestsSearch({ id: naming.slowestRequestsSearchId, dataViewId: naming.dataViewId, title: "Slowest requests" });
    expect(body.attributes.sort).toEqual([["event.duration", "desc"]]);
    const source = JSON.parse(body.attributes.kibanaSavedObjectMeta.searchSourceJSON) as { query: { query: string; language: string }; indexRefName: string };
    expect(source.query).toEqual({ query: "event.duration: *", language: "kuery" });
    for (const column of body.attributes.columns.filter((c) => c !== "message" && c !== "service.name"))
      expect({ column, type: REQUEST_FIELD_TYPES[column] }).toEqual({ column, type: expect.any(String) });
    expect(body.references).toEqual([{ name: source.indexRefName, type: "index-pattern", id: naming.dataViewId }]);
    expect(naming.slowestRequestsSearchId).toBe("atra-prod-logs-slowest-requests");
  });
});

// Type level: each body, with its name added, is a request the official client accepts.
export const typeChecks = (): unknown[] => {
  const naming = logsNaming("dev", defaultDataStream("dev"));
  const ilm: estypes.IlmPutLifecycleRequest = {
    name: naming.ilmPolicy,
    policy: renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "7d" }),
  };
  const template: estypes.IndicesPutIndexTemplateRequest = {
    name: naming.indexTemplate,
    ...renderIndexTemplate({
      dataStream: naming.dataStream,
      ilmPolicy: naming.ilmPolicy,
      pipeline: naming.pipeline,
      finalPipeline: naming.finalPipeline,
      failureStoreRetention: "30d",
    }),
  };
  const pipeline: estypes.IngestPutPipelineRequest = { id: naming.pipeline, ...renderIngestPipeline() };
  const writer: estypes.SecurityPutRoleRequest = { name: naming.writerRole, ...renderWriterRole(naming.dataStream) };
  const reader: estypes.SecurityPutRoleRequest = { name: naming.readerRole, ...renderReaderRole(naming.dataStream) };
  return [ilm, template, pipeline, writer, reader];
};

test("type-level checks build", () => {
  expect(typeChecks()).toHaveLength(5);
});

describe("the ILM policy round-trips through an Elasticsearch that stores byte sizes as ByteSizeValue does", () => {
  // test/support/fake-elastic.ts answers as Elasticsearch: rollover sizes read back lower-case.
  let fake: FakeElastic;
  beforeAll(async () => {
    fake = await startFakeElastic("pw");
  });
  afterAll(() => fake.close());

  const putAndGet = async (policy: unknown) => {
    const auth = `Basic ${Buffer.from("elastic:pw").toString("base64")}`;
    const headers = { authorization: auth, "content-type": "application/json" };
    const put = await fetch(`${fake.url}/_ilm/policy/p`, { method: "PUT", headers, body: JSON.stringify({ policy }) });
    expect(put.status).toBe(200);
    const got = (await (await fetch(`${fake.url}/_ilm/policy/p`, { headers })).json()) as {
      p: { policy: { phases: { hot: { actions: { rollover: Record<string, unknown> } } } } };
    };
    return got.p.policy.phases.hot.actions.rollover;
  };

  test("a configured 10GB is sent as 10gb, which is what comes back (no drift on refresh)", async () => {
    const policy = renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10GB", deleteAfter: "7d" });
    const sent = policy.phases.hot!.actions!.rollover!;
    expect(await putAndGet(policy)).toEqual(sent);
    // The double is not trivially equal: an upper-case size would come back changed.
    expect((await putAndGet({ phases: { hot: { actions: { rollover: { max_primary_shard_size: "10GB" } } } } })).max_primary_shard_size).toBe("10gb");
  });
});
