/**
 * The HTTP client the checks use: Node's fetch with a per-request timeout, credentials only in the
 * Authorization header (never in a URL, so no error message carries them), and network failures
 * turned into a sentence that says why there is no answer (refused, no such host, timed out).
 */
export interface Endpoint {
  /** Base URL without credentials, e.g. http://localhost:9090. */
  url: string;
  username?: string;
  password?: string;
  /** Elasticsearch API key (base64 of id:key), sent as `ApiKey <value>`. */
  apiKey?: string;
  /** A Grafana service account token, sent as `Bearer <value>`. */
  bearer?: string;
  /** Where the credentials came from, for a refusal's message (e.g. "the grafanaAdminUser/grafanaAdminPassword outputs"). */
  credentials?: string;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

export class NoAnswer extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`no answer from ${url}: ${reason}`);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function authorization(endpoint: Endpoint): string | undefined {
  if (endpoint.apiKey) return `ApiKey ${endpoint.apiKey}`;
  if (endpoint.bearer) return `Bearer ${endpoint.bearer}`;
  if (endpoint.username !== undefined && endpoint.password !== undefined)
    return `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`).toString("base64")}`;
  return undefined;
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

/** One request; an HTTP error status is an answer (the caller judges it), no answer is a NoAnswer. */
export async function request(endpoint: Endpoint, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const url = joinUrl(endpoint.url, path);
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  const auth = authorization(endpoint);
  if (auth) headers.authorization = auth;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new NoAnswer(url, networkReason(error, options.timeoutMs ?? 10_000));
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (Kibana's not-ready text, a proxy's HTML page): keep the text.
  }
  return { status: response.status, body, text };
}

/** Why fetch got no answer, in words: undici puts the system error in `cause` (code ECONNREFUSED, ENOTFOUND, ...). */
export function networkReason(error: unknown, timeoutMs: number): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure.name === "TimeoutError" || failure.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  const code = failure.cause?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens there: the container is down, or the port is not published on this machine)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "no such host from this machine (no network path: run verify where the stack's URLs resolve)";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable (no network path from this machine)";
    // Node's TLS verification codes (node:tls, OpenSSL X509_V_ERR_* names): the stack's own CA is not in
    // Node's trust store. Node reads extra roots from NODE_EXTRA_CA_CERTS at start (nodejs.org/api/cli.html).
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return `the TLS certificate is not trusted here (${code}): run verify with NODE_EXTRA_CA_CERTS=<the stack's CA .pem>`;
    case "CERT_HAS_EXPIRED":
      return "the TLS certificate has expired (CERT_HAS_EXPIRED): renew it";
    case "ECONNRESET":
      return "connection reset (TLS spoken to a plain HTTP port, or the other way round?)";
    default:
      return failure.cause?.message ?? failure.message ?? String(error);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
