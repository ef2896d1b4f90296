/**
 * The SSH forwards of a stack on an `ssh://` Docker host, opened for `npm run deploy` (scripts/deploy.sh):
 * `node scripts/run-ts.js scripts/tunnels.ts --stack <name> --log <file> [--config-dir <dir>] [--timeout <seconds>]`.
 *
 * Reads the stack config as the program does, works out the forwards (scripts/lib/tunnels.ts: one per
 * provider URL on this machine's loopback, to the service's published port on the Docker host), starts one
 * ssh for all of them and waits, bounded, until each listens. Then prints ssh's PID on stdout (the only
 * thing it prints there) and exits 0, leaving ssh running for the deploy, which stops it by that PID. Prints
 * nothing on stdout when the stack needs no forward (not an ssh:// host, or every provider URL names another
 * host). On failure, or on SIGINT/SIGTERM while the forwards open, ssh is stopped before it exits (1, 130, 143).
 */
import * as path from "path";
import { readProjectName, readStackFile } from "./lib/stack-file";
import { rawConfigFromStore } from "../components/config/pulumi-config";
import { resolveStackConfig } from "../components/config/resolve";
import { dockerHostInUse } from "../components/docker/host";
import { DEFAULT_OPEN_TIMEOUT_MS, describeForwards, openTunnel, tunnelPlan } from "./lib/tunnels";

const PROJECT_DIR = path.resolve(__dirname, "..");
const USAGE = "usage: node scripts/run-ts.js scripts/tunnels.ts --stack <name> --log <file for ssh's messages> [--config-dir <dir>] [--timeout <seconds>]";

function parseArgs(argv: string[]): { stack: string; log: string; configDir: string; timeoutMs: number } {
  let stack: string | undefined;
  let log: string | undefined;
  let configDir = PROJECT_DIR;
  let timeoutMs = DEFAULT_OPEN_TIMEOUT_MS;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--stack") stack = value();
    else if (flag === "--log") log = value();
    else if (flag === "--config-dir") configDir = path.resolve(value());
    else if (flag === "--timeout") {
      const seconds = Number(value());
      if (!(seconds > 0)) usage("--timeout takes a number of seconds above 0");
      timeoutMs = seconds * 1000;
    } else usage(`unknown argument ${argv[i]}`);
  }
  if (!stack || !log) usage("--stack and --log are required");
  return { stack: stack as string, log: log as string, configDir, timeoutMs };
}

function usage(message: string): never {
  console.error(`tunnels: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let plan;
  try {
    const stored = readStackFile(args.configDir, args.stack, readProjectName(PROJECT_DIR));
    const { config } = resolveStackConfig(rawConfigFromStore(args.stack, stored.config, stored.secretKeys));
    plan = tunnelPlan(config, dockerHostInUse(args.stack, config.dockerHost).host);
  } catch (error) {
    console.error(`deploy: ${(error as Error).message}`);
    process.exit(1);
  }
  if (!plan) return;
  for (const direct of plan.direct) console.error(`deploy: ${direct.key} ${direct.url} is reached directly (not this machine's loopback: no forward)`);
  if (plan.forwards.length === 0) return;

  const controller = new AbortController();
  let exitCode = 1;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      exitCode = code;
      controller.abort();
    });
  }
  console.error(`deploy: opening SSH forwards to ${plan.dockerHost} for the providers:\n  ${describeForwards(plan).join("\n  ")}`);
  try {
    const pid = await openTunnel(plan, { logFile: args.log, timeoutMs: args.timeoutMs, signal: controller.signal });
    console.error(`deploy: the forwards listen (ssh PID ${pid}); they are closed when the deploy ends`);
    console.log(String(pid));
  } catch (error) {
    console.error(`deploy: ${(error as Error).message}`);
    process.exit(exitCode);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
