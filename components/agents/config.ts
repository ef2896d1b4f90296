/**
 * The `agents` room's config: the application hosts that ship to this central stack, one entry each.
 * Each agent host gets its own identity from the central stack, and nothing it can use against another
 * host or against the central stack itself:
 * - metrics: the central Prometheus pulls the agent's `/federate` over TLS with a password only this
 *   host's Prometheus knows, and sets the `host` label itself (components/metrics);
 * - logs: an Elasticsearch API key for this host alone, whose metadata names the host and its services;
 *   the data stream's final pipeline sets `host.name` from the key, whatever the sender wrote, and refuses a
 *   line whose `service.name` is not one of the key's services (components/logs).
 * Revoking a host is removing its entry: its scrape job, password, certificate and API key go with it,
 * and the other hosts are untouched.
 */
import { z } from "zod";
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { httpUrl, isObject, repeats } from "../lib/validators";
import { defineSlice, withoutTrailingSlash } from "../config/slice";
import { dockerNames } from "../docker/names";
import { STACK_SERVICE_KEYS } from "../stack-services";

/** The port an agent host publishes its Prometheus on, unless `agents[].prometheusUrl` says otherwise. */
export const AGENT_PROMETHEUS_PORT = 9090;

export interface AgentHost {
  /** The agent's publicHostname: the `host` label of its series and the `host.name` of its log events. */
  host: string;
  /** Where the central Prometheus reaches the agent's Prometheus (https, no path). */
  prometheusUrl: string;
  /**
   * The catalog services this host runs (its own `services[].name`): the only `service` values the
   * central stack takes from it, in series and in log events. Empty: the host sends only host-level data
   * (node-exporter, cAdvisor, its own Prometheus), nothing that counts towards any service's alerts or SLOs.
   */
  services: string[];
}

export interface AgentsConfig {
  /** Central stacks: the agent hosts shipping here, in the order given; empty on an agent or a lone stack. */
  agents: AgentHost[];
}

/** As the catalog's `services[].name` (config/stack-config.ts). */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,47}$/;

const HOST = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}))*$/;

const agentEntry = z.strictObject({
  host: z.string().regex(HOST, { error: "must be the agent's publicHostname: a host name or address, without scheme or port" }),
  prometheusUrl: httpUrl.optional(),
  services: z
    .array(z.string().regex(SERVICE_NAME, { error: "must be a catalog service name: lowercase letters, digits and dashes, starting with a letter" }))
    .superRefine((names, ctx) => {
      for (const { value, index, first } of repeats(names))
        ctx.addIssue({ code: "custom", path: [index], message: `duplicate service "${value}" (also [${first}])` });
    })
    .optional(),
});

/** Whether a raw config lists agent hosts (the stack then serves other hosts: TLS on by default). */
export function listsAgents(values: Record<string, unknown>): boolean {
  return Array.isArray(values.agents) && values.agents.length > 0;
}

/** Loopback: `localhost` (and its subdomains, RFC 6761 6.3), 127.0.0.0/8, the unspecified address. */
function isLoopbackName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "0.0.0.0";
}

/**
 * The names a central stack's generated server certificate carries besides publicHostname and loopback
 * (tls/pki.ts serverNames): a specific bind address, its containers' names (every stack service's, a
 * superset of those it runs) and tls.extraNames. Read from the raw values: the rules run before resolving.
 */
function centralCertificateNames(stack: string, values: Record<string, unknown>): Set<string> {
  // As config/resolve.ts names Docker objects (`atra-obs-<stack>`).
  const containers = STACK_SERVICE_KEYS.map((key) => dockerNames({ namePrefix: `atra-obs-${stack}` })[key]);
  const bind = typeof values.bindAddress === "string" && values.bindAddress !== "0.0.0.0" ? [values.bindAddress] : [];
  const tls = isObject(values.tls) && Array.isArray(values.tls.extraNames) ? values.tls.extraNames.filter((name) => typeof name === "string") : [];
  return new Set([...containers, ...bind, ...tls].map((name) => String(name).toLowerCase()));
}

export const agentsSlice = defineSlice({
  shape: {
    /** Central stacks: one entry per application host that ships metrics and logs here. */
    agents: z
      .array(agentEntry)
      .superRefine((agents, ctx) => {
        for (const { value, index, first } of repeats(agents.map((agent) => agent.host.toLowerCase()))) {
          ctx.addIssue({ code: "custom", path: [index, "host"], message: `duplicate agent host "${value}" (also agents[${first}])` });
        }
        agents.forEach((agent, index) => {
          if (agent.prometheusUrl !== undefined && !agent.prometheusUrl.startsWith("https://")) {
            ctx.addIssue({
              code: "custom",
              path: [index, "prometheusUrl"],
              message: "must be https: the central Prometheus logs in to the agent's with this host's password, which must not cross the network in clear",
            });
          }
        });
      })
      .optional(),
  },
  rules: ({ role, values, stack }) => {
    const issues: ConfigIssue[] = [];
    if (role === "agent" && values.agents !== undefined) {
      issues.push({ key: fullKey(["agents"]), message: "lists the hosts that ship to a central stack: set it on the central stack, not on an agent" });
    }
    if (role === "central" && Array.isArray(values.agents)) {
      const centralNames = centralCertificateNames(stack, values);
      values.agents.forEach((agent, index) => {
        if (!isObject(agent) || typeof agent.host !== "string") return;
        const host = agent.host.toLowerCase();
        if (typeof values.publicHostname === "string" && host === values.publicHostname.toLowerCase()) {
          issues.push({
            key: fullKey(["agents", index, "host"]),
            message: "is this central stack's own publicHostname: an agent must carry a host name of its own, or its series would pass as the central host's",
          });
        } else if (isLoopbackName(host) || centralNames.has(host)) {
          issues.push({
            key: fullKey(["agents", index, "host"]),
            message:
              "is a loopback name or a name of this central stack's own certificate (its bind address, a container name or tls.extraNames): " +
              "the agent's certificate, issued for this name, must not be valid for the central stack's own addresses. Use the agent's publicHostname",
          });
        }
      });
    }
    return issues;
  },
  resolve: (raw, core): AgentsConfig => ({
    agents:
      core.role === "central"
        ? (raw.agents ?? []).map((agent) => ({
            host: agent.host,
            prometheusUrl: withoutTrailingSlash(agent.prometheusUrl ?? `https://${agent.host}:${AGENT_PROMETHEUS_PORT}`),
            services: agent.services ?? [],
          }))
        : [],
  }),
});
