/**
 * Remote write, agent mode, the receiver and the external query URL: the config rules (every problem
 * at once, each at its key) and what the renderers make of them (prometheus.yml, the command line).
 */
import * as yaml from "js-yaml";
import { ConfigError, resolveStackConfig, StackConfig } from "../../components/config/resolve";
import type { ConfigIssue } from "../../components/lib/config-keys";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { prometheusCommand, renderPrometheusConfig } from "../../components/metrics/prometheus-config";

const SECRETS = ["remoteWriteSecrets", "prometheusQueryPassword"];

function resolve(values: Record<string, unknown>, stack = "dev") {
  return resolveStackConfig({ stack, values, secretKeys: SECRETS.filter((key) => values[key] !== undefined) });
}
function issuesOf(values: Record<string, unknown>): ConfigIssue[] {
  try {
    resolve(values);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(values)}`);
}
const messages = (values: Record<string, unknown>) => issuesOf(values).map((issue) => `${issue.key}: ${issue.message}`);
const K = "atra-observability:";

interface Rendered {
  global: { external_labels: Record<string, string> };
  remote_write?: Record<string, unknown>[];
  rule_files?: string[];
}
function rendered(config: StackConfig): Rendered {
  return yaml.load(renderPrometheusConfig(config, dockerScrapeAddresses(config))) as Rendered;
}

const agentValues = {
  publicHostname: "app-host-7.example.internal",
  prometheus: {
    mode: "agent",
    remoteWrite: [{ name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "app-host-7" }],
    external: { queryUrl: "https://metrics.example.internal", basicAuthUser: "grafana" },
  },
  remoteWriteSecrets: { central: "s3cret-remote-password" },
  prometheusQueryPassword: "s3cret-query-password",
};

describe("config", () => {
  test("no new key set: server mode, no remote write, not federated, host label publicHostname, no external query URL", () => {
    const { config, secrets } = resolve({});
    expect(config.prometheus).toMatchObject({ mode: "server", remoteWrite: [], federated: false });
    expect(config.prometheus.hostLabel).toBe("localhost");
    expect(config.prometheus.external).toBeUndefined();
    expect(secrets.remoteWriteSecrets).toEqual({});
    expect(secrets.prometheusQueryPassword).toBeUndefined();
  });

  test("an agent-mode config resolves; credentials follow from basicAuthUser and the secret, never holding it", () => {
    const { config, secrets } = resolve(agentValues);
    expect(config.prometheus.mode).toBe("agent");
    expect(config.prometheus.remoteWrite).toEqual([
      { name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "app-host-7", headers: {}, credentials: "basic" },
    ]);
    expect(config.prometheus.hostLabel).toBe("app-host-7.example.internal");
    expect(JSON.stringify(config)).not.toContain("s3cret");
    expect(secrets.remoteWriteSecrets).toEqual({ central: "s3cret-remote-password" });
    expect(secrets.prometheusQueryPassword).toBe("s3cret-query-password");
  });

  test("the mixes that cannot work are all reported at once, each at its key", () => {
    expect(
      messages({
        prometheus: {
          mode: "agent",
          retentionTime: "7d",
          evaluationInterval: "30s",
          external: { queryUrl: "http://metrics.example.internal:9090", basicAuthUser: "grafana" },
        },
        remoteWriteSecrets: { stray: "x" },
      }),
    ).toEqual([
      `${K}prometheus.evaluationInterval: does not apply in agent mode, which evaluates no rules (the alert rules evaluate in Grafana against prometheus.external.queryUrl); remove it`,
      `${K}prometheus.external.basicAuthUser: needs its password: pulumi config set --secret prometheusQueryPassword <password>`,
      `${K}prometheus.external.queryUrl: would send Grafana's credentials over plain http to metrics.example.internal, readable on the way: use https (plain http only to a loopback address)`,
      `${K}prometheus.remoteWrite: agent mode stores nothing to query and sends everything it scrapes by remote write: configure at least one remote write`,
      `${K}prometheus.retentionTime: does not apply in agent mode (no TSDB: the agent keeps only its write-ahead log until sent); remove it`,
      `${K}remoteWriteSecrets.stray: no remote write named "stray" (configured: none); remove it or add prometheus.remoteWrite with that name`,
    ]);
  });

  test("agent mode without a query URL; duplicate names; credentials over plain http; a user without password; reported with a schema error", () => {
    expect(
      messages({
        publicHostname: "host-a",
        services: [{ name: "BAD" }],
        prometheus: {
          mode: "agent",
          remoteWrite: [
            { name: "central", url: "http://10.0.0.5:9090/api/v1/write", basicAuthUser: "u" },
            { name: "central", url: "https://b.example/api/v1/write" },
            { name: "loop", url: "http://127.0.0.1:9090/api/v1/write" },
          ],
        },
        remoteWriteSecrets: { central: "pw", loop: "token" },
      }),
    ).toEqual([
      `${K}prometheus.external.queryUrl: agent mode has no query API: Grafana's dashboards and alert rules need the query URL of the backend the agent writes to (prometheus.external.queryUrl)`,
      `${K}prometheus.remoteWrite[0].url: would send credentials over plain http to 10.0.0.5, readable on the way: use https (plain http only to a loopback address)`,
      `${K}prometheus.remoteWrite[1].name: duplicate remote write "central" (also remoteWrite[0])`,
      `${K}services[0]: has nothing to observe: give at least one of metrics, health, logs`,
      `${K}services[0].name: must be lowercase letters, digits and dashes, start with a letter, at most 48 characters`,
    ]);
    expect(messages({ publicHostname: "host-a", prometheus: { remoteWrite: [{ name: "central", url: "https://a.example/w", basicAuthUser: "u" }] } })).toEqual([
      `${K}prometheus.remoteWrite[0].basicAuthUser: remote write "central" needs its password: pulumi config set --secret --path 'remoteWriteSecrets.central' <password>`,
    ]);
  });

  test("secret-looking and reserved headers are refused in plain config; a tenant header is fine", () => {
    const remote = (headers: Record<string, string>) => ({
      publicHostname: "host-a",
      prometheus: { remoteWrite: [{ name: "central", url: "https://a.example/w", headers }] },
    });
    expect(messages(remote({ Authorization: "Bearer abc", "X-Api-Key": "k", "User-Agent": "x", "bad header": "v" }))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${K}prometheus\\.remoteWrite\\[0\\]\\.headers\\.Authorization: looks like a credential: header values sit in prometheus.yml in plain text`,
        ),
      ),
      `${K}prometheus.remoteWrite[0].headers.bad header: is not a valid HTTP header name`,
      `${K}prometheus.remoteWrite[0].headers.User-Agent: is set by Prometheus itself, which refuses it in remote write headers`,
      expect.stringMatching(/headers\.X-Api-Key: looks like a credential/),
    ]);
    expect(() => resolve(remote({ "X-Scope-OrgID": "tenant-1" }))).not.toThrow();
  });

  test("remote write needs a host label that is not loopback; hostLabel or publicHostname gives it", () => {
    const values = { prometheus: { remoteWrite: [{ name: "central", url: "https://a.example/w" }] } };
    expect(messages(values)).toEqual([expect.stringMatching(new RegExp(`^${K}prometheus\\.hostLabel: remote-written series carry a host label`))]);
    expect(resolve({ ...values, prometheus: { ...values.prometheus, hostLabel: "edge-1" } }).config.prometheus.hostLabel).toBe("edge-1");
    expect(resolve({ ...values, bindAddress: "10.1.2.3" }).config.prometheus.hostLabel).toBe("10.1.2.3");
  });

  test("the query password needs its user, and stands not alone; secrets are never echoed", () => {
    const issues = messages({ prometheusQueryPassword: "hunter2-never-echoed", remoteWriteSecrets: { central: " padded " } });
    expect(issues).toEqual([
      `${K}prometheusQueryPassword: is used only with prometheus.external.queryUrl and basicAuthUser: set them, or remove the password`,
      `${K}remoteWriteSecrets.central: no remote write named "central" (configured: none); remove it or add prometheus.remoteWrite with that name`,
    ]);
    expect(JSON.stringify(issues)).not.toContain("hunter2");
    expect(
      messages({
        publicHostname: "h",
        prometheus: { remoteWrite: [{ name: "central", url: "https://a.example/w" }] },
        remoteWriteSecrets: { central: " padded " },
      }),
    ).toEqual([`${K}remoteWriteSecrets.central: must not start or end with whitespace: Prometheus trims the credentials file it reads`]);
  });

  test("plain-text secrets are refused like every other secret setting", () => {
    expect(() =>
      resolveStackConfig({
        stack: "dev",
        values: { ...agentValues },
        secretKeys: [],
      }),
    ).toThrow(/prometheusQueryPassword: must be stored encrypted[\s\S]*remoteWriteSecrets\.\w+: must be stored encrypted/);
  });
});

describe("renderers", () => {
  test("remote_write: basic auth and Bearer token from files, headers, queue_config in Prometheus's names; host label", () => {
    const { config } = resolve({
      prometheus: {
        hostLabel: "obs-1",
        remoteWrite: [
          {
            name: "central",
            url: "https://mimir.example/api/v1/push",
            basicAuthUser: "tenant",
            headers: { "X-Scope-OrgID": "tenant" },
            queueConfig: {
              maxShards: 10,
              minShards: 1,
              capacity: 5000,
              maxSamplesPerSend: 500,
              batchSendDeadline: "5s",
              minBackoff: "30ms",
              maxBackoff: "5s",
              retryOnRateLimit: true,
            },
          },
          { name: "cloud", url: "https://cloud.example/push" },
          { name: "open", url: "http://127.0.0.1:9999/api/v1/write" },
        ],
      },
      remoteWriteSecrets: { central: "pw-central", cloud: "token-cloud" },
    });
    const text = renderPrometheusConfig(config, dockerScrapeAddresses(config));
    expect(text).not.toMatch(/pw-central|token-cloud/);
    const document = yaml.load(text) as Rendered;
    expect(document.global.external_labels).toEqual({ stack: "dev", environment: "dev", host: "obs-1" });
    expect(document.remote_write).toEqual([
      {
        name: "central",
        url: "https://mimir.example/api/v1/push",
        headers: { "X-Scope-OrgID": "tenant" },
        basic_auth: { username: "tenant", password_file: "/etc/prometheus/secrets/remote-write-central" },
        queue_config: {
          max_shards: 10,
          min_shards: 1,
          capacity: 5000,
          max_samples_per_send: 500,
          batch_send_deadline: "5s",
          min_backoff: "30ms",
          max_backoff: "5s",
          retry_on_http_429: true,
        },
      },
      { name: "cloud", url: "https://cloud.example/push", authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/remote-write-cloud" } },
      { name: "open", url: "http://127.0.0.1:9999/api/v1/write" },
    ]);
  });

  test("without the new keys prometheus.yml has no remote_write; the host label is publicHostname", () => {
    const document = rendered(resolve({}).config);
    expect(document.remote_write).toBeUndefined();
    expect(document.global.external_labels).toEqual({ stack: "dev", environment: "dev", host: "localhost" });
  });

  test("agent mode: --agent and the agent's own storage path, no TSDB retention; the receiver flag and its login in server mode", () => {
    expect(prometheusCommand(resolve(agentValues).config)).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--agent",
      "--storage.agent.path=/prometheus/agent",
      "--web.listen-address=:9090",
      "--web.external-url=http://app-host-7.example.internal:9090",
    ]);
    expect(prometheusCommand(resolve({ bindAddress: "0.0.0.0" }, "prod").config, true)).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
      "--storage.tsdb.retention.size=50GB",
      "--web.listen-address=:9090",
      // Published beyond loopback, tls is on (components/tls/config.ts): the UI's links are https, the web config has the TLS settings and logins.
      "--web.external-url=https://localhost:9090",
      "--web.config.file=/etc/prometheus/web.yml",
    ]);
  });
});
