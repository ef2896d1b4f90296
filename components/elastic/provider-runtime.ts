/**
 * The dynamic providers (CRUD against Elasticsearch and Kibana) for the logs stage's objects.
 *
 * Pulumi serializes each provider object with `pulumi.runtime.serializeFunction` when a resource is
 * constructed and the dynamic-provider host later loads that text as a module of its own. So this
 * file is self-contained on purpose: no runtime imports (only `import type`, which compiles away),
 * packages are `require`d inside the functions that use them, and every helper a provider calls is
 * a function of this module, serialized along with it. Nothing here may capture a secret value.
 *
 * Rules kept by every provider: create is an idempotent upsert (but for API keys, which Elasticsearch
 * makes anew at each create: there a create is retried only while it cannot have been carried out);
 * read answers `pulumi refresh`
 * (404 means gone, drift shows up as a changed body); diff compares only what the program set;
 * a changed name/id, or a field the server's update API cannot change, replaces, anything else
 * updates in place; delete tolerates 404; calls retry with
 * bounded backoff while the server starts; errors name the object, the call, the HTTP status and
 * the server's error type and reason, and never contain a password.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { Client, estypes } from "@elastic/elasticsearch";
import type { ElasticConnection, RetryOptions } from "./connection";
import type { ApiKeyBody, IlmPolicyBody, IndexTemplateBody, IngestPipelineBody, RoleBody, UserBody } from "./request-bodies";

// ---------------------------------------------------------------------------------------------
// Input and state shapes (inputs and outputs are the same: outputs echo the inputs).

export interface ObjectState<Body> {
  connection: ElasticConnection;
  /** The object's name (the pipeline's id for ingest pipelines). */
  name: string;
  body: Body;
  retry?: RetryOptions;
}

export interface UserState {
  connection: ElasticConnection;
  name: string;
  password: string;
  body: UserBody;
  retry?: RetryOptions;
}

/**
 * An API key: what the program sets (connection, name, body) and, once created, what only the create
 * answer ever holds (the key's secret half): `keyId`, `apiKey` (`<id>:<api_key>`, the form Filebeat's
 * `api_key` takes) and `encoded` (base64 of that, the form an `Authorization: ApiKey` header takes).
 */
export interface ApiKeyState {
  connection: ElasticConnection;
  name: string;
  body: ApiKeyBody;
  retry?: RetryOptions;
  /**
   * Renew the key on a plain `up` once it expires within this time (an Elasticsearch duration, `14d`): diff sees the
   * stored `expiresAt` without asking the server, and update makes a new key (see apiKeyProvider). Without it, never.
   */
  renewBefore?: string;
  keyId?: string;
  apiKey?: string;
  encoded?: string;
  /** When the key expires (epoch ms; the create answer's `expiration`), if it does. */
  expiresAt?: number;
  /**
   * The key this one renewed (update): left valid until it expires on its own, so an agent still holding it keeps
   * shipping until its next `up`; invalidated with this one on delete, so removing a host revokes both.
   */
  previousKeyId?: string;
}

export interface BuiltinPasswordState {
  connection: ElasticConnection;
  /** A reserved user, e.g. `kibana_system`. */
  name: string;
  password: string;
  retry?: RetryOptions;
}

/**
 * Kibana's data view object as the data views API takes it (`data_view`), with a fixed id. Changing
 * `id`, `allowNoIndex` or `fieldAttrs` replaces the data view (Kibana's update API cannot change them);
 * anything else is updated in place.
 */
export interface DataViewSpec {
  id: string;
  title: string;
  /** Defaults to the title; must not be empty. */
  name?: string;
  timeFieldName?: string;
  /** Kibana reads an absent value back as false. */
  allowNoIndex?: boolean;
  sourceFilters?: { value: string }[];
  fieldFormats?: Record<string, unknown>;
  fieldAttrs?: Record<string, unknown>;
  runtimeFieldMap?: Record<string, unknown>;
  /** Scripted fields only (Kibana keeps no other field specs). */
  fields?: Record<string, unknown>;
  type?: string;
  typeMeta?: Record<string, unknown>;
}

export interface DataViewState {
  connection: ElasticConnection;
  dataView: DataViewSpec;
  /** Kibana space; the default space when absent. */
  spaceId?: string;
  retry?: RetryOptions;
}

export interface SavedObjectReference {
  name: string;
  type: string;
  id: string;
}

export interface SavedObjectState {
  connection: ElasticConnection;
  /** Saved object type, e.g. `search`. */
  type: string;
  /** Fixed saved object id. */
  objectId: string;
  attributes: Record<string, unknown>;
  references?: SavedObjectReference[];
  spaceId?: string;
  retry?: RetryOptions;
}

// ---------------------------------------------------------------------------------------------
// Errors and retry.

/** What went wrong with one call, in the server's words. */
interface Failure {
  status?: number;
  type?: string;
  reason: string;
  retryable: boolean;
}

const RETRYABLE_STATUS = [429, 502, 503, 504];
const RETRYABLE_CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
];
/** Elasticsearch 5xx errors seen while a node starts (security index, cluster state, master). */
const NOT_READY =
  /security index|\.security|unavailable_shards|no_shard_available|not recovered|state not recovered|master_not_discovered|cluster_block|node_not_connected|node_closed/i;

function settings(retry: RetryOptions | undefined) {
  return {
    maxElapsedMs: retry?.maxElapsedMs ?? 120_000,
    initialDelayMs: retry?.initialDelayMs ?? 1_000,
    maxDelayMs: retry?.maxDelayMs ?? 15_000,
    requestTimeoutMs: retry?.requestTimeoutMs ?? 30_000,
  };
}

/** Replaces every secret that might have slipped into a message. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 3) out = out.split(secret).join("[secret]");
  return out;
}

function describeFailure(failure: Failure): string {
  const status = failure.status !== undefined ? `HTTP ${failure.status} ` : "";
  const type = failure.type ? `${failure.type}: ` : "";
  return `${status}${type}${failure.reason}`;
}

function statusRetryable(status: number, type: string | undefined, reason: string): boolean {
  if (RETRYABLE_STATUS.includes(status)) return true;
  return status >= 500 && NOT_READY.test(`${type ?? ""} ${reason}`);
}

/** A failure from the Elasticsearch client (ResponseError, ConnectionError, TimeoutError, ...). */
function esFailure(error: unknown): Failure {
  const tls = tlsFailure(error);
  if (tls) return tls;
  const err = error as { name?: string; message?: string; meta?: { statusCode?: number; body?: unknown } };
  if (err && err.name === "ResponseError" && err.meta) {
    const status = err.meta.statusCode ?? 0;
    const body = err.meta.body as { error?: unknown } | string | undefined;
    let type: string | undefined;
    let reason: string;
    if (body && typeof body === "object" && body.error && typeof body.error === "object") {
      const e = body.error as { type?: string; reason?: string; root_cause?: { type?: string; reason?: string }[] };
      type = e.type ?? e.root_cause?.[0]?.type;
      reason = e.reason ?? e.root_cause?.[0]?.reason ?? JSON.stringify(e);
    } else if (body && typeof body === "object" && typeof body.error === "string") {
      reason = body.error;
    } else {
      reason = typeof body === "string" ? body : JSON.stringify(body ?? null);
    }
    return { status, type, reason, retryable: statusRetryable(status, type, reason) };
  }
  const name = err?.name ?? "Error";
  const message = err?.message ?? String(error);
  const retryable = (name === "ConnectionError" || name === "TimeoutError" || name === "NoLivingConnectionsError") && !CERTIFICATE_REFUSED.test(message);
  return { type: name, reason: message, retryable };
}

/**
 * For a call that is not idempotent (creating an API key makes a new key each time): retried only when
 * the request cannot have been carried out, i.e. Elasticsearch itself answered 429 or 503 (it refused
 * before acting: the security index not ready, too many requests) or the connection was refused. A
 * timeout, a reset or a proxy's 502/504 may come after the key was made, and a retry would leave an
 * orphaned key with the same privileges: that failure is final, and says how to find such a key.
 */
function notCarriedOutFailure(error: unknown): Failure {
  const failure = esFailure(error);
  if (!failure.retryable) return failure;
  if (failure.status === 429 || failure.status === 503) return failure;
  if (failure.status === undefined && (failure.type === "ECONNREFUSED" || /ECONNREFUSED/.test(failure.reason))) return failure;
  return {
    ...failure,
    retryable: false,
    reason: `${failure.reason} (not retried: the key may have been made anyway; look for active keys of this name with GET _security/api_key?name=<name>&active_only=true and invalidate the extra one)`,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `attempt` until it succeeds, fails for good, or the retry budget is spent. */
async function withRetry<T>(
  what: string,
  secrets: string[],
  retry: RetryOptions | undefined,
  classify: (error: unknown) => Failure,
  attempt: () => Promise<T>,
): Promise<T> {
  const limits = settings(retry);
  const started = Date.now();
  let delay = limits.initialDelayMs;
  for (let count = 1; ; count++) {
    try {
      return await attempt();
    } catch (error) {
      const failure = classify(error);
      const elapsed = Date.now() - started;
      if (!failure.retryable || elapsed + delay > limits.maxElapsedMs) {
        const tries = count > 1 ? ` (gave up after ${count} attempts in ${Math.round(elapsed / 1000)} s)` : "";
        const wrapped = new Error(scrub(`${what} failed: ${describeFailure(failure)}${tries}`, secrets)) as Error & { status?: number; errorType?: string };
        wrapped.status = failure.status;
        wrapped.errorType = failure.type;
        throw wrapped;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, limits.maxDelayMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch calls (official client, one client per attempt so no dead-connection state lingers).

function newClient(
  connection: ElasticConnection,
  retry: RetryOptions | undefined,
  ca: string[] | undefined,
  auth?: { username: string; password: string },
): Client {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client: EsClient } = require("@elastic/elasticsearch") as typeof import("@elastic/elasticsearch");
  // The client sends `{ apiKey: "<encoded>" }` as `Authorization: ApiKey <encoded>` and hands `tls` to
  // the TLS connect of each socket (@elastic/transport lib/connection/BaseConnection.js, prepareHeaders;
  // lib/connection/UndiciConnection.js, `connect: this.tls`).
  // `servername` is what Node checks the certificate against (and sends as SNI) instead of the URL's host
  // (nodejs/node lib/_tls_wrap.js, onConnectSecure: `options.servername || options.host`); undici passes the
  // connector's options on to tls.connect and keeps their `servername` when the request names none
  // (nodejs/undici lib/core/connect.js: `servername || options.servername || util.getServerName(host)`).
  const tls = { ...(ca ? { ca } : {}), ...(connection.serverName ? { servername: connection.serverName } : {}) };
  return new EsClient({
    node: connection.url,
    auth: auth ?? (connection.apiKey ? { apiKey: connection.apiKey } : { username: connection.username ?? "", password: connection.password ?? "" }),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    maxRetries: 0,
    requestTimeout: settings(retry).requestTimeoutMs,
    sniffOnStart: false,
  });
}

/** Every credential a connection carries, and the forms it travels in: scrubbed from every message. */
function connectionSecrets(connection: ElasticConnection | undefined): string[] {
  if (!connection) return [];
  const secrets = [connection.password ?? "", connection.apiKey ?? ""];
  if (connection.apiKey) {
    // The decoded `id:api_key` and its key half.
    const decoded = Buffer.from(connection.apiKey, "base64").toString("utf8");
    secrets.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
  }
  if (connection.username && connection.password) secrets.push(Buffer.from(`${connection.username}:${connection.password}`).toString("base64"));
  return secrets.filter((secret) => secret.length > 0);
}

// ---------------------------------------------------------------------------------------------
// TLS: which CAs a connection trusts. Verification (chain and host name) always stays on.

/** An error of the trust set-up, classified apart from the server's answers. */
interface TlsSetupError extends Error {
  atraTls: true;
  code?: string;
}

function tlsSetupError(message: string, code?: string): TlsSetupError {
  return Object.assign(new Error(message), { atraTls: true as const, code });
}

/** Lower-case hex without colons, the form Node's `fingerprint256` has once its colons are dropped. */
function normalizeFingerprint(value: string): string {
  return value.replace(/:/g, "").toLowerCase();
}

/**
 * The CAs to trust, or undefined for the system's: the configured PEM and, for a fingerprint, the
 * certificate with that SHA-256 fingerprint in the chain the server presents. Given a `ca`, Node trusts
 * those instead of its bundled roots, and still checks the chain and the host name.
 *
 * Why not the client's own `caFingerprint`: @elastic/transport checks it after the handshake
 * (lib/connection/UndiciConnection.js and HttpConnection.js, on `secureConnect`, against
 * getIssuerCertificate in BaseConnection.js, the chain's root), so with a private CA the handshake
 * fails first unless verification is turned off (`rejectUnauthorized: false`), which would also drop
 * the host name check. Here the fingerprint picks the CA out of the chain on a connection that sends
 * nothing (no request, no credential), and that CA is then trusted on a fully verified connection,
 * which is what Beats' `ssl.ca_trusted_fingerprint` does ("added to the certificate_authorities list",
 * elastic/beats docs/reference/filebeat/configuration-ssl.md).
 */
async function trustedCas(connection: ElasticConnection, timeoutMs: number): Promise<string[] | undefined> {
  if (!connection.caCertificate && !connection.caFingerprint) return undefined;
  const cas = connection.caCertificate ? [connection.caCertificate] : [];
  if (connection.caFingerprint) cas.push(await caByFingerprint(connection.url, connection.caFingerprint, timeoutMs, connection.serverName));
  return cas;
}

function caByFingerprint(url: string, fingerprint: string, timeoutMs: number, serverName?: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tls = require("tls") as typeof import("tls");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require("net") as typeof import("net");
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const port = Number(parsed.port || 443);
  const wanted = normalizeFingerprint(fingerprint);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: serverName ?? (net.isIP(host) ? undefined : host), rejectUnauthorized: false }, () => {
      let certificate = socket.getPeerCertificate(true) as import("tls").DetailedPeerCertificate | undefined;
      const seen = new Set<string>();
      while (certificate && certificate.raw && !seen.has(certificate.fingerprint256)) {
        seen.add(certificate.fingerprint256);
        if (normalizeFingerprint(certificate.fingerprint256) === wanted) {
          socket.end();
          const base64 = certificate.raw.toString("base64").replace(/(.{64})/g, "$1\n");
          return resolve(`-----BEGIN CERTIFICATE-----\n${base64.replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`);
        }
        certificate = certificate.issuerCertificate;
      }
      socket.destroy();
      reject(
        tlsSetupError(
          `no certificate in the chain ${host}:${port} presents has the SHA-256 fingerprint ${wanted} (caFingerprint): the server must send that CA in its chain, or give the CA itself as caCertificate`,
        ),
      );
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(tlsSetupError(`TLS connection to ${host}:${port} timed out`, "ETIMEDOUT")));
    socket.once("error", (error: Error & { code?: string }) =>
      reject((error as Partial<TlsSetupError>).atraTls ? error : tlsSetupError(error.message, error.code)),
    );
  });
}

/** A failure of the trust set-up: retried only when the server is not reachable yet. */
function tlsFailure(error: unknown): Failure | undefined {
  const err = error as Partial<TlsSetupError> | undefined;
  if (!err || err.atraTls !== true) return undefined;
  return { type: err.code ?? "tls", reason: err.message ?? "TLS set-up failed", retryable: err.code !== undefined && RETRYABLE_CODES.includes(err.code) };
}

/** A certificate the client refused: retrying cannot help. */
const CERTIFICATE_REFUSED = /certificate|self[- ]signed|altname|CERT_|unable to verify|unable to get (local )?issuer/i;

async function esCall<T>(
  what: string,
  state: { connection: ElasticConnection; retry?: RetryOptions },
  call: (client: Client) => Promise<T>,
  extraSecrets: string[] = [],
  classify: (error: unknown) => Failure = esFailure,
): Promise<T> {
  return withRetry(what, [...connectionSecrets(state.connection), ...extraSecrets], state.retry, classify, async () => {
    const ca = await trustedCas(state.connection, settings(state.retry).requestTimeoutMs);
    const client = newClient(state.connection, state.retry, ca);
    try {
      return await call(client);
    } finally {
      await client.close();
    }
  });
}

function isNotFound(error: unknown): boolean {
  const err = error as { name?: string; meta?: { statusCode?: number } };
  return err?.name === "ResponseError" && err.meta?.statusCode === 404;
}

/** The call's value, or undefined when the server answers 404. */
async function unless404<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Authenticates as `name` (GET _security/_authenticate): true when the password works, false on 401.
 * Connection problems and startup errors are retried like every other call.
 */
async function passwordWorks(state: { connection: ElasticConnection; retry?: RetryOptions }, name: string, password: string): Promise<boolean> {
  const what = `Elasticsearch GET _security/_authenticate as user "${name}"`;
  return withRetry(what, [...connectionSecrets(state.connection), password], state.retry, esFailure, async () => {
    const ca = await trustedCas(state.connection, settings(state.retry).requestTimeoutMs);
    const client = newClient(state.connection, state.retry, ca, { username: name, password });
    try {
      const me = await client.security.authenticate();
      return me.username === name;
    } catch (error) {
      const err = error as { name?: string; meta?: { statusCode?: number } };
      if (err?.name === "ResponseError" && err.meta?.statusCode === 401) return false;
      throw error;
    } finally {
      await client.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Comparing what the program set with what the server has.

/** JSON with sorted keys; `undefined` members dropped (as in state). */
function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item);
    }
    return out;
  }
  return value;
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/**
 * True when every value the program set is on the server. Extra server fields (defaults the server
 * adds) are ignored; scalars compare by their text (`"1"` equals `1`), arrays element-wise, JSON
 * objects written as text by what they contain.
 */
function covers(actual: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== "object") {
    if (actual === desired) return true;
    // JSON carried as text (a saved search's searchSourceJSON): Kibana may re-serialize it with other
    // key order or added defaults, so compare what it says, not how it is written.
    if (typeof desired === "string" && typeof actual === "string" && desired.trimStart().startsWith("{")) {
      try {
        return covers(JSON.parse(actual), JSON.parse(desired));
      } catch {
        return false;
      }
    }
    if (actual === null || actual === undefined || typeof actual === "object") return false;
    return String(actual) === String(desired);
  }
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length && desired.every((item, index) => covers(actual[index], item));
  }
  if (!actual || typeof actual !== "object" || Array.isArray(actual)) return false;
  return Object.entries(desired as Record<string, unknown>).every(([key, item]) => covers((actual as Record<string, unknown>)[key], item));
}

/** The server's values for the top-level keys the program set: what state records after drift. */
function project(actual: Record<string, unknown>, desired: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(desired)) if (actual[key] !== undefined) out[key] = actual[key];
  return out;
}

/** Index settings as flat keys without the `index.` prefix, values as text (how ES stores them). */
function flattenSettings(settingsValue: unknown): Record<string, string> | undefined {
  if (!settingsValue || typeof settingsValue !== "object") return undefined;
  const out: Record<string, string> = {};
  const walk = (value: unknown, at: string) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, item] of Object.entries(value)) walk(item, at ? `${at}.${key}` : key);
    } else {
      out[at.startsWith("index.") ? at.slice("index.".length) : at] = Array.isArray(value) ? JSON.stringify(value.map(String)) : String(value);
    }
  };
  walk(settingsValue, "");
  return out;
}

/**
 * An index template in the form GET _index_template answers: settings flat (see flattenSettings), and
 * `index_patterns` always a list (ComposableIndexTemplate parses a single string into one; elastic/elasticsearch
 * server/src/main/java/org/elasticsearch/cluster/metadata/ComposableIndexTemplate.java).
 */
function normalizeTemplate(body: Record<string, unknown>): Record<string, unknown> {
  const out = typeof body.index_patterns === "string" ? { ...body, index_patterns: [body.index_patterns] } : body;
  const template = out.template as Record<string, unknown> | undefined;
  if (!template || !template.settings) return out;
  return { ...out, template: { ...template, settings: flattenSettings(template.settings) } };
}

/** A role as GET _security/role answers: an index privilege's `names` given as one string comes back as a list (RoleDescriptor.parseIndex). */
function normalizeRole(body: Record<string, unknown>): Record<string, unknown> {
  const listed = (entries: unknown) =>
    Array.isArray(entries)
      ? entries.map((entry) =>
          entry && typeof entry === "object" && typeof (entry as { names?: unknown }).names === "string"
            ? { ...entry, names: [(entry as { names: string }).names] }
            : entry,
        )
      : entries;
  const out: Record<string, unknown> = { ...body };
  if (body.indices !== undefined) out.indices = listed(body.indices);
  if (body.remote_indices !== undefined) out.remote_indices = listed(body.remote_indices);
  return out;
}

/**
 * A time value as Elasticsearch writes it back (TimeValue.parseTimeValue lower-cases all units but `M`;
 * getStringRep renders "<n><unit>", 0 as "0ms"; elastic/elasticsearch libs/core/src/main/java/org/elasticsearch/core/TimeValue.java).
 * Anything it does not recognise is left as it is. The digits are kept as text (leading zeros
 * dropped, as Long.parseLong does), so a number beyond 2^53 is not rounded.
 * Exported for test/provider-rule-agreement.test.ts: it must agree with the renderer's isEsDuration.
 */
export function canonicalTime(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (/^0+$/.test(text)) return "0ms";
  const match = /^(\d+)\s*(nanos|micros|ms|s|m|h|d)$/i.exec(text);
  if (!match || match[2] === "M") return value;
  return `${match[1].replace(/^0+(?=\d)/, "")}${match[2].toLowerCase()}`;
}

/**
 * A byte size as Elasticsearch writes it back (elastic/elasticsearch
 * server/src/main/java/org/elasticsearch/common/unit/ByteSizeValue.java): parseBytesSizeValue
 * lower-cases and takes k|kb|m|mb|g|gb|t|tb|p|pb|b, keeping the unit written (`desiredUnit`); a
 * fraction is rounded up to whole bytes. getStringRep renders a size of 0 bytes as "0" whatever its
 * unit, whole units as "<n>kb|mb|gb|tb|pb|b", anything else as "<bytes>b". Whole numbers are
 * counted with BigInt, as the server counts in a long, so sizes beyond 2^53 bytes stay exact.
 * Exported for test/provider-rule-agreement.test.ts: it must agree with the renderer's esByteSizeAsReturned.
 */
export function canonicalBytes(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const match = /^([\d.]+)\s*(kb|k|mb|m|gb|g|tb|t|pb|p|b)$/.exec(value.toLowerCase().trim());
  if (!match) return value === "0" ? "0" : value;
  const unit = match[2][0];
  const suffix = unit === "b" ? "b" : `${unit}b`;
  if (/^\d+$/.test(match[1])) {
    const units = BigInt(match[1]);
    return units === 0n ? "0" : `${units}${suffix}`;
  }
  const sizes: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  const bytes = Math.ceil(Number(match[1]) * sizes[unit]);
  if (bytes === 0) return "0";
  return bytes % sizes[unit] === 0 ? `${bytes / sizes[unit]}${suffix}` : `${bytes}b`;
}

/**
 * An ILM policy as GET _ilm/policy answers it: each phase's min_age and the rollover and shrink conditions in
 * their canonical time and byte forms (Phase.toXContent, RolloverConditions.toXContent use getStringRep;
 * elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ilm/).
 */
function normalizeIlmPolicy(body: Record<string, unknown>): Record<string, unknown> {
  const policy = body.policy as { phases?: Record<string, Record<string, unknown>> } | undefined;
  if (!policy || !policy.phases || typeof policy.phases !== "object") return body;
  const phases: Record<string, unknown> = {};
  for (const [name, phase] of Object.entries(policy.phases)) {
    if (!phase || typeof phase !== "object") {
      phases[name] = phase;
      continue;
    }
    const out: Record<string, unknown> = { ...phase };
    if (phase.min_age !== undefined) out.min_age = canonicalTime(phase.min_age);
    const actions = phase.actions as Record<string, Record<string, unknown>> | undefined;
    if (actions && typeof actions === "object") {
      const normalized: Record<string, unknown> = { ...actions };
      for (const kind of ["rollover", "shrink"]) {
        const action = actions[kind];
        if (!action || typeof action !== "object") continue;
        const copy: Record<string, unknown> = { ...action };
        for (const key of ["max_age", "min_age"]) if (copy[key] !== undefined) copy[key] = canonicalTime(copy[key]);
        for (const key of ["max_size", "max_primary_shard_size", "min_size", "min_primary_shard_size"])
          if (copy[key] !== undefined) copy[key] = canonicalBytes(copy[key]);
        normalized[kind] = copy;
      }
      out.actions = normalized;
    }
    phases[name] = out;
  }
  return { ...body, policy: { ...policy, phases } };
}

/**
 * An absolute http(s) URL with a usable port, as the WHATWG URL parser (which the client and fetch
 * use) reads it: the config's rule for these URLs (httpUrlProblems in components/lib/validators.ts,
 * less what concerns rendered files only), kept here because the provider must be self-contained.
 * test/provider-rule-agreement.test.ts proves the two agree.
 */
function validUrl(url: unknown): boolean {
  // The parser trims surrounding whitespace, but the raw value is what the calls join their paths to.
  if (typeof url !== "string" || url !== url.trim()) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // The parser takes port 0 (and refuses one above 65535); no server listens on 0.
  return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.port !== "0";
}

function connectionFailures(connection: ElasticConnection | undefined): dynamic.CheckFailure[] {
  const failures: dynamic.CheckFailure[] = [];
  // Values not known yet (preview) arrive as a placeholder string; only check what is known.
  if (isUnknown(connection)) return failures;
  if (!connection || typeof connection !== "object") return [{ property: "connection", reason: "connection { url, username, password } is required" }];
  if (connection.url !== undefined && !validUrl(connection.url) && !isUnknown(connection.url)) {
    failures.push({ property: "connection", reason: `connection.url must be an http(s) URL, not ${JSON.stringify(connection.url)}` });
  }
  if (connection.apiKey !== undefined) {
    if (connection.username !== undefined || connection.password !== undefined)
      failures.push({ property: "connection", reason: "connection: give either apiKey or username and password, not both" });
    else if (!isUnknown(connection.apiKey) && !encodedApiKey(connection.apiKey))
      // Never the value itself: it is a credential.
      failures.push({
        property: "connection",
        reason: "connection.apiKey must be an encoded API key (base64 of id:api_key, the create API key API's `encoded`)",
      });
  } else {
    if (!connection.username) failures.push({ property: "connection", reason: "connection.username is required (or an apiKey)" });
    if (!connection.password) failures.push({ property: "connection", reason: "connection.password is required (or an apiKey)" });
  }
  const https = typeof connection.url === "string" && connection.url.toLowerCase().startsWith("https:");
  if (
    connection.caFingerprint !== undefined &&
    !isUnknown(connection.caFingerprint) &&
    !/^[0-9a-f]{64}$/.test(normalizeFingerprint(String(connection.caFingerprint)))
  )
    failures.push({ property: "connection", reason: "connection.caFingerprint must be a SHA-256 fingerprint: 64 hex digits (colons allowed)" });
  if (
    connection.caCertificate !== undefined &&
    !isUnknown(connection.caCertificate) &&
    !String(connection.caCertificate).includes("-----BEGIN CERTIFICATE-----")
  )
    failures.push({ property: "connection", reason: "connection.caCertificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)" });
  if ((connection.caFingerprint !== undefined || connection.caCertificate !== undefined) && !https && !isUnknown(connection.url))
    failures.push({ property: "connection", reason: "connection.caCertificate and caFingerprint need an https:// url" });
  if (connection.serverName !== undefined && !isUnknown(connection.serverName)) {
    if (typeof connection.serverName !== "string" || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(connection.serverName))
      failures.push({ property: "connection", reason: "connection.serverName must be a host name or address, without scheme or port" });
    else if (!https && !isUnknown(connection.url)) failures.push({ property: "connection", reason: "connection.serverName needs an https:// url" });
  }
  return failures;
}

/** An encoded API key: base64 of `id:api_key` (ApiKeyService.parseApiKey splits the decoded text at its first colon). */
function encodedApiKey(value: unknown): boolean {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  return decoded.indexOf(":") > 0 && decoded.indexOf(":") < decoded.length - 1;
}

/** Pulumi's placeholder for a value not known during preview. */
function isUnknown(value: unknown): boolean {
  return value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch objects with a name and a body: role, ILM policy, index template, ingest pipeline.

export interface EsObjectKind<Body> {
  /** For messages, e.g. `role`. */
  kind: string;
  /** REST path of the object, e.g. `_security/role/<name>`. */
  path(name: string): string;
  put(client: Client, name: string, body: Body): Promise<unknown>;
  /** The object as the server has it, comparable with a body; undefined on 404. */
  get(client: Client, name: string): Promise<Record<string, unknown> | undefined>;
  remove(client: Client, name: string): Promise<unknown>;
  /** Brings server and program bodies to one form before comparing (e.g. index settings). */
  normalize?(body: Record<string, unknown>): Record<string, unknown>;
}

function esObjectProvider<Body>(spec: EsObjectKind<Body>): dynamic.ResourceProvider {
  const label = (name: string) => `Elasticsearch ${spec.kind} "${name}"`;
  const upsert = async (state: ObjectState<Body>) => {
    await esCall(`${label(state.name)}: PUT ${spec.path(state.name)}`, state, (client) => spec.put(client, state.name, state.body));
  };
  return {
    async check(_olds: ObjectState<Body>, news: ObjectState<Body>) {
      const failures = connectionFailures(news.connection);
      if (!news.name || typeof news.name !== "string") failures.push({ property: "name", reason: `${spec.kind} name is required` });
      if (!isUnknown(news.body) && (!news.body || typeof news.body !== "object"))
        failures.push({ property: "body", reason: `${spec.kind} body must be an object` });
      return { inputs: news, failures };
    },
    async create(inputs: ObjectState<Body>) {
      await upsert(inputs);
      return { id: inputs.name, outs: inputs };
    },
    async read(id: string, props: ObjectState<Body>) {
      const name = props.name ?? id;
      const live = await esCall(`${label(name)}: GET ${spec.path(name)}`, props, (client) => spec.get(client, name));
      if (!live) return { id: "", props: {} };
      const desired = (props.body ?? {}) as Record<string, unknown>;
      const norm = spec.normalize ?? ((body: Record<string, unknown>) => body);
      const body = covers(norm(live), norm(desired)) ? desired : project(live, desired);
      return { id, props: { ...props, name, body } };
    },
    async diff(_id: string, olds: ObjectState<Body>, news: ObjectState<Body>) {
      const replaces = olds.name !== news.name ? ["name"] : [];
      const changed = replaces.length > 0 || !same(olds.body, news.body) || !same(olds.connection, news.connection);
      return { changes: changed, replaces };
    },
    async update(_id: string, _olds: ObjectState<Body>, news: ObjectState<Body>) {
      await upsert(news);
      return { outs: news };
    },
    async delete(id: string, props: ObjectState<Body>) {
      const name = props.name ?? id;
      await esCall(`${label(name)}: DELETE ${spec.path(name)}`, props, (client) => unless404(spec.remove(client, name)));
    },
  };
}

const roleKind: EsObjectKind<RoleBody> = {
  kind: "role",
  path: (name) => `_security/role/${name}`,
  put: (client, name, body) => {
    const request: estypes.SecurityPutRoleRequest = { ...body, name };
    return client.security.putRole(request);
  },
  get: async (client, name) => {
    const found = await unless404(client.security.getRole({ name }));
    return found?.[name] as Record<string, unknown> | undefined;
  },
  remove: (client, name) => client.security.deleteRole({ name }),
  normalize: normalizeRole,
};

const ilmPolicyKind: EsObjectKind<IlmPolicyBody> = {
  kind: "ILM policy",
  path: (name) => `_ilm/policy/${name}`,
  put: (client, name, body) => {
    const request: estypes.IlmPutLifecycleRequest = { ...body, name };
    return client.ilm.putLifecycle(request);
  },
  get: async (client, name) => {
    const found = await unless404(client.ilm.getLifecycle({ name }));
    const entry = found?.[name];
    return entry ? { policy: entry.policy } : undefined;
  },
  remove: (client, name) => client.ilm.deleteLifecycle({ name }),
  normalize: normalizeIlmPolicy,
};

const indexTemplateKind: EsObjectKind<IndexTemplateBody> = {
  kind: "index template",
  path: (name) => `_index_template/${name}`,
  put: (client, name, body) => {
    const request: estypes.IndicesPutIndexTemplateRequest = { ...body, name };
    return client.indices.putIndexTemplate(request);
  },
  get: async (client, name) => {
    const found = await unless404(client.indices.getIndexTemplate({ name }));
    const entry = found?.index_templates.find((template) => template.name === name);
    return entry ? (entry.index_template as unknown as Record<string, unknown>) : undefined;
  },
  remove: (client, name) => client.indices.deleteIndexTemplate({ name }),
  normalize: normalizeTemplate,
};

const ingestPipelineKind: EsObjectKind<IngestPipelineBody> = {
  kind: "ingest pipeline",
  path: (name) => `_ingest/pipeline/${name}`,
  put: (client, name, body) => {
    const request: estypes.IngestPutPipelineRequest = { ...body, id: name };
    return client.ingest.putPipeline(request);
  },
  get: async (client, name) => {
    const found = await unless404(client.ingest.getPipeline({ id: name }));
    return found?.[name] as Record<string, unknown> | undefined;
  },
  remove: (client, name) => client.ingest.deletePipeline({ id: name }),
};

export const roleProvider = esObjectProvider(roleKind);
export const ilmPolicyProvider = esObjectProvider(ilmPolicyKind);
export const indexTemplateProvider = esObjectProvider(indexTemplateKind);
export const ingestPipelineProvider = esObjectProvider(ingestPipelineKind);

// ---------------------------------------------------------------------------------------------
// Native user (PUT _security/user/<name>) and a reserved user's password (PUT .../_password, as the client sends it).

function userProvider(): dynamic.ResourceProvider {
  const label = (name: string) => `Elasticsearch user "${name}"`;
  const upsert = async (state: UserState) => {
    await esCall(
      `${label(state.name)}: PUT _security/user/${state.name}`,
      state,
      (client) => {
        const request: estypes.SecurityPutUserRequest = { ...state.body, username: state.name, password: state.password };
        return client.security.putUser(request);
      },
      [state.password],
    );
  };
  return {
    async check(_olds: UserState, news: UserState) {
      return { inputs: news, failures: userFailures(news) };
    },
    async create(inputs: UserState) {
      await upsert(inputs);
      return { id: inputs.name, outs: inputs };
    },
    async read(id: string, props: UserState) {
      const name = props.name ?? id;
      const found = await esCall(`${label(name)}: GET _security/user/${name}`, props, (client) => unless404(client.security.getUser({ username: name })));
      const live = found?.[name] as Record<string, unknown> | undefined;
      if (!live) return { id: "", props: {} };
      const desired = (props.body ?? {}) as Record<string, unknown>;
      const body = covers(live, desired) ? desired : project(live, desired);
      // A password changed behind Pulumi's back shows as a change (an empty one) for the next update.
      let password = props.password;
      if (live.enabled !== false && !(await passwordWorks(props, name, props.password))) password = "";
      return { id, props: { ...props, name, body, password } };
    },
    async diff(_id: string, olds: UserState, news: UserState) {
      const replaces = olds.name !== news.name ? ["name"] : [];
      const changed = replaces.length > 0 || !same(olds.body, news.body) || olds.password !== news.password || !same(olds.connection, news.connection);
      return { changes: changed, replaces };
    },
    async update(_id: string, _olds: UserState, news: UserState) {
      await upsert(news);
      return { outs: news };
    },
    async delete(id: string, props: UserState) {
      const name = props.name ?? id;
      await esCall(`${label(name)}: DELETE _security/user/${name}`, props, (client) => unless404(client.security.deleteUser({ username: name })));
    },
  };
}

/** What `check` refuses for a user or a reserved user's password: no connection, no name, a short password. */
function userFailures(news: { connection: ElasticConnection; name: string; password: string }): dynamic.CheckFailure[] {
  const failures = connectionFailures(news.connection);
  if (!news.name) failures.push({ property: "name", reason: "user name is required" });
  if (typeof news.password === "string" && !isUnknown(news.password) && news.password.length < 6) {
    failures.push({ property: "password", reason: "Elasticsearch passwords must be at least 6 characters long" });
  }
  return failures;
}

function builtinPasswordProvider(): dynamic.ResourceProvider {
  const setPassword = async (state: BuiltinPasswordState) => {
    await esCall(
      `Elasticsearch built-in user "${state.name}": PUT _security/user/${state.name}/_password`,
      state,
      (client) => {
        const request: estypes.SecurityChangePasswordRequest = { username: state.name, password: state.password };
        return client.security.changePassword(request);
      },
      [state.password],
    );
  };
  return {
    async check(_olds: BuiltinPasswordState, news: BuiltinPasswordState) {
      return { inputs: news, failures: userFailures(news) };
    },
    async create(inputs: BuiltinPasswordState) {
      await setPassword(inputs);
      return { id: inputs.name, outs: inputs };
    },
    async read(id: string, props: BuiltinPasswordState) {
      const name = props.name ?? id;
      const works = await passwordWorks(props, name, props.password);
      return { id, props: { ...props, name, password: works ? props.password : "" } };
    },
    async diff(_id: string, olds: BuiltinPasswordState, news: BuiltinPasswordState) {
      const replaces = olds.name !== news.name ? ["name"] : [];
      const changed = replaces.length > 0 || olds.password !== news.password || !same(olds.connection, news.connection);
      return { changes: changed, replaces };
    },
    async update(_id: string, _olds: BuiltinPasswordState, news: BuiltinPasswordState) {
      await setPassword(news);
      return { outs: news };
    },
    // A reserved user cannot be deleted; destroying the resource leaves the password as it is.
    async delete() {},
  };
}

export const nativeUserProvider = userProvider();
export const builtinUserPasswordProvider = builtinPasswordProvider();

// ---------------------------------------------------------------------------------------------
// API keys: POST, GET and DELETE _security/api_key.

/*
 * What Elasticsearch does with API keys (elastic/elasticsearch, rest-api-spec security.create_api_key.json,
 * security.get_api_key.json, security.invalidate_api_key.json; x-pack/plugin/security/src/main/java/org/
 * elasticsearch/xpack/security/rest/action/apikey/Rest{Create,Get,Invalidate}ApiKeyAction.java; x-pack/plugin/
 * security/.../authc/ApiKeyService.java; x-pack/plugin/core/.../security/action/apikey/):
 * - PUT (or POST) /_security/api_key { name, role_descriptors, metadata } answers 200 { id, name, api_key,
 *   encoded } (CreateApiKeyResponse.toXContent; `encoded` is base64 of `id:api_key`). Every call indexes a
 *   new key with a new id and names need not be unique (ApiKeyService.createApiKeyAndIndexIt), so create
 *   cannot be an upsert, and a replacement made before the old key is invalidated can keep the name.
 * - The key may do what its role descriptors allow AND what its owner (the creating user) could do when
 *   it was made (`limited_by`, a snapshot of the owner's roles: ApiKeyService.newDocument).
 * - A request authenticated by an API key can only create a key whose role descriptors are given and all
 *   empty (TransportCreateApiKeyAction.grantsAnyPrivileges): see derivedKeyRefused.
 * - API key role descriptors take no `description` ("not supported for API key role descriptors",
 *   ApiKeyService.removeUserRoleDescriptorDescriptions) and read back as RoleDescriptor.toXContent writes them.
 * - GET /_security/api_key?id=<id> answers { api_keys: [...] } (ApiKey.innerToXContent: id, name, type,
 *   creation, expiration?, invalidated, invalidation?, username, realm, metadata, role_descriptors),
 *   invalidated keys included; no key with the id is a 404 (RestGetApiKeyAction).
 * - PUT /_security/api_key/<id> { role_descriptors?, metadata? } updates a key in place and answers 200 { updated }
 *   (RestUpdateApiKeyAction; TransportBaseUpdateApiKeyAction.toSingleResponse; ApiKeyService.updateApiKeys and
 *   maybeBuildUpdatedDocument): the id, secret, name and expiration stay, a given `metadata` replaces the old one
 *   whole, given role descriptors replace theirs, and the owner's role snapshot (`limited_by`) is taken again. Only
 *   the owner user may (a request authenticated by an API key: 400 "authentication via API key not supported: only
 *   the owner user can update an API key"; another user's or no key: 404 resource_not_found_exception "no API key
 *   owned by requesting user found for ID [<id>]"); an invalidated or expired key is refused (400
 *   illegal_argument_exception "cannot update invalidated|expired API key [<id>]", validateForUpdate). The update
 *   clears the key's cached document (buildResponseAndClearCache), so the next request it authenticates carries the
 *   new metadata (what set_security_user hands the final pipeline).
 * - DELETE /_security/api_key { ids } invalidates and answers 200 { invalidated_api_keys,
 *   previously_invalidated_api_keys, error_count, error_details? } (InvalidateApiKeyResponse). It looks for
 *   active keys only (ApiKeyService.invalidateApiKeys, filterOutInvalidatedKeys), so a key gone or invalidated
 *   already gets the empty answer, not an error.
 */

/** Elasticsearch's refusal of a key with privileges asked for by a request authenticated with an API key. */
export const DERIVED_API_KEY_REASON = "creating derived api keys requires an explicit role descriptor that is empty (has no privileges)";

/** The privilege-bearing fields of a role descriptor (RoleDescriptor.isEmpty counts metadata too). */
const DESCRIPTOR_GRANTS = ["cluster", "global", "indices", "index", "applications", "run_as", "metadata", "remote_indices", "remote_cluster"];

function descriptorEmpty(descriptor: unknown): boolean {
  if (!descriptor || typeof descriptor !== "object") return true;
  return DESCRIPTOR_GRANTS.every((field) => {
    const value = (descriptor as Record<string, unknown>)[field];
    if (value === undefined || value === null) return true;
    return Array.isArray(value) ? value.length === 0 : typeof value === "object" ? Object.keys(value).length === 0 : false;
  });
}

/**
 * Whether Elasticsearch refuses these role descriptors when the create request is authenticated by an API
 * key (TransportCreateApiKeyAction.grantsAnyPrivileges): none given (the key would inherit its creator's
 * privileges), or any descriptor that grants something. Exported for test/provider-rule-agreement.test.ts:
 * it must agree with the renderers' copy (components/logs/elastic-bodies.ts).
 */
export function derivedKeyRefused(roleDescriptors: unknown): boolean {
  if (!roleDescriptors || typeof roleDescriptors !== "object") return true;
  const descriptors = Object.values(roleDescriptors);
  return descriptors.length === 0 || !descriptors.every(descriptorEmpty);
}

/** The key's secret forms, scrubbed from every message about it. */
function apiKeySecrets(state: Partial<ApiKeyState>): string[] {
  const secrets = [state.apiKey ?? "", state.encoded ?? ""];
  if (state.apiKey) secrets.push(state.apiKey.slice(state.apiKey.indexOf(":") + 1));
  return secrets.filter((secret) => secret.length > 0);
}

/** Role descriptors as GET answers them: each in the form of a role (normalizeRole). */
function normalizeDescriptors(descriptors: unknown): unknown {
  if (!descriptors || typeof descriptors !== "object") return descriptors;
  return Object.fromEntries(Object.entries(descriptors).map(([name, descriptor]) => [name, normalizeRole((descriptor ?? {}) as Record<string, unknown>)]));
}

/**
 * A time value in ms (elastic/elasticsearch libs/core/src/main/java/org/elasticsearch/core/TimeValue.java,
 * parseTimeValue: d, h, m, s, ms, micros, nanos), or undefined for anything else.
 */
function timeValueMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d+)\s*(nanos|micros|ms|s|m|h|d)$/.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const unit: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * unit[match[2]]!;
}

/**
 * Whether a plain `up` renews the key (diff, then update): it has a `renewBefore` and an expiration, and the state
 * says it expires within `renewBefore`, or does not say when (a key made before `expiresAt` was kept: renewed once, so
 * that from then on the state knows). Reads the state and the clock only: no refresh needed.
 */
function renewalDue(olds: Partial<ApiKeyState>, news: Partial<ApiKeyState>): boolean {
  const window = timeValueMs(news.renewBefore);
  if (window === undefined || news.body?.expiration === undefined || !olds.keyId) return false;
  return typeof olds.expiresAt !== "number" || olds.expiresAt - Date.now() <= window;
}

/** PUT _security/api_key: a new key, its secret forms and when it expires. */
async function createApiKey(inputs: ApiKeyState, what: string): Promise<Pick<ApiKeyState, "keyId" | "apiKey" | "encoded" | "expiresAt">> {
  // The client sends PUT (@elastic/elasticsearch lib/api/api/security.js, createApiKey); Elasticsearch takes PUT and POST.
  // Each create makes a new key: retried only while the request cannot have been carried out.
  const created = await esCall(
    `${what}: PUT _security/api_key`,
    inputs,
    (client) => {
      const request: estypes.SecurityCreateApiKeyRequest = { ...inputs.body, name: inputs.name };
      return client.security.createApiKey(request);
    },
    [],
    notCarriedOutFailure,
  );
  const apiKey = `${created.id}:${created.api_key}`;
  // Servers before 7.16 answer no `encoded`; it is the same base64 of id:api_key (CreateApiKeyResponse).
  const encoded = created.encoded ?? Buffer.from(apiKey, "utf8").toString("base64");
  // `expiration`: epoch ms, present when the key expires (CreateApiKeyResponse.toXContent).
  return { keyId: created.id, apiKey, encoded, ...(typeof created.expiration === "number" ? { expiresAt: created.expiration } : {}) };
}

/** Whether only what PUT _security/api_key/<id> can change in place differs: metadata and role descriptors. */
function updatableInPlace(olds: Partial<ApiKeyState>, news: Partial<ApiKeyState>): boolean {
  const { metadata: _om, role_descriptors: _or, ...oldRest } = (olds.body ?? {}) as ApiKeyBody;
  const { metadata: _nm, role_descriptors: _nr, ...newRest } = (news.body ?? {}) as ApiKeyBody;
  return same(oldRest, newRest);
}

/**
 * PUT _security/api_key/<id> with the key's metadata and role descriptors (the comment above: same key, same secret).
 * `ifAlive`: a key a renewal left to expire may be expired or invalidated by now, or gone; that is no failure, it
 * authenticates nothing any more.
 */
async function updateApiKeyInPlace(inputs: ApiKeyState, keyId: string, what: string, keySecrets: string[], ifAlive = false): Promise<void> {
  const dead = (error: unknown) => {
    const failure = esFailure(error);
    return failure.status === 404 || (failure.status === 400 && /cannot update (expired|invalidated) API key/.test(failure.reason));
  };
  await esCall(
    `${what}: PUT _security/api_key/${keyId}`,
    inputs,
    async (client) => {
      try {
        return await client.security.updateApiKey({
          id: keyId,
          metadata: inputs.body.metadata ?? {},
          role_descriptors: inputs.body.role_descriptors,
        } as estypes.SecurityUpdateApiKeyRequest);
      } catch (error) {
        if (ifAlive && dead(error)) return undefined;
        throw error;
      }
    },
    keySecrets,
  );
}

/**
 * Keys expire (`body.expiration`, logs.agentKeyExpiration), and an expired key silently stops an agent's shipping.
 * Renewal without a refresh (deploy runs `pulumi up` without --refresh): the engine asks the provider's diff on every
 * `up`, inputs changed or not, unless legacy diffing is turned on (pulumi/pulumi pkg/resource/deploy/step_generator.go,
 * stepGenerator.diff: UseLegacyDiff alone short-cuts equal inputs), and diff compares the state's `expiresAt` with the
 * clock (renewalDue) and reports a change, not a replacement; update then makes a new key and keeps the current one
 * as `previousKeyId`, NOT invalidated: it stays valid until it expires on its own (within `renewBefore`), so an agent
 * still holding it keeps shipping until its next `up` hands it the new one (outputs change with the new key). A
 * replacement (create-before-delete) would invalidate the old key in the same `up`, cutting the agent off at once.
 * delete invalidates the current and the previous key: removing a host leaves it no valid key.
 * A change of metadata or role descriptors alone (an agent host's services) is an update in place (PUT
 * _security/api_key/<id>), of the current key and of the previous one while it is still valid: the agent keeps its
 * key, and no key of the host is left with the old metadata. Name, expiration or another cluster: a new key.
 */
function apiKeyProvider(): dynamic.ResourceProvider {
  const label = (name: string) => `Elasticsearch API key "${name}"`;
  return {
    async check(_olds: ApiKeyState, news: ApiKeyState) {
      const failures = connectionFailures(news.connection);
      if (!news.name || typeof news.name !== "string") failures.push({ property: "name", reason: "API key name is required" });
      if (news.renewBefore !== undefined && !isUnknown(news.renewBefore) && timeValueMs(news.renewBefore) === undefined)
        failures.push({ property: "renewBefore", reason: `renewBefore must be a time value like 14d, not ${JSON.stringify(news.renewBefore)}` });
      const body = news.body as ApiKeyBody | undefined;
      if (!isUnknown(body) && (!body || typeof body !== "object")) {
        failures.push({ property: "body", reason: "API key body must be an object" });
      } else if (body && typeof body === "object" && !isUnknown(body.role_descriptors)) {
        const descriptors = body.role_descriptors;
        if (!descriptors || typeof descriptors !== "object" || Array.isArray(descriptors) || Object.keys(descriptors).length === 0) {
          // Without role descriptors Elasticsearch gives the key a snapshot of all its owner's privileges.
          failures.push({
            property: "body",
            reason: "body.role_descriptors must name at least one role descriptor (without any, the key gets all its owner's privileges)",
          });
        } else if (news.connection && typeof news.connection === "object" && news.connection.apiKey !== undefined && derivedKeyRefused(descriptors)) {
          failures.push({
            property: "connection",
            reason: `connection authenticates with an API key, and Elasticsearch refuses a key with privileges to such a request ("${DERIVED_API_KEY_REASON}"): create this key as a user (username and password)`,
          });
        }
      }
      return { inputs: news, failures };
    },
    async create(inputs: ApiKeyState) {
      const created = await createApiKey(inputs, label(inputs.name));
      const outs: ApiKeyState = { ...inputs, ...created };
      return { id: created.keyId!, outs };
    },
    async read(id: string, props: ApiKeyState) {
      const keyId = props.keyId ?? id;
      const found = await esCall(
        `${label(props.name)}: GET _security/api_key?id=${keyId}`,
        props,
        (client) => unless404(client.security.getApiKey({ id: keyId })),
        apiKeySecrets(props),
      );
      const live = found?.api_keys.find((key) => key.id === keyId);
      // Invalidated or expired, a key authenticates nothing: gone, so the next `up` makes a new one.
      if (!live || live.invalidated || (typeof live.expiration === "number" && live.expiration <= Date.now())) return { id: "", props: {} };
      const desired = (props.body ?? {}) as Record<string, unknown>;
      const server: Record<string, unknown> = { role_descriptors: live.role_descriptors ?? {}, metadata: live.metadata ?? {} };
      const sameDescriptors = same(Object.keys(server.role_descriptors as object).sort(), Object.keys((desired.role_descriptors ?? {}) as object).sort());
      const unchanged =
        sameDescriptors &&
        covers(normalizeDescriptors(server.role_descriptors), normalizeDescriptors(desired.role_descriptors)) &&
        covers(server.metadata, desired.metadata);
      const body = (unchanged ? desired : project(server, desired)) as ApiKeyBody;
      const expiresAt = typeof live.expiration === "number" ? { expiresAt: live.expiration } : {};
      return { id, props: { ...props, name: live.name, body, keyId, ...expiresAt } };
    },
    async diff(_id: string, olds: ApiKeyState, news: ApiKeyState) {
      // Name and expiration are fixed: a change is a new key (created before the old one is invalidated, so agents
      // holding the old key keep shipping until they switch). So is another cluster. Metadata and role descriptors
      // alone: updated in place (update).
      const replaces: string[] = [];
      if (olds.name !== news.name) replaces.push("name");
      const bodyChanged = !same(olds.body, news.body);
      if (bodyChanged && !updatableInPlace(olds, news)) replaces.push("body");
      const oldUrl = olds.connection?.url;
      const newUrl = news.connection && typeof news.connection === "object" ? news.connection.url : undefined;
      // The same host and port with TLS turned on (http -> https) is the same cluster: the key stays.
      const cluster = (url: string) =>
        url
          .replace(/^https?:\/\//i, "")
          .replace(/\/+$/, "")
          .toLowerCase();
      if (typeof oldUrl === "string" && typeof newUrl === "string" && !isUnknown(newUrl) && cluster(oldUrl) !== cluster(newUrl)) replaces.push("connection");
      // Credentials, the scheme or the CA alone: the same key, reached another way. A key near its expiry: renewed by
      // update (apiKeyProvider's comment), unless it is replaced anyway.
      const changed = replaces.length > 0 || bodyChanged || !same(olds.connection, news.connection) || renewalDue(olds, news);
      return { changes: changed, replaces };
    },
    async update(id: string, olds: ApiKeyState, news: ApiKeyState) {
      const kept: ApiKeyState = { ...news, keyId: olds.keyId, apiKey: olds.apiKey, encoded: olds.encoded };
      if (olds.expiresAt !== undefined) kept.expiresAt = olds.expiresAt;
      if (olds.previousKeyId !== undefined) kept.previousKeyId = olds.previousKeyId;
      // Metadata or role descriptors changed (diff replaces on anything else in the body).
      const inPlace = !same(olds.body, news.body);
      if (!renewalDue(olds, news)) {
        if (inPlace) {
          await updateApiKeyInPlace(news, olds.keyId ?? id, label(news.name), apiKeySecrets(olds));
          if (olds.previousKeyId) await updateApiKeyInPlace(news, olds.previousKeyId, `${label(news.name)} (previous key)`, apiKeySecrets(olds), true);
        }
        return { outs: kept };
      }
      // The new key first (made from the new body); the current one becomes the previous, left to expire on its own,
      // with the new metadata too. A key renewed before (two renewals ago) is invalidated now: at most two keys per
      // host are ever valid.
      const created = await createApiKey(news, `${label(news.name)} (renewal)`);
      if (inPlace) await updateApiKeyInPlace(news, olds.keyId ?? id, `${label(news.name)} (previous key)`, apiKeySecrets(olds), true);
      const older = olds.previousKeyId;
      if (older) await invalidateApiKeys(label(news.name), news, [older], apiKeySecrets(olds));
      const outs: ApiKeyState = { ...news, ...created, previousKeyId: olds.keyId ?? id };
      return { outs };
    },
    async delete(id: string, props: ApiKeyState) {
      const keyId = props.keyId ?? id;
      // The key a renewal left valid goes too: a removed host keeps no key.
      const ids = props.previousKeyId ? [keyId, props.previousKeyId] : [keyId];
      await invalidateApiKeys(label(props.name), props, ids, apiKeySecrets(props));
    },
  };
}

/** DELETE _security/api_key { ids }: invalidated (or already invalid or gone: no error, as Elasticsearch answers). */
async function invalidateApiKeys(label: string, props: ApiKeyState, ids: string[], keySecrets: string[]): Promise<void> {
  const what = `${label}: DELETE _security/api_key (ids [${ids.join(", ")}])`;
  const secrets = [...connectionSecrets(props.connection), ...keySecrets];
  const answer = await esCall(what, props, (client) => unless404(client.security.invalidateApiKey({ ids })), keySecrets);
  if (answer && answer.error_count > 0) {
    const cause = answer.error_details?.[0];
    throw new Error(scrub(`${what} failed: ${cause?.type ?? "error"}: ${cause?.reason ?? JSON.stringify(answer.error_details ?? [])}`, secrets));
  }
}

export const elasticsearchApiKeyProvider = apiKeyProvider();

// ---------------------------------------------------------------------------------------------
// Kibana REST (global fetch, basic auth, kbn-xsrf).

interface KibanaResponse {
  status: number;
  body: unknown;
}

function kibanaFailure(error: unknown): Failure {
  const tls = tlsFailure(error);
  if (tls) return tls;
  const err = error as { kibana?: KibanaResponse; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err && err.kibana) {
    const { status, body } = err.kibana;
    const parsed = body as { error?: string; message?: string } | string | null;
    let type: string | undefined;
    let reason: string;
    if (parsed && typeof parsed === "object") {
      type = parsed.error;
      reason = parsed.message ?? JSON.stringify(parsed);
    } else {
      reason = String(parsed ?? "");
    }
    return { status, type, reason, retryable: statusRetryable(status, type, reason) };
  }
  const code = err?.cause?.code;
  if (code) return { type: code, reason: err.cause?.message ?? err.message ?? code, retryable: RETRYABLE_CODES.includes(code) };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return { type: err.name, reason: err.message ?? "request timed out", retryable: true };
  return { type: err?.name, reason: err?.message ?? String(error), retryable: false };
}

function spacePrefix(spaceId: string | undefined): string {
  return spaceId && spaceId !== "default" ? `/s/${encodeURIComponent(spaceId)}` : "";
}

/**
 * One Kibana call with retry. Answers whose status is in `accept` are returned (e.g. 404 on read);
 * 2xx always is; anything else throws with Kibana's error and message.
 */
async function kibanaCall(
  what: string,
  state: { connection: ElasticConnection; retry?: RetryOptions },
  method: string,
  path: string,
  body: unknown,
  accept: number[] = [],
): Promise<KibanaResponse> {
  const { connection } = state;
  const url = connection.url.replace(/\/+$/, "") + path;
  // Kibana takes an Elasticsearch API key as `Authorization: ApiKey <encoded>`: its HTTP authentication
  // provider passes the header on to Elasticsearch for the schemes in `xpack.security.authc.http.schemes`,
  // `['apikey', 'bearer']` by default (elastic/kibana x-pack/platform/plugins/shared/security/server/config.ts).
  const authorization = connection.apiKey
    ? `ApiKey ${connection.apiKey}`
    : "Basic " + Buffer.from(`${connection.username ?? ""}:${connection.password ?? ""}`).toString("base64");
  return withRetry(`${what}: ${method} ${path}`, [...connectionSecrets(connection), authorization], state.retry, kibanaFailure, async () => {
    const headers: Record<string, string> = { "kbn-xsrf": "true", authorization, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const timeoutMs = settings(state.retry).requestTimeoutMs;
    const ca = await trustedCas(connection, timeoutMs);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // fetch (Node's bundled undici) takes no CA of its own without undici's Agent, which is not a dependency
    // of this project (only of @elastic/transport): with a CA the call goes through node's https module.
    const response =
      ca || connection.serverName
        ? await httpsRequest(url, { method, headers, body: payload, ca, servername: connection.serverName, timeoutMs })
        : await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs) }).then(async (answer) => ({
            status: answer.status,
            text: await answer.text(),
          }));
    const text = response.text;
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (e.g. a proxy's error page): keep the text
    }
    const result = { status: response.status, body: parsed };
    if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return result;
    throw Object.assign(new Error(`HTTP ${response.status}`), { kibana: result });
  });
}

/**
 * One https request trusting `ca` (else the system's CAs), the chain and the host name verified: the URL's
 * host, or `servername` when given (Node's https agent keeps a given `servername`, nodejs/node lib/_http_agent.js,
 * calculateServerName only when it is absent); errors shaped as fetch's (`cause.code`).
 */
function httpsRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string; ca?: string[]; servername?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require("https") as typeof import("https");
  const tls = { ...(options.ca ? { ca: options.ca } : {}), ...(options.servername ? { servername: options.servername } : {}) };
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method: options.method, headers: options.headers, ...tls, timeout: options.timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(Object.assign(new Error("request timed out"), { name: "TimeoutError" })));
    request.on("error", (error: Error & { code?: string }) =>
      reject(error.name === "TimeoutError" ? error : Object.assign(new Error(error.message), { cause: { code: error.code, message: error.message } })),
    );
    request.end(options.body);
  });
}

/*
 * What Kibana's data views API does with a data view (Kibana 9.1, elastic/kibana,
 * src/platform/plugins/shared/data_views/...):
 * - POST /api/data_views/data_view (server/rest_api_routes/public/create_data_view.ts) stores
 *   `name || title` as the name, then DataViewsService.createSavedObject
 *   (common/data_views/data_views.ts) refuses a data view whose name another one has ("Duplicate
 *   data view: <name>", via findByName on `name.keyword`, common/utils.ts) before the saved objects
 *   client refuses an existing id ("Saved object [index-pattern/<id>] conflict": the type is
 *   `namespaceType: 'multiple'`, server/saved_objects/data_views.ts, so the preflight check of
 *   core's saved-objects api-server-internal `apis/create.ts` throws createConflictError).
 *   Every such error reaches the client as **400**, never 409: the route's handleErrors
 *   (server/rest_api_routes/public/util/handle_errors.ts) maps everything but a 404 to badRequest.
 * - POST /api/data_views/data_view/<id> (update_data_view.ts) takes title, type, typeMeta,
 *   timeFieldName, sourceFilters, fieldFormats, fields, allowNoIndex, runtimeFieldMap and name in
 *   its schema (others, e.g. fieldAttrs and id, are refused with 400), but updateDataView never
 *   applies `allowNoIndex`: it is accepted and silently dropped.
 * - Reading back (get_data_view.ts, DataView(Lazy).toSpec in common/data_views/abstract_data_views.ts):
 *   `allowNoIndex` is false unless it was stored true; runtime fields keep only type, script and
 *   their subfields' types (removeFieldAttrs, common/data_views/utils.ts); of `fields` only
 *   scripted ones are stored (a non-scripted field's count and labels move to fieldAttrs), the
 *   rest comes from the indices' mappings.
 */

/** Fields the data view update API applies. `allowNoIndex` is left out on purpose (see above). */
const DATA_VIEW_UPDATABLE = ["title", "name", "timeFieldName", "sourceFilters", "fieldFormats", "runtimeFieldMap", "fields", "type", "typeMeta"];

/**
 * Fields no update can change: a change replaces the data view (delete, then create with the same
 * id). Compared in the form Kibana reads them back: an absent `allowNoIndex` is false.
 */
function dataViewFixedChanges(live: Partial<DataViewSpec> | undefined, desired: Partial<DataViewSpec> | undefined): string[] {
  const changed: string[] = [];
  if ((live?.allowNoIndex ?? false) !== (desired?.allowNoIndex ?? false)) changed.push("allowNoIndex");
  if (desired?.fieldAttrs !== undefined && !covers(live?.fieldAttrs ?? {}, desired.fieldAttrs)) changed.push("fieldAttrs");
  return changed;
}

/** The program's data view in the form Kibana returns it, for comparing with what GET answers. */
function dataViewAsKibanaReturns(spec: DataViewSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  if (spec.runtimeFieldMap) {
    const runtime: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(spec.runtimeFieldMap)) {
      const { type, script, fields } = (field ?? {}) as { type?: unknown; script?: unknown; fields?: Record<string, { type?: unknown }> };
      const subfields = fields ? Object.fromEntries(Object.entries(fields).map(([sub, value]) => [sub, { type: value?.type }])) : undefined;
      runtime[name] = { type, script, ...(subfields ? { fields: subfields } : {}) };
    }
    out.runtimeFieldMap = runtime;
  }
  return out;
}

function dataViewProvider(): dynamic.ResourceProvider {
  const label = (state: DataViewState) => `Kibana data view "${state.dataView.id}"`;
  const base = (state: DataViewState) => `${spacePrefix(state.spaceId)}/api/data_views/data_view`;
  const one = (state: DataViewState) => `${base(state)}/${encodeURIComponent(state.dataView.id)}`;
  const updateBody = (spec: DataViewSpec) => {
    const picked: Record<string, unknown> = {};
    for (const key of DATA_VIEW_UPDATABLE)
      if ((spec as unknown as Record<string, unknown>)[key] !== undefined) picked[key] = (spec as unknown as Record<string, unknown>)[key];
    return { data_view: picked };
  };
  const liveView = (response: KibanaResponse) => ((response.body as { data_view?: Partial<DataViewSpec> } | null)?.data_view ?? {}) as Partial<DataViewSpec>;
  const create = (state: DataViewState, accept: number[] = []) =>
    kibanaCall(label(state), state, "POST", base(state), { data_view: state.dataView, override: false }, accept);
  const remove = (state: DataViewState) => kibanaCall(label(state), state, "DELETE", one(state), undefined, [404]);
  /**
   * Updates the data view with this id; when a field no update applies differs on the server, deletes
   * and creates it again instead. False when no data view has the id (404).
   */
  const put = async (state: DataViewState): Promise<boolean> => {
    const updated = await kibanaCall(label(state), state, "POST", one(state), updateBody(state.dataView), [404]);
    if (updated.status === 404) return false;
    if (dataViewFixedChanges(liveView(updated), state.dataView).length > 0) {
      await remove(state);
      await create(state);
    }
    return true;
  };
  /**
   * Create, or bring the existing one to the program's spec: an idempotent upsert. Kibana answers an
   * existing id, and a name that is taken, with 400 (see above), so any 400 is followed by an update of
   * the id; only when no data view has the id does the create's own error stand.
   */
  const upsert = async (state: DataViewState) => {
    const created = await create(state, [400]);
    if (created.status !== 400) return;
    if (await put(state)) return;
    const refusal = kibanaFailure({ kibana: created });
    const hint = /duplicate data view/i.test(refusal.reason)
      ? ` (and no data view has id "${state.dataView.id}": another data view has the same name or title; delete it or choose another name)`
      : "";
    throw new Error(scrub(`${label(state)}: POST ${base(state)} failed: ${describeFailure(refusal)}${hint}`, connectionSecrets(state.connection)));
  };
  return {
    async check(_olds: DataViewState, news: DataViewState) {
      const failures = connectionFailures(news.connection);
      if (!isUnknown(news.dataView) && (!news.dataView || !news.dataView.id))
        failures.push({ property: "dataView", reason: "dataView.id is required (a fixed id)" });
      if (!isUnknown(news.dataView) && (!news.dataView || !news.dataView.title))
        failures.push({ property: "dataView", reason: "dataView.title (the index pattern) is required" });
      // Create stores an empty name as the title, update stores it empty: leave it out instead.
      if (!isUnknown(news.dataView) && news.dataView?.name === "")
        failures.push({ property: "dataView", reason: "dataView.name must not be empty (leave it out to name the data view after its title)" });
      const fields = !isUnknown(news.dataView) && news.dataView?.fields && !isUnknown(news.dataView.fields) ? news.dataView.fields : {};
      const unscripted = Object.entries(fields)
        .filter(([, field]) => !(field as { scripted?: boolean } | null)?.scripted)
        .map(([name]) => name);
      if (unscripted.length > 0) {
        failures.push({
          property: "dataView",
          reason: `dataView.fields keeps only scripted fields in Kibana (${unscripted.join(", ")} would not be stored): set labels and counts in fieldAttrs, computed fields in runtimeFieldMap`,
        });
      }
      return { inputs: news, failures };
    },
    async create(inputs: DataViewState) {
      await upsert(inputs);
      return { id: inputs.dataView.id, outs: inputs };
    },
    async read(id: string, props: DataViewState) {
      const state = { ...props, dataView: { ...props.dataView, id: props.dataView?.id ?? id } };
      const found = await kibanaCall(label(state), state, "GET", one(state), undefined, [404]);
      if (found.status === 404) return { id: "", props: {} };
      const live = liveView(found) as Record<string, unknown>;
      const desired = state.dataView as unknown as Record<string, unknown>;
      const dataView = covers(live, dataViewAsKibanaReturns(state.dataView)) ? desired : project(live, desired);
      return { id, props: { ...state, dataView } };
    },
    async diff(_id: string, olds: DataViewState, news: DataViewState) {
      const replaces: string[] = [];
      const fixed = dataViewFixedChanges(olds.dataView, news.dataView);
      if (olds.dataView?.id !== news.dataView?.id || fixed.length > 0) replaces.push("dataView");
      if ((olds.spaceId ?? "default") !== (news.spaceId ?? "default")) replaces.push("spaceId");
      const changed = replaces.length > 0 || !same(olds.dataView, news.dataView) || !same(olds.connection, news.connection);
      // Same id in the same space: the old one must go first, or the new one would be an update of it and
      // the old one's delete would then remove it.
      const sameObject = olds.dataView?.id === news.dataView?.id && (olds.spaceId ?? "default") === (news.spaceId ?? "default");
      return replaces.length > 0 && sameObject ? { changes: changed, replaces, deleteBeforeReplace: true } : { changes: changed, replaces };
    },
    async update(_id: string, _olds: DataViewState, news: DataViewState) {
      // Gone behind Pulumi's back: create it again.
      if (!(await put(news))) await upsert(news);
      return { outs: news };
    },
    async delete(id: string, props: DataViewState) {
      const state = { ...props, dataView: { ...props.dataView, id: props.dataView?.id ?? id } };
      await remove(state);
    },
  };
}

function savedObjectProvider(): dynamic.ResourceProvider {
  const label = (state: SavedObjectState) => `Kibana saved object ${state.type}/${state.objectId}`;
  const path = (state: SavedObjectState) =>
    `${spacePrefix(state.spaceId)}/api/saved_objects/${encodeURIComponent(state.type)}/${encodeURIComponent(state.objectId)}`;
  const upsert = async (state: SavedObjectState) => {
    await kibanaCall(label(state), state, "POST", `${path(state)}?overwrite=true`, { attributes: state.attributes, references: state.references ?? [] });
  };
  return {
    async check(_olds: SavedObjectState, news: SavedObjectState) {
      const failures = connectionFailures(news.connection);
      if (!news.type) failures.push({ property: "type", reason: "saved object type is required" });
      if (!news.objectId) failures.push({ property: "objectId", reason: "a fixed saved object id is required" });
      if (!isUnknown(news.attributes) && (!news.attributes || typeof news.attributes !== "object"))
        failures.push({ property: "attributes", reason: "attributes must be an object" });
      return { inputs: news, failures };
    },
    async create(inputs: SavedObjectState) {
      await upsert(inputs);
      return { id: `${inputs.type}/${inputs.objectId}`, outs: inputs };
    },
    async read(id: string, props: SavedObjectState) {
      const found = await kibanaCall(label(props), props, "GET", path(props), undefined, [404]);
      if (found.status === 404) return { id: "", props: {} };
      const live = (found.body ?? {}) as { attributes?: Record<string, unknown>; references?: SavedObjectReference[] };
      const attributes = covers(live.attributes, props.attributes) ? props.attributes : project(live.attributes ?? {}, props.attributes);
      const references = covers(live.references ?? [], props.references ?? []) ? props.references : live.references;
      return { id, props: { ...props, attributes, references } };
    },
    async diff(_id: string, olds: SavedObjectState, news: SavedObjectState) {
      const replaces: string[] = [];
      if (olds.type !== news.type) replaces.push("type");
      if (olds.objectId !== news.objectId) replaces.push("objectId");
      if ((olds.spaceId ?? "default") !== (news.spaceId ?? "default")) replaces.push("spaceId");
      const changed =
        replaces.length > 0 ||
        !same(olds.attributes, news.attributes) ||
        !same(olds.references ?? [], news.references ?? []) ||
        !same(olds.connection, news.connection);
      return { changes: changed, replaces };
    },
    async update(_id: string, _olds: SavedObjectState, news: SavedObjectState) {
      await upsert(news);
      return { outs: news };
    },
    async delete(_id: string, props: SavedObjectState) {
      await kibanaCall(label(props), props, "DELETE", path(props), undefined, [404]);
    },
  };
}

export const kibanaDataViewProvider = dataViewProvider();
export const kibanaSavedObjectProvider = savedObjectProvider();
