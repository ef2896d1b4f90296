/**
 * What the central stack renders to pull agent hosts (components/metrics/prometheus-config.ts
 * agentFederationJob) and the config rules around it (components/metrics/remote-config.ts). The
 * behaviour of these settings in a real Prometheus 2.42 is test/real-tools/agent-federation.test.ts.
 */
import * as yaml from "js-yaml";
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { agentPasswordPath, agentServicesRegex, renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { agentCertificateNames, issuingCa } from "../../components/metrics/agent-federation";
import { AGENT_LIMIT_DEFAULTS, parseFederation } from "../../components/metrics/remote-config";
import { DEFAULT_SCRAPE_LIMITS } from "../../components/metrics/scrape-limits";
import { FEDERATION_CA_PATH } from "../../components/metrics/web-config";
import { AGENT_FEDERATION_ENTRY, TEST_CA_PEM } from "../support/external-stacks";

function problems(values: Record<string, unknown>, secretKeys: string[] = []): string[] {
  try {
    resolveStackConfig({ stack: "prod", values, secretKeys });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split("\n");
  }
}

describe("the central stack's job per agent host", () => {
  const { config } = resolveStackConfig({
    stack: "prod",
    values: {
      bindAddress: "0.0.0.0",
      publicHostname: "obs.example.com",
      agents: [
        { host: "app-2.example.com", services: ["worker", "veronica-agent"] },
        { host: "app-3.example.com", prometheusUrl: "https://10.0.0.3:19090" },
      ],
    },
    secretKeys: [],
  });
  const jobs = (yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config))) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
  const agentJobs = jobs.filter((job) => job.job_name.startsWith("agent-"));

  test("one job each, over https to its prometheusUrl with its own password file, checking its host's certificate", () => {
    expect(agentJobs.map((job) => [job.job_name, job.static_configs[0].targets[0]])).toEqual([
      ["agent-app-2.example.com", "app-2.example.com:9090"],
      ["agent-app-3.example.com", "10.0.0.3:19090"],
    ]);
    expect(agentJobs[1]).toMatchObject({
      scheme: "https",
      metrics_path: "/federate",
      params: { "match[]": ['{__name__=~".+"}'] },
      basic_auth: { username: "atra-central", password_file: agentPasswordPath("app-3.example.com") },
      tls_config: { ca_file: FEDERATION_CA_PATH, server_name: "app-3.example.com" },
    });
    expect(new Set(agentJobs.map((job) => job.basic_auth?.password_file)).size).toBe(2);
  });

  test("the agent's job and instance stay, its timestamps do not, and the host is the central's to set after central-only jobs and recording-rule names are dropped", () => {
    for (const job of agentJobs) {
      const host = job.job_name.slice("agent-".length);
      expect(job).toMatchObject({ honor_labels: true, honor_timestamps: false });
      expect(job.metric_relabel_configs).toEqual([
        { source_labels: ["job"], regex: "(grafana|blackbox-tls|agent-.*)", action: "drop" },
        { source_labels: ["__name__"], regex: ".*:.*|ALERTS|ALERTS_FOR_STATE", action: "drop" },
        { source_labels: ["service"], regex: host === "app-2.example.com" ? "(|worker|veronica-agent)" : "()", action: "keep" },
        { target_label: "host", replacement: host },
      ]);
    }
  });

  test("an agent's series keep only its own services (agents[].services) or none, names taken literally", () => {
    // Prometheus anchors relabel regexes (model/relabel/relabel.go NewRegexp: `^(?:` + expr + `)$`); RE2 here is close enough for these literals.
    const keeps = (job: ScrapeConfig, service: string) =>
      new RegExp(`^(?:${job.metric_relabel_configs?.find((rule) => rule.action === "keep")?.regex})$`).test(service);
    expect(["", "worker", "veronica-agent"].map((service) => keeps(agentJobs[0], service))).toEqual([true, true, true]);
    expect(["api", "worker2", "xworker", "worker|api"].map((service) => keeps(agentJobs[0], service))).toEqual([false, false, false, false]);
    expect(["", "worker"].map((service) => keeps(agentJobs[1], service))).toEqual([true, false]);
    expect(agentServicesRegex(["a.b"])).toBe("(|a\\.b)");
  });

  test("redirects are not followed: the login is not re-sent to wherever an agent points", () => {
    for (const job of agentJobs) expect(job.follow_redirects).toBe(false);
  });

  test("default limits on every agent job, and prometheus.agentLimits changes them", () => {
    expect(agentJobs[0]).toMatchObject({
      sample_limit: 20000,
      label_limit: 25,
      label_name_length_limit: 128,
      label_value_length_limit: 128,
      body_size_limit: "16MB",
    });
    const limited = resolveStackConfig({
      stack: "prod",
      values: { agents: [{ host: "app-2.example.com" }], prometheus: { agentLimits: { sampleLimit: 1000, bodySizeLimit: "8MB" } } },
      secretKeys: [],
    }).config;
    const job = (yaml.load(renderPrometheusConfig(limited, dockerScrapeAddresses(limited))) as { scrape_configs: ScrapeConfig[] }).scrape_configs.find(
      (entry) => entry.job_name === "agent-app-2.example.com",
    );
    expect(job).toMatchObject({ sample_limit: 1000, label_limit: 25, body_size_limit: "8MB" });
  });

  test("no agents, no agent job", () => {
    const { config: lone } = resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] });
    expect(renderPrometheusConfig(lone, dockerScrapeAddresses(lone))).not.toContain("/federate");
  });
});

describe("config rules", () => {
  test("the receiver keys are refused with what replaced them, on a central stack and an agent", () => {
    const central = problems({ prometheus: { remoteWriteReceiver: true, receiverPublicUrl: "https://x.example/api/v1/write" } });
    expect(central.filter((line) => /prometheus\.(remoteWriteReceiver|receiverPublicUrl)/.test(line))).toHaveLength(2);
    expect(central.join("\n")).toMatch(/remoteWriteReceiver: was removed with the remote-write receiver.*agents\[\].*agentFederation/);
    expect(
      problems({ role: "agent", prometheus: { remoteWriteReceiver: false, remoteWrite: [{ name: "c", url: "https://c.example/w" }] } }).join("\n"),
    ).toMatch(/remoteWriteReceiver: was removed/);
  });

  test("an agent host named as the central's own host label is refused", () => {
    expect(problems({ agents: [{ host: "obs-1.example.com" }], prometheus: { hostLabel: "obs-1.example.com" } }).join("\n")).toMatch(
      /agents\[0\]\.host: is this central stack's own host label/,
    );
  });

  test("an agent host that is a loopback name or a name of the central's own certificate is refused, each at its key", () => {
    const hosts = [
      "localhost",
      "127.0.0.1",
      "app.localhost",
      "10.0.0.5",
      "obs-alias.example.com",
      "atra-obs-prod-grafana",
      "atra-obs-prod-prometheus",
      "app-2.example.com",
    ];
    const found = problems({
      bindAddress: "10.0.0.5",
      publicHostname: "obs.example.com",
      tls: { extraNames: ["obs-alias.example.com"] },
      agents: hosts.map((host) => ({ host })),
    });
    const refused = found.filter((line) => /loopback name or a name of this central stack's own certificate/.test(line));
    expect(refused.map((line) => /agents\[(\d+)\]\.host/.exec(line)?.[1])).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
  });

  test("the agents' certificates name their host alone: no loopback name", () => {
    expect(agentCertificateNames("app-2.example.com")).toEqual({ dnsNames: ["app-2.example.com"], ipAddresses: [] });
    expect(agentCertificateNames("10.0.0.3")).toEqual({ dnsNames: [], ipAddresses: ["10.0.0.3"] });
  });

  test("a service named agent-* is refused: the prefix is the agent pulls' (a job name clash, and dropped from agents as central-only)", () => {
    const found = problems({
      services: [
        { name: "agent-app3", metrics: "http://agent_app3:8000/metrics" },
        { name: "agentx", metrics: "http://agentx:8000/metrics" },
      ],
    });
    expect(found.filter((line) => line.includes("agent-"))).toEqual([expect.stringMatching(/services\[0\]\.name.*"agent-app3" starts with "agent-"/)]);
    expect(found.filter((line) => line.includes("services[1]"))).toEqual([]);
  });

  test("agentLimits belongs on a central stack listing agents", () => {
    expect(problems({ prometheus: { agentLimits: { sampleLimit: 10 } } }).join("\n")).toMatch(
      /agentLimits: limits the agent hosts' federation jobs, and agents\[\] lists none/,
    );
    expect(problems({ agents: [{ host: "a.example.com" }], prometheus: { agentLimits: { sampleLimit: 0, bodySizeLimit: "lots" } } }).join("\n")).toMatch(
      /bodySizeLimit: must be a size[\s\S]*sampleLimit: must be at least 1/,
    );
  });

  test("federation: refused on a central stack; on an agent, a malformed entry is named without its content", () => {
    expect(problems({ federation: AGENT_FEDERATION_ENTRY }, ["federation"]).join("\n")).toMatch(/federation: is an agent host's/);
    const broken = JSON.stringify({ ...JSON.parse(AGENT_FEDERATION_ENTRY), passwordHash: "secret-in-clear" });
    const message = problems({ role: "agent", publicHostname: "app-2.example.com", federation: broken }, ["federation"]).join("\n");
    expect(message).toMatch(/federation: has a passwordHash that is not a bcrypt hash/);
    expect(message).not.toContain("secret-in-clear");
    expect(parseFederation("not json").problem).toMatch(/not JSON/);
    expect(parseFederation("{}").problem).toMatch(/lacks password, passwordHash, certificate, key/);
  });

  test("the agent's healthcheck trusts the last certificate of its chain (the issuer)", () => {
    expect(issuingCa(JSON.parse(AGENT_FEDERATION_ENTRY).certificate)).toBe(TEST_CA_PEM.trimEnd().replace(/\n?$/, "\n"));
  });
});

describe("a federated agent's own scrape limits", () => {
  const agent = (scrapeLimits?: Record<string, number>) =>
    resolveStackConfig({
      stack: "app-2",
      values: {
        role: "agent",
        bindAddress: "0.0.0.0",
        publicHostname: "app-2.example.internal",
        federation: AGENT_FEDERATION_ENTRY,
        ...(scrapeLimits ? { prometheus: { scrapeLimits } } : {}),
      },
      secretKeys: ["federation"],
    }).config;

  test("default to the labels the central's agent job takes, so an oversize series fails one service's target here, not the central's whole pull", () => {
    expect(agent().prometheus.scrapeLimits).toEqual({
      ...DEFAULT_SCRAPE_LIMITS,
      labelLimit: AGENT_LIMIT_DEFAULTS.labelLimit,
      labelValueLengthLimit: AGENT_LIMIT_DEFAULTS.labelValueLengthLimit,
    });
    // What the user sets still wins; a central stack keeps the general defaults.
    expect(agent({ labelValueLengthLimit: 64 }).prometheus.scrapeLimits.labelValueLengthLimit).toBe(64);
    expect(resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] }).config.prometheus.scrapeLimits).toEqual(DEFAULT_SCRAPE_LIMITS);
  });
});
