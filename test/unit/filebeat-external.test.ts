/**
 * Filebeat's output for an external Elastic cluster (elastic/beats docs/reference/filebeat/elasticsearch-output.md,
 * configuration-ssl.md): an API key or a user from the environment (never in the file), the CA file and/or
 * fingerprint, verification full.
 */
import * as yaml from "js-yaml";
import { FILEBEAT_CA_PATH, renderFilebeatConfig } from "../../components/logs/filebeat-config";

const BASE = {
  services: [{ name: "billing-api", logs: ["/srv/billing/logs/api*.log"] }],
  elasticsearchUrl: "https://atra.es.europe-west1.gcp.cloud.es.io",
  dataStream: "logs-atra-ext",
  pipeline: "atra-ext-logs-structlog",
  host: "obs-ext-1",
  stack: "ext",
};
const FINGERPRINT = "b9a10bbe64ee9826abeda6546fc988c8bf798b41957c33d05db736716513dc9c";

const output = (text: string) => (yaml.load(text) as Record<string, Record<string, unknown>>)["output.elasticsearch"];

test("an API key from the environment: api_key is the variable, no user or password", () => {
  const rendered = output(renderFilebeatConfig({ ...BASE, apiKeyEnv: "ATRA_LOGS_WRITER_API_KEY" }));
  expect(rendered.api_key).toBe("${ATRA_LOGS_WRITER_API_KEY}");
  expect(rendered).not.toHaveProperty("username");
  expect(rendered).not.toHaveProperty("password");
  expect(rendered).not.toHaveProperty("ssl.verification_mode");
});

test("a user, the CA file and the fingerprint, verification full", () => {
  const rendered = output(renderFilebeatConfig({ ...BASE, usernameEnv: "U", passwordEnv: "P", tls: { caFile: FILEBEAT_CA_PATH, caFingerprint: FINGERPRINT } }));
  expect(rendered).toMatchObject({
    username: "${U}",
    password: "${P}",
    "ssl.certificate_authorities": [FILEBEAT_CA_PATH],
    "ssl.ca_trusted_fingerprint": FINGERPRINT,
    "ssl.verification_mode": "full",
  });
});

test.each([
  [{ apiKeyEnv: "K", usernameEnv: "U", passwordEnv: "P" }, "give apiKeyEnv or usernameEnv/passwordEnv, not both"],
  [{ apiKeyEnv: "not a name" }, 'apiKeyEnv "not a name" is not an environment variable name'],
  [{ usernameEnv: "U" }, 'passwordEnv "" is not an environment variable name'],
  [{ apiKeyEnv: "K", tls: { caFingerprint: "AB:CD" } }, "tls.caFingerprint must be 64 lower-case hex digits"],
  [{ apiKeyEnv: "K", tls: { caFile: "atra-ca.pem" } }, "must be an absolute path"],
  [{ apiKeyEnv: "K", elasticsearchUrl: "http://es.example.com:9200", tls: { caFingerprint: FINGERPRINT } }, "tls settings need an https:// elasticsearchUrl"],
])("refused: %j", (extra, problem) => {
  expect(() => renderFilebeatConfig({ ...BASE, ...extra })).toThrow(problem);
});
