/**
 * Prometheus's own login and TLS: the web configuration file (`--web.config.file`,
 * prometheus/exporter-toolkit docs/web-configuration.md) with bcrypt hashes in `basic_auth_users` and,
 * with tls on, `tls_server_config`; the identities that log in, where their secrets sit in the
 * container, and the container healthchecks that log in without their secret in the command.
 *
 * The login is on when the remote-write receiver is (`prometheus.remoteWriteReceiver`) and whenever
 * Prometheus is published beyond loopback (a `bindAddress` other than 127.x), receiver or not: people
 * reach its UI and API there (requiredLogins). Such a stack always has TLS on (components/tls/config.ts
 * refuses `tls.mode: off` there), so the login never crosses the network in clear text.
 *
 * Both Prometheus versions take the file: the flag is in prometheus/prometheus cmd/prometheus/main.go
 * (v2.42.0 and the pinned v3.13.2, `web.config.file` at line 429, checked with `toolkit_web.Validate`
 * at start, line 1226), served by exporter-toolkit (v0.8.2 in 2.42, v0.16.0 in 3.13.2 per its go.mod;
 * web/tls_config.go `Serve`: `basic_auth_users` is `Users`, and with no `tls_server_config` it stays
 * plain HTTP (errNoTLSConfig); web/handler.go validateUsers: bcrypt costs checked at start). Every
 * request, on every path (UI, API, /-/ready, /metrics, /api/v1/write), then needs one of the users
 * (web/handler.go `ServeHTTP`: 401 with `WWW-Authenticate: Basic` otherwise; the file is read again at
 * each request).
 */
import * as yaml from "js-yaml";

/** Who logs into Prometheus. */
export const PROMETHEUS_LOGINS = {
  /** Agent stacks on other hosts, remote-writing to the receiver. */
  agents: "atra-agents",
  /** Grafana's datasource, Prometheus's scrape of itself, the container healthcheck, and people in the UI. */
  query: "atra-grafana",
} as const;
export type PrometheusLogin = keyof typeof PROMETHEUS_LOGINS;

/**
 * The logins this Prometheus requires: the agents' with the receiver; the query login (Grafana, its own
 * scrape, the healthcheck, people) with the receiver or when it is published beyond loopback; none
 * otherwise. An agent host's Prometheus serves no one (components/tls/config.ts): never a login there.
 */
export function requiredLogins(config: { role: "central" | "agent"; bindAddress: string; prometheus: { remoteWriteReceiver: boolean } }): PrometheusLogin[] {
  if (config.role === "agent") return [];
  if (config.prometheus.remoteWriteReceiver) return ["agents", "query"];
  return config.bindAddress.startsWith("127.") ? [] : ["query"];
}

/** Next to prometheus.yml. Hashes only, yet uploaded as a secret: no need to publish them. */
export const PROMETHEUS_WEB_CONFIG_PATH = "/etc/prometheus/web.yml";
/**
 * The query login's password, for the self-scrape's `password_file`; and its `user:password` in base64,
 * for the healthcheck's header. Beside the remote-write credentials (prometheus-config.ts, PROMETHEUS_SECRETS_DIR).
 */
export const QUERY_PASSWORD_PATH = "/etc/prometheus/secrets/login-query-password";
export const HEALTHCHECK_CREDENTIALS_PATH = "/etc/prometheus/secrets/login-healthcheck-basic";

/**
 * Where the server certificate chain and its key sit in the Prometheus container (tls.mode on,
 * components/tls): uploaded by MetricsStack, the key as a secret. Named in the web config's
 * `tls_server_config` by `cert_file` / `key_file`, the names both exporter-toolkit v0.8.2 (Prometheus
 * 2.42) and v0.16.0 (3.13.2) read (prometheus/exporter-toolkit web/tls_config.go, `TLSConfig`:
 * `yaml:"cert_file"`, `yaml:"key_file"`); `min_version` is left at the toolkit's default, TLS 1.2
 * (tls_config.go, `getConfig`: `MinVersion: tls.VersionTLS12`).
 */
export const PROMETHEUS_TLS_CERT_PATH = "/etc/prometheus/tls/server.pem";
export const PROMETHEUS_TLS_KEY_PATH = "/etc/prometheus/tls/server-key.pem";
/**
 * The CA in the container: a central stack's own (tls on), which its scrapes of itself and of Grafana and
 * its healthcheck trust; an agent's is the central stack's (tls.caCertificate), for its remote write.
 */
export const PROMETHEUS_CA_PATH = "/etc/prometheus/tls/ca.pem";

/**
 * `basic_auth_users`: each user to the bcrypt hash of its password; with `tls`, `tls_server_config`
 * too, and then every request is refused unless it comes over TLS (exporter-toolkit web/tls_config.go
 * `Serve`: with a TLS config it serves `ServeTLS` only; a plain-http request to it gets Go's
 * "Client sent an HTTP request to an HTTPS server." 400).
 */
export function renderWebConfig(bcryptHashes: Record<string, string> | undefined, tls?: { certFile: string; keyFile: string }): string {
  const document = {
    ...(tls ? { tls_server_config: { cert_file: tls.certFile, key_file: tls.keyFile } } : {}),
    // TLS on a loopback stack without the receiver: no login (exporter-toolkit web/handler.go ServeHTTP: no users, no check).
    ...(bcryptHashes ? { basic_auth_users: bcryptHashes } : {}),
  };
  return `# Rendered by atra-observability. Do not edit: the passwords are generated by the stack.\n${yaml.dump(document, { lineWidth: -1 })}`;
}

/** What the healthcheck's file holds: `user:password` in base64, as an `Authorization: Basic` header carries it (RFC 7617). */
export function basicCredentials(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString("base64");
}

/**
 * A healthcheck that logs in, with its secret neither in the container's config nor on any command
 * line. Docker keeps the healthcheck command in the container's config (and the provider in state) in
 * plain text, so the command names only the credentials file. The shell reads it at each run, and the
 * secret goes no further than the `printf` builtin, which writes the HTTP request to `nc`'s standard
 * input: a program's arguments are readable by every process of the host (/proc/<pid>/cmdline), which
 * an earlier `wget --header "Authorization: Basic $(cat ...)"` exposed. `nc` gets only the address, and
 * the shell's `read` and `[` builtins check the status line. The prom/prometheus image is busybox
 * (prometheus/prometheus Dockerfile, `FROM quay.io/prometheus/busybox`; prometheus/busybox README: the
 * official busybox image), whose ash has `printf`, `read` and `[` built in and whose applets include `nc`.
 * HTTP/1.0, so the server closes the connection after its answer (Go's net/http does for 1.0 without
 * keep-alive) and `nc` ends. Without the file the header is empty and Prometheus answers 401: the check fails.
 */
export function authenticatedHealthcheck(url: string): string[] {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" || parsed.port === "")
    throw new Error(`authenticatedHealthcheck: ${url} must be http:// with an explicit port (nc speaks plain HTTP)`);
  const request = `GET ${parsed.pathname}${parsed.search} HTTP/1.0\\r\\nHost: ${parsed.host}\\r\\nAuthorization: Basic %s\\r\\n\\r\\n`;
  return [
    "CMD-SHELL",
    `printf '${request}' "$(cat ${HEALTHCHECK_CREDENTIALS_PATH})" | nc ${parsed.hostname} ${parsed.port} | { read -r _ status _ && [ "$status" = 200 ]; }`,
  ];
}

/**
 * With tls on, Prometheus answers only over TLS, which busybox `nc` does not speak: the healthcheck is
 * then the image's own promtool, `promtool check ready --url <u> --http.config.file <f>` (prometheus/prometheus
 * v3.13.2 cmd/promtool/main.go: `checkServerReadyCmd` with the flags `http.config.file` and `url`, line 151;
 * the file is loaded by `promconfig.LoadHTTPConfigFile` into the round tripper, line 342; `CheckServerStatus`
 * GETs `/-/ready` and fails on any status but 200, line 567). The prom/prometheus image ships it
 * (v3.13.2 Dockerfile: `COPY .build/${OS}-${ARCH}/promtool /bin/promtool`). The command names only the
 * file; the file names only other files (the query password's `password_file`, the CA's `ca_file`), so no
 * secret is on a command line or in the container's config. The 2.42 promtool of the tests has no
 * `check ready`/`check healthy` (it has `check web-config`, `check config`): the command itself runs only
 * in the deployed 3.13.2 image.
 */
export const HEALTHCHECK_HTTP_CONFIG_PATH = "/etc/prometheus/secrets/healthcheck-http.yml";

/**
 * The healthcheck's HTTP client config (prometheus/common config/http_config.go `HTTPClientConfig`:
 * `basic_auth.password_file`, `tls_config.ca_file`, `tls_config.server_name`). `serverName` is the name the
 * server certificate is checked against: the stack's publicHostname, which a generated certificate and,
 * by the preflight, a provided one both name (the healthcheck dials 127.0.0.1).
 */
export function renderHealthcheckHttpConfig(options: { login: boolean; caFile?: string; serverName: string }): string {
  const document = {
    ...(options.login ? { basic_auth: { username: PROMETHEUS_LOGINS.query, password_file: QUERY_PASSWORD_PATH } } : {}),
    tls_config: { ...(options.caFile ? { ca_file: options.caFile } : {}), server_name: options.serverName },
  };
  return `# Rendered by atra-observability: the healthcheck's client (promtool check ready).\n${yaml.dump(document, { lineWidth: -1 })}`;
}

/**
 * The TLS healthcheck (see HEALTHCHECK_HTTP_CONFIG_PATH): exec form, no shell, no secret. `url` is the
 * server's base URL: promtool appends the endpoint itself (prometheus/prometheus v3.13.2
 * cmd/promtool/main.go, CheckServerStatus: `serverURL.JoinPath(checkEndpoint)` with `checkReadiness =
 * "/-/ready"`), so a URL that already ends in /-/ready would ask for /-/ready/-/ready, a 404.
 */
export function promtoolHealthcheck(url: string): string[] {
  if (!url.startsWith("https://")) throw new Error(`promtoolHealthcheck: ${url} must be https://`);
  if (!["", "/"].includes(new URL(url).pathname)) throw new Error(`promtoolHealthcheck: ${url} must be the server's base URL (promtool appends /-/ready)`);
  return ["CMD", "promtool", "check", "ready", `--url=${url}`, `--http.config.file=${HEALTHCHECK_HTTP_CONFIG_PATH}`];
}
