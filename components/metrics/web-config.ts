/**
 * Prometheus's own login and TLS: the web configuration file (`--web.config.file`,
 * prometheus/exporter-toolkit docs/web-configuration.md) with bcrypt hashes in `basic_auth_users` and,
 * with tls on, `tls_server_config`; the identities that log in, where their secrets sit in the
 * container, and the container healthchecks that log in without their secret in the command.
 *
 * The logins are on whenever a central Prometheus is published beyond loopback (a `bindAddress` other
 * than 127.x) or lists agents, and on a federated agent host (requiredLogins). Either always has TLS on, so a login
 * never crosses the network in clear text.
 *
 * Both Prometheus versions take the file: the flag is in prometheus/prometheus cmd/prometheus/main.go
 * (v2.42.0 and the pinned v3.13.2, `web.config.file` at line 429, checked with `toolkit_web.Validate`
 * at start, line 1226), served by exporter-toolkit (v0.8.2 in 2.42, v0.16.0 in 3.13.2 per its go.mod;
 * web/tls_config.go `Serve`: `basic_auth_users` is `Users`, and with no `tls_server_config` it stays
 * plain HTTP (errNoTLSConfig); web/handler.go validateUsers: bcrypt costs checked at start). Every
 * request, on every path (UI, API, /-/ready, /metrics, /federate), then needs one of the users
 * (web/handler.go `ServeHTTP`: 401 with `WWW-Authenticate: Basic` otherwise; the file is read again at
 * each request).
 */
import * as yaml from "js-yaml";

/**
 * Who logs into Prometheus. Each login is one party's, so that each can be changed or revoked alone
 * and a leak says whose it was. Every login can read everything (exporter-toolkit web/handler.go
 * `ServeHTTP` checks the user and then serves any path): what keeps them least-privileged is what the
 * server offers at all, no remote-write receiver and no admin or lifecycle API (prometheusCommand).
 */
export const PROMETHEUS_LOGINS = {
  /** Grafana's datasource (central). */
  grafana: "atra-grafana",
  /** The container healthcheck and Prometheus's scrape of itself (central and a federated agent). */
  healthcheck: "atra-healthcheck",
  /** People in the UI and API (central): the outputs prometheusUser / prometheusPassword. */
  people: "atra-viewer",
  /** The central Prometheus pulling an agent host's `/federate` (agent, with its password hash from agentFederation). */
  central: "atra-central",
} as const;
export type PrometheusLogin = keyof typeof PROMETHEUS_LOGINS;

/**
 * The logins this Prometheus requires. A central stack published beyond loopback (a `bindAddress`
 * other than 127.x: people, an external Grafana or agents reach it) requires Grafana's, the
 * healthcheck's and people's, and there tls is always on (components/tls/config.ts refuses `tls.mode:
 * off`), so a login never crosses the network in clear. So does a central stack listing agents, even on
 * loopback: it then holds every host's metrics, and its Prometheus is on the stack network that
 * `appNetworks` joins to application containers, which could otherwise read them all (tls is on there too:
 * tls/config.ts refuses off with agents[]). A central stack on loopback without agents requires none: it
 * holds only its own host's metrics (its app containers on appNetworks reach it, as they reach the host). An
 * agent host's Prometheus requires a login exactly when it is federated (the `federation` secret): the
 * central stack's and its own healthcheck's; the config rules refuse an agent bound beyond loopback
 * without it (remote-config.ts), so no Prometheus is reachable beyond loopback without login and TLS.
 */
export function requiredLogins(config: {
  role: "central" | "agent";
  bindAddress: string;
  prometheus: { federated?: boolean };
  agents?: readonly unknown[];
}): PrometheusLogin[] {
  if (config.role === "agent") return config.prometheus.federated ? ["central", "healthcheck"] : [];
  return config.bindAddress.startsWith("127.") && (config.agents ?? []).length === 0 ? [] : ["grafana", "healthcheck", "people"];
}

/** Next to prometheus.yml. Hashes only, yet uploaded as a secret: no need to publish them. */
export const PROMETHEUS_WEB_CONFIG_PATH = "/etc/prometheus/web.yml";
/**
 * The healthcheck login's password, for the self-scrape's `password_file` and the healthcheck's http
 * config. Beside the remote-write credentials (prometheus-config.ts, PROMETHEUS_SECRETS_DIR).
 */
export const HEALTHCHECK_PASSWORD_PATH = "/etc/prometheus/secrets/login-healthcheck-password";

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
 * The CA that issued the agents' federation certificates, on a central stack listing agents: what each
 * agent job's `tls_config.ca_file` trusts: a federation CA of the central stack's own (agent-federation.ts),
 * never the stack CA, so no agent certificate is one the central's own clients accept. On a federated agent: the issuer in its federation
 * certificate chain, which its healthcheck trusts.
 */
export const FEDERATION_CA_PATH = "/etc/prometheus/tls/federation-ca.pem";

/**
 * `basic_auth_users`: each user to the bcrypt hash of its password; with `tls`, `tls_server_config`
 * too, and then every request is refused unless it comes over TLS (exporter-toolkit web/tls_config.go
 * `Serve`: with a TLS config it serves `ServeTLS` only; a plain-http request to it gets Go's
 * "Client sent an HTTP request to an HTTPS server." 400).
 */
export function renderWebConfig(bcryptHashes: Record<string, string> | undefined, tls?: { certFile: string; keyFile: string }): string {
  const document = {
    ...(tls ? { tls_server_config: { cert_file: tls.certFile, key_file: tls.keyFile } } : {}),
    // TLS on a loopback central stack: no login (exporter-toolkit web/handler.go ServeHTTP: no users, no check).
    ...(bcryptHashes ? { basic_auth_users: bcryptHashes } : {}),
  };
  return `# Rendered by atra-observability. Do not edit: the passwords are generated by the stack.\n${yaml.dump(document, { lineWidth: -1 })}`;
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
    ...(options.login ? { basic_auth: { username: PROMETHEUS_LOGINS.healthcheck, password_file: HEALTHCHECK_PASSWORD_PATH } } : {}),
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
