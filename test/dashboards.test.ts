/**
 * The shipped dashboards: they import, keep their fixed uids, point at our datasources, every
 * Prometheus query is valid PromQL and every Elasticsearch query has the shape Grafana's
 * Elasticsearch datasource runs, over the fields the log pipeline produces.
 */
import * as path from "path";
import { loadDashboards } from "../components/grafana/dashboard-files";
import { ELASTICSEARCH_DATASOURCE, PROMETHEUS_DATASOURCE } from "../components/grafana/grafana-configuration";
import {
  dashboardQueries,
  DashboardModel,
  ElasticsearchTarget,
  datasourceType,
  elasticsearchTargetProblems,
  elasticsearchTargets,
  elasticsearchVariables,
  isGrafanaVariableFunction,
  luceneProblems,
  substituteVariables,
} from "./support/dashboard-queries";
import { promqlSyntaxErrors } from "./support/promql";

// The same call the program makes.
const dashboards = loadDashboards(path.join(__dirname, "..", "dashboards"), {
  prometheus: PROMETHEUS_DATASOURCE,
  elasticsearch: ELASTICSEARCH_DATASOURCE,
});
/** The one datasource type each dashboard queries. */
const DASHBOARD_DATASOURCE: Record<string, { type: string; uid: string }> = { "atra-logs": { type: "elasticsearch", uid: ELASTICSEARCH_DATASOURCE.uid } };
const datasourceOf = (uid: string) => DASHBOARD_DATASOURCE[uid] ?? { type: "prometheus", uid: PROMETHEUS_DATASOURCE.uid };
/** Values of the shape Grafana substitutes, so the expression can be parsed as Prometheus will see it. */
const sampleVariables = { __rate_interval: "1m", __interval: "15s", __range: "1h", instance: "host:9100", service: "a|b" };

test("the day-one dashboards and the logs dashboard ship with fixed uids", () => {
  expect(dashboards.map((d) => [d.fileName, d.uid])).toEqual([
    ["dashboards/host.json", "atra-host"],
    ["dashboards/logs.json", "atra-logs"],
    ["dashboards/prometheus.json", "atra-prometheus"],
    ["dashboards/services-overview.json", "atra-services-overview"],
  ]);
});

test.each(dashboards.map((d) => [d.fileName, d] as const))("%s queries only its one datasource of ours", (_name, dashboard) => {
  const text = JSON.stringify(dashboard.model);
  expect(text).not.toMatch(/\$\{DS_/);
  const refs = [...text.matchAll(/"datasource":(\{[^}]*\}|"[^"]*"|null)/g)].map((m) => m[1]);
  expect(refs.length).toBeGreaterThan(5);
  // Grafana's built-in annotation source is the one other reference allowed.
  const builtIn = { type: "grafana", uid: "-- Grafana --" };
  for (const ref of refs.map((r) => JSON.parse(r))) {
    if (ref?.uid !== builtIn.uid) expect(ref).toEqual(datasourceOf(dashboard.uid));
  }
});

test("the logs dashboard's Elasticsearch placeholder needs the stack's Elasticsearch datasource", () => {
  expect(() => loadDashboards(path.join(__dirname, "..", "dashboards"), { prometheus: PROMETHEUS_DATASOURCE })).toThrow(
    /logs\.json: input DS_ELASTICSEARCH needs a "elasticsearch" datasource/,
  );
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

// ---------------------------------------------------------------------------------------------
// The logs dashboard over Elasticsearch

/** The fields the logs stage produces (Filebeat's service.name tag; the ingest pipeline's ECS mapping of structlog). */
const LOG_FIELDS = { time: "@timestamp", known: ["@timestamp", "message", "log.level", "log.logger", "service.name", "error.stack_trace"] };
/** `$service` as Grafana's Lucene formatter writes it: several values, and the custom All value. */
const serviceValues = [{ service: '("knowledge-os-api" OR "worker")' }, { service: "*" }];
const ERROR_FILTER = "log.level:(error OR critical OR exception)";

describe("the logs dashboard", () => {
  const logs = dashboards.find((d) => d.uid === "atra-logs")!;
  const model = logs.model as DashboardModel;
  const targets = elasticsearchTargets(model);
  interface LogsPanel {
    id: number;
    type: string;
    title: string;
    targets: { query: string; metrics: { type: string; settings?: Record<string, string> }[]; bucketAggs: { type: string; field?: string }[] }[];
    transformations?: { id: string; options: Record<string, unknown> }[];
  }
  const panels = model.panels as unknown as LogsPanel[];
  const panel = (title: string) => panels.find((p) => p.title === title)!;

  test("every panel queries Elasticsearch, none Prometheus", () => {
    expect(targets.length).toBe(panels.reduce((n, p) => n + p.targets.length, 0));
    expect(targets.length).toBeGreaterThanOrEqual(8);
    expect(dashboardQueries(model)).toEqual([]);
  });

  test.each(targets.flatMap((t) => serviceValues.map((values) => [`${t.where} with $service=${values.service}`, t.target, values] as const)))(
    "%s has the shape Grafana's Elasticsearch datasource runs, over known fields only",
    (_where, target, values) => {
      expect(elasticsearchTargetProblems(target, LOG_FIELDS, values)).toEqual([]);
    },
  );

  test("every target is filtered by the service variable", () => {
    for (const { where, target } of targets) expect([where, String(target.query)]).toEqual([where, expect.stringMatching(/^service\.name:\$service( AND |$)/)]);
  });

  test("the service variable lists the service.name terms, several or all at once", () => {
    const variables = elasticsearchVariables(model);
    expect(variables.map((v) => v.name)).toEqual(["service"]);
    const [service] = variables;
    expect(typeof service.query).toBe("string");
    expect(JSON.parse(service.query as string)).toEqual({ find: "terms", field: "service.name" });
    expect(service.definition).toBe(service.query);
    expect(datasourceType(service.datasource)).toBe("elasticsearch");
    expect(service).toMatchObject({ multi: true, includeAll: true, allValue: "*", refresh: 2 });
  });

  test("volume by level and by service are time series of counts split by terms", () => {
    for (const [title, field] of [
      ["Log volume by level", "log.level"],
      ["Log volume by service", "service.name"],
      ["Errors by service", "service.name"],
    ]) {
      const [target] = panel(title).targets;
      expect([title, panel(title).type, target.metrics.map((m) => m.type), target.bucketAggs.map((b) => [b.type, b.field])]).toEqual([
        title,
        "timeseries",
        ["count"],
        [
          ["terms", field],
          ["date_histogram", "@timestamp"],
        ],
      ]);
    }
  });

  test("the error panels select error, critical and exception lines", () => {
    for (const title of ["Errors", "Errors by service", "Top loggers with errors", "Recent errors"]) {
      expect([title, panel(title).targets[0].query]).toEqual([title, `service.name:$service AND ${ERROR_FILTER}`]);
    }
  });

  test("recent errors: a table of the latest error documents with their time, service, level, logger, message and stack trace", () => {
    const recent = panel("Recent errors");
    expect(recent.type).toBe("table");
    expect(recent.targets[0].metrics).toEqual([{ type: "raw_data", id: "1", settings: { size: "100" } }]);
    const columns = ["@timestamp", "service.name", "log.level", "log.logger", "message", "error.stack_trace"];
    expect(recent.transformations?.[0]).toEqual({ id: "filterFieldsByName", options: { include: { names: columns } } });
    expect(recent.transformations?.[1]).toMatchObject({ id: "organize", options: { indexByName: Object.fromEntries(columns.map((c, i) => [c, i])) } });
  });

  test("the logs panel shows the latest lines of the selected services", () => {
    const lines = panels.filter((p) => p.type === "logs");
    expect(lines.map((p) => [p.title, p.targets[0].query, p.targets[0].metrics])).toEqual([
      ["Logs", "service.name:$service", [{ type: "logs", id: "1", settings: { limit: "500" } }]],
    ]);
  });

  test("the Elasticsearch check rejects what Grafana or Elasticsearch would not run", () => {
    const good = targets[0].target;
    const check = (target: ElasticsearchTarget) => elasticsearchTargetProblems(target, LOG_FIELDS, serviceValues[0]);
    expect(check(good)).toEqual([]);
    expect(check({ ...good, timeField: "timestamp" })).toEqual([expect.stringContaining("timeField")]);
    expect(check({ ...good, query: "service.name:$service AND level:error" })).toEqual([expect.stringContaining("unknown field level")]);
    expect(check({ ...good, query: "service.name:$service AND $env" })).toEqual([expect.stringContaining("unknown variables env")]);
    expect(check({ ...good, metrics: [] })).toEqual(["no metrics"]);
    expect(check({ ...good, metrics: [{ type: "avg", id: "1", field: "duration" }] })).toEqual([expect.stringContaining("unknown field \"duration\"")]);
    expect(check({ ...good, metrics: [{ type: "logs", id: "1" }], bucketAggs: [{ type: "date_histogram", id: "2", field: "@timestamp", settings: { interval: "auto" } }] })).toEqual([
      "a logs query takes no bucket aggregations",
    ]);
    const histogram = { type: "date_histogram", id: "2", field: "@timestamp", settings: { interval: "auto" } };
    const terms = { type: "terms", id: "3", field: "log.level", settings: { order: "desc", orderBy: "_count", size: "10" } };
    expect(check({ ...good, bucketAggs: [histogram, terms] })).toEqual(["the date_histogram must be the last bucket aggregation"]);
    expect(check({ ...good, bucketAggs: [{ ...terms, id: "1" }, histogram] })).toEqual([expect.stringContaining("aggregation ids repeat")]);
    expect(check({ ...good, bucketAggs: [{ ...terms, settings: { ...terms.settings, size: 10 } }, histogram] })).toEqual([expect.stringContaining("setting size is 10, not a string")]);
    expect(check({ ...good, bucketAggs: [{ ...terms, field: "level" }, histogram] })).toEqual([expect.stringContaining("bucket terms on unknown field")]);
  });

  test("the Lucene check rejects malformed queries", () => {
    const known = new Set(LOG_FIELDS.known);
    expect(luceneProblems(`service.name:("a" OR "b") AND ${ERROR_FILTER}`, known)).toEqual([]);
    expect(luceneProblems("service.name:knowledge\\-os\\-api AND message:\"timed out\"", known)).toEqual([]);
    expect(luceneProblems("log.level:(error OR critical", known)).toEqual([expect.stringContaining("unbalanced parentheses")]);
    expect(luceneProblems('message:"timed out', known)).toEqual([expect.stringContaining("unbalanced quotes")]);
    expect(luceneProblems("log.level:error and service.name:a", known)).toEqual([expect.stringContaining("lowercase boolean operator")]);
    expect(luceneProblems("log.level:error AND", known)).toEqual([expect.stringContaining("ends with AND")]);
    expect(luceneProblems("log.level:error AND OR service.name:a", known)).toEqual([expect.stringContaining("AND OR")]);
    expect(luceneProblems("log.level: AND service.name:a", known)).toEqual([expect.stringContaining("field without a value")]);
    expect(luceneProblems("", known)).toEqual([expect.stringContaining("empty query")]);
  });
});
