/**
 * Turns dashboard JSON files (as exported from Grafana or downloaded from grafana.com) into the
 * dashboards we manage, doing what Grafana's import dialog does: datasource placeholders
 * (`__inputs`, `${DS_PROMETHEUS}`), datasource references without a uid, all pointed at our
 * datasources; the file's uid kept (or derived from the file name). Pure: files in, objects out.
 *
 * Beyond the dialog: a datasource template variable (`type: datasource`, e.g. `ds_prometheus`) is kept
 * but its current value is pinned to our datasource of its type, a reference to a datasource uid
 * that is in no stack is an error naming the file and the panel, and a datasource given by a name that
 * is not ours takes the type its queries show, or is an error naming the panels and the fix.
 *
 * Upstream behaviour this follows (grafana/grafana):
 * - `pkg/services/dashboardimport/service/service.go` (`ImportDashboard`) runs
 *   `pkg/services/dashboardimport/utils/dash_template_evaluator.go`: `${NAME}` is replaced only for the
 *   names in `__inputs` (every other string stays as it is), then `__inputs`, `__requires` and
 *   `__elements` are dropped.
 * - `public/app/features/manage-dashboards/import/legacy/actions.ts` (`processInputs`, `importDashboard`):
 *   the dialog asks for one datasource per `__inputs` entry and for constants; it never touches
 *   datasource variables or references that carry a uid.
 * - `apps/dashboard/pkg/migration/schemaversion/datasource_utils.go` (`MigrateDatasourceNameToRef`): an
 *   object reference with a uid is kept even when no such datasource exists ("Unknown name is preserved
 *   as a UID-only ref"), and `public/app/features/plugins/datasource_srv.ts` (`loadDatasource`) then
 *   fails the panel with "Datasource <uid> was not found". So an unknown uid imports fine in Grafana and
 *   breaks every panel that uses it: reported here instead.
 * - A datasource given by *name* (dashboards older than schema 33): Grafana's migration looks the string up
 *   by name, then by uid, and keeps an unknown one as a uid-only reference (`MigrateDatasourceNameToRef` and
 *   `DatasourceIndex.Lookup` in the same `datasource_utils.go`; `migrateDatasourceNameToRef` in
 *   `public/app/features/dashboard/state/DashboardMigrator.ts`), so the panel fails as above. A name carries
 *   no type, and the import API does not look at it (the evaluator only replaces `__inputs`). Here a name of
 *   ours is ours; any other name is pointed at our datasource of the type its queries show (PromQL `expr`
 *   for Prometheus, `bucketAggs`/`metrics` for Elasticsearch), the same type for every use of the name (one
 *   name is one datasource); when the queries do not tell, or tell two types, the file is refused.
 * - grafana/scenes `DataSourceVariable.tsx` lists the datasources of the variable's plugin id as options
 *   `{label: name, value: uid}`; `MultiValueVariable.ts` keeps `current` when it matches an option by
 *   value (or text) and otherwise takes the first option by name, whichever datasource that is.
 * - Stack values (`stackValues`): a `textbox` or `constant` variable of one of those names takes the
 *   stack's value, in `query` and `current` (and `options` when the file lists any). Grafana reads a
 *   textbox's value from `current.value`, falling back to `query`, and a constant's from `query`
 *   (`createSceneVariableFromVariableModel` in
 *   public/app/features/dashboard-scene/serialization/transformSaveModelToScene.ts), so both are set.
 */
import { createHash } from "crypto";
import { ProblemsError } from "../lib/problems";
import { isObject } from "../lib/validators";

export interface DashboardFile {
  /** Shown in errors; also the source of a derived uid. */
  fileName: string;
  text: string;
}

/**
 * Our datasources, each with its fixed uid and its name. Keyed by plugin type (e.g. `prometheus`):
 * that entry is where references by type, by name, `null` and `${DS_...}` inputs point. Further
 * datasources of a type (e.g. the log failure store) carry their `type` under a key of their own and
 * are reached by uid only.
 */
export type DatasourceMap = Record<string, { uid: string; name: string; type?: string }>;

export interface ImportedDashboard {
  fileName: string;
  uid: string;
  title: string;
  /** The dashboard model to send to Grafana. */
  model: Record<string, unknown>;
}

export class DashboardImportError extends ProblemsError {
  constructor(problems: string[]) {
    super("Dashboards", problems);
  }
}

/** Grafana's limit on a dashboard uid. */
const MAX_UID_LENGTH = 40;
/** Datasource references that name Grafana's built-in pseudo datasources or a dashboard variable: left alone. */
const BUILT_IN_DATASOURCES = new Set(["-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "datasource"]);
/** Built-in uids of object references: the pseudo datasources and server-side expressions (`__expr__`, the old `-100`). */
const BUILT_IN_UIDS = new Set([...BUILT_IN_DATASOURCES, "__expr__", "-100"]);
/** A whole-string reference to a dashboard variable: `$name`, `${name}`, `${name:format}`, `[[name]]`. */
const VARIABLE_REFERENCE = /^(?:\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::\w+)?\]\])$/;

/**
 * `switchedOff` names datasource types a stack can have but does not have now (the logs stage
 * switched off): dashboards that need one are left out rather than refused.
 */
export function importDashboards(
  files: DashboardFile[],
  datasources: DatasourceMap,
  switchedOff: string[] = [],
  stackValues: Record<string, string> = {},
): ImportedDashboard[] {
  const problems: string[] = [];
  const imported: ImportedDashboard[] = [];
  for (const file of files) {
    const result = importOne(file, datasources, switchedOff, stackValues);
    if (typeof result === "string") problems.push(result);
    else if (Array.isArray(result)) problems.push(...result);
    else if (result) imported.push(result);
  }
  const byUid = new Map<string, ImportedDashboard>();
  for (const dashboard of imported) {
    const other = byUid.get(dashboard.uid);
    if (other) problems.push(`${dashboard.fileName}: uid "${dashboard.uid}" is also the uid of ${other.fileName}`);
    else byUid.set(dashboard.uid, dashboard);
  }
  if (problems.length > 0) throw new DashboardImportError(problems);
  return imported;
}

/** The dashboard, its problems (one string or several), or undefined when it is left out. */
function importOne(
  file: DashboardFile,
  datasources: DatasourceMap,
  switchedOff: string[],
  stackValues: Record<string, string>,
): ImportedDashboard | string | string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.text);
  } catch (error) {
    return `${file.fileName}: invalid JSON ${describeJsonError(file.text, error as Error)}`;
  }
  if (!isObject(parsed) || (!Array.isArray(parsed.panels) && !Array.isArray(parsed.rows))) {
    return `${file.fileName}: not a dashboard (expected an object with "panels")`;
  }
  if (typeof parsed.title !== "string" || parsed.title.trim() === "") return `${file.fileName}: the dashboard has no "title"`;

  const replacements = new Map<string, string>();
  for (const input of Array.isArray(parsed.__inputs) ? parsed.__inputs : []) {
    if (!isObject(input) || typeof input.name !== "string") continue;
    if (input.type === "datasource") {
      if (switchedOff.includes(String(input.pluginId))) return undefined;
      const target = datasources[String(input.pluginId)];
      if (!target) {
        return `${file.fileName}: input ${input.name} needs a "${String(input.pluginId)}" datasource, and this stack has only ${Object.keys(datasources).join(", ")}`;
      }
      replacements.set(input.name, target.uid);
    } else if (input.type === "constant") {
      replacements.set(input.name, String(input.value ?? ""));
    }
  }

  const variables = templateVariables(parsed);
  const pinned = pinDatasourceVariables(file.fileName, parsed, datasources, switchedOff);
  if (pinned === undefined || Array.isArray(pinned)) return pinned;

  const byName = typesOfNames(pinned, datasources, switchedOff);
  const context: ResolveContext = {
    replacements,
    datasources,
    switchedOff,
    nameTypes: byName.types,
    needsSwitchedOff: byName.needsSwitchedOff,
    variables: new Set(variables.map((v) => v.name)),
    unresolved: new Set(),
    unknownUids: new Map(),
    undefinedVariables: new Map(),
  };
  const model = resolveNode(pinned, context, "the dashboard") as Record<string, unknown>;
  // A reference by uid to a datasource type this stack has switched off (the logs stage): left out, like its inputs.
  if (context.needsSwitchedOff) return undefined;
  const problems: string[] = [...byName.problems];
  if (context.unresolved.size > 0) {
    problems.push(`placeholders with no matching __inputs entry: ${[...context.unresolved].map((name) => "${" + name + "}").join(", ")}`);
  }
  const ours = Object.entries(datasources)
    .map(([type, ds]) => `${type} "${ds.uid}"`)
    .join(", ");
  for (const [uid, places] of context.unknownUids) {
    problems.push(
      `datasource uid "${uid}" (${describePlaces(places)}) is no datasource of this stack (${ours}); Grafana would import it and fail those panels with ` +
        `"Datasource ${uid} was not found". Use the exported-for-sharing form (\${DS_...} with __inputs), drop the uid and keep the type, or use the uid above`,
    );
  }
  for (const [name, places] of context.undefinedVariables) {
    problems.push(`datasource reference $${name} (${describePlaces(places)}) names no variable of the dashboard's templating.list`);
  }
  if (problems.length > 0) return problems.map((problem) => `${file.fileName}: ${problem}`);

  const uid = typeof parsed.uid === "string" && parsed.uid !== "" ? parsed.uid : uidFromFileName(file.fileName);
  if (!/^[a-zA-Z0-9_-]+$/.test(uid) || uid.length > MAX_UID_LENGTH) {
    return `${file.fileName}: uid "${uid}" must be at most ${MAX_UID_LENGTH} letters, digits, - or _`;
  }
  // As Grafana's import does: the export-only keys go, the numeric id and version are Grafana's to assign.
  delete model.__inputs;
  delete model.__requires;
  delete model.__elements;
  delete model.id;
  delete model.version;
  model.uid = uid;
  fillStackValues(model, stackValues);
  return { fileName: file.fileName, uid, title: parsed.title, model };
}

/** Textbox and constant variables named in `values` take the stack's value (see the header). */
function fillStackValues(model: Record<string, unknown>, values: Record<string, string>): void {
  const templating = model.templating;
  if (!isObject(templating) || !Array.isArray(templating.list)) return;
  templating.list = templating.list.map((variable) => {
    if (!isObject(variable) || (variable.type !== "textbox" && variable.type !== "constant") || typeof variable.name !== "string") return variable;
    if (!Object.prototype.hasOwnProperty.call(values, variable.name)) return variable;
    const value = values[variable.name];
    return {
      ...variable,
      query: value,
      current: { text: value, value },
      ...(Array.isArray(variable.options) && variable.options.length > 0 ? { options: [{ selected: true, text: value, value }] } : {}),
    };
  });
}

/** A uid from the file name: readable when it fits, shortened with a hash of the name when it does not. */
export function uidFromFileName(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, "").replace(/\.json$/i, "");
  const slug =
    base
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "dashboard";
  if (slug.length <= MAX_UID_LENGTH) return slug;
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 8);
  return `${slug.slice(0, MAX_UID_LENGTH - 9)}-${hash}`;
}

/** What Grafana's evaluator replaces when the name is an input (`varRegex` in dash_template_evaluator.go). */
const PLACEHOLDER = /\$\{(.+?)\}/g;
/** The names Grafana's exporter gives inputs: left unreplaced, one is a missing input, not a variable. */
const EXPORT_INPUT_NAME = /^(DS|VAR)_[A-Za-z0-9_]+$/;

interface TemplateVariable {
  name: string;
  type: string;
  [key: string]: unknown;
}

function templateVariables(dashboard: Record<string, unknown>): TemplateVariable[] {
  const list = isObject(dashboard.templating) && Array.isArray(dashboard.templating.list) ? dashboard.templating.list : [];
  return list.filter((item): item is TemplateVariable => isObject(item) && typeof item.name === "string" && typeof item.type === "string");
}

/**
 * Datasource variables stay (people may add datasources and switch), but their current value is
 * pinned to ours: left empty, Grafana would pick the first datasource of the type by name, which is
 * ours only while it is the only one. A variable over a type the stack has switched off leaves the
 * dashboard out (undefined); one over a type no stack has, or whose regex hides ours, is a problem.
 */
function pinDatasourceVariables(
  fileName: string,
  dashboard: Record<string, unknown>,
  datasources: DatasourceMap,
  switchedOff: string[],
): Record<string, unknown> | string[] | undefined {
  const templating = dashboard.templating;
  if (!isObject(templating) || !Array.isArray(templating.list)) return dashboard;
  const problems: string[] = [];
  let leftOut = false;
  const list = templating.list.map((variable) => {
    if (!isObject(variable) || variable.type !== "datasource") return variable;
    const pluginId = typeof variable.query === "string" ? variable.query : "";
    if (switchedOff.includes(pluginId)) {
      leftOut = true;
      return variable;
    }
    const target = datasources[pluginId];
    if (!target) {
      problems.push(`variable $${String(variable.name)} lists "${pluginId}" datasources, and this stack has only ${Object.keys(datasources).join(", ")}`);
      return variable;
    }
    const regex = typeof variable.regex === "string" ? variable.regex : "";
    if (regex !== "" && !regex.includes("$") && !nameMatchesGrafanaRegex(target.name, regex)) {
      problems.push(
        `variable $${String(variable.name)} has regex ${JSON.stringify(regex)}, which hides this stack's datasource "${target.name}"; clear the regex`,
      );
      return variable;
    }
    const multi = variable.multi === true;
    return { ...variable, current: { selected: true, text: multi ? [target.name] : target.name, value: multi ? [target.uid] : target.uid } };
  });
  if (leftOut) return undefined;
  if (problems.length > 0) return problems.map((problem) => `${fileName}: ${problem}`);
  return { ...dashboard, templating: { ...templating, list } };
}

/** Grafana's `stringToJsRegex`: `/pattern/flags`, or a plain pattern. */
function nameMatchesGrafanaRegex(name: string, regex: string): boolean {
  try {
    const match = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
    return (match ? new RegExp(match[1], match[2].replace("g", "")) : new RegExp(regex)).test(name);
  } catch {
    return true; // An invalid regex is Grafana's to report; it does not hide ours.
  }
}

interface ResolveContext {
  replacements: Map<string, string>;
  datasources: DatasourceMap;
  switchedOff: string[];
  /** Datasource names (not ours) to the plugin type their queries show: see typesOfNames. */
  nameTypes: Map<string, string>;
  /** Set when a reference by uid, or a name by its queries, needs a switched-off datasource type. */
  needsSwitchedOff: boolean;
  /** Names of the dashboard's template variables. */
  variables: Set<string>;
  unresolved: Set<string>;
  /** Unknown datasource uid to where it is used. */
  unknownUids: Map<string, string[]>;
  undefinedVariables: Map<string, string[]>;
}

/** Where in the dashboard a node is, for messages: the panel's title, the variable's or annotation's name. */
function describeItem(key: string, item: unknown, where: string): string {
  if (!isObject(item)) return where;
  if (key === "panels" || key === "rows")
    return typeof item.title === "string" && item.title !== "" ? `panel "${item.title}"` : `panel id ${String(item.id ?? "?")}`;
  if (key === "targets") return `${where} query ${String(item.refId ?? "")}`.trim();
  if (key === "list" && typeof item.name === "string") return where === "templating" ? `variable $${item.name}` : `annotation "${item.name}"`;
  return where;
}

function describePlaces(places: string[]): string {
  const unique = [...new Set(places)];
  return unique.length <= 3 ? unique.join(", ") : `${unique.slice(0, 3).join(", ")} and ${unique.length - 3} more`;
}

function resolveNode(node: unknown, context: ResolveContext, where: string): unknown {
  if (typeof node === "string") return replacePlaceholders(node, context);
  if (Array.isArray(node)) return node.map((item) => resolveNode(item, context, where));
  if (!isObject(node)) return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "__inputs") result[key] = value;
    else if (Array.isArray(value)) result[key] = value.map((item) => resolveNode(item, context, describeItem(key, item, where)));
    else result[key] = resolveNode(value, context, key === "templating" || key === "annotations" ? key : where);
  }
  if ("datasource" in result) result.datasource = resolveDatasourceRef(result.datasource, context, where);
  return result;
}

function replacePlaceholders(text: string, context: ResolveContext): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = context.replacements.get(name);
    if (value !== undefined) return value;
    // Not an input: a variable reference (`${ds_prometheus}`), kept as Grafana keeps it; one named like an
    // export input that the dashboard does not define as a variable is a missing __inputs entry.
    if (EXPORT_INPUT_NAME.test(name) && !context.variables.has(name)) context.unresolved.add(name);
    return whole;
  });
}

/**
 * Grafana accepts a datasource as a name (old dashboards), as {type, uid}, or as {type} alone.
 * Names and missing uids are pointed at our datasource of that type; a reference to a dashboard
 * variable (`$datasource`, `${ds_prometheus}`) or a built-in pseudo datasource is kept as it is, and
 * so is our own uid. Any other uid is recorded as unknown (and the file reported).
 */
function resolveDatasourceRef(ref: unknown, context: ResolveContext, where: string): unknown {
  const { datasources } = context;
  if (typeof ref === "string") {
    if (ref.startsWith("$") || ref.startsWith("[[")) {
      checkVariableRef(ref, context, where);
      return ref;
    }
    if (BUILT_IN_DATASOURCES.has(ref)) return ref;
    if (ref !== "default") {
      // Ours by name, then by uid, as Grafana's DatasourceIndex.Lookup; a string `${DS_...}` placeholder has
      // already become our uid here.
      const ours = Object.entries(datasources).find(([, ds]) => ds.name === ref) ?? Object.entries(datasources).find(([, ds]) => ds.uid === ref);
      if (ours) return { type: ours[1].type ?? ours[0], uid: ours[1].uid };
      // Any other name: our datasource of the type its queries show (typesOfNames), or left for its reported problem.
      const type = context.nameTypes.get(ref);
      const target = type === undefined ? undefined : datasources[type];
      return target && type ? { type, uid: target.uid } : ref;
    }
  }
  if (ref === null || ref === "default") {
    // `null` is how old exports say "the default datasource", which is ours.
    return datasources.prometheus ? { type: "prometheus", uid: datasources.prometheus.uid } : ref;
  }
  if (isObject(ref)) {
    const uid = typeof ref.uid === "string" ? ref.uid : "";
    if (uid === "") {
      if (typeof ref.type === "string" && datasources[ref.type]) return { ...ref, uid: datasources[ref.type].uid };
      return ref;
    }
    if (uid.startsWith("$") || uid.startsWith("[[")) checkVariableRef(uid, context, where);
    else if (!BUILT_IN_UIDS.has(uid) && !Object.values(datasources).some((ds) => ds.uid === uid)) {
      if (typeof ref.type === "string" && context.switchedOff.includes(ref.type)) context.needsSwitchedOff = true;
      else context.unknownUids.set(uid, [...(context.unknownUids.get(uid) ?? []), where]);
    }
  }
  return ref;
}

// ---------------------------------------------------------------------------------------------
// Datasources given by name

/** What a node's queries say about the plugin type of the datasource they run on. */
interface QueryEvidence {
  /** Undefined when the queries are there but their type cannot be told. */
  type?: string;
  /** The kind of query, for messages (`PromQL "expr"`, `Elasticsearch "bucketAggs"`, or why it is unclear). */
  what: string;
}

/** Grafana's Prometheus variable functions (public/app/plugins/datasource/prometheus, `metricFindQuery`). */
const PROMETHEUS_VARIABLE_FUNCTION = /^\s*(label_values|label_names|metrics|query_result)\s*\(/;
/** Grafana's template variable syntax (public/app/features/variables/utils.ts, `variableRegex`). */
const GRAFANA_VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/**
 * LogQL (Loki) also keeps its query in `expr`, and much of it also parses as PromQL, so an `expr` proves
 * Prometheus only when nothing in it is LogQL's own: a pipe (`|=`, `|~`, `| json`: PromQL has no `|`), a
 * line filter after a selector (`} != "x"`), or a selector without a metric name (LogQL's stream
 * selector `{app="x"}`; PromQL's nameless selectors carry `__name__` or a quoted UTF-8 name). Returns
 * why the expression may be LogQL, or undefined for PromQL.
 */
export function logqlSign(expr: string): string | undefined {
  const text = expr
    .replace(GRAFANA_VARIABLE, "v")
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, "");
  if (text.includes("|")) return 'a "|" pipeline or line filter';
  if (/\}\s*!(=|~)/.test(text)) return "a line filter after the selector";
  for (const match of text.matchAll(/\{([^}]*)\}/g)) {
    const before = text.slice(0, match.index).trimEnd();
    if (/[\w:]$/.test(before)) continue; // metric{...}
    const inside = match[1].trim();
    if (/\b__name__\s*(=|!=|=~|!~)/.test(inside) || /^""\s*(,|$)/.test(inside)) continue;
    return `a selector without a metric name ({${match[1]}}), LogQL's stream selector`;
  }
  return undefined;
}

/** The type of one query object (a target, an annotation, a query variable), or undefined when it holds no query. */
function evidenceOf(node: Record<string, unknown>): QueryEvidence | undefined {
  const elastic =
    Array.isArray(node.bucketAggs) || (Array.isArray(node.metrics) && node.metrics.some((metric) => isObject(metric) && typeof metric.type === "string"));
  const expr = typeof node.expr === "string" && node.expr.trim() !== "" ? node.expr : undefined;
  if (elastic && expr !== undefined) return { what: 'both a PromQL "expr" and Elasticsearch "bucketAggs"/"metrics"' };
  if (elastic) return { type: "elasticsearch", what: 'Elasticsearch "bucketAggs"/"metrics"' };
  if (expr !== undefined) {
    const logql = logqlSign(expr);
    return logql ? { what: `an "expr" that may be LogQL (${logql})` } : { type: "prometheus", what: 'PromQL "expr"' };
  }
  // Variables: Elasticsearch's `{"find": ...}` JSON (public/app/plugins/datasource/elasticsearch, `metricFindQuery`),
  // Prometheus's functions; annotations: Elasticsearch's query with its time/text/tags fields.
  const query = isObject(node.query) && typeof node.query.query === "string" ? node.query.query : node.query;
  if (typeof query === "string") {
    if (node.type === "query" && /^\s*\{\s*"find"\s*:/.test(query)) return { type: "elasticsearch", what: 'an Elasticsearch {"find": ...} variable query' };
    if (node.type === "query" && PROMETHEUS_VARIABLE_FUNCTION.test(query)) return { type: "prometheus", what: "a Prometheus variable query" };
    if (["timeField", "textField", "tagsField"].some((key) => typeof node[key] === "string"))
      return { type: "elasticsearch", what: "an Elasticsearch annotation query" };
  }
  return undefined;
}

/** A datasource given by a name that is not ours: no variable, placeholder, built-in or "default". */
function isForeignName(ref: unknown, datasources: DatasourceMap): ref is string {
  return (
    typeof ref === "string" &&
    ref !== "" &&
    ref !== "default" &&
    !ref.startsWith("$") &&
    !ref.startsWith("[[") &&
    !BUILT_IN_DATASOURCES.has(ref) &&
    !Object.values(datasources).some((ds) => ds.name === ref || ds.uid === ref)
  );
}

/**
 * Every datasource name of the dashboard that is not ours, typed by the queries that run on it: a node's
 * own query (a target, an annotation, a variable), or its targets that inherit it (a panel's targets without
 * a datasource of their own, or with the same name). A name is one datasource in Grafana, so all its uses
 * together must show exactly one type. A name whose type cannot be told, or is told two ways, is a problem
 * naming where it is used and the fix; one whose type the stack has switched off leaves the dashboard out.
 */
function typesOfNames(
  dashboard: Record<string, unknown>,
  datasources: DatasourceMap,
  switchedOff: string[],
): { types: Map<string, string>; problems: string[]; needsSwitchedOff: boolean } {
  const uses = new Map<string, { places: string[]; byType: Map<string, string[]>; unclear: string[] }>();
  const visit = (node: Record<string, unknown>, where: string) => {
    const name = node.datasource;
    if (!isForeignName(name, datasources)) return;
    const use = uses.get(name) ?? { places: [], byType: new Map<string, string[]>(), unclear: [] };
    uses.set(name, use);
    use.places.push(where);
    const record = (evidence: QueryEvidence | undefined, place: string) => {
      if (!evidence) return;
      if (evidence.type === undefined) use.unclear.push(`${place} has ${evidence.what}`);
      else use.byType.set(evidence.type, [...(use.byType.get(evidence.type) ?? []), `${place} (${evidence.what})`]);
    };
    if (Array.isArray(node.targets)) {
      for (const target of node.targets) {
        if (!isObject(target)) continue;
        const own = target.datasource;
        // A target with a datasource of its own is visited as a node itself; only inheriting targets tell the panel's.
        if (own === undefined || own === null || own === name) record(evidenceOf(target), describeItem("targets", target, where));
      }
    } else record(evidenceOf(node), where);
  };
  walkObjects(dashboard, "the dashboard", visit);

  const types = new Map<string, string>();
  const problems: string[] = [];
  let needsSwitchedOff = false;
  const ours = Object.entries(datasources)
    .map(([key, ds]) => `${ds.type ?? key} "${ds.name}"`)
    .join(", ");
  const fix =
    'Give the reference as {"type": "prometheus"} or {"type": "elasticsearch"} (the importer points it at this stack\'s datasource of that type), ' +
    "use the exported-for-sharing form (${DS_...} with __inputs), or rename it to one of this stack's datasources";
  for (const [name, use] of uses) {
    const where = describePlaces(use.places);
    const told = [...use.byType.keys()];
    if (use.unclear.length > 0 || told.length !== 1) {
      const shown = [...use.byType.values()].flat().concat(use.unclear);
      const reason =
        told.length > 1
          ? `its queries show ${told.join(" and ")} at once, and one name is one datasource: ${describePlaces(shown)}`
          : shown.length > 0
            ? `its queries do not tell its type: ${describePlaces(shown)}`
            : 'it has no query to tell its type by (no PromQL "expr", no Elasticsearch "bucketAggs"/"metrics")';
      problems.push(`datasource "${name}" (${where}) is no datasource of this stack (${ours}), and a name does not say its type; ${reason}. ${fix}`);
      continue;
    }
    const [type] = told;
    if (datasources[type]) types.set(name, type);
    else if (switchedOff.includes(type)) needsSwitchedOff = true;
    else problems.push(`datasource "${name}" (${where}) runs ${type} queries, and this stack has only ${Object.keys(datasources).join(", ")}`);
  }
  return { types, problems, needsSwitchedOff };
}

/** Calls `visit` on every object of the model with where it is, described as in messages. */
function walkObjects(node: unknown, where: string, visit: (node: Record<string, unknown>, where: string) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walkObjects(item, where, visit);
    return;
  }
  if (!isObject(node)) return;
  visit(node, where);
  for (const [key, value] of Object.entries(node)) {
    if (key === "__inputs") continue;
    if (Array.isArray(value)) for (const item of value) walkObjects(item, describeItem(key, item, where), visit);
    else walkObjects(value, key === "templating" || key === "annotations" ? key : where, visit);
  }
}

/** A variable reference must name a variable of the dashboard; a leftover `${DS_...}` is reported as a placeholder instead. */
function checkVariableRef(text: string, context: ResolveContext, where: string): void {
  const match = VARIABLE_REFERENCE.exec(text);
  const name = match ? (match[1] ?? match[2] ?? match[3]) : undefined;
  if (!name || context.variables.has(name) || context.unresolved.has(name)) return;
  context.undefinedVariables.set(name, [...(context.undefinedVariables.get(name) ?? []), where]);
}

function describeJsonError(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message);
  // V8 gives no position for an unexpected token, only a quoted excerpt that may span lines: keep it on one line.
  if (!position) return `(${error.message.replace(/\s*\n\s*/g, " ")})`;
  const offset = Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `at line ${line}, column ${column}: ${error.message.replace(/\s*\(line \d+ column \d+\)/, "")}`;
}
