/**
 * Issue 21: the blackbox exporter's `/probe?target=` was open to every container on the applications'
 * networks. With its login (components/metrics/blackbox-login.ts) Debian's blackbox exporter (0.23.0, which
 * takes --web.config.file like the pinned 0.28.0), on 127.0.0.1 with the rendered web config and modules:
 * - answers 401 to `/probe`, `/metrics` and `/-/healthy` without the login, and with a wrong password;
 * - a real Prometheus with the rendered probe job and scrape job (password from its file) gets
 *   `probe_success` 1 for a health URL and `up` 1 for the exporter;
 * - the container's healthcheck command, run by busybox `sh` as in the image, passes with the credentials
 *   file and fails without it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as yaml from "js-yaml";
import { resolveStackConfig } from "../../components/config/resolve";
import { BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH, BLACKBOX_PASSWORD_PATH, blackboxHealthcheck } from "../../components/metrics/blackbox-login";
import { renderBlackboxConfig, renderPrometheusConfig, ScrapeConfig } from "../../components/metrics/prometheus-config";
import { writeBlackboxLogin, LocalBlackboxLogin } from "../support/blackbox-login";
import { describeWithTools, freePort, getJson, RunningProcess, startProcess, stopProcess, tempDir, waitFor } from "../support/real-tools";

const BUSYBOX = "/bin/busybox";

interface QueryResponse {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describeWithTools(["prometheus", "prometheus-blackbox-exporter"], "the blackbox exporter's login", () => {
  let dir: string;
  let login: LocalBlackboxLogin;
  let server: http.Server;
  let blackbox: RunningProcess | undefined;
  let prometheus: RunningProcess | undefined;
  let blackboxUrl: string;
  let blackboxPort: number;
  let prometheusUrl: string;
  let healthUrl: string;

  beforeAll(async () => {
    dir = tempDir("atra-blackbox-login-");
    login = writeBlackboxLogin(dir);
    const servicePort = await freePort();
    blackboxPort = await freePort();
    const prometheusPort = await freePort();
    blackboxUrl = `http://127.0.0.1:${blackboxPort}`;
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    healthUrl = `http://127.0.0.1:${servicePort}/health`;
    server = http.createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(servicePort, "127.0.0.1", resolve));

    const modules = path.join(dir, "blackbox.yml");
    fs.writeFileSync(modules, renderBlackboxConfig());
    blackbox = startProcess("blackbox-exporter", "prometheus-blackbox-exporter", [
      `--config.file=${modules}`,
      `--web.listen-address=127.0.0.1:${blackboxPort}`,
      login.flag,
    ]);
    await waitFor("the blackbox exporter listening", 15_000, async () => ((await fetch(`${blackboxUrl}/-/healthy`)).status === 401 ? true : undefined));

    const config = resolveStackConfig({
      stack: "dev",
      values: {
        logs: { enabled: false },
        cadvisor: { enabled: false },
        prometheus: { scrapeInterval: "1s", scrapeTimeout: "1s" },
        services: [{ name: "api", health: healthUrl }],
      },
      secretKeys: [],
    }).config;
    const text = renderPrometheusConfig(config, {
      prometheus: `127.0.0.1:${prometheusPort}`,
      nodeExporter: "127.0.0.1:1",
      blackboxExporter: `127.0.0.1:${blackboxPort}`,
    });
    // The password is read from its file, never written into prometheus.yml; two jobs name it (the exporter's scrape and the health probes; no TLS probe with tls off).
    expect(text).not.toContain(login.password);
    expect(text.split(BLACKBOX_PASSWORD_PATH).length - 1).toBe(2);
    const rendered = yaml.load(login.localize(text)) as { scrape_configs: ScrapeConfig[] } & Record<string, unknown>;
    rendered.scrape_configs = rendered.scrape_configs.filter((job) => ["blackbox-exporter", "blackbox-health"].includes(job.job_name));
    const file = path.join(dir, "prometheus.yml");
    fs.writeFileSync(file, yaml.dump(rendered));
    prometheus = startProcess("prometheus", "prometheus", [
      `--config.file=${file}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ]);
    await waitFor("Prometheus ready", 30_000, async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    await stopProcess(prometheus);
    await stopProcess(blackbox);
    await new Promise((resolve) => server?.close(resolve));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("without the login, or with a wrong password, every path answers 401: no probe for anyone else on its networks", async () => {
    const probe = `/probe?module=http_2xx&target=${encodeURIComponent(healthUrl)}`;
    for (const route of [probe, "/metrics", "/-/healthy"]) {
      expect((await fetch(`${blackboxUrl}${route}`)).status).toBe(401);
      const wrong = `Basic ${Buffer.from("atra-prometheus:not-the-password").toString("base64")}`;
      expect((await fetch(`${blackboxUrl}${route}`, { headers: { authorization: wrong } })).status).toBe(401);
    }
    const right = `Basic ${Buffer.from(`atra-prometheus:${login.password}`).toString("base64")}`;
    const answered = await fetch(`${blackboxUrl}${probe}`, { headers: { authorization: right } });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toMatch(/^probe_success 1$/m);
  });

  test("the rendered probe and scrape jobs log in: probe_success 1 for the health URL, up 1 for the exporter", async () => {
    const value = async (query: string) =>
      (await getJson<QueryResponse>(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`)).data.result[0]?.value[1];
    expect(await waitFor("probe_success", 30_000, () => value('probe_success{job="blackbox-health",service="api"}'))).toBe("1");
    expect(await waitFor("the exporter scraped", 30_000, () => value('up{job="blackbox-exporter"}'))).toBe("1");
  }, 60_000);

  test("the container's healthcheck passes with its credentials file and fails without it (busybox sh and nc, as in the image)", () => {
    if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (Debian package busybox-static)`);
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const applet of ["nc", "cat"]) if (!fs.existsSync(path.join(bin, applet))) fs.symlinkSync(BUSYBOX, path.join(bin, applet));
    const run = (credentials: string) => {
      const [kind, command] = blackboxHealthcheck(blackboxPort, credentials);
      expect(kind).toBe("CMD-SHELL");
      return spawnSync(BUSYBOX, ["sh", "-c", command], { env: { PATH: bin }, encoding: "utf8", timeout: 15_000 }).status;
    };
    expect(run(login.credentialsFile)).toBe(0);
    expect(run(path.join(dir, "missing"))).not.toBe(0);
    // The command names the file only: no secret in the container's config.
    expect(blackboxHealthcheck(9115).join(" ")).toContain(BLACKBOX_HEALTHCHECK_CREDENTIALS_PATH);
    expect(blackboxHealthcheck(9115).join(" ")).not.toContain(login.password);
  });
});
