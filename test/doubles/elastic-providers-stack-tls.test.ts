/**
 * The Elasticsearch and Kibana providers against the stack's own servers with `tls.mode` on, as
 * LogsStack connects them (components/logs/logs-stack.ts): an https URL at a loopback address (the
 * published port, or the local end of a tunnel), the stack's CA (`caCertificate`) and the name every
 * certificate of the stack carries (`serverName`: publicHostname). The fake (test/support/fake-elastic.ts)
 * serves HTTPS on 127.0.0.1 with ECDSA certificates made here with openssl (test/support/stack-tls-pki.ts),
 * never committed: one naming what a generated certificate names, one naming publicHostname only (a
 * provided one). Providers are serialized and loaded back as Pulumi's dynamic-provider host does.
 */
import { failure, Provider, serializeAndLoad } from "../support/serialized-provider";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as runtime from "../../components/elastic/provider-runtime";
import type { DataViewState, ObjectState } from "../../components/elastic/provider-runtime";
import type { ElasticConnection, RetryOptions } from "../../components/elastic/connection";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";
import { makeStackTlsPki, StackTlsPki } from "../support/stack-tls-pki";

const HOST = "obs.example.internal";
const ADMIN_PASSWORD = "es-admin-Pa55word!";
const FAST: RetryOptions = { maxElapsedMs: 3_000, initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 2_000 };

let pki: StackTlsPki;
let tmp: string;
const providers = {} as { role: Provider; dataView: Provider };
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-stack-tls-"));
  pki = makeStackTlsPki(tmp, HOST, ["atra-obs-central-elasticsearch", "atra-obs-central-kibana"]);
  providers.role = (await serializeAndLoad(runtime.roleProvider)).provider;
  providers.dataView = (await serializeAndLoad(runtime.kibanaDataViewProvider)).provider;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fake: FakeElastic | undefined;
async function serve(chain: string, key: string): Promise<FakeElastic> {
  fake = await startFakeElastic(ADMIN_PASSWORD, { tls: { key, cert: chain } });
  return fake;
}
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** As LogsStack connects: the admin login, the stack's CA and publicHostname, on an https loopback URL. */
const stackConnection = (server: FakeElastic, extra: Partial<ElasticConnection> = {}): ElasticConnection => ({
  url: server.url,
  username: "elastic",
  password: ADMIN_PASSWORD,
  caCertificate: pki.caPem,
  serverName: HOST,
  ...extra,
});
const role = (connection: ElasticConnection): ObjectState<object> => ({
  connection,
  name: "atra-central-writer",
  body: { cluster: ["monitor"], indices: [{ names: ["logs-atra-central"], privileges: ["create_doc"] }] },
  retry: FAST,
});
const dataView = (connection: ElasticConnection): DataViewState => ({
  connection,
  dataView: { id: "atra-central-logs-data-view", title: "logs-atra-central", name: "Atra logs (central)", timeFieldName: "@timestamp" },
  retry: FAST,
});

describe("a generated certificate", () => {
  test("the https URL is an IP address; the CA and publicHostname are trusted and checked, and the objects are made", async () => {
    const server = await serve(pki.generatedChain, pki.generatedKey);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const state = role(stackConnection(server));
    expect((await providers.role.check(state, state)).failures).toEqual([]);
    await providers.role.create(state);
    expect(server.roles.get("atra-central-writer")).toMatchObject({ cluster: ["monitor"] });
    await providers.dataView.create(dataView(stackConnection(server)));
    expect(server.dataViews.get("default/atra-central-logs-data-view")).toBeDefined();
  });

  test("the wrong CA: refused at the handshake, nothing sent", async () => {
    const server = await serve(pki.generatedChain, pki.generatedKey);
    expect(await failure(providers.role.create(role(stackConnection(server, { caCertificate: pki.wrongCaPem }))))).toMatch(/certificate|issuer/i);
    expect(await failure(providers.dataView.create(dataView(stackConnection(server, { caCertificate: pki.wrongCaPem }))))).toMatch(
      /certificate|issuer|UNABLE_TO_VERIFY/i,
    );
    expect(server.requests).toHaveLength(0);
  });
});

describe("a certificate that names publicHostname only (tls.mode: provided)", () => {
  test("reached at 127.0.0.1, it is accepted because serverName is what is checked", async () => {
    const server = await serve(pki.providedChain, pki.providedKey);
    await providers.role.create(role(stackConnection(server)));
    expect(server.roles.has("atra-central-writer")).toBe(true);
    await providers.dataView.create(dataView(stackConnection(server)));
    expect(server.dataViews.size).toBe(1);
  });

  test("without serverName the URL's address is checked, which it does not name: refused, nothing sent (the check is real)", async () => {
    const server = await serve(pki.providedChain, pki.providedKey);
    const { serverName: _none, ...withoutName } = stackConnection(server);
    expect(await failure(providers.role.create(role(withoutName)))).toMatch(/altnames/);
    expect(await failure(providers.dataView.create(dataView(withoutName)))).toMatch(/altnames/);
    expect(server.requests).toHaveLength(0);
  });

  test("a serverName the certificate does not carry: refused, nothing sent", async () => {
    const server = await serve(pki.providedChain, pki.providedKey);
    expect(await failure(providers.role.create(role(stackConnection(server, { serverName: "other.example.internal" }))))).toMatch(
      /other\.example\.internal|altnames/i,
    );
    expect(server.requests).toHaveLength(0);
  });

  test("no CA (a public CA's chain: the system's roots) still checks: this private chain is refused", async () => {
    const server = await serve(pki.providedChain, pki.providedKey);
    const { caCertificate: _none, ...systemRoots } = stackConnection(server);
    expect(await failure(providers.role.create(role(systemRoots)))).toMatch(/certificate|issuer/i);
    expect(await failure(providers.dataView.create(dataView(systemRoots)))).toMatch(/certificate|issuer|UNABLE_TO_VERIFY/i);
    expect(server.requests).toHaveLength(0);
  });
});

describe("check", () => {
  test.each([
    ["a serverName with a plain http url", { url: "http://127.0.0.1:9200", serverName: HOST }, "connection.serverName needs an https:// url"],
    ["a serverName with a scheme", { url: "https://127.0.0.1:9200", serverName: `https://${HOST}` }, "connection.serverName must be a host name"],
    ["a serverName with a port", { url: "https://127.0.0.1:9200", serverName: `${HOST}:9200` }, "connection.serverName must be a host name"],
  ])("refuses %s", async (_what, connection, reason) => {
    const state = role({ username: "elastic", password: ADMIN_PASSWORD, ...connection });
    const { failures = [] } = await providers.role.check(state, state);
    expect(failures.map((entry) => entry.reason)).toEqual(expect.arrayContaining([expect.stringContaining(reason)]));
  });

  test("LogsStack's connection passes", async () => {
    const state = role({
      url: "https://127.0.0.1:9200",
      username: "elastic",
      password: ADMIN_PASSWORD,
      caCertificate: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
      serverName: HOST,
    });
    expect((await providers.role.check(state, state)).failures).toEqual([]);
  });
});
