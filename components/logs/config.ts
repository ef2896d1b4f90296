/**
 * The logs room's config slice: the data stream and its lifecycle, Elasticsearch's heap, the log
 * alerts' thresholds, where `pulumi up` reaches Elasticsearch and Kibana, the administrator's
 * password, and the catalog fields it ships (`logs`, `maxLogSilence`).
 */
import { z } from "zod";
import { DEFAULT_MEMORY_MB, MIN_MEMORY_MB } from "../config/container-memory";
import type { PerEnvironment } from "../config/environments";
import { defineSlice, withoutTrailingSlash } from "../config/slice";
import { isRemoteDockerHost } from "../docker/config";
import { PROVIDER_URL_NEEDED_WITH_SSH } from "../grafana/config";
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { checkedString, duration, httpUrl } from "../lib/validators";
import { defaultDataStream, isEsByteSize, isEsDuration, validateDataStreamName } from "./elastic-bodies";
import { logGlobIssues } from "./filebeat-config";

/** How long log lines are kept (ILM delete phase), in Elasticsearch time units, by environment. */
const RETENTION: PerEnvironment<string> = { dev: "7d", staging: "15d", prod: "30d" };

const DEFAULTS = {
  rolloverMaxAge: "1d",
  rolloverMaxPrimaryShardSize: "10gb",
  errorRateThreshold: 10,
  errorRateWindow: "5m",
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
  kibanaPublicUrl: string;
  elasticsearchPublicUrl: string;
  /** Where the Elasticsearch and Kibana providers reach them from the machine running `pulumi up`. */
  elasticsearchProviderUrl: string;
  kibanaProviderUrl: string;
}

const esDuration = z.string().refine(isEsDuration, { error: "must be an Elasticsearch duration such as 12h, 7d, 30d" });

/** What a catalog entry may give the logs room. */
export const LOGS_SERVICE_FIELDS = {
  /** Absolute globs of the service's JSON log files on the Docker host (checked as a whole by the rules below). */
  logs: z.array(z.string().min(1, { error: "must not be empty" })).optional(),
  /** Alert when this service has written no log line for this long (needs `logs`). */
  maxLogSilence: duration.optional(),
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
      })
      .optional(),
    /** Password of the stack's Elasticsearch superuser `atra-admin`; generated when unset. */
    elasticPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
  },
  secretKeys: ["elasticPassword"],
  serviceShape: LOGS_SERVICE_FIELDS,
  refineService: (service, ctx) => {
    if (service.maxLogSilence && !(Array.isArray(service.logs) && service.logs.length > 0)) {
      ctx.addIssue({ code: "custom", path: ["maxLogSilence"], message: "needs `logs`: only shipped log files can go silent" });
    }
  },
  rules: ({ values, environment, enabled }) => {
    const issues: ConfigIssue[] = [];
    if (Array.isArray(values.services)) {
      // Checked on the raw entries so a bad glob is reported even when another field of its service is wrong.
      const logServices = (values.services as { name?: unknown; logs?: unknown }[]).map((service) => ({
        name: typeof service?.name === "string" ? service.name : "",
        logs: Array.isArray(service?.logs) ? service.logs.filter((glob): glob is string => typeof glob === "string") : [],
      }));
      for (const issue of logGlobIssues(logServices)) issues.push({ key: fullKey(issue.path), message: issue.message });
    }
    if (!enabled.logs) return issues;
    const raw = values.logs as { elasticsearchHeapMb?: unknown; elasticsearchProviderUrl?: unknown; kibanaProviderUrl?: unknown } | undefined;
    const memory = values.memoryMb as { elasticsearch?: unknown } | undefined;
    const containerMb = typeof memory?.elasticsearch === "number" ? memory.elasticsearch : DEFAULT_MEMORY_MB[environment].elasticsearch;
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
        if (raw?.[key] === undefined) issues.push({ key: fullKey(["logs", key]), message: PROVIDER_URL_NEEDED_WITH_SSH });
      }
    }
    return issues;
  },
  resolve: (raw, core): { logs: LogsConfig } => {
    const logs = raw.logs;
    const providerUrl = (given: string | undefined, port: number) => (given ? withoutTrailingSlash(given) : `http://${core.localHost}:${port}`);
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
        kibanaPublicUrl: `http://${core.publicHostname}:${core.ports.kibana}`,
        elasticsearchPublicUrl: `http://${core.publicHostname}:${core.ports.elasticsearch}`,
        elasticsearchProviderUrl: providerUrl(logs?.elasticsearchProviderUrl, core.ports.elasticsearch),
        kibanaProviderUrl: providerUrl(logs?.kibanaProviderUrl, core.ports.kibana),
      },
    };
  },
});

/** Half the container's memory, the usual Elasticsearch sizing (the rest is file cache), at least the minimum heap. */
function defaultHeapMb(containerMb: number): number {
  return Math.max(DEFAULTS.minHeapMb, Math.floor(containerMb / 2));
}
