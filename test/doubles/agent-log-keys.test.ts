/**
 * Per-host log keys (issue 21, Major 2), end to end through the doubles: the providers PUT what the renderers make
 * (policy, structlog pipeline, host-identity final pipeline, template with dynamic: false) and create one API key per
 * agent host into the fake Elasticsearch (test/support/fake-elastic.ts), then documents are written with `_bulk` as
 * Filebeat writes them, with each agent's key and with the central stack's writer user. The fake authorizes each item
 * against the key's role descriptors and runs the stored pipelines and mapping with the ingest simulator
 * (test/support/ingest-simulator.ts), whose set_security_user follows elastic/elasticsearch x-pack/plugin/security/
 * src/main/java/org/elasticsearch/xpack/security/ingest/SetSecurityUserProcessor.java and whose pipeline order follows
 * server/src/main/java/org/elasticsearch/ingest/IngestService.java (resolvePipelines: a request's `pipeline` replaces
 * the default pipeline only; the final pipeline always runs).
 */
import * as runtime from "../../components/elastic/provider-runtime";
import type { ElasticConnection, RetryOptions } from "../../components/elastic/connection";
import {
  AGENT_HOST_METADATA,
  AGENT_SERVICES_METADATA,
  AUTHENTICATED_FIELD,
  agentApiKeyName,
  defaultDataStream,
  logsNaming,
  renderAgentApiKey,
  renderHostIdentityPipeline,
  renderIlmPolicy,
  renderIndexTemplate,
  renderIngestPipeline,
  renderWriterRole,
} from "../../components/logs/elastic-bodies";
import { spawnSync } from "child_process";
import * as path from "path";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";

const ADMIN_PASSWORD = "es-admin-Pa55word!";
const WRITER_PASSWORD = "writer-Pa55word-long";
const FAST: RetryOptions = { maxElapsedMs: 3_000, initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 2_000 };
const naming = logsNaming("prod", defaultDataStream("prod"));
const CENTRAL = "obs-prod.example.internal";
const APP1 = "app-1.example.internal";
const APP2 = "app-2.example.internal";
/** agents[].services of each agent host. */
const SERVICES: Record<string, string[]> = { [APP1]: ["api"], [APP2]: ["api", "worker"] };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are free-form JSON
type Doc = Record<string, any>;

let fake: FakeElastic;
let connection: ElasticConnection;
const keys = new Map<string, runtime.ApiKeyState>();

/** A Filebeat event of one structlog line, as its filestream input and add fields make it. */
const event = (line: string, host: string, extra: Doc = {}): Doc => ({
  "@timestamp": "2030-01-02T03:04:05.678Z",
  message: line,
  service: { name: "api" },
  host: { name: host },
  log: { file: { path: "/srv/atra/logs/api.log" }, offset: 7 },
  ...extra,
});

/** POST _bulk with `create` items, as Filebeat's output sends them (one action line, one document line each). */
async function bulk(authorization: string, documents: Doc[], query = ""): Promise<Doc> {
  const body = documents.map((document) => `${JSON.stringify({ create: { _index: naming.dataStream } })}\n${JSON.stringify(document)}\n`).join("");
  const response = await fetch(`${fake.url}/_bulk${query}`, { method: "POST", headers: { authorization, "content-type": "application/x-ndjson" }, body });
  return { status: response.status, ...((await response.json()) as Doc) };
}
const asKey = (host: string) => `ApiKey ${keys.get(host)!.encoded}`;
const asWriter = `Basic ${Buffer.from(`${naming.writerUser}:${WRITER_PASSWORD}`).toString("base64")}`;
const read = (id: string, props: runtime.ApiKeyState) => runtime.elasticsearchApiKeyProvider.read!(id, props);
const lastDocument = (): Doc => fake.verify.dataStreams.get(naming.dataStream)!.documents.at(-1)!;

beforeEach(async () => {
  fake = await startFakeElastic(ADMIN_PASSWORD);
  connection = { url: fake.url, username: "elastic", password: ADMIN_PASSWORD };
  const put = async <Body>(provider: typeof runtime.roleProvider, name: string, body: Body) =>
    provider.create({ connection, name, body, retry: FAST } as never);
  await put(runtime.ilmPolicyProvider, naming.ilmPolicy, {
    policy: renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "7d" }),
  });
  await put(runtime.ingestPipelineProvider, naming.pipeline, renderIngestPipeline());
  await put(runtime.ingestPipelineProvider, naming.finalPipeline, renderHostIdentityPipeline(CENTRAL));
  await put(
    runtime.indexTemplateProvider,
    naming.indexTemplate,
    renderIndexTemplate({
      dataStream: naming.dataStream,
      ilmPolicy: naming.ilmPolicy,
      pipeline: naming.pipeline,
      finalPipeline: naming.finalPipeline,
      failureStoreRetention: "7d",
    }),
  );
  await put(runtime.roleProvider, naming.writerRole, renderWriterRole(naming.dataStream));
  await runtime.nativeUserProvider.create({
    connection,
    name: naming.writerUser,
    password: WRITER_PASSWORD,
    body: { roles: [naming.writerRole] },
    retry: FAST,
  });
  keys.clear();
  for (const host of [APP1, APP2]) {
    const { outs } = await runtime.elasticsearchApiKeyProvider.create({
      connection,
      name: agentApiKeyName(naming, host),
      body: renderAgentApiKey(naming, host, SERVICES[host]!, "90d"),
      retry: FAST,
    });
    keys.set(host, outs as runtime.ApiKeyState);
  }
});
afterEach(async () => {
  await fake.close();
});

test("an agent's key writes its own lines: parsed by the structlog pipeline, host.name the key's host, nothing of the authentication indexed", async () => {
  const answer = await bulk(asKey(APP1), [event('{"event": "ready", "level": "info"}', APP1)]);
  expect(answer).toMatchObject({ status: 200, errors: false, items: [{ create: { status: 201, result: "created" } }] });
  const stored = lastDocument();
  expect(stored.host).toEqual({ name: APP1 });
  expect(stored.message).toBe("ready");
  expect(stored.log.level).toBe("info");
  expect(stored[AUTHENTICATED_FIELD]).toBeUndefined();
});

test("real structlog output (python3-structlog, test/support/structlog-lines.py) shipped with an agent's key: every line as that host and its service, the too-deep one to the failure store as on the central path", async () => {
  const run = spawnSync("/usr/bin/python3", [path.join(__dirname, "..", "support", "structlog-lines.py")], { encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) throw new Error(`structlog-lines.py failed (python3-structlog installed?): ${run.stderr}`);
  const lines = run.stdout.split("\n").filter((line) => line.trim() !== "");
  expect(lines.length).toBeGreaterThan(10);
  // Each line as Filebeat ships it from APP2, claiming the central host as a sender could.
  const answer = await bulk(
    asKey(APP2),
    lines.map((line) => event(line, CENTRAL, { service: { name: "worker" } })),
  );
  expect(answer).toMatchObject({ status: 200 });
  const stream = fake.verify.dataStreams.get(naming.dataStream)!;
  // The one line nested deeper than the flattened field's depth limit fails in the mapper, as it does when the
  // central Filebeat ships it (test/doubles/ingest-pipeline.test.ts, "nested too deep"); nothing else fails.
  expect((stream.failures as Doc[]).map((failure) => [failure.document.source.message, failure.error.type])).toEqual([
    ["nested too deep", "document_parsing_exception"],
  ]);
  const stored = stream.documents.slice(-(lines.length - 1)) as Doc[];
  expect(stored).toHaveLength(lines.length - 1);
  for (const document of stored) {
    expect(document.host).toEqual({ name: APP2 });
    expect(document.service.name).toBe("worker");
    expect(document[AUTHENTICATED_FIELD]).toBeUndefined();
  }
});

test("a document claiming another host (host.name, other host.* fields, a pre-filled authentication field) lands with the key's host", async () => {
  const forged = event('{"event": "all good", "level": "error"}', APP2, {
    host: { name: APP2, hostname: APP2, ip: ["10.0.0.2"] },
    [AUTHENTICATED_FIELD]: { api_key: { metadata: { [AGENT_HOST_METADATA]: APP2 } } },
  });
  expect((await bulk(asKey(APP1), [forged])).items[0].create.status).toBe(201);
  expect(lastDocument().host).toEqual({ name: APP1 });
  expect(lastDocument()[AUTHENTICATED_FIELD]).toBeUndefined();
  // Claiming the central host does no better.
  await bulk(asKey(APP2), [event('{"event": "x"}', CENTRAL)]);
  expect(lastDocument().host).toEqual({ name: APP2 });
});

const lastIndexed = (): Record<string, unknown[]> => fake.indexedFields(naming.dataStream).at(-1)!;

test("a dotted root name (host.name, host.*, atra_authenticated.*) cannot claim another host: only the key's host is indexed", async () => {
  // Ingest paths walk nested objects, so `remove host` alone leaves a root key "host.name"; the mapper then reads it as
  // host: {name} next to the pipeline's host object and indexes both (DotExpandingXContentParser; DocumentParserTests,
  // testDotsWithExistingMapper). The final pipeline expands dotted root names first (dot_expander), then drops host.
  const forged = event('{"event": "all good", "level": "error"}', APP2, {
    "host.name": APP2,
    "host.hostname": APP2,
    "host.os.name": "linux",
    [`${AUTHENTICATED_FIELD}.api_key.metadata.${AGENT_HOST_METADATA}`]: APP2,
  });
  expect((await bulk(asKey(APP1), [forged])).items[0].create.status).toBe(201);
  expect(lastIndexed()["host.name"]).toEqual([APP1]);
  expect(Object.keys(lastIndexed()).filter((field) => field.startsWith("host."))).toEqual(["host.name"]);
  const stored = lastDocument();
  expect(Object.keys(stored).filter((key) => key === "host" || key.startsWith("host.") || key.startsWith(AUTHENTICATED_FIELD))).toEqual(["host"]);
  expect(stored.host).toEqual({ name: APP1 });
  // Only a dotted host, no nested one: the same.
  const dottedOnly: Doc = { ...event('{"event": "x"}', APP2), "host.name": CENTRAL };
  delete dottedOnly.host;
  await bulk(asKey(APP2), [dottedOnly]);
  expect(lastIndexed()["host.name"]).toEqual([APP2]);
});

test("a dotted host name that cannot be expanded (host is a string) fails the line into the failure store, never indexing it", async () => {
  const document: Doc = { ...event('{"event": "x"}', APP2), host: APP2, "host.name": APP2 };
  const answer = await bulk(asKey(APP1), [document]);
  expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
  const failure = fake.verify.dataStreams.get(naming.dataStream)!.failures.at(-1)! as { error: Doc };
  expect(failure.error).toMatchObject({ pipeline: naming.finalPipeline, processor_type: "dot_expander", processor_tag: "expand_dotted_names" });
  expect(failure.error.message).toBe("cannot expand [host.name], because [host] is not an object field, but a value field");
  expect(fake.verify.dataStreams.get(naming.dataStream)!.documents).toEqual([]);
});

const failures = (): { error: Doc; document?: Doc }[] => fake.verify.dataStreams.get(naming.dataStream)!.failures as never;
const documents = (): Doc[] => fake.verify.dataStreams.get(naming.dataStream)!.documents;

test("a line for one of the key's services (agents[].services, metadata atra_services) lands; another service's goes to the failure store", async () => {
  expect((await bulk(asKey(APP2), [event('{"event": "job done"}', APP2, { service: { name: "worker" } })])).items[0].create.status).toBe(201);
  expect(lastDocument().service).toEqual({ name: "worker" });
  expect(lastDocument().host).toEqual({ name: APP2 });
  // APP1 runs "api" only: a "worker" line (faking ServiceLogErrorsHigh, or keeping a stopped worker "logging") is refused.
  const answer = await bulk(asKey(APP1), [event('{"event": "boom", "level": "error"}', APP1, { service: { name: "worker" } })]);
  expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
  expect(failures().at(-1)!.error).toMatchObject({ pipeline: naming.finalPipeline, processor_type: "fail", processor_tag: "service_not_of_host" });
  expect(failures().at(-1)!.error.message).toBe(`service.name is not one of host [${APP1}]'s services (agents[].services, API key metadata atra_services)`);
  expect(documents().filter((document) => document.host.name === APP1)).toEqual([]);
});

test("a dotted service.name is checked as the nested one: listed, one value lands; unlisted, the failure store", async () => {
  await bulk(asKey(APP2), [event('{"event": "x", "level": "error"}', APP2, { "service.name": "worker", "log.level": "info" })]);
  // Without the expansion the mapper would index both names (["api", "worker"]): one line counted for two services.
  expect(lastIndexed()["service.name"]).toEqual(["worker"]);
  expect(lastIndexed()["host.name"]).toEqual([APP2]);
  expect(Object.keys(lastDocument()).filter((key) => key.includes("."))).toEqual([]);
  const before = documents().length;
  const answer = await bulk(asKey(APP1), [event('{"event": "x", "level": "error"}', APP1, { "service.name": "billing" })]);
  expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
  expect(failures().at(-1)!.error).toMatchObject({ processor_tag: "service_not_of_host" });
  expect(documents()).toHaveLength(before);
});

test("a service.name that is not one string (a list naming a listed service too, a number) matches nothing: the failure store", async () => {
  for (const name of [["api", "billing"], ["api"], 7]) {
    const answer = await bulk(asKey(APP1), [event('{"event": "x"}', APP1, { service: { name } })]);
    expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
    expect(failures().at(-1)!.error).toMatchObject({ processor_tag: "service_not_of_host" });
  }
  expect(documents()).toEqual([]);
});

test("a service that is not one object (a list of objects naming a listed service, a string) fails: the mapper would index each object's name", async () => {
  // elastic/elasticsearch server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java (parseNonDynamicArray):
  // each object of an array is parsed against the `service` object mapper, so `[{"name": "api"}]` is indexed as
  // service.name=api; dot_expander `*` (DotExpanderProcessor.java) expands root keys only and leaves the list as it is.
  for (const service of [[{ name: "api" }], [{ name: "billing" }], "billing"]) {
    const answer = await bulk(asKey(APP1), [{ ...event('{"event": "x"}', APP1), service }]);
    expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
    expect(failures().at(-1)!.error).toMatchObject({ processor_tag: "service_not_of_host" });
  }
  expect(documents()).toEqual([]);
});

test("a line with no service.name (host-level) lands, from a host with or without services", async () => {
  const { service: _service, ...hostLevel } = event('{"event": "disk almost full", "level": "warning"}', APP1);
  expect((await bulk(asKey(APP1), [hostLevel])).items[0].create.status).toBe(201);
  expect(lastDocument().service).toBeUndefined();
  expect(lastDocument().host).toEqual({ name: APP1 });
  expect((await bulk(asKey(APP1), [{ ...hostLevel, service: { type: "x" } }])).items[0].create.status).toBe(201);
});

test("the central stack's own Filebeat (writer user, no API key) writes any service.name: the check is the agents' keys' only", async () => {
  await bulk(asWriter, [event('{"event": "central"}', CENTRAL, { service: { name: "billing" } })], `?pipeline=${naming.pipeline}`);
  expect(lastDocument()).toMatchObject({ host: { name: CENTRAL }, service: { name: "billing" } });
  await bulk(asWriter, [event('{"event": "central"}', CENTRAL, { "service.name": "worker" })], `?pipeline=${naming.pipeline}`);
  expect(lastIndexed()["service.name"]).toEqual(["worker"]);
  expect(failures()).toEqual([]);
});

test("a key made before atra_services existed (metadata atra_host only) refuses every service.name, keeps host-level lines", async () => {
  const { outs } = await runtime.elasticsearchApiKeyProvider.create({
    connection,
    name: "old-style",
    body: { ...renderAgentApiKey(naming, APP1, [], "90d"), metadata: { [AGENT_HOST_METADATA]: APP1 } },
    retry: FAST,
  });
  expect((await bulk(`ApiKey ${outs.encoded}`, [event("x", APP1)])).items[0].create).toMatchObject({ failure_store: "used" });
  const { service: _service, ...hostLevel } = event("y", APP1);
  expect((await bulk(`ApiKey ${outs.encoded}`, [hostLevel])).items[0].create.status).toBe(201);
});

test("changing a host's services updates its key in place (PUT _security/api_key/<id>): same key and secret, the new list enforced at once", async () => {
  const olds = keys.get(APP1)!;
  const news: runtime.ApiKeyState = { ...olds, body: renderAgentApiKey(naming, APP1, ["api", "worker"], "90d") };
  const provider = runtime.elasticsearchApiKeyProvider;
  const diff = await provider.diff!(olds.keyId!, olds, news);
  expect(diff).toEqual({ changes: true, replaces: [] });
  const { outs } = await provider.update!(olds.keyId!, olds, news);
  expect(outs).toMatchObject({ keyId: olds.keyId, encoded: olds.encoded, apiKey: olds.apiKey });
  expect(fake.apiKeys.get(olds.keyId!)!.metadata).toMatchObject({ [AGENT_SERVICES_METADATA]: ["api", "worker"] });
  expect(fake.requests.filter((request) => request.method === "PUT" && request.path === `/_security/api_key/${olds.keyId}`)).toHaveLength(1);
  expect(fake.apiKeys.size).toBe(2);
  expect((await bulk(asKey(APP1), [event("x", APP1, { service: { name: "worker" } })])).items[0].create.status).toBe(201);
  expect(lastDocument().service).toEqual({ name: "worker" });
  // And back: "worker" removed, its lines refused again with the same key.
  const narrowed: runtime.ApiKeyState = { ...(outs as runtime.ApiKeyState), body: renderAgentApiKey(naming, APP1, ["api"], "90d") };
  await provider.update!(olds.keyId!, outs as runtime.ApiKeyState, narrowed);
  expect((await bulk(asKey(APP1), [event("x", APP1, { service: { name: "worker" } })])).items[0].create).toMatchObject({ failure_store: "used" });
  // A new expiration is still a new key (replace).
  expect((await provider.diff!(olds.keyId!, olds, { ...olds, body: renderAgentApiKey(naming, APP1, ["api"], "30d") })).replaces).toEqual(["body"]);
});

test("a services change also updates the key a renewal left valid; one already expired is skipped, not an error", async () => {
  const provider = runtime.elasticsearchApiKeyProvider;
  const first = keys.get(APP1)!;
  // Renew (due: expiresAt in the past of the window), then change services.
  const due = { ...first, renewBefore: "100d" };
  const { outs: renewed } = await provider.update!(first.keyId!, due, due);
  const current = renewed as runtime.ApiKeyState;
  expect(current.previousKeyId).toBe(first.keyId);
  const wider: runtime.ApiKeyState = { ...current, renewBefore: "14d", body: renderAgentApiKey(naming, APP1, ["api", "worker"], "90d") };
  await provider.update!(current.keyId!, { ...current, renewBefore: "14d" }, wider);
  for (const id of [current.keyId!, first.keyId!]) expect(fake.apiKeys.get(id)!.metadata).toMatchObject({ [AGENT_SERVICES_METADATA]: ["api", "worker"] });
  // The previous key expired meanwhile: the next change skips it (Elasticsearch: "cannot update expired API key").
  fake.apiKeys.get(first.keyId!)!.expiration = Date.now() - 1;
  await provider.update!(current.keyId!, wider, { ...wider, body: renderAgentApiKey(naming, APP1, ["api"], "90d") });
  expect(fake.apiKeys.get(current.keyId!)!.metadata).toMatchObject({ [AGENT_SERVICES_METADATA]: ["api"] });
  expect(fake.apiKeys.get(first.keyId!)!.metadata).toMatchObject({ [AGENT_SERVICES_METADATA]: ["api", "worker"] });
});

test("the fake's update API as upstream: owner user only, never an API key; invalidated or expired keys refused", async () => {
  const app2 = keys.get(APP2)!;
  const put = (authorization: string, id: string) =>
    fetch(`${fake.url}/_security/api_key/${id}`, {
      method: "PUT",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ metadata: { a: 1 } }),
    }).then(async (response) => ({ status: response.status, ...((await response.json()) as Doc) }));
  const admin = `Basic ${Buffer.from(`elastic:${ADMIN_PASSWORD}`).toString("base64")}`;
  expect(await put(asKey(APP1), app2.keyId!)).toMatchObject({
    status: 400,
    error: { reason: "authentication via API key not supported: only the owner user can update an API key" },
  });
  expect(await put(asWriter, app2.keyId!)).toMatchObject({ status: 404, error: { type: "resource_not_found_exception" } });
  expect(await put(admin, app2.keyId!)).toMatchObject({ status: 200, updated: true });
  expect(await put(admin, app2.keyId!)).toMatchObject({ status: 200, updated: false });
  fake.apiKeys.get(app2.keyId!)!.invalidated = true;
  expect(await put(admin, app2.keyId!)).toMatchObject({ status: 400, error: { reason: `cannot update invalidated API key [${app2.keyId}]` } });
});

test("pipeline=_none (or another pipeline) replaces the default pipeline only: the final pipeline still sets the host", async () => {
  await bulk(asKey(APP1), [event('{"event": "raw"}', APP2)], "?pipeline=_none");
  const raw = lastDocument();
  // The structlog pipeline did not run (the line stays raw), the final one did.
  expect(raw.message).toBe('{"event": "raw"}');
  expect(raw.host).toEqual({ name: APP1 });
  await bulk(asKey(APP1), [event("line", APP2)], `?pipeline=${naming.finalPipeline}`);
  expect(lastDocument().host).toEqual({ name: APP1 });
  // A stored pipeline of someone else's that sets the host: the final pipeline still runs after it.
  await runtime.ingestPipelineProvider.create({
    connection,
    name: "sets-the-host",
    body: { processors: [{ set: { field: "host.name", value: APP2 } }, { set: { field: "host.hostname", value: APP2 } }] },
    retry: FAST,
  } as never);
  await bulk(asKey(APP1), [event("line", APP1)], "?pipeline=sets-the-host");
  expect(lastDocument().host).toEqual({ name: APP1 });
  expect(lastIndexed()["host.name"]).toEqual([APP1]);
});

test("the central stack's own Filebeat (the writer user, not an API key) keeps the central host it sends", async () => {
  await bulk(asWriter, [event('{"event": "central"}', CENTRAL)], `?pipeline=${naming.pipeline}`);
  expect(lastDocument().host).toEqual({ name: CENTRAL });
  expect(lastDocument()[AUTHENTICATED_FIELD]).toBeUndefined();
});

test("a write without an API key (the writer user, its password an output) lands as the central host whatever it names: what the central Filebeat sends anyway", async () => {
  // The central Filebeat's add_fields sets host.name to prometheus.hostLabel on every event (filebeat-config.ts), so
  // setting it again changes nothing for it; anyone else with the writer's password cannot pass as an agent host.
  await bulk(asWriter, [event('{"event": "x"}', APP1)], `?pipeline=${naming.pipeline}`);
  expect(lastDocument().host).toEqual({ name: CENTRAL });
  await bulk(asWriter, [{ ...event('{"event": "x"}', APP1), "host.name": APP2 }], `?pipeline=${naming.pipeline}`);
  expect(lastIndexed()["host.name"]).toEqual([CENTRAL]);
  expect(failures()).toEqual([]);
});

test("an API key without atra_host metadata cannot write lines: the final pipeline fails them into the failure store (LogIngestFailures)", async () => {
  const { outs } = await runtime.elasticsearchApiKeyProvider.create({
    connection,
    name: "hand-made",
    body: { role_descriptors: renderAgentApiKey(naming, APP1, ["api"], "90d").role_descriptors, metadata: { purpose: "someone's own" } },
    retry: FAST,
  });
  const answer = await bulk(`ApiKey ${outs.encoded}`, [event('{"event": "x"}', CENTRAL)]);
  expect(answer.items[0].create).toMatchObject({ status: 201, failure_store: "used" });
  const failure = fake.verify.dataStreams.get(naming.dataStream)!.failures.at(-1)! as { error: Doc };
  expect(failure.error).toMatchObject({ pipeline: naming.finalPipeline, processor_type: "fail" });
  expect(failure.error.message).toContain("API key [hand-made] names no host");
  expect(fake.verify.dataStreams.get(naming.dataStream)!.documents).toEqual([]);
});

test("an unknown field, of any shape and from any sender, does not grow the mapping (dynamic: false); the document is kept", async () => {
  const fields: Doc = { extra: 5, nested: { deep: { er: ["x", 1] } }, agent: { type: "filebeat" } };
  for (let index = 0; index < 50; index++) fields[`field_${index}`] = `value ${index}`;
  const answer = await bulk(asKey(APP1), [event('{"event": "wide"}', APP1, fields)]);
  expect(answer.items[0].create.status).toBe(201);
  expect(lastDocument().field_49).toBe("value 49");
  expect(fake.learnedFields(naming.dataStream)).toEqual([]);
  // Another host's document with the same names but other types is not refused either.
  const other = await bulk(asKey(APP2), [event('{"event": "other"}', APP2, { extra: { not: "a number" }, field_1: 7 })]);
  expect(other.items[0].create.status).toBe(201);
});

test("an agent key writes to its data stream only", async () => {
  const body = `${JSON.stringify({ create: { _index: "logs-other-prod" } })}\n${JSON.stringify(event("x", APP1))}\n`;
  const response = await fetch(`${fake.url}/_bulk`, { method: "POST", headers: { authorization: asKey(APP1), "content-type": "application/x-ndjson" }, body });
  const answer = (await response.json()) as Doc;
  expect(answer.items[0].create).toMatchObject({ status: 403, error: { type: "security_exception" } });
});

test("removing a host (its key resource deleted) invalidates its key alone: its writes are refused, the other host keeps writing", async () => {
  const removed = keys.get(APP1)!;
  await runtime.elasticsearchApiKeyProvider.delete!(removed.keyId!, removed);
  const refused = await bulk(asKey(APP1), [event("x", APP1)]);
  // ApiKeyService.validateApiKeyCredentials: an invalidated key fails authentication, 401 for the whole request.
  expect(refused.status).toBe(401);
  expect(refused.error.type).toBe("security_exception");
  const kept = await bulk(asKey(APP2), [event('{"event": "still here"}', APP2)]);
  expect(kept.items[0].create.status).toBe(201);
  expect(lastDocument().host).toEqual({ name: APP2 });
  // The provider's refresh sees the removed key gone (a re-added host gets a new one).
  expect(await read(removed.keyId!, removed)).toEqual({ id: "", props: {} });
});

test("the key expires (expiration from logs.agentKeyExpiration): GET shows when; past it, writes are refused and the refresh makes it gone", async () => {
  const app2 = keys.get(APP2)!;
  const listed = (await (
    await fetch(`${fake.url}/_security/api_key?id=${app2.keyId}`, {
      headers: { authorization: `Basic ${Buffer.from(`elastic:${ADMIN_PASSWORD}`).toString("base64")}` },
    })
  ).json()) as Doc;
  const expiration = listed.api_keys[0].expiration as number;
  expect(expiration - Date.now()).toBeGreaterThan(89 * 86_400_000);
  expect(expiration - Date.now()).toBeLessThanOrEqual(90 * 86_400_000);
  // Make it expired (the fake's clock is the real one) and try again.
  fake.apiKeys.get(app2.keyId!)!.expiration = Date.now() - 1;
  expect((await bulk(asKey(APP2), [event("x", APP2)])).status).toBe(401);
  expect(await read(app2.keyId!, app2)).toEqual({ id: "", props: {} });
});
