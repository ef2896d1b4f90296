/**
 * The SLO room in the program, under the mock engine with the dev stack file (whose catalog sets
 * objectives): the recording-rule file is uploaded into the Prometheus container next to
 * prometheus.yml and named in its rule_files; the burn-rate alerts are one Grafana rule group in the
 * alert folder, after the Prometheus datasource, each rule a well-formed query chain on the recording
 * rules. A stack without objectives gets neither (prod's plan does not change).
 */
import * as yaml from "js-yaml";
import type { PlanResult } from "../../scripts/lib/plan";
import { ruleUid } from "../../components/alerting/grafana-rules";
import { RECORDED, SLO_ALERT_GROUP, SLO_ALERTS, SLO_RULE_FILE_PATH, sloDefinitions } from "../../components/slo/slo-rules";
import { MEMORY_RULE_FILE_PATH, PROMETHEUS_MEMORY_LIMIT_RECORD } from "../../components/metrics/memory-rule";
import { planIsolated, resolvedStackConfig } from "../support/plan";

const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
const CONTAINER = "docker:index/container:Container";

interface PlannedRule {
  uid: string;
  name: string;
  condition: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  datas: { refId: string; datasourceUid: string; model: string }[];
}

const prometheusOf = (plan: PlanResult) => plan.run.resources.find((r) => r.type === CONTAINER && String(r.inputs.name).endsWith("-prometheus"))!;
const uploads = (plan: PlanResult) => prometheusOf(plan).inputs.uploads as { file: string; content: string }[];

describe("dev: objectives set", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("dev");
  }, 120_000);
  const slos = sloDefinitions(resolvedStackConfig("dev").services);

  test("the rule file is uploaded next to prometheus.yml and named in its rule_files", () => {
    const files = uploads(plan);
    const ruleFile = files.find((file) => file.file === SLO_RULE_FILE_PATH);
    expect(ruleFile).toBeDefined();
    const prometheusYml = yaml.load(files.find((file) => file.file.endsWith("prometheus.yml"))!.content) as { rule_files?: string[] };
    expect(prometheusYml.rule_files).toEqual([SLO_RULE_FILE_PATH, MEMORY_RULE_FILE_PATH]);
    const groups = (yaml.load(ruleFile!.content) as { groups: { rules: { record: string; labels: Record<string, string> }[] }[] }).groups;
    const recorded = groups.flatMap((group) => group.rules);
    for (const slo of slos) {
      expect(recorded.filter((rule) => rule.labels.service === slo.service && rule.labels.slo === slo.slo).map((rule) => rule.record)).toContain(
        RECORDED.errorRatio(slo.window),
      );
    }
    expect(plan.artifacts.map((artifact) => artifact.path)).toContain(`containers/atra-obs-dev-prometheus${SLO_RULE_FILE_PATH}`);
  });

  test("one rule group of two multi-dimensional burn-rate alerts, in the alert folder, after the Prometheus datasource, with well-formed query chains", () => {
    const groups = plan.run.resources.filter((r) => r.type === RULE_GROUP && String(r.inputs.name).startsWith(SLO_ALERT_GROUP));
    expect(groups.map((g) => g.inputs.name)).toEqual([SLO_ALERT_GROUP]);
    const datasource = plan.run.resources.find((r) => r.type === "grafana:oss/dataSource:DataSource" && r.name === "prometheus")!;
    const folder = plan.run.resources.find((r) => r.type === "grafana:oss/folder:Folder" && r.name === "alerts")!;
    const [group] = groups;
    expect(group.inputs.folderUid).toBe("atra-alerts");
    expect(group.dependencies).toEqual(expect.arrayContaining([folder.urn, datasource.urn]));
    const rules = group.inputs.rules as PlannedRule[];
    // One page and one ticket for every SLO of the catalog: each SLO is a series, so an instance, of them.
    expect(rules.map((rule) => rule.name)).toEqual([SLO_ALERTS.page, SLO_ALERTS.ticket]);
    for (const rule of rules) {
      expect(rule.uid).toBe(ruleUid(SLO_ALERT_GROUP, rule.name));
      const models = Object.fromEntries(rule.datas.map((data) => [data.refId, { ...data, model: JSON.parse(data.model) }]));
      expect(models.A.datasourceUid).toBe(datasource.inputs.uid);
      // This stack's own Prometheus: no scope (its scraped series carry no external labels).
      expect(models.A.model.expr.startsWith(`${RECORDED.budgetRemaining}\nand on (service, slo)`)).toBe(true);
      expect(models[rule.condition].model.expression).toBe("is_number($A) || is_nan($A) || is_inf($A)");
      expect(rule.labels).toEqual({ severity: rule.name === SLO_ALERTS.page ? "critical" : "warning" });
      expect(rule.annotations.runbook_url).toMatch(/^docs\/runbook\.md#sloerrorbudget(fast|slow)burn$/);
      expect(rule.annotations.error_budget_remaining).toBe("{{ humanizePercentage $values.A.Value }}");
    }
    // Every SLO's series the rules read is recorded with the labels the instances carry.
    expect(slos.length).toBeGreaterThan(0);
  });
});

test("prod: no objectives, no SLO rule file, no SLO group; its memory limit (memoryMb.prometheus 4096) recorded with its host", async () => {
  const plan = await planIsolated("prod");
  expect(uploads(plan).map((file) => file.file)).not.toContain(SLO_RULE_FILE_PATH);
  expect(yaml.load(uploads(plan).find((file) => file.file.endsWith("prometheus.yml"))!.content)).toHaveProperty("rule_files", [MEMORY_RULE_FILE_PATH]);
  // PrometheusMemoryHigh (alerts/stack.yml) divides the central's RSS by this series, joined on host.
  const memory = yaml.load(uploads(plan).find((file) => file.file === MEMORY_RULE_FILE_PATH)!.content) as {
    groups: { rules: { record: string; expr: string; labels: Record<string, string> }[] }[];
  };
  const config = resolvedStackConfig("prod");
  expect(memory.groups.flatMap((group) => group.rules)).toEqual([
    { record: PROMETHEUS_MEMORY_LIMIT_RECORD, expr: `vector(${4096 * 1024 * 1024})`, labels: { host: config.prometheus.hostLabel } },
  ]);
  expect(plan.run.resources.filter((r) => r.type === RULE_GROUP && String(r.inputs.name).startsWith(SLO_ALERT_GROUP))).toEqual([]);
}, 120_000);
