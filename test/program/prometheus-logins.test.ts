/**
 * Prometheus's logins under Pulumi's mock engine (components/metrics/web-config.ts, issue 21 Majors 1
 * and 4): a central stack published beyond loopback and listing two agent hosts generates one password
 * each for Grafana, the healthcheck and people, and one per agent host (components/metrics/
 * agent-federation.ts); uploads the web config, the healthcheck's password and each agent's password as
 * secrets; outputs people's login as prometheusUser/prometheusPassword, Grafana's goes only to its
 * datasource, and agentFederation as one secret; never shows a password or hash in the plan; makes no
 * receiver and no shared agents' login. On loopback none of it is made.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { agentPasswordPath } from "../../components/metrics/prometheus-config";
import {
  FEDERATION_CA_PATH,
  HEALTHCHECK_HTTP_CONFIG_PATH,
  HEALTHCHECK_PASSWORD_PATH,
  PROMETHEUS_CA_PATH,
  PROMETHEUS_TLS_CERT_PATH,
  PROMETHEUS_TLS_KEY_PATH,
  promtoolHealthcheck,
} from "../../components/metrics/web-config";
import { GRAFANA_METRICS_PASSWORD_PATH } from "../../components/grafana/service";
import { BLACKBOX_PASSWORD_PATH } from "../../components/metrics/blackbox-login";
import { planIsolated, stackConfig } from "../support/plan";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const HOSTS = ["app-2.example.internal", "app-3.example.internal"];

const prometheusOf = (plan: PlanResult): PlannedResource =>
  plan.run.resources.find((resource) => resource.type === CONTAINER && resource.name === "prometheus")!;
const uploadsOf = (plan: PlanResult) => prometheusOf(plan).inputs.uploads as { file: string; content: string; permissions: string }[];

describe("a central stack published beyond loopback, listing two agent hosts", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("central", {
      config: stackConfig({ bindAddress: "0.0.0.0", publicHostname: "obs.example.internal", agents: HOSTS.map((host) => ({ host })) }),
    });
  });

  test("a password each for Grafana, the healthcheck and people under the metrics stack, and one per agent host under the federation", () => {
    const passwords = plan.run.resources.filter((resource) => resource.type === PASSWORD);
    expect(passwords.filter((r) => r.name.startsWith("prometheus-")).map((r) => [r.name, r.inputs, r.parent?.endsWith("::metrics")])).toEqual([
      ["prometheus-grafana-password", { length: 32, special: false }, true],
      ["prometheus-healthcheck-password", { length: 32, special: false }, true],
      ["prometheus-people-password", { length: 32, special: false }, true],
    ]);
    expect(passwords.filter((r) => r.name.startsWith("federation-")).map((r) => r.name)).toEqual(HOSTS.map((host) => `federation-${host}-password`));
    // A certificate per agent host.
    const certificates = plan.run.resources.filter((resource) => resource.type === "tls:index/locallySignedCert:LocallySignedCert").map((r) => r.name);
    expect(certificates).toEqual(expect.arrayContaining(HOSTS.map((host) => `federation-${host}-certificate`)));
  });

  test("the agents' certificates come from a federation CA of their own, not the stack CA (tls generated), and name their host alone", () => {
    const cas = plan.run.resources.filter((resource) => resource.type === "tls:index/selfSignedCert:SelfSignedCert");
    const federationCa = cas.find((resource) => resource.name === "federation-ca");
    expect(federationCa?.parent).toMatch(/::federation$/);
    expect(cas.length).toBe(2); // the stack CA, and the federation CA
    const stackCa = cas.find((resource) => resource !== federationCa)!;
    const signedBy = (name: string) => plan.run.resources.find((resource) => resource.name === name)!.dependencies ?? [];
    for (const host of HOSTS) {
      const dependencies = signedBy(`federation-${host}-certificate`);
      expect(dependencies.some((urn) => urn.endsWith("::federation-ca"))).toBe(true);
      expect(dependencies).not.toContain(stackCa.urn);
      const request = plan.run.resources.find((resource) => resource.name === `federation-${host}-request`)!;
      expect([request.inputs.dnsNames, request.inputs.ipAddresses ?? []]).toEqual([[host], []]);
    }
  });

  test("the web config and every password are secret uploads, read-only for all; prometheus.yml names the files", () => {
    const uploads = uploadsOf(plan);
    expect(uploads.map((upload) => [upload.file, upload.permissions])).toEqual([
      ["/etc/prometheus/prometheus.yml", "0644"],
      ["/etc/prometheus/web.yml", "0444"],
      [HEALTHCHECK_PASSWORD_PATH, "0444"],
      [PROMETHEUS_TLS_CERT_PATH, "0444"],
      [PROMETHEUS_TLS_KEY_PATH, "0444"],
      [PROMETHEUS_CA_PATH, "0444"],
      [HEALTHCHECK_HTTP_CONFIG_PATH, "0444"],
      [FEDERATION_CA_PATH, "0444"],
      ...HOSTS.map((host) => [agentPasswordPath(host), "0444"]),
      // The blackbox exporter's password (components/metrics/blackbox-login.ts).
      [BLACKBOX_PASSWORD_PATH, "0444"],
      // The central's memory limit as a recorded series, for PrometheusMemoryHigh (components/metrics/memory-rule.ts).
      ["/etc/prometheus/rules/memory.yml", "0644"],
      // Last: Grafana's /metrics password, which the scrape of Grafana sends.
      [GRAFANA_METRICS_PASSWORD_PATH, "0444"],
    ]);
    // The web config, the healthcheck's password, the key, each agent's password, the blackbox exporter's and Grafana's /metrics passwords.
    expect(prometheusOf(plan).secretPaths).toEqual([1, 2, 4, 8, 9, 10, 12].map((index) => `uploads[${index}].content`));
    for (const host of HOSTS) expect(uploads[0].content).toContain(`password_file: ${agentPasswordPath(host)}`);
    expect(prometheusOf(plan).inputs.command).toEqual(expect.arrayContaining(["--web.config.file=/etc/prometheus/web.yml"]));
    expect(prometheusOf(plan).inputs.command).not.toContain("--web.enable-remote-write-receiver");
    expect((prometheusOf(plan).inputs.healthcheck as { tests: string[] }).tests).toEqual(promtoolHealthcheck("https://127.0.0.1:9090"));
    expect(uploads.find((upload) => upload.file === HEALTHCHECK_HTTP_CONFIG_PATH)!.content).toContain(`password_file: ${HEALTHCHECK_PASSWORD_PATH}`);
  });

  test("people's login is the output; Grafana's goes only to its datasource; agentFederation is one secret; no shared agents' login", () => {
    expect(plan.run.outputs.prometheusUser).toEqual({ value: "atra-viewer", secret: false });
    expect(plan.run.outputs.prometheusPassword).toEqual({ value: "[secret]", secret: true });
    expect(plan.run.outputs.agentFederation).toEqual({ value: "[secret]", secret: true });
    for (const absent of ["agentRemoteWriteUrl", "agentRemoteWriteUser", "agentRemoteWritePassword"]) expect(plan.run.outputs[absent]).toBeUndefined();
    const datasource = plan.run.resources.find((resource) => resource.type === "grafana:oss/dataSource:DataSource" && resource.name === "prometheus")!;
    expect(datasource.inputs).toMatchObject({ basicAuthEnabled: true, basicAuthUsername: "atra-grafana" });
  });

  test("no generated password or hash appears anywhere in the plan, its inputs or its outputs", () => {
    const everything = JSON.stringify({ artifacts: plan.artifacts, inputs: plan.run.resources.map((resource) => resource.inputs), outputs: plan.run.outputs });
    for (const name of [
      "prometheus-grafana-password",
      "prometheus-healthcheck-password",
      "prometheus-people-password",
      ...HOSTS.map((host) => `federation-${host}-password`),
    ])
      expect(everything).not.toContain(`mock-generated-password-${name}`);
    expect(everything).not.toMatch(/\$2a\$10\$/);
  });
});

describe("a loopback stack", () => {
  test("makes no login: no passwords of Prometheus, no web config, the plain healthcheck", async () => {
    const plan = await planIsolated("plain", { config: stackConfig({}) });
    expect(plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-"))).toEqual([]);
    // Only the blackbox exporter's and Grafana's /metrics passwords, which their scrapes always send.
    expect(uploadsOf(plan).map((upload) => upload.file)).toEqual([
      "/etc/prometheus/prometheus.yml",
      BLACKBOX_PASSWORD_PATH,
      "/etc/prometheus/rules/memory.yml",
      GRAFANA_METRICS_PASSWORD_PATH,
    ]);
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
