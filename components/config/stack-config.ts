/**
 * The stack config as a whole: the config layer's own keys (environment, the service catalog, where
 * ports are published, images and memory of the stack's own containers) composed with every
 * feature's slice. A new feature is one slice in its own folder plus one entry in FEATURE_SLICES.
 */
import { z } from "zod";
import { agentsSlice } from "../agents/config";
import { alertingSlice } from "../alerting/config";
import { dockerSlice } from "../docker/config";
import { grafanaSlice } from "../grafana/config";
import { logsSlice } from "../logs/config";
import { metricsSlice } from "../metrics/config";
import { sloSlice } from "../slo/config";
import { tlsSlice } from "../tls/config";
import { METADATA_FIELDS } from "../catalog";
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { ipv4, port, repeats } from "../lib/validators";
import { DEFAULT_PORTS, IMAGE_KEYS, keyedBy, MEMORY_KEYS, PORT_KEYS, STACK_SERVICE_SLICES } from "../stack-services";
import { MIN_MEMORY_MB } from "./container-memory";
import { imageVersionIssues } from "./image-versions";
import { ENVIRONMENTS, environmentFromStackName, Environment } from "./environments";
import { agentRoleIssues, ROLES } from "./role";
import type { EnabledFeatures, RuleContext } from "./slice";

/**
 * Every feature's config slice, in the order their keys are listed, then those of the stack services
 * that have keys of their own (an optional exporter's switch). Adding a feature adds it here, and
 * nowhere else in this layer.
 */
export const FEATURE_SLICES = [
  dockerSlice,
  agentsSlice,
  metricsSlice,
  grafanaSlice,
  alertingSlice,
  logsSlice,
  sloSlice,
  tlsSlice,
  ...STACK_SERVICE_SLICES,
] as const;

type Slices = typeof FEATURE_SLICES;
/** Every feature's part of StackConfig, as its slice resolves it. */
export type FeatureParts = UnionToIntersection<ReturnType<Slices[number]["resolve"]>>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Every slice's top-level keys in one shape, typed as the intersection of theirs. */
const featureShapes = Object.assign({}, ...FEATURE_SLICES.map((slice) => slice.shape)) as UnionToIntersection<Slices[number]["shape"]>;
/** The fields features add to a catalog entry; an entry must use at least one of them. */
const serviceFields = Object.assign({}, ...FEATURE_SLICES.map((slice) => ("serviceShape" in slice ? slice.serviceShape : {}))) as UnionToIntersection<
  NonNullable<Extract<Slices[number], { serviceShape?: unknown }>["serviceShape"]>
>;

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,47}$/;

const SERVICE_FIELD_NAMES = Object.keys(serviceFields);

export const serviceSchema = z
  .strictObject({
    name: z.string().regex(SERVICE_NAME, { error: "must be lowercase letters, digits and dashes, start with a letter, at most 48 characters" }),
    // What describes the service (catalog.ts), carried to its series, probes, log events and alerts.
    ...METADATA_FIELDS,
    ...serviceFields,
  })
  .superRefine((service, ctx) => {
    const given = (field: string) => {
      const value = (service as Record<string, unknown>)[field];
      return Array.isArray(value) ? value.length > 0 : value !== undefined;
    };
    if (!SERVICE_FIELD_NAMES.some(given)) {
      ctx.addIssue({ code: "custom", message: "has nothing to observe: give at least one of metrics, health, logs" });
    }
    for (const slice of FEATURE_SLICES) if ("refineService" in slice) slice.refineService?.(service, ctx);
  });

export type ServiceConfig = z.infer<typeof serviceSchema>;

/** An image reference with an explicit tag or digest; `latest` (or no tag, which means latest) is refused. */
const image = z.string().superRefine((value, ctx) => {
  const withoutDigest = value.split("@")[0];
  const lastSegment = withoutDigest.split("/").pop() ?? "";
  const hasDigest = value.includes("@sha256:");
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  // Repository path lowercase (a registry host may carry a port); tag any case; optional sha256 digest.
  if (!/^[a-z0-9][a-z0-9._/:-]*?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(value)) {
    ctx.addIssue({ code: "custom", message: "is not a valid image reference" });
  } else if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    // distribution/reference regexp.go: tag = [\w][\w.-]{0,127}; the pattern above lets a longer one through its path part.
    ctx.addIssue({ code: "custom", message: "has a tag Docker refuses: at most 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'" });
  } else if (!hasDigest && !tag) {
    ctx.addIssue({ code: "custom", message: "needs an exact tag (e.g. :v3.13.2); an untagged image means latest" });
  } else if (tag === "latest" && !hasDigest) {
    ctx.addIssue({ code: "custom", message: "must be pinned to an exact version, not latest" });
  }
});

const memoryMb = z.int({ error: "must be a whole number of MB" }).min(MIN_MEMORY_MB, { error: `must be at least ${MIN_MEMORY_MB} (MB)` });

/** The config layer's own keys. */
const coreShape = {
  /** `central` (default) or `agent`: one more application host shipping to a central stack (role.ts). */
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }).optional(),
  environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(", ")}` }).optional(),
  services: z
    .array(serviceSchema)
    .superRefine((services, ctx) => {
      for (const { value, index, first } of repeats(services.map((service) => service.name))) {
        ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate service name "${value}" (also services[${first}])` });
      }
    })
    .optional(),
  bindAddress: ipv4.optional(),
  publicHostname: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+$/, { error: "must be a host name or address, without scheme or port" })
    .optional(),
  images: z.strictObject(keyedBy(IMAGE_KEYS, () => image.optional())).optional(),
  /** Every image the stack runs must be given as `repo:tag@sha256:...` in `images.*` (image-versions.ts imageDigestIssues). */
  requireImageDigests: z.boolean().optional(),
  ports: z.strictObject(keyedBy(PORT_KEYS, () => port.optional())).optional(),
  memoryMb: z.strictObject(keyedBy(MEMORY_KEYS, () => memoryMb.optional())).optional(),
};

export const stackConfigSchema = z.strictObject({ ...coreShape, ...featureShapes });

export type RawStackConfig = z.infer<typeof stackConfigSchema>;

/** The top-level keys, for suggestions on typos. */
export const TOP_LEVEL_KEYS = Object.keys(stackConfigSchema.shape);

/** Keys whose value must come from `pulumi config set --secret`. */
export const SECRET_KEYS: readonly string[] = FEATURE_SLICES.flatMap((slice) => ("secretKeys" in slice ? (slice.secretKeys ?? []) : []));

/** Keys whose value Pulumi hands over as plain text (the others are JSON): those whose schema is a string or a choice of strings. */
export const STRING_KEYS: readonly string[] = TOP_LEVEL_KEYS.filter((key) => {
  let schema = stackConfigSchema.shape[key as keyof typeof stackConfigSchema.shape] as z.ZodType;
  while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodString || schema instanceof z.ZodEnum;
});

/** Which optional features a stack runs: each slice's switches (slice.ts), decided here, once, for every rule and resolver. */
export function enabledFeatures(values: Record<string, unknown>): EnabledFeatures {
  return Object.fromEntries(
    FEATURE_SLICES.flatMap((slice) => Object.entries(("switches" in slice ? slice.switches : undefined) ?? {}).map(([name, decide]) => [name, decide(values)])),
  );
}

/** The environment the rules check against: `environment` when it is valid, else the stack name's. */
export function ruleEnvironment(values: Record<string, unknown>, stack: string): Environment {
  const environment = coreShape.environment.safeParse(values.environment);
  return (environment.success ? environment.data : undefined) ?? environmentFromStackName(stack);
}

/** The config layer's own cross-field rules: what an agent host refuses, image versions the program does not support, and two published services on one port. */
export function coreRules({ values }: RuleContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [...agentRoleIssues(values), ...imageVersionIssues(values)];
  const ports = coreShape.ports.safeParse(values.ports);
  if (!ports.success) return issues;
  const effective = Object.entries({ ...DEFAULT_PORTS, ...ports.data });
  effective.forEach(([name, value], index) => {
    const other = effective.slice(0, index).find(([, earlier]) => earlier === value);
    if (other) issues.push({ key: fullKey(["ports"]), message: `${other[0]} and ${name} both use port ${value}` });
  });
  return issues;
}
