/**
 * Stacks that use an existing Grafana (`grafana.external`) and/or an existing Elastic cluster
 * (`logs.external`) instead of running them, as config values a user might write, with their secrets.
 * `EVERY_EXTERNAL_OPTION_STACKS` together set every key the local every-option stack cannot (an
 * external Grafana or Elastic cluster cannot share a stack with the local-only keys, and the two ways
 * to log in to each exclude each other), for the read-back, secrets and schema-walk tests.
 */
import { stackConfig } from "./plan";

/** Test values only: a syntactically valid PEM block (the config checks the form; TLS tests make real ones). */
export const TEST_CA_PEM = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBszCCAVmgAwIBAgIUQ2F0ZXN0Q0FmaXh0dXJlMDAwMDAwMDAwMDAwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPYXRy",
  "YS10ZXN0LWNhLXBlbTAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBoxGDAWBgNVBAMMD2F0cmEtdGVzdC1j",
  "-----END CERTIFICATE-----",
  "",
].join("\n");
export const TEST_CA_FINGERPRINT = "B9:A1:0B:BE:64:EE:98:26:AB:ED:A6:54:6F:C9:88:C8:BF:79:8B:41:95:7C:33:D0:5D:B7:36:71:65:13:DC:9C";

export const GRAFANA_API_TOKEN = "glsa_externalTestToken0123456789_abcdef01";
export const GRAFANA_EXTERNAL_PASSWORD = "external-grafana-admin-pw";
export const ELASTIC_API_KEY = Buffer.from("external-key-id:external-key-secret-value").toString("base64");
export const ELASTIC_EXTERNAL_PASSWORD = "external-elastic-user-pw";

export const GRAFANA_CLOUD_URL = "https://atra-obs.grafana.net";
export const ELASTIC_CLOUD = {
  elasticsearchUrl: "https://atra-obs.es.europe-west1.gcp.cloud.es.io",
  kibanaUrl: "https://atra-obs.kb.europe-west1.gcp.cloud.es.io",
};

const SERVICES = [
  { name: "billing-api", metrics: "http://billing_api:9000/metrics", health: "http://billing_api:9000/health", logs: ["/srv/billing/logs/api*.log"] },
];

/** An external Grafana reads this stack's Prometheus where it is published (no prometheus.external needed). */
const PUBLISHED_PROMETHEUS = { bindAddress: "0.0.0.0", publicHostname: "obs.example.com" };

export interface ExternalStack {
  values: Record<string, unknown>;
  /** Secret keys to their values (a map of them for remoteWriteSecrets). */
  secrets: Record<string, string | Record<string, string>>;
}

/** Grafana Cloud and Elastic Cloud, a token and an API key: nothing but the metrics stage and Filebeat runs here. */
export const BOTH_EXTERNAL: ExternalStack = {
  values: { services: SERVICES, ...PUBLISHED_PROMETHEUS, grafana: { external: { url: GRAFANA_CLOUD_URL } }, logs: { external: { ...ELASTIC_CLOUD } } },
  secrets: { grafanaApiToken: GRAFANA_API_TOKEN, elasticApiKey: ELASTIC_API_KEY },
};

/** The stack's own Grafana, a self-run Elastic cluster with a private CA and a user. */
export const EXTERNAL_ELASTIC_ONLY: ExternalStack = {
  values: {
    services: SERVICES,
    logs: {
      external: {
        elasticsearchUrl: "https://es.internal.example:9200",
        kibanaUrl: "https://kibana.internal.example:5601",
        user: "atra-provisioner",
        caCertificate: TEST_CA_PEM,
        caFingerprint: TEST_CA_FINGERPRINT,
      },
    },
  },
  secrets: { elasticPassword: ELASTIC_EXTERNAL_PASSWORD },
};

/** An external Grafana with its admin login, the logs stage off. */
export const EXTERNAL_GRAFANA_NO_LOGS: ExternalStack = {
  values: {
    services: SERVICES,
    ...PUBLISHED_PROMETHEUS,
    grafana: { adminUser: "grafana-admin", external: { url: "https://grafana.internal.example" } },
    logs: { enabled: false },
  },
  secrets: { grafanaAdminPassword: GRAFANA_EXTERNAL_PASSWORD },
};

/** An entry of the central output agentFederation, shaped as the central stack makes it (PEM-shaped stand-ins). */
export const AGENT_FEDERATION_ENTRY = JSON.stringify({
  password: "agent-federation-password-0123456",
  passwordHash: "$2a$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0",
  certificate: "-----BEGIN CERTIFICATE-----\nYWdlbnQtbGVhZg==\n-----END CERTIFICATE-----\n" + TEST_CA_PEM,
  key: "-----BEGIN PRIVATE KEY-----\nYWdlbnQta2V5\n-----END PRIVATE KEY-----\n",
});

/**
 * An agent host shipping to a central cluster behind a private CA, with the shipper's key in its encoded
 * form; pulled by the central Prometheus (its entry of agentFederation, published beyond loopback) and
 * remote-writing to an external backend too.
 */
export const AGENT_HOST: ExternalStack = {
  values: {
    role: "agent",
    publicHostname: "app-2.example.internal",
    bindAddress: "0.0.0.0",
    services: SERVICES,
    prometheus: { remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "tenant-7" }] },
    logs: {
      dataStream: "logs-billing-staging",
      external: { elasticsearchUrl: "https://logs.example.internal", caCertificate: TEST_CA_PEM, caFingerprint: TEST_CA_FINGERPRINT },
    },
  },
  secrets: {
    remoteWriteSecrets: { central: "agent-remote-write-password" },
    logShipperApiKey: Buffer.from("agent-key-id:agent-key-secret-value").toString("base64"),
    federation: AGENT_FEDERATION_ENTRY,
  },
};

/** Every external key across the stacks (each stack valid on its own). */
export const EVERY_EXTERNAL_OPTION_STACKS: Record<string, ExternalStack> = {
  "every-external-api-key": BOTH_EXTERNAL,
  "every-external-password": {
    values: {
      ...EXTERNAL_ELASTIC_ONLY.values,
      ...PUBLISHED_PROMETHEUS,
      grafana: { adminUser: "grafana-admin", external: { url: "https://grafana.internal.example" } },
      // Its Prometheus is published beyond loopback, so tls is generated: one more name on its certificate.
      tls: { extraNames: ["prometheus.internal.example"] },
      // A tcp:// Docker host with its TLS files in a directory (the PEM keys are in the local every-option stack).
      dockerHost: "tcp://docker-2.example.internal:2376",
      dockerCertPath: "/home/ops/.docker/docker-2",
    },
    secrets: { grafanaAdminPassword: GRAFANA_EXTERNAL_PASSWORD, elasticPassword: ELASTIC_EXTERNAL_PASSWORD },
  },
  "every-agent-option": AGENT_HOST,
};

export function externalStackConfig(stack: ExternalStack) {
  return stackConfig({ ...stack.values, ...stack.secrets }, Object.keys(stack.secrets));
}

/** Every secret value a stack carries, to look for in artifacts. */
export function secretValues(stack: ExternalStack): string[] {
  const values = Object.values(stack.secrets).flatMap((value) => (typeof value === "string" ? [value] : Object.values(value)));
  // The API key's decoded forms too.
  for (const value of values) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    if (/^[\x20-\x7e]+:[\x20-\x7e]+$/.test(decoded)) values.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
  }
  return values;
}
