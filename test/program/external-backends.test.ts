/**
 * An existing Grafana (`grafana.external`) and an existing Elastic cluster (`logs.external`), in every
 * mix, under Pulumi's mock engine: which containers, volumes and images exist, where each provider and
 * datasource points, what is secret, and that no secret value is in any artifact.
 */
import * as yaml from "js-yaml";
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import { ProgramError } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { planIsolated } from "../support/plan";
import {
  BOTH_EXTERNAL,
  ELASTIC_API_KEY,
  ELASTIC_CLOUD,
  EXTERNAL_ELASTIC_ONLY,
  EXTERNAL_GRAFANA_NO_LOGS,
  ExternalStack,
  externalStackConfig,
  GRAFANA_CLOUD_URL,
  secretValues,
  TEST_CA_PEM,
} from "../support/external-stacks";
import { TLS_VERIFICATION_OFF_KEYS } from "../../components/lib/validators";
import { SHARD_COUNTS, shardOf } from "../../components/alerting/rule-shards";
import { REMOTE_WRITE_DATASOURCE } from "../../components/grafana/remote-write-datasource";
import { grafanaRemoteWriteUrl, type PrometheusType } from "../../components/grafana/remote-write-url";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const VOLUME = "docker:index/volume:Volume";
const GRAFANA_PROVIDER = "pulumi:providers:grafana";
const DATASOURCE = "grafana:oss/dataSource:DataSource";
const DYNAMIC = "pulumi-nodejs:dynamic/elastic:";

async function plan(stack: ExternalStack, name = "ext"): Promise<PlanResult> {
  return planIsolated(name, { config: externalStackConfig(stack) });
}

function tools(result: PlanResult) {
  const resources = result.run.resources;
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  const names = (type: string) => ofType(type).map((resource) => resource.name);
  const byName = (type: string, name: string): PlannedResource => {
    const found = resources.find((resource) => resource.type === type && resource.name === name);
    if (!found) throw new Error(`no ${type} named ${name}; have ${names(type).join(", ")}`);
    return found;
  };
  const artifact = (suffix: string) => {
    const found = result.artifacts.find((item) => item.path.endsWith(suffix));
    if (!found) throw new Error(`no artifact ${suffix}`);
    return found.content;
  };
  const elastic = resources.filter((resource) => resource.type.startsWith(DYNAMIC));
  return { resources, ofType, names, byName, artifact, elastic };
}

/** A stack output's value (undefined when the program exported none) and whether it is secret. */
function output(result: PlanResult, name: string): { value: unknown; secret: boolean } | undefined {
  return (result.run.outputs as Record<string, { value: unknown; secret: boolean } | undefined>)[name];
}

/** The engine's view of a secret input: present in secretPaths, masked in inputs. */
function expectNoSecretAnywhere(result: PlanResult, stack: ExternalStack): void {
  const everything = result.artifacts.map((item) => item.content).join("\n");
  for (const secret of secretValues(stack)) expect(everything).not.toContain(secret);
}

describe("Grafana Cloud and Elastic Cloud (token, API key)", () => {
  let result: PlanResult;
  let t: ReturnType<typeof tools>;
  beforeAll(async () => {
    result = await plan(BOTH_EXTERNAL);
    t = tools(result);
  });

  test("only the metrics stage and Filebeat run here: no Grafana, Elasticsearch or Kibana container, volume or image", () => {
    expect(t.names(CONTAINER).sort()).toEqual(["blackbox-exporter", "cadvisor", "filebeat", "node-exporter", "prometheus"]);
    expect(t.names(VOLUME).sort()).toEqual(["filebeat-data", "prometheus-data"]);
    expect(t.names(IMAGE)).not.toEqual(expect.arrayContaining(["image-grafana"]));
    for (const gone of ["image-grafana", "image-elasticsearch", "image-kibana"]) expect(t.names(IMAGE)).not.toContain(gone);
    expect(t.names(IMAGE)).toContain("image-filebeat");
    // No password sync, admin-login guard or generated admin passwords.
    const types = t.resources.map((resource) => resource.type);
    expect(types.some((type) => /AdminLoginGuard/.test(type))).toBe(false);
    for (const gone of ["grafana-admin-password", "elastic-admin-password", "kibana-system-password"])
      expect(t.names("random:index/randomPassword:RandomPassword")).not.toContain(gone);
    expect(t.elastic.map((resource) => resource.name)).not.toContain("kibana-system-password");
  });

  test("the Grafana provider points at Grafana Cloud with the token, secret", () => {
    const provider = t.byName(GRAFANA_PROVIDER, "grafana");
    expect(provider.inputs.url).toBe(GRAFANA_CLOUD_URL);
    expect(provider.secretPaths).toEqual(["auth"]);
    // Grafana Cloud's certificate is its own: the stack CA is not the provider's.
    expect(provider.inputs.caCert).toBeUndefined();
  });

  test("Prometheus's datasource is the published Prometheus, the logs datasources Elastic Cloud; none names a container", () => {
    // Published beyond loopback: TLS with the stack CA, and the login (secret), as this stack's Prometheus requires them.
    const prometheus = t.byName(DATASOURCE, "prometheus");
    expect(prometheus.inputs.url).toBe("https://obs.example.com:9090");
    expect(JSON.parse(String(prometheus.inputs.jsonDataEncoded))).toMatchObject({ tlsAuthWithCACert: true, serverName: "obs.example.com" });
    expect(prometheus.inputs).toMatchObject({ basicAuthEnabled: true, basicAuthUsername: "atra-grafana" });
    expect(prometheus.secretPaths).toEqual(["secureJsonDataEncoded"]);
    for (const name of ["elasticsearch", "elasticsearch-failures"]) {
      const datasource = t.byName(DATASOURCE, name);
      expect(datasource.inputs.url).toBe(ELASTIC_CLOUD.elasticsearchUrl);
      expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
    }
    for (const datasource of t.ofType(DATASOURCE)) expect(String(datasource.inputs.url)).not.toMatch(/atra-obs-|127\.0\.0\.1|localhost/);
  });

  test("every Elasticsearch and Kibana object goes to the cluster with the API key, secret", () => {
    expect(t.elastic.length).toBeGreaterThanOrEqual(8);
    for (const resource of t.elastic) expect(resource.secretPaths).toContain("connection");
    const sent = result.artifacts.filter((item) => item.path.startsWith("elastic/"));
    expect(sent.length).toBe(t.elastic.length);
    const urls = result.artifacts.filter((item) => item.path === "resources.json")[0].content;
    expect(urls).not.toContain("atra-obs-ext-elasticsearch");
  });

  test("Filebeat ships to Elastic Cloud as the writer, no credential in its file; Prometheus does not scrape a Grafana", () => {
    const filebeatYml = t.artifact("/usr/share/filebeat/filebeat.yml");
    expect(filebeatYml).toContain(`- ${ELASTIC_CLOUD.elasticsearchUrl}`);
    expect(filebeatYml).toContain("username: ${ATRA_LOGS_WRITER_USERNAME}");
    expect(filebeatYml).not.toContain("ssl.");
    expect(t.byName(CONTAINER, "filebeat").secretPaths).toEqual(["envs"]);
    expect(t.artifact("/etc/prometheus/prometheus.yml")).not.toContain("job_name: grafana");
  });

  test("outputs point at the external services; no admin password output", () => {
    expect(output(result, "grafanaUrl")?.value).toBe(GRAFANA_CLOUD_URL);
    expect(output(result, "elasticsearchUrl")?.value).toBe(ELASTIC_CLOUD.elasticsearchUrl);
    expect(output(result, "kibanaUrl")?.value).toBe(ELASTIC_CLOUD.kibanaUrl);
    for (const absent of ["grafanaAdminPassword", "grafanaAdminUser", "elasticsearchPassword", "elasticsearchUser"])
      expect(output(result, absent)?.value).toBeUndefined();
    expect(output(result, "dashboardUrls")?.value).toMatchObject({ "atra-logs": `${GRAFANA_CLOUD_URL}/d/atra-logs` });
    expect(output(result, "logShipperPassword")?.secret).toBe(true);
  });

  test("no secret value in any artifact", () => expectNoSecretAnywhere(result, BOTH_EXTERNAL));
});

describe("the stack's own Grafana, a self-run Elastic cluster (user, private CA)", () => {
  let result: PlanResult;
  let t: ReturnType<typeof tools>;
  beforeAll(async () => {
    result = await plan(EXTERNAL_ELASTIC_ONLY);
    t = tools(result);
  });

  test("Grafana runs here, Elasticsearch and Kibana do not", () => {
    expect(t.names(CONTAINER)).toContain("grafana");
    for (const gone of ["elasticsearch", "kibana"]) expect(t.names(CONTAINER)).not.toContain(gone);
    expect(t.names(VOLUME).sort()).toEqual(["filebeat-data", "grafana-data", "prometheus-data"]);
    expect(t.byName(GRAFANA_PROVIDER, "grafana").inputs.url).toBe("http://127.0.0.1:3000");
  });

  test("Grafana's logs datasources trust the CA (tlsAuthWithCACert, the PEM only in secureJsonData)", () => {
    const datasource = t.byName(DATASOURCE, "elasticsearch");
    expect(datasource.inputs.url).toBe("https://es.internal.example:9200");
    expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).toMatchObject({ tlsAuthWithCACert: true });
    expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).not.toHaveProperty("tlsSkipVerify");
    expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
  });

  test("Filebeat gets the CA as a file and the fingerprint, verification full", () => {
    const output = (yaml.load(t.artifact("/usr/share/filebeat/filebeat.yml")) as Record<string, Record<string, unknown>>)["output.elasticsearch"];
    expect(output["ssl.certificate_authorities"]).toEqual(["/usr/share/filebeat/atra-ca.pem"]);
    expect(output["ssl.ca_trusted_fingerprint"]).toBe("b9a10bbe64ee9826abeda6546fc988c8bf798b41957c33d05db736716513dc9c");
    expect(output["ssl.verification_mode"]).toBe("full");
    expect(output).toMatchObject({ username: "${ATRA_LOGS_WRITER_USERNAME}", password: "${ATRA_LOGS_WRITER_PASSWORD}" });
    expect(t.artifact("/usr/share/filebeat/atra-ca.pem")).toBe(TEST_CA_PEM);
  });

  test("outputs: the cluster's user, never its password", () => {
    expect(output(result, "elasticsearchUser")?.value).toBe("atra-provisioner");
    expect(output(result, "elasticsearchPassword")?.value).toBeUndefined();
    expect(output(result, "grafanaAdminPassword")?.secret).toBe(true);
  });

  test("no secret value in any artifact", () => expectNoSecretAnywhere(result, EXTERNAL_ELASTIC_ONLY));
});

describe("an external Grafana with its admin login, logs off", () => {
  test("no Grafana container; the provider logs in as user:password (secret); no logs datasources", async () => {
    const result = await plan(EXTERNAL_GRAFANA_NO_LOGS);
    const t = tools(result);
    expect(t.names(CONTAINER)).not.toContain("grafana");
    expect(t.byName(GRAFANA_PROVIDER, "grafana").secretPaths).toEqual(["auth"]);
    expect(t.names(DATASOURCE)).toEqual(["prometheus"]);
    expect(output(result, "grafanaAdminUser")?.value).toBe("grafana-admin");
    expect(output(result, "grafanaAdminPassword")?.value).toBeUndefined();
    expectNoSecretAnywhere(result, EXTERNAL_GRAFANA_NO_LOGS);
  });
});

describe("mixes that cannot work are refused before anything is made, every problem at once", () => {
  async function problems(stack: ExternalStack): Promise<string> {
    try {
      await plan(stack);
    } catch (error) {
      // The program ran in an isolated module registry: its ProgramError is another class object.
      expect((error as Error).constructor.name).toBe(ProgramError.name);
      return (error as Error).message;
    }
    throw new Error("expected the plan to fail");
  }

  test("an external Grafana with the stack's own Prometheus on loopback and its own Elasticsearch", async () => {
    const message = await problems({
      values: { services: BOTH_EXTERNAL.values.services, grafana: { external: { url: GRAFANA_CLOUD_URL } } },
      secrets: { grafanaApiToken: "glsa_x" },
    });
    expect(message).toContain("atra-observability:prometheus.external.queryUrl: an external Grafana cannot reach this stack's Prometheus");
    expect(message).toContain("atra-observability:logs.external.elasticsearchUrl: an external Grafana cannot reach this stack's Elasticsearch container");
    expect(message).not.toContain("glsa_x");
  });

  test("plain http to a non-loopback backend with credentials, no credentials, and a TLS switch-off", async () => {
    const message = await problems({
      values: {
        ...BOTH_EXTERNAL.values,
        grafana: { external: { url: "http://grafana.example.com" } },
        logs: { external: { elasticsearchUrl: "http://es.example.com:9200", kibanaUrl: ELASTIC_CLOUD.kibanaUrl, verifyTls: false } },
      },
      secrets: { elasticApiKey: ELASTIC_API_KEY },
    });
    expect(message).toContain("atra-observability:grafana.external.url: must use https");
    expect(message).toContain("atra-observability:logs.external.elasticsearchUrl: must use https");
    expect(message).toContain("atra-observability:grafanaApiToken: is required with grafana.external.url");
    expect(message).toContain("atra-observability:logs.external.verifyTls: TLS verification of the Elastic cluster cannot be turned off");
    expect(message).not.toContain(ELASTIC_API_KEY);
  });

  test.each(TLS_VERIFICATION_OFF_KEYS.map((key) => [key]))("grafana.external.%s is refused with the reason", async (key) => {
    const message = await problems({
      values: { ...EXTERNAL_GRAFANA_NO_LOGS.values, grafana: { external: { url: "https://grafana.internal.example", [key]: false } } },
      secrets: EXTERNAL_GRAFANA_NO_LOGS.secrets,
    });
    expect(message).toContain(`atra-observability:grafana.external.${key}: TLS verification of an external Grafana cannot be turned off`);
    expect(message).not.toContain("unknown key");
  });
});

describe("SLOs with the metrics in a remote-write backend (agent mode, prometheus.external): Grafana records them there", () => {
  const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
  const stack = (grafanaCloud: boolean): ExternalStack => ({
    values: {
      publicHostname: "obs.example.internal",
      services: [{ name: "billing-api", metrics: "http://billing_api:9000/metrics", health: "http://billing_api:9000/health", slo: { availability: 99.9 } }],
      prometheus: {
        mode: "agent",
        remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write" }],
        external: { queryUrl: "https://metrics.example.internal/prometheus" },
      },
      ...(grafanaCloud ? { grafana: { external: { url: GRAFANA_CLOUD_URL } }, logs: { enabled: false } } : {}),
    },
    secrets: grafanaCloud ? { grafanaApiToken: "glsa_sloRecordingTestToken_0123456789" } : {},
  });
  type Rule = {
    name: string;
    condition: string;
    noDataState: string;
    execErrState: string;
    for: string;
    record?: Record<string, string>;
    labels: Record<string, string>;
    datas: { refId: string; datasourceUid: string; model: string }[];
  };
  const groupsOf = (result: PlanResult) =>
    result.run.resources.filter((r) => r.type === RULE_GROUP).map((r) => ({ name: String(r.inputs.name), rules: r.inputs.rules as Rule[] }));

  test("the stack's own Grafana: recording groups reading the Prometheus datasource and writing to the write datasource, the burn-rate alerts reading it, no rule file for the agent", async () => {
    const result = await plan(stack(false), "slo-agent");
    const groups = groupsOf(result);
    // The recording groups of the service's fixed shard (components/alerting/rule-shards.ts).
    const shard = shardOf("billing-api", SHARD_COUNTS.sloRecording);
    expect(
      groups
        .filter((g) => g.name.startsWith("atra-slo"))
        .map((g) => g.name)
        .sort(),
    ).toEqual(["atra-slo", `atra-slo-events:${shard}`, `atra-slo-ratios-long:${shard}`, `atra-slo-ratios:${shard}`]);
    const recording = groups.filter((g) => g.name.startsWith("atra-slo-")).flatMap((g) => g.rules);
    expect(recording).toHaveLength(13);
    for (const rule of recording) {
      // The provider refuses these beside `record` (terraform-provider-grafana resource_alerting_rule_group.go, unpackAlertRule).
      expect(rule).toMatchObject({
        condition: "",
        noDataState: "",
        execErrState: "",
        for: "0s",
        record: { from: "A", targetDatasourceUid: REMOTE_WRITE_DATASOURCE.uid },
      });
      expect(rule.datas.map((d) => [d.refId, d.datasourceUid])).toEqual([["A", "atra-prometheus-ds"]]);
    }
    const alerts = groups.find((g) => g.name === "atra-slo")!.rules;
    expect(alerts.map((r) => r.name)).toEqual(["SLOErrorBudgetFastBurn", "SLOErrorBudgetSlowBurn"]);
    // Other stacks' series meet this one's in the backend: the alerts and the recording rules read this environment's only.
    for (const rule of alerts) expect(JSON.parse(rule.datas[0].model).expr).toContain('service_slo:slo_error_budget_remaining:ratio{environment="');
    for (const rule of recording) expect(rule.labels.environment).toBeDefined();
    // An agent evaluates no rules (Prometheus refuses rule_files in agent mode): nothing uploaded for it.
    expect(result.artifacts.map((a) => a.path).filter((p) => p.includes("/rules/"))).toEqual([]);
    expect(result.artifacts.find((a) => a.path.endsWith("/etc/prometheus/prometheus.yml"))!.content).not.toMatch(/^rule_files:/m);
    // (Grafana's env list, which carries RECORDING_RULES_ENV here, is secret as a whole and masked in the plan.)
  });

  // Grafana writes with the TARGET datasource's URL and login (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go,
  // makeWriter, getRemoteWriteURL): a datasource of its own, built from prometheus.remoteWrite[0].
  test.each([
    [
      "Mimir, basic auth and a tenant header",
      { name: "mimir", url: "https://mimir.example.internal/api/v1/push", basicAuthUser: "writer", headers: { "X-Scope-OrgID": "team-obs" } },
      "https://mimir.example.internal/prometheus",
      { prometheusType: "Mimir", httpMethod: "POST", httpHeaderName1: "X-Scope-OrgID" },
    ],
    [
      "Grafana Cloud, basic auth",
      { name: "cloud", url: "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push", basicAuthUser: "123456" },
      "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom",
      { prometheusType: "Mimir", httpMethod: "POST" },
    ],
    [
      "a Prometheus receiver, a bearer token",
      { name: "central", url: "https://central.example.internal:9090/api/v1/write" },
      "https://central.example.internal:9090",
      { prometheusType: "Prometheus", httpMethod: "POST", httpHeaderName1: "Authorization" },
    ],
  ])(
    "%s: the write datasource makes Grafana write to the remote write's URL with its login, secrets only in secureJsonData",
    async (_, remote, datasourceUrl, jsonData) => {
      const secret = `rw-secret-${remote.name}-0123456789`;
      const withRemote: ExternalStack = {
        values: { ...stack(false).values, prometheus: { ...(stack(false).values.prometheus as object), remoteWrite: [remote] } },
        secrets: { remoteWriteSecrets: { [remote.name]: secret } },
      };
      const result = await plan(withRemote, `slo-write-${remote.name}`);
      const t = tools(result);
      const datasource = t.byName(DATASOURCE, "prometheus-remote-write");
      expect(datasource.inputs).toMatchObject({ type: "prometheus", uid: REMOTE_WRITE_DATASOURCE.uid, url: datasourceUrl, isDefault: false });
      expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).toEqual(jsonData);
      expect(grafanaRemoteWriteUrl(datasourceUrl, jsonData.prometheusType as PrometheusType)).toBe(remote.url);
      if ("basicAuthUser" in remote) expect(datasource.inputs).toMatchObject({ basicAuthEnabled: true, basicAuthUsername: remote.basicAuthUser });
      else expect(datasource.inputs.basicAuthEnabled).toBeUndefined();
      expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
      expectNoSecretAnywhere(result, withRemote);
      // The query datasource keeps the read side; every recording rule writes to the write datasource, created before its group.
      expect(t.byName(DATASOURCE, "prometheus").inputs.url).toBe("https://metrics.example.internal/prometheus");
      const recording = result.run.resources.filter((r) => r.type === RULE_GROUP && String(r.inputs.name).startsWith("atra-slo-"));
      expect(recording).toHaveLength(3);
      for (const group of recording) {
        expect(group.dependencies).toContain(datasource.urn);
        for (const rule of group.inputs.rules as Rule[]) expect(rule.record).toMatchObject({ targetDatasourceUid: REMOTE_WRITE_DATASOURCE.uid });
      }
    },
  );

  test("no write datasource where Prometheus records the SLOs itself (server mode)", async () => {
    const result = await planIsolated("dev");
    expect(result.run.resources.filter((r) => r.type === DATASOURCE).map((r) => r.name)).not.toContain("prometheus-remote-write");
  });

  test("Grafana Cloud: the same groups go to it; no Grafana container here", async () => {
    const result = await plan(stack(true), "slo-cloud");
    expect(
      groupsOf(result)
        .filter((g) => g.name.startsWith("atra-slo"))
        .map((g) => g.name),
    ).toHaveLength(4);
    expect(result.run.resources.filter((r) => r.type === CONTAINER).map((r) => r.name)).not.toContain("grafana");
  });
});
