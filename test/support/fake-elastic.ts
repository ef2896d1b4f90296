/**
 * An in-process HTTP server on 127.0.0.1 (random port) that answers the Elasticsearch 9 and Kibana 9
 * REST calls the logs stage's dynamic providers make, the way the documented APIs do:
 *
 * - Elasticsearch: security roles and users (incl. reserved users' `_password` and `_authenticate`),
 *   ILM policies, composable index templates, ingest pipelines, API keys (create, get by id, invalidate by
 *   ids, and the derived-key refusal for a caller that is itself an API key; an `expiration` after which the key is
 *   refused), and `_bulk` `create` items authorized by the caller's role or key, run through the stored template's
 *   default (or the request's) and final pipelines and mapping by test/support/ingest-simulator.ts, set_security_user
 *   seeing the API key the request came with (see bulk()). Every answer carries
 *   `x-elastic-product: Elasticsearch` (the official client refuses a 2xx answer without it) and the
 *   versioned media type. Missing objects are 404 with ES's bodies (`{}` for roles, users and
 *   pipelines' GET, `{"found":false}` for role and user DELETE, `resource_not_found_exception` or
 *   `index_template_missing_exception` elsewhere), bad credentials 401 with a `security_exception`,
 *   and the server stores values the way a real one does (defaults added, time and byte sizes in their
 *   canonical form, template settings nested and as text), so "only what the program set" comparisons
 *   and read-back forms are exercised.
 * - Kibana: data views (`/api/data_views/data_view[/<id>]`: a taken id or name is a 400, never 409;
 *   the update accepts `allowNoIndex` and ignores it) and saved objects (`/api/saved_objects/<type>/<id>`,
 *   409 without `?overwrite=true`), with optional `/s/<space>` prefix; POST, PUT and DELETE without
 *   `kbn-xsrf` are refused with 400 as Kibana does.
 * - `startingFor(n)`: the next n calls answer 503 as a starting server does (ES: the security index's
 *   shards are unavailable; Kibana: its not-ready server's text).
 *
 * Each behaviour cites where upstream it is defined: elastic/elasticsearch (9.x) and elastic/kibana
 * (9.x) paths, in the comment next to it.
 *
 * Every request is recorded (method, path with query, headers, parsed body) for the tests.
 */
import * as http from "http";
import { randomBytes } from "crypto";
import * as https from "https";
import type { AddressInfo } from "net";
import { imageVersion } from "../../components/config/image-versions";
import { DEFAULT_IMAGES } from "../../components/stack-services";
import {
  type Authentication,
  type IngestRequest,
  type NamedPipeline,
  type PipelineDefinition,
  SimulatedDataStream,
  type TemplateDefinition,
} from "./ingest-simulator";

/** The Kibana version the fake reports: the pinned default image's (components/logs/services.ts). */
const pinnedKibana = imageVersion(DEFAULT_IMAGES.kibana);
export const FAKE_KIBANA_VERSION = pinnedKibana ? `${pinnedKibana.major}.${pinnedKibana.minor}.${pinnedKibana.patch}` : "9.5.0";

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** Status the fake answered. */
  status: number;
}

type Json = Record<string, unknown>;

export interface FakeElastic {
  url: string;
  requests: RecordedRequest[];
  /** username -> password; `elastic` and `kibana_system` exist as reserved users. */
  passwords: Map<string, string>;
  roles: Map<string, Json>;
  users: Map<string, Json>;
  ilmPolicies: Map<string, Json>;
  indexTemplates: Map<string, Json>;
  pipelines: Map<string, Json>;
  /** `<space>/<id>` -> data view as Kibana stores it. */
  dataViews: Map<string, Json>;
  /** `<space>/<type>/<id>` -> saved object. */
  savedObjects: Map<string, Json>;
  /** API key id -> its secret half, the user it belongs to and, for keys `POST _security/api_key` made, what GET shows. */
  apiKeys: Map<string, FakeApiKey>;
  /**
   * What `npm run verify` reads (scripts/lib/verify/elastic.ts): the cluster's health, the data streams with their
   * documents and failure store documents, ILM errors per backing index, Kibana's overall status level.
   */
  verify: FakeVerifyState;
  /**
   * Write a document as a bulk index request into a data stream would: the data stream is made on first write from the
   * matching index template (its ILM policy from `index.lifecycle.name`, its failure store from
   * data_stream_options), as MetadataCreateDataStreamService does (elastic/elasticsearch server/src/main/java/org/
   * elasticsearch/cluster/metadata/MetadataCreateDataStreamService.java). Without a matching template it throws.
   */
  ingest(dataStream: string, document: Json): BulkItemAnswer;
  /**
   * A document the ingest pipeline or mapping refused, kept in the failure store (`error.type`, `error.message`).
   * Answers as the bulk item does since the failure store is GA (9.1; on by default for new logs-*-* data streams
   * from 9.2, elastic/elasticsearch #131261): 201 `created` with `failure_store: "used"`.
   */
  ingestFailure(dataStream: string, error: { type: string; message: string }): BulkItemAnswer;
  /** The fields a data stream's mapping learned from `_bulk` writes (none with the template's `dynamic: false`). */
  learnedFields(dataStream: string): string[];
  /**
   * Per document `_bulk` indexed into the data stream (in order): each mapped field's indexed values, as the mapper
   * reads the document (a dotted root name merged into the object it names): what a search or an alert's terms see.
   */
  indexedFields(dataStream: string): Record<string, unknown[]>[];
  /** The next `count` requests answer 503 as a starting server. */
  startingFor(count: number): void;
  close(): Promise<void>;
}

/**
 * A bulk `create` item's answer (elastic/elasticsearch server/src/main/java/org/elasticsearch/action/bulk/
 * BulkItemResponse.java, DocWriteResponse.java): 201 `created`; `failure_store` only when it is to be shown
 * (action/bulk/IndexDocFailureStoreStatus.java: `used`, `not_enabled` or `failed`; NOT_APPLICABLE_OR_UNKNOWN, a
 * document indexed into the data stream itself, is not written).
 */
export interface BulkItemAnswer {
  _index: string;
  status: number;
  result: "created";
  failure_store?: "used";
}

export interface FakeDataStream {
  ilmPolicy?: string;
  failureStore: boolean;
  documents: Json[];
  failures: Json[];
  generation: number;
}

export interface FakeVerifyState {
  clusterStatus: "green" | "yellow" | "red";
  dataStreams: Map<string, FakeDataStream>;
  /** Backing index name -> the ILM error step_info. */
  ilmErrors: Map<string, { type: string; reason: string }>;
  /** Kibana's overall status level (core status ServiceStatusLevels). */
  kibanaLevel: "available" | "degraded" | "unavailable" | "critical";
  /** Kibana core's own level, which alone sets the HTTP status; unset: the same as kibanaLevel. */
  kibanaCoreLevel?: "available" | "degraded" | "unavailable" | "critical";
}

export interface FakeApiKey {
  key: string;
  owner: string;
  name?: string;
  /** As RoleDescriptor.toXContent writes them. */
  roleDescriptors?: Record<string, Json>;
  metadata?: Json;
  creation?: number;
  /** Epoch ms after which Elasticsearch refuses the key (from the create request's `expiration`). */
  expiration?: number;
  invalidated?: boolean;
  invalidation?: number;
}

export interface FakeElasticOptions {
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

/** The reserved realm's users (elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authc/esnative/ReservedRealm.java). */
const RESERVED = ["elastic", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"];

export async function startFakeElastic(adminPassword: string, options: FakeElasticOptions = {}): Promise<FakeElastic> {
  const passwords = new Map<string, string>([["elastic", adminPassword]]);
  const apiKeys = new Map<string, FakeApiKey>();
  const roles = new Map<string, Json>();
  const users = new Map<string, Json>();
  const ilmPolicies = new Map<string, Json>();
  const indexTemplates = new Map<string, Json>();
  const pipelines = new Map<string, Json>();
  /**
   * When each template and pipeline was made and last changed (epoch ms), kept beside the stored bodies: since 9.2
   * GET answers them as `created_date_millis` / `modified_date_millis`, and with `?human=true` also as
   * `created_date` / `modified_date` (elastic/elasticsearch #132083, #130847; server/src/main/java/org/elasticsearch/
   * cluster/metadata/ComposableIndexTemplate.java, toXContent: builder.timestampFieldsFromUnixEpochMillis(
   * CREATED_DATE_MILLIS, CREATED_DATE, ...); the 9.5.1 client types them on IndicesIndexTemplate and IngestPipeline,
   * node_modules/@elastic/elasticsearch/lib/api/types.d.ts). The provider compares only what the program set.
   */
  const stamps = new Map<string, { created: number; modified: number }>();
  const stamp = (key: string) => {
    const now = Date.now();
    stamps.set(key, { created: stamps.get(key)?.created ?? now, modified: now });
  };
  const stamped = (key: string, body: Json, human: boolean): Json => {
    const times = stamps.get(key);
    if (!times) return body;
    const text = (millis: number) => new Date(millis).toISOString();
    return {
      ...body,
      ...(human ? { created_date: text(times.created) } : {}),
      created_date_millis: times.created,
      ...(human ? { modified_date: text(times.modified) } : {}),
      modified_date_millis: times.modified,
    };
  };
  const dataViews = new Map<string, Json>();
  const savedObjects = new Map<string, Json>();
  const requests: RecordedRequest[] = [];
  const verify: FakeVerifyState = { clusterStatus: "green", dataStreams: new Map(), ilmErrors: new Map(), kibanaLevel: "available" };
  let starting = 0;
  let version = 1;

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const record: RecordedRequest = { method: req.method ?? "GET", path: `${url.pathname}${url.search}`, headers: req.headers, body, status: 0 };
      requests.push(record);
      const kibana = url.pathname.startsWith("/api/") || url.pathname.startsWith("/s/");
      const send = (status: number, payload: unknown, extraHeaders: Record<string, string> = {}) => {
        record.status = status;
        const headers: Record<string, string> = kibana
          ? { "content-type": "application/json; charset=utf-8", ...extraHeaders }
          : { "content-type": "application/vnd.elasticsearch+json;compatible-with=9", "x-elastic-product": "Elasticsearch", ...extraHeaders };
        res.writeHead(status, headers);
        res.end(payload === undefined ? "" : JSON.stringify(payload));
      };
      try {
        if (starting > 0) {
          starting--;
          if (kibana) {
            // Kibana's NotReady server answers every route with this text, not JSON (elastic/kibana
            // src/core/packages/http/server-internal/src/http_service.ts, runNotReadyServer; hapi sends a string as text/html).
            record.status = 503;
            res.writeHead(503, { "content-type": "text/html; charset=utf-8", "retry-after": "30" });
            return res.end("Kibana server is not ready yet");
          }
          // SecurityIndexManager's unavailable reason while the security index's primaries are not started (elastic/elasticsearch
          // x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/support/SecurityIndexManager.java).
          return send(503, esError(503, "unavailable_shards_exception", "at least one primary shard for the index [.security-7] is unavailable"));
        }
        const apiKey = apiKeyAuth(req.headers.authorization);
        if (apiKey) {
          // An API key (`Authorization: ApiKey <base64 of id:api_key>`, the scheme matched case-insensitively:
          // elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authc/ApiKeyService.java,
          // getCredentialsFromHeader / parseApiKey, and Authenticator.extractCredentialFromHeaderValue). A wrong or unknown
          // key fails the request with 401 security_exception (DefaultAuthenticationFailureHandler), challenging with ApiKey too;
          // so does an invalidated one (ApiKeyService.validateApiKeyCredentials: "api key [<id>] has been invalidated", which
          // the failure handler does not pass on).
          const stored = apiKey.id ? apiKeys.get(apiKey.id) : undefined;
          // An expired key fails too (ApiKeyService.validateApiKeyExpiration: "api key is expired", not passed on).
          const expired = stored?.expiration !== undefined && stored.expiration <= Date.now();
          if (!stored || stored.key !== apiKey.key || stored.invalidated || expired) {
            const reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request";
            if (kibana)
              return send(401, {
                statusCode: 401,
                error: "Unauthorized",
                message: `[security_exception\n\tRoot causes:\n\t\tsecurity_exception: ${reason}]: ${reason}`,
              });
            return send(401, esError(401, "security_exception", reason), { "www-authenticate": 'Basic realm="security", charset="UTF-8", ApiKey' });
          }
          if (kibana) return kibanaRoute(record, url, send, stored.owner);
          return esRoute(record, url, send, stored.owner, apiKey.id);
        }
        const who = basicAuth(req.headers.authorization);
        const authenticated = who !== undefined && passwords.get(who.username) === who.password;
        if (!authenticated) {
          // DefaultAuthenticationFailureHandler (elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/
          // core/security/authc/DefaultAuthenticationFailureHandler.java): 401 security_exception naming the request's uri
          // (path and query), with a Basic WWW-Authenticate challenge. Kibana passes Elasticsearch's error on as the message
          // `[<ResponseError message>]: <reason>` (kibana src/core/packages/http/router-server-internal/src/response_adapter.ts,
          // getErrorMessage) for its own /_security/_authenticate call.
          const uri = `${url.pathname}${url.search}`;
          const reason = who
            ? `unable to authenticate user [${who.username}] for REST request [${uri}]`
            : `missing authentication credentials for REST request [${uri}]`;
          if (kibana) {
            return send(401, {
              statusCode: 401,
              error: "Unauthorized",
              message: `[security_exception\n\tRoot causes:\n\t\tsecurity_exception: ${reason.replace(uri, "/_security/_authenticate")}]: ${reason.replace(uri, "/_security/_authenticate")}`,
            });
          }
          return send(401, esError(401, "security_exception", reason), { "www-authenticate": 'Basic realm="security", charset="UTF-8"' });
        }
        if (kibana) return kibanaRoute(record, url, send, who!.username);
        return esRoute(record, url, send, who!.username);
      } catch (error) {
        return send(500, { error: { type: "fake_error", reason: String(error) }, status: 500 });
      }
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);

  type Send = (status: number, payload: unknown, extraHeaders?: Record<string, string>) => void;

  /** `viaApiKey`: the id of the API key the request authenticated with, if it did. */
  function esRoute(request: RecordedRequest, url: URL, send: Send, username: string, viaApiKey?: string): void {
    // A compatible-with version the server does not speak (ES 9 answers 8 and 9) fails the request's media-type parsing
    // (elastic/elasticsearch server/src/main/java/org/elasticsearch/rest/RestRequest.java, MediaTypeHeaderException): 400.
    const accept = String(request.headers.accept ?? "");
    const compatible = /compatible-with=(\d+)/.exec(accept);
    if (compatible && !["8", "9"].includes(compatible[1])) {
      return send(400, esError(400, "media_type_header_exception", "Invalid media-type value on headers [Accept]"));
    }
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const body = (request.body ?? {}) as Json;
    const method = request.method;

    // GET _security/_authenticate: the authenticated user with its realms (rest-api-spec security.authenticate;
    // x-pack/plugin/core/.../security/action/user/AuthenticateResponse.java). Reserved users live in the `reserved` realm.
    if (parts[0] === "_security" && parts[1] === "_authenticate" && method === "GET") {
      const reserved = RESERVED.includes(username);
      const user = users.get(username);
      return send(200, {
        username,
        roles: reserved ? (username === "elastic" ? ["superuser"] : [username]) : ((user?.roles as string[]) ?? []),
        full_name: user?.full_name ?? null,
        email: user?.email ?? null,
        metadata: reserved ? { _reserved: true } : {},
        enabled: true,
        authentication_realm: { name: reserved ? "reserved" : "default_native", type: reserved ? "reserved" : "native" },
        lookup_realm: { name: reserved ? "reserved" : "default_native", type: reserved ? "reserved" : "native" },
        authentication_type: "realm",
      });
    }
    // Roles (elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/role/):
    // PUT/POST answer {"role":{"created":bool}} (RestPutRoleAction); GET of a missing name is 404 with `{}`
    // (RestGetRolesAction); DELETE answers {"found":bool} with 200 or 404 (RestDeleteRoleAction). A role reads back as
    // RoleDescriptor.toXContent writes it (x-pack/plugin/core/.../security/authz/RoleDescriptor.java): cluster, indices
    // (each with allow_restricted_indices), applications, run_as, metadata, transient_metadata.
    if (parts[0] === "_security" && parts[1] === "role" && parts[2]) {
      const name = parts[2];
      if (method === "PUT" || method === "POST") {
        const existed = roles.has(name);
        roles.set(name, {
          ...roleDescriptorAsWritten(body),
          ...(body.description !== undefined ? { description: body.description } : {}),
        });
        return send(200, { role: { created: !existed } });
      }
      if (method === "GET") return roles.has(name) ? send(200, { [name]: roles.get(name) }) : send(404, {});
      if (method === "DELETE") return roles.delete(name) ? send(200, { found: true }) : send(404, { found: false });
    }
    if (parts[0] === "_security" && parts[1] === "user" && parts[2] && parts[3] === "_password" && (method === "POST" || method === "PUT")) {
      // x-pack/plugin/core/.../security/action/user/ChangePasswordRequestBuilder.java validates the length first (a
      // ValidationException); NativeUsersStore.changePassword refuses a user that does not exist the same way
      // (x-pack/plugin/security/.../authc/esnative/NativeUsersStore.java). Both are 400 validation_exception.
      const name = parts[2];
      if (typeof body.password !== "string" || body.password.length < 6) {
        return send(400, esError(400, "validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;"));
      }
      if (!RESERVED.includes(name) && !users.has(name)) {
        return send(400, esError(400, "validation_exception", "Validation Failed: 1: user must exist in order to change password;"));
      }
      passwords.set(name, body.password);
      return send(200, {});
    }
    if (parts[0] === "_security" && parts[1] === "user" && parts[2] && parts.length === 3) {
      const name = parts[2];
      // Users (x-pack/plugin/security/.../rest/action/user/ and .../action/user/): PUT answers {"created":bool}. A short
      // password fails PutUserRequestBuilder.password (x-pack/plugin/core/.../action/user/PutUserRequestBuilder.java,
      // ValidationException); a reserved name fails TransportPutUserAction.validateRequest
      // (ActionRequestValidationException); a new user without a password fails NativeUsersStore (ValidationException).
      // GET of a missing user is 404 `{}`; DELETE answers {"found":bool} (200/404), and a reserved user cannot be
      // deleted (TransportDeleteUserAction: illegal_argument_exception).
      if (method === "PUT" || method === "POST") {
        if (typeof body.password === "string" && body.password.length < 6) {
          return send(400, esError(400, "validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;"));
        }
        if (RESERVED.includes(name)) {
          return send(
            400,
            esError(400, "action_request_validation_exception", `Validation Failed: 1: user [${name}] is reserved and only the password can be changed;`),
          );
        }
        const existed = users.has(name);
        if (!existed && typeof body.password !== "string") {
          return send(400, esError(400, "validation_exception", "Validation Failed: 1: password must be specified unless you are updating an existing user;"));
        }
        if (typeof body.password === "string") passwords.set(name, body.password);
        users.set(name, {
          username: name,
          roles: body.roles ?? [],
          full_name: body.full_name ?? null,
          email: body.email ?? null,
          metadata: body.metadata ?? {},
          enabled: body.enabled ?? true,
        });
        return send(200, { created: !existed });
      }
      if (method === "GET") return users.has(name) ? send(200, { [name]: users.get(name) }) : send(404, {});
      if (method === "DELETE") {
        if (RESERVED.includes(name)) return send(400, esError(400, "illegal_argument_exception", `user [${name}] is reserved and cannot be deleted`));
        if (!users.delete(name)) return send(404, { found: false });
        passwords.delete(name);
        return send(200, { found: true });
      }
    }
    // ILM (elastic/elasticsearch x-pack/plugin/ilm/src/main/java/org/elasticsearch/xpack/ilm/action/): PUT acknowledges;
    // GET and DELETE of a missing policy are 404 resource_not_found_exception "Lifecycle policy not found: <name>"
    // (TransportGetLifecycleAction, TransportDeleteLifecycleAction). GET answers {name: {version, modified_date,
    // policy, in_use_by}}, the policy as x-pack/plugin/core/.../ilm/ writes it back: every phase has min_age (Phase.java,
    // default TimeValue.ZERO, "0ms"), the delete action has delete_searchable_snapshot (DeleteAction.java, default true),
    // and time and byte values are re-rendered by TimeValue/ByteSizeValue.getStringRep (lower case, canonical unit).
    if (parts[0] === "_ilm" && parts[1] === "policy" && parts[2]) {
      const name = parts[2];
      if (method === "PUT") {
        const policy = structuredClone((body.policy ?? {}) as Json);
        const phases = (policy.phases ?? {}) as Record<string, Json>;
        for (const [phase, definition] of Object.entries(phases)) {
          definition.min_age = definition.min_age === undefined ? "0ms" : timeValueRep(definition.min_age);
          const actions = (definition.actions ?? {}) as Record<string, Json>;
          if (phase === "delete" && actions.delete) actions.delete = { delete_searchable_snapshot: true, ...actions.delete };
          for (const action of [actions.rollover, actions.shrink].filter(Boolean) as Json[]) {
            for (const key of ["max_age", "min_age"]) if (action[key] !== undefined) action[key] = timeValueRep(action[key]);
            for (const key of ["max_size", "max_primary_shard_size", "min_size", "min_primary_shard_size"])
              if (action[key] !== undefined) action[key] = byteSizeRep(action[key]);
          }
        }
        ilmPolicies.set(name, {
          version: version++,
          modified_date: new Date().toISOString(),
          policy,
          in_use_by: { indices: [], data_streams: [], composable_templates: [] },
        });
        return send(200, { acknowledged: true });
      }
      if (method === "GET") {
        return ilmPolicies.has(name)
          ? send(200, { [name]: ilmPolicies.get(name) })
          : send(404, esError(404, "resource_not_found_exception", `Lifecycle policy not found: ${name}`));
      }
      if (method === "DELETE") {
        return ilmPolicies.delete(name)
          ? send(200, { acknowledged: true })
          : send(404, esError(404, "resource_not_found_exception", `Lifecycle policy not found: ${name}`));
      }
    }
    // Composable index templates (elastic/elasticsearch server/src/main/java/org/elasticsearch/): PUT acknowledges; GET of a
    // missing name is 404 resource_not_found_exception "index template matching [<name>] not found"
    // (action/admin/indices/template/get/TransportGetComposableIndexTemplateAction.java); DELETE of a missing one is 404
    // index_template_missing_exception (cluster/metadata/MetadataIndexTemplateService.java, IndexTemplateMissingException).
    // GET renders settings nested, `index.`-prefixed, values as text (Settings.toXContent), and data_stream with its
    // defaults hidden and allow_custom_routing (cluster/metadata/ComposableIndexTemplate.java, DataStreamTemplate).
    if (parts[0] === "_index_template" && parts[1]) {
      const name = parts[1];
      if (method === "PUT" || method === "POST") {
        if (!Array.isArray(body.index_patterns) && typeof body.index_patterns !== "string") {
          return send(400, esError(400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;"));
        }
        const stored = structuredClone(body);
        const template = stored.template as Json | undefined;
        // Template settings get the `index.` prefix (MetadataIndexTemplateService, normalizePrefix) and are rendered by
        // Settings.toXContent nested, every value as text (server/src/main/java/org/elasticsearch/common/settings/Settings.java).
        if (template?.settings) template.settings = { index: nestSettings(template.settings as Json) };
        // A failure store lifecycle comes back with `enabled` always written and data_retention as
        // TimeValue.getStringRep() (the text sent): elastic/elasticsearch server/src/main/java/org/elasticsearch/
        // cluster/metadata/DataStreamLifecycle.java, toXContent (`builder.field(ENABLED_FIELD..., enabled)`;
        // `dataRetention.value().getStringRep()`); DataStreamFailureStore.Template writes `enabled` and `lifecycle`.
        const failureStore = (template?.data_stream_options as Json | undefined)?.failure_store as Json | undefined;
        if (failureStore?.lifecycle && typeof failureStore.lifecycle === "object")
          failureStore.lifecycle = { enabled: true, ...(failureStore.lifecycle as Json) };
        if (typeof stored.index_patterns === "string") stored.index_patterns = [stored.index_patterns];
        if (stored.data_stream && typeof stored.data_stream === "object")
          stored.data_stream = { hidden: false, allow_custom_routing: false, ...(stored.data_stream as Json) };
        indexTemplates.set(name, stored);
        stamp(`template/${name}`);
        return send(200, { acknowledged: true });
      }
      if (method === "GET") {
        return indexTemplates.has(name)
          ? send(200, {
              index_templates: [{ name, index_template: stamped(`template/${name}`, indexTemplates.get(name)!, url.searchParams.get("human") === "true") }],
            })
          : send(404, esError(404, "resource_not_found_exception", `index template matching [${name}] not found`));
      }
      if (method === "DELETE") {
        stamps.delete(`template/${name}`);
        return indexTemplates.delete(name)
          ? send(200, { acknowledged: true })
          : send(404, esError(404, "index_template_missing_exception", `index_template [${name}] missing`));
      }
    }
    // Ingest pipelines (elastic/elasticsearch server/src/main/java/org/elasticsearch/): PUT acknowledges; a body without
    // processors fails ConfigurationUtils.readList, 400 parse_exception "[processors] required property is missing";
    // GET answers the stored config, 404 `{}` when missing (action/ingest/GetPipelineResponse.java, status());
    // DELETE of a missing id is 404 resource_not_found_exception "pipeline [<id>] is missing" (ingest/IngestService.java).
    if (parts[0] === "_ingest" && parts[1] === "pipeline" && parts[2]) {
      const id = parts[2];
      if (method === "PUT") {
        if (!Array.isArray(body.processors)) {
          return send(400, esError(400, "parse_exception", "[processors] required property is missing"));
        }
        pipelines.set(id, structuredClone(body));
        stamp(`pipeline/${id}`);
        return send(200, { acknowledged: true });
      }
      if (method === "GET") {
        return pipelines.has(id) ? send(200, { [id]: stamped(`pipeline/${id}`, pipelines.get(id)!, url.searchParams.get("human") === "true") }) : send(404, {});
      }
      if (method === "DELETE") {
        stamps.delete(`pipeline/${id}`);
        return pipelines.delete(id)
          ? send(200, { acknowledged: true })
          : send(404, esError(404, "resource_not_found_exception", `pipeline [${id}] is missing`));
      }
    }
    // POST [/<target>]/_bulk with `create` items: see bulk() below.
    if ((parts[0] === "_bulk" && parts.length === 1) || (parts[1] === "_bulk" && parts.length === 2)) {
      if (method !== "POST" && method !== "PUT") return send(405, esError(405, "method_not_allowed", `Incorrect HTTP method for uri [${url.pathname}]`));
      return send(200, bulk(typeof request.body === "string" ? request.body : "", url, username, viaApiKey, parts[1] === "_bulk" ? parts[0] : undefined));
    }
    // API keys (elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/rest/action/apikey/
    // Rest{Create,Get,Invalidate}ApiKeyAction.java, .../security/authc/ApiKeyService.java, x-pack/plugin/core/.../security/
    // action/apikey/{CreateApiKeyResponse,ApiKey,InvalidateApiKeyResponse}.java).
    if (parts[0] === "_security" && parts[1] === "api_key" && parts.length === 2) {
      if (method === "POST" || method === "PUT") {
        const descriptors = body.role_descriptors as Record<string, Json> | undefined;
        // TransportCreateApiKeyAction.doExecute: a caller authenticated by an API key may only create a key whose role
        // descriptors are given and all empty (grantsAnyPrivileges), else IllegalArgumentException: 400.
        if (viaApiKey && grantsAnyPrivileges(descriptors)) {
          return send(
            400,
            esError(400, "illegal_argument_exception", "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)"),
          );
        }
        // API key role descriptors take no description (ApiKeyService.removeUserRoleDescriptorDescriptions: "not supported for
        // API key role descriptors"; CreateApiKeyRequestBuilder parses them without allowDescription), so RoleDescriptor.parse
        // refuses the field.
        for (const [role, descriptor] of Object.entries(descriptors ?? {})) {
          if (descriptor && typeof descriptor === "object" && "description" in descriptor) {
            return send(400, esError(400, "parse_exception", `failed to parse role [${role}]. unexpected field [description]`));
          }
        }
        // A new key with a new id every time, names not checked for uniqueness (ApiKeyService.createApiKeyAndIndexIt;
        // ids and keys from UUIDs.base64UUID / randomBase64UUIDSecureString). RestToXContentListener: 200.
        const id = randomBytes(15).toString("base64url");
        const key = randomBytes(16).toString("base64url");
        // `expiration`: a time value from now (ApiKeyService.getApiKeyExpiration: TimeValue.parseTimeValue); the create
        // answer and GET carry it as epoch ms (CreateApiKeyResponse, ApiKey.innerToXContent).
        let expiration: number | undefined;
        if (body.expiration !== undefined) {
          const ms = timeValueMs(String(body.expiration));
          if (ms === undefined)
            return send(
              400,
              esError(400, "illegal_argument_exception", `failed to parse setting [expiration] with value [${String(body.expiration)}] as a time value`),
            );
          expiration = Date.now() + ms;
        }
        apiKeys.set(id, {
          key,
          owner: username,
          name: String(body.name),
          roleDescriptors: Object.fromEntries(Object.entries(descriptors ?? {}).map(([role, descriptor]) => [role, roleDescriptorAsWritten(descriptor)])),
          metadata: (body.metadata as Json) ?? {},
          creation: Date.now(),
          ...(expiration !== undefined ? { expiration } : {}),
        });
        return send(200, {
          id,
          name: body.name,
          ...(expiration !== undefined ? { expiration } : {}),
          api_key: key,
          encoded: Buffer.from(`${id}:${key}`).toString("base64"),
        });
      }
      if (method === "GET") {
        // RestGetApiKeyAction: invalidated keys included; 404 (same body) when an id was asked for and none matched.
        const id = url.searchParams.get("id");
        // `active_only=true`: neither invalidated nor expired (RestGetApiKeyAction, GetApiKeyRequest.activeOnly).
        const activeOnly = url.searchParams.get("active_only") === "true";
        const active = (stored: FakeApiKey) => !stored.invalidated && (stored.expiration === undefined || stored.expiration > Date.now());
        const found = [...apiKeys.entries()].filter(([keyId, stored]) => stored.name !== undefined && (!id || keyId === id) && (!activeOnly || active(stored)));
        const answer = { api_keys: found.map(([keyId, stored]) => apiKeyInfo(keyId, stored)) };
        return send(id && found.length === 0 ? 404 : 200, answer);
      }
      if (method === "DELETE") {
        // ApiKeyService.invalidateApiKeys: no criteria is IllegalArgumentException (400); otherwise it searches active keys only
        // (filterOutInvalidatedKeys), so missing or already invalidated ids give the empty response; RestInvalidateApiKeyAction: 200.
        const ids = Array.isArray(body.ids) ? (body.ids as string[]) : [];
        if (ids.length === 0 && body.name === undefined && body.username === undefined && body.realm_name === undefined && body.owner !== true) {
          return send(400, esError(400, "illegal_argument_exception", "One of [api key id, api key name, username, realm name] must be specified"));
        }
        const invalidated: string[] = [];
        for (const id of ids) {
          const stored = apiKeys.get(id);
          if (!stored || stored.invalidated) continue;
          stored.invalidated = true;
          stored.invalidation = Date.now();
          invalidated.push(id);
        }
        return send(200, { invalidated_api_keys: invalidated, previously_invalidated_api_keys: [], error_count: 0 });
      }
    }
    // PUT _security/api_key/<id> { role_descriptors?, metadata? }: the key updated in place (elastic/elasticsearch x-pack/plugin/
    // security/.../rest/action/apikey/RestUpdateApiKeyAction.java; .../action/apikey/TransportBaseUpdateApiKeyAction.java,
    // doExecute and toSingleResponse; .../authc/ApiKeyService.java, updateApiKeys, validateForUpdate, maybeBuildUpdatedDocument,
    // addErrorsForNotFoundApiKeys). `expiration` (newer servers) is not modelled: refused here.
    if (parts[0] === "_security" && parts[1] === "api_key" && parts.length === 3 && (method === "PUT" || method === "POST")) {
      const id = parts[2]!;
      if (viaApiKey) {
        return send(400, esError(400, "illegal_argument_exception", "authentication via API key not supported: only the owner user can update an API key"));
      }
      if (body.expiration !== undefined) return send(400, esError(400, "not_modelled", "the fake does not model updating expiration"));
      // findVersionedApiKeyDocsForSubject: the caller's own keys only; any other id is not found.
      const stored = apiKeys.get(id);
      if (!stored || stored.owner !== username || stored.name === undefined) {
        return send(404, esError(404, "resource_not_found_exception", `no API key owned by requesting user found for ID [${id}]`));
      }
      if (stored.invalidated) return send(400, esError(400, "illegal_argument_exception", `cannot update invalidated API key [${id}]`));
      if (stored.expiration !== undefined && Date.now() > stored.expiration) {
        return send(400, esError(400, "illegal_argument_exception", `cannot update expired API key [${id}]`));
      }
      const descriptors = body.role_descriptors as Record<string, Json> | undefined;
      for (const [role, descriptor] of Object.entries(descriptors ?? {})) {
        if (descriptor && typeof descriptor === "object" && "description" in descriptor) {
          return send(400, esError(400, "parse_exception", `failed to parse role [${role}]. unexpected field [description]`));
        }
      }
      const before = JSON.stringify([stored.metadata, stored.roleDescriptors]);
      // A given metadata replaces the stored one whole; given role descriptors replace theirs; absent ones stay.
      if (body.metadata !== undefined) stored.metadata = body.metadata as Json;
      if (descriptors !== undefined) {
        stored.roleDescriptors = Object.fromEntries(Object.entries(descriptors).map(([role, descriptor]) => [role, roleDescriptorAsWritten(descriptor)]));
      }
      // isNoop: the same metadata and descriptors (and owner snapshot, not modelled: unchanged here) answer updated: false.
      return send(200, { updated: JSON.stringify([stored.metadata, stored.roleDescriptors]) !== before });
    }
    // GET _cluster/health (rest-api-spec cluster.health.json; server/src/main/java/org/elasticsearch/action/admin/cluster/
    // health/ClusterHealthResponse.java, toXContent): cluster_name, status in lower case, node and shard counts.
    if (parts[0] === "_cluster" && parts[1] === "health" && parts.length === 2 && method === "GET") {
      return send(200, {
        cluster_name: "fake",
        status: verify.clusterStatus,
        timed_out: false,
        number_of_nodes: 1,
        number_of_data_nodes: 1,
        active_primary_shards: verify.dataStreams.size,
        active_shards: verify.dataStreams.size,
        unassigned_shards: verify.clusterStatus === "green" ? 0 : 1,
      });
    }
    // GET _data_stream/<name> (rest-api-spec indices.get_data_stream.json; server/src/main/java/org/elasticsearch/action/
    // datastreams/GetDataStreamAction.java, DataStreamInfo.toXContent): name, timestamp_field, indices, generation, status
    // (upper case health), template, ilm_policy, failure_store {enabled, indices}. An unknown name is 404
    // index_not_found_exception "no such index [<name>]" (IndexNameExpressionResolver, IndexNotFoundException).
    if (parts[0] === "_data_stream" && parts[1] && parts.length === 2 && method === "GET") {
      const stream = verify.dataStreams.get(parts[1]);
      if (!stream) return send(404, { ...esError(404, "index_not_found_exception", `no such index [${parts[1]}]`) });
      return send(200, {
        data_streams: [
          {
            name: parts[1],
            timestamp_field: { name: "@timestamp" },
            indices: backingIndices(parts[1], stream).map((index) => ({ index_name: index, index_uuid: index, managed_by: "Index Lifecycle Management" })),
            generation: stream.generation,
            status: verify.clusterStatus.toUpperCase(),
            template: [...indexTemplates.keys()][0] ?? "",
            ...(stream.ilmPolicy ? { ilm_policy: stream.ilmPolicy } : {}),
            next_generation_managed_by: "Index Lifecycle Management",
            hidden: false,
            system: false,
            failure_store: { enabled: stream.failureStore, rollover_on_write: true, indices: [] },
          },
        ],
      });
    }
    // GET <index>/_ilm/explain?only_errors=true (rest-api-spec ilm.explain_lifecycle.json; x-pack/plugin/ilm/src/main/java/
    // org/elasticsearch/xpack/ilm/action/TransportExplainLifecycleAction.java): {indices: {<backing index>: explain}},
    // with only_errors only the indices whose step is ERROR (IndexLifecycleExplainResponse: index, managed, policy,
    // step "ERROR", failed_step, step_info {type, reason}). A missing target is 404 index_not_found_exception.
    if (parts.length === 3 && parts[1] === "_ilm" && parts[2] === "explain" && method === "GET") {
      const stream = verify.dataStreams.get(parts[0]);
      if (!stream) return send(404, esError(404, "index_not_found_exception", `no such index [${parts[0]}]`));
      const onlyErrors = url.searchParams.get("only_errors") === "true";
      const indices: Record<string, Json> = {};
      for (const index of backingIndices(parts[0], stream)) {
        const error = verify.ilmErrors.get(index);
        if (onlyErrors && !error) continue;
        indices[index] = error
          ? {
              index,
              managed: true,
              policy: stream.ilmPolicy,
              phase: "hot",
              action: "rollover",
              step: "ERROR",
              failed_step: "check-rollover-ready",
              step_info: error,
            }
          : { index, managed: true, policy: stream.ilmPolicy, phase: "hot", action: "rollover", step: "check-rollover-ready" };
      }
      return send(200, { indices });
    }
    // POST <target>/_search (rest-api-spec search.json) with size 0, a bool filter of term queries, track_total_hits
    // and max / terms aggregations: hits.total {value, relation: "eq"} (SearchHits.toXContent with track_total_hits),
    // a max aggregation {value, value_as_string} or {value: null} without documents (server/.../search/aggregations/
    // metrics/InternalMax.java, doXContentBody), terms {doc_count_error_upper_bound, sum_other_doc_count, buckets:
    // [{key, doc_count}]} ordered by count (bucket/terms/InternalTerms.java, StringTerms). `<data stream>::failures`
    // selects its failure store (server/.../action/support/IndexComponentSelector.java). A missing target is 404.
    if (parts.length === 2 && parts[1] === "_search" && (method === "POST" || method === "GET")) {
      const [name, selector] = parts[0].split("::");
      const stream = verify.dataStreams.get(name);
      if (!stream || (selector !== undefined && selector !== "failures" && selector !== "data"))
        return send(404, esError(404, "index_not_found_exception", `no such index [${parts[0]}]`));
      const source = selector === "failures" ? stream.failures : stream.documents;
      const filters = (((body.query as Json | undefined)?.bool as Json | undefined)?.filter as Json[] | undefined) ?? [];
      const matching = source.filter((document) =>
        filters.every((clause) => {
          const term = clause.term as Record<string, unknown> | undefined;
          if (!term) throw new Error(`the fake only takes term filters: ${JSON.stringify(clause)}`);
          return Object.entries(term).every(([field, value]) => fieldValue(document, field) === value);
        }),
      );
      const aggregations: Json = {};
      for (const [aggName, definition] of Object.entries((body.aggs ?? body.aggregations ?? {}) as Record<string, Json>)) {
        if (definition.max) {
          const field = String((definition.max as Json).field);
          const values = matching.map((document) => Date.parse(String(fieldValue(document, field)))).filter((value) => !Number.isNaN(value));
          aggregations[aggName] = values.length
            ? { value: Math.max(...values), value_as_string: new Date(Math.max(...values)).toISOString() }
            : { value: null };
        } else if (definition.terms) {
          const field = String((definition.terms as Json).field);
          const size = Number((definition.terms as Json).size ?? 10);
          const counts = new Map<string, number>();
          for (const document of matching) {
            const value = fieldValue(document, field);
            if (value !== undefined) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
          }
          const buckets = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, count]) => ({ key, doc_count: count }));
          aggregations[aggName] = {
            doc_count_error_upper_bound: 0,
            sum_other_doc_count: buckets.slice(size).reduce((sum, bucket) => sum + bucket.doc_count, 0),
            buckets: buckets.slice(0, size),
          };
        } else throw new Error(`the fake takes max and terms aggregations only: ${JSON.stringify(definition)}`);
      }
      const size = Number(body.size ?? 10);
      return send(200, {
        took: 1,
        timed_out: false,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: {
          total: { value: matching.length, relation: "eq" },
          max_score: null,
          hits: matching.slice(0, size).map((document) => ({ _index: parts[0], _source: document })),
        },
        ...(Object.keys(aggregations).length ? { aggregations } : {}),
      });
    }
    // No handler for the path and method: RestController.handleBadRequest answers 400 with a bare error string
    // (elastic/elasticsearch server/src/main/java/org/elasticsearch/rest/RestController.java).
    return send(400, { error: `no handler found for uri [${request.path}] and method [${method}]` });
  }

  function kibanaRoute(request: RecordedRequest, url: URL, send: Send, _username: string): void {
    let parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    let space = "default";
    if (parts[0] === "s") {
      space = parts[1];
      parts = parts.slice(2);
    }
    const method = request.method;
    // Kibana's XSRF post-auth handler (kibana src/core/packages/http/server-internal/src/lifecycle_handlers.ts) refuses
    // unsafe methods without kbn-xsrf (or kbn-version) with a Boom 400.
    if (
      (method === "POST" || method === "DELETE" || method === "PUT") &&
      request.headers["kbn-xsrf"] === undefined &&
      request.headers["kbn-version"] === undefined
    ) {
      return send(400, { statusCode: 400, error: "Bad Request", message: "Request must contain a kbn-xsrf header." });
    }
    const body = (request.body ?? {}) as Json;
    // The saved objects client's createGenericNotFoundError (kibana src/core/packages/saved-objects/server/src/saved_objects_error_helpers.ts).
    const notFound = (type: string, id: string) => send(404, kibanaError(404, `Saved object [${type}/${id}] not found`));

    // /api/data_views/data_view[/<id>] (elastic/kibana src/platform/plugins/shared/data_views/server/rest_api_routes/public/*.ts).
    // Errors pass through util/handle_errors.ts: a 404 stays 404, every other error becomes 400.
    if (parts[0] === "api" && parts[1] === "data_views" && parts[2] === "data_view") {
      const id = parts[3];
      if (!id && method === "POST") {
        // create_data_view.ts: body { override?, refresh_fields?, data_view: dataViewSpecSchema (rest_api_routes/schema.ts) }.
        const refusedTop = Object.keys(body).find((key) => !["data_view", "override", "refresh_fields"].includes(key));
        if (refusedTop) return send(400, kibanaError(400, `[request body.${refusedTop}]: definition for this key is missing`));
        const spec = body.data_view as Json | undefined;
        if (!spec || typeof spec.title !== "string") {
          return send(
            400,
            kibanaError(400, `[request body.data_view.title]: expected value of type [string] but got [${spec ? typeName(spec.title) : "undefined"}]`),
          );
        }
        const refused = Object.keys(spec).find((key) => !DATA_VIEW_CREATE_KEYS.includes(key));
        if (refused) return send(400, kibanaError(400, `[request body.data_view.${refused}]: definition for this key is missing`));
        const newId = typeof spec.id === "string" ? spec.id : `generated-${version++}`;
        const key = `${space}/${newId}`;
        // The route stores `name || title` as the name; DataViewsService.createSavedObject
        // (common/data_views/data_views.ts) then looks for a data view of that name in the space
        // (findByName on name.keyword, common/utils.ts): "Duplicate data view: <name>" unless
        // override, which deletes the other one. Then the saved objects client creates `index-pattern`
        // (namespaceType 'multiple', server/saved_objects/data_views.ts): an existing id fails the
        // preflight check with createConflictError (core saved-objects api-server-internal
        // src/lib/apis/create.ts, server/src/saved_objects_error_helpers.ts) unless override, which
        // overwrites. handleErrors turns both refusals into 400.
        const name = (spec.name as string) || spec.title;
        const override = body.override === true;
        const dupe = [...dataViews.entries()].find(([k, view]) => k.startsWith(`${space}/`) && view.name === name);
        if (dupe && !override) return send(400, kibanaError(400, `Duplicate data view: ${name}`));
        if (dupe) dataViews.delete(dupe[0]);
        if (dataViews.has(key) && !override) return send(400, kibanaError(400, `Saved object [index-pattern/${newId}] conflict`));
        const stored = dataViewDefaults({ ...asStored(spec), id: newId, name }, space);
        stored.version = soVersion(version++);
        dataViews.set(key, stored);
        return send(200, { data_view: stored });
      }
      if (id) {
        const key = `${space}/${id}`;
        // A missing id: the saved objects client's createGenericNotFoundError, kept as 404 by handleErrors.
        if (method === "GET") return dataViews.has(key) ? send(200, { data_view: dataViews.get(key) }) : notFound("index-pattern", id);
        if (method === "DELETE") {
          // delete_data_view.ts answers res.ok() without a body.
          return dataViews.delete(key) ? send(200, undefined) : notFound("index-pattern", id);
        }
        if (method === "POST") {
          // update_data_view.ts: its schema takes these keys (and refuses others, e.g. fieldAttrs, id),
          // but updateDataView applies all of them except allowNoIndex, which it drops.
          const refusedTop = Object.keys(body).find((field) => !["data_view", "refresh_fields"].includes(field));
          if (refusedTop) return send(400, kibanaError(400, `[request body.${refusedTop}]: definition for this key is missing`));
          const spec = (body.data_view ?? {}) as Json;
          const refused = Object.keys(spec).find((field) => !DATA_VIEW_UPDATE_KEYS.includes(field));
          if (refused) return send(400, kibanaError(400, `[request body.data_view.${refused}]: definition for this key is missing`));
          const existing = dataViews.get(key);
          if (!existing) return notFound("index-pattern", id);
          const { allowNoIndex: _ignoredByKibana, ...applied } = asStored(spec);
          const stored: Json = { ...existing, ...applied, version: soVersion(version++) };
          if (applied.fields) stored.fields = { ...unscripted(existing.fields as Json), ...(applied.fields as Json) };
          dataViews.set(key, stored);
          // The update answers toApiSpec(toSpec()): no namespaces.
          const { namespaces: _namespaces, ...answer } = stored;
          return send(200, { data_view: answer });
        }
      }
    }
    // GET /api/status (kibana src/core/packages/status/server-internal/src/routes/status.ts): the v8 format
    // {name, uuid, version, status: {overall: {level, summary}, core, plugins}}, 503 when *core's* level is
    // unavailable or critical (`coreOverall.level >= ServiceStatusLevels.unavailable ? 503 : 200`), else 200: a
    // plugin down makes overall unavailable with a 200.
    if (parts[0] === "api" && parts[1] === "status" && parts.length === 2 && method === "GET") {
      const level = verify.kibanaLevel;
      const core = verify.kibanaCoreLevel ?? level;
      return send(core === "available" || core === "degraded" ? 200 : 503, {
        name: "kibana",
        uuid: "fake",
        version: { number: FAKE_KIBANA_VERSION, build_snapshot: false },
        status: { overall: { level, summary: level === "available" ? "All services and plugins are available" : `Kibana is ${level}` }, core: {}, plugins: {} },
      });
    }
    // /api/saved_objects/<type>/<id> (kibana src/core/packages/saved-objects/server-internal/src/routes/create.ts, get.ts,
    // delete.ts). Their handlers pass Boom errors through (catchAndReturnBoomErrors), so unlike the data views API an
    // existing id without ?overwrite=true is a 409: the multi-namespace preflight check's createConflictError
    // (saved-objects api-server-internal src/lib/apis/create.ts). The body schema takes attributes (required),
    // references, migration versions and initialNamespaces. The answer is the saved object as the repository returns it
    // (rawToSavedObject): id, type, namespaces, timestamps, version, managed, migration versions, attributes, references.
    // DELETE answers {}.
    if (parts[0] === "api" && parts[1] === "saved_objects" && parts[2] && parts[3]) {
      const [type, id] = [parts[2], parts[3]];
      const key = `${space}/${type}/${id}`;
      if (method === "POST") {
        const refused = Object.keys(body).find(
          (field) => !["attributes", "references", "migrationVersion", "coreMigrationVersion", "typeMigrationVersion", "initialNamespaces"].includes(field),
        );
        if (refused) return send(400, kibanaError(400, `[request body.${refused}]: definition for this key is missing`));
        if (!body.attributes || typeof body.attributes !== "object") {
          return send(400, kibanaError(400, `[request body.attributes]: expected value of type [object] but got [${typeName(body.attributes)}]`));
        }
        if (savedObjects.has(key) && url.searchParams.get("overwrite") !== "true") {
          return send(409, kibanaError(409, `Saved object [${type}/${id}] conflict`));
        }
        const now = new Date().toISOString();
        const stored = {
          id,
          type,
          namespaces: [space],
          updated_at: now,
          created_at: now,
          version: soVersion(version++),
          managed: false,
          coreMigrationVersion: "8.8.0",
          typeMigrationVersion: "10.6.0",
          attributes: structuredClone(body.attributes as Json),
          references: body.references ?? [],
        };
        savedObjects.set(key, stored);
        return send(200, stored);
      }
      if (method === "GET") return savedObjects.has(key) ? send(200, savedObjects.get(key)) : notFound(type, id);
      if (method === "DELETE") return savedObjects.delete(key) ? send(200, {}) : notFound(type, id);
    }
    // hapi's own answer for a route nobody registered.
    return send(404, { statusCode: 404, error: "Not Found", message: "Not Found" });
  }

  /** Data stream name -> the simulator holding its template, pipelines and learned mapping (made at its first write). */
  const simulated = new Map<string, SimulatedDataStream>();

  /**
   * Whether `username` (or, with `viaApiKey`, that API key) may `create` documents in `index`: a role (or key role
   * descriptor) with an indices entry whose names match it and whose privileges include create_doc or a wider one
   * (elastic/elasticsearch x-pack/plugin/core/.../security/authz/privilege/IndexPrivilege.java: CREATE_DOC is granted by
   * create_doc, create, index, write and all). An API key is limited by its owner's roles too (ApiKeyService: the key's
   * role descriptors intersected with `limited_by`); the superuser `elastic` passes. Not modelled: field and document
   * level security, restricted indices, remote indices.
   */
  function mayCreate(username: string, index: string, viaApiKey?: string): boolean {
    const grants = (descriptors: Json[]) =>
      descriptors.some((descriptor) =>
        ((descriptor.indices as Json[] | undefined) ?? []).some(
          (entry) =>
            ((entry.names as string[] | string | undefined) ? [entry.names as string[] | string].flat() : []).some((pattern) => globMatch(pattern, index)) &&
            ((entry.privileges as string[] | undefined) ?? []).some((privilege) => ["create_doc", "create", "index", "write", "all"].includes(privilege)),
        ),
      );
    const ownerMay = username === "elastic" || grants(((users.get(username)?.roles as string[] | undefined) ?? []).map((role) => roles.get(role) ?? {}));
    if (!viaApiKey) return ownerMay;
    const key = apiKeys.get(viaApiKey);
    return ownerMay && grants(Object.values(key?.roleDescriptors ?? {}));
  }

  /**
   * POST _bulk (rest-api-spec bulk.json; server/src/main/java/org/elasticsearch/action/bulk/TransportBulkAction.java,
   * BulkResponse.toXContent: `{ took, errors, items: [{ create: { _index, status, ... } }] }`), `create` items only (what
   * Filebeat sends to a data stream; other actions are refused by this fake). Each item is authorized (mayCreate: 403
   * security_exception, as AuthorizationService.denial words it for an API key or a user), then goes through the data
   * stream's pipelines and mapping as test/support/ingest-simulator.ts models them: the request's `pipeline` (URL
   * parameter, or the item's own) in place of the template's default_pipeline (`_none` for none), then the template's
   * final_pipeline, with set_security_user seeing who authenticated (the API key's id, name and metadata). Pipelines
   * are read when the data stream is first written to (a later change of a stored pipeline is not modelled).
   */
  function bulk(text: string, url: URL, username: string, viaApiKey: string | undefined, target: string | undefined): Json {
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    const items: Json[] = [];
    const key = viaApiKey ? apiKeys.get(viaApiKey) : undefined;
    const authentication: Authentication = key
      ? { type: "api_key", id: viaApiKey!, name: key.name ?? "", owner: key.owner, metadata: key.metadata ?? {} }
      : { type: "realm", username };
    for (let at = 0; at < lines.length; at += 2) {
      const action = JSON.parse(lines[at]!) as Json;
      const [op, meta] = Object.entries(action)[0] as [string, Json];
      if (op !== "create") throw new Error(`the fake: bulk action ${op} is not modelled (Filebeat sends create to a data stream)`);
      const index = String(meta._index ?? target ?? "");
      const document = JSON.parse(lines[at + 1] ?? "{}") as Json;
      if (!mayCreate(username, index, viaApiKey)) {
        const who = key ? `API key id [${viaApiKey}] of user [${key.owner}]` : `user [${username}]`;
        const reason = `action [indices:data/write/bulk[s]] is unauthorized for ${who} on indices [${index}], this action is granted by the index privileges [create_doc,create,index,write,all]`;
        items.push({ create: { _index: index, status: 403, error: { type: "security_exception", reason } } });
        continue;
      }
      const stream = simulatedStream(index);
      const requested = (meta.pipeline as string | undefined) ?? url.searchParams.get("pipeline") ?? undefined;
      let pipeline: IngestRequest["pipeline"];
      if (requested === "_none") pipeline = "_none";
      else if (requested !== undefined) {
        const definition = pipelines.get(requested);
        if (!definition) {
          items.push({
            create: { _index: index, status: 400, error: { type: "illegal_argument_exception", reason: `pipeline with id [${requested}] does not exist` } },
          });
          continue;
        }
        pipeline = { name: requested, definition: definition as PipelineDefinition };
      }
      const outcome = stream.ingest(document, new Date(), { authentication, pipeline });
      const fake = streamFor(index);
      if (outcome.outcome === "indexed") {
        fake.documents.push(outcome.source);
        items.push({ create: { _index: backingIndices(index, fake).at(-1)!, status: 201, result: "created" } });
      } else if (outcome.outcome === "failure_store") {
        fake.failures.push(outcome.failure as unknown as Json);
        const failureIndex = backingIndices(index, { ...fake, generation: 1 })[0]!.replace(/^\.ds-/, ".fs-");
        items.push({ create: { _index: failureIndex, status: 201, result: "created", failure_store: "used" } });
      } else {
        items.push({ create: { _index: index, status: 400, error: outcome.error, failure_store: "not_enabled" } });
      }
    }
    return { took: 1, errors: items.some((item) => ((item.create as Json).status as number) >= 300), items };
  }

  /** The data stream's simulator, made from the matching template and the pipelines it names as they are stored now. */
  function simulatedStream(name: string): SimulatedDataStream {
    const existing = simulated.get(name);
    if (existing) return existing;
    const match = [...indexTemplates.values()].find(
      (template) => template.data_stream && (template.index_patterns as string[]).some((pattern) => globMatch(pattern, name)),
    );
    if (!match) throw new Error(`the fake: no index template with data_stream matches ${name}`);
    const index = ((match.template as Json | undefined)?.settings as { index?: Json } | undefined)?.index ?? {};
    const named = (setting: string): NamedPipeline | undefined => {
      const id = index[setting] as string | undefined;
      if (id === undefined) return undefined;
      const definition = pipelines.get(id);
      if (!definition) throw new Error(`the fake: the template names ${setting} ${id}, which is not stored`);
      return { name: id, definition: definition as PipelineDefinition };
    };
    const defaultPipeline = named("default_pipeline");
    const stream = new SimulatedDataStream(
      name,
      match as TemplateDefinition,
      defaultPipeline?.definition ?? { processors: [] },
      defaultPipeline?.name,
      named("final_pipeline"),
    );
    simulated.set(name, stream);
    return stream;
  }

  function streamFor(name: string): FakeDataStream {
    const existing = verify.dataStreams.get(name);
    if (existing) return existing;
    const match = [...indexTemplates.values()].find(
      (template) => template.data_stream && (template.index_patterns as string[]).some((pattern) => globMatch(pattern, name)),
    );
    if (!match) throw new Error(`the fake: no index template with data_stream matches ${name}; Elasticsearch would write a plain index`);
    const template = (match.template ?? {}) as Json;
    const settings = template.settings as { index?: { lifecycle?: { name?: string } } } | undefined;
    const failureStore = (template.data_stream_options as { failure_store?: { enabled?: boolean } } | undefined)?.failure_store?.enabled === true;
    const stream: FakeDataStream = { ilmPolicy: settings?.index?.lifecycle?.name, failureStore, documents: [], failures: [], generation: 1 };
    verify.dataStreams.set(name, stream);
    return stream;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    passwords,
    apiKeys,
    roles,
    users,
    ilmPolicies,
    indexTemplates,
    pipelines,
    dataViews,
    savedObjects,
    verify,
    ingest(dataStream: string, document: Json): BulkItemAnswer {
      const stream = streamFor(dataStream);
      stream.documents.push(document);
      return { _index: backingIndices(dataStream, stream).at(-1)!, status: 201, result: "created" };
    },
    ingestFailure(dataStream: string, error: { type: string; message: string }): BulkItemAnswer {
      const stream = streamFor(dataStream);
      if (!stream.failureStore) throw new Error(`the fake: ${dataStream}'s template has no failure store; the document would be rejected`);
      stream.failures.push({ "@timestamp": new Date().toISOString(), document: { index: dataStream }, error });
      // Failure indices are `.fs-<data stream>-<yyyy.MM.dd>-<generation>` (cluster/metadata/DataStream.java, getDefaultFailureStoreName).
      const failureIndex = backingIndices(dataStream, { ...stream, generation: 1 })[0].replace(/^\.ds-/, ".fs-");
      return { _index: failureIndex, status: 201, result: "created", failure_store: "used" };
    },
    learnedFields(dataStream: string): string[] {
      return simulated.get(dataStream)?.learnedFields ?? [];
    },
    indexedFields(dataStream: string): Record<string, unknown[]>[] {
      return simulated.get(dataStream)?.indexedFields ?? [];
    },
    startingFor(count: number) {
      starting = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An Elasticsearch time value in ms (TimeValue.parseTimeValue: d, h, m, s, ms), or undefined. */
function timeValueMs(text: string): number | undefined {
  const match = /^(\d+)(d|h|m|s|ms)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[match[2] as "d" | "h" | "m" | "s" | "ms"];
}

/** Backing indices of a data stream: `.ds-<name>-<yyyy.MM.dd>-<generation 6 digits>` (cluster/metadata/DataStream.java, getDefaultBackingIndexName). */
function backingIndices(name: string, stream: FakeDataStream): string[] {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, ".");
  return Array.from({ length: stream.generation }, (_, index) => `.ds-${name}-${day}-${String(index + 1).padStart(6, "0")}`);
}

/** A document's value at a dotted field path, flat (`"service.name"`) or nested. */
function fieldValue(document: Json, field: string): unknown {
  if (field in document) return document[field];
  return field.split(".").reduce<unknown>((value, key) => (value && typeof value === "object" ? (value as Json)[key] : undefined), document);
}

function globMatch(pattern: string, name: string): boolean {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  ).test(name);
}

/** A saved object's version: base64 of [seq_no, primary_term] (kibana saved-objects base-server-internal encodeVersion). */
function soVersion(seqNo: number): string {
  return Buffer.from(JSON.stringify([seqNo, 1])).toString("base64");
}

/** Kibana's error body: a Boom payload (elastic/kibana src/core/packages/http/router-server-internal/src/response_adapter.ts, toError). */
function kibanaError(statusCode: number, message: string): Json {
  const error = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict" }[statusCode] ?? "Error";
  return { statusCode, error, message };
}

/** How @kbn/config-schema names a value's type in its messages. */
function typeName(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  return Array.isArray(value) ? "Array" : typeof value;
}

/** dataViewSpecSchema, the create route's data_view (kibana src/platform/plugins/shared/data_views/server/rest_api_routes/schema.ts). */
const DATA_VIEW_CREATE_KEYS = [
  "title",
  "version",
  "id",
  "type",
  "timeFieldName",
  "sourceFilters",
  "fields",
  "typeMeta",
  "fieldFormats",
  "fieldAttrs",
  "allowNoIndex",
  "runtimeFieldMap",
  "name",
  "namespaces",
  "allowHidden",
];
/** indexPatternUpdateSchema (same plugin, server/rest_api_routes/public/update_data_view.ts). */
const DATA_VIEW_UPDATE_KEYS = [
  "title",
  "type",
  "typeMeta",
  "timeFieldName",
  "sourceFilters",
  "fieldFormats",
  "fields",
  "allowNoIndex",
  "runtimeFieldMap",
  "name",
];

/**
 * A data view spec as Kibana keeps it (common/data_views/abstract_data_views.ts): of `fields` only
 * scripted ones (a non-scripted field's count, customLabel and customDescription move to fieldAttrs),
 * runtime fields with only type, script and subfield types (removeFieldAttrs, common/data_views/utils.ts).
 */
function asStored(spec: Json): Json {
  const out: Json = { ...spec };
  if (spec.fields && typeof spec.fields === "object") {
    const attrs: Json = { ...((spec.fieldAttrs as Json) ?? {}) };
    const scripted: Json = {};
    for (const [name, field] of Object.entries(spec.fields as Record<string, Json>)) {
      if (field.scripted) scripted[name] = { name, script: field.script, lang: field.lang, type: field.type, scripted: true };
      const picked = Object.fromEntries(["count", "customLabel", "customDescription"].filter((key) => field[key]).map((key) => [key, field[key]]));
      if (Object.keys(picked).length > 0) attrs[name] = { ...picked, ...((attrs[name] as Json) ?? {}) };
    }
    out.fields = scripted;
    if (Object.keys(attrs).length > 0) out.fieldAttrs = attrs;
  }
  if (spec.runtimeFieldMap && typeof spec.runtimeFieldMap === "object") {
    out.runtimeFieldMap = Object.fromEntries(
      Object.entries(spec.runtimeFieldMap as Record<string, Json>).map(([name, field]) => {
        const fields = field.fields as Record<string, Json> | undefined;
        const kept: Json = { type: field.type, script: field.script };
        if (fields) kept.fields = Object.fromEntries(Object.entries(fields).map(([sub, value]) => [sub, { type: value.type }]));
        return [name, kept];
      }),
    );
  }
  return out;
}

/** The fields of a stored data view that come from the indices' mappings (everything not scripted). */
function unscripted(fields: Json | undefined): Json {
  return Object.fromEntries(Object.entries(fields ?? {}).filter(([, field]) => !(field as Json).scripted));
}

/**
 * A time value as Elasticsearch writes it back: TimeValue.parseTimeValue lower-cases (except `M`, which is not minutes)
 * and TimeValue.getStringRep renders `<n><unit>`, "0" as "0ms" (elastic/elasticsearch libs/core/src/main/java/org/
 * elasticsearch/core/TimeValue.java).
 */
function timeValueRep(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (/^0+$/.test(text)) return "0ms";
  if (/^-0*1$/.test(text)) return "-1";
  const match = /^(\d+)\s*(nanos|micros|ms|s|m|h|d)$/i.exec(text);
  if (!match || match[2] === "M") return value;
  return `${Number(match[1])}${match[2].toLowerCase()}`;
}

/**
 * A byte size as Elasticsearch writes it back: ByteSizeValue.parseBytesSizeValue lower-cases and takes `k|kb|m|mb|g|gb|t|tb|p|pb|b`,
 * getStringRep renders whole units as `<n><unit suffix>` (suffixes kb, mb, gb, tb, pb, b) and a fraction that is no whole
 * number of its unit in bytes (elastic/elasticsearch server/src/main/java/org/elasticsearch/common/unit/ByteSizeValue.java).
 */
function byteSizeRep(value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (["0", "0b", "0B"].includes(value)) return "0";
  const match = /^([\d.]+)\s*(kb|k|mb|m|gb|g|tb|t|pb|p|b)$/.exec(value.toLowerCase().trim());
  if (!match) return value;
  const units: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  const unit = match[2][0];
  const bytes = Math.ceil(Number(match[1]) * units[unit]);
  const suffix = unit === "b" ? "b" : `${unit}b`;
  return bytes % units[unit] === 0 ? `${bytes / units[unit]}${suffix}` : `${bytes}b`;
}

/**
 * A role descriptor as RoleDescriptor.toXContent writes it (x-pack/plugin/core/.../security/authz/RoleDescriptor.java): cluster,
 * indices (each with allow_restricted_indices; RoleDescriptor.parseIndex takes one string for `names` and stores a list),
 * applications, run_as, metadata, transient_metadata.
 */
function roleDescriptorAsWritten(body: Json): Json {
  return {
    cluster: body.cluster ?? [],
    indices: ((body.indices as Json[]) ?? []).map((entry) => ({
      allow_restricted_indices: false,
      ...entry,
      ...(typeof entry.names === "string" ? { names: [entry.names] } : {}),
    })),
    applications: body.applications ?? [],
    run_as: body.run_as ?? [],
    metadata: body.metadata ?? {},
    transient_metadata: { enabled: true },
  };
}

/**
 * TransportCreateApiKeyAction.grantsAnyPrivileges: no role descriptors, or one that is not RoleDescriptor.isEmpty() (cluster,
 * global, indices, applications, run_as, metadata, remote indices and remote cluster all empty).
 */
function grantsAnyPrivileges(descriptors: Record<string, Json> | undefined): boolean {
  const values = Object.values(descriptors ?? {});
  const empty = (descriptor: Json) =>
    ["cluster", "global", "indices", "index", "applications", "run_as", "metadata", "remote_indices", "remote_cluster"].every((field) => {
      const value = descriptor?.[field];
      return (
        value === undefined || value === null || (Array.isArray(value) ? value.length === 0 : typeof value === "object" && Object.keys(value).length === 0)
      );
    });
  return values.length === 0 || !values.every(empty);
}

/** One key as GET _security/api_key lists it (ApiKey.innerToXContent; the owner here is always in the native or reserved realm). */
function apiKeyInfo(id: string, stored: FakeApiKey): Json {
  const reserved = RESERVED.includes(stored.owner);
  return {
    id,
    name: stored.name,
    type: "rest",
    creation: stored.creation,
    ...(stored.expiration !== undefined ? { expiration: stored.expiration } : {}),
    invalidated: stored.invalidated === true,
    ...(stored.invalidation !== undefined ? { invalidation: stored.invalidation } : {}),
    username: stored.owner,
    realm: reserved ? "reserved" : "default_native",
    realm_type: reserved ? "reserved" : "native",
    metadata: stored.metadata ?? {},
    role_descriptors: stored.roleDescriptors ?? {},
  };
}

/** Elasticsearch's error body (ElasticsearchException.generateFailureXContent: root_cause, type, reason; status). */
function esError(status: number, type: string, reason: string): Json {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

/** `ApiKey <base64 of id:api_key>`; the scheme name is matched ignoring case, as Elasticsearch does. */
function apiKeyAuth(header: string | undefined): { id: string; key: string } | undefined {
  if (!header || !/^apikey /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice("ApiKey ".length), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? { id: "", key: "" } : { id: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

function basicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (!header || !header.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice("Basic ".length), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `{ number_of_shards: 1, "index.lifecycle.name": "x" }` -> `{ number_of_shards: "1", lifecycle: { name: "x" } }` */
function nestSettings(settings: Json): Json {
  const out: Json = {};
  const put = (path: string[], value: unknown) => {
    let at = out;
    for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Json;
    at[path[path.length - 1]] = Array.isArray(value) ? value.map(String) : String(value);
  };
  const walk = (value: unknown, path: string[]) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, item] of Object.entries(value)) walk(item, [...path, ...key.split(".")]);
    } else {
      put(path[0] === "index" ? path.slice(1) : path, value);
    }
  };
  walk(settings, []);
  return out;
}

/**
 * A data view as GET answers it: toSpec (kibana src/platform/plugins/shared/data_views/common/data_views/
 * abstract_data_views.ts, toSpecShared) always has sourceFilters, fieldFormats, runtimeFieldMap,
 * fieldAttrs, allowNoIndex (false unless stored true), name and allowHidden, and leaves out what is
 * undefined (type, typeMeta, timeFieldName); `fields` are the indices' mapped fields (field caps) plus the
 * scripted ones; get_data_view.ts adds namespaces.
 */
function dataViewDefaults(spec: Json, space: string): Json {
  return {
    sourceFilters: [],
    fieldFormats: {},
    runtimeFieldMap: {},
    fieldAttrs: {},
    allowNoIndex: false,
    allowHidden: false,
    name: "",
    namespaces: [space],
    ...spec,
    fields: {
      "@timestamp": { name: "@timestamp", type: "date", esTypes: ["date"], searchable: true, aggregatable: true, readFromDocValues: true },
      ...((spec.fields as Json) ?? {}),
    },
  };
}
