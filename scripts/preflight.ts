/**
 * Preflight: `npm run preflight -- --stack <name> [--probe-image <image>]`.
 * Asks the stack's Docker host (`dockerHost`, else DOCKER_HOST, else the local socket; a set
 * DOCKER_CONTEXT is refused, as the program refuses it: components/docker/host.ts) what would
 * make `pulumi up` fail half-way or deploy a stack that silently misses data: Engine API version,
 * node-exporter's root mount propagation, its listen address and the firewall path to it from the
 * stack's network, the application networks, the published ports, vm.max_map_count, that every host
 * path a planned container binds exists (Filebeat's log directories: Docker refuses a missing bind
 * source at create); and what would
 * make every `up` change the stack (log options, network options, swap limits stored otherwise than
 * sent), and a warning on an Engine before 28 for ports published on 127.0.0.1. Prints every
 * check that passed and each problem with its fix; exits 1 when anything would fail (2 on usage).
 * Reads the stack config as the program does (the offline plan of the real program), and removes
 * every container and network it made, also on SIGINT/SIGTERM.
 * TLS (docs/tls.md), before asking the host: a provided certificate (`tls.mode: provided`) must name
 * publicHostname, match its key and verify up to tls.caCertificate (or this machine's roots), and the
 * Grafana provider's URL must be a name the server certificate carries (scripts/lib/preflight/tls.ts). The
 * provided chain and key are read decrypted from the Pulumi CLI, only into this process.
 */
import * as path from "path";
import { planStack } from "./lib/plan";
import { readProjectName, readStackFile } from "./lib/stack-file";
import { rawConfigFromStore } from "../components/config/pulumi-config";
import { resolveStackConfig } from "../components/config/resolve";
import { dockerHostInUse, emptyPassphraseProblem, refusePlainTcp } from "../components/docker/host";
import { ProblemsError } from "../components/lib/problems";
import { CONFIG_NAMESPACE } from "../components/lib/config-keys";
import { CheckResult, formatReport, PREFLIGHT_LABEL } from "./lib/preflight/checks";
import { DockerCli } from "./lib/preflight/docker-cli";
import { runPreflight } from "./lib/preflight/run";
import { readSecretConfig, TlsSecrets, tlsPreflightResults } from "./lib/preflight/tls";
import { currentEnvironment, resolvePulumiCli } from "./lib/verify/pulumi-cli";

const PROJECT_DIR = path.resolve(__dirname, "..");
const USAGE =
  "usage: npm run preflight -- --stack <name> [--probe-image <image>] [--config-dir <dir with Pulumi.<name>.yaml>] [--print-host (print the stack's Docker host and exit)]";

function parseArgs(argv: string[]): { stack: string; probeImage?: string; configDir: string; printHost: boolean } {
  let stack: string | undefined;
  let probeImage: string | undefined;
  let configDir = PROJECT_DIR;
  let printHost = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--stack" || flag === "-s") stack = value();
    else if (flag === "--probe-image") probeImage = value();
    else if (flag === "--config-dir") configDir = path.resolve(value());
    else if (flag === "--print-host") printHost = true;
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${arg}`);
  }
  if (!stack) usage("missing --stack <name> (one of the Pulumi.<name>.yaml files)");
  return { stack: stack as string, probeImage, configDir, printHost };
}

function usage(message: string): never {
  console.error(`preflight: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const project = readProjectName(PROJECT_DIR);
  let stored: ReturnType<typeof readStackFile>;
  let config;
  let resources;
  try {
    stored = readStackFile(args.configDir, args.stack, project);
    // The same reader and resolver as the program (components/config/pulumi-config.ts): the same errors.
    config = resolveStackConfig(rawConfigFromStore(args.stack, stored.config, stored.secretKeys)).config;
    // The host `pulumi up` will use, by the program's own rule; a set DOCKER_CONTEXT is refused here as
    // there, since it would send `up` to another daemon than the one checked (components/docker/host.ts).
    const host = dockerHostInUse(args.stack, config.dockerHost);
    refusePlainTcp(args.stack, host, config.dockerTls !== undefined);
    // The dev stack's empty passphrase is refused on a remote host (components/docker/host.ts emptyPassphraseProblem).
    const passphrase = emptyPassphraseProblem(args.stack, host.host, process.env, stored.secretsProvider);
    if (passphrase) throw new ProblemsError(`Secrets of stack "${args.stack}"`, [passphrase]);
    if (args.printHost) {
      console.log(host.description);
      process.exit(0);
    }
    resources = (await planStack(PROJECT_DIR, args.stack, { config: stored })).run.resources;
  } catch (error) {
    console.error((error as Error).message);
    if (!args.printHost) console.error("preflight: nothing was checked on the Docker host");
    process.exit(1);
  }

  const tlsResults = tlsPreflightResults(config, config.tls.mode === "provided" ? await providedSecrets(args.stack, args.configDir) : undefined);

  const docker = new DockerCli(config.dockerHost, undefined, config.dockerTls && "certPath" in config.dockerTls ? config.dockerTls.certPath : undefined);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\npreflight: ${signal}: removing what it created on the Docker host`);
      docker.abortAndCleanupSync();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
  console.error(`preflight: asking ${docker.host}; what it creates is labelled ${PREFLIGHT_LABEL}=${docker.runId} and removed at the end`);
  const report = await runPreflight({ config, resources, probeImage: args.probeImage, docker });
  const results: CheckResult[] = [...tlsResults, ...report.results];
  console.log(formatReport(report.header, results));
  console.log(`(${(report.elapsedMs / 1000).toFixed(1)} s)`);
  if (report.leftovers.length > 0) {
    console.error(`preflight: could not remove everything it created:\n  ${report.leftovers.join("\n  ")}`);
    process.exit(1);
  }
  process.exit(report.ok && tlsResults.every((result) => result.status !== "fail") ? 0 : 1);
}

/** `tlsCertificate` and `tlsKey`, decrypted by the Pulumi CLI (deploy's CLI: scripts/lib/verify/pulumi-cli.ts). */
async function providedSecrets(stack: string, configDir: string): Promise<TlsSecrets> {
  let cli;
  try {
    cli = resolvePulumiCli(currentEnvironment(PROJECT_DIR));
  } catch (error) {
    return { error: (error as Error).message };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...cli.env };
  // As deploy.sh: the dev stack's secrets are encrypted with an empty passphrase unless one is set.
  if (stack === "dev" && env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE) env.PULUMI_CONFIG_PASSPHRASE = "";
  const read = await readSecretConfig({
    pulumi: cli.command,
    env,
    stack,
    namespace: CONFIG_NAMESPACE,
    keys: ["tlsCertificate", "tlsKey"],
    cwd: PROJECT_DIR,
    ...(path.resolve(configDir) === PROJECT_DIR ? {} : { configFile: path.join(configDir, `Pulumi.${stack}.yaml`) }),
  });
  return read.error ? { error: read.error } : { certificate: read.values?.tlsCertificate, key: read.values?.tlsKey };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
