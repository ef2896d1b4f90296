/**
 * Verify a deployed stack: `npm run verify -- --stack <name> [--outputs <file>] [--central-outputs <file>]
 * [--wait <duration>] [--notify] [--json]`.
 *
 * Reads the stack's outputs (`pulumi stack output --json --show-secrets --stack <name>`, or --outputs <file>)
 * and what only the program's offline plan knows (the catalog's log services, Filebeat's output, the shipped
 * dashboards, datasources, contact points and SLO rules: scripts/lib/plan.ts, as the preflight gets it), then
 * asks the live Prometheus, Grafana, Elasticsearch and Kibana whether each promise of the stack holds,
 * asking again for up to --wait (default 5m: a fresh stack's first scrapes and log lines) before a check
 * fails. One line per check, ok / warn / FAIL with the fix, or SKIP with why it could not run; exits 0 when
 * nothing failed, 1 when something did, 2 on usage. --json prints the report as JSON instead. No secret of
 * the outputs is ever printed. --notify sends a test notification through each contact point (never by default).
 * Environment: ATRA_CENTRAL_OUTPUTS (an agent's central outputs file, as --central-outputs), ATRA_GRAFANA_TOKEN and
 * ATRA_ELASTIC_API_KEY (logins for an external Grafana / Elasticsearch, which the outputs do not carry),
 * NODE_EXTRA_CA_CERTS (a stack CA to trust).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { collectArtifacts, planStack } from "./lib/plan";
import { readProjectName, readStackFile } from "./lib/stack-file";
import { flaggedSecretKeys, Outputs, parseOutputs, planFacts, PlanArtifact, PlanFacts } from "./lib/verify/inputs";
import { currentEnvironment, resolvePulumiCli } from "./lib/verify/pulumi-cli";
import { formatJson, formatReport } from "./lib/verify/report";
import { runVerify } from "./lib/verify/run";

const PROJECT_DIR = path.resolve(__dirname, "..");
const USAGE =
  "usage: npm run verify -- --stack <name> [--outputs <file>] [--central-outputs <file>] [--plan <dir of npm run plan>] [--config-dir <dir>] [--wait <e.g. 5m, 30s, 0>] [--interval <e.g. 5s>] [--notify] [--json]\n" +
  "       npm run verify -- --print-pulumi   (the Pulumi CLI command deploy uses, one word a line)";

export interface VerifyArgs {
  stack?: string;
  outputs?: string;
  centralOutputs?: string;
  plan?: string;
  configDir: string;
  waitMs: number;
  intervalMs: number;
  notify: boolean;
  json: boolean;
  printPulumi: boolean;
}

export class UsageError extends Error {}

/** `90`, `90s`, `5m`, `1h`, `250ms` -> ms. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value ?? "");
  if (!match) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected a duration like 30s, 5m or 0`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

export function parseArgs(argv: string[]): VerifyArgs {
  const args: VerifyArgs = { configDir: PROJECT_DIR, waitMs: 300_000, intervalMs: 5000, notify: false, json: false, printPulumi: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === "--stack" || flag === "-s") args.stack = value();
    else if (flag === "--outputs") args.outputs = value();
    else if (flag === "--central-outputs") args.centralOutputs = value();
    else if (flag === "--plan") args.plan = value();
    else if (flag === "--config-dir") args.configDir = path.resolve(value());
    else if (flag === "--wait") args.waitMs = parseDuration(value(), "--wait");
    else if (flag === "--interval") args.intervalMs = Math.max(50, parseDuration(value(), "--interval"));
    else if (flag === "--notify") args.notify = true;
    else if (flag === "--json") args.json = true;
    else if (flag === "--print-pulumi") args.printPulumi = true;
    else if (flag === "--help" || flag === "-h") throw new UsageError("");
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (!args.printPulumi && !args.stack) throw new UsageError("missing --stack <name> (one of the Pulumi.<name>.yaml files)");
  return args;
}

/** The stack's outputs from the Pulumi CLI (never printed: they hold the passwords). */
function pulumiOutputs(stack: string): Outputs {
  const cli = resolvePulumiCli(currentEnvironment(PROJECT_DIR));
  const env: NodeJS.ProcessEnv = { ...process.env, ...cli.env };
  // As deploy.sh: the dev stack's secrets are encrypted with an empty passphrase unless one is set.
  if (stack === "dev" && env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE) env.PULUMI_CONFIG_PASSPHRASE = "";
  const [command, ...prefix] = cli.command;
  let out: string;
  try {
    out = execFileSync(command, [...prefix, "stack", "output", "--json", "--show-secrets", "--stack", stack], {
      cwd: PROJECT_DIR,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 600_000,
    });
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(
      `cannot read the outputs of stack ${stack} with ${cli.note}: ${(failure.stderr ?? failure.message).trim().split("\n")[0]}; or give them: --outputs <file>`,
      { cause: error },
    );
  }
  return parseOutputs(out, `pulumi stack output --stack ${stack}`);
}

async function readPlan(args: VerifyArgs): Promise<PlanArtifact[]> {
  if (args.plan) {
    const root = path.resolve(args.plan);
    if (!fs.existsSync(path.join(root, "resources.json")))
      throw new Error(`--plan ${args.plan}: no resources.json there; write one with npm run plan -- --stack <name> --out <dir>`);
    const files: PlanArtifact[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else files.push({ path: path.relative(root, full).split(path.sep).join("/"), content: fs.readFileSync(full, "utf8") });
      }
    };
    walk(root);
    return files;
  }
  const stack = args.stack as string;
  const stored = readStackFile(args.configDir, stack, readProjectName(PROJECT_DIR));
  return collectArtifacts((await planStack(PROJECT_DIR, stack, { config: stored })).run);
}

async function main(): Promise<number> {
  let args: VerifyArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message === "") {
        console.log(USAGE);
        return 0;
      }
      console.error(`verify: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args.printPulumi) {
    const cli = resolvePulumiCli(currentEnvironment(PROJECT_DIR));
    console.error(`verify: using ${cli.note}`);
    console.log([...Object.entries(cli.env).map(([key, value]) => `env:${key}=${value}`), ...cli.command].join("\n"));
    return 0;
  }
  const stack = args.stack as string;
  let outputs: Outputs;
  let centralOutputs: Outputs | undefined;
  let facts: PlanFacts;
  const secretKeys: string[] = [];
  // ATRA_CENTRAL_OUTPUTS: the central stack's outputs for an agent stack, when --central-outputs is not given (deploy.sh passes either).
  const centralFile = args.centralOutputs ?? (process.env.ATRA_CENTRAL_OUTPUTS || undefined);
  try {
    const readOutputs = (file: string) => {
      const content = fs.readFileSync(file, "utf8");
      secretKeys.push(...flaggedSecretKeys(content));
      return parseOutputs(content, file);
    };
    outputs = args.outputs ? readOutputs(args.outputs) : pulumiOutputs(stack);
    if (centralFile) centralOutputs = readOutputs(centralFile);
    facts = planFacts(await readPlan(args));
  } catch (error) {
    console.error(`verify: ${(error as Error).message}\nverify: nothing was checked`);
    return 1;
  }
  if (!args.json) console.error(`verify: asking stack "${stack}"'s services (a failing check is asked again for up to ${args.waitMs / 1000} s)`);
  const report = await runVerify({
    stack,
    outputs,
    facts,
    centralOutputs,
    secretKeys,
    notify: args.notify,
    waitMs: args.waitMs,
    intervalMs: args.intervalMs,
  });
  console.log(args.json ? formatJson(report) : formatReport(report));
  return report.ok ? 0 : 1;
}

if (require.main === module || process.argv[1] === __filename) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
