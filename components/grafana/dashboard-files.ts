/** Reads the dashboard files from disk and imports them; the only I/O around the pure importer. */
import * as fs from "fs";
import * as path from "path";
import { stopOnProblems } from "../lib/problems";
import { logsNaming } from "../logs/elastic-bodies";
import type { LogsConfig } from "../logs/config";
import { DashboardFile, DatasourceMap, ImportedDashboard, importDashboards } from "./dashboard-import";

/** Every `*.json` file below a folder, sorted so the plan and the diff are stable. */
export function readDashboardFiles(directory: string): DashboardFile[] {
  if (!fs.existsSync(directory)) return [];
  const files: DashboardFile[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".json")) {
        files.push({ fileName: path.relative(path.dirname(directory), full), text: fs.readFileSync(full, "utf8") });
      }
    }
  };
  walk(directory);
  return files;
}

/** What of the stack dashboards may show: the stack's name and its logs stage. */
export interface DashboardStack {
  stack: string;
  logs: Pick<LogsConfig, "enabled" | "dataStream" | "kibanaPublicUrl">;
}

/**
 * Hidden textbox variables a dashboard may define to link to this stack's Kibana (dashboards/logs-performance.json:
 * the Slowest requests links open Kibana Discover); the import fills them with this stack's values.
 */
export const STACK_VARIABLES = { kibanaUrl: "kibana_url", kibanaDataView: "kibana_data_view" } as const;

/**
 * The values of STACK_VARIABLES for a stack: its Kibana public URL (logs.external.kibanaUrl for an external
 * cluster, config.ts) and its data view id (elastic-bodies.ts logsNaming, the id KibanaConfiguration makes the
 * data view with and the stack output kibanaDataViewId). None when the logs stage is off.
 */
export function stackVariableValues(target: DashboardStack | undefined): Record<string, string> {
  if (!target?.logs.enabled) return {};
  return {
    [STACK_VARIABLES.kibanaUrl]: target.logs.kibanaPublicUrl,
    [STACK_VARIABLES.kibanaDataView]: logsNaming(target.stack, target.logs.dataStream).dataViewId,
  };
}

/**
 * Import every dashboard below `directory`; a bad file stops the program with a message naming it. With
 * `stack`, the STACK_VARIABLES take that stack's values.
 */
export function loadDashboards(directory: string, datasources: DatasourceMap, switchedOff: string[] = [], stack?: DashboardStack): ImportedDashboard[] {
  return stopOnProblems(() => importDashboards(readDashboardFiles(directory), datasources, switchedOff, stackVariableValues(stack)));
}
