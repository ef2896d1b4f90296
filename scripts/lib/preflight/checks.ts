/**
 * The preflight's pure half: what the stack needs from its Docker host, taken from the resources the
 * program itself registers (the offline plan under the mock engine, so the probes use exactly the
 * settings `pulumi up` will send and cannot drift from them), how a probe's answer is read, and how
 * the report is printed. No Docker here; ./run.ts does the probing.
 */
import type { PlannedResource } from "../mock-engine";
import type { StackConfig } from "../../../components/config/resolve";
import { dockerNames, STACK_LABEL } from "../../../components/docker/names";
import { dockerScrapeAddresses } from "../../../components/metrics/metrics-stack";
import { stackServiceKeyNamed } from "../../../components/stack-services";

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
  };
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

export type CheckStatus = "pass" | "fail" | "skip";

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
  const mark: Record<CheckStatus, string> = { pass: "ok  ", fail: "FAIL", skip: "skip" };
  const lines = [header];
  for (const result of results) {
    lines.push(`  ${mark[result.status]}  ${result.summary}`);
    for (const [index, remedy] of (result.remedy ?? []).entries()) lines.push(`${index === 0 ? "        fix: " : "             "}${remedy}`);
  }
  const failed = results.filter((result) => result.status === "fail").length;
  const passed = results.filter((result) => result.status === "pass").length;
  const skipped = results.length - failed - passed;
  const checks = `${passed} check${passed === 1 ? "" : "s"} passed`;
  lines.push(
    failed === 0
      ? `\n${checks}${skipped ? `, ${skipped} not needed` : ""}: nothing here would stop \`pulumi up\`.`
      : `\n${failed} problem${failed === 1 ? "" : "s"} would stop \`pulumi up\` or leave a target down; ${checks}${skipped ? `, ${skipped} not run` : ""}.`,
  );
  return lines.join("\n");
}

export { STACK_LABEL };
