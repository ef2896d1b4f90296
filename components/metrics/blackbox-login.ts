/**
 * The blackbox exporter's login. It sits on the applications' networks (it must reach their health URLs),
 * and its `/probe?target=...&module=...` makes it connect wherever it is told, on every network it is on, the
 * stack network included: without a login, any container on an application network could use it to reach the
 * stack's own services (Elasticsearch, Kibana, Grafana, Prometheus) or read whether a port answers. With a web
 * config (`--web.config.file`, prometheus/exporter-toolkit, as for Prometheus: components/metrics/web-config.ts)
 * every path (`/probe`, `/metrics`, `/-/healthy`, `/-/reload`) needs the one user below, which only this
 * stack's Prometheus has (its probe jobs and its scrape of the exporter send `basic_auth` with a
 * `password_file`: prometheus/common config/http_config.go `BasicAuth`).
 *
 * The flag: prometheus/blackbox_exporter main.go registers the toolkit's flags (`kingpinflag.AddFlags(kingpin.
 * CommandLine, ":9115")`) and serves every handler through `web.ListenAndServe(srv, toolkitFlags, logger)`,
 * so the login covers the default mux as a whole; Debian's 0.23.0 (the tests') lists `--web.config.file`
 * in its --help, as does the pinned v0.28.0. Listening on the stack network's address alone was not taken:
 * that address is assigned by Docker at start and is not known to the program (a fixed one would need a
 * subnet the program owns); the login closes the same hole with no address to manage.
 */
import * as yaml from "js-yaml";

/** Who logs in to the blackbox exporter: the stack's Prometheus (and the container's healthcheck as it). */
export const BLACKBOX_LOGIN_USER = "atra-prometheus";
/** In the blackbox container: the web config (hash only, uploaded as a secret anyway), the healthcheck's `user:password` in base64. */
export const BLACKBOX_WEB_CONFIG_PATH = "/etc/blackbox_exporter/web.yml";
export const BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH = "/etc/blackbox_exporter/secrets/healthcheck-basic";
/** In the Prometheus container: the password its probe jobs and its scrape of the exporter read. */
export const BLACKBOX_PASSWORD_PATH = "/etc/prometheus/secrets/blackbox-password";

/** `basic_auth` of every Prometheus job that talks to the blackbox exporter: the password from its file, never in prometheus.yml. */
export function blackboxBasicAuth(passwordFile: string = BLACKBOX_PASSWORD_PATH): { username: string; password_file: string } {
  return { username: BLACKBOX_LOGIN_USER, password_file: passwordFile };
}

/** The exporter's web config: the one user and its bcrypt hash (exporter-toolkit web/tls_config.go `basic_auth_users`; no TLS: it is reached on the stack network only by Prometheus). */
export function renderBlackboxWebConfig(bcryptHash: string): string {
  return `# Rendered by atra-observability. Do not edit.\n${yaml.dump({ basic_auth_users: { [BLACKBOX_LOGIN_USER]: bcryptHash } }, { lineWidth: -1 })}`;
}

/** The healthcheck's credentials file content: `user:password` in base64, as a Basic Authorization header carries it (RFC 7617). */
export function blackboxHealthcheckCredentials(password: string): string {
  return Buffer.from(`${BLACKBOX_LOGIN_USER}:${password}`).toString("base64");
}

/**
 * The container's healthcheck, logging in without its secret in the command (the command names only
 * the file; ash's `printf`
 * builtin writes the request to busybox `nc`; HTTP/1.0 so the server closes). prom/blackbox-exporter is
 * built `FROM quay.io/prometheus/busybox` like Prometheus, so `sh`, `nc` and `cat` are there. `/-/healthy`
 * answers 200 "Healthy" (blackbox_exporter main.go); without the file the header is empty and the answer 401.
 */
export function blackboxHealthcheck(port: number, credentialsPath: string = BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH): string[] {
  const request = `GET /-/healthy HTTP/1.0\\r\\nHost: 127.0.0.1:${port}\\r\\nAuthorization: Basic %s\\r\\n\\r\\n`;
  return ["CMD-SHELL", `printf '${request}' "$(cat ${credentialsPath})" | nc 127.0.0.1 ${port} | { read -r _ status _ && [ "$status" = 200 ]; }`];
}
