/**
 * The one schema for a stack's config (the `atra-observability:*` keys of Pulumi.<stack>.yaml).
 * Shapes and single-field rules live here; rules that span fields are `superRefine`s next to the
 * objects they concern, so zod reports every problem of a file in one pass.
 */
import { z } from "zod";
import { duration, evaluationInterval, httpUrl, ipv4, isIpv4, labelName, port } from "../lib/validators";
import { ENVIRONMENTS } from "./defaults";
import { isEsByteSize, isEsDuration, validateDataStreamName } from "../logs/elastic-bodies";
import { bridgeNameProblem } from "../docker/names";
import { contactPointName, contactPointSchema } from "../alerting/contact-point-types";

/**
 * node-exporter's root bind propagation: `rslave` (follows host mounts), or `none` (no mode asked for,
 * for hosts whose `/` is private: the only setting Docker accepts there, see metrics-stack.ts).
 */
export const ROOT_PROPAGATIONS = ["rslave", "none"] as const;

const PROMETHEUS_SIZE = /^\d+(B|KB|MB|GB|TB|PB|EB)$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,47}$/;
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Job names the stack itself uses; a catalog service may not take one. */
export const RESERVED_JOB_NAMES = ["prometheus", "node-exporter", "blackbox-exporter", "blackbox-health", "grafana", "cadvisor"];

const size = z.string().regex(PROMETHEUS_SIZE, { error: "must be a size such as 512MB, 10GB, 1TB" });

const memoryMb = z.int({ error: "must be a whole number of MB" }).min(32, { error: "must be at least 32 (MB)" });

/** An image reference with an explicit tag or digest; `latest` (or no tag, which means latest) is refused. */
const image = z.string().superRefine((value, ctx) => {
  const withoutDigest = value.split("@")[0];
  const lastSegment = withoutDigest.split("/").pop() ?? "";
  const hasDigest = value.includes("@sha256:");
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  // Repository path lowercase (a registry host may carry a port); tag any case; optional sha256 digest.
  if (!/^[a-z0-9][a-z0-9._/:-]*?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(value)) {
    ctx.addIssue({ code: "custom", message: "is not a valid image reference" });
  } else if (!hasDigest && !tag) {
    ctx.addIssue({ code: "custom", message: "needs an exact tag (e.g. :v3.5.0); an untagged image means latest" });
  } else if (tag === "latest" && !hasDigest) {
    ctx.addIssue({ code: "custom", message: "must be pinned to an exact version, not latest" });
  }
});

export const serviceSchema = z
  .strictObject({
    name: z.string().regex(SERVICE_NAME, {
      error: "must be lowercase letters, digits and dashes, start with a letter, at most 48 characters",
    }),
    metrics: httpUrl.optional(),
    health: httpUrl.optional(),
    logs: z.array(z.string().min(1, { error: "must not be empty" })).optional(),
    /** Alert when this service has written no log line for this long (needs `logs`). */
    maxLogSilence: duration.optional(),
  })
  .superRefine((service, ctx) => {
    if (!service.metrics && !service.health && !service.logs?.length) {
      ctx.addIssue({ code: "custom", message: "has nothing to observe: give at least one of metrics, health, logs" });
    }
    if (service.maxLogSilence && !service.logs?.length) {
      ctx.addIssue({ code: "custom", path: ["maxLogSilence"], message: "needs `logs`: only shipped log files can go silent" });
    }
    if (RESERVED_JOB_NAMES.includes(service.name)) {
      ctx.addIssue({ code: "custom", path: ["name"], message: `"${service.name}" is used by the stack itself; pick another name` });
    }
  });

const alertingSchema = z.strictObject({
  /** Default evaluation interval of a rule group that sets none (the same rule as a group's own `interval`). */
  evaluationInterval: evaluationInterval.optional(),
  /** Prefix for repo-relative `runbook_url` annotations (e.g. https://git.example.com/atra/observability/blob/main/). */
  runbookBaseUrl: httpUrl.optional(),
  // Duplicate names are a cross-field check in resolve.ts, so they are reported even when an entry is invalid.
  contactPoints: z.array(contactPointSchema).optional(),
  /** Where alerts go that match no route; the first contact point when unset. */
  defaultContactPoint: contactPointName.optional(),
  /** Routes tried in order; the first match wins unless it says `continue`. */
  routes: z
    .array(
      z.strictObject({
        match: z.record(labelName, z.string().min(1, { error: "must not be empty" })).refine((match) => Object.keys(match).length > 0, {
          error: "needs at least one label, e.g. { severity: critical }",
        }),
        contactPoint: contactPointName,
        continue: z.boolean().optional(),
      }),
    )
    .optional(),
  groupBy: z.array(labelName).min(1, { error: "needs at least one label" }).optional(),
  groupWait: duration.optional(),
  groupInterval: duration.optional(),
  repeatInterval: duration.optional(),
});

const esDuration = z.string().refine(isEsDuration, { error: "must be an Elasticsearch duration such as 12h, 7d, 30d" });

const logsSchema = z.strictObject({
  /** The logs stage (Elasticsearch, Kibana, the shipper); on by default. */
  enabled: z.boolean().optional(),
  /** Data stream the services' lines go to; `logs-atra-<stack>` by default. */
  dataStream: z
    .string()
    .superRefine((value, ctx) => {
      const problem = validateDataStreamName(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  /** Delete log lines this long after their index rolled over (ILM). */
  retention: esDuration.optional(),
  rolloverMaxAge: esDuration.optional(),
  rolloverMaxPrimaryShardSize: z.string().refine(isEsByteSize, { error: "must be a size such as 512mb, 10gb" }).optional(),
  /** Elasticsearch heap; half the container memory when unset. */
  elasticsearchHeapMb: z.int({ error: "must be a whole number of MB" }).min(256, { error: "must be at least 256 (MB)" }).optional(),
  /** Alert when a service logs more than this many error lines within `errorRateWindow`. */
  errorRateThreshold: z.int({ error: "must be a whole number of lines" }).min(1, { error: "must be at least 1" }).optional(),
  errorRateWindow: duration.optional(),
  /** Where `pulumi up` reaches Elasticsearch and Kibana (e.g. the local end of an SSH tunnel). */
  elasticsearchProviderUrl: httpUrl.optional(),
  kibanaProviderUrl: httpUrl.optional(),
});

export const stackConfigSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(", ")}` }).optional(),
  services: z
    .array(serviceSchema)
    .superRefine((services, ctx) => {
      const firstIndex = new Map<string, number>();
      services.forEach((service, index) => {
        const earlier = firstIndex.get(service.name);
        if (earlier !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [index, "name"],
            message: `duplicate service name "${service.name}" (also services[${earlier}])`,
          });
        } else {
          firstIndex.set(service.name, index);
        }
      });
    })
    .optional(),
  bindAddress: ipv4.optional(),
  publicHostname: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+$/, { error: "must be a host name or address, without scheme or port" })
    .optional(),
  appNetworks: z
    .array(z.string().regex(DOCKER_NAME, { error: "is not a valid Docker network name" }))
    .superRefine((names, ctx) => {
      names.forEach((name, index) => {
        if (names.indexOf(name) !== index) ctx.addIssue({ code: "custom", path: [index], message: `duplicate network "${name}"` });
      });
    })
    .optional(),
  dockerHost: z
    .string()
    .regex(/^(unix|ssh|tcp):\/\/\S+$/, { error: "must be unix:///path/to/docker.sock, ssh://user@host or tcp://host:port" })
    .optional(),
  images: z
    .strictObject({
      prometheus: image.optional(),
      grafana: image.optional(),
      nodeExporter: image.optional(),
      blackboxExporter: image.optional(),
      cadvisor: image.optional(),
      elasticsearch: image.optional(),
      kibana: image.optional(),
      filebeat: image.optional(),
    })
    .optional(),
  ports: z.strictObject({ prometheus: port.optional(), grafana: port.optional(), elasticsearch: port.optional(), kibana: port.optional() }).optional(),
  memoryMb: z
    .strictObject({
      prometheus: memoryMb.optional(),
      grafana: memoryMb.optional(),
      nodeExporter: memoryMb.optional(),
      blackboxExporter: memoryMb.optional(),
      cadvisor: memoryMb.optional(),
      elasticsearch: memoryMb.optional(),
      kibana: memoryMb.optional(),
      filebeat: memoryMb.optional(),
    })
    .optional(),
  logs: logsSchema.optional(),
  /** Password of the stack's Elasticsearch superuser `atra-admin`; generated when unset. */
  elasticPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
  prometheus: z
    .strictObject({
      retentionTime: duration.optional(),
      retentionSize: size.optional(),
      scrapeInterval: duration.optional(),
      scrapeTimeout: duration.optional(),
      evaluationInterval: duration.optional(),
    })
    .optional(),
  grafana: z
    .strictObject({
      adminUser: z
        .string()
        .regex(/^[a-zA-Z0-9._@-]{1,64}$/, { error: "must be 1-64 letters, digits or ._@-" })
        .optional(),
      providerUrl: httpUrl.optional(),
    })
    .optional(),
  grafanaAdminPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
  cadvisor: z.strictObject({ enabled: z.boolean().optional(), privileged: z.boolean().optional() }).optional(),
  alerting: alertingSchema.optional(),
  /** Secret setting of each contact point, by contact point name (`pulumi config set --secret --path alertingSecrets.<name> ...`). */
  alertingSecrets: z.record(z.string(), z.string().min(1, { error: "must not be empty" })).optional(),
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
  /** The stack's own Docker network. */
  network: z
    .strictObject({
      /** Host interface name of the stack's bridge network (what a firewall rule names); `atra-<stack>` by default. */
      bridgeName: z
        .string()
        .superRefine((value, ctx) => {
          const problem = bridgeNameProblem(value);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        })
        .optional(),
    })
    .optional(),
});

export type ServiceConfig = z.infer<typeof serviceSchema>;

/** The top-level keys, for suggestions on typos and for knowing which values are plain strings. */
export const TOP_LEVEL_KEYS = Object.keys(stackConfigSchema.shape);
export const STRING_KEYS = ["environment", "bindAddress", "publicHostname", "dockerHost", "grafanaAdminPassword", "elasticPassword"];
/** Keys whose value must come from `pulumi config set --secret`. */
export const SECRET_KEYS = ["grafanaAdminPassword", "alertingSecrets", "elasticPassword"];
