/**
 * The metrics room: Prometheus and the exporters it scrapes (node-exporter for the host, the
 * blackbox exporter for health probes, and the optional exporters listed in stack-services.ts, each
 * made from its descriptor). Prometheus and the prober join the applications' networks so catalog
 * hostnames resolve.
 */
import { GRAFANA_METRICS_PASSWORD_PATH } from "../grafana/service";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CoreConfig } from "../config/resolve";
import type { DockerConfig } from "../docker/config";
import type { DockerPlatform } from "../docker/platform";
import { dockerNames, stackNetworkAddress } from "../docker/names";
import { httpHealthcheck, loopbackUrl, publishedPort, serviceContainer } from "../docker/service-container";
import { OPTIONAL_EXPORTERS, OptionalExporterConfig, STACK_SERVICES, StackServiceKey } from "../stack-services";
import type { ExporterContainer } from "../stack-service";
import type { MetricsConfig } from "./config";
import { httpsWhen, type TlsConfig } from "../tls/config";
import type { ServerTls } from "../tls/pki";
import type { AgentHost } from "../agents/config";
import {
  blackboxHealthcheck,
  blackboxHealthcheckCredentials,
  BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH,
  BLACKBOX_PASSWORD_PATH,
  BLACKBOX_WEB_CONFIG_PATH,
  renderBlackboxWebConfig,
} from "./blackbox-login";
import {
  OwnTlsClient,
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_DATA_PATH,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
  remoteWriteCredentialsPath,
  ScrapeAddresses,
  agentPasswordPath,
} from "./prometheus-config";
import type { AgentFederation } from "./agent-federation";
import { issuingCa } from "./agent-federation";
import type { FederationSecret } from "./remote-config";
import {
  FEDERATION_CA_PATH,
  HEALTHCHECK_HTTP_CONFIG_PATH,
  HEALTHCHECK_PASSWORD_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_TLS_CERT_PATH,
  PROMETHEUS_TLS_KEY_PATH,
  PROMETHEUS_WEB_CONFIG_PATH,
  PrometheusLogin,
  PROMETHEUS_CA_PATH,
  promtoolHealthcheck,
  renderHealthcheckHttpConfig,
  renderWebConfig,
  requiredLogins,
} from "./web-config";

/**
 * The metrics slice, the core settings (catalog, names, ports, memory), the app networks (docker
 * slice), what the optional exporters read, and what decides whether Grafana is scraped here.
 */
export type MetricsStackConfig = CoreConfig &
  MetricsConfig &
  Pick<DockerConfig, "appNetworks"> &
  OptionalExporterConfig &
  GrafanaScraped & { tls?: Pick<TlsConfig["tls"], "centralCaCertificate"> } & { agents?: AgentHost[] };
/** Whether Grafana is this stack's (scraped), external (`grafana.external`) or absent on an agent host (not). */
interface GrafanaScraped {
  grafana?: { external?: unknown };
}

const BLACKBOX_CONFIG_PATH = "/etc/blackbox_exporter/config.yml";
/** The stack CA in the blackbox container (tls on), which its TLS module trusts. */
const BLACKBOX_CA_PATH = "/etc/blackbox_exporter/tls/ca.pem";
/** How containers on a bridge network reach the host (node-exporter runs in the host's network). */
const HOST_GATEWAY_NAME = "host.docker.internal";
/** Mounts node-exporter must not report: Docker's own layers and the pseudo filesystems. */
const NODE_EXPORTER_MOUNT_EXCLUDE = "^/(dev|proc|sys|run/docker/.+|run/containerd/.+|var/lib/docker/.+)($|/)";

/** Where Prometheus, inside the stack network, reaches each of the stack's own targets. */
export function dockerScrapeAddresses(
  config: Pick<CoreConfig, "namePrefix" | "role"> & Pick<MetricsConfig, "nodeExporter"> & OptionalExporterConfig & GrafanaScraped,
): ScrapeAddresses {
  const names = dockerNames(config);
  const running = optionalExportersRunning(config);
  const [address, port] = config.nodeExporter.listenAddress.split(":");
  return {
    prometheus: `localhost:${STACK_SERVICES.prometheus.port}`,
    // Listening on every interface: reach it through the host gateway; else on the address it listens on.
    nodeExporter: address === "0.0.0.0" ? `${HOST_GATEWAY_NAME}:${port}` : config.nodeExporter.listenAddress,
    blackboxExporter: stackNetworkAddress(names, "blackboxExporter"),
    // An external Grafana (grafana.external) is not on the stack network, and an agent host runs none: not scraped here.
    grafana: config.grafana?.external || config.role === "agent" ? undefined : stackNetworkAddress(names, "grafana"),
    ...Object.fromEntries(running.map((service) => [service.key, stackNetworkAddress(names, service.key)])),
  };
}

/** The optional exporters this stack runs (their descriptor's `runs`). */
function optionalExportersRunning(config: OptionalExporterConfig) {
  return OPTIONAL_EXPORTERS.filter((service) => (service.runs as (config: OptionalExporterConfig) => boolean)(config));
}

/**
 * One upload per remote write with credentials, its content the secret (so encrypted in state). The
 * provider uploads files owned by root (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container_funcs.go: the tar header sets no owner) and Prometheus
 * runs as `nobody` (prometheus/prometheus Dockerfile, `USER nobody`): read-only for all, like
 * prometheus.yml, inside a container only this stack's Docker users reach.
 */
function remoteWriteCredentialUploads(config: MetricsStackConfig, secrets: Record<string, pulumi.Output<string>> = {}) {
  return config.prometheus.remoteWrite
    .filter((remote) => remote.credentials !== "none")
    .map((remote) => {
      const secret = secrets[remote.name];
      if (!secret) throw new Error(`remote write "${remote.name}" has credentials configured but no remoteWriteSecrets.${remote.name} was handed over`);
      return { file: remoteWriteCredentialsPath(remote.name), content: pulumi.secret(secret), permissions: "0444" };
    });
}

/**
 * One generated password per login (web-config.ts requiredLogins). The random provider computes the
 * bcrypt hash once, at create, and keeps it in state (hashicorp/terraform-provider-random
 * internal/provider/resource_password.go: `Create` sets `bcrypt_hash`, `Read` does nothing, the
 * attribute's plan modifier is `UseStateForUnknown`), so a second `up` renders the same web config;
 * `result` and `bcryptHash` are secret outputs (@pulumi/random randomPassword.js,
 * `additionalSecretOutputs`). Letters and digits, 32 of them: far under bcrypt's 72 bytes.
 */
type Logins = Partial<Record<PrometheusLogin, random.RandomPassword>> & { healthcheck: random.RandomPassword };
function generatedLogins(parent: pulumi.Resource, logins: PrometheusLogin[]): Logins | undefined {
  if (!logins.includes("healthcheck")) return undefined;
  const generate = (login: PrometheusLogin) => new random.RandomPassword(`prometheus-${login}-password`, { length: 32, special: false }, { parent });
  // The central's login on an agent host is not generated here: its hash comes from the central stack (`federation`).
  const generated = logins.filter((login) => login !== "central").map((login) => [login, generate(login)] as const);
  return Object.fromEntries(generated) as Logins;
}

/**
 * The web config (web-config.ts): the logins' hashes (generated here, and on a federated agent the
 * central's from its `federation` secret) and the server certificate's files. Always with TLS: a
 * login comes only with it (web-config.ts requiredLogins). Secret: no need to publish the hashes.
 */
function webConfigUpload(logins: Logins | undefined, serverTls: boolean, centralHash?: pulumi.Output<string>) {
  const tls = serverTls ? { certFile: PROMETHEUS_TLS_CERT_PATH, keyFile: PROMETHEUS_TLS_KEY_PATH } : undefined;
  if (!logins) return tls ? [{ file: PROMETHEUS_WEB_CONFIG_PATH, content: renderWebConfig(undefined, tls), permissions: "0444" }] : [];
  if (!tls) throw new Error("MetricsStack: a Prometheus login without TLS would cross the network in clear (the config rules never allow it)");
  const entries: (readonly [string, pulumi.Output<string>])[] = [
    ...Object.entries(logins).map(([login, password]) => [PROMETHEUS_LOGINS[login as PrometheusLogin], password.bcryptHash] as const),
    ...(centralHash ? [[PROMETHEUS_LOGINS.central, centralHash] as const] : []),
  ];
  const webConfig = pulumi
    .all(entries.map(([, hash]) => hash))
    .apply((hashes) => renderWebConfig(Object.fromEntries(entries.map(([user], index) => [user, hashes[index]])), tls));
  return [{ file: PROMETHEUS_WEB_CONFIG_PATH, content: pulumi.secret(webConfig), permissions: "0444" }];
}

/** The healthcheck login's password, for the self-scrape and the healthcheck's http config (both name the file). */
function loginUploads(logins: Logins) {
  return [{ file: HEALTHCHECK_PASSWORD_PATH, content: pulumi.secret(logins.healthcheck.result), permissions: "0444" }];
}

/**
 * A central stack listing agents: the password it logs in to each agent with (one file each, named by
 * the agent's job), and the CA that issued their certificates. Read-only for all as the credentials above.
 */
function agentFederationUploads(federation: AgentFederation) {
  return [
    { file: FEDERATION_CA_PATH, content: federation.caCertificate, permissions: "0444" },
    ...federation.agents.map((agent) => ({ file: agentPasswordPath(agent.host), content: pulumi.secret(agent.password), permissions: "0444" })),
  ];
}

/**
 * With tls on: the server certificate chain, its key (a secret upload, so encrypted in state), the CA,
 * and the TLS healthcheck's http config. Read-only for all, the key too: Prometheus runs as `nobody` and
 * the provider uploads files owned by root (see remoteWriteCredentialUploads), inside a container only
 * this stack's Docker users reach.
 */
function serverTlsUploads(server: ServerTls, login: boolean, caPath: string) {
  return [
    { file: PROMETHEUS_TLS_CERT_PATH, content: server.serverCertificate, permissions: "0444" },
    { file: PROMETHEUS_TLS_KEY_PATH, content: pulumi.secret(server.serverKey), permissions: "0444" },
    ...(server.caCertificate ? [{ file: caPath, content: server.caCertificate, permissions: "0444" }] : []),
    {
      file: HEALTHCHECK_HTTP_CONFIG_PATH,
      content: renderHealthcheckHttpConfig({ login, caFile: server.caCertificate ? caPath : undefined, serverName: server.serverName }),
      permissions: "0444",
    },
  ];
}

/**
 * A federated agent host's server TLS, from its `federation` secret: the certificate the central stack
 * issued for this host, its key, and the issuer in the chain, which the agent's own clients (healthcheck,
 * self-scrape) trust. They reach it over loopback yet check the one name the certificate carries, the host's
 * publicHostname (= its agents[] entry; agent-federation.ts agentCertificateNames).
 */
export function federatedAgentTls(federation: pulumi.Output<FederationSecret>, publicHostname: string): ServerTls {
  return {
    serverCertificate: federation.apply((value) => value.certificate),
    serverKey: pulumi.secret(federation.apply((value) => value.key)),
    caCertificate: federation.apply((value) => issuingCa(value.certificate)),
    serverName: publicHostname,
  };
}

export interface MetricsStackArgs {
  /** The metrics slice, the catalog, and what names, publishes and sizes its containers. */
  config: MetricsStackConfig;
  platform: DockerPlatform;
  /** Rule files Prometheus evaluates itself (the SLO room's recording rules): uploaded next to prometheus.yml, named in its rule_files. */
  ruleFiles?: { path: string; content: string }[];
  /** Remote write name to its password or token (secret): uploaded as the file prometheus.yml names, never written into it. */
  remoteWriteSecrets?: Record<string, pulumi.Output<string>>;
  /**
   * A central stack with tls on (components/tls): the certificate Prometheus serves and the CA its scrapes of
   * itself and Grafana, its healthcheck and the blackbox exporter trust; and the stack's TLS endpoints the
   * blackbox exporter probes for their certificate (each of the stack's services that runs and serves TLS).
   */
  tls?: { server: ServerTls; probed: StackServiceKey[] };
  /** A central stack listing agents[]: their passwords and the CA of their certificates (agent-federation.ts). */
  agentFederation?: AgentFederation;
  /** A federated agent host: what the central stack issued for it (the secret `federation`); its Prometheus then serves TLS with a login. */
  federation?: pulumi.Output<FederationSecret>;
  /** The stack's own Grafana's /metrics password (GrafanaServer.metricsPassword), which the scrape of Grafana sends. */
  grafanaMetricsPassword?: pulumi.Output<string>;
}

export class MetricsStack extends pulumi.ComponentResource {
  readonly prometheus: docker.Container;
  readonly nodeExporter: docker.Container;
  readonly blackboxExporter: docker.Container;
  /** The optional exporters it runs (stack-services.ts), by key. */
  readonly optionalExporters: Partial<Record<StackServiceKey, docker.Container>> = {};
  /** The rendered prometheus.yml, also written out by the offline plan. */
  readonly prometheusConfig: string;
  readonly blackboxConfig: string;
  /** Prometheus as Grafana (on the stack network) reaches it: https with tls on. */
  readonly internalUrl: string;
  /** Published beyond loopback: the login Grafana's datasource queries with (a machine's: not handed to people). */
  readonly grafanaAuth?: { user: string; password: pulumi.Output<string> };
  /** Published beyond loopback: the login for people in the UI and API (outputs prometheusUser / prometheusPassword). */
  readonly peopleAuth?: { user: string; password: pulumi.Output<string> };

  constructor(name: string, args: MetricsStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:metrics:MetricsStack", name, {}, opts);
    const { config, platform } = args;
    const names = dockerNames(config);
    const stackNetwork = { name: platform.network.name };
    const appNetworks = config.appNetworks.map((network) => ({ name: network }));
    const common = { platform, stack: config.stack };

    // A federated agent serves TLS with the certificate the central stack issued for it; its own clients
    // trust that certificate's issuer, kept apart from the central CA its remote write may trust (PROMETHEUS_CA_PATH).
    const tls = args.tls ?? (args.federation ? { server: federatedAgentTls(args.federation, config.publicHostname), probed: [] } : undefined);
    const serverCaPath = args.tls ? PROMETHEUS_CA_PATH : FEDERATION_CA_PATH;
    // How the stack's own clients check its servers: the CA (absent for a provided certificate from a public
    // CA: the system roots then apply) and the name every certificate of the stack carries (pki.ts serverName).
    const ownClient = (caFile: string): OwnTlsClient | undefined =>
      tls && { ...(tls.server.caCertificate ? { caFile } : {}), serverName: tls.server.serverName };
    const prometheusClient = ownClient(serverCaPath);
    this.prometheusConfig = renderPrometheusConfig(
      config,
      dockerScrapeAddresses(config),
      (args.ruleFiles ?? []).map((file) => file.path),
      prometheusClient && { ...prometheusClient, probeTargets: (tls?.probed ?? []).map((service) => stackNetworkAddress(names, service)) },
    );
    // The TLS probes are the central stack's (alerts/tls.yml): an agent's blackbox exporter has no TLS module.
    const blackboxClient = args.tls ? ownClient(BLACKBOX_CA_PATH) : undefined;
    this.blackboxConfig = renderBlackboxConfig(blackboxClient);
    this.internalUrl = httpsWhen(`http://${stackNetworkAddress(names, "prometheus")}`, tls !== undefined);
    const logins = generatedLogins(this, requiredLogins(config));
    if (logins?.grafana) this.grafanaAuth = { user: PROMETHEUS_LOGINS.grafana, password: pulumi.secret(logins.grafana.result) };
    if (logins?.people) this.peopleAuth = { user: PROMETHEUS_LOGINS.people, password: pulumi.secret(logins.people.result) };
    if (config.prometheus.federated !== (args.federation !== undefined))
      throw new Error("MetricsStack: the federation secret must be handed over exactly when the config says the agent is federated");

    this.nodeExporter = serviceContainer(
      {
        ...common,
        service: "nodeExporter",
        containerName: names.nodeExporter,
        memoryMb: config.memoryMb.nodeExporter,
        healthcheck: httpHealthcheck(`http://${config.nodeExporter.listenAddress.replace(/^0\.0\.0\.0:/, "127.0.0.1:")}/metrics`),
        waitTimeoutSeconds: 60,
        container: {
          // The host's network and process namespaces, and its root read-only: host metrics, not the container's.
          networkMode: "host",
          pidMode: "host",
          // `rslave` follows mounts made on the host later; Docker refuses it where `/` is a private mount
          // (moby/moby daemon/oci_linux.go, ensureSharedOrSlave). Such hosts set `nodeExporter.rootPropagation: none`:
          // no mode is sent, the one setting Docker accepts there, since for a source holding its data root it
          // refuses every explicit mode but rslave and rshared (moby/moby daemon/volumes_linux.go, validateBindDaemonRoot).
          // Filesystems mounted on the host after node-exporter started are then not seen until it is re-created.
          mounts: [
            {
              type: "bind",
              source: "/",
              target: "/host",
              readOnly: true,
              ...(config.nodeExporter.rootPropagation === "rslave" ? { bindOptions: { propagation: "rslave" } } : {}),
            },
          ],
          command: [
            "--path.rootfs=/host",
            `--web.listen-address=${config.nodeExporter.listenAddress}`,
            `--collector.filesystem.mount-points-exclude=${NODE_EXPORTER_MOUNT_EXCLUDE}`,
          ],
        },
      },
      { parent: this },
    );

    // The blackbox exporter's login (blackbox-login.ts): generated like Prometheus's (generatedLogins: the
    // bcrypt hash is made once and kept in state), known only to this stack's Prometheus and the healthcheck.
    const blackboxPassword = new random.RandomPassword("blackbox-exporter-password", { length: 32, special: false }, { parent: this });
    this.blackboxExporter = serviceContainer(
      {
        ...common,
        service: "blackboxExporter",
        containerName: names.blackboxExporter,
        memoryMb: config.memoryMb.blackboxExporter,
        healthcheck: blackboxHealthcheck(STACK_SERVICES.blackboxExporter.port),
        waitTimeoutSeconds: 60,
        container: {
          networksAdvanced: [stackNetwork, ...appNetworks],
          uploads: [
            { file: BLACKBOX_CONFIG_PATH, content: this.blackboxConfig, permissions: "0644" },
            ...(blackboxClient?.caFile && tls?.server.caCertificate
              ? [{ file: BLACKBOX_CA_PATH, content: tls.server.caCertificate, permissions: "0444" }]
              : []),
            // Secret contents (encrypted in state); read-only for all: the exporter runs as `nobody` and the
            // provider uploads files owned by root (see remoteWriteCredentialUploads).
            { file: BLACKBOX_WEB_CONFIG_PATH, content: pulumi.secret(blackboxPassword.bcryptHash.apply(renderBlackboxWebConfig)), permissions: "0444" },
            {
              file: BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH,
              content: pulumi.secret(blackboxPassword.result.apply(blackboxHealthcheckCredentials)),
              permissions: "0444",
            },
          ],
          command: [`--config.file=${BLACKBOX_CONFIG_PATH}`, `--web.config.file=${BLACKBOX_WEB_CONFIG_PATH}`],
        },
      },
      { parent: this },
    );

    // Each from its descriptor alone: on the stack network, where Prometheus scrapes it.
    for (const service of optionalExportersRunning(config)) {
      const spec: ExporterContainer = service.container(config);
      this.optionalExporters[service.key] = serviceContainer(
        {
          ...common,
          service: service.key,
          containerName: names[service.key],
          memoryMb: config.memoryMb[service.key],
          healthcheck: httpHealthcheck(loopbackUrl(service.key, spec.healthcheckPath)),
          waitTimeoutSeconds: spec.waitTimeoutSeconds,
          container: { ...spec.container, networksAdvanced: [stackNetwork, ...(spec.joinsAppNetworks ? appNetworks : [])] },
        },
        { parent: this },
      );
    }

    this.prometheus = serviceContainer(
      {
        ...common,
        service: "prometheus",
        containerName: names.prometheus,
        memoryMb: config.memoryMb.prometheus,
        // With tls on, promtool over TLS (web-config.ts promtoolHealthcheck); else wget, without a login (none without TLS).
        healthcheck: tls ? promtoolHealthcheck(httpsWhen(loopbackUrl("prometheus", ""), true)) : httpHealthcheck(loopbackUrl("prometheus", "/-/ready")),
        // Replaying a large WAL after a restart takes minutes in production.
        waitTimeoutSeconds: config.environment === "prod" ? 600 : 180,
        startPeriodSeconds: 60,
        container: {
          command: prometheusCommand(config, tls !== undefined),
          ports: [publishedPort("prometheus", config)],
          networksAdvanced: [{ ...stackNetwork, aliases: [STACK_SERVICES.prometheus.name] }, ...appNetworks],
          hosts: [{ host: HOST_GATEWAY_NAME, ip: "host-gateway" }],
          volumes: [{ volumeName: platform.prometheusVolume.name, containerPath: PROMETHEUS_DATA_PATH }],
          // A config change replaces the container (data stays on the volume), so no lifecycle API is needed.
          uploads: [
            { file: PROMETHEUS_CONFIG_PATH, content: this.prometheusConfig, permissions: "0644" },
            ...remoteWriteCredentialUploads(config, args.remoteWriteSecrets),
            ...webConfigUpload(
              logins,
              tls !== undefined,
              args.federation?.apply((value) => value.passwordHash),
            ),
            ...(logins ? loginUploads(logins) : []),
            ...(tls ? serverTlsUploads(tls.server, logins !== undefined, serverCaPath) : []),
            ...(args.agentFederation ? agentFederationUploads(args.agentFederation) : []),
            // The blackbox exporter's password, for the probe jobs' and its scrape's `password_file` (blackbox-login.ts).
            { file: BLACKBOX_PASSWORD_PATH, content: pulumi.secret(blackboxPassword.result), permissions: "0444" },
            // An agent's trust in the central stack (tls.caCertificate), which prometheus.yml's remote write names.
            ...(config.tls?.centralCaCertificate ? [{ file: PROMETHEUS_CA_PATH, content: config.tls.centralCaCertificate, permissions: "0444" }] : []),
            // After the credentials, whose upload indexes their secret paths name.
            ...(args.ruleFiles ?? []).map((file) => ({ file: file.path, content: file.content, permissions: "0644" })),
            // Last, so the uploads before it keep their indexes.
            ...grafanaMetricsUpload(config, args.grafanaMetricsPassword),
          ],
        },
      },
      { parent: this, dependsOn: [this.nodeExporter, this.blackboxExporter, ...Object.values(this.optionalExporters)] },
    );

    this.registerOutputs({ internalUrl: this.internalUrl });
  }
}

/** Grafana's /metrics password, where the scrape of Grafana reads it (prometheus-config.ts selfScrapeLogin), whenever Grafana is scraped. */
function grafanaMetricsUpload(config: MetricsStackConfig, password: pulumi.Output<string> | undefined) {
  if (dockerScrapeAddresses(config).grafana === undefined) return [];
  if (!password) throw new Error("MetricsStack: the stack's own Grafana is scraped, so its /metrics password (grafanaMetricsPassword) is needed");
  return [{ file: GRAFANA_METRICS_PASSWORD_PATH, content: pulumi.secret(password), permissions: "0444" }];
}
