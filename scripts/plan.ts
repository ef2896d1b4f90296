/**
 * Offline plan: `npm run plan -- --stack <name> [--out <dir>]`.
 * Runs the real program under the mock engine with Pulumi.<stack>.yaml, prints the resource tree
 * and writes every rendered artifact plus resources.json to the out dir (default out/<stack>/).
 * Needs no Pulumi CLI, Docker or network; exits non-zero with the config errors on bad config.
 */
import * as fs from "fs";
import * as path from "path";
import { planStack, PlanResult } from "./lib/plan";
import { stackNameProblem } from "../components/config/stack-name";

const PROJECT_DIR = path.resolve(__dirname, "..");

function parseArgs(argv: string[]): { stack: string; out?: string } {
  let stack: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--stack" || flag === "-s") stack = value();
    else if (flag === "--out") out = value();
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: npm run plan -- --stack <name> [--out <dir>]");
      process.exit(0);
    } else fail(`unknown argument ${arg}; usage: npm run plan -- --stack <name> [--out <dir>]`);
  }
  if (!stack) fail("missing --stack <name> (one of the Pulumi.<name>.yaml files)");
  // The name reaches file names, comments in rendered files and object names: only what Pulumi itself accepts.
  const problem = stackNameProblem(stack as string);
  if (problem) fail(`--stack ${JSON.stringify(stack)}: ${problem}`);
  return { stack: stack as string, out };
}

function fail(message: string): never {
  console.error(`plan: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const outDir = path.resolve(args.out ?? path.join(PROJECT_DIR, "out", args.stack));
  let result: PlanResult;
  try {
    result = await planStack(PROJECT_DIR, args.stack);
  } catch (error) {
    // A bad stack file, config, dashboard or rule file: its problems, and what (not) happened.
    console.error((error as Error).message);
    console.error(`\nnothing was planned for stack "${args.stack}"; no artifact was written${removeEarlierPlan(outDir)}`);
    process.exit(1);
  }
  const count = result.run.resources.length;
  if (count === 0) {
    console.error(`nothing was planned for stack "${args.stack}": the program registered no resource${removeEarlierPlan(outDir)}`);
    process.exit(1);
  }
  writeArtifacts(outDir, result);
  console.log(renderTree(result));
  console.log(
    `\nplanned ${count} resource${count === 1 ? "" : "s"} for stack "${args.stack}" in ${result.elapsedMs.toFixed(0)} ms (offline: nothing was created or changed); ` +
      `artifacts in ${path.relative(process.cwd(), outDir) || "."}/`,
  );
}

/**
 * A failed plan must not leave an earlier plan's artifacts in the out dir, where they would pass for
 * this config's. Only a folder holding an earlier plan (resources.json) is cleared; a user's folder is
 * left alone. Returns what was done, for the message.
 */
function removeEarlierPlan(outDir: string): string {
  if (!fs.existsSync(path.join(outDir, "resources.json"))) return "";
  fs.rmSync(outDir, { recursive: true, force: true });
  return `; the earlier plan in ${path.relative(process.cwd(), outDir) || "."}/ was removed, so no artifact there is out of date`;
}

function writeArtifacts(outDir: string, result: PlanResult): void {
  // Only a folder that holds an earlier plan (or nothing) is cleared: never delete a user's files.
  if (fs.existsSync(outDir)) {
    if (!fs.existsSync(path.join(outDir, "resources.json")) && fs.readdirSync(outDir).length > 0) {
      fail(`${outDir} is not empty and holds no earlier plan; choose another --out`);
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  for (const artifact of result.artifacts) {
    const file = path.join(outDir, artifact.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, artifact.content);
  }
}

function renderTree(result: PlanResult): string {
  const { resources } = result.run;
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const children = new Map<string | undefined, typeof resources>();
  for (const resource of resources) {
    const parent = resource.parent && byUrn.has(resource.parent) ? resource.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), resource]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, indent: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((resource, index) => {
      const last = index === list.length - 1;
      const deps = resource.dependencies.map((urn) => {
        const dependency = byUrn.get(urn);
        return dependency ? `${dependency.type.split(":").pop()}/${dependency.name}` : urn.split("::").pop();
      });
      const flags = [resource.retainOnDelete ? "retained on delete" : "", resource.secretPaths.length ? `secret: ${resource.secretPaths.join(", ")}` : ""]
        .filter(Boolean)
        .join("; ");
      lines.push(
        `${indent}${last ? "└─" : "├─"} ${resource.type}  ${resource.name}` +
          (deps.length ? `  (after: ${deps.join(", ")})` : "") +
          (flags ? `  [${flags}]` : ""),
      );
      walk(resource.urn, indent + (last ? "   " : "│  "));
    });
  };
  walk(undefined, "");
  return lines.join("\n");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
