/** Loading a dynamic provider the way Pulumi's provider host does, and small helpers the provider tests share. */
import * as pulumi from "@pulumi/pulumi";
import type { dynamic } from "@pulumi/pulumi";

export type Provider = Required<Pick<dynamic.ResourceProvider, "check" | "create" | "read" | "diff" | "update" | "delete">>;

export interface Serialized {
  text: string;
  containsSecrets: boolean;
  provider: Provider;
}

/** What the dynamic-provider host does with the `__provider` input: requireFromString(text).handler(). */
export async function serializeAndLoad(provider: dynamic.ResourceProvider): Promise<Serialized> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireFromString = require("require-from-string") as (code: string) => { handler: () => Provider };
  return { text: serialized.text, containsSecrets: serialized.containsSecrets, provider: requireFromString(serialized.text).handler() };
}

/** Rejection message of a promise that must fail. */
export async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the call to fail");
}
