/**
 * The metrics room's always-present services: Prometheus, node-exporter (the host) and the blackbox
 * exporter (the catalog's health probes). Each optional exporter has a module of its own.
 * Prometheus stays on 3.x; what we render must also be accepted by the 2.42 promtool the tests run,
 * so keep to config both understand.
 */
import { defineStackService } from "../stack-service";

export const PROMETHEUS_SERVICE = defineStackService({
  key: "prometheus",
  name: "prometheus",
  port: 9090,
  scrapeJob: "prometheus",
  image: "prom/prometheus:v3.5.0",
  publishedPort: 9090,
  memoryMb: { dev: 1024, staging: 2048, prod: 4096 },
});

export const NODE_EXPORTER_SERVICE = defineStackService({
  key: "nodeExporter",
  name: "node-exporter",
  port: 9100,
  scrapeJob: "node-exporter",
  exporter: true,
  image: "prom/node-exporter:v1.9.1",
  memoryMb: { dev: 128, staging: 128, prod: 128 },
});

export const BLACKBOX_EXPORTER_SERVICE = defineStackService({
  key: "blackboxExporter",
  name: "blackbox-exporter",
  port: 9115,
  scrapeJob: "blackbox-exporter",
  exporter: true,
  probeJob: "blackbox-health",
  image: "prom/blackbox-exporter:v0.27.0",
  memoryMb: { dev: 128, staging: 128, prod: 128 },
});
