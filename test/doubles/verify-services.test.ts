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
import { AGENT_KEY_WARN_MS, elasticChecks } from "../../scripts/lib/verify/elastic";
import { AGENT_KEY_RENEW_MAX_MS } from "../../components/logs/elastic-bodies";
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
  for (const source of facts.datasources) grafana.state.datasources.set(source.uid, { ok: true, message: "Data source is working", type: source.type });
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
      "elasticsearch.agent-keys",
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
    const first = facts.datasources.find((source) => source.type === "prometheus")!;
    grafana.state.datasources.set(first.uid, {
      ok: false,
      message: 'Get "http://atra-obs-dev-prometheus:9090/api/v1/query": dial tcp: lookup atra-obs-dev-prometheus: no such host',
    });
    for (const source of facts.datasources.filter((source) => source !== first))
      grafana.state.datasources.set(source.uid, { ok: true, message: "ok", type: source.type });
    // The Elasticsearch datasource's login is refused: its health check still says OK (healthcheck.go), a query fails.
    grafana.state.queryErrors.set("atra-elasticsearch-ds", "[401] security_exception: unable to authenticate user [atra-dev-grafana-logs]");
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
    expect(results["grafana.datasource.atra-elasticsearch-ds"]).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(/a query through Grafana fails \(HTTP 400\): \[401\] security_exception/),
    });
    expect(results["grafana.datasource.atra-elasticsearch-failures-ds"].status).toBe("ok");
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

  // M1: grafana/grafana pkg/tsdb/elasticsearch/healthcheck.go answers OK for a refused login, so only a query proves it.
  test("an Elasticsearch datasource whose login is refused: Grafana's health check says OK, verify's query through Grafana FAILs", async () => {
    healthyGrafana(grafana);
    grafana.state.queryErrors.set("atra-elasticsearch-failures-ds", "[403] security_exception: action [indices:data/read/search] is unauthorized");
    const health = await fetch(`${grafana.url}/api/datasources/uid/atra-elasticsearch-failures-ds/health`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${GRAFANA_PASSWORD}`).toString("base64")}` },
    });
    expect([health.status, await health.json()]).toEqual([200, { status: "OK", message: "Elasticsearch cluster is healthy" }]);
    const results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["grafana.datasource.atra-elasticsearch-failures-ds"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("a query through Grafana fails (HTTP 400): [403] security_exception"),
    });
    const query = grafana.requests.find((request) => request.path === "/api/ds/query")!;
    expect(query.body).toMatchObject({ queries: [{ refId: "A", datasource: { type: "elasticsearch" }, timeField: "@timestamp" }] });
    grafana.state.queryErrors.clear();
    const fixed = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(fixed["grafana.datasource.atra-elasticsearch-failures-ds"]).toMatchObject({
      status: "ok",
      summary: expect.stringContaining("a query through Grafana succeeds"),
    });
  });

  // m3: pkg/api/datasources.go CheckDatasourceHealthWithUID (unknown uid: 500), pkg/api/dashboard.go (403 is not 404).
  test("an unknown datasource is named as missing from Grafana; a forbidden dashboard is not called missing", async () => {
    healthyGrafana(grafana);
    grafana.state.datasources.delete("atra-prometheus-ds");
    grafana.state.forbiddenDashboards.add(facts.dashboardUids[0]);
    const results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["grafana.datasource.atra-prometheus-ds"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("is not in Grafana (HTTP 500: Unable to load datasource metadata)"),
    });
    expect(results["grafana.dashboards"]).toMatchObject({ status: "fail", summary: expect.stringMatching(/^shipped dashboards not read: .*HTTP 403/) });
    expect(results["grafana.dashboards"].summary).not.toContain("missing");
  });

  // M2: api_prometheus.go RuleStatusMutatorGenerator: an unscheduled rule reads health "ok" with a zero lastEvaluation.
  test("alert rules Grafana has not evaluated yet are not a pass; once evaluated within the wait they are", async () => {
    healthyGrafana(grafana);
    grafana.state.ruleGroups = [{ name: "atra-services", rules: [{ name: "ServiceDown", health: "ok", evaluated: false }] }];
    let results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["grafana.alert-rules"]).toMatchObject({
      status: "fail",
      summary: "1 of 1 alert rules not evaluated yet (or not in the last 10 min): atra-services/ServiceDown",
    });
    setTimeout(() => (grafana.state.ruleGroups[0].rules[0].evaluated = true), 300);
    results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 1500, intervalMs: 100 })).results);
    expect(results["grafana.alert-rules"]).toMatchObject({ status: "ok", summary: "1 alert rules evaluate (none in error or no-data)" });
  });

  // M5: DESIGN.md "each service's newest log event recent"; the bound is services[].maxLogSilence (knowledge-os-api: 30m in Pulumi.dev.yaml).
  test("a newest event older than the service's maxLogSilence (or the 1 h default) FAILs once the wait is over", async () => {
    healthyGrafana(grafana);
    expect(facts.logSilenceMs).toEqual({ "knowledge-os-api": 1_800_000 });
    const now = Date.now();
    for (const service of facts.logServices) {
      const age = service.name === "knowledge-os-api" ? 45 * 60_000 : service.name === "worker" ? 3 * 3_600_000 : 45 * 60_000;
      elastic.ingest(DATA_STREAM, { "@timestamp": new Date(now - age).toISOString(), service: { name: service.name } });
    }
    const report = await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 });
    const results = byId(report.results);
    expect(results["elasticsearch.events.knowledge-os-api"]).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(/newest event 45 min old .*more than 30 min \(services\[\]\.maxLogSilence\): no line arrives any more/),
    });
    expect(results["elasticsearch.events.worker"]).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(/newest event 3 h old .*more than 60 min \(the default, no services\[\]\.maxLogSilence\)/),
    });
    // 45 min is within the default hour.
    expect(results["elasticsearch.events.orchestrator"].status).toBe("ok");
    expect(report.ok).toBe(false);
    // While the wait runs, a stale service is a warning (it may still write) and asked again; a new line turns it ok.
    const worker = elasticChecks({
      endpoint: { url: elastic.url, username: "elastic", password: ES_PASSWORD },
      dataStream: DATA_STREAM,
      facts,
      outputs: {},
      services: facts.logServices.filter((service) => service.name === "worker"),
      cluster: false,
      final: () => false,
    })[0];
    expect(await worker.run()).toMatchObject({ status: "warn", retry: true, summary: expect.stringContaining("newest event 3 h old") });
    elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: "worker" } });
    expect(await worker.run()).toMatchObject({ status: "ok", summary: expect.stringMatching(/newest event \d+ s old/) });
  });

  // Issue 21: an agent host whose log key is missing, invalidated or expired has every line refused, and nothing else says
  // so: verify compares the keys the outputs hand out (agentLogShipperApiKeys) with Elasticsearch's, expired ones included.
  test("agent log keys: each host's key of the outputs must be valid (missing, invalidated, expired: FAIL); near expiry or renewed with the old one valid: warn; a valid key of a host no longer listed: FAIL", async () => {
    expect(AGENT_KEY_WARN_MS).toBe(AGENT_KEY_RENEW_MAX_MS);
    const day = 86_400_000;
    const hosts = ["app-1.example.internal", "app-2.example.internal"];
    const check = (handed: Record<string, string> | undefined) =>
      elasticChecks({
        endpoint: { url: elastic.url, username: "elastic", password: ES_PASSWORD },
        dataStream: DATA_STREAM,
        facts,
        outputs: handed ? { agentLogShipperApiKeys: handed } : {},
        services: [],
        cluster: true,
      }).find((candidate) => candidate.id === "elasticsearch.agent-keys")!;
    const encoded = (keyId: string) => Buffer.from(`${keyId}:secret-half`).toString("base64");
    const key = (keyId: string, host: string, daysLeft: number | undefined, extra: Record<string, unknown> = {}) =>
      elastic.apiKeys.set(keyId, {
        key: "secret-half",
        owner: "elastic",
        name: `atra-dev-agent-filebeat-${host}`,
        metadata: { atra_host: host, data_stream: DATA_STREAM },
        creation: Date.now() - 30 * day,
        ...(daysLeft === undefined ? {} : { expiration: Date.now() + daysLeft * day }),
        ...extra,
      });
    const handed = { [hosts[0]!]: encoded("k1"), [hosts[1]!]: encoded("k2") };
    expect(await check(undefined).run()).toMatchObject({ status: "ok", summary: "no agent log keys (no agents[])" });
    key("k1", hosts[0]!, 60);
    key("k2", hosts[1]!, 50);
    // Another data stream's key of the same host name is not this stack's.
    key("other", hosts[0]!, 1, { metadata: { atra_host: hosts[0], data_stream: "logs-other-dev" } });
    expect(await check(handed).run()).toMatchObject({ status: "ok", summary: `2 agent log keys valid, the next expiring in 50 d (${hosts[1]})` });

    // Expired: active_only would have left it out and said ok; it is a FAIL naming the host.
    elastic.apiKeys.get("k2")!.expiration = Date.now() - 2 * day;
    const expired = await check(handed).run();
    expect(expired).toMatchObject({ status: "fail", summary: `agent log keys: ${hosts[1]}: its key expired 2 d ago: its lines are refused` });
    expect(expired.fix).toEqual([expect.stringContaining("a plain up renews it")]);
    elastic.apiKeys.get("k2")!.invalidated = true;
    expect((await check(handed).run()).summary).toContain(`${hosts[1]}: its key is invalidated`);
    elastic.apiKeys.delete("k2");
    expect((await check(handed).run()).summary).toContain(`${hosts[1]}: its key (agentLogShipperApiKeys) is not in Elasticsearch`);

    // Inside the renewal window (no central up since): warn. Renewed, the previous key still valid: warn, with its end.
    key("k2", hosts[1]!, 10);
    expect(await check(handed).run()).toMatchObject({ status: "warn", summary: `agent log keys: ${hosts[1]}: its key expires in 10 d` });
    key("k2-new", hosts[1]!, 90, { creation: Date.now() });
    const renewed = await check({ ...handed, [hosts[1]!]: encoded("k2-new") }).run();
    expect(renewed).toMatchObject({ status: "warn", summary: `agent log keys: ${hosts[1]}: renewed, its previous key is still valid (it expires in 10 d)` });
    expect(renewed.fix).toEqual([expect.stringContaining("before the previous key expires")]);

    // A host removed from agents[] whose key is still valid: the revocation did not happen.
    const removed = await check({ [hosts[0]!]: encoded("k1") }).run();
    expect(removed.status).toBe("fail");
    expect(removed.summary).toContain(`${hosts[1]}: not in agents[] (outputs), yet its key k2 is valid: it can still write`);
    expect(removed.fix).toEqual([expect.stringContaining('DELETE _security/api_key {"ids": ["k2", "k2-new"]}')]);
  });

  // m2: kibana src/core/packages/status/server-internal/src/routes/status.ts: the status code follows core's level only.
  test("Kibana answering 200 while a plugin makes it unavailable is a FAIL", async () => {
    healthyGrafana(grafana);
    elastic.verify.kibanaLevel = "unavailable";
    elastic.verify.kibanaCoreLevel = "available";
    const results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts, waitMs: 0 })).results);
    expect(results["kibana.status"]).toMatchObject({ status: "fail", summary: expect.stringMatching(/^Kibana is not available \(HTTP 200, unavailable/) });
  });

  // m1: api_alertmanager.go statusForTestReceivers: 400 / 408 carry the per-integration results too.
  test("--notify: a 400 (every receiver invalid) or 408 (every receiver timed out) names each integration and its error", async () => {
    healthyGrafana(grafana);
    const withPoints = { ...facts, contactPoints: ["oncall"] };
    grafana.state.receivers = [{ name: "oncall", integrations: [{ uid: "oncall-0", name: "oncall", type: "webhook", settings: { url: "http://hook" } }] }];
    grafana.state.failingIntegrations.set(
      "oncall-0",
      'failed to validate integration "oncall" (UID oncall-0) of type "webhook": required field \'url\' is not specified',
    );
    grafana.state.failureKinds.set("oncall-0", "invalid");
    let results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts: withPoints, waitMs: 0, notify: true })).results);
    expect(grafana.requests.find((request) => request.path.endsWith("receivers/test"))?.status).toBe(400);
    expect(results["grafana.notify"]).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("oncall (oncall) failed: failed to validate integration"),
    });
    grafana.state.failingIntegrations.set("oncall-0", "the receiver timed out: context deadline exceeded");
    grafana.state.failureKinds.set("oncall-0", "timeout");
    results = byId((await runVerify({ stack: "dev", outputs: outputs(elastic, grafana), facts: withPoints, waitMs: 0, notify: true })).results);
    expect(grafana.requests.filter((request) => request.path.endsWith("receivers/test")).pop()?.status).toBe(408);
    expect(results["grafana.notify"]).toMatchObject({
      status: "fail",
      summary: "--notify: oncall (oncall) failed: the receiver timed out: context deadline exceeded",
    });
  });

  // M3: an external Grafana / Elastic (outputs as plan-review-external's: URLs, no admin or elastic login).
  test("an external Grafana and Elastic: without credentials the signed-in checks say why they did not run; with ATRA_* env they run", async () => {
    healthyGrafana(grafana);
    for (const service of facts.logServices) elastic.ingest(DATA_STREAM, { "@timestamp": new Date().toISOString(), service: { name: service.name } });
    const external: Record<string, unknown> = {
      ...outputs(elastic, grafana),
      grafanaLogsUser: "atra-review-external-grafana-logs",
      grafanaLogsPassword: "gl-Secret-1",
    };
    delete external.grafanaAdminUser;
    delete external.grafanaAdminPassword;
    delete external.elasticsearchUser;
    delete external.elasticsearchPassword;
    let report = await runVerify({ stack: "review-external", outputs: external, facts, waitMs: 0, env: {} });
    let results = byId(report.results);
    expect(results["grafana.health"].status).toBe("ok");
    expect(results["grafana.signed-in"]).toMatchObject({
      status: "skip",
      summary: expect.stringContaining("give a service account token in ATRA_GRAFANA_TOKEN"),
    });
    expect(results.elasticsearch).toMatchObject({ status: "skip", summary: expect.stringContaining("give an API key in ATRA_ELASTIC_API_KEY") });
    expect(report.results.filter((result) => result.status === "fail")).toEqual([]);
    expect(grafana.requests.filter((request) => request.status === 401)).toEqual([]);
    // With credentials from the environment: every check runs, and neither value is ever printed.
    const token = "glsa_Token-0123456789";
    elastic.apiKeys.set("key-id-1", { key: "key-Secret-42", owner: "elastic" });
    const grafanaWithToken = await startFakeGrafana({ user: "admin", password: GRAFANA_PASSWORD, token });
    try {
      healthyGrafana(grafanaWithToken);
      report = await runVerify({
        stack: "review-external",
        outputs: { ...external, grafanaUrl: grafanaWithToken.url },
        facts,
        waitMs: 0,
        env: { ATRA_GRAFANA_TOKEN: token, ATRA_ELASTIC_API_KEY: "key-id-1:key-Secret-42" },
      });
      results = byId(report.results);
      for (const id of ["grafana.alert-rules", "grafana.dashboards", "elasticsearch.health", "elasticsearch.events.worker", "kibana.data-view"])
        expect([id, results[id]?.status]).toEqual([id, "ok"]);
      // A wrong token is refused naming where it came from, not the outputs.
      report = await runVerify({
        stack: "review-external",
        outputs: { ...external, grafanaUrl: grafanaWithToken.url },
        facts,
        waitMs: 0,
        env: { ATRA_GRAFANA_TOKEN: "glsa_wrong-token-77", ATRA_ELASTIC_API_KEY: "key-id-1:wrong-key-99" },
      });
      results = byId(report.results);
      expect(results["grafana.alert-rules"]).toMatchObject({ status: "fail", summary: "Grafana refuses the token in ATRA_GRAFANA_TOKEN (401)" });
      expect(results["elasticsearch.health"]).toMatchObject({ status: "fail", summary: "Elasticsearch refuses ATRA_ELASTIC_API_KEY (401)" });
      expect(JSON.stringify(report)).not.toMatch(/glsa_wrong-token-77|wrong-key-99|glsa_Token|gl-Secret-1/);
    } finally {
      await grafanaWithToken.close();
    }
  });

  test("an agent stack without its central outputs: verify is incomplete and FAILs, saying how to give them", async () => {
    const report = await runVerify({
      stack: "agent-example",
      outputs: { role: "agent", host: "app-2.atra.internal", elasticsearchUrl: "https://logs.obs-prod.atra.internal" },
      facts: { ...facts, filebeatHosts: ["https://logs.obs-prod.atra.internal:443"], elasticsearchContainer: undefined },
      waitMs: 0,
    });
    const results = byId(report.results);
    expect(results["agent.central"]).toMatchObject({ status: "fail", summary: expect.stringMatching(/^verify incomplete: this is an agent stack/) });
    expect(results["agent.central"].fix![0]).toContain("--central-outputs <file> (or ATRA_CENTRAL_OUTPUTS=<file>)");
    expect(results["filebeat.output"]).toMatchObject({ status: "ok", summary: "Filebeat dials logs.obs-prod.atra.internal:443, where Elasticsearch listens" });
    expect(report.ok).toBe(false);
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
