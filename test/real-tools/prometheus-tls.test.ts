/**
 * The central Prometheus over TLS (components/metrics/web-config.ts `tls_server_config`) with the real
 * tools, on 127.0.0.1, certificates made here with openssl (test/support/pki.ts), never committed.
 *
 * Published beyond loopback (bindAddress 0.0.0.0; issue 21, Major 5):
 * - promtool accepts the rendered web config with TLS and the three logins' bcrypt hashes (Grafana's,
 *   the healthcheck's, people's: Major 4);
 * - a Prometheus 2.42 serving it answers only over TLS and only with a login, on every path (UI, query
 *   API, /-/ready, /metrics, /federate), and to no login a write (the receiver is gone).
 * The agents' federation (TLS with per-host certificates and passwords) is test/real-tools/agent-federation.test.ts.
 *
 * The stack's own clients (a second Prometheus, serving a certificate that names only the stack's
 * publicHostname, as a provided one may):
 * - its prometheus.yml, rendered with tls on (https self-scrape with the CA and server_name, the TLS probe
 *   job), and the TLS healthcheck's client config run as a scrape job of the same HTTP client
 *   (prometheus/common config/http_config.go `HTTPClientConfig`, which `promtool check ready
 *   --http.config.file` loads), pass `promtool check config`; a real Prometheus 2.42 scrapes itself over
 *   https with them, while the same client without the login, trusting another CA or checking another
 *   name fails;
 * - a real blackbox exporter with the rendered TLS module probes it: `probe_success` 1 and
 *   `probe_ssl_earliest_cert_expiry` the chain's earliest end, so the alert expression of
 *   TlsCertificateExpiringSoon (alerts/tls.yml) returns it for a certificate of 2 days; with another CA the probe fails.
 */
import { writeBlackboxLogin } from "../support/blackbox-login";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as yaml from "js-yaml";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { resolveStackConfig } from "../../components/config/resolve";
import { prometheusCommand, renderBlackboxConfig, renderPrometheusConfig, TLS_PROBE_JOB, TLS_PROBE_MODULE } from "../../components/metrics/prometheus-config";
import {
  HEALTHCHECK_PASSWORD_PATH,
  PROMETHEUS_LOGINS,
  PROMETHEUS_WEB_CONFIG_PATH,
  renderHealthcheckHttpConfig,
  renderWebConfig,
  requiredLogins,
} from "../../components/metrics/web-config";
import { bcryptHash, localCommand } from "../support/local-prometheus";
import { makePki, Pki } from "../support/pki";
import { describeWithTools, freePort, RunningProcess, runTool, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

/** The vector selectors of an expression, as text (as test/real-tools/real-prometheus.test.ts reads them). */
function vectorSelectors(expr: string): string[] {
  const selectors: string[] = [];
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.name === "VectorSelector") selectors.push(expr.slice(node.from, node.to));
    },
  });
  return [...new Set(selectors)];
}

interface QueryResponse {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** GET over https trusting only `ca` (checking `servername` when given, else the URL's host); the status and body. */
function httpsGet(url: string, ca: string, authorization?: string, servername?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { ca, headers: authorization ? { authorization } : {}, timeout: 5000, ...(servername ? { servername } : {}) };
    const request = https.get(url, options, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("timeout", () => request.destroy(new Error(`${url}: timeout`)));
    request.on("error", reject);
  });
}

describeWithTools(["prometheus", "promtool", "python3", "openssl"], "a central Prometheus published beyond loopback (bindAddress 0.0.0.0)", () => {
  const processes: RunningProcess[] = [];
  let dir: string;
  let pki: Pki;
  let url: string;
  const passwords = {
    grafana: "grafana-password-0123456789abcdef",
    healthcheck: "healthcheck-password-0123456789ab",
    people: "people-password-0123456789abcdef",
  };
  const as = (login: keyof typeof passwords, password = passwords[login]) =>
    `Basic ${Buffer.from(`${PROMETHEUS_LOGINS[login]}:${password}`).toString("base64")}`;
  let webConfigFile: string;
  const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join("\n");

  beforeAll(async () => {
    dir = tempDir("atra-prometheus-tls-");
    pki = makePki(dir);
    const file = (name: string, content: string) => {
      const at = path.join(dir, name);
      fs.writeFileSync(at, content, { mode: 0o400 });
      return at;
    };
    const config = resolveStackConfig({ stack: "central-published", values: { bindAddress: "0.0.0.0" }, secretKeys: [] }).config;
    // Published beyond loopback: tls on, and the three logins (web-config.ts requiredLogins).
    expect(config.tls.mode).toBe("generated");
    expect(requiredLogins(config)).toEqual(["grafana", "healthcheck", "people"]);
    webConfigFile = file(
      "web.yml",
      renderWebConfig(
        Object.fromEntries(Object.entries(passwords).map(([login, password]) => [PROMETHEUS_LOGINS[login as keyof typeof passwords], bcryptHash(password)])),
        {
          certFile: file("chain.pem", pki.serverChain),
          keyFile: file("key.pem", pki.serverKey),
        },
      ),
    );
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    const command = prometheusCommand(config, true);
    expect(command).toContain(`--web.config.file=${PROMETHEUS_WEB_CONFIG_PATH}`);
    processes.push(
      startProcess(
        "prometheus",
        "prometheus",
        localCommand(command, {
          configFile: file("prometheus.yml", yaml.dump({ global: { scrape_interval: "1s" }, scrape_configs: [] })),
          dataDir: path.join(dir, "data"),
          listen: `127.0.0.1:${port}`,
          webConfigFile,
        }),
      ),
    );
    await waitFor("Prometheus over TLS", 30_000, async () =>
      (await httpsGet(`${url}/-/ready`, pki.caPem, as("healthcheck")).catch(() => undefined))?.status === 200 ? true : undefined,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs()}`, { cause: error });
    });
  }, 60_000);

  afterAll(async () => {
    for (const running of processes.reverse()) await stopProcess(running);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("promtool accepts the web config with tls_server_config and the logins", () => {
    const document = yaml.load(fs.readFileSync(webConfigFile, "utf8")) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(["tls_server_config", "basic_auth_users"]);
    expect(runTool("promtool", ["check", "web-config", webConfigFile])).toEqual({ status: 0, output: "" });
  });

  test("only TLS, only with a login, on every path: plain http 400, no login or a wrong password 401, each login 200, another CA fails the handshake", async () => {
    const plain = await fetch(url.replace("https:", "http:") + "/-/ready", { headers: { authorization: as("people") } });
    expect(plain.status).toBe(400);
    const paths = ["/api/v1/targets", "/api/v1/query?query=up", "/-/ready", "/metrics", "/federate?match[]=up"];
    for (const at of paths) {
      expect((await httpsGet(`${url}${at}`, pki.caPem)).status).toBe(401);
      expect((await httpsGet(`${url}${at}`, pki.caPem, as("people", "wrong-password"))).status).toBe(401);
      for (const login of ["grafana", "healthcheck", "people"] as const) expect((await httpsGet(`${url}${at}`, pki.caPem, as(login))).status).toBe(200);
    }
    await expect(httpsGet(`${url}/-/ready`, pki.wrongCaPem, as("people"))).rejects.toThrow(/self[- ]signed|unable to (get|verify)|unknown/i);
    console.log(`published Prometheus: ${paths.length} paths x (no login, wrong password) answered 401; each of the 3 logins 200; plain http 400`);
  });

  test("no login can write: the remote-write receiver is off", async () => {
    const response = await new Promise<number>((resolve, reject) => {
      const request = https.request(
        `${url}/api/v1/write`,
        { method: "POST", ca: pki.caPem, headers: { authorization: as("people") }, timeout: 5000 },
        (answer) => {
          answer.resume();
          resolve(answer.statusCode ?? 0);
        },
      );
      request.on("error", reject);
      request.end();
    });
    // prometheus/prometheus web/api/v1/api.go `remoteWrite`: 404 "remote write receiver needs to be enabled" without the flag.
    expect(response).toBe(404);
  });
});

describeWithTools(
  ["prometheus", "promtool", "prometheus-blackbox-exporter", "python3", "openssl"],
  "the stack's own clients of its TLS Prometheus: self-scrape, healthcheck client, certificate probes",
  () => {
    const SERVER_NAME = "obs.test.internal";
    const processes: RunningProcess[] = [];
    let dir: string;
    let pki: Pki;
    let serverUrl: string;
    let prometheusFile: string;
    let webConfigFile: string;
    let notAfter: number;
    let wrongBlackboxUrl: string;
    let serverPort: number;
    const password = "healthcheck-password-0123456789a";
    const asQuery = `Basic ${Buffer.from(`${PROMETHEUS_LOGINS.healthcheck}:${password}`).toString("base64")}`;
    const logs = () => processes.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join("\n");
    const query = async (promql: string) =>
      JSON.parse((await httpsGet(`${serverUrl}/api/v1/query?query=${encodeURIComponent(promql)}`, pki.caPem, asQuery, SERVER_NAME)).body) as QueryResponse;
    const valueOf = async (promql: string) => {
      const result = (await query(promql)).data.result;
      return result.length === 1 ? Number(result[0].value[1]) : undefined;
    };

    beforeAll(async () => {
      dir = tempDir("atra-own-tls-");
      pki = makePki(dir);
      const file = (name: string, content: string) => {
        const at = path.join(dir, name);
        fs.writeFileSync(at, content, { mode: 0o400 });
        return at;
      };
      // A server certificate naming only publicHostname (no IP): the clients dial 127.0.0.1 and must check the name they are given.
      const openssl = (...args: string[]) => runTool("openssl", args);
      fs.writeFileSync(path.join(dir, "named.ext"), `subjectAltName=DNS:${SERVER_NAME}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      for (const step of [
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(dir, "named.key"), "-out", path.join(dir, "named.csr"), "-subj", `/CN=${SERVER_NAME}`],
        ["x509", "-req", "-in", path.join(dir, "named.csr"), "-CA", path.join(dir, "atra-test-ca.pem"), "-CAkey", path.join(dir, "atra-test-ca.key")].concat([
          "-CAcreateserial",
          "-out",
          path.join(dir, "named.pem"),
          "-days",
          "2",
          "-extfile",
          path.join(dir, "named.ext"),
        ]),
      ])
        expect(openssl(...step).status).toBe(0);
      const leaf = fs.readFileSync(path.join(dir, "named.pem"), "utf8");
      notAfter = Math.min(...[leaf, pki.caPem].map((pem) => Date.parse(new crypto.X509Certificate(pem).validTo) / 1000));
      const certFile = file("chain.pem", leaf + pki.caPem);
      const keyFile = path.join(dir, "named.key");
      const caFile = file("ca.pem", pki.caPem);
      const wrongCaFile = file("wrong-ca.pem", pki.wrongCaPem);
      const passwordFile = file("healthcheck-password", password);
      webConfigFile = file(
        "web.yml",
        renderWebConfig(
          { [PROMETHEUS_LOGINS.people]: bcryptHash("people-password-0123456789abcdef"), [PROMETHEUS_LOGINS.healthcheck]: bcryptHash(password) },
          { certFile, keyFile },
        ),
      );
      const [port, blackboxPort, wrongBlackboxPort] = [await freePort(), await freePort(), await freePort()];
      serverPort = port;
      serverUrl = `https://127.0.0.1:${port}`;
      wrongBlackboxUrl = `http://127.0.0.1:${wrongBlackboxPort}`;

      // The central stack's config, rendered with tls on as MetricsStack renders it (the CA at a local path).
      const config = resolveStackConfig({
        stack: "central-own-tls",
        values: { publicHostname: SERVER_NAME, bindAddress: "0.0.0.0", prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s" } },
        secretKeys: [],
      }).config;
      expect(config.tls.mode).toBe("generated");
      // The blackbox exporter's login (components/metrics/blackbox-login.ts), at local paths.
      const blackboxLogin = writeBlackboxLogin(dir);
      const rendered = yaml.load(
        blackboxLogin.localize(
          renderPrometheusConfig(config, { prometheus: `127.0.0.1:${port}`, nodeExporter: "127.0.0.1:1", blackboxExporter: `127.0.0.1:${blackboxPort}` }, [], {
            caFile,
            serverName: SERVER_NAME,
            probeTargets: [`127.0.0.1:${port}`],
          }),
        ),
      ) as { scrape_configs: Record<string, unknown>[] };
      // Only the self-scrape and the TLS probes (node-exporter is not run here).
      rendered.scrape_configs = rendered.scrape_configs.filter((job) => job.job_name === "prometheus" || job.job_name === TLS_PROBE_JOB);
      const self = rendered.scrape_configs.find((job) => job.job_name === "prometheus") as { basic_auth: { password_file: string } };
      expect(self.basic_auth.password_file).toBe(HEALTHCHECK_PASSWORD_PATH);
      self.basic_auth.password_file = passwordFile;
      // The healthcheck's client config (what promtool check ready loads) as scrape jobs of itself, with variants that must fail.
      const client = (options: { login: boolean; caFile: string; serverName: string }) => {
        const document = yaml.load(renderHealthcheckHttpConfig(options)) as { basic_auth?: { password_file: string } };
        if (document.basic_auth) {
          expect(document.basic_auth.password_file).toBe(HEALTHCHECK_PASSWORD_PATH);
          document.basic_auth.password_file = passwordFile;
        }
        return document;
      };
      const clientJob = (name: string, options: { login: boolean; caFile: string; serverName: string }) => ({
        job_name: name,
        scheme: "https",
        metrics_path: "/metrics",
        ...client(options),
        static_configs: [{ targets: [`127.0.0.1:${port}`] }],
      });
      rendered.scrape_configs.push(
        clientJob("healthcheck-client", { login: true, caFile, serverName: SERVER_NAME }),
        clientJob("client-no-login", { login: false, caFile, serverName: SERVER_NAME }),
        clientJob("client-wrong-ca", { login: true, caFile: wrongCaFile, serverName: SERVER_NAME }),
        clientJob("client-wrong-name", { login: true, caFile, serverName: "other.test.internal" }),
      );
      prometheusFile = file("prometheus.yml", yaml.dump(rendered));

      processes.push(
        startProcess("blackbox", "prometheus-blackbox-exporter", [
          `--config.file=${file("blackbox.yml", renderBlackboxConfig({ caFile, serverName: SERVER_NAME }))}`,
          `--web.listen-address=127.0.0.1:${blackboxPort}`,
          blackboxLogin.flag,
        ]),
        startProcess("blackbox-wrong-ca", "prometheus-blackbox-exporter", [
          `--config.file=${file("blackbox-wrong.yml", renderBlackboxConfig({ caFile: wrongCaFile, serverName: SERVER_NAME }))}`,
          `--web.listen-address=127.0.0.1:${wrongBlackboxPort}`,
        ]),
        startProcess(
          "prometheus",
          "prometheus",
          localCommand(prometheusCommand(config, true), {
            configFile: prometheusFile,
            dataDir: path.join(dir, "data"),
            listen: `127.0.0.1:${port}`,
            webConfigFile,
          }),
        ),
      );
      await waitFor("the TLS Prometheus", 30_000, async () =>
        (await httpsGet(`${serverUrl}/-/ready`, pki.caPem, asQuery, SERVER_NAME).catch(() => undefined))?.status === 200 ? true : undefined,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${logs()}`, { cause: error });
      });
    }, 60_000);

    afterAll(async () => {
      for (const running of processes.reverse()) await stopProcess(running);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test("promtool accepts the rendered prometheus.yml with the https self-scrape, the TLS probes and the healthcheck's client config", () => {
      expect(runTool("promtool", ["check", "config", prometheusFile])).toMatchObject({ status: 0 });
      expect(runTool("promtool", ["check", "web-config", webConfigFile])).toEqual({ status: 0, output: "" });
    });

    test("Prometheus scrapes itself over https with the CA, the name and the login; the healthcheck's client config works, and fails without any of them", async () => {
      const ups = await waitFor(
        "every client job scraped once",
        30_000,
        async () => {
          const result = (await query('up{job=~"prometheus|healthcheck-client|client-.*"}')).data.result;
          return result.length === 5 ? Object.fromEntries(result.map((r) => [r.metric.job, Number(r.value[1])])) : undefined;
        },
        500,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${logs()}`, { cause: error });
      });
      expect(ups).toEqual({ prometheus: 1, "healthcheck-client": 1, "client-no-login": 0, "client-wrong-ca": 0, "client-wrong-name": 0 });
    }, 40_000);

    test("the blackbox exporter's TLS module verifies the certificate and reports its end; the expiry alert's expression selects a 2-day certificate", async () => {
      const expiry = await waitFor("a TLS probe", 30_000, async () => valueOf(`probe_ssl_earliest_cert_expiry{job="${TLS_PROBE_JOB}"}`), 500).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${logs()}`, { cause: error });
        },
      );
      expect(expiry).toBe(notAfter);
      expect(await valueOf(`probe_success{job="${TLS_PROBE_JOB}",instance="127.0.0.1:${serverPort}"}`)).toBe(1);
      // The rules as alerts/tls.yml has them, evaluated by the real Prometheus: every selector matches series here,
      // the 2-day certificate is within the 14 days, and the healthy endpoint's probe is not failing.
      const rules = (
        yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "alerts", "tls.yml"), "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }
      ).groups.flatMap((group) => group.rules);
      expect(rules.map((rule) => rule.alert)).toEqual(["TlsCertificateExpiringSoon", "TlsEndpointProbeFailing"]);
      for (const rule of rules)
        for (const selector of vectorSelectors(rule.expr))
          expect({ selector, series: (await query(selector)).data.result.length }).toEqual({ selector, series: 1 });
      const [expiring, failing] = await Promise.all(rules.map(async (rule) => (await query(rule.expr)).data.result));
      expect(expiring.map((series) => series.metric.instance)).toEqual([`127.0.0.1:${serverPort}`]);
      expect(Number(expiring[0].value[1])).toBeGreaterThan(0);
      expect(Number(expiring[0].value[1])).toBeLessThan(2 * 86400 + 60);
      expect(failing).toEqual([]);
    }, 40_000);

    test("with another CA the TLS probe fails", async () => {
      const response = await fetch(`${wrongBlackboxUrl}/probe?module=${TLS_PROBE_MODULE}&target=127.0.0.1:${serverPort}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = await response.text();
      expect(body).toMatch(/^probe_success 0$/m);
      expect(body).not.toMatch(/^probe_ssl_earliest_cert_expiry/m);
    });
  },
);
