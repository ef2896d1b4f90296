/**
 * From the raw config keys of a stack to a validated, defaulted StackConfig, or a ConfigError that
 * lists every problem with its config key. Pure: no Pulumi here, so tests and the offline plan call it
 * directly.
 */
import type { z } from "zod";
import { ProblemsError } from "../lib/problems";
import { durationMs } from "../lib/validators";
import { DEFAULT_IMAGES, DEFAULT_NODE_EXPORTER_LISTEN, DEFAULT_PORTS, ENVIRONMENT_DEFAULTS, ENVIRONMENTS, Environment, ImageKey, MemoryKey } from "./defaults";
import { logGlobIssues } from "../logs/filebeat-config";
import { defaultDataStream } from "../logs/elastic-bodies";
import { SECRET_KEYS, ServiceConfig, stackConfigSchema, TOP_LEVEL_KEYS } from "./schema";
import { ContactPointConfig, contactPointSecret } from "../alerting/contact-point-types";
import type { ROOT_PROPAGATIONS } from "./schema";
import { defaultBridgeName } from "../docker/names";

export type RootPropagation = (typeof ROOT_PROPAGATIONS)[number];

export const CONFIG_NAMESPACE = "atra-observability";

/**
 * What the offline plan puts in place of a `secure:` value it cannot decrypt. Secret values are
 * checked for shape only when they are real, so the plan of a stack with encrypted settings works.
 */
export const UNDECRYPTED_SECRET = "offline-plan-secret-placeholder";

export interface ConfigIssue {
  /** The full config key, e.g. `atra-observability:services[1].metrics`. */
  key: string;
  message: string;
}

export class ConfigError extends ProblemsError {
  constructor(
    readonly stack: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `Stack config "${stack}"`,
      issues.map((issue) => `${issue.key}: ${issue.message}`),
    );
  }
}

export interface StackConfig {
  stack: string;
  environment: Environment;
  /** Prefix of every Docker object's name, so two stacks can share a host. */
  namePrefix: string;
  services: ServiceConfig[];
  bindAddress: string;
  publicHostname: string;
  appNetworks: string[];
  dockerHost?: string;
  images: Record<ImageKey, string>;
  ports: { prometheus: number; grafana: number; elasticsearch: number; kibana: number };
  memoryMb: Record<MemoryKey, number>;
  prometheus: {
    retentionTime: string;
    retentionSize: string;
    scrapeInterval: string;
    scrapeTimeout: string;
    evaluationInterval: string;
  };
  grafana: {
    adminUser: string;
    /** Where people open Grafana (stack output, GF_SERVER_ROOT_URL). */
    publicUrl: string;
    /** Where the Grafana provider talks to Grafana from the machine running `pulumi up`. */
    providerUrl: string;
  };
  prometheusPublicUrl: string;
  cadvisor: { enabled: boolean; privileged: boolean };
  nodeExporter: {
    listenAddress: string;
    /** Propagation of its bind of the host root: `rslave`, or `none` on hosts whose `/` is a private mount. */
    rootPropagation: RootPropagation;
  };
  /** The stack's own bridge network; `bridgeName` is its host interface (for firewall rules). */
  network: { bridgeName: string };
  alerting: AlertingConfig;
  logs: LogsConfig;
}

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

export interface AlertingConfig {
  /** Interval of a rule group that sets none. */
  evaluationInterval: string;
  runbookBaseUrl?: string;
  contactPoints: ContactPointConfig[];
  /** A configured contact point, or Grafana's built-in one when none is configured. */
  defaultContactPoint: string;
  routes: { match: Record<string, string>; contactPoint: string; continue: boolean }[];
  groupBy: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

/**
 * Grafana's own contact point, present in every fresh Grafana: a stack with no contact point routes
 * there, so alerts are listed in Grafana and nothing is sent until one is configured.
 */
export const GRAFANA_DEFAULT_CONTACT_POINT = "grafana-default-email";

export interface StackSecrets {
  grafanaAdminPassword?: string;
  /** Contact point name to its secret setting (webhook/Slack URL, Telegram bot token). */
  alertingSecrets: Record<string, string>;
  elasticPassword?: string;
}

export interface RawConfigInput {
  stack: string;
  /** Config values by key without the namespace, already parsed from their stored form. */
  values: Record<string, unknown>;
  /** Keys (without namespace) that were stored encrypted (`pulumi config set --secret`). */
  secretKeys: string[];
  /**
   * Where each encrypted (`secure:`) value sits inside its key, when the stack file is at hand
   * (`["services", 0, "metrics"]`): a misplaced one is then reported at that path, not at its key.
   */
  securePaths?: (string | number)[][];
  /** Problems found in the config store itself (keys outside any known namespace), reported with the rest. */
  storeIssues?: ConfigIssue[];
}

/** Validate and default a stack's config; throws ConfigError listing every problem. */
export function resolveStackConfig(input: RawConfigInput): { config: StackConfig; secrets: StackSecrets } {
  const parsed = stackConfigSchema.safeParse(input.values, { reportInput: false });
  const issues: ConfigIssue[] = [
    // A value the offline plan could not decrypt has no shape to check (its key is still checked for being secret).
    ...(parsed.success ? [] : parsed.error.issues.filter((issue) => valueAt(input.values, issue.path) !== UNDECRYPTED_SECRET).flatMap(toConfigIssues)),
    ...secretHandlingIssues(input),
    ...crossFieldIssues(input),
    ...(input.storeIssues ?? []),
  ];
  if (!parsed.success || issues.length > 0) throw new ConfigError(input.stack, sortIssues(issues));

  const raw = parsed.data;
  const environment = raw.environment ?? environmentFromStackName(input.stack);
  const envDefaults = ENVIRONMENT_DEFAULTS[environment];
  const ports = { ...DEFAULT_PORTS, ...raw.ports };
  const bindAddress = raw.bindAddress ?? "127.0.0.1";
  const publicHostname = raw.publicHostname ?? (bindAddress === "127.0.0.1" || bindAddress === "0.0.0.0" ? "localhost" : bindAddress);
  const { scrapeInterval, scrapeTimeout } = scrapeTimings(raw.prometheus);
  const memoryMb = { ...envDefaults.memoryMb, ...raw.memoryMb };

  // Where `pulumi up` reaches Grafana: the bind address, or loopback when bound to every interface.
  const localHost = bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress;
  const config: StackConfig = {
    stack: input.stack,
    environment,
    namePrefix: `atra-obs-${input.stack}`,
    services: raw.services ?? [],
    bindAddress,
    publicHostname,
    appNetworks: raw.appNetworks ?? [],
    dockerHost: raw.dockerHost,
    images: { ...DEFAULT_IMAGES, ...raw.images },
    ports,
    memoryMb,
    prometheus: {
      retentionTime: raw.prometheus?.retentionTime ?? envDefaults.retentionTime,
      retentionSize: raw.prometheus?.retentionSize ?? envDefaults.retentionSize,
      scrapeInterval,
      scrapeTimeout,
      evaluationInterval: raw.prometheus?.evaluationInterval ?? scrapeInterval,
    },
    grafana: {
      adminUser: raw.grafana?.adminUser ?? "admin",
      publicUrl: `http://${publicHostname}:${ports.grafana}`,
      providerUrl: raw.grafana?.providerUrl?.replace(/\/+$/, "") ?? `http://${localHost}:${ports.grafana}`,
    },
    prometheusPublicUrl: `http://${publicHostname}:${ports.prometheus}`,
    cadvisor: { enabled: raw.cadvisor?.enabled ?? true, privileged: raw.cadvisor?.privileged ?? false },
    nodeExporter: {
      listenAddress: raw.nodeExporter?.listenAddress ?? DEFAULT_NODE_EXPORTER_LISTEN,
      rootPropagation: raw.nodeExporter?.rootPropagation ?? "rslave",
    },
    network: { bridgeName: raw.network?.bridgeName ?? defaultBridgeName(input.stack) },
    alerting: alertingConfig(raw.alerting),
    logs: {
      enabled: raw.logs?.enabled ?? true,
      dataStream: raw.logs?.dataStream ?? defaultDataStream(input.stack),
      retention: raw.logs?.retention ?? envDefaults.logRetention,
      rolloverMaxAge: raw.logs?.rolloverMaxAge ?? "1d",
      rolloverMaxPrimaryShardSize: raw.logs?.rolloverMaxPrimaryShardSize ?? "10gb",
      elasticsearchHeapMb: raw.logs?.elasticsearchHeapMb ?? defaultHeapMb(memoryMb.elasticsearch),
      errorRateThreshold: raw.logs?.errorRateThreshold ?? 10,
      errorRateWindow: raw.logs?.errorRateWindow ?? "5m",
      kibanaPublicUrl: `http://${publicHostname}:${ports.kibana}`,
      elasticsearchPublicUrl: `http://${publicHostname}:${ports.elasticsearch}`,
      elasticsearchProviderUrl: raw.logs?.elasticsearchProviderUrl?.replace(/\/+$/, "") ?? `http://${localHost}:${ports.elasticsearch}`,
      kibanaProviderUrl: raw.logs?.kibanaProviderUrl?.replace(/\/+$/, "") ?? `http://${localHost}:${ports.kibana}`,
    },
  };
  return {
    config,
    secrets: { grafanaAdminPassword: raw.grafanaAdminPassword, alertingSecrets: raw.alertingSecrets ?? {}, elasticPassword: raw.elasticPassword },
  };
}

/** Half the container's memory, the usual Elasticsearch sizing (the rest is file cache). */
function defaultHeapMb(containerMb: number): number {
  return Math.max(256, Math.floor(containerMb / 2));
}

function alertingConfig(raw: z.infer<typeof stackConfigSchema.shape.alerting>): AlertingConfig {
  const contactPoints = raw?.contactPoints ?? [];
  return {
    evaluationInterval: raw?.evaluationInterval ?? "1m",
    runbookBaseUrl: raw?.runbookBaseUrl,
    contactPoints,
    defaultContactPoint: raw?.defaultContactPoint ?? contactPoints[0]?.name ?? GRAFANA_DEFAULT_CONTACT_POINT,
    routes: (raw?.routes ?? []).map((route) => ({ ...route, continue: route.continue ?? false })),
    // One notification per alert and service (or host/target when the alert has no service label).
    groupBy: raw?.groupBy ?? ["alertname", "service", "instance"],
    groupWait: raw?.groupWait ?? "30s",
    groupInterval: raw?.groupInterval ?? "5m",
    repeatInterval: raw?.repeatInterval ?? "4h",
  };
}

/**
 * A secret setting given in plain text would sit in the stack file, in git; a non-secret setting
 * stored encrypted would be used in plain text (rendered files, container settings) while looking
 * protected. Both are refused.
 */
function secretHandlingIssues(input: RawConfigInput): ConfigIssue[] {
  const plainSecrets = SECRET_KEYS.filter((key) => input.values[key] !== undefined && !input.secretKeys.includes(key)).map((key) => ({
    key: fullKey([key]),
    message: `must be stored encrypted: pulumi config set --secret ${key} (a plain-text value would sit in the stack file)`,
  }));
  const encryptedPlain = input.secretKeys
    .filter((key) => !SECRET_KEYS.includes(key))
    .flatMap((key) => {
      // Pulumi marks the whole key secret when any value inside it is: name the value itself when the stack file says where it is.
      const inside = (input.securePaths ?? []).filter((path) => path[0] === key);
      return (inside.length > 0 ? inside : [[key]]).map((path) => ({
        key: fullKey(path),
        message: `is stored encrypted but is not a secret setting: its value would be used in plain text in rendered files; store it without --secret (secret settings: ${SECRET_KEYS.join(", ")})`,
      }));
    });
  return [...plainSecrets, ...encryptedPlain];
}

/**
 * Rules across fields, checked on whichever parts are valid on their own, so they are reported
 * together with every other problem rather than on the next run.
 */
function crossFieldIssues(input: RawConfigInput): ConfigIssue[] {
  const values = input.values;
  const issues: ConfigIssue[] = [];
  const prometheus = stackConfigSchema.shape.prometheus.safeParse(values.prometheus);
  if (prometheus.success) {
    const { scrapeInterval, scrapeTimeout } = scrapeTimings(prometheus.data);
    if (durationMs(scrapeTimeout) > durationMs(scrapeInterval)) {
      issues.push({
        key: fullKey(["prometheus", "scrapeTimeout"]),
        message: `${scrapeTimeout} is longer than prometheus.scrapeInterval ${scrapeInterval}; Prometheus refuses that`,
      });
    }
  }
  const ports = stackConfigSchema.shape.ports.safeParse(values.ports);
  if (ports.success) {
    const effective = Object.entries({ ...DEFAULT_PORTS, ...ports.data });
    effective.forEach(([name, port], index) => {
      const other = effective.slice(0, index).find(([, earlier]) => earlier === port);
      if (other) issues.push({ key: fullKey(["ports"]), message: `${other[0]} and ${name} both use port ${port}` });
    });
  }
  issues.push(...logsIssues(values, input.stack));
  issues.push(...alertingIssues(values));
  return issues;
}

/**
 * The shipper's globs, an Elasticsearch heap that leaves the JVM room inside its container, and the
 * provider URLs a remote Docker host needs.
 */
function logsIssues(values: Record<string, unknown>, stack: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (Array.isArray(values.services)) {
    // Checked on the raw entries so a bad glob is reported even when another field of its service is wrong.
    const logServices = (values.services as { name?: unknown; logs?: unknown }[]).map((service) => ({
      name: typeof service?.name === "string" ? service.name : "",
      logs: Array.isArray(service?.logs) ? service.logs.filter((glob): glob is string => typeof glob === "string") : [],
    }));
    for (const issue of logGlobIssues(logServices)) issues.push({ key: fullKey(issue.path), message: issue.message });
  }
  const rawLogs = values.logs as
    { elasticsearchHeapMb?: unknown; enabled?: unknown; elasticsearchProviderUrl?: unknown; kibanaProviderUrl?: unknown } | undefined;
  const memory = stackConfigSchema.shape.memoryMb.safeParse(values.memoryMb);
  const environment = stackConfigSchema.shape.environment.safeParse(values.environment);
  if (memory.success && environment.success && rawLogs?.enabled !== false) {
    const containerMb = memory.data?.elasticsearch ?? ENVIRONMENT_DEFAULTS[environment.data ?? environmentFromStackName(stack)].memoryMb.elasticsearch;
    const heapMb = typeof rawLogs?.elasticsearchHeapMb === "number" ? rawLogs.elasticsearchHeapMb : defaultHeapMb(containerMb);
    if (heapMb > containerMb * 0.75) {
      const explicit = typeof rawLogs?.elasticsearchHeapMb === "number";
      issues.push({
        key: fullKey(explicit ? ["logs", "elasticsearchHeapMb"] : ["memoryMb", "elasticsearch"]),
        message: explicit
          ? `${heapMb} MB leaves too little of the ${containerMb} MB container (memoryMb.elasticsearch) outside the heap; keep it at most 75%, usually 50%`
          : `${containerMb} MB is too little for Elasticsearch: its smallest heap (${heapMb} MB) needs a container of at least ${Math.ceil(heapMb / 0.75)} MB`,
      });
    }
  }
  // On a remote Docker host the ports are published there, not here: `pulumi up` needs to be told how to reach them.
  const dockerHost = values.dockerHost;
  if (typeof dockerHost === "string" && dockerHost.startsWith("ssh://")) {
    const grafana = values.grafana as { providerUrl?: unknown } | undefined;
    const needed: [string[], unknown][] = [[["grafana", "providerUrl"], grafana?.providerUrl]];
    if (rawLogs?.enabled !== false) {
      needed.push([["logs", "elasticsearchProviderUrl"], rawLogs?.elasticsearchProviderUrl], [["logs", "kibanaProviderUrl"], rawLogs?.kibanaProviderUrl]);
    }
    for (const [path, value] of needed) {
      if (value === undefined) {
        issues.push({
          key: fullKey(path),
          message: `is required with an ssh:// dockerHost: the local end of an SSH tunnel to the published port (see README "Remote Docker host")`,
        });
      }
    }
  }
  return issues;
}

/**
 * Contact point references and secrets. Secret values are checked for shape but never echoed, and the
 * messages say how to set them.
 */
function alertingIssues(values: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const rawPoints = (values.alerting as { contactPoints?: unknown } | undefined)?.contactPoints;
  if (Array.isArray(rawPoints)) {
    const rawNames = rawPoints.map((point) => (point as { name?: unknown } | null)?.name);
    rawNames.forEach((name, index) => {
      const first = rawNames.indexOf(name);
      if (typeof name === "string" && first !== index) {
        issues.push({
          key: fullKey(["alerting", "contactPoints", index, "name"]),
          message: `duplicate contact point "${name}" (also contactPoints[${first}])`,
        });
      }
    });
  }
  const alerting = stackConfigSchema.shape.alerting.safeParse(values.alerting);
  const secrets = stackConfigSchema.shape.alertingSecrets.safeParse(values.alertingSecrets);
  if (!alerting.success || !secrets.success) return issues;
  const points = alerting.data?.contactPoints ?? [];
  const names = points.map((point) => point.name);
  const unknown = (name: string) => `no contact point named "${name}" (configured: ${names.length > 0 ? names.join(", ") : "none"})`;
  const defaultPoint = alerting.data?.defaultContactPoint;
  if (defaultPoint && !names.includes(defaultPoint)) issues.push({ key: fullKey(["alerting", "defaultContactPoint"]), message: unknown(defaultPoint) });
  const routes = alerting.data?.routes ?? [];
  routes.forEach((route, index) => {
    if (!names.includes(route.contactPoint)) issues.push({ key: fullKey(["alerting", "routes", index, "contactPoint"]), message: unknown(route.contactPoint) });
  });
  // Alertmanager's routing (prometheus/alertmanager dispatch/route.go, Route.Match), which Grafana's
  // built-in Alertmanager runs: `continue` only lets later sibling routes match too; the default
  // contact point receives an alert only when no route matched. On the last route it does nothing.
  const last = routes.length - 1;
  if (last >= 0 && routes[last].continue) {
    issues.push({
      key: fullKey(["alerting", "routes", last, "continue"]),
      message:
        `has no effect on the last route: alerts it matches reach only "${routes[last].contactPoint}", never the default contact point ` +
        "(the default receives only alerts no route matched). To notify a second contact point too, add a later route with the same match for it.",
    });
  }
  const given = secrets.data ?? {};
  points.forEach((point, index) => {
    const secret = contactPointSecret(point.type);
    const value = given[point.name];
    if (secret && value === undefined) {
      issues.push({
        key: fullKey(["alerting", "contactPoints", index]),
        message: `${point.type} contact point "${point.name}" needs its ${secret.name}: pulumi config set --secret --path 'alertingSecrets.${point.name}' <value>`,
      });
    } else if (secret && value !== undefined && value !== UNDECRYPTED_SECRET) {
      const problem = secret.problem(value);
      if (problem) issues.push({ key: fullKey(["alertingSecrets", point.name]), message: problem });
    }
  });
  for (const name of Object.keys(given)) {
    const point = points.find((candidate) => candidate.name === name);
    if (!point) issues.push({ key: fullKey(["alertingSecrets", name]), message: unknown(name) });
    else if (!contactPointSecret(point.type)) {
      issues.push({ key: fullKey(["alertingSecrets", name]), message: `${point.type} contact points take no secret; remove it` });
    }
  }
  return issues;
}

/** Scrape interval (default 15s) and timeout (default 10s, or the interval when that is shorter). */
function scrapeTimings(prometheus: { scrapeInterval?: string; scrapeTimeout?: string } | undefined) {
  const scrapeInterval = prometheus?.scrapeInterval ?? "15s";
  const scrapeTimeout = prometheus?.scrapeTimeout ?? (durationMs(scrapeInterval) < 10_000 ? scrapeInterval : "10s");
  return { scrapeInterval, scrapeTimeout };
}

/** `dev`, `staging` and `prod` stacks default to their own environment; any other stack name to dev. */
export function environmentFromStackName(stack: string): Environment {
  return (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : "dev";
}

export function fullKey(path: PropertyKey[]): string {
  let key = `${CONFIG_NAMESPACE}:`;
  path.forEach((segment, index) => {
    if (typeof segment === "number") key += `[${segment}]`;
    else key += index === 0 ? String(segment) : `.${String(segment)}`;
  });
  return key;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((unknownKey) => {
      const suggestion = closest(unknownKey, known);
      return {
        key: fullKey([...issue.path, unknownKey]),
        message: `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
      };
    });
  }
  if (issue.code === "invalid_type") {
    return [{ key: fullKey(issue.path), message: issue.message.startsWith("Invalid input") ? `expected ${issue.expected}` : issue.message }];
  }
  return [{ key: fullKey(issue.path), message: issue.message }];
}

/** The keys the schema knows at a path, to suggest the nearest one for a typo. */
function knownKeysAt(path: PropertyKey[]): string[] {
  let schema: unknown = stackConfigSchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (typeof segment === "number") schema = (schema as { element?: unknown }).element;
    else schema = (schema as { shape?: Record<string, unknown> }).shape?.[String(segment)];
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : path.length === 0 ? TOP_LEVEL_KEYS : [];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { type?: string; innerType?: unknown; in?: unknown; schema?: unknown } } | undefined;
  while (current?.def && ["optional", "pipe", "default"].includes(current.def.type ?? "")) {
    current = (current.def.innerType ?? current.def.in) as typeof current;
  }
  return current;
}

function valueAt(values: unknown, path: PropertyKey[]): unknown {
  let node = values;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** The candidate nearest to `word` within a few edits, for "did you mean". */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.key.localeCompare(b.key, "en", { numeric: true }));
}
