/**
 * Fixed, stack-prefixed names of every Docker object, in one place: the components create them and
 * the renderers address containers by them (Docker's DNS on the stack network resolves these names).
 */
import type { StackConfig } from "../config/resolve";

export interface DockerNames {
  network: string;
  prometheusVolume: string;
  grafanaVolume: string;
  prometheus: string;
  grafana: string;
  nodeExporter: string;
  blackboxExporter: string;
  cadvisor: string;
  elasticsearchVolume: string;
  filebeatVolume: string;
  elasticsearch: string;
  kibana: string;
  filebeat: string;
}

export function dockerNames(config: Pick<StackConfig, "namePrefix">): DockerNames {
  const p = config.namePrefix;
  return {
    network: `${p}-net`,
    prometheusVolume: `${p}-prometheus-data`,
    grafanaVolume: `${p}-grafana-data`,
    prometheus: `${p}-prometheus`,
    grafana: `${p}-grafana`,
    nodeExporter: `${p}-node-exporter`,
    blackboxExporter: `${p}-blackbox-exporter`,
    cadvisor: `${p}-cadvisor`,
    elasticsearchVolume: `${p}-elasticsearch-data`,
    filebeatVolume: `${p}-filebeat-data`,
    elasticsearch: `${p}-elasticsearch`,
    kibana: `${p}-kibana`,
    filebeat: `${p}-filebeat`,
  };
}

/** Label keys put on every Docker object, so `docker ps --filter label=...` finds a stack's pieces. */
export const STACK_LABEL = "atra-observability.stack";
export const COMPONENT_LABEL = "atra-observability.component";
