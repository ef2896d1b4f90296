/**
 * The alerting room's config slice: the evaluation interval of rule groups that set none, the
 * runbook links, contact points (their types live in contact-point-types.ts) with their secrets, and
 * the notification policy.
 */
import { z } from "zod";
import { defineSlice } from "../config/slice";
import { ConfigIssue, fullKey, UNDECRYPTED_SECRET } from "../lib/config-keys";
import { duration, evaluationInterval, httpUrl, isObject, labelName, repeats } from "../lib/validators";
import { ContactPointConfig, contactPointName, contactPointSchema, contactPointSecret } from "./contact-point-types";

/**
 * Grafana's own contact point, present in every fresh Grafana: a stack with no contact point routes
 * there, so alerts are listed in Grafana and nothing is sent until one is configured.
 */
export const GRAFANA_DEFAULT_CONTACT_POINT = "grafana-default-email";

const DEFAULTS = {
  evaluationInterval: "1m",
  // One notification per alert, host and service (or target when the alert has no service label).
  // `host` because hosts share target addresses (node-exporter is 172.17.0.1:9100 on every Docker
  // host): without it, the same alert on two hosts would go out as one notification.
  groupBy: ["alertname", "host", "service", "instance"],
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "4h",
};

export interface AlertingConfig {
  /** Interval of a rule group that sets none. */
  evaluationInterval: string;
  runbookBaseUrl?: string;
  contactPoints: ContactPointConfig[];
  /** A configured contact point, or Grafana's built-in one when none is configured. */
  defaultContactPoint: string;
  routes: { match: Record<string, string>; contactPoint: string; continue: boolean }[];
  groupBy: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

const alertingShape = z.strictObject({
  /** Default evaluation interval of a rule group that sets none (the same rule as a group's own `interval`). */
  evaluationInterval: evaluationInterval.optional(),
  /** Prefix for repo-relative `runbook_url` annotations (e.g. https://git.example.com/atra/observability/blob/main/). */
  runbookBaseUrl: httpUrl.optional(),
  // Duplicate names are a cross-field rule below, so they are reported even when an entry is invalid.
  contactPoints: z.array(contactPointSchema).optional(),
  /** Where alerts go that match no route; the first contact point when unset. */
  defaultContactPoint: contactPointName.optional(),
  /** Routes tried in order; the first match wins unless it says `continue`. */
  routes: z
    .array(
      z.strictObject({
        match: z.record(labelName, z.string().min(1, { error: "must not be empty" })).refine((match) => Object.keys(match).length > 0, {
          error: "needs at least one label, e.g. { severity: critical }",
        }),
        contactPoint: contactPointName,
        continue: z.boolean().optional(),
      }),
    )
    .optional(),
  groupBy: z.array(labelName).min(1, { error: "needs at least one label" }).optional(),
  groupWait: duration.optional(),
  groupInterval: duration.optional(),
  repeatInterval: duration.optional(),
});
/** Secret setting of each contact point, by contact point name (`pulumi config set --secret --path alertingSecrets.<name> ...`). */
const alertingSecretsShape = z.record(z.string(), z.string().min(1, { error: "must not be empty" }));

export const alertingSlice = defineSlice({
  shape: { alerting: alertingShape.optional(), alertingSecrets: alertingSecretsShape.optional() },
  secretKeys: ["alertingSecrets"],
  rules: ({ values }) => alertingIssues(values),
  resolve: (raw): { alerting: AlertingConfig } => {
    const alerting = raw.alerting;
    const contactPoints = alerting?.contactPoints ?? [];
    return {
      alerting: {
        evaluationInterval: alerting?.evaluationInterval ?? DEFAULTS.evaluationInterval,
        runbookBaseUrl: alerting?.runbookBaseUrl,
        contactPoints,
        defaultContactPoint: alerting?.defaultContactPoint ?? contactPoints[0]?.name ?? GRAFANA_DEFAULT_CONTACT_POINT,
        routes: (alerting?.routes ?? []).map((route) => ({ ...route, continue: route.continue ?? false })),
        groupBy: alerting?.groupBy ?? DEFAULTS.groupBy,
        groupWait: alerting?.groupWait ?? DEFAULTS.groupWait,
        groupInterval: alerting?.groupInterval ?? DEFAULTS.groupInterval,
        repeatInterval: alerting?.repeatInterval ?? DEFAULTS.repeatInterval,
      },
    };
  },
});

/**
 * Contact point references, routing and secrets. Secret values are checked for shape but never
 * echoed, and the messages say how to set them.
 */
function alertingIssues(values: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Each check reads only what it needs from the raw values, so a schema error elsewhere in `alerting`
  // (reported by the schema) hides none of them: every problem is reported at once.
  const alerting = isObject(values.alerting) ? values.alerting : {};
  const rawPoints = Array.isArray(alerting.contactPoints) ? (alerting.contactPoints as unknown[]) : [];
  const rawNames = rawPoints.map((point) => (isObject(point) ? point.name : undefined));
  for (const { value, index, first } of repeats(rawNames)) {
    if (typeof value === "string") {
      issues.push({
        key: fullKey(["alerting", "contactPoints", index, "name"]),
        message: `duplicate contact point "${value}" (also contactPoints[${first}])`,
      });
    }
  }
  // Every entry that names itself counts as configured, valid or not (its own problems are reported by the schema).
  const names = [...new Set(rawNames.filter((name): name is string => typeof name === "string"))];
  const unknown = (name: string) => `no contact point named "${name}" (configured: ${names.length > 0 ? names.join(", ") : "none"})`;
  const defaultPoint = alerting.defaultContactPoint;
  if (typeof defaultPoint === "string" && defaultPoint !== "" && !names.includes(defaultPoint))
    issues.push({ key: fullKey(["alerting", "defaultContactPoint"]), message: unknown(defaultPoint) });
  const routes = Array.isArray(alerting.routes) ? (alerting.routes as unknown[]) : [];
  routes.forEach((route, index) => {
    const target = isObject(route) ? route.contactPoint : undefined;
    if (typeof target === "string" && !names.includes(target))
      issues.push({ key: fullKey(["alerting", "routes", index, "contactPoint"]), message: unknown(target) });
  });
  // Alertmanager's routing (prometheus/alertmanager dispatch/route.go, Route.Match), which Grafana's
  // built-in Alertmanager runs: `continue` only lets later sibling routes match too; the default
  // contact point receives an alert only when no route matched. On the last route it does nothing.
  const last = routes.length - 1;
  const lastRoute = routes[last];
  if (last >= 0 && isObject(lastRoute) && lastRoute.continue === true) {
    issues.push({
      key: fullKey(["alerting", "routes", last, "continue"]),
      message:
        `has no effect on the last route: alerts it matches reach only "${String(lastRoute.contactPoint)}", never the default contact point ` +
        "(the default receives only alerts no route matched). To notify a second contact point too, add a later route with the same match for it.",
    });
  }
  const given = isObject(values.alertingSecrets) ? values.alertingSecrets : {};
  rawPoints.forEach((raw, index) => {
    const parsed = contactPointSchema.safeParse(raw);
    if (!parsed.success) return; // its type is unknown or its entry invalid: reported by the schema
    const point = parsed.data;
    const secret = contactPointSecret(point.type);
    const value = given[point.name];
    if (secret && value === undefined) {
      issues.push({
        key: fullKey(["alerting", "contactPoints", index]),
        message: `${point.type} contact point "${point.name}" needs its ${secret.name}: pulumi config set --secret --path 'alertingSecrets.${point.name}' <value>`,
      });
    } else if (secret && typeof value === "string" && value !== "" && value !== UNDECRYPTED_SECRET) {
      const problem = secret.problem(value);
      if (problem) issues.push({ key: fullKey(["alertingSecrets", point.name]), message: problem });
    }
  });
  for (const name of Object.keys(given)) {
    const raw = rawPoints.find((candidate) => isObject(candidate) && candidate.name === name);
    if (raw === undefined) issues.push({ key: fullKey(["alertingSecrets", name]), message: unknown(name) });
    else {
      const parsed = contactPointSchema.safeParse(raw);
      if (parsed.success && !contactPointSecret(parsed.data.type))
        issues.push({ key: fullKey(["alertingSecrets", name]), message: `${parsed.data.type} contact points take no secret; remove it` });
    }
  }
  return issues;
}
