/**
 * Rule files in the Prometheus format to Grafana-managed rules: parsing and its errors, the query
 * chain, uids, templating, `for`, labels, contact points and the notification policy.
 */
import {
  alwaysFiringCondition,
  resolveRunbookUrl,
  ruleFileUids,
  ruleUid,
  toGrafanaRuleGroups,
  translateTemplate,
} from "../../components/alerting/grafana-rules";
import { DATASOURCE_ALERT_GROUP } from "../../components/alerting/datasource-alerts";
import { LOG_ALERT_GROUP } from "../../components/alerting/log-alerts";
import { SLO_ALERT_GROUP } from "../../components/slo/slo-rules";
import { contactPointArgs } from "../../components/alerting/contact-point-types";
import { notificationPolicySpec } from "../../components/alerting/notifications";
import { parseRuleFiles, RESERVED_GROUP_NAMES, RuleFileError } from "../../components/alerting/rule-files";
import { resolveStackConfig } from "../../components/config/resolve";

const CONTEXT = { prometheusDatasourceUid: "prom-uid", defaultInterval: "1m" };

const TWO_GROUPS = `
groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 2m
        labels:
          severity: critical
          team: platform
        annotations:
          summary: "{{ $labels.instance }} is down"
          description: "Value {{ $value }} for {{ $labels.job }}; {{ .Value | humanize }} on {{ .Labels.instance }}"
          runbook_url: docs/runbook.md#apidown
  - name: api-latency
    interval: 30s
    labels:
      owner: api-team
    rules:
      - alert: ApiSlow
        expr: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1
        keep_firing_for: 5m
        labels:
          severity: warning
        annotations:
          summary: p95 is {{ $value | humanizeDuration }}
`;

function parse(text: string, fileName = "alerts/test.yml") {
  return parseRuleFiles([{ fileName, text }]);
}

function issuesOf(files: { fileName: string; text: string }[]): string[] {
  try {
    parseRuleFiles(files);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleFileError);
    return (error as RuleFileError).message.split("\n").slice(1);
  }
  throw new Error("expected a RuleFileError");
}

describe("parsing rule files", () => {
  test("multi-group files keep groups, rules, for, keep_firing_for, labels (group labels merged) and annotations", () => {
    const groups = parse(TWO_GROUPS);
    expect(groups.map((group) => [group.name, group.interval, group.rules.map((rule) => rule.alert)])).toEqual([
      ["api", undefined, ["ApiDown"]],
      ["api-latency", "30s", ["ApiSlow"]],
    ]);
    expect(groups[0].rules[0]).toMatchObject({ expr: 'up{job="api"} == 0', for: "2m", labels: { severity: "critical", team: "platform" } });
    expect(groups[1].rules[0]).toMatchObject({ for: "0s", keepFiringFor: "5m", labels: { severity: "warning", owner: "api-team" } });
  });

  test.each([
    ["not YAML", "groups: [\n  - name: x", "alerts/bad.yml: is not valid YAML (line"],
    ["no groups list", "rules: []", "alerts/bad.yml: must be a mapping with a `groups:` list"],
    ["unknown top-level field", "groups: []\nnamespace: x", 'alerts/bad.yml: unknown top-level field "namespace"'],
    ["group without name", "groups:\n  - rules: []", "alerts/bad.yml: groups[0] needs a non-empty `name`"],
    ["empty group", "groups:\n  - name: g\n    rules: []", 'alerts/bad.yml, group "g": needs a non-empty `rules:` list'],
    [
      "unsupported group field",
      "groups:\n  - name: g\n    limit: 10\n    rules: [{alert: A, expr: up, labels: {severity: info}, annotations: {summary: s}}]",
      'group "g": field "limit" is not supported',
    ],
    [
      "interval not on the 10s tick",
      "groups:\n  - name: g\n    interval: 15s\n    rules: [{alert: A, expr: up, labels: {severity: info}, annotations: {summary: s}}]",
      "interval 15s is not a multiple of 10s",
    ],
    ["recording rule", "groups:\n  - name: g\n    rules: [{record: 'job:up:sum', expr: sum(up)}]", 'rules[0] is a recording rule ("job:up:sum")'],
    [
      "unknown rule field",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, severity: critical, labels: {severity: info}, annotations: {summary: s}}]",
      'rule "A": unknown field "severity"',
    ],
    [
      "missing summary",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, labels: {severity: info}, annotations: {description: d}}]",
      'rule "A": needs annotations.summary',
    ],
    ["missing severity", "groups:\n  - name: g\n    rules: [{alert: A, expr: up, annotations: {summary: s}}]", 'rule "A": needs labels.severity'],
    [
      "bad severity",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, labels: {severity: page}, annotations: {summary: s}}]",
      'rule "A": severity "page" is not one of critical, warning, info',
    ],
    [
      "bad PromQL",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: 'sum(rate(x[5m])', labels: {severity: info}, annotations: {summary: s}}]",
      'rule "A": expr is not valid PromQL',
    ],
    ["missing expr", "groups:\n  - name: g\n    rules: [{alert: A, labels: {severity: info}, annotations: {summary: s}}]", 'rule "A": needs an `expr`'],
    [
      "bad for",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, for: 5 minutes, labels: {severity: info}, annotations: {summary: s}}]",
      'rule "A": for must be a Prometheus duration',
    ],
    [
      "Prometheus-only template",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, labels: {severity: info}, annotations: {summary: '{{ with query \"up\" }}x{{ end }}'}}]",
      "annotations.summary uses the `query` function",
    ],
    [
      "unbalanced template",
      "groups:\n  - name: g\n    rules: [{alert: A, expr: up, labels: {severity: info}, annotations: {summary: '{{ $value }'}}]",
      "annotations.summary has unbalanced {{ }}",
    ],
  ])("%s is an error naming file, group and rule", (_what, text, expected) => {
    const issues = issuesOf([{ fileName: "alerts/bad.yml", text }]);
    expect(issues.join("\n")).toContain(expected);
  });

  test("a repeated group name is one problem naming every file that has it, blaming none; repeated alert names are fine", () => {
    const rule = "{alert: A, expr: up, labels: {severity: info}, annotations: {summary: s}}";
    const issues = issuesOf([
      { fileName: "alerts/host.yml", text: `groups:\n  - name: g\n    rules: [${rule}]` },
      { fileName: "alerts/mine.yml", text: `groups:\n  - name: g\n    rules: [${rule}]\n  - name: h\n    rules: [${rule}, ${rule}]` },
    ]);
    expect(issues).toEqual([expect.stringContaining('alerts/host.yml and alerts/mine.yml, group "g": group name used 2 times')]);
  });

  test("the groups the stack builds in code are not available to rule files", () => {
    const rule = "{alert: A, expr: up, labels: {severity: info}, annotations: {summary: s}}";
    expect(RESERVED_GROUP_NAMES).toEqual([LOG_ALERT_GROUP, SLO_ALERT_GROUP, DATASOURCE_ALERT_GROUP]);
    const issues = issuesOf([{ fileName: "alerts/mine.yml", text: `groups:\n  - name: atra-datasources\n    rules: [${rule}]` }]);
    expect(issues).toEqual([expect.stringContaining('alerts/mine.yml, group "atra-datasources": group name "atra-datasources" is the stack\'s own')]);
  });

  test("every problem of every file is reported at once", () => {
    const issues = issuesOf([
      { fileName: "alerts/a.yml", text: "groups:\n  - name: g\n    rules: [{alert: A, expr: up}]" },
      { fileName: "alerts/b.yml", text: "nope: 1" },
    ]);
    expect(issues).toEqual([
      expect.stringContaining('alerts/a.yml, group "g", rule "A": needs labels.severity'),
      expect.stringContaining('alerts/a.yml, group "g", rule "A": needs annotations.summary'),
      expect.stringContaining("alerts/b.yml: must be a mapping with a `groups:` list"),
    ]);
  });
});

describe("translation to Grafana rules", () => {
  const [api, latency] = toGrafanaRuleGroups(parse(TWO_GROUPS), { ...CONTEXT, runbookBaseUrl: "https://git.example.com/atra/obs/blob/main/" });

  test("one rule group per source group, at its own interval or the default", () => {
    expect([api.name, api.intervalSeconds, latency.name, latency.intervalSeconds]).toEqual(["api", 60, "api-latency", 30]);
    expect(api.source).toBe("alerts/test.yml");
  });

  test("the query chain: an instant PromQL query and a condition that fires for every returned series", () => {
    const [rule] = api.rules;
    expect(rule.datas.map((data) => data.refId)).toEqual(["A", "FIRING"]);
    expect(rule.condition).toBe("FIRING");
    const [query, condition] = rule.datas.map((data) => ({ ...data, model: JSON.parse(data.model) }));
    expect(query).toMatchObject({ datasourceUid: "prom-uid", relativeTimeRange: { from: 600, to: 0 } });
    expect(query.model).toMatchObject({
      refId: "A",
      expr: 'up{job="api"} == 0',
      instant: true,
      range: false,
      datasource: { type: "prometheus", uid: "prom-uid" },
    });
    expect(condition).toMatchObject({ datasourceUid: "__expr__" });
    expect(condition.model).toMatchObject({ refId: "FIRING", type: "math", expression: "is_number($A) || is_nan($A) || is_inf($A)" });
    expect(condition.model.expression).toContain("$A");
  });

  test("Prometheus semantics: no data is OK, a failed evaluation changes nothing, a vanished series resolves at once, for and keep_firing_for kept", () => {
    // KeepLast: grafana/grafana pkg/services/ngalert/state/state.go resultError -> resultKeepLast, as Prometheus's
    // rules/group.go Eval leaves its alerts alone when a rule's query fails. One missing evaluation resolves, as in
    // Prometheus (models/alert_rule.go GetMissingSeriesEvalsToResolve defaults to 2).
    expect(api.rules[0]).toMatchObject({ noDataState: "OK", execErrState: "KeepLast", missingSeriesEvalsToResolve: 1, for: "2m", isPaused: false });
    expect(latency.rules[0]).toMatchObject({ for: "0s", keepFiringFor: "5m" });
    expect(api.rules[0]).not.toHaveProperty("keepFiringFor");
  });

  test("labels and annotations are carried over, templating translated, runbook made absolute", () => {
    expect(api.rules[0].labels).toEqual({ severity: "critical", team: "platform" });
    expect(api.rules[0].annotations).toEqual({
      summary: "{{ $labels.instance }} is down",
      description: "Value {{ $values.A.Value }} for {{ $labels.job }}; {{ $values.A.Value | humanize }} on {{ $labels.instance }}",
      runbook_url: "https://git.example.com/atra/obs/blob/main/docs/runbook.md#apidown",
    });
    expect(latency.rules[0].annotations.summary).toBe("p95 is {{ $values.A.Value | humanizeDuration }}");
  });

  test("alert names may repeat (Prometheus and Grafana since grafana/grafana#102067 allow it): uids from name and labels, stable through edits", () => {
    const pair = (criticalExpr: string) => `
groups:
  - name: disk
    labels: {team: infra}
    rules:
      - {alert: DiskFull, expr: 'free < 10', for: 1h, labels: {severity: warning}, annotations: {summary: s}}
      - {alert: DiskFull, expr: '${criticalExpr}', for: 1h, labels: {severity: critical}, annotations: {summary: s}}
      - {alert: Lonely, expr: up == 0, labels: {severity: info}, annotations: {summary: s}}
      - {alert: Twin, expr: up == 0, labels: {severity: info}, annotations: {summary: s}}
      - {alert: Twin, expr: up == 0, labels: {severity: info}, annotations: {summary: s}}
`;
    const [group] = toGrafanaRuleGroups(parse(pair("free < 5")), CONTEXT);
    const uids = group.rules.map((rule) => rule.uid);
    expect(new Set(uids).size).toBe(5);
    expect(group.rules.map((rule) => rule.name)).toEqual(["DiskFull", "DiskFull", "Lonely", "Twin", "Twin"]);
    // A name used once keeps the uid it always had.
    expect(uids[2]).toBe(ruleUid("disk", "Lonely"));
    // Same-named rules: from their labels (group labels merged), so editing the expression or moving the rule keeps it.
    expect(uids[1]).toBe(ruleUid("disk", "DiskFull", '{severity="critical",team="infra"}'));
    const edited = toGrafanaRuleGroups(parse(pair("free < 3")), CONTEXT)[0];
    expect(edited.rules.map((rule) => rule.uid)).toEqual(uids);
    expect(
      ruleFileUids(
        "disk",
        [group.rules[1], group.rules[0]].map((rule) => ({ alert: rule.name, labels: { ...rule.labels } })),
      ),
    ).toEqual([uids[1], uids[0]]);
    // Identical name and labels: told apart by their order only.
    expect(uids[4]).toBe(ruleUid("disk", "Twin", '{severity="info",team="infra"}#2'));
    for (const uid of uids) expect(uid).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  test("uids are stable, unique per group and alert, within Grafana's limits", () => {
    expect(api.rules[0].uid).toBe(ruleUid("api", "ApiDown"));
    expect(toGrafanaRuleGroups(parse(TWO_GROUPS, "alerts/renamed.yml"), CONTEXT)[0].rules[0].uid).toBe(api.rules[0].uid);
    expect(ruleUid("api", "ApiDown")).not.toBe(ruleUid("other", "ApiDown"));
    expect(ruleUid("api", "ApiDown")).toMatch(/^api-down-[0-9a-f]{10}$/);
    const long = ruleUid("g", "A".repeat(100) + "VeryLongAlertNameThatGoesOnAndOn");
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^[a-z0-9-]+$/);
  });
});

describe("templating", () => {
  test.each([
    ["{{ $value }}", "{{ $values.A.Value }}"],
    ["{{ $value | humanizePercentage }}", "{{ $values.A.Value | humanizePercentage }}"],
    ['{{ printf "%.2f" $value }}', '{{ printf "%.2f" $values.A.Value }}'],
    ["{{- $labels.service -}}", "{{- $labels.service -}}"],
    ["{{ .Labels.job }} at {{ .Value }}", "{{ $labels.job }} at {{ $values.A.Value }}"],
    ["$value outside a template stays", "$value outside a template stays"],
    ["{{ $values.B.Value }} is already Grafana", "{{ $values.B.Value }} is already Grafana"],
  ])("%s", (prometheus, grafana) => {
    expect(translateTemplate(prometheus)).toBe(grafana);
  });

  test("runbook links: relative ones are joined to the base, absolute ones and no base leave them alone", () => {
    expect(resolveRunbookUrl("docs/runbook.md#x", "https://h/repo/blob/main")).toBe("https://h/repo/blob/main/docs/runbook.md#x");
    expect(resolveRunbookUrl("./docs/runbook.md#x", "https://h/r/")).toBe("https://h/r/docs/runbook.md#x");
    expect(resolveRunbookUrl("https://wiki/x", "https://h/r")).toBe("https://wiki/x");
    expect(resolveRunbookUrl("docs/runbook.md#x", undefined)).toBe("docs/runbook.md#x");
  });

  test("the condition node refers to its input", () => {
    expect(JSON.parse(alwaysFiringCondition("C", "B").model).expression).toBe("is_number($B) || is_nan($B) || is_inf($B)");
  });
});

describe("contact points and the notification policy", () => {
  const { config, secrets } = resolveStackConfig({
    stack: "prod",
    values: {
      alerting: {
        contactPoints: [
          { name: "pager", type: "webhook" },
          { name: "chat", type: "slack", recipient: "#alerts" },
          { name: "mail", type: "email", addresses: ["oncall@example.com"] },
          { name: "tg", type: "telegram", chatId: "-100123" },
        ],
        defaultContactPoint: "chat",
        routes: [
          { match: { severity: "critical" }, contactPoint: "pager", continue: true },
          { match: { severity: "warning", service: "api" }, contactPoint: "mail" },
        ],
        groupWait: "10s",
      },
      alertingSecrets: { pager: "https://hooks.example.com/abc", chat: "https://hooks.slack.com/services/T/B/x", tg: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ" },
    },
    secretKeys: ["alertingSecrets"],
  });

  test("each type carries its secret where the Grafana API expects it, and nothing else secret", () => {
    const specs = config.alerting.contactPoints.map((point) =>
      contactPointArgs(point, secrets.alertingSecrets[point.name] ? `<secret ${point.name}>` : undefined),
    );
    expect(specs).toEqual([
      { name: "pager", webhooks: [{ url: "<secret pager>", httpMethod: "POST" }] },
      { name: "chat", slacks: [{ url: "<secret chat>", recipient: "#alerts" }] },
      { name: "mail", emails: [{ addresses: ["oncall@example.com"], singleEmail: false }] },
      { name: "tg", telegrams: [{ token: "<secret tg>", chatId: "-100123" }] },
    ]);
  });

  test("one policy tree: default contact point, grouping, timings and routes by label", () => {
    expect(notificationPolicySpec(config.alerting)).toEqual({
      contactPoint: "chat",
      groupBies: ["alertname", "host", "service", "instance"],
      groupWait: "10s",
      groupInterval: "5m",
      repeatInterval: "4h",
      policies: [
        { contactPoint: "pager", matchers: [{ label: "severity", match: "=", value: "critical" }], continue: true },
        {
          contactPoint: "mail",
          matchers: [
            { label: "severity", match: "=", value: "warning" },
            { label: "service", match: "=", value: "api" },
          ],
          continue: false,
        },
      ],
    });
  });

  test("with no contact point configured, everything routes to Grafana's built-in one", () => {
    const dev = resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] }).config;
    expect(notificationPolicySpec(dev.alerting)).toMatchObject({ contactPoint: "grafana-default-email", policies: [] });
  });
});
