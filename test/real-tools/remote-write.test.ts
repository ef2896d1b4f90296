/**
 * Remote write to an external backend and agent mode with the real tools (Debian's Prometheus 2.42,
 * promtool, node-exporter), on 127.0.0.1:
 * - promtool accepts every rendered config with remote write, in server mode and (`--agent`) in agent
 *   mode, and its agent check does refuse what agent mode forbids (so the check can fail);
 * - an agent-mode Prometheus started with the rendered config and command line (3.x's `--agent`
 *   spelled `--enable-feature=agent`, as 2.42 takes it: prometheus/prometheus v2.42.0
 *   cmd/prometheus/main.go setFeatureListOptions) scrapes a real node-exporter and remote-writes,
 *   through a proxy that checks the basic auth the agent sends from its password file (the gateway in
 *   front of a backend such as Mimir), to a stand-in backend: a second Prometheus, rendered as a central
 *   stack's, to which the test adds `--web.enable-remote-write-receiver` (since v2.33.0; the stack itself
 *   never enables it). The host's series must arrive with the agent's external labels (stack,
 *   environment, host). A second remote write sends its Bearer token from its credentials file to the
 *   proxy, which checks and counts it.
 * The only change to the rendered files is where the credentials files live (temp files, not
 * /etc/prometheus/secrets/...) and the listen addresses and storage paths (temp dirs, free ports).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { dockerScrapeAddresses } from "../../components/metrics/metrics-stack";
import { prometheusCommand, remoteWriteCredentialsPath, renderPrometheusConfig, ScrapeAddresses } from "../../components/metrics/prometheus-config";
import { everyOptionStackConfig, EVERY_OPTION_VALUES } from "../support/every-option-stack";
import { describeWithTools, freePort, RunningProcess, runTool, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";
import { getJson } from "../support/real-tools";
import { localCommand } from "../support/local-prometheus";

const SECRET_KEYS = ["remoteWriteSecrets", "prometheusQueryPassword"];
function configFor(stack: string, values: Record<string, unknown>): StackConfig {
  return resolveStackConfig({ stack, values, secretKeys: SECRET_KEYS.filter((key) => values[key] !== undefined) }).config;
}

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describeWithTools(["promtool"], "promtool accepts the rendered remote-write configs", () => {
  const dir = tempDir("atra-remote-promtool-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const check = (name: string, text: string, agent: boolean) => {
    const file = path.join(dir, `${name}.yml`);
    fs.writeFileSync(file, text);
    return runTool("promtool", ["check", "config", ...(agent ? ["--agent"] : []), file]);
  };
  const agentConfig = configFor("agent-check", {
    publicHostname: "app-host-7",
    prometheus: {
      mode: "agent",
      remoteWrite: [
        { name: "central", url: "https://metrics.example.internal/api/v1/write", basicAuthUser: "app-host-7", headers: { "X-Scope-OrgID": "atra" } },
        { name: "cloud", url: "https://cloud.example/api/prom/push", queueConfig: { maxShards: 5, batchSendDeadline: "10s", retryOnRateLimit: true } },
      ],
      external: { queryUrl: "https://metrics.example.internal" },
    },
    remoteWriteSecrets: { central: "pw", cloud: "token" },
  });

  test("server mode: the every-option stack (remote write with basic auth, Bearer token and none, every queue setting, agent federation jobs)", () => {
    const { config } = resolveStackConfig({
      stack: "every-option",
      values: EVERY_OPTION_VALUES,
      secretKeys: everyOptionStackConfig()!.secretKeys.map((key) => key.replace(/^atra-observability:/, "")),
    });
    const text = renderPrometheusConfig(config, dockerScrapeAddresses(config));
    expect(text).toContain("password_file: /etc/prometheus/secrets/remote-write-central");
    expect(text).toContain("credentials_file: /etc/prometheus/secrets/remote-write-cloud");
    const result = check("every-option", text, false);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  test("agent mode, checked with --agent", () => {
    const result = check("agent", renderPrometheusConfig(agentConfig, dockerScrapeAddresses(agentConfig)), true);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  test("promtool --agent refuses what agent mode forbids, so the agent check can fail", () => {
    const ruleFile = path.join(dir, "rules.yml");
    fs.writeFileSync(ruleFile, "groups: []\n");
    const withRules = `${renderPrometheusConfig(agentConfig, dockerScrapeAddresses(agentConfig))}rule_files:\n  - ${ruleFile}\n`;
    expect(check("agent-with-rules", withRules, false).status).toBe(0);
    const result = check("agent-with-rules", withRules, true);
    expect(result.output).toContain("not allowed in agent mode");
    expect(result.status).not.toBe(0);
  });
});

describeWithTools(["prometheus", "prometheus-node-exporter", "python3"], "an agent-mode Prometheus remote-writes the host's series to a receiver", () => {
  const processes: RunningProcess[] = [];
  let proxy: http.Server | undefined;
  let workDir: string;
  let receiverUrl: string;
  let agentUrl: string;
  const seen = { authorized: 0, refused: 0, bearer: 0 };
  const token = "agent-remote-write-bearer-token-5678";
  // The backend's login for this agent, its password what the agent's secret holds (checked by the proxy).
  const user = "app-host-7";
  const password = "backend-password-0123456789abcdef";
  const query = <T>(promql: string) => getJson<T>(`${receiverUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  let agent: StackConfig;
  let startedAt = 0;

  beforeAll(async () => {
    workDir = tempDir("atra-remote-write-");
    const [nodePort, receiverPort, proxyPort, agentPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    receiverUrl = `http://127.0.0.1:${receiverPort}`;
    agentUrl = `http://127.0.0.1:${agentPort}`;
    const unused = `127.0.0.1:${await freePort()}`;

    // A stand-in for the gateway in front of a backend: it refuses a write without the basic auth the agent's
    // password file holds, and forwards and counts the others.
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    proxy = http.createServer((request, response) => {
      // The second remote write ("cloud") sends its Bearer token from its credentials file; it is only counted.
      if (request.url?.startsWith("/bearer/")) {
        if (request.headers.authorization === `Bearer ${token}`) seen.bearer += 1;
        else seen.refused += 1;
        request.resume();
        request.on("end", () => {
          response.writeHead(request.headers.authorization === `Bearer ${token}` ? 204 : 401);
          response.end();
        });
        return;
      }
      if (request.headers.authorization === expected) seen.authorized += 1;
      else {
        seen.refused += 1;
        request.resume();
        request.on("end", () => response.writeHead(401).end());
        return;
      }
      const forward = http.request(
        {
          host: "127.0.0.1",
          port: receiverPort,
          path: request.url,
          method: request.method,
          headers: { ...request.headers, host: `127.0.0.1:${receiverPort}` },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forward.on("error", () => {
        response.writeHead(502);
        response.end();
      });
      request.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy!.listen(proxyPort, "127.0.0.1", () => resolve()));

    agent = configFor("agent-test", {
      publicHostname: "app-host-7.example.internal",
      prometheus: {
        mode: "agent",
        scrapeInterval: "1s",
        scrapeTimeout: "1s",
        remoteWrite: [
          { name: "central", url: `http://127.0.0.1:${proxyPort}/api/v1/write`, basicAuthUser: user, queueConfig: { batchSendDeadline: "1s" } },
          { name: "cloud", url: `http://127.0.0.1:${proxyPort}/bearer/api/v1/write`, queueConfig: { batchSendDeadline: "1s" } },
        ],
        external: { queryUrl: receiverUrl },
      },
      cadvisor: { enabled: false },
      remoteWriteSecrets: { central: password, cloud: token },
    });
    const receiver = configFor("central-test", {
      prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s", hostLabel: "central-1" },
      cadvisor: { enabled: false },
    });

    const addresses = (self: string): ScrapeAddresses => ({
      prometheus: self,
      nodeExporter: `127.0.0.1:${nodePort}`,
      blackboxExporter: unused,
      grafana: unused,
    });
    // The credentials file: its content the secret (as MetricsStack uploads it), at a local path.
    const credentialsFile = path.join(workDir, "remote-write-central");
    fs.writeFileSync(credentialsFile, `${password}\n`, { mode: 0o400 });
    const tokenFile = path.join(workDir, "remote-write-cloud");
    fs.writeFileSync(tokenFile, token, { mode: 0o400 });
    const agentYaml = renderPrometheusConfig(agent, addresses(`127.0.0.1:${agentPort}`));
    expect(agentYaml).not.toContain(password);
    expect(agentYaml).not.toContain(token);
    expect(agentYaml.split(remoteWriteCredentialsPath("central")).length).toBe(2);
    expect(agentYaml.split(remoteWriteCredentialsPath("cloud")).length).toBe(2);
    const agentFile = path.join(workDir, "agent.yml");
    fs.writeFileSync(
      agentFile,
      agentYaml.replace(remoteWriteCredentialsPath("central"), credentialsFile).replace(remoteWriteCredentialsPath("cloud"), tokenFile),
    );
    const receiverFile = path.join(workDir, "receiver.yml");
    // The receiver scrapes only itself: any node_* series it holds came by remote write.
    const receiverDocument = yaml.load(renderPrometheusConfig(receiver, addresses(`127.0.0.1:${receiverPort}`))) as { scrape_configs: { job_name: string }[] };
    receiverDocument.scrape_configs = receiverDocument.scrape_configs.filter((job) => job.job_name === "prometheus");
    fs.writeFileSync(receiverFile, yaml.dump(receiverDocument));

    processes.push(startProcess("node-exporter", "prometheus-node-exporter", [`--web.listen-address=127.0.0.1:${nodePort}`]));
    processes.push(
      startProcess("receiver", "prometheus", [
        ...localCommand(prometheusCommand(receiver), {
          configFile: receiverFile,
          dataDir: path.join(workDir, "receiver-data"),
          listen: `127.0.0.1:${receiverPort}`,
        }),
        // The stand-in backend's own flag: no stack Prometheus has it (prometheus-config.ts prometheusCommand).
        "--web.enable-remote-write-receiver",
      ]),
    );
    startedAt = Date.now();
    processes.push(
      startProcess(
        "agent",
        "prometheus",
        localCommand(prometheusCommand(agent), { configFile: agentFile, dataDir: path.join(workDir, "agent-data"), listen: `127.0.0.1:${agentPort}` }),
      ),
    );
    const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join("\n");
    try {
      await waitFor("the receiver to be ready", 30_000, async () => ((await fetch(`${receiverUrl}/-/ready`)).ok ? true : undefined));
      // The container's healthcheck asks /-/ready: an agent answers it too.
      await waitFor("the agent to be ready", 30_000, async () => ((await fetch(`${agentUrl}/-/ready`)).ok ? true : undefined));
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs()}`, { cause: error });
    }
  }, 70_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  test("the agent was started with the agent flags: it runs in agent mode and has no query API", async () => {
    const agentProcess = processes.find((p) => p.name === "agent")!;
    expect(agentProcess.child.spawnargs).toContain("--enable-feature=agent");
    expect(agentProcess.child.spawnargs.some((arg) => arg.startsWith("--storage.tsdb"))).toBe(false);
    const response = await fetch(`${agentUrl}/api/v1/query?query=up`);
    expect(response.ok).toBe(false);
    expect(await response.text()).toMatch(/agent/i);
  });

  test("without the receiver flag Prometheus refuses remote writes, so the receiver's arrivals are the flag's doing", async () => {
    // The agent's command has no --web.enable-remote-write-receiver: prometheus/prometheus web/api/v1/api.go
    // (remoteWrite) answers 404 "remote write receiver needs to be enabled with ..." (v2.42.0 names the
    // deprecated feature flag there, v3.5.0 the flag; v2.42.0 main.go takes both).
    const response = await fetch(`${agentUrl}/api/v1/write`, { method: "POST", body: "" });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("remote write receiver needs to be enabled");
  });

  test("the host's series arrive at the receiver with the agent's external labels, sent with the secrets as basic auth and as a Bearer token", async () => {
    const labels = `stack="agent-test",environment="dev",host="app-host-7.example.internal",job="node-exporter"`;
    const arrived = await waitFor(
      "node-exporter series at the receiver",
      60_000,
      async () => {
        // The first batches may carry part of a scrape: wait for a full one (node_load1 among > 100 series).
        const response = await query<QueryResponse>(`count({${labels}})`);
        const count = Number(response.data.result[0]?.value[1] ?? 0);
        const load = await query<QueryResponse>(`node_load1{${labels}}`);
        return count > 100 && load.data.result.length === 1 ? count : undefined;
      },
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${processes.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`).join("\n")}`, { cause: error });
    });
    const seconds = (Date.now() - startedAt) / 1000;
    const load = await query<QueryResponse>(`node_load1{${labels}}`);
    expect(load.data.result).toHaveLength(1);
    expect(load.data.result[0].metric).toMatchObject({ stack: "agent-test", environment: "dev", host: "app-host-7.example.internal", job: "node-exporter" });
    expect(seen.authorized).toBeGreaterThan(0);
    await waitFor("a write with the Bearer token", 20_000, async () => (seen.bearer > 0 ? true : undefined));
    expect(seen.refused).toBe(0);
    // Figures for the record (README: what is verified).
    console.log(
      `remote write: ${arrived} node-exporter series of the agent at the receiver ${seconds.toFixed(1)} s after the agent started; ${seen.authorized} basic-auth and ${seen.bearer} Bearer-token writes, ${seen.refused} refused`,
    );
  }, 70_000);

  test("the receiver's own series carry its host as a target label (external labels never reach local queries), so `up` tells both hosts apart", async () => {
    const hosts = await waitFor(
      "up of both hosts at the receiver",
      30_000,
      async () => {
        const response = await query<QueryResponse>("count by (host) (up)");
        const found = response.data.result.map((sample) => sample.metric.host).sort();
        return found.length === 2 ? found : undefined;
      },
      500,
    );
    expect(hosts).toEqual(["app-host-7.example.internal", "central-1"]);
    // Both self-scrapes, each at its own first scrape interval (the hosts above may have come from other jobs first).
    const selfScrapes = await waitFor(
      "both Prometheus self-scrapes at the receiver",
      30_000,
      async () => {
        const response = await query<QueryResponse>('up{job="prometheus"}');
        return response.data.result.length === 2 ? response.data.result : undefined;
      },
      500,
    );
    // The agent's arrive with its external labels; the receiver's own lack its external label `stack`.
    expect(selfScrapes.map((sample) => sample.metric).sort((a, b) => a.host.localeCompare(b.host))).toEqual([
      { __name__: "up", job: "prometheus", instance: expect.any(String), host: "app-host-7.example.internal", stack: "agent-test", environment: "dev" },
      { __name__: "up", job: "prometheus", instance: expect.any(String), host: "central-1" },
    ]);
  }, 70_000);
});
