/**
 * Fixed, stack-prefixed names of every Docker object, in one place: the components create them and
 * the renderers address containers by them (Docker's DNS on the stack network resolves these names).
 */
import { createHash } from "crypto";
import type { CoreSettings } from "../config/slice";
import { keyedBy, STACK_SERVICE_KEYS, STACK_SERVICES, StackServiceKey } from "../stack-services";

/** One container name per service of the stack (by its key in stack-services.ts), plus the network and volumes. */
export type DockerNames = Record<StackServiceKey, string> & {
  network: string;
  prometheusVolume: string;
  grafanaVolume: string;
  elasticsearchVolume: string;
  filebeatVolume: string;
};

export function dockerNames(config: Pick<CoreSettings, "namePrefix">): DockerNames {
  const p = config.namePrefix;
  return {
    network: `${p}-net`,
    ...keyedBy(STACK_SERVICE_KEYS, (key) => `${p}-${STACK_SERVICES[key].name}`),
    // Spelled out rather than derived from a service's name: a volume holds retained data, and a
    // renamed volume would leave that data behind.
    prometheusVolume: `${p}-prometheus-data`,
    grafanaVolume: `${p}-grafana-data`,
    elasticsearchVolume: `${p}-elasticsearch-data`,
    filebeatVolume: `${p}-filebeat-data`,
  };
}

/** host:port where containers on the stack network reach one of the stack's services. */
export function stackNetworkAddress(names: DockerNames, service: StackServiceKey): string {
  return `${names[service]}:${STACK_SERVICES[service].port}`;
}

/** Label keys put on every Docker object, so `docker ps --filter label=...` finds a stack's pieces. */
export const STACK_LABEL = "atra-observability.stack";
export const COMPONENT_LABEL = "atra-observability.component";

/**
 * Docker's bridge driver option naming the host interface of a bridge network (moby/moby
 * libnetwork/drivers/bridge/labels.go, `BridgeName`). Without it the interface is `br-<network id>`,
 * which changes whenever the network is re-created, so no firewall rule could name it.
 */
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

/**
 * Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the trailing NUL); a longer one
 * fails only at `docker network create` ("failed to check bridge interface existence: numerical
 * result out of range", seen on Engine 20.10). Kept to characters every firewall tool accepts.
 */
const INTERFACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;

/** Why `name` cannot be the stack network's bridge interface, or undefined when it can. */
export function bridgeNameProblem(name: string): string | undefined {
  if (name.length > 15) return `is ${name.length} characters; a Linux interface name has at most 15`;
  if (!INTERFACE_NAME.test(name)) return "must be letters, digits, _ . - (starting with a letter or digit), at most 15 characters";
  if (name === "docker0" || name === "lo" || /^(br-|veth)/.test(name)) return `"${name}" is an interface Docker or the kernel names itself; pick another`;
  return undefined;
}

/**
 * The stack network's bridge interface when the config names none: `atra-<stack>` when that fits in
 * 15 characters, else `atra-` and a hash of the stack name (stable, and distinct per stack).
 */
export function defaultBridgeName(stack: string): string {
  const plain = `atra-${stack}`;
  if (!bridgeNameProblem(plain)) return plain;
  return `atra-${createHash("sha256").update(stack).digest("hex").slice(0, 10)}`;
}
