/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: every key
 * namespaced, structured values as JSON text, and the list of secret keys. Encrypted (`secure:`)
 * values cannot be decrypted offline, so they become a placeholder that is still marked secret.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

import { UNDECRYPTED_SECRET } from "../../components/config/resolve";

/** Stands for every `secure:` value; the config resolver knows it and skips shape checks on it. */
export const SECRET_PLACEHOLDER = UNDECRYPTED_SECRET;

export interface StackFileConfig {
  /** Full key (`project:key`) to the value as the engine passes it (JSON text for structured values). */
  config: Record<string, string>;
  secretKeys: string[];
}

export function readStackFile(projectDir: string, stack: string, project: string): StackFileConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${path.relative(process.cwd(), file) || file} (stack "${stack}")`);
  const document = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(document?.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    let secret = false;
    const value = replaceSecure(rawValue, () => (secret = true));
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
    if (secret) secretKeys.push(key);
  }
  return { config, secretKeys };
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
