/**
 * The SLO rule structure before per-service groups (one short and one long group for the whole
 * catalog), kept runnable for the benchmark: the `components/` tree of the last commit with that
 * structure, extracted with `git archive` into a temp dir (beside a link to node_modules) and loaded
 * from there, so the old renderer runs with the modules it was written against.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The last commit whose components/slo/slo-rules.ts renders the two catalog-wide groups. */
export const OLD_STRUCTURE_COMMIT = "90920b95de9aacc2d0fe1cd2e70d0b9a7a976f96";

interface OldSloModule {
  sloDefinitions: (services: readonly unknown[]) => unknown[];
  renderSloRuleFile: (slos: readonly unknown[], evaluationInterval: string) => string;
}

/** The old renderer, or why it is not available (a shallow clone without that commit). */
export function loadOldStructure(projectDir: string, into: string): OldSloModule | string {
  const dir = path.join(into, "old-structure");
  fs.mkdirSync(dir, { recursive: true });
  try {
    const archive = execFileSync("git", ["-C", projectDir, "archive", OLD_STRUCTURE_COMMIT, "components"], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
  } catch (error) {
    return `commit ${OLD_STRUCTURE_COMMIT.slice(0, 12)} is not in this clone (${(error as Error).message.split("\n")[0]})`;
  }
  fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
  // Loaded by the TypeScript hook of scripts/run-ts.js, as the rest of the bench (a path known only now).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(dir, "components/slo/slo-rules.ts")) as OldSloModule;
}
