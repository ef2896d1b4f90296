/**
 * The SSH forwards `npm run deploy` opens for an ssh:// Docker host (scripts/lib/tunnels.ts): which forwards
 * a stack needs (from its provider URL keys and published ports), the ssh command line (the Docker provider's
 * own destination form: docker/cli cli/connhelper/ssh/ssh.go Spec.Args), and opening and closing them with a
 * stand-in ssh on PATH (test/support/fake-ssh.ts) that really listens and forwards: bounded waits, ssh's own
 * message on failure, and no process left behind (checked by PID) whatever happens.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { accepts, closeTunnel, isRunning, openTunnel, sshArgs, sshDestination, TunnelError, tunnelPlan, TunnelPlan } from "../../scripts/lib/tunnels";
import { fakeSshCalls, writeFakeSsh } from "../support/fake-ssh";
import { resolvedStackConfig } from "../support/plan";
import { freePort, tempDir } from "../support/real-tools";

function config(values: Record<string, unknown>, stack = "staging"): StackConfig {
  return resolveStackConfig({ stack, values: { environment: "staging", ...values }, secretKeys: [] }).config;
}

const SSH_HOST = { dockerHost: "ssh://deploy@obs.example.internal" };
const PROVIDER_URLS = {
  grafana: { providerUrl: "http://127.0.0.1:13000" },
  logs: { elasticsearchProviderUrl: "http://127.0.0.1:19200", kibanaProviderUrl: "http://127.0.0.1:15601" },
};

describe("which forwards a stack needs", () => {
  test("prod: one per provider URL key, to the published port on the host's loopback, as the Docker provider reaches the host", () => {
    const prod = resolvedStackConfig("prod");
    const plan = tunnelPlan(prod, prod.dockerHost as string) as TunnelPlan;
    expect(plan.destination).toEqual({ user: "deploy", host: "obs-prod.atra.internal" });
    expect(
      plan.forwards.map((forward) => [forward.key, `${forward.local.host}:${forward.local.port}`, `${forward.remote.host}:${forward.remote.port}`]),
    ).toEqual([
      ["grafana.providerUrl", "127.0.0.1:13000", `127.0.0.1:${prod.ports.grafana}`],
      ["logs.elasticsearchProviderUrl", "127.0.0.1:19200", `127.0.0.1:${prod.ports.elasticsearch}`],
      ["logs.kibanaProviderUrl", "127.0.0.1:15601", `127.0.0.1:${prod.ports.kibana}`],
    ]);
    expect(sshArgs(plan)).toEqual([
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=30",
      "-o",
      "ServerAliveInterval=15",
      "-o",
      "ServerAliveCountMax=4",
      "-L",
      `127.0.0.1:13000:127.0.0.1:${prod.ports.grafana}`,
      "-L",
      `127.0.0.1:19200:127.0.0.1:${prod.ports.elasticsearch}`,
      "-L",
      `127.0.0.1:15601:127.0.0.1:${prod.ports.kibana}`,
      "-l",
      "deploy",
      "--",
      "obs-prod.atra.internal",
    ]);
  });

  test("the ssh destination is read as docker/cli reads it: user, host, port; no password", () => {
    expect(sshDestination("ssh://ops@10.0.0.5:2222")).toEqual({ user: "ops", host: "10.0.0.5", port: "2222" });
    expect(sshDestination("ssh://obs.example.internal")).toEqual({ host: "obs.example.internal" });
    expect(sshDestination("unix:///var/run/docker.sock")).toBeUndefined();
    expect(sshDestination("tcp://10.0.0.5:2376")).toBeUndefined();
    expect(() => sshDestination("ssh://ops:secret@host")).toThrow(TunnelError);
    const plan = tunnelPlan(config({ ...PROVIDER_URLS, dockerHost: "ssh://ops@10.0.0.5:2222" }), "ssh://ops@10.0.0.5:2222") as TunnelPlan;
    expect(sshArgs(plan).slice(-6)).toEqual(["-l", "ops", "-p", "2222", "--", "10.0.0.5"]);
  });

  test("no ssh:// host: no forwards (the published ports are local, or reached as the URLs say)", () => {
    expect(tunnelPlan(config({}), "unix:///var/run/docker.sock")).toBeUndefined();
  });

  test("the remote end is where the host reaches the published port: bindAddress, or loopback when bound to every interface", () => {
    const specific = tunnelPlan(config({ ...SSH_HOST, ...PROVIDER_URLS, bindAddress: "10.0.0.5" }), SSH_HOST.dockerHost) as TunnelPlan;
    expect(specific.forwards.map((forward) => forward.remote.host)).toEqual(["10.0.0.5", "10.0.0.5", "10.0.0.5"]);
    const every = tunnelPlan(config({ ...SSH_HOST, ...PROVIDER_URLS, bindAddress: "0.0.0.0" }), SSH_HOST.dockerHost) as TunnelPlan;
    expect(every.forwards.map((forward) => forward.remote.host)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1"]);
  });

  test("a provider URL on another host is reached directly; logs off, no Elastic forwards", () => {
    const plan = tunnelPlan(
      config({
        ...SSH_HOST,
        bindAddress: "0.0.0.0",
        publicHostname: "obs.example.internal",
        grafana: { providerUrl: "https://obs.example.internal:3000" },
        logs: { enabled: false },
      }),
      SSH_HOST.dockerHost,
    ) as TunnelPlan;
    expect(plan.forwards).toEqual([]);
    expect(plan.direct.map((entry) => entry.key)).toEqual(["grafana.providerUrl"]);
  });

  test("an agent host runs no Grafana, Elasticsearch or Kibana: nothing to forward", () => {
    const agent = resolvedStackConfig("agent-example");
    expect(tunnelPlan(agent, agent.dockerHost as string)?.forwards).toEqual([]);
  });

  test("two keys on the same local port are refused: one provider would reach the wrong server", () => {
    expect(() =>
      tunnelPlan(
        config({
          ...SSH_HOST,
          grafana: { providerUrl: "http://127.0.0.1:13000" },
          logs: { elasticsearchProviderUrl: "http://127.0.0.1:13000", kibanaProviderUrl: "http://127.0.0.1:15601" },
        }),
        SSH_HOST.dockerHost,
      ),
    ).toThrow(/logs.elasticsearchProviderUrl .* and grafana.providerUrl name the same local port 13000/);
  });
});

describe("opening and closing the forwards (a stand-in ssh on PATH)", () => {
  let dir: string;
  let ssh: string;
  let record: string;
  let remote: http.Server;
  let remotePort: number;
  const started: number[] = [];

  beforeAll(async () => {
    dir = tempDir("atra-tunnels-");
    ssh = writeFakeSsh(dir);
    record = path.join(dir, "calls.jsonl");
    // The "published port on the host": an HTTP server the forward must reach.
    remotePort = await freePort();
    remote = http.createServer((_, response) => response.end("grafana behind the forward"));
    await new Promise<void>((resolve) => remote.listen(remotePort, "127.0.0.1", () => resolve()));
  });
  afterEach(async () => {
    // Whatever a test left, by the PIDs the stand-in recorded (each test checks it left nothing first).
    for (const call of fakeSshCalls(record)) started.push(call.pid);
    fs.rmSync(record, { force: true });
    for (const pid of started.splice(0)) if (isRunning(pid)) await closeTunnel(pid, 1000);
  });
  afterAll(async () => {
    await new Promise((resolve) => remote.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function planWith(localPorts: number[]): Promise<TunnelPlan> {
    const plan = tunnelPlan(
      config({
        ...SSH_HOST,
        grafana: { providerUrl: `http://127.0.0.1:${localPorts[0]}` },
        logs: { elasticsearchProviderUrl: `http://127.0.0.1:${localPorts[1]}`, kibanaProviderUrl: `http://127.0.0.1:${localPorts[2]}` },
        ports: { grafana: remotePort, elasticsearch: await freePort(), kibana: await freePort() },
      }),
      SSH_HOST.dockerHost,
    ) as TunnelPlan;
    return plan;
  }
  const env = (mode: string) => ({ ...process.env, FAKE_SSH_MODE: mode, FAKE_SSH_RECORD: record });
  const logFile = () => path.join(dir, `ssh-${Date.now()}.log`);

  test("opens every forward, returns once each listens, carries traffic; closing by PID stops ssh and the listeners", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const plan = await planWith(ports);
    const pid = await openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 10_000, env: env("ok") });
    const [call] = fakeSshCalls(record);
    expect(call.pid).toBe(pid);
    expect(call.argv).toEqual(sshArgs(plan));
    for (const port of ports) expect(await accepts("127.0.0.1", port)).toBe(true);
    const answer = await fetch(`http://127.0.0.1:${ports[0]}/api/health`, { signal: AbortSignal.timeout(5000) });
    expect(await answer.text()).toBe("grafana behind the forward");
    await closeTunnel(pid);
    expect({ running: isRunning(pid), listening: await Promise.all(ports.map((port) => accepts("127.0.0.1", port))) }).toEqual({
      running: false,
      listening: [false, false, false],
    });
  });

  test("ssh that cannot set up a forward (ExitOnForwardFailure) fails the open with ssh's own words; nothing is left running", async () => {
    const plan = await planWith([await freePort(), await freePort(), await freePort()]);
    const opening = openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 10_000, env: env("fail") });
    await expect(opening).rejects.toThrow(/did not open: ssh exited with code 255\nssh said:\n {2}bind \[127\.0\.0\.1\]:\d+: Address already in use/);
    const [call] = fakeSshCalls(record);
    expect(isRunning(call.pid)).toBe(false);
  });

  test("ssh that never listens is stopped after the bounded wait", async () => {
    const plan = await planWith([await freePort(), await freePort(), await freePort()]);
    const before = Date.now();
    await expect(openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 1_500, env: env("hang") })).rejects.toThrow(
      /did not listen within 2 s .*; ssh was stopped/,
    );
    expect(Date.now() - before).toBeLessThan(10_000);
    const [call] = fakeSshCalls(record);
    expect(isRunning(call.pid)).toBe(false);
  });

  test("a forward that closes right after opening is a failure, not a success", async () => {
    const plan = await planWith([await freePort(), await freePort(), await freePort()]);
    // The stand-in listens, then exits at the first connection (the readiness check's), as when the connection drops.
    await expect(openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 10_000, env: env("close-on-connect") })).rejects.toThrow(
      /(did not open|closed right after opening): ssh exited with code 255\nssh said:\n {2}Connection to host closed by remote host\./,
    );
    const [call] = fakeSshCalls(record);
    expect(isRunning(call.pid)).toBe(false);
  });

  test("a local port already in use (a tunnel opened by hand) is refused before ssh starts, saying what to do", async () => {
    const busyPort = await freePort();
    const busy = http.createServer(() => undefined);
    await new Promise<void>((resolve) => busy.listen(busyPort, "127.0.0.1", () => resolve()));
    try {
      const plan = await planWith([busyPort, await freePort(), await freePort()]);
      await expect(openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 10_000, env: env("ok") })).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${busyPort} \\(grafana.providerUrl\\) is already in use on this machine: a tunnel opened by hand\\?`),
      );
      expect(fakeSshCalls(record)).toEqual([]);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  test("aborted while opening (Ctrl-C): ssh is stopped and the open fails", async () => {
    const plan = await planWith([await freePort(), await freePort(), await freePort()]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(openTunnel(plan, { ssh, logFile: logFile(), timeoutMs: 10_000, signal: controller.signal, env: env("hang") })).rejects.toThrow(/interrupted/);
    const [call] = fakeSshCalls(record);
    expect(isRunning(call.pid)).toBe(false);
  });

  test("no ssh on this machine: a clear failure", async () => {
    const plan = await planWith([await freePort(), await freePort(), await freePort()]);
    await expect(openTunnel(plan, { ssh: path.join(dir, "no-such-ssh"), logFile: logFile(), timeoutMs: 5_000 })).rejects.toThrow(
      /could not start .*no-such-ssh/,
    );
  });
});
