/**
 * The logs room's containers, each on the newest 9.5 patch confirmed upstream (checked 2026-12-07),
 * which are not the same patch:
 * - Elasticsearch 9.5.7: release page github.com/elastic/elasticsearch/releases/tag/v9.5.7 (d16690c);
 * - Filebeat 9.5.2: github.com/elastic/beats/releases/tag/v9.5.2;
 * - Kibana 9.5.0: github.com/elastic/kibana/releases/tag/v9.5.0 (240f7d1); no later Kibana 9.5
 *   release was seen from here, and no tag is pinned that was not seen published.
 * Elastic allows this: Kibana refuses only an Elasticsearch of another major or an older minor and
 * logs a warning on a patch difference (elastic/kibana src/core/packages/elasticsearch/server-internal/
 * src/version_check/es_kibana_version_compatability.ts and ensure_es_version.ts), and neither Kibana
 * nor Filebeat is newer than Elasticsearch. When a later Kibana (or Beats) 9.5 patch is seen, align
 * them. The rules for `images.elasticsearch` / `kibana` / `filebeat`: components/config/image-versions.ts.
 * All on the major of the @elastic/elasticsearch client the providers use (9.5.1, npm dist-tag latest,
 * the server's minor). Elasticsearch gets half its container memory as heap (the rest is file cache
 * and off-heap).
 */
import type { Role } from "../config/role";
import { defineStackService } from "../stack-service";

/** The stack's own Elasticsearch and Kibana: with the logs stage on, on a central stack, unless it ships to an external cluster. */
const ownCluster = (config: { role: Role; logs: { enabled: boolean; external?: unknown } }) =>
  config.logs.enabled && config.role !== "agent" && !config.logs.external;

export const ELASTICSEARCH_SERVICE = defineStackService({
  key: "elasticsearch",
  name: "elasticsearch",
  port: 9200,
  image: "docker.elastic.co/elasticsearch/elasticsearch:9.5.7",
  publishedPort: 9200,
  memoryMb: { dev: 1536, staging: 3072, prod: 4096 },
  runs: ownCluster,
});

export const KIBANA_SERVICE = defineStackService({
  key: "kibana",
  name: "kibana",
  port: 5601,
  image: "docker.elastic.co/kibana/kibana:9.5.0",
  publishedPort: 5601,
  memoryMb: { dev: 1024, staging: 1536, prod: 2048 },
  runs: ownCluster,
});

/** Filebeat's port is its HTTP monitoring endpoint, on loopback inside the container: only its healthcheck asks it. */
export const FILEBEAT_SERVICE = defineStackService({
  key: "filebeat",
  name: "filebeat",
  port: 5066,
  image: "docker.elastic.co/beats/filebeat:9.5.2",
  memoryMb: { dev: 256, staging: 384, prod: 512 },
  runs: (config: { logs: { enabled: boolean } }) => config.logs.enabled,
});
