/**
 * Prometheus checks: ready, every scrape target up (each down one named with its lastError), every
 * health probe succeeds, no rule group evaluation error, the SLO recording rules produce series, and on a central stack every host
 * that reported in the last day still reports.
 *
 * Answer shapes (prometheus/prometheus, the 2.x and 3.x API alike):
 * - `GET /-/ready`: 200 once the TSDB is open, 503 before (web/web.go, readyHandler / testReady).
 * - `GET /api/v1/targets?state=active`: `{status, data: {activeTargets: [{labels, scrapePool, scrapeUrl,
 *   lastError, lastScrape, health}]}}`, health one of "up", "down", "unknown" (web/api/v1/api.go, Target;
 *   scrape/target.go, TargetHealth: HealthUnknown "unknown" before the first scrape).
 * - `GET /api/v1/rules`: `{data: {groups: [{name, file, rules: [{name, type, health, lastError}]}]}}`, health
 *   "ok", "err" or "unknown" before the first evaluation (web/api/v1/api.go, RuleGroup/AlertingRule/RecordingRule;
 *   rules/rule.go, RuleHealth: HealthUnknown "unknown", HealthGood "ok", HealthBad "err").
 * - `GET /api/v1/query?query=`: `{status: "success", data: {resultType: "vector", result: [{metric, value: [t, "v"]}]}}`
 *   (web/api/v1/api.go, query / QueryData); an agent-mode Prometheus has no query or rules API.
 */
import { Endpoint, NoAnswer, request } from "./http";
import type { Check, CheckOutcome } from "./types";
import { STACK_SERVICES } from "../../../components/stack-services";

const HEALTH_PROBE_JOB = STACK_SERVICES.blackboxExporter.probeJob;

interface Target {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  lastError: string;
  health: "up" | "down" | "unknown";
}
interface RuleGroup {
  name: string;
  file: string;
  rules: { name: string; type: string; health: "ok" | "err" | "unknown"; lastError?: string }[];
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function prometheusApi<T>(endpoint: Endpoint, path: string): Promise<T> {
  const answer = await request(endpoint, path);
  const body = answer.body as { status?: string; data?: T; error?: string } | undefined;
  if (answer.status === 401) throw new Error(`${path}: 401 Unauthorized (the prometheusUser/prometheusPassword outputs do not log in)`);
  if (answer.status !== 200 || body?.status !== "success")
    throw new Error(`${path}: HTTP ${answer.status}${body?.error ? `: ${body.error}` : answer.text ? `: ${answer.text.slice(0, 200)}` : ""}`);
  return body.data as T;
}

export async function instantQuery(endpoint: Endpoint, query: string): Promise<Sample[]> {
  const data = await prometheusApi<{ resultType: string; result: Sample[] }>(endpoint, `/api/v1/query?query=${encodeURIComponent(query)}`);
  return data.result;
}

/** A check whose request got no answer at all: FAIL saying why, retried while the wait lasts. */
export function unreachable(id: string, what: string, error: unknown, fix: string[] = []): CheckOutcome {
  const reason = error instanceof NoAnswer ? error.message : (error as Error).message;
  return { id, status: "fail", summary: `${what}: ${reason}`, fix, retry: true };
}

export interface PrometheusCheckOptions {
  endpoint: Endpoint;
  /** Agent mode: no rules or query API. */
  agentMode: boolean;
  /** Recorded series (name and service label) the SLO rules must produce. */
  recordingRules: { record: string; service?: string }[];
  /** The window in which a host counts as having reported (default 1d). */
  hostWindow?: string;
  /**
   * A host still reports when it has an `up` sample this recent (default 5m, the query lookback). Not "has an
   * `up` series now": a remote-written agent that dies sends no staleness marker, and a scrape pool removed by
   * a reload writes none either (seen with Prometheus 2.42), so an instant `up` keeps showing it for the lookback.
   */
  recentWindow?: string;
}

export function prometheusChecks(options: PrometheusCheckOptions): Check[] {
  const { endpoint } = options;
  const checks: Check[] = [
    {
      id: "prometheus.ready",
      run: async () => {
        try {
          const answer = await request(endpoint, "/-/ready");
          if (answer.status === 200) return { id: "prometheus.ready", status: "ok", summary: `Prometheus at ${endpoint.url} is ready` };
          return {
            id: "prometheus.ready",
            status: "fail",
            summary: `Prometheus at ${endpoint.url} answers ${answer.status} to /-/ready: ${answer.text.trim().slice(0, 120)}`,
            fix: ["it is still starting (replaying its WAL) or cannot open its data volume: docker logs <stack>-prometheus"],
            retry: true,
          };
        } catch (error) {
          return unreachable("prometheus.ready", "Prometheus", error, [
            "docker ps --filter name=prometheus; is prometheusUrl reachable from where verify runs?",
          ]);
        }
      },
    },
    {
      id: "prometheus.targets",
      run: async () => {
        let targets: Target[];
        try {
          targets = (await prometheusApi<{ activeTargets: Target[] }>(endpoint, "/api/v1/targets?state=active")).activeTargets;
        } catch (error) {
          return unreachable("prometheus.targets", "scrape targets not read", error);
        }
        if (targets.length === 0)
          return { id: "prometheus.targets", status: "fail", summary: "Prometheus has no active scrape target", retry: true, fix: ["check prometheus.yml"] };
        const down = targets.filter((target) => target.health === "down");
        const unknown = targets.filter((target) => target.health === "unknown");
        const name = (target: Target) => `${target.scrapePool} ${target.scrapeUrl}`;
        if (down.length === 0 && unknown.length === 0)
          return { id: "prometheus.targets", status: "ok", summary: `all ${targets.length} scrape targets up`, data: { up: targets.length } };
        if (down.length === 0)
          return {
            id: "prometheus.targets",
            status: "fail",
            summary: `${unknown.length} of ${targets.length} targets not scraped yet: ${unknown.map(name).join(", ")}`,
            fix: ["wait a scrape interval; if it stays, Prometheus cannot reach them"],
            retry: true,
          };
        return {
          id: "prometheus.targets",
          status: "fail",
          summary: `${down.length} of ${targets.length} scrape targets down: ${down.map((target) => `${name(target)} (${target.lastError || "no error text"})`).join("; ")}`,
          fix: down.map(
            (target) =>
              `${target.scrapePool}: is ${target.scrapeUrl} up and reachable from Prometheus's network? (connection refused: the service is down or on another network/port; ` +
              `404 or a parse error: the URL is not a Prometheus metrics endpoint, probe it with \`health\` instead of \`metrics\`)`,
          ),
          data: { down: down.map((target) => ({ pool: target.scrapePool, url: target.scrapeUrl, lastError: target.lastError })) },
          retry: true,
        };
      },
    },
  ];
  if (options.agentMode) return checks;
  checks.push({
    id: "prometheus.rules",
    run: async () => {
      let groups: RuleGroup[];
      try {
        groups = (await prometheusApi<{ groups: RuleGroup[] }>(endpoint, "/api/v1/rules")).groups;
      } catch (error) {
        return unreachable("prometheus.rules", "rule groups not read", error);
      }
      const failing = groups.flatMap((group) =>
        group.rules.filter((rule) => rule.health === "err").map((rule) => ({ group: group.name, rule: rule.name, lastError: rule.lastError ?? "" })),
      );
      const pending = groups.flatMap((group) => group.rules.filter((rule) => rule.health === "unknown"));
      const total = groups.reduce((sum, group) => sum + group.rules.length, 0);
      if (failing.length > 0)
        return {
          id: "prometheus.rules",
          status: "fail",
          summary: `${failing.length} rule${failing.length === 1 ? "" : "s"} fail to evaluate: ${failing.map((rule) => `${rule.group}/${rule.rule}: ${rule.lastError}`).join("; ")}`,
          fix: [
            "the rule's expression fails at evaluation (e.g. many-to-many matching, a duplicate series): fix it in the catalog's slo entry or the rule file",
          ],
          data: { failing },
          retry: true,
        };
      if (pending.length > 0) return { id: "prometheus.rules", status: "fail", summary: `${pending.length} of ${total} rules not evaluated yet`, retry: true };
      return { id: "prometheus.rules", status: "ok", summary: `${groups.length} rule groups, ${total} rules evaluate without error` };
    },
  });
  // A health probe's target is the blackbox exporter, which answers (the target is "up") whether or not
  // the probed service does: the probe's own result is probe_success (prometheus/blackbox_exporter
  // prober/handler.go, `probe_success` 1 or 0 on every probe).
  checks.push({
    id: "prometheus.probes",
    run: async () => {
      let failing: Sample[];
      try {
        failing = await instantQuery(endpoint, `probe_success{job="${HEALTH_PROBE_JOB}"} == 0`);
      } catch (error) {
        return unreachable("prometheus.probes", "health probes not read", error);
      }
      if (failing.length === 0) return { id: "prometheus.probes", status: "ok", summary: "every health probe succeeds" };
      const names = failing.map((sample) => `${sample.metric.service ?? "?"} ${sample.metric.instance ?? ""}`.trim());
      return {
        id: "prometheus.probes",
        status: "fail",
        summary: `${failing.length} health probe${failing.length === 1 ? "" : "s"} failing: ${names.join(", ")}`,
        fix: [
          "the service's `health` URL answers no 2xx, or the blackbox exporter cannot reach it (is the service on one of appNetworks, and the URL's host its container name?); see probe_failed_due_to_regex and probe_http_status_code in Prometheus",
        ],
        data: { failing: failing.map((sample) => sample.metric) },
        retry: true,
      };
    },
  });
  const expected = uniqueRecords(options.recordingRules);
  if (expected.length > 0)
    checks.push({
      id: "prometheus.slo-series",
      run: async () => {
        const missing: string[] = [];
        try {
          for (const rule of expected) {
            const selector = rule.service ? `${rule.record}{service=${JSON.stringify(rule.service)}}` : rule.record;
            if ((await instantQuery(endpoint, `count(${selector})`)).length === 0) missing.push(selector);
          }
        } catch (error) {
          return unreachable("prometheus.slo-series", "SLO series not queried", error);
        }
        if (missing.length === 0) return { id: "prometheus.slo-series", status: "ok", summary: `all ${expected.length} SLO recorded series have data` };
        return {
          id: "prometheus.slo-series",
          status: "fail",
          summary: `${missing.length} of ${expected.length} SLO recorded series have no data: ${missing.join(", ")}`,
          fix: [
            "a recording rule only produces a series when its input has samples: is the service's probe (blackbox-health) or metrics target up, and does it expose the metric the slo entry names?",
          ],
          retry: true,
        };
      },
    });
  const window = options.hostWindow ?? "1d";
  checks.push({
    id: "prometheus.hosts",
    run: async () => {
      // Hosts with an `up` sample in the window but none in the recent one (last_over_time skips staleness markers).
      const recent = options.recentWindow ?? "5m";
      const query = `group by (host) (last_over_time(up[${window}])) unless on (host) group by (host) (last_over_time(up[${recent}]))`;
      let silent: Sample[];
      let now: Sample[];
      try {
        silent = await instantQuery(endpoint, query);
        now = await instantQuery(endpoint, `group by (host) (last_over_time(up[${recent}]))`);
      } catch (error) {
        return unreachable("prometheus.hosts", "reporting hosts not queried", error);
      }
      const hosts = now.map((sample) => sample.metric.host ?? "(no host label)");
      if (silent.length === 0)
        return {
          id: "prometheus.hosts",
          status: "ok",
          summary: `every host that reported in the last ${window} still reports (${hosts.join(", ") || "none"})`,
        };
      const names = silent.map((sample) => sample.metric.host ?? "(no host label)");
      return {
        id: "prometheus.hosts",
        status: "fail",
        summary: `${names.length} host${names.length === 1 ? "" : "s"} reported in the last ${window} but no longer: ${names.join(", ")}`,
        fix: names.map(
          (host) =>
            `${host}: is its agent stack up (npm run verify -- --stack <its stack> --central-outputs <central outputs>)? Its Prometheus logs name remote-write errors`,
        ),
        data: { silent: names, reporting: hosts },
      };
    },
  });
  return checks;
}

function uniqueRecords(rules: { record: string; service?: string }[]): { record: string; service?: string }[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = `${rule.record}|${rule.service ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
