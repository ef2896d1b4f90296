/**
 * How the Elasticsearch and Kibana dynamic providers reach their server, and how long they keep
 * trying while it starts. Types only, plus the helper the resource classes use to keep the
 * connection secret; the providers themselves live in provider-runtime.ts.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * Where and as whom to call Elasticsearch or Kibana: basic auth (`username`, `password`) or an
 * encoded API key (`apiKey`, sent as `Authorization: ApiKey <encoded>`), and for https with a
 * private CA the CA certificate (PEM) and/or the SHA-256 fingerprint of a CA the server presents in
 * its chain. TLS verification is never turned off.
 */
export interface ElasticConnection {
  /** Base URL, e.g. `http://atra-obs-dev-elasticsearch:9200` or `https://my-deployment.es.eu-west-1.aws.elastic.cloud`. */
  url: string;
  username?: string;
  password?: string;
  /** The encoded API key (base64 of `id:api_key`, the create API key API's `encoded`). */
  apiKey?: string;
  /** PEM: trusted besides the system's CAs. */
  caCertificate?: string;
  /** 64 hex digits: the CA with this SHA-256 fingerprint in the server's chain is trusted too. */
  caFingerprint?: string;
  /**
   * The name the server's certificate is checked against (and sent as SNI) instead of the URL's host:
   * the stack's own servers reached at a loopback address or through a tunnel, whose certificate names
   * `publicHostname` (components/tls/pki.ts, `serverName`). Verification itself stays on.
   */
  serverName?: string;
}

export interface ElasticConnectionArgs {
  url: pulumi.Input<string>;
  username?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  apiKey?: pulumi.Input<string>;
  caCertificate?: pulumi.Input<string>;
  caFingerprint?: pulumi.Input<string>;
  serverName?: pulumi.Input<string>;
}

/**
 * Bounded exponential backoff for calls that fail while the server starts (502/503/504/429,
 * Elasticsearch's security-index/cluster-not-ready errors, connection refused or reset).
 * Defaults: first wait 1 s, doubling up to 15 s, giving up once 120 s have passed; 30 s per request.
 */
export interface RetryOptions {
  maxElapsedMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  requestTimeoutMs?: number;
}

/**
 * The connection as one secret input: the engine stores it encrypted in state, and the resource
 * classes also list `connection` in `additionalSecretOutputs` so the stored outputs are secret too.
 */
export function secretConnection(connection: pulumi.Input<ElasticConnectionArgs>): pulumi.Output<ElasticConnection> {
  return pulumi.secret(pulumi.output(connection) as pulumi.Output<ElasticConnection>);
}

/** Resource options with extra outputs marked secret (kept alongside any the caller gave). */
export function withSecretOutputs(opts: pulumi.CustomResourceOptions | undefined, names: string[]): pulumi.CustomResourceOptions {
  const given = opts?.additionalSecretOutputs ?? [];
  return { ...opts, additionalSecretOutputs: [...new Set([...given, ...names])] };
}
