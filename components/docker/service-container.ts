/**
 * One long-running container of the stack with the settings every one of them shares: fixed name,
 * pinned image, restart policy, memory limit, healthcheck and `wait` for healthy, rotated logs,
 * stack labels. Callers give only what is particular to their service.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DockerPlatform } from "./platform";
import type { ImageKey } from "../config/defaults";
import { COMPONENT_LABEL, STACK_LABEL } from "./names";

export interface ServiceContainerArgs {
  platform: DockerPlatform;
  stack: string;
  /** Docker container name (see names.ts). */
  containerName: string;
  /** Value of the component label, e.g. `prometheus`. */
  component: string;
  image: ImageKey;
  memoryMb: number;
  /** The healthcheck test, e.g. httpHealthcheck(url). */
  healthcheck: string[];
  /** How long `pulumi up` waits for the container to become healthy. */
  waitTimeoutSeconds: number;
  /** A grace period before failed checks count, for slow starts. */
  startPeriod?: string;
  /** Extra Docker args (ports, volumes, networks, command, uploads, ...). */
  container: Omit<
    docker.ContainerArgs,
    "image" | "name" | "healthcheck" | "memory" | "labels" | "wait" | "waitTimeout" | "restart" | "destroyGraceSeconds"
  >;
}

export function serviceContainer(name: string, args: ServiceContainerArgs, opts: pulumi.CustomResourceOptions): docker.Container {
  return new docker.Container(
    name,
    {
      ...args.container,
      name: args.containerName,
      image: args.platform.image(args.image).imageId,
      restart: "unless-stopped",
      memory: args.memoryMb,
      healthcheck: {
        tests: args.healthcheck,
        interval: "10s",
        timeout: "5s",
        retries: 6,
        startPeriod: args.startPeriod ?? "20s",
      },
      wait: true,
      waitTimeout: args.waitTimeoutSeconds,
      // Time to flush (Prometheus's head block, Grafana's SQLite) before Docker kills a replaced container.
      destroyGraceSeconds: 60,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      labels: [
        { label: STACK_LABEL, value: args.stack },
        { label: COMPONENT_LABEL, value: args.component },
      ],
    },
    // The fixed name and published ports are held by the old container: remove it before creating its replacement.
    { ...opts, provider: args.platform.provider, deleteBeforeReplace: true },
  );
}

/** A `wget` healthcheck: wget is in the busybox-based Prometheus and exporter images. */
export function httpHealthcheck(url: string): string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", url];
}
