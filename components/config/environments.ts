/** The environments a stack can be, and how a stack name picks one when `environment` is not set. */

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** `dev`, `staging` and `prod` stacks default to their own environment; any other stack name to dev. */
export function environmentFromStackName(stack: string): Environment {
  return (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as Environment) : "dev";
}

/** A per-environment defaults table, one per feature. */
export type PerEnvironment<T> = Record<Environment, T>;
