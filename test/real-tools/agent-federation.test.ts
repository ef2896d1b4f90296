/**
 * The central Prometheus pulling agent hosts (issue 21, Major 1), with the real Prometheus 2.42 on
 * 127.0.0.1. Each Prometheus runs from what the stack renders:
 * - the central: the agent jobs of the prometheus.yml rendered for a central stack listing two agents
 *   (the container paths of the CA and the per-agent password files replaced by local files; its own jobs,
 *   whose containers do not run here, left out);
 * - agent A: a Prometheus started from the prometheus.yml, web config and command line rendered for an
 *   agent stack given its `federation` secret (server mode, TLS with the certificate issued for its host,
 *   the central's login), scraping a real node-exporter;
 * - agent B: a compromised host, here a small Node HTTPS server that knows B's password, serves the
 *   exposition text of its choice, forging `host="<A's host>"`, a central-only job and future timestamps,
 *   a probe of a service it is not listed for (agents[].services), then a flood of series, a redirect, and
 *   new series at every pull (churn).
 * Shown: A's series land with A's host (and how many a real agent sends: the default agentLimits); nothing
 * of B lands as A's host, as a central job, as a recording rule's series or as a service it does not run;
 * B's redirect is not followed; B's churn makes AgentSeriesChurn's expression hold; B's samples carry
 * the central's scrape time; B over its sample_limit fails its own scrape while A keeps flowing; removing
 * B's entry (config reload, SIGHUP) stops the pulls of B while A keeps flowing; B's password opens nothing of A.
 * Certificates are made here with openssl (a CA, one certificate per agent host), never committed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { agentJobName, agentPasswordPath, prometheusCommand, renderPrometheusConfig } from "../../components/metrics/prometheus-config";
import { AGENT_LIMIT_DEFAULTS } from "../../components/metrics/remote-config";
import {
  FEDERATION_CA_PATH,
  HEALTHCHECK_PASSWORD_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_TLS_CERT_PATH,
  PROMETHEUS_TLS_KEY_PATH,
  renderWebConfig,
} from "../../components/metrics/web-config";
import { bcryptHash, localCommand } from "../support/local-prometheus";
import { describeWithTools, freePort, RunningProcess, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

const HOST_A = "agent-a.test";
const HOST_B = "agent-b.test";
const SAMPLE_LIMIT = 2000;
const CHURN_PER_PULL = 1500;

interface Vector {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}
interface Targets {
  data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string; lastScrape: string }[] };
}

/** A federation CA and, per host, a server certificate naming that host alone (as agent-federation.ts agentCertificateNames issues). */
function makeFederationPki(dir: string, hosts: string[]): { caPem: string; chains: Record<string, string>; keys: Record<string, string> } {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=federation-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  const caPem = fs.readFileSync(path.join(dir, "ca.pem"), "utf8");
  const chains: Record<string, string> = {};
  const keys: Record<string, string> = {};
  for (const host of hosts) {
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${host}.key`, "-out", `${host}.csr`, "-subj", `/CN=${host}`);
    fs.writeFileSync(path.join(dir, `${host}.ext`), `subjectAltName=DNS:${host}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${host}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${host}.pem`,
      "-days",
      "2",
      "-extfile",
      `${host}.ext`,
    );
    chains[host] = fs.readFileSync(path.join(dir, `${host}.pem`), "utf8") + caPem;
    keys[host] = fs.readFileSync(path.join(dir, `${host}.key`), "utf8");
  }
  return { caPem, chains, keys };
}

describeWithTools(["prometheus", "prometheus-node-exporter", "promtool", "python3", "openssl"], "the central Prometheus pulling agent hosts", () => {
  const processes: RunningProcess[] = [];
  let server: https.Server | undefined;
  let dir: string;
  let centralUrl: string;
  let centralConfigFile: string;
  let renderedCentral: { scrape_configs: Record<string, unknown>[] } & Record<string, unknown>;
  let portA: number;
  const passwords = { [HOST_A]: "passwordA0123456789abcdefghijklmn", [HOST_B]: "passwordB0123456789abcdefghijklmn" };
  // What B serves, switched by the test; and every Authorization header B was sent.
  let bMode: "forge" | "flood" | "redirect" | "churn" = "forge";
  const bAuthorizations: string[] = [];
  let bRequests = 0;
  // Requests that reached the place B redirects to (with the Authorization header each carried).
  const redirected: string[] = [];
  let churnRound = 0;
  const futureMs = Date.now() + 3600_000;

  const query = async (expr: string): Promise<Vector["data"]["result"]> => {
    const response = await fetch(`${centralUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`query ${expr}: HTTP ${response.status}`);
    return ((await response.json()) as Vector).data.result;
  };
  const targets = async () => {
    const response = await fetch(`${centralUrl}/api/v1/targets`, { signal: AbortSignal.timeout(5000) });
    return ((await response.json()) as Targets).data.activeTargets;
  };
  const target = async (host: string) => (await targets()).find((entry) => entry.labels.job === agentJobName(host));

  beforeAll(async () => {
    dir = tempDir("atra-federation-");
    const file = (name: string, content: string) => {
      const target_ = path.join(dir, name);
      fs.writeFileSync(target_, content, { mode: 0o600 });
      return target_;
    };
    const pki = makeFederationPki(dir, [HOST_A, HOST_B]);
    const [centralPort, nodePort, bPort] = [await freePort(), await freePort(), await freePort()];
    portA = await freePort();

    // Agent B: a compromised host. It knows its own password and serves what it likes.
    server = https.createServer({ cert: pki.chains[HOST_B], key: pki.keys[HOST_B] }, (request, response) => {
      if (request.url?.startsWith("/elsewhere")) {
        redirected.push(request.headers.authorization ?? "");
        response.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end("elsewhere 1\n");
        return;
      }
      bRequests += 1;
      bAuthorizations.push(request.headers.authorization ?? "");
      if (request.headers.authorization !== `Basic ${Buffer.from(`${PROMETHEUS_LOGINS.central}:${passwords[HOST_B]}`).toString("base64")}`) {
        response.writeHead(401).end();
        return;
      }
      if (bMode === "redirect") {
        response.writeHead(302, { location: `https://127.0.0.1:${bPort}/elsewhere` }).end();
        return;
      }
      churnRound += bMode === "churn" ? 1 : 0;
      const lines =
        bMode === "churn"
          ? // New label values at every pull, each pull well under sample_limit.
            Array.from({ length: CHURN_PER_PULL }, (_, index) => `churn_series{job="worker",round="${churnRound}",n="${index}"} 1`)
          : bMode === "forge"
            ? [
                `node_load1{job="node-exporter",instance="b:9100",host="${HOST_A}"} 99 ${futureMs}`,
                `forged_metric{job="worker",instance="w:1",host="${HOST_A}"} 7 ${futureMs}`,
                `up{job="grafana",instance="grafana:3000",host="central.test"} 1`,
                `up{job="${agentJobName(HOST_A)}",instance="x",host="${HOST_A}"} 1`,
                // A recording rule's output (the SLO series are named so): only the central stack makes them.
                `service_slo:error_budget_remaining:ratio{service="worker",job="worker"} 1`,
                // A probe of a service B does not run (agents[].services lists only worker for B): it would
                // fake or hide api's alerts and SLO burn, which sum across hosts. And one of its own: kept.
                `probe_success{job="blackbox-health",instance="http://api:8080/health",service="api"} 0`,
                `probe_success{job="blackbox-health",instance="http://worker:8080/health",service="worker"} 1`,
              ]
            : Array.from({ length: SAMPLE_LIMIT + 500 }, (_, index) => `flood_series{job="worker",n="${index}"} 1`);
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
    });
    await new Promise<void>((resolve) => server!.listen(bPort, "127.0.0.1", resolve));

    // Agent A: the rendered agent stack, given its entry of agentFederation.
    const federationA = JSON.stringify({
      password: passwords[HOST_A],
      passwordHash: bcryptHash(passwords[HOST_A]),
      certificate: pki.chains[HOST_A],
      key: pki.keys[HOST_A],
    });
    const agent = resolveStackConfig({
      stack: "agent-a",
      values: { role: "agent", publicHostname: HOST_A, bindAddress: "0.0.0.0", federation: federationA, prometheus: { scrapeInterval: "1s" } },
      secretKeys: ["federation"],
    }).config;
    expect(agent.prometheus.mode).toBe("server");
    const healthcheckPassword = "healthcheck0123456789abcdefghijkl";
    const agentFiles = {
      [FEDERATION_CA_PATH]: file("a-ca.pem", pki.caPem),
      [HEALTHCHECK_PASSWORD_PATH]: file("a-healthcheck", healthcheckPassword),
      [PROMETHEUS_TLS_CERT_PATH]: file("a-server.pem", pki.chains[HOST_A]),
      [PROMETHEUS_TLS_KEY_PATH]: file("a-server.key", pki.keys[HOST_A]),
    };
    let agentYaml = renderPrometheusConfig(
      agent,
      { prometheus: `127.0.0.1:${portA}`, nodeExporter: `127.0.0.1:${nodePort}`, blackboxExporter: "127.0.0.1:1" },
      [],
      {
        caFile: FEDERATION_CA_PATH,
        // As metrics-stack.ts federatedAgentTls: its self-scrape reaches it over loopback, checking its host's name.
        serverName: HOST_A,
        probeTargets: [],
      },
    );
    for (const [containerPath, local] of Object.entries(agentFiles)) agentYaml = agentYaml.split(containerPath).join(local);
    const agentDocument = yaml.load(agentYaml) as { scrape_configs: { job_name: string }[] };
    // The blackbox exporter and cAdvisor do not run here.
    agentDocument.scrape_configs = agentDocument.scrape_configs.filter((job) => ["prometheus", "node-exporter"].includes(job.job_name));
    let webConfig = renderWebConfig(
      { [PROMETHEUS_LOGINS.central]: bcryptHash(passwords[HOST_A]), [PROMETHEUS_LOGINS.healthcheck]: bcryptHash(healthcheckPassword) },
      { certFile: PROMETHEUS_TLS_CERT_PATH, keyFile: PROMETHEUS_TLS_KEY_PATH },
    );
    for (const [containerPath, local] of Object.entries(agentFiles)) webConfig = webConfig.split(containerPath).join(local);
    const agentConfigFile = file("agent-a.yml", yaml.dump(agentDocument));
    const agentCommand = localCommand(prometheusCommand(agent, true), {
      configFile: agentConfigFile,
      dataDir: path.join(dir, "agent-a-data"),
      listen: `127.0.0.1:${portA}`,
      webConfigFile: file("agent-a-web.yml", webConfig),
    });
    expect(agentCommand).toContain("--storage.tsdb.retention.time=2h");

    // The central: the agent jobs of the rendered central prometheus.yml.
    const central = resolveStackConfig({
      stack: "central",
      values: {
        publicHostname: "central.test",
        agents: [
          { host: HOST_A, prometheusUrl: `https://127.0.0.1:${portA}` },
          { host: HOST_B, prometheusUrl: `https://127.0.0.1:${bPort}`, services: ["worker"] },
        ],
        prometheus: { scrapeInterval: "1s", agentLimits: { sampleLimit: SAMPLE_LIMIT } },
      },
      secretKeys: [],
    }).config;
    let centralYaml = renderPrometheusConfig(central, { prometheus: "127.0.0.1:1", nodeExporter: "127.0.0.1:1", blackboxExporter: "127.0.0.1:1" });
    const centralFiles = {
      [FEDERATION_CA_PATH]: file("central-federation-ca.pem", pki.caPem),
      [agentPasswordPath(HOST_A)]: file("central-password-a", passwords[HOST_A]),
      [agentPasswordPath(HOST_B)]: file("central-password-b", passwords[HOST_B]),
    };
    for (const [containerPath, local] of Object.entries(centralFiles)) centralYaml = centralYaml.split(containerPath).join(local);
    renderedCentral = yaml.load(centralYaml) as typeof renderedCentral;
    renderedCentral.scrape_configs = renderedCentral.scrape_configs.filter((job) => String(job.job_name).startsWith("agent-"));
    expect(renderedCentral.scrape_configs.map((job) => job.job_name)).toEqual([agentJobName(HOST_A), agentJobName(HOST_B)]);
    centralConfigFile = file("central.yml", yaml.dump(renderedCentral));
    const check = execFileSync("promtool", ["check", "config", centralConfigFile], { encoding: "utf8" });
    expect(check).toContain("SUCCESS");

    processes.push(startProcess("node-exporter", "prometheus-node-exporter", [`--web.listen-address=127.0.0.1:${nodePort}`, "--no-collector.systemd"]));
    processes.push(startProcess("agent-a", "prometheus", agentCommand));
    processes.push(
      startProcess("central", "prometheus", [
        `--config.file=${centralConfigFile}`,
        `--storage.tsdb.path=${path.join(dir, "central-data")}`,
        `--web.listen-address=127.0.0.1:${centralPort}`,
      ]),
    );
    centralUrl = `http://127.0.0.1:${centralPort}`;
  }, 60_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const logs = () => processes.map((running) => `--- ${running.name}\n${running.output().slice(-3000)}`).join("\n");

  test("A's series land with A's host; B's forgeries land as B's, never as A's or a central job, at the central's scrape time", async () => {
    const started = Date.now();
    try {
      await waitFor(
        "node_load1 of A at the central",
        60_000,
        async () => ((await query(`node_load1{host="${HOST_A}",job="node-exporter"}`)).length > 0 ? true : undefined),
        500,
      );
      // A's Prometheus scraping itself over TLS with its healthcheck login, pulled with the rest.
      await waitFor(
        "A's own up{job=prometheus} == 1 at the central",
        60_000,
        async () => ((await query(`up{job="prometheus",host="${HOST_A}"} == 1`)).length > 0 ? true : undefined),
        500,
      );
      await waitFor("B's forged_metric at the central", 30_000, async () => ((await query("forged_metric")).length > 0 ? true : undefined), 500);
    } catch (error) {
      throw new Error(`${String(error)}\n${logs()}`, { cause: error });
    }
    const seconds = (Date.now() - started) / 1000;
    const seriesOfA = await query(`count({host="${HOST_A}"})`);
    const seriesOfB = await query(`count({host="${HOST_B}"})`);
    // A's own Prometheus arrives too: HostNotReporting's `up{job="prometheus"}` of this host.
    expect(await query(`up{job="prometheus",host="${HOST_A}"}`)).toHaveLength(1);
    // Every forged series of B carries B's host, whatever B wrote.
    expect(await query(`forged_metric{host="${HOST_A}"}`)).toEqual([]);
    expect((await query("forged_metric")).map((series) => series.metric.host)).toEqual([HOST_B]);
    const load = await query("node_load1 == 99");
    expect(load.map((series) => series.metric.host)).toEqual([HOST_B]);
    // Central-only jobs are dropped: no grafana, no agent-* job out of B's body.
    expect(await query('up{job="grafana"}')).toEqual([]);
    expect((await query(`up{job="${agentJobName(HOST_A)}"}`)).map((series) => series.metric.host)).toEqual([HOST_A]);
    expect(await query('{__name__=~".+:.+"}')).toEqual([]);
    // Only the services B runs (agents[].services): its probe of api is dropped, its probe of worker kept.
    expect(await query('probe_success{service="api"}')).toEqual([]);
    expect((await query("probe_success")).map((series) => [series.metric.service, series.metric.host])).toEqual([["worker", HOST_B]]);
    // What a real agent (its Prometheus and node-exporter, no cAdvisor, no service) sends: the default
    // agentLimits (remote-config.ts AGENT_LIMIT_DEFAULTS) are sized from it.
    expect(Number(seriesOfA[0]?.value[1])).toBeLessThan(AGENT_LIMIT_DEFAULTS.sampleLimit / 5);
    // ...and the label defaults too: the most labels and the longest value of any series of A (as the central
    // stored it, host and the honoured job/instance included) stay under labelLimit / labelValueLengthLimit with room.
    const seriesResponse = await fetch(`${centralUrl}/api/v1/series?match[]=${encodeURIComponent(`{host="${HOST_A}"}`)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const labelSets = ((await seriesResponse.json()) as { data: Record<string, string>[] }).data;
    const mostLabels = Math.max(...labelSets.map((labels) => Object.keys(labels).length));
    const longestValue = Math.max(...labelSets.flatMap((labels) => Object.values(labels).map((value) => Buffer.byteLength(value))));
    expect(mostLabels).toBeLessThan(AGENT_LIMIT_DEFAULTS.labelLimit);
    expect(longestValue).toBeLessThan(AGENT_LIMIT_DEFAULTS.labelValueLengthLimit);
    // B's future timestamps were ignored: its samples are at the central's scrape time.
    const [stamp] = await query("timestamp(forged_metric)");
    const skew = Number(stamp.value[1]) * 1000 - Date.now();
    expect(Math.abs(skew)).toBeLessThan(10_000);
    console.log(
      `federation: A's first series after ${seconds.toFixed(1)} s; series with host=${HOST_A}: ${seriesOfA[0]?.value[1]} (at most ${mostLabels} labels, values up to ${longestValue} bytes), host=${HOST_B}: ${seriesOfB[0]?.value[1]}; ` +
        `B's forged sample stored ${(skew / 1000).toFixed(1)} s from now (it claimed +3600 s)`,
    );
  }, 120_000);

  test("B over its sample_limit fails its own scrape; A keeps flowing", async () => {
    bMode = "flood";
    const started = Date.now();
    const failed = await waitFor("B's scrape to fail on its sample_limit", 30_000, async () => {
      const b = await target(HOST_B);
      return b && b.health === "down" && /sample limit/.test(b.lastError) ? b : undefined;
    });
    const seconds = (Date.now() - started) / 1000;
    expect(await query(`up{job="${agentJobName(HOST_B)}"}`)).toEqual([expect.objectContaining({ value: [expect.anything(), "0"] })]);
    expect(await query("flood_series")).toEqual([]);
    // A failed pull is an empty one: what B's earlier pulls brought is marked stale at once (prometheus/prometheus
    // scrape/scrape.go scrapeAndReport: "Call sl.append again with an empty scrape to trigger stale markers"),
    // so a host whose pull fails has no series left, which HostNotReporting (alerts/stack.yml) sees.
    await waitFor("B's pulled series to end", 10_000, async () => ((await query("forged_metric")).length === 0 ? true : undefined), 500);
    const a = await target(HOST_A);
    expect(a?.health).toBe("up");
    expect(await query(`up{job="${agentJobName(HOST_A)}"} == 1`)).toHaveLength(1);
    console.log(
      `sample_limit ${SAMPLE_LIMIT}: B (${SAMPLE_LIMIT + 500} samples) down after ${seconds.toFixed(1)} s ("${failed.lastError}"); A up, no flood series stored`,
    );
    bMode = "forge";
  }, 60_000);

  test("B answering with a redirect fails its own scrape; the central's login is not sent where B points", async () => {
    bMode = "redirect";
    const failed = await waitFor("B's scrape to fail on the redirect", 30_000, async () => {
      const b = await target(HOST_B);
      return b && b.health === "down" && /302/.test(b.lastError) ? b : undefined;
    });
    expect(redirected).toEqual([]);
    console.log(`redirect: B down ("${failed.lastError}"), ${redirected.length} requests followed it`);
    bMode = "forge";
  }, 60_000);

  test("B churning new series each pull (under sample_limit) adds them all: AgentSeriesChurn's expression sees it", async () => {
    bMode = "churn";
    const started = Date.now();
    const rule = (
      yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "alerts", "stack.yml"), "utf8")) as {
        groups: { rules: { alert?: string; expr: string }[] }[];
      }
    ).groups
      .flatMap((group) => group.rules)
      .find((entry) => entry.alert === "AgentSeriesChurn")!;
    const firing = await waitFor(
      "AgentSeriesChurn's expression to hold for B",
      30_000,
      async () => {
        const result = await query(rule.expr);
        return result.length > 0 ? result : undefined;
      },
      500,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(firing.map((series) => series.metric.host)).toEqual([HOST_B]);
    const [head] = await query(`sum(scrape_series_added{job="${agentJobName(HOST_B)}"})`);
    console.log(
      `churn: B adding ${CHURN_PER_PULL} new series per 1 s pull; AgentSeriesChurn's expression held after ${seconds.toFixed(1)} s ` +
        `(value ${firing[0].value[1]}; last pull added ${head?.value[1]}); sample_limit never tripped`,
    );
    bMode = "forge";
  }, 60_000);

  test("B's password opens nothing of A, and B was only ever sent its own", async () => {
    const asB = `Basic ${Buffer.from(`${PROMETHEUS_LOGINS.central}:${passwords[HOST_B]}`).toString("base64")}`;
    const status = await new Promise<number>((resolve, reject) => {
      const request = https.get(
        `https://127.0.0.1:${portA}/federate?match[]=up`,
        { ca: fs.readFileSync(path.join(dir, "ca.pem"), "utf8"), servername: HOST_A, headers: { authorization: asB }, timeout: 5000 },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on("error", reject);
    });
    expect(status).toBe(401);
    expect(bAuthorizations.length).toBeGreaterThan(0);
    expect(new Set(bAuthorizations)).toEqual(new Set([asB]));
    console.log(`B received ${bAuthorizations.length} requests, every one with its own password; B's password at A: HTTP ${status}`);
  }, 30_000);

  test("removing B's entry (config reload) stops B while A keeps flowing", async () => {
    const withoutB = { ...renderedCentral, scrape_configs: renderedCentral.scrape_configs.filter((job) => job.job_name !== agentJobName(HOST_B)) };
    fs.writeFileSync(centralConfigFile, yaml.dump(withoutB));
    const central = processes.find((running) => running.name === "central")!;
    const started = Date.now();
    process.kill(central.child.pid!, "SIGHUP");
    await waitFor("B's target to go", 30_000, async () => ((await target(HOST_B)) === undefined ? true : undefined));
    const seconds = (Date.now() - started) / 1000;
    const before = bRequests;
    const aBefore = (await target(HOST_A))?.lastScrape;
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(bRequests - before).toBe(0);
    const a = await target(HOST_A);
    expect(a?.health).toBe("up");
    expect(a?.lastScrape).not.toBe(aBefore);
    expect(await query(`node_load1{host="${HOST_A}"}`)).toHaveLength(1);
    console.log(`revoked B: its job gone ${seconds.toFixed(1)} s after the reload; B got ${bRequests - before} requests in the next 4 s; A still up`);
  }, 60_000);
});
