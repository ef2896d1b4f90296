/**
 * Prometheus's login under Pulumi's mock engine (components/metrics/web-config.ts): a central stack
 * with `prometheus.remoteWriteReceiver` generates two passwords, uploads the web config and the login's
 * files as secrets, checks its health over TLS with the query login read from its file (the receiver
 * turns tls on: components/tls/config.ts), and never shows a password, hash or their encodings in the
 * plan; published beyond loopback without the receiver, only the query login; on loopback without the
 * receiver none of it is made.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import {
  HEALTHCHECK_HTTP_CONFIG_PATH,
  PROMETHEUS_CA_PATH,
  PROMETHEUS_TLS_CERT_PATH,
  PROMETHEUS_TLS_KEY_PATH,
  promtoolHealthcheck,
  QUERY_PASSWORD_PATH,
} from "../../components/metrics/web-config";
import { planIsolated, stackConfig } from "../support/plan";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "random:index/randomPassword:RandomPassword";

const prometheusOf = (plan: PlanResult): PlannedResource =>
  plan.run.resources.find((resource) => resource.type === CONTAINER && resource.name === "prometheus")!;
const uploadsOf = (plan: PlanResult) => prometheusOf(plan).inputs.uploads as { file: string; content: string; permissions: string }[];

describe("a central stack with the remote-write receiver", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("central", { config: stackConfig({ publicHostname: "obs.example.internal", prometheus: { remoteWriteReceiver: true } }) });
  });

  test("two generated passwords, letters and digits, under the metrics stack", () => {
    const passwords = plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-"));
    expect(passwords.map((resource) => [resource.name, resource.inputs, resource.parent?.endsWith("::metrics")])).toEqual([
      ["prometheus-agents-password", { length: 32, special: false }, true],
      ["prometheus-query-password", { length: 32, special: false }, true],
    ]);
  });

  test("the web config and the login's files are secret uploads, read-only for all; prometheus.yml stays readable", () => {
    const uploads = uploadsOf(plan);
    expect(uploads.map((upload) => [upload.file, upload.permissions])).toEqual([
      ["/etc/prometheus/prometheus.yml", "0644"],
      ["/etc/prometheus/web.yml", "0444"],
      [QUERY_PASSWORD_PATH, "0444"],
      // tls on (the receiver's default): the certificate, its key, the CA, the TLS healthcheck's client config.
      [PROMETHEUS_TLS_CERT_PATH, "0444"],
      [PROMETHEUS_TLS_KEY_PATH, "0444"],
      [PROMETHEUS_CA_PATH, "0444"],
      [HEALTHCHECK_HTTP_CONFIG_PATH, "0444"],
      // The blackbox exporter's password (components/metrics/blackbox-login.ts).
      ["/etc/prometheus/secrets/blackbox-password", "0444"],
    ]);
    // The web config, the password, the key and the blackbox password; the chain, the CA and the client config hold no secret.
    expect(prometheusOf(plan).secretPaths).toEqual(["uploads[1].content", "uploads[2].content", "uploads[4].content", "uploads[7].content"]);
    expect(uploads[0].content).toContain(`password_file: ${QUERY_PASSWORD_PATH}`);
    // The web config waits on the generated hashes: the container depends on both passwords (and the blackbox exporter's).
    expect(prometheusOf(plan).dependencies.filter((urn) => urn.includes(PASSWORD)).length).toBe(3);
  });

  test("the command takes the web config and the healthcheck logs in over TLS from the password file its client config names", () => {
    const prometheus = prometheusOf(plan);
    expect(prometheus.inputs.command).toEqual(expect.arrayContaining(["--web.enable-remote-write-receiver", "--web.config.file=/etc/prometheus/web.yml"]));
    // promtool reads the client config, which names the password file: no secret in the command (test/unit/web-config.test.ts).
    expect((prometheus.inputs.healthcheck as { tests: string[] }).tests).toEqual(promtoolHealthcheck("https://127.0.0.1:9090"));
    const clientConfig = uploadsOf(plan).find((upload) => upload.file === HEALTHCHECK_HTTP_CONFIG_PATH)!.content;
    expect(clientConfig).toContain(`password_file: ${QUERY_PASSWORD_PATH}`);
  });

  test("no generated password, hash or Basic credentials appear anywhere in the plan, its inputs or its outputs", () => {
    const everything = JSON.stringify({ artifacts: plan.artifacts, inputs: plan.run.resources.map((resource) => resource.inputs), outputs: plan.run.outputs });
    for (const login of ["agents", "query"]) {
      const password = `mock-generated-password-prometheus-${login}-password`;
      expect(everything).not.toContain(password);
      expect(everything).not.toContain(Buffer.from(`atra-grafana:${password}`).toString("base64"));
    }
    expect(everything).not.toMatch(/\$2a\$10\$/);
  });
});

describe("published beyond loopback without the receiver", () => {
  test("only the query login: Grafana, people and the self-scrape log in; no agents' password, no agent URL", async () => {
    const plan = await planIsolated("published", { config: stackConfig({ bindAddress: "0.0.0.0", publicHostname: "obs.example.internal" }) });
    expect(plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-")).map((r) => r.name)).toEqual([
      "prometheus-query-password",
    ]);
    expect(uploadsOf(plan).map((upload) => upload.file)).toEqual(expect.arrayContaining(["/etc/prometheus/web.yml", QUERY_PASSWORD_PATH]));
    expect(prometheusOf(plan).inputs.command).toEqual(expect.arrayContaining(["--web.config.file=/etc/prometheus/web.yml"]));
    expect(prometheusOf(plan).inputs.command).not.toContain("--web.enable-remote-write-receiver");
    expect(uploadsOf(plan)[0].content).toContain(`password_file: ${QUERY_PASSWORD_PATH}`);
    expect(plan.run.outputs.prometheusUser).toEqual({ value: "atra-grafana", secret: false });
    expect(plan.run.outputs.prometheusPassword).toEqual({ value: "[secret]", secret: true });
    for (const absent of ["agentRemoteWriteUrl", "agentRemoteWriteUser", "agentRemoteWritePassword"]) expect(plan.run.outputs[absent]).toBeUndefined();
    const datasource = plan.run.resources.find((resource) => resource.type === "grafana:oss/dataSource:DataSource" && resource.name === "prometheus")!;
    expect(datasource.inputs).toMatchObject({ basicAuthEnabled: true, basicAuthUsername: "atra-grafana" });
  });
});

describe("a loopback stack without the receiver", () => {
  test("makes no login: no passwords of Prometheus, no web config, the plain healthcheck", async () => {
    const plan = await planIsolated("plain", { config: stackConfig({}) });
    expect(plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-"))).toEqual([]);
    // Only the blackbox exporter's password beside prometheus.yml (components/metrics/blackbox-login.ts).
    expect(uploadsOf(plan).map((upload) => upload.file)).toEqual(["/etc/prometheus/prometheus.yml", "/etc/prometheus/secrets/blackbox-password"]);
    expect((prometheusOf(plan).inputs.healthcheck as { tests: string[] }).tests).toEqual([
      "CMD",
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "http://127.0.0.1:9090/-/ready",
    ]);
  });
});
