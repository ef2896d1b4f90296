/** Reads the dashboard files from disk and imports them; the only I/O around the pure importer. */
import * as fs from "fs";
import * as path from "path";
import { stopOnProblems } from "../lib/problems";
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

/** Import every dashboard below `directory`; a bad file stops the program with a message naming it. */
export function loadDashboards(directory: string, datasources: DatasourceMap, switchedOff: string[] = []): ImportedDashboard[] {
  return stopOnProblems(() => importDashboards(readDashboardFiles(directory), datasources, switchedOff));
}
