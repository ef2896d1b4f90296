/**
 * Alert rule files in the Prometheus rule-file format (`groups:` of `rules:` with `alert`, `expr`,
 * `for`, `labels`, `annotations`), read and checked as a whole. Pure: the caller supplies the file
 * texts. Every problem is reported at once, each naming its file, group and rule.
 */
import { ProblemsError } from "../lib/problems";
import * as yaml from "js-yaml";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { evaluationIntervalProblem, isObject, isPrometheusDuration, LABEL_NAME } from "../lib/validators";
import { templateProblems } from "./grafana-rules";

export const SEVERITIES = ["critical", "warning", "info"] as const;

export interface RuleFile {
  /** Shown in errors, e.g. `alerts/host.yml`. */
  fileName: string;
  text: string;
}

export interface AlertRuleSource {
  alert: string;
  expr: string;
  /** Prometheus duration; "0s" when the file sets none. */
  for: string;
  keepFiringFor?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AlertGroupSource {
  fileName: string;
  name: string;
  /** The group's own interval, if it sets one. */
  interval?: string;
  rules: AlertRuleSource[];
}

export interface RuleFileIssue {
  fileName: string;
  group?: string;
  rule?: string;
  message: string;
}

export class RuleFileError extends ProblemsError {
  constructor(readonly issues: RuleFileIssue[]) {
    super(
      "Alert rule files",
      issues.map((issue) => `${where(issue)}: ${issue.message}`),
    );
  }
}

function where(issue: RuleFileIssue): string {
  return [issue.fileName, issue.group && `group "${issue.group}"`, issue.rule && `rule "${issue.rule}"`].filter(Boolean).join(", ");
}

const GROUP_KEYS = ["name", "interval", "rules", "labels"];
const RULE_KEYS = ["alert", "expr", "for", "keep_firing_for", "labels", "annotations"];
/** Valid Prometheus fields that Grafana-managed rules cannot honour: refused rather than silently dropped. */
const UNSUPPORTED_GROUP_KEYS: Record<string, string> = {
  limit: "Grafana-managed rule groups have no series limit",
  query_offset: "Grafana-managed rules have no query offset",
};
/** Grafana caps rule titles at 190 characters. */
const MAX_ALERT_NAME = 190;

/** Parse and check every file; throws RuleFileError listing every problem. */
export function parseRuleFiles(files: RuleFile[]): AlertGroupSource[] {
  const issues: RuleFileIssue[] = [];
  const groups = files.flatMap((file) => parseRuleFile(file, issues));

  // Every group lands in one Grafana folder, where a rule group is keyed by its name (the provider's
  // id is folder and name: terraform-provider-grafana resource_alerting_rule_group.go), so group names
  // must be unique, and differ from the groups the stack builds in code. Alert names need not be:
  // Prometheus allows repeats (the node-exporter mixin's warning/critical pairs), Grafana has allowed
  // repeated titles since grafana/grafana#102067, and uids do not derive from the name alone
  // (ruleFileUids). A repeated group is reported once, naming every file that has it, blaming none.
  const filesOf = new Map<string, string[]>();
  for (const group of groups) filesOf.set(group.name, [...(filesOf.get(group.name) ?? []), group.fileName]);
  for (const [name, fileNames] of filesOf) {
    // The stack's groups also take `<name>:<shard>` and `atra-slo-*` names (components/alerting/rule-shards.ts, components/slo).
    if (RESERVED_GROUP_NAMES.includes(name) || RESERVED_GROUP_NAMES.some((own) => name.startsWith(`${own}:`)) || name.startsWith("atra-slo-")) {
      issues.push({
        fileName: fileNames[0],
        group: name,
        message: `group name "${name}" is the stack's own (${RESERVED_GROUP_NAMES.join(", ")}, their "<name>:<n>" shards and atra-slo-*): rename the group`,
      });
    } else if (fileNames.length > 1) {
      issues.push({
        fileName: [...new Set(fileNames)].join(" and "),
        group: name,
        message: `group name used ${fileNames.length} times; Grafana keys a rule group by its name within the alert folder: rename all but one`,
      });
    }
  }
  if (issues.length > 0) throw new RuleFileError(issues);
  return groups;
}

/** Rule groups the stack builds in code (log alerts, SLO burn rates, datasource alerts), in the same folder. */
export const RESERVED_GROUP_NAMES: readonly string[] = ["atra-logs", "atra-slo", "atra-datasources"];

function parseRuleFile(file: RuleFile, issues: RuleFileIssue[]): AlertGroupSource[] {
  const fileName = file.fileName;
  let document: unknown;
  try {
    document = yaml.load(file.text, { filename: fileName });
  } catch (error) {
    const mark = (error as yaml.YAMLException).mark;
    const reason = (error as yaml.YAMLException).reason ?? (error as Error).message;
    issues.push({ fileName, message: `is not valid YAML${mark ? ` (line ${mark.line + 1}, column ${mark.column + 1})` : ""}: ${reason}` });
    return [];
  }
  if (!isObject(document) || !Array.isArray(document.groups)) {
    issues.push({ fileName, message: "must be a mapping with a `groups:` list (Prometheus rule-file format)" });
    return [];
  }
  for (const key of Object.keys(document).filter((key) => key !== "groups")) issues.push({ fileName, message: `unknown top-level field "${key}"` });

  const groups: AlertGroupSource[] = [];
  document.groups.forEach((rawGroup, index) => {
    if (!isObject(rawGroup) || typeof rawGroup.name !== "string" || rawGroup.name.trim() === "") {
      issues.push({ fileName, message: `groups[${index}] needs a non-empty \`name\`` });
      return;
    }
    const group = rawGroup.name;
    const at = (message: string, rule?: string) => issues.push({ fileName, group, rule, message });
    for (const key of Object.keys(rawGroup).filter((key) => !GROUP_KEYS.includes(key))) {
      at(UNSUPPORTED_GROUP_KEYS[key] ? `field "${key}" is not supported: ${UNSUPPORTED_GROUP_KEYS[key]}` : `unknown field "${key}"`);
    }
    const interval = optionalDuration(rawGroup.interval, "interval", at);
    // The same rule as alerting.evaluationInterval: a non-zero multiple of Grafana's 10 s tick.
    const intervalProblem = interval === undefined ? undefined : evaluationIntervalProblem(interval);
    if (intervalProblem) at(`interval ${intervalProblem}`);
    const groupLabels = stringMap(rawGroup.labels, "labels", at);
    if (!Array.isArray(rawGroup.rules) || rawGroup.rules.length === 0) {
      at("needs a non-empty `rules:` list");
      return;
    }
    const rules: AlertRuleSource[] = [];
    rawGroup.rules.forEach((rawRule, ruleIndex) => {
      const rule = parseRule(rawRule, ruleIndex, (message, name) => at(message, name));
      if (rule) rules.push({ ...rule, labels: { ...groupLabels, ...rule.labels } });
    });
    groups.push({ fileName, name: group, interval, rules });
  });
  return groups;
}

function parseRule(raw: unknown, index: number, at: (message: string, rule?: string) => void): AlertRuleSource | undefined {
  if (!isObject(raw)) {
    at(`rules[${index}] must be a mapping`);
    return undefined;
  }
  if (raw.record !== undefined) {
    at(`rules[${index}] is a recording rule ("${String(raw.record)}"); only alerting rules are supported here: put recording rules in Prometheus`);
    return undefined;
  }
  if (typeof raw.alert !== "string" || raw.alert.trim() === "") {
    at(`rules[${index}] needs an \`alert\` name`);
    return undefined;
  }
  const alert = raw.alert;
  const problem = (message: string) => at(message, alert);
  let ok = true;
  const fail = (message: string) => {
    ok = false;
    problem(message);
  };
  if (alert.length > MAX_ALERT_NAME) fail(`alert name is longer than ${MAX_ALERT_NAME} characters`);
  for (const key of Object.keys(raw).filter((key) => !RULE_KEYS.includes(key))) fail(`unknown field "${key}"`);

  const expr = typeof raw.expr === "string" ? raw.expr.trim() : typeof raw.expr === "number" ? String(raw.expr) : "";
  if (expr === "") fail("needs an `expr`");
  else for (const error of promqlErrors(expr)) fail(`expr is not valid PromQL: ${error}`);

  const forDuration = optionalDuration(raw.for, "for", fail) ?? "0s";
  const keepFiringFor = optionalDuration(raw.keep_firing_for, "keep_firing_for", fail);
  const labels = stringMap(raw.labels, "labels", fail);
  const annotations = stringMap(raw.annotations, "annotations", fail);
  for (const name of Object.keys(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) fail(`label name "${name}" is not valid (letters, digits, _; not starting with __)`);
  }
  const severity = labels.severity;
  if (severity === undefined) fail(`needs labels.severity (one of ${SEVERITIES.join(", ")})`);
  else if (!(SEVERITIES as readonly string[]).includes(severity)) fail(`severity "${severity}" is not one of ${SEVERITIES.join(", ")}`);
  if (!annotations.summary?.trim()) fail("needs annotations.summary");
  for (const [kind, map] of [
    ["labels", labels],
    ["annotations", annotations],
  ] as const) {
    for (const [name, text] of Object.entries(map)) for (const templateProblem of templateProblems(text)) fail(`${kind}.${name} ${templateProblem}`);
  }
  return ok ? { alert, expr, for: forDuration, keepFiringFor, labels, annotations } : undefined;
}

function optionalDuration(value: unknown, field: string, fail: (message: string) => void): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !isPrometheusDuration(value)) {
    fail(`${field} must be a Prometheus duration such as 5m or 1h`);
    return undefined;
  }
  return value;
}

function stringMap(value: unknown, field: string, fail: (message: string) => void): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    fail(`${field} must be a mapping of names to strings`);
    return {};
  }
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "string" || typeof item === "number" || typeof item === "boolean") result[key] = String(item);
    else fail(`${field}.${key} must be a string`);
  }
  return result;
}

/** Where the Prometheus project's own PromQL grammar gives up, if anywhere. */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`syntax error at character ${node.from}: "${expr.slice(Math.max(0, node.from - 12), node.from + 12)}"`);
    },
  });
  return errors;
}
