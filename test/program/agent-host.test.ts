/**
 * An agent host (`role: agent`) under Pulumi's mock engine: the shipped example and a stack with real
 * secret values. Only the exporters, Prometheus in agent mode and Filebeat run; nothing of Grafana,
 * Elasticsearch or Kibana is created or configured; secrets stay secrets and never reach a rendered file.
 */
import * as yaml from "js-yaml";
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { listStacks, SECRET_PLACEHOLDER } from "../../scripts/lib/stack-file";
import { planIsolated, PROJECT_DIR, resolvedStackConfig, stackConfig } from "../support/plan";
import { AGENT_FEDERATION_ENTRY } from "../support/external-stacks";
import { filebeatHost } from "../../components/logs/filebeat-config";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const IMAGE = "docker:index/remoteImage:RemoteImage";

const AGENT_STACKS = listStacks(PROJECT_DIR).filter((stack) => resolvedStackConfig(stack).role === "agent");

const WRITE_PASSWORD = "remote-write-password-in-test";
const SHIPPER_KEY = "agentKeyId42:agent-key-secret-in-test";
const AGENT_VALUES = {
  role: "agent",
  publicHostname: "app-7.example.internal",
  prometheus: { remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "tenant-7" }] },
  logs: { dataStream: "logs-atra-prod", external: { elasticsearchUrl: "https://logs.example.internal", caFingerprint: "ab".repeat(32) } },
  services: [
    { name: "worker", logs: ["/srv/atra/logs/worker*.log"] },
    { name: "api", metrics: "http://api:8000/metrics", health: "http://api:8000/health" },
  ],
  remoteWriteSecrets: { central: WRITE_PASSWORD },
  // Given in the encoded form: the program hands Filebeat the id:api_key form.
  logShipperApiKey: Buffer.from(SHIPPER_KEY).toString("base64"),
};

test("the agent example is a shipped stack file, listed by the prod stack, which pulls it with what its output agentFederation gives it", () => {
  expect(AGENT_STACKS).toContain("agent-example");
  const agent = resolvedStackConfig("agent-example");
  const central = resolvedStackConfig("prod");
  // The agent is listed in the central agents[]: it is pulled with its own login and gets its own log key
  // (outputs agentFederation[<host>] and agentLogShipperApiKeys[<host>]).
  expect(central.agents.map((entry) => entry.host)).toContain(agent.publicHostname);
  expect(central.agents.find((entry) => entry.host === agent.publicHostname)?.prometheusUrl).toBe(agent.prometheusPublicUrl);
  expect(agent.prometheus.federated).toBe(true);
  expect(agent.logs.dataStream).toBe(central.logs.dataStream);
});

/** An agent pulled by the central stack, with real secret values (its federation entry) and a remote write to an external backend too. */
const FEDERATED_VALUES = { ...AGENT_VALUES, publicHostname: "app-8.example.internal", bindAddress: "0.0.0.0", federation: AGENT_FEDERATION_ENTRY };
const FEDERATION = JSON.parse(AGENT_FEDERATION_ENTRY) as { password: string; passwordHash: string; key: string };

describe.each([
  ...AGENT_STACKS.map((stack) => ({ name: stack, plan: () => planIsolated(stack), writes: resolvedStackConfig(stack).prometheus.remoteWrite.length })),
  {
    name: "app-7 (secrets given)",
    plan: () => planIsolated("app-7", { config: stackConfig(AGENT_VALUES, ["remoteWriteSecrets", "logShipperApiKey"]) }),
    writes: 1,
  },
  {
    name: "app-8 (federated, secrets given)",
    plan: () => planIsolated("app-8", { config: stackConfig(FEDERATED_VALUES, ["remoteWriteSecrets", "logShipperApiKey", "federation"]) }),
    writes: 1,
  },
])("agent host $name", ({ plan: makePlan, writes }) => {
  let plan: PlanResult;
  let resources: PlannedResource[];
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  const container = (name: string) => {
    const found = ofType(CONTAINER).find((resource) => resource.name === name);
    if (!found) throw new Error(`no container ${name}`);
    return found;
  };
  const artifact = (suffix: string) => {
    const found = plan.artifacts.find((a) => a.path.endsWith(suffix));
    if (!found) throw new Error(`no artifact ${suffix}`);
    return found.content;
  };

  beforeAll(async () => {
    plan = await makePlan();
    resources = plan.run.resources;
  });

  test("runs the exporters, Prometheus and Filebeat only, with their volumes and images", () => {
    expect(
      ofType(CONTAINER)
        .map((c) => c.name)
        .sort(),
    ).toEqual(["blackbox-exporter", "cadvisor", "filebeat", "node-exporter", "prometheus"]);
    expect(
      ofType(VOLUME)
        .map((v) => v.name)
        .sort(),
    ).toEqual(["filebeat-data", "prometheus-data"]);
    const images = ofType(IMAGE).map((image) => String(image.inputs.name));
    for (const central of ["grafana", "elasticsearch", "kibana"]) expect(images.join(" ")).not.toContain(central);
  });

  test("configures nothing in Grafana, Elasticsearch or Kibana", () => {
    const configuring = resources.filter((r) => r.type.startsWith("grafana:") || r.type.startsWith("pulumi:providers:grafana") || r.type.includes("dynamic"));
    expect(configuring.map((r) => r.urn)).toEqual([]);
  });

  test("federated: server mode with a short retention, TLS and the central's login from secret uploads; else agent mode", () => {
    const command = container("prometheus").inputs.command as string[];
    const uploads = (container("prometheus").inputs.uploads as { file: string }[]).map((upload) => upload.file);
    const federated = String(plan.run.outputs.prometheusUrl.value).startsWith("https://");
    if (federated) {
      expect(command).not.toContain("--agent");
      expect(command).toEqual(expect.arrayContaining(["--storage.tsdb.retention.time=2h", "--web.config.file=/etc/prometheus/web.yml"]));
      expect(uploads).toEqual(expect.arrayContaining(["/etc/prometheus/web.yml", "/etc/prometheus/tls/server.pem", "/etc/prometheus/tls/server-key.pem"]));
      // The healthcheck logs in over TLS (promtool check ready with its http config).
      expect((container("prometheus").inputs.healthcheck as { tests: string[] }).tests).toContain(
        "--http.config.file=/etc/prometheus/secrets/healthcheck-http.yml",
      );
      // Its healthcheck and self-scrape check the host's own name, the only name its certificate carries
      // (agent-federation.ts agentCertificateNames: no localhost).
      const host = String(plan.run.outputs.host.value);
      const healthcheckConfig = (container("prometheus").inputs.uploads as { file: string; content: string }[]).find(
        (upload) => upload.file === "/etc/prometheus/secrets/healthcheck-http.yml",
      )!.content;
      expect(healthcheckConfig).toContain(`server_name: ${host}`);
      expect(artifact("prometheus.yml")).toContain(`server_name: ${host}`);
      expect(artifact("prometheus.yml")).not.toContain("server_name: localhost");
    } else {
      expect(command).toContain("--agent");
      expect(command.some((flag) => flag.startsWith("--storage.tsdb") || flag.startsWith("--web.config.file"))).toBe(false);
    }
  });

  test("Prometheus remote-writes (when configured) with its credentials from a secret file; every series carries its host", () => {
    const prometheusYml = yaml.load(artifact("prometheus.yml")) as {
      global: { external_labels: Record<string, string> };
      remote_write: { basic_auth?: { password_file: string } }[];
      scrape_configs: { job_name: string; static_configs: { labels?: Record<string, string> }[] }[];
    };
    expect(prometheusYml.remote_write ?? []).toHaveLength(writes);
    if (writes > 0) expect(prometheusYml.remote_write[0].basic_auth?.password_file).toBe("/etc/prometheus/secrets/remote-write-central");
    expect(prometheusYml.scrape_configs.map((job) => job.job_name)).not.toContain("grafana");
    const host = plan.run.outputs.host.value;
    expect(prometheusYml.global.external_labels.host).toBe(host);
    for (const job of prometheusYml.scrape_configs) for (const target of job.static_configs) expect(target.labels?.host).toBe(host);
    const credentials = (container("prometheus").inputs.uploads as { file: string }[]).map((upload) => upload.file);
    if (writes > 0) expect(credentials).toContain("/etc/prometheus/secrets/remote-write-central");
    else expect(credentials.some((file) => file.includes("remote-write"))).toBe(false);
  });

  test("Filebeat ships to the central cluster's data stream with the API key from its secret environment", () => {
    const filebeat = yaml.load(artifact("filebeat/filebeat.yml")) as { "output.elasticsearch": Record<string, unknown>; processors: unknown[] };
    const output = filebeat["output.elasticsearch"];
    // Every event names this host, as its series do.
    expect(filebeat.processors).toEqual([{ add_fields: { target: "", fields: { host: { name: plan.run.outputs.host.value } } } }]);
    expect(output.api_key).toBe("${ATRA_LOGS_API_KEY}");
    expect(output.username).toBeUndefined();
    // The central pipeline is the data stream's default pipeline: an agent does not name it.
    expect(output.pipeline).toBeUndefined();
    expect(output.index).toBe(plan.run.outputs.logsDataStream.value);
    // With its port written out: Filebeat would add 9200 to a port-less URL (test/program/filebeat-hosts.test.ts).
    expect(output.hosts).toEqual([filebeatHost(String(plan.run.outputs.elasticsearchUrl.value))]);
    expect(container("filebeat").secretPaths).toEqual(["envs"]);
  });

  test("secrets never appear in plain text; the outputs say where this host ships", () => {
    const everything = JSON.stringify({ artifacts: plan.artifacts, inputs: resources.map((r) => r.inputs), outputs: plan.run.outputs });
    for (const secret of [
      WRITE_PASSWORD,
      SHIPPER_KEY,
      AGENT_VALUES.logShipperApiKey,
      SECRET_PLACEHOLDER,
      FEDERATION.password,
      FEDERATION.passwordHash,
      FEDERATION.key.trim(),
    ])
      expect(everything).not.toContain(secret);
    expect(plan.run.outputs.role.value).toBe("agent");
    expect(Object.keys(plan.run.outputs).sort()).toEqual([
      "elasticsearchUrl",
      "environment",
      "host",
      "logsDataStream",
      "monitoredServices",
      "prometheusUrl",
      "remoteWriteUrls",
      "role",
    ]);
  });
});
