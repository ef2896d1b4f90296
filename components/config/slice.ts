/**
 * What a feature contributes to the stack config: the top-level keys it owns (zod shapes with their
 * single-field rules), the fields it adds to each catalog entry, its cross-field rules, and how its
 * part of StackConfig is filled in from what the user wrote and the defaults. The config layer only
 * composes slices (stack-config.ts); it knows nothing of what a feature does with its part.
 */
import type { z } from "zod";
import type { ConfigIssue } from "../lib/config-keys";
import type { Environment } from "./environments";
import type { Role } from "./role";

/**
 * Which optional features a stack runs, by the name each slice gives its switch (`switches`), decided
 * once (stack-config.ts, enabledFeatures) and handed to every rule and resolver.
 */
export type EnabledFeatures = Readonly<Record<string, boolean>>;

/** Whether the raw config switches a feature off with `<key>.enabled: false`. */
export function switchedOff(values: Record<string, unknown>, key: string): boolean {
  return (values[key] as { enabled?: unknown } | undefined)?.enabled === false;
}

/** What every rule may use besides the raw values: decided before any slice runs, even when other keys are invalid. */
export interface RuleContext {
  stack: string;
  /** From `environment` when it is valid, else from the stack name. */
  environment: Environment;
  /** `central` (the default) or `agent` (one more application host: role.ts). */
  role: Role;
  enabled: EnabledFeatures;
  /** The raw config values, by top-level key (unvalidated: a rule checks what it reads). */
  values: Record<string, unknown>;
}

/** The resolved core (config-layer) settings every feature's resolver may build on. */
export interface CoreSettings {
  stack: string;
  environment: Environment;
  role: Role;
  enabled: EnabledFeatures;
  /** Prefix of every Docker object's name, so two stacks can share a host (docker/names.ts). */
  namePrefix: string;
  bindAddress: string;
  publicHostname: string;
  /** Where `pulumi up` reaches a published port: the bind address, or loopback when bound to every interface. */
  localHost: string;
  ports: Record<string, number>;
  memoryMb: Record<string, number>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a slice that adds no catalog field
export interface ConfigSlice<Shape extends z.ZodRawShape, Part, ServiceShape extends z.ZodRawShape = {}> {
  /** The top-level keys this feature owns; each optional. */
  shape: Shape;
  /** Those of its keys that are secret settings (`pulumi config set --secret`). */
  secretKeys?: readonly (keyof Shape & string)[];
  /** Fields this feature adds to every catalog entry (`services[]`), each optional. */
  serviceShape?: ServiceShape;
  /** Checks on one catalog entry that involve this feature's fields; `ctx.addIssue` with a `path` inside the entry. */
  refineService?: (service: Record<string, unknown>, ctx: z.RefinementCtx) => void;
  /**
   * The features this slice can switch off, by name, each decided from the raw values (before any
   * slice resolves): `enabled.<name>` in every rule and resolver.
   */
  switches?: Record<string, (values: Record<string, unknown>) => boolean>;
  /** Rules across fields, evaluated together with the schema problems (each checks only what it can read validly). */
  rules?: (context: RuleContext) => ConfigIssue[];
  /** This feature's part of StackConfig, from its valid raw keys, its defaults and the core settings. */
  resolve: (raw: Partial<z.infer<z.ZodObject<Shape>>>, core: CoreSettings) => Part;
}

/** Identity, for type inference at the definition site. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- see ConfigSlice
export function defineSlice<Shape extends z.ZodRawShape, Part, ServiceShape extends z.ZodRawShape = {}>(
  slice: ConfigSlice<Shape, Part, ServiceShape>,
): ConfigSlice<Shape, Part, ServiceShape> {
  return slice;
}

/** A URL without trailing slashes (the providers append API paths). */
export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
