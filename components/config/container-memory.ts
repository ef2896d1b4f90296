/**
 * Memory limits (MB) of the stack's own containers by environment: dev fits a laptop. One row per
 * stack service (components/stack-services.ts); a stack overrides any under `memoryMb.<key>`.
 */
import type { PerEnvironment } from "./environments";
import type { MemoryKey } from "../stack-services";

/** The smallest memory limit a container may be given (MB). */
export const MIN_MEMORY_MB = 32;

export const DEFAULT_MEMORY_MB: PerEnvironment<Record<MemoryKey, number>> = {
  // Elasticsearch gets half its container memory as heap (the rest is file cache and off-heap).
  dev: { prometheus: 1024, grafana: 512, nodeExporter: 128, blackboxExporter: 128, cadvisor: 256, elasticsearch: 1536, kibana: 1024, filebeat: 256 },
  staging: { prometheus: 2048, grafana: 768, nodeExporter: 128, blackboxExporter: 128, cadvisor: 384, elasticsearch: 3072, kibana: 1536, filebeat: 384 },
  prod: { prometheus: 4096, grafana: 1024, nodeExporter: 128, blackboxExporter: 128, cadvisor: 512, elasticsearch: 4096, kibana: 2048, filebeat: 512 },
};
