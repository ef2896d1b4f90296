/**
 * The Elasticsearch and Kibana healthchecks over TLS (components/logs/logs-tls.ts) run with the real
 * curl and /bin/sh against the fake Elastic (test/support/fake-elastic.ts) serving HTTPS on 127.0.0.1,
 * with ECDSA certificates made here with openssl (test/support/stack-tls-pki.ts), never committed. The
 * command is the one the container gets, with three things moved to where this test can serve them: the
 * CA file's and the curl config's container paths to the test's copies, and the container's port to the fake's.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  basicAuthorization,
  ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
  elasticsearchHealthcheck,
  elasticsearchHealthcheckConfig,
  ELASTICSEARCH_TLS_PATHS,
  KIBANA_TLS_PATHS,
  kibanaTlsHealthcheck,
} from "../../components/logs/logs-tls";
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
   * The container's command, its CA path, curl config path and port moved to the test's; run as Docker runs
   * it (CMD: exec'd; CMD-SHELL: by /bin/sh), asynchronously (the fake answers in this process), killed by its
   * PID after 15 s. Its exit status and standard error. `password`: the curl config is written with it.
   */
  function run(test: string[], containerCa: string, containerPort: number, ca: string, password?: string): Promise<{ status: number | null; stderr: string }> {
    const port = new URL(fake.url).port;
    const curlConfig = path.join(tmp, "healthcheck.curlrc");
    if (password !== undefined) fs.writeFileSync(curlConfig, elasticsearchHealthcheckConfig("elastic", password), { mode: 0o440 });
    const moved = (arg: string) =>
      arg.split(containerCa).join(ca).split(ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH).join(curlConfig).split(`:${containerPort}`).join(`:${port}`);
    expect(["CMD", "CMD-SHELL"]).toContain(test[0]);
    const [file, ...args] = test[0] === "CMD" ? test.slice(1).map(moved) : ["/bin/sh", "-c", moved(test[1])];
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
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
  const elasticsearch = (serverName = HOST) => elasticsearchHealthcheck({ caCertificate: "the stack CA", serverName });
  const authorization = basicAuthorization("elastic", ADMIN_PASSWORD);

  test("Elasticsearch: healthy over verified TLS, the login sent as a header from the curl config file, never in the command", async () => {
    const before = fake.requests.length;
    const result = await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, ADMIN_PASSWORD);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const seen = fake.requests.slice(before);
    expect(seen.map((request) => [request.method, request.path, request.headers.authorization, request.headers.host])).toEqual([
      ["GET", "/_cluster/health?wait_for_status=yellow&timeout=3s", authorization, `${HOST}:${new URL(fake.url).port}`],
    ]);
    expect(elasticsearch().join(" ")).not.toContain(ADMIN_PASSWORD);
    expect(elasticsearch().join(" ")).not.toContain(authorization.slice("Basic ".length));
  });

  test("Elasticsearch: a wrong password is unhealthy (curl -f)", async () => {
    expect((await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, "not-the-password")).status).toBe(22); // curl -f: CURLE_HTTP_RETURNED_ERROR
  });

  test("Elasticsearch: another CA, or a name the certificate does not carry, is unhealthy and nothing reaches the server", async () => {
    const before = fake.requests.length;
    const wrongCa = await run(elasticsearch(), ELASTICSEARCH_TLS_PATHS.ca, 9200, wrongCaFile, ADMIN_PASSWORD);
    expect(wrongCa.status).toBe(60); // curl: CURLE_PEER_FAILED_VERIFICATION
    const wrongName = await run(elasticsearch("other.example.internal"), ELASTICSEARCH_TLS_PATHS.ca, 9200, caFile, ADMIN_PASSWORD);
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
