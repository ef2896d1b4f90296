/**
 * The SSH forwards `npm run deploy` opens for a stack on an `ssh://` Docker host, so nobody runs
 * `ssh -N -L ...` by hand (docs/tls.md, "Remote Docker host"; issue 20 item 4).
 *
 * The Grafana, Elasticsearch and Kibana providers run where `pulumi up` runs, and the stack's ports are
 * published on the Docker host (on `bindAddress`, loopback by default). Each provider URL key that names a
 * loopback address on this machine (`grafana.providerUrl`, `logs.elasticsearchProviderUrl`,
 * `logs.kibanaProviderUrl`) is the local end of one forward; its remote end is the service's published port
 * where the host itself reaches it (`bindAddress`, or 127.0.0.1 when bound to every interface). A provider
 * URL that names another host is reached directly, without a forward. The forwards carry TCP: with TLS on,
 * the providers speak TLS through them to the stack's servers, end to end.
 *
 * One `ssh` process holds every forward, started as the Docker provider starts its own ssh (same user,
 * port and host, so the same ~/.ssh/config entry and keys apply: docker/cli cli/connhelper/ssh/ssh.go,
 * `Spec.Args`: `-l <user> -p <port> -- <host>`), with:
 * - `-N`: no remote command, forwards only;
 * - `ExitOnForwardFailure=yes`: ssh exits when a forward cannot be set up, instead of running without it
 *   (ssh_config(5); openssh-portable ssh.c, ssh_init_forwarding: "Could not request local forwarding." is
 *   fatal with the option; test/real-tools/ssh-tunnels.test.ts sees the real client exit 255 with it);
 * - `BatchMode=yes`: no password or passphrase prompt (the Docker provider's ssh cannot prompt either, so a
 *   host it deploys to already logs in without one); a login that would need one fails at once instead of
 *   waiting on a terminal nobody watches;
 * - `ConnectTimeout=30` (what docker/cli gives its own ssh: cli/connhelper/connhelper.go, addSSHTimeout) and
 *   `ServerAliveInterval`/`ServerAliveCountMax`: a bounded connect, and a dead connection noticed during a long `up`.
 * Each local end is bound to the loopback address its URL names (`-L <addr>:<port>:<remote>:<port>`), so the
 * forward is not offered to the network. The process is started in its own session (detached), so a Ctrl-C
 * at the terminal reaches `pulumi up` (which then cancels cleanly, still through the forwards) and not ssh;
 * the deploy script stops ssh by its PID when it exits (scripts/deploy.sh, `trap`).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import type { StackConfig } from "../../components/config/resolve";

export interface Forward {
  /** The config key whose URL is the local end. */
  key: string;
  /** What the provider reaches through it. */
  service: "grafana" | "elasticsearch" | "kibana";
  local: { host: string; port: number };
  /** As the Docker host reaches the published port. */
  remote: { host: string; port: number };
}

export interface SshDestination {
  user?: string;
  host: string;
  port?: string;
}

export interface TunnelPlan {
  /** The `ssh://` Docker host, as given. */
  dockerHost: string;
  destination: SshDestination;
  forwards: Forward[];
  /** Provider URLs that name another host than this machine's loopback: reached directly, no forward. */
  direct: { key: string; url: string }[];
}

export class TunnelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TunnelError";
  }
}

/** Options every forward's ssh gets (see the file comment). */
export const SSH_FORWARD_OPTIONS = [
  "ExitOnForwardFailure=yes",
  "BatchMode=yes",
  "ConnectTimeout=30",
  "ServerAliveInterval=15",
  "ServerAliveCountMax=4",
] as const;

/**
 * An `ssh://[user@]host[:port]` Docker host as docker/cli reads it (cli/connhelper/ssh/ssh.go, ParseURL:
 * scheme ssh, no password, a host, no query or fragment); undefined for any other scheme.
 */
export function sshDestination(dockerHost: string): SshDestination | undefined {
  if (!/^ssh:\/\//i.test(dockerHost)) return undefined;
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch (error) {
    throw new TunnelError(`invalid ssh URL ${dockerHost}: ${(error as Error).message}`);
  }
  if (url.password) throw new TunnelError(`${dockerHost}: a password in the ssh URL is not supported (docker/cli refuses it too); use an SSH key`);
  if (url.search || url.hash) throw new TunnelError(`${dockerHost}: query parameters and fragments are not allowed in an ssh URL`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) throw new TunnelError(`${dockerHost}: the ssh URL names no host`);
  return {
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    host,
    ...(url.port ? { port: url.port } : {}),
  };
}

const LOOPBACK_NAMES = new Set(["localhost", "::1"]);

/** Whether a URL's host is this machine's loopback (127.0.0.0/8, localhost, ::1). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return LOOPBACK_NAMES.has(bare) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The provider URLs the program uses for this stack's own servers, with the published port each reaches. */
function providerUrls(config: StackConfig): { key: string; service: Forward["service"]; url: string; publishedPort: number }[] {
  if (config.role !== "central") return [];
  const urls: { key: string; service: Forward["service"]; url: string; publishedPort: number }[] = [];
  // An external Grafana or Elastic cluster is reached at its own URL; nothing of it runs on the Docker host.
  if (!config.grafana.external)
    urls.push({ key: "grafana.providerUrl", service: "grafana", url: config.grafana.providerUrl, publishedPort: config.ports.grafana });
  if (config.logs.enabled && !config.logs.external) {
    urls.push({
      key: "logs.elasticsearchProviderUrl",
      service: "elasticsearch",
      url: config.logs.elasticsearchProviderUrl,
      publishedPort: config.ports.elasticsearch,
    });
    urls.push({ key: "logs.kibanaProviderUrl", service: "kibana", url: config.logs.kibanaProviderUrl, publishedPort: config.ports.kibana });
  }
  return urls;
}

/**
 * The forwards a stack needs, or undefined when its Docker host is not `ssh://` (then the published ports
 * are on this machine, or reached as the URLs say). Two keys naming the same local port are refused: one of
 * them would reach the wrong server.
 */
export function tunnelPlan(config: StackConfig, dockerHost: string): TunnelPlan | undefined {
  const destination = sshDestination(dockerHost);
  if (!destination) return undefined;
  // Where the Docker host itself reaches a published port (components/config/resolve.ts, localHost).
  const remoteHost = config.bindAddress === "0.0.0.0" ? "127.0.0.1" : config.bindAddress;
  const forwards: Forward[] = [];
  const direct: TunnelPlan["direct"] = [];
  for (const { key, service, url, publishedPort } of providerUrls(config)) {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    if (!isLoopbackHost(host)) {
      direct.push({ key, url });
      continue;
    }
    const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
    const clash = forwards.find((forward) => forward.local.port === port);
    if (clash)
      throw new TunnelError(
        `${key} (${url}) and ${clash.key} name the same local port ${port}: each provider URL on loopback is the local end of its own forward; give each its own port`,
      );
    forwards.push({ key, service, local: { host, port }, remote: { host: remoteHost, port: publishedPort } });
  }
  return { dockerHost, destination, forwards, direct };
}

/** ssh's arguments (after `ssh`) for a plan's forwards. */
export function sshArgs(plan: TunnelPlan): string[] {
  const bind = (host: string) => (host.includes(":") ? `[${host}]` : host);
  const { destination } = plan;
  return [
    "-N",
    ...SSH_FORWARD_OPTIONS.flatMap((option) => ["-o", option]),
    ...plan.forwards.flatMap((forward) => ["-L", `${bind(forward.local.host)}:${forward.local.port}:${bind(forward.remote.host)}:${forward.remote.port}`]),
    // docker/cli cli/connhelper/ssh/ssh.go Spec.Args: -l user, -p port, then -- host.
    ...(destination.user ? ["-l", destination.user] : []),
    ...(destination.port ? ["-p", destination.port] : []),
    "--",
    destination.host,
  ];
}

/** One line per forward, for people. */
export function describeForwards(plan: TunnelPlan): string[] {
  return plan.forwards.map(
    (forward) =>
      `${forward.local.host}:${forward.local.port} -> ${plan.destination.host}: ${forward.remote.host}:${forward.remote.port} (${forward.service}, ${forward.key})`,
  );
}

export interface OpenOptions {
  /** The ssh program (default `ssh` on PATH). */
  ssh?: string;
  /** File ssh's own messages go to (kept by the caller; read here when ssh fails). */
  logFile: string;
  /** How long to wait for every forward to listen. */
  timeoutMs?: number;
  /** Aborting stops ssh and rejects (the CLI aborts on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Default: ConnectTimeout (30 s) plus the login and the forwards' set-up. */
export const DEFAULT_OPEN_TIMEOUT_MS = 45_000;
const POLL_MS = 100;

/**
 * Start ssh with the plan's forwards and wait, bounded, until each local end accepts connections. Returns
 * ssh's PID once all do; ssh then runs on its own (detached) until stopped by that PID (`closeTunnel`, or
 * the deploy script's trap). On any failure ssh is stopped before this rejects: nothing is left running.
 */
export async function openTunnel(plan: TunnelPlan, options: OpenOptions): Promise<number> {
  if (plan.forwards.length === 0) throw new TunnelError("no forwards to open");
  // A port already in use here would make ssh exit (ExitOnForwardFailure), and a connection test could
  // mistake the other listener for the forward: refuse it first, saying what to do.
  const taken = (
    await Promise.all(plan.forwards.map(async (forward) => ((await accepts(forward.local.host, forward.local.port)) ? forward : undefined)))
  ).filter((forward): forward is Forward => forward !== undefined);
  if (taken.length > 0)
    throw new TunnelError(
      taken
        .map(
          (forward) =>
            `${forward.local.host}:${forward.local.port} (${forward.key}) is already in use on this machine: a tunnel opened by hand? npm run deploy opens it itself now; stop that one (or give ${forward.key} a free port, or deploy with --no-tunnels to use yours)`,
        )
        .join("\n"),
    );
  const log = fs.openSync(options.logFile, "a");
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(options.ssh ?? "ssh", sshArgs(plan), { detached: true, stdio: ["ignore", log, log], env: options.env ?? process.env });
  } finally {
    fs.closeSync(log);
  }
  const exited = new Promise<string>((resolve) => {
    child.once("error", (error) => resolve(`could not start ${options.ssh ?? "ssh"}: ${error.message}`));
    child.once("exit", (code, signal) => resolve(signal ? `ssh was stopped by ${signal}` : `ssh exited with code ${code}`));
  });
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  const pid = child.pid;
  const fail = async (message: string): Promise<never> => {
    if (pid !== undefined && exitReason === undefined) await closeTunnel(pid);
    const said = readTail(options.logFile);
    throw new TunnelError(`${message}${said ? `\nssh said:\n  ${said.split("\n").join("\n  ")}` : ""}`);
  };
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS);
  const waiting = new Set(plan.forwards);
  while (waiting.size > 0) {
    if (options.signal?.aborted) return fail("interrupted while the SSH forwards were opening; ssh was stopped");
    if (exitReason !== undefined) return fail(`the SSH forwards to ${plan.dockerHost} did not open: ${exitReason}`);
    for (const forward of [...waiting]) if (await accepts(forward.local.host, forward.local.port)) waiting.delete(forward);
    if (waiting.size === 0) break;
    if (Date.now() > deadline)
      return fail(
        `the SSH forwards to ${plan.dockerHost} did not listen within ${Math.round((options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS) / 1000)} s (${[...waiting]
          .map((forward) => `${forward.local.host}:${forward.local.port}`)
          .join(", ")}); ssh was stopped`,
      );
    await sleep(POLL_MS);
  }
  // One more look that ssh did not exit since (a forward it could not set up makes it exit).
  await sleep(POLL_MS);
  if (exitReason !== undefined) return fail(`the SSH forwards to ${plan.dockerHost} closed right after opening: ${exitReason}`);
  child.unref();
  return pid as number;
}

/** Stop ssh by its PID: SIGTERM, then SIGKILL when it is still there after `graceMs`. Resolves once it is gone. */
export async function closeTunnel(pid: number, graceMs = 5_000): Promise<void> {
  if (!signalProcess(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return;
    await sleep(50);
  }
  signalProcess(pid, "SIGKILL");
  while (isRunning(pid)) await sleep(20);
}

/**
 * Whether a process with this PID is still running. An exited process stays a zombie until its parent reaps
 * it (Node reaps its own children; the ssh the deploy leaves running is reaped by init, which may take a
 * while): it counts as gone once its last thread has exited. Its main thread alone being a zombie is not
 * enough, since the process's other threads still hold its sockets (Linux /proc/<pid>/stat state, /proc/<pid>/task).
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" && fs.readdirSync(`/proc/${pid}/task`).every((thread) => thread === String(pid))) return false;
  } catch {
    // No /proc (macOS): the signal's answer stands.
  }
  return true;
}

function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts a TCP connection at host:port right now (bounded). */
export function accepts(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The last lines ssh wrote (its own error messages; never a secret: ssh logs no credentials). */
function readTail(file: string, lines = 12): string {
  try {
    return fs.readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
