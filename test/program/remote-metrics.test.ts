/**
 * Remote write, the agent federation jobs, the external query URL and agent mode under Pulumi's mock engine: the
 * credentials files are secret uploads (prometheus.yml names only their paths), the Prometheus
 * datasource reads from the query URL with a secret password, the alert rules read through that
 * datasource, and which containers run in agent mode.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { everyOptionStackConfig } from "../support/every-option-stack";
import { planIsolated, stackConfig } from "../support/plan";

const CONTAINER = "docker:index/container:Container";
const DATASOURCE = "grafana:oss/dataSource:DataSource";
const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";

function byName(plan: PlanResult, type: string, name: string): PlannedResource {
  const found = plan.run.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}
/** Everything the plan writes or records: every artifact (resources.json and outputs.json among them). */
const everything = (plan: PlanResult) => JSON.stringify(plan.artifacts);

describe("server mode with remote write, an agent host and an external query URL (the every-option stack)", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("every-option", { config: everyOptionStackConfig() });
  });

  test("each remote write with credentials gets its file as a secret upload; prometheus.yml holds only the paths", () => {
    const prometheus = byName(plan, CONTAINER, "prometheus");
    const uploads = prometheus.inputs.uploads as { file: string; content: string; permissions: string }[];
    expect(uploads.map((upload) => [upload.file, upload.permissions])).toEqual([
      ["/etc/prometheus/prometheus.yml", "0644"],
      ["/etc/prometheus/secrets/remote-write-central", "0444"],
      ["/etc/prometheus/secrets/remote-write-cloud", "0444"],
      // tls (provided): the certificate, its key, the CA, the TLS healthcheck's client config (test/program/tls.test.ts).
      // On loopback, but listing an agent: the logins (web-config.ts requiredLogins), the healthcheck's password.
      ["/etc/prometheus/web.yml", "0444"],
      ["/etc/prometheus/secrets/login-healthcheck-password", "0444"],
      ["/etc/prometheus/tls/server.pem", "0444"],
      ["/etc/prometheus/tls/server-key.pem", "0444"],
      ["/etc/prometheus/tls/ca.pem", "0444"],
      ["/etc/prometheus/secrets/healthcheck-http.yml", "0444"],
      // Its agent host (agents[]): the CA of the agents' certificates (the central's federation CA) and the host's password.
      ["/etc/prometheus/tls/federation-ca.pem", "0444"],
      ["/etc/prometheus/secrets/agent-app-9.example.internal-password", "0444"],
      // The blackbox exporter's password (components/metrics/blackbox-login.ts).
      ["/etc/prometheus/secrets/blackbox-password", "0444"],
      // The every-option stack sets SLOs: their recording rules (components/slo), after the credentials.
      ["/etc/prometheus/rules/slo.yml", "0644"],
      // Its own memory limit as a series (components/metrics/memory-rule.ts), for PrometheusMemoryHigh.
      ["/etc/prometheus/rules/memory.yml", "0644"],
      // Last: Grafana's /metrics password, which the scrape of Grafana sends (test/real-tools/real-prometheus.test.ts).
      ["/etc/prometheus/secrets/grafana-metrics-password", "0444"],
    ]);
    // Only the credentials' and the key's contents are secret: prometheus.yml stays readable in the plan.
    // The every-option stack's tls is provided: the chain comes from the secret tlsCertificate, so it stays secret too.
    // With the logins: the web config (its hashes) and the healthcheck's password too.
    expect(prometheus.secretPaths).toEqual([1, 2, 3, 4, 5, 6, 10, 11, 14].map((index) => `uploads[${index}].content`));
    expect(uploads[1].content).toBe("[secret]");
    const yml = plan.artifacts.find((artifact) => artifact.path.endsWith("/etc/prometheus/prometheus.yml"))!.content;
    expect(yml).toContain("password_file: /etc/prometheus/secrets/remote-write-central");
    expect(yml).toContain("credentials_file: /etc/prometheus/secrets/remote-write-cloud");
    expect(yml).toContain("host: obs-host-1");
    expect(prometheus.inputs.command).not.toContain("--web.enable-remote-write-receiver");
    expect(yml).toContain("job_name: agent-app-9.example.internal");
    expect(yml).toContain("sample_limit: 20000");
    expect(prometheus.inputs.command).toContain("--storage.tsdb.retention.time=21d");
  });

  test("Grafana's Prometheus datasource reads from the external query URL, its password secret", () => {
    const datasource = byName(plan, DATASOURCE, "prometheus");
    expect(datasource.inputs).toMatchObject({
      uid: "atra-prometheus-ds",
      url: "https://mimir.example.internal/prometheus",
      basicAuthEnabled: true,
      basicAuthUsername: "grafana-reader",
    });
    expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
  });

  test("no secret value of the new keys appears anywhere in the plan", () => {
    for (const secret of ["every-option-remote-write-password", "every-option-remote-write-token", "every-option-query-password"]) {
      expect(everything(plan)).not.toContain(secret);
    }
  });
});

describe("agent mode", () => {
  let plan: PlanResult;
  const password = "agent-mode-remote-password";
  const queryPassword = "agent-mode-query-password";
  beforeAll(async () => {
    plan = await planIsolated("edge", {
      config: stackConfig(
        {
          publicHostname: "app-host-7.example.internal",
          services: [{ name: "api", metrics: "http://api:8000/metrics", health: "http://api:8000/health", logs: ["/srv/api/logs/*.log"] }],
          prometheus: {
            mode: "agent",
            remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "app-host-7" }],
            external: { queryUrl: "https://metrics.example.internal/prometheus", basicAuthUser: "grafana" },
          },
          remoteWriteSecrets: { central: password },
          prometheusQueryPassword: queryPassword,
        },
        ["remoteWriteSecrets", "prometheusQueryPassword"],
      ),
    });
  });

  test("Prometheus still runs, as an agent: --agent and its own storage path, no TSDB flags; the rest of the stack is unchanged", () => {
    const containers = plan.run.resources.filter((resource) => resource.type === CONTAINER).map((resource) => resource.name);
    // Only the Prometheus mode changes here: the exporters, Grafana and the logs stage still run in this stack.
    expect(containers.sort()).toEqual(["blackbox-exporter", "cadvisor", "elasticsearch", "filebeat", "grafana", "kibana", "node-exporter", "prometheus"]);
    const command = byName(plan, CONTAINER, "prometheus").inputs.command as string[];
    expect(command).toContain("--agent");
    expect(command).toContain("--storage.agent.path=/prometheus/agent");
    expect(command.filter((flag) => flag.startsWith("--storage.tsdb"))).toEqual([]);
    // The healthcheck asks /-/ready, which an agent answers (test/real-tools/remote-write.test.ts).
    expect(JSON.stringify(byName(plan, CONTAINER, "prometheus").inputs.healthcheck)).toContain("/-/ready");
  });

  test("prometheus.yml: remote write from the password file, external labels with the host, nothing agent mode refuses", () => {
    const yml = plan.artifacts.find((artifact) => artifact.path.endsWith("/etc/prometheus/prometheus.yml"))!.content;
    expect(yml).toContain("password_file: /etc/prometheus/secrets/remote-write-central");
    expect(yml).toMatch(/external_labels:\n\s+stack: edge\n\s+environment: dev\n\s+host: app-host-7.example.internal/);
    // Prometheus refuses these in agent mode (prometheus/prometheus config/config.go, LoadFile).
    expect(yml).not.toMatch(/^(rule_files|alerting|remote_read):/m);
    // The remote write's password, the blackbox exporter's (components/metrics/blackbox-login.ts) and Grafana's /metrics password (Grafana still runs here).
    expect(byName(plan, CONTAINER, "prometheus").secretPaths).toEqual(["uploads[1].content", "uploads[2].content", "uploads[3].content"]);
  });

  test("Grafana's datasource, and so every Grafana-managed alert rule, reads from the query URL", () => {
    const datasource = byName(plan, DATASOURCE, "prometheus");
    expect(datasource.inputs).toMatchObject({ url: "https://metrics.example.internal/prometheus", basicAuthEnabled: true, basicAuthUsername: "grafana" });
    expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
    const prometheusRules = plan.run.resources
      .filter((resource) => resource.type === RULE_GROUP && resource.inputs.name !== "atra-logs")
      .flatMap((group) => group.inputs.rules as { name: string; datas: { datasourceUid: string }[] }[])
      // The datasource group's Elasticsearch rule watches the logs datasource (components/alerting/datasource-alerts.ts).
      .filter((rule) => rule.name !== "ElasticsearchNotQueryable");
    expect(prometheusRules.length).toBeGreaterThan(5);
    for (const rule of prometheusRules) expect(rule.datas.map((data) => data.datasourceUid)).toContain("atra-prometheus-ds");
  });

  test("no secret value appears anywhere in the plan", () => {
    expect(everything(plan)).not.toContain(password);
    expect(everything(plan)).not.toContain(queryPassword);
  });

  test("a bad agent config stops the plan, naming every key", async () => {
    await expect(planIsolated("edge", { config: stackConfig({ prometheus: { mode: "agent" } }) })).rejects.toThrow(
      /prometheus\.external\.queryUrl: agent mode has no query API[\s\S]*prometheus\.remoteWrite: agent mode stores nothing/,
    );
  });
});
