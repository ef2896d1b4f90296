import { parser as promqlParser } from "@prometheus-io/lezer-promql";

/**
 * The queries of a dashboard model, by datasource type: PromQL expressions (panel targets, rows'
 * nested panels too, and query variables) for the Prometheus checks, and Elasticsearch targets
 * and variables for the Elasticsearch checks. A target's datasource is its own, else its panel's;
 * a reference without a type is Prometheus: `null` or absent is the default datasource (ours is
 * Prometheus), a variable reference (`$datasource`) is read by the checks as Prometheus, and a name has
 * become a typed reference on import (components/grafana/dashboard-import.ts, or the file is refused).
 */
export interface DashboardQuery {
  where: string;
  expr: string;
}

type DatasourceRef = { type?: string; uid?: string } | string | null | undefined;

interface Target {
  expr?: string;
  refId?: string;
  datasource?: DatasourceRef;
  [key: string]: unknown;
}

interface Panel {
  title?: string;
  type?: string;
  datasource?: DatasourceRef;
  panels?: Panel[];
  targets?: Target[];
}

interface Variable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: DatasourceRef;
  [key: string]: unknown;
}

export interface DashboardModel {
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** The plugin type a datasource reference points at. */
export function datasourceType(ref: DatasourceRef): string {
  return typeof ref === "object" && ref !== null && typeof ref.type === "string" ? ref.type : "prometheus";
}

interface FoundTarget {
  where: string;
  panel: Panel;
  target: Target;
  type: string;
}

function allTargets(model: DashboardModel): FoundTarget[] {
  const found: FoundTarget[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        const type = datasourceType(target.datasource ?? panel.datasource);
        found.push({ where: `panel "${panel.title}" ${target.refId ?? ""}`.trim(), panel, target, type });
      }
      walk(panel.panels);
    }
  };
  walk(model.panels);
  return found;
}

/** Every PromQL expression: Prometheus targets and Prometheus query variables (what a real Prometheus can run). */
export function dashboardQueries(model: DashboardModel): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const { where, target, type } of allTargets(model)) {
    if (type === "prometheus" && target.expr) queries.push({ where, expr: target.expr });
  }
  for (const variable of model.templating?.list ?? []) {
    if (variable.type !== "query" || datasourceType(variable.datasource) !== "prometheus") continue;
    const query = typeof variable.query === "string" ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    if (query) queries.push({ where: `variable $${variable.name}`, expr: query });
  }
  return queries;
}

/** Grafana-only functions in variable queries (`label_values(...)`) are not PromQL. */
export function isGrafanaVariableFunction(expr: string): boolean {
  return /^\s*(label_values|label_names|metrics|query_result)\s*\(/.test(expr);
}

/**
 * The PromQL inside a variable query of Grafana's Prometheus datasource: `label_values(selector, label)`
 * and `label_names(selector)` hold a series selector, `query_result(expr)` an expression; `label_values(label)`,
 * `label_names()` and `metrics(regex)` hold none (undefined). A plain expression is itself.
 */
export function promqlOfVariableQuery(expr: string): string | undefined {
  const call = /^\s*(label_values|label_names|metrics|query_result)\s*\(([\s\S]*)\)\s*$/.exec(expr);
  if (!call) return expr;
  const [, fn, args] = call;
  if (fn === "query_result") return args;
  if (fn === "metrics") return undefined;
  if (fn === "label_names") return args.trim() === "" ? undefined : args;
  // label_values(selector, label) or label_values(label): the label is the last argument, after the last top-level comma.
  let depth = 0;
  let quote: string | undefined;
  let lastComma = -1;
  for (let i = 0; i < args.length; i++) {
    const char = args[i];
    if (quote) {
      if (char === "\\") i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === "`") quote = char;
    else if ("({[".includes(char)) depth++;
    else if (")}]".includes(char)) depth--;
    else if (char === "," && depth === 0) lastComma = i;
  }
  return lastComma < 0 ? undefined : args.slice(0, lastComma);
}

/**
 * Grafana's template variable syntax, as its interpolation matches it (grafana/grafana
 * `public/app/features/variables/utils.ts`, `variableRegex`): `$name`, `[[name]]`, `[[name:format]]`,
 * `${name}`, `${name.path}`, `${name:format}` (formats with arguments too: `${__from:date:seconds}`).
 */
const GRAFANA_VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** A reference to a name the dashboard does not define, left in the text; `from`/`to` are offsets in the result. */
export interface UnknownReference {
  name: string;
  text: string;
  from: number;
  to: number;
}

/**
 * Replace Grafana's template variables with concrete values. A name without a value is left as it is, as
 * Grafana leaves it (grafana/grafana public/app/features/templating/template_srv.ts, `replace` →
 * `_evaluateVariableExpression`: no variable and no macro of that name returns the match unchanged), and
 * reported in `missing` (names) and `unknown` (where it sits in the result).
 */
export function substituteVariables(expr: string, values: Record<string, string>): { expr: string; missing: string[]; unknown: UnknownReference[] } {
  const missing: string[] = [];
  const unknown: UnknownReference[] = [];
  let result = "";
  let last = 0;
  for (const match of expr.matchAll(GRAFANA_VARIABLE)) {
    const [whole, a, b, , c] = match;
    const name = (a ?? b ?? c) as string;
    result += expr.slice(last, match.index);
    last = match.index + whole.length;
    if (Object.prototype.hasOwnProperty.call(values, name)) {
      result += values[name];
      continue;
    }
    missing.push(name);
    unknown.push({ name, text: whole, from: result.length, to: result.length + whole.length });
    result += whole;
  }
  return { expr: result + expr.slice(last), missing, unknown };
}

/**
 * The spans of PromQL's `label_replace` replacement arguments (the third), where `$1`, `${1}` and `$name`
 * are the regex's capture groups: Prometheus expands them with Go's `regexp.ExpandString` (prometheus/prometheus
 * promql/functions.go, `funcLabelReplace`). A `$name` Grafana leaves there (no such variable) is such a reference.
 */
export function labelReplaceReplacements(expr: string): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.name !== "FunctionCall" || node.node.getChild("FunctionIdentifier")?.getChild("LabelReplace") == null) return;
      const body = node.node.getChild("FunctionCallBody");
      const args: { name: string; from: number; to: number }[] = [];
      for (let child = body?.firstChild; child; child = child.nextSibling) if (!child.type.isError) args.push(child);
      if (args[2]?.name === "StringLiteral") spans.push({ from: args[2].from, to: args[2].to });
    },
  });
  return spans;
}

/**
 * Grafana's global variables, with values of the shape Grafana gives them (durations for the interval
 * ones, milliseconds or seconds for the `_ms`/`_s` ones and the time range, text for the rest).
 */
export const GRAFANA_GLOBAL_VARIABLES: Readonly<Record<string, string>> = {
  // Substituted by Grafana's Prometheus backend (grafana/grafana pkg/promlib/models/query.go, InterpolateVariables).
  __interval: "15s",
  __interval_ms: "15000",
  __rate_interval: "1m",
  __rate_interval_ms: "60000",
  __range: "3600s",
  __range_s: "3600",
  __range_ms: "3600000",
  // The frontend's: the time range (template_srv.ts updateIndex), the dashboard, user and org (scenes
  // macros), and the search text of a variable query (public/app/features/variables/utils.ts, SEARCH_FILTER_VARIABLE).
  __from: "1700000000000",
  __to: "1700003600000",
  __dashboard: "dashboard",
  __name: "name",
  __org: "1",
  __user: "user",
  __timezone: "utc",
  __searchFilter: ".*",
};

const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;

/** The current value of a variable as a single string, when it has a usable one. */
function currentValue(variable: Variable): string | undefined {
  const current = variable.current as { value?: unknown } | undefined;
  const value = Array.isArray(current?.value) ? current?.value[0] : current?.value;
  return typeof value === "string" && value !== "" && value !== "$__all" && !value.startsWith("$__auto") ? value : undefined;
}

/** The options of a custom or interval variable: `a, b, c` or `text : value` pairs, as Grafana splits them. */
function listOptions(query: unknown): string[] {
  if (typeof query !== "string") return [];
  return query
    .split(/(?<!\\),/)
    .map((option) => option.trim())
    .filter(Boolean)
    .map((option) => (/\s:\s/.test(option) ? option.split(/\s:\s/)[1].trim() : option));
}

/**
 * Values for every variable of a dashboard, built from its own `templating.list` (the way Grafana would
 * fill them: the current value, else the first option), plus Grafana's global variables. Query and text
 * variables without a value get a label-like sample; interval variables a duration; datasource
 * variables their datasource uid (they never appear inside PromQL).
 */
export function templateValues(model: DashboardModel): Record<string, string> {
  const values: Record<string, string> = { ...GRAFANA_GLOBAL_VARIABLES };
  for (const variable of model.templating?.list ?? []) {
    const current = currentValue(variable);
    const options = listOptions(variable.query);
    switch (variable.type) {
      case "interval": {
        const candidates = [current, ...options].filter((value): value is string => value !== undefined && DURATION.test(value));
        values[variable.name] = candidates[0] ?? "1m";
        // With auto on, Grafana also fills $__auto_interval_<name>.
        values[`__auto_interval_${variable.name}`] = "1m";
        break;
      }
      case "custom":
        values[variable.name] = current ?? options[0] ?? "sample";
        break;
      case "constant":
        values[variable.name] = typeof variable.query === "string" ? variable.query : "";
        break;
      case "textbox":
        values[variable.name] = current ?? (typeof variable.query === "string" && variable.query !== "" ? variable.query : "sample");
        break;
      case "datasource":
        values[variable.name] = current ?? "datasource";
        break;
      case "adhoc":
        // Ad hoc filters are added to the selectors by Grafana; the name itself never appears in a query.
        break;
      default:
        values[variable.name] = current ?? "sample";
    }
  }
  return values;
}

/** Every datasource reference of a model, with where it is (`panels[2].targets[0]`). */
export function datasourceReferences(model: unknown): { where: string; ref: unknown }[] {
  const found: { where: string; ref: unknown }[] = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, `${where}[${index}]`));
    else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "datasource") found.push({ where, ref: value });
        walk(value, where ? `${where}.${key}` : key);
      }
    }
  };
  walk(model, "");
  return found;
}

const BUILT_IN_REFS = new Set(["-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "__expr__"]);

/**
 * Datasource references that would not resolve in Grafana: each must carry one of our uids (with its
 * type), name a variable of the dashboard, or be a built-in pseudo datasource.
 */
export function unresolvedDatasourceReferences(model: DashboardModel, ours: Record<string, { uid: string; type?: string }>): string[] {
  const variables = new Set((model.templating?.list ?? []).map((variable) => variable.name));
  const problems: string[] = [];
  for (const { where, ref } of datasourceReferences(model)) {
    const uid = typeof ref === "string" ? ref : typeof ref === "object" && ref !== null ? (ref as { uid?: unknown }).uid : undefined;
    const type = typeof ref === "object" && ref !== null ? (ref as { type?: unknown }).type : undefined;
    if (typeof uid !== "string" || uid === "") {
      problems.push(`${where}: ${JSON.stringify(ref)} has no uid`);
      continue;
    }
    const variable = /^(?:\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\])$/.exec(uid);
    if (variable) {
      const name = variable[1] ?? variable[2] ?? variable[3];
      if (!variables.has(name)) problems.push(`${where}: refers to $${name}, which the dashboard does not define`);
      continue;
    }
    if (BUILT_IN_REFS.has(uid)) continue;
    const owner = Object.entries(ours).find(([, ds]) => ds.uid === uid);
    if (!owner) problems.push(`${where}: uid ${JSON.stringify(uid)} is not a datasource of this stack`);
    else if (typeof type === "string" && type !== (owner[1].type ?? owner[0]))
      problems.push(`${where}: uid ${uid} is our ${owner[1].type ?? owner[0]} datasource, not ${type}`);
  }
  return problems;
}

/**
 * The generic checks every dashboard under `dashboards/` must pass, shipped or added: every datasource
 * reference resolves, and every PromQL query (panel targets, Prometheus variable queries) parses once the
 * dashboard's own variables and Grafana's built-ins are substituted. What Grafana would send is what is
 * parsed: a `$name` the dashboard does not define stays in the query, as Grafana leaves it (see
 * substituteVariables). Outside a string that breaks the PromQL and is reported with the parse error. Inside
 * `label_replace`'s replacement it is a capture group (`"$1"`) and fine. Inside any other string the query
 * parses but matches the literal `$name`, never what was meant, so it is reported too.
 * Returns the problems and how many queries were parsed.
 */
export function genericDashboardProblems(
  model: DashboardModel,
  ours: Record<string, { uid: string; type?: string }>,
  parse: (expr: string) => string[],
): { problems: string[]; queriesParsed: number } {
  const problems = unresolvedDatasourceReferences(model, ours);
  const values = templateValues(model);
  let queriesParsed = 0;
  for (const query of dashboardQueries(model)) {
    const promql = promqlOfVariableQuery(query.expr);
    if (promql === undefined) continue;
    const { expr, unknown } = substituteVariables(promql, values);
    const undefinedNames = (refs: UnknownReference[]) => [...new Set(refs.map((ref) => ref.text))].join(", ");
    const errors = parse(expr);
    queriesParsed++;
    if (errors.length > 0) {
      const left = unknown.length > 0 ? `; ${undefinedNames(unknown)} left as Grafana leaves a name the dashboard does not define` : "";
      problems.push(`${query.where}: not valid PromQL once variables are substituted (${errors.join("; ")}${left}): ${expr}`);
      continue;
    }
    const captures = labelReplaceReplacements(expr);
    const literal = unknown.filter((ref) => !captures.some((span) => span.from < ref.from && ref.to < span.to));
    if (literal.length > 0) {
      problems.push(
        `${query.where}: uses ${undefinedNames(literal)}, which the dashboard does not define; Grafana sends it as it is, so the query matches that literal text`,
      );
    }
  }
  return { problems, queriesParsed };
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch

/** A target of Grafana's Elasticsearch datasource (Lucene query editor), as far as the checks read it. */
export interface ElasticsearchTarget {
  refId?: string;
  query?: unknown;
  alias?: unknown;
  timeField?: unknown;
  metrics?: { id?: unknown; type?: unknown; field?: unknown; settings?: Record<string, unknown> }[];
  bucketAggs?: { id?: unknown; type?: unknown; field?: unknown; settings?: Record<string, unknown> }[];
  [key: string]: unknown;
}

export interface FoundElasticsearchTarget {
  where: string;
  panelType: string;
  target: ElasticsearchTarget;
}

export function elasticsearchTargets(model: DashboardModel): FoundElasticsearchTarget[] {
  return allTargets(model)
    .filter((found) => found.type === "elasticsearch")
    .map((found) => ({ where: found.where, panelType: found.panel.type ?? "", target: found.target as ElasticsearchTarget }));
}

export function elasticsearchVariables(model: DashboardModel): Variable[] {
  return (model.templating?.list ?? []).filter((variable) => variable.type === "query" && datasourceType(variable.datasource) === "elasticsearch");
}

/** Metric types of Grafana 12's Elasticsearch query model that need no field / that read one. */
const METRICS_WITHOUT_FIELD = new Set(["count", "logs", "raw_data", "raw_document"]);
const METRICS_WITH_FIELD = new Set(["avg", "sum", "min", "max", "extended_stats", "percentiles", "cardinality", "rate"]);
const BUCKET_TYPES = new Set(["terms", "filters", "date_histogram", "histogram"]);

/**
 * Problems with one Elasticsearch target: the shape Grafana's Elasticsearch datasource runs (a
 * Lucene `query`, `metrics` and `bucketAggs` with unique string ids and string settings, the time
 * field), only the known fields, and a Lucene query that parses. Template variables in the query
 * are substituted with the values given first.
 */
export function elasticsearchTargetProblems(
  target: ElasticsearchTarget,
  fields: { time: string; known: string[] },
  variables: Record<string, string>,
): string[] {
  const problems: string[] = [];
  const known = new Set(fields.known);
  if (typeof target.refId !== "string" || target.refId === "") problems.push("no refId");
  if (target.timeField !== fields.time) problems.push(`timeField is ${JSON.stringify(target.timeField)}, not "${fields.time}"`);
  if (typeof target.query !== "string") problems.push("query is not a Lucene string");
  else {
    const { expr, missing } = substituteVariables(target.query, variables);
    if (missing.length > 0) problems.push(`query uses unknown variables ${missing.join(", ")}`);
    problems.push(...luceneProblems(expr, known));
  }
  const metrics = Array.isArray(target.metrics) ? target.metrics : [];
  const buckets = Array.isArray(target.bucketAggs) ? target.bucketAggs : undefined;
  if (metrics.length === 0) problems.push("no metrics");
  if (!buckets) problems.push("no bucketAggs array");
  const ids = [...metrics, ...(buckets ?? [])].map((agg) => agg.id);
  if (ids.some((id) => typeof id !== "string" || !/^\d+$/.test(id))) problems.push(`aggregation ids must be numeric strings: ${JSON.stringify(ids)}`);
  if (new Set(ids).size !== ids.length) problems.push(`aggregation ids repeat: ${JSON.stringify(ids)}`);

  for (const metric of metrics) {
    const type = String(metric.type);
    if (METRICS_WITH_FIELD.has(type)) {
      if (typeof metric.field !== "string" || !known.has(metric.field)) problems.push(`metric ${type} reads unknown field ${JSON.stringify(metric.field)}`);
    } else if (!METRICS_WITHOUT_FIELD.has(type)) {
      problems.push(`unknown metric type ${JSON.stringify(metric.type)}`);
    }
    problems.push(...stringSettings(`metric ${type}`, metric.settings));
  }
  const documentMetric = metrics.find((metric) => ["logs", "raw_data", "raw_document"].includes(String(metric.type)));
  if (documentMetric) {
    // Grafana sends these as a plain search: alone, without bucket aggregations.
    if (metrics.length !== 1) problems.push(`a ${String(documentMetric.type)} query must have that one metric only`);
    if ((buckets ?? []).length > 0) problems.push(`a ${String(documentMetric.type)} query takes no bucket aggregations`);
  }
  (buckets ?? []).forEach((bucket, index) => {
    const type = String(bucket.type);
    if (!BUCKET_TYPES.has(type)) problems.push(`unknown bucket aggregation ${JSON.stringify(bucket.type)}`);
    if (type !== "filters" && (typeof bucket.field !== "string" || !known.has(bucket.field))) {
      problems.push(`bucket ${type} on unknown field ${JSON.stringify(bucket.field)}`);
    }
    problems.push(...stringSettings(`bucket ${type}`, bucket.settings));
    if (type === "date_histogram") {
      if (bucket.field !== fields.time) problems.push(`date_histogram on ${JSON.stringify(bucket.field)}, not the time field`);
      // Grafana builds a time series only from a date_histogram that is the innermost (last) bucket.
      if (index !== (buckets ?? []).length - 1) problems.push("the date_histogram must be the last bucket aggregation");
    }
    if (type === "terms") {
      const settings = bucket.settings ?? {};
      if (!["asc", "desc"].includes(String(settings.order))) problems.push(`terms order ${JSON.stringify(settings.order)} is not asc or desc`);
      const orderBy = String(settings.orderBy);
      if (!["_count", "_term", "_key"].includes(orderBy) && !metrics.some((metric) => metric.id === orderBy)) {
        problems.push(`terms orderBy ${JSON.stringify(settings.orderBy)} is neither _count/_term nor a metric id`);
      }
      if (!/^\d+$/.test(String(settings.size)) || Number(settings.size) < 1)
        problems.push(`terms size ${JSON.stringify(settings.size)} is not a positive number`);
    }
  });
  return problems;
}

/**
 * Grafana's Elasticsearch editor stores every setting as a string (`"auto"`, `"10"`, `"500"`), and a list
 * setting as a list of strings (Percentiles `settings.percents?: string[]`, grafana/grafana
 * public/app/plugins/datasource/elasticsearch/dataquery.gen.ts).
 */
function stringSettings(what: string, settings: Record<string, unknown> | undefined): string[] {
  return Object.entries(settings ?? {})
    .filter(([, value]) => typeof value !== "string" && !(Array.isArray(value) && value.every((item) => typeof item === "string")))
    .map(([key, value]) => `${what} setting ${key} is ${JSON.stringify(value)}, not a string`);
}

/**
 * A small Lucene query-string check: balanced quotes and parentheses, `field:` only on known fields,
 * boolean operators in capitals, no operator dangling at an end or next to another.
 */
export function luceneProblems(query: string, knownFields: Set<string>): string[] {
  const problems: string[] = [];
  // Drop escaped characters and quoted phrases, keeping a placeholder term.
  let rest = query.replace(/\\./g, "x");
  const quotes = (rest.match(/"/g) ?? []).length;
  if (quotes % 2 !== 0) return [`unbalanced quotes in ${JSON.stringify(query)}`];
  rest = rest.replace(/"[^"]*"/g, "x");

  let depth = 0;
  for (const char of rest) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (depth < 0) break;
  }
  if (depth !== 0) problems.push(`unbalanced parentheses in ${JSON.stringify(query)}`);

  for (const match of rest.matchAll(/([A-Za-z_@][\w.@]*)\s*:/g)) {
    if (!knownFields.has(match[1])) problems.push(`unknown field ${match[1]} in ${JSON.stringify(query)}`);
  }
  if (/\b(and|or|not)\b/.test(rest.replace(/[\w.@]+\s*:\s*[^\s()]+/g, "x"))) problems.push(`lowercase boolean operator in ${JSON.stringify(query)}`);
  const tokens = rest.replace(/[()]/g, " ").trim().split(/\s+/).filter(Boolean);
  const operators = new Set(["AND", "OR", "NOT"]);
  if (tokens.length === 0) problems.push("empty query (use * for all)");
  if (tokens.length > 0 && ["AND", "OR"].includes(tokens[0])) problems.push(`query starts with ${tokens[0]}`);
  if (tokens.length > 0 && operators.has(tokens[tokens.length - 1])) problems.push(`query ends with ${tokens[tokens.length - 1]}`);
  for (let i = 1; i < tokens.length; i++) {
    if (["AND", "OR"].includes(tokens[i]) && operators.has(tokens[i - 1])) problems.push(`${tokens[i - 1]} ${tokens[i]} in ${JSON.stringify(query)}`);
  }
  if (/:\s*($|[)\s])/.test(rest)) problems.push(`a field without a value in ${JSON.stringify(query)}`);
  return problems;
}
