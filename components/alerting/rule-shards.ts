/**
 * Shards of per-service Grafana rules (components/slo, components/alerting/log-alerts.ts).
 *
 * Grafana rule groups hold many services each, in shards: a group is one provider resource, and the
 * offline plan of 2,000 services measured about 0.35 MB of memory per rule-group resource (`npm run
 * bench`), so a group per service would cost more than the rules themselves. Grafana evaluates every
 * rule on its own schedule whatever its group (the group only sets the interval), so sharding changes
 * no evaluation; it bounds the size of one resource, one API body and what one change re-sends.
 *
 * A service's shard is its name's hash modulo the shard count, a power of two chosen so that a shard
 * holds SERVICES_PER_GRAFANA_GROUP services on average (the busiest shard about twice that). When the
 * catalog doubles, the count doubles and each shard splits in two: a service of shard i stays in i or
 * moves to i + count, so existing groups keep their names and half their rules. Shard 0 keeps the
 * group's historical name (`atra-slo`, `atra-logs`): a catalog within one shard is planned exactly as
 * before, and a rule that moves keeps its uid (Grafana moves a rule whose uid another group's PUT
 * names: grafana/grafana pkg/services/ngalert/store/deltas.go, calculateChanges).
 */
import { createHash } from "crypto";

export const SERVICES_PER_GRAFANA_GROUP = 16;

export function shardCount(services: number, perShard = SERVICES_PER_GRAFANA_GROUP): number {
  let count = 1;
  while (services / count > perShard) count *= 2;
  return count;
}

export function shardOf(service: string, count: number): number {
  return parseInt(createHash("sha256").update(service).digest("hex").slice(0, 8), 16) % count;
}

/** `base` for shard 0, `base:<shard>` for the others. */
export function shardGroupName(base: string, shard: number): string {
  return shard === 0 ? base : `${base}:${shard}`;
}

/** The services' items by shard, shards in order and only those holding any; items keep their order. */
export function shardServices<T>(items: readonly T[], serviceOf: (item: T) => string, perShard = SERVICES_PER_GRAFANA_GROUP): { shard: number; items: T[] }[] {
  const count = shardCount(new Set(items.map(serviceOf)).size, perShard);
  const shards = new Map<number, T[]>();
  for (const item of items) {
    const shard = shardOf(serviceOf(item), count);
    shards.set(shard, [...(shards.get(shard) ?? []), item]);
  }
  return [...shards].sort(([a], [b]) => a - b).map(([shard, members]) => ({ shard, items: members }));
}
