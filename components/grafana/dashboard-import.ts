/**
 * Turns dashboard JSON files (as exported from Grafana or downloaded from grafana.com) into the
 * dashboards we manage, doing what Grafana's import dialog does: datasource placeholders
 * (`__inputs`, `${DS_PROMETHEUS}`), datasource references by name or without a uid, all pointed at our
 * datasources; the file's uid kept (or derived from the file name). Pure: files in, objects out.
 */
import { createHash } from "crypto";

export interface DashboardFile {
  /** Shown in errors; also the source of a derived uid. */
  fileName: string;
  text: string;
}

/** Our datasources by plugin type (e.g. `prometheus`), each with its fixed uid and its name. */
export type DatasourceMap = Record<string, { uid: string; name: string }>;

export interface ImportedDashboard {
  fileName: string;
  uid: string;
  title: string;
  /** The dashboard model to send to Grafana. */
  model: Record<string, unknown>;
}

export class DashboardImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`Dashboards could not be imported:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "DashboardImportError";
  }
}

/** Grafana's limit on a dashboard uid. */
const MAX_UID_LENGTH = 40;
/** Datasource references that name Grafana's built-in pseudo datasources or a dashboard variable: left alone. */
const BUILT_IN_DATASOURCES = new Set(["-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana", "datasource"]);

/**
 * `switchedOff` names datasource types a stack can have but does not have now (the logs stage
 * switched off): dashboards that need one are left out rather than refused.
 */
export function importDashboards(files: DashboardFile[], datasources: DatasourceMap, switchedOff: string[] = []): ImportedDashboard[] {
  const problems: string[] = [];
  const imported: ImportedDashboard[] = [];
  for (const file of files) {
    const result = importOne(file, datasources, switchedOff);
    if (typeof result === "string") problems.push(result);
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

function importOne(file: DashboardFile, datasources: DatasourceMap, switchedOff: string[]): ImportedDashboard | string | undefined {
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

  const unresolved = new Set<string>();
  const model = resolveNode(parsed, replacements, datasources, unresolved) as Record<string, unknown>;
  if (unresolved.size > 0) {
    return `${file.fileName}: placeholders with no matching __inputs entry: ${[...unresolved].map((name) => "${" + name + "}").join(", ")}`;
  }

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
  return { fileName: file.fileName, uid, title: parsed.title, model };
}

/** A uid from the file name: readable when it fits, shortened with a hash of the name when it does not. */
export function uidFromFileName(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, "").replace(/\.json$/i, "");
  const slug = base.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "dashboard";
  if (slug.length <= MAX_UID_LENGTH) return slug;
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 8);
  return `${slug.slice(0, MAX_UID_LENGTH - 9)}-${hash}`;
}

const PLACEHOLDER = /\$\{(DS_[A-Za-z0-9_]+|VAR_[A-Za-z0-9_]+)\}/g;

function resolveNode(node: unknown, replacements: Map<string, string>, datasources: DatasourceMap, unresolved: Set<string>): unknown {
  if (typeof node === "string") return replacePlaceholders(node, replacements, unresolved);
  if (Array.isArray(node)) return node.map((item) => resolveNode(item, replacements, datasources, unresolved));
  if (!isObject(node)) return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    result[key] = key === "__inputs" ? value : resolveNode(value, replacements, datasources, unresolved);
  }
  if ("datasource" in result) result.datasource = resolveDatasourceRef(result.datasource, datasources);
  return result;
}

function replacePlaceholders(text: string, replacements: Map<string, string>, unresolved: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = replacements.get(name);
    if (value === undefined) {
      unresolved.add(name);
      return whole;
    }
    return value;
  });
}

/**
 * Grafana accepts a datasource as a name (old dashboards), as {type, uid}, or as {type} alone.
 * Names and missing uids are pointed at our datasource of that type; a reference with a real
 * uid, a dashboard variable (`$datasource`) or a built-in pseudo datasource is kept as it is.
 */
function resolveDatasourceRef(ref: unknown, datasources: DatasourceMap): unknown {
  if (typeof ref === "string") {
    if (ref.startsWith("$") || BUILT_IN_DATASOURCES.has(ref)) return ref;
    // By name (old dashboards), or by uid: a string `${DS_...}` placeholder has already become our uid.
    const byName = Object.entries(datasources).find(([, ds]) => ds.name === ref || ds.uid === ref);
    const [type, target] = byName ?? ["prometheus", datasources.prometheus];
    return target ? { type, uid: target.uid } : ref;
  }
  if (ref === null) {
    // `null` is how old exports say "the default datasource", which is ours.
    return datasources.prometheus ? { type: "prometheus", uid: datasources.prometheus.uid } : ref;
  }
  if (isObject(ref)) {
    const uid = typeof ref.uid === "string" ? ref.uid : "";
    if (uid === "" && typeof ref.type === "string" && datasources[ref.type]) return { ...ref, uid: datasources[ref.type].uid };
  }
  return ref;
}

function describeJsonError(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message);
  if (!position) return `(${error.message})`;
  const offset = Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `at line ${line}, column ${column}: ${error.message.replace(/\s*\(line \d+ column \d+\)/, "")}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
