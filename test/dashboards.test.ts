/** The shipped dashboards: they import, keep their fixed uids, point at our datasource, and every query is valid PromQL. */
import * as path from "path";
import { loadDashboards } from "../components/grafana/dashboard-files";
import { PROMETHEUS_DATASOURCE } from "../components/grafana/grafana-configuration";
import { dashboardQueries, isGrafanaVariableFunction, substituteVariables } from "./support/dashboard-queries";
import { promqlSyntaxErrors } from "./support/promql";

// The same call the program makes.
const dashboards = loadDashboards(path.join(__dirname, "..", "dashboards"), { prometheus: PROMETHEUS_DATASOURCE });
/** Values of the shape Grafana substitutes, so the expression can be parsed as Prometheus will see it. */
const sampleVariables = { __rate_interval: "1m", __interval: "15s", __range: "1h", instance: "host:9100", service: "a|b" };

test("the three day-one dashboards ship with fixed uids", () => {
  expect(dashboards.map((d) => [d.fileName, d.uid])).toEqual([
    ["dashboards/host.json", "atra-host"],
    ["dashboards/prometheus.json", "atra-prometheus"],
    ["dashboards/services-overview.json", "atra-services-overview"],
  ]);
});

test.each(dashboards.map((d) => [d.fileName, d] as const))("%s queries only our Prometheus datasource", (_name, dashboard) => {
  const text = JSON.stringify(dashboard.model);
  expect(text).not.toMatch(/\$\{DS_/);
  const refs = [...text.matchAll(/"datasource":(\{[^}]*\}|"[^"]*"|null)/g)].map((m) => m[1]);
  expect(refs.length).toBeGreaterThan(5);
  // Grafana's built-in annotation source is the one other reference allowed.
  const builtIn = { type: "grafana", uid: "-- Grafana --" };
  for (const ref of refs.map((r) => JSON.parse(r))) {
    if (ref?.uid !== builtIn.uid) expect(ref).toEqual({ type: "prometheus", uid: PROMETHEUS_DATASOURCE.uid });
  }
});

const allQueries = dashboards.flatMap((dashboard) => dashboardQueries(dashboard.model).map((q) => [`${dashboard.fileName} ${q.where}`, q.expr] as const));

test("the dashboards have queries to check", () => {
  expect(allQueries.length).toBeGreaterThan(40);
});

test.each(allQueries.filter(([, expr]) => !isGrafanaVariableFunction(expr)))("%s parses as PromQL", (_where, expr) => {
  const { expr: concrete, missing } = substituteVariables(expr, sampleVariables);
  expect(missing).toEqual([]);
  expect(promqlSyntaxErrors(concrete)).toEqual([]);
});

test("the PromQL check rejects what Prometheus would reject", () => {
  expect(promqlSyntaxErrors('sum(rate(http_requests_total{job="x"}[5m])')).not.toEqual([]);
  expect(promqlSyntaxErrors("up{job=}")).not.toEqual([]);
  expect(promqlSyntaxErrors('sum by (job) (rate(http_requests_total{job="x"}[5m]))')).toEqual([]);
});

test("the host dashboard's filesystem panels use the selector that works on ext4, xfs, btrfs, zfs and overlay hosts", () => {
  const host = dashboards.find((d) => d.uid === "atra-host");
  const fsQueries = dashboardQueries(host!.model).filter((q) => q.expr.includes("node_filesystem_"));
  expect(fsQueries.length).toBeGreaterThan(0);
  for (const query of fsQueries) expect(query.expr).toContain('fstype=~"ext4|xfs|btrfs|zfs|overlay"');
});

interface GridPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  panels?: GridPanel[];
}

test.each(dashboards.map((d) => [d.fileName, d] as const))("%s lays out its panels on Grafana's 24-column grid without overlap", (_name, dashboard) => {
  const all: GridPanel[] = [];
  const walk = (panels: GridPanel[] | undefined) => panels?.forEach((panel) => (all.push(panel), walk(panel.panels)));
  walk(dashboard.model.panels as GridPanel[]);
  const ids = all.map((panel) => panel.id);
  expect(new Set(ids).size).toBe(ids.length);
  const top = dashboard.model.panels as GridPanel[];
  for (const panel of all) {
    expect(panel.gridPos).toBeDefined();
    const { x, w } = panel.gridPos!;
    expect(x + w).toBeLessThanOrEqual(24);
  }
  const overlaps = (a: GridPanel, b: GridPanel) => {
    const p = a.gridPos!;
    const q = b.gridPos!;
    return p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
  };
  for (let i = 0; i < top.length; i++) for (let j = i + 1; j < top.length; j++) expect([top[i].title, top[j].title, overlaps(top[i], top[j])]).toEqual([top[i].title, top[j].title, false]);
});
