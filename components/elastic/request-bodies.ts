/**
 * The request bodies of the Elasticsearch objects, one definition each, typed by the official
 * client's `estypes`: the renderers (components/logs) return them, the resource classes take them
 * and the dynamic providers (provider-runtime.ts) PUT them. Types only: provider-runtime.ts imports
 * them with `import type`, which compiles away, so the serialized providers stay self-contained.
 */
import type { estypes } from "@elastic/elasticsearch";

/**
 * A request body: the client's request type without its path and query parameters, the client's
 * raw `body`/`querystring` escape hatches and the common query parameters (RequestBase).
 */
type BodyOf<Request, PathAndQuery extends keyof Request> = Omit<Request, PathAndQuery | "body" | "querystring" | keyof estypes.RequestBase>;

/** PUT _security/role/<name>. */
export type RoleBody = BodyOf<estypes.SecurityPutRoleRequest, "name" | "refresh">;

/** PUT _ilm/policy/<name>: `{ policy }`. */
export type IlmPolicyBody = BodyOf<estypes.IlmPutLifecycleRequest, "name" | "master_timeout" | "timeout">;

/**
 * The `template` part of PUT _index_template/<name>. The client's request type 9.1.1
 * (IndicesPutIndexTemplateIndexTemplateMapping) lacked `data_stream_options`, which Elasticsearch 9.1
 * accepts there (docs-content failure-store.md) and which the client's own read-side type
 * (IndicesIndexTemplateSummary, what GET _index_template returns) has: the field is borrowed from
 * that type, so it is still checked against the specification. The 9.5.1 client's request type has
 * it too (`data_stream_options?: IndicesDataStreamOptionsTemplate | null`, lib/api/types.d.ts); both
 * agree, so the intersection still type-checks.
 */
export type IndexTemplateMapping = estypes.IndicesPutIndexTemplateIndexTemplateMapping & Pick<estypes.IndicesIndexTemplateSummary, "data_stream_options">;

/** PUT _index_template/<name>, with the `template` that can carry `data_stream_options`. */
export type IndexTemplateBody = Omit<BodyOf<estypes.IndicesPutIndexTemplateRequest, "name" | "create" | "master_timeout" | "cause">, "template"> & {
  template?: IndexTemplateMapping;
};

/** PUT _ingest/pipeline/<id>. */
export type IngestPipelineBody = BodyOf<estypes.IngestPutPipelineRequest, "id" | "master_timeout" | "timeout" | "if_version">;

/** A native user's fields other than its name and password (PUT _security/user/<name>). */
export type UserBody = Pick<estypes.SecurityPutUserRequest, "roles" | "full_name" | "email" | "metadata" | "enabled">;

/**
 * POST _security/api_key without its name (the resource's `name`). `expiration` is a duration from the key's
 * creation (`90d`); with the resource's `renewBefore`, a plain `up` makes a new key near the expiry (provider-runtime.ts,
 * apiKeyProvider), and a refresh treats an expired key as gone.
 */
export type ApiKeyBody = Pick<estypes.SecurityCreateApiKeyRequest, "role_descriptors" | "metadata" | "expiration">;
