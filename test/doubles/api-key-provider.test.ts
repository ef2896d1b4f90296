/**
 * The Elasticsearch API key provider (components/elastic/provider-runtime.ts, elasticsearchApiKeyProvider),
 * serialized and loaded back as Pulumi's dynamic-provider host does, against the in-process fake of
 * Elasticsearch's API key endpoints (test/support/fake-elastic.ts), over HTTP and over HTTPS with a private CA
 * made here with Debian's openssl. The resource class is registered under Pulumi's mock engine to see what
 * the engine is told to keep secret.
 */
import { failure, Provider, serializeAndLoad, Serialized } from "../support/serialized-provider";
import { Client } from "@elastic/elasticsearch";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as runtime from "../../components/elastic/provider-runtime";
import type { ApiKeyState } from "../../components/elastic/provider-runtime";
import type { ElasticConnection, RetryOptions } from "../../components/elastic/connection";
import type { ApiKeyBody } from "../../components/elastic/request-bodies";
import { agentApiKeyName, DERIVED_API_KEY_REFUSAL, defaultDataStream, logsNaming, renderAgentApiKey } from "../../components/logs/elastic-bodies";
import { FakeElastic, RecordedRequest, startFakeElastic } from "../support/fake-elastic";
import { makePki, Pki } from "../support/pki";

const ADMIN_PASSWORD = "es-admin-Pa55word!";
const FAST: RetryOptions = { maxElapsedMs: 3_000, initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 2_000 };
const naming = logsNaming("dev", defaultDataStream("dev"));
const HOST = "app-1.example.com";
const KEY_NAME = agentApiKeyName(naming, HOST);
const BODY: ApiKeyBody = renderAgentApiKey(naming, HOST, ["api"], "90d");
/** The same key with write added: a privilege change. */
const WIDER: ApiKeyBody = {
  ...BODY,
  role_descriptors: { [naming.writerRole]: { ...BODY.role_descriptors![naming.writerRole], indices: [{ names: [naming.dataStream], privileges: ["write"] }] } },
};

let serialized: Serialized;
let provider: Provider;
let tmp: string;
let pki: Pki;
beforeAll(async () => {
  serialized = await serializeAndLoad(runtime.elasticsearchApiKeyProvider);
  provider = serialized.provider;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-api-key-"));
  pki = makePki(tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("a create that may have been carried out (a gateway's 504 after the request went through) is not retried, and says how to find the key", async () => {
  // A reverse proxy in front of Elasticsearch answers 504 when Elasticsearch is slow: the key may exist by then.
  let puts = 0;
  const gateway = http.createServer((request, response) => {
    if (request.method === "PUT") puts++;
    request.resume();
    response.writeHead(504, { "content-type": "text/plain" }).end("Gateway Timeout");
  });
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const message = await failure(
      provider.create({ connection: { url, username: "elastic", password: ADMIN_PASSWORD }, name: KEY_NAME, body: BODY, retry: FAST }),
    );
    expect(puts).toBe(1);
    expect(message).toContain("HTTP 504");
    expect(message).toContain("not retried: the key may have been made anyway");
    expect(message).not.toContain(ADMIN_PASSWORD);
  } finally {
    await new Promise<void>((resolve) => gateway.close(() => resolve()));
  }
});

test("the provider serializes without secrets, local module paths or local requires", () => {
  expect(serialized.containsSecrets).toBe(false);
  expect(serialized.text).not.toContain(path.resolve(__dirname, "../.."));
  const requires = [...serialized.text.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]);
  for (const required of requires) expect(["@elastic/elasticsearch", "tls", "net", "https"]).toContain(required);
  expect(serialized.text).toMatch(/^exports\.handler = /);
});

describe.each(["http", "https"] as const)("over %s", (scheme) => {
  let fake: FakeElastic;
  let connection: ElasticConnection;
  beforeEach(async () => {
    fake = await startFakeElastic(ADMIN_PASSWORD, scheme === "https" ? { tls: { key: pki.serverKey, cert: pki.serverChain } } : {});
    connection = { url: fake.url, username: "elastic", password: ADMIN_PASSWORD, ...(scheme === "https" ? { caCertificate: pki.caPem } : {}) };
  });
  afterEach(async () => {
    await fake.close();
  });

  const inputs = (overrides: Partial<ApiKeyState> = {}): ApiKeyState => ({
    connection,
    name: KEY_NAME,
    body: JSON.parse(JSON.stringify(BODY)) as ApiKeyBody,
    retry: FAST,
    ...overrides,
  });
  const requestsTo = (method: string): RecordedRequest[] => fake.requests.filter((r) => r.method === method && r.path.startsWith("/_security/api_key"));
  /** A client that authenticates with the key, as an agent's Filebeat would (Authorization: ApiKey <encoded>). */
  const asKey = (encoded: string) => new Client({ node: fake.url, auth: { apiKey: encoded }, ...(scheme === "https" ? { tls: { ca: pki.caPem } } : {}) });

  test("create PUTs name, role descriptors and metadata; outputs the id, apiKey = id:api_key and encoded = its base64", async () => {
    expect((await provider.check({}, inputs())).failures).toEqual([]);
    const { id, outs } = await provider.create(inputs());
    const stored = fake.apiKeys.get(id)!;
    expect(stored).toBeDefined();
    expect(outs).toEqual({
      ...inputs(),
      keyId: id,
      apiKey: `${id}:${stored.key}`,
      encoded: Buffer.from(`${id}:${stored.key}`).toString("base64"),
      // The create answer's `expiration` (epoch ms), kept so a plain `up` can see the key near its end.
      expiresAt: stored.expiration,
    });
    const [put] = requestsTo("PUT");
    expect(put.body).toEqual({ name: KEY_NAME, ...BODY });
    expect(put.headers.authorization).toBe(`Basic ${Buffer.from(`elastic:${ADMIN_PASSWORD}`).toString("base64")}`);
    // The key authenticates as itself, owned by the user that made it.
    const client = asKey(outs.encoded);
    try {
      expect((await client.security.authenticate()).username).toBe("elastic");
    } finally {
      await client.close();
    }
  });

  test("read: present is no drift (role descriptors come back as Elasticsearch writes them); invalidated or unknown is gone", async () => {
    const { id, outs } = await provider.create(inputs());
    expect((fake.apiKeys.get(id)!.roleDescriptors![naming.writerRole] as { transient_metadata: unknown }).transient_metadata).toEqual({ enabled: true });
    const present = await provider.read(id, outs);
    expect(present).toEqual({ id, props: outs });
    expect(await provider.diff(id, present.props, inputs())).toEqual({ changes: false, replaces: [] });

    fake.apiKeys.get(id)!.invalidated = true;
    expect(await provider.read(id, outs)).toEqual({ id: "", props: {} });
    expect(requestsTo("GET").at(-1)!.path).toBe(`/_security/api_key?id=${id}`);

    const unknown = await provider.read("no-such-key", { ...outs, keyId: "no-such-key" });
    expect(unknown.id).toBe("");
    expect(requestsTo("GET").at(-1)!.status).toBe(404);
  });

  test("read: privileges changed on the server show as a changed body, which replaces the key", async () => {
    const { id, outs } = await provider.create(inputs());
    (fake.apiKeys.get(id)!.roleDescriptors![naming.writerRole] as { cluster: string[] }).cluster = ["all"];
    const drifted = await provider.read(id, outs);
    expect(drifted.id).toBe(id);
    expect(await provider.diff(id, drifted.props, inputs())).toEqual({ changes: true, replaces: ["body"] });
  });

  test("diff: name and expiration replace (new key first, no deleteBeforeReplace); role descriptors and metadata update in place; credentials alone do not", async () => {
    const { id, outs } = await provider.create(inputs());
    // PUT _security/api_key/<id> changes role descriptors and metadata of the same key (ApiKeyService.updateApiKeys).
    expect(await provider.diff(id, outs, inputs({ body: WIDER }))).toEqual({ changes: true, replaces: [] });
    expect(await provider.diff(id, outs, inputs({ body: { ...BODY, metadata: { managed_by: "someone" } } }))).toEqual({ changes: true, replaces: [] });
    expect(await provider.diff(id, outs, inputs({ body: { ...BODY, expiration: "30d" } }))).toEqual({ changes: true, replaces: ["body"] });
    expect(await provider.diff(id, outs, inputs({ name: `${KEY_NAME}-2` }))).toEqual({ changes: true, replaces: ["name"] });
    // Another cluster (another host) is a new key; the same host and port with TLS turned on (the stack's
    // tls.mode on an existing stack: http -> https) keeps it.
    expect(await provider.diff(id, outs, inputs({ connection: { ...connection, url: `${fake.url}/elsewhere` } }))).toEqual({
      changes: true,
      replaces: ["connection"],
    });
    const otherScheme = fake.url.startsWith("https:") ? fake.url.replace(/^https:/, "http:") : fake.url.replace(/^http:/, "https:");
    expect(await provider.diff(id, outs, inputs({ connection: { ...connection, url: otherScheme } }))).toEqual({ changes: true, replaces: [] });
    expect(await provider.diff(id, outs, inputs({ connection: { ...connection, password: "rotated-Pa55word" } }))).toEqual({ changes: true, replaces: [] });
    const byKey = { url: connection.url, apiKey: Buffer.from("other-id:other-key").toString("base64"), caCertificate: connection.caCertificate };
    expect(await provider.diff(id, outs, inputs({ connection: byKey }))).toEqual({ changes: true, replaces: [] });

    // The update for a credential change keeps the key as it is, and asks nothing of the server.
    const before = fake.requests.length;
    const rotated = inputs({ connection: { ...connection, password: "rotated-Pa55word" } });
    expect((await provider.update(id, outs, rotated)).outs).toEqual({
      ...rotated,
      keyId: id,
      apiKey: outs.apiKey,
      encoded: outs.encoded,
      expiresAt: outs.expiresAt,
    });
    expect(fake.requests.length).toBe(before);
  });

  test("renewal on a plain up: diff sees the stored expiry within renewBefore (no server call); update makes a new key and leaves the old one valid; delete revokes both", async () => {
    const renewing = inputs({ renewBefore: "14d" });
    expect((await provider.check({}, renewing)).failures).toEqual([]);
    expect((await provider.check({}, inputs({ renewBefore: "two weeks" }))).failures).toEqual([
      { property: "renewBefore", reason: 'renewBefore must be a time value like 14d, not "two weeks"' },
    ]);
    const { id, outs } = await provider.create(renewing);
    expect(outs.expiresAt! - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const requests = fake.requests.length;
    expect(await provider.diff(id, outs, renewing)).toEqual({ changes: false, replaces: [] });
    // Thirteen days left: due. Without renewBefore (or with a body that does not expire): never.
    const nearEnd: ApiKeyState = { ...outs, expiresAt: Date.now() + 13 * 86_400_000 };
    expect(await provider.diff(id, nearEnd, renewing)).toEqual({ changes: true, replaces: [] });
    expect(await provider.diff(id, nearEnd, inputs())).toEqual({ changes: false, replaces: [] });
    const { expiration: _none, ...forever } = BODY;
    expect(await provider.diff(id, { ...nearEnd, body: forever }, inputs({ renewBefore: "14d", body: forever }))).toEqual({ changes: false, replaces: [] });
    // A state that does not say when its key expires (made before expiresAt was kept): renewed once.
    const { expiresAt: _unknown, ...untimed } = outs;
    expect(await provider.diff(id, untimed, renewing)).toEqual({ changes: true, replaces: [] });
    expect(fake.requests.length).toBe(requests);

    const renewed = (await provider.update(id, nearEnd, renewing)).outs as ApiKeyState;
    expect(renewed.keyId).not.toBe(id);
    expect(renewed.previousKeyId).toBe(id);
    expect(renewed.expiresAt! - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect(renewed.encoded).not.toBe(outs.encoded);
    expect(requestsTo("DELETE")).toEqual([]);
    // Both keys authenticate: an agent still holding the old one keeps shipping until its next `up`.
    for (const encoded of [outs.encoded!, renewed.encoded!]) {
      const client = asKey(encoded);
      try {
        expect((await client.security.authenticate()).username).toBe("elastic");
      } finally {
        await client.close();
      }
    }
    // The next renewal invalidates the key two renewals back: never more than two valid keys per host.
    const again = (await provider.update(id, { ...renewed, expiresAt: Date.now() }, renewing)).outs as ApiKeyState;
    expect(requestsTo("DELETE").map((request) => request.body)).toEqual([{ ids: [id] }]);
    expect(fake.apiKeys.get(id)!.invalidated).toBe(true);
    expect(again.previousKeyId).toBe(renewed.keyId);
    // Removing the host: the current and the previous key are invalidated.
    await provider.delete(id, again);
    expect(requestsTo("DELETE").at(-1)!.body).toEqual({ ids: [again.keyId, renewed.keyId] });
    expect(fake.apiKeys.get(again.keyId!)!.invalidated).toBe(true);
    expect(fake.apiKeys.get(renewed.keyId!)!.invalidated).toBe(true);
  });

  test("delete invalidates the key (it then authenticates nothing), and tolerates it invalidated or gone already", async () => {
    const { id, outs } = await provider.create(inputs());
    await provider.delete(id, outs);
    const [first] = requestsTo("DELETE");
    expect(first.body).toEqual({ ids: [id] });
    expect(first.status).toBe(200);
    expect(fake.apiKeys.get(id)!.invalidated).toBe(true);
    const client = asKey(outs.encoded);
    try {
      await expect(client.security.authenticate()).rejects.toMatchObject({ meta: { statusCode: 401 } });
    } finally {
      await client.close();
    }

    await expect(provider.delete(id, outs)).resolves.toBeUndefined();
    fake.apiKeys.delete(id);
    await expect(provider.delete(id, outs)).resolves.toBeUndefined();
    expect(requestsTo("DELETE").map((request) => request.status)).toEqual([200, 200, 200]);
  });

  test("create retries while the server starts, then makes one key", async () => {
    fake.startingFor(2);
    await provider.create(inputs());
    expect(requestsTo("PUT").map((request) => request.status)).toEqual([503, 503, 200]);
    expect(fake.apiKeys.size).toBe(1);
  });

  test("authenticated by an API key: check refuses it, and Elasticsearch's own refusal comes through with its type and reason", async () => {
    const adminKey = { id: "VuaCfGcBCdbkQm-e5aOx", key: "ui2lp2axTNmsyakw9tvNnw" };
    fake.apiKeys.set(adminKey.id, { key: adminKey.key, owner: "elastic" });
    const encoded = Buffer.from(`${adminKey.id}:${adminKey.key}`).toString("base64");
    const viaKey = inputs({ connection: { url: fake.url, apiKey: encoded, caCertificate: connection.caCertificate } });

    const { failures = [] } = await provider.check({}, viaKey);
    expect(failures.map((f) => f.reason).join("\n")).toContain(DERIVED_API_KEY_REFUSAL.reason);

    const message = await failure(provider.create(viaKey));
    expect(message).toContain(
      `Elasticsearch API key "${KEY_NAME}": PUT _security/api_key failed: HTTP 400 ${DERIVED_API_KEY_REFUSAL.type}: ${DERIVED_API_KEY_REFUSAL.reason}`,
    );
    for (const secret of [encoded, adminKey.key]) expect(message).not.toContain(secret);
    expect(fake.apiKeys.size).toBe(1);
    // Role descriptors that grant nothing are what Elasticsearch allows such a request.
    const { outs } = await provider.create({ ...viaKey, body: { role_descriptors: { none: {} } } });
    expect(fake.apiKeys.get(outs.keyId)).toMatchObject({ owner: "elastic" });
  });

  test("check refuses a key without role descriptors (it would get all its owner's privileges) and takes preview's unknowns", async () => {
    const { failures = [] } = await provider.check({}, inputs({ body: { role_descriptors: {} } }));
    expect(failures.map((f) => f.reason)).toEqual([expect.stringContaining("must name at least one role descriptor")]);
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect((await provider.check({}, { connection: unknown, name: KEY_NAME, body: unknown })).failures).toEqual([]);
  });
});

describe("the fake's API key endpoints answer as Elasticsearch does", () => {
  let fake: FakeElastic;
  beforeEach(async () => {
    fake = await startFakeElastic(ADMIN_PASSWORD);
  });
  afterEach(async () => {
    await fake.close();
  });
  const es = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${fake.url}${url}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`elastic:${ADMIN_PASSWORD}`).toString("base64")}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test("GET lists invalidated keys too; an unknown id is 404 with an empty list; DELETE without criteria is a 400", async () => {
    const created = (await es("POST", "/_security/api_key", { name: "k", role_descriptors: { r: { cluster: ["monitor"] } } })).body;
    expect(Object.keys(created).sort()).toEqual(["api_key", "encoded", "id", "name"]);
    await es("DELETE", "/_security/api_key", { ids: [created.id] });
    const listed = await es("GET", `/_security/api_key?id=${String(created.id)}`);
    expect(listed.status).toBe(200);
    expect((listed.body.api_keys as Record<string, unknown>[])[0]).toMatchObject({ id: created.id, name: "k", invalidated: true, username: "elastic" });
    expect(await es("GET", "/_security/api_key?id=nope")).toEqual({ status: 404, body: { api_keys: [] } });
    const again = await es("DELETE", "/_security/api_key", { ids: [created.id] });
    expect(again).toEqual({ status: 200, body: { invalidated_api_keys: [], previously_invalidated_api_keys: [], error_count: 0 } });
    const none = await es("DELETE", "/_security/api_key", {});
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({
      type: "illegal_argument_exception",
      reason: "One of [api key id, api key name, username, realm name] must be specified",
    });
  });

  test("a role descriptor with a description is refused (API key role descriptors take none)", async () => {
    const refused = await es("POST", "/_security/api_key", { name: "k", role_descriptors: { r: { cluster: ["monitor"], description: "x" } } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: "parse_exception" });
  });
});

describe("the resource class under the mock engine", () => {
  test("connection, apiKey and encoded are listed as secret outputs; each agent's key comes after template, pipelines and policy", async () => {
    const registered: { type: string; name: string; secretOutputs: string[]; dependencies: string[]; urn?: string }[] = [];
    const inputsByName = new Map<string, Record<string, unknown>>();
    await jest.isolateModulesAsync(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
      await pulumi.runtime.setMocks(
        {
          newResource: (args) => {
            inputsByName.set(args.name, args.inputs as Record<string, unknown>);
            return { id: `${args.name}-id`, state: args.inputs };
          },
          call: () => ({}),
        },
        "atra-observability",
        "dev",
      );
      const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
      const register = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req, cb) => {
        registered.push({
          type: req.getType(),
          name: req.getName(),
          secretOutputs: req.getAdditionalsecretoutputsList(),
          dependencies: req.getDependenciesList(),
        });
        return register(req, cb);
      };
      type Configuration = typeof import("../../components/logs/elasticsearch-configuration");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ElasticsearchConfiguration } = require("../../components/logs/elasticsearch-configuration") as Configuration;
      const configuration = new ElasticsearchConfiguration("es", {
        connection: { url: "http://es:9200", username: "elastic", password: ADMIN_PASSWORD },
        naming,
        centralHost: "obs-1",
        ilm: { rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "7d" },
        writerPassword: "writer-Pa55word",
        readerPassword: "reader-Pa55word",
        agentHosts: [
          { host: HOST, services: ["api"] },
          { host: "app-2.example.com", services: ["api", "worker"] },
        ],
        agentKeyExpiration: "90d",
        waitFor: [],
      });
      const urns = await Promise.all(
        [configuration.indexTemplate, configuration.ingestPipeline, configuration.finalPipeline, configuration.ilmPolicy].map(
          (resource) => new Promise<string>((resolve) => resource.urn.apply(resolve)),
        ),
      );
      expect([...configuration.agentApiKeys.keys()]).toEqual([HOST, "app-2.example.com"]);
      await Promise.all([...configuration.agentApiKeys.values()].map((key) => new Promise<string>((resolve) => key.urn.apply(resolve))));
      // One resource per host, named after it: removing one host from agents[] deletes (invalidates) that key alone.
      expect(registered.filter((entry) => entry.type.endsWith(":ElasticsearchApiKey")).map((entry) => entry.name)).toEqual([
        `agent-api-key-${HOST}`,
        "agent-api-key-app-2.example.com",
      ]);
      const key = registered.find((entry) => entry.name === `agent-api-key-${HOST}`)!;
      expect(key.type).toBe("pulumi-nodejs:dynamic/elastic:ElasticsearchApiKey");
      expect(key.secretOutputs.sort()).toEqual(["apiKey", "connection", "encoded"]);
      expect(key.dependencies).toEqual(expect.arrayContaining(urns));
      // Renewed by a plain `up` within its last 14 days (agentKeyRenewBeforeMs of 90d).
      expect(inputsByName.get(`agent-api-key-${HOST}`)!.renewBefore).toBe(`${14 * 86_400_000}ms`);
      // Each key carries its own host's services (agents[].services), which the final pipeline checks service.name against.
      const metadataOf = (name: string) => (inputsByName.get(name)!.body as { metadata: Record<string, unknown> }).metadata;
      expect(metadataOf(`agent-api-key-${HOST}`)).toMatchObject({ atra_host: HOST, atra_services: ["api"] });
      expect(metadataOf("agent-api-key-app-2.example.com")).toMatchObject({ atra_host: "app-2.example.com", atra_services: ["api", "worker"] });
    });
  });
});

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
}
