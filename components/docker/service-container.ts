/**
 * One long-running container of the stack with the settings every one of them shares: fixed name,
 * pinned image, restart policy, memory limit, healthcheck and `wait` for healthy, rotated logs,
 * stack labels. Callers give only what is particular to their service.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DockerPlatform } from "./platform";
import type { CoreSettings } from "../config/slice";
import { PortKey, STACK_SERVICES, StackServiceKey } from "../stack-services";
import { COMPONENT_LABEL, STACK_LABEL } from "./names";
import { dockerHealthcheckDuration } from "./read-back-forms";

const HEALTHCHECK_INTERVAL_SECONDS = 10;
const HEALTHCHECK_TIMEOUT_SECONDS = 5;
const HEALTHCHECK_RETRIES = 6;

export interface ServiceContainerArgs {
  platform: DockerPlatform;
  stack: string;
  /** Which of the stack's services (stack-services.ts): its name is the resource name and component label, its key the image. */
  service: StackServiceKey;
  /** Docker container name (see names.ts). */
  containerName: string;
  memoryMb: number;
  /** The healthcheck test, e.g. httpHealthcheck(url). */
  healthcheck: string[];
  /** How long `pulumi up` waits for the container to become healthy. */
  waitTimeoutSeconds: number;
  /** A grace period before failed checks count, for slow starts (whole seconds; default 20). */
  startPeriodSeconds?: number;
  /** Extra Docker args (ports, volumes, networks, command, uploads, ...). */
  container: Omit<
    docker.ContainerArgs,
    "image" | "name" | "healthcheck" | "memory" | "memorySwap" | "labels" | "wait" | "waitTimeout" | "restart" | "destroyGraceSeconds"
  >;
}

export function serviceContainer(args: ServiceContainerArgs, opts: pulumi.CustomResourceOptions): docker.Container {
  const component = STACK_SERVICES[args.service].name;
  return new docker.Container(
    component,
    {
      ...args.container,
      name: args.containerName,
      image: args.platform.image(args.service).imageId,
      restart: "unless-stopped",
      memory: args.memoryMb,
      // Equal to the memory limit, i.e. no swap: left unset, the engine stores twice the memory and the
      // provider reads that back as a change (see read-back-forms.ts). No swap also keeps Elasticsearch's
      // heap and Prometheus's head block in RAM.
      memorySwap: args.memoryMb,
      // Durations in the form the provider reads back (Go's Duration.String: 60 s is `1m0s`).
      healthcheck: {
        tests: args.healthcheck,
        interval: dockerHealthcheckDuration(HEALTHCHECK_INTERVAL_SECONDS),
        timeout: dockerHealthcheckDuration(HEALTHCHECK_TIMEOUT_SECONDS),
        retries: HEALTHCHECK_RETRIES,
        startPeriod: dockerHealthcheckDuration(args.startPeriodSeconds ?? 20),
      },
      wait: true,
      waitTimeout: args.waitTimeoutSeconds,
      // Time to flush (Prometheus's head block, Grafana's SQLite) before Docker kills a replaced container.
      destroyGraceSeconds: 60,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      labels: [
        { label: STACK_LABEL, value: args.stack },
        { label: COMPONENT_LABEL, value: component },
      ],
    },
    // The fixed name and published ports are held by the old container: remove it before creating its replacement.
    { ...opts, provider: args.platform.provider, deleteBeforeReplace: true },
  );
}

/** A URL of the service as its own healthcheck reaches it, from inside its container. */
export function loopbackUrl(service: StackServiceKey, path: string): string {
  return `http://127.0.0.1:${STACK_SERVICES[service].port}${path}`;
}

/** The service's container port published on the stack's bind address, at the host port its config gives. */
export function publishedPort(service: PortKey, config: Pick<CoreSettings, "ports" | "bindAddress">) {
  return { internal: STACK_SERVICES[service].port, external: config.ports[service], ip: config.bindAddress, protocol: "tcp" };
}

/** A `wget` healthcheck: wget is in the busybox-based Prometheus and exporter images. */
export function httpHealthcheck(url: string): string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", url];
}
