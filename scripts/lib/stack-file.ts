/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every key
 * namespaced, structured values as JSON text, and the list of secret keys. Encrypted (`secure:`)
 * values cannot be decrypted offline, so they become a placeholder that is still marked secret.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

import { UNDECRYPTED_SECRET } from "../../components/lib/config-keys";
import { parseStackYaml, StackYamlError } from "../../components/config/stack-yaml";

/** Stands for every `secure:` value; the config resolver knows it and skips shape checks on it. */
export const SECRET_PLACEHOLDER = UNDECRYPTED_SECRET;

export interface StackFileConfig {
  /** Full key (`project:key`) to the value as the engine passes it (JSON text for structured values). */
  config: Record<string, string>;
  secretKeys: string[];
  /** The file's top-level `secretsprovider` (absent: the passphrase provider of the local backend). */
  secretsProvider?: string;
}

/** A stack file that cannot be read as one; the message names the file (and the line, for YAML errors). */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

export function readStackFile(projectDir: string, stack: string, project: string): StackFileConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const shown = path.relative(process.cwd(), file) || file;
  if (!fs.existsSync(file)) throw new StackFileError(`no stack file ${shown} (stack "${stack}")`);
  let document: { config?: unknown; secretsprovider?: unknown } | null;
  try {
    // Read as the Pulumi CLI reads it (UTF-8 only, merge keys, bounded alias expansion): components/config/stack-yaml.ts.
    document = parseStackYaml(fs.readFileSync(file), shown) as { config?: unknown; secretsprovider?: unknown } | null;
  } catch (error) {
    if (error instanceof StackYamlError) throw new StackFileError(error.message);
    throw error;
  }
  if (document !== null && document !== undefined && (typeof document !== "object" || Array.isArray(document))) {
    throw new StackFileError(`${shown}: a stack file is a mapping with a \`config:\` section`);
  }
  if (document?.config !== undefined && document.config !== null && (typeof document.config !== "object" || Array.isArray(document.config))) {
    throw new StackFileError(`${shown}: \`config:\` must be a mapping of keys (${project}:<key>) to values`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, rawValue] of Object.entries((document?.config ?? {}) as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    let secret = false;
    const value = replaceSecure(rawValue, () => (secret = true));
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
    if (secret) secretKeys.push(key);
  }
  return { config, secretKeys, ...(typeof document?.secretsprovider === "string" ? { secretsProvider: document.secretsprovider } : {}) };
}

function replaceSecure(value: unknown, onSecret: () => void): unknown {
  if (Array.isArray(value)) return value.map((item) => replaceSecure(item, onSecret));
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") {
      onSecret();
      return SECRET_PLACEHOLDER;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, replaceSecure(v, onSecret)]));
  }
  return value;
}

/** The project name from Pulumi.yaml. */
export function readProjectName(projectDir: string): string {
  const document = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: string };
  if (!document?.name) throw new Error("Pulumi.yaml has no name");
  return document.name;
}

/** Stacks that have a `Pulumi.<stack>.yaml` in the project folder. */
export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((name) => /^Pulumi\.(.+)\.yaml$/.exec(name)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}
