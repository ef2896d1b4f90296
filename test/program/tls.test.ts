/**
 * The stack's certificates under Pulumi's mock engine (components/tls/pki.ts): a stack that serves
 * other hosts makes a CA and a server certificate with @pulumi/tls, outputs the CA (not secret), keeps
 * every key secret and out of every artifact, input and output; a loopback dev stack makes none; a
 * provided chain makes none and outputs the CA it names.
 *
 * And what uses them on the metrics and Grafana side: Prometheus and Grafana serve the chain with the key
 * as a secret upload; every client of theirs (the self-scrape and the scrape of Grafana, the healthchecks,
 * the blackbox exporter's TLS probes, the Grafana provider, Grafana's datasources) trusts the CA and
 * checks publicHostname; the outputs are https; the certificate alerts come with tls and only with it.
 */
import * as yaml from "js-yaml";
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { GENERATED_VALIDITY } from "../../components/tls/config";
import { TLS_ALERT_GROUP, TLS_PROBE_JOB, TLS_PROBE_MODULE } from "../../components/metrics/prometheus-config";
import { HEALTHCHECK_HTTP_CONFIG_PATH, PROMETHEUS_CA_PATH, promtoolHealthcheck } from "../../components/metrics/web-config";
import { GRAFANA_CA_PATH, grafanaHealthcheck } from "../../components/grafana/grafana-server";
import { planIsolated, stackConfig } from "../support/plan";
import { resolveStackConfig } from "../../components/config/resolve";

const TLS_TYPES = [
  "tls:index/privateKey:PrivateKey",
  "tls:index/selfSignedCert:SelfSignedCert",
  "tls:index/certRequest:CertRequest",
  "tls:index/locallySignedCert:LocallySignedCert",
];
const tlsResources = (plan: PlanResult) => plan.run.resources.filter((resource) => TLS_TYPES.includes(resource.type));
const CONTAINER = "docker:index/container:Container";
const DATASOURCE = "grafana:oss/dataSource:DataSource";
const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
const find = (plan: PlanResult, type: string, name: string): PlannedResource => {
  const found = plan.run.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
type Upload = { file: string; content: string; permissions: string };
const uploadsOf = (plan: PlanResult, container: string) => find(plan, CONTAINER, container).inputs.uploads as Upload[];
const uploadAt = (plan: PlanResult, container: string, file: string) => {
  const index = uploadsOf(plan, container).findIndex((upload) => upload.file === file);
  if (index < 0) throw new Error(`${container} uploads no ${file}`);
  return { ...uploadsOf(plan, container)[index], secret: find(plan, CONTAINER, container).secretPaths.includes(`uploads[${index}].content`) };
};
const everything = (plan: PlanResult) =>
  JSON.stringify({ artifacts: plan.artifacts, inputs: plan.run.resources.map((resource) => resource.inputs), outputs: plan.run.outputs });

describe("a central stack published beyond loopback: generated certificates", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("central", { config: stackConfig({ publicHostname: "obs.example.internal", bindAddress: "0.0.0.0" }) });
  });

  test("two ECDSA keys, a CA, a request and a server certificate, under the tls component", () => {
    const made = tlsResources(plan).map((resource) => [resource.name, resource.type.split(":")[2], resource.parent?.endsWith("atra:tls:StackPki::tls")]);
    // Sorted by name: the engine registers them as their inputs resolve.
    expect(made.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ["tls-ca", "SelfSignedCert", true],
      ["tls-ca-key", "PrivateKey", true],
      ["tls-server", "LocallySignedCert", true],
      ["tls-server-key", "PrivateKey", true],
      ["tls-server-request", "CertRequest", true],
    ]);
    const key = tlsResources(plan).find((resource) => resource.name === "tls-ca-key")!;
    expect(key.inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  });

  test("the CA and the server certificate renew before they expire; the server certificate names the stack", () => {
    const byName = Object.fromEntries(tlsResources(plan).map((resource) => [resource.name, resource]));
    expect(byName["tls-ca"].inputs).toMatchObject({
      isCaCertificate: true,
      validityPeriodHours: GENERATED_VALIDITY.caHours,
      earlyRenewalHours: GENERATED_VALIDITY.caEarlyRenewalHours,
    });
    expect(byName["tls-server"].inputs).toMatchObject({
      validityPeriodHours: GENERATED_VALIDITY.serverHours,
      earlyRenewalHours: GENERATED_VALIDITY.serverEarlyRenewalHours,
      allowedUses: expect.arrayContaining(["server_auth"]),
    });
    expect(byName["tls-server-request"].inputs.dnsNames).toEqual(
      expect.arrayContaining(["obs.example.internal", "localhost", "atra-obs-central-prometheus", "atra-obs-central-grafana"]),
    );
    expect(byName["tls-server-request"].inputs.ipAddresses).toEqual(["127.0.0.1"]);
  });

  test("every private key is a secret input where it is used, and no key material is in any artifact, input or output", () => {
    for (const name of ["tls-ca", "tls-server-request"])
      expect(tlsResources(plan).find((resource) => resource.name === name)!.secretPaths).toEqual(["privateKeyPem"]);
    expect(tlsResources(plan).find((resource) => resource.name === "tls-server")!.secretPaths).toEqual(["caPrivateKeyPem"]);
    expect(everything(plan)).not.toContain("PRIVATE KEY");
    expect(everything(plan)).not.toContain("mock-private-key");
  });

  test("the CA certificate is an output, not secret", () => {
    expect(plan.run.outputs.caCertificate).toEqual({ value: expect.stringContaining("-----BEGIN CERTIFICATE-----\nmock-certificate-tls-ca"), secret: false });
  });

  const CA = "-----BEGIN CERTIFICATE-----\nmock-certificate-tls-ca\n-----END CERTIFICATE-----\n";
  const CHAIN = `-----BEGIN CERTIFICATE-----\nmock-certificate-tls-server\n-----END CERTIFICATE-----\n${CA}`;

  test("Prometheus serves the chain with its key as a secret upload, the web config with tls_server_config, the https external URL", () => {
    expect(uploadAt(plan, "prometheus", "/etc/prometheus/tls/server.pem")).toMatchObject({ content: CHAIN, secret: false });
    expect(uploadAt(plan, "prometheus", "/etc/prometheus/tls/server-key.pem")).toMatchObject({ content: "[secret]", secret: true });
    expect(uploadAt(plan, "prometheus", "/etc/prometheus/web.yml")).toMatchObject({ content: "[secret]", secret: true });
    expect(find(plan, CONTAINER, "prometheus").inputs.command).toEqual(
      expect.arrayContaining(["--web.external-url=https://obs.example.internal:9090", "--web.config.file=/etc/prometheus/web.yml"]),
    );
  });

  test("Prometheus's scrapes of itself and of Grafana, and its healthcheck, trust the CA and check publicHostname", () => {
    expect(uploadAt(plan, "prometheus", PROMETHEUS_CA_PATH)).toMatchObject({ content: CA, secret: false });
    const prometheusYml = yaml.load(uploadAt(plan, "prometheus", "/etc/prometheus/prometheus.yml").content) as {
      scrape_configs: { job_name: string; scheme?: string; tls_config?: unknown }[];
    };
    const trusting = { ca_file: PROMETHEUS_CA_PATH, server_name: "obs.example.internal" };
    for (const job of ["prometheus", "grafana"])
      expect(prometheusYml.scrape_configs.find((candidate) => candidate.job_name === job)).toMatchObject({ scheme: "https", tls_config: trusting });
    expect((find(plan, CONTAINER, "prometheus").inputs.healthcheck as { tests: string[] }).tests).toEqual(promtoolHealthcheck("https://127.0.0.1:9090"));
    expect(yaml.load(uploadAt(plan, "prometheus", HEALTHCHECK_HTTP_CONFIG_PATH).content)).toEqual({
      basic_auth: { username: "atra-healthcheck", password_file: "/etc/prometheus/secrets/login-healthcheck-password" },
      tls_config: trusting,
    });
  });

  test("the blackbox exporter probes every TLS endpoint of the stack with a handshake trusting the CA", () => {
    expect(uploadAt(plan, "blackbox-exporter", "/etc/blackbox_exporter/tls/ca.pem")).toMatchObject({ content: CA, secret: false });
    const modules = (yaml.load(uploadAt(plan, "blackbox-exporter", "/etc/blackbox_exporter/config.yml").content) as { modules: Record<string, unknown> })
      .modules;
    expect(modules[TLS_PROBE_MODULE]).toEqual({
      prober: "tcp",
      timeout: "5s",
      tcp: { preferred_ip_protocol: "ip4", tls: true, tls_config: { ca_file: "/etc/blackbox_exporter/tls/ca.pem", server_name: "obs.example.internal" } },
    });
    const prometheusYml = yaml.load(uploadAt(plan, "prometheus", "/etc/prometheus/prometheus.yml").content) as {
      scrape_configs: { job_name: string; params?: unknown; static_configs: { targets: string[] }[] }[];
    };
    const probe = prometheusYml.scrape_configs.find((job) => job.job_name === TLS_PROBE_JOB)!;
    expect(probe.params).toEqual({ module: [TLS_PROBE_MODULE] });
    expect(probe.static_configs[0].targets).toEqual([
      "atra-obs-central-prometheus:9090",
      "atra-obs-central-grafana:3000",
      "atra-obs-central-elasticsearch:9200",
      "atra-obs-central-kibana:5601",
    ]);
  });

  test("Grafana serves https: the chain, its key as a secret upload readable by Grafana's group only, a healthcheck verifying the CA", () => {
    expect(uploadAt(plan, "grafana", "/etc/grafana/tls/server.pem")).toMatchObject({ content: CHAIN, secret: false, permissions: "0444" });
    expect(uploadAt(plan, "grafana", "/etc/grafana/tls/server-key.pem")).toMatchObject({ content: "[secret]", secret: true, permissions: "0440" });
    expect(uploadAt(plan, "grafana", GRAFANA_CA_PATH)).toMatchObject({ content: CA, secret: false });
    expect((find(plan, CONTAINER, "grafana").inputs.healthcheck as { tests: string[] }).tests).toEqual(
      grafanaHealthcheck({ caFile: GRAFANA_CA_PATH, serverName: "obs.example.internal" }),
    );
    // GF_SERVER_PROTOCOL and the files' settings are in the environment, which is secret as a whole (its admin password).
    expect(find(plan, CONTAINER, "grafana").secretPaths).toContain("envs");
  });

  test("the Grafana provider talks https to Grafana trusting the CA; the datasources trust it and check publicHostname", () => {
    const provider = find(plan, "pulumi:providers:grafana", "grafana");
    expect(provider.inputs).toMatchObject({ url: "https://127.0.0.1:3000", caCert: CA });
    expect(provider.secretPaths).toEqual(["auth"]);
    const prometheus = find(plan, DATASOURCE, "prometheus");
    expect(prometheus.inputs.url).toBe("https://atra-obs-central-prometheus:9090");
    expect(JSON.parse(String(prometheus.inputs.jsonDataEncoded))).toMatchObject({ tlsAuthWithCACert: true, serverName: "obs.example.internal" });
    // The CA goes with the login's password into secureJsonData, secret as a whole.
    expect(prometheus.secretPaths).toEqual(["secureJsonDataEncoded"]);
    for (const name of ["elasticsearch", "elasticsearch-failures"]) {
      const datasource = find(plan, DATASOURCE, name);
      expect(datasource.inputs.url).toBe("https://atra-obs-central-elasticsearch:9200");
      expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).toMatchObject({ tlsAuthWithCACert: true, serverName: "obs.example.internal" });
      expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
    }
  });

  test("every key is a secret upload wherever a container takes one, and every CA uploaded is the stack CA", () => {
    for (const container of plan.run.resources.filter((resource) => resource.type === CONTAINER)) {
      (container.inputs.uploads as Upload[] | undefined)?.forEach((upload, index) => {
        if (/key/i.test(upload.file.split("/").pop() ?? ""))
          expect({ file: upload.file, secret: container.secretPaths }).toEqual({
            file: upload.file,
            secret: expect.arrayContaining([`uploads[${index}].content`]),
          });
        if (/(^|[-/])ca\.pem$/.test(upload.file)) expect({ file: upload.file, content: upload.content }).toEqual({ file: upload.file, content: CA });
      });
    }
  });

  test("the outputs are https", () => {
    const value = (name: string) => plan.run.outputs[name]?.value;
    expect(value("grafanaUrl")).toBe("https://obs.example.internal:3000");
    expect(value("prometheusUrl")).toBe("https://obs.example.internal:9090");
    expect(Object.values(value("dashboardUrls") as Record<string, string>).every((url) => url.startsWith("https://obs.example.internal:3000/d/"))).toBe(true);
  });

  test("the certificate alerts are loaded, on the TLS probe job", () => {
    const group = find(plan, RULE_GROUP, `rule-group-${TLS_ALERT_GROUP}`);
    const rules = group.inputs.rules as { name: string; datas: { model: string }[] }[];
    expect(rules.map((rule) => rule.name)).toEqual(["TlsCertificateExpiringSoon", "TlsEndpointProbeFailing"]);
    for (const rule of rules) expect(JSON.parse(rule.datas[0].model).expr).toContain(`job="${TLS_PROBE_JOB}"`);
  });
});

describe("a loopback dev stack", () => {
  test("makes no certificate and has no caCertificate output; plain http everywhere, no TLS probe, no certificate alerts", async () => {
    const plan = await planIsolated("central", { config: stackConfig({}) });
    expect(tlsResources(plan)).toEqual([]);
    expect(plan.run.outputs.caCertificate).toBeUndefined();
    expect(plan.run.outputs.grafanaUrl.value).toBe("http://localhost:3000");
    expect(plan.run.outputs.prometheusUrl.value).toBe("http://localhost:9090");
    // (the blackbox exporter's password, components/metrics/blackbox-login.ts; the memory limit rule, components/metrics/memory-rule.ts; Grafana's /metrics password, last)
    expect(uploadsOf(plan, "prometheus").map((upload) => upload.file)).toEqual([
      "/etc/prometheus/prometheus.yml",
      "/etc/prometheus/secrets/blackbox-password",
      "/etc/prometheus/rules/memory.yml",
      "/etc/prometheus/secrets/grafana-metrics-password",
    ]);
    expect(uploadsOf(plan, "prometheus")[0].content).not.toMatch(/https|tls_config|blackbox-tls/);
    expect(find(plan, CONTAINER, "grafana").inputs.uploads).toBeUndefined();
    expect(find(plan, "pulumi:providers:grafana", "grafana").inputs.caCert).toBeUndefined();
    expect(plan.run.resources.filter((resource) => resource.type === RULE_GROUP).map((group) => group.name)).not.toContain(`rule-group-${TLS_ALERT_GROUP}`);
  });
});

describe("provided certificates", () => {
  const CA = "-----BEGIN CERTIFICATE-----\nprovided-ca\n-----END CERTIFICATE-----\n";
  test("make no tls resource; the output is the given CA; the key never shows", async () => {
    const plan = await planIsolated("central", {
      config: stackConfig(
        {
          publicHostname: "obs.example.internal",
          bindAddress: "0.0.0.0",
          tls: { mode: "provided", caCertificate: CA },
          tlsCertificate: "-----BEGIN CERTIFICATE-----\nprovided-leaf\n-----END CERTIFICATE-----\n",
          tlsKey: "-----BEGIN PRIVATE KEY-----\nprovided-key\n-----END PRIVATE KEY-----\n",
        },
        ["tlsCertificate", "tlsKey"],
      ),
    });
    expect(tlsResources(plan)).toEqual([]);
    expect(plan.run.outputs.caCertificate).toEqual({ value: CA, secret: false });
    expect(everything(plan)).not.toContain("provided-key");
    // The given chain is what Prometheus and Grafana serve; their clients trust the given CA.
    expect(uploadAt(plan, "grafana", "/etc/grafana/tls/server.pem").content).toBe("[secret]");
    expect(uploadAt(plan, "grafana", GRAFANA_CA_PATH).content).toBe(CA);
    expect(find(plan, "pulumi:providers:grafana", "grafana").inputs.caCert).toBe(CA);
  });

  test("from a public CA: tls.caCertificate (its root) is still required, as Grafana's datasources check serverName only beside a CA", () => {
    // grafana-plugin-sdk-go backend/http_settings.go: serverName is read only with tlsAuthWithCACert or tlsAuth on,
    // and the stack's clients reach the servers by container name, which a provided certificate need not carry.
    expect(() =>
      resolveStackConfig({
        stack: "central",
        values: {
          publicHostname: "obs.example.com",
          bindAddress: "0.0.0.0",
          tls: { mode: "provided" },
          tlsCertificate: "-----BEGIN CERTIFICATE-----\npublic-leaf\n-----END CERTIFICATE-----\n",
          tlsKey: "-----BEGIN PRIVATE KEY-----\nprovided-key\n-----END PRIVATE KEY-----\n",
        },
        secretKeys: ["tlsCertificate", "tlsKey"],
      }),
    ).toThrow(/tls\.caCertificate: is required with tls\.mode: provided/);
  });
});
