/**
 * The pure parts of `npm run verify` (scripts/lib/verify): reading outputs and the plan, which port Filebeat
 * really dials, redaction, the wait loop, argument parsing, and which Pulumi CLI a bare machine gets.
 */
import * as path from "path";
import * as fs from "fs";
import { flaggedSecretKeys, parseOutputs, PlanFacts, planFacts, secretValues } from "../../scripts/lib/verify/inputs";
import { beatsDialPort, filebeatOutputCheck, filebeatPortMismatch, missingEventCauses } from "../../scripts/lib/verify/filebeat";
import { networkReason } from "../../scripts/lib/verify/http";
import { redact, formatReport } from "../../scripts/lib/verify/report";
import { buildChecks, collapseUnreachable, federatedAgentPrometheus, settle } from "../../scripts/lib/verify/run";
import { AGENT_CERTIFICATE_WARN_DAYS, agentCertificatesCheck } from "../../scripts/lib/verify/federation";
import { X509Certificate } from "crypto";
import * as os from "os";
import { makePki } from "../support/pki";
import { NPM_PULUMI_PACKAGE, resolvePulumiCli, sdkVersion } from "../../scripts/lib/verify/pulumi-cli";
import { parseArgs, parseDuration, UsageError } from "../../scripts/verify";
import type { CheckOutcome } from "../../scripts/lib/verify/types";

const PROJECT_DIR = path.resolve(__dirname, "../..");

describe("stack outputs", () => {
  test("the CLI's --json --show-secrets form and the plan's {value, secret} form read the same", () => {
    expect(parseOutputs('{"grafanaUrl":"http://localhost:3000","grafanaAdminPassword":"pw-1234"}', "a")).toEqual({
      grafanaUrl: "http://localhost:3000",
      grafanaAdminPassword: "pw-1234",
    });
    expect(parseOutputs('{"grafanaUrl":{"value":"http://x","secret":false}}', "b")).toEqual({ grafanaUrl: "http://x" });
  });
  test("masked secrets and non-JSON are refused with what to run instead", () => {
    expect(() => parseOutputs('{"grafanaAdminPassword":"[secret]"}', "f.json")).toThrow(/--show-secrets/);
    expect(() => parseOutputs("Current stack outputs (2):", "f.json")).toThrow(/f.json: not JSON/);
    expect(() => parseOutputs("[]", "f.json")).toThrow(/JSON object/);
  });
  test("every password, API key and token output is a secret (and the base64 form verify sends)", () => {
    const secrets = secretValues({ grafanaAdminPassword: "pw-a", agentLogShipperApiKey: "id:key", grafanaUrl: "http://x" });
    expect(secrets).toEqual(expect.arrayContaining(["pw-a", "id:key", Buffer.from("id:key").toString("base64")]));
    expect(secrets).not.toContain("http://x");
    // The agents' keys are one map (host -> encoded key), unflagged in `pulumi stack output --json --show-secrets`.
    const map = secretValues({ agentLogShipperApiKeys: { "app-1.example.internal": "ZW5jb2RlZC0x", "app-2.example.internal": "ZW5jb2RlZC0y" } });
    expect(map).toEqual(expect.arrayContaining(["ZW5jb2RlZC0x", "ZW5jb2RlZC0y"]));
    expect(map).not.toContain("app-1.example.internal");
  });
  // m4: the plan's outputs.json flags secrets (index.ts pulumi.secret); a key the name rule misses is still redacted.
  test("an output the plan flags secret is a secret whatever its name", () => {
    const text = JSON.stringify({ agentCaPrivateKey: { value: "-----BEGIN KEY-----abc", secret: true }, grafanaUrl: { value: "http://x", secret: false } });
    expect(flaggedSecretKeys(text)).toEqual(["agentCaPrivateKey"]);
    expect(secretValues(parseOutputs(text, "o.json"))).toEqual([]);
    expect(secretValues(parseOutputs(text, "o.json"), flaggedSecretKeys(text))).toContain("-----BEGIN KEY-----abc");
    expect(flaggedSecretKeys('{"a":"b"}')).toEqual([]);
  });
});

describe("network reasons", () => {
  // m6: Node's TLS verification codes; NODE_EXTRA_CA_CERTS adds the stack CA (nodejs.org/api/cli.html).
  test("an untrusted certificate names NODE_EXTRA_CA_CERTS", () => {
    const failure = Object.assign(new TypeError("fetch failed"), {
      cause: { code: "SELF_SIGNED_CERT_IN_CHAIN", message: "self-signed certificate in certificate chain" },
    });
    expect(networkReason(failure, 1000)).toMatch(/not trusted here \(SELF_SIGNED_CERT_IN_CHAIN\): run verify with NODE_EXTRA_CA_CERTS=/);
  });
});

describe("plan facts", () => {
  const filebeat = [
    "filebeat.inputs:",
    "  - type: filestream",
    "    paths: [/srv/logs/api*.log]",
    "    fields: { service: { name: api } }",
    "output.elasticsearch:",
    "  hosts: [http://atra-obs-dev-elasticsearch:9200]",
  ].join("\n");
  const artifacts = [
    { path: "containers/atra-obs-dev-filebeat/usr/share/filebeat/filebeat.yml", content: filebeat },
    {
      path: "containers/atra-obs-dev-prometheus/etc/prometheus/rules/slo.yml",
      content: "groups:\n  - name: g\n    rules:\n      - record: r:x\n        expr: up\n        labels: { service: api }\n",
    },
    { path: "grafana/dashboards/atra-host.json", content: '{"uid":"atra-host"}' },
    { path: "grafana/datasources/ds.json", content: '{"uid":"ds","name":"Prom","type":"prometheus"}' },
    { path: "grafana/contact-points/oncall.json", content: '{"name":"oncall"}' },
    {
      // The ServiceStoppedLogging rule of a service with maxLogSilence 30m (components/alerting/log-alerts.ts silenceRule).
      path: "grafana/alert-rules/atra-logs.json",
      content: JSON.stringify({
        rules: [
          { name: "ServiceLogErrorsHigh", datas: [{ relativeTimeRange: { from: 300, to: 0 } }] },
          { name: "ServiceStoppedLogging api", labels: { service: "api" }, datas: [{ relativeTimeRange: { from: 1800, to: 0 } }] },
        ],
      }),
    },
    { path: "elastic/IlmPolicy/ilm-policy.json", content: '{"name":"atra-dev-logs-ilm"}' },
    { path: "elastic/IndexTemplate/t.json", content: '{"body":{"template":{"data_stream_options":{"failure_store":{"enabled":true}}}}}' },
    {
      path: "resources.json",
      content: JSON.stringify([
        { type: "docker:index/container:Container", inputs: { name: "atra-obs-dev-elasticsearch", ports: [{ internal: 9200, external: 9200 }] } },
      ]),
    },
  ];
  test("read from the plan's artifacts, not from components/", () => {
    expect(planFacts(artifacts)).toEqual({
      logSilenceMs: { api: 1_800_000 },
      logServices: [{ name: "api", paths: ["/srv/logs/api*.log"] }],
      filebeatHosts: ["http://atra-obs-dev-elasticsearch:9200"],
      filebeatContainer: "atra-obs-dev-filebeat",
      elasticsearchContainer: { name: "atra-obs-dev-elasticsearch", port: 9200 },
      dashboardUids: ["atra-host"],
      datasources: [{ uid: "ds", name: "Prom", type: "prometheus" }],
      contactPoints: ["oncall"],
      recordingRules: [{ record: "r:x", service: "api" }],
      ilmPolicy: "atra-dev-logs-ilm",
      failureStore: true,
    });
  });
});

describe("the port Filebeat dials (elastic/beats libbeat/common/url.go MakeURL, default port 9200)", () => {
  test("a host without a port is dialled on 9200 whatever its scheme; an explicit port is kept (also 443)", () => {
    expect(beatsDialPort("https://logs.example.com")).toEqual({ scheme: "https", hostname: "logs.example.com", port: 9200 });
    expect(beatsDialPort("https://logs.example.com:443")).toEqual({ scheme: "https", hostname: "logs.example.com", port: 443 });
    expect(beatsDialPort("es:9201")).toEqual({ scheme: "http", hostname: "es", port: 9201 });
  });
  const base = {
    logServices: [],
    dashboardUids: [],
    datasources: [],
    contactPoints: [],
    recordingRules: [],
    failureStore: false,
    logSilenceMs: {},
  };
  test("an agent's https host without its port (the old rendering) is named as the cause", () => {
    const facts = { ...base, filebeatHosts: ["https://logs.obs-prod.atra.internal"] };
    expect(filebeatPortMismatch(facts, { elasticsearchUrl: "https://logs.obs-prod.atra.internal" })).toMatch(
      /Filebeat dials logs.obs-prod.atra.internal:9200 .*Beats adds 9200 to a host without a port.* \(port 443\)/,
    );
    expect(
      filebeatPortMismatch(
        { ...facts, filebeatHosts: ["https://logs.obs-prod.atra.internal:443"] },
        { elasticsearchUrl: "https://logs.obs-prod.atra.internal" },
      ),
    ).toBeUndefined();
  });
  test("a central stack's container host on another port than the container's is named as the cause", () => {
    const facts = {
      ...base,
      filebeatHosts: ["http://atra-obs-dev-elasticsearch:9300"],
      elasticsearchContainer: { name: "atra-obs-dev-elasticsearch", port: 9200 },
    };
    expect(filebeatPortMismatch(facts, {})).toMatch(/dials atra-obs-dev-elasticsearch:9300 .*listens on 9200/);
    const causes = missingEventCauses({ name: "api", paths: ["/x/*.log"] }, facts, {}, false, "atra-obs-dev-filebeat");
    expect(causes[0]).toMatch(/dials atra-obs-dev-elasticsearch:9300/);
    expect(causes[1]).toMatch(/docker logs atra-obs-dev-filebeat/);
    // When other services' events arrive, the output works: the service's own files come first.
    expect(missingEventCauses({ name: "api", paths: ["/x/*.log"] }, { ...facts, filebeatHosts: [] }, {}, true, undefined)[0]).toMatch(
      /no file matches \/x\/\*\.log/,
    );
  });
  // M4: the port rule as its own check, with no network and no event search before it.
  test("filebeat.output: FAIL on a proven mismatch, WARN on an https host without a port and nothing to compare, ok when they match", async () => {
    const wrong = await filebeatOutputCheck(
      { ...base, filebeatHosts: ["https://logs.obs-prod.atra.internal"] },
      { elasticsearchUrl: "https://logs.obs-prod.atra.internal" },
    ).run();
    expect(wrong).toMatchObject({ id: "filebeat.output", status: "fail", summary: expect.stringMatching(/^Filebeat dials logs.obs-prod.atra.internal:9200 /) });
    expect(wrong.fix![0]).toMatch(/every event stays in Filebeat's queue/);
    const unknown = await filebeatOutputCheck({ ...base, filebeatHosts: ["https://logs.example.com"] }, {}).run();
    expect(unknown).toMatchObject({ status: "warn", summary: expect.stringContaining("Filebeat dials logs.example.com:9200") });
    const right = await filebeatOutputCheck(
      { ...base, filebeatHosts: ["http://atra-obs-dev-elasticsearch:9200"], elasticsearchContainer: { name: "atra-obs-dev-elasticsearch", port: 9200 } },
      {},
    ).run();
    expect(right).toMatchObject({ status: "ok", summary: "Filebeat dials atra-obs-dev-elasticsearch:9200, where Elasticsearch listens" });
  });
});

describe("report", () => {
  test("secrets are replaced in every form they could take", () => {
    const secret = "p@ss/w:rd";
    expect(redact(`a ${secret} b ${encodeURIComponent(secret)} c`, [secret])).toBe("a [secret] b [secret] c");
  });
  test("one line per check, the fix under anything not ok, a closing verdict", () => {
    const text = formatReport({
      stack: "dev",
      role: "central",
      ok: false,
      counts: { ok: 1, warn: 0, fail: 1, skip: 0 },
      elapsedMs: 1200,
      results: [
        { id: "a", status: "ok", summary: "fine", fix: ["never shown"] },
        { id: "b", status: "fail", summary: "broken", fix: ["do this"] },
      ],
    });
    expect(text.split("\n")).toEqual([
      'verify of stack "dev" (central)',
      "ok    a: fine",
      "FAIL  b: broken",
      "        fix: do this",
      "verify FAILED: 1 ok, 0 warn, 1 failed, 0 not run (1.2 s)",
    ]);
  });
  test("a service without any answer fails once; its other checks say they did not run", () => {
    const outcomes: CheckOutcome[] = [
      { id: "grafana.health", status: "fail", summary: "Grafana: no answer from http://x: refused" },
      { id: "grafana.dashboards", status: "fail", summary: "dashboards not read: no answer from http://x: refused" },
      { id: "kibana.status", status: "ok", summary: "fine" },
    ];
    expect(collapseUnreachable(outcomes).map((outcome) => outcome.status)).toEqual(["fail", "skip", "ok"]);
  });
});

describe("the wait: a failing check is asked again until it passes or the wait is over", () => {
  test("retried until ok", async () => {
    let calls = 0;
    const outcome = await settle(
      { id: "x", run: async () => (++calls < 3 ? { id: "x", status: "fail", summary: "not yet", retry: true } : { id: "x", status: "ok", summary: "now" }) },
      Date.now() + 5000,
      10,
    );
    expect(outcome.status).toBe("ok");
    expect(calls).toBe(3);
  });
  test("given up at the deadline with the last answer; a final answer is not retried", async () => {
    let calls = 0;
    const started = Date.now();
    const outcome = await settle({ id: "x", run: async () => (calls++, { id: "x", status: "fail", summary: "never", retry: true }) }, started + 200, 20);
    expect(outcome.status).toBe("fail");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toBeGreaterThan(2);
    calls = 0;
    await settle({ id: "y", run: async () => (calls++, { id: "y", status: "fail", summary: "final" }) }, Date.now() + 5000, 10);
    expect(calls).toBe(1);
  });
});

describe("arguments", () => {
  test("durations and defaults", () => {
    expect(parseDuration("5m", "--wait")).toBe(300_000);
    expect(parseDuration("0", "--wait")).toBe(0);
    expect(parseDuration("250ms", "--wait")).toBe(250);
    expect(parseArgs(["--stack", "dev"])).toMatchObject({ stack: "dev", waitMs: 300_000, notify: false, json: false });
    expect(parseArgs(["--stack=dev", "--notify", "--json", "--wait=30s"])).toMatchObject({ notify: true, json: true, waitMs: 30_000 });
  });
  test("usage errors", () => {
    expect(() => parseArgs([])).toThrow(UsageError);
    expect(() => parseArgs(["--stack", "dev", "--wait", "soon"])).toThrow(/--wait "soon": expected a duration/);
    expect(() => parseArgs(["--stack", "dev", "--nope"])).toThrow(/unknown argument --nope/);
  });
});

describe("which Pulumi CLI a deploy uses (the download itself cannot run here)", () => {
  const version = sdkVersion(PROJECT_DIR);
  test("the SDK version read is the one package.json pins", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(version).toBe(manifest.dependencies["@pulumi/pulumi"]);
  });
  const env = (executables: string[], pulumiHome?: string) => ({
    path: ["/usr/local/bin", "/usr/bin"],
    sdkVersion: version,
    home: "/home/u",
    pulumiHome,
    isExecutable: (file: string) => executables.includes(file),
  });
  test("pulumi on PATH first", () => {
    expect(resolvePulumiCli(env(["/usr/bin/pulumi", `/home/u/.pulumi/versions/${version}/bin/pulumi`]))).toMatchObject({
      command: ["/usr/bin/pulumi"],
      source: "path",
      env: {},
    });
  });
  test("else the SDK's version in the cache the Automation API and npm's pulumi package share ($PULUMI_HOME or ~/.pulumi)", () => {
    expect(resolvePulumiCli(env([`/home/u/.pulumi/versions/${version}/bin/pulumi`])).command).toEqual([`/home/u/.pulumi/versions/${version}/bin/pulumi`]);
    expect(resolvePulumiCli(env([`/opt/p/versions/${version}/bin/pulumi`], "/opt/p")).source).toBe("cache");
    // Another version in the cache is not taken.
    expect(resolvePulumiCli(env(["/home/u/.pulumi/versions/3.100.0/bin/pulumi"])).source).toBe("npm");
  });
  test("else npm's pulumi package, pinned, told to fetch the SDK's own CLI version (its resolve.js reads PULUMI_VERSION)", () => {
    expect(resolvePulumiCli(env([]))).toMatchObject({
      command: ["npx", "--yes", `pulumi@${NPM_PULUMI_PACKAGE}`],
      env: { PULUMI_VERSION: version },
      source: "npm",
    });
    expect(NPM_PULUMI_PACKAGE).toMatch(/^\d+\.\d+\.\d+$/);
    expect(() => resolvePulumiCli({ ...env([]), sdkVersion: "^3.0.0" })).toThrow(/not a release version/);
  });
});

describe("a federated agent's own Prometheus", () => {
  const agent = { role: "agent", host: "app-2.example.internal", prometheusUrl: "https://app-2.example.internal:9090" };
  const central = { agentFederation: { "app-2.example.internal": { password: "pw-of-app-2", passwordHash: "$2a$10$x", certificate: "c", key: "k" } } };

  test("verify logs in as the central stack does, with this host's password from the central agentFederation output", () => {
    expect(federatedAgentPrometheus(agent, central)).toEqual({
      url: "https://app-2.example.internal:9090",
      username: "atra-central",
      password: "pw-of-app-2",
      credentials: "the central output agentFederation",
    });
  });

  test("no login without the central outputs, another host's entry only, or a plain-http (unfederated) agent", () => {
    expect(federatedAgentPrometheus(agent, undefined)).toBeUndefined();
    expect(federatedAgentPrometheus({ ...agent, host: "app-3.example.internal" }, central)).toBeUndefined();
    expect(federatedAgentPrometheus({ ...agent, prometheusUrl: "http://app-2.example.internal:9090" }, central)).toBeUndefined();
  });
});

describe("a central stack's agent federation certificates (agentFederation): days left", () => {
  // A real certificate (openssl), judged at instants relative to its own end.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-verify-federation-"));
  const pki = makePki(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ends = new X509Certificate(pki.serverChain).validTo;
  const at = (daysBeforeEnd: number) => () => new Date(ends).getTime() - daysBeforeEnd * 24 * 3600 * 1000;
  const outputs = {
    role: "central",
    agentFederation: { "app-2.example.internal": { password: "p", passwordHash: "h", certificate: pki.serverChain, key: "k" } },
  };
  const run = (now: () => number, values: Record<string, unknown> = outputs) => agentCertificatesCheck(values, now)!.run();

  test("ok with more than the renewal window left; warns inside it (the central was not up'ed to renew it); fails once ended", async () => {
    expect(await run(at(100))).toMatchObject({ status: "ok", data: { "app-2.example.internal": 100 } });
    const warned = await run(at(10.5));
    expect(warned).toMatchObject({ status: "warn", data: { "app-2.example.internal": 10 } });
    expect(warned.summary).toMatch(/app-2\.example\.internal: its federation certificate ends in 10 days/);
    expect(warned.fix?.[0]).toMatch(/pulumi up the central stack.*agentFederation entry/);
    expect(await run(at(-1))).toMatchObject({ status: "fail" });
    expect(AGENT_CERTIFICATE_WARN_DAYS).toBe(30);
  });

  test("an entry without a readable certificate warns; no agentFederation, no check; the check is part of a central verify", async () => {
    expect(await run(at(100), { agentFederation: { "app-3": { certificate: "not a pem" } } })).toMatchObject({
      status: "warn",
      summary: "app-3: no certificate in its entry",
    });
    expect(agentCertificatesCheck({ role: "central" })).toBeUndefined();
    expect(agentCertificatesCheck({ agentFederation: {} })).toBeUndefined();
    const facts: PlanFacts = {
      logServices: [],
      filebeatHosts: [],
      dashboardUids: [],
      datasources: [],
      contactPoints: [],
      recordingRules: [],
      failureStore: false,
      logSilenceMs: {},
    };
    const ids = buildChecks({ stack: "prod", outputs, facts, waitMs: 0, env: {} }).map((check) => check.id);
    expect(ids).toContain("agents.certificates");
  });
});
