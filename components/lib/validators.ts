/**
 * Rules several features validate, once each: Prometheus durations and what Grafana's evaluation tick
 * allows, http(s) URLs for rendered (non-secret) files, ports, IPv4 addresses, label names. Each has a
 * plain form (a problem message or undefined) for code that walks raw input, and a zod form for the
 * config slices. The serialized Elasticsearch providers keep their own copies (they must be
 * self-contained); a test proves those agree with these.
 */
import { z } from "zod";

/** Prometheus duration syntax (`30s`, `1h30m`, `15d`, `2w`); the empty string is not a duration. */
const PROMETHEUS_DURATION = /^(?!$)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
const DURATION_UNIT_MS: Record<string, number> = { y: 31_536_000_000, w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function isPrometheusDuration(value: string): boolean {
  return PROMETHEUS_DURATION.test(value);
}

/** Milliseconds in a Prometheus duration (the caller has checked its syntax). */
export function durationMs(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += Number(amount) * DURATION_UNIT_MS[unit];
  return total;
}

/**
 * The longest duration every consumer of our Prometheus-syntax durations can hold: 2^63-1 nanoseconds
 * (about 292 years), Go's time.Duration. prometheus/common model/time.go ParseDuration refuses more
 * with "duration out of range" (per unit `v > 1<<63/unit.mult`, then the sum `dur > 1<<63-1`); it is
 * what Prometheus reads its config and flags with (scrape_interval, evaluation_interval, PromQL ranges,
 * --storage.tsdb.retention.time) and what the Alertmanager routes of Grafana hold (prometheus/alertmanager
 * config/config.go Route: GroupWait, GroupInterval, RepeatInterval are *model.Duration).
 */
export const MAX_DURATION_NS = (1n << 63n) - 1n;
const DURATION_UNIT_NS: Record<string, bigint> = Object.fromEntries(
  Object.entries(DURATION_UNIT_MS).map(([unit, ms]) => [unit, BigInt(ms) * 1_000_000n]),
) as Record<string, bigint>;

/** Nanoseconds in a Prometheus duration (syntax checked by the caller), exact: no float rounding for huge values. */
export function durationNs(value: string): bigint {
  let total = 0n;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) total += BigInt(amount) * DURATION_UNIT_NS[unit];
  return total;
}

/**
 * Prometheus silently swaps a zero duration for its own default (1m scrapes, 15d retention): refused
 * everywhere. Above MAX_DURATION_NS Prometheus refuses to start and Grafana to store the policy.
 */
export function durationProblem(value: string): string | undefined {
  if (!isPrometheusDuration(value)) return "must be a Prometheus duration such as 15s, 1m, 12h, 15d";
  const ns = durationNs(value);
  if (ns === 0n) return "must be longer than zero";
  if (ns > MAX_DURATION_NS) return `${value} is out of range: at most 292y (2^63-1 ns, Go's time.Duration, which Prometheus and Grafana parse durations into)`;
  return undefined;
}

/** A rule group's evaluation interval: Grafana evaluates rules on a 10 s tick, so a non-zero multiple of 10s. */
export function evaluationIntervalProblem(value: string): string | undefined {
  const problem = durationProblem(value);
  if (problem) return problem;
  return durationMs(value) % 10_000 === 0 ? undefined : `${value} is not a multiple of 10s; Grafana evaluates rules on a 10s tick`;
}

/** `[address]:port` as written in a URL (`http://host:70000/x` gives 70000); the WHATWG parser only says "Invalid URL" above 65535. */
const EXPLICIT_PORT = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?=[/?#]|$)/;
const SECRET_LOOKING_PARAM = /token|secret|passw|api[-_]?key|^key$|auth|signature/i;

export function portProblem(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port ${port} is out of range: a port must be 1-65535`;
}

/**
 * An http(s) URL with a host, no credentials, no fragment and no secret-looking query parameter: what
 * may appear in a rendered file (prometheus.yml, filebeat.yml), which is not secret. Every problem, in order.
 */
export function httpUrlProblems(value: string): string[] {
  // The parser would trim it, but the raw value is what a provider joins an API path to.
  if (value !== value.trim()) return ["must not have leading or trailing whitespace"];
  // The WHATWG parser (new URL) drops tabs and newlines anywhere without a word, so the URL checked would
  // not be the text rendered; Go's net/url (Prometheus, Grafana, Filebeat) refuses them: url.Parse fails
  // with "invalid control character in URL" (golang/go src/net/url/url.go, stringContainsCTLByte).
  if (CONTROL_CHARACTER.test(value)) return [`must not contain control characters (${describeControl(value)})`];
  const port = EXPLICIT_PORT.exec(value)?.[1];
  if (port !== undefined && portProblem(Number(port))) return [portProblem(Number(port)) as string];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return ["must be an absolute http:// or https:// URL"];
  }
  const problems: string[] = [];
  if (url.protocol !== "http:" && url.protocol !== "https:") problems.push(`must use http or https, not ${url.protocol.replace(":", "")}`);
  if (url.username || url.password) problems.push("must not carry credentials (they would land in prometheus.yml in plain text)");
  if (url.hash) problems.push("must not have a #fragment");
  const secretParams = [...url.searchParams.keys()].filter((name) => SECRET_LOOKING_PARAM.test(name));
  if (secretParams.length > 0) {
    problems.push(`must not carry secrets in query parameters (${secretParams.join(", ")}): they would land in prometheus.yml in plain text`);
  }
  return problems;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Names the first control character of a value for a message, without echoing the value. */
export function describeControl(value: string): string {
  const found = CONTROL_CHARACTER.exec(value)?.[0];
  const names: Record<string, string> = { "\t": "a tab", "\n": "a newline", "\r": "a carriage return" };
  return found === undefined ? "none" : (names[found] ?? `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

/** A Prometheus label name (also what Grafana's policy matchers and group_by take). */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Every repeat in a list: where it is, and where the value first appeared. */
export function repeats<T>(values: readonly T[]): { value: T; index: number; first: number }[] {
  const first = new Map<T, number>();
  const found: { value: T; index: number; first: number }[] = [];
  values.forEach((value, index) => {
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, index);
    else found.push({ value, index, first: earlier });
  });
  return found;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// --- zod forms, for the config slices --------------------------------------------------------

/** A zod string checked by a problem function (one message, or none). */
export function checkedString(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: "custom", message });
  });
}

export const duration = checkedString(durationProblem);
export const evaluationInterval = checkedString(evaluationIntervalProblem);
export const httpUrl = z.string().superRefine((value, ctx) => {
  for (const message of httpUrlProblems(value)) ctx.addIssue({ code: "custom", message });
});
export const port = z.int({ error: "must be a whole number" }).min(1, { error: "port must be 1-65535" }).max(65535, { error: "port must be 1-65535" });
export const ipv4 = z.string().regex(IPV4, { error: "must be an IPv4 address such as 127.0.0.1 or 0.0.0.0" });
export const labelName = z.string().regex(LABEL_NAME, { error: "must be a label name (letters, digits, _; not starting with a digit)" });

// --- external backends (an existing Grafana, an Elastic cluster) --------------------------------

/** True when the URL's host is a loopback address or `localhost` (the URL is valid). */
export function isLoopbackUrl(value: string): boolean {
  try {
    const host = new URL(value).hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return host === "localhost" || host.endsWith(".localhost") || /^127\./.test(host) || host === "::1";
  } catch {
    return false;
  }
}

/**
 * An external backend's URL that credentials are sent to: plain http is accepted only to a loopback
 * address (the local end of a tunnel); anywhere else the token, key or password would cross the
 * network in clear text.
 */
export function credentialUrlProblem(value: string): string | undefined {
  if (httpUrlProblems(value).length > 0) return undefined; // reported by the URL check itself
  if (new URL(value).protocol === "http:" && !isLoopbackUrl(value))
    return "must use https: credentials are sent to it, and plain http would carry them in clear text (http:// is accepted only to a loopback address, e.g. an SSH tunnel)";
  return undefined;
}

/** A SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` or Elasticsearch prints it: 64 hex digits, colons allowed. */
export function sha256FingerprintProblem(value: string): string | undefined {
  return /^[0-9a-fA-F]{64}$/.test(value.replace(/:/g, "")) && (!value.includes(":") || /^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/.test(value))
    ? undefined
    : "must be a SHA-256 fingerprint: 64 hex digits, optionally in pairs separated by colons";
}

/** The fingerprint in the form Beats takes (`ssl.ca_trusted_fingerprint`): lower-case hex, no colons. */
export function canonicalFingerprint(value: string): string {
  return value.replace(/:/g, "").toLowerCase();
}

/** One or more PEM certificates, and nothing else (a private key pasted by mistake is refused). */
export function pemCertificateProblem(value: string): string | undefined {
  if (/PRIVATE KEY-----/.test(value)) return "holds a private key: give only the CA certificate (PEM), never a key";
  const blocks = value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";
  const rest = blocks.reduce((text, block) => text.replace(block, ""), value).trim();
  return rest === "" ? undefined : "must hold only PEM certificates (found text outside the -----BEGIN/END CERTIFICATE----- blocks)";
}

/** Keys someone might try, to turn TLS verification off; refused with the reason instead of "unknown key". */
export const TLS_VERIFICATION_OFF_KEYS = [
  "verifyTls",
  "tlsVerify",
  "verifyCertificate",
  "verifyCertificates",
  "sslVerify",
  "sslVerificationMode",
  "verificationMode",
  "insecure",
  "insecureSkipVerify",
  "skipTlsVerify",
  "tlsSkipVerify",
  "rejectUnauthorized",
] as const;

/** Zod shape entries for TLS_VERIFICATION_OFF_KEYS: any value is refused with `message` (the caller names what to set instead). */
export function refusedTlsOffKeys(message: string) {
  return Object.fromEntries(TLS_VERIFICATION_OFF_KEYS.map((key) => [key, z.never({ error: message }).optional()])) as Record<
    (typeof TLS_VERIFICATION_OFF_KEYS)[number],
    z.ZodOptional<z.ZodNever>
  >;
}

export const pemCertificate = checkedString(pemCertificateProblem);
export const sha256Fingerprint = checkedString(sha256FingerprintProblem);
