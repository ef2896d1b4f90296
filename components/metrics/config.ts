/**
 * The metrics room's config slice: Prometheus (storage, scrape and evaluation timings), node-exporter,
 * and the catalog fields it scrapes and probes (`metrics`, `health`).
 */
import { z } from "zod";
import type { PerEnvironment } from "../config/environments";
import { defineSlice } from "../config/slice";
import { fullKey } from "../lib/config-keys";
import { duration, durationMs, httpUrl, isIpv4 } from "../lib/validators";
import { RESERVED_JOB_NAMES, STACK_SERVICES } from "../stack-services";
import {
  AGENT_LIMIT_DEFAULTS,
  REMOTE_PROMETHEUS_FIELDS,
  REMOTE_SECRET_SHAPE,
  RemoteMetricsSettings,
  remoteIssues,
  resolveRemoteSettings,
} from "./remote-config";
import { defaultTlsMode, httpsWhen } from "../tls/config";
import { AGENT_JOB_PREFIX, TLS_PROBE_JOB } from "./prometheus-config";
import { resolveScrapeLimits, ScrapeLimits, scrapeLimitsShape } from "./scrape-limits";

/**
 * node-exporter's root bind propagation: `rslave` (follows host mounts), or `none` (no mode asked for,
 * for hosts whose `/` is private: the only setting Docker accepts there, see metrics-stack.ts).
 */
export const ROOT_PROPAGATIONS = ["rslave", "none"] as const;
export type RootPropagation = (typeof ROOT_PROPAGATIONS)[number];

/** Prometheus storage size syntax for `--storage.tsdb.retention.size`. */
const PROMETHEUS_SIZE = /^\d+(B|KB|MB|GB|TB|PB|EB)$/;

/** Prometheus's storage by environment: dev fits a laptop, prod keeps a month. */
export const ENVIRONMENT_DEFAULTS: PerEnvironment<{ retentionTime: string; retentionSize: string }> = {
  dev: { retentionTime: "7d", retentionSize: "5GB" },
  staging: { retentionTime: "15d", retentionSize: "20GB" },
  prod: { retentionTime: "30d", retentionSize: "50GB" },
};

/**
 * A federated agent host's storage: the central stack pulls the latest sample of every series at each of
 * its scrapes (web/federate.go serves only the newest point within the lookback delta), so an hour or two
 * covers a central outage of that length; what the central did not pull meanwhile is lost either way.
 */
export const AGENT_STORAGE = { retentionTime: "2h", retentionSize: "1GB" };

const DEFAULTS = {
  scrapeInterval: "15s",
  /** The default timeout, or the interval when that is shorter. */
  scrapeTimeout: "10s",
  /**
   * node-exporter runs in the host's network namespace (so its network panels show the host's
   * interfaces) and listens on Docker's default bridge gateway, which containers reach as
   * `host.docker.internal` and which is not reachable from outside the host.
   */
  nodeExporterListen: `172.17.0.1:${STACK_SERVICES.nodeExporter.port}`,
  rootPropagation: "rslave" as RootPropagation,
};

export interface MetricsConfig {
  /** Storage and timings, and (remote-config.ts) the mode, remote write, federation, the agents' limits, the host label and the external query URL. */
  prometheus: {
    retentionTime: string;
    retentionSize: string;
    scrapeInterval: string;
    scrapeTimeout: string;
    evaluationInterval: string;
    /** The catalog services' scrape limits, stack-wide (scrape-limits.ts); `services[].scrapeLimits` override them. */
    scrapeLimits: ScrapeLimits;
  } & RemoteMetricsSettings;
  /** Where people open Prometheus: `https://` on a central stack with `tls.mode` not off (its web config's `tls_server_config`). */
  prometheusPublicUrl: string;
  nodeExporter: {
    listenAddress: string;
    /** Propagation of its bind of the host root: `rslave`, or `none` on hosts whose `/` is a private mount. */
    rootPropagation: RootPropagation;
  };
}

const prometheusShape = z.strictObject({
  retentionTime: duration.optional(),
  retentionSize: z.string().regex(PROMETHEUS_SIZE, { error: "must be a size such as 512MB, 10GB, 1TB" }).optional(),
  scrapeInterval: duration.optional(),
  scrapeTimeout: duration.optional(),
  evaluationInterval: duration.optional(),
  scrapeLimits: scrapeLimitsShape,
  ...REMOTE_PROMETHEUS_FIELDS,
});

/** What a catalog entry may give the metrics room. */
export const METRICS_SERVICE_FIELDS = {
  /** Scraped by Prometheus. */
  metrics: httpUrl.optional(),
  /** Probed by the blackbox exporter (a JSON health endpoint is probed, never scraped). */
  health: httpUrl.optional(),
  /** This service's scrape limits over `prometheus.scrapeLimits` (scrape-limits.ts). */
  scrapeLimits: scrapeLimitsShape,
};

export const metricsSlice = defineSlice({
  shape: {
    prometheus: prometheusShape.optional(),
    nodeExporter: z
      .strictObject({
        listenAddress: z
          .string()
          .superRefine((value, ctx) => {
            const [address, port, ...rest] = value.split(":");
            if (rest.length > 0 || !isIpv4(address) || !/^\d{1,5}$/.test(port ?? "") || Number(port) < 1 || Number(port) > 65535) {
              ctx.addIssue({ code: "custom", message: "must be ipv4:port, e.g. 172.17.0.1:9100" });
            } else if (address.startsWith("127.")) {
              ctx.addIssue({
                code: "custom",
                message: "a loopback address is unreachable from the Prometheus container; use the Docker bridge gateway (172.17.0.1) or 0.0.0.0",
              });
            }
          })
          .optional(),
        /**
         * Propagation of node-exporter's read-only bind of the host root. `rslave` (default) lets it see
         * filesystems mounted on the host after it started, but Docker refuses it where `/` is a private
         * mount; `none` starts there and sees only what was mounted when the container started.
         */
        rootPropagation: z.enum(ROOT_PROPAGATIONS, { error: `must be one of ${ROOT_PROPAGATIONS.join(", ")}` }).optional(),
      })
      .optional(),
    ...REMOTE_SECRET_SHAPE,
  },
  secretKeys: ["remoteWriteSecrets", "prometheusQueryPassword", "federation"],
  serviceShape: METRICS_SERVICE_FIELDS,
  refineService: (service, ctx) => {
    // A catalog service's scrape job is named after it.
    if (typeof service.name === "string" && [...RESERVED_JOB_NAMES, TLS_PROBE_JOB].includes(service.name)) {
      ctx.addIssue({ code: "custom", path: ["name"], message: `"${service.name}" is used by the stack itself; pick another name` });
    }
    if (service.scrapeLimits !== undefined && service.metrics === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["scrapeLimits"],
        message: "limits the scrape of `metrics`, and this service has none: remove it, or give metrics",
      });
    }
    // `agent-*` are the central stack's pulls of agent hosts (prometheus-config.ts agentJobName): a service so
    // named could take an agent's job name, and its series from an agent host would be dropped as central-only.
    if (typeof service.name === "string" && service.name.startsWith(AGENT_JOB_PREFIX)) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `"${service.name}" starts with "${AGENT_JOB_PREFIX}", which the stack reserves for the jobs pulling agent hosts; pick another name`,
      });
    }
  },
  rules: ({ values, role }) => {
    const remote = remoteIssues(values, role);
    const prometheus = prometheusShape.optional().safeParse(values.prometheus);
    if (!prometheus.success) return remote;
    const { scrapeInterval, scrapeTimeout } = scrapeTimings(prometheus.data);
    if (durationMs(scrapeTimeout) <= durationMs(scrapeInterval)) return remote;
    return [
      ...remote,
      {
        key: fullKey(["prometheus", "scrapeTimeout"]),
        message: `${scrapeTimeout} is longer than prometheus.scrapeInterval ${scrapeInterval}; Prometheus refuses that`,
      },
    ];
  },
  resolve: (raw, core): MetricsConfig => {
    const { scrapeInterval, scrapeTimeout } = scrapeTimings(raw.prometheus);
    // A federated agent host keeps only what the central stack has yet to pull (AGENT_STORAGE).
    const federatedAgent = core.role === "agent" && raw.federation !== undefined;
    const storage = federatedAgent ? AGENT_STORAGE : ENVIRONMENT_DEFAULTS[core.environment];
    return {
      prometheus: {
        retentionTime: raw.prometheus?.retentionTime ?? storage.retentionTime,
        retentionSize: raw.prometheus?.retentionSize ?? storage.retentionSize,
        scrapeInterval,
        scrapeTimeout,
        evaluationInterval: raw.prometheus?.evaluationInterval ?? scrapeInterval,
        scrapeLimits: resolveScrapeLimits(
          raw.prometheus?.scrapeLimits,
          federatedAgent ? { labelLimit: AGENT_LIMIT_DEFAULTS.labelLimit, labelValueLengthLimit: AGENT_LIMIT_DEFAULTS.labelValueLengthLimit } : undefined,
        ),
        ...resolveRemoteSettings(raw.prometheus, raw, core.publicHostname),
        // An agent host's Prometheus runs in agent mode (remote write only), or in server mode when the central
        // stack pulls its /federate, which agent mode does not serve (role.ts refuses `prometheus.mode` there).
        ...(core.role === "agent" ? { mode: federatedAgent ? ("server" as const) : ("agent" as const) } : {}),
      },
      prometheusPublicUrl: httpsWhen(
        `http://${core.publicHostname}:${core.ports.prometheus}`,
        federatedAgent || (core.role === "central" && defaultTlsMode(raw as Record<string, unknown>, core.role) !== "off"),
      ),
      nodeExporter: {
        listenAddress: raw.nodeExporter?.listenAddress ?? DEFAULTS.nodeExporterListen,
        rootPropagation: raw.nodeExporter?.rootPropagation ?? DEFAULTS.rootPropagation,
      },
    };
  },
});

/** Scrape interval (default 15s) and timeout (default 10s, or the interval when that is shorter). */
function scrapeTimings(prometheus: { scrapeInterval?: string; scrapeTimeout?: string } | undefined) {
  const scrapeInterval = prometheus?.scrapeInterval ?? DEFAULTS.scrapeInterval;
  const scrapeTimeout =
    prometheus?.scrapeTimeout ?? (durationMs(scrapeInterval) < durationMs(DEFAULTS.scrapeTimeout) ? scrapeInterval : DEFAULTS.scrapeTimeout);
  return { scrapeInterval, scrapeTimeout };
}
