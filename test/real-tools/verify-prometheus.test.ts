/**
 * verify's Prometheus checks (scripts/lib/verify/prometheus.ts) against a real Prometheus (Debian's 2.42), a real
 * node-exporter and a real blackbox exporter on 127.0.0.1, driven by the rendered prometheus.yml and SLO rule
 * file, with a stand-in service. Each check is seen to pass, then to fail for real after a config reload (SIGHUP):
 * a catalog service whose metrics port nothing listens on (target down with Prometheus's own lastError), a rule that
 * really fails at evaluation (many-to-many matching), an SLO whose input never has data, and a host that reported
 * and stopped. `ready` fails for real against a port nothing listens on. Bounded waits; processes stopped by PID.
 */
import { GRAFANA_METRICS_PASSWORD_PATH } from "../../components/grafana/service";
import { LocalBlackboxLogin, writeBlackboxLogin } from "../support/blackbox-login";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { renderBlackboxConfig, renderPrometheusConfig } from "../../components/metrics/prometheus-config";
import { renderSloRuleFile, sloDefinitions } from "../../components/slo/slo-rules";
import { planFacts } from "../../scripts/lib/verify/inputs";
import { prometheusChecks } from "../../scripts/lib/verify/prometheus";
import { buildChecks, settle } from "../../scripts/lib/verify/run";
import type { Check, CheckOutcome } from "../../scripts/lib/verify/types";
import { describeWithTools, freePort, getJson, RunningProcess, runTool, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

const TOOLS = ["prometheus", "promtool", "prometheus-node-exporter", "prometheus-blackbox-exporter"];

function startStandIn(port: number): Promise<http.Server> {
  let scrapes = 0;
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    if (pathname === "/health") {
      response.writeHead(200, { "content-type": "application/json" });
      return response.end('{"status":"ok"}');
    }
    if (pathname === "/metrics") {
      scrapes += 1;
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      return response.end(`# TYPE http_requests_total counter\nhttp_requests_total{code="200"} ${scrapes * 10}\nhttp_requests_total{code="500"} ${scrapes}\n`);
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

describeWithTools(TOOLS, "verify's Prometheus checks against a real Prometheus", () => {
  const processes: RunningProcess[] = [];
  let standIn: http.Server | undefined;
  let workDir: string;
  let blackboxLogin: LocalBlackboxLogin | undefined;
  let prometheusUrl: string;
  let closedPort: number;
  let ports: { prometheus: number; node: number; blackbox: number; service: number };

  /** prometheus.yml and rule files for the catalog, plus extra rule files and scrape jobs. */
  function writeConfig(services: unknown[], extraRules: string[], extraJobs: unknown[]): { records: { record: string; service?: string }[] } {
    const config = resolveStackConfig({
      stack: "verifytest",
      values: {
        services,
        prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s", evaluationInterval: "1s" },
        cadvisor: { enabled: false },
        logs: { enabled: false },
      },
      secretKeys: [],
    }).config;
    const sloFile = path.join(workDir, "slo.yml");
    // The 5-minute counts every second (rule-groups.ts RecordingOptions): a 5m group may first run 5 minutes after loading.
    const sloRules = renderSloRuleFile(sloDefinitions(config.services), "1m", { eventsInterval: "1s" });
    fs.writeFileSync(sloFile, sloRules);
    const extraFiles = extraRules.map((content, index) => {
      const file = path.join(workDir, `extra-${index}.yml`);
      fs.writeFileSync(file, content);
      return file;
    });
    // The blackbox exporter's login (components/metrics/blackbox-login.ts), at local paths; the same login each time.
    blackboxLogin ??= writeBlackboxLogin(workDir);
    const rendered = blackboxLogin.localize(
      renderPrometheusConfig(
        config,
        {
          prometheus: `127.0.0.1:${ports.prometheus}`,
          nodeExporter: `127.0.0.1:${ports.node}`,
          blackboxExporter: `127.0.0.1:${ports.blackbox}`,
          grafana: `127.0.0.1:${ports.service}`,
        },
        [sloFile, ...extraFiles],
      ),
    );
    // Grafana's /metrics password where the rendered scrape of Grafana (a stand-in that needs no login here) reads it.
    const grafanaPasswordFile = path.join(workDir, "grafana-metrics-password");
    fs.writeFileSync(grafanaPasswordFile, "grafana-metrics-password");
    const document = yaml.load(rendered.replace(GRAFANA_METRICS_PASSWORD_PATH, grafanaPasswordFile)) as { scrape_configs: unknown[] };
    document.scrape_configs.push(...extraJobs);
    const file = path.join(workDir, "prometheus.yml");
    fs.writeFileSync(file, yaml.dump(document));
    const check = runTool("promtool", ["check", "config", file]);
    if (check.status !== 0) throw new Error(`promtool rejected the test config:\n${check.output}`);
    // The SLO series verify expects, read from the rendered rule file as verify reads it from the plan.
    return { records: planFacts([{ path: "containers/p/etc/prometheus/rules/slo.yml", content: sloRules }]).recordingRules };
  }

  const demo = () => ({
    name: "demo-api",
    metrics: `http://127.0.0.1:${ports.service}/metrics`,
    health: `http://127.0.0.1:${ports.service}/health`,
    slo: { availability: 99, window: "7d" },
  });
  // A host that reports (an agent's series carry its host label): node-exporter scraped once more as app-9.
  const agentJob = () => ({ job_name: "agent-app-9", static_configs: [{ targets: [`127.0.0.1:${ports.node}`], labels: { host: "app-9" } }] });
  let records: { record: string; service?: string }[];

  beforeAll(async () => {
    workDir = tempDir("atra-verify-prometheus-");
    ports = { prometheus: await freePort(), node: await freePort(), blackbox: await freePort(), service: await freePort() };
    closedPort = await freePort();
    standIn = await startStandIn(ports.service);
    prometheusUrl = `http://127.0.0.1:${ports.prometheus}`;
    records = writeConfig([demo()], [], [agentJob()]).records;
    const blackboxYml = path.join(workDir, "blackbox.yml");
    fs.writeFileSync(blackboxYml, renderBlackboxConfig());
    processes.push(startProcess("node-exporter", "prometheus-node-exporter", [`--web.listen-address=127.0.0.1:${ports.node}`]));
    processes.push(
      startProcess("blackbox-exporter", "prometheus-blackbox-exporter", [
        `--config.file=${blackboxYml}`,
        `--web.listen-address=127.0.0.1:${ports.blackbox}`,
        (blackboxLogin as LocalBlackboxLogin).flag,
      ]),
    );
    processes.push(
      startProcess("prometheus", "prometheus", [
        `--config.file=${path.join(workDir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(workDir, "data")}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      ]),
    );
    await waitFor("Prometheus to be ready", 30_000, async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    await new Promise<void>((resolve) => (standIn ? standIn.close(() => resolve()) : resolve()));
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join("\n");
  const checks = (recordingRules = records): Record<string, Check> =>
    Object.fromEntries(
      prometheusChecks({ endpoint: { url: prometheusUrl }, agentMode: false, recordingRules, recentWindow: "3s" }).map((check) => [check.id, check]),
    );
  const settled = (check: Check, ms = 30_000): Promise<CheckOutcome> => settle(check, Date.now() + ms, 250);

  test("a working stack: ready, every target up, every rule evaluates, the SLO series exist, every host reports", async () => {
    const all = checks();
    try {
      for (const id of ["prometheus.ready", "prometheus.targets", "prometheus.probes", "prometheus.rules", "prometheus.slo-series", "prometheus.hosts"]) {
        const outcome = await settled(all[id]);
        expect([id, outcome.status, outcome.summary]).toEqual([id, "ok", expect.any(String)]);
      }
      expect((await settled(all["prometheus.hosts"])).summary).toMatch(/still reports \(.*app-9.*\)/);
      expect((await settled(all["prometheus.targets"])).summary).toMatch(/^all \d+ scrape targets up$/);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs()}`, { cause: error });
    }
  });

  test("an agent stack (--central-outputs): its host's series arrive at the central Prometheus, or it fails naming the host", async () => {
    const agentCheck = (host: string) => {
      const built = buildChecks({
        stack: "agent",
        outputs: { role: "agent", host },
        centralOutputs: { role: "central", prometheusUrl },
        facts: planFacts([]),
        waitMs: 0,
      });
      return built.find((check) => check.id === "agent.series")!;
    };
    expect(await settled(agentCheck("app-9"), 10_000)).toMatchObject({
      status: "ok",
      summary: expect.stringMatching(/up series of host app-9 arrive at the central Prometheus/),
    });
    expect(await settled(agentCheck("app-10"), 1000)).toMatchObject({
      status: "fail",
      summary: `no series of host app-10 at the central Prometheus ${prometheusUrl}`,
    });
    // Without the central outputs the agent side is not checked: verify is incomplete, a FAIL (not a pass), saying how.
    const alone = buildChecks({ stack: "agent", outputs: { role: "agent", host: "app-9" }, facts: planFacts([]), waitMs: 0 });
    expect(await alone.find((check) => check.id === "agent.central")!.run()).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("verify incomplete"),
      fix: [expect.stringContaining("--central-outputs")],
    });
  });

  test("ready fails for real where nothing listens, saying so", async () => {
    const [ready] = prometheusChecks({ endpoint: { url: `http://127.0.0.1:${closedPort}` }, agentMode: false, recordingRules: [] });
    const outcome = await ready.run();
    expect(outcome).toMatchObject({ status: "fail", summary: expect.stringMatching(/no answer from .*\/-\/ready: connection refused/) });
  });

  test("after a reload: a target down named with its lastError, a failing rule, an SLO without data, a host that stopped", async () => {
    const gone = { name: "gone-api", metrics: `http://127.0.0.1:${closedPort}/metrics`, slo: { availability: 99, requests: {}, window: "7d" } };
    // `up + on() up`: more than one `up` series on each side, so every evaluation fails with many-to-many matching.
    const broken = "groups:\n  - name: broken\n    rules:\n      - record: broken:up\n        expr: up + on() up\n";
    // A health endpoint nobody answers: the blackbox exporter's target stays up, the probe fails.
    const sick = { name: "sick-api", health: `http://127.0.0.1:${closedPort}/health` };
    records = writeConfig([demo(), gone, sick], [broken], []).records;
    process.kill(processes.find((p) => p.name === "prometheus")!.child.pid!, "SIGHUP");
    await waitFor("the reloaded config's target and rule to be evaluated", 30_000, async () => {
      const targets = await getJson<{ data: { activeTargets: { scrapePool: string; health: string }[] } }>(`${prometheusUrl}/api/v1/targets`);
      const rules = await getJson<{ data: { groups: { name: string; rules: { health: string }[] }[] } }>(`${prometheusUrl}/api/v1/rules`);
      const down = targets.data.activeTargets.some((target) => target.scrapePool === "gone-api" && target.health === "down");
      const failing = rules.data.groups.some((group) => group.name === "broken" && group.rules[0].health === "err");
      return down && failing ? true : undefined;
    });
    const all = checks(records);
    try {
      const targets = await settled(all["prometheus.targets"], 2000);
      expect(targets.status).toBe("fail");
      expect(targets.summary).toMatch(new RegExp(`1 of \\d+ scrape targets down: gone-api http://127.0.0.1:${closedPort}/metrics \\(.*connection refused\\)`));
      expect(targets.fix?.[0]).toMatch(/^gone-api: is http:\/\/127.0.0.1:\d+\/metrics up and reachable/);

      const probes = await settled(all["prometheus.probes"], 15_000);
      expect(probes).toMatchObject({
        status: "fail",
        summary: `1 health probe failing: sick-api http://127.0.0.1:${closedPort}/health`,
        fix: [expect.stringContaining("answers no 2xx, or the blackbox exporter cannot reach it")],
      });

      const rules = await settled(all["prometheus.rules"], 2000);
      expect(rules.status).toBe("fail");
      expect(rules.summary).toMatch(/1 rule fail(s)? to evaluate: broken\/broken:up: .*many-to-many matching not allowed/);

      const slo = await settled(all["prometheus.slo-series"], 3000);
      expect(slo.status).toBe("fail");
      expect(slo.summary).toMatch(/SLO recorded series have no data: .*\{service="gone-api"\}/);
      expect(slo.summary).not.toMatch(/service="demo-api"/);

      // app-9's series went stale with the reload; it has `up` samples within the last day.
      const hosts = await settled(all["prometheus.hosts"], 10_000);
      expect(hosts).toMatchObject({ status: "fail", summary: expect.stringMatching(/1 host reported in the last 1d but no longer: app-9$/) });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs()}`, { cause: error });
    }
  });
});
