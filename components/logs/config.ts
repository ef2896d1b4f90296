/**
 * The logs room's config slice: the data stream and its lifecycle, Elasticsearch's heap, the log
 * alerts' thresholds, where `pulumi up` reaches Elasticsearch and Kibana, the administrator's
 * password, and the catalog fields it ships (`logs`, `maxLogSilence`).
 */
import { z } from "zod";
import { MIN_MEMORY_MB } from "../config/container-memory";
import type { PerEnvironment } from "../config/environments";
import { roleOf } from "../config/role";
import { defineSlice, switchedOff, withoutTrailingSlash } from "../config/slice";
import { isRemoteDockerHost } from "../docker/config";
import { PROVIDER_URL_NEEDED_WITH_A_REMOTE_HOST } from "../grafana/config";
import { ConfigIssue, fullKey, UNDECRYPTED_SECRET } from "../lib/config-keys";
import {
  canonicalFingerprint,
  checkedString,
  credentialUrlProblem,
  duration,
  httpUrl,
  isLoopbackUrl,
  isObject,
  pemCertificate,
  refusedTlsOffKeys,
  sha256Fingerprint,
} from "../lib/validators";
import { defaultDataStream, isEsByteSize, isEsDuration, validateDataStreamName } from "./elastic-bodies";
import { logGlobIssues } from "./filebeat-config";
import { ELASTICSEARCH_SERVICE } from "./services";
import { DEFAULT_REQUEST_KEYS, DURATION_UNITS, MAX_KEY_DEPTH, STRUCTLOG_KEY } from "./request-fields";
import { globsOverlap, hasWildcard, literalPrefix, minimumSegmentBytes } from "../lib/glob-overlap";
import { defaultTlsMode, httpsWhen } from "../tls/config";

/** How long log lines are kept (ILM delete phase), in Elasticsearch time units, by environment. */
const RETENTION: PerEnvironment<string> = { dev: "7d", staging: "15d", prod: "30d" };

const DEFAULTS = {
  rolloverMaxAge: "1d",
  rolloverMaxPrimaryShardSize: "10gb",
  errorRateThreshold: 10,
  errorRateWindow: "5m",
  /** An agent key's life: long enough that rotation is a quarterly chore, short enough that a leaked key dies. */
  agentKeyExpiration: "90d",
  /** The smallest heap Elasticsearch is given by default. */
  minHeapMb: 256,
  /** The share of its container the heap may take at most (the rest: file cache, off-heap, the JVM itself). */
  maxHeapShare: 0.75,
};

export interface LogsConfig {
  enabled: boolean;
  dataStream: string;
  /** ILM: delete after (Elasticsearch time units). */
  retention: string;
  rolloverMaxAge: string;
  rolloverMaxPrimaryShardSize: string;
  elasticsearchHeapMb: number;
  errorRateThreshold: number;
  errorRateWindow: string;
  /** `https://` when the stack's own Elasticsearch and Kibana serve TLS (`tls.mode` not off; tls/config.ts httpsWhen). */
  kibanaPublicUrl: string;
  elasticsearchPublicUrl: string;
  /**
   * Where the Elasticsearch and Kibana providers reach them from the machine running `pulumi up`. With
   * `tls.mode` not off the stack's own servers speak only TLS, so a given `http://` URL (e.g. the local end
   * of an SSH tunnel) is used as `https://` (the tunnel forwards the TLS bytes unchanged).
   */
  elasticsearchProviderUrl: string;
  kibanaProviderUrl: string;
  /**
   * Central stacks with agents[]: how long each agent host's API key lives (Elasticsearch duration, `90d`). Each
   * agents[] host gets its own key (output agentLogShipperApiKeys); the data stream's final pipeline sets host.name from it.
   */
  agentKeyExpiration: string;
  /**
   * Agent hosts (`role: agent`): where their Filebeat ships, into the central stack's data stream, with
   * the API key in `logShipperApiKey`; nothing is configured in the cluster.
   */
  shipTo?: AgentShipping;
  /**
   * An existing Elastic cluster, configured instead of running Elasticsearch and Kibana here: where
   * everyone reaches it (the providers, Filebeat, Grafana), as whom the providers log in (an API key, or
   * `user` with `elasticPassword`), and the CA to trust (PEM) and/or a CA's SHA-256 fingerprint
   * (lower-case hex). TLS verification is always on.
   */
  external?: ExternalElastic;
}

export interface AgentShipping {
  elasticsearchUrl: string;
  caCertificate?: string;
  caFingerprint?: string;
}

export interface ExternalElastic {
  elasticsearchUrl: string;
  kibanaUrl: string;
  auth: "apiKey" | "password";
  /** With `auth: "password"`. */
  user?: string;
  caCertificate?: string;
  caFingerprint?: string;
}

const TLS_OFF_REFUSED =
  "TLS verification of the Elastic cluster cannot be turned off: the providers, Filebeat and Grafana send credentials there. " +
  "For a private CA give logs.external.caCertificate (PEM) or logs.external.caFingerprint (its SHA-256)";

const externalShape = z.strictObject({
  /** e.g. https://my-deployment.es.europe-west1.gcp.cloud.es.io or https://es.internal:9200 */
  // Both required on a central stack (externalIssues); an agent host ships to Elasticsearch only (role.ts refuses kibanaUrl).
  elasticsearchUrl: httpUrl.optional(),
  kibanaUrl: httpUrl.optional(),
  /** The providers' user (with `elasticPassword`); leave out with `elasticApiKey`. */
  user: z
    .string()
    .regex(/^[a-zA-Z0-9._@-]{1,507}$/, { error: "must be a user name (letters, digits, ._@-)" })
    .optional(),
  caCertificate: pemCertificate.optional(),
  caFingerprint: sha256Fingerprint.optional(),
  ...refusedTlsOffKeys(TLS_OFF_REFUSED),
});

/** The encoded form the create API key API returns (`encoded`): base64 of `id:api_key`. */
function encodedApiKeyProblem(value: string): string | undefined {
  // The offline plan's stand-in for a value it cannot decrypt has no shape to check.
  if (value === UNDECRYPTED_SECRET) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return "must be an encoded API key (the `encoded` value the create API key API returns: base64 of id:api_key)";
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 && colon < decoded.length - 1
    ? undefined
    : "must be an encoded API key (the `encoded` value the create API key API returns: base64 of id:api_key), not the bare key";
}

/**
 * An agent's shipping key: the `id:api_key` form Filebeat's `api_key` takes (the central stack's
 * output agentLogShipperApiKeys gives the encoded form), or the base64 `encoded` form of it, which is decoded (shipperApiKey).
 */
function shipperApiKeyProblem(value: string): string | undefined {
  if (value === UNDECRYPTED_SECRET) return undefined;
  return shipperApiKey(value) === undefined
    ? "must be an API key as id:api_key, or its base64 `encoded` form (this host's entry of the central stack's output agentLogShipperApiKeys)"
    : undefined;
}

/** `id:api_key` from either form, or undefined when it is neither. */
export function shipperApiKey(value: string): string | undefined {
  const idAndKey = (text: string) => {
    const colon = text.indexOf(":");
    return colon > 0 && colon < text.length - 1 && text.indexOf(":", colon + 1) === -1 && !/\s/.test(text) ? text : undefined;
  };
  if (value.includes(":")) return idAndKey(value);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? idAndKey(Buffer.from(value, "base64").toString("utf8")) : undefined;
}

/** Nanoseconds per Elasticsearch time unit (elastic/elasticsearch libs/core/.../core/TimeValue.java, parseTimeValue). */
const ES_UNIT_NS: Record<string, bigint> = {
  d: 86_400_000_000_000n,
  h: 3_600_000_000_000n,
  m: 60_000_000_000n,
  s: 1_000_000_000n,
  ms: 1_000_000n,
  micros: 1000n,
  nanos: 1n,
};
const JAVA_LONG_MAX = (1n << 63n) - 1n;

/**
 * A positive whole Elasticsearch duration that a TimeValue holds. TimeValue.parseTimeValue takes any
 * long in its unit, but every use converts it with TimeUnit.toNanos/toMillis, which saturate at
 * Long.MAX_VALUE nanoseconds: TimeValue.timeValueDays refuses more than 106751 days for that reason
 * ("106751.9 days is Long.MAX_VALUE nanoseconds"), and a longer ILM age would be silently cut.
 */
export function esDurationProblem(value: string): string | undefined {
  const match = /^(\d+)(d|h|m|s|ms|micros|nanos)$/.exec(value);
  if (!match) return "must be an Elasticsearch duration such as 12h, 7d, 30d";
  const ns = BigInt(match[1]) * ES_UNIT_NS[match[2]];
  if (ns === 0n) return "must be longer than zero";
  if (ns > JAVA_LONG_MAX) return `${value} is out of range: at most 106751d (Long.MAX_VALUE nanoseconds, what Elasticsearch's TimeValue holds)`;
  // isEsDuration is what the renderer checks; a leading zero (`07d`) is the one form it refuses beyond these.
  return isEsDuration(value) ? undefined : "must be an Elasticsearch duration such as 12h, 7d, 30d (no leading zero)";
}

const esDuration = checkedString(esDurationProblem);

/** A structlog key, or a dotted path into nested objects, the ingest pipeline can address (request-fields.ts, STRUCTLOG_KEY). */
const structlogKey = z.string().regex(STRUCTLOG_KEY, {
  error: `must be a structlog key (letters, digits and _, not starting with a digit, at most 64 characters), or a dotted path of up to ${MAX_KEY_DEPTH} of them into nested objects (http.status_code)`,
});

/** What a catalog entry may give the logs room. */
export const LOGS_SERVICE_FIELDS = {
  /** Absolute globs of the service's JSON log files on the Docker host (checked as a whole by the rules below). */
  logs: z.array(z.string().min(1, { error: "must not be empty" })).optional(),
  /** Alert when this service has written no log line for this long (needs `logs`). */
  maxLogSilence: duration.optional(),
  /**
   * The structlog keys this service's request lines use where they differ from the defaults
   * (request-fields.ts: duration/elapsed/latency in s, duration_ms, method, route/path, status_code/status,
   * request_id, trace_id, user_agent); tried first, on this service's lines only. `ignoreDefaults`: default
   * keys the service writes for something else (a job's `status`), not read on its lines. Needs no `logs`
   * here: on a central stack the entry may stand for a service whose lines agent hosts ship (role.ts refuses
   * the key on an agent, whose pipeline is the central stack's).
   */
  requestLogKeys: z
    .strictObject({
      duration: z
        .strictObject({
          key: structlogKey,
          unit: z.enum(DURATION_UNITS, { error: 'must be "s" (seconds), "ms" (milliseconds), "us" (microseconds) or "ns" (nanoseconds)' }),
        })
        .optional(),
      method: structlogKey.optional(),
      path: structlogKey.optional(),
      statusCode: structlogKey.optional(),
      requestId: structlogKey.optional(),
      traceId: structlogKey.optional(),
      userAgent: structlogKey.optional(),
      ignoreDefaults: z
        .array(z.enum(DEFAULT_REQUEST_KEYS as [string, ...string[]], { error: `must be one of the default keys: ${DEFAULT_REQUEST_KEYS.join(", ")}` }))
        .optional(),
    })
    .optional(),
};

export const logsSlice = defineSlice({
  shape: {
    logs: z
      .strictObject({
        /** The logs stage (Elasticsearch, Kibana, the shipper); on by default. */
        enabled: z.boolean().optional(),
        /** Data stream the services' lines go to; `logs-atra-<stack>` by default. */
        dataStream: checkedString(validateDataStreamName).optional(),
        /** Delete log lines this long after their index rolled over (ILM). */
        retention: esDuration.optional(),
        rolloverMaxAge: esDuration.optional(),
        rolloverMaxPrimaryShardSize: z.string().refine(isEsByteSize, { error: "must be a size such as 512mb, 10gb" }).optional(),
        /** Elasticsearch heap; half the container memory when unset. */
        elasticsearchHeapMb: z
          .int({ error: "must be a whole number of MB" })
          .min(DEFAULTS.minHeapMb, { error: `must be at least ${DEFAULTS.minHeapMb} (MB)` })
          .optional(),
        /** Alert when a service logs more than this many error lines within `errorRateWindow`. */
        errorRateThreshold: z.int({ error: "must be a whole number of lines" }).min(1, { error: "must be at least 1" }).optional(),
        errorRateWindow: duration.optional(),
        /** Where `pulumi up` reaches Elasticsearch and Kibana (e.g. the local end of an SSH tunnel). */
        elasticsearchProviderUrl: httpUrl.optional(),
        kibanaProviderUrl: httpUrl.optional(),
        /** An existing Elastic cluster to configure instead of running one; on an agent host, the central cluster it ships to. */
        external: externalShape.optional(),
        /** Replaced by one key per agents[] host (output agentLogShipperApiKeys): refused, whatever its value, saying so. */
        agentApiKey: z
          .never({
            error:
              "is replaced: every host listed in agents[] now gets its own API key (output agentLogShipperApiKeys, one entry per host), whose host the data stream's final pipeline writes into host.name. List the agent hosts in agents[] and remove logs.agentApiKey",
          })
          .optional(),
        /** Central stacks with agents[]: how long each agent host's API key lives (`90d`). */
        agentKeyExpiration: esDuration.optional(),
      })
      .optional(),
    /** Password of the stack's Elasticsearch superuser `atra-admin` (generated when unset), or of `logs.external.user`. */
    elasticPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
    /** An encoded API key of the external cluster, for the providers (privileges: see README "Elastic Cloud or an existing cluster"). */
    elasticApiKey: checkedString(encodedApiKeyProblem).optional(),
    /** Agent hosts: the API key their Filebeat ships with (this host's entry of the central stack's output agentLogShipperApiKeys). */
    logShipperApiKey: checkedString(shipperApiKeyProblem).optional(),
  },
  secretKeys: ["elasticPassword", "elasticApiKey", "logShipperApiKey"],
  switches: {
    // An agent host's logs stage is its shipper alone: on only when one of its services has log files.
    logs: (values) =>
      !switchedOff(values, "logs") &&
      (roleOf(values) === "central" ||
        (Array.isArray(values.services) && values.services.some((service: { logs?: unknown }) => Array.isArray(service?.logs) && service.logs.length > 0))),
  },
  serviceShape: LOGS_SERVICE_FIELDS,
  refineService: (service, ctx) => {
    if (service.maxLogSilence && !(Array.isArray(service.logs) && service.logs.length > 0)) {
      ctx.addIssue({ code: "custom", path: ["maxLogSilence"], message: "needs `logs`: only shipped log files can go silent" });
    }
  },
  rules: ({ values, environment, enabled, role, stack }) => {
    const issues: ConfigIssue[] = [];
    const external = isObject(values.logs) && isObject(values.logs.external) ? values.logs.external : undefined;
    if (Array.isArray(values.services)) {
      // Checked on the raw entries so a bad glob is reported even when another field of its service is wrong.
      const logServices = (values.services as { name?: unknown; logs?: unknown }[]).map((service) => ({
        name: typeof service?.name === "string" ? service.name : "",
        logs: Array.isArray(service?.logs) ? service.logs.filter((glob): glob is string => typeof glob === "string") : [],
      }));
      const globIssues = logGlobIssues(logServices);
      for (const issue of globIssues) issues.push({ key: fullKey(issue.path), message: issue.message });
      issues.push(
        ...globLimitIssues(
          logServices,
          globIssues.map((issue) => fullKey(issue.path)),
        ),
      );
    }
    if (external) issues.push(...sharedClusterStackNameIssues(stack));
    if (!external && values.elasticApiKey !== undefined)
      issues.push({
        key: fullKey(["elasticApiKey"]),
        message: "is only for an external Elastic cluster (logs.external): the stack's own Elasticsearch is configured as its administrator (elasticPassword)",
      });
    if (role === "agent") return [...issues, ...agentShippingIssues(values, enabled.logs)];
    if (values.logShipperApiKey !== undefined)
      issues.push({
        key: fullKey(["logShipperApiKey"]),
        message: "is for agent hosts (role: agent), whose Filebeat ships with it; a central stack's Filebeat ships as its own writer user: remove it",
      });
    issues.push(...agentKeyIssues(values, enabled.logs));
    if (!enabled.logs) return issues;
    if (external) return [...issues, ...externalIssues(values, external)];
    const raw = values.logs as { elasticsearchHeapMb?: unknown; elasticsearchProviderUrl?: unknown; kibanaProviderUrl?: unknown } | undefined;
    const memory = values.memoryMb as { elasticsearch?: unknown } | undefined;
    const containerMb = typeof memory?.elasticsearch === "number" ? memory.elasticsearch : ELASTICSEARCH_SERVICE.memoryMb[environment];
    const explicit = typeof raw?.elasticsearchHeapMb === "number";
    const heapMb = explicit ? (raw?.elasticsearchHeapMb as number) : defaultHeapMb(containerMb);
    // Only on a valid container size: an invalid one is reported on its own.
    if (Number.isInteger(containerMb) && containerMb >= MIN_MEMORY_MB && heapMb > containerMb * DEFAULTS.maxHeapShare) {
      issues.push({
        key: fullKey(explicit ? ["logs", "elasticsearchHeapMb"] : ["memoryMb", "elasticsearch"]),
        message: explicit
          ? `${heapMb} MB leaves too little of the ${containerMb} MB container (memoryMb.elasticsearch) outside the heap; keep it at most 75%, usually 50%`
          : `${containerMb} MB is too little for Elasticsearch: its smallest heap (${heapMb} MB) needs a container of at least ${Math.ceil(heapMb / DEFAULTS.maxHeapShare)} MB`,
      });
    }
    if (isRemoteDockerHost(values)) {
      for (const key of ["elasticsearchProviderUrl", "kibanaProviderUrl"] as const) {
        if (raw?.[key] === undefined) issues.push({ key: fullKey(["logs", key]), message: PROVIDER_URL_NEEDED_WITH_A_REMOTE_HOST });
      }
    }
    return issues;
  },
  resolve: (raw, core): { logs: LogsConfig } => {
    const logs = raw.logs;
    const external = core.enabled.logs ? logs?.external : undefined;
    // The stack's own Elasticsearch and Kibana serve https when tls is on (LogsStack, `tls`); an external cluster's URLs are its own.
    const ownTls = core.role === "central" && !external && defaultTlsMode(raw as Record<string, unknown>, core.role) !== "off";
    const providerUrl = (given: string | undefined, port: number) =>
      httpsWhen(given ? withoutTrailingSlash(given) : `http://${core.localHost}:${port}`, ownTls);
    return {
      logs: {
        enabled: core.enabled.logs,
        dataStream: logs?.dataStream ?? defaultDataStream(core.stack),
        retention: logs?.retention ?? RETENTION[core.environment],
        rolloverMaxAge: logs?.rolloverMaxAge ?? DEFAULTS.rolloverMaxAge,
        rolloverMaxPrimaryShardSize: logs?.rolloverMaxPrimaryShardSize ?? DEFAULTS.rolloverMaxPrimaryShardSize,
        elasticsearchHeapMb: logs?.elasticsearchHeapMb ?? defaultHeapMb(core.memoryMb.elasticsearch),
        errorRateThreshold: logs?.errorRateThreshold ?? DEFAULTS.errorRateThreshold,
        errorRateWindow: logs?.errorRateWindow ?? DEFAULTS.errorRateWindow,
        kibanaPublicUrl: httpsWhen(`http://${core.publicHostname}:${core.ports.kibana}`, ownTls),
        elasticsearchPublicUrl: httpsWhen(`http://${core.publicHostname}:${core.ports.elasticsearch}`, ownTls),
        elasticsearchProviderUrl: providerUrl(logs?.elasticsearchProviderUrl, core.ports.elasticsearch),
        kibanaProviderUrl: providerUrl(logs?.kibanaProviderUrl, core.ports.kibana),
        agentKeyExpiration: logs?.agentKeyExpiration ?? DEFAULTS.agentKeyExpiration,
        ...(core.role === "agent" ? {} : external ? externalPart(external, raw.elasticApiKey !== undefined) : {}),
        ...(core.role === "agent" && external ? { shipTo: agentShipping(external) } : {}),
      },
    };
  },
});

/** Half the container's memory, the usual Elasticsearch sizing (the rest is file cache), at least the minimum heap. */
function defaultHeapMb(containerMb: number): number {
  return Math.max(DEFAULTS.minHeapMb, Math.floor(containerMb / 2));
}

/** With an external cluster, it is where every URL points; nothing of the local stage is published. */
function externalPart(external: z.infer<typeof externalShape>, apiKey: boolean): Partial<LogsConfig> {
  // Both present: externalIssues requires them.
  const elasticsearchUrl = withoutTrailingSlash(external.elasticsearchUrl as string);
  const kibanaUrl = withoutTrailingSlash(external.kibanaUrl as string);
  return {
    elasticsearchPublicUrl: elasticsearchUrl,
    kibanaPublicUrl: kibanaUrl,
    elasticsearchProviderUrl: elasticsearchUrl,
    kibanaProviderUrl: kibanaUrl,
    external: {
      elasticsearchUrl,
      kibanaUrl,
      auth: apiKey ? "apiKey" : "password",
      ...(apiKey ? {} : { user: external.user }),
      ...(external.caCertificate ? { caCertificate: external.caCertificate } : {}),
      ...(external.caFingerprint ? { caFingerprint: canonicalFingerprint(external.caFingerprint) } : {}),
    },
  };
}

/** An agent host ships to the central cluster; nothing of its own is published. */
function agentShipping(external: z.infer<typeof externalShape>): AgentShipping {
  return {
    // Present: agentShippingIssues requires it.
    elasticsearchUrl: withoutTrailingSlash(external.elasticsearchUrl as string),
    ...(external.caCertificate ? { caCertificate: external.caCertificate } : {}),
    ...(external.caFingerprint ? { caFingerprint: canonicalFingerprint(external.caFingerprint) } : {}),
  };
}

/** An agent host (`role: agent`) whose services have log files: where to ship, into which data stream, with which key. */
function agentShippingIssues(values: Record<string, unknown>, shipsLogs: boolean): ConfigIssue[] {
  const logs = isObject(values.logs) ? values.logs : {};
  const external = isObject(logs.external) ? logs.external : undefined;
  if (!shipsLogs) {
    // Nothing to ship (no service has log files, or logs.enabled: false): the shipping settings would do nothing.
    return [
      ...(values.logShipperApiKey !== undefined ? [fullKey(["logShipperApiKey"])] : []),
      ...(external ? [fullKey(["logs", "external"])] : []),
      ...(logs.dataStream !== undefined ? [fullKey(["logs", "dataStream"])] : []),
    ].map((key) => ({
      key,
      message: "has nothing to ship: no catalog service of this agent host has log files (or logs.enabled is false): remove it (role: agent)",
    }));
  }
  const issues: ConfigIssue[] = [];
  const url = external?.elasticsearchUrl;
  if (typeof url !== "string") {
    if (url === undefined)
      issues.push({
        key: fullKey(["logs", "external", "elasticsearchUrl"]),
        message:
          "is required on an agent host whose services have log files (role: agent): the central Elastic cluster's URL as this host reaches it (https; the central stack's output elasticsearchUrl when it is published there)",
      });
  } else {
    const problem = credentialUrlProblem(url);
    if (problem) issues.push({ key: fullKey(["logs", "external", "elasticsearchUrl"]), message: problem });
    else if (isLoopbackUrl(url))
      issues.push({
        key: fullKey(["logs", "external", "elasticsearchUrl"]),
        message: "is a loopback address, which Filebeat in its container cannot reach: give the central cluster's address as this host reaches it",
      });
    if ((external?.caCertificate !== undefined || external?.caFingerprint !== undefined) && url.toLowerCase().startsWith("http:"))
      issues.push({
        key: fullKey(["logs", "external", "elasticsearchUrl"]),
        message: "is plain http, so logs.external.caCertificate / caFingerprint would not apply: use https",
      });
  }
  if (logs.dataStream === undefined)
    issues.push({
      key: fullKey(["logs", "dataStream"]),
      message:
        "is required on an agent host (role: agent): the central stack's data stream (its output logsDataStream), the only one the agents' API key may write to",
    });
  if (values.logShipperApiKey === undefined)
    issues.push({
      key: fullKey(["logShipperApiKey"]),
      message:
        "is required on an agent host whose services have log files (role: agent): this host's entry of the central stack's output agentLogShipperApiKeys " +
        "(list the host in the central stack's agents[], then: pulumi stack output --stack <central> --show-secrets --json agentLogShipperApiKeys | jq -r '.\"<this host>\"' | pulumi config set --secret logShipperApiKey)",
    });
  return issues;
}

/**
 * agents[] on a central stack with the logs stage: each host gets an API key made by the providers' login, which
 * must be a user: Elasticsearch refuses role descriptors on a key created by a request that is itself
 * authenticated with an API key (a derived key gets no privileges), so `elasticApiKey` cannot make them.
 * `logs.agentKeyExpiration` without agents (or without the logs stage) would do nothing.
 */
function agentKeyIssues(values: Record<string, unknown>, logsOn: boolean): ConfigIssue[] {
  const agents = Array.isArray(values.agents) && values.agents.length > 0;
  if (!agents || !logsOn) {
    return isObject(values.logs) && values.logs.agentKeyExpiration !== undefined
      ? [
          {
            key: fullKey(["logs", "agentKeyExpiration"]),
            message: "applies to the agents' log keys, and this stack makes none (no agents[], or logs.enabled is false): remove it",
          },
        ]
      : [];
  }
  if (values.elasticApiKey !== undefined)
    return [
      {
        key: fullKey(["elasticApiKey"]),
        message:
          "cannot make the agents[] hosts' log keys: Elasticsearch gives no privileges to an API key created by a request that is itself authenticated with an API key. " +
          "Log in to the cluster as a user (logs.external.user with elasticPassword) to create them",
      },
    ];
  return [];
}

/** What an external Elastic cluster needs, and what it cannot be combined with. */
function externalIssues(values: Record<string, unknown>, external: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const logs = values.logs as Record<string, unknown>;
  const key = (name: string) => fullKey(["logs", "external", name]);
  for (const name of ["elasticsearchProviderUrl", "kibanaProviderUrl", "elasticsearchHeapMb"]) {
    if (logs[name] !== undefined)
      issues.push({
        key: fullKey(["logs", name]),
        message: `is for the stack's own Elasticsearch and Kibana; with logs.external there are none here (the providers use logs.external's URLs): remove logs.${name}`,
      });
  }
  const memory = isObject(values.memoryMb) ? values.memoryMb : {};
  for (const name of ["elasticsearch", "kibana"]) {
    if (memory[name] !== undefined)
      issues.push({ key: fullKey(["memoryMb", name]), message: `there is no ${name} container with logs.external: remove memoryMb.${name}` });
  }
  for (const name of ["elasticsearchUrl", "kibanaUrl"]) {
    const url = external[name];
    if (url === undefined) {
      issues.push({ key: key(name), message: "is required with logs.external (the cluster's Elasticsearch and Kibana endpoints)" });
      continue;
    }
    if (typeof url !== "string") continue;
    const problem = credentialUrlProblem(url);
    if (problem) issues.push({ key: key(name), message: problem });
    if ((external.caCertificate !== undefined || external.caFingerprint !== undefined) && url.toLowerCase().startsWith("http:"))
      issues.push({ key: key(name), message: "is plain http, so logs.external.caCertificate / caFingerprint would not apply: use https" });
  }
  if (typeof external.elasticsearchUrl === "string" && isLoopbackUrl(external.elasticsearchUrl))
    issues.push({
      key: key("elasticsearchUrl"),
      message:
        "is a loopback address, which Filebeat and Grafana (in their containers, or elsewhere) cannot reach: give the cluster's own address (a tunnel's local end works for the providers only)",
    });
  const apiKey = values.elasticApiKey !== undefined;
  const password = values.elasticPassword !== undefined;
  const user = external.user !== undefined;
  if (apiKey && (user || password))
    issues.push({
      key: fullKey(["elasticApiKey"]),
      message: "give one way to log in to the Elastic cluster: elasticApiKey, or logs.external.user with elasticPassword, not both",
    });
  else if (!apiKey && !(user && password))
    issues.push({
      key: user ? fullKey(["elasticPassword"]) : fullKey(["elasticApiKey"]),
      message: user
        ? "is required with logs.external.user (that user's password: pulumi config set --secret elasticPassword)"
        : "is required with logs.external (an encoded API key: pulumi config set --secret elasticApiKey <encoded>), or set logs.external.user and elasticPassword",
    });
  // Grafana's Elasticsearch datasource trusts a CA given as PEM (jsonData.tlsAuthWithCACert, secureJsonData.tlsCACert), never by fingerprint.
  if (external.caFingerprint !== undefined && external.caCertificate === undefined)
    issues.push({
      key: key("caFingerprint"),
      message:
        "alone is not enough: Grafana's Elasticsearch datasource trusts a CA only as a PEM certificate. Give the CA as logs.external.caCertificate too " +
        "(e.g. `openssl s_client -connect <host>:<port> -showcerts`, the certificate whose fingerprint this is)",
    });
  return issues;
}

/** Linux's longest file or directory name (NAME_MAX) and path (PATH_MAX less its NUL), include/uapi/linux/limits.h. */
const NAME_MAX_BYTES = 255;
const PATH_MAX_BYTES = 4095;

/**
 * What logGlobIssues (filebeat-config.ts) leaves to the config layer, on globs it accepted: a segment
 * or a path no Linux file can have, and globs of two services that can match one file (globsOverlap
 * decides that exactly, see glob-overlap.ts; identical globs are already reported there).
 */
function globLimitIssues(services: { name: string; logs: string[] }[], alreadyReported: string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const accepted: { service: number; index: number; glob: string; prefix: string }[] = [];
  services.forEach((service, serviceIndex) =>
    service.logs.forEach((glob, index) => {
      const key = fullKey(["services", serviceIndex, "logs", index]);
      if (alreadyReported.includes(key)) return;
      const long = glob
        .slice(1)
        .split("/")
        .find((segment) => minimumSegmentBytes(segment) > NAME_MAX_BYTES);
      if (long !== undefined) {
        issues.push({
          key,
          message: `has a path segment of ${minimumSegmentBytes(long)} bytes or more; Linux names are at most ${NAME_MAX_BYTES} bytes (NAME_MAX), so no file can match it`,
        });
      } else if (Buffer.byteLength(glob) > PATH_MAX_BYTES) {
        issues.push({ key, message: `is ${Buffer.byteLength(glob)} bytes long; Linux paths are at most ${PATH_MAX_BYTES} bytes (PATH_MAX)` });
      } else accepted.push({ service: serviceIndex, index, glob, prefix: literalPrefix(glob) });
    }),
  );
  accepted.forEach((entry, position) => {
    // The earlier entries, without copying them (a catalog of thousands of globs compares millions of pairs).
    let other: (typeof accepted)[number] | undefined;
    for (let at = 0; at < position && !other; at++) {
      const earlier = accepted[at];
      if (earlier.service === entry.service || earlier.glob === entry.glob) continue;
      // globsOverlap's own first test, on prefixes taken once per glob rather than once per pair.
      if (!earlier.prefix.startsWith(entry.prefix) && !entry.prefix.startsWith(earlier.prefix)) continue;
      if (globsOverlap(earlier.glob, entry.glob)) other = earlier;
    }
    if (!other) return;
    const example = !hasWildcard(entry.glob) ? entry.glob : !hasWildcard(other.glob) ? other.glob : undefined;
    issues.push({
      key: fullKey(["services", entry.service, "logs", entry.index]),
      message:
        `"${entry.glob}" and "${other.glob}" of service "${services[other.service].name}" (services[${other.service}].logs[${other.index}]) can match the same file` +
        `${example ? ` (${example})` : ""}: each service's Filebeat input would ship it, so its lines would arrive twice, under two service names. Make the globs disjoint`,
    });
  });
  return issues;
}

/**
 * With logs.external, several stacks may share one cluster, and this stack's objects there are named
 * from its name: stackSlug (lower case, every character outside [a-z0-9_-] made '-') for the ILM
 * policy, template, pipeline, roles, users and Kibana ids, and dataStreamNamespace (lower case, every
 * character outside [a-z0-9_] made '_') for the data stream (elastic-bodies.ts). Stacks `eu.prod` and
 * `eu-prod`, or `Prod` and `prod`, or `a-b` and `a_b`, would then write the same objects. A name of
 * lower-case letters, digits and '-' maps one to one onto both, so it is required here.
 */
function sharedClusterStackNameIssues(stack: string): ConfigIssue[] {
  if (/^[a-z0-9-]+$/.test(stack)) return [];
  return [
    {
      key: fullKey(["logs", "external"]),
      message:
        `the stack name "${stack}" has upper-case letters, '.' or '_': on a shared cluster this stack's objects (atra-<stack>-..., the data stream namespace) are named from it with those changed, ` +
        "so it could take over another stack's objects (eu.prod and eu-prod, Prod and prod, a-b and a_b collide). Use a stack named with lower-case letters, digits and '-' only",
    },
  ];
}
