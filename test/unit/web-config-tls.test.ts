/**
 * Prometheus with tls on, as rendered (components/metrics/web-config.ts, prometheus-config.ts): who must
 * log in (a bind beyond loopback, a federated agent), the web config with `tls_server_config`, the TLS
 * healthcheck and its client config, the scrapes of Prometheus and Grafana over https trusting the CA,
 * the blackbox exporter's TLS module and the job that probes the stack's TLS endpoints. Real tools run
 * these files in test/real-tools/prometheus-tls.test.ts.
 */
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import {
  OwnTls,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
  ScrapeConfig,
  TLS_PROBE_JOB,
  TLS_PROBE_MODULE,
} from "../../components/metrics/prometheus-config";
import {
  HEALTHCHECK_HTTP_CONFIG_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_TLS_CERT_PATH,
  PROMETHEUS_TLS_KEY_PATH,
  PROMETHEUS_WEB_CONFIG_PATH,
  promtoolHealthcheck,
  HEALTHCHECK_PASSWORD_PATH,
  renderHealthcheckHttpConfig,
  renderWebConfig,
  requiredLogins,
} from "../../components/metrics/web-config";

const HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
const OWN_TLS: OwnTls = { caFile: "/etc/prometheus/tls/ca.pem", serverName: "obs.example.internal", probeTargets: ["atra-obs-dev-prometheus:9090"] };

const resolve = (values: Record<string, unknown>) => resolveStackConfig({ stack: "dev", values, secretKeys: [] }).config;
function jobs(values: Record<string, unknown>, ownTls?: OwnTls): ScrapeConfig[] {
  const config = resolve(values);
  return (yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config), [], ownTls)) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
}

describe("who logs in", () => {
  test("beyond loopback: Grafana's, the healthcheck's and people's logins; loopback: none; an agent host: the central's and the healthcheck's once federated", () => {
    expect(requiredLogins(resolve({ bindAddress: "0.0.0.0" }))).toEqual(["grafana", "healthcheck", "people"]);
    expect(requiredLogins(resolve({ bindAddress: "10.1.2.3" }))).toEqual(["grafana", "healthcheck", "people"]);
    expect(requiredLogins(resolve({}))).toEqual([]);
    expect(requiredLogins(resolve({ bindAddress: "127.0.0.2" }))).toEqual([]);
    expect(requiredLogins({ role: "agent", bindAddress: "127.0.0.1", prometheus: { federated: false } })).toEqual([]);
    expect(requiredLogins({ role: "agent", bindAddress: "0.0.0.0", prometheus: { federated: true } })).toEqual(["central", "healthcheck"]);
  });

  test("published beyond loopback, the self-scrape logs in as the healthcheck and the command takes the web config", () => {
    const published = jobs({ bindAddress: "0.0.0.0" });
    expect(published.find((job) => job.job_name === "prometheus")?.basic_auth).toEqual({
      username: PROMETHEUS_LOGINS.healthcheck,
      password_file: HEALTHCHECK_PASSWORD_PATH,
    });
    // Beyond loopback tls is on (components/tls/config.ts), and the web config with it.
    const config = resolve({ bindAddress: "0.0.0.0" });
    expect(config.tls.mode).toBe("generated");
    expect(prometheusCommand(config, true)).toEqual(
      expect.arrayContaining([`--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`, "--web.external-url=https://localhost:9090"]),
    );
    expect(prometheusCommand(config, true)).not.toContain("--web.enable-remote-write-receiver");
  });
});

describe("the web config and the healthcheck with tls on", () => {
  test("TLS alone (loopback): only tls_server_config, no users, so no login", () => {
    const document = yaml.load(renderWebConfig(undefined, { certFile: PROMETHEUS_TLS_CERT_PATH, keyFile: PROMETHEUS_TLS_KEY_PATH }));
    expect(document).toEqual({ tls_server_config: { cert_file: PROMETHEUS_TLS_CERT_PATH, key_file: PROMETHEUS_TLS_KEY_PATH } });
  });

  test("TLS and the logins: both, the hashes as given", () => {
    const document = yaml.load(
      renderWebConfig({ [PROMETHEUS_LOGINS.grafana]: HASH }, { certFile: PROMETHEUS_TLS_CERT_PATH, keyFile: PROMETHEUS_TLS_KEY_PATH }),
    );
    expect(document).toEqual({
      tls_server_config: { cert_file: PROMETHEUS_TLS_CERT_PATH, key_file: PROMETHEUS_TLS_KEY_PATH },
      basic_auth_users: { "atra-grafana": HASH },
    });
  });

  test("the healthcheck is promtool over https, naming only its client config; the client config names only files and the server name", () => {
    expect(promtoolHealthcheck("https://127.0.0.1:9090")).toEqual([
      "CMD",
      "promtool",
      "check",
      "ready",
      "--url=https://127.0.0.1:9090",
      `--http.config.file=${HEALTHCHECK_HTTP_CONFIG_PATH}`,
    ]);
    expect(() => promtoolHealthcheck("http://127.0.0.1:9090")).toThrow("must be https://");
    // promtool appends /-/ready itself (cmd/promtool/main.go CheckServerStatus, JoinPath): a path would ask for /-/ready/-/ready.
    expect(() => promtoolHealthcheck("https://127.0.0.1:9090/-/ready")).toThrow("must be the server's base URL");
    expect(yaml.load(renderHealthcheckHttpConfig({ login: true, caFile: "/etc/prometheus/tls/ca.pem", serverName: "obs.example.internal" }))).toEqual({
      basic_auth: { username: "atra-healthcheck", password_file: HEALTHCHECK_PASSWORD_PATH },
      tls_config: { ca_file: "/etc/prometheus/tls/ca.pem", server_name: "obs.example.internal" },
    });
    // A provided certificate from a public CA: the system roots, the name still checked.
    expect(yaml.load(renderHealthcheckHttpConfig({ login: false, serverName: "obs.example.com" }))).toEqual({ tls_config: { server_name: "obs.example.com" } });
  });
});

describe("prometheus.yml with tls on", () => {
  test("Prometheus and Grafana are scraped over https, trusting the CA and checking publicHostname; nothing else changes", () => {
    const plain = jobs({ bindAddress: "0.0.0.0" });
    const tls = jobs({ bindAddress: "0.0.0.0" }, OWN_TLS);
    const tlsConfig = { ca_file: OWN_TLS.caFile, server_name: OWN_TLS.serverName };
    expect(tls.find((job) => job.job_name === "prometheus")).toEqual({
      ...plain.find((job) => job.job_name === "prometheus"),
      scheme: "https",
      tls_config: tlsConfig,
    });
    expect(tls.find((job) => job.job_name === "grafana")).toEqual({
      ...plain.find((job) => job.job_name === "grafana"),
      scheme: "https",
      tls_config: tlsConfig,
    });
    const untouched = (list: ScrapeConfig[]) => list.filter((job) => !["prometheus", "grafana", TLS_PROBE_JOB].includes(job.job_name));
    expect(untouched(tls)).toEqual(untouched(plain));
    expect(untouched(tls).some((job) => job.tls_config)).toBe(false);
  });

  test("a provided certificate from a public CA: no ca_file (the system roots), the name still checked", () => {
    const job = jobs({}, { serverName: "obs.example.com", probeTargets: [] }).find((candidate) => candidate.job_name === "prometheus");
    expect(job).toMatchObject({ scheme: "https", tls_config: { server_name: "obs.example.com" } });
    expect(job?.tls_config?.ca_file).toBeUndefined();
  });

  test("the TLS endpoints are probed through the blackbox exporter's TLS module, each its own instance, labelled with the host", () => {
    const config = resolve({ publicHostname: "obs.example.internal" });
    const targets = ["atra-obs-dev-prometheus:9090", "atra-obs-dev-grafana:3000", "atra-obs-dev-elasticsearch:9200", "atra-obs-dev-kibana:5601"];
    const rendered = yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config), [], { ...OWN_TLS, probeTargets: targets })) as {
      scrape_configs: ScrapeConfig[];
    };
    expect(rendered.scrape_configs.find((job) => job.job_name === TLS_PROBE_JOB)).toEqual({
      job_name: "blackbox-tls",
      // The blackbox exporter's login (components/metrics/blackbox-login.ts).
      basic_auth: { username: "atra-prometheus", password_file: "/etc/prometheus/secrets/blackbox-password" },
      metrics_path: "/probe",
      params: { module: [TLS_PROBE_MODULE] },
      static_configs: [{ targets, labels: { host: "obs.example.internal" } }],
      relabel_configs: [
        { source_labels: ["__address__"], target_label: "__param_target" },
        { source_labels: ["__param_target"], target_label: "instance" },
        { target_label: "__address__", replacement: "atra-obs-dev-blackbox-exporter:9115" },
      ],
    });
    // Off: no probe job, and the rendering is what it always was.
    expect(renderPrometheusConfig(config, dockerScrapeAddresses(config))).not.toContain(TLS_PROBE_JOB);
  });

  test("a catalog service may not be named after the TLS probe job", () => {
    expect(() => resolve({ services: [{ name: TLS_PROBE_JOB, health: "http://x:1/health" }] })).toThrow(`"${TLS_PROBE_JOB}" is used by the stack itself`);
  });
});

describe("the blackbox exporter's TLS module", () => {
  test("a TCP connection with a TLS handshake that trusts the CA and checks the name; off: the health module alone, as before", () => {
    const modules = (tls?: Parameters<typeof renderBlackboxConfig>[0]) =>
      (yaml.load(renderBlackboxConfig(tls)) as { modules: Record<string, unknown> }).modules;
    expect(Object.keys(modules())).toEqual(["http_2xx"]);
    expect(modules({ caFile: "/etc/blackbox_exporter/tls/ca.pem", serverName: "obs.example.internal" })).toEqual({
      http_2xx: modules().http_2xx,
      [TLS_PROBE_MODULE]: {
        prober: "tcp",
        timeout: "5s",
        tcp: { preferred_ip_protocol: "ip4", tls: true, tls_config: { ca_file: "/etc/blackbox_exporter/tls/ca.pem", server_name: "obs.example.internal" } },
      },
    });
    expect(renderBlackboxConfig()).toBe(
      "# Rendered by atra-observability. Do not edit.\nmodules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n      follow_redirects: true\n",
    );
  });
});
