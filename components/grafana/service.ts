/** The grafana room's container: not run on an agent host, nor when the stack configures an external Grafana. */
import type { Role } from "../config/role";
import { defineStackService } from "../stack-service";

export const GRAFANA_SERVICE = defineStackService({
  key: "grafana",
  name: "grafana",
  port: 3000,
  scrapeJob: "grafana",
  image: "grafana/grafana:12.1.1",
  publishedPort: 3000,
  memoryMb: { dev: 512, staging: 768, prod: 1024 },
  runs: (config: { role: Role; grafana: { external?: unknown } }) => config.role !== "agent" && !config.grafana.external,
});
