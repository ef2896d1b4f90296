/**
 * The Grafana room's config slice: the admin login and password, where `pulumi up` reaches Grafana's
 * API, or an existing Grafana (`grafana.external.url`: Grafana Cloud or one run elsewhere) that is
 * configured instead of running one here.
 */
import { z } from "zod";
import { isRemoteDockerHost } from "../docker/config";
import { defineSlice, withoutTrailingSlash } from "../config/slice";
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { credentialUrlProblem, httpUrl, isLoopbackUrl, isObject, refusedTlsOffKeys } from "../lib/validators";
import { defaultTlsMode, httpsWhen } from "../tls/config";

const DEFAULT_ADMIN_USER = "admin";

export interface GrafanaConfig {
  grafana: {
    adminUser: string;
    /** Where people open Grafana (stack output, GF_SERVER_ROOT_URL): `https://` when the stack's Grafana serves TLS (`tls.mode` not off). */
    publicUrl: string;
    /**
     * Where the Grafana provider talks to Grafana from the machine running `pulumi up`. With `tls.mode` not
     * off the stack's Grafana speaks only TLS, so a given `http://` URL (e.g. the local end of an SSH tunnel)
     * is used as `https://` (the tunnel forwards the TLS bytes unchanged).
     */
    providerUrl: string;
    /**
     * The organization role of people's login (`atra-people`) in the stack's own Grafana: Viewer (the default:
     * dashboards and Explore, no writes) or Editor (also edits dashboards, and writes alert rules, contact points,
     * notification policies and silences: it can silence every alert). Absent with grafana.external.
     */
    peopleRole?: GrafanaPeopleRole;
    /**
     * An existing Grafana, configured instead of running a container: its URL, how the provider logs
     * in (a service account token, or the admin login with `grafanaAdminPassword`), and the Prometheus
     * URL its datasource queries (one that Grafana can reach: not a container's name, not loopback).
     */
    external?: { url: string; auth: "token" | "password"; prometheusUrl: string };
  };
}

export const GRAFANA_PEOPLE_ROLES = ["Viewer", "Editor"] as const;
export type GrafanaPeopleRole = (typeof GRAFANA_PEOPLE_ROLES)[number];

/** A message for a provider URL a remote Docker host needs: its ports are published there, not where `pulumi up` runs. */
export const PROVIDER_URL_NEEDED_WITH_A_REMOTE_HOST =
  "is required with a remote dockerHost (ssh://, or tcp:// to another machine): the default 127.0.0.1 is the machine running `pulumi up`, not the Docker host. " +
  "Give the local end of an SSH tunnel to the published port, or the published address on the Docker host (see docs/remote-docker-host.md)";

const TLS_OFF_REFUSED =
  "TLS verification of an external Grafana cannot be turned off: the provider sends its token or password there. Use https with a certificate the machine running `pulumi up` trusts";

const externalShape = z.strictObject({
  /** Grafana's root URL, e.g. https://my-org.grafana.net. */
  url: httpUrl,
  ...refusedTlsOffKeys(TLS_OFF_REFUSED),
});

/**
 * Where an external Grafana's Prometheus datasource points, from the raw config: the metrics room's
 * `prometheus.external.queryUrl` when set, else this stack's Prometheus as published (`publicHostname`
 * and `ports.prometheus`) when that is an address other hosts reach, else undefined (refused by the rule).
 * Published beyond loopback, this stack's Prometheus serves TLS (tls/config.ts: `tls.mode: off` is
 * refused there) and requires a login (metrics/web-config.ts requiredLogins): the URL is https.
 */
function externalPrometheusUrl(values: Record<string, unknown>): { url?: string; problem?: string } {
  const prometheus = isObject(values.prometheus) ? values.prometheus : {};
  const external = isObject(prometheus.external) ? prometheus.external : {};
  if (typeof external.queryUrl === "string") {
    return isLoopbackUrl(external.queryUrl)
      ? { problem: "is a loopback address, which an external Grafana cannot reach: give a query URL that Grafana reaches" }
      : { url: withoutTrailingSlash(external.queryUrl) };
  }
  const bindAddress = typeof values.bindAddress === "string" ? values.bindAddress : "127.0.0.1";
  const publicHostname =
    typeof values.publicHostname === "string" ? values.publicHostname : bindAddress === "127.0.0.1" || bindAddress === "0.0.0.0" ? "localhost" : bindAddress;
  const ports = isObject(values.ports) ? values.ports : {};
  const port = typeof ports.prometheus === "number" ? ports.prometheus : 9090;
  const published = `http://${publicHostname}:${port}`;
  if (!bindAddress.startsWith("127.") && !isLoopbackUrl(published)) return { url: httpsWhen(published, defaultTlsMode(values, "central") !== "off") };
  return {
    problem:
      `an external Grafana cannot reach this stack's Prometheus: inside the stack it is a container name (http://<stack>-prometheus:9090), ` +
      `and it is published on ${bindAddress} as ${published}, a loopback address. Set prometheus.external.queryUrl to a Prometheus-compatible ` +
      `query URL Grafana reaches, or publish Prometheus (bindAddress and publicHostname) where Grafana reaches it`,
  };
}

export const grafanaSlice = defineSlice({
  shape: {
    grafana: z
      .strictObject({
        adminUser: z
          .string()
          .regex(/^[a-zA-Z0-9._@-]{1,64}$/, { error: "must be 1-64 letters, digits or ._@-" })
          .optional(),
        providerUrl: httpUrl.optional(),
        /** People's organization role in the stack's own Grafana: Viewer (default) or Editor (can silence every alert). */
        peopleRole: z.enum(GRAFANA_PEOPLE_ROLES, { error: "must be Viewer or Editor" }).optional(),
        /** An existing Grafana to configure instead of running one. */
        external: externalShape.optional(),
      })
      .optional(),
    /** The admin's password; generated when unset (the stack's own Grafana), or the external Grafana's admin login. */
    grafanaAdminPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
    /** A service account token of the external Grafana (Administration > Users and access > Service accounts; role Admin). */
    grafanaApiToken: z.string().min(1, { error: "must not be empty" }).optional(),
  },
  secretKeys: ["grafanaAdminPassword", "grafanaApiToken"],
  rules: ({ values, enabled, role }) => {
    // An agent host has no Grafana of its own and configures none (role.ts refuses these keys there).
    if (role === "agent") return [];
    const grafana = (isObject(values.grafana) ? values.grafana : {}) as {
      providerUrl?: unknown;
      external?: unknown;
      adminUser?: unknown;
      peopleRole?: unknown;
    };
    const external = isObject(grafana.external) ? grafana.external : undefined;
    const issues: ConfigIssue[] = [];
    if (!external) {
      if (isRemoteDockerHost(values) && grafana.providerUrl === undefined)
        issues.push({ key: fullKey(["grafana", "providerUrl"]), message: PROVIDER_URL_NEEDED_WITH_A_REMOTE_HOST });
      if (values.grafanaApiToken !== undefined)
        issues.push({
          key: fullKey(["grafanaApiToken"]),
          message: "is only for an external Grafana (grafana.external.url): the stack's own Grafana is configured with its admin login",
        });
      return issues;
    }
    if (typeof external.url === "string") {
      const problem = credentialUrlProblem(external.url);
      if (problem) issues.push({ key: fullKey(["grafana", "external", "url"]), message: problem });
    }
    // Settings of a Grafana container there is none of.
    for (const [group, name] of [
      ["memoryMb", "grafana"],
      ["ports", "grafana"],
      ["images", "grafana"],
    ] as const) {
      if (isObject(values[group]) && (values[group] as Record<string, unknown>)[name] !== undefined)
        issues.push({ key: fullKey([group, name]), message: `there is no Grafana container with grafana.external: remove ${group}.${name}` });
    }
    if (grafana.peopleRole !== undefined)
      issues.push({
        key: fullKey(["grafana", "peopleRole"]),
        message: "is for the stack's own Grafana, where the stack makes people's login; an external Grafana's users are its own: remove grafana.peopleRole",
      });
    if (grafana.providerUrl !== undefined)
      issues.push({
        key: fullKey(["grafana", "providerUrl"]),
        message: "is for the stack's own Grafana; with grafana.external.url the provider talks to that URL: remove grafana.providerUrl",
      });
    const token = values.grafanaApiToken !== undefined;
    const password = values.grafanaAdminPassword !== undefined;
    if (token && password)
      issues.push({
        key: fullKey(["grafanaAdminPassword"]),
        message:
          "give one way to log in to the external Grafana: grafanaApiToken (a service account token) or grafana.adminUser with grafanaAdminPassword, not both",
      });
    if (!token && !password)
      issues.push({
        key: fullKey(["grafanaApiToken"]),
        message:
          "is required with grafana.external.url (a service account token with the Admin role: pulumi config set --secret grafanaApiToken <token>), or set grafana.adminUser and grafanaAdminPassword",
      });
    if (token && grafana.adminUser !== undefined)
      issues.push({ key: fullKey(["grafana", "adminUser"]), message: "is not used with grafanaApiToken (the token names its service account): remove it" });
    const prometheus = externalPrometheusUrl(values);
    if (prometheus.problem) issues.push({ key: fullKey(["prometheus", "external", "queryUrl"]), message: prometheus.problem });
    // Published beyond loopback (the only way an external Grafana reaches it) this Prometheus requires a
    // login (metrics/web-config.ts requiredLogins) and serves TLS (tls/config.ts refuses `tls.mode: off`
    // there): the external Grafana's datasource sends the login over https only, trusting the stack CA.
    const logs = isObject(values.logs) ? values.logs : {};
    if (enabled.logs && !isObject(logs.external))
      issues.push({
        key: fullKey(["logs", "external", "elasticsearchUrl"]),
        message:
          "an external Grafana cannot reach this stack's Elasticsearch container (its logs datasource would point at http://<stack>-elasticsearch:9200): " +
          "use an Elastic cluster it reaches (logs.external.elasticsearchUrl and logs.external.kibanaUrl), or switch the logs stage off (logs.enabled: false)",
      });
    return issues;
  },
  resolve: (raw, core): GrafanaConfig => {
    const external = raw.grafana?.external;
    if (external) {
      const url = withoutTrailingSlash(external.url);
      const prometheusUrl = externalPrometheusUrl(raw as Record<string, unknown>).url as string;
      return {
        grafana: {
          adminUser: raw.grafana?.adminUser ?? DEFAULT_ADMIN_USER,
          publicUrl: url,
          providerUrl: url,
          external: { url, auth: raw.grafanaApiToken !== undefined ? "token" : "password", prometheusUrl },
        },
      };
    }
    // The stack's own Grafana serves https when tls is on (GrafanaServer): every URL of it is https then.
    const tls = core.role === "central" && defaultTlsMode(raw as Record<string, unknown>, core.role) !== "off";
    return {
      grafana: {
        adminUser: raw.grafana?.adminUser ?? DEFAULT_ADMIN_USER,
        publicUrl: httpsWhen(`http://${core.publicHostname}:${core.ports.grafana}`, tls),
        peopleRole: raw.grafana?.peopleRole ?? "Viewer",
        providerUrl: httpsWhen(
          raw.grafana?.providerUrl ? withoutTrailingSlash(raw.grafana.providerUrl) : `http://${core.localHost}:${core.ports.grafana}`,
          tls,
        ),
      },
    };
  },
});
