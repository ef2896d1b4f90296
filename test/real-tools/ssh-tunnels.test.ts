/**
 * The deploy's SSH forwards (scripts/lib/tunnels.ts) with the real OpenSSH client against a real sshd,
 * both on 127.0.0.1 with keys made here (never committed): the exact ssh command line opens every forward
 * and carries traffic, closing by PID stops ssh and its listeners, `ExitOnForwardFailure=yes` makes ssh exit
 * when a local port is taken (so a forward is never silently missing), and `BatchMode=yes` fails at once on a
 * login that would need a prompt. sshd is started and stopped (by PID) by this test; ssh reads its options
 * from a config file given with -F by a one-line wrapper on PATH (ssh takes ~/.ssh from the passwd entry,
 * not $HOME). Skipped where sshd is not installed (Debian package openssh-server).
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { resolveStackConfig } from "../../components/config/resolve";
import { accepts, closeTunnel, isRunning, openTunnel, sshArgs, tunnelPlan, TunnelPlan } from "../../scripts/lib/tunnels";
import { findTool, freePort, RunningProcess, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

const SSHD = ["/usr/sbin/sshd", findTool("sshd")].find((candidate) => candidate && fs.existsSync(candidate));
const SSH = findTool("ssh");
// CI installs both (.ci/run), so there a missing one is a failure, not a skip.
if (process.env.CI && !(SSHD && SSH)) throw new Error("CI must have sshd and ssh (.ci/run installs openssh-server and openssh-client)");
const describeWithSsh = SSHD && SSH ? describe : describe.skip;

describeWithSsh(`real OpenSSH forwards${SSHD && SSH ? "" : " (skipped: sshd or ssh not installed)"}`, () => {
  let dir: string;
  let sshd: RunningProcess | undefined;
  let sshdPort: number;
  let remote: http.Server;
  let remotePort: number;
  let wrapper: string;
  let noKeyWrapper: string;
  const opened: number[] = [];

  beforeAll(async () => {
    dir = tempDir("atra-ssh-tunnels-");
    const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, file)], { stdio: "ignore" });
    keygen("host_key");
    keygen("client_key");
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
    sshdPort = await freePort();
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `Port ${sshdPort}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${path.join(dir, "host_key")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "AllowTcpForwarding yes",
        "",
      ].join("\n"),
    );
    // sshd's privilege separation directory (the package creates it at boot).
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const known = `[127.0.0.1]:${sshdPort} ${fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ")}\n`;
    fs.writeFileSync(path.join(dir, "known_hosts"), known);
    const clientConfig = (identity: boolean) =>
      [
        "Host *",
        `  UserKnownHostsFile ${path.join(dir, "known_hosts")}`,
        "  StrictHostKeyChecking yes",
        identity ? `  IdentityFile ${path.join(dir, "client_key")}` : `  IdentityFile ${path.join(dir, "no_such_key")}`,
        "  IdentitiesOnly yes",
        "",
      ].join("\n");
    fs.writeFileSync(path.join(dir, "ssh_config"), clientConfig(true));
    fs.writeFileSync(path.join(dir, "ssh_config_nokey"), clientConfig(false));
    // exec: the wrapper's PID is ssh's.
    wrapper = path.join(dir, "ssh");
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${SSH} -F ${path.join(dir, "ssh_config")} "$@"\n`, { mode: 0o755 });
    noKeyWrapper = path.join(dir, "ssh-nokey");
    fs.writeFileSync(noKeyWrapper, `#!/bin/sh\nexec ${SSH} -F ${path.join(dir, "ssh_config_nokey")} "$@"\n`, { mode: 0o755 });

    sshd = startProcess("sshd", SSHD as string, ["-D", "-e", "-f", path.join(dir, "sshd_config")]);
    await waitFor("sshd to listen", 15_000, async () => ((await accepts("127.0.0.1", sshdPort)) ? true : undefined), 100);
    remotePort = await freePort();
    remote = http.createServer((_, response) => response.end("kibana behind a real ssh forward"));
    await new Promise<void>((resolve) => remote.listen(remotePort, "127.0.0.1", () => resolve()));
  });
  afterEach(async () => {
    for (const pid of opened.splice(0)) if (isRunning(pid)) await closeTunnel(pid, 2000);
  });
  afterAll(async () => {
    await new Promise((resolve) => remote?.close(resolve));
    // sshd's per-connection processes end as their clients went; let it reap them before it is stopped (bounded).
    const pid = sshd?.child.pid;
    if (pid) {
      const children = () => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
        } catch {
          return "";
        }
      };
      await waitFor("sshd's connections to end", 5_000, async () => (children() === "" ? true : undefined), 100).catch(() => undefined);
    }
    await stopProcess(sshd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function plan(): Promise<TunnelPlan> {
    const dockerHost = `ssh://root@127.0.0.1:${sshdPort}`;
    const config = resolveStackConfig({
      stack: "staging",
      values: {
        environment: "staging",
        dockerHost,
        grafana: { providerUrl: `http://127.0.0.1:${await freePort()}` },
        logs: { elasticsearchProviderUrl: `http://127.0.0.1:${await freePort()}`, kibanaProviderUrl: `http://127.0.0.1:${await freePort()}` },
        ports: { grafana: await freePort(), elasticsearch: await freePort(), kibana: remotePort },
      },
      secretKeys: [],
    }).config;
    return tunnelPlan(config, dockerHost) as TunnelPlan;
  }

  test("the command line opens every forward; traffic reaches the published port; closing by PID stops ssh and its listeners", async () => {
    const tunnels = await plan();
    const pid = await openTunnel(tunnels, { ssh: wrapper, logFile: path.join(dir, "ok.log"), timeoutMs: 20_000 });
    opened.push(pid);
    const kibana = tunnels.forwards.find((forward) => forward.service === "kibana")!;
    const answer = await fetch(`http://127.0.0.1:${kibana.local.port}/api/status`, { signal: AbortSignal.timeout(5000) });
    expect(await answer.text()).toBe("kibana behind a real ssh forward");
    for (const forward of tunnels.forwards) expect(await accepts(forward.local.host, forward.local.port)).toBe(true);
    await closeTunnel(pid);
    expect(isRunning(pid)).toBe(false);
    expect(await Promise.all(tunnels.forwards.map((forward) => accepts(forward.local.host, forward.local.port)))).toEqual([false, false, false]);
  });

  test("ExitOnForwardFailure=yes: with a local port taken, ssh exits instead of running without that forward", async () => {
    const tunnels = await plan();
    const taken = tunnels.forwards[1].local;
    const holder = http.createServer(() => undefined);
    await new Promise<void>((resolve) => holder.listen(taken.port, taken.host, () => resolve()));
    try {
      // ssh itself, with the exact arguments (openTunnel refuses a taken port before it starts ssh).
      const child = spawn(wrapper, sshArgs(tunnels), { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        child.once("exit", (status) => {
          clearTimeout(timer);
          resolve(status);
        });
      });
      expect(code).toBe(255);
      expect(stderr).toMatch(/Could not request local forwarding/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  test("BatchMode=yes: a login that would need a prompt fails at once with ssh's words, and nothing is left running", async () => {
    const tunnels = await plan();
    const before = Date.now();
    await expect(openTunnel(tunnels, { ssh: noKeyWrapper, logFile: path.join(dir, "nokey.log"), timeoutMs: 20_000 })).rejects.toThrow(
      /did not open: ssh exited with code 255\nssh said:\n[\s\S]*Permission denied/,
    );
    expect(Date.now() - before).toBeLessThan(15_000);
    expect(await Promise.all(tunnels.forwards.map((forward) => accepts(forward.local.host, forward.local.port)))).toEqual([false, false, false]);
  });
});
