/** Runs the program for a stack under the mock engine in a fresh module registry (one Pulumi runtime per run). */
import * as path from "path";
import type { PlanResult, PlanOptions } from "../../scripts/lib/plan";
import { readProjectName, readStackFile } from "../../scripts/lib/stack-file";
import { rawConfigFromStore } from "../../components/config/pulumi-config";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";

export const PROJECT_DIR = path.resolve(__dirname, "../..");

export async function planIsolated(stack: string, options: PlanOptions = {}): Promise<PlanResult> {
  let result: PlanResult | undefined;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { planStack } = require("../../scripts/lib/plan") as typeof import("../../scripts/lib/plan");
    result = await planStack(PROJECT_DIR, stack, options);
  });
  return result as PlanResult;
}

/** Config as the CLI would pass it: namespaced keys, structured values as JSON. */
export function stackConfig(values: Record<string, unknown>, secretKeys: string[] = []): PlanOptions["config"] {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    config[`atra-observability:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secretKeys: secretKeys.map((key) => `atra-observability:${key}`) };
}

/** The resolved config a shipped stack file gives the program, for comparing results with it. */
export function resolvedStackConfig(stack: string): StackConfig {
  const { config, secretKeys } = readStackFile(PROJECT_DIR, stack, readProjectName(PROJECT_DIR));
  return resolveStackConfig(rawConfigFromStore(stack, config, secretKeys)).config;
}
