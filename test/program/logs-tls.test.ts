/**
 * The logs stage over TLS under Pulumi's mock engine (components/logs/logs-tls.ts): with `tls.mode`
 * generated or provided, the stack's own Elasticsearch and Kibana get the chain and the CA as plain
 * uploads and the key only as a secret one; their settings (read back as the images read their
 * environment) point at exactly those files; their healthchecks speak https trusting the CA; Kibana,
 * Filebeat and the providers trust the CA; the published URLs are https. Tls off (the dev stack) and an
 * external cluster stay as they were.
 *
 * The secret inputs (environments, the providers' connection) are read unmasked from the mock engine's
 * newResource, which gets them as the engine would, decrypted; the plan's own record masks them.
 */
import * as yaml from "js-yaml";
import type { PlanResult } from "../../scripts/lib/plan";
import { KIBANA_SECRETS_CONFIG_PATH } from "../../components/logs/kibana-secrets";
import { ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH, ELASTICSEARCH_TLS_PATHS, KIBANA_TLS_PATHS } from "../../components/logs/logs-tls";
import { FILEBEAT_CA_PATH, FILEBEAT_CONFIG_PATH } from "../../components/logs/filebeat-config";
import { PROJECT_DIR, stackConfig } from "../support/plan";
import { ELASTIC_CLOUD, TEST_CA_PEM } from "../support/external-stacks";

interface RawResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
interface Upload {
  file: string;
  content: string;
  permissions?: string;
}
interface Run {
  plan: PlanResult;
  /** Every resource's inputs as the engine gets them: secrets decrypted. */
  raw: RawResource[];
}

/**
 * The mock monitor hands newResource the inputs with each secret still in its wire wrapper
 * ({ [specialSigKey]: specialSecretSig, value }, @pulumi/pulumi runtime/rpc.js deserializeProperty): unwrapped here.
 */
function unwrapSecrets(value: unknown): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    if (object[rpc.specialSigKey] === rpc.specialSecretSig) return unwrapSecrets(object.value);
    return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, unwrapSecrets(item)]));
  }
  return value;
}

/** Plans the program and also records the inputs the mock engine's newResource receives (unmasked). */
async function planRaw(values: Record<string, unknown>, secretKeys: string[] = []): Promise<Run> {
  const raw: RawResource[] = [];
  let plan: PlanResult | undefined;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const setMocks = pulumi.runtime.setMocks;
    (pulumi.runtime as { setMocks: typeof setMocks }).setMocks = (mocks, ...rest) =>
      setMocks(
        {
          ...mocks,
          newResource: (args) => {
            raw.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) as Record<string, unknown> });
            return mocks.newResource(args);
          },
        },
        ...rest,
      );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { planStack } = require("../../scripts/lib/plan") as typeof import("../../scripts/lib/plan");
    plan = await planStack(PROJECT_DIR, "central", { config: stackConfig(values, secretKeys) });
  });
  return { plan: plan as PlanResult, raw };
}

const HOST = "obs.example.internal";
const SERVICES = [{ name: "api", metrics: "http://api:8000/metrics", logs: ["/srv/api/logs/api*.log"] }];
const GENERATED = { publicHostname: HOST, services: SERVICES, agents: [{ host: "app-1.example.internal" }] };
const LEAF = "-----BEGIN CERTIFICATE-----\nprovided-leaf\n-----END CERTIFICATE-----\n";
const PROVIDED_KEY = "-----BEGIN PRIVATE KEY-----\nprovided-key-material\n-----END PRIVATE KEY-----\n";
const provided = (ca?: string) => ({
  ...GENERATED,
  tls: { mode: "provided", ...(ca ? { caCertificate: ca } : {}) },
  tlsCertificate: LEAF,
  tlsKey: PROVIDED_KEY,
});

const container = (run: Run, name: string) => run.plan.run.resources.find((r) => r.type === "docker:index/container:Container" && r.name === name)!;
const rawContainer = (run: Run, name: string) => run.raw.find((r) => r.type === "docker:index/container:Container" && r.name === name)!;
const uploads = (run: Run, name: string) => (container(run, name).inputs.uploads ?? []) as Upload[];
const rawUploads = (run: Run, name: string) => (rawContainer(run, name).inputs.uploads ?? []) as Upload[];
const envOf = (run: Run, name: string): Record<string, string> =>
  Object.fromEntries(
    (rawContainer(run, name).inputs.envs as string[]).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
const healthcheck = (run: Run, name: string) => (container(run, name).inputs.healthcheck as { tests: string[] }).tests;

/**
 * Elasticsearch's settings as its Docker build reads the ES_SETTING_ variables (elastic/elasticsearch
 * server/src/main/java/org/elasticsearch/common/cli/EnvironmentAwareCommand.java, putDockerEnvSettings).
 */
function elasticsearchSettings(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter(([name]) => name.startsWith("ES_SETTING_"))
      .map(([name, value]) => [name.slice("ES_SETTING_".length).replace(/_/g, ".").replace(/\.\./g, "_").toLowerCase(), value]),
  );
}

/**
 * Kibana's settings as its image's kibana-docker script reads the environment (elastic/kibana
 * src/dev/build/tasks/os_packages/docker_generator/resources/base/bin/kibana-docker: for each known
 * setting, the variable named by upper-casing it and turning `.` into `_`). Only the settings used here.
 */
const KIBANA_SETTINGS = [
  "elasticsearch.hosts",
  "elasticsearch.ssl.certificateAuthorities",
  "elasticsearch.ssl.verificationMode",
  "server.publicBaseUrl",
  "server.ssl.certificate",
  "server.ssl.enabled",
  "server.ssl.key",
];
function kibanaSettings(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    KIBANA_SETTINGS.flatMap((setting) => {
      const value = env[setting.toUpperCase().replace(/\./g, "_")];
      return value ? [[setting, value]] : [];
    }),
  );
}

const filebeatYml = (run: Run) => yaml.load(uploads(run, "filebeat").find((upload) => upload.file === FILEBEAT_CONFIG_PATH)!.content) as Record<string, never>;
/** The dynamic providers' connections (secret inputs), by resource name. */
const connections = (run: Run) =>
  Object.fromEntries(
    run.raw
      .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/elastic:") && r.inputs.connection)
      .map((r) => [r.name, r.inputs.connection as Record<string, unknown>]),
  );
const everythingMasked = (run: Run) =>
  JSON.stringify({ artifacts: run.plan.artifacts, inputs: run.plan.run.resources.map((resource) => resource.inputs), outputs: run.plan.run.outputs });

describe("generated certificates (a stack with agents[])", () => {
  let run: Run;
  let ca: string;
  beforeAll(async () => {
    run = await planRaw(GENERATED);
    ca = run.plan.run.outputs.caCertificate.value as string;
  });

  test("Elasticsearch gets the chain and the CA as plain uploads and the key only as a secret one, read by root and group 0", () => {
    // First the healthcheck's curl config (its login, secret: no-secret-argv.test.ts), then the TLS files.
    const [login, ...files] = uploads(run, "elasticsearch");
    expect([login.file, login.permissions, login.content]).toEqual([ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH, "0440", "[secret]"]);
    expect(files.map((file) => [file.file, file.permissions])).toEqual([
      [ELASTICSEARCH_TLS_PATHS.chain, "0444"],
      [ELASTICSEARCH_TLS_PATHS.key, "0440"],
      [ELASTICSEARCH_TLS_PATHS.ca, "0444"],
    ]);
    expect(files[0].content).toBe(`-----BEGIN CERTIFICATE-----\nmock-certificate-tls-server\n-----END CERTIFICATE-----\n${ca}`);
    expect(files[1].content).toBe("[secret]");
    expect(files[2].content).toBe(ca);
    expect(container(run, "elasticsearch").secretPaths).toEqual(["envs", "uploads[0].content", "uploads[2].content"]);
    // The engine gets the generated key there, and nowhere else in the container.
    const key = rawUploads(run, "elasticsearch")[2].content;
    expect(key).toContain("mock-private-key-tls-server-key");
    expect(JSON.stringify({ ...rawContainer(run, "elasticsearch").inputs, uploads: undefined })).not.toContain("PRIVATE KEY");
  });

  test("Elasticsearch serves HTTPS with exactly those files; transport stays plain (single node)", () => {
    expect(elasticsearchSettings(envOf(run, "elasticsearch"))).toMatchObject({
      "discovery.type": "single-node",
      "xpack.security.http.ssl.enabled": "true",
      "xpack.security.http.ssl.certificate": ELASTICSEARCH_TLS_PATHS.chain,
      "xpack.security.http.ssl.key": ELASTICSEARCH_TLS_PATHS.key,
      "xpack.security.http.ssl.certificate_authorities": ELASTICSEARCH_TLS_PATHS.ca,
      "xpack.security.transport.ssl.enabled": "false",
    });
  });

  test("Elasticsearch's healthcheck speaks https trusting the CA, checks publicHostname on loopback, and carries no secret", () => {
    const test = healthcheck(run, "elasticsearch");
    expect(test[0]).toBe("CMD");
    const command = test.slice(1).join(" ");
    expect(command).toContain(`--cacert ${ELASTICSEARCH_TLS_PATHS.ca} --resolve ${HOST}:9200:127.0.0.1 https://${HOST}:9200/_cluster/health`);
    // The login reaches curl from its uploaded config file only (no-secret-argv.test.ts).
    expect(command).toMatch(/^curl -K \/usr\/share\/elasticsearch\/config\/atra-healthcheck.curlrc /);
    expect(command).not.toMatch(/-u |--user |Basic [A-Za-z0-9+/]/);
  });

  test("Kibana serves HTTPS and reaches Elasticsearch over https trusting the CA, host names verified", () => {
    expect(kibanaSettings(envOf(run, "kibana"))).toEqual({
      "elasticsearch.hosts": '["https://atra-obs-central-elasticsearch:9200"]',
      "elasticsearch.ssl.certificateAuthorities": KIBANA_TLS_PATHS.ca,
      "elasticsearch.ssl.verificationMode": "full",
      "server.publicBaseUrl": `https://${HOST}:5601`,
      "server.ssl.certificate": KIBANA_TLS_PATHS.chain,
      "server.ssl.enabled": "true",
      "server.ssl.key": KIBANA_TLS_PATHS.key,
    });
    expect(uploads(run, "kibana").map((file) => [file.file, file.permissions, /atra-secrets|key/.test(file.file) ? file.content : "-"])).toEqual([
      [KIBANA_SECRETS_CONFIG_PATH, "0440", "[secret]"],
      [KIBANA_TLS_PATHS.chain, "0444", "-"],
      [KIBANA_TLS_PATHS.key, "0440", "[secret]"],
      [KIBANA_TLS_PATHS.ca, "0444", "-"],
    ]);
    expect(uploads(run, "kibana")[3].content).toBe(ca);
    // Its secrets are in the uploaded secrets file, not its environment (kibana-secrets.ts).
    expect(container(run, "kibana").secretPaths).toEqual(["uploads[0].content", "uploads[2].content"]);
    // Paths only in the environment (kibana-docker turns it into argv): never the key itself.
    expect(JSON.stringify(envOf(run, "kibana"))).not.toContain("PRIVATE KEY");
    expect(healthcheck(run, "kibana")[1]).toBe(
      `curl -s -o /dev/null -w '%{http_code}' --cacert ${KIBANA_TLS_PATHS.ca} --resolve ${HOST}:5601:127.0.0.1 https://${HOST}:5601/api/status | grep -qE '^(200|401)$'`,
    );
  });

  test("Filebeat ships over https to the container on its explicit port, trusting the uploaded CA with full verification", () => {
    const output = filebeatYml(run)["output.elasticsearch"] as Record<string, unknown>;
    expect(output.hosts).toEqual(["https://atra-obs-central-elasticsearch:9200"]);
    expect(output["ssl.certificate_authorities"]).toEqual([FILEBEAT_CA_PATH]);
    expect(output["ssl.verification_mode"]).toBe("full");
    expect(uploads(run, "filebeat").find((upload) => upload.file === FILEBEAT_CA_PATH)?.content).toBe(ca);
  });

  test("the providers reach the published https ports trusting the CA and checking publicHostname", () => {
    const byName = connections(run);
    expect(Object.keys(byName).length).toBeGreaterThan(5);
    for (const [name, connection] of Object.entries(byName)) {
      expect([name, connection.url]).toEqual([name, expect.stringMatching(/^https:\/\/127\.0\.0\.1:(9200|5601)$/)]);
      expect(connection).toMatchObject({ caCertificate: ca, serverName: HOST });
    }
    expect(byName["data-view"].url).toBe("https://127.0.0.1:5601");
    expect(byName["writer-role"].url).toBe("https://127.0.0.1:9200");
  });

  test("every variable name is a shell identifier (the entrypoint's /bin/sh would drop others)", () => {
    for (const name of ["elasticsearch", "kibana"]) for (const variable of Object.keys(envOf(run, name))) expect(variable).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
  });

  test("the published URLs are https; no key material in any artifact, masked input or output", () => {
    expect(run.plan.run.outputs.elasticsearchUrl.value).toBe(`https://${HOST}:9200`);
    expect(run.plan.run.outputs.kibanaUrl.value).toBe(`https://${HOST}:5601`);
    expect(everythingMasked(run)).not.toContain("PRIVATE KEY");
    expect(everythingMasked(run)).not.toContain("mock-private-key");
  });
});

describe("provided certificates", () => {
  test("with their CA: the CA is trusted everywhere; inside the stack network the chain is verified, not the container's name", async () => {
    const run = await planRaw(provided(TEST_CA_PEM), ["tlsCertificate", "tlsKey"]);
    expect(uploads(run, "elasticsearch").map((file) => file.file)).toEqual([
      ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
      ELASTICSEARCH_TLS_PATHS.chain,
      ELASTICSEARCH_TLS_PATHS.key,
      ELASTICSEARCH_TLS_PATHS.ca,
    ]);
    // The chain comes from a secret setting: secret too.
    expect(container(run, "elasticsearch").secretPaths).toEqual(["envs", "uploads[0].content", "uploads[1].content", "uploads[2].content"]);
    expect(
      rawUploads(run, "elasticsearch")
        .map((file) => file.content)
        .slice(1),
    ).toEqual([LEAF, PROVIDED_KEY, TEST_CA_PEM]);
    expect(kibanaSettings(envOf(run, "kibana"))).toMatchObject({
      "elasticsearch.ssl.certificateAuthorities": KIBANA_TLS_PATHS.ca,
      "elasticsearch.ssl.verificationMode": "certificate",
    });
    const output = filebeatYml(run)["output.elasticsearch"] as Record<string, unknown>;
    expect(output).toMatchObject({ "ssl.certificate_authorities": [FILEBEAT_CA_PATH], "ssl.verification_mode": "certificate" });
    expect(Object.keys(connections(run))).toContain("data-view");
    for (const connection of Object.values(connections(run))) expect(connection).toMatchObject({ caCertificate: TEST_CA_PEM, serverName: HOST });
    expect(everythingMasked(run)).not.toContain("provided-key-material");
    expect(everythingMasked(run)).not.toContain("provided-leaf");
  });

  test("from a public CA: refused without tls.caCertificate (its root), so no client falls back to checking the container's name", async () => {
    // Kibana and Filebeat check the chain with verification_mode certificate, but Grafana's datasources read
    // serverName only beside a CA of their own (grafana-plugin-sdk-go backend/http_settings.go): components/tls/config.ts.
    await expect(planRaw(provided(), ["tlsCertificate", "tlsKey"])).rejects.toThrow(/tls\.caCertificate: is required with tls\.mode: provided/);
  });
});

describe("tls off, and an external cluster", () => {
  test("a loopback stack: plain http everywhere, no certificate file, the settings and healthchecks as before", async () => {
    const run = await planRaw({ services: SERVICES });
    expect(run.plan.run.outputs.elasticsearchUrl.value).toBe("http://localhost:9200");
    // Only the secret files: the healthcheck's login and Kibana's secrets.
    expect(uploads(run, "elasticsearch").map((file) => file.file)).toEqual([ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH]);
    expect(uploads(run, "kibana").map((file) => file.file)).toEqual([KIBANA_SECRETS_CONFIG_PATH]);
    expect(elasticsearchSettings(envOf(run, "elasticsearch"))["xpack.security.http.ssl.enabled"]).toBe("false");
    expect(Object.keys(envOf(run, "kibana")).filter((name) => name.includes("SSL"))).toEqual([]);
    expect(healthcheck(run, "elasticsearch").at(-1)).toMatch(/^http:\/\/127\.0\.0\.1:9200\/_cluster\/health/);
    expect(healthcheck(run, "kibana")[1]).toContain("http://127.0.0.1:5601/api/status");
    expect(filebeatYml(run)["output.elasticsearch"]).not.toHaveProperty(["ssl.verification_mode"]);
    expect(Object.keys(connections(run))).toContain("writer-role");
    for (const connection of Object.values(connections(run))) {
      expect(connection.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(connection).not.toHaveProperty("serverName");
    }
  });

  test("tls on (published) but logs in an external cluster: its URLs and CA, not the stack's", async () => {
    const run = await planRaw(
      {
        ...GENERATED,
        // No agents: their log keys need a user login, not elasticApiKey.
        agents: undefined,
        logs: { external: { ...ELASTIC_CLOUD, caCertificate: TEST_CA_PEM } },
        bindAddress: "0.0.0.0",
        elasticApiKey: Buffer.from("id:key-value").toString("base64"),
      },
      ["elasticApiKey"],
    );
    expect(run.plan.run.resources.filter((r) => ["elasticsearch", "kibana"].includes(r.name) && r.type === "docker:index/container:Container")).toEqual([]);
    expect(run.plan.run.outputs.elasticsearchUrl.value).toBe(ELASTIC_CLOUD.elasticsearchUrl);
    expect(uploads(run, "filebeat").find((upload) => upload.file === FILEBEAT_CA_PATH)?.content).toBe(TEST_CA_PEM);
    expect(Object.keys(connections(run))).toContain("writer-role");
    for (const connection of Object.values(connections(run))) {
      expect(connection.caCertificate).toBe(TEST_CA_PEM);
      expect(connection).not.toHaveProperty("serverName");
    }
  });
});

describe("what LogsStack exposes for Grafana's Elasticsearch datasources", () => {
  /** LogsStack itself under the SDK's mocks, given a ServerTls as central-stack.ts gives it StackPki. */
  async function logsStack(values: Record<string, unknown>, tls?: { caCertificate?: string }) {
    let exposed: { url: string; datasourceTls?: { caCertificate?: string; serverName: string }; caCertificate?: string } | undefined;
    await jest.isolateModulesAsync(async () => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
      const { resolveStackConfig } = require("../../components/config/resolve") as typeof import("../../components/config/resolve");
      const { DockerPlatform } = require("../../components/docker/platform") as typeof import("../../components/docker/platform");
      const { LogsStack } = require("../../components/logs/logs-stack") as typeof import("../../components/logs/logs-stack");
      /* eslint-enable @typescript-eslint/no-require-imports */
      await pulumi.runtime.setMocks(
        { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) },
        "atra-observability",
        "central",
      );
      const { config } = resolveStackConfig({ stack: "central", values, secretKeys: [] });
      const stack = new LogsStack("logs", {
        config,
        platform: new DockerPlatform("platform", config),
        ...(tls
          ? {
              tls: {
                ...(tls.caCertificate ? { caCertificate: pulumi.output(tls.caCertificate) } : {}),
                serverCertificate: pulumi.output("chain"),
                serverKey: pulumi.secret("key"),
                serverName: HOST,
              },
            }
          : {}),
      });
      // Let every registration settle before the module registry goes (as scripts/lib/mock-engine.ts does).
      await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
      const ca = stack.datasourceTls?.caCertificate;
      exposed = {
        url: stack.internalElasticsearchUrl,
        caCertificate: stack.caCertificate,
        ...(stack.datasourceTls
          ? {
              datasourceTls: {
                serverName: stack.datasourceTls.serverName,
                ...(ca ? { caCertificate: await new Promise<string>((resolve) => ca.apply(resolve)) } : {}),
              },
            }
          : {}),
      };
    });
    return exposed!;
  }

  test("tls on: the https container URL, the CA and publicHostname", async () => {
    expect(await logsStack(GENERATED, { caCertificate: TEST_CA_PEM })).toEqual({
      url: "https://atra-obs-central-elasticsearch:9200",
      datasourceTls: { caCertificate: TEST_CA_PEM, serverName: HOST },
    });
  });

  test("a provided chain from a public CA: publicHostname only", async () => {
    expect((await logsStack(GENERATED, {})).datasourceTls).toEqual({ serverName: HOST });
  });

  test("tls off: http and nothing more", async () => {
    expect(await logsStack({ services: SERVICES })).toEqual({ url: "http://atra-obs-central-elasticsearch:9200" });
  });
});
