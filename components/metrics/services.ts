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
  // v3.13.2, the newest tag seen of the 3.13 LTS line. The policy is the newest LTS patch, not the
  // newest minor: v3.14.0 exists (tag d7598b7141, 2026-08-17) and is the supported latest minor until
  // v3.15 ships, but each non-LTS minor is supported only until the next one (~6 weeks), while 3.13 is
  // the LTS until 2027-07-31 (3.5 LTS ended 2026-07-31): prometheus/docs
  // docs/introduction/release-cycle.md. Tag v3.13.2: prometheus/prometheus commit bb5dff00cf,
  // 2026-07-30. Checked 2026-12-07; v3.13.3+ was not seen upstream from here.
  // The busybox image (prometheus/prometheus Dockerfile at v3.13.2: `FROM
  // quay.io/prometheus/busybox-${OS}-${ARCH}:latest`, `USER nobody`, `ENTRYPOINT [ "/bin/prometheus" ]`)
  // still has `sh` + `wget` for the authenticated healthcheck (web-config.ts).
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
