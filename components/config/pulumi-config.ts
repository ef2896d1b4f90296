/**
 * The bridge between Pulumi's config store and the pure resolver: reads this project's keys,
 * validates them all at once, and hands secrets back as Pulumi secrets. A bad config stops the
 * program here, before any resource is registered.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { closest, CONFIG_NAMESPACE, ConfigIssue } from "../lib/config-keys";
import { RawConfigInput, resolveStackConfig, StackConfig } from "./resolve";
import { stopOnProblems } from "../lib/problems";
import { STRING_KEYS } from "./stack-config";
import { parseStackYaml } from "./stack-yaml";

/**
 * Config namespaces besides this project's that a stack file may hold: Pulumi's own (`pulumi:`, e.g.
 * `pulumi:disable-default-providers`) and those of the provider packages the program uses (each reads
 * `<package>:<key>`; the names are the `pulumi.name` of @pulumi/docker, @pulumiverse/grafana,
 * @pulumi/random, @pulumi/tls). A key in any other namespace is a typo (`atra-observabilty:`) or meant for
 * something this program does not run, and is reported.
 */
export const ALLOWED_OTHER_NAMESPACES = ["pulumi", "docker", "grafana", "random", "tls"];

export interface LoadedConfig {
  config: StackConfig;
  /** From secret config, or undefined: the caller generates one. */
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Contact point name to its secret setting. */
  alertingSecrets: Record<string, pulumi.Output<string>>;
  /** The Elasticsearch administrator's password from secret config, or undefined: generated. */
  elasticPassword?: pulumi.Output<string>;
  /** An external Grafana's service account token. */
  grafanaApiToken?: pulumi.Output<string>;
  /** An external Elastic cluster's encoded API key. */
  elasticApiKey?: pulumi.Output<string>;
  /** Remote write name to its password or token (the credentials file uploaded into Prometheus). */
  remoteWriteSecrets: Record<string, pulumi.Output<string>>;
  /** Grafana's basic auth password for `prometheus.external.queryUrl`. */
  prometheusQueryPassword?: pulumi.Output<string>;
  /** An agent host's Filebeat API key, as given (`id:api_key` or the encoded form). */
  logShipperApiKey?: pulumi.Output<string>;
  /** An agent host pulled by the central stack: its entry of the central output agentFederation (JSON). */
  federation?: pulumi.Output<string>;
  /** `tls.mode: provided`: the server certificate chain and key. */
  tlsCertificate?: pulumi.Output<string>;
  tlsKey?: pulumi.Output<string>;
  /** A tcp:// dockerHost's client key (the provider's key_material). */
  dockerClientKey?: pulumi.Output<string>;
}

export function loadStackConfig(): LoadedConfig {
  // `isConfigSecret` is marked internal in the SDK's typings but is how the engine's secret flags reach the program.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  if (typeof isSecret !== "function") {
    throw new pulumi.RunError("this @pulumi/pulumi version does not say which config values are secret; use the version in package.json");
  }
  const stored = pulumi.runtime.allConfig();
  const secretKeys = Object.keys(stored).filter((key) => isSecret(key));
  const stack = pulumi.getStack();
  return stopOnProblems(() => {
    const raw = rawConfigFromStore(stack, stored, secretKeys);
    // The engine says only which keys hold a secret; the stack file (the program runs in the project folder) says where.
    const file = path.join(process.cwd(), `Pulumi.${stack}.yaml`);
    const { config, secrets } = resolveStackConfig({ ...raw, securePaths: stackFileSecurePaths(file), plainPaths: stackFilePlainPaths(file) });
    return {
      config,
      grafanaAdminPassword: secrets.grafanaAdminPassword === undefined ? undefined : pulumi.secret(secrets.grafanaAdminPassword),
      elasticPassword: secrets.elasticPassword === undefined ? undefined : pulumi.secret(secrets.elasticPassword),
      grafanaApiToken: secrets.grafanaApiToken === undefined ? undefined : pulumi.secret(secrets.grafanaApiToken),
      elasticApiKey: secrets.elasticApiKey === undefined ? undefined : pulumi.secret(secrets.elasticApiKey),
      alertingSecrets: Object.fromEntries(Object.entries(secrets.alertingSecrets).map(([name, value]) => [name, pulumi.secret(value)])),
      remoteWriteSecrets: Object.fromEntries(Object.entries(secrets.remoteWriteSecrets).map(([name, value]) => [name, pulumi.secret(value)])),
      prometheusQueryPassword: secrets.prometheusQueryPassword === undefined ? undefined : pulumi.secret(secrets.prometheusQueryPassword),
      logShipperApiKey: secrets.logShipperApiKey === undefined ? undefined : pulumi.secret(secrets.logShipperApiKey),
      federation: secrets.federation === undefined ? undefined : pulumi.secret(secrets.federation),
      tlsCertificate: secrets.tlsCertificate === undefined ? undefined : pulumi.secret(secrets.tlsCertificate),
      tlsKey: secrets.tlsKey === undefined ? undefined : pulumi.secret(secrets.tlsKey),
      dockerClientKey: secrets.dockerClientKey === undefined ? undefined : pulumi.secret(secrets.dockerClientKey),
    };
  });
}

/**
 * This project's keys from the config store as the engine hands it over (full `project:key` keys,
 * stored text), namespace stripped and values parsed, ready for the resolver.
 */
export function rawConfigFromStore(stack: string, stored: Record<string, string>, secretFullKeys: string[]): RawConfigInput {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(stored)) {
    if (fullKey.startsWith(prefix)) values[fullKey.slice(prefix.length)] = parseStoredValue(fullKey.slice(prefix.length), text);
  }
  const secretKeys = secretFullKeys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  return { stack, values, secretKeys, storeIssues: [...namespaceIssues(Object.keys(stored)), ...configSizeIssues(stored)] };
}

/**
 * The most config a Pulumi program can be given. pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go
 * (execRuntime, constructConfig) passes the whole config to Node as one environment variable,
 * `PULUMI_CONFIG=<JSON of "<namespace>:config:<key>" to stored text>`, and Linux refuses to start a
 * process with one environment string longer than MAX_ARG_STRLEN (32 pages, 131072 bytes with its NUL;
 * include/uapi/linux/binfmts.h). Past that `pulumi up` fails before the program runs (E2BIG).
 */
export const MAX_PULUMI_CONFIG_BYTES = 131072 - "PULUMI_CONFIG=".length - 1;

/** One problem, at the largest key, when the config could not be handed to the program by the Pulumi CLI. */
export function configSizeIssues(stored: Record<string, string>): ConfigIssue[] {
  const entries = Object.entries(stored).map(([key, text]) => {
    const colon = key.indexOf(":");
    const passed = colon > 0 ? `${key.slice(0, colon)}:config:${key.slice(colon + 1)}` : key;
    return { key, bytes: Buffer.byteLength(JSON.stringify({ [passed]: text })) - 2 };
  });
  const total = entries.reduce((sum, entry) => sum + entry.bytes, 2 + Math.max(0, entries.length - 1));
  if (total <= MAX_PULUMI_CONFIG_BYTES) return [];
  const largest = [...entries].sort((a, b) => b.bytes - a.bytes);
  return [
    {
      key: largest[0].key,
      message:
        `is ${largest[0].bytes} bytes, and the stack's config ${total} bytes in all: more than the Pulumi CLI can hand to the program ` +
        `(one environment variable, PULUMI_CONFIG, at most ${MAX_PULUMI_CONFIG_BYTES} bytes on Linux), so \`pulumi up\` could not start. ` +
        `Largest keys: ${largest
          .slice(0, 3)
          .map((entry) => `${entry.key} (${entry.bytes} bytes)`)
          .join(", ")}`,
    },
  ];
}

/** Keys in a namespace that is neither this project's, Pulumi's nor a provider's the program uses. */
export function namespaceIssues(fullKeys: string[]): ConfigIssue[] {
  const allowed = [CONFIG_NAMESPACE, ...ALLOWED_OTHER_NAMESPACES];
  return fullKeys
    .filter((key) => key.includes(":") && !allowed.includes(key.slice(0, key.indexOf(":"))))
    .map((key) => {
      const namespace = key.slice(0, key.indexOf(":"));
      const suggestion = closest(namespace, [CONFIG_NAMESPACE]);
      return {
        key,
        message:
          `unknown namespace "${namespace}"${suggestion ? ` (did you mean ${suggestion}:${key.slice(namespace.length + 1)}?)` : ""}: ` +
          `this program reads ${CONFIG_NAMESPACE}:* keys; besides them only Pulumi's own (pulumi:*) and its providers' (${ALLOWED_OTHER_NAMESPACES.slice(1)
            .map((n) => `${n}:*`)
            .join(", ")}) are allowed`,
      };
    });
}

/**
 * Where the `secure:` values of this project's keys sit in a stack file (`["services", 0, "metrics"]`),
 * or undefined when the file is absent or unreadable (config from elsewhere): then only keys are known.
 */
export function stackFileSecurePaths(file: string): (string | number)[][] | undefined {
  const config = stackFileProjectConfig(file);
  return config && Object.entries(config).flatMap(([key, value]) => securePaths(value, [key]));
}

/**
 * Where the plain (not `secure:`) leaf values of this project's keys sit in a stack file, or undefined
 * without one. The engine marks a whole key secret when any value inside it is encrypted
 * (pulumi/pulumi sdk/go/common/resource/config/object.go: object.Secure is true when any element is;
 * map.go SecureKeys; the language host passes only those keys, PULUMI_CONFIG_SECRET_KEYS), so a plain
 * value beside an encrypted one in `alertingSecrets` is visible only here.
 */
export function stackFilePlainPaths(file: string): (string | number)[][] | undefined {
  const config = stackFileProjectConfig(file);
  return config && Object.entries(config).flatMap(([key, value]) => plainPaths(value, [key]));
}

/** This project's keys (namespace stripped) of a stack file's `config:`, or undefined when there is no readable file. */
function stackFileProjectConfig(file: string): Record<string, unknown> | undefined {
  try {
    if (!fs.existsSync(file)) return undefined;
    const document = parseStackYaml(fs.readFileSync(file), file) as { config?: Record<string, unknown> } | null;
    const config: Record<string, unknown> = {};
    for (const [rawKey, value] of Object.entries(document?.config ?? {})) {
      const [namespace, key] = rawKey.includes(":")
        ? [rawKey.slice(0, rawKey.indexOf(":")), rawKey.slice(rawKey.indexOf(":") + 1)]
        : [CONFIG_NAMESPACE, rawKey];
      if (namespace === CONFIG_NAMESPACE) config[key] = value;
    }
    return config;
  } catch {
    return undefined;
  }
}

/** Paths of the plain leaves (strings, numbers, booleans) inside a stack-file value, `secure:` values excluded. */
export function plainPaths(value: unknown, at: (string | number)[]): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => plainPaths(item, [...at, index]));
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") return [];
    return entries.flatMap(([key, item]) => plainPaths(item, [...at, key]));
  }
  return value === null || value === undefined ? [] : [at];
}

/** Paths of the `{ secure: ... }` values inside a stack-file value. */
export function securePaths(value: unknown, at: (string | number)[]): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => securePaths(item, [...at, index]));
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") return [at];
    return entries.flatMap(([key, item]) => securePaths(item, [...at, key]));
  }
  return [];
}

/**
 * Pulumi stores structured config (objects, lists, numbers, booleans) as JSON text and plain strings
 * as they are. Keys declared as strings are never parsed, so a password like `{abc` stays a string.
 */
export function parseStoredValue(key: string, stored: string): unknown {
  if (STRING_KEYS.includes(key)) return stored;
  try {
    return JSON.parse(stored);
  } catch {
    return stored;
  }
}
