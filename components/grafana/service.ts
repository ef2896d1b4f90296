/** The grafana room's container: not run on an agent host, nor when the stack configures an external Grafana. */
import type { Role } from "../config/role";
import { defineStackService } from "../stack-service";

export const GRAFANA_SERVICE = defineStackService({
  key: "grafana",
  name: "grafana",
  port: 3000,
  scrapeJob: "grafana",
  // 13.2.0, the newest release seen as upstream's own: grafana/docker-otel-lgtm docker/Dockerfile at
  // 6b62ccec (2026-08-21) `ARG GRAFANA_VERSION=v13.2.0` (renovate, datasource github-releases of
  // grafana/grafana), and grafana-community/helm-charts charts/grafana/Chart.yaml at 3386a115
  // `appVersion: 13.2.0`. Checked 2026-12-07. grafana/grafana itself could not be mirrored here; 13.3.x
  // exists per its docs (whats-new-in-v13-3.md) but no 13.3 tag was seen, so it is not pinned.
  // Supported range for `images.grafana`: components/config/image-versions.ts.
  image: "grafana/grafana:13.2.0",
  publishedPort: 3000,
  memoryMb: { dev: 512, staging: 768, prod: 1024 },
  runs: (config: { role: Role; grafana: { external?: unknown } }) => config.role !== "agent" && !config.grafana.external,
});

/**
 * Grafana's /metrics login (grafana/grafana conf/defaults.ini `[metrics] basic_auth_username`,
 * `basic_auth_password`: "If both are set, basic auth will be required for the metrics endpoints"), set by
 * grafana-server.ts; Prometheus's scrape of Grafana sends it, the password from this file in its container
 * (prometheus-config.ts; uploaded 0444 like the other scrape credentials, inside a container only Prometheus runs in).
 */
export const GRAFANA_METRICS_USER = "atra-prometheus";
export const GRAFANA_METRICS_PASSWORD_PATH = "/etc/prometheus/secrets/grafana-metrics-password";
