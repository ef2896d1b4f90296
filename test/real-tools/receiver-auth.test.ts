/**
 * The remote-write receiver's login (components/metrics/web-config.ts) with the real tools, on 127.0.0.1:
 * - promtool accepts the rendered web config with real bcrypt hashes, and refuses one that holds a
 *   password instead of a hash (so the check can fail);
 * - a Prometheus 2.42 started with the rendered server command (`--web.enable-remote-write-receiver`,
 *   `--web.config.file`) and prometheus.yml answers 401 to every path without the login or with a wrong
 *   password; an agent-mode Prometheus scraping a real node-exporter and remote-writing as the agents'
 *   login (`basic_auth.password_file`) gets its series in; a second agent with a wrong password gets
 *   401 and nothing of it arrives; the receiver's own scrape logs in with its password file (`up` 1);
 * - the container healthcheck, run by a real Docker engine in a busybox image as Prometheus's runs as
 *   `nobody`, with the credentials file uploaded as the provider uploads it: healthy with the file,
 *   unhealthy without it or with a wrong password.
 * Grafana's datasource is not run here (no Grafana): it sends the same basic auth as the queries below
 * (grafana/grafana pkg/services/datasources/service/datasource.go, `httpClientOptions`).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { prometheusCommand, renderPrometheusConfig, ScrapeAddresses, ScrapeConfig } from "../../components/metrics/prometheus-config";
import {
  authenticatedHealthcheck,
  basicCredentials,
  HEALTHCHECK_CREDENTIALS_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_WEB_CONFIG_PATH,
  QUERY_PASSWORD_PATH,
  renderWebConfig,
} from "../../components/metrics/web-config";
import { buildBusyboxImage, describeWithDocker, docker, removeById } from "../support/docker";
import { getJsonAs, localCommand, ReceiverLogin, withLocalLoginFiles, writeReceiverLogin } from "../support/local-prometheus";
import { describeWithTools, freePort, RunningProcess, runTool, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

function configFor(stack: string, values: Record<string, unknown>): StackConfig {
  return resolveStackConfig({ stack, values, secretKeys: values.remoteWriteSecrets !== undefined ? ["remoteWriteSecrets"] : [] }).config;
}

interface QueryResponse {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describeWithTools(["promtool", "python3"], "promtool checks the rendered web config", () => {
  const dir = tempDir("atra-web-config-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the web config with the logins' bcrypt hashes is valid", () => {
    const login = writeReceiverLogin(dir);
    expect(Object.keys((yaml.load(login.webConfig) as { basic_auth_users: Record<string, string> }).basic_auth_users)).toEqual([
      PROMETHEUS_LOGINS.agents,
      PROMETHEUS_LOGINS.query,
    ]);
    expect(login.webConfig).not.toContain(login.passwords.agents);
    expect(login.webConfig).not.toContain(login.passwords.query);
    // promtool tells SUCCESS on stderr, which runTool keeps only on failure: the status is the verdict.
    const result = runTool("promtool", ["check", "web-config", login.webConfigFile]);
    expect(result).toEqual({ status: 0, output: "" });
  });

  test("promtool refuses a password where a hash belongs, so the check can fail", () => {
    const file = path.join(dir, "not-hashed.yml");
    fs.writeFileSync(file, renderWebConfig({ [PROMETHEUS_LOGINS.agents]: "a-plain-password" }));
    const result = runTool("promtool", ["check", "web-config", file]);
    expect(result.output).toContain("bcrypt");
    expect(result.status).not.toBe(0);
  });
});

describeWithTools(["prometheus", "prometheus-node-exporter", "python3"], "the receiver requires its login", () => {
  const processes: RunningProcess[] = [];
  let workDir: string;
  let login: ReceiverLogin;
  let receiverUrl: string;
  let receiverPort: number;
  let intruderUrl: string;
  let startedAt = 0;
  const query = <T>(promql: string) => getJsonAs<T>(`${receiverUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, login.authorization("query"));
  // The writer's and the receiver's logs first: they say why a write did not land; node-exporter's last.
  const logs = () =>
    [...processes]
      .sort((a, b) => Number(a.name === "node-exporter") - Number(b.name === "node-exporter"))
      .map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`)
      .join("\n");

  beforeAll(async () => {
    workDir = tempDir("atra-receiver-auth-");
    login = writeReceiverLogin(workDir);
    const [nodePort, writerPort, intruderPort] = [await freePort(), await freePort(), await freePort()];
    receiverPort = await freePort();
    receiverUrl = `http://127.0.0.1:${receiverPort}`;
    intruderUrl = `http://127.0.0.1:${intruderPort}`;
    const unused = `127.0.0.1:${await freePort()}`;
    const addresses = (self: string): ScrapeAddresses => ({
      prometheus: self,
      nodeExporter: `127.0.0.1:${nodePort}`,
      blackboxExporter: unused,
      grafana: unused,
    });

    const receiver = configFor("central-auth", {
      prometheus: { remoteWriteReceiver: true, scrapeInterval: "1s", scrapeTimeout: "1s", hostLabel: "central-1" },
      cadvisor: { enabled: false },
    });
    const command = prometheusCommand(receiver);
    expect(command).toEqual(expect.arrayContaining(["--web.enable-remote-write-receiver", `--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`]));
    const receiverYaml = renderPrometheusConfig(receiver, addresses(`127.0.0.1:${receiverPort}`));
    const document = yaml.load(receiverYaml) as { scrape_configs: ScrapeConfig[] };
    // The receiver scrapes only itself: any node_* series it holds came by remote write.
    document.scrape_configs = document.scrape_configs.filter((job) => job.job_name === "prometheus");
    expect(document.scrape_configs[0].basic_auth).toEqual({ username: PROMETHEUS_LOGINS.query, password_file: QUERY_PASSWORD_PATH });
    expect(receiverYaml).not.toContain(login.passwords.query);
    const receiverFile = path.join(workDir, "receiver.yml");
    fs.writeFileSync(receiverFile, withLocalLoginFiles(yaml.dump(document), login));

    // Agents writing straight to the receiver (plain http on loopback), one with the agents' password, one with a wrong one.
    const agent = (stack: string, host: string, password: string, port: number) => {
      const config = configFor(stack, {
        publicHostname: host,
        prometheus: {
          mode: "agent",
          scrapeInterval: "1s",
          scrapeTimeout: "1s",
          remoteWrite: [
            { name: "central", url: `${receiverUrl}/api/v1/write`, basicAuthUser: PROMETHEUS_LOGINS.agents, queueConfig: { batchSendDeadline: "1s" } },
          ],
          external: { queryUrl: receiverUrl },
        },
        cadvisor: { enabled: false },
        remoteWriteSecrets: { central: password },
      });
      const dir = path.join(workDir, stack);
      fs.mkdirSync(dir);
      const passwordFile = path.join(dir, "remote-write-central");
      fs.writeFileSync(passwordFile, password, { mode: 0o400 });
      const configFile = path.join(dir, "agent.yml");
      const rendered = renderPrometheusConfig(config, addresses(`127.0.0.1:${port}`));
      expect(rendered).not.toContain(password);
      fs.writeFileSync(configFile, rendered.replace("/etc/prometheus/secrets/remote-write-central", passwordFile));
      return localCommand(prometheusCommand(config), { configFile, dataDir: path.join(dir, "data"), listen: `127.0.0.1:${port}` });
    };

    // No systemd here or in CI: its collector only fills the log with dbus errors.
    processes.push(startProcess("node-exporter", "prometheus-node-exporter", [`--web.listen-address=127.0.0.1:${nodePort}`, "--no-collector.systemd"]));
    processes.push(
      startProcess(
        "receiver",
        "prometheus",
        localCommand(command, {
          configFile: receiverFile,
          dataDir: path.join(workDir, "receiver-data"),
          listen: `127.0.0.1:${receiverPort}`,
          webConfigFile: login.webConfigFile,
        }),
      ),
    );
    startedAt = Date.now();
    processes.push(startProcess("writer", "prometheus", agent("writer-test", "app-host-8.example.internal", login.passwords.agents, writerPort)));
    processes.push(startProcess("intruder", "prometheus", agent("intruder-test", "intruder.example.internal", "not-the-agents-password", intruderPort)));
    try {
      const asQuery = { headers: { authorization: login.authorization("query") } };
      await waitFor("the receiver to be ready", 30_000, async () => ((await fetch(`${receiverUrl}/-/ready`, asQuery)).ok ? true : undefined));
      await waitFor("the intruder agent to be ready", 30_000, async () => ((await fetch(`${intruderUrl}/-/ready`)).ok ? true : undefined));
      await waitFor("the writer agent to be ready", 30_000, async () => ((await fetch(`http://127.0.0.1:${writerPort}/-/ready`)).ok ? true : undefined));
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs()}`, { cause: error });
    }
  }, 70_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  test("without the login, or with a wrong password, every path answers 401: UI, query API, /-/ready, /metrics, /api/v1/write", async () => {
    const wrong = `Basic ${basicCredentials(PROMETHEUS_LOGINS.query, "wrong-password")}`;
    const paths = ["/graph", "/api/v1/query?query=up", "/-/ready", "/metrics", "/api/v1/write"];
    for (const requestPath of paths) {
      const unauthenticated: Record<string, string>[] = [{}, { authorization: wrong }];
      for (const headers of unauthenticated) {
        const response = await fetch(`${receiverUrl}${requestPath}`, { method: requestPath === "/api/v1/write" ? "POST" : "GET", headers });
        expect({ requestPath, status: response.status, challenge: response.headers.get("www-authenticate") }).toEqual({
          requestPath,
          status: 401,
          challenge: "Basic",
        });
      }
    }
    // Both logins get through; each is its own user in the web config.
    for (const name of ["agents", "query"] as const) {
      expect((await fetch(`${receiverUrl}/-/ready`, { headers: { authorization: login.authorization(name) } })).status).toBe(200);
    }
  });

  test("the agent writing as the agents' login gets its series in; the one with a wrong password gets 401 and nothing of it arrives", async () => {
    const labels = `stack="writer-test",host="app-host-8.example.internal",job="node-exporter"`;
    const arrived = await waitFor(
      "the writer's node-exporter series at the receiver",
      60_000,
      async () => {
        const count = Number((await query<QueryResponse>(`count({${labels}})`)).data.result[0]?.value[1] ?? 0);
        const load = await query<QueryResponse>(`node_load1{${labels}}`);
        return count > 0 && load.data.result.length === 1 ? count : undefined;
      },
      500,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs()}`, { cause: error });
    });
    const seconds = (Date.now() - startedAt) / 1000;

    // The intruder's sends are refused (a 4xx is not retried: its samples are dropped and counted as failed).
    const failed = await waitFor(
      "the intruder's refused writes",
      30_000,
      async () => {
        const metrics = await (await fetch(`${intruderUrl}/metrics`)).text();
        const match = /^prometheus_remote_storage_samples_failed_total\{[^}]*remote_name="central"[^}]*\} (\S+)$/m.exec(metrics);
        const value = match ? Number(match[1]) : 0;
        return value > 0 ? value : undefined;
      },
      500,
    );
    expect(processes.find((p) => p.name === "intruder")!.output()).toContain("401 Unauthorized");
    const intruder = await query<QueryResponse>('count({stack="intruder-test"})');
    expect(intruder.data.result).toEqual([]);
    console.log(
      `receiver login: ${arrived} series of the agent with the agents' login at the receiver ${seconds.toFixed(1)} s after it started; ` +
        `${failed} samples of the agent with a wrong password refused (401), none arrived`,
    );
  }, 100_000);

  test("the receiver's own scrape logs in with its password file: up is 1", async () => {
    const up = await waitFor(
      "the receiver's self-scrape",
      30_000,
      async () => (await query<QueryResponse>('up{job="prometheus",host="central-1"}')).data.result[0]?.value[1],
      500,
    );
    expect(up).toBe("1");
  }, 40_000);

  describeWithDocker("the container healthcheck (busybox sh and nc, credentials read from the uploaded file)", () => {
    let image: { ref: string; id: string } | undefined;
    const containers: string[] = [];
    beforeAll(() => {
      image = buildBusyboxImage();
    });
    afterAll(() => {
      removeById("container", containers);
      removeById("image", [image?.id]);
    });

    /** A container like Prometheus's (busybox, `nobody`) in the host's network, so 127.0.0.1 is the receiver's. */
    function healthchecked(credentials: string | undefined): string {
      const [kind, command] = authenticatedHealthcheck(`http://127.0.0.1:${receiverPort}/-/ready`);
      expect(kind).toBe("CMD-SHELL");
      const id = docker([
        "create",
        "--network",
        "host",
        "--health-cmd",
        command,
        "--health-interval",
        "1s",
        "--health-timeout",
        "5s",
        "--health-retries",
        "1",
        image!.ref,
        "sleep",
        "300",
      ]);
      containers.push(id);
      // Docker stores the command as the provider sends it: ["CMD-SHELL", command].
      expect(JSON.parse(docker(["inspect", "--format", "{{json .Config.Healthcheck.Test}}", id]))).toEqual(
        authenticatedHealthcheck(`http://127.0.0.1:${receiverPort}/-/ready`),
      );
      if (credentials !== undefined) {
        // As the provider uploads: one tar entry at the file's path, owned by root, read-only for all.
        const root = fs.mkdtempSync(path.join(workDir, "upload-"));
        const relative = HEALTHCHECK_CREDENTIALS_PATH.slice(1);
        fs.mkdirSync(path.join(root, path.dirname(relative)), { recursive: true });
        fs.writeFileSync(path.join(root, relative), credentials, { mode: 0o444 });
        const tarball = execFileSync("tar", ["-C", root, "--owner=0", "--group=0", "-c", relative]);
        docker(["cp", "-", `${id}:/`], tarball);
      }
      docker(["start", id]);
      return id;
    }

    const health = (id: string) => docker(["inspect", "--format", "{{.State.Health.Status}}", id]);
    const settled = (id: string) =>
      waitFor(`container ${id.slice(0, 12)} to be healthy or unhealthy`, 30_000, async () => (health(id) === "starting" ? undefined : health(id)), 500);

    test("healthy with the uploaded credentials, unhealthy without them or with a wrong password", async () => {
      const withFile = healthchecked(fs.readFileSync(login.healthcheckCredentialsFile, "utf8"));
      const withoutFile = healthchecked(undefined);
      const wrongPassword = healthchecked(basicCredentials(PROMETHEUS_LOGINS.query, "wrong-password"));
      expect({ withFile: await settled(withFile), withoutFile: await settled(withoutFile), wrongPassword: await settled(wrongPassword) }).toEqual({
        withFile: "healthy",
        withoutFile: "unhealthy",
        wrongPassword: "unhealthy",
      });
      // The check's own output: without the file, cat reports it missing (a wrong password fails the status check silently).
      const log = JSON.parse(docker(["inspect", "--format", "{{json .State.Health.Log}}", withoutFile])) as { ExitCode: number; Output: string }[];
      expect(log.at(-1)?.ExitCode).not.toBe(0);
      expect(log.at(-1)?.Output).toMatch(/401|cat: can't open/);
    }, 90_000);
  });
});
