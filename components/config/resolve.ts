/**
 * From the raw config keys of a stack to a validated, defaulted StackConfig, or a ConfigError that
 * lists every problem with its config key. Pure: no Pulumi here, so tests and the offline plan call it
 * directly. What each key means, its defaults and its rules belong to the feature that owns it
 * (stack-config.ts lists them); this module only runs them together.
 */
import { REMOVED_PROMETHEUS_KEYS } from "../metrics/remote-config";
import type { z } from "zod";
import { closest, ConfigIssue, fullKey, UNDECRYPTED_SECRET } from "../lib/config-keys";
import { ProblemsError } from "../lib/problems";
import { DEFAULT_IMAGES, DEFAULT_MEMORY_MB, DEFAULT_PORTS, ImageKey, MemoryKey, PortKey, runningServices } from "../stack-services";
import { imageDigestIssues } from "./image-versions";
import { Environment, environmentFromStackName } from "./environments";
import { Role, roleOf } from "./role";
import { stackNameProblem } from "./stack-name";
import type { CoreSettings, RuleContext } from "./slice";
import {
  coreRules,
  enabledFeatures,
  FEATURE_SLICES,
  FeatureParts,
  ruleEnvironment,
  SECRET_KEYS,
  ServiceConfig,
  stackConfigSchema,
  TOP_LEVEL_KEYS,
} from "./stack-config";

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

/** The config layer's own settings. */
export interface CoreConfig {
  stack: string;
  environment: Environment;
  /** `central`, or `agent`: one more application host that only collects and ships (role.ts). */
  role: Role;
  /** Prefix of every Docker object's name, so two stacks can share a host. */
  namePrefix: string;
  services: ServiceConfig[];
  bindAddress: string;
  publicHostname: string;
  images: Record<ImageKey, string>;
  ports: Record<PortKey, number>;
  memoryMb: Record<MemoryKey, number>;
}

/** Everything the program needs: the core settings and each feature's part under its own keys. */
export type StackConfig = CoreConfig & FeatureParts;

export interface StackSecrets {
  grafanaAdminPassword?: string;
  /** Contact point name to its secret setting (webhook/Slack URL, Telegram bot token). */
  alertingSecrets: Record<string, string>;
  elasticPassword?: string;
  /** An external Grafana's service account token (`grafana.external`). */
  grafanaApiToken?: string;
  /** An external Elastic cluster's encoded API key (`logs.external`). */
  elasticApiKey?: string;
  /** Remote write name to its basic auth password or Bearer token. */
  remoteWriteSecrets: Record<string, string>;
  /** The basic auth password of `prometheus.external.queryUrl`. */
  prometheusQueryPassword?: string;
  /** An agent host's Filebeat API key (`id:api_key`, or its encoded form). */
  logShipperApiKey?: string;
  /** An agent host pulled by the central stack: its entry of the central output agentFederation (JSON). */
  federation?: string;
  /** `tls.mode: provided`: the server certificate chain and its key (PEM). */
  tlsCertificate?: string;
  tlsKey?: string;
  /** A tcp:// dockerHost's client key (PEM), the provider's key_material. */
  dockerClientKey?: string;
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
  /** Where the plain (not `secure:`) leaf values sit in the stack file, when it is at hand: a plain value inside a secret map is found by it. */
  plainPaths?: (string | number)[][];
  /** Problems found in the config store itself (keys outside any known namespace), reported with the rest. */
  storeIssues?: ConfigIssue[];
}

const DEFAULT_BIND_ADDRESS = "127.0.0.1";

/** Validate and default a stack's config; throws ConfigError listing every problem. */
export function resolveStackConfig(input: RawConfigInput): { config: StackConfig; secrets: StackSecrets } {
  const parsed = stackConfigSchema.safeParse(input.values, { reportInput: false });
  const context: RuleContext = {
    stack: input.stack,
    environment: ruleEnvironment(input.values, input.stack),
    role: roleOf(input.values),
    enabled: enabledFeatures(input.values),
    values: input.values,
  };
  const issues: ConfigIssue[] = [
    // A value the offline plan could not decrypt has no shape to check (its key is still checked for being secret).
    ...(parsed.success
      ? []
      : parsed.error.issues
          .filter((issue) => valueAt(input.values, issue.path) !== UNDECRYPTED_SECRET)
          .flatMap((issue) => toConfigIssues(issue, input.values))),
    ...secretHandlingIssues(input),
    ...stackNameIssues(input.stack),
    ...coreRules(context),
    ...FEATURE_SLICES.flatMap((slice) => ("rules" in slice ? (slice.rules?.(context) ?? []) : [])),
    ...(input.storeIssues ?? []),
  ];
  if (!parsed.success || issues.length > 0) throw new ConfigError(input.stack, sortIssues(issues));

  const raw = parsed.data;
  const environment = raw.environment ?? environmentFromStackName(input.stack);
  const bindAddress = raw.bindAddress ?? DEFAULT_BIND_ADDRESS;
  const core: CoreConfig = {
    stack: input.stack,
    environment,
    role: raw.role ?? "central",
    namePrefix: `atra-obs-${input.stack}`,
    services: raw.services ?? [],
    bindAddress,
    publicHostname: raw.publicHostname ?? (bindAddress === "127.0.0.1" || bindAddress === "0.0.0.0" ? "localhost" : bindAddress),
    images: { ...DEFAULT_IMAGES, ...raw.images },
    ports: { ...DEFAULT_PORTS, ...raw.ports },
    memoryMb: { ...DEFAULT_MEMORY_MB[environment], ...raw.memoryMb },
  };
  const settings: CoreSettings = {
    ...core,
    enabled: context.enabled,
    // Where `pulumi up` reaches a published port: the bind address, or loopback when bound to every interface.
    localHost: bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress,
  };
  const parts = FEATURE_SLICES.map((slice) => (slice.resolve as (raw: unknown, core: CoreSettings) => object)(raw, settings));
  const config = Object.assign({}, core, ...parts) as StackConfig;
  // Digests where the stack asks for them, on the images it runs (known only now): image-versions.ts.
  const digestIssues = imageDigestIssues(raw.requireImageDigests, config.images, runningServices(config));
  if (digestIssues.length > 0) throw new ConfigError(input.stack, sortIssues(digestIssues));
  return {
    config,
    secrets: {
      grafanaAdminPassword: raw.grafanaAdminPassword,
      alertingSecrets: raw.alertingSecrets ?? {},
      elasticPassword: raw.elasticPassword,
      grafanaApiToken: raw.grafanaApiToken,
      elasticApiKey: raw.elasticApiKey,
      remoteWriteSecrets: raw.remoteWriteSecrets ?? {},
      prometheusQueryPassword: raw.prometheusQueryPassword,
      logShipperApiKey: raw.logShipperApiKey,
      federation: raw.federation,
      tlsCertificate: raw.tlsCertificate,
      tlsKey: raw.tlsKey,
      dockerClientKey: raw.dockerClientKey,
    },
  };
}

/**
 * A secret setting given in plain text would sit in the stack file, in git; a non-secret setting
 * stored encrypted would be used in plain text (rendered files, container settings) while looking
 * protected. Both are refused.
 */
function secretHandlingIssues(input: RawConfigInput): ConfigIssue[] {
  const plainSecrets = SECRET_KEYS.filter((key) => input.values[key] !== undefined).flatMap((key) => {
    const value = input.values[key];
    // A map of secrets (alertingSecrets, remoteWriteSecrets) is encrypted value by value, with --path.
    const isMap = value !== null && typeof value === "object" && !Array.isArray(value);
    if (!input.secretKeys.includes(key)) {
      const leaves = isMap ? Object.keys(value).map((name) => [key, name]) : [[key]];
      return (leaves.length > 0 ? leaves : [[key]]).map((path) => plainSecretIssue(path));
    }
    // Pulumi marks the whole key secret when one value inside it is (pulumi-config.ts, stackFilePlainPaths): check every value.
    return (input.plainPaths ?? []).filter((path) => path[0] === key).map((path) => plainSecretIssue(path));
  });
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

/** A secret setting found in plain text, with the command that stores that very value encrypted. */
function plainSecretIssue(path: (string | number)[]): ConfigIssue {
  const command = path.length === 1 ? `pulumi config set --secret ${String(path[0])}` : `pulumi config set --secret --path '${pulumiConfigPath(path)}'`;
  return {
    key: fullKey(path),
    message: `must be stored encrypted: ${command} <value> (a plain-text value would sit in the stack file, in git)`,
  };
}

/** A path as `pulumi config set --path` writes it: `a.b`, `a[0]`, or `a["b.c"]` for a name that is not a plain word. */
export function pulumiConfigPath(path: (string | number)[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join("");
}

function stackNameIssues(stack: string): ConfigIssue[] {
  const problem = stackNameProblem(stack);
  return problem ? [{ key: `stack ${JSON.stringify(stack)}`, message: problem }] : [];
}

/** Keys that were removed, by dotted path, with what replaced them. */
const REMOVED_KEYS: Record<string, string> = { ...REMOVED_PROMETHEUS_KEYS };

function toConfigIssues(issue: z.core.$ZodIssue, values: Record<string, unknown>): ConfigIssue[] {
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((unknownKey) => {
      const removed = REMOVED_KEYS[[...issue.path, unknownKey].join(".")];
      if (removed) return { key: fullKey([...issue.path, unknownKey]), message: removed };
      const suggestion = closest(unknownKey, known);
      return {
        key: fullKey([...issue.path, unknownKey]),
        message: `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
      };
    });
  }
  if (issue.code === "invalid_type") {
    // A required key that is absent is "missing", not a value of the wrong type.
    const missing = issue.path.length > 0 && !hasKeyAt(values, issue.path);
    if (missing) return [{ key: fullKey(issue.path), message: `is required (a ${issue.expected}) and missing` }];
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

/** Whether the last segment of `path` is present in its parent (a key given as null is present). */
function hasKeyAt(values: unknown, path: PropertyKey[]): boolean {
  const parent = valueAt(values, path.slice(0, -1));
  return parent !== null && typeof parent === "object" && Object.prototype.hasOwnProperty.call(parent, path[path.length - 1]);
}

function valueAt(values: unknown, path: PropertyKey[]): unknown {
  let node = values;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.key.localeCompare(b.key, "en", { numeric: true }));
}
