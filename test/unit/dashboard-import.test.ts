/**
 * Dashboard import, as Grafana's import dialog does it: placeholders and datasource references
 * pointed at our datasources, export-only keys dropped, uids kept or derived, and every bad file
 * reported in one error.
 */
import { readFileSync } from "fs";
import { join } from "path";
import {
  DashboardFile,
  DashboardImportError,
  DatasourceMap,
  ImportedDashboard,
  importDashboards,
  logqlSign,
  uidFromFileName,
} from "../../components/grafana/dashboard-import";

const FIXTURES = join(__dirname, "..", "fixtures", "dashboards");
const PROMETHEUS_UID = "atra-prometheus-ds";
const DATASOURCES: DatasourceMap = { prometheus: { uid: PROMETHEUS_UID, name: "Prometheus" } };
const OUR_PROMETHEUS = { type: "prometheus", uid: PROMETHEUS_UID };

function fixture(name: string): DashboardFile {
  return { fileName: `dashboards/${name}`, text: readFileSync(join(FIXTURES, name), "utf8") };
}

function importOne(name: string, datasources: DatasourceMap = DATASOURCES): ImportedDashboard {
  const imported = importDashboards([fixture(name)], datasources);
  expect(imported).toHaveLength(1);
  return imported[0];
}

/** The DashboardImportError for these files (fails the test when they import). */
function importError(files: DashboardFile[], datasources: DatasourceMap = DATASOURCES): DashboardImportError {
  try {
    importDashboards(files, datasources);
  } catch (error) {
    if (error instanceof DashboardImportError) return error;
    throw error;
  }
  throw new Error(`expected a DashboardImportError for ${files.map((file) => file.fileName).join(", ")}`);
}

// Loose accessors for the JSON model, which is untyped by nature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- dashboard JSON is untyped; the tests poke into it freely
type Json = any;
const panels = (dashboard: ImportedDashboard): Json[] => dashboard.model.panels as Json[];
const templating = (dashboard: ImportedDashboard): Json[] => (dashboard.model.templating as Json).list;

describe("an exported-for-sharing dashboard", () => {
  const dashboard = importOne("exported-for-sharing.json");

  test("keeps the file's uid and title", () => {
    expect(dashboard.uid).toBe("shared-node");
    expect(dashboard.model.uid).toBe("shared-node");
    expect(dashboard.title).toBe("Shared node dashboard");
    expect(dashboard.fileName).toBe("dashboards/exported-for-sharing.json");
  });

  test("drops __inputs, __requires, __elements, id and version", () => {
    for (const key of ["__inputs", "__requires", "__elements", "id", "version"]) expect(dashboard.model).not.toHaveProperty(key);
    // Panel ids are the panels' own and stay.
    expect(panels(dashboard).map((panel) => panel.id)).toEqual([1, 2]);
    expect(dashboard.model.schemaVersion).toBe(41);
  });

  test("replaces every ${DS_...} placeholder with our datasource uid", () => {
    const text = JSON.stringify(dashboard.model);
    expect(text).not.toContain("${DS_");
    expect(text).not.toContain("${VAR_");
    for (const panel of panels(dashboard)) {
      expect(panel.datasource).toEqual(OUR_PROMETHEUS);
      for (const target of panel.targets) expect(target.datasource).toEqual(OUR_PROMETHEUS);
    }
    expect(templating(dashboard)[0].datasource).toEqual(OUR_PROMETHEUS);
  });

  test("substitutes the constant input in queries and variables", () => {
    expect(panels(dashboard)[0].targets[0].expr).toBe('sum by (instance) (rate(node_cpu_seconds_total{job="node-exporter", mode!="idle"}[5m]))');
    expect(panels(dashboard)[1].targets[0].expr).toBe('up{job="node-exporter"}');
    expect(templating(dashboard)[0].query).toBe('label_values(up{job="node-exporter"}, instance)');
    expect(templating(dashboard)[1]).toEqual({ name: "job", type: "constant", hide: 2, query: "node-exporter" });
  });

  test("leaves the built-in Grafana annotation datasource alone", () => {
    expect((dashboard.model.annotations as Json).list[0].datasource).toEqual({ type: "grafana", uid: "-- Grafana --" });
  });

  test("importing the same file again gives the same model", () => {
    expect(importOne("exported-for-sharing.json").model).toEqual(dashboard.model);
  });
});

describe("datasource references without a uid", () => {
  test("old style: a datasource name and null both point at our Prometheus", () => {
    const dashboard = importOne("old-style-names.json");
    expect(dashboard.uid).toBe("old-style");
    expect(panels(dashboard)[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(panels(dashboard)[1].datasource).toEqual(OUR_PROMETHEUS);
    expect(templating(dashboard)[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(dashboard.model).not.toHaveProperty("id");
    expect(dashboard.model).not.toHaveProperty("version");
  });

  test("{type} without a uid gets our uid; a dashboard without a uid gets one from its file name", () => {
    const dashboard = importOne("type-only.json");
    expect(dashboard.uid).toBe("type-only");
    expect(dashboard.model.uid).toBe("type-only");
    expect(dashboard.title).toBe("Type only, no uids");
    expect(panels(dashboard)[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(panels(dashboard)[0].targets[0].datasource).toEqual(OUR_PROMETHEUS);
  });

  test("built-in pseudo datasources and $datasource variable references are kept as they are", () => {
    const dashboard = importOne("builtin-and-variable.json");
    expect((dashboard.model.annotations as Json).list[0].datasource).toBe("-- Grafana --");
    expect(panels(dashboard)[0].datasource).toBe("$datasource");
    expect(panels(dashboard)[0].targets[0].datasource).toEqual({ type: "prometheus", uid: "$datasource" });
    expect(panels(dashboard)[1].datasource).toEqual({ type: "datasource", uid: "grafana" });
    // The variable stays; its current value is pinned to our datasource (see "datasource variables" below).
    expect(templating(dashboard)[0]).toEqual({
      name: "datasource",
      type: "datasource",
      query: "prometheus",
      current: { selected: true, text: "Prometheus", value: PROMETHEUS_UID },
    });
  });

  test("resolution reaches panels nested in a collapsed row", () => {
    const dashboard = importOne("nested-rows.json");
    const [row] = panels(dashboard);
    expect(row.type).toBe("row");
    expect(row.panels).toHaveLength(2);
    expect(row.panels[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(row.panels[0].targets[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(row.panels[1].datasource).toEqual(OUR_PROMETHEUS);
    expect(JSON.stringify(dashboard.model)).not.toContain("${DS_");
  });

  test("a string placeholder for a non-Prometheus input resolves to that datasource's type", () => {
    const datasources: DatasourceMap = { ...DATASOURCES, loki: { uid: "atra-loki-ds", name: "Loki" } };
    const text = JSON.stringify({
      __inputs: [{ name: "DS_LOKI", type: "datasource", pluginId: "loki", pluginName: "Loki" }],
      uid: "string-loki",
      title: "String Loki reference",
      panels: [{ id: 1, type: "logs", datasource: "${DS_LOKI}", targets: [{ refId: "A", expr: '{job="app"}' }] }],
    });
    const [dashboard] = importDashboards([{ fileName: "dashboards/string-loki.json", text }], datasources);
    expect(panels(dashboard)[0].datasource).toEqual({ type: "loki", uid: "atra-loki-ds" });
  });

  test("any __inputs name is replaced, as Grafana's evaluator does, not only DS_/VAR_ ones", () => {
    const text = JSON.stringify({
      __inputs: [
        { name: "PROM", type: "datasource", pluginId: "prometheus" },
        { name: "JOB", type: "constant", value: "node" },
      ],
      uid: "any-input-names",
      title: "Any input names",
      panels: [{ id: 1, type: "timeseries", datasource: { type: "prometheus", uid: "${PROM}" }, targets: [{ refId: "A", expr: 'up{job="${JOB}"}' }] }],
    });
    const [dashboard] = importDashboards([{ fileName: "dashboards/any.json", text }], DATASOURCES);
    expect(panels(dashboard)[0].datasource).toEqual(OUR_PROMETHEUS);
    expect(panels(dashboard)[0].targets[0].expr).toBe('up{job="node"}');
  });

  test("a Loki input resolves when the stack has a Loki datasource", () => {
    const datasources: DatasourceMap = { ...DATASOURCES, loki: { uid: "atra-loki-ds", name: "Loki" } };
    const dashboard = importOne("needs-loki.json", datasources);
    expect(panels(dashboard)[0].datasource).toEqual({ type: "loki", uid: "atra-loki-ds" });
  });
});

/** A minimal dashboard with the given variables and one panel whose datasource is `datasource`. */
function dashboardText(templating: unknown[], datasource: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    uid: "vars",
    title: "Variables",
    templating: { list: templating },
    panels: [{ id: 1, type: "timeseries", title: "CPU", datasource, targets: [{ refId: "A", datasource, expr: "up" }] }],
    ...extra,
  });
}
const dsVariable = (extra: Record<string, unknown> = {}) => ({ name: "ds_prometheus", type: "datasource", query: "prometheus", current: {}, ...extra });
const importText = (text: string, datasources: DatasourceMap = DATASOURCES, switchedOff: string[] = []) =>
  importDashboards([{ fileName: "dashboards/vars.json", text }], datasources, switchedOff);

describe("datasource variables", () => {
  const VARIABLE_REF = { type: "prometheus", uid: "${ds_prometheus}" };

  test("are kept, with their current value pinned to our datasource; references through them stay", () => {
    const [dashboard] = importText(dashboardText([dsVariable({ current: { text: "someone else's", value: "P1809F7CD0C75ACF3" } })], VARIABLE_REF));
    expect(templating(dashboard)[0]).toEqual({ ...dsVariable(), current: { selected: true, text: "Prometheus", value: PROMETHEUS_UID } });
    expect(panels(dashboard)[0].datasource).toEqual(VARIABLE_REF);
    expect(panels(dashboard)[0].targets[0].datasource).toEqual(VARIABLE_REF);
  });

  test("a multi-value variable is pinned to a one-element list", () => {
    const [dashboard] = importText(dashboardText([dsVariable({ multi: true })], VARIABLE_REF));
    expect(templating(dashboard)[0].current).toEqual({ selected: true, text: ["Prometheus"], value: [PROMETHEUS_UID] });
  });

  test("a variable named like an export placeholder (${DS_PROMETHEUS} without __inputs) is the dashboard's own, not a missing input", () => {
    const [dashboard] = importText(dashboardText([dsVariable({ name: "DS_PROMETHEUS" })], { type: "prometheus", uid: "${DS_PROMETHEUS}" }));
    expect(panels(dashboard)[0].datasource).toEqual({ type: "prometheus", uid: "${DS_PROMETHEUS}" });
    expect(templating(dashboard)[0].current.value).toBe(PROMETHEUS_UID);
  });

  test("a variable over a datasource type the stack has switched off leaves the dashboard out; one no stack has is an error", () => {
    const logs = dashboardText([{ name: "ds", type: "datasource", query: "elasticsearch" }], { type: "elasticsearch", uid: "$ds" });
    expect(importText(logs, DATASOURCES, ["elasticsearch"])).toEqual([]);
    expect(() => importText(dashboardText([{ name: "ds", type: "datasource", query: "loki" }], { type: "loki", uid: "$ds" }))).toThrow(
      'dashboards/vars.json: variable $ds lists "loki" datasources, and this stack has only prometheus',
    );
  });

  test("a regex that hides our datasource is an error; one that matches it is fine", () => {
    expect(importText(dashboardText([dsVariable({ regex: "/^Prom/" })], VARIABLE_REF))).toHaveLength(1);
    expect(() => importText(dashboardText([dsVariable({ regex: "/^prod-.*/" })], VARIABLE_REF))).toThrow(
      'dashboards/vars.json: variable $ds_prometheus has regex "/^prod-.*/", which hides this stack\'s datasource "Prometheus"; clear the regex',
    );
  });
});

describe("datasource uids that are in no stack", () => {
  test("are reported with the file, the uid and where it is used, as Grafana would fail those panels", () => {
    const error = importError([{ fileName: "dashboards/old.json", text: dashboardText([], { type: "prometheus", uid: "000000001" }) }]);
    expect(error.problems).toEqual([
      'dashboards/old.json: datasource uid "000000001" (panel "CPU" query A, panel "CPU") is no datasource of this stack (prometheus "atra-prometheus-ds"); ' +
        'Grafana would import it and fail those panels with "Datasource 000000001 was not found". Use the exported-for-sharing form (${DS_...} with __inputs), drop the uid and keep the type, or use the uid above',
    ]);
  });

  test("every unknown uid and every reference to a variable the dashboard lacks is listed, variables and annotations named", () => {
    const text = dashboardText(
      [{ name: "job", type: "query", datasource: { type: "prometheus", uid: "abc" }, query: "label_values(up, job)" }],
      "$datasource",
      {
        annotations: { list: [{ name: "Deploys", datasource: { type: "prometheus", uid: "abc" } }] },
      },
    );
    expect(importError([{ fileName: "dashboards/old.json", text }]).problems).toEqual([
      expect.stringContaining('dashboards/old.json: datasource uid "abc" (variable $job, annotation "Deploys") is no datasource of this stack'),
      'dashboards/old.json: datasource reference $datasource (panel "CPU" query A, panel "CPU") names no variable of the dashboard\'s templating.list',
    ]);
  });

  test("a uid of a datasource type the stack has switched off leaves the dashboard out, as its inputs would", () => {
    expect(importText(dashboardText([], { type: "elasticsearch", uid: "atra-elasticsearch-ds" }), DATASOURCES, ["elasticsearch"])).toEqual([]);
  });

  test("our own uids, built-in pseudo datasources and server-side expressions are not unknown", () => {
    for (const ref of [
      { type: "prometheus", uid: PROMETHEUS_UID },
      { type: "datasource", uid: "-- Mixed --" },
      { type: "__expr__", uid: "__expr__" },
      { type: "datasource", uid: "grafana" },
    ]) {
      expect(importText(dashboardText([], ref))).toHaveLength(1);
    }
  });
});

describe("uids from file names", () => {
  test("short names: the slug of the base name", () => {
    expect(uidFromFileName("dashboards/type-only.json")).toBe("type-only");
    expect(uidFromFileName("dashboards/Node Exporter Full.JSON")).toBe("node-exporter-full");
    expect(uidFromFileName("C:\\dashboards\\host_overview.json")).toBe("host_overview");
    expect(uidFromFileName("dashboards/!!!.json")).toBe("dashboard");
  });

  test("a very long name: at most 40 characters, with a deterministic hash suffix", () => {
    const long = "dashboards/kubernetes-cluster-monitoring-via-prometheus-with-node-details.json";
    const uid = uidFromFileName(long);
    expect(uid).toHaveLength(40);
    expect(uid).toMatch(/^kubernetes-cluster-monitoring-v-[0-9a-f]{8}$/);
    expect(uidFromFileName(long)).toBe(uid);
    // The directory does not matter, only the file's own name.
    expect(uidFromFileName("elsewhere/kubernetes-cluster-monitoring-via-prometheus-with-node-details.json")).toBe(uid);
  });

  test("two long names sharing a prefix get different uids", () => {
    const a = uidFromFileName("dashboards/kubernetes-cluster-monitoring-via-prometheus-node-a.json");
    const b = uidFromFileName("dashboards/kubernetes-cluster-monitoring-via-prometheus-node-b.json");
    expect(a.slice(0, 31)).toBe(b.slice(0, 31));
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(40);
    expect(b.length).toBeLessThanOrEqual(40);
  });

  test("a long-named dashboard without a uid imports under its derived uid", () => {
    const fileName = "dashboards/a-dashboard-with-a-remarkably-long-descriptive-file-name.json";
    const text = readFileSync(join(FIXTURES, "type-only.json"), "utf8");
    const [dashboard] = importDashboards([{ fileName, text }], DATASOURCES);
    expect(dashboard.uid).toBe(uidFromFileName(fileName));
    expect(dashboard.uid).toHaveLength(40);
    expect(dashboard.model.uid).toBe(dashboard.uid);
  });
});

describe("bad files", () => {
  test("invalid JSON names the file, line and column", () => {
    const error = importError([fixture("invalid-json.json")]);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^dashboards\/invalid-json\.json: invalid JSON at line 5, column 3: /);
    expect(error.problems[0]).not.toMatch(/\(line \d+ column \d+\)/);
  });

  test("an input needing a datasource the stack lacks names the input and what the stack has", () => {
    expect(importError([fixture("needs-loki.json")]).problems).toEqual([
      'dashboards/needs-loki.json: input DS_LOKI needs a "loki" datasource, and this stack has only prometheus',
    ]);
  });

  test("two files with the same uid name both files", () => {
    expect(importError([fixture("same-uid-a.json"), fixture("same-uid-b.json")]).problems).toEqual([
      'dashboards/same-uid-b.json: uid "shared-uid" is also the uid of dashboards/same-uid-a.json',
    ]);
  });

  test("a placeholder with no __inputs entry is reported", () => {
    expect(importError([fixture("unresolved-placeholder.json")]).problems).toEqual([
      "dashboards/unresolved-placeholder.json: placeholders with no matching __inputs entry: ${DS_OTHER}",
    ]);
  });

  test("not a dashboard, and a dashboard without a title", () => {
    expect(
      importError([
        { fileName: "dashboards/list.json", text: "[1, 2]" },
        { fileName: "dashboards/untitled.json", text: JSON.stringify({ uid: "untitled", panels: [] }) },
        { fileName: "dashboards/bad-uid.json", text: JSON.stringify({ uid: "has spaces", title: "Bad uid", panels: [] }) },
      ]).problems,
    ).toEqual([
      'dashboards/list.json: not a dashboard (expected an object with "panels")',
      'dashboards/untitled.json: the dashboard has no "title"',
      'dashboards/bad-uid.json: uid "has spaces" must be at most 40 letters, digits, - or _',
    ]);
  });

  test("every bad file is reported in one error; good files do not hide them", () => {
    const error = importError([
      fixture("exported-for-sharing.json"),
      fixture("invalid-json.json"),
      fixture("needs-loki.json"),
      fixture("old-style-names.json"),
      fixture("unresolved-placeholder.json"),
      fixture("same-uid-a.json"),
      fixture("same-uid-b.json"),
    ]);
    expect(error.name).toBe("DashboardImportError");
    expect(error.problems).toHaveLength(4);
    expect(error.problems[0]).toMatch(/^dashboards\/invalid-json\.json: invalid JSON at line 5, column 3/);
    expect(error.problems.slice(1)).toEqual([
      'dashboards/needs-loki.json: input DS_LOKI needs a "loki" datasource, and this stack has only prometheus',
      "dashboards/unresolved-placeholder.json: placeholders with no matching __inputs entry: ${DS_OTHER}",
      'dashboards/same-uid-b.json: uid "shared-uid" is also the uid of dashboards/same-uid-a.json',
    ]);
    expect(error.message.split("\n")[0]).toBe("Dashboards: 4 problems; nothing was created or changed:");
    for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
  });
});

/**
 * Datasources given by name. Grafana itself looks a name up among its datasources by name, then uid, and
 * keeps an unknown one as a uid-only reference that fails its panels (grafana/grafana
 * apps/dashboard/pkg/migration/schemaversion/datasource_utils.go, MigrateDatasourceNameToRef and
 * DatasourceIndex.Lookup; public/app/features/dashboard/state/DashboardMigrator.ts, migrateDatasourceNameToRef).
 * A name carries no type, so the importer takes it from the queries that run on the name, or refuses.
 */
describe("datasources given by a name that is not ours", () => {
  const STACK: DatasourceMap = {
    prometheus: { uid: PROMETHEUS_UID, name: "Prometheus" },
    elasticsearch: { uid: "atra-elasticsearch-ds", name: "Elasticsearch logs" },
    "elasticsearch-failures": { uid: "atra-elasticsearch-failures-ds", name: "Elasticsearch log failures", type: "elasticsearch" },
  };
  const OUR_ELASTICSEARCH = { type: "elasticsearch", uid: "atra-elasticsearch-ds" };
  const DEVENV = "grafana-devenv-elasticsearch_v7_filebeat.json";
  /** One dashboard whose panels each run `targets` on the datasource `name`. */
  const byName = (name: string, ...panelTargets: unknown[][]) =>
    JSON.stringify({
      uid: "by-name",
      title: "By name",
      panels: panelTargets.map((targets, index) => ({ id: index + 1, type: "timeseries", title: `P${index + 1}`, datasource: name, targets })),
    });
  const importByName = (text: string, datasources: DatasourceMap = STACK, switchedOff: string[] = []) =>
    importDashboards([{ fileName: "dashboards/by-name.json", text }], datasources, switchedOff);
  const esTarget = { refId: "A", query: "*", metrics: [{ id: "1", type: "count" }], bucketAggs: [], timeField: "@timestamp" };

  test("Grafana's devenv Elasticsearch dashboard: every panel and the ad hoc filter point at our Elasticsearch, not Prometheus", () => {
    const dashboard = importOne(DEVENV, STACK);
    expect(dashboard).toMatchObject({ uid: "M94gguRWz", title: "Datasource tests - Elasticsearch v7 Filebeat" });
    expect(panels(dashboard).map((panel) => panel.datasource)).toEqual([OUR_ELASTICSEARCH, OUR_ELASTICSEARCH]);
    expect(templating(dashboard)).toEqual([expect.objectContaining({ name: "Filters", type: "adhoc", datasource: OUR_ELASTICSEARCH })]);
    expect((dashboard.model.annotations as Json).list[0].datasource).toBe("-- Grafana --");
    // The queries themselves are Grafana's, untouched.
    expect(panels(dashboard)[0].targets[0]).toMatchObject({ query: "fields.app:grafana", timeField: "@timestamp" });
    expect(JSON.stringify(dashboard.model)).not.toContain("gdev-elasticsearch-v7-filebeat");
  });

  test("the devenv dashboard is left out when the stack's logs stage is off, and refused when no stack could serve it", () => {
    const { elasticsearch: _es, "elasticsearch-failures": _failures, ...prometheusOnly } = STACK;
    expect(importDashboards([fixture(DEVENV)], prometheusOnly, ["elasticsearch"])).toEqual([]);
    expect(importError([fixture(DEVENV)], prometheusOnly).problems).toEqual([
      'dashboards/grafana-devenv-elasticsearch_v7_filebeat.json: datasource "gdev-elasticsearch-v7-filebeat" (panel "Panel Title", variable $Filters) runs elasticsearch queries, and this stack has only prometheus',
    ]);
  });

  test('a name whose queries are PromQL points at our Prometheus; our own names and "default" are resolved as Grafana does', () => {
    const [dashboard] = importByName(byName("gdev-prometheus", [{ refId: "A", expr: 'rate(x{job="$job"}[$__rate_interval])' }], []));
    expect(panels(dashboard).map((panel) => panel.datasource)).toEqual([OUR_PROMETHEUS, OUR_PROMETHEUS]);
    const [ours] = importByName(byName("Elasticsearch logs", [esTarget]));
    expect(panels(ours)[0].datasource).toEqual(OUR_ELASTICSEARCH);
    const [defaulted] = importByName(byName("default", [{ refId: "A", expr: "up" }]));
    expect(panels(defaulted)[0].datasource).toEqual(OUR_PROMETHEUS);
  });

  test("a name with no query to tell its type is refused with the panel's title and the fix", () => {
    expect(importError([{ fileName: "dashboards/by-name.json", text: byName("gdev-influx", []) }], STACK).problems).toEqual([
      'dashboards/by-name.json: datasource "gdev-influx" (panel "P1") is no datasource of this stack (prometheus "Prometheus", elasticsearch "Elasticsearch logs", ' +
        'elasticsearch "Elasticsearch log failures"), and a name does not say its type; it has no query to tell its type by (no PromQL "expr", no Elasticsearch ' +
        '"bucketAggs"/"metrics"). Give the reference as {"type": "prometheus"} or {"type": "elasticsearch"} (the importer points it at this stack\'s datasource ' +
        "of that type), use the exported-for-sharing form (${DS_...} with __inputs), or rename it to one of this stack's datasources",
    ]);
    // Another datasource's queries (InfluxDB's) tell nothing either.
    expect(() => importByName(byName("gdev-influx", [{ refId: "A", query: "SELECT mean(value) FROM cpu", rawQuery: true }]))).toThrow(
      /datasource "gdev-influx" \(panel "P1"\) is no datasource of this stack.*it has no query to tell its type by/,
    );
  });

  test("one name used for PromQL and Elasticsearch queries is refused, naming both", () => {
    expect(() => importByName(byName("mixed-up", [{ refId: "A", expr: "up" }], [esTarget]))).toThrow(
      /datasource "mixed-up" \(panel "P1", panel "P2"\).*its queries show prometheus and elasticsearch at once, and one name is one datasource: panel "P1" query A \(PromQL "expr"\), panel "P2" query A \(Elasticsearch "bucketAggs"\/"metrics"\)/,
    );
  });

  test("LogQL kept in expr (Loki) is not taken for PromQL", () => {
    expect(() => importByName(byName("gdev-loki", [{ refId: "A", expr: '{app="x"} |= "error"' }]))).toThrow(
      /datasource "gdev-loki" \(panel "P1"\).*its queries do not tell its type: panel "P1" query A has an "expr" that may be LogQL \(a "\|" pipeline or line filter\)/,
    );
    expect(() => importByName(byName("gdev-loki", [{ refId: "A", expr: 'sum(rate({app="x"}[5m]))' }]))).toThrow(
      /may be LogQL \(a selector without a metric name/,
    );
  });

  test("the LogQL signs: pipes, line filters and stream selectors; PromQL's nameless selectors carry __name__", () => {
    expect(logqlSign('{app="x"} |= "error"')).toBeDefined();
    expect(logqlSign('{app="x"} != "debug"')).toBeDefined();
    expect(logqlSign('count_over_time({app="x"} | json | level="error" [5m])')).toBeDefined();
    expect(logqlSign('rate({app="x"}[5m])')).toBeDefined();
    for (const promql of [
      'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle", instance=~"$node"}[$__rate_interval]))',
      'increase({__name__=~"prometheus_.*_total", instance=~"$instance"}[${aggregation_interval}])',
      'up{job="a|b"} or up{job=~"[[job]]"}',
      'label_replace(up, "dst", "$1", "src", "(.*)") != 0',
      '{"my.utf8.metric", job="x"}',
    ])
      expect([promql, logqlSign(promql)]).toEqual([promql, undefined]);
  });

  test("a name typed by a variable query or an annotation, and a switched-off type leaves the dashboard out", () => {
    const text = JSON.stringify({
      uid: "by-name",
      title: "By name",
      panels: [],
      templating: { list: [{ name: "host", type: "query", datasource: "old-es", query: '{"find": "terms", "field": "host.name"}' }] },
      annotations: { list: [{ name: "Deploys", datasource: "old-es", query: "tags:deploy", timeField: "@timestamp", textField: "message" }] },
    });
    const [dashboard] = importByName(text);
    expect(templating(dashboard)[0].datasource).toEqual(OUR_ELASTICSEARCH);
    expect((dashboard.model.annotations as Json).list[0].datasource).toEqual(OUR_ELASTICSEARCH);
    expect(importByName(text, { prometheus: STACK.prometheus }, ["elasticsearch"])).toEqual([]);
  });
});

describe("all the good fixtures together", () => {
  test("import with distinct uids and no placeholder left", () => {
    const names = ["exported-for-sharing.json", "old-style-names.json", "type-only.json", "builtin-and-variable.json", "nested-rows.json"];
    const imported = importDashboards(names.map(fixture), DATASOURCES);
    expect(imported.map((dashboard) => dashboard.uid)).toEqual(["shared-node", "old-style", "type-only", "builtin-variable", "nested-rows"]);
    for (const dashboard of imported) {
      expect(JSON.stringify(dashboard.model)).not.toContain("${DS_");
      expect(dashboard.model).not.toHaveProperty("__inputs");
      expect(dashboard.model).not.toHaveProperty("__requires");
    }
  });
});
