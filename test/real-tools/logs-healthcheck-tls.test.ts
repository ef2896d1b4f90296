/**
 * The Elasticsearch and Kibana healthchecks over TLS (components/logs/logs-tls.ts) run with the real
 * curl and /bin/sh against the fake Elastic (test/support/fake-elastic.ts) serving HTTPS on 127.0.0.1,
 * with ECDSA certificates made here with openssl (test/support/stack-tls-pki.ts), never committed. The
 * command is the one the container gets, with two things moved to where this test can serve them: the
 * CA file's container path to the test's copy, and the container's port to the fake's.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { basicAuthorization } from "../../components/logs/logs-stack";
import { ELASTICSEARCH_TLS_PATHS, elasticsearchTlsHealthcheck, KIBANA_TLS_PATHS, kibanaTlsHealthcheck } from "../../components/logs/logs-tls";
import { FakeElastic, startFakeElastic } from "../support/fake-elastic";
import { makeStackTlsPki, StackTlsPki } from "../support/stack-tls-pki";
import { describeWithTools } from "../support/real-tools";

const HOST = "obs.example.internal";
const ADMIN_PASSWORD = "es-admin-Pa55word!";

describeWithTools(["curl", "openssl"], "the logs healthchecks over TLS", () => {
  let pki: StackTlsPki;
  let tmp: string;
  let fake: FakeElastic;
  let caFile: string;
  let wrongCaFile: string;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-healthcheck-tls-"));
    pki = makeStackTlsPki(tmp, HOST, ["atra-obs-central-elasticsearch"]);
    caFile = path.join(tmp, "ca.pem");
    wrongCaFile = path.join(tmp, "wrong-ca.pem");
    fs.writeFileSync(caFile, pki.caPem);
    fs.writeFileSync(wrongCaFile, pki.wrongCaPem);
    fake = await startFakeElastic(ADMIN_PASSWORD, { tls: { key: pki.providedKey, cert: pki.providedChain } });
  });
  afterAll(async () => {
    await fake.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * The container's command, its CA path and port moved to the test's; run by /bin/sh, asynchronously (the
   * fake answers in this process), killed by its PID after 15 s. Its exit status and standard error.
   */
  function run(
    test: string[],
    containerCa: string,
    containerPort: number,
    ca: string,
    authorization?: string,
  ): Promise<{ status: number | null; stderr: string }> {
    expect(test[0]).toBe("CMD-SHELL");
    const port = new URL(fake.url).port;
    const command = test[1].split(containerCa).join(ca).split(`:${containerPort}`).join(`:${port}`);
    return new Promise((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", command], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...(authorization ? { ATRA_ADMIN_AUTHORIZATION: authorization } : {}) },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.once("error", reject);
      child.once("close", (status) => {
        clearTimeout(timer);
        resolve({ status, stderr });
      });
    });
  }
  const elasticsearch = (serverName = HOST) => elasticsearchTlsHealthcheck({ caCertificate: "the stack CA", serverName });
  const authorization = basicAuthorization("elastic", ADMIN_PASSWORD);

  test("Elasticsearch: healthy over verified TLS, the login sent as a header from standard input, never in the command", async () => {
    const before = fake.requests.length;
    const result = await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, authorization);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const seen = fake.requests.slice(before);
    expect(seen.map((request) => [request.method, request.path, request.headers.authorization, request.headers.host])).toEqual([
      ["GET", "/_cluster/health?wait_for_status=yellow&timeout=3s", authorization, `${HOST}:${new URL(fake.url).port}`],
    ]);
    expect(elasticsearch()[1]).not.toContain(ADMIN_PASSWORD);
    expect(elasticsearch()[1]).not.toContain(authorization);
  });

  test("Elasticsearch: a wrong password is unhealthy (curl -f)", async () => {
    expect((await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, basicAuthorization("elastic", "not-the-password"))).status).toBe(22); // curl -f: CURLE_HTTP_RETURNED_ERROR
  });

  test("Elasticsearch: another CA, or a name the certificate does not carry, is unhealthy and nothing reaches the server", async () => {
    const before = fake.requests.length;
    const wrongCa = await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, wrongCaFile, authorization);
    expect(wrongCa.status).toBe(60); // curl: CURLE_PEER_FAILED_VERIFICATION
    const wrongName = await run(elasticsearch("other.example.internal"), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, authorization);
    expect(wrongName.status).toBe(60);
    expect(fake.requests.length).toBe(before);
  });

  test("Kibana: the status API's 401 without credentials is healthy over verified TLS; another CA is not", async () => {
    const kibana = kibanaTlsHealthcheck({ caCertificate: "the stack CA", serverName: HOST });
    const before = fake.requests.length;
    expect((await run(kibana, KIBANA_TLS_PATHS.ca, 5601, caFile)).status).toBe(0);
    expect(fake.requests.slice(before).map((request) => [request.path, request.status])).toEqual([["/api/status", 401]]);
    expect((await run(kibana, KIBANA_TLS_PATHS.ca, 5601, wrongCaFile)).status).toBe(1); // grep finds no 200/401 in curl's 000
    expect(fake.requests.length).toBe(before + 1);
  });
});
