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
