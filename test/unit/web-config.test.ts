/**
 * Prometheus's logins (components/metrics/web-config.ts) in every mix (issue 21, Majors 4 and 5): a
 * Prometheus reachable beyond loopback, central or agent, always requires a login over https; people,
 * Grafana and the healthcheck each have their own; nothing of a secret is in what is rendered.
 */
import { BLACKBOX_LOGIN_USER } from "../../components/metrics/blackbox-login";
import * as yaml from "js-yaml";
import { ConfigError, resolveStackConfig, type StackConfig } from "../../components/config/resolve";

import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { prometheusCommand, renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { HEALTHCHECK_PASSWORD_PATH, PROMETHEUS_LOGINS, PROMETHEUS_WEB_CONFIG_PATH, renderWebConfig, requiredLogins } from "../../components/metrics/web-config";
import { AGENT_FEDERATION_ENTRY } from "../support/external-stacks";

const HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

function configOf(values: Record<string, unknown>, secretKeys: string[] = []): StackConfig {
  return resolveStackConfig({ stack: "dev", values, secretKeys }).config;
}
function jobs(config: StackConfig): ScrapeConfig[] {
  return (yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config))) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
}
/** Whether Prometheus serves TLS and requires the web config: the command names it (MetricsStack passes serverTls with tls on, or a federated agent). */
function serverTls(config: StackConfig): boolean {
  return (config.role === "central" && config.tls.mode !== "off") || config.prometheus.federated;
}

describe("the web config", () => {
  test("maps each user to its hash, and the hash survives the YAML round trip", () => {
    const text = renderWebConfig({ [PROMETHEUS_LOGINS.people]: HASH, [PROMETHEUS_LOGINS.grafana]: HASH });
    expect(yaml.load(text)).toEqual({ basic_auth_users: { "atra-viewer": HASH, "atra-grafana": HASH } });
    expect(text.startsWith("# Rendered by atra-observability")).toBe(true);
  });

  test("people, Grafana, the healthcheck and the central stack are four different users", () => {
    expect(new Set(Object.values(PROMETHEUS_LOGINS)).size).toBe(4);
  });
});

describe("every mix: a Prometheus reachable beyond loopback requires a login over https", () => {
  const mixes: [string, Record<string, unknown>, string[]][] = [
    ["central, bindAddress 0.0.0.0", { bindAddress: "0.0.0.0", publicHostname: "obs.example.com" }, []],
    ["central, a LAN address", { bindAddress: "10.0.0.5" }, []],
    [
      "central read by an external Grafana",
      {
        bindAddress: "0.0.0.0",
        publicHostname: "obs.example.com",
        grafana: { external: { url: "https://grafana.example.net" } },
        grafanaApiToken: "t",
        logs: { enabled: false },
      },
      ["grafanaApiToken"],
    ],
    ["central listing agents", { bindAddress: "0.0.0.0", publicHostname: "obs.example.com", agents: [{ host: "app-2.example.com" }] }, []],
    [
      "agent pulled by the central stack",
      { role: "agent", bindAddress: "0.0.0.0", publicHostname: "app-2.example.com", federation: AGENT_FEDERATION_ENTRY },
      ["federation"],
    ],
  ];
  test.each(mixes)("%s", (_name, values, secretKeys) => {
    const config = configOf(values, secretKeys);
    const logins = requiredLogins(config);
    expect(logins.length).toBeGreaterThan(0);
    expect(serverTls(config)).toBe(true);
    expect(config.prometheusPublicUrl.startsWith("https://")).toBe(true);
    expect(prometheusCommand(config, serverTls(config))).toContain(`--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`);
    // Its own scrape logs in as the healthcheck, from its password file.
    expect(jobs(config).find((job) => job.job_name === "prometheus")).toMatchObject({
      basic_auth: { username: PROMETHEUS_LOGINS.healthcheck, password_file: HEALTHCHECK_PASSWORD_PATH },
    });
  });

  test("a central stack beyond loopback: Grafana's, the healthcheck's and people's logins, never the central's-at-an-agent", () => {
    expect(requiredLogins(configOf({ bindAddress: "0.0.0.0" }))).toEqual(["grafana", "healthcheck", "people"]);
  });

  test("a central stack on loopback listing agents: the same logins (it holds every host's metrics, on the network appNetworks joins)", () => {
    const config = configOf({ agents: [{ host: "app-2.example.com" }], appNetworks: ["atra_default"] });
    expect(config.bindAddress).toMatch(/^127\./);
    expect(requiredLogins(config)).toEqual(["grafana", "healthcheck", "people"]);
    expect(prometheusCommand(config, serverTls(config)).some((flag) => flag.startsWith("--web.config.file"))).toBe(true);
  });

  test("a federated agent: the central stack's login and its own healthcheck's, nothing for people or Grafana", () => {
    const config = configOf({ role: "agent", bindAddress: "0.0.0.0", publicHostname: "app-2.example.com", federation: AGENT_FEDERATION_ENTRY }, ["federation"]);
    expect(requiredLogins(config)).toEqual(["central", "healthcheck"]);
    expect(config.prometheus.mode).toBe("server");
    expect([config.prometheus.retentionTime, config.prometheus.retentionSize]).toEqual(["2h", "1GB"]);
  });

  test("an agent bound beyond loopback without its federation entry is refused, naming the key", () => {
    expect(() => configOf({ role: "agent", bindAddress: "0.0.0.0", publicHostname: "app-2.example.com" })).toThrow(ConfigError);
    expect(() => configOf({ role: "agent", bindAddress: "0.0.0.0", publicHostname: "app-2.example.com" })).toThrow(
      /federation: is required with bindAddress 0\.0\.0\.0/,
    );
  });

  test("on loopback nothing of a login is rendered (central, and an agent that only remote-writes)", () => {
    for (const config of [
      configOf({}),
      configOf({ role: "agent", publicHostname: "app-2.example.com", prometheus: { remoteWrite: [{ name: "cloud", url: "https://cloud.example/push" }] } }, []),
    ]) {
      expect(requiredLogins(config)).toEqual([]);
      // (The stack's own Grafana's /metrics and the blackbox exporter have logins of their own whatever the bind.)
      expect(jobs(config).some((job) => job.basic_auth && job.job_name !== "grafana" && job.basic_auth.username !== BLACKBOX_LOGIN_USER)).toBe(false);
      expect(prometheusCommand(config, serverTls(config)).some((flag) => flag.startsWith("--web.config.file"))).toBe(false);
    }
  });
});
