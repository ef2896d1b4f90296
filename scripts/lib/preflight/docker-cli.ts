/**
 * The preflight's Docker access: the `docker` CLI pointed at the stack's Docker host (the CLI speaks
 * unix://, tcp:// and ssh:// like the provider does), every call bounded in time, and a ledger of
 * what the preflight created so all of it is removed by id, also when the run is interrupted.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import { dockerHostInUse } from "../../../components/docker/host";
import { PREFLIGHT_LABEL } from "./checks";

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's environment for the stack's Docker host: DOCKER_HOST set to the host the provider uses
 * (components/docker/host.ts: `dockerHost`, else DOCKER_HOST, else the local socket) and no
 * DOCKER_CONTEXT. For the docker CLI DOCKER_HOST wins over DOCKER_CONTEXT and over `docker context use`,
 * the opposite of the provider; a set DOCKER_CONTEXT is refused before this (scripts/preflight.ts), and
 * removed here as well so the CLI can only ask the one host.
 */
export function dockerEnvironment(dockerHost: string | undefined, env: NodeJS.ProcessEnv = process.env, certPath?: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out.DOCKER_CONTEXT;
  out.DOCKER_HOST = dockerHostInUse("", dockerHost, out).host;
  // A tcp:// host with `dockerCertPath` (components/docker/config.ts): the CLI takes the same directory (ca.pem,
  // cert.pem, key.pem) from DOCKER_CERT_PATH, verifying the host with DOCKER_TLS_VERIFY (docker/cli
  // cli/flags/options.go: the defaults from DOCKER_CERT_PATH and DOCKER_TLS_VERIFY). With the PEM keys instead,
  // export both yourself for the preflight (docs/remote-docker-host.md).
  if (certPath && /^tcp:\/\//i.test(out.DOCKER_HOST)) {
    out.DOCKER_CERT_PATH = certPath;
    out.DOCKER_TLS_VERIFY = "1";
  }
  return out;
}

export class DockerCli {
  /** Unique per run: names and the PREFLIGHT_LABEL value of everything this run creates. */
  readonly runId = randomBytes(4).toString("hex");
  readonly host: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly running = new Set<ChildProcess>();
  private readonly containers = new Set<string>();
  private readonly networks = new Set<string>();
  private readonly images = new Set<string>();
  private aborted = false;

  constructor(
    dockerHost: string | undefined,
    private readonly binary = process.env.ATRA_DOCKER_CLI ?? "docker",
    certPath?: string,
  ) {
    this.env = dockerEnvironment(dockerHost, process.env, certPath);
    this.host = this.env.DOCKER_HOST as string;
  }

  /** Labels for `docker create` / `docker network create`. */
  get labelArgs(): string[] {
    return ["--label", `${PREFLIGHT_LABEL}=${this.runId}`];
  }

  run(args: string[], timeoutMs = 60_000): Promise<DockerResult> {
    if (this.aborted) return Promise.reject(new Error("preflight interrupted"));
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      this.running.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        stderr += `\n(docker ${args[0]} timed out after ${timeoutMs} ms)`;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("error", (error) => {
        clearTimeout(timer);
        this.running.delete(child);
        reject(new Error(`cannot run ${this.binary}: ${error.message}`));
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        this.running.delete(child);
        resolve({ code: code ?? 1, stdout, stderr: stderr.trim() });
      });
    });
  }

  /** `docker create ...`; the new container is recorded before anything else can fail. */
  async createContainer(args: string[]): Promise<string> {
    const result = await this.run(["create", ...this.labelArgs, ...args]);
    const id = result.stdout.trim().split("\n").pop() ?? "";
    if (result.code !== 0 || !/^[0-9a-f]{64}$/.test(id)) throw new Error(`docker create failed: ${result.stderr || result.stdout}`);
    this.containers.add(id);
    return id;
  }

  async createNetwork(args: string[]): Promise<{ id?: string; error?: string }> {
    const result = await this.run(["network", "create", ...this.labelArgs, ...args]);
    const id = result.stdout.trim();
    if (result.code !== 0 || !/^[0-9a-f]{64}$/.test(id)) return { error: result.stderr || result.stdout };
    this.networks.add(id);
    return { id };
  }

  /** An image this run pulled or built; removed at the end. */
  recordImage(reference: string): void {
    this.images.add(reference);
  }

  async removeContainer(id: string): Promise<void> {
    await this.run(["rm", "--force", "--volumes", id]);
    this.containers.delete(id);
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (args: string[]) => {
      const result = await this.run(args);
      if (result.code !== 0 && !/No such (container|network|image)|not found/i.test(result.stderr)) problems.push(`docker ${args.join(" ")}: ${result.stderr}`);
    };
    if (this.containers.size) await attempt(["rm", "--force", "--volumes", ...this.containers]);
    this.containers.clear();
    for (const id of this.networks) await attempt(["network", "rm", id]);
    this.networks.clear();
    for (const image of this.images) await attempt(["image", "rm", image]);
    this.images.clear();
    return problems;
  }

  /**
   * Interrupted (SIGINT/SIGTERM): stop the calls in flight (our own children, by PID), then remove
   * by id everything recorded and, by this run's unique label, anything a killed `docker create` made
   * before it could print its id. Synchronous, so it finishes before the process exits.
   */
  abortAndCleanupSync(): void {
    this.aborted = true;
    for (const child of this.running) if (child.pid) child.kill("SIGKILL");
    const sync = (args: string[]) => {
      try {
        return execFileSync(this.binary, args, { env: this.env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 });
      } catch {
        return "";
      }
    };
    const label = `label=${PREFLIGHT_LABEL}=${this.runId}`;
    const listed = (args: string[]) => sync(args).split(/\s+/).filter(Boolean);
    // A killed `docker create` has already sent its request: the Engine may finish the container after
    // the first sweep. Sweep again until nothing of this run is left (bounded: about 2 s).
    let known = { containers: [...this.containers], networks: [...this.networks] };
    for (const pause of [0, 300, 700, 1000]) {
      if (pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
      const containers = new Set([...known.containers, ...listed(["ps", "--all", "--quiet", "--no-trunc", "--filter", label])]);
      if (containers.size) sync(["rm", "--force", "--volumes", ...containers]);
      const networks = new Set([...known.networks, ...listed(["network", "ls", "--quiet", "--no-trunc", "--filter", label])]);
      for (const id of networks) sync(["network", "rm", id]);
      known = { containers: [], networks: [] };
    }
    for (const image of this.images) sync(["image", "rm", image]);
    this.containers.clear();
    this.networks.clear();
    this.images.clear();
  }
}
