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
  // v3.13.2, the newest tag of the 3.13 LTS line (supported to 2027-07-31; 3.5 LTS ended 2026-07-31):
  // prometheus/prometheus tag v3.13.2 (commit bb5dff00cf, 2026-07-30), support dates from prometheus/docs
  // docs/introduction/release-cycle.md. Checked 2026-12-07. v3.14.0 (a non-LTS minor, out of support
  // by 2026-09-30) is newer but not pinned; v3.13.3+ and v3.15 were not seen upstream from here.
  // The busybox image (Dockerfile at v3.14.0) still has `sh` + `wget` for the authenticated
  // healthcheck (web-config.ts) and runs as `nobody`.
  image: "prom/prometheus:v3.13.2",
  publishedPort: 9090,
  memoryMb: { dev: 1024, staging: 2048, prod: 4096 },
});

export const NODE_EXPORTER_SERVICE = defineStackService({
  key: "nodeExporter",
  name: "node-exporter",
  port: 9100,
  scrapeJob: "node-exporter",
  exporter: true,
  // prometheus/node_exporter tag v1.12.1 (CHANGELOG `## 1.12.1 / 2026-07-14`), checked 2026-12-07.
  // Still busybox, `USER nobody` (Dockerfile at v1.12.1); the distroless variant (1.11+) is not used.
  image: "prom/node-exporter:v1.12.1",
  memoryMb: { dev: 128, staging: 128, prod: 128 },
});

export const BLACKBOX_EXPORTER_SERVICE = defineStackService({
  key: "blackboxExporter",
  name: "blackbox-exporter",
  port: 9115,
  scrapeJob: "blackbox-exporter",
  exporter: true,
  probeJob: "blackbox-health",
  // prometheus/blackbox_exporter tag v0.28.0 (CHANGELOG `## 0.28.0 / 2025-12-04`), checked 2026-12-07.
  // Its breaking changes (`--log.prober`, probe logs at debug, User-Agent `Blackbox-Exporter/<version>`)
  // touch nothing rendered here; /etc/blackbox_exporter/config.yml is still the default config path.
  image: "prom/blackbox-exporter:v0.28.0",
  memoryMb: { dev: 128, staging: 128, prod: 128 },
});
