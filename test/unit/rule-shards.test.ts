/**
 * Per-service Grafana rule groups by fixed service shard (components/alerting/rule-shards.ts): a
 * service's shard does not depend on the catalog's size, so no rule ever moves between groups as the
 * catalog grows or shrinks (a move races with the old group's PUT in Grafana, and a group emptied by
 * moves cannot be deleted by the provider: grafana/grafana pkg/services/ngalert/provisioning/alert_rules.go
 * ReplaceRuleGroup, grafana/terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go
 * deleteAlertRuleGroup); every group of the 2,000-service bench catalog stays well under 300 KiB; and in
 * the program a group is created after its shard groups, so the one-time move out of `atra-logs` takes
 * the rules over before `atra-logs` drops them.
 */
import type { PlanResult } from "../../scripts/lib/plan";
import { DEFAULT_SHARD_COUNT, SHARD_COUNTS, shardGroupBase, shardGroupName, shardOf, shardServices } from "../../components/alerting/rule-shards";
import { logAlertGroups, LOG_ALERT_GROUP } from "../../components/alerting/log-alerts";
import { sloDefinitions, sloGrafanaRecordingGroups } from "../../components/slo/slo-rules";
import { resolveStackConfig } from "../../components/config/resolve";
import { benchServices, BENCH_PROMETHEUS } from "../../scripts/lib/bench-rules/catalog";
import { planIsolated } from "../support/plan";

const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
const names = (count: number) => Array.from({ length: count }, (_, i) => `svc-${i}`);

describe("the shard of a service", () => {
  test("depends on its name and the fixed count only: the same in a catalog of 1, 20 or 2,000 services", () => {
    const shardsIn = (catalog: string[], count?: number) =>
      new Map(shardServices(catalog, (service) => service, count).flatMap(({ shard, items }) => items.map((service) => [service, shard] as const)));
    for (const count of [...Object.values(SHARD_COUNTS), undefined]) {
      const large = shardsIn(names(2000), count);
      for (const size of [1, 20, 300]) {
        for (const [service, shard] of shardsIn(names(size), count)) expect([service, shard]).toEqual([service, large.get(service)]);
      }
      for (const [service, shard] of large) expect(shard).toBe(shardOf(service, count ?? DEFAULT_SHARD_COUNT));
    }
  });

  test("groups are <base>:<shard> for every shard, 0 included, in shard order, items in their order; the base is read back from the name", () => {
    expect(shardGroupName("atra-logs", 0)).toBe("atra-logs:0");
    expect(shardGroupBase("atra-logs:0")).toBe("atra-logs");
    expect(shardGroupBase("atra-slo-ratios-long:255")).toBe("atra-slo-ratios-long");
    for (const other of ["atra-logs", "atra-logs:", "atra-logs:07", "atra-logs:x", ":3"]) expect(shardGroupBase(other)).toBeUndefined();
    const items = names(100).flatMap((service) => [`${service}/a`, `${service}/b`]);
    const shards = shardServices(items, (item) => item.split("/")[0], 8);
    expect(shards.map(({ shard }) => shard)).toEqual([...shards.map(({ shard }) => shard)].sort((a, b) => a - b));
    expect(shards.flatMap(({ items: members }) => members).sort()).toEqual([...items].sort());
    for (const { items: members } of shards) expect(members).toEqual(items.filter((item) => members.includes(item)));
  });
});

describe("the 2,000-service bench catalog (scripts/lib/bench-rules/catalog.ts)", () => {
  const { config } = resolveStackConfig({ stack: "dev", values: { services: benchServices(2000), prometheus: BENCH_PROMETHEUS }, secretKeys: [] });
  const kib = (group: object) => JSON.stringify(group).length / 1024;

  test("Grafana's SLO recording groups: 3 kinds x 256 shards, the largest well under 300 KiB", () => {
    const groups = sloGrafanaRecordingGroups(sloDefinitions(config.services), "1m", "query", "write");
    expect(groups).toHaveLength(3 * SHARD_COUNTS.sloRecording);
    // Measured: the largest (atra-slo-ratios-long) about 160 KiB; 128 shards made it 261 KiB.
    expect(Math.max(...groups.map(kib))).toBeLessThan(200);
  });

  test("the log-silence groups (one service in four with maxLogSilence): 32 shards, the largest far under 300 KiB", () => {
    const groups = logAlertGroups(config.logs, config.services, {
      elasticsearchDatasourceUid: "es",
      failureStoreDatasourceUid: "f",
      interval: "1m",
      host: "h",
    });
    expect(groups.filter((g) => g.name !== LOG_ALERT_GROUP)).toHaveLength(SHARD_COUNTS.logSilence);
    expect(Math.max(...groups.map(kib))).toBeLessThan(64);
  });
});

describe("in the program (dev stack: logs on, a service with maxLogSilence)", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("dev");
  }, 120_000);

  test("atra-logs is created and updated after its shard groups, which depend on nothing of it", () => {
    const groups = plan.run.resources.filter((r) => r.type === RULE_GROUP);
    const base = groups.find((g) => g.inputs.name === LOG_ALERT_GROUP)!;
    const shards = groups.filter((g) => shardGroupBase(String(g.inputs.name)) === LOG_ALERT_GROUP);
    expect(shards.length).toBeGreaterThan(0);
    expect(base.dependencies).toEqual(expect.arrayContaining(shards.map((g) => g.urn)));
    for (const shard of shards) expect(shard.dependencies).not.toContain(base.urn);
    // Groups of no base in the plan (rule files' groups, atra-slo) wait for no other rule group.
    for (const other of groups.filter((g) => g !== base && !shards.includes(g))) {
      expect(other.dependencies.filter((urn) => groups.some((g) => g.urn === urn))).toEqual([]);
    }
  });
});
