/**
 * What a stack is for. `central` (the default) runs or configures the whole observability stack:
 * Prometheus storing and answering queries, Grafana with its dashboards and alerts, and the logs
 * stage's cluster objects. `agent` is one more application host: node-exporter, cAdvisor, the
 * blackbox exporter, Prometheus (pulled by the central stack over TLS, or in agent mode remote-writing
 * to a backend), and Filebeat
 * shipping this host's catalog services' logs into the central data stream. An agent configures
 * nothing in Grafana, Elasticsearch or Kibana, so every key that would is refused here, with what to
 * do instead, before anything is made.
 */
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { isObject } from "../lib/validators";

export const ROLES = ["central", "agent"] as const;
export type Role = (typeof ROLES)[number];

/** The role the rules check against: `agent` only when given so (an invalid value is reported by the schema). */
export function roleOf(values: Record<string, unknown>): Role {
  return values.role === "agent" ? "agent" : "central";
}

const ON_CENTRAL = "set it on the central stack, which configures Grafana, the alerts and the Elastic cluster for every host";

/** Top-level keys of things an agent host neither runs nor configures. */
const REFUSED_TOP_LEVEL: Record<string, string> = {
  grafana: `an agent runs no Grafana and configures none: ${ON_CENTRAL}`,
  grafanaAdminPassword: `an agent runs no Grafana and configures none: ${ON_CENTRAL}`,
  grafanaApiToken: `an agent runs no Grafana and configures none: ${ON_CENTRAL}`,
  alerting: `an agent evaluates and routes no alerts (the central Grafana does, over every host's series): ${ON_CENTRAL}`,
  alertingSecrets: `an agent evaluates and routes no alerts (the central Grafana does, over every host's series): ${ON_CENTRAL}`,
  elasticPassword: "an agent logs in to no Elastic cluster as a user: its Filebeat ships with the API key in logShipperApiKey. Remove it",
  elasticApiKey:
    "an agent manages nothing in the Elastic cluster: its Filebeat ships with the API key in logShipperApiKey (this host's entry of the central stack's output agentLogShipperApiKeys). Remove it",
};

/** Containers that do not run on an agent host: their image, port and memory keys. */
const CENTRAL_ONLY_CONTAINERS = ["grafana", "elasticsearch", "kibana"];

/** Keys under `prometheus` and `logs` that belong to the central stack, with why. */
const REFUSED_NESTED: [string[], string][] = [
  [["prometheus", "external"], "nothing on an agent host queries metrics (the central Grafana reads the backend the agent writes to): remove it"],
  [["logs", "agentKeyExpiration"], "is the central stack's (it makes the agents' keys): remove it here"],
  [["logs", "retention"], `the data stream's lifecycle is the central stack's (it manages the ILM policy): ${ON_CENTRAL}`],
  [["logs", "rolloverMaxAge"], `the data stream's lifecycle is the central stack's (it manages the ILM policy): ${ON_CENTRAL}`],
  [["logs", "rolloverMaxPrimaryShardSize"], `the data stream's lifecycle is the central stack's (it manages the ILM policy): ${ON_CENTRAL}`],
  [["logs", "elasticsearchHeapMb"], "an agent runs no Elasticsearch: remove it"],
  [["logs", "errorRateThreshold"], `log alerts are evaluated by the central Grafana: ${ON_CENTRAL}`],
  [["logs", "errorRateWindow"], `log alerts are evaluated by the central Grafana: ${ON_CENTRAL}`],
  [
    ["logs", "elasticsearchProviderUrl"],
    "an agent runs no Elasticsearch and configures none (its Filebeat ships to logs.external.elasticsearchUrl): remove it",
  ],
  [["logs", "kibanaProviderUrl"], "an agent runs no Kibana and configures none: remove it"],
  [["logs", "external", "kibanaUrl"], "an agent configures nothing in Kibana (the central stack makes the data view): remove it"],
  [["logs", "external", "user"], "an agent's Filebeat ships with the API key in logShipperApiKey, not as a user: remove it"],
];

/** Every key an agent stack refuses, each at its own key. */
export function agentRoleIssues(values: Record<string, unknown>): ConfigIssue[] {
  if (roleOf(values) !== "agent") return [];
  const issues: ConfigIssue[] = [];
  for (const [key, message] of Object.entries(REFUSED_TOP_LEVEL)) {
    if (values[key] !== undefined) issues.push({ key: fullKey([key]), message: `${message} (role: agent)` });
  }
  for (const group of ["images", "ports", "memoryMb"]) {
    const given = isObject(values[group]) ? values[group] : {};
    for (const container of CENTRAL_ONLY_CONTAINERS) {
      if (given[container] !== undefined)
        issues.push({
          key: fullKey([group, container]),
          message: `no ${container} container runs on an agent host (role: agent): remove ${group}.${container}`,
        });
    }
  }
  for (const [path, message] of REFUSED_NESTED) {
    if (valueAt(values, path) !== undefined) issues.push({ key: fullKey(path), message: `${message} (role: agent)` });
  }
  const prometheus = isObject(values.prometheus) ? values.prometheus : {};
  if (prometheus.mode === "server")
    issues.push({
      key: fullKey(["prometheus", "mode"]),
      message:
        "an agent host's Prometheus runs in server mode with a short retention when the central stack pulls it (the secret federation), else in agent mode remote-writing to a backend: remove prometheus.mode (role: agent)",
    });
  if (Array.isArray(values.services)) {
    values.services.forEach((service: unknown, index) => {
      if (isObject(service) && service.maxLogSilence !== undefined)
        issues.push({
          key: fullKey(["services", index, "maxLogSilence"]),
          message:
            "log-silence alerts are evaluated by the central Grafana from the central catalog, which does not list this host's services: remove it (role: agent). " +
            "The central stack's error-rate and ingest alerts still cover this host's lines",
        });
      // The ingest pipeline is the central stack's (components/logs/request-fields.ts, built from the central
      // catalog; the data stream's default pipeline runs it on this host's lines), so keys given here would be
      // silently ignored.
      if (isObject(service) && service.requestLogKeys !== undefined)
        issues.push({
          key: fullKey(["services", index, "requestLogKeys"]),
          message:
            "request keys are read by the central stack's ingest pipeline, built from the central catalog: give the service an entry there " +
            "with these requestLogKeys (it needs no `logs` there) and remove them here (role: agent)",
        });
    });
  }
  return issues;
}

function valueAt(values: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = values;
  for (const segment of path) node = isObject(node) ? node[segment] : undefined;
  return node;
}
