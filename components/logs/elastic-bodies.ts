/**
 * Pure renderers for the logs stage's Elasticsearch objects: names, the ILM policy, the index
 * template of the data stream, and the writer (Filebeat) and reader (Grafana) roles. No Pulumi
 * inside; the dynamic providers PUT these bodies as they are. Bodies have the types the providers
 * take (../elastic/request-bodies.ts, from the official client's `estypes`), so `tsc` checks every
 * key against the Elasticsearch API specification.
 *
 * The ingest pipeline lives in ./ingest-pipeline.ts and the Kibana bodies in ./kibana-bodies.ts;
 * both are re-exported here so callers have one import.
 */
import type { estypes } from "@elastic/elasticsearch";
import { catalogFieldMappings } from "../catalog";
import type { ApiKeyBody, IndexTemplateBody, RoleBody } from "../elastic/request-bodies";
import { AGENT_HOST_METADATA, AGENT_SERVICES_METADATA } from "./host-identity-pipeline";

export { renderIngestPipeline, PARSE_FAILURE_TAG, TIMESTAMP_FAILURE_TAG, STRUCTLOG_FIELD } from "./ingest-pipeline";
export { renderHostIdentityPipeline, AGENT_HOST_METADATA, AGENT_SERVICES_METADATA, AUTHENTICATED_FIELD } from "./host-identity-pipeline";
export { renderDataView, renderRecentErrorsSearch, renderSlowestRequestsSearch, ERROR_LEVELS } from "./kibana-bodies";
export type { DataViewBody, SavedSearchBody } from "./kibana-bodies";

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** The names of a stack's logs objects, the data stream among them: one value for everything that names one. */
export interface LogsNaming {
  /** The data stream Filebeat writes to: the config's `logs.dataStream` (by default defaultDataStream(stack)). */
  dataStream: string;
  ilmPolicy: string;
  indexTemplate: string;
  pipeline: string;
  /** The data stream's `index.final_pipeline`: host.name from the authenticated agent key (host-identity-pipeline.ts). */
  finalPipeline: string;
  writerRole: string;
  writerUser: string;
  readerRole: string;
  readerUser: string;
  /** The start of each agent host's API key name (`<prefix>-<host>`, agentApiKeyName). */
  agentApiKeyPrefix: string;
  /** People's Kibana login: read the data stream in Discover and dashboards (renderKibanaViewerRole). */
  kibanaViewerRole: string;
  kibanaViewerUser: string;
  /** Kibana data view id (fixed, so the saved search can reference it and a second `up` finds it). */
  dataViewId: string;
  recentErrorsSearchId: string;
  slowestRequestsSearchId: string;
}

/** Data stream naming scheme limits (type-dataset-namespace): namespace at most 100 characters, no `-`. */
const NAMESPACE_MAX_LENGTH = 100;

/**
 * The data stream namespace for a stack: lowercased, every character outside [a-z0-9_] replaced by
 * `_` (the scheme forbids `-` in a namespace, and index names must be lowercase). Distinct stack
 * names can map to the same namespace (`a.b` and `a_b`); each stack has its own cluster here, so
 * that only matters if several stacks ever share one Elasticsearch.
 */
export function dataStreamNamespace(stack: string): string {
  const namespace = stack
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, NAMESPACE_MAX_LENGTH);
  if (namespace.length === 0) throw new Error("logsNaming: the stack name must not be empty");
  return namespace;
}

/**
 * Stack slug for the other names: lowercased, anything outside [a-z0-9_-] replaced by `-`. Index
 * template names follow the index-name rules (lowercase, no spaces, commas, `*`, `#`, ...); ILM
 * policies, pipelines, roles, users and Kibana ids accept more, so one slug suits them all.
 */
export function stackSlug(stack: string): string {
  const slug = stack.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  if (slug.length === 0) throw new Error("logsNaming: the stack name must not be empty");
  return slug;
}

/** `logs-atra-<namespace>`: the data stream of a stack whose config names none (type `logs`, dataset `atra`). */
export function defaultDataStream(stack: string): string {
  return `logs-atra-${dataStreamNamespace(stack)}`;
}

/**
 * The names for a stack whose logs go to `dataStream` (the resolved `logs.dataStream`). The data
 * stream is an argument, not derived here, because the config may name another: the template, the
 * roles, the data view, the shipper and Grafana all take it from here.
 */
export function logsNaming(stack: string, dataStream: string): LogsNaming {
  const slug = stackSlug(stack);
  const p = `atra-${slug}`;
  return {
    dataStream,
    ilmPolicy: `${p}-logs-ilm`,
    indexTemplate: `${p}-logs`,
    pipeline: `${p}-logs-structlog`,
    finalPipeline: `${p}-logs-host-identity`,
    writerRole: `${p}-logs-writer`,
    writerUser: `${p}-filebeat`,
    readerRole: `${p}-logs-reader`,
    readerUser: `${p}-grafana-logs`,
    agentApiKeyPrefix: `${p}-agent-filebeat`,
    kibanaViewerRole: `${p}-logs-viewer`,
    kibanaViewerUser: `${p}-kibana-viewer`,
    dataViewId: `${p}-logs-data-view`,
    recentErrorsSearchId: `${p}-logs-recent-errors`,
    slowestRequestsSearchId: `${p}-logs-slowest-requests`,
  };
}

const MAX_NAME_BYTES = 255;

/**
 * Checks a user-supplied data stream name (the config override). Returns an error message, or
 * undefined when the name is acceptable: lowercase, starts with `logs-` (so Kibana's and Grafana's
 * logs views see it as logs, and our template, matching the exact name at a higher priority than
 * the built-in `logs-*-*`, applies), only `a-z0-9._-`, at most 255 bytes.
 */
export function validateDataStreamName(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name !== name.toLowerCase()) return `must be lowercase, not ${JSON.stringify(name)}`;
  if (!name.startsWith("logs-") || name.length === "logs-".length) {
    return `must start with "logs-" and name a dataset (e.g. logs-atra-prod), not ${JSON.stringify(name)}`;
  }
  if (!/^[a-z0-9._-]+$/.test(name)) {
    // Filebeat reads `%{...}`/`${...}` in its index setting, and Elasticsearch refuses more: keep to the safe set.
    return `must be lowercase letters, digits, ".", "_" and "-" only, not ${JSON.stringify(name)}`;
  }
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_NAME_BYTES) return `must be at most ${MAX_NAME_BYTES} bytes, not ${bytes}`;
  return undefined;
}

/**
 * Splits a name that follows the data stream naming scheme (`<type>-<dataset>-<namespace>`, no `-`
 * inside a part) into its parts; undefined for other names (an override may be `logs-foo`).
 */
export function dataStreamParts(dataStream: string): { type: string; dataset: string; namespace: string } | undefined {
  const parts = dataStream.split("-");
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) return undefined;
  const [type, dataset, namespace] = parts as [string, string, string];
  return { type, dataset, namespace };
}

/**
 * The failure store of a data stream, in the index component selector syntax (`::failures`,
 * elastic/elasticsearch PR #114992; docs-content failure-store.md "Searching failures").
 */
export function failureStoreIndex(dataStream: string): string {
  return `${dataStream}::failures`;
}

// ---------------------------------------------------------------------------------------------
// ILM policy
// ---------------------------------------------------------------------------------------------

export interface IlmPolicyOptions {
  /** Roll the write index over after this age (ES time units: `1d`, `12h`). */
  rolloverMaxAge: string;
  /** ... or when its primary shard reaches this size (`10gb`, `512mb`). */
  rolloverMaxPrimaryShardSize: string;
  /** Delete a backing index this long after its rollover (`7d`, `30d`). */
  deleteAfter: string;
}

const ES_DURATION = /^[1-9][0-9]*(d|h|m|s|ms|micros|nanos)$/;
const ES_BYTE_SIZE = /^([1-9][0-9]*)(b|kb|mb|gb|tb|pb)$/i;
/** Bytes per unit (elastic/elasticsearch server/.../common/unit/ByteSizeUnit.java: powers of 1024). */
const BYTE_UNIT_FACTOR: Record<string, bigint> = { b: 1n, kb: 1n << 10n, mb: 1n << 20n, gb: 1n << 30n, tb: 1n << 40n, pb: 1n << 50n };
/** ByteSizeValue.of refuses sizes above Long.MAX_VALUE bytes. */
const JAVA_LONG_MAX = (1n << 63n) - 1n;

/** A positive whole duration in Elasticsearch's time-unit syntax (`30d`, `12h`, `90m`). */
export function isEsDuration(value: string): boolean {
  return ES_DURATION.test(value);
}

/** An isEsDuration value in ms (TimeValue units; micros and nanos as fractions of a ms). */
export function esDurationMs(value: string): number {
  const match = ES_DURATION.exec(value);
  if (!match) throw new Error(`esDurationMs: ${JSON.stringify(value)} is not a duration like 90d`);
  const unit: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1, micros: 1e-3, nanos: 1e-6 };
  return Number.parseInt(value, 10) * unit[match[1]!]!;
}

/** The longest renewal window of an agent's log key: two weeks before it expires. */
export const AGENT_KEY_RENEW_MAX_MS = 14 * 86_400_000;

/**
 * How long before an agent's log key expires a plain central `up` makes it a new one (ElasticsearchApiKey
 * renewBefore): 14 days, or a third of a shorter lifetime (a `3d` key is renewed in its last day), so a key is
 * never renewed on every `up`. The previous key stays valid until it expires: the agent has that long to `up`
 * with the new one. verify (scripts/lib/verify/elastic.ts) warns within the same window.
 */
export function agentKeyRenewBeforeMs(expiration: string): number {
  return Math.min(AGENT_KEY_RENEW_MAX_MS, Math.floor(esDurationMs(expiration) / 3));
}

/**
 * A positive whole byte size in Elasticsearch's syntax (`10gb`, `512mb`; any letter case, as the
 * server parses it case-insensitively), at most Long.MAX_VALUE bytes (ByteSizeValue.of).
 */
export function isEsByteSize(value: string): boolean {
  const match = ES_BYTE_SIZE.exec(value);
  if (!match) return false;
  return BigInt(match[1]!) * BYTE_UNIT_FACTOR[match[2]!.toLowerCase()]! <= JAVA_LONG_MAX;
}

/**
 * A byte size as Elasticsearch returns it after storing it. elastic/elasticsearch
 * server/src/main/java/org/elasticsearch/common/unit/ByteSizeValue.java: parseBytesSizeValue
 * lower-cases the input and keeps the unit it was written in (`desiredUnit`); ILM's rollover action
 * (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ilm/RolloverAction.java,
 * toXContent; newer versions through RolloverConditions) writes `max_primary_shard_size` back
 * with ByteSizeValue.getStringRep(), i.e. the whole number and the unit's
 * lower-case suffix from ByteSizeUnit.getSuffix() (`b`, `kb`, ... `pb`). So `10GB` comes back as
 * `10gb`, `1024MB` as `1024mb` (no unit conversion). Sent in that form, a refresh reads back exactly
 * what the program sends and a second `up` shows no change. Whole numbers only: a fraction
 * (`1.5gb`) would come back in bytes, and isEsByteSize refuses it.
 */
export function esByteSizeAsReturned(value: string): string {
  if (!isEsByteSize(value)) throw new Error(`${JSON.stringify(value)} is not a whole byte size like 10gb`);
  return value.toLowerCase();
}

export function renderIlmPolicy(options: IlmPolicyOptions): estypes.IlmPolicy {
  const problems: string[] = [];
  if (!isEsDuration(options.rolloverMaxAge)) problems.push(`rolloverMaxAge ${JSON.stringify(options.rolloverMaxAge)} is not a duration like 1d`);
  if (!isEsByteSize(options.rolloverMaxPrimaryShardSize)) {
    problems.push(`rolloverMaxPrimaryShardSize ${JSON.stringify(options.rolloverMaxPrimaryShardSize)} is not a size like 10gb`);
  }
  if (!isEsDuration(options.deleteAfter)) problems.push(`deleteAfter ${JSON.stringify(options.deleteAfter)} is not a duration like 30d`);
  if (problems.length > 0) throw new Error(`renderIlmPolicy: ${problems.join("; ")}`);
  return {
    _meta: { managed_by: "atra-observability" },
    phases: {
      hot: {
        min_age: "0ms",
        actions: {
          rollover: {
            max_age: options.rolloverMaxAge,
            max_primary_shard_size: esByteSizeAsReturned(options.rolloverMaxPrimaryShardSize),
          },
        },
      },
      // In the delete phase min_age counts from the rollover, so data lives about
      // deleteAfter + rolloverMaxAge at most.
      delete: {
        min_age: options.deleteAfter,
        actions: { delete: {} },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Index template
// ---------------------------------------------------------------------------------------------

export interface IndexTemplateOptions {
  dataStream: string;
  ilmPolicy: string;
  pipeline: string;
  /**
   * The data stream's `index.final_pipeline` (host-identity-pipeline.ts): runs after the default pipeline, or after
   * whatever pipeline a request names (`pipeline=_none` included), since no request parameter reaches it
   * (elastic/elasticsearch server/src/main/java/org/elasticsearch/ingest/IngestService.java, resolvePipelines: a
   * request's `pipeline` replaces only the default pipeline; the final one comes from the index settings alone).
   */
  finalPipeline: string;
  /**
   * How long the failure store keeps a failed line: the config's `logs.retention`, the same time the
   * ILM policy keeps an indexed one (ES time units, `30d`). Failure indices also carry the template's
   * `index.lifecycle.name` (failure stores inherit the data stream's ILM policy, elastic/elasticsearch
   * PR #108741), and with `index.lifecycle.prefer_ilm` at its default (true) ILM manages them
   * (DataStream.isIndexManagedByDataStreamLifecycle): the same age either way, whichever manages them.
   */
  failureStoreRetention: string;
}

/**
 * The index mode, pinned. Elasticsearch 9 puts a new `logs-*-*` data stream in `logsdb` mode when
 * the template leaves `index.mode` unset and the cluster setting `cluster.logsdb.enabled` is true,
 * which is its default on a cluster that had no `logs-*-*` data stream before 9.0
 * (elastic/elasticsearch x-pack/plugin/logsdb/src/main/java/org/elasticsearch/xpack/logsdb/
 * LogsDBPlugin.java, CLUSTER_LOGSDB_ENABLED defaults to `logsdb.prior_logs_usage == false`;
 * LogsdbIndexModeSettingsProvider.getLogsdbModeSetting). Unpinned, the same template would then
 * give the stack's own cluster one mode and an upgraded external cluster the other. `standard`,
 * chosen on this evidence:
 * - logsdb's storage gain comes mostly from synthetic `_source`, which needs an enterprise licence
 *   (LogsdbLicenseService.java: SYNTHETIC_SOURCE_FEATURE is License.OperationMode.ENTERPRISE;
 *   fallbackToStoredSource is true on basic), so the stack's own basic-licence node would not get it;
 * - where it does apply (Elastic Cloud, trial), synthetic source rewrites the `structlog` flattened
 *   field: its values come back sorted, de-duplicated and as strings (elastic/elasticsearch
 *   docs/reference/elasticsearch/mapping-reference/flattened.md, "Synthetic `_source`"), so the line
 *   a developer logged is not the one Kibana shows;
 * - logsdb turns `index.mapping.ignore_malformed` on by default (IndexSettings.IGNORE_MALFORMED_SETTING):
 *   a value the mapping cannot take is dropped from the index instead of sending the document to the
 *   failure store with the reason, where LogIngestFailures sees it.
 * The ingest simulator (test/support/ingest-simulator.ts) models `standard` and refuses a template
 * whose mode it would have to guess. An existing data stream takes the pinned mode at its next
 * rollover (index settings apply to new backing indices).
 */
export const INDEX_MODE = "standard";

/**
 * Replicas: none while the cluster has one data node, one as soon as it has two
 * (elastic/elasticsearch server/src/main/java/org/elasticsearch/cluster/metadata/AutoExpandReplicas.java:
 * `min-max`, the number of replicas is (matching data nodes - 1) clamped to [min, max]). Right for
 * the stack's single node (no unassignable replica, the data stream stays green) and for a
 * `logs.external` cluster (Elastic Cloud, ECK), where a fixed 0 would lose logs with one node while
 * the cluster stays green. Stored and returned as the text sent (a string setting; parse() only
 * validates it; Settings.toXContent renders values as text), so a refresh reads back `0-1`.
 */
export const AUTO_EXPAND_REPLICAS = "0-1";

/** Above the built-in `logs` template (`logs-*-*`, priority 100), which would otherwise match too. */
export const INDEX_TEMPLATE_PRIORITY = 200;

/**
 * Mapping choices:
 * - Not composed with the built-in `logs@mappings` / `logs@settings` / `ecs@mappings` component
 *   templates: they change between Elasticsearch versions, and the fields this stack writes are few
 *   and known. So every field the pipeline and Filebeat produce is mapped here explicitly, with the
 *   ECS types, and a second `up` against a newer server renders the same template. (Elasticsearch 9
 *   may still put a `logs-*-*` data stream in logsdb index mode by cluster default; these mappings
 *   are valid in both modes.)
 * - `structlog` is `flattened`: a structlog line carries any keys a developer binds, and as one
 *   flattened field they cannot grow the mapping without bound nor clash with ECS fields (a
 *   `host` string under `structlog.host` never meets the `host` object Filebeat sends). Its leaves
 *   are searchable as keywords (`structlog.user_id: 42`).
 * - `dynamic: false` (MAPPING_DYNAMIC): a field the template does not map stays in `_source` (Kibana's
 *   Discover shows it) and is neither indexed nor added to the mapping. Filebeat's own metadata
 *   (`agent.*`, `input.type`, `ecs.version`) is such a field: nothing searches it.
 * - `@timestamp` is `date_nanos`: structlog writes microseconds, and lines logged within the same
 *   millisecond keep their order. Kibana and Grafana (>= 7.3) accept date_nanos time fields.
 * - `data_stream.*` are constant_keyword with the values from the name when it follows the naming
 *   scheme, so filtering on them works though Filebeat does not send them.
 */
/**
 * The mapping's `dynamic`, chosen by evidence (issue 21: a sender could add fields until the data stream's
 * 1000-field limit, after which every host's documents with a new field failed):
 * - `false`: elastic/elasticsearch server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java
 *   (parseObjectOrField / parseDynamicValue with ObjectMapper.Dynamic.FALSE: an unmapped object is skipped
 *   with its children, an unmapped value is not indexed; no dynamic mapper, so no mapping update) and
 *   docs/reference/elasticsearch/mapping-reference/dynamic.md ("New fields are ignored. These fields will not
 *   be indexed or searchable, but will still appear in the `_source` field"). No sender can grow the mapping,
 *   and no document is refused for a field it adds. Sub-objects inherit it (ObjectMapper: `dynamic` unset
 *   means the parent's), so `host.hostname` under the mapped `host` is ignored too.
 * - not `index.mapping.total_fields.ignore_dynamic_beyond_limit` (MapperService.INDEX_MAPPING_IGNORE_DYNAMIC_BEYOND_LIMIT_SETTING;
 *   DocumentParserContext.addDynamicMapper): it still adds a sender's new fields until the limit and only
 *   then ignores them, so one agent could still spend the whole budget (and make a mapping update, a
 *   cluster-state change, per new field) and every later field of every host would be ignored.
 * The fields the pipelines, dashboards, saved searches, alerts and the data view read are all mapped
 * explicitly (test/unit/elastic-bodies.test.ts checks each against this template).
 */
export const MAPPING_DYNAMIC = false;

/**
 * `ignore_above` keeps an over-long leaf (a big payload bound to a log call) in _source but out of
 * the index; without it a value over Lucene's 32766-byte term limit rejects the whole document.
 * 8191 characters stay under that limit even at 4 bytes a character. The client's specification
 * lacks this documented flattened parameter, hence the widened type.
 */
const STRUCTLOG_MAPPING: estypes.MappingFlattenedProperty & { ignore_above: number } = { type: "flattened", ignore_above: 8191 };

export function renderIndexTemplate(options: IndexTemplateOptions): IndexTemplateBody {
  if (!isEsDuration(options.failureStoreRetention)) {
    throw new Error(`renderIndexTemplate: failureStoreRetention ${JSON.stringify(options.failureStoreRetention)} is not a duration like 30d`);
  }
  const parts = dataStreamParts(options.dataStream);
  const constant = (value: string | undefined): estypes.MappingConstantKeywordProperty =>
    value === undefined ? { type: "constant_keyword" } : { type: "constant_keyword", value };
  const keyword: estypes.MappingKeywordProperty = { type: "keyword", ignore_above: 1024 };
  return {
    index_patterns: [options.dataStream],
    data_stream: {},
    priority: INDEX_TEMPLATE_PRIORITY,
    _meta: { managed_by: "atra-observability", description: "structlog JSON lines shipped by Filebeat" },
    template: {
      // The failure store (GA in Elasticsearch 9.1; elastic/docs-content
      // manage-data/data-store/data-streams/failure-store.md, "Set up for new data streams"): a
      // document the pipeline fails on, or the mapping rejects, is kept in `<data stream>::failures`
      // (the `.fs-*` indices) instead of being refused, and the bulk item answers 201 with
      // `failure_store: used`. It sits under `template` (as in the docs' example), typed by the client
      // as IndicesIndexTemplateSummary.data_stream_options. Applied once, when the data stream is
      // created: a data stream made before this template change keeps its options until
      // `PUT _data_stream/<name>/_options {"failure_store":{"enabled":true}}` (runbook,
      // LogIngestFailures).
      //
      // Its retention follows `logs.retention` (failureStoreRetention), set where the docs set it (ILM
      // manages failure indices too while they carry index.lifecycle.name, see failureStoreRetention;
      // this lifecycle gives the same age should the policy be taken off them):
      // data_stream_options.failure_store.lifecycle.data_retention (docs-content failure-store.md,
      // "Failure store lifecycle"; elastic/elasticsearch server/.../cluster/metadata/DataStreamFailureStore.java,
      // Template: `enabled` and `lifecycle`; DataStreamLifecycle.java parses data_retention with
      // TimeValue.parseTimeValue and writes it back with getStringRep, the text sent). The failures
      // lifecycle exists from transport version INTRODUCE_FAILURES_LIFECYCLE, back-ported to 8.19
      // (INTRODUCE_FAILURES_LIFECYCLE_BACKPORT_8_19), so the pinned 9.5.7 takes it; the client's 9.5
      // specification types it (IndicesDataStreamFailureStoreTemplate.lifecycle).
      data_stream_options: { failure_store: { enabled: true, lifecycle: { data_retention: options.failureStoreRetention } } },
      settings: {
        index: {
          mode: INDEX_MODE,
          number_of_shards: 1,
          auto_expand_replicas: AUTO_EXPAND_REPLICAS,
          lifecycle: { name: options.ilmPolicy },
          default_pipeline: options.pipeline,
          final_pipeline: options.finalPipeline,
        },
      },
      mappings: {
        // No sender grows the mapping (MAPPING_DYNAMIC, below): every field something reads is mapped here.
        dynamic: MAPPING_DYNAMIC,
        properties: {
          "@timestamp": { type: "date_nanos" },
          // Filebeat's read time, kept by the pipeline (ECS: when the agent first read the event);
          // milliseconds, so `date`.
          // event.duration: a request's duration in nanoseconds (ECS), from the request fields (request-fields.ts).
          event: { properties: { created: { type: "date" }, duration: { type: "long" } } },
          // The request fields (request-fields.ts), with their ECS types: keyword, except url.path (ECS: wildcard,
          // substring search over paths; it still aggregates) and the status code (long).
          http: {
            properties: {
              request: { properties: { method: keyword, id: keyword } },
              response: { properties: { status_code: { type: "long" } } },
            },
          },
          url: { properties: { path: { type: "wildcard" } } },
          trace: { properties: { id: keyword } },
          user_agent: { properties: { original: keyword } },
          // The message with numbers and ids taken out (ingest-pipeline.ts, MESSAGE_PATTERN_FIELD): grouped by terms.
          atra: { properties: { message_pattern: keyword } },
          message: { type: "match_only_text" },
          tags: keyword,
          log: {
            properties: {
              level: keyword,
              logger: keyword,
              file: { properties: { path: keyword } },
              offset: { type: "long" },
            },
          },
          // What Filebeat adds from the catalog (catalog.ts): `service.name`, `host.name` and the metadata fields.
          ...catalogFieldMappings(keyword),
          error: {
            properties: {
              message: { type: "match_only_text" },
              // As in ECS: wildcard for substring search over whole traces, a text sub-field for
              // word search.
              stack_trace: { type: "wildcard", fields: { text: { type: "match_only_text" } } },
            },
          },
          data_stream: {
            properties: {
              type: constant(parts?.type),
              dataset: constant(parts?.dataset),
              namespace: constant(parts?.namespace),
            },
          },
          structlog: STRUCTLOG_MAPPING,
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

/**
 * Filebeat's writer role, least privilege, after Filebeat's "Grant privileges and roles needed
 * for publishing" page (9.x). Assumes the shipper config turns setup off (`setup.ilm.enabled:
 * false`, `setup.template.enabled: false`), because this stack installs policy, template and
 * pipeline. Naming our pipeline in the output (`output.elasticsearch.pipeline`) is fine: it only
 * adds a parameter to the bulk request, which needs no pipeline privilege; the template's
 * default_pipeline applies the same pipeline anyway.
 * - cluster `monitor`: "required in every configuration": Filebeat reads the cluster's version and
 *   license when it connects.
 * - no `read_ilm`: only for the ILM check, which is off with ILM setup off.
 * - no `read_pipeline`: only for checking module pipelines exist; we use no modules.
 * - indices `create_doc`: append documents, nothing else (no update, no delete, unlike
 *   `write`/`index`).
 * - indices `auto_configure`: create the data stream on the first write (from our template) and
 *   apply dynamic mapping updates (Filebeat's own metadata fields).
 */
export function renderWriterRole(dataStream: string): RoleBody {
  return {
    description: `Filebeat: append log events to ${dataStream} (managed by atra-observability)`,
    cluster: ["monitor"],
    indices: [{ names: [dataStream], privileges: ["create_doc", "auto_configure"], allow_restricted_indices: false }],
    metadata: { managed_by: "atra-observability" },
  };
}

/**
 * The index privilege that lets a role search a data stream's failure store (`<name>::failures`):
 * `read` covers only the backing indices. Named so in elastic/elasticsearch
 * x-pack/plugin/core/.../security/authz/privilege/IndexPrivilege.java (READ_FAILURE_STORE) and in
 * elastic/docs-content failure-store.md ("Searching failures"). The client's SecurityIndexPrivilege
 * union (9.1.1, and still 9.5.1) does not list it; it accepts any string, so the body still type-checks.
 */
export const READ_FAILURE_STORE_PRIVILEGE = "read_failure_store";

/**
 * Grafana's Elasticsearch datasource, after Grafana's "Configure the Elasticsearch data source"
 * permissions list:
 * - cluster `monitor`: Grafana reads the server version.
 * - indices `view_index_metadata`: the field mappings (query editor, time field check).
 * - indices `read`: search.
 * - indices `read_failure_store`: search `<data stream>::failures`, for the failure count on the
 *   logs dashboard and the LogIngestFailures alert. Failure documents hold the line as it arrived
 *   (docs-content failure-store.md warns they may hold what a pipeline would have redacted); here
 *   that is the same raw log line `read` already shows.
 * The writer needs nothing more: no privilege grants writing into failures directly, the redirect
 * happens under the original create_doc (IndexPrivilegeTests: no privilege grants the index action
 * on the failures selector).
 */
export function renderReaderRole(dataStream: string): RoleBody {
  return {
    description: `Grafana: search ${dataStream} and its failure store (managed by atra-observability)`,
    cluster: ["monitor"],
    indices: [{ names: [dataStream], privileges: ["read", "view_index_metadata", READ_FAILURE_STORE_PRIVILEGE], allow_restricted_indices: false }],
    metadata: { managed_by: "atra-observability" },
  };
}

/**
 * Kibana's application name in Elasticsearch's application privileges for the default `kibana.index`
 * (elastic/kibana x-pack/platform/plugins/shared/security/server/authorization: the application is
 * `kibana-${kibanaIndexName}`), and its feature privileges `feature_<feature id>.<privilege>`
 * (x-pack/platform/plugins/shared/security/server/authorization/privileges/privilege_serializer.ts,
 * serializeFeaturePrivilege). Discover and Dashboards are the features `discover_v2` and `dashboard_v2`
 * in Kibana 9 (x-pack/platform/plugins/shared/features/server/oss_features.ts: `discover` and `dashboard`
 * are deprecated with `replacedBy: ['discover_v2']` / `['dashboard_v2']`); `read` lets a user open them and
 * the saved objects they show (the data view, saved searches, dashboards), never change them.
 */
export const KIBANA_APPLICATION = "kibana-.kibana";
export const KIBANA_VIEWER_PRIVILEGES = ["feature_discover_v2.read", "feature_dashboard_v2.read"];

/**
 * People's Kibana login: search the data stream (`read`, and `view_index_metadata` for the field list a
 * data view reads) and open Discover and dashboards read-only in the default space, where the stack makes
 * its data view and saved searches (kibana-bodies.ts). No cluster privilege, no write, no ILM, no other
 * index or space, no Kibana management: unlike `atra-admin`, which stays with the providers.
 */
export function renderKibanaViewerRole(dataStream: string): RoleBody {
  return {
    description: `People: read ${dataStream} in Kibana's Discover and dashboards (managed by atra-observability)`,
    cluster: [],
    indices: [{ names: [dataStream], privileges: ["read", "view_index_metadata"], allow_restricted_indices: false }],
    applications: [{ application: KIBANA_APPLICATION, privileges: KIBANA_VIEWER_PRIVILEGES, resources: ["space:default"] }],
    metadata: { managed_by: "atra-observability" },
  };
}

// ---------------------------------------------------------------------------------------------
// The agents' API keys: one per agent host
// ---------------------------------------------------------------------------------------------

/** The name of an agent host's API key (names need not be unique in Elasticsearch; this one is, per stack and host). */
export function agentApiKeyName(naming: Pick<LogsNaming, "agentApiKeyPrefix">, host: string): string {
  return `${naming.agentApiKeyPrefix}-${host.toLowerCase()}`;
}

/**
 * The API key one agent host's Filebeat ships with. One role descriptor, named after the writer role, with the
 * writer role's privileges, each one Filebeat with setup off uses (elastic/beats):
 * - cluster `monitor`: on connecting, Filebeat's output calls `GET /` for the version
 *   (libbeat/esleg/eslegclient/connection.go, Connect -> getVersion -> Ping) and `GET /_license`
 *   (x-pack/libbeat/licenser, FetchAndVerify, registered for every beat by x-pack/libbeat/cmd/root.go); a failed
 *   callback fails the connection. Those are `cluster:monitor/main` and `cluster:monitor/xpack/license/get`, and
 *   `monitor` (`cluster:monitor/*`, elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/
 *   security/authz/privilege/ClusterPrivilegeResolver.java, MONITOR_PATTERN) is the smallest named cluster privilege
 *   that covers both. It reads cluster metadata only (health, stats, settings, index names), no document.
 *   Kept on purpose over the two raw action names (ClusterPrivilegeResolver.resolve takes an action pattern too, so
 *   `["cluster:monitor/main", "cluster:monitor/xpack/license/get"]` would be narrower): which actions a Filebeat
 *   version calls on connecting cannot be checked against a real Filebeat here, and one more (a future version's
 *   check) would fail every agent's connection at once, with nothing but its own log saying why; what `monitor`
 *   adds is read access to cluster metadata, which an agent host could not turn into writing or reading lines.
 *   No other cluster privilege: templates, ILM and pipelines are the central stack's (setup is off).
 * - indices `create_doc` on the data stream only: `_bulk` `create` items (IndexPrivilege.java, CREATE_DOC: index
 *   requests with op_type create, nothing that updates or deletes).
 * - indices `auto_configure` on it: the first write creates the data stream from the template when the central
 *   stack's own Filebeat has not yet (IndexPrivilege.java, AUTO_CONFIGURE: auto-create and mapping updates; the
 *   template's `dynamic: false` leaves no mapping update to make).
 * Metadata: `atra_host` (AGENT_HOST_METADATA), which the data stream's final pipeline writes into `host.name` of every
 * document this key sends, whatever the sender wrote; `atra_services` (AGENT_SERVICES_METADATA, agents[].services), the
 * only `service.name` values the final pipeline takes from this key (any other fails into the failure store); the data
 * stream, for people reading GET _security/api_key. A change of services updates the key in place (the provider's
 * PUT _security/api_key/<id>): same key, same secret, nothing for the agent to change.
 * `expiration` (logs.agentKeyExpiration): Elasticsearch refuses the key from then on (ApiKeyService.validateApiKeyExpiration);
 * a plain central `up` makes a new one within the key's last 14 days (agentKeyRenewBeforeMs; the provider's renewal,
 * provider-runtime.ts apiKeyProvider), leaving the old one valid until it expires. The role's `description` is left
 * out: Elasticsearch takes none in an API key's role descriptors (ApiKeyService.removeUserRoleDescriptorDescriptions).
 */
export function renderAgentApiKey(
  naming: Pick<LogsNaming, "dataStream" | "writerRole">,
  host: string,
  services: readonly string[],
  expiration: string,
): ApiKeyBody {
  if (!isEsDuration(expiration)) throw new Error(`renderAgentApiKey: expiration ${JSON.stringify(expiration)} is not a duration like 90d`);
  // The writer role grants through these three only (test/unit/elastic-bodies.test.ts holds the two equal).
  const { cluster, indices, metadata } = renderWriterRole(naming.dataStream);
  return {
    role_descriptors: { [naming.writerRole]: { cluster, indices, metadata } },
    metadata: {
      managed_by: "atra-observability",
      purpose: "an agent host's Filebeat",
      data_stream: naming.dataStream,
      [AGENT_HOST_METADATA]: host,
      [AGENT_SERVICES_METADATA]: [...services],
    },
    expiration,
  };
}

/** The privilege-bearing fields of a role descriptor (RoleDescriptor.isEmpty; metadata counts too). */
const DESCRIPTOR_GRANTS = ["cluster", "global", "indices", "index", "applications", "run_as", "metadata", "remote_indices", "remote_cluster"];

/**
 * Elasticsearch refuses to create an API key with privileges when the request itself is authenticated by an
 * API key: elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/action/
 * apikey/TransportCreateApiKeyAction.java, doExecute: `authentication.isApiKey() && grantsAnyPrivileges(request)`
 * fails with IllegalArgumentException (HTTP 400 illegal_argument_exception) and this reason. grantsAnyPrivileges
 * is true when role_descriptors are absent or empty (the key would inherit its creator's privileges) or any
 * descriptor is not RoleDescriptor.isEmpty(). So a stack that connects with `elasticApiKey` cannot make the
 * agents' key.
 */
export const DERIVED_API_KEY_REFUSAL = {
  type: "illegal_argument_exception",
  reason: "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)",
} as const;

/** Whether Elasticsearch would refuse these role descriptors to a request authenticated by an API key (see DERIVED_API_KEY_REFUSAL). */
export function derivedApiKeyRefused(roleDescriptors: ApiKeyBody["role_descriptors"]): boolean {
  const descriptors = Object.values(roleDescriptors ?? {});
  const empty = (descriptor: object) =>
    DESCRIPTOR_GRANTS.every((field) => {
      const value = (descriptor as Record<string, unknown>)[field];
      if (value === undefined || value === null) return true;
      return Array.isArray(value) ? value.length === 0 : typeof value === "object" && Object.keys(value).length === 0;
    });
  return descriptors.length === 0 || !descriptors.every(empty);
}
