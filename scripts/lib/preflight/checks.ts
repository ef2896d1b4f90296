/**
 * The preflight's pure half: what the stack needs from its Docker host, taken from the resources the
 * program itself registers (the offline plan under the mock engine, so the probes use exactly the
 * settings `pulumi up` will send and cannot drift from them), how a probe's answer is read, and how
 * the report is printed. No Docker here; ./run.ts does the probing.
 */
import type { PlannedResource } from "../mock-engine";
import type { StackConfig } from "../../../components/config/resolve";
import { BRIDGE_NAME_OPTION, dockerNames, STACK_LABEL } from "../../../components/docker/names";
import { dockerScrapeAddresses } from "../../../components/metrics/metrics-stack";
import { stackServiceKeyNamed } from "../../../components/stack-services";
import { staticDirectory } from "../../../components/logs/filebeat-config";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";

/**
 * Engine API the stack needs: 1.41 (Docker Engine 20.10). Prometheus's extra host
 * `host.docker.internal:host-gateway` is resolved by the daemon, and only from 20.10 on
 * (moby/moby daemon/network/constants.go, `HostGatewayName`, added for 20.10); an older daemon
 * refuses the container ("invalid IP address in add-host"). The provider itself negotiates down to
 * whatever the daemon speaks (kreuzwerker/terraform-provider-docker internal/provider/config.go,
 * `client.WithAPIVersionNegotiation()`), so it sets no floor of its own.
 */
export const MIN_API_VERSION = "1.41";

/** Elasticsearch's bootstrap-check floor for `vm.max_map_count`. */
export const MIN_MAX_MAP_COUNT = 262144;

/** Every object the preflight creates carries this label (value: the run's id), so a run can find its own leftovers. */
export const PREFLIGHT_LABEL = "atra-observability.preflight";

export interface PublishedPort {
  /** The container's logical name in the program (e.g. `prometheus`). */
  component: string;
  ip: string;
  port: number;
  protocol: string;
  /** The config key that moves it. */
  configKey: string;
}

export interface HostNeeds {
  stack: string;
  /** The stack network as the program creates it. */
  network: { name: string; driver: string; options: Record<string, string>; bridgeName: string };
  nodeExporter: {
    containerName: string;
    /** `docker create` arguments reproducing its host namespaces and mounts. */
    hostArgs: string[];
    /** The bind of `/`, for the report. */
    rootPropagation: string;
    listen: { address: string; port: number };
    /** Where Prometheus, on the stack network, scrapes it (`host:port`). */
    scrapeTarget: string;
  };
  /** `--add-host` arguments of the Prometheus container (the probe reaches node-exporter the same way). */
  prometheusHostArgs: string[];
  /** Networks the containers join that the stack does not create (`appNetworks`). */
  externalNetworks: string[];
  publishedPorts: PublishedPort[];
  /** Elasticsearch is part of the plan: the host needs vm.max_map_count >= MIN_MAX_MAP_COUNT. */
  needsMaxMapCount: boolean;
  /** The image the probes run: the stack's node-exporter image unless overridden. */
  probeImage: string;
  /** `dev`, `staging` or `prod` (from the stack name): the loopback-publishing warning is for non-dev stacks. */
  environment: string;
  /** The containers' settings the Engine may store differently from what is sent, grouped by equal settings. */
  storedSettings: StoredSettingsGroup[];
  /** Every host path the planned containers bind (`mounts` of type bind), one entry per path. */
  bindSources: BindSource[];
}

/**
 * Container settings the Engine can store in another form than the one sent, while the provider
 * reads them back into state (so a second `up` would see a change): the log driver and options, and
 * memory and swap in MB, exactly as the program sends them.
 */
export interface StoredSettings {
  logDriver?: string;
  logOpts?: Record<string, string>;
  memory?: number;
  memorySwap?: number;
}

export interface StoredSettingsGroup {
  settings: StoredSettings;
  /** The program's containers (logical names) that send these settings. */
  containers: string[];
}

/** What the stack needs from the Docker host, read from the program's planned resources. */
export function hostNeeds(config: StackConfig, resources: PlannedResource[], probeImage?: string): HostNeeds {
  const names = dockerNames(config);
  const containers = resources.filter((resource) => resource.type === CONTAINER);
  const byContainerName = (name: string) => {
    const found = containers.find((resource) => resource.inputs.name === name);
    if (!found) throw new Error(`the plan has no container ${name}; the preflight and the program disagree`);
    return found.inputs;
  };
  const networkResource = resources.find((resource) => resource.type === NETWORK && resource.inputs.name === names.network);
  if (!networkResource) throw new Error(`the plan has no network ${names.network}; the preflight and the program disagree`);
  const network = networkResource.inputs as { name: string; driver: string; options?: Record<string, string> };

  const nodeExporter = byContainerName(names.nodeExporter);
  const listenFlag = ((nodeExporter.command as string[] | undefined) ?? []).find((arg) => arg.startsWith("--web.listen-address="));
  if (!listenFlag) throw new Error("node-exporter's command has no --web.listen-address");
  const [address, port] = listenFlag.slice("--web.listen-address=".length).split(":");
  const mounts = (nodeExporter.mounts as { source: string; bindOptions?: { propagation?: string } }[] | undefined) ?? [];

  const ports: PublishedPort[] = [];
  for (const container of containers) {
    for (const binding of (container.inputs.ports as { external?: number; ip?: string; protocol?: string }[] | undefined) ?? []) {
      if (binding.external === undefined) continue;
      const service = stackServiceKeyNamed(container.name);
      if (!service) throw new Error(`the plan publishes a port of ${container.name}, not one of the stack's services; the preflight and the program disagree`);
      ports.push({
        component: container.name,
        ip: binding.ip ?? "0.0.0.0",
        port: binding.external,
        protocol: binding.protocol ?? "tcp",
        configKey: `ports.${service}`,
      });
    }
  }
  const joined = new Set<string>();
  for (const container of containers) {
    for (const attached of (container.inputs.networksAdvanced as { name: string }[] | undefined) ?? []) joined.add(attached.name);
  }
  joined.delete(names.network);

  return {
    stack: config.stack,
    network: {
      name: network.name,
      driver: network.driver,
      options: network.options ?? {},
      bridgeName: network.options?.["com.docker.network.bridge.name"] ?? "",
    },
    nodeExporter: {
      containerName: names.nodeExporter,
      hostArgs: hostArgs(nodeExporter, NODE_EXPORTER_HOST_KEYS),
      rootPropagation: mounts.find((mount) => mount.source === "/")?.bindOptions?.propagation ?? "no",
      listen: { address, port: Number(port) },
      scrapeTarget: dockerScrapeAddresses(config).nodeExporter,
    },
    prometheusHostArgs: hostArgs(byContainerName(names.prometheus), ["hosts"]),
    externalNetworks: [...joined],
    publishedPorts: ports,
    needsMaxMapCount: containers.some((container) => container.inputs.name === names.elasticsearch),
    probeImage: probeImage ?? config.images.nodeExporter,
    environment: config.environment,
    storedSettings: storedSettingsGroups(containers),
    bindSources: bindSources(containers, config.services),
  };
}

// ---- bind mount sources ------------------------------------------------------------------------

/** A host path that planned containers bind, and where the config names it. */
export interface BindSource {
  source: string;
  /** The program's containers (logical names) that bind it. */
  containers: string[];
  /** The `services[].logs` globs under it, as `services[i].logs[j] (<glob>)`: the config keys that put it there. */
  configKeys: string[];
}

/**
 * Every `mounts` entry of type bind of every planned container, whoever plans it (today: node-exporter's
 * `/` and Filebeat's log directories). The Engine refuses such a container at create when the source
 * does not exist on the Docker host (moby/moby volume/mounts/linux_parser.go validateMountConfigImpl:
 * errBindSourceDoesNotExist, called for every HostConfig.Mounts entry by daemon/container.go
 * validateHostConfig), unlike a host-path `volumes` entry (HostConfig.Binds, ParseMountRaw skips the
 * check and the daemon creates the directory). Those are not listed here for that reason.
 */
export function bindSources(containers: Pick<PlannedResource, "name" | "inputs">[], services: { logs?: string[] }[] = []): BindSource[] {
  const bySource = new Map<string, BindSource>();
  for (const { name, inputs } of containers) {
    for (const mount of (inputs.mounts as { type?: string; source?: string }[] | undefined) ?? []) {
      if (mount.type !== "bind" || !mount.source) continue;
      const entry = bySource.get(mount.source) ?? { source: mount.source, containers: [], configKeys: [] };
      if (!entry.containers.includes(name)) entry.containers.push(name);
      bySource.set(mount.source, entry);
    }
  }
  // The log globs a directory covers (components/logs/filebeat-config.ts logMounts mounts the outermost
  // directory). `/` is never a log mount (logGlobIssues refuses it as too broad): node-exporter's `/` names no glob.
  for (const entry of bySource.values()) {
    if (entry.source === "/") continue;
    services.forEach((service, index) =>
      (service.logs ?? []).forEach((glob, logIndex) => {
        const directory = staticDirectory(glob);
        if (directory === entry.source || directory.startsWith(`${entry.source}/`)) entry.configKeys.push(`services[${index}].logs[${logIndex}] (${glob})`);
      }),
    );
  }
  return [...bySource.values()];
}

/** Where the probe binds a source: any absolute path but `/` will do (the probe never starts). */
export const BIND_PROBE_TARGET = "/atra-preflight-bind";

/**
 * `docker create --mount` for a read-only bind of `source`. The CLI reads the value as one CSV record
 * (docker/cli opts/mount.go, MountOpt.Set: csv.NewReader), so a field with a comma or quote is quoted.
 */
export function bindProbeArgs(source: string): string[] {
  const field = (text: string) => (/[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return ["--mount", ["type=bind", field(`source=${source}`), `target=${BIND_PROBE_TARGET}`, "readonly"].join(",")];
}

/**
 * The Engine's refusal of a missing bind source: "bind source path does not exist: <path>" (moby/moby
 * volume/mounts/validate.go errBindSourceDoesNotExist; older trees had it in volume/validate.go as
 * "bind mount source path does not exist").
 */
export function isBindSourceMissing(error: string): boolean {
  return /bind (mount )?source path does not exist/.test(error);
}

/** One result per bind source, from the probe's create: `error` undefined when the Engine created it. */
export function bindSourceResults(observed: { mount: BindSource; error?: string }[]): CheckResult[] {
  if (observed.length === 0) return [{ id: "bind-sources", status: "skip", summary: "no planned container binds a host path" }];
  return observed.map(({ mount, error }): CheckResult => {
    const id = `bind-source:${mount.source}`;
    const who = mount.containers.join(", ");
    if (error === undefined) return { id, status: "pass", summary: `${mount.source} (bound by ${who}) exists on the Docker host` };
    if (!isBindSourceMissing(error)) return { id, status: "fail", summary: `a container binding ${mount.source} (as ${who} does) cannot be created: ${error}` };
    return {
      id,
      status: "fail",
      summary:
        `${mount.source} (bound by ${who}) does not exist on the Docker host: the Engine refuses ${who} at create ` +
        `("bind source path does not exist", moby/moby volume/mounts/linux_parser.go), so \`pulumi up\` would stop half-way`,
      remedy: [
        `create it on the Docker host before \`up\`: mkdir -p ${mount.source}  (where the application writes its log files, readable by root)`,
        mount.configKeys.length > 0
          ? `or, if the path is wrong, fix ${mount.configKeys.join(", ")} in the stack config (pulumi config set --path 'services[i].logs[j]' <glob>)`
          : `or fix the setting that makes ${who} bind it`,
      ],
    };
  });
}

/** The planned containers' log and memory settings, one group per distinct combination. */
export function storedSettingsGroups(containers: Pick<PlannedResource, "name" | "inputs">[]): StoredSettingsGroup[] {
  const groups = new Map<string, StoredSettingsGroup>();
  for (const { name, inputs } of containers) {
    const settings: StoredSettings = {
      logDriver: inputs.logDriver as string | undefined,
      logOpts: inputs.logOpts as Record<string, string> | undefined,
      memory: inputs.memory as number | undefined,
      memorySwap: inputs.memorySwap as number | undefined,
    };
    const key = JSON.stringify(settings);
    const group = groups.get(key) ?? { settings, containers: [] };
    group.containers.push(name);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** `docker create` arguments sending these settings as the provider sends them (HostConfig.LogConfig, Memory, MemorySwap). */
export function storedSettingsArgs(settings: StoredSettings): string[] {
  const args: string[] = [];
  if (settings.logDriver) args.push("--log-driver", settings.logDriver);
  for (const [key, value] of Object.entries(settings.logOpts ?? {})) args.push("--log-opt", `${key}=${value}`);
  if (settings.memory) args.push("--memory", `${settings.memory}m`);
  // The provider sends a positive memory_swap in MB, and -1 as -1 (resource_docker_container_funcs.go, memory_swap).
  if (settings.memorySwap) args.push("--memory-swap", settings.memorySwap > 0 ? `${settings.memorySwap}m` : String(settings.memorySwap));
  return args;
}

/** What `docker container inspect` returns of a container's HostConfig, for the settings above. */
export interface StoredHostConfig {
  LogConfig?: { Type?: string; Config?: Record<string, string> | null };
  Memory?: number;
  MemorySwap?: number;
}

/**
 * The settings as the provider puts them into state after reading the container back
 * (kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container_funcs.go,
 * resourceDockerContainerRead): `log_driver` = LogConfig.Type; `log_opts` = the whole stored
 * LogConfig.Config when the program sets log_opts (containerLogOptsForState); `memory` =
 * Memory / 1 MiB; `memory_swap` = MemorySwap / 1 MiB when positive, else the raw value (-1).
 */
export function storedAsProviderReadsIt(sent: StoredSettings, stored: StoredHostConfig): StoredSettings {
  const swap = stored.MemorySwap ?? 0;
  return {
    // log_driver is Optional+Computed: a driver the program leaves out is no change.
    logDriver: sent.logDriver === undefined ? undefined : stored.LogConfig?.Type,
    logOpts: sent.logOpts === undefined ? undefined : { ...(stored.LogConfig?.Config ?? {}) },
    memory: (stored.Memory ?? 0) / 1024 / 1024,
    memorySwap: swap > 0 ? swap / 1024 / 1024 : swap,
  };
}

/** Extra or changed keys of `stored` against `sent`, as `key=value` (what the Engine added or changed). */
export function addedOptions(sent: Record<string, string>, stored: Record<string, string>): string[] {
  return Object.keys(stored)
    .filter((key) => sent[key] !== stored[key])
    .sort()
    .map((key) => `${key}=${stored[key]}`)
    .concat(
      Object.keys(sent)
        .filter((key) => !(key in stored))
        .sort()
        .map((key) => `${key} (dropped)`),
    );
}

const CONTAINER_SOURCE = "kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container.go";

/**
 * Compare what the Engine stored for each group of settings with what the program sent, as the
 * provider reads it back. A difference is a change at every `up`:
 * - log options: the daemon's `log-opts` (daemon.json) are merged into a container that uses the
 *   daemon's default log driver, key by key where the container has none, and the `cache-*` keys into
 *   every container (moby/moby daemon/logs.go mergeAndVerifyLogConfig, and
 *   daemon/logger/loggerutils/cache/validate.go MergeDefaultLogConfig). `log_opts` forces a new
 *   container, so every `up` would replace every container.
 * - swap: without swap accounting in the kernel the Engine stores MemorySwap -1, with a warning
 *   "Your kernel does not support swap limit capabilities ... Memory limited without swap." (moby/moby
 *   daemon/daemon_unix.go verifyPlatformContainerResources, from pkg/sysinfo SwapLimit: cgroup v1
 *   memory.memsw.limit_in_bytes, v2 memory.swap.max). `memory_swap` is updated in place, so every
 *   `up` would update every container (and the Engine would store -1 again).
 * - memory: without the memory cgroup, the limit is discarded (Memory 0, same function).
 */
export function storedSettingsResults(observed: { group: StoredSettingsGroup; stored: StoredHostConfig }[]): CheckResult[] {
  const logs: string[] = [];
  const logKeys = new Set<string>();
  const logContainers: string[] = [];
  const memory: string[] = [];
  const memoryContainers: string[] = [];
  let swapUnsupported = false;
  let memoryUnsupported = false;
  for (const { group, stored } of observed) {
    const sent = group.settings;
    const read = storedAsProviderReadsIt(sent, stored);
    const added = addedOptions(sent.logOpts ?? {}, read.logOpts ?? {});
    if (read.logDriver !== sent.logDriver || added.length > 0) {
      logContainers.push(...group.containers);
      if (read.logDriver !== sent.logDriver) logs.push(`log driver ${read.logDriver} for ${sent.logDriver}`);
      for (const option of added) {
        if (!logKeys.has(option)) logs.push(option);
        logKeys.add(option);
      }
    }
    // memory and memory_swap are Optional, not Computed: one left out is compared as 0 (the Engine's
    // twice-memory swap then shows as a change: moby/moby daemon/daemon_unix.go adaptContainerSettings).
    const sentMemory = sent.memory ?? 0;
    const sentSwap = sent.memorySwap ?? 0;
    if (read.memory !== sentMemory || read.memorySwap !== sentSwap) {
      memoryContainers.push(...group.containers);
      if (read.memory !== sentMemory) memoryUnsupported = true;
      else if (read.memorySwap === -1) swapUnsupported = true;
      memory.push(
        `${group.containers.join(", ")}: memory ${sentMemory} MB, memorySwap ${sent.memorySwap ?? "unset"} sent; read back ${read.memory}, ${read.memorySwap}`,
      );
    }
  }
  const results: CheckResult[] = [];
  const all = observed.flatMap(({ group }) => group.containers);
  const logSent = observed[0]?.group.settings;
  results.push(
    logContainers.length === 0
      ? {
          id: "log-options",
          status: "pass",
          summary: `the Engine stores the log options as sent (${describeLog(logSent)}): a second \`up\` keeps the ${all.length} containers`,
        }
      : {
          id: "log-options",
          status: "fail",
          summary:
            `the Engine adds ${logs.join(", ")} to the log options the stack sends (${describeLog(logSent)}): ` +
            `every \`up\` would replace ${logContainers.length === all.length ? "every container" : logContainers.join(", ")} (log_opts forces a new container: ${CONTAINER_SOURCE})`,
          remedy: [
            `these come from "log-opts" in the daemon's /etc/docker/daemon.json (merged into every container that uses the daemon's log driver: moby/moby daemon/logs.go mergeAndVerifyLogConfig):`,
            `remove ${[...logKeys].map((option) => option.split("=")[0]).join(", ")} there, then restart dockerd (systemctl restart docker)`,
          ],
        },
  );
  if (memoryContainers.length === 0) {
    results.push({
      id: "memory-swap",
      status: "pass",
      summary: "the Engine stores memory and swap limits as sent (the kernel has memory and swap accounting)",
    });
  } else if (memoryUnsupported) {
    results.push({
      id: "memory-swap",
      status: "fail",
      summary: `the Engine discards the memory limits (the kernel has no memory cgroup; moby/moby daemon/daemon_unix.go verifyPlatformContainerResources): ${memory[0]}; every \`up\` would change every container`,
      remedy: [
        "enable the memory cgroup: add cgroup_enable=memory to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)",
      ],
    });
  } else {
    results.push({
      id: "memory-swap",
      status: "fail",
      summary:
        `${swapUnsupported ? "the kernel has no swap accounting, so the Engine stores memorySwap -1 (moby/moby daemon/daemon_unix.go verifyPlatformContainerResources)" : "the Engine stores another swap limit than sent"}: ` +
        `${memory.join("; ")}; every \`up\` would update ${memoryContainers.length === all.length ? "every container" : memoryContainers.join(", ")} in place`,
      remedy: swapUnsupported
        ? [
            'enable swap accounting (docker info then no longer prints "WARNING: No swap limit support"): add swapaccount=1 to the kernel command line',
            "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot; on cgroup v2 the kernel also needs CONFIG_MEMCG_SWAP)",
          ]
        : undefined,
    });
  }
  return results;
}

function describeLog(settings: StoredSettings | undefined): string {
  if (!settings?.logDriver) return "the daemon's default driver";
  const opts = Object.entries(settings.logOpts ?? {}).map(([key, value]) => `${key}=${value}`);
  return `${settings.logDriver}${opts.length ? ` ${opts.join(", ")}` : ""}`;
}

/**
 * The stack network's options as the Engine stores them against what the program sends. The daemon's
 * `default-network-opts` for the driver are added to every new network, key by key where the request
 * has none (moby/moby daemon/network.go createNetwork; the option exists from Engine 24.0 on), and the
 * provider reads the options back into state (`options` forces a new network:
 * kreuzwerker/terraform-provider-docker internal/provider/resource_docker_network_funcs.go
 * resourceDockerNetworkReadRefreshFunc, resource_docker_network.go). An added key makes every `up`
 * replace the network and every container on it.
 */
export function networkOptionsResult(
  networkName: string,
  sent: Record<string, string>,
  stored: Record<string, string>,
  probe: boolean,
): CheckResult | undefined {
  // A different bridge name on an existing network is a one-time replacement, reported with the bridge-name check.
  const added = addedOptions(sent, stored).filter((option) => option.split(/[= ]/)[0] !== BRIDGE_NAME_OPTION);
  if (added.length === 0) return undefined;
  const keys = added.map((option) => option.split(/[= ]/)[0]);
  return {
    id: "network-options",
    status: "fail",
    summary:
      `the Engine stores ${added.join(", ")} in ${probe ? "a new network with the stack network's settings" : `the stack network ${networkName}`} beside the options the stack sends: ` +
      "every `up` would replace the stack network and every container on it (options force a new network: kreuzwerker/terraform-provider-docker internal/provider/resource_docker_network.go)",
    remedy: [
      `these come from "default-network-opts" in the daemon's /etc/docker/daemon.json (moby/moby daemon/network.go createNetwork, Engine 24.0 and later): remove ${keys.join(", ")} from its "bridge" entry, then restart dockerd (systemctl restart docker)`,
      ...(probe ? [] : [`the existing network keeps them: \`up\` replaces it once after that`]),
    ],
  };
}

/**
 * Engine 28.0 is the first to keep other hosts out of ports published on 127.0.0.1, with rules in the
 * raw table (moby/moby libnetwork/drivers/bridge/port_mapping_linux.go at v28.0.0,
 * filterPortMappedOnLoopback: `-t raw PREROUTING -p tcp -d 127.0.0.1 --dport <port> ! -i lo -j DROP`,
 * "LOOPBACK FILTERING - DROP"; filterDirectAccess: `-d <container address> --dport <port> ! -i
 * <bridge> -j DROP`, "DIRECT ACCESS FILTERING - DROP", per endpoint from 28.2:
 * libnetwork/drivers/bridge/internal/iptabler/endpoint.go). Before 28, the nat table's DNAT of
 * 127.0.0.1:<port> runs in PREROUTING, before the kernel's martian check, so a neighbour on the LAN
 * that sends a packet to 127.0.0.1 through this host, or routes the stack network's subnet through
 * it, reaches the container. API 1.48 is Engine 28.0 (moby/moby api/common.go DefaultVersion).
 */
export const LOOPBACK_FILTERING_API = "1.48";

export function engineMajor(version: string | undefined): number | undefined {
  const match = /^v?(\d+)\./.exec(version ?? "");
  return match ? Number(match[1]) : undefined;
}

export function loopbackPublishingResult(
  engine: { version?: string; apiVersion: string },
  needs: Pick<HostNeeds, "environment" | "publishedPorts" | "network">,
): CheckResult {
  const loopback = needs.publishedPorts.filter((published) => /^127\./.test(published.ip));
  const id = "loopback-ports";
  if (loopback.length === 0) return { id, status: "skip", summary: "no port is published on a loopback address" };
  const major = engineMajor(engine.version);
  const filtered = major !== undefined ? major >= 28 : apiVersionAtLeast(engine.apiVersion, LOOPBACK_FILTERING_API);
  const list = loopback.map((published) => `${published.ip}:${published.port}`).join(", ");
  if (filtered)
    return {
      id,
      status: "pass",
      summary: `Docker Engine ${engine.version ?? `API ${engine.apiVersion}`} drops other hosts' packets to ${list} (raw-table rules, Engine 28+)`,
    };
  if (needs.environment === "dev")
    return {
      id,
      status: "skip",
      summary: `Docker Engine ${engine.version ?? `API ${engine.apiVersion}`} (before 28) lets LAN neighbours reach ${list}; not checked for a dev stack (see docs/remote-docker-host.md)`,
    };
  return {
    id,
    status: "warn",
    summary: `Docker Engine ${engine.version ?? `API ${engine.apiVersion}`} is older than 28: a neighbour on the host's LAN can reach ${list} (published on 127.0.0.1, but not filtered before 28)`,
    remedy: loopbackFirewallRules(loopback, needs.network.bridgeName),
  };
}

/** The rules Engine 28 adds (see LOOPBACK_FILTERING_API), for an older Engine, as iptables commands. */
export function loopbackFirewallRules(ports: Pick<PublishedPort, "ip" | "port" | "protocol">[], bridgeName: string): string[] {
  return [
    "upgrade Docker Engine to 28 or later, or add the rules Engine 28 adds (raw table; persist them with iptables-persistent or your firewall):",
    ...ports.map((published) => `  iptables -t raw -A PREROUTING -p ${published.protocol} -d ${published.ip} --dport ${published.port} ! -i lo -j DROP`),
    `  iptables -t raw -A PREROUTING -d <the stack network's subnet> ! -i ${bridgeName} -j DROP`,
    `  (the subnet: docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' <the stack network>)`,
  ];
}

/**
 * node-exporter's settings that decide whether Docker can start it on this host (namespaces, mounts,
 * devices, privileges). The probe container gets exactly these; anything else the program sets is
 * listed in NOT_HOST_SETTINGS. A setting in neither list stops the preflight, so a new host-facing
 * setting cannot slip past it untested.
 */
const NODE_EXPORTER_HOST_KEYS = ["networkMode", "pidMode", "ipcMode", "mounts", "volumes", "devices", "privileged", "capabilities", "user", "hosts"];
const NOT_HOST_SETTINGS = [
  "name",
  "image",
  "command",
  "entrypoint",
  "healthcheck",
  "restart",
  "memory",
  "memorySwap",
  "wait",
  "waitTimeout",
  "destroyGraceSeconds",
  "logDriver",
  "logOpts",
  "labels",
  "uploads",
  "envs",
  "networksAdvanced",
  "ports",
];

/** Container inputs (as the provider receives them) to `docker create` arguments, for the listed keys. */
export function hostArgs(inputs: Record<string, unknown>, keys: string[]): string[] {
  const unknown = Object.keys(inputs).filter((key) => !keys.includes(key) && !NOT_HOST_SETTINGS.includes(key) && !NODE_EXPORTER_HOST_KEYS.includes(key));
  if (unknown.length > 0)
    throw new Error(`the preflight does not know how to reproduce container setting(s) ${unknown.join(", ")}; teach scripts/lib/preflight/checks.ts`);
  const args: string[] = [];
  for (const key of keys) {
    const value = inputs[key];
    if (value === undefined || value === null) continue;
    switch (key) {
      case "networkMode":
        args.push("--network", String(value));
        break;
      case "pidMode":
        args.push("--pid", String(value));
        break;
      case "ipcMode":
        args.push("--ipc", String(value));
        break;
      case "user":
        args.push("--user", String(value));
        break;
      case "privileged":
        if (value === true) args.push("--privileged");
        break;
      case "hosts":
        for (const host of value as { host: string; ip: string }[]) args.push("--add-host", `${host.host}:${host.ip}`);
        break;
      case "mounts":
        // The provider passes these as the API's HostConfig.Mounts, bind propagation included
        // (kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container_funcs.go,
        // `mountInstance.BindOptions.Propagation`); `docker create --mount` sends the same structure.
        for (const mount of value as { type: string; source?: string; target: string; readOnly?: boolean; bindOptions?: { propagation?: string } }[]) {
          const parts = [`type=${mount.type}`, `target=${mount.target}`];
          if (mount.source !== undefined) parts.push(`source=${mount.source}`);
          if (mount.readOnly) parts.push("readonly");
          if (mount.bindOptions?.propagation) parts.push(`bind-propagation=${mount.bindOptions.propagation}`);
          args.push("--mount", parts.join(","));
        }
        break;
      case "volumes":
        for (const volume of value as { hostPath?: string; volumeName?: string; containerPath: string; readOnly?: boolean }[]) {
          args.push("--volume", `${volume.hostPath ?? volume.volumeName}:${volume.containerPath}${volume.readOnly ? ":ro" : ""}`);
        }
        break;
      case "devices":
        for (const device of value as { hostPath: string; containerPath?: string; permissions?: string }[]) {
          args.push("--device", [device.hostPath, device.containerPath ?? device.hostPath, device.permissions ?? "rwm"].join(":"));
        }
        break;
      case "capabilities": {
        const caps = value as { adds?: string[]; drops?: string[] };
        for (const cap of caps.adds ?? []) args.push("--cap-add", cap);
        for (const cap of caps.drops ?? []) args.push("--cap-drop", cap);
        break;
      }
      default:
        throw new Error(`no translation for container setting ${key}`);
    }
  }
  return args;
}

/** Compare Docker API versions (`1.41` < `1.43`). */
export function apiVersionAtLeast(actual: string, minimum: string): boolean {
  const [aMajor, aMinor] = actual.split(".").map(Number);
  const [mMajor, mMinor] = minimum.split(".").map(Number);
  return aMajor > mMajor || (aMajor === mMajor && aMinor >= mMinor);
}

/** moby/moby daemon/oci_linux.go, ensureSharedOrSlave: "path / is mounted on / but it is not a shared or slave mount". */
export function isPropagationRefusal(error: string): boolean {
  return /is not a shared or slave mount|is not a shared mount/.test(error);
}

/** The probe image lacks a busybox applet the probe runs (`sh: httpd: not found`). */
export function missingApplet(output: string): string | undefined {
  return /(?:^|\s)(?:sh: )?(\w+): not found/m.exec(output)?.[1] ?? /can't execute '(\w+)'/.exec(output)?.[1];
}

/** Why a listener in the host's network could not bind, from busybox httpd's message (bind(2) errno text). */
export function bindFailure(log: string): "not-host-address" | "in-use" | "permission" | "missing-applet" | "other" {
  if (missingApplet(log)) return "missing-applet";
  if (/Cannot assign requested address/i.test(log)) return "not-host-address";
  if (/Address already in use|address already in use/i.test(log)) return "in-use";
  if (/Permission denied/i.test(log)) return "permission";
  return "other";
}

/** The Engine refused a published port (docker-proxy's bind, or its own port allocator). */
export function isPortTaken(error: string): boolean {
  return /address already in use|port is already allocated/i.test(error);
}

/** The answer of the probe's `nc` came from an HTTP server (node-exporter or the probe listener): connected. */
export function reachedHttp(output: string): boolean {
  return /^HTTP\/1\.[01] \d{3}/m.test(output);
}

/** The default route's gateway from /proc/net/route (addresses are little-endian hex), or undefined. */
export function defaultGateway(procNetRoute: string): string | undefined {
  for (const line of procNetRoute.split("\n").slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination === "00000000" && gateway && /^[0-9A-Fa-f]{8}$/.test(gateway) && gateway !== "00000000") {
      return [3, 2, 1, 0].map((byte) => parseInt(gateway.slice(byte * 2, byte * 2 + 2), 16)).join(".");
    }
  }
  return undefined;
}

// ---- the report ----------------------------------------------------------------------------------

/** `warn`: worth reading, does not fail the preflight. */
export type CheckStatus = "pass" | "fail" | "skip" | "warn";

export interface CheckResult {
  /** Stable id, for tests and scripts (`api-version`, `root-propagation`, ...). */
  id: string;
  status: CheckStatus;
  /** One line: what was checked and what was found. */
  summary: string;
  /** For a failure: the command or config key that fixes it (one item per line). */
  remedy?: string[];
}

export function formatReport(header: string, results: CheckResult[]): string {
  const mark: Record<CheckStatus, string> = { pass: "ok  ", fail: "FAIL", skip: "skip", warn: "WARN" };
  const lines = [header];
  for (const result of results) {
    lines.push(`  ${mark[result.status]}  ${result.summary}`);
    for (const [index, remedy] of (result.remedy ?? []).entries()) lines.push(`${index === 0 ? "        fix: " : "             "}${remedy}`);
  }
  const failed = results.filter((result) => result.status === "fail").length;
  const passed = results.filter((result) => result.status === "pass").length;
  const warned = results.filter((result) => result.status === "warn").length;
  const skipped = results.length - failed - passed - warned;
  const checks = `${passed} check${passed === 1 ? "" : "s"} passed`;
  const warnings = warned ? `, ${warned} warning${warned === 1 ? "" : "s"} (WARN) to read` : "";
  lines.push(
    failed === 0
      ? `\n${checks}${skipped ? `, ${skipped} not needed` : ""}${warnings}: nothing here would stop \`pulumi up\`.`
      : `\n${failed} problem${failed === 1 ? "" : "s"} would stop \`pulumi up\`, leave a target down or change the stack at every \`up\`; ${checks}${skipped ? `, ${skipped} not run` : ""}${warnings}.`,
  );
  return lines.join("\n");
}

export { STACK_LABEL };
