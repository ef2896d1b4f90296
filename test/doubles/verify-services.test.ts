/**
 * `npm run verify` against the Grafana, Elasticsearch and Kibana test doubles (test/support/fake-grafana.ts,
 * test/support/fake-elastic.ts; each answer cites grafana/grafana or elastic/* source), with the dev stack's
 * real offline plan: its ILM policy and index template are PUT into the fake as the providers send them, so the
 * data stream gets its policy and failure store the way Elasticsearch would. Every check is seen to pass and to
 * fail; the Filebeat-on-a-wrong-port stack fails naming each service whose events never arrived and the cause;
 * no secret is ever printed.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { collectArtifacts } from "../../scripts/lib/plan";
import { planFacts, PlanArtifact, PlanFacts } from "../../scripts/lib/verify/inputs";
import { runVerify } from "../../scripts/lib/verify/run";
import type { CheckResult } from "../../scripts/lib/verify/types";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";
import { FakeGrafana, startFakeGrafana } from "../support/fake-grafana";
import { planIsolated, PROJECT_DIR } from "../support/plan";

const ES_PASSWORD = "es-Secret-4711";
const GRAFANA_PASSWORD = "gf-Secret-0815";
const DATA_STREAM = "logs-atra-dev";
const DATA_VIEW = "atra-dev-logs-data-view";

let artifacts: PlanArtifact[];
let facts: PlanFacts;
let planDir: string;

beforeAll(async () => {
  artifacts = collectArtifacts((await planIsolated("dev")).run);
  facts = planFacts(artifacts);
  planDir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-verify-plan-"));
  for (const artifact of artifacts) {
    fs.mkdirSync(path.dirname(path.join(planDir, artifact.path)), { recursive: true });
    fs.writeFileSync(path.join(planDir, artifact.path), artifact.content);
  }
}, 120_000);
afterAll(() => fs.rmSync(planDir, { recursive: true, force: true }));

/** The plan's own ILM policy and index template, PUT as the dynamic providers send them. */
async function provision(elastic: FakeElastic): Promise<void> {
  const auth = `Basic ${Buffer.from(`elastic:${ES_PASSWORD}`).toString("base64")}`;
  for (const [kind, route] of [
    ["IlmPolicy", "_ilm/policy"],
    ["IndexTemplate", "_index_template"],
  ]) {
    const artifact = artifacts.find((candidate) => candidate.path.startsWith(`elastic/${kind}/`));
    const sent = JSON.parse(artifact!.content) as { name: string; body: unknown };
    const answer = await fetch(`${elastic.url}/${route}/${sent.name}`, {
      method: "PUT",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify(sent.body),
    });
    expect(answer.status).toBe(200);
  }
  elastic.dataViews.set(`default/${DATA_VIEW}`, { id: DATA_VIEW, title: DATA_STREAM, name: "Atra logs (dev)" });
}

function healthyGrafana(grafana: FakeGrafana): void {
  for (const source of facts.datasources) grafana.state.datasources.set(source.uid, { ok: true, message: "Data source is working" });
  grafana.state.ruleGroups = [{ name: "atra-services", rules: [{ name: "ServiceDown", health: "ok" }] }];
  for (const uid of facts.dashboardUids) grafana.state.dashboards.add(uid);
}

function outputs(elastic: FakeElastic, grafana: FakeGrafana): Record<string, unknown> {
  return {
    role: "central",
    grafanaUrl: grafana.url,
    grafanaAdminUser: "admin",
    grafanaAdminPassword: GRAFANA_PASSWORD,
    elasticsearchUrl: elastic.url,
    elasticsearchUser: "elastic",
    elasticsearchPassword: ES_PASSWORD,
    kibanaUrl: elastic.url,
    logsDataStream: DATA_STREAM,
    kibanaDataViewId: DATA_VIEW,
  };
}

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((result) => [result.id, result]));

describe("verify against the Grafana, Elasticsearch and Kibana doubles", () => {
  let elastic: FakeElastic;
  let grafana: FakeGrafana;
  beforeEach(async () => {
    elastic = await startFakeElastic(ES_PASSWORD);
    grafana = await startFakeGrafana({ user: "admin", password: GRAFANA_PASSWORD });
    await provision(elastic);
  });
  afterEach(async () => {
    await elastic.close();
    await grafana.close();
  });

  test("a working stack: every check passes", async () => {
    healthyGrafana(grafana);
    const now = Date.now();
    for (const service of facts.logServices)
      elastic.ingest(DATA_STREAM, { "@timestamp": new Date(now - 90_000).toISOString(), service: { name: service.name } });
    const report = await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 });
    const results = byId(report.results);
    for (const id of [
      "grafana.health",
      ...facts.datasources.map((source) => `grafana.datasource.${source.uid}`),
      "grafana.alert-rules",
      "grafana.dashboards",
      "elasticsearch.health",
      "elasticsearch.data-stream",
      "elasticsearch.ilm",
      ...facts.logServices.map((service) => `elasticsearch.events.${service.name}`),
      "elasticsearch.failure-store",
      "kibana.status",
      "kibana.data-view",
    ])
      expect([id, results[id]?.status]).toEqual([id, "ok"]);
    expect(facts.logServices.map((service) => service.name)).toEqual([
      "knowledge-os-api",
      "victoria-agent",
      "veronica-agent",
      "worker",
      "orchestrator",
      "nightly-learner",
    ]);
    expect(results["elasticsearch.events.worker"].summary).toMatch(/newest event 90 s old \(1 events\)/);
    expect(results["elasticsearch.data-stream"].summary).toMatch(/ILM policy atra-dev-logs-ilm, failure store on/);
    // No Prometheus in the outputs: said, not passed.
    expect(results.prometheus).toMatchObject({ status: "skip", summary: expect.stringMatching(/no prometheusUrl/) });
    // --notify not given: no test notification was sent.
    expect(grafana.requests.some((request) => request.path.includes("receivers/test"))).toBe(false);
    expect(report.ok).toBe(true);
  });

  test("a broken stack: every check fails, naming what and why", async () => {
    grafana.state.databaseOk = false;
    const [first, ...rest] = facts.datasources;
    grafana.state.datasources.set(first.uid, {
      ok: false,
      message: 'Get "http://atra-obs-dev-prometheus:9090/api/v1/query": dial tcp: lookup atra-obs-dev-prometheus: no such host',
    });
    for (const source of rest) grafana.state.datasources.set(source.uid, { ok: true, message: "ok" });
    grafana.state.ruleGroups = [
      {
        name: "atra-logs",
        rules: [
          { name: "LogErrorsHigh", health: "error", lastError: "failed to execute query A: index_not_found_exception" },
          { name: "LogSilence", health: "nodata" },
          { name: "Fine", health: "ok" },
        ],
      },
    ];
    grafana.state.dashboards.add(facts.dashboardUids[0]);
    elastic.verify.clusterStatus = "red";
    elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: "worker" } });
    elastic.verify.ilmErrors.set(`.ds-${DATA_STREAM}-${new Date().toISOString().slice(0, 10).replace(/-/g, ".")}-000001`, {
      type: "illegal_argument_exception",
      reason: "index.lifecycle.rollover_alias [x] does not point to index",
    });
    elastic.ingestFailure(DATA_STREAM, { type: "document_parsing_exception", message: "[1:2] failed to parse field [level]" });
    elastic.ingestFailure(DATA_STREAM, { type: "document_parsing_exception", message: "[1:2] failed to parse field [level]" });
    elastic.ingestFailure(DATA_STREAM, { type: "illegal_argument_exception", message: "pipeline failed" });
    elastic.verify.kibanaLevel = "unavailable";
    elastic.dataViews.clear();

    const report = await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 });
    const results = byId(report.results);
    expect(report.ok).toBe(false);
    expect(results["grafana.health"]).toMatchObject({ status: "fail", summary: expect.stringMatching(/503 .*database: failing/) });
    expect(results[`grafana.datasource.${first.uid}`]).toMatchObject({ status: "fail", summary: expect.stringMatching(/HTTP 400\): .*no such host/) });
    expect(results["grafana.alert-rules"]).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(
        /2 of 3 alert rules unhealthy: atra-logs\/LogErrorsHigh error \(failed to execute query A.*\); atra-logs\/LogSilence nodata/,
      ),
    });
    expect(results["grafana.dashboards"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining(`${facts.dashboardUids.length - 1} of ${facts.dashboardUids.length} shipped dashboards missing`),
    });
    expect(results["grafana.dashboards"].summary).toContain(`${facts.dashboardUids[1]} (HTTP 404)`);
    expect(results["elasticsearch.health"]).toMatchObject({ status: "fail", summary: "Elasticsearch cluster health red" });
    expect(results["elasticsearch.ilm"]).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(/ILM errors: \.ds-logs-atra-dev-.*-000001: illegal_argument_exception index.lifecycle.rollover_alias/),
    });
    expect(results["elasticsearch.failure-store"]).toMatchObject({
      status: "warn",
      summary: expect.stringMatching(
        /3 events refused into the failure store of logs-atra-dev; top error types: document_parsing_exception \(2\), illegal_argument_exception \(1\)/,
      ),
    });
    expect(results["elasticsearch.events.worker"].status).toBe("ok");
    // The worker's events arrive, the others' never did: the output works, so their own files come first.
    expect(results["elasticsearch.events.orchestrator"]).toMatchObject({ status: "fail", summary: "orchestrator: no event ever arrived in logs-atra-dev" });
    expect(results["elasticsearch.events.orchestrator"].fix![0]).toMatch(/no file matches \/srv\/atra\/logs\/orchestrator\*\.log/);
    expect(results["kibana.status"]).toMatchObject({ status: "fail", summary: expect.stringMatching(/HTTP 503, unavailable/) });
    expect(results["kibana.data-view"]).toMatchObject({ status: "fail", summary: `data view ${DATA_VIEW}: HTTP 404` });
  });

  test("the data stream: missing before the first event, and with another ILM policy than the plan's", async () => {
    let results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["elasticsearch.data-stream"]).toMatchObject({
      status: "fail",
      summary: `the data stream ${DATA_STREAM} does not exist: no event was ever written to it`,
    });
    expect(results["elasticsearch.ilm"].status).toBe("skip");
    elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: "worker" } });
    elastic.verify.dataStreams.get(DATA_STREAM)!.ilmPolicy = "someone-elses";
    elastic.verify.clusterStatus = "yellow";
    results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["elasticsearch.data-stream"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("its ILM policy is someone-elses, not atra-dev-logs-ilm"),
    });
    expect(results["elasticsearch.health"].status).toBe("warn");
  });

  test("a fresh stack: a check that fails at first passes once the events arrive within the wait", async () => {
    healthyGrafana(grafana);
    const services = facts.logServices;
    setTimeout(() => {
      for (const service of services) elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: service.name } });
    }, 600);
    const report = await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 5000, intervalMs: 200 });
    expect(byId(report.results)["elasticsearch.events.worker"].status).toBe("ok");
    expect(report.ok).toBe(true);
  });

  test("--notify: a test notification through each contact point, with the stored secure settings; a failing one is named", async () => {
    healthyGrafana(grafana);
    const withPoints = { ...facts, contactPoints: ["oncall", "team-chat"] };
    grafana.state.receivers = [
      { name: "oncall", integrations: [{ uid: "oncall-0", name: "oncall", type: "email", settings: { addresses: "ops@example.com" } }] },
      {
        name: "team-chat",
        integrations: [{ uid: "chat-0", name: "team-chat", type: "slack", settings: {}, secure: { url: "https://hooks.slack.com/services/T/B/x" } }],
      },
    ];
    let results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts: withPoints, waitMs: 0, notify: true })).results);
    expect(results["grafana.notify"]).toMatchObject({ status: "ok", summary: "--notify: a test notification went out through oncall, team-chat" });
    expect(grafana.state.notified).toEqual([{ uid: "oncall-0" }, { uid: "chat-0", secure: { url: "https://hooks.slack.com/services/T/B/x" } }]);
    grafana.state.failingIntegrations.set("chat-0", "unexpected status code 404 from slack");
    results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts: withPoints, waitMs: 0, notify: true })).results);
    expect(results["grafana.notify"]).toMatchObject({
      status: "fail",
      summary: "--notify: team-chat (team-chat) failed: unexpected status code 404 from slack",
    });
    results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0, notify: true })).results);
    expect(results["grafana.notify"].status).toBe("skip");
  });

  test("a wrong password is a FAIL naming the output, not a pass", async () => {
    healthyGrafana(grafana);
    const results = byId(
      (
        await runVerify({
          stack: "dev",
          outputs: { ...outputs(elastic, grafana), grafanaAdminPassword: "wrong-pw", elasticsearchPassword: "wrong-pw" },
          facts,
          waitMs: 0,
        })
      ).results,
    );
    expect(results["grafana.alert-rules"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("grafanaAdminUser/grafanaAdminPassword outputs (401)"),
    });
    expect(results["elasticsearch.health"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("elasticsearchUser/elasticsearchPassword outputs (401)"),
    });
  });

  test("an agent stack: its events are in the central data stream with its host.name, or each service fails naming the host", async () => {
    elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: "worker" }, host: { name: "app-2.atra.internal" } });
    elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: "veronica-agent" }, host: { name: "app-1.atra.internal" } });
    const agentFacts = {
      ...facts,
      logServices: [
        { name: "worker", paths: ["/srv/atra/logs/worker*.log"] },
        { name: "veronica-agent", paths: ["/srv/atra/logs/veronica*.log"] },
      ],
    };
    const report = await runVerify({
      stack: "agent-example",
      outputs: { role: "agent", host: "app-2.atra.internal", logsDataStream: DATA_STREAM },
      centralOutputs: { ...outputs(elastic, grafana), role: "central" },
      facts: agentFacts,
      waitMs: 0,
    });
    const results = byId(report.results);
    expect(results["elasticsearch.events.worker"]).toMatchObject({
      status: "ok",
      summary: expect.stringMatching(/^worker: newest event from host app-2.atra.internal \d+ s old/),
    });
    // veronica-agent's events come from another host only: not this one's.
    expect(results["elasticsearch.events.veronica-agent"]).toMatchObject({
      status: "fail",
      summary: `veronica-agent: no event from host app-2.atra.internal ever arrived in ${DATA_STREAM}`,
    });
    // The cluster itself is the central stack's to check, not the agent's.
    expect(results["elasticsearch.health"]).toBeUndefined();
  });

  /** The CLI in a child process (asynchronously: the doubles answer from this process). */
  async function runCli(
    args: string[],
    outputsValue: Record<string, unknown>,
    plan = planDir,
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const file = path.join(os.tmpdir(), `atra-verify-outputs-${process.pid}-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify(outputsValue));
    try {
      const child = spawn(process.execPath, ["scripts/run-ts.js", "scripts/verify.ts", "--stack", "dev", "--outputs", file, "--plan", plan, ...args], {
        cwd: PROJECT_DIR,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      clearTimeout(timer);
      return { status, stdout, stderr };
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  test("a stack whose Filebeat dials a wrong port: verify fails, naming every service whose events never arrived and the cause", async () => {
    healthyGrafana(grafana);
    const wrong = fs.mkdtempSync(path.join(os.tmpdir(), "atra-verify-wrong-port-"));
    try {
      fs.cpSync(planDir, wrong, { recursive: true });
      const filebeatYml = path.join(wrong, "containers/atra-obs-dev-filebeat/usr/share/filebeat/filebeat.yml");
      const rendered = fs.readFileSync(filebeatYml, "utf8");
      expect(rendered).toContain("- http://atra-obs-dev-elasticsearch:9200");
      fs.writeFileSync(filebeatYml, rendered.replace("- http://atra-obs-dev-elasticsearch:9200", "- http://atra-obs-dev-elasticsearch:9300"));
      // Filebeat dials 9300: no event of any service ever reaches Elasticsearch, so its data stream is never made.
      const run = await runCli(["--wait", "0"], outputs(elastic, grafana), wrong);
      expect(run.status).toBe(1);
      for (const service of facts.logServices) {
        expect(run.stdout).toContain(`FAIL  elasticsearch.events.${service.name}: ${service.name}: no event ever arrived in ${DATA_STREAM}`);
      }
      expect(run.stdout).toContain(
        "fix: Filebeat dials atra-obs-dev-elasticsearch:9300 (output.elasticsearch.hosts: http://atra-obs-dev-elasticsearch:9300) but the container atra-obs-dev-elasticsearch listens on 9200",
      );
      expect(run.stdout).toContain("fix: Filebeat cannot deliver at all: docker logs atra-obs-dev-filebeat names the error");
      expect(run.stdout).toMatch(/verify FAILED: \d+ ok, 0 warn, \d+ failed/);
      // The same stack with the rendered port passes once events arrive.
      for (const service of facts.logServices) elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: service.name } });
      const fixed = await runCli(["--wait", "0"], outputs(elastic, grafana));
      expect(fixed.stdout).not.toContain("FAIL  elasticsearch.");
    } finally {
      fs.rmSync(wrong, { recursive: true, force: true });
    }
  });

  test("no secret is ever printed, in the text or the JSON report, even where a server echoes one", async () => {
    healthyGrafana(grafana);
    // A datasource health message that carries the Elasticsearch password (as a misconfigured URL would).
    grafana.state.datasources.set(facts.datasources[0].uid, {
      ok: false,
      message: `Get "http://elastic:${ES_PASSWORD}@es:9200": refused; login ${GRAFANA_PASSWORD}`,
    });
    const text = await runCli(["--wait", "0"], outputs(elastic, grafana));
    const json = await runCli(["--wait", "0", "--json"], outputs(elastic, grafana));
    for (const run of [text, json]) {
      expect(run.status).toBe(1);
      for (const secret of [ES_PASSWORD, GRAFANA_PASSWORD, encodeURIComponent(ES_PASSWORD)]) {
        expect(run.stdout).not.toContain(secret);
        expect(run.stderr).not.toContain(secret);
      }
      expect(run.stdout).toContain("[secret]");
    }
    const report = JSON.parse(json.stdout) as { ok: boolean; results: CheckResult[]; counts: Record<string, number> };
    expect(report.ok).toBe(false);
    expect(report.results.find((result) => result.id === `grafana.datasource.${facts.datasources[0].uid}`)?.status).toBe("fail");
    // The requests carried the passwords only in the Authorization header.
    expect(grafana.requests.every((request) => !request.path.includes(GRAFANA_PASSWORD))).toBe(true);
  });

  test("usage errors exit 2", async () => {
    const run = await runCli(["--wait", "soon"], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--wait "soon": expected a duration');
  });
});
