/**
 * The metrics room's keys for metrics that leave or live beyond this host: remote write
 * (`prometheus.remoteWrite`, secrets in `remoteWriteSecrets`), the mode (`server` or `agent`), the host
 * label, where Grafana queries when the data lives elsewhere (`prometheus.external`, secret
 * `prometheusQueryPassword`), the limits of each agent host's federation job (`prometheus.agentLimits`)
 * and, on an agent host, what the central stack issued for pulling it (secret `federation`). Their cross-field rules are here too, each
 * reading its own keys so that every problem is reported at once, even when others are invalid.
 */
import { z } from "zod";
import { ConfigIssue, fullKey, UNDECRYPTED_SECRET } from "../lib/config-keys";
import { CONTROL_CHARACTER, describeControl, duration, httpUrl, isObject, repeats } from "../lib/validators";
import type { Role } from "../config/role";

export const PROMETHEUS_MODES = ["server", "agent"] as const;
export type PrometheusMode = (typeof PROMETHEUS_MODES)[number];

/** A remote write's name: Prometheus's `name` (its metrics and logs) and the credentials file's name. */
const REMOTE_WRITE_NAME = /^[a-z][a-z0-9-]{0,47}$/;
/** An HTTP field name (RFC 9110 `token`). */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Header names that carry credentials: their values would sit in prometheus.yml in plain text. */
const SECRET_LOOKING_HEADER = /auth|token|secret|passw|api[-_]?key|cookie|session|signature|credential|bearer/i;
/**
 * Headers Prometheus sets itself and refuses in `headers` (prometheus/prometheus config/config.go,
 * `reservedHeaders` and `validateHeaders`, the same list in v2.42.0, v3.5.0 and the pinned v3.13.2).
 */
const PROMETHEUS_RESERVED_HEADERS = [
  "host",
  "content-encoding",
  "content-length",
  "content-type",
  "user-agent",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "www-authenticate",
  "accept-encoding",
  "x-prometheus-remote-write-version",
  "x-prometheus-remote-read-version",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
];
/** A host label value: a host name or address. */
const HOST_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const LOOPBACK_HOSTS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

const positiveInt = z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" });

/**
 * `queue_config` fields both Prometheus 2.42 and 3.x take (prometheus/prometheus config/config.go,
 * `QueueConfig`; 3.x adds `sample_age_limit`, which 2.42 refuses), in camelCase.
 */
const queueConfigShape = z.strictObject({
  capacity: positiveInt.optional(),
  maxShards: positiveInt.optional(),
  minShards: positiveInt.optional(),
  maxSamplesPerSend: positiveInt.optional(),
  batchSendDeadline: duration.optional(),
  minBackoff: duration.optional(),
  maxBackoff: duration.optional(),
  retryOnRateLimit: z.boolean().optional(),
});
export type QueueConfig = z.infer<typeof queueConfigShape>;

const headersShape = z.record(z.string(), z.string().min(1, { error: "must not be empty" })).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    // Go's net/http refuses CR, LF and other control characters in a header value (golang.org/x/net
    // http/httpguts ValidHeaderFieldValue); a tab it would send as is, which is never meant: refused too.
    if (CONTROL_CHARACTER.test(value))
      ctx.addIssue({ code: "custom", path: [name], message: `must not contain control characters (${describeControl(value)})` });
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "is not a valid HTTP header name" });
    else if (SECRET_LOOKING_HEADER.test(name)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message:
          "looks like a credential: header values sit in prometheus.yml in plain text. Give the password or token in " +
          "remoteWriteSecrets.<name> instead (sent as basic auth with basicAuthUser, else as a Bearer token)",
      });
    } else if (PROMETHEUS_RESERVED_HEADERS.includes(name.toLowerCase())) {
      ctx.addIssue({ code: "custom", path: [name], message: "is set by Prometheus itself, which refuses it in remote write headers" });
    }
  }
});

const userName = z
  .string()
  .min(1, { error: "must not be empty" })
  .regex(/^[^\s:]+$/, { error: "must not contain whitespace or ':'" });

export const remoteWriteShape = z.strictObject({
  name: z.string().regex(REMOTE_WRITE_NAME, { error: "must be lowercase letters, digits and dashes, start with a letter, at most 48 characters" }),
  url: httpUrl,
  /** With it, the secret `remoteWriteSecrets.<name>` is the basic auth password; without it, a Bearer token (if given). */
  basicAuthUser: userName.optional(),
  headers: headersShape.optional(),
  queueConfig: queueConfigShape.optional(),
});
export type RemoteWriteEntry = z.infer<typeof remoteWriteShape>;

const externalShape = z.strictObject({
  /** Prometheus-compatible query endpoint (Mimir, Thanos, VictoriaMetrics, Grafana Cloud, a central Prometheus). */
  queryUrl: httpUrl,
  basicAuthUser: userName.optional(),
});

/**
 * A central stack's limits on each agent host's federation job (prometheus-config.ts agentFederationJob).
 * Sized from what a real agent sends: an agent host's /federate with its Prometheus and node-exporter
 * (test/real-tools/agent-federation.test.ts measures it) is ~1,000 series and well under 1 MB; cAdvisor
 * and a dozen services add a few thousand. 20,000 samples leaves 5-10x room, yet caps what one agent can
 * add per scrape (Prometheus has no cap on series added over time: alert AgentSeriesChurn) at 20,000 new
 * series, 2.5x less than before. The label limits bound the memory of each new series, which grows with its
 * labels' bytes: measured with Prometheus 2.42, a series of 36 labels of 250-byte values holds ~22 KB of RSS
 * (a bare one ~1.3 KB; ~4-6 KB at 25 x 128), so at the former 40 x 256 one agent under AgentSeriesChurn's count could still fill a
 * 4 GB central. 25 labels of at most 128 bytes keep twice the room a real agent needs (the federation test
 * measures its Prometheus and node-exporter at 12 labels, values up to 71 bytes, host/job/instance included)
 * and cut the worst series to about a third. 16MB holds 20,000 federated samples (~100-300 bytes each in the
 * text format) with room.
 */
export const AGENT_LIMIT_DEFAULTS = {
  sampleLimit: 20000,
  labelLimit: 25,
  labelNameLengthLimit: 128,
  labelValueLengthLimit: 128,
  bodySizeLimit: "16MB",
};
const agentLimitsShape = z.strictObject({
  sampleLimit: positiveInt.optional(),
  labelLimit: positiveInt.optional(),
  labelNameLengthLimit: positiveInt.optional(),
  labelValueLengthLimit: positiveInt.optional(),
  /** Prometheus units (config/config.go `BodySizeLimit` is a units.Base2Bytes: KB, MB, GB). */
  bodySizeLimit: z
    .string()
    .regex(/^\d+(B|KB|MB|GB)$/, { error: "must be a size such as 16MB or 1GB" })
    .optional(),
});

const RECEIVER_REMOVED =
  "was removed with the remote-write receiver and its shared login: the central stack now pulls each agent host's /federate over TLS, " +
  "with a password and certificate per host (list the hosts in agents[] on the central stack; each agent takes its entry of the output agentFederation; docs/add-a-host.md). Remove it";
/** Keys that were removed, with what replaced them: the config errors name it instead of "unknown key" (config/resolve.ts). */
export const REMOVED_PROMETHEUS_KEYS: Record<string, string> = {
  "prometheus.remoteWriteReceiver": RECEIVER_REMOVED,
  "prometheus.receiverPublicUrl": RECEIVER_REMOVED,
};

/** The keys this file adds under `prometheus`. */
export const REMOTE_PROMETHEUS_FIELDS = {
  mode: z.enum(PROMETHEUS_MODES, { error: `must be one of ${PROMETHEUS_MODES.join(", ")}` }).optional(),
  // Duplicate names are a cross-field rule below, so they are reported even when an entry is invalid.
  remoteWrite: z.array(remoteWriteShape).optional(),
  agentLimits: agentLimitsShape.optional(),
  hostLabel: z.string().regex(HOST_LABEL, { error: "must be a host name or address (letters, digits, '.', '-', '_')" }).optional(),
  external: externalShape.optional(),
};

const secretValue = z.string().min(1, { error: "must not be empty" });
/** The top-level secret keys: each remote write's password or token by name, and the query URL's password. */
export const REMOTE_SECRET_SHAPE = {
  remoteWriteSecrets: z.record(z.string(), secretValue).optional(),
  prometheusQueryPassword: secretValue.optional(),
  /**
   * An agent host pulled by the central stack: its entry of the central output agentFederation, as JSON
   * (`{ password, passwordHash, certificate, key }`). Checked by federationProblems.
   */
  federation: secretValue.optional(),
};

/** What an agent host takes from the central output agentFederation[host]. */
export interface FederationSecret {
  /** The central's password for this host (kept for people checking by hand; the agent uses the hash). */
  password: string;
  /** Its bcrypt hash, made once by the central stack (@pulumi/random), which the agent's web config holds. */
  passwordHash: string;
  /** The server certificate for this host, leaf then the issuing CA (PEM). */
  certificate: string;
  /** Its key (PEM). */
  key: string;
}

/** The parsed `federation` secret, or what is wrong with it (its content never in the message). */
export function parseFederation(value: string): { federation?: FederationSecret; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { problem: "must be the JSON of the central stack's output agentFederation for this host (it is not JSON)" };
  }
  if (!isObject(parsed)) return { problem: "must be the JSON object of the central stack's output agentFederation for this host" };
  const missing = ["password", "passwordHash", "certificate", "key"].filter((field) => typeof parsed[field] !== "string" || parsed[field] === "");
  if (missing.length > 0) return { problem: `lacks ${missing.join(", ")}: give the whole entry of the central output agentFederation for this host` };
  const federation = parsed as unknown as FederationSecret;
  // exporter-toolkit web/handler.go validateUsers / bcrypt.CompareHashAndPassword take $2a$, $2b$, $2y$ hashes.
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(federation.passwordHash)) return { problem: "has a passwordHash that is not a bcrypt hash" };
  if (!/-----BEGIN CERTIFICATE-----/.test(federation.certificate)) return { problem: "has a certificate that is not PEM" };
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(federation.key)) return { problem: "has a key that is not a PEM private key" };
  return { federation };
}

/** How a remote write authenticates, decided by what is configured (never the secret itself). */
export type RemoteWriteCredentials = "basic" | "bearer" | "none";

export interface RemoteWriteConfig {
  name: string;
  url: string;
  basicAuthUser?: string;
  headers: Record<string, string>;
  queueConfig?: QueueConfig;
  credentials: RemoteWriteCredentials;
}

export interface RemoteMetricsSettings {
  mode: PrometheusMode;
  remoteWrite: RemoteWriteConfig[];
  /** An agent host pulled by the central stack (the `federation` secret given): server mode, TLS and a login. */
  federated: boolean;
  /** A central stack's limits on each agent host's federation job. */
  agentLimits: typeof AGENT_LIMIT_DEFAULTS;
  /** The `host` label of every series this Prometheus scrapes: `prometheus.hostLabel`, else publicHostname. */
  hostLabel: string;
  /** Where Grafana queries instead of this stack's Prometheus. */
  external?: { queryUrl: string; basicAuthUser?: string };
}

type RawRemote = Partial<{ [K in keyof typeof REMOTE_PROMETHEUS_FIELDS]: z.infer<(typeof REMOTE_PROMETHEUS_FIELDS)[K]> }>;

export function resolveRemoteSettings(
  prometheus: RawRemote | undefined,
  secrets: { remoteWriteSecrets?: Record<string, string>; federation?: string },
  publicHostname: string,
): RemoteMetricsSettings {
  const remoteWrite = (prometheus?.remoteWrite ?? []).map((entry): RemoteWriteConfig => ({
    name: entry.name,
    url: entry.url,
    ...(entry.basicAuthUser !== undefined ? { basicAuthUser: entry.basicAuthUser } : {}),
    headers: entry.headers ?? {},
    ...(entry.queueConfig !== undefined ? { queueConfig: entry.queueConfig } : {}),
    credentials: secrets.remoteWriteSecrets?.[entry.name] === undefined ? "none" : entry.basicAuthUser !== undefined ? "basic" : "bearer",
  }));
  return {
    mode: prometheus?.mode ?? "server",
    remoteWrite,
    federated: secrets.federation !== undefined,
    agentLimits: { ...AGENT_LIMIT_DEFAULTS, ...prometheus?.agentLimits },
    hostLabel: prometheus?.hostLabel ?? publicHostname,
    ...(prometheus?.external ? { external: prometheus.external } : {}),
  };
}

/** `http://` to a host other than loopback: anything sent there crosses the network readable. */
function plainHttpToRemoteHost(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" && !LOOPBACK_HOSTS.test(parsed.hostname) ? parsed.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** The publicHostname the core resolver will pick (resolve.ts): as given, else a specific bindAddress, else localhost. */
function effectivePublicHostname(values: Record<string, unknown>): string {
  if (typeof values.publicHostname === "string") return values.publicHostname;
  const bind = values.bindAddress;
  return typeof bind === "string" && bind !== "127.0.0.1" && bind !== "0.0.0.0" ? bind : "localhost";
}

/** Every problem of the remote keys, each at its own key. An agent host (`role: agent`) runs Prometheus in agent mode. */
export function remoteIssues(values: Record<string, unknown>, role: Role = "central"): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const key = (...path: PropertyKey[]) => fullKey(path);
  const prometheus = isObject(values.prometheus) ? values.prometheus : {};
  const field = <T extends z.ZodType>(schema: T, value: unknown): z.infer<T> | undefined => {
    const parsed = schema.safeParse(value);
    return parsed.success ? (parsed.data as z.infer<T>) : undefined;
  };

  const rawEntries = Array.isArray(prometheus.remoteWrite) ? (prometheus.remoteWrite as unknown[]) : [];
  const rawNames = rawEntries.map((entry) => (isObject(entry) ? entry.name : undefined));
  for (const { value, index, first } of repeats(rawNames)) {
    if (typeof value === "string") {
      issues.push({ key: key("prometheus", "remoteWrite", index, "name"), message: `duplicate remote write "${value}" (also remoteWrite[${first}])` });
    }
  }

  const secrets = field(REMOTE_SECRET_SHAPE.remoteWriteSecrets, values.remoteWriteSecrets) ?? {};
  rawEntries.forEach((raw, index) => {
    const entry = field(remoteWriteShape, raw);
    if (!entry) return;
    const secret = secrets[entry.name];
    if (entry.basicAuthUser !== undefined && secret === undefined) {
      issues.push({
        key: key("prometheus", "remoteWrite", index, "basicAuthUser"),
        message: `remote write "${entry.name}" needs its password: pulumi config set --secret --path 'remoteWriteSecrets.${entry.name}' <password>`,
      });
    }
    const host = plainHttpToRemoteHost(entry.url);
    if (host && (secret !== undefined || entry.basicAuthUser !== undefined)) {
      issues.push({
        key: key("prometheus", "remoteWrite", index, "url"),
        message: `would send credentials over plain http to ${host}, readable on the way: use https (plain http only to a loopback address)`,
      });
    }
  });
  // Every entry that names itself is configured, valid or not (an invalid one's problems are reported by the schema).
  const entryNames = [...new Set(rawNames.filter((name): name is string => typeof name === "string"))];
  for (const [name, secret] of Object.entries(secrets)) {
    if (!rawNames.includes(name)) {
      issues.push({
        key: key("remoteWriteSecrets", name),
        message: `no remote write named "${name}" (configured: ${entryNames.length > 0 ? entryNames.join(", ") : "none"}); remove it or add prometheus.remoteWrite with that name`,
      });
    } else if (secret !== UNDECRYPTED_SECRET && secret !== secret.trim()) {
      // Prometheus trims the file it reads (prometheus/common config/http_config.go: FileSecret.Fetch in
      // current versions, the basic-auth and credentials-file round trippers in v0.39 used by 2.42).
      issues.push({ key: key("remoteWriteSecrets", name), message: "must not start or end with whitespace: Prometheus trims the credentials file it reads" });
    }
  }

  const external = field(externalShape, prometheus.external);
  const password = values.prometheusQueryPassword;
  if (external?.basicAuthUser !== undefined && password === undefined) {
    issues.push({
      key: key("prometheus", "external", "basicAuthUser"),
      message: "needs its password: pulumi config set --secret prometheusQueryPassword <password>",
    });
  }
  if (password !== undefined && prometheus.external !== undefined && external && external.basicAuthUser === undefined) {
    issues.push({ key: key("prometheusQueryPassword"), message: "is used only with prometheus.external.basicAuthUser: set that user, or remove the password" });
  }
  if (password !== undefined && prometheus.external === undefined) {
    issues.push({
      key: key("prometheusQueryPassword"),
      message: "is used only with prometheus.external.queryUrl and basicAuthUser: set them, or remove the password",
    });
  }
  const queryHost = external && plainHttpToRemoteHost(external.queryUrl);
  if (queryHost && (password !== undefined || external?.basicAuthUser !== undefined)) {
    issues.push({
      key: key("prometheus", "external", "queryUrl"),
      message: `would send Grafana's credentials over plain http to ${queryHost}, readable on the way: use https (plain http only to a loopback address)`,
    });
  }

  const federationValue = values.federation;
  if (role === "central" && federationValue !== undefined)
    issues.push({ key: key("federation"), message: "is an agent host's (its entry of the central output agentFederation): remove it from a central stack" });
  if (role === "agent" && typeof federationValue === "string" && federationValue !== UNDECRYPTED_SECRET) {
    const { problem } = parseFederation(federationValue);
    if (problem) issues.push({ key: key("federation"), message: problem });
  }
  // An agent Prometheus published beyond loopback is always behind login and TLS (web-config.ts requiredLogins).
  const bind = typeof values.bindAddress === "string" ? values.bindAddress : "127.0.0.1";
  if (role === "agent" && federationValue === undefined && !bind.startsWith("127."))
    issues.push({
      key: key("federation"),
      message: `is required with bindAddress ${bind}: this host's Prometheus would be published without login or TLS. List the host in the central stack's agents[], deploy it, then: pulumi stack output --stack <central> --show-secrets agentFederation | jq '.["<host>"]' | pulumi config set --secret federation (or bind to 127.0.0.1)`,
    });
  // The central sets each agent's host label; one equal to the central's own would let that agent's series pass
  // as the central host's (agents/config.ts refuses the central publicHostname; this is the label itself).
  if (role === "central" && typeof prometheus.hostLabel === "string" && Array.isArray(values.agents))
    values.agents.forEach((agent, index) => {
      if (isObject(agent) && typeof agent.host === "string" && agent.host.toLowerCase() === String(prometheus.hostLabel).toLowerCase())
        issues.push({
          key: key("agents", index, "host"),
          message:
            "is this central stack's own host label (prometheus.hostLabel): an agent's series would pass as the central host's. Give the agent a host name of its own",
        });
    });
  if (role === "central" && prometheus.agentLimits !== undefined && !(Array.isArray(values.agents) && values.agents.length > 0))
    issues.push({
      key: key("prometheus", "agentLimits"),
      message: "limits the agent hosts' federation jobs, and agents[] lists none: remove it, or list the agent hosts",
    });
  if (role === "agent" && prometheus.agentLimits !== undefined)
    issues.push({
      key: key("prometheus", "agentLimits"),
      message: "limits what the central stack pulls from agent hosts: set it on the central stack (role: agent)",
    });
  // An agent host runs agent mode, or server mode with a short retention when the central stack pulls it (config.ts).
  const mode = field(REMOTE_PROMETHEUS_FIELDS.mode, prometheus.mode) ?? (role === "agent" && federationValue === undefined ? "agent" : "server");
  if (mode === "agent") {
    if (rawEntries.length === 0) {
      issues.push({
        key: key("prometheus", "remoteWrite"),
        message: "agent mode stores nothing to query and sends everything it scrapes by remote write: configure at least one remote write",
      });
    }
    // An agent host configures no Grafana, so nothing there queries (role.ts refuses prometheus.external).
    if (prometheus.external === undefined && role === "central") {
      issues.push({
        key: key("prometheus", "external", "queryUrl"),
        message:
          "agent mode has no query API: Grafana's dashboards and alert rules need the query URL of the backend the agent writes to " +
          "(prometheus.external.queryUrl)",
      });
    }
    for (const retention of ["retentionTime", "retentionSize"]) {
      if (prometheus[retention] !== undefined) {
        issues.push({
          key: key("prometheus", retention),
          message: "does not apply in agent mode (no TSDB: the agent keeps only its write-ahead log until sent); remove it",
        });
      }
    }
    if (prometheus.evaluationInterval !== undefined) {
      issues.push({
        key: key("prometheus", "evaluationInterval"),
        message: "does not apply in agent mode, which evaluates no rules (the alert rules evaluate in Grafana against prometheus.external.queryUrl); remove it",
      });
    }
  }

  // The host label defaults to publicHostname, whose own form is looser (a leading '-', any length).
  const defaultHost = effectivePublicHostname(values);
  if (prometheus.hostLabel === undefined && typeof values.publicHostname === "string" && !HOST_LABEL.test(defaultHost))
    issues.push({
      key: key("publicHostname"),
      message:
        "is also the host label of every series and log line (prometheus.hostLabel unset), which must start with a letter or digit and have at most 253 characters: change it, or set prometheus.hostLabel",
    });
  if (rawEntries.length > 0 && prometheus.hostLabel === undefined) {
    const host = effectivePublicHostname(values);
    if (LOOPBACK_HOSTS.test(host) || host === "::1") {
      issues.push({
        key: key("prometheus", "hostLabel"),
        message: `remote-written series carry a host label that must tell this host from the others writing to the same backend; publicHostname is "${host}": set prometheus.hostLabel (or publicHostname)`,
      });
    }
  }
  return issues;
}
