/**
 * The Elasticsearch and Kibana providers against an external cluster's way in: an encoded API key
 * (`Authorization: ApiKey <encoded>`) instead of a user, and HTTPS with a private CA given as a PEM
 * (`caCertificate`) or as the SHA-256 fingerprint of a CA in the chain the server presents
 * (`caFingerprint`). The fake (test/support/fake-elastic.ts) serves HTTPS with a certificate for
 * 127.0.0.1 made here with Debian's `openssl`, signed by a CA made here too; a second CA plays the wrong
 * one. Providers are serialized and loaded back as Pulumi's dynamic-provider host does.
 */
import { failure, Provider, serializeAndLoad } from "../support/serialized-provider";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as runtime from "../../components/elastic/provider-runtime";
import type { DataViewState, ObjectState, UserState } from "../../components/elastic/provider-runtime";
import type { ElasticConnection, RetryOptions } from "../../components/elastic/connection";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";
import { makePki, Pki } from "../support/pki";

const ADMIN_PASSWORD = "es-admin-Pa55word!";
const API_KEY_ID = "VuaCfGcBCdbkQm-e5aOx";
const API_KEY_SECRET = "ui2lp2axTNmsyakw9tvNnw";
/** The create API key API's `encoded`: base64 of `id:api_key`. */
const ENCODED_API_KEY = Buffer.from(`${API_KEY_ID}:${API_KEY_SECRET}`).toString("base64");
const FAST: RetryOptions = { maxElapsedMs: 3_000, initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 2_000 };

let pki: Pki;
let tmp: string;
const providers = {} as { role: Provider; user: Provider; dataView: Provider };
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-tls-"));
  pki = makePki(tmp);
  providers.role = (await serializeAndLoad(runtime.roleProvider)).provider;
  providers.user = (await serializeAndLoad(runtime.nativeUserProvider)).provider;
  providers.dataView = (await serializeAndLoad(runtime.kibanaDataViewProvider)).provider;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fake: FakeElastic;
beforeEach(async () => {
  fake = await startFakeElastic(ADMIN_PASSWORD, { tls: { key: pki.serverKey, cert: pki.serverChain } });
  fake.apiKeys.set(API_KEY_ID, { key: API_KEY_SECRET, owner: "elastic" });
});
afterEach(async () => {
  await fake.close();
});

const withKey = (extra: Partial<ElasticConnection>): ElasticConnection => ({ url: fake.url, apiKey: ENCODED_API_KEY, ...extra });
const role = (connection: ElasticConnection): ObjectState<object> => ({
  connection,
  name: "atra-test-writer",
  body: { cluster: ["monitor"], indices: [{ names: ["logs-atra-test"], privileges: ["create_doc"] }] },
  retry: FAST,
});
const dataView = (connection: ElasticConnection): DataViewState => ({
  connection,
  dataView: { id: "atra-test-logs-data-view", title: "logs-atra-test", name: "Atra logs (test)", timeFieldName: "@timestamp" },
  retry: FAST,
});

/** No form of the key may appear in a message. */
function expectNoKey(text: string): void {
  for (const secret of [ENCODED_API_KEY, API_KEY_SECRET, `${API_KEY_ID}:${API_KEY_SECRET}`, ADMIN_PASSWORD]) expect(text).not.toContain(secret);
}

describe("API key and a private CA given as PEM", () => {
  test("the Elasticsearch provider sends Authorization: ApiKey <encoded> over verified TLS, and reads back", async () => {
    const state = role(withKey({ caCertificate: pki.caPem }));
    expect((await providers.role.check(state, state)).failures).toEqual([]);
    await providers.role.create(state);
    expect(fake.roles.get("atra-test-writer")).toMatchObject({ cluster: ["monitor"] });
    const put = fake.requests.find((request) => request.method === "PUT");
    expect(put?.headers.authorization).toBe(`ApiKey ${ENCODED_API_KEY}`);
    const read = await providers.role.read("atra-test-writer", state);
    expect(read.props.body).toEqual(state.body);
  });

  test("a native user made with the key; its password is checked as that user over the same TLS", async () => {
    const state: UserState = {
      connection: withKey({ caCertificate: pki.caPem }),
      name: "atra-test-filebeat",
      password: "writer-Pa55word-long",
      body: { roles: ["atra-test-writer"], full_name: "Log shipper" },
      retry: FAST,
    };
    await providers.user.create(state);
    const read = await providers.user.read("atra-test-filebeat", state);
    expect(read.props.password).toBe(state.password);
    const authenticate = fake.requests.find((request) => request.path.startsWith("/_security/_authenticate"));
    expect(authenticate?.headers.authorization).toBe(`Basic ${Buffer.from("atra-test-filebeat:writer-Pa55word-long").toString("base64")}`);
  });

  test("the Kibana provider sends the key over node's https with the CA", async () => {
    const state = dataView({ url: fake.url, apiKey: ENCODED_API_KEY, caCertificate: pki.caPem });
    await providers.dataView.create(state);
    expect(fake.dataViews.get("default/atra-test-logs-data-view")).toBeDefined();
    const post = fake.requests.find((request) => request.method === "POST");
    expect(post?.headers.authorization).toBe(`ApiKey ${ENCODED_API_KEY}`);
    expect(post?.headers["kbn-xsrf"]).toBe("true");
    const read = await providers.dataView.read("atra-test-logs-data-view", state);
    expect(read.props.dataView).toEqual(state.dataView);
  });

  test("a wrong API key: 401 in the server's words, no form of the key in the message", async () => {
    const wrong = Buffer.from(`${API_KEY_ID}:not-the-key-at-all`).toString("base64");
    const message = await failure(providers.role.create(role(withKey({ apiKey: wrong, caCertificate: pki.caPem }))));
    expect(message).toContain("HTTP 401 security_exception");
    expect(message).not.toContain(wrong);
    expect(message).not.toContain("not-the-key-at-all");
    expectNoKey(message);
  });
});

describe("a wrong CA, or none, is refused before anything is sent", () => {
  test.each([
    ["the wrong CA", () => ({ caCertificate: pki.wrongCaPem })],
    ["no CA (the system's roots)", () => ({})],
  ])("Elasticsearch with %s: refused at once (not retried), no request reaches the server", async (_what, tls) => {
    const started = Date.now();
    const message = await failure(providers.role.create(role(withKey(tls()))));
    expect(message).toMatch(/certificate/i);
    expect(Date.now() - started).toBeLessThan(FAST.maxElapsedMs as number);
    expect(fake.requests).toHaveLength(0);
    expectNoKey(message);
  });

  test.each([
    ["the wrong CA", () => ({ caCertificate: pki.wrongCaPem })],
    ["no CA (the system's roots)", () => ({})],
  ])("Kibana with %s: refused, no request reaches the server", async (_what, tls) => {
    const message = await failure(providers.dataView.create(dataView({ url: fake.url, apiKey: ENCODED_API_KEY, ...tls() })));
    expect(message).toMatch(/certificate|UNABLE_TO_VERIFY|SELF_SIGNED/i);
    expect(fake.requests).toHaveLength(0);
    expectNoKey(message);
  });
});

describe("a CA given by its SHA-256 fingerprint", () => {
  test("the CA in the presented chain with that fingerprint is trusted (colons and case as openssl prints them)", async () => {
    const printed = pki.caFingerprint.toUpperCase().match(/../g)!.join(":");
    const state = role(withKey({ caFingerprint: printed }));
    expect((await providers.role.check(state, state)).failures).toEqual([]);
    await providers.role.create(state);
    expect(fake.roles.has("atra-test-writer")).toBe(true);
    await providers.dataView.create(dataView({ url: fake.url, apiKey: ENCODED_API_KEY, caFingerprint: pki.caFingerprint }));
    expect(fake.dataViews.size).toBe(1);
  });

  test("a fingerprint no certificate in the chain has: refused, nothing sent", async () => {
    const message = await failure(providers.role.create(role(withKey({ caFingerprint: pki.wrongCaFingerprint }))));
    expect(message).toContain(`no certificate in the chain 127.0.0.1:${new URL(fake.url).port} presents has the SHA-256 fingerprint ${pki.wrongCaFingerprint}`);
    expect(fake.requests).toHaveLength(0);
  });

  test("the fingerprint of the server's own (leaf) certificate: trusted as a CA it is not, so verification refuses it", async () => {
    const leaf = new crypto.X509Certificate(pki.serverChain.slice(0, pki.serverChain.indexOf("-----END CERTIFICATE-----") + 25));
    const message = await failure(providers.role.create(role(withKey({ caFingerprint: crypto.createHash("sha256").update(leaf.raw).digest("hex") }))));
    expect(message).toMatch(/certificate|issuer/i);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("check", () => {
  test.each([
    ["an API key and a user", { apiKey: ENCODED_API_KEY, username: "elastic", password: ADMIN_PASSWORD }, "give either apiKey or username and password"],
    ["a bare (not encoded) key", { apiKey: API_KEY_SECRET }, "must be an encoded API key"],
    ["no credentials", {}, "connection.username is required (or an apiKey)"],
    ["a malformed fingerprint", { apiKey: ENCODED_API_KEY, caFingerprint: "abc" }, "64 hex digits"],
    ["a CA that is not PEM", { apiKey: ENCODED_API_KEY, caCertificate: "not a certificate" }, "must be a PEM certificate"],
  ])("refuses %s, never repeating a credential", async (_what, extra, reason) => {
    const state = role({ url: "https://es.example.com", ...extra });
    const { failures = [] } = await providers.role.check(state, state);
    expect(failures.map((failure) => failure.reason).join("\n")).toContain(reason);
    expectNoKey(JSON.stringify(failures));
  });

  test("a CA with a plain http url is refused", async () => {
    const state = role({ url: "http://es.example.com:9200", apiKey: ENCODED_API_KEY, caCertificate: pki.caPem });
    const { failures = [] } = await providers.role.check(state, state);
    expect(failures.map((failure) => failure.reason)).toContain("connection.caCertificate and caFingerprint need an https:// url");
  });
});
