/**
 * The TLS healthchecks the stack renders (Elasticsearch and Kibana: components/logs/logs-tls.ts; Grafana:
 * components/grafana/grafana-server.ts grafanaHealthcheck), run by the real Docker Engine as the container
 * healthcheck, exactly as rendered, against a TLS server inside the same container.
 *
 * How Docker runs them (moby/moby daemon/health.go): `getProbe` maps `CMD-SHELL` to a probe that prepends
 * the container's shell (`getShell`: Config.Shell, else `/bin/sh -c`) and `CMD` to one that execs Test[1:]
 * directly; `cmdProbe.run` execs it in the container as Config.User with the container's environment and
 * keeps at most 4096 bytes of its stdout+stderr (`maxOutputLen`); `monitor` waits `Interval` before the
 * first probe; `handleProbeResult` sets `healthy` on exit status 0 and, on any other status, `unhealthy`
 * once `FailingStreak` reaches `Retries` (no StartPeriod here, so every failure counts), keeping the last 5
 * results in Health.Log (`maxLogEntries`).
 *
 * What curl does with the rendered arguments (curl/curl docs/cmdline-opts/resolve.md, cacert.md):
 * `--resolve <publicHostname>:<port>:127.0.0.1` makes curl connect to 127.0.0.1 for that name while the
 * URL keeps the name, so the certificate is checked against publicHostname; `--cacert <file>` is the only
 * CA trusted (the image's /etc/ssl/certs is empty, see test/support/container-tls.ts).
 *
 * The image is built here with `docker import` from this machine's busybox-static, curl and openssl (no
 * registry is reachable). The server (test/support/container-tls.ts TLS_SERVER_SCRIPT) is
 * `openssl s_server` with the certificate files at the paths, modes and owner the stack uploads them with,
 * run as the service's user (Elasticsearch 1000:0, Grafana 472:0: its 0440 root:root key is read through
 * group 0), and it checks the Basic login itself (401 without the right one): `openssl s_server -www`
 * would answer 200 to any GET and prove nothing about the login. Certificates (ECDSA, made with openssl in
 * a temp dir, test/support/stack-tls-pki.ts): a CA, a server certificate naming publicHostname only, and
 * a second, wrong CA. Containers sit on the default bridge, publish no port, and are removed by id.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { STACK_SERVICES } from "../../components/stack-services";
import {
  basicAuthorization,
  ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
  elasticsearchHealthcheck,
  elasticsearchHealthcheckConfig,
  elasticsearchHealthcheckUpload,
  ELASTICSEARCH_TLS_PATHS,
  KIBANA_TLS_PATHS,
  kibanaTlsHealthcheck,
  tlsUploads,
} from "../../components/logs/logs-tls";
import { GRAFANA_CA_PATH, GRAFANA_TLS_CERT_PATH, GRAFANA_TLS_KEY_PATH, grafanaHealthcheck } from "../../components/grafana/grafana-server";
import { describeWithDocker, docker, removeById } from "../support/docker";
import { findTool } from "../support/real-tools";
import { makeStackTlsPki, StackTlsPki } from "../support/stack-tls-pki";
import {
  buildTlsToolsImage,
  ContainerFile,
  copyIntoContainer,
  createTlsServerContainer,
  Health,
  Inspected,
  requestLog,
  TLS_SERVER_SCRIPT,
  TLS_TOOLS,
  waitForHealth,
} from "../support/container-tls";

const HOST = "obs.test.internal";
const WRONG_HOST = "other.test.internal";
const ADMIN_PASSWORD = "es-admin-Pa55word!";
const SECOND = 1_000_000_000; // the Engine API's durations are nanoseconds
/** Bounded waits: healthy after the first probe (1 s), unhealthy after 3 failing ones (about 3 s). */
const SETTLE_MS = 30_000;

describeWithDocker("the TLS healthchecks, run by Docker as container healthchecks", () => {
  let tmp: string;
  let pki: StackTlsPki;
  let image: { ref: string; id: string } | undefined;
  const containers: string[] = [];
  const label = { "atra-test": "healthcheck-container-tls" };

  beforeAll(() => {
    const missing = ["ldd", "tar", ...TLS_TOOLS.map((tool) => path.basename(tool))].filter((tool) => !findTool(tool));
    if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: the image is built from this machine's Debian packages (curl, openssl)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-healthcheck-container-tls-"));
    pki = makeStackTlsPki(tmp, HOST, []);
    image = buildTlsToolsImage();
  }, 120_000);

  afterAll(() => {
    // By id only: the containers this file created, then its image.
    removeById("container", containers);
    removeById("image", [image?.id]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  interface Server {
    healthcheck: string[];
    user: string;
    port: number;
    chain: string;
    key: string;
    /** The certificate files with their content and mode, where the stack uploads them. */
    files: ContainerFile[];
    env?: string[];
    /** The Authorization value the server requires; none: it answers 200 to every request. */
    requiredLogin?: string;
  }

  /** Create the container, put the script and files in, start it; its id. */
  async function start(server: Server): Promise<string> {
    const id = await createTlsServerContainer({
      image: image!.ref,
      user: server.user,
      env: server.env ?? [],
      healthcheck: { Test: server.healthcheck, Interval: SECOND, Timeout: 10 * SECOND, Retries: 3, StartPeriod: 0 },
      serverArgs: [String(server.port), server.chain, server.key, "/srv/required-login"],
      labels: label,
    });
    containers.push(id);
    copyIntoContainer(id, [
      { file: "/srv/serve.sh", content: TLS_SERVER_SCRIPT, mode: 0o444 },
      { file: "/srv/required-login", content: server.requiredLogin ?? "", mode: 0o440 },
      ...server.files,
    ]);
    docker(["start", id]);
    return id;
  }

  /** Healthy, and the next probe passed too (the server answers probe after probe). */
  const healthy = (health: Health) => health.Status === "healthy" && health.Log.length >= 2 && health.Log.slice(-2).every((result) => result.ExitCode === 0);
  const unhealthy = (health: Health) => health.Status === "unhealthy";

  /** What every container must show: the rendered healthcheck verbatim, the default bridge, nothing published, still running. */
  function expectContainer(state: Inspected, healthcheck: string[], user: string): void {
    expect(state.Config.Healthcheck?.Test).toEqual(healthcheck);
    expect(state.Config.User).toBe(user);
    expect(state.HostConfig.NetworkMode).toBe("bridge");
    expect(Object.keys(state.HostConfig.PortBindings ?? {})).toEqual([]);
    expect(Object.keys(state.NetworkSettings.Ports ?? {})).toEqual([]);
    expect(state.State.Running).toBe(true);
  }

  /** Every probe Docker recorded: exit status and output. */
  const probes = (state: Inspected) => (state.State.Health?.Log ?? []).map((result) => ({ exit: result.ExitCode, output: result.Output }));

  /**
   * The probes of a container that became healthy, from its first success on (a probe of a loaded machine
   * may come before the server listens: curl exit 7, which does not count here).
   */
  function passingProbes(state: Inspected) {
    const all = probes(state);
    const first = all.findIndex((probe) => probe.exit === 0);
    expect(all.slice(0, Math.max(first, 0)).every((probe) => probe.exit === 7)).toBe(true);
    return all.slice(first);
  }

  /** The probes of a container that became unhealthy: at least Retries (3) of them, all failing. */
  function failingProbes(state: Inspected) {
    expect(state.State.Health?.Status).toBe("unhealthy");
    expect(state.State.Health?.FailingStreak).toBeGreaterThanOrEqual(3);
    const all = probes(state);
    expect(all.length).toBeGreaterThanOrEqual(3);
    return all;
  }

  test("Elasticsearch (CMD, login from the uploaded 0440 root:root curl config, read as 1000:0): healthy with the stack CA; another CA, another name or a wrong login is unhealthy", async () => {
    const port = STACK_SERVICES.elasticsearch.port;
    const user = "1000:0"; // elastic/elasticsearch distribution/docker/src/docker/Dockerfile: USER 1000:0
    // Where and how the stack uploads the files (logs-tls.ts tlsUploads); the contents are this test's.
    const contents: Record<string, string> = {
      [ELASTICSEARCH_TLS_PATHS.chain]: pki.providedChain,
      [ELASTICSEARCH_TLS_PATHS.key]: pki.providedKey,
      [ELASTICSEARCH_TLS_PATHS.ca]: pki.caPem,
    };
    const uploads = tlsUploads(ELASTICSEARCH_TLS_PATHS, {
      caCertificate: pulumi.output("ca"),
      serverCertificate: pulumi.output("chain"),
      serverKey: pulumi.output("key"),
      serverName: HOST,
    });
    expect(uploads.map((upload) => upload.file).sort()).toEqual(Object.keys(contents).sort());
    // The login's curl config, at the path and mode the stack uploads it with (logs-tls.ts elasticsearchHealthcheckUpload).
    const loginUpload = elasticsearchHealthcheckUpload("elastic", pulumi.output(ADMIN_PASSWORD));
    expect([loginUpload.file, loginUpload.permissions]).toEqual([ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH, "0440"]);
    const files = (ca: string, password = ADMIN_PASSWORD): ContainerFile[] => [
      ...uploads.map((upload) => ({
        file: upload.file,
        content: upload.file === ELASTICSEARCH_TLS_PATHS.ca ? ca : contents[upload.file],
        mode: parseInt(upload.permissions, 8),
      })),
      { file: loginUpload.file, content: elasticsearchHealthcheckConfig("elastic", password), mode: parseInt(loginUpload.permissions, 8) },
    ];
    const login = basicAuthorization("elastic", ADMIN_PASSWORD);
    const check = elasticsearchHealthcheck({ caCertificate: "the stack CA", serverName: HOST });
    const wrongNameCheck = elasticsearchHealthcheck({ caCertificate: "the stack CA", serverName: WRONG_HOST });
    expect(check.join(" ")).toContain(`--cacert ${ELASTICSEARCH_TLS_PATHS.ca} --resolve ${HOST}:${port}:127.0.0.1`);
    expect(check.join(" ")).not.toContain(ADMIN_PASSWORD);
    expect(check.join(" ")).not.toContain(login);

    const base = { user, port, chain: ELASTICSEARCH_TLS_PATHS.chain, key: ELASTICSEARCH_TLS_PATHS.key, requiredLogin: login };
    // The login reaches the container as the stack gives it: a file root owns, which the healthcheck (run as 1000:0) reads through group 0; no environment.
    const [good, wrongCa, wrongName, wrongLogin] = await Promise.all([
      start({ ...base, healthcheck: check, files: files(pki.caPem) }),
      start({ ...base, healthcheck: check, files: files(pki.wrongCaPem) }),
      start({ ...base, healthcheck: wrongNameCheck, files: files(pki.caPem) }),
      start({ ...base, healthcheck: check, files: files(pki.caPem, "not-the-password") }),
    ]);
    const [goodState, wrongCaState, wrongNameState, wrongLoginState] = await Promise.all([
      waitForHealth(good, SETTLE_MS, healthy, unhealthy),
      waitForHealth(wrongCa, SETTLE_MS, unhealthy),
      waitForHealth(wrongName, SETTLE_MS, unhealthy),
      waitForHealth(wrongLogin, SETTLE_MS, unhealthy),
    ]);

    expectContainer(goodState, check, user);
    expect(goodState.State.Health?.Status).toBe("healthy");
    expect(passingProbes(goodState).every((probe) => probe.exit === 0 && probe.output === "")).toBe(true);
    // The server saw the rendered request, for publicHostname, with the login (checked by the server, never logged).
    const goodRequests = requestLog(good);
    expect(goodRequests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(goodRequests)).toEqual(new Set([`GET /_cluster/health?wait_for_status=yellow&timeout=3s HTTP/1.1 host=${HOST}:${port} login=ok`]));

    expectContainer(wrongCaState, check, user);
    for (const probe of failingProbes(wrongCaState)) {
      expect(probe.exit).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
      expect(probe.output).toMatch(/^curl: \(60\) SSL certificate problem: unable to get local issuer certificate/);
    }
    expect(requestLog(wrongCa)).toEqual([]); // no request, so no login, sent to a server the CA does not vouch for

    expectContainer(wrongNameState, wrongNameCheck, user);
    for (const probe of failingProbes(wrongNameState)) {
      expect(probe.exit).toBe(60);
      expect(probe.output).toContain(`no alternative certificate subject name matches target host name '${WRONG_HOST}'`);
    }
    expect(requestLog(wrongName)).toEqual([]);

    expectContainer(wrongLoginState, check, user);
    for (const probe of failingProbes(wrongLoginState)) {
      expect(probe.exit).toBe(22); // curl -f: CURLE_HTTP_RETURNED_ERROR
      expect(probe.output).toContain("401");
    }
    expect(new Set(requestLog(wrongLogin))).toEqual(
      new Set([`GET /_cluster/health?wait_for_status=yellow&timeout=3s HTTP/1.1 host=${HOST}:${port} login=wrong`]),
    );

    // Nothing Docker recorded carries the password or the header.
    for (const state of [goodState, wrongCaState, wrongNameState, wrongLoginState]) {
      const recorded = JSON.stringify(state.State.Health);
      expect(recorded).not.toContain(ADMIN_PASSWORD);
      expect(recorded).not.toContain(login);
    }
  });

  test("Kibana (CMD-SHELL, 401 without a login counts as up): healthy with the stack CA, unhealthy with another", async () => {
    const port = STACK_SERVICES.kibana.port;
    const user = "1000:0"; // elastic/kibana docker_generator templates/base/Dockerfile: uid 1000, in group 0
    const files = (ca: string): ContainerFile[] => [
      { file: KIBANA_TLS_PATHS.chain, content: pki.providedChain, mode: 0o444 },
      { file: KIBANA_TLS_PATHS.key, content: pki.providedKey, mode: 0o440 },
      { file: KIBANA_TLS_PATHS.ca, content: ca, mode: 0o444 },
    ];
    const check = kibanaTlsHealthcheck({ caCertificate: "the stack CA", serverName: HOST });
    // Kibana's status API asks for a login: the server requires one the healthcheck does not send.
    const base = { user, port, chain: KIBANA_TLS_PATHS.chain, key: KIBANA_TLS_PATHS.key, requiredLogin: basicAuthorization("elastic", ADMIN_PASSWORD) };
    const [good, wrongCa] = await Promise.all([
      start({ ...base, healthcheck: check, files: files(pki.caPem) }),
      start({ ...base, healthcheck: check, files: files(pki.wrongCaPem) }),
    ]);
    const [goodState, wrongCaState] = await Promise.all([waitForHealth(good, SETTLE_MS, healthy, unhealthy), waitForHealth(wrongCa, SETTLE_MS, unhealthy)]);

    expectContainer(goodState, check, user);
    expect(passingProbes(goodState).every((probe) => probe.exit === 0)).toBe(true);
    expect(new Set(requestLog(good))).toEqual(new Set([`GET /api/status HTTP/1.1 host=${HOST}:${port} login=none`]));

    expectContainer(wrongCaState, check, user);
    // curl -s prints nothing and -w gives 000; grep finds neither 200 nor 401.
    expect(failingProbes(wrongCaState).every((probe) => probe.exit === 1 && probe.output === "")).toBe(true);
    expect(requestLog(wrongCa)).toEqual([]);
  });

  test("Grafana (exec form CMD, no shell): healthy with the stack CA; another CA or another name is unhealthy", async () => {
    const port = STACK_SERVICES.grafana.port;
    const user = "472:0"; // grafana/grafana Dockerfile: GF_UID 472, GF_GID 0
    // Where and how the stack uploads the files (grafana-server.ts tlsUploads: 0444, key 0440).
    const files = (ca: string): ContainerFile[] => [
      { file: GRAFANA_TLS_CERT_PATH, content: pki.providedChain, mode: 0o444 },
      { file: GRAFANA_TLS_KEY_PATH, content: pki.providedKey, mode: 0o440 },
      { file: GRAFANA_CA_PATH, content: ca, mode: 0o444 },
    ];
    const check = grafanaHealthcheck({ caFile: GRAFANA_CA_PATH, serverName: HOST });
    const wrongNameCheck = grafanaHealthcheck({ caFile: GRAFANA_CA_PATH, serverName: WRONG_HOST });
    expect(check[0]).toBe("CMD");
    expect(check).toEqual(expect.arrayContaining(["--cacert", GRAFANA_CA_PATH, "--resolve", `${HOST}:${port}:127.0.0.1`]));
    // Grafana's /api/health needs no login: the server answers every request.
    const base = { user, port, chain: GRAFANA_TLS_CERT_PATH, key: GRAFANA_TLS_KEY_PATH };
    const [good, wrongCa, wrongName] = await Promise.all([
      start({ ...base, healthcheck: check, files: files(pki.caPem) }),
      start({ ...base, healthcheck: check, files: files(pki.wrongCaPem) }),
      start({ ...base, healthcheck: wrongNameCheck, files: files(pki.caPem) }),
    ]);
    const [goodState, wrongCaState, wrongNameState] = await Promise.all([
      waitForHealth(good, SETTLE_MS, healthy, unhealthy),
      waitForHealth(wrongCa, SETTLE_MS, unhealthy),
      waitForHealth(wrongName, SETTLE_MS, unhealthy),
    ]);

    expectContainer(goodState, check, user);
    expect(passingProbes(goodState).every((probe) => probe.exit === 0 && probe.output === "")).toBe(true);
    expect(new Set(requestLog(good))).toEqual(new Set([`GET /api/health HTTP/1.1 host=${HOST}:${port} login=none`]));

    expectContainer(wrongCaState, check, user);
    for (const probe of failingProbes(wrongCaState)) {
      expect(probe.exit).toBe(60);
      expect(probe.output).toMatch(/^curl: \(60\) SSL certificate problem: unable to get local issuer certificate/);
    }
    expect(requestLog(wrongCa)).toEqual([]);

    expectContainer(wrongNameState, wrongNameCheck, user);
    for (const probe of failingProbes(wrongNameState)) {
      expect(probe.exit).toBe(60);
      expect(probe.output).toContain(`no alternative certificate subject name matches target host name '${WRONG_HOST}'`);
    }
    expect(requestLog(wrongName)).toEqual([]);
  });
});
