/**
 * A throw-away copy of the program in a temp folder, as a user's checkout would be after adding a
 * dashboard, a rule file or a stack file: the real index.ts, stack files and components (linked), with
 * `dashboards/`, `alerts/` and `scripts/` copied so files can be dropped in and `npm run plan` runs
 * there. Planned with the real offline plan.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { PlanResult } from "../../scripts/lib/plan";

export const PROJECT_DIR = path.resolve(__dirname, "../..");
/** Shared real-world fixtures, beside the clone (CI has ../shared there too). */
export const SHARED_FIXTURES = path.resolve(PROJECT_DIR, "..", "shared", "fixtures");
export const NODE_EXPORTER_FULL = path.join(SHARED_FIXTURES, "dashboards", "node-exporter-full.json");

export interface ProjectCopy {
  dir: string;
  /** Put a file into the copy (path relative to the project root). */
  add(relativePath: string, content: string): string;
  remove(): void;
}

export function copyProject(): ProjectCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-project-"));
  for (const name of fs.readdirSync(PROJECT_DIR)) {
    if (/^(index\.ts|Pulumi\..*yaml|package\.json|tsconfig\.json)$/.test(name)) fs.copyFileSync(path.join(PROJECT_DIR, name), path.join(dir, name));
  }
  for (const name of ["components", "node_modules", "docs"]) fs.symlinkSync(path.join(PROJECT_DIR, name), path.join(dir, name));
  // Copied, not linked: a script or a dashboard resolves the project folder from its own path.
  for (const name of ["dashboards", "alerts", "scripts"]) fs.cpSync(path.join(PROJECT_DIR, name), path.join(dir, name), { recursive: true });
  return {
    dir,
    add(relativePath, content) {
      const file = path.join(dir, relativePath);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      return file;
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The offline plan of a stack of the copy, in a fresh module registry (one Pulumi runtime per run). */
export async function planCopy(copy: ProjectCopy, stack: string): Promise<PlanResult> {
  let result: PlanResult | undefined;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { planStack } = require("../../scripts/lib/plan") as typeof import("../../scripts/lib/plan");
    result = await planStack(copy.dir, stack);
  });
  return result as PlanResult;
}

/** `npm run plan -- <args>` in the copy, as a user runs it: the real CLI in a child process. */
export function runPlanCli(copy: ProjectCopy, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(copy.dir, "scripts/run-ts.js"), path.join(copy.dir, "scripts/plan.ts"), ...args], {
    cwd: copy.dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The Node Exporter Full export, or a failure that says where it was looked for. */
export function readNodeExporterFull(): string {
  if (!fs.existsSync(NODE_EXPORTER_FULL)) {
    throw new Error(`${NODE_EXPORTER_FULL} is missing: the shared fixtures must sit beside the clone (../shared/fixtures)`);
  }
  return fs.readFileSync(NODE_EXPORTER_FULL, "utf8");
}
