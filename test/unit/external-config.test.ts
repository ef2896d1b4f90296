/**
 * The config of an existing Grafana (`grafana.external`) and an existing Elastic cluster
 * (`logs.external`): what each mix resolves to, and every mix that cannot work refused with its key,
 * all problems at once, no secret value repeated.
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { UNDECRYPTED_SECRET } from "../../components/lib/config-keys";
import { credentialUrlProblem, isLoopbackUrl, pemCertificateProblem, sha256FingerprintProblem } from "../../components/lib/validators";
import * as pulumi from "@pulumi/pulumi";
import { goPathClean, grafanaRemoteWriteUrl, type PrometheusType, remoteWriteDatasourceTarget } from "../../components/grafana/remote-write-url";
import { remoteWriteDatasourceData, remoteWriteDatasourceSpec } from "../../components/grafana/remote-write-datasource";
import type { RemoteWriteConfig } from "../../components/metrics/remote-config";
import {
  BOTH_EXTERNAL,
  ELASTIC_API_KEY,
  ELASTIC_CLOUD,
  EXTERNAL_ELASTIC_ONLY,
  EXTERNAL_GRAFANA_NO_LOGS,
  ExternalStack,
  GRAFANA_API_TOKEN,
  GRAFANA_CLOUD_URL,
  secretValues,
  TEST_CA_PEM,
} from "../support/external-stacks";

function resolve(stack: ExternalStack) {
  return resolveStackConfig({ stack: "ext", values: { ...stack.values, ...stack.secrets }, secretKeys: Object.keys(stack.secrets) });
}

/** Every problem as `key: message`, namespace dropped. */
function problems(stack: ExternalStack): string[] {
  try {
    resolve(stack);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const text = error.issues.map((issue) => `${issue.key.replace(/^atra-observability:/, "")}: ${issue.message}`);
    for (const secret of secretValues(stack)) expect(text.join("\n")).not.toContain(secret);
    return text;
  }
  throw new Error("expected a ConfigError");
}

const merge = (stack: ExternalStack, values: Record<string, unknown>, secrets: ExternalStack["secrets"] = stack.secrets): ExternalStack => ({
  values: { ...stack.values, ...values },
  secrets,
});

describe("what the mixes resolve to", () => {
  test("Grafana Cloud + Elastic Cloud: every URL points there; token and API key chosen", () => {
    const { config, secrets } = resolve(BOTH_EXTERNAL);
    expect(config.grafana).toEqual({
      adminUser: "admin",
      publicUrl: GRAFANA_CLOUD_URL,
      providerUrl: GRAFANA_CLOUD_URL,
      external: { url: GRAFANA_CLOUD_URL, auth: "token", prometheusUrl: "http://obs.example.com:9090" },
    });
    expect(config.logs.external).toEqual({ ...ELASTIC_CLOUD, auth: "apiKey" });
    expect(config.logs.elasticsearchProviderUrl).toBe(ELASTIC_CLOUD.elasticsearchUrl);
    expect(config.logs.kibanaPublicUrl).toBe(ELASTIC_CLOUD.kibanaUrl);
    expect(secrets).toMatchObject({ grafanaApiToken: GRAFANA_API_TOKEN, elasticApiKey: ELASTIC_API_KEY });
  });

  test("a trailing slash is dropped and the fingerprint put in Filebeat's form", () => {
    const stack = merge(EXTERNAL_ELASTIC_ONLY, {
      logs: { external: { ...(EXTERNAL_ELASTIC_ONLY.values.logs as { external: object }).external, elasticsearchUrl: "https://es.internal.example:9200/" } },
    });
    const external = resolve(stack).config.logs.external;
    expect(external).toMatchObject({
      elasticsearchUrl: "https://es.internal.example:9200",
      user: "atra-provisioner",
      auth: "password",
      caCertificate: TEST_CA_PEM,
    });
    expect(external?.caFingerprint).toBe("b9a10bbe64ee9826abeda6546fc988c8bf798b41957c33d05db736716513dc9c");
  });

  test("the metrics room's query URL is what an external Grafana reads, when set", () => {
    const stack = merge(EXTERNAL_GRAFANA_NO_LOGS, {
      bindAddress: "127.0.0.1",
      publicHostname: "localhost",
      prometheus: { external: { queryUrl: "https://mimir.example.com/prometheus/" } },
    });
    expect(resolve(stack).config.grafana.external?.prometheusUrl).toBe("https://mimir.example.com/prometheus");
  });

  test("the offline plan's placeholder for encrypted values passes", () => {
    const stack = { ...BOTH_EXTERNAL, secrets: { grafanaApiToken: UNDECRYPTED_SECRET, elasticApiKey: UNDECRYPTED_SECRET } };
    expect(() => resolve(stack)).not.toThrow();
  });

  test("an external Grafana and the logs stage off: no logs datasource needed", () => {
    expect(resolve(EXTERNAL_GRAFANA_NO_LOGS).config.grafana.external?.auth).toBe("password");
  });
});

describe("refused, each with its key, all at once", () => {
  test("an external Grafana with nothing it can reach: Prometheus on loopback, Elasticsearch a container", () => {
    expect(problems({ values: { grafana: { external: { url: GRAFANA_CLOUD_URL } } }, secrets: { grafanaApiToken: GRAFANA_API_TOKEN } })).toEqual([
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: an external Grafana cannot reach this stack's Elasticsearch container/),
      expect.stringMatching(
        /^prometheus\.external\.queryUrl: an external Grafana cannot reach this stack's Prometheus: .* http:\/\/localhost:9090, a loopback address/,
      ),
    ]);
  });

  test("a loopback query URL for an external Grafana", () => {
    expect(problems(merge(EXTERNAL_GRAFANA_NO_LOGS, { prometheus: { external: { queryUrl: "http://127.0.0.1:9009/prometheus" } } }))).toContainEqual(
      expect.stringMatching(/^prometheus\.external\.queryUrl: is a loopback address/),
    );
  });

  test("both ways to log in, or none; a token or key without its external backend", () => {
    expect(
      problems(
        merge(
          BOTH_EXTERNAL,
          {},
          {
            grafanaApiToken: GRAFANA_API_TOKEN,
            grafanaAdminPassword: "long-enough-password",
            elasticApiKey: ELASTIC_API_KEY,
            elasticPassword: "long-enough-password",
          },
        ),
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^elasticApiKey: give one way to log in to the Elastic cluster/),
        expect.stringMatching(/^grafanaAdminPassword: give one way to log in to the external Grafana/),
      ]),
    );
    expect(problems(merge(BOTH_EXTERNAL, {}, {}))).toEqual([
      expect.stringMatching(/^elasticApiKey: is required with logs\.external/),
      expect.stringMatching(/^grafanaApiToken: is required with grafana\.external\.url/),
    ]);
    expect(problems({ values: {}, secrets: { grafanaApiToken: GRAFANA_API_TOKEN, elasticApiKey: ELASTIC_API_KEY } })).toEqual([
      expect.stringMatching(/^elasticApiKey: is only for an external Elastic cluster/),
      expect.stringMatching(/^grafanaApiToken: is only for an external Grafana/),
    ]);
  });

  test("a user without its password; a bare key instead of the encoded one", () => {
    expect(problems(merge(EXTERNAL_ELASTIC_ONLY, {}, {}))).toEqual([expect.stringMatching(/^elasticPassword: is required with logs\.external\.user/)]);
    expect(problems(merge(BOTH_EXTERNAL, {}, { grafanaApiToken: GRAFANA_API_TOKEN, elasticApiKey: "just-the-secret-half" }))).toEqual([
      expect.stringMatching(/^elasticApiKey: must be an encoded API key/),
    ]);
  });

  test("the local stage's settings with an external cluster or Grafana", () => {
    const stack = merge(BOTH_EXTERNAL, {
      grafana: { external: { url: GRAFANA_CLOUD_URL }, providerUrl: "http://127.0.0.1:13000" },
      logs: { external: ELASTIC_CLOUD, elasticsearchProviderUrl: "http://127.0.0.1:19200", elasticsearchHeapMb: 512 },
      memoryMb: { elasticsearch: 2048, grafana: 512 },
      ports: { grafana: 13000 },
    });
    expect(problems(stack)).toEqual([
      expect.stringMatching(/^grafana\.providerUrl: is for the stack's own Grafana/),
      expect.stringMatching(/^logs\.elasticsearchHeapMb: is for the stack's own Elasticsearch/),
      expect.stringMatching(/^logs\.elasticsearchProviderUrl: is for the stack's own Elasticsearch/),
      expect.stringMatching(/^memoryMb\.elasticsearch: there is no elasticsearch container/),
      "memoryMb.grafana: there is no Grafana container with grafana.external: remove memoryMb.grafana",
      "ports.grafana: there is no Grafana container with grafana.external: remove ports.grafana",
    ]);
  });

  test("plain http carrying credentials, a loopback Elasticsearch, a CA on http, a fingerprint alone", () => {
    const stack = merge(BOTH_EXTERNAL, {
      grafana: { external: { url: "http://grafana.example.com" } },
      logs: { external: { elasticsearchUrl: "http://127.0.0.1:9200", kibanaUrl: "http://kibana.example.com:5601", caFingerprint: "ab".repeat(32) } },
    });
    expect(problems(stack)).toEqual([
      expect.stringMatching(/^grafana\.external\.url: must use https: credentials are sent to it/),
      expect.stringMatching(/^logs\.external\.caFingerprint: alone is not enough: Grafana's Elasticsearch datasource trusts a CA only as a PEM certificate/),
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: is plain http, so logs\.external\.caCertificate \/ caFingerprint would not apply/),
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: is a loopback address, which Filebeat and Grafana .* cannot reach/),
      expect.stringMatching(/^logs\.external\.kibanaUrl: must use https/),
      expect.stringMatching(/^logs\.external\.kibanaUrl: is plain http/),
    ]);
  });

  test("turning TLS verification off is refused with the reason, not as an unknown key", () => {
    const stack = merge(BOTH_EXTERNAL, { logs: { external: { ...ELASTIC_CLOUD, verifyTls: false, insecureSkipVerify: true } } });
    expect(problems(stack)).toEqual([
      expect.stringMatching(
        /^logs\.external\.insecureSkipVerify: TLS verification of the Elastic cluster cannot be turned off: .*caCertificate \(PEM\) or logs\.external\.caFingerprint/,
      ),
      expect.stringMatching(/^logs\.external\.verifyTls: TLS verification of the Elastic cluster cannot be turned off/),
    ]);
  });

  test("a malformed CA, a private key pasted, a malformed fingerprint", () => {
    const external = (EXTERNAL_ELASTIC_ONLY.values.logs as { external: Record<string, unknown> }).external;
    expect(
      problems(
        merge(EXTERNAL_ELASTIC_ONLY, {
          logs: { external: { ...external, caCertificate: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", caFingerprint: "xyz" } },
        }),
      ),
    ).toEqual([
      "logs.external.caCertificate: holds a private key: give only the CA certificate (PEM), never a key",
      "logs.external.caFingerprint: must be a SHA-256 fingerprint: 64 hex digits, optionally in pairs separated by colons",
    ]);
  });

  test("the external keys are secret settings: in plain text they are refused", () => {
    expect(() => resolveStackConfig({ stack: "ext", values: { ...BOTH_EXTERNAL.values, ...BOTH_EXTERNAL.secrets }, secretKeys: [] })).toThrow(
      /grafanaApiToken: must be stored encrypted[\s\S]*elasticApiKey: must be stored encrypted|elasticApiKey: must be stored encrypted[\s\S]*grafanaApiToken: must be stored encrypted/,
    );
  });
});

describe("validators", () => {
  test.each([
    ["https://es.example.com", undefined],
    ["http://127.0.0.1:19200", undefined],
    ["http://localhost:9200", undefined],
    ["http://[::1]:9200", undefined],
    ["http://es.example.com:9200", "must use https"],
    ["http://10.0.0.5:9200", "must use https"],
  ])("credentialUrlProblem(%s)", (url, problem) => {
    const found = credentialUrlProblem(url);
    if (problem) expect(found).toContain(problem);
    else expect(found).toBeUndefined();
  });

  test("loopback, PEM and fingerprint checks", () => {
    expect(["http://127.1.2.3", "http://localhost", "http://a.localhost"].every(isLoopbackUrl)).toBe(true);
    expect(isLoopbackUrl("http://127example.com")).toBe(false);
    expect(pemCertificateProblem(TEST_CA_PEM)).toBeUndefined();
    expect(pemCertificateProblem(`${TEST_CA_PEM}${TEST_CA_PEM}`)).toBeUndefined();
    expect(pemCertificateProblem(`junk\n${TEST_CA_PEM}`)).toContain("only PEM certificates");
    expect(sha256FingerprintProblem("AB".repeat(32))).toBeUndefined();
    expect(sha256FingerprintProblem(Array(32).fill("ab").join(":"))).toBeUndefined();
    expect(sha256FingerprintProblem(`${"ab".repeat(31)}:ab`)).toBeDefined();
    expect(sha256FingerprintProblem("ab".repeat(20))).toBeDefined();
  });
});

describe("SLOs with the metrics in a remote-write backend (prometheus.mode: agent with prometheus.external)", () => {
  const SLO_SERVICES = [
    { name: "billing-api", metrics: "http://billing_api:9000/metrics", health: "http://billing_api:9000/health", slo: { availability: 99.9 } },
  ];
  const agentMode = (external: boolean): ExternalStack => ({
    values: {
      services: SLO_SERVICES,
      publicHostname: "obs.example.internal",
      prometheus: {
        mode: "agent",
        remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write" }],
        ...(external ? { external: { queryUrl: "https://metrics.example.internal/prometheus" } } : {}),
      },
    },
    secrets: {},
  });

  test("accepted: Grafana records them into the backend (components/slo/slo-rules.ts, sloGrafanaRecordingGroups); the backend's retention is its own", () => {
    // The default 30d window is longer than dev's 7d retention, which an agent does not have.
    expect(() => resolve(agentMode(true))).not.toThrow();
  });

  test("refused without the backend's query URL, at the SLO and at the query URL, each saying what to set", () => {
    expect(problems(agentMode(false))).toEqual([
      expect.stringMatching(/^prometheus\.external\.queryUrl: agent mode has no query API/),
      expect.stringMatching(/^services\[0\]\.slo: needs Prometheus in server mode, or prometheus\.external: .*Set prometheus\.external\.queryUrl/),
    ]);
  });

  const withRemoteWrite = (url: string, services = SLO_SERVICES, mode = "agent"): ExternalStack => ({
    values: {
      ...agentMode(true).values,
      services,
      prometheus: {
        mode,
        remoteWrite: [{ name: "central", url }],
        ...(mode === "agent" ? { external: { queryUrl: "https://metrics.example.internal/prometheus" } } : { retentionTime: "30d" }),
      },
    },
    secrets: {},
  });

  test.each([
    ["https://thanos.example.internal/api/v1/receive", /does not end in \/api\/v1\/write .*, \/api\/v1\/push .* or \/api\/prom\/push/],
    ["https://mimir.example.internal/api/v1/push/", /has a path Grafana would rewrite/],
    ["https://mimir.example.internal//api/v1/push", /has a path Grafana would rewrite/],
    ["https://metrics.example.internal/write", /does not end in/],
  ])("a remote write Grafana cannot write to (%s) is refused at its key when Grafana records SLOs, saying why and what to do", (url, why) => {
    expect(problems(withRemoteWrite(url))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^prometheus\\.remoteWrite\\[0\\]\\.url: is where Grafana writes the SLO series it records .* ${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} .*Put first in prometheus\\.remoteWrite a remote write to the backend`,
        ),
      ),
    ]);
    expect(problems(withRemoteWrite(url))[0]).toMatch(why);
    // Without SLOs, or with Prometheus itself writing (server mode), the URL is Prometheus's business only.
    expect(() => resolve(withRemoteWrite(url, [{ ...SLO_SERVICES[0], slo: undefined } as never]))).not.toThrow();
    expect(() => resolve(withRemoteWrite(url, SLO_SERVICES, "server"))).not.toThrow();
  });
});

describe("the datasource Grafana's recording rules write to (components/grafana/remote-write-url.ts, remote-write-datasource.ts)", () => {
  test("the port of getRemoteWriteURL gives upstream's own cases (grafana/grafana pkg/services/ngalert/writer/datasourcewriter_test.go, TestDatasourceWriterGetRemoteWriteURL)", () => {
    const cases: [string, PrometheusType, string][] = [
      ["http://example.com", "Prometheus", "http://example.com/api/v1/write"],
      ["http://example.com/myprom", "Prometheus", "http://example.com/myprom/api/v1/write"],
      ["http://example.com/api/prom", "Mimir", "http://example.com/api/prom/push"],
      ["http://example.com/myprom/api/prom", "Mimir", "http://example.com/myprom/api/prom/push"],
      ["http://example.com/prometheus", "Mimir", "http://example.com/api/v1/push"],
      ["http://example.com/mymimir/prometheus", "Mimir", "http://example.com/mymimir/api/v1/push"],
      ["http://example.com/foo/bar", "Mimir", "http://example.com/api/v1/push"],
    ];
    for (const [datasourceUrl, type, expected] of cases) expect([datasourceUrl, grafanaRemoteWriteUrl(datasourceUrl, type)]).toEqual([datasourceUrl, expected]);
    expect(goPathClean("")).toBe(".");
    expect(goPathClean("/a//b/./c/../")).toBe("/a/b");
  });

  test("the query datasource as the target (the defect): Grafana writes to a URL derived from the query URL, not the remote write's", () => {
    // A datasource without prometheusType "Prometheus" takes Mimir's routes: .../prometheus pushes to /api/v1/push beside it.
    expect(grafanaRemoteWriteUrl("https://metrics.example.internal/prometheus", "Mimir")).toBe("https://metrics.example.internal/api/v1/push");
    expect(grafanaRemoteWriteUrl("https://metrics.example.internal/prometheus", "Mimir")).not.toBe("https://metrics.example.internal/api/v1/write");
  });

  test.each([
    // Mimir (its distributor's push path; the datasource URL is its query path, /prometheus)
    ["https://mimir.example.internal/api/v1/push", "https://mimir.example.internal/prometheus", "Mimir"],
    ["https://gateway.example.internal/mimir/api/v1/push", "https://gateway.example.internal/mimir/prometheus", "Mimir"],
    // Grafana Cloud's .../api/prom/push: getRemoteWriteURL pushes a datasource at .../api/prom to .../api/prom/push (Cortex's legacy routes)
    ["https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push", "https://prometheus-prod-01-eu-west-0.grafana.net/api/prom", "Mimir"],
    // A Prometheus remote-write receiver (or VictoriaMetrics): only prometheusType "Prometheus" gives /api/v1/write
    ["https://central.example.internal:9090/api/v1/write", "https://central.example.internal:9090", "Prometheus"],
    ["https://vm.example.internal/api/v1/write?extra_label=team%3Dobs", "https://vm.example.internal?extra_label=team%3Dobs", "Prometheus"],
  ])("%s: the datasource %s typed %s, from which Grafana derives exactly that URL", (remoteWriteUrl, datasourceUrl, type) => {
    const target = remoteWriteDatasourceTarget(remoteWriteUrl);
    expect(target).toEqual({ url: datasourceUrl, prometheusType: type });
    expect(grafanaRemoteWriteUrl(datasourceUrl, type as PrometheusType)).toBe(remoteWriteUrl);
  });

  const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply((value) => (resolve(value), value)));
  const remote = (credentials: RemoteWriteConfig["credentials"], extra: Partial<RemoteWriteConfig> = {}): RemoteWriteConfig => ({
    name: "central",
    url: "https://mimir.example.internal/api/v1/push",
    headers: { "X-Scope-OrgID": "team-obs" },
    credentials,
    ...extra,
  });

  test("basic auth: the remote write's user as the datasource's, its password in secureJsonData only (a Pulumi secret); its headers as custom headers", async () => {
    const spec = remoteWriteDatasourceSpec(remote("basic", { basicAuthUser: "writer" }), pulumi.secret("s3cret-write"));
    expect(spec).toMatchObject({ url: "https://mimir.example.internal/prometheus", prometheusType: "Mimir", basicAuth: { user: "writer" } });
    const { jsonData, secureJsonData } = remoteWriteDatasourceData(spec);
    // Grafana's datasource service pairs jsonData.httpHeaderName<n> with secureJsonData.httpHeaderValue<n> (datasource.go, getCustomHeaders).
    expect(jsonData).toEqual({ prometheusType: "Mimir", httpMethod: "POST", httpHeaderName1: "X-Scope-OrgID" });
    expect(JSON.stringify(jsonData)).not.toContain("s3cret");
    expect(await pulumi.isSecret(secureJsonData!)).toBe(true);
    expect(JSON.parse(await valueOf(secureJsonData!))).toEqual({ basicAuthPassword: "s3cret-write", httpHeaderValue1: "team-obs" });
  });

  test("bearer: the token as an Authorization header, its value in secureJsonData only; no basic auth", async () => {
    const spec = remoteWriteDatasourceSpec(
      remote("bearer", { url: "https://central.example.internal:9090/api/v1/write", headers: {} }),
      pulumi.secret("tok-123"),
    );
    expect(spec.basicAuth).toBeUndefined();
    const { jsonData, secureJsonData } = remoteWriteDatasourceData(spec);
    expect(jsonData).toEqual({ prometheusType: "Prometheus", httpMethod: "POST", httpHeaderName1: "Authorization" });
    expect(await pulumi.isSecret(secureJsonData!)).toBe(true);
    expect(JSON.parse(await valueOf(secureJsonData!))).toEqual({ httpHeaderValue1: "Bearer tok-123" });
  });

  test("no credentials: no login and, without headers, no secureJsonData; an unexpressible URL throws (the config rules refuse it first)", () => {
    const spec = remoteWriteDatasourceSpec(remote("none", { headers: {} }), undefined);
    expect(remoteWriteDatasourceData(spec)).toEqual({ jsonData: { prometheusType: "Mimir", httpMethod: "POST" }, secureJsonData: undefined });
    expect(() => remoteWriteDatasourceSpec(remote("none", { url: "https://thanos.example.internal/api/v1/receive" }), undefined)).toThrow(/does not end in/);
  });
});
