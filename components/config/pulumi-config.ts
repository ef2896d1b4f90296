/**
 * The bridge between Pulumi's config store and the pure resolver: reads this project's keys,
 * validates them all at once, and hands secrets back as Pulumi secrets. A bad config stops the
 * program here, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigError, RawConfigInput, resolveStackConfig, StackConfig } from "./resolve";
import { STRING_KEYS } from "./schema";

export interface LoadedConfig {
  config: StackConfig;
  /** From secret config, or undefined: the caller generates one. */
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Contact point name to its secret setting. */
  alertingSecrets: Record<string, pulumi.Output<string>>;
  /** The Elasticsearch administrator's password from secret config, or undefined: generated. */
  elasticPassword?: pulumi.Output<string>;
}

export function loadStackConfig(): LoadedConfig {
  // `isConfigSecret` is marked internal in the SDK's typings but is how the engine's secret flags reach the program.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  if (typeof isSecret !== "function") {
    throw new pulumi.RunError("this @pulumi/pulumi version does not say which config values are secret; use the version in package.json");
  }
  const stored = pulumi.runtime.allConfig();
  const secretKeys = Object.keys(stored).filter((key) => isSecret(key));
  try {
    const { config, secrets } = resolveStackConfig(rawConfigFromStore(pulumi.getStack(), stored, secretKeys));
    return {
      config,
      grafanaAdminPassword: secrets.grafanaAdminPassword === undefined ? undefined : pulumi.secret(secrets.grafanaAdminPassword),
      elasticPassword: secrets.elasticPassword === undefined ? undefined : pulumi.secret(secrets.elasticPassword),
      alertingSecrets: Object.fromEntries(Object.entries(secrets.alertingSecrets).map(([name, value]) => [name, pulumi.secret(value)])),
    };
  } catch (error) {
    // RunError prints the message without a stack trace: the list of config problems is the whole story.
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
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
  return { stack, values, secretKeys };
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
