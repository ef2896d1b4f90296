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

/** What of the stack dashboards may show: the stack's name, its environment and its logs stage. */
export interface DashboardStack {
  stack: string;
  environment: string;
  logs: Pick<LogsConfig, "enabled" | "dataStream" | "kibanaPublicUrl">;
}

/**
 * Hidden textbox or constant variables a dashboard may define to show this stack's own: links to its Kibana
 * (dashboards/logs-performance.json: the Slowest requests links open Kibana Discover), and its environment
 * (dashboards/slo.json: where several environments' recorded SLO series meet, in a metrics backend Grafana
 * records them into, each carrying `environment`, the panels take this one's). The import fills them with
 * this stack's values.
 */
export const STACK_VARIABLES = { kibanaUrl: "kibana_url", kibanaDataView: "kibana_data_view", environment: "stack_environment" } as const;

/**
 * The values of STACK_VARIABLES for a stack: its environment (the `environment` label the SLO series carry
 * in a shared backend: components/slo/slo-rules.ts SloScope, central-stack.ts); its Kibana public URL
 * (logs.external.kibanaUrl for an external cluster, config.ts) and its data view id (elastic-bodies.ts
 * logsNaming, the id KibanaConfiguration makes the data view with and the stack output kibanaDataViewId),
 * those two not when the logs stage is off.
 */
export function stackVariableValues(target: DashboardStack | undefined): Record<string, string> {
  if (!target) return {};
  return {
    [STACK_VARIABLES.environment]: target.environment,
    ...(target.logs.enabled
      ? {
          [STACK_VARIABLES.kibanaUrl]: target.logs.kibanaPublicUrl,
          [STACK_VARIABLES.kibanaDataView]: logsNaming(target.stack, target.logs.dataStream).dataViewId,
        }
      : {}),
  };
}

/**
 * Import every dashboard below `directory`; a bad file stops the program with a message naming it. With
 * `stack`, the STACK_VARIABLES take that stack's values.
 */
export function loadDashboards(directory: string, datasources: DatasourceMap, switchedOff: string[] = [], stack?: DashboardStack): ImportedDashboard[] {
  return stopOnProblems(() => importDashboards(readDashboardFiles(directory), datasources, switchedOff, stackVariableValues(stack)));
}
