/**
 * The central Prometheus's memory limit as a series (components/metrics/memory-rule.ts), with the real promtool 2.42:
 * the rendered rule file passes `promtool check rules`, and evaluated together with alerts/stack.yml it is what
 * PrometheusMemoryHigh divides the central's resident memory by. Only process_resident_memory_bytes is given as input:
 * the limit comes from the rendered recording rule alone, so a wrong number, name or host label shows here.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { renderMemoryRuleFile } from "../../components/metrics/memory-rule";
import { describeWithTools, runTool, tempDir } from "../support/real-tools";

const STACK_RULES = path.join(__dirname, "..", "..", "alerts", "stack.yml");

describeWithTools(["promtool"], "the rendered memory rule file, with promtool", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("atra-memory-rule-");
    // memoryMb.prometheus 1024 on host obs-1: 1 GiB.
    fs.writeFileSync(path.join(dir, "memory.yml"), renderMemoryRuleFile(1024, "obs-1"));
    fs.copyFileSync(STACK_RULES, path.join(dir, "stack.yml"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("promtool check rules accepts it", () => {
    const result = runTool("promtool", ["check", "rules", path.join(dir, "memory.yml")]);
    expect(result).toEqual({ status: 0, output: expect.stringContaining("SUCCESS: 1 rules found") });
  });

  test("PrometheusMemoryHigh fires for the central's process at 90% of memoryMb.prometheus, not at 70%, never for an agent's", () => {
    const gib = 1024 * 1024 * 1024;
    const tests = {
      rule_files: ["memory.yml", "stack.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: 'process_resident_memory_bytes{host="obs-1",job="prometheus",instance="localhost:9090"}', values: `${0.7 * gib}x3 ${0.9 * gib}x10` },
            // An agent's own Prometheus (no recorded limit for its host) far above it.
            { series: 'process_resident_memory_bytes{host="app-2",job="prometheus",instance="localhost:9090"}', values: `${4 * gib}x13` },
          ],
          alert_rule_test: [
            { eval_time: "3m", alertname: "PrometheusMemoryHigh", exp_alerts: [] },
            {
              eval_time: "10m",
              alertname: "PrometheusMemoryHigh",
              exp_alerts: [
                {
                  exp_labels: { host: "obs-1", severity: "critical" },
                  exp_annotations: {
                    summary: "The central Prometheus on obs-1 is near its memory limit.",
                    description:
                      "Prometheus on obs-1 holds 90% of its container memory limit (memoryMb.prometheus). Find what adds series (AgentSeriesChurn, prometheus_tsdb_head_series), then remove that host's agents[] entry or raise memoryMb.prometheus before it is OOM-killed.",
                    runbook_url: "docs/runbook.md#prometheusmemoryhigh",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "memory.test.yml"), yaml.dump(tests, { lineWidth: -1 }));
    const result = runTool("promtool", ["test", "rules", path.join(dir, "memory.test.yml")]);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});
