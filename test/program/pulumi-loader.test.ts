/**
 * `pulumi up` cannot run here, but the way it loads a TypeScript program can: this runs the
 * program through the same ts-node registration (type checking on) and plans the dev stack.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { planIsolated, PROJECT_DIR } from "../support/plan";

test("the program type-checks and runs under the TypeScript loader that `pulumi up` uses", async () => {
  const result = spawnSync(process.execPath, [path.join(__dirname, "../support/plan-under-pulumi-loader.js"), PROJECT_DIR, "dev"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const loaded = JSON.parse(result.stdout.trim().split("\n").pop() as string) as { loader: string; resources: number };
  expect(loaded.loader).toContain("ts-node");
  expect(loaded.resources).toBe((await planIsolated("dev")).run.resources.length);
});
