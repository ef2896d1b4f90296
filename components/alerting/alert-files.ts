/** Reads the alert rule files from disk and translates them; the only I/O around the pure modules. */
import * as fs from "fs";
import * as path from "path";
import { stopOnProblems } from "../lib/problems";
import { GrafanaRuleGroup, toGrafanaRuleGroups, TranslationContext } from "./grafana-rules";
import { parseRuleFiles, RuleFile } from "./rule-files";

/** The `*.yml`/`*.yaml` files directly in `directory` (its `tests/` folder holds promtool tests, not rules). */
export function readRuleFiles(directory: string): RuleFile[] {
  if (!fs.existsSync(directory)) return [];
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({
      fileName: path.relative(path.dirname(directory), path.join(directory, name)),
      text: fs.readFileSync(path.join(directory, name), "utf8"),
    }));
}

/** Every rule group below `directory` as Grafana rule groups; a bad file stops the program with every problem listed. */
export function loadAlertRuleGroups(directory: string, context: TranslationContext): GrafanaRuleGroup[] {
  return stopOnProblems(() => toGrafanaRuleGroups(parseRuleFiles(readRuleFiles(directory)), context));
}
