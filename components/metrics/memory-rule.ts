/**
 * The central Prometheus's own memory limit as a series, for the alert PrometheusMemoryHigh (alerts/stack.yml).
 * Pure: central-stack.ts uploads the file next to prometheus.yml (MetricsStack ruleFiles).
 *
 * Why a series: the alert rules are static files Grafana evaluates for every stack (alerts/*.yml), but the limit is
 * this stack's `memoryMb.prometheus`, and cAdvisor (whose container_spec_memory_limit_bytes would carry it) is optional.
 * The central Prometheus records `vector(<bytes>)` with its own `host`, so the alert joins
 * `process_resident_memory_bytes{job="prometheus"}` on `host` and reads the central's process only. The name has a
 * colon, like every recording rule's (prometheus/docs content/docs/concepts/data_model.md: colons are reserved for
 * recording rules), and such names are dropped from what an agent sends (prometheus-config.ts CENTRAL_ONLY_NAMES): an
 * agent cannot forge it, so it cannot make its own process pass as the central's, nor mute AgentSeriesChurn (which
 * reads the central's start time through it).
 */
import { recordingRuleFileYaml } from "../slo/slo-rules";

export const MEMORY_RULE_FILE_PATH = "/etc/prometheus/rules/memory.yml";
/** The container memory limit of this stack's Prometheus, in bytes, with its `host`. */
export const PROMETHEUS_MEMORY_LIMIT_RECORD = "atra:prometheus_memory_limit_bytes";

export function renderMemoryRuleFile(memoryMb: number, host: string): string {
  // The container's limit is memoryMb MiB: kreuzwerker/terraform-provider-docker internal/provider/
  // resource_docker_container_funcs.go, `hostConfig.Memory = int64(v.(int)) * 1024 * 1024` (service-container.ts `memory`).
  const bytes = memoryMb * 1024 * 1024;
  return (
    "# Rendered by atra-observability (components/metrics/memory-rule.ts). Do not edit: change memoryMb.prometheus.\n" +
    recordingRuleFileYaml([{ name: "atra-prometheus-memory", rules: [{ record: PROMETHEUS_MEMORY_LIMIT_RECORD, expr: `vector(${bytes})`, labels: { host } }] }])
  );
}
