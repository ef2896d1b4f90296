/**
 * Shards of per-service Grafana rules (components/alerting/log-alerts.ts, components/slo/slo-rules.ts).
 *
 * Grafana rule groups hold many services each, in shards: a group is one provider resource and one
 * API body, re-sent whole when any of its rules changes, so one group for the whole catalog grows
 * with it (2,000 services made 21 MB bodies), and a group per service costs a provider resource each.
 * Grafana evaluates every rule on its own schedule whatever its group (the group only sets the
 * interval), so sharding changes no evaluation; it bounds the size of one resource and one API body.
 *
 * A service's shard is its name's hash modulo a FIXED count (SHARD_COUNTS), and its group is
 * `<base>:<shard>`, so a service's rules stay in the same group whatever the catalog's size: adding or
 * removing services never moves another service's rules from one group to another. Moves must not
 * happen at steady state:
 * - Grafana's rule group PUT (ReplaceRuleGroup) computes its delta before its transaction and deletes
 *   the rules missing from the body by uid alone (grafana/grafana pkg/services/ngalert/store/deltas.go,
 *   calculateChanges; pkg/services/ngalert/provisioning/alert_rules.go, ReplaceRuleGroup ->
 *   persistDelta -> DeleteAlertRulesByUID), so the PUT of a group that loses a rule, run concurrently
 *   with the PUT of the group that takes it over, can delete it after it moved;
 * - a group emptied by moves cannot be deleted by the provider: its delete first reads the group, and
 *   Grafana answers 404 for a group without rules, which the provider returns as an error
 *   (grafana/terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go,
 *   deleteAlertRuleGroup -> GetAlertRuleGroup), so `pulumi up` would fail on every run.
 * With a fixed count a group only loses rules that leave the config, and disappears only with its
 * last service, its rules still in it for the provider to delete.
 *
 * The counts are fixed for good: changing one moves most rules between groups (the hazards above).
 * The base name itself holds only rules that belong to no service (the stack-wide log alerts in
 * `atra-logs`); components/grafana/grafana-alerting.ts makes a group depend on its shard groups so that
 * a one-time move out of the base (the layout before shards) creates the shard groups first.
 */
import { createHash } from "crypto";

/**
 * The fixed shard count of each kind of per-service group. Measured with scripts/lib/bench-rules/catalog.ts
 * benchServices(2000) (every service with an availability and a latency SLO, one in four with
 * maxLogSilence), group bodies as JSON (test/unit/rule-shards.test.ts holds the bound):
 * - Grafana-managed SLO recording rules, about 9 KB per service in the largest kind (atra-slo-ratios-long):
 *   256 shards make the largest group about 160 KiB (128 made it 261 KiB, too close to 300 KiB);
 * - log-silence rules, about 1.7 KB per service: 32 shards make the largest group about 41 KiB, and
 *   about 140 KiB if all 2,000 services had maxLogSilence.
 */
export const SHARD_COUNTS = { sloRecording: 256, logSilence: 32 } as const;

/** The count for callers that name none. */
export const DEFAULT_SHARD_COUNT = 64;

export function shardOf(service: string, count: number): number {
  return parseInt(createHash("sha256").update(service).digest("hex").slice(0, 8), 16) % count;
}

/** The group of a shard: `<base>:<shard>`, whatever the catalog's size. */
export function shardGroupName(base: string, shard: number): string {
  return `${base}:${shard}`;
}

/** The base of a shard group's name (`atra-logs` of `atra-logs:7`), or undefined for any other name. */
export function shardGroupBase(name: string): string | undefined {
  return /^(.+):(0|[1-9][0-9]*)$/.exec(name)?.[1];
}

/** The items by their service's shard among `count`, shards in order and only those holding any; items keep their order. */
export function shardServices<T>(items: readonly T[], serviceOf: (item: T) => string, count: number = DEFAULT_SHARD_COUNT): { shard: number; items: T[] }[] {
  const shards = new Map<number, T[]>();
  const shardByService = new Map<string, number>();
  for (const item of items) {
    const service = serviceOf(item);
    let shard = shardByService.get(service);
    if (shard === undefined) {
      shard = shardOf(service, count);
      shardByService.set(service, shard);
    }
    const members = shards.get(shard);
    if (members) members.push(item);
    else shards.set(shard, [item]);
  }
  return [...shards].sort(([a], [b]) => a - b).map(([shard, members]) => ({ shard, items: members }));
}
