/**
 * Which Docker daemon a stack is deployed to: one rule for the program (components/docker/platform.ts),
 * the preflight (scripts/lib/preflight) and `npm run deploy` (scripts/deploy.sh), so the host the
 * preflight checks is the host `pulumi up` changes.
 *
 * The rule is the provider's own for an explicit `host`: `dockerHost` from the stack config, else
 * DOCKER_HOST, else the local socket. kreuzwerker/terraform-provider-docker (v4.5.0, the version
 * @pulumi/docker 5.x bridges: pulumi/pulumi-docker's `upstream` submodule) internal/provider/provider.go:
 * the `host` schema defaults from DOCKER_HOST, then `unix:///var/run/docker.sock`; pulumi/pulumi-docker
 * provider/resources.go gives `host` the same default (EnvVars DOCKER_HOST); and the Node SDK sends
 * `args.host ?? getEnv("DOCKER_HOST")` (node_modules/@pulumi/docker/provider.js).
 *
 * DOCKER_CONTEXT breaks that rule. The provider's `context` defaults from it
 * (`schema.EnvDefaultFunc("DOCKER_CONTEXT", "")`, read by the provider plugin, which inherits the
 * environment of `pulumi up`; the Node SDK does not send it), and `configure()` uses the context's
 * host whenever a context name is set, "Overrides the `host` if set": `dockerHost` is then ignored
 * without a word. The docker CLI (the preflight's tool) does the opposite: DOCKER_HOST wins over
 * DOCKER_CONTEXT. The program cannot take the variable away from the plugin's environment, and an
 * empty `context` input is not proven to count as unset through the bridge, so a set DOCKER_CONTEXT is
 * refused: the stack names its host in `dockerHost` (or DOCKER_HOST), and nothing else decides.
 * `docker context use` (currentContext in ~/.docker/config.json) is not read by the provider at all,
 * so it does not move a stack either; the preflight hands the CLI DOCKER_HOST so the CLI ignores it too.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProblemsError } from "../lib/problems";

export const LOCAL_DOCKER_SOCKET = "unix:///var/run/docker.sock";

export interface DockerHostChoice {
  /** The address the provider connects to. */
  host: string;
  /** Where it came from. */
  from: "dockerHost" | "DOCKER_HOST" | "local socket";
  /** One line for people: the host and why it is that one. */
  description: string;
}

/** The stack's Docker host, or a ProblemsError when DOCKER_CONTEXT would send `pulumi up` elsewhere. */
export function dockerHostInUse(stack: string, dockerHost: string | undefined, env: NodeJS.ProcessEnv = process.env): DockerHostChoice {
  const choice: DockerHostChoice = dockerHost
    ? {
        host: dockerHost,
        from: "dockerHost",
        description: `${dockerHost} (dockerHost in Pulumi.${stack}.yaml${env.DOCKER_HOST && env.DOCKER_HOST !== dockerHost ? `; DOCKER_HOST=${env.DOCKER_HOST} is not used` : ""})`,
      }
    : env.DOCKER_HOST
      ? { host: env.DOCKER_HOST, from: "DOCKER_HOST", description: `${env.DOCKER_HOST} (DOCKER_HOST; the stack sets no dockerHost)` }
      : {
          host: LOCAL_DOCKER_SOCKET,
          from: "local socket",
          description: `${LOCAL_DOCKER_SOCKET} (the local socket: no dockerHost in the stack, no DOCKER_HOST)`,
        };
  const context = env.DOCKER_CONTEXT;
  if (context) {
    const contextHost = dockerContextHost(context);
    throw new ProblemsError(`Docker host of stack "${stack}"`, [
      `DOCKER_CONTEXT=${context} is set${contextHost ? ` (that context's host is ${contextHost})` : ""}: the Docker provider would deploy to the context's host and ignore ${choice.description}, ` +
        `while the preflight and the docker CLI ask ${choice.host} (a context overrides the host: kreuzwerker/terraform-provider-docker internal/provider/provider.go, configure()). ` +
        `Unset it (unset DOCKER_CONTEXT) and name the host in the stack: pulumi config set dockerHost ${contextHost && !/^npipe:/.test(contextHost) ? contextHost : "<ssh://user@host, tcp://host:2376 or unix:///path/to/docker.sock>"}`,
    ]);
  }
  return choice;
}

/**
 * The host a Docker context points at, found as the provider finds it (provider.go getContextHost:
 * the meta.json under <home>/.docker/contexts/meta whose Name matches, its Endpoints.docker.Host;
 * home is the user's passwd entry, Go's user.Current().HomeDir). Undefined when there is none
 * (`default` has no meta file: the provider then fails with "context 'default' not found").
 */
export function dockerContextHost(name: string, home: string = userHome()): string | undefined {
  const dir = path.join(home, ".docker", "contexts", "meta");
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, entry, "meta.json"), "utf8")) as { Name?: string; Endpoints?: { docker?: { Host?: string } } };
      if (meta.Name === name) return meta.Endpoints?.docker?.Host;
    } catch {
      // The provider skips unreadable entries too.
    }
  }
  return undefined;
}

function userHome(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return os.homedir();
  }
}

/** Whether a Docker host is reached over the network (ssh:// or tcp://), not through a local socket. */
export function isNetworkDockerHost(host: string): boolean {
  return /^(ssh|tcp):\/\//i.test(host);
}

/**
 * The passphrase a stack's secrets would be encrypted with, as `npm run deploy` sets it: PULUMI_CONFIG_PASSPHRASE_FILE's
 * contents, else PULUMI_CONFIG_PASSPHRASE, else, for the dev stack only, the empty passphrase deploy.sh exports
 * (README "Deploy"). Undefined when none is set (Pulumi then asks for one, or the stack uses another secrets provider).
 */
export function effectivePassphrase(stack: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    try {
      return fs.readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8");
    } catch {
      return undefined; // Pulumi reports an unreadable file itself.
    }
  }
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  return stack === "dev" ? "" : undefined;
}

/**
 * The dev stack's empty passphrase is for a developer's own machine: its state (on this machine, `backend.url:
 * file://~`) then holds the generated Grafana, Elasticsearch and Prometheus passwords and the stack CA's key
 * encrypted under a key anyone can derive. Once the Docker host is another machine (ssh:// or tcp://), those
 * secrets open services that other people reach, so an empty passphrase is refused there, before anything is
 * made. A stack whose file names another secrets provider (`secretsprovider: awskms://...`, not `passphrase`)
 * does not use the passphrase at all. Called by the preflight, which `npm run deploy` runs first (--print-host too).
 */
export function emptyPassphraseProblem(stack: string, host: string, env: NodeJS.ProcessEnv, secretsProvider?: string): string | undefined {
  if (!isNetworkDockerHost(host)) return undefined;
  if (secretsProvider && !/^passphrase\b/.test(secretsProvider)) return undefined;
  const passphrase = effectivePassphrase(stack, env);
  if (passphrase === undefined || passphrase.trim() !== "") return undefined;
  const from = env.PULUMI_CONFIG_PASSPHRASE_FILE
    ? `PULUMI_CONFIG_PASSPHRASE_FILE (${env.PULUMI_CONFIG_PASSPHRASE_FILE}) is empty`
    : env.PULUMI_CONFIG_PASSPHRASE !== undefined
      ? "PULUMI_CONFIG_PASSPHRASE is empty"
      : `neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set (the ${stack} stack's default is the empty passphrase)`;
  return (
    `stack "${stack}" deploys to the remote Docker host ${host}, but ${from}: its state would hold the passwords and keys of services on that host ` +
    `encrypted with an empty passphrase. Set one (export PULUMI_CONFIG_PASSPHRASE=... or PULUMI_CONFIG_PASSPHRASE_FILE=<file>), ` +
    `or use another secrets provider (pulumi stack change-secrets-provider), or deploy dev to the local socket`
  );
}

/**
 * Whether a stack file says its secrets use the passphrase provider: it holds the `encryptionsalt` only that provider
 * writes (pulumi/pulumi sdk/go/common/workspace/project.go ProjectStack `EncryptionSalt`, set by
 * pkg/secrets/passphrase/manager.go) and no `secretsprovider:` other than passphrase. False when the file is missing or
 * unreadable (the stack may use `--config-file` elsewhere, or a service backend's own provider): then nothing is known.
 */
export function stackFileUsesPassphrase(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return false;
  }
  const top = (key: string) => new RegExp(`^${key}:[ \\t]*(\\S.*)?$`, "m").exec(text);
  const provider = top("secretsprovider")?.[1]?.replace(/^["']|["']$/g, "");
  if (provider !== undefined && !/^passphrase\b/.test(provider)) return false;
  return top("encryptionsalt")?.[1] !== undefined;
}

/**
 * The program's own check of the empty passphrase (the preflight's is emptyPassphraseProblem): `pulumi up` run
 * directly skips the preflight, but the Pulumi CLI hands the program its environment, PULUMI_CONFIG_PASSPHRASE and
 * PULUMI_CONFIG_PASSPHRASE_FILE included. Refused only where it is known: a remote host, a stack file saying the
 * passphrase provider is used (stackFileUsesPassphrase), and every passphrase variable that is set being blank.
 * With neither set the CLI asked for one interactively, which the program cannot see: no refusal then.
 */
export function programPassphraseProblem(stack: string, host: string, env: NodeJS.ProcessEnv, stackFile: string): string | undefined {
  if (!isNetworkDockerHost(host) || !stackFileUsesPassphrase(stackFile)) return undefined;
  const set: string[] = [];
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) set.push(env.PULUMI_CONFIG_PASSPHRASE);
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    try {
      set.push(fs.readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8"));
    } catch {
      return undefined; // Pulumi reports an unreadable file itself.
    }
  }
  if (set.length === 0 || set.some((value) => value.trim() !== "")) return undefined;
  return emptyPassphraseProblem(stack, host, env, "passphrase");
}

/**
 * A tcp:// host from DOCKER_HOST (the stack sets no dockerHost, whose own rule is components/docker/config.ts
 * dockerTlsIssues) with no TLS material in the config nor in the provider's environment defaults
 * (kreuzwerker/terraform-provider-docker internal/provider/provider.go: `cert_path` from DOCKER_CERT_PATH,
 * `cert_material`/`key_material` from DOCKER_CERT_MATERIAL/DOCKER_KEY_MATERIAL) would talk to the Engine in clear.
 */
export function plainTcpProblem(choice: DockerHostChoice, configTls: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!/^tcp:\/\//i.test(choice.host) || choice.from !== "DOCKER_HOST" || configTls) return undefined;
  if (env.DOCKER_CERT_PATH || (env.DOCKER_CERT_MATERIAL && env.DOCKER_KEY_MATERIAL && env.DOCKER_CA_MATERIAL)) return undefined;
  return (
    `DOCKER_HOST=${choice.host} is tcp:// without TLS: every request to the Engine, container environments and their secrets included, would cross the network in clear. ` +
    "Set dockerCertPath (a directory with ca.pem, cert.pem, key.pem) or dockerCaCertificate, dockerClientCertificate and the secret dockerClientKey in the stack, or export DOCKER_CERT_PATH; or use ssh://user@host"
  );
}

/** plainTcpProblem as a refusal (the program and the preflight). */
export function refusePlainTcp(stack: string, choice: DockerHostChoice, configTls: boolean, env: NodeJS.ProcessEnv = process.env): void {
  const problem = plainTcpProblem(choice, configTls, env);
  if (problem) throw new ProblemsError(`Docker host of stack "${stack}"`, [problem]);
}
