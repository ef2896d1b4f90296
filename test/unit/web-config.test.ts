/**
 * The receiver's login renderers (components/metrics/web-config.ts) and where prometheus.yml and the
 * command line take it up: only with `prometheus.remoteWriteReceiver`, never a secret in what they render.
 */
import { BLACKBOX_LOGIN_USER } from "../../components/metrics/blackbox-login";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { prometheusCommand, renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import {
  authenticatedHealthcheck,
  basicCredentials,
  HEALTHCHECK_CREDENTIALS_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_WEB_CONFIG_PATH,
  QUERY_PASSWORD_PATH,
  renderWebConfig,
} from "../../components/metrics/web-config";

const HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

function jobs(values: Record<string, unknown>): ScrapeConfig[] {
  const { config } = resolveStackConfig({ stack: "dev", values, secretKeys: [] });
  return (yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config))) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
}

describe("the receiver's login", () => {
  test("the web config maps each user to its hash, and the hash survives the YAML round trip", () => {
    const text = renderWebConfig({ [PROMETHEUS_LOGINS.agents]: HASH, [PROMETHEUS_LOGINS.query]: HASH });
    expect(yaml.load(text)).toEqual({ basic_auth_users: { "atra-agents": HASH, "atra-grafana": HASH } });
    expect(text.startsWith("# Rendered by atra-observability")).toBe(true);
  });

  test("the healthcheck reads the credentials file at run time: the command holds its path, no secret", () => {
    const check = authenticatedHealthcheck("http://127.0.0.1:9090/-/ready");
    expect(check).toEqual([
      "CMD-SHELL",
      // The credentials go from the file to the printf builtin to nc's stdin, never into a program's argv
      // (test/program/no-secret-argv.test.ts runs it under strace).
      `printf 'GET /-/ready HTTP/1.0\\r\\nHost: 127.0.0.1:9090\\r\\nAuthorization: Basic %s\\r\\n\\r\\n' "$(cat ${HEALTHCHECK_CREDENTIALS_PATH})" | nc 127.0.0.1 9090 | { read -r _ status _ && [ "$status" = 200 ]; }`,
    ]);
    expect(basicCredentials("atra-grafana", "pw")).toBe(Buffer.from("atra-grafana:pw").toString("base64"));
  });

  test("with the receiver, only the self-scrape logs in (as the query login, from its password file), and the command takes the web config", () => {
    const withReceiver = jobs({ prometheus: { remoteWriteReceiver: true } });
    // (The blackbox exporter's own login, components/metrics/blackbox-login.ts, is on in every stack: not Prometheus's.)
    expect(withReceiver.filter((job) => job.basic_auth && job.basic_auth.username !== BLACKBOX_LOGIN_USER)).toEqual([
      expect.objectContaining({ job_name: "prometheus", basic_auth: { username: "atra-grafana", password_file: QUERY_PASSWORD_PATH } }),
    ]);
    const { config } = resolveStackConfig({ stack: "dev", values: { prometheus: { remoteWriteReceiver: true } }, secretKeys: [] });
    expect(prometheusCommand(config)).toContain(`--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`);
  });

  test("without the receiver nothing of the login is rendered", () => {
    expect(jobs({}).some((job) => job.basic_auth && job.basic_auth.username !== BLACKBOX_LOGIN_USER)).toBe(false);
    const { config } = resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] });
    expect(prometheusCommand(config).some((flag) => flag.startsWith("--web.config.file"))).toBe(false);
  });
});
