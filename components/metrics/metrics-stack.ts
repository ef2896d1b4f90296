/**
 * The metrics room: Prometheus and the exporters it scrapes (node-exporter for the host, the
 * blackbox exporter for health probes, optionally cAdvisor for containers). Prometheus and the
 * prober join the applications' networks so catalog hostnames resolve.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StackConfig } from "../config/resolve";

export type MetricsStackConfig = PrometheusConfigInput &
  Pick<StackConfig, "namePrefix" | "appNetworks" | "nodeExporter" | "cadvisor" | "memoryMb" | "ports" | "bindAddress"> &
  // Whether Grafana is this stack's (scraped), external or absent on an agent host (not).
  Partial<Pick<StackConfig, "grafana" | "role">>;
import type { DockerPlatform } from "../docker/platform";
import { dockerNames, stackNetworkAddress } from "../docker/names";
import { httpHealthcheck, loopbackUrl, publishedPort, serviceContainer } from "../docker/service-container";
import { STACK_SERVICES } from "../stack-services";
import {
  PROMETHEUS_CONFIG_PATH,
  PROMETHEUS_DATA_PATH,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
  PrometheusConfigInput,
  remoteWriteCredentialsPath,
  ScrapeAddresses,
} from "./prometheus-config";
import {
  authenticatedHealthcheck,
  basicCredentials,
  HEALTHCHECK_CREDENTIALS_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_WEB_CONFIG_PATH,
  PrometheusLogin,
  QUERY_PASSWORD_PATH,
  renderWebConfig,
} from "./web-config";

const BLACKBOX_CONFIG_PATH = "/etc/blackbox_exporter/config.yml";
/** How containers on a bridge network reach the host (node-exporter runs in the host's network). */
const HOST_GATEWAY_NAME = "host.docker.internal";
/** Mounts node-exporter must not report: Docker's own layers and the pseudo filesystems. */
const NODE_EXPORTER_MOUNT_EXCLUDE = "^/(dev|proc|sys|run/docker/.+|run/containerd/.+|var/lib/docker/.+)($|/)";

/** Where Prometheus, inside the stack network, reaches each of the stack's own targets. */
export function dockerScrapeAddresses(
  config: Pick<StackConfig, "namePrefix" | "nodeExporter" | "cadvisor"> & Partial<Pick<StackConfig, "grafana" | "role">>,
): ScrapeAddresses {
  const names = dockerNames(config);
  const [address, port] = config.nodeExporter.listenAddress.split(":");
  return {
    prometheus: `localhost:${STACK_SERVICES.prometheus.port}`,
    // Listening on every interface: reach it through the host gateway; else on the address it listens on.
    nodeExporter: address === "0.0.0.0" ? `${HOST_GATEWAY_NAME}:${port}` : config.nodeExporter.listenAddress,
    blackboxExporter: stackNetworkAddress(names, "blackboxExporter"),
    // An external Grafana (grafana.external) is not on the stack network, and an agent host runs none: not scraped here.
    grafana: config.grafana?.external || config.role === "agent" ? undefined : stackNetworkAddress(names, "grafana"),
    cadvisor: config.cadvisor.enabled ? stackNetworkAddress(names, "cadvisor") : undefined,
  };
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
 * One generated password per login. The random provider computes the bcrypt hash once, at create, and
 * keeps it in state (hashicorp/terraform-provider-random internal/provider/resource_password.go: `Create`
 * sets `bcrypt_hash`, `Read` does nothing, the attribute's plan modifier is `UseStateForUnknown`), so a
 * second `up` renders the same web config; `result` and `bcryptHash` are secret outputs (@pulumi/random
 * randomPassword.js, `additionalSecretOutputs`). Letters and digits, 32 of them: far under bcrypt's 72 bytes.
 */
function generatedLogins(parent: pulumi.Resource): Record<PrometheusLogin, random.RandomPassword> {
  const generate = (login: PrometheusLogin) => new random.RandomPassword(`prometheus-${login}-password`, { length: 32, special: false }, { parent });
  return { agents: generate("agents"), query: generate("query") };
}

/**
 * The login's files (web-config.ts): the web config, the query password for the self-scrape, and its
 * Basic credentials for the healthcheck. Secret contents; read-only for all as the credentials above.
 */
function loginUploads(logins: Record<PrometheusLogin, random.RandomPassword>) {
  const webConfig = pulumi
    .all([logins.agents.bcryptHash, logins.query.bcryptHash])
    .apply(([agents, query]) => renderWebConfig({ [PROMETHEUS_LOGINS.agents]: agents, [PROMETHEUS_LOGINS.query]: query }));
  return [
    { file: PROMETHEUS_WEB_CONFIG_PATH, content: pulumi.secret(webConfig), permissions: "0444" },
    { file: QUERY_PASSWORD_PATH, content: pulumi.secret(logins.query.result), permissions: "0444" },
    {
      file: HEALTHCHECK_CREDENTIALS_PATH,
      content: pulumi.secret(logins.query.result.apply((password) => basicCredentials(PROMETHEUS_LOGINS.query, password))),
      permissions: "0444",
    },
  ];
}

export interface MetricsStackArgs {
  /** The metrics slice, the catalog, and what names, publishes and sizes its containers. */
  config: MetricsStackConfig;
  platform: DockerPlatform;
  /** Rule files Prometheus evaluates itself (the SLO room's recording rules): uploaded next to prometheus.yml, named in its rule_files. */
  ruleFiles?: { path: string; content: string }[];
  /** Remote write name to its password or token (secret): uploaded as the file prometheus.yml names, never written into it. */
  remoteWriteSecrets?: Record<string, pulumi.Output<string>>;
}

export class MetricsStack extends pulumi.ComponentResource {
  readonly prometheus: docker.Container;
  readonly nodeExporter: docker.Container;
  readonly blackboxExporter: docker.Container;
  readonly cadvisor?: docker.Container;
  /** The rendered prometheus.yml, also written out by the offline plan. */
  readonly prometheusConfig: string;
  readonly blackboxConfig: string;
  /** Prometheus as Grafana (on the stack network) reaches it. */
  readonly internalUrl: string;
  /** With the receiver on: the login Grafana's datasource (and people in the UI) query with. */
  readonly queryAuth?: { user: string; password: pulumi.Output<string> };
  /** With the receiver on: where and as whom agent stacks remote-write (the published port; a TLS proxy's URL in front of it). */
  readonly receiver?: { url?: string; user: string; password: pulumi.Output<string> };

  constructor(name: string, args: MetricsStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:metrics:MetricsStack", name, {}, opts);
    const { config, platform } = args;
    const names = dockerNames(config);
    const stackNetwork = { name: platform.network.name };
    const appNetworks = config.appNetworks.map((network) => ({ name: network }));
    const common = { platform, stack: config.stack };

    this.prometheusConfig = renderPrometheusConfig(
      config,
      dockerScrapeAddresses(config),
      (args.ruleFiles ?? []).map((file) => file.path),
    );
    this.blackboxConfig = renderBlackboxConfig();
    this.internalUrl = `http://${stackNetworkAddress(names, "prometheus")}`;
    const logins = config.prometheus.remoteWriteReceiver ? generatedLogins(this) : undefined;
    if (logins) {
      this.queryAuth = { user: PROMETHEUS_LOGINS.query, password: pulumi.secret(logins.query.result) };
      // Where agents write is the TLS proxy's URL when one is named: agents send the login only over https
      // (or to loopback), so the published plain-http port is no URL to hand them.
      this.receiver = { url: config.prometheus.receiverPublicUrl, user: PROMETHEUS_LOGINS.agents, password: pulumi.secret(logins.agents.result) };
    }

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

    this.blackboxExporter = serviceContainer(
      {
        ...common,
        service: "blackboxExporter",
        containerName: names.blackboxExporter,
        memoryMb: config.memoryMb.blackboxExporter,
        healthcheck: httpHealthcheck(loopbackUrl("blackboxExporter", "/metrics")),
        waitTimeoutSeconds: 60,
        container: {
          networksAdvanced: [stackNetwork, ...appNetworks],
          uploads: [{ file: BLACKBOX_CONFIG_PATH, content: this.blackboxConfig, permissions: "0644" }],
          command: [`--config.file=${BLACKBOX_CONFIG_PATH}`],
        },
      },
      { parent: this },
    );

    if (config.cadvisor.enabled) {
      this.cadvisor = serviceContainer(
        {
          ...common,
          service: "cadvisor",
          containerName: names.cadvisor,
          memoryMb: config.memoryMb.cadvisor,
          healthcheck: httpHealthcheck(loopbackUrl("cadvisor", "/healthz")),
          waitTimeoutSeconds: 90,
          container: {
            // Read-only views of the host are enough for per-container CPU, memory and network on cgroup v2;
            // `cadvisor.privileged` adds what some hosts need for disk and OOM-event metrics.
            privileged: config.cadvisor.privileged,
            networksAdvanced: [stackNetwork],
            volumes: [
              { hostPath: "/", containerPath: "/rootfs", readOnly: true },
              { hostPath: "/var/run", containerPath: "/var/run", readOnly: true },
              { hostPath: "/sys", containerPath: "/sys", readOnly: true },
              { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
              // Disk names (by-id, by-uuid) for the per-device I/O metrics.
              { hostPath: "/dev/disk", containerPath: "/dev/disk", readOnly: true },
            ],
            // cAdvisor's OOM-event watcher reads the kernel log (google/cadvisor utils/oomparser/oomparser.go, New:
            // kmsgparser.NewParser, euank/go-kmsg-parser, opens /dev/kmsg); the README's quick start
            // (google/cadvisor README.md) passes `--device=/dev/kmsg` and `/dev/disk:ro`. Read-only, and given
            // explicitly because the provider reads the permissions back (kreuzwerker
            // internal/provider/resource_docker_container_structures.go, flattenDevices).
            devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }],
            // The device alone is not enough where `kernel.dmesg_restrict=1` (the default of Debian and Ubuntu
            // kernels): opening /dev/kmsg for reading checks check_syslog_permissions(SYSLOG_ACTION_READ_ALL,
            // SYSLOG_FROM_READER), which then needs CAP_SYSLOG (torvalds/linux kernel/printk/printk.c,
            // devkmsg_open and syslog_action_restricted; Documentation/admin-guide/sysctl/kernel.rst,
            // dmesg_restrict), and Docker's default capabilities leave it out. Without it the open fails with
            // EPERM and cAdvisor reports no OOM events. The Engine only validates CapAdd and stores it as sent
            // (moby/moby oci/caps/utils.go), and the provider reads back HostConfig.CapAdd as it is
            // (kreuzwerker internal/provider/resource_docker_container_funcs.go: `capabilities.add`): written
            // in the canonical `CAP_` upper-case form so the value read back is the value sent.
            capabilities: { adds: ["CAP_SYSLOG"] },
            command: ["--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=false"],
          },
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
        healthcheck: (logins ? authenticatedHealthcheck : httpHealthcheck)(loopbackUrl("prometheus", "/-/ready")),
        // Replaying a large WAL after a restart takes minutes in production.
        waitTimeoutSeconds: config.environment === "prod" ? 600 : 180,
        startPeriodSeconds: 60,
        container: {
          command: prometheusCommand(config),
          ports: [publishedPort("prometheus", config)],
          networksAdvanced: [{ ...stackNetwork, aliases: [STACK_SERVICES.prometheus.name] }, ...appNetworks],
          hosts: [{ host: HOST_GATEWAY_NAME, ip: "host-gateway" }],
          volumes: [{ volumeName: platform.prometheusVolume.name, containerPath: PROMETHEUS_DATA_PATH }],
          // A config change replaces the container (data stays on the volume), so no lifecycle API is needed.
          uploads: [
            { file: PROMETHEUS_CONFIG_PATH, content: this.prometheusConfig, permissions: "0644" },
            ...remoteWriteCredentialUploads(config, args.remoteWriteSecrets),
            ...(logins ? loginUploads(logins) : []),
            // After the credentials, whose upload indexes their secret paths name.
            ...(args.ruleFiles ?? []).map((file) => ({ file: file.path, content: file.content, permissions: "0644" })),
          ],
        },
      },
      { parent: this, dependsOn: [this.nodeExporter, this.blackboxExporter, ...(this.cadvisor ? [this.cadvisor] : [])] },
    );

    this.registerOutputs({ internalUrl: this.internalUrl });
  }
}
