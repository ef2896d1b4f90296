/**
 * What the planned alert rules do while a datasource fails, evaluated against a double of Grafana's
 * state manager written from grafana/grafana pkg/services/ngalert (test/support/grafana-alert-state.ts:
 * state/manager.go setNextStateForRule and setNextStateForAll, state/state.go resultError,
 * resultAlerting and resultKeepLast, eval/eval.go NewResultFromError, state/compat.go errorAlert).
 *   - Prometheus replaced during `pulumi up` (a few failed evaluations) pages nobody, an alert that
 *     was already firing keeps firing (it neither resolves nor fires again);
 *   - a Prometheus (or Elasticsearch) that stays unreachable raises exactly one alert, the one that
 *     says so, and it resolves when the datasource answers again;
 *   - with the previous settings (execErrState Alerting) the same replacement pages, which is what
 *     this test would have caught; with execErrState Error it raises a DatasourceError per rule;
 *   - GrafanaAlertRuleEvaluationFailing is modelled from its input: every failed evaluation of any
 *     rule counts in grafana_alerting_rule_evaluation_failures_total (grafana/grafana
 *     pkg/services/ngalert/schedule/alert_rule.go: `if err != nil || results.HasErrors() {
 *     evalTotalFailures.Inc() }`), which Prometheus scrapes while it runs; the rule's
 *     `increase(...[5m]) > 0` is true when the window holds two samples that differ (prometheus/prometheus
 *     promql/functions.go extrapolatedRate needs two samples; extrapolation keeps the sign). So it
 *     fires for a rule that keeps failing while both datasources answer, and not for an outage
 *     another alert reports;
 *   - a rule fails only for a datasource its condition depends on: Grafana makes an evaluation an Error
 *     only for the condition's own error or that of a node it depends on (pkg/services/ngalert/eval/eval.go
 *     FindConditionError; pkg/expr/graph.go gives a node whose input failed a DependencyError).
 * Also: every rule group is deleted before it is replaced (its name and folder force a replacement).
 */
import * as fs from "fs";
import * as path from "path";
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import { planIsolated } from "../support/plan";
import { alertingResult, errorResult, EvalResult, noDataResult, normalResult, Notification, RuleUnderTest, simulate } from "../support/grafana-alert-state";
import { DATASOURCE_ALERT_GROUP, DATASOURCE_ALERTS, EVALUATION_FAILURE_ALERT, EVALUATION_FAILURE_GUARD } from "../../components/alerting/datasource-alerts";
import { LOG_ALERTS } from "../../components/alerting/log-alerts";
import { ELASTICSEARCH_DATASOURCE, FAILURE_STORE_DATASOURCE, PROMETHEUS_DATASOURCE } from "../../components/grafana/grafana-configuration";
import { EXPRESSION_DATASOURCE_UID } from "../../components/alerting/grafana-rules";

const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
const ELASTICSEARCH = [ELASTICSEARCH_DATASOURCE.uid, FAILURE_STORE_DATASOURCE.uid];

interface PlannedRule extends RuleUnderTest {
  annotations: Record<string, string>;
  condition: string;
  datas: { refId: string; datasourceUid: string; model: string }[];
}

function plannedRules(resources: PlannedResource[]): (PlannedRule & { group: string })[] {
  return resources
    .filter((resource) => resource.type === RULE_GROUP)
    .flatMap((group) =>
      (group.inputs.rules as PlannedRule[]).map((rule) => ({
        ...rule,
        group: String(group.inputs.name),
        intervalSeconds: Number(group.inputs.intervalSeconds),
      })),
    );
}

const datasourcesOf = (rule: PlannedRule) => [...new Set(rule.datas.map((data) => data.datasourceUid).filter((uid) => uid !== EXPRESSION_DATASOURCE_UID))];

/**
 * The queries the rule's condition depends on, through its expressions: a math expression names its
 * inputs as `$REF` / `${REF}`, the other expression types (reduce, threshold, ...) name one input
 * in `expression` (pkg/expr/commands.go, pkg/expr/graph.go buildDependencyGraph).
 */
function conditionQueries(rule: PlannedRule): { refId: string; datasourceUid: string }[] {
  const byRef = new Map(rule.datas.map((data) => [data.refId, data]));
  const seen = new Set<string>();
  const visit = (refId: string): void => {
    const data = byRef.get(refId);
    if (!data || seen.has(refId)) return;
    seen.add(refId);
    if (data.datasourceUid !== EXPRESSION_DATASOURCE_UID) return;
    const model = JSON.parse(data.model) as { type: string; expression: string };
    const inputs = model.type === "math" ? [...model.expression.matchAll(/\$\{?([A-Za-z0-9_]+)\}?/g)].map((m) => m[1]) : [model.expression];
    inputs.forEach(visit);
  };
  visit(rule.condition);
  return rule.datas.filter((data) => seen.has(data.refId) && data.datasourceUid !== EXPRESSION_DATASOURCE_UID);
}

const MINUTE = 60_000;
/** When the outage starts: after the firing alert's `for` (the first rule of atra-host) and every rule's first evaluation. */
const OUTAGE_START = 3 * 60 * MINUTE;

/**
 * What each rule's queries give while its datasources answer, in a healthy stack with one alert
 * already firing: a PromQL alert expression returns no series (NoData labelled with the datasource,
 * eval.go) unless it fires; the log error count has series below the threshold; the silence rules and
 * the datasource rules answer with one series whose condition is false.
 */
function healthy(rule: PlannedRule & { group: string }, firingUid: string, failuresGrow: (now: number) => boolean, now: number): EvalResult[] {
  if (rule.name === EVALUATION_FAILURE_ALERT)
    return failuresGrow(now) ? [alertingResult({ host: "obs-1", job: "grafana", instance: "grafana:3000" })] : [noDataResult(PROMETHEUS_DATASOURCE.uid)];
  if (rule.uid === firingUid) return [alertingResult({ instance: "node-exporter:9100" })];
  if (rule.group === DATASOURCE_ALERT_GROUP || rule.name.startsWith(LOG_ALERTS.stoppedLogging)) return [normalResult()];
  if (rule.name === LOG_ALERTS.errorsHigh)
    return [normalResult({ "host.name": "h", "service.name": "api" }), normalResult({ "host.name": "h", "service.name": "worker" })];
  return [noDataResult(datasourcesOf(rule)[0])];
}

/** How often Prometheus scrapes Grafana's /metrics (the stack's scrapeInterval). */
const SCRAPE_MS = 15_000;

/**
 * `down` datasources fail from OUTAGE_START for `outageMs`; the rule `brokenUid` (a broken query)
 * fails for as long while every datasource answers.
 */
function run(rules: (PlannedRule & { group: string })[], down: string[], outageMs: number, firingUid: string, brokenUid?: string): Notification[] {
  const inOutage = (t: number) => t >= OUTAGE_START && t < OUTAGE_START + outageMs;
  const prometheusUp = (t: number) => !(inOutage(t) && down.includes(PROMETHEUS_DATASOURCE.uid));
  /** When each failed evaluation happened: grafana_alerting_rule_evaluation_failures_total. */
  const failures: number[] = [];
  /** increase(...[5m]) > 0 at `now`: the samples Prometheus scraped in (now-5m, now], newest first. */
  const failuresGrow = (now: number) => {
    const samples: number[] = [];
    for (let at = now - (now % SCRAPE_MS); at > now - 5 * MINUTE; at -= SCRAPE_MS) if (prometheusUp(at)) samples.push(failures.filter((t) => t < at).length);
    return samples.length >= 2 && samples[0] > samples[samples.length - 1];
  };
  const answer = (rule: RuleUnderTest, now: number) => {
    const planned = rule as PlannedRule & { group: string };
    const failed = inOutage(now) ? conditionQueries(planned).find((query) => down.includes(query.datasourceUid) || rule.uid === brokenUid) : undefined;
    if (!failed) return healthy(planned, firingUid, failuresGrow, now);
    failures.push(now);
    return [errorResult({ refId: failed.refId, datasourceUid: failed.datasourceUid })];
  };
  return simulate(rules, answer, (OUTAGE_START + outageMs + 30 * MINUTE) / 1000);
}

describe.each(["dev", "prod"])("%s: the planned rules while a datasource fails", (stack) => {
  let resources: PlannedResource[];
  let rules: (PlannedRule & { group: string })[];
  /** A rule-file alert that is firing when the outage starts (HostFilesystemSpaceLow, say). */
  let firingUid: string;
  beforeAll(async () => {
    resources = (await planIsolated(stack)).run.resources;
    rules = plannedRules(resources);
    firingUid = rules.find((rule) => rule.group === "atra-host")!.uid;
  }, 120_000);

  test("the stack plans one not-queryable rule per datasource the alerts read", () => {
    const read = new Set(rules.filter((rule) => rule.group !== DATASOURCE_ALERT_GROUP).flatMap(datasourcesOf));
    const watchers = rules.filter((rule) => rule.group === DATASOURCE_ALERT_GROUP);
    expect(watchers.map((rule) => rule.name).sort()).toEqual([DATASOURCE_ALERTS.elasticsearch, DATASOURCE_ALERTS.prometheus].sort());
    // The failure store is an index of the same cluster, behind the same credentials: the logs datasource's rule covers it.
    expect(new Set(watchers.flatMap(datasourcesOf))).toEqual(new Set([...read].filter((uid) => uid !== FAILURE_STORE_DATASOURCE.uid)));
    expect(watchers.find((rule) => rule.name === DATASOURCE_ALERTS.prometheus)!.annotations.summary).toMatch(/^Prometheus not queryable for 5m/);
    expect(watchers.find((rule) => rule.name === DATASOURCE_ALERTS.elasticsearch)!.annotations.summary).toMatch(/^Elasticsearch not queryable for 5m/);
  });

  test.each([1, 2.5, 4])("Prometheus replaced during `pulumi up` (%s minutes of failed queries) pages nobody", (minutes) => {
    const after = run(rules, [PROMETHEUS_DATASOURCE.uid], minutes * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START);
    // Not a page, not a resolution of the alert that was firing, not a DatasourceError.
    expect(after).toEqual([]);
  });

  test("Elasticsearch replaced during `pulumi up` (4 minutes of failed searches) notifies nobody", () => {
    expect(run(rules, ELASTICSEARCH, 4 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START)).toEqual([]);
  });

  test.each([
    ["Prometheus", [PROMETHEUS_DATASOURCE.uid], DATASOURCE_ALERTS.prometheus, "prometheus"],
    ["Elasticsearch", ELASTICSEARCH, DATASOURCE_ALERTS.elasticsearch, "elasticsearch"],
  ])("%s unreachable for 20 minutes raises exactly one alert, which says so, and resolves with it", (_name, down, alertname, datasource) => {
    const after = run(rules, down, 20 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START);
    const fired = after.filter((n) => !n.resolved);
    expect(fired.map((n) => [n.alertname, n.labels.datasource])).toEqual([[alertname, datasource]]);
    // After its `for` (5m) from the first failed evaluation, within one interval.
    expect(fired[0].at - OUTAGE_START).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(fired[0].at - OUTAGE_START).toBeLessThanOrEqual(6 * MINUTE);
    // Resolved at the first evaluation that answers again, and nothing else happened.
    expect(after.filter((n) => n.resolved).map((n) => [n.alertname, n.at >= OUTAGE_START + 20 * MINUTE])).toEqual([[alertname, true]]);
  });

  test.each([
    ["Prometheus", [PROMETHEUS_DATASOURCE.uid]],
    ["Elasticsearch", ELASTICSEARCH],
  ])("%s unreachable for 20 minutes: GrafanaAlertRuleEvaluationFailing stays quiet although the failure counter grows", (_name, down) => {
    const fired = run(rules, down, 20 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START && !n.resolved);
    expect(fired.map((n) => n.alertname)).not.toContain(EVALUATION_FAILURE_ALERT);
    expect(fired).toHaveLength(1);
  });

  test("control: without its guard on the logs datasource, GrafanaAlertRuleEvaluationFailing fires a second alert during an Elasticsearch outage", () => {
    const { search, total, condition } = EVALUATION_FAILURE_GUARD;
    const unguarded = rules.map((rule) =>
      rule.name === EVALUATION_FAILURE_ALERT
        ? { ...rule, condition: "FIRING", datas: rule.datas.filter((data) => ![search, total, condition].includes(data.refId as never)) }
        : rule,
    );
    const fired = run(unguarded, ELASTICSEARCH, 20 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START && !n.resolved);
    expect(fired.map((n) => n.alertname).sort()).toEqual([DATASOURCE_ALERTS.elasticsearch, EVALUATION_FAILURE_ALERT].sort());
  });

  test("GrafanaAlertRuleEvaluationFailing fires for a rule that keeps failing while both datasources answer (a broken query)", () => {
    const broken = rules.find((rule) => rule.group === "atra-stack" && rule.name !== EVALUATION_FAILURE_ALERT)!;
    const fired = run(rules, [], 30 * MINUTE, firingUid, broken.uid).filter((n) => n.at >= OUTAGE_START && !n.resolved);
    expect(fired.map((n) => [n.alertname, n.labels.job])).toEqual([[EVALUATION_FAILURE_ALERT, "grafana"]]);
    // `for: 10m` after the window first holds two differing samples (within two evaluations of the first failure).
    expect(fired[0].at - OUTAGE_START).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(fired[0].at - OUTAGE_START).toBeLessThanOrEqual(10 * MINUTE + 2 * broken.intervalSeconds * 1000);
  });

  test("the logs stage's GrafanaAlertRuleEvaluationFailing: its condition depends on Prometheus and on the logs datasource, and keeps FIRING's value", () => {
    const rule = rules.find((r) => r.name === EVALUATION_FAILURE_ALERT)!;
    expect(new Set(conditionQueries(rule).map((query) => query.datasourceUid))).toEqual(new Set([PROMETHEUS_DATASOURCE.uid, ELASTICSEARCH_DATASOURCE.uid]));
    const guard = JSON.parse(rule.datas.find((data) => data.refId === rule.condition)!.model) as { type: string; expression: string };
    // A count is never below 0: `$FIRING || false` is FIRING (pkg/expr/mathexp: one unlabelled number pairs with every series).
    expect(guard).toMatchObject({ type: "math", expression: `$FIRING || ($${EVALUATION_FAILURE_GUARD.total} < 0)` });
    // The rule file's own rule is untouched (promtool runs alerts/stack.yml as it is).
    expect(fs.readFileSync(path.join(__dirname, "..", "..", "alerts", "stack.yml"), "utf8")).toContain(`alert: ${EVALUATION_FAILURE_ALERT}`);
  });

  test("control: the previous settings (execErrState Alerting) page on the same replacement; Error sends a DatasourceError per rule", () => {
    const withState = (execErrState: RuleUnderTest["execErrState"]) =>
      rules.map((rule) => (rule.group === DATASOURCE_ALERT_GROUP ? rule : { ...rule, execErrState }));
    const alerting = run(withState("Alerting"), [PROMETHEUS_DATASOURCE.uid], 2.5 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START && !n.resolved);
    expect(alerting.length).toBeGreaterThan(0);
    const prometheusRules = rules.filter((rule) => rule.group !== DATASOURCE_ALERT_GROUP && datasourcesOf(rule).includes(PROMETHEUS_DATASOURCE.uid));
    const errors = run(withState("Error"), [PROMETHEUS_DATASOURCE.uid], 2.5 * MINUTE, firingUid).filter((n) => n.at >= OUTAGE_START && !n.resolved);
    expect(new Set(errors.filter((n) => n.alertname === "DatasourceError").map((n) => n.ruleUid)).size).toBe(prometheusRules.length);
    // state.go AddErrorInformation: each DatasourceError is labelled with the query that failed.
    for (const n of errors.filter((e) => e.alertname === "DatasourceError"))
      expect([n.labels.ref_id, n.labels.datasource_uid]).toEqual(["A", PROMETHEUS_DATASOURCE.uid]);
  });

  test("every rule but the datasource rules keeps its state on a failed evaluation", () => {
    for (const rule of rules) expect([rule.name, rule.execErrState]).toEqual([rule.name, rule.group === DATASOURCE_ALERT_GROUP ? "Alerting" : "KeepLast"]);
  });

  test("every rule group is deleted before it is replaced (name and folder_uid force a replacement)", () => {
    // terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go: `name` and `folder_uid` are ForceNew.
    const groups = resources.filter((resource) => resource.type === RULE_GROUP);
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect([group.name, group.deleteBeforeReplace]).toEqual([group.name, true]);
  });
});

test("each datasource alert has its runbook section", () => {
  const runbook = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "runbook.md"), "utf8");
  for (const alert of Object.values(DATASOURCE_ALERTS)) expect(runbook).toMatch(new RegExp(`^## ${alert}$`, "m"));
});
