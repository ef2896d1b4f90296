/**
 * Pure renderers for the metrics stage: prometheus.yml, the blackbox exporter's modules and the
 * Prometheus command line. The service catalog becomes one scrape job per `metrics` URL and one
 * probe target per `health` URL (a JSON health endpoint is probed, never scraped).
 *
 * Output must be accepted by Prometheus 3.x (deployed) and by the 2.42 promtool the tests run.
 */
import { GRAFANA_METRICS_PASSWORD_PATH, GRAFANA_METRICS_USER } from "../grafana/service";
import * as yaml from "js-yaml";
import { serviceLabels } from "../catalog";
import type { CoreConfig } from "../config/resolve";
import type { ServiceConfig } from "../config/stack-config";
import type { MetricsConfig } from "./config";

import { OPTIONAL_EXPORTERS, ScrapedServiceKey, STACK_SERVICES } from "../stack-services";
import type { QueueConfig, RemoteWriteConfig } from "./remote-config";
import { FEDERATION_CA_PATH, HEALTHCHECK_PASSWORD_PATH, PROMETHEUS_CA_PATH, PROMETHEUS_LOGINS, PROMETHEUS_WEB_CONFIG_PATH, requiredLogins } from "./web-config";
import { httpsWhen, type TlsConfig } from "../tls/config";
import type { AgentHost } from "../agents/config";
import { scrapeLimitFields, type ScrapeLimits } from "./scrape-limits";
import { blackboxBasicAuth } from "./blackbox-login";

/** What prometheus.yml is rendered from: the metrics slice, the catalog, which stack this is, where it is published (the login) and the agent hosts it pulls. */
export type PrometheusConfigInput = Pick<CoreConfig, "stack" | "environment" | "services" | "role" | "bindAddress"> &
  MetricsConfig & { tls?: Pick<TlsConfig["tls"], "centralCaCertificate"> } & { agents?: AgentHost[] };

/**
 * host:port of each scrape target of the stack itself, as Prometheus reaches them. Grafana is absent
 * with an external Grafana (grafana.external) or on an agent host; an optional exporter when it does not run.
 */
export type ScrapeAddresses = { prometheus: string; nodeExporter: string; blackboxExporter: string } & Partial<Record<ScrapedServiceKey, string>>;

/** The stack's own scrape jobs, in the order prometheus.yml lists them (before the catalog's): the optional exporters last, in list order. */
const OWN_JOBS_IN_ORDER: readonly ScrapedServiceKey[] = [
  "prometheus",
  "nodeExporter",
  "blackboxExporter",
  "grafana",
  ...OPTIONAL_EXPORTERS.map((service) => service.key),
];

/** The blackbox exporter module the health probes use. */
export const HEALTH_PROBE_MODULE = "http_2xx";

/**
 * With tls on: the job and the blackbox module that probe the stack's own TLS endpoints (a TCP connection
 * and a TLS handshake that trusts the stack CA), whose `probe_ssl_earliest_cert_expiry` the alerts of
 * alerts/tls.yml watch, and the group those alerts are in (loaded only when tls is on).
 */
export const TLS_PROBE_JOB = "blackbox-tls";
export const TLS_PROBE_MODULE = "tls_connect";
export const TLS_ALERT_GROUP = "atra-tls";
/** The scrape jobs of the stack's own services that serve TLS when it is on (Elasticsearch and Kibana are probed, not scraped). */
const TLS_SCRAPED_JOBS: readonly ScrapedServiceKey[] = ["prometheus", "grafana"];

/** One entry of `scrape_configs`, as far as we render it. */
export interface ScrapeConfig {
  job_name: string;
  basic_auth?: { username: string; password_file: string };
  scheme?: string;
  tls_config?: { ca_file?: string; server_name?: string };
  metrics_path?: string;
  params?: Record<string, string[]>;
  honor_labels?: boolean;
  honor_timestamps?: boolean;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
  /** The catalog services' limits (scrape-limits.ts) and the agent jobs' (agentFederationJob). */
  body_size_limit?: string;
  sample_limit?: number;
  label_limit?: number;
  label_name_length_limit?: number;
  label_value_length_limit?: number;
  target_limit?: number;
  follow_redirects?: boolean;
  relabel_configs?: { source_labels?: string[]; target_label: string; replacement?: string }[];
  metric_relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string; replacement?: string }[];
}

/**
 * Every target carries `host` as a target label, so every series this Prometheus scrapes has it in its own
 * TSDB too. `external_labels` alone would not do: Prometheus adds them only to what leaves the server
 * (remote write, federation, alerts; prometheus/prometheus docs/configuration/configuration.md,
 * `external_labels`), never to local queries, so on a central stack receiving agents' remote writes its own
 * series would lack `host` while the agents' had it, and the dashboards' `host` filter would drop them.
 */
export function renderPrometheusConfig(config: PrometheusConfigInput, addresses: ScrapeAddresses, ruleFiles: readonly string[] = [], ownTls?: OwnTls): string {
  const host = config.prometheus.hostLabel;
  const scrapeConfigs: ScrapeConfig[] = OWN_JOBS_IN_ORDER.flatMap((service) => {
    const target = addresses[service];
    return target !== undefined
      ? [
          {
            job_name: STACK_SERVICES[service].scrapeJob,
            ...selfScrapeLogin(config, service),
            // The blackbox exporter answers only its login (blackbox-login.ts), its own /metrics too.
            ...(service === "blackboxExporter" ? { basic_auth: blackboxBasicAuth() } : {}),
            ...selfScrapeTls(ownTls, service),
            static_configs: [{ targets: [target], labels: { host } }],
          },
        ]
      : [];
  });

  for (const service of config.services) {
    if (service.metrics) scrapeConfigs.push(serviceScrapeJob(service, service.metrics, host, { ...config.prometheus.scrapeLimits, ...service.scrapeLimits }));
  }
  const probed = config.services.filter((service) => service.health);
  if (probed.length > 0) scrapeConfigs.push(healthProbeJob(probed, addresses.blackboxExporter, host));
  if (ownTls && ownTls.probeTargets.length > 0) scrapeConfigs.push(tlsProbeJob(ownTls.probeTargets, addresses.blackboxExporter, host));
  // Each agent host's /federate, one job each (a central stack listing agents[]).
  for (const agent of config.role === "central" ? (config.agents ?? []) : []) scrapeConfigs.push(agentFederationJob(agent, config.prometheus.agentLimits));

  const document = {
    global: {
      scrape_interval: config.prometheus.scrapeInterval,
      scrape_timeout: config.prometheus.scrapeTimeout,
      evaluation_interval: config.prometheus.evaluationInterval,
      external_labels: externalLabels(config),
    },
    // Rule files in the container (the SLO room's recording rules), which Prometheus evaluates itself.
    ...(ruleFiles.length > 0 ? { rule_files: [...ruleFiles] } : {}),
    scrape_configs: scrapeConfigs,
    ...(config.prometheus.remoteWrite.length > 0
      ? {
          remote_write: config.prometheus.remoteWrite.map((remote) =>
            remoteWriteSection(remote, config.tls?.centralCaCertificate ? PROMETHEUS_CA_PATH : undefined),
          ),
        }
      : {}),
  };
  return `# Rendered by atra-observability for stack "${config.stack}". Do not edit: change the stack config.\n${yaml.dump(document, {
    lineWidth: -1,
    noRefs: true,
  })}`;
}

/**
 * `stack`, `environment` and `host`, so that a backend receiving from several hosts tells them apart (and
 * two hosts never write one series). `host` repeats the target label, which is harmless: an external
 * label is added only where the series lacks that label (prometheus/prometheus
 * storage/remote/queue_manager.go, `processExternalLabels`: the series' own value wins).
 */
function externalLabels(config: PrometheusConfigInput): Record<string, string> {
  return { stack: config.stack, environment: config.environment, host: config.prometheus.hostLabel };
}

/**
 * The stack's own Grafana's /metrics always has a login, which the scrape of it sends. With a login
 * (published beyond loopback, or a federated agent: web-config.ts requiredLogins), Prometheus's scrape
 * of itself logs in too: as the healthcheck login, the password read from its file
 * (prometheus/common config/http_config.go `BasicAuth`), never in here.
 */
function selfScrapeLogin(config: PrometheusConfigInput, service: ScrapedServiceKey): Pick<ScrapeConfig, "basic_auth"> {
  // The stack's own Grafana always requires its /metrics login (grafana/service.ts GRAFANA_METRICS_USER).
  if (service === "grafana") return { basic_auth: { username: GRAFANA_METRICS_USER, password_file: GRAFANA_METRICS_PASSWORD_PATH } };
  return requiredLogins(config).includes("healthcheck") && service === "prometheus"
    ? { basic_auth: { username: PROMETHEUS_LOGINS.healthcheck, password_file: HEALTHCHECK_PASSWORD_PATH } }
    : {};
}

/** The scrape job of one agent host: a valid, unique job name (prometheus/prometheus config/config.go requires only a non-empty, unique `job_name`). */
export function agentJobName(host: string): string {
  return `${AGENT_JOB_PREFIX}${host}`;
}
export const AGENT_JOB_PREFIX = "agent-";
/** Where the central Prometheus keeps the password it logs in to an agent host with (uploaded as a secret by MetricsStack). */
export function agentPasswordPath(host: string): string {
  return `${PROMETHEUS_SECRETS_DIR}/agent-${host}-password`;
}

/**
 * Jobs only the central stack scrapes, which no agent host runs: Grafana, the TLS probes, and the
 * agents' federation jobs themselves. An agent's series with one of them is dropped. The jobs both
 * run (prometheus, node-exporter, blackbox-exporter, blackbox-health, cadvisor, catalog services) are
 * kept: they are the agent's own, and its `host` (set below, whatever it sent) tells them from the central's.
 */
export const CENTRAL_ONLY_JOBS: readonly string[] = [STACK_SERVICES.grafana.scrapeJob, TLS_PROBE_JOB];

/**
 * Series names only the central stack makes: recording rules' outputs (`level:metric:operations`, a colon
 * in the name: the SLO series of components/slo, which the SLO alerts and dashboards read across hosts),
 * which an agent host never evaluates (its Prometheus loads no rule file), and Prometheus's own alert
 * series. Dropped from what an agent sends, so it cannot fake an SLO's burn for a service. Exporters do
 * not put colons in names (prometheus/docs content/docs/concepts/data_model.md: "The colons are reserved
 * for user defined recording rules. They should not be used by exporters or direct instrumentation").
 */
export const CENTRAL_ONLY_NAMES = ".*:.*|ALERTS|ALERTS_FOR_STATE";

/** Per-agent scrape limits (prometheus.agentLimits), with their defaults in remote-config.ts. */
export interface AgentScrapeLimits {
  sampleLimit: number;
  labelLimit: number;
  labelNameLengthLimit: number;
  labelValueLengthLimit: number;
  bodySizeLimit: string;
}

/**
 * The central Prometheus pulling one agent host's Prometheus (prometheus/prometheus web/federate.go
 * `federation`: every series matching a `match[]` selector, its latest sample, with the agent's
 * external labels added where the series lacks them). Why each setting:
 * - `honor_labels: true`: the agent's `job` and `instance` stay (node-exporter, the catalog services), as
 *   federation needs (docs/configuration/configuration.md, `honor_labels`); the target labels then yield
 *   to the scraped ones (scrape/scrape.go `mutateSampleLabels`: with honor, a target label is set only
 *   where the series lacks it), so `host` is set again afterwards:
 * - `metric_relabel_configs`, applied after that merge (same function: `relabel.Process` on the merged
 *   labels), first drop every series whose `job` is a central-only job (CENTRAL_ONLY_JOBS, `agent-*`),
 *   then set `host` to this entry's host whatever the agent sent (a `replace` with no source labels:
 *   the empty value matches the default regex `(.*)`, model/relabel/relabel.go). The central decides
 *   which host an agent's series carry; the config rules refuse an agent named as the central host.
 * - `honor_timestamps: false`: every sample carries the central's scrape time, never the agent's, so a
 *   future-dated sample cannot make later real samples out of order (scrape/scrape.go `scrapeLoop.append`:
 *   `if !sl.honorTimestamps { parsedTimestamp = nil }`, the sample then at `defTime`, the scrape's time).
 * - `service`: a series naming a catalog service is kept only if this host runs it (agents[].services;
 *   series without `service`, node-exporter's and the like, stay). Without it an agent could send
 *   `probe_success{job="blackbox-health",service="X"}` for a service X of another host and fake or hide
 *   X's alerts and SLO burn, which sum across hosts. For a service it does run (listed), it is one of the
 *   hosts the SLO rules sum `by (service)`: its series weigh in that service's burn (and can dilute it)
 *   like any replica's; this keeps it out of the others' services only. A `keep` regex is anchored by Prometheus
 *   (prometheus/prometheus model/relabel/relabel.go `NewRegexp`: `^(?:` + expr + `)$`), names escaped.
 * - the limits: over `sample_limit` (after metric relabelling) the whole scrape fails and stores nothing
 *   of it (scrape.go `errSampleLimit`, `up` 0); `label_limit` / `label_name_length_limit` /
 *   `label_value_length_limit` fail it the same way (`verifyLabelLimits`); a body over `body_size_limit`
 *   is cut off and fails (`errBodySizeLimit`). These bound ONE scrape, not the series an agent adds over
 *   time: Prometheus has no per-target cap on head series (scrape/scrape.go: `appenderWithLimits` wraps
 *   each scrape's appender with sample_limit only, `seriesAdded` is counted into `scrape_series_added` and
 *   never limited; config/config.go `ScrapeConfig` has no series limit). An agent sending new label values
 *   at every scrape adds up to `sample_limit` new series per scrape (a review measured with 2.42: 5,000 new
 *   series per 2 s scrape, ~1.3 KB RSS each with short labels, ~22 KB with 36 labels of 250 bytes, ~4-6 KB at the
 *   default 25 x 128; test/real-tools/agent-federation.test.ts shows 1,500 per pull all added). So what one agent can add is bounded per scrape by these limits
 *   and, over time, only by the alerts AgentSeriesChurn (alerts/stack.yml, `scrape_series_added` per agent
 *   job) and PrometheusMemoryHigh (the central's RSS against memoryMb.prometheus: metrics/memory-rule.ts) and the operator removing that host's entry (docs/runbook.md#agentserieschurn; residual risk in
 *   docs/add-a-host.md).
 * - `follow_redirects: false`: prometheus/common config/http_config.go `DefaultHTTPClientConfig` follows
 *   redirects by default, sending the basic-auth header again at each hop; an agent must not be able to
 *   send the central's login for it elsewhere.
 * - https trusting only the federation CA that issued the agents' certificates and checking its host name;
 *   the login is this host's own password, read from its file at each scrape (prometheus/common config/http_config.go).
 * The `up` of this job (host = the agent) says whether the pull works; the agent's own `up{job="prometheus"}`
 * arrives through it, so HostNotReporting (alerts/stack.yml) fires when the pull stops.
 */
function agentFederationJob(agent: AgentHost, limits: AgentScrapeLimits): ScrapeConfig {
  const url = new URL(agent.prometheusUrl);
  const dropped = [...CENTRAL_ONLY_JOBS.map(escapeRegex), `${escapeRegex(AGENT_JOB_PREFIX)}.*`].join("|");
  return {
    job_name: agentJobName(agent.host),
    scheme: "https",
    metrics_path: "/federate",
    // Every series (a selector must match something non-empty: web/federate.go parses each with parser.ParseMetricSelector).
    params: { "match[]": ['{__name__=~".+"}'] },
    honor_labels: true,
    honor_timestamps: false,
    sample_limit: limits.sampleLimit,
    label_limit: limits.labelLimit,
    label_name_length_limit: limits.labelNameLengthLimit,
    label_value_length_limit: limits.labelValueLengthLimit,
    body_size_limit: limits.bodySizeLimit,
    follow_redirects: false,
    basic_auth: { username: PROMETHEUS_LOGINS.central, password_file: agentPasswordPath(agent.host) },
    tls_config: { ca_file: FEDERATION_CA_PATH, server_name: agent.host },
    static_configs: [{ targets: [hostPort(url)], labels: { host: agent.host } }],
    metric_relabel_configs: [
      { source_labels: ["job"], regex: `(${dropped})`, action: "drop" },
      { source_labels: ["__name__"], regex: CENTRAL_ONLY_NAMES, action: "drop" },
      { source_labels: ["service"], regex: agentServicesRegex(agent.services), action: "keep" },
      { target_label: "host", replacement: agent.host },
    ],
  };
}

/** The `service` values kept from an agent: none (series of no service) or one of its own services, each a literal. */
export function agentServicesRegex(services: readonly string[]): string {
  // In parentheses so the empty list is `()`, not an empty regex a reader might take for the default `(.*)`.
  return `(${["", ...services.map(escapeRegex)].join("|")})`;
}

/** A literal in a Prometheus (RE2) regex. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * How the stack's own clients of its TLS servers check them: the CA file in the container (absent for a
 * provided certificate from a public CA: the system roots then apply) and the name the certificate must
 * carry (publicHostname: a generated certificate names it, and the preflight refuses a provided one that does not).
 */
export interface OwnTlsClient {
  caFile?: string;
  serverName: string;
}

/** prometheus.yml with tls on: how Prometheus trusts the stack's servers, and the endpoints (host:port) the blackbox exporter probes. */
export interface OwnTls extends OwnTlsClient {
  probeTargets: string[];
}

/**
 * With tls on, Prometheus and Grafana serve only TLS (web-config.ts; Grafana `server.protocol = https`):
 * the scrapes of them are https, trusting the CA (prometheus/common config/http_config.go `TLSConfig`:
 * `ca_file`, `server_name`; `scheme` in prometheus/prometheus config/config.go `ScrapeConfig`).
 * Verification stays on.
 */
function selfScrapeTls(ownTls: OwnTlsClient | undefined, service: ScrapedServiceKey): Pick<ScrapeConfig, "scheme" | "tls_config"> {
  return ownTls && TLS_SCRAPED_JOBS.includes(service) ? { scheme: "https", tls_config: tlsClientConfig(ownTls) } : {};
}

/** `tls_config` of a client of the stack's own servers (prometheus/common config/http_config.go `TLSConfig`, which the blackbox exporter takes too). */
function tlsClientConfig(own: OwnTlsClient): { ca_file?: string; server_name: string } {
  return { ...(own.caFile ? { ca_file: own.caFile } : {}), server_name: own.serverName };
}

/** Where the credentials of a remote write sit in the Prometheus container (uploaded as a secret by MetricsStack). */
export function remoteWriteCredentialsPath(name: string): string {
  return `${PROMETHEUS_SECRETS_DIR}/remote-write-${name}`;
}
export const PROMETHEUS_SECRETS_DIR = "/etc/prometheus/secrets";

/** prometheus.yml's `queue_config` names for ours (prometheus/prometheus config/config.go, QueueConfig yaml tags). */
const QUEUE_CONFIG_FIELDS: Record<keyof QueueConfig, string> = {
  capacity: "capacity",
  maxShards: "max_shards",
  minShards: "min_shards",
  maxSamplesPerSend: "max_samples_per_send",
  batchSendDeadline: "batch_send_deadline",
  minBackoff: "min_backoff",
  maxBackoff: "max_backoff",
  retryOnRateLimit: "retry_on_http_429",
};

/**
 * One `remote_write` entry. The password or token is never in prometheus.yml: it is read from a file
 * (`basic_auth.password_file`, `authorization.credentials_file`, prometheus/common config/http_config.go
 * `BasicAuth`/`Authorization`, in both v0.39 used by Prometheus 2.42 and current versions), which
 * Prometheus reads at each request and trims.
 */
function remoteWriteSection(remote: RemoteWriteConfig, caFile?: string): Record<string, unknown> {
  const queue = Object.entries(remote.queueConfig ?? {}).map(([key, value]) => [QUEUE_CONFIG_FIELDS[key as keyof QueueConfig], value]);
  return {
    name: remote.name,
    url: remote.url,
    ...(Object.keys(remote.headers).length > 0 ? { headers: remote.headers } : {}),
    ...(remote.credentials === "basic" ? { basic_auth: { username: remote.basicAuthUser, password_file: remoteWriteCredentialsPath(remote.name) } } : {}),
    ...(remote.credentials === "bearer" ? { authorization: { type: "Bearer", credentials_file: remoteWriteCredentialsPath(remote.name) } } : {}),
    ...(queue.length > 0 ? { queue_config: Object.fromEntries(queue) } : {}),
    // An https remote write to a private CA (an agent's tls.caCertificate: the central stack's output
    // caCertificate): `tls_config.ca_file` (prometheus/common config/http_config.go `TLSConfig`,
    // `yaml:"ca_file"`, in v0.39 of Prometheus 2.42 and current). Verification stays on (no insecure_skip_verify).
    ...(caFile && remote.url.toLowerCase().startsWith("https:") ? { tls_config: { ca_file: caFile } } : {}),
  };
}

/**
 * One job per service, named after it, so `up{job="<service>"}` reads naturally in queries, with its scrape
 * limits (the stack's, under the service's own): a breach fails that service's scrape only (scrape-limits.ts).
 */
function serviceScrapeJob(service: ServiceConfig, metricsUrl: string, host: string, limits: ScrapeLimits): ScrapeConfig {
  const url = new URL(metricsUrl);
  const params: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (params[name] ??= []).push(value);
  return {
    job_name: service.name,
    scheme: url.protocol.replace(":", ""),
    metrics_path: url.pathname,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    static_configs: [{ targets: [hostPort(url)], labels: serviceLabels(service, host) }],
    ...scrapeLimitFields(limits),
  };
}

/**
 * The multi-target exporter pattern: each health URL becomes the `target` parameter of a probe sent to
 * the blackbox exporter, and the `instance` label keeps the URL rather than the exporter's address.
 */
function healthProbeJob(services: ServiceConfig[], blackboxAddress: string, host: string): ScrapeConfig {
  return {
    job_name: STACK_SERVICES.blackboxExporter.probeJob,
    // The exporter's login (blackbox-login.ts): nothing else on the applications' networks can make it probe.
    basic_auth: blackboxBasicAuth(),
    metrics_path: "/probe",
    params: { module: [HEALTH_PROBE_MODULE] },
    static_configs: services.map((service) => ({ targets: [service.health as string], labels: serviceLabels(service, host) })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: blackboxAddress },
    ],
  };
}

/**
 * The stack's own TLS endpoints through the blackbox exporter's TLS module (multi-target pattern as
 * above): `instance` is the endpoint (`<container>:<port>` on the stack network). A service whose
 * certificate the probe cannot verify, or that does not answer, has `probe_success` 0.
 */
function tlsProbeJob(targets: string[], blackboxAddress: string, host: string): ScrapeConfig {
  return {
    job_name: TLS_PROBE_JOB,
    basic_auth: blackboxBasicAuth(),
    metrics_path: "/probe",
    params: { module: [TLS_PROBE_MODULE] },
    static_configs: [{ targets: [...targets], labels: { host } }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: blackboxAddress },
    ],
  };
}

/** Explicit port, so the target label is the same under Prometheus 2 and 3. */
function hostPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

/**
 * The blackbox exporter's modules: the health probes', and with tls on the TLS probe's: a TCP
 * connection with a TLS handshake (prometheus/blackbox_exporter config/config.go `TCPProbe`: `tls`,
 * `tls_config`, a prometheus/common `TLSConfig` with `ca_file` and `server_name`). The handshake
 * verifies the chain against the CA and the name (prober/tcp.go dialTCP: `tls.DialWithDialer` with that
 * config), so an untrusted, misnamed or expired certificate fails the probe; a good one sets
 * `probe_ssl_earliest_cert_expiry`, the earliest `NotAfter` of the chain the server presents
 * (prober/tcp.go ProbeTCP: `if module.TCP.TLS { ... probeSSLEarliestCertExpiry.Set(...) }`;
 * prober/tls.go getEarliestCertExpiry over `state.PeerCertificates`). A TCP handshake, not an HTTP
 * request: Elasticsearch and Prometheus answer an anonymous request with 401, which says nothing of the
 * certificate. `tls` is the TLS client settings in the blackbox container (CA file, server name), absent with tls off.
 */
export function renderBlackboxConfig(tls?: OwnTlsClient): string {
  const document = {
    modules: {
      [HEALTH_PROBE_MODULE]: {
        prober: "http",
        timeout: "5s",
        http: { preferred_ip_protocol: "ip4", follow_redirects: true },
      },
      ...(tls
        ? { [TLS_PROBE_MODULE]: { prober: "tcp", timeout: "5s", tcp: { preferred_ip_protocol: "ip4", tls: true, tls_config: tlsClientConfig(tls) } } }
        : {}),
    },
  };
  return `# Rendered by atra-observability. Do not edit.\n${yaml.dump(document, { lineWidth: -1 })}`;
}

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const PROMETHEUS_DATA_PATH = "/prometheus";

/**
 * The agent's write-ahead log, in its own directory of the data volume: the agent and the server both
 * keep theirs in `<storage path>/wal` (prometheus/prometheus tsdb/agent/db.go `Open`, tsdb/db.go), so a
 * switch of mode never replays one's log as the other's.
 */
export const PROMETHEUS_AGENT_DATA_PATH = `${PROMETHEUS_DATA_PATH}/agent`;

/**
 * Command line of the Prometheus container (3.x). The lifecycle API stays off: config changes replace
 * the container. Agent mode is `--agent` with `--storage.agent.path` and none of the server-only
 * flags, which Prometheus refuses in agent mode (prometheus/prometheus v3.5.0 and v3.13.2
 * cmd/prometheus/main.go: `a.Flag("agent", ...)`, `serverOnlyFlag(a, "storage.tsdb.retention.time", ...)`,
 * "can not be used in agent mode"); 2.42 spells it `--enable-feature=agent` (v2.42.0 cmd/prometheus/main.go,
 * setFeatureListOptions). No remote-write receiver (`--web.enable-remote-write-receiver`): agent hosts
 * are pulled over /federate instead, so no login can write. The web config (login and TLS,
 * web-config.ts) comes with TLS, which every Prometheus reachable beyond loopback has.
 *
 * Retention stays on the flags although 3.8+ marks them "[DEPRECATED] ... use the
 * storage.tsdb.retention.time field in the config file instead" (v3.13.2 cmd/prometheus/main.go lines
 * 502/505; commit ad4b59c504, #17026): they still work in 3.13, and the config-file form
 * (`storage: tsdb: retention:`) is unknown to the 2.42 promtool the tests check the config with, which
 * would refuse the file. Every other flag above is still in v3.13.2's main.go (checked 2026-12-07).
 */
export function prometheusCommand(config: Pick<MetricsConfig, "prometheus" | "prometheusPublicUrl">, serverTls = false): string[] {
  const storage =
    config.prometheus.mode === "agent"
      ? ["--agent", `--storage.agent.path=${PROMETHEUS_AGENT_DATA_PATH}`]
      : [
          `--storage.tsdb.path=${PROMETHEUS_DATA_PATH}`,
          `--storage.tsdb.retention.time=${config.prometheus.retentionTime}`,
          `--storage.tsdb.retention.size=${config.prometheus.retentionSize}`,
        ];
  return [
    `--config.file=${PROMETHEUS_CONFIG_PATH}`,
    ...storage,
    `--web.listen-address=:${STACK_SERVICES.prometheus.port}`,
    // With tls on the stack's URLs are https (tls/config.ts httpsWhen): the UI's links too.
    `--web.external-url=${httpsWhen(config.prometheusPublicUrl, serverTls)}`,
    // The web config carries the logins (web-config.ts requiredLogins) and the TLS server settings. A login
    // comes only with TLS: a central bind beyond loopback (tls/config.ts refuses tls off there) or a federated agent.
    ...(serverTls ? [`--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`] : []),
  ];
}
