/**
 * The one manifest of what this repository ships under `dashboards/` and `alerts/`.
 *
 * Tests that are about the shipped content (fixed uids, "every panel returns data on the test
 * machine", a promtool unit test that makes each alert fire and stay silent, a runbook section per
 * alert, the house style of rules and layouts) read their subjects from here, never from a directory
 * listing. A dashboard or rule file a user adds is not listed, so those tests demand nothing of it; the
 * generic checks (the file imports or parses as the program does, datasource references resolve,
 * every PromQL query parses with the dashboard's own variables, promtool accepts the rule file, the
 * user's own promtool tests pass) run over every file in the folders.
 *
 * Why here and not in `dashboards/` or `alerts/`: the program reads every `*.json` below `dashboards/`
 * as a dashboard and every `*.yml` in `alerts/` as a rule file, so a manifest there would be imported
 * as content. It is about tests, so it lives with them, as typed TypeScript the tests import.
 * Removing or renaming a shipped file means editing this list (a test checks that every entry exists).
 */

export interface ShippedDashboard {
  /** Path from the repository root. */
  file: string;
  /** The fixed uid (dashboard URLs and links depend on it). */
  uid: string;
  /** The one datasource type of ours it queries. */
  datasource: "prometheus" | "elasticsearch";
}

export const SHIPPED_DASHBOARDS: readonly ShippedDashboard[] = [
  { file: "dashboards/host.json", uid: "atra-host", datasource: "prometheus" },
  { file: "dashboards/logs-performance.json", uid: "atra-logs-performance", datasource: "elasticsearch" },
  { file: "dashboards/logs.json", uid: "atra-logs", datasource: "elasticsearch" },
  { file: "dashboards/prometheus.json", uid: "atra-prometheus", datasource: "prometheus" },
  { file: "dashboards/services-overview.json", uid: "atra-services-overview", datasource: "prometheus" },
  { file: "dashboards/slo.json", uid: "atra-slo", datasource: "prometheus" },
];

/** Rule files (Prometheus rule-file format) whose every alert has promtool tests and a runbook section. */
export const SHIPPED_RULE_FILES: readonly string[] = ["alerts/host.yml", "alerts/services.yml", "alerts/stack.yml", "alerts/tls.yml"];

/** The promtool unit tests of the shipped rules. Tests a user adds to `alerts/tests/` run too, as a generic check. */
export const SHIPPED_RULE_TESTS: readonly string[] = [
  "alerts/tests/host.test.yml",
  "alerts/tests/services.test.yml",
  "alerts/tests/stack.test.yml",
  "alerts/tests/target-down.test.yml",
  "alerts/tests/tls.test.yml",
];

export const isShippedDashboard = (fileName: string): boolean => SHIPPED_DASHBOARDS.some((dashboard) => dashboard.file === fileName);
export const isShippedRuleFile = (fileName: string): boolean => SHIPPED_RULE_FILES.includes(fileName);
