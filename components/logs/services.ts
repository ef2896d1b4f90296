/**
 * The logs room's containers. One version for all three (Kibana refuses an Elasticsearch of another
 * version), and the same major as the @elastic/elasticsearch client the providers use. Elasticsearch
 * gets half its container memory as heap (the rest is file cache and off-heap).
 *
 * 9.5.0, the newest version confirmed upstream for all three (checked 2026-12-07): release pages
 * github.com/elastic/elasticsearch/releases/tag/v9.5.0, github.com/elastic/kibana/releases/tag/v9.5.0
 * (240f7d1) and github.com/elastic/beats/releases/tag/v9.5.0. Elasticsearch v9.5.7 and Beats v9.5.2
 * were seen too, but no Kibana release after v9.5.0, and the three must be one version. The
 * @elastic/elasticsearch client is 9.5.1 (npm dist-tag latest), the server's minor. What a stack may
 * override (`images.elasticsearch` / `kibana` / `filebeat`): components/config/image-versions.ts.
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
  image: "docker.elastic.co/elasticsearch/elasticsearch:9.5.0",
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
  image: "docker.elastic.co/beats/filebeat:9.5.0",
  memoryMb: { dev: 256, staging: 384, prod: 512 },
  runs: (config: { logs: { enabled: boolean } }) => config.logs.enabled,
});
