/**
 * What one of the stack's own services is, said once by the room that runs it: its name, port,
 * pinned image, memory per environment, Prometheus jobs, whether a given stack runs it, and (for an
 * optional exporter) its config keys and its container. components/stack-services.ts lists the
 * descriptors; the config keys, defaults, image pulls, scrape jobs and the exporter alert's job list
 * are all derived from that list.
 *
 * This module imports types only, so every room can define its services without an import cycle.
 */
import type * as docker from "@pulumi/docker";
import type { z } from "zod";
import type { ConfigSlice } from "./config/slice";
import type { PerEnvironment } from "./config/environments";

/** What a container of an optional exporter adds to the settings every stack container shares (docker/service-container.ts). */
export interface ExporterContainer {
  /** Path of its HTTP health endpoint, asked from inside its container on its own port. */
  healthcheckPath: string;
  /** How long `pulumi up` waits for it to become healthy. */
  waitTimeoutSeconds: number;
  /** Whether it also joins the applications' networks (`appNetworks`), to reach what it exports the metrics of. */
  joinsAppNetworks?: boolean;
  /** Docker args particular to it; it joins the stack network (Prometheus scrapes it there) without being told. */
  container: Omit<
    docker.ContainerArgs,
    "image" | "name" | "healthcheck" | "memory" | "memorySwap" | "labels" | "wait" | "waitTimeout" | "restart" | "destroyGraceSeconds" | "networksAdvanced"
  >;
}

export interface StackServiceDescriptor<Key extends string = string, Config = never> {
  /** Its config key (`images.<key>`, `memoryMb.<key>`, `ports.<key>`) and the key code addresses it by. */
  readonly key: Key;
  /** The Pulumi resource name, the component label, the container-name suffix and the stack-network alias. */
  readonly name: string;
  /** Where it listens inside its container (node-exporter, which runs in the host's network: by default). */
  readonly port: number;
  /** The Prometheus job that scrapes it; dashboards and alerts query `job="<this>"`. */
  readonly scrapeJob?: string;
  /** An exporter: when it is down, the metrics it exports are missing (the `ExporterDown` alert watches its job). */
  readonly exporter?: boolean;
  /** The Prometheus job that sends the catalog's health probes through it. */
  readonly probeJob?: string;
  /** Pinned to an exact tag (never `latest`); a stack overrides it under `images.<key>`. */
  readonly image: string;
  /** The host port it is published on unless a stack says otherwise under `ports.<key>`. */
  readonly publishedPort?: number;
  /** Its container's memory limit (MB) by environment; a stack overrides it under `memoryMb.<key>`. */
  readonly memoryMb: PerEnvironment<number>;
  /** Whether a stack runs it (its image is pulled, its container made); absent: every stack does. */
  readonly runs?: (config: Config) => boolean;
  /** Its own config keys (e.g. a switch `<key>.enabled`), a slice of the stack config like a feature's. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any slice shape
  readonly slice?: ConfigSlice<any, object, any>;
  /** An optional exporter the metrics room runs beside node-exporter: its container, from the stack config. */
  readonly container?: (config: Config) => ExporterContainer;
}

/**
 * Identity, keeping the descriptor's literal type: which fields it has (a port people open, a scrape
 * job) is what gives it the matching config keys (stack-services.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each descriptor states the config it reads
export function defineStackService<const Descriptor extends StackServiceDescriptor<string, any>>(descriptor: Descriptor): Descriptor {
  return descriptor;
}

/** A zod shape's parsed type, for a descriptor's slice. */
export type ShapeOf<Shape extends z.ZodRawShape> = z.infer<z.ZodObject<Shape>>;
