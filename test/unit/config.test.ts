/**
 * The pure config resolver: defaults per environment, overrides merged with defaults, and every
 * problem of a stack file reported at once with its full config key.
 */
import { DEFAULT_SCRAPE_LIMITS } from "../../components/metrics/scrape-limits";
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { ConfigIssue, UNDECRYPTED_SECRET } from "../../components/lib/config-keys";
import { durationMs } from "../../components/lib/validators";
import { parseStoredValue } from "../../components/config/pulumi-config";
import { DEFAULT_IMAGES } from "../../components/stack-services";

const SECRET_PASSWORD = "s3cret-Passw0rd-long";

function resolve(stack: string, values: Record<string, unknown> = {}, secretKeys: string[] = []) {
  return resolveStackConfig({ stack, values, secretKeys });
}

/** The ConfigError a config produces (fails the test when it resolves). */
function configError(values: Record<string, unknown>, secretKeys: string[] = [], stack = "dev"): ConfigError {
  try {
    resolve(stack, values, secretKeys);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(values)}`);
}

function issuesOf(values: Record<string, unknown>, secretKeys: string[] = []): ConfigIssue[] {
  return configError(values, secretKeys).issues;
}

/** What an ssh:// Docker host needs besides: where `pulumi up` reaches the published ports. */
const SSH_TUNNELS = {
  grafana: { providerUrl: "http://127.0.0.1:13000" },
  logs: { elasticsearchProviderUrl: "http://127.0.0.1:19200", kibanaProviderUrl: "http://127.0.0.1:15601" },
};

const DEV_MEMORY = {
  prometheus: 1024,
  grafana: 512,
  nodeExporter: 128,
  blackboxExporter: 128,
  cadvisor: 256,
  elasticsearch: 1536,
  kibana: 1024,
  filebeat: 256,
};

describe("defaults for an empty config", () => {
  test.each([
    ["dev", "dev", "7d", "5GB", DEV_MEMORY, "7d"],
    [
      "staging",
      "staging",
      "15d",
      "20GB",
      { prometheus: 2048, grafana: 768, nodeExporter: 128, blackboxExporter: 128, cadvisor: 384, elasticsearch: 3072, kibana: 1536, filebeat: 384 },
      "15d",
    ],
    [
      "prod",
      "prod",
      "30d",
      "50GB",
      { prometheus: 4096, grafana: 1024, nodeExporter: 128, blackboxExporter: 128, cadvisor: 512, elasticsearch: 4096, kibana: 2048, filebeat: 512 },
      "30d",
    ],
    ["feature-x", "dev", "7d", "5GB", DEV_MEMORY, "7d"],
  ])("stack %s -> environment %s", (stack, environment, retentionTime, retentionSize, memoryMb, logRetention) => {
    const { config, secrets } = resolve(stack);
    expect(config.stack).toBe(stack);
    expect(config.environment).toBe(environment);
    expect(config.namePrefix).toBe(`atra-obs-${stack}`);
    expect(config.memoryMb).toEqual(memoryMb);
    expect(config.prometheus).toEqual({
      retentionTime,
      retentionSize,
      scrapeInterval: "15s",
      scrapeTimeout: "10s",
      evaluationInterval: "15s",
      scrapeLimits: DEFAULT_SCRAPE_LIMITS,
      mode: "server",
      remoteWrite: [],
      federated: false,
      agentLimits: { sampleLimit: 20000, labelLimit: 25, labelNameLengthLimit: 128, labelValueLengthLimit: 128, bodySizeLimit: "16MB" },
      hostLabel: "localhost",
    });
    expect(secrets).toEqual({
      grafanaAdminPassword: undefined,
      alertingSecrets: {},
      elasticPassword: undefined,
      remoteWriteSecrets: {},
      prometheusQueryPassword: undefined,
    });
    expect(config.logs.retention).toBe(logRetention);
    expect(config.logs.elasticsearchHeapMb).toBe(memoryMb.elasticsearch / 2);
  });

  test("the whole dev config, field by field", () => {
    const { config } = resolve("dev");
    expect(config).toEqual({
      stack: "dev",
      environment: "dev",
      role: "central",
      agents: [],
      namePrefix: "atra-obs-dev",
      services: [],
      bindAddress: "127.0.0.1",
      publicHostname: "localhost",
      appNetworks: [],
      dockerHost: undefined,
      images: {
        prometheus: "prom/prometheus:v3.13.2",
        grafana: "grafana/grafana:13.2.0",
        nodeExporter: "prom/node-exporter:v1.12.1",
        blackboxExporter: "prom/blackbox-exporter:v0.28.0",
        cadvisor: "ghcr.io/google/cadvisor:v0.60.5",
        elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:9.5.7",
        kibana: "docker.elastic.co/kibana/kibana:9.5.0",
        filebeat: "docker.elastic.co/beats/filebeat:9.5.2",
      },
      ports: { prometheus: 9090, grafana: 3000, elasticsearch: 9200, kibana: 5601 },
      memoryMb: DEV_MEMORY,
      prometheus: {
        retentionTime: "7d",
        retentionSize: "5GB",
        scrapeInterval: "15s",
        scrapeTimeout: "10s",
        evaluationInterval: "15s",
        scrapeLimits: DEFAULT_SCRAPE_LIMITS,
        mode: "server",
        remoteWrite: [],
        federated: false,
        agentLimits: { sampleLimit: 20000, labelLimit: 25, labelNameLengthLimit: 128, labelValueLengthLimit: 128, bodySizeLimit: "16MB" },
        hostLabel: "localhost",
      },
      grafana: { adminUser: "admin", publicUrl: "http://localhost:3000", providerUrl: "http://127.0.0.1:3000", peopleRole: "Viewer" },
      prometheusPublicUrl: "http://localhost:9090",
      cadvisor: { enabled: true, privileged: false },
      nodeExporter: { listenAddress: "172.17.0.1:9100", rootPropagation: "rslave" },
      network: { bridgeName: "atra-dev" },
      alerting: {
        evaluationInterval: "1m",
        runbookBaseUrl: undefined,
        contactPoints: [],
        defaultContactPoint: "grafana-default-email",
        routes: [],
        groupBy: ["alertname", "host", "service", "instance"],
        groupWait: "30s",
        groupInterval: "5m",
        repeatInterval: "4h",
      },
      logs: {
        enabled: true,
        agentKeyExpiration: "90d",
        dataStream: "logs-atra-dev",
        retention: "7d",
        rolloverMaxAge: "1d",
        rolloverMaxPrimaryShardSize: "10gb",
        elasticsearchHeapMb: 768,
        errorRateThreshold: 10,
        errorRateWindow: "5m",
        kibanaPublicUrl: "http://localhost:5601",
        elasticsearchPublicUrl: "http://localhost:9200",
        elasticsearchProviderUrl: "http://127.0.0.1:9200",
        kibanaProviderUrl: "http://127.0.0.1:5601",
      },
      // Loopback only, no receiver, no agent key: plain http (components/tls/config.ts).
      tls: { mode: "off", extraNames: [] },
    });
  });

  test("every default image is pinned to an exact tag", () => {
    const { config } = resolve("prod");
    expect(config.images).toEqual(DEFAULT_IMAGES);
    for (const image of Object.values(config.images)) {
      expect(image).toMatch(/:[^/:]+$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  test("an explicit environment wins over the stack name", () => {
    expect(resolve("prod", { environment: "dev" }).config.environment).toBe("dev");
    const staging = resolve("my-sandbox", { environment: "staging" }).config;
    expect(staging.environment).toBe("staging");
    expect(staging.namePrefix).toBe("atra-obs-my-sandbox");
    expect(staging.prometheus.retentionTime).toBe("15d");
    expect(staging.prometheus.retentionSize).toBe("20GB");
    expect(staging.memoryMb.prometheus).toBe(2048);
  });
});

describe("URLs and the provider URL", () => {
  // Bound beyond loopback, a stack serves TLS (tls.mode generated by default, components/tls/config.ts):
  // every URL of its Grafana and Prometheus is https.
  test("bound to every interface: public URLs on localhost, provider on loopback", () => {
    const { config } = resolve("dev", { bindAddress: "0.0.0.0" });
    expect(config.bindAddress).toBe("0.0.0.0");
    expect(config.publicHostname).toBe("localhost");
    expect(config.grafana.publicUrl).toBe("https://localhost:3000");
    expect(config.prometheusPublicUrl).toBe("https://localhost:9090");
    expect(config.grafana.providerUrl).toBe("https://127.0.0.1:3000");
  });

  test("bound to one address: public URLs and provider on that address", () => {
    const { config } = resolve("dev", { bindAddress: "10.1.2.3", ports: { grafana: 3300, prometheus: 9191 } });
    expect(config.publicHostname).toBe("10.1.2.3");
    expect(config.grafana.publicUrl).toBe("https://10.1.2.3:3300");
    expect(config.prometheusPublicUrl).toBe("https://10.1.2.3:9191");
    expect(config.grafana.providerUrl).toBe("https://10.1.2.3:3300");
  });

  test("publicHostname changes the public URLs, not the provider URL", () => {
    const { config } = resolve("prod", { publicHostname: "obs.example.com" });
    expect(config.grafana.publicUrl).toBe("http://obs.example.com:3000");
    expect(config.prometheusPublicUrl).toBe("http://obs.example.com:9090");
    expect(config.grafana.providerUrl).toBe("http://127.0.0.1:3000");
  });

  test("an explicit grafana.providerUrl wins, trailing slashes stripped", () => {
    const { config } = resolve("dev", { bindAddress: "0.0.0.0", grafana: { providerUrl: "https://grafana.internal:8443//" } });
    expect(config.grafana.providerUrl).toBe("https://grafana.internal:8443");
    expect(config.grafana.publicUrl).toBe("https://localhost:3000");
    expect(config.grafana.adminUser).toBe("admin");
  });
});

describe("scrape timing", () => {
  test.each([
    ["15s", "10s"],
    ["1m", "10s"],
    ["10s", "10s"],
    ["5s", "5s"],
  ])("scrapeInterval %s -> default scrapeTimeout %s", (scrapeInterval, scrapeTimeout) => {
    const { config } = resolve("dev", { prometheus: { scrapeInterval } });
    expect(config.prometheus.scrapeTimeout).toBe(scrapeTimeout);
    expect(config.prometheus.evaluationInterval).toBe(scrapeInterval);
  });

  test("an explicit scrapeTimeout within the interval is kept", () => {
    const { config } = resolve("dev", { prometheus: { scrapeInterval: "1m", scrapeTimeout: "30s", evaluationInterval: "2m" } });
    expect(config.prometheus).toMatchObject({ scrapeInterval: "1m", scrapeTimeout: "30s", evaluationInterval: "2m" });
  });

  test("a scrapeTimeout longer than the scrapeInterval is an error", () => {
    expect(issuesOf({ prometheus: { scrapeInterval: "30s", scrapeTimeout: "1m" } })).toEqual([
      {
        key: "atra-observability:prometheus.scrapeTimeout",
        message: "1m is longer than prometheus.scrapeInterval 30s; Prometheus refuses that",
      },
    ]);
    // Against the default interval too.
    expect(issuesOf({ prometheus: { scrapeTimeout: "20s" } })).toEqual([
      {
        key: "atra-observability:prometheus.scrapeTimeout",
        message: "20s is longer than prometheus.scrapeInterval 15s; Prometheus refuses that",
      },
    ]);
  });
});

describe("overrides merge with defaults", () => {
  test("overriding one image keeps the others", () => {
    const { config } = resolve("dev", { images: { grafana: "grafana/grafana:12.2.0" } });
    expect(config.images).toEqual({ ...DEFAULT_IMAGES, grafana: "grafana/grafana:12.2.0" });
  });

  test("overriding one memory limit keeps the environment's others", () => {
    const { config } = resolve("prod", { memoryMb: { grafana: 2048 } });
    expect(config.memoryMb).toEqual({
      prometheus: 4096,
      grafana: 2048,
      nodeExporter: 128,
      blackboxExporter: 128,
      cadvisor: 512,
      elasticsearch: 4096,
      kibana: 2048,
      filebeat: 512,
    });
  });

  test("overriding one port keeps the others", () => {
    const { config } = resolve("dev", { ports: { grafana: 3001 } });
    expect(config.ports).toEqual({ prometheus: 9090, grafana: 3001, elasticsearch: 9200, kibana: 5601 });
    expect(config.grafana.providerUrl).toBe("http://127.0.0.1:3001");
  });

  test("overriding retention time keeps the environment's retention size", () => {
    const { config } = resolve("staging", { prometheus: { retentionTime: "90d" } });
    expect(config.prometheus.retentionTime).toBe("90d");
    expect(config.prometheus.retentionSize).toBe("20GB");
  });

  test("services, networks, docker host, cadvisor and node-exporter settings pass through", () => {
    const services = [
      { name: "api", metrics: "http://api:8080/metrics", health: "https://api.example.com/healthz" },
      { name: "worker", logs: ["/var/log/worker/*.log"] },
    ];
    const { config } = resolve("dev", {
      services,
      appNetworks: ["app_default", "backend"],
      dockerHost: "ssh://deploy@docker-1.example.com",
      ...SSH_TUNNELS,
      cadvisor: { privileged: true },
      nodeExporter: { listenAddress: "172.18.0.1:9100", rootPropagation: "none" },
      network: { bridgeName: "obs0" },
    });
    expect(config.services).toEqual(services);
    expect(config.appNetworks).toEqual(["app_default", "backend"]);
    expect(config.dockerHost).toBe("ssh://deploy@docker-1.example.com");
    expect(config.cadvisor).toEqual({ enabled: true, privileged: true });
    expect(config.nodeExporter).toEqual({ listenAddress: "172.18.0.1:9100", rootPropagation: "none" });
    expect(config.network).toEqual({ bridgeName: "obs0" });
  });

  test("the stack network's bridge interface: atra-<stack> when it fits Linux's 15 characters, else a stable hash per stack", () => {
    expect(resolve("prod").config.network.bridgeName).toBe("atra-prod");
    expect(resolve("staging").config.network.bridgeName).toBe("atra-staging");
    const long = resolve("customer-onboarding").config.network.bridgeName;
    expect(long).toMatch(/^atra-[0-9a-f]{10}$/);
    expect(resolve("customer-onboarding").config.network.bridgeName).toBe(long);
    expect(resolve("customer-offboarding").config.network.bridgeName).not.toBe(long);
  });

  test("bad bridge names and propagation modes are reported at their keys, with every other problem", () => {
    const issues = (values: Record<string, unknown>) => {
      try {
        resolve("dev", values);
      } catch (error) {
        return (error as { issues: { key: string; message: string }[] }).issues;
      }
      throw new Error("expected a ConfigError");
    };
    expect(issues({ network: { bridgeName: "atra-observability-dev" }, nodeExporter: { rootPropagation: "rprivate" }, bindAddress: "localhost" })).toEqual([
      { key: "atra-observability:bindAddress", message: "must be an IPv4 address such as 127.0.0.1 or 0.0.0.0" },
      { key: "atra-observability:network.bridgeName", message: "is 22 characters; a Linux interface name has at most 15" },
      { key: "atra-observability:nodeExporter.rootPropagation", message: "must be one of rslave, none" },
    ]);
    expect(issues({ network: { bridgeName: "docker0" } })[0].message).toContain("an interface Docker or the kernel names itself");
    expect(issues({ network: { bridgeName: "br lan" } })[0].message).toContain("must be letters, digits");
    expect(issues({ network: { bridgename: "x" } })[0]).toEqual({
      key: "atra-observability:network.bridgename",
      message: "unknown key (did you mean bridgeName?)",
    });
  });

  test.each(["unix:///var/run/docker.sock", "ssh://deploy@docker-1.example.com", "tcp://10.0.0.5:2376"])("dockerHost %s is accepted", (dockerHost) => {
    // tcp:// only with TLS material (test/unit/docker-host-config.test.ts).
    const tls = dockerHost.startsWith("tcp:") ? { dockerCertPath: "/home/ops/.docker/docker-1" } : {};
    expect(resolve("dev", { dockerHost, ...SSH_TUNNELS, ...tls }).config.dockerHost).toBe(dockerHost);
  });

  test("a digest-pinned image is accepted", () => {
    const digest = "prom/prometheus@sha256:" + "a".repeat(64);
    const { config } = resolve("dev", { images: { prometheus: digest, cadvisor: "registry.local:5000/cadvisor/cadvisor:v0.52.1" } });
    expect(config.images.prometheus).toBe(digest);
    expect(config.images.cadvisor).toBe("registry.local:5000/cadvisor/cadvisor:v0.52.1");
  });
});

describe("ConfigError", () => {
  test("lists several problems at once, each with its full key, sorted", () => {
    const error = configError({
      retention: "7d",
      bindAdress: "0.0.0.0",
      prometheus: { retentionTme: "30d", retentionSize: "10 gigs" },
      ports: { prometheus: 0, grafana: 70000 },
      images: { grafana: "grafana/grafana:latest", prometheus: "prom/prometheus" },
      services: [
        { name: "api", metrics: "not a url" },
        { name: "api", health: "ftp://api.example.com/health" },
        { name: "Web", metrics: "http://user:hunter2@web:8080/metrics" },
        { name: "grafana", metrics: "http://grafana:3000/metrics" },
        { name: "idle" },
      ],
      cadvisor: { enabled: "yes" },
    });
    expect(error.issues).toEqual([
      { key: "atra-observability:bindAdress", message: "unknown key (did you mean bindAddress?)" },
      { key: "atra-observability:cadvisor.enabled", message: "expected boolean" },
      { key: "atra-observability:images.grafana", message: "must be pinned to an exact version, not latest" },
      {
        key: "atra-observability:images.prometheus",
        message: "needs an exact tag (e.g. :v3.13.2); an untagged image means latest",
      },
      { key: "atra-observability:ports.grafana", message: "port must be 1-65535" },
      { key: "atra-observability:ports.prometheus", message: "port must be 1-65535" },
      { key: "atra-observability:prometheus.retentionSize", message: "must be a size such as 512MB, 10GB, 1TB" },
      { key: "atra-observability:prometheus.retentionTme", message: "unknown key (did you mean retentionTime?)" },
      { key: "atra-observability:retention", message: "unknown key" },
      { key: "atra-observability:services[0].metrics", message: "must be an absolute http:// or https:// URL" },
      { key: "atra-observability:services[1].health", message: "must use http or https, not ftp" },
      { key: "atra-observability:services[1].name", message: 'duplicate service name "api" (also services[0])' },
      {
        key: "atra-observability:services[2].metrics",
        message: "must not carry credentials (they would land in prometheus.yml in plain text)",
      },
      {
        key: "atra-observability:services[2].name",
        message: "must be lowercase letters, digits and dashes, start with a letter, at most 48 characters",
      },
      { key: "atra-observability:services[3].name", message: '"grafana" is used by the stack itself; pick another name' },
      {
        key: "atra-observability:services[4]",
        message: "has nothing to observe: give at least one of metrics, health, logs",
      },
    ]);
    expect(error.name).toBe("ConfigError");
    expect(error.stack).toBe("dev");
    expect(error.message.split("\n")[0]).toBe('Stack config "dev": 16 problems; nothing was created or changed:');
    expect(error.message).toContain("  - atra-observability:prometheus.retentionTme: unknown key (did you mean retentionTime?)");
    // The credentials in the bad URL are not repeated back.
    expect(error.message).not.toContain("hunter2");
  });

  test("one problem: singular, and still says nothing was created or changed", () => {
    const error = configError({ prometheus: { retentionTime: "two weeks" } }, [], "prod");
    expect(error.message).toBe(
      'Stack config "prod": 1 problem; nothing was created or changed:\n' +
        "  - atra-observability:prometheus.retentionTime: must be a Prometheus duration such as 15s, 1m, 12h, 15d",
    );
  });

  test("wrong types", () => {
    expect(issuesOf({ ports: { prometheus: "9090" }, services: "api", appNetworks: [1] })).toEqual([
      { key: "atra-observability:appNetworks[0]", message: "expected string" },
      { key: "atra-observability:ports.prometheus", message: "must be a whole number" },
      { key: "atra-observability:services", message: "expected array" },
    ]);
    expect(issuesOf({ memoryMb: { grafana: 12.5 } })).toEqual([{ key: "atra-observability:memoryMb.grafana", message: "must be a whole number of MB" }]);
    expect(issuesOf({ environment: "production" })).toEqual([{ key: "atra-observability:environment", message: "must be one of dev, staging, prod" }]);
  });

  test("unknown keys in a service and in grafana, with suggestions", () => {
    expect(issuesOf({ services: [{ name: "api", metric: "http://api:8080/metrics" }], grafana: { adminUsr: "root" } })).toEqual([
      { key: "atra-observability:grafana.adminUsr", message: "unknown key (did you mean adminUser?)" },
      // With its only target under a misspelt key, the service also has nothing to observe.
      { key: "atra-observability:services[0]", message: "has nothing to observe: give at least one of metrics, health, logs" },
      { key: "atra-observability:services[0].metric", message: "unknown key (did you mean metrics?)" },
    ]);
  });

  test("same port for prometheus and grafana, explicitly", () => {
    expect(issuesOf({ ports: { prometheus: 8080, grafana: 8080 } })).toEqual([
      { key: "atra-observability:ports", message: "prometheus and grafana both use port 8080" },
    ]);
  });

  test("same port for prometheus and grafana, one of them by default", () => {
    expect(issuesOf({ ports: { grafana: 9090 } })).toEqual([{ key: "atra-observability:ports", message: "prometheus and grafana both use port 9090" }]);
    expect(issuesOf({ ports: { prometheus: 3000 } })).toEqual([{ key: "atra-observability:ports", message: "prometheus and grafana both use port 3000" }]);
  });

  test("cross-field problems are listed together", () => {
    expect(issuesOf({ ports: { grafana: 9090 }, prometheus: { scrapeInterval: "10s", scrapeTimeout: "11s" } })).toEqual([
      { key: "atra-observability:ports", message: "prometheus and grafana both use port 9090" },
      {
        key: "atra-observability:prometheus.scrapeTimeout",
        message: "11s is longer than prometheus.scrapeInterval 10s; Prometheus refuses that",
      },
    ]);
  });

  test("cross-field problems are reported together with schema problems elsewhere", () => {
    expect(issuesOf({ ports: { grafana: 9090 }, prometheus: { scrapeTimeout: "20s" }, retention: "7d" })).toEqual([
      { key: "atra-observability:ports", message: "prometheus and grafana both use port 9090" },
      { key: "atra-observability:prometheus.scrapeTimeout", message: "20s is longer than prometheus.scrapeInterval 15s; Prometheus refuses that" },
      { key: "atra-observability:retention", message: "unknown key" },
    ]);
  });

  test.each(["docker.example.com:2376", "http://docker.example.com:2376", "unix://"])("dockerHost %s is refused", (dockerHost) => {
    expect(issuesOf({ dockerHost })).toEqual([
      {
        key: "atra-observability:dockerHost",
        message: "must be unix:///path/to/docker.sock, ssh://user@host or tcp://host:port",
      },
    ]);
  });

  test("duplicate appNetworks", () => {
    expect(issuesOf({ appNetworks: ["app", "backend", "app"] })).toEqual([{ key: "atra-observability:appNetworks[2]", message: 'duplicate network "app"' }]);
  });

  test("bad bind address, node-exporter listen address and admin user", () => {
    expect(issuesOf({ bindAddress: "localhost", nodeExporter: { listenAddress: "172.17.0.1" }, grafana: { adminUser: "root user" } })).toEqual([
      { key: "atra-observability:bindAddress", message: "must be an IPv4 address such as 127.0.0.1 or 0.0.0.0" },
      { key: "atra-observability:grafana.adminUser", message: "must be 1-64 letters, digits or ._@-" },
      { key: "atra-observability:nodeExporter.listenAddress", message: "must be ipv4:port, e.g. 172.17.0.1:9100" },
    ]);
  });
});

describe("the Grafana admin password", () => {
  test("given in plain text: an error that does not echo the value", () => {
    const error = configError({ grafanaAdminPassword: "plain-text-password-123" });
    expect(error.issues).toEqual([
      {
        key: "atra-observability:grafanaAdminPassword",
        message: "must be stored encrypted: pulumi config set --secret grafanaAdminPassword <value> (a plain-text value would sit in the stack file, in git)",
      },
    ]);
    expect(error.message).not.toContain("plain-text-password-123");
  });

  test("plain text is reported together with other problems", () => {
    const error = configError({ grafanaAdminPassword: "plain-text-password-123", ports: { grafana: 0 } });
    expect(error.issues.map((issue) => issue.key)).toEqual(["atra-observability:grafanaAdminPassword", "atra-observability:ports.grafana"]);
    expect(error.message).not.toContain("plain-text-password-123");
  });

  test("a secret shorter than 12 characters: an error that does not echo the value", () => {
    const error = configError({ grafanaAdminPassword: "Sh0rt-pw" }, ["grafanaAdminPassword"]);
    expect(error.issues).toEqual([{ key: "atra-observability:grafanaAdminPassword", message: "must be at least 12 characters" }]);
    expect(error.message).not.toContain("Sh0rt-pw");
    expect(JSON.stringify(error.issues)).not.toContain("Sh0rt-pw");
  });

  test("a valid secret is returned in secrets, not in config", () => {
    const { config, secrets } = resolve("prod", { grafanaAdminPassword: SECRET_PASSWORD }, ["grafanaAdminPassword"]);
    expect(secrets).toEqual({
      grafanaAdminPassword: SECRET_PASSWORD,
      alertingSecrets: {},
      elasticPassword: undefined,
      remoteWriteSecrets: {},
      prometheusQueryPassword: undefined,
    });
    expect(JSON.stringify(config)).not.toContain(SECRET_PASSWORD);
    expect(config).not.toHaveProperty("grafanaAdminPassword");
  });
});

describe("review findings: values that would misbehave at deploy time are refused", () => {
  test("zero durations (Prometheus would silently use its own defaults)", () => {
    expect(issuesOf({ prometheus: { scrapeInterval: "0s", retentionTime: "0d" } })).toEqual([
      { key: "atra-observability:prometheus.retentionTime", message: "must be longer than zero" },
      { key: "atra-observability:prometheus.scrapeInterval", message: "must be longer than zero" },
    ]);
  });

  test("secrets in a URL's query string (they would land in prometheus.yml)", () => {
    const [issue] = issuesOf({ services: [{ name: "a", metrics: "http://a:1/metrics?token=abc123&format=x" }] });
    expect(issue.key).toBe("atra-observability:services[0].metrics");
    expect(issue.message).toContain("query parameters (token)");
    expect(issue.message).not.toContain("abc123");
  });

  test.each([
    ["127.0.0.1:9100", "loopback"],
    ["999.1.1.1:9100", "must be ipv4:port"],
    ["172.17.0.1:0", "must be ipv4:port"],
    ["172.17.0.1:70000", "must be ipv4:port"],
  ])("node-exporter listen address %s is refused", (listenAddress, reason) => {
    const [issue] = issuesOf({ nodeExporter: { listenAddress } });
    expect(issue.key).toBe("atra-observability:nodeExporter.listenAddress");
    expect(issue.message).toContain(reason);
  });

  test("image tags may have capitals, and a digest pins even a latest tag", () => {
    const digest = `@sha256:${"a".repeat(64)}`;
    const { config } = resolve("dev", { images: { grafana: "grafana/grafana:12.2.0-RC1", prometheus: `prom/prometheus:latest${digest}` } });
    expect(config.images.grafana).toBe("grafana/grafana:12.2.0-RC1");
    expect(issuesOf({ images: { grafana: "Grafana/Grafana:1.0" } })).toEqual([
      { key: "atra-observability:images.grafana", message: "is not a valid image reference" },
    ]);
  });

  test("a non-secret setting stored encrypted is refused (it would be used in plain text)", () => {
    const [issue] = issuesOf({ services: [] }, ["services"]);
    expect(issue).toEqual({
      key: "atra-observability:services",
      message: expect.stringContaining("is stored encrypted but is not a secret setting"),
    });
  });
});

describe("alerting: contact points, routes and their secrets", () => {
  const SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXX";
  const TELEGRAM_TOKEN = "123456789:AAFakeTokenForTestsOnly_0123456789";

  test("contact points, routes and timings pass through; the first contact point is the default", () => {
    const { config, secrets } = resolve(
      "prod",
      {
        alerting: {
          contactPoints: [
            { name: "chat", type: "slack" },
            { name: "tg", type: "telegram", chatId: "@atra_alerts" },
          ],
          routes: [{ match: { severity: "critical" }, contactPoint: "tg" }],
          groupBy: ["alertname"],
          repeatInterval: "12h",
        },
        alertingSecrets: { chat: SLACK_URL, tg: TELEGRAM_TOKEN },
      },
      ["alertingSecrets"],
    );
    expect(config.alerting).toMatchObject({
      defaultContactPoint: "chat",
      routes: [{ match: { severity: "critical" }, contactPoint: "tg", continue: false }],
      groupBy: ["alertname"],
      repeatInterval: "12h",
      groupWait: "30s",
    });
    expect(secrets.alertingSecrets).toEqual({ chat: SLACK_URL, tg: TELEGRAM_TOKEN });
    // Secrets stay out of the config object that renderers and outputs see.
    expect(JSON.stringify(config)).not.toContain(SLACK_URL);
  });

  test("unknown contact points in default and routes, missing and stray secrets, all at once", () => {
    const issues = issuesOf(
      {
        alerting: {
          contactPoints: [
            { name: "pager", type: "webhook" },
            { name: "mail", type: "email", addresses: ["oncall@example.com"] },
          ],
          defaultContactPoint: "chat",
          routes: [{ match: { severity: "critical" }, contactPoint: "pagr" }],
        },
        alertingSecrets: { mail: "x", ghost: "https://example.com/hook" },
      },
      ["alertingSecrets"],
    );
    expect(issues).toEqual([
      { key: "atra-observability:alerting.contactPoints[0]", message: expect.stringContaining("pulumi config set --secret --path 'alertingSecrets.pager'") },
      { key: "atra-observability:alerting.defaultContactPoint", message: 'no contact point named "chat" (configured: pager, mail)' },
      { key: "atra-observability:alerting.routes[0].contactPoint", message: 'no contact point named "pagr" (configured: pager, mail)' },
      { key: "atra-observability:alertingSecrets.ghost", message: expect.stringContaining('no contact point named "ghost"') },
      { key: "atra-observability:alertingSecrets.mail", message: "email contact points take no secret; remove it" },
    ]);
  });

  test("secret values of the wrong shape are refused without echoing them", () => {
    const error = configError(
      {
        alerting: {
          contactPoints: [
            { name: "chat", type: "slack" },
            { name: "tg", type: "telegram", chatId: "42" },
            { name: "hook", type: "webhook" },
          ],
        },
        alertingSecrets: { chat: "http://hooks.slack.com/plain-http-token-abc", tg: "not-a-token-zzz", hook: "ftp://files/secret-path-qq" },
      },
      ["alertingSecrets"],
    );
    expect(error.issues.map((issue) => issue.key)).toEqual([
      "atra-observability:alertingSecrets.chat",
      "atra-observability:alertingSecrets.hook",
      "atra-observability:alertingSecrets.tg",
    ]);
    for (const value of ["plain-http-token-abc", "not-a-token-zzz", "secret-path-qq"]) expect(error.message).not.toContain(value);
  });

  test("alertingSecrets in plain text is refused", () => {
    const error = configError({ alerting: { contactPoints: [{ name: "chat", type: "slack" }] }, alertingSecrets: { chat: SLACK_URL } });
    // Each value of the map, with the --path command that stores it encrypted (issue 17).
    expect(error.issues).toEqual([
      {
        key: "atra-observability:alertingSecrets.chat",
        message: expect.stringContaining("must be stored encrypted: pulumi config set --secret --path 'alertingSecrets.chat'"),
      },
    ]);
    expect(error.message).not.toContain(SLACK_URL);
  });

  test("an offline plan's placeholder for an encrypted value is not shape-checked", () => {
    const { secrets } = resolve("prod", { alerting: { contactPoints: [{ name: "chat", type: "slack" }] }, alertingSecrets: { chat: UNDECRYPTED_SECRET } }, [
      "alertingSecrets",
    ]);
    expect(secrets.alertingSecrets.chat).toBe(UNDECRYPTED_SECRET);
  });

  test("schema problems: bad type, duplicate names, bad email and chat id, empty match, interval off the 10s tick", () => {
    const issues = issuesOf({
      alerting: {
        evaluationInterval: "45s",
        contactPoints: [
          { name: "a", type: "pagerduty" },
          { name: "b", type: "email", addresses: ["not-an-address"] },
          { name: "b", type: "telegram", chatId: "team chat" },
        ],
        routes: [{ match: {}, contactPoint: "b" }],
        groupBy: ["bad-label"],
      },
    });
    const keys = issues.map((issue) => issue.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "atra-observability:alerting.contactPoints[0].type",
        "atra-observability:alerting.contactPoints[1].addresses[0]",
        "atra-observability:alerting.contactPoints[2].name",
        "atra-observability:alerting.contactPoints[2].chatId",
        "atra-observability:alerting.routes[0].match",
        "atra-observability:alerting.groupBy[0]",
      ]),
    );
    expect(issuesOf({ alerting: { evaluationInterval: "45s" } })).toEqual([
      { key: "atra-observability:alerting.evaluationInterval", message: "45s is not a multiple of 10s; Grafana evaluates rules on a 10s tick" },
    ]);
  });
});

describe("the logs stage", () => {
  test("data stream, ILM, heap, error-rate alert and provider URLs can be set; the stage can be switched off", () => {
    const { config, secrets } = resolve(
      "prod",
      {
        logs: {
          dataStream: "logs-atra-production",
          retention: "45d",
          rolloverMaxAge: "12h",
          rolloverMaxPrimaryShardSize: "5gb",
          elasticsearchHeapMb: 3072,
          errorRateThreshold: 3,
          errorRateWindow: "10m",
          elasticsearchProviderUrl: "http://127.0.0.1:19200/",
          kibanaProviderUrl: "http://127.0.0.1:15601",
        },
        elasticPassword: SECRET_PASSWORD,
      },
      ["elasticPassword"],
    );
    expect(config.logs).toMatchObject({
      dataStream: "logs-atra-production",
      retention: "45d",
      rolloverMaxAge: "12h",
      rolloverMaxPrimaryShardSize: "5gb",
      elasticsearchHeapMb: 3072,
      errorRateThreshold: 3,
      errorRateWindow: "10m",
      elasticsearchProviderUrl: "http://127.0.0.1:19200",
      kibanaProviderUrl: "http://127.0.0.1:15601",
    });
    expect(secrets.elasticPassword).toBe(SECRET_PASSWORD);
    expect(JSON.stringify(config)).not.toContain(SECRET_PASSWORD);
    expect(resolve("dev", { logs: { enabled: false } }).config.logs.enabled).toBe(false);
  });

  test("bad globs, a silence alert without logs, a bad data stream, ES durations and a heap too big for its container, all at once", () => {
    const issues = issuesOf({
      services: [
        { name: "api", logs: ["relative/*.log", "/srv/logs/api*.log"], maxLogSilence: "30m" },
        { name: "worker", health: "http://worker:8000/health", maxLogSilence: "1h" },
        { name: "copy", logs: ["/srv/logs/api*.log"] },
      ],
      logs: { dataStream: "Logs-Upper", retention: "2w", rolloverMaxPrimaryShardSize: "10 gigs", elasticsearchHeapMb: 2000 },
    });
    expect(issues.map((issue) => issue.key)).toEqual([
      "atra-observability:logs.dataStream",
      "atra-observability:logs.elasticsearchHeapMb",
      "atra-observability:logs.retention",
      "atra-observability:logs.rolloverMaxPrimaryShardSize",
      "atra-observability:services[0].logs[0]",
      "atra-observability:services[1].maxLogSilence",
      "atra-observability:services[2].logs[0]",
    ]);
    expect(issues.find((issue) => issue.key.endsWith("services[2].logs[0]"))?.message).toContain('service "api"');
    expect(issues.find((issue) => issue.key.endsWith("elasticsearchHeapMb"))?.message).toContain("1536 MB container");
  });

  test("an ssh:// Docker host needs the provider URLs (tunnels); without the logs stage only Grafana's", () => {
    expect(issuesOf({ dockerHost: "ssh://deploy@host" }).map((issue) => issue.key)).toEqual([
      "atra-observability:grafana.providerUrl",
      "atra-observability:logs.elasticsearchProviderUrl",
      "atra-observability:logs.kibanaProviderUrl",
    ]);
    expect(issuesOf({ dockerHost: "ssh://deploy@host", logs: { enabled: false } }).map((issue) => issue.key)).toEqual([
      "atra-observability:grafana.providerUrl",
    ]);
    expect(
      resolve("dev", { dockerHost: "ssh://deploy@host", grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } }).config.logs.enabled,
    ).toBe(false);
  });

  test("a container too small for the default heap is refused under memoryMb.elasticsearch", () => {
    expect(issuesOf({ memoryMb: { elasticsearch: 300 } })).toEqual([
      {
        key: "atra-observability:memoryMb.elasticsearch",
        message: "300 MB is too little for Elasticsearch: its smallest heap (256 MB) needs a container of at least 342 MB",
      },
    ]);
    expect(resolve("dev", { memoryMb: { elasticsearch: 300 }, logs: { enabled: false } }).config.memoryMb.elasticsearch).toBe(300);
  });

  test("elasticPassword must be secret and is never echoed", () => {
    const error = configError({ elasticPassword: "plain-elastic-pw-123" });
    expect(error.issues).toEqual([{ key: "atra-observability:elasticPassword", message: expect.stringContaining("must be stored encrypted") }]);
    expect(error.message).not.toContain("plain-elastic-pw-123");
  });

  test("every published port must differ", () => {
    expect(issuesOf({ ports: { kibana: 3000 } })).toEqual([{ key: "atra-observability:ports", message: "grafana and kibana both use port 3000" }]);
  });
});

describe("durationMs", () => {
  test.each([
    ["1h30m", 5_400_000],
    ["15s", 15_000],
    ["500ms", 500],
    ["1m30s", 90_000],
    ["2w", 1_209_600_000],
    ["1d12h", 129_600_000],
    ["1y", 31_536_000_000],
    ["1h1m1s1ms", 3_661_001],
  ])("%s is %d ms", (value, ms) => {
    expect(durationMs(value)).toBe(ms);
  });
});

describe("parseStoredValue", () => {
  test.each([
    ["grafanaAdminPassword", "{abc"],
    ["grafanaAdminPassword", "123"],
    ["grafanaAdminPassword", "true"],
    ["grafanaAdminPassword", '"quoted"'],
    ["bindAddress", "127.0.0.1"],
    ["environment", "prod"],
    ["dockerHost", "ssh://deploy@host"],
    ["publicHostname", "12345"],
  ])("string key %s keeps %s as it is", (key, stored) => {
    expect(parseStoredValue(key, stored)).toBe(stored);
  });

  test("structured keys are parsed from JSON", () => {
    expect(parseStoredValue("services", '[{"name":"api","metrics":"http://api:8080/metrics"}]')).toEqual([{ name: "api", metrics: "http://api:8080/metrics" }]);
    expect(parseStoredValue("ports", '{"grafana":3001}')).toEqual({ grafana: 3001 });
    expect(parseStoredValue("cadvisor", '{"enabled":false}')).toEqual({ enabled: false });
    expect(parseStoredValue("appNetworks", '["app","backend"]')).toEqual(["app", "backend"]);
  });

  test("a structured key that is not JSON stays a string (the schema then reports it)", () => {
    expect(parseStoredValue("images", "grafana/grafana:12.1.1")).toBe("grafana/grafana:12.1.1");
    expect(issuesOf({ images: parseStoredValue("images", "grafana/grafana:12.1.1") })).toEqual([
      { key: "atra-observability:images", message: "expected object" },
    ]);
  });
});
