/**
 * The config of an agent host (`role: agent`): what it resolves to, every key it refuses (each at its
 * own key, all at once, no secret repeated), what it needs to ship logs, and the central stack's keys
 * for agents (`logs.agentApiKey`, `logShipperApiKey` refused there).
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { shipperApiKey } from "../../components/logs/config";

const WRITE_PASSWORD = "rw-password-not-in-errors";
const SHIPPER_KEY = "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw";

interface Stack {
  values: Record<string, unknown>;
  secrets: Record<string, unknown>;
}

/** A second application host: metrics by remote write, logs into the central data stream. */
const AGENT: Stack = {
  values: {
    role: "agent",
    publicHostname: "app-2.example.internal",
    prometheus: { remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "atra-agents" }] },
    logs: { dataStream: "logs-atra-prod", external: { elasticsearchUrl: "https://logs.example.internal" } },
    services: [
      { name: "worker", logs: ["/srv/atra/logs/worker*.log"] },
      { name: "api", metrics: "http://api:8000/metrics", health: "http://api:8000/health" },
    ],
  },
  secrets: { remoteWriteSecrets: { central: WRITE_PASSWORD }, logShipperApiKey: SHIPPER_KEY },
};

function resolve(stack: Stack) {
  return resolveStackConfig({ stack: "app-2", values: { ...stack.values, ...stack.secrets }, secretKeys: Object.keys(stack.secrets) });
}

function problems(stack: Stack): string[] {
  try {
    resolve(stack);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const text = error.issues.map((issue) => `${issue.key.replace(/^atra-observability:/, "")}: ${issue.message}`);
    expect(text.join("\n")).not.toContain(WRITE_PASSWORD);
    expect(text.join("\n")).not.toContain(SHIPPER_KEY);
    return text;
  }
  throw new Error("expected a ConfigError");
}

const withValues = (values: Record<string, unknown>, secrets: Record<string, unknown> = AGENT.secrets): Stack => ({
  values: { ...AGENT.values, ...values },
  secrets,
});

describe("an agent host", () => {
  test("resolves to agent mode, the host label, and shipping into the central data stream", () => {
    const { config, secrets } = resolve(AGENT);
    expect(config.role).toBe("agent");
    expect(config.prometheus.mode).toBe("agent");
    expect(config.prometheus.hostLabel).toBe("app-2.example.internal");
    expect(config.logs.enabled).toBe(true);
    expect(config.logs.dataStream).toBe("logs-atra-prod");
    expect(config.logs.shipTo).toEqual({ elasticsearchUrl: "https://logs.example.internal" });
    expect(config.logs.external).toBeUndefined();
    expect(config.logs.agentKeyExpiration).toBe("90d");
    expect(secrets.logShipperApiKey).toBe(SHIPPER_KEY);
  });

  test("without log files it ships nothing and needs no Elastic settings", () => {
    const { config } = resolve({
      values: { ...AGENT.values, logs: undefined, services: [{ name: "api", metrics: "http://api:8000/metrics" }] },
      secrets: { remoteWriteSecrets: { central: WRITE_PASSWORD } },
    });
    expect(config.logs.enabled).toBe(false);
    expect(config.logs.shipTo).toBeUndefined();
  });

  test("needs a remote write, and with log files the cluster URL, the data stream and the shipper's key", () => {
    expect(
      problems({
        values: { ...AGENT.values, prometheus: undefined, logs: undefined },
        secrets: {},
      }),
    ).toEqual([
      expect.stringMatching(/^logs\.dataStream: is required on an agent host .*central stack's data stream/),
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: is required on an agent host/),
      expect.stringMatching(/^logShipperApiKey: is required on an agent host .*agentLogShipperApiKey/),
      expect.stringMatching(/^prometheus\.remoteWrite: agent mode stores nothing .*at least one remote write/),
    ]);
  });

  test("refuses everything of Grafana, alerting, the cluster's objects and the central-only containers, each at its key", () => {
    const refused = problems(
      withValues(
        {
          grafana: { adminUser: "admin" },
          alerting: { evaluationInterval: "1m" },
          images: { grafana: "grafana/grafana:12.1.1", nodeExporter: "prom/node-exporter:v1.9.1" },
          ports: { kibana: 5602 },
          memoryMb: { elasticsearch: 2048 },
          prometheus: {
            mode: "server",
            remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "atra-agents" }],
            external: { queryUrl: "https://metrics.example.internal/prometheus" },
          },
          logs: {
            dataStream: "logs-atra-prod",
            retention: "7d",
            errorRateThreshold: 5,
            agentApiKey: true,
            external: { elasticsearchUrl: "https://logs.example.internal", kibanaUrl: "https://kibana.example.internal", user: "someone" },
          },
          services: [
            {
              name: "worker",
              logs: ["/srv/atra/logs/worker*.log"],
              maxLogSilence: "30m",
              slo: { availability: 99 },
              requestLogKeys: { duration: { key: "took", unit: "ms" } },
            },
          ],
        },
        { ...AGENT.secrets, grafanaApiToken: "token-not-in-errors", elasticPassword: "password-not-in-errors" },
      ),
    );
    const keys = refused.map((line) => line.slice(0, line.indexOf(":")));
    expect(keys).toEqual(
      expect.arrayContaining([
        "alerting",
        "elasticPassword",
        "grafana",
        "grafanaApiToken",
        "images.grafana",
        "logs.agentApiKey",
        "logs.errorRateThreshold",
        "logs.external.kibanaUrl",
        "logs.external.user",
        "logs.retention",
        "memoryMb.elasticsearch",
        "ports.kibana",
        "prometheus.external",
        "prometheus.mode",
        "services[0].maxLogSilence",
        "services[0].requestLogKeys",
        "services[0].slo",
      ]),
    );
    // The pipeline that reads request keys is the central stack's, built from the central catalog: said, with the fix.
    expect(refused.find((line) => line.startsWith("services[0].requestLogKeys"))).toMatch(
      /central stack's ingest pipeline.*give the service an entry there with these requestLogKeys \(it needs no `logs` there\).*\(role: agent\)/,
    );
    expect(keys).not.toContain("images.nodeExporter");
    // logs.agentApiKey is refused on every stack, saying what replaced it.
    for (const line of refused.filter((text) => !text.startsWith("services[0].slo") && !text.startsWith("logs.agentApiKey")))
      expect(line).toMatch(/role: agent/);
    expect(refused.join("\n")).not.toMatch(/token-not-in-errors|password-not-in-errors/);
  });

  test("refuses a loopback or plain-http cluster URL and a stray shipping key", () => {
    expect(problems(withValues({ logs: { dataStream: "logs-atra-prod", external: { elasticsearchUrl: "https://127.0.0.1:9200" } } }))).toEqual([
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: is a loopback address, which Filebeat/),
    ]);
    expect(problems(withValues({ logs: { dataStream: "logs-atra-prod", external: { elasticsearchUrl: "http://logs.example.internal:9200" } } }))).toEqual([
      expect.stringMatching(/^logs\.external\.elasticsearchUrl: .*http/),
    ]);
    expect(
      problems({
        values: { ...AGENT.values, logs: { dataStream: "logs-atra-prod" }, services: [{ name: "api", metrics: "http://api:8000/metrics" }] },
        secrets: AGENT.secrets,
      }),
    ).toEqual([expect.stringMatching(/^logs\.dataStream: has nothing to ship/), expect.stringMatching(/^logShipperApiKey: has nothing to ship/)]);
  });
});

describe("the shipper's API key", () => {
  test("is taken as id:api_key or as its base64 encoded form, and refused otherwise", () => {
    expect(shipperApiKey(SHIPPER_KEY)).toBe(SHIPPER_KEY);
    expect(shipperApiKey(Buffer.from(SHIPPER_KEY).toString("base64"))).toBe(SHIPPER_KEY);
    for (const bad of ["no-colon-here", ":key", "id:", "a:b:c", "id: key"]) expect(shipperApiKey(bad)).toBeUndefined();
    expect(problems(withValues({}, { ...AGENT.secrets, logShipperApiKey: "not a key" }))).toEqual([
      expect.stringMatching(/^logShipperApiKey: must be an API key as id:api_key/),
    ]);
  });
});

describe("a central stack's keys for agents", () => {
  const central = (values: Record<string, unknown>, secrets: Record<string, unknown> = {}) =>
    ({ values: { services: [{ name: "api", metrics: "http://api:8000/metrics" }], ...values }, secrets }) as Stack;

  const AGENTS = [{ host: "app-1.example.com" }, { host: "app-2.example.com" }];

  test("logs.agentApiKey is refused, naming agents[] and the output that replaced it; logShipperApiKey is refused there", () => {
    expect(problems(central({ logs: { agentApiKey: true } }))).toEqual([
      expect.stringMatching(/^logs\.agentApiKey: is replaced: every host listed in agents\[\] now gets its own API key \(output agentLogShipperApiKeys/),
    ]);
    // Refused whatever its value: false too would read as a setting that still exists.
    expect(problems(central({ logs: { agentApiKey: false } }))).toEqual([expect.stringMatching(/^logs\.agentApiKey: is replaced/)]);
    expect(problems(central({}, { logShipperApiKey: SHIPPER_KEY }))).toEqual([expect.stringMatching(/^logShipperApiKey: is for agent hosts \(role: agent\)/)]);
  });

  test("agents[] with logs: one key per host, 90 days unless logs.agentKeyExpiration says otherwise", () => {
    expect(resolve(central({ agents: AGENTS })).config.logs.agentKeyExpiration).toBe("90d");
    expect(resolve(central({ agents: AGENTS, logs: { agentKeyExpiration: "30d" } })).config.logs.agentKeyExpiration).toBe("30d");
    expect(problems(central({ agents: AGENTS, logs: { agentKeyExpiration: "3 months" } }))).toEqual([expect.stringMatching(/^logs\.agentKeyExpiration: /)]);
    expect(problems(central({ logs: { agentKeyExpiration: "30d" } }))).toEqual([
      expect.stringMatching(/^logs\.agentKeyExpiration: applies to the agents' log keys, and this stack makes none/),
    ]);
  });

  test("the agents' keys need a user login, not an API key (Elasticsearch's derived-key rule)", () => {
    const apiKey = Buffer.from("key-id:key-secret").toString("base64");
    expect(
      problems(
        central(
          { agents: AGENTS, logs: { external: { elasticsearchUrl: "https://es.example.com", kibanaUrl: "https://kb.example.com" } } },
          { elasticApiKey: apiKey },
        ),
      ),
    ).toEqual([expect.stringMatching(/^elasticApiKey: cannot make the agents\[\] hosts' log keys/)]);
  });
});

describe("the published Prometheus", () => {
  test("an external Grafana reads the published Prometheus over https (published beyond loopback: TLS and a login)", () => {
    const stack: Stack = {
      values: {
        services: [{ name: "api", metrics: "http://api:8000/metrics" }],
        bindAddress: "0.0.0.0",
        publicHostname: "obs.example.com",
        grafana: { external: { url: "https://atra.grafana.net" } },
        logs: { enabled: false },
      },
      secrets: { grafanaApiToken: "glsa_token_not_in_errors" },
    };
    // The login goes over TLS only (tls.mode cannot be off beyond loopback): no longer refused.
    expect(() => resolve(stack)).not.toThrow();
    expect(resolve(stack).config.grafana.external?.prometheusUrl).toBe("https://obs.example.com:9090");
  });
});

describe("the host label", () => {
  test("a publicHostname that cannot be a host label is refused at its key, unless prometheus.hostLabel is set", () => {
    const values = { services: [{ name: "api", metrics: "http://api:8000/metrics" }], publicHostname: "-obs.example.internal" };
    expect(problems({ values, secrets: {} })).toEqual([expect.stringMatching(/^publicHostname: is also the host label of every series/)]);
    expect(resolve({ values: { ...values, prometheus: { hostLabel: "obs-1" } }, secrets: {} }).config.prometheus.hostLabel).toBe("obs-1");
  });
});
