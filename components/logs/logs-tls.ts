/**
 * The logs stage over TLS (`tls.mode` not off, components/tls/config.ts): what the stack's own
 * Elasticsearch and Kibana need to serve https with the stack's certificate, and what their clients
 * (each other, the healthchecks, Filebeat, the providers, Grafana's datasources) need to trust it.
 * The settings, files and healthchecks; LogsStack puts them on the containers.
 *
 * Who reads the files: the Docker provider uploads them owned by root:root (kreuzwerker/
 * terraform-provider-docker internal/provider/resource_docker_container_funcs.go: the tar header sets
 * no Uid/Gid), the key readable by owner and group only. Elasticsearch runs as uid 1000 with gid 0
 * (elastic/elasticsearch distribution/docker/src/docker/Dockerfile: `USER 1000:0`, before that
 * `elasticsearch:root`), Kibana as uid 1000 with 0 among its groups (elastic/kibana src/dev/build/tasks/
 * os_packages/docker_generator/templates/base/Dockerfile: `useradd --uid 1000 --gid 1000 -G 0`, `USER 1000`):
 * both read a 0440 root:root file through group 0.
 */
import * as pulumi from "@pulumi/pulumi";
import { STACK_SERVICES } from "../stack-services";
import type { FilebeatVerificationMode } from "./filebeat-config";

/** What LogsStack takes to serve TLS: a components/tls/pki.ts ServerTls (StackPki is one). */
export interface LogsServerTls {
  /** What clients trust (PEM); undefined: a provided chain from a public CA (the system's roots). */
  readonly caCertificate?: pulumi.Output<string>;
  /** The chain, leaf first (PEM). */
  readonly serverCertificate: pulumi.Output<string>;
  /** Its key (PEM), secret. */
  readonly serverKey: pulumi.Output<string>;
  /** publicHostname: the name every certificate of the stack carries. */
  readonly serverName: string;
}

/** What a client of the stack's servers needs: whether a CA is given (its value is uploaded apart) and the name to check. */
export interface TlsTrust {
  readonly caCertificate?: unknown;
  readonly serverName: string;
}

/** One uploaded file: its path in the container, its content, and its mode. */
export interface TlsFile {
  file: string;
  content: pulumi.Input<string>;
  permissions: string;
}

/** Where the certificate files sit in a container: beside the server's own config file. */
export interface TlsPaths {
  chain: string;
  key: string;
  ca: string;
}

/** Elasticsearch's config directory (the image's ES_PATH_CONF), where elasticsearch.yml is. */
export const ELASTICSEARCH_TLS_PATHS: TlsPaths = {
  chain: "/usr/share/elasticsearch/config/atra-tls-chain.pem",
  key: "/usr/share/elasticsearch/config/atra-tls-key.pem",
  ca: "/usr/share/elasticsearch/config/atra-tls-ca.pem",
};

/** Kibana's config directory, where kibana.yml is. */
export const KIBANA_TLS_PATHS: TlsPaths = {
  chain: "/usr/share/kibana/config/atra-tls-chain.pem",
  key: "/usr/share/kibana/config/atra-tls-key.pem",
  ca: "/usr/share/kibana/config/atra-tls-ca.pem",
};

/**
 * The chain and the CA readable by all (they are public), the key a secret upload (encrypted in state,
 * masked in every plan) that only root and group 0 read (see above).
 */
export function tlsUploads(paths: TlsPaths, tls: LogsServerTls): TlsFile[] {
  return [
    { file: paths.chain, content: tls.serverCertificate, permissions: "0444" },
    { file: paths.key, content: pulumi.secret(tls.serverKey), permissions: "0440" },
    ...(tls.caCertificate ? [{ file: paths.ca, content: tls.caCertificate, permissions: "0444" }] : []),
  ];
}

/**
 * How the stack's clients inside the stack network check the name of the certificate they are shown:
 * a generated certificate names every container (tls/pki.ts serverNames), so `full` (chain and host name);
 * a provided one need name only publicHostname (what the preflight requires, scripts/lib/preflight/tls.ts),
 * and neither Kibana (`elasticsearch.ssl.verificationMode`: full, certificate or none) nor Filebeat
 * (`ssl.verification_mode`) can be told another name to check, so `certificate`: the chain is still verified
 * up to the trusted CA, the host name not. The providers, the healthchecks and Grafana check publicHostname.
 */
export function internalVerificationMode(mode: "generated" | "provided"): FilebeatVerificationMode {
  return mode === "generated" ? "full" : "certificate";
}

/**
 * Elasticsearch's HTTP layer over TLS, as node settings (LogsStack writes them in the ES_SETTING_ form).
 * elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/XPackSettings.java
 * (`xpack.security.http.ssl.enabled`, HTTP_SSL_ENABLED) and, under the `xpack.security.http.ssl.` prefix,
 * x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ssl/SSLConfigurationSettings.java with the
 * keys of libs/ssl-config/src/main/java/org/elasticsearch/common/ssl/SslConfigurationKeys.java:
 * `certificate` (PEM, the chain: leaf first), `key` (PEM; PKCS#8 or the SEC1 `EC PRIVATE KEY` @pulumi/tls
 * writes for ECDSA, both read by libs/ssl-config/.../PemUtils.java) and `certificate_authorities` (a list
 * setting; one path as a plain string is a one-element list: server/src/main/java/org/elasticsearch/common/
 * settings/Settings.java, getAsList splits a string at commas).
 *
 * The transport layer stays plain: a single node (`discovery.type: single-node`) talks to no other, its
 * port 9300 is not published, and the bootstrap check that demands transport TLS with security on
 * (x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ssl/TransportTLSBootstrapCheck.java) is
 * enforced only when the node is not single-node (server/src/main/java/org/elasticsearch/bootstrap/
 * BootstrapChecks.java, enforceLimits: `SINGLE_NODE_DISCOVERY_TYPE.equals(discoveryType) == false`).
 */
export function elasticsearchTlsSettings(tls: Pick<TlsTrust, "caCertificate">): [string, string][] {
  return [
    ["xpack.security.http.ssl.enabled", "true"],
    ["xpack.security.http.ssl.certificate", ELASTICSEARCH_TLS_PATHS.chain],
    ["xpack.security.http.ssl.key", ELASTICSEARCH_TLS_PATHS.key],
    ...(tls.caCertificate ? ([["xpack.security.http.ssl.certificate_authorities", ELASTICSEARCH_TLS_PATHS.ca]] as [string, string][]) : []),
  ];
}

/**
 * curl's arguments that make a healthcheck speak https to the server in its own container as its clients
 * do: trusting the stack's CA (`--cacert`; none for a public CA: the image's bundle) and checking the
 * certificate against publicHostname, which `--resolve` points at 127.0.0.1 (curl then connects there,
 * sends the name as SNI and verifies it). publicHostname is letters, digits, dots and dashes (the config
 * rule), so it needs no quoting in the shell.
 */
function curlTlsArgs(service: "elasticsearch" | "kibana", tls: TlsTrust, caPath: string): string[] {
  const port = STACK_SERVICES[service].port;
  return [...(tls.caCertificate ? ["--cacert", caPath] : []), "--resolve", `${tls.serverName}:${port}:127.0.0.1`];
}

function curlTls(service: "elasticsearch" | "kibana", tls: TlsTrust, caPath: string): string {
  return curlTlsArgs(service, tls, caPath).join(" ");
}

function httpsUrl(service: "elasticsearch" | "kibana", serverName: string, path: string): string {
  return `https://${serverName}:${STACK_SERVICES[service].port}${path}`;
}

/**
 * Where Elasticsearch's healthcheck finds its login: a curl config file (curl/curl docs/cmdline-opts/config.md:
 * `-K <file>` reads options from the file, one per line, `header = "..."` the same as `--header`), uploaded
 * beside elasticsearch.yml, 0440 root:root like the TLS key (read by the healthcheck through group 0: Docker
 * runs a healthcheck as the container's Config.User, moby/moby daemon/health.go cmdProbe.run, and the image
 * sets `USER 1000:0`). Not the environment: the container's environment is in its Docker config for anyone
 * who may `docker inspect`, and in /proc/<pid>/environ of every process of it.
 */
export const ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH = "/usr/share/elasticsearch/config/atra-healthcheck.curlrc";

/** `Basic <base64 of user:password>` (RFC 7617), as the healthcheck sends it. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/**
 * The healthcheck's curl config: the Authorization header. Base64 needs no escaping inside the config's
 * double quotes, whatever the password holds (a user's `elasticPassword` may hold quotes or backslashes).
 */
export function elasticsearchHealthcheckConfig(user: string, password: string): string {
  return `header = "Authorization: ${basicAuthorization(user, password)}"\n`;
}

/** The healthcheck's curl config as an upload: secret (encrypted in state, masked in every plan), 0440. */
export function elasticsearchHealthcheckUpload(user: string, password: pulumi.Output<string>): TlsFile {
  return {
    file: ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
    content: pulumi.secret(password.apply((value) => elasticsearchHealthcheckConfig(user, value))),
    permissions: "0440",
  };
}

/**
 * Elasticsearch's healthcheck: cluster health at least yellow, logged in with the uploaded curl config
 * (`-K <file>`): curl's arguments name the file, never the login. An exec (`CMD`), no shell. With tls on,
 * over https as the stack's clients do (curlTlsArgs).
 */
export function elasticsearchHealthcheck(tls?: TlsTrust): string[] {
  const path = "/_cluster/health?wait_for_status=yellow&timeout=3s";
  return [
    "CMD",
    "curl",
    "-K",
    ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
    "-fsS",
    "-o",
    "/dev/null",
    ...(tls
      ? [...curlTlsArgs("elasticsearch", tls, ELASTICSEARCH_TLS_PATHS.ca), httpsUrl("elasticsearch", tls.serverName, path)]
      : [`http://127.0.0.1:${STACK_SERVICES.elasticsearch.port}${path}`]),
  ];
}

/** Kibana's healthcheck over https: ready once the status API answers (401 without credentials), as over http. */
export function kibanaTlsHealthcheck(tls: TlsTrust): string[] {
  return [
    "CMD-SHELL",
    `curl -s -o /dev/null -w '%{http_code}' ${curlTls("kibana", tls, KIBANA_TLS_PATHS.ca)} ${httpsUrl("kibana", tls.serverName, "/api/status")} | grep -qE '^(200|401)$'`,
  ];
}

/**
 * Kibana serving https and reaching Elasticsearch over https, as the environment variables its image turns
 * into settings (elastic/kibana src/dev/build/tasks/os_packages/docker_generator/resources/base/bin/kibana-docker:
 * `server.ssl.enabled` -> SERVER_SSL_ENABLED, `server.ssl.certificate`, `server.ssl.key`,
 * `elasticsearch.ssl.certificateAuthorities`, `elasticsearch.ssl.verificationMode`, each upper-cased with
 * `.` as `_`). Paths only: the key's content never is in the environment.
 */
export function kibanaTlsSettings(tls: Pick<TlsTrust, "caCertificate">, verificationMode: FilebeatVerificationMode): string[] {
  return [
    "SERVER_SSL_ENABLED=true",
    `SERVER_SSL_CERTIFICATE=${KIBANA_TLS_PATHS.chain}`,
    `SERVER_SSL_KEY=${KIBANA_TLS_PATHS.key}`,
    ...(tls.caCertificate ? [`ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES=${KIBANA_TLS_PATHS.ca}`] : []),
    `ELASTICSEARCH_SSL_VERIFICATIONMODE=${verificationMode}`,
  ];
}
