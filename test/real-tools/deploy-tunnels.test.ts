/**
 * `npm run deploy` on an ssh:// Docker host opens the providers' SSH forwards itself (scripts/deploy.sh,
 * scripts/tunnels.ts, scripts/lib/tunnels.ts): the real deploy script in a copy of the project, with a
 * stand-in ssh (test/support/fake-ssh.ts: records its argv, really listens and forwards) and a stand-in
 * Pulumi CLI on PATH. `up` reaches the "published port" (an HTTP server here) through the forward; the
 * forwards are closed by PID when deploy ends: after success, after a failed `up`, and after a Ctrl-C (SIGINT
 * to the deploy's process group, as a terminal sends it), which reaches `up` alone while the forwards still
 * answer. Every check of "nothing left" is by the PID the stand-in ssh recorded, and by its ports.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { accepts, closeTunnel, isRunning } from "../../scripts/lib/tunnels";
import { fakeSshCalls, writeFakeSsh } from "../support/fake-ssh";
import { copyProject, ProjectCopy } from "../support/project-copy";
import { freePort, tempDir, waitFor } from "../support/real-tools";

/** The stand-in Pulumi CLI: records each call; `up` fetches Grafana through its provider URL (FAKE_UP_URL). */
const FAKE_PULUMI = String.raw`#!/usr/bin/env node
"use strict";
const fs = require("fs");
const dir = process.env.FAKE_PULUMI_DIR;
const args = process.argv.slice(2);
fs.appendFileSync(dir + "/calls.log", args.join(" ") + "\n");
const through = async () => {
  try {
    const answer = await fetch(process.env.FAKE_UP_URL, { signal: AbortSignal.timeout(5000) });
    return await answer.text();
  } catch (error) {
    return "unreachable: " + error.message;
  }
};
if (args[0] === "up") {
  (async () => {
    fs.writeFileSync(dir + "/up-saw", await through());
    if (process.env.FAKE_UP === "fail") process.exit(1);
    if (process.env.FAKE_UP === "wait") {
      // As pulumi up on Ctrl-C: finish what is in flight (through the forwards), then stop.
      process.on("SIGINT", async () => {
        fs.writeFileSync(dir + "/up-interrupted-saw", await through());
        process.exit(255);
      });
      fs.writeFileSync(dir + "/up-waiting", "");
      setInterval(() => {}, 1000);
    }
  })();
}
`;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe("npm run deploy opens and closes the SSH forwards of an ssh:// Docker host", () => {
  let copy: ProjectCopy;
  let bin: string;
  let work: string;
  let grafana: http.Server;
  let localPorts: number[];
  const sshRecord = () => path.join(work, "ssh-calls.jsonl");

  beforeAll(async () => {
    copy = copyProject();
    bin = tempDir("atra-deploy-tunnels-bin-");
    work = tempDir("atra-deploy-tunnels-");
    writeFakeSsh(bin);
    fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    // The Docker host's published Grafana port (here on this machine, where the stand-in ssh forwards to).
    const remote = { grafana: await freePort(), elasticsearch: await freePort(), kibana: await freePort() };
    grafana = http.createServer((_, response) => response.end("grafana, through the forward"));
    await new Promise<void>((resolve) => grafana.listen(remote.grafana, "127.0.0.1", () => resolve()));
    localPorts = [await freePort(), await freePort(), await freePort()];
    copy.add(
      "Pulumi.tunnels.yaml",
      [
        "config:",
        "  atra-observability:environment: staging",
        "  atra-observability:dockerHost: ssh://deploy@obs.example.internal:2222",
        "  atra-observability:grafana:",
        `    providerUrl: http://127.0.0.1:${localPorts[0]}`,
        "  atra-observability:logs:",
        `    elasticsearchProviderUrl: http://127.0.0.1:${localPorts[1]}`,
        `    kibanaProviderUrl: http://127.0.0.1:${localPorts[2]}`,
        "  atra-observability:ports:",
        `    grafana: ${remote.grafana}`,
        `    elasticsearch: ${remote.elasticsearch}`,
        `    kibana: ${remote.kibana}`,
        "",
      ].join("\n"),
    );
  });
  beforeEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
  });
  afterEach(async () => {
    // Each test checks that nothing is left; this only keeps a failed one from leaking into the next.
    for (const call of fakeSshCalls(sshRecord())) if (isRunning(call.pid)) await closeTunnel(call.pid, 1000);
  });
  afterAll(async () => {
    await new Promise((resolve) => grafana.close(resolve));
    copy.remove();
    fs.rmSync(bin, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  function deploy(args: string[], env: NodeJS.ProcessEnv = {}, onStart?: (pid: number) => void): Promise<Run> {
    return new Promise((resolve) => {
      // Its own process group, as a terminal's foreground job: a Ctrl-C is a SIGINT to the whole group.
      const child = spawn("bash", [path.join(copy.dir, "scripts/deploy.sh"), ...args], {
        cwd: copy.dir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          // Not empty: an ssh:// Docker host refuses the dev stack's empty passphrase (components/docker/host.ts emptyPassphraseProblem).
          PULUMI_CONFIG_PASSPHRASE: "deploy-tunnels-test-passphrase",
          DOCKER_CONTEXT: "",
          TMPDIR: work,
          FAKE_PULUMI_DIR: work,
          FAKE_SSH_RECORD: sshRecord(),
          FAKE_UP_URL: `http://127.0.0.1:${localPorts[0]}/api/health`,
          ...env,
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 90_000);
      child.once("exit", (status, signal) => {
        clearTimeout(timer);
        // Let the pipes drain.
        setTimeout(() => resolve({ status, signal, stdout, stderr }), 50);
      });
      if (child.pid) onStart?.(child.pid);
    });
  }
  const calls = () => (fs.existsSync(path.join(work, "calls.log")) ? fs.readFileSync(path.join(work, "calls.log"), "utf8").split("\n").filter(Boolean) : []);
  const read = (name: string) => (fs.existsSync(path.join(work, name)) ? fs.readFileSync(path.join(work, name), "utf8") : undefined);
  const listening = () => Promise.all(localPorts.map((port) => accepts("127.0.0.1", port)));
  const leftoverLogs = () => fs.readdirSync(work).filter((name) => name.startsWith("atra-deploy-ssh."));

  test("opens one ssh with every forward before `up`, which reaches Grafana through it; closes it by PID when deploy ends", async () => {
    const run = await deploy(["tunnels", "--skip-preflight", "--skip-verify"]);
    expect(run.stderr).not.toMatch(/nothing was deployed/);
    expect(run.status).toBe(0);
    expect(calls()).toEqual(["stack select --create --non-interactive tunnels", "up --yes --non-interactive --stack tunnels", "stack output --stack tunnels"]);
    expect(read("up-saw")).toBe("grafana, through the forward");
    const ssh = fakeSshCalls(sshRecord());
    expect(ssh).toHaveLength(1);
    const argv = ssh[0].argv;
    expect(argv.slice(0, 1)).toEqual(["-N"]);
    expect(argv).toEqual(expect.arrayContaining(["ExitOnForwardFailure=yes", "BatchMode=yes"]));
    expect(argv.filter((_, index) => argv[index - 1] === "-L")).toEqual([
      expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${localPorts[0]}:127\\.0\\.0\\.1:\\d+$`)),
      expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${localPorts[1]}:127\\.0\\.0\\.1:\\d+$`)),
      expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${localPorts[2]}:127\\.0\\.0\\.1:\\d+$`)),
    ]);
    expect(argv.slice(-6)).toEqual(["-l", "deploy", "-p", "2222", "--", "obs.example.internal"]);
    expect(run.stderr).toContain(`deploy: the forwards listen (ssh PID ${ssh[0].pid})`);
    expect(run.stderr).toContain(`deploy: closed the SSH forwards (ssh PID ${ssh[0].pid})`);
    expect(isRunning(ssh[0].pid)).toBe(false);
    expect(await listening()).toEqual([false, false, false]);
    expect(leftoverLogs()).toEqual([]);
  });

  test("a Ctrl-C during `up` reaches `up` alone, which still gets through the forwards; deploy exits 130 and closes them", async () => {
    let group: number | undefined;
    const running = deploy(["tunnels", "--skip-preflight", "--skip-verify"], { FAKE_UP: "wait" }, (pid) => (group = pid));
    await waitFor("`up` to start", 60_000, async () => (read("up-waiting") !== undefined ? true : undefined), 100);
    const [ssh] = fakeSshCalls(sshRecord());
    expect(isRunning(ssh.pid)).toBe(true);
    process.kill(-(group as number), "SIGINT");
    const run = await running;
    expect(run.status).toBe(130);
    expect(read("up-interrupted-saw")).toBe("grafana, through the forward");
    expect(calls()).not.toContain("stack output --stack tunnels");
    expect(run.stderr).toContain(`deploy: closed the SSH forwards (ssh PID ${ssh.pid})`);
    expect(isRunning(ssh.pid)).toBe(false);
    expect(await listening()).toEqual([false, false, false]);
    expect(leftoverLogs()).toEqual([]);
  });

  test("a failed `up` still closes the forwards", async () => {
    const run = await deploy(["tunnels", "--skip-preflight", "--skip-verify"], { FAKE_UP: "fail" });
    expect(run.status).toBe(1);
    expect(read("up-saw")).toBe("grafana, through the forward");
    const [ssh] = fakeSshCalls(sshRecord());
    expect(run.stderr).toContain(`deploy: closed the SSH forwards (ssh PID ${ssh.pid})`);
    expect(isRunning(ssh.pid)).toBe(false);
    expect(await listening()).toEqual([false, false, false]);
  });

  test("forwards that do not open stop the deploy before `up`, with ssh's own words; nothing is left running", async () => {
    const run = await deploy(["tunnels", "--skip-preflight", "--skip-verify"], { FAKE_SSH_MODE: "fail" });
    expect(run.status).toBe(1);
    expect(calls()).toEqual(["stack select --create --non-interactive tunnels"]);
    expect(run.stderr).toContain("ssh said:");
    expect(run.stderr).toContain("Could not request local forwarding.");
    expect(run.stderr).toContain("the SSH forwards for the providers did not open (above); nothing was deployed");
    const [ssh] = fakeSshCalls(sshRecord());
    expect(isRunning(ssh.pid)).toBe(false);
    expect(leftoverLogs()).toEqual([]);
  });

  test("--no-tunnels opens none", async () => {
    const run = await deploy(["tunnels", "--skip-preflight", "--skip-verify", "--no-tunnels"]);
    expect(run.status).toBe(0);
    expect(fakeSshCalls(sshRecord())).toEqual([]);
    expect(read("up-saw")).toMatch(/^unreachable/);
  });
});
