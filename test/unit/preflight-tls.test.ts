/**
 * The preflight's TLS checks (scripts/lib/preflight/tls.ts, wired into `npm run preflight`), with
 * certificates made here by openssl (test/support/pki.ts: a CA, a wrong CA, a server certificate for IP
 * 127.0.0.1; more below), never committed: a provided chain that does not name publicHostname, a key of
 * another certificate, a chain to another CA or to no trusted root, an expired one; the Grafana provider's
 * URL against the certificate's names; and the CLI reading the provided chain and key decrypted from the
 * Pulumi CLI (a stand-in here) and reporting before it asks the Docker host, without printing them.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { UNDECRYPTED_SECRET } from "../../components/lib/config-keys";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { providedTlsResults, tlsPreflightResults } from "../../scripts/lib/preflight/tls";
import { makePki, Pki } from "../support/pki";
import { PROJECT_DIR } from "../support/plan";
import { tempDir } from "../support/real-tools";

describe("provided certificates, before anything is made", () => {
  let dir: string;
  let pki: Pki;
  let otherKey: string;
  let dnsChain: { chain: string; key: string };
  beforeAll(() => {
    dir = tempDir("atra-preflight-tls-");
    pki = makePki(dir);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key");
    otherKey = fs.readFileSync(path.join(dir, "other.key"), "utf8");
    // A leaf for a DNS name (obs.example.internal), issued by the test CA.
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "dns.key",
      "-out",
      "dns.csr",
      "-subj",
      "/CN=obs.example.internal",
    );
    fs.writeFileSync(path.join(dir, "dns.ext"), "subjectAltName=DNS:obs.example.internal\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    openssl(
      "x509",
      "-req",
      "-in",
      "dns.csr",
      "-CA",
      "atra-test-ca.pem",
      "-CAkey",
      "atra-test-ca.key",
      "-CAcreateserial",
      "-out",
      "dns.pem",
      "-days",
      "2",
      "-extfile",
      "dns.ext",
    );
    dnsChain = { chain: fs.readFileSync(path.join(dir, "dns.pem"), "utf8") + pki.caPem, key: fs.readFileSync(path.join(dir, "dns.key"), "utf8") };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const statuses = (results: ReturnType<typeof providedTlsResults>) => Object.fromEntries(results.map((result) => [result.id, result.status]));

  test("a chain naming the host, with its key, up to the given CA: all pass", () => {
    expect(statuses(providedTlsResults({ chain: pki.serverChain, key: pki.serverKey, publicHostname: "127.0.0.1", ca: pki.caPem }))).toEqual({
      "tls-names-host": "pass",
      "tls-key": "pass",
      "tls-chain": "pass",
    });
  });

  test("a certificate not naming publicHostname, a key of another certificate, a chain to another CA: each reported", () => {
    const results = providedTlsResults({ chain: pki.serverChain, key: otherKey, publicHostname: "obs.example.internal", ca: pki.wrongCaPem });
    expect(statuses(results)).toEqual({ "tls-names-host": "fail", "tls-key": "fail", "tls-chain": "fail" });
    expect(results.find((result) => result.id === "tls-names-host")!.summary).toContain("IP Address:127.0.0.1");
    expect(results.find((result) => result.id === "tls-chain")!.summary).toContain("atra-wrong-ca");
  });

  test("an expired chain is reported", () => {
    const later = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    const results = providedTlsResults({ chain: pki.serverChain, key: pki.serverKey, publicHostname: "127.0.0.1", ca: pki.caPem, now: later });
    expect(results.find((result) => result.id === "tls-chain")).toMatchObject({ status: "fail", summary: expect.stringContaining("is not valid now") });
  });

  test("without tls.caCertificate the chain must lead to a root this machine trusts (a public CA)", () => {
    // The leaf alone, from a CA that is no system root: refused, saying to give tls.caCertificate.
    const leafOnly = dnsChain.chain.slice(0, dnsChain.chain.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length) + "\n";
    const untrusted = providedTlsResults({ chain: leafOnly, key: dnsChain.key, publicHostname: "obs.example.internal" });
    expect(untrusted.find((result) => result.id === "tls-chain")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("does not lead to a root this machine trusts"),
    });
    // The same chain against roots that hold its CA (as the system store would for a public CA): passes.
    const trusted = providedTlsResults({ chain: leafOnly, key: dnsChain.key, publicHostname: "obs.example.internal", roots: [pki.caPem] });
    expect(statuses(trusted)).toEqual({ "tls-names-host": "pass", "tls-key": "pass", "tls-chain": "pass" });
  });

  describe("the stack's checks", () => {
    const provided = (values: Record<string, unknown> = {}): StackConfig =>
      resolveStackConfig({
        stack: "staging",
        values: {
          environment: "staging",
          publicHostname: "obs.example.internal",
          bindAddress: "0.0.0.0",
          tls: { mode: "provided", caCertificate: pki.caPem },
          tlsCertificate: UNDECRYPTED_SECRET,
          tlsKey: UNDECRYPTED_SECRET,
          ...values,
        },
        secretKeys: ["tlsCertificate", "tlsKey"],
      }).config;

    test("provided: the chain's checks, and the Grafana provider's URL host, which it checks the certificate against", () => {
      const config = provided();
      expect(new URL(config.grafana.providerUrl).hostname).toBe("127.0.0.1");
      const results = tlsPreflightResults(config, { certificate: dnsChain.chain, key: dnsChain.key });
      expect(statuses(results)).toEqual({ "tls-names-host": "pass", "tls-key": "pass", "tls-chain": "pass", "tls-grafana-provider-name": "fail" });
      expect(results.find((result) => result.id === "tls-grafana-provider-name")).toMatchObject({
        summary: expect.stringContaining("checks Grafana's certificate against 127.0.0.1"),
        remedy: [
          "issue the certificate with IP:127.0.0.1 too",
          expect.stringContaining("pulumi config set --path grafana.providerUrl https://obs.example.internal:3000 (reached directly"),
        ],
      });
      // Reached at publicHostname directly: the certificate names it.
      const direct = tlsPreflightResults(provided({ grafana: { providerUrl: "https://obs.example.internal:3000" } }), {
        certificate: dnsChain.chain,
        key: dnsChain.key,
      });
      expect(direct.find((result) => result.id === "tls-grafana-provider-name")?.status).toBe("pass");
    });

    test("provided, secrets that cannot be read: one failure saying how to make them readable", () => {
      const results = tlsPreflightResults(provided(), { error: "`pulumi config --show-secrets` failed: error: incorrect passphrase" });
      expect(results).toEqual([expect.objectContaining({ id: "tls-certificate", status: "fail", summary: expect.stringContaining("incorrect passphrase") })]);
    });

    test("generated: the Grafana provider's URL must be one of the generated names (loopback and publicHostname are)", () => {
      const generated = (values: Record<string, unknown>) =>
        resolveStackConfig({
          stack: "staging",
          values: { environment: "staging", publicHostname: "obs.example.internal", bindAddress: "0.0.0.0", ...values },
          secretKeys: [],
        }).config;
      expect(statuses(tlsPreflightResults(generated({})))).toEqual({ "tls-grafana-provider-name": "pass" });
      const odd = tlsPreflightResults(generated({ grafana: { providerUrl: "http://127.0.0.2:13000" } }));
      expect(odd.find((result) => result.id === "tls-grafana-provider-name")).toMatchObject({
        status: "fail",
        remedy: ["pulumi config set --path 'tls.extraNames[0]' 127.0.0.2", expect.stringContaining("grafana.providerUrl https://obs.example.internal:3000")],
      });
      const extra = tlsPreflightResults(generated({ grafana: { providerUrl: "http://127.0.0.2:13000" }, tls: { extraNames: ["127.0.0.2"] } }));
      expect(extra.find((result) => result.id === "tls-grafana-provider-name")?.status).toBe("pass");
    });

    test("off: no TLS checks", () => {
      expect(tlsPreflightResults(resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] }).config)).toEqual([]);
    });
  });

  test("npm run preflight reads the provided chain and key from the Pulumi CLI and reports them before the Docker host, printing neither", () => {
    const bin = tempDir("atra-preflight-tls-bin-");
    const configDir = tempDir("atra-preflight-tls-stack-");
    try {
      // The stand-in Pulumi CLI prints what `pulumi config --show-secrets --json` prints, and records how it was called.
      const answer = {
        "atra-observability:tlsCertificate": { value: pki.serverChain, secret: true },
        "atra-observability:tlsKey": { value: otherKey, secret: true },
      };
      fs.writeFileSync(path.join(bin, "answer.json"), JSON.stringify(answer));
      fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho "$*" >> "${bin}/calls.log"\ncat "${bin}/answer.json"\n`, { mode: 0o755 });
      const indented = (pem: string) =>
        pem
          .trim()
          .split("\n")
          .map((line) => `      ${line}`)
          .join("\n");
      fs.writeFileSync(
        path.join(configDir, "Pulumi.tlsstack.yaml"),
        [
          "config:",
          "  atra-observability:environment: staging",
          "  atra-observability:bindAddress: 0.0.0.0",
          "  atra-observability:publicHostname: obs.example.internal",
          "  atra-observability:tls:",
          "    mode: provided",
          "    caCertificate: |",
          indented(pki.caPem),
          "  atra-observability:tlsCertificate:",
          "    secure: v1:REPLACE-ME:test",
          "  atra-observability:tlsKey:",
          "    secure: v1:REPLACE-ME:test",
          "",
        ].join("\n"),
      );
      const run = spawnSync(
        process.execPath,
        [path.join(PROJECT_DIR, "scripts/run-ts.js"), path.join(PROJECT_DIR, "scripts/preflight.ts"), "--stack", "tlsstack", "--config-dir", configDir],
        {
          cwd: PROJECT_DIR,
          encoding: "utf8",
          env: {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            DOCKER_HOST: "unix:///nonexistent/atra-preflight-tls.sock",
            DOCKER_CONTEXT: "",
            PULUMI_CONFIG_PASSPHRASE: "x",
          },
          timeout: 120_000,
        },
      );
      expect(run.status).toBe(1);
      expect(fs.readFileSync(path.join(bin, "calls.log"), "utf8").trim()).toBe(
        `config --show-secrets --json --stack tlsstack --config-file ${path.join(configDir, "Pulumi.tlsstack.yaml")}`,
      );
      const report = run.stdout;
      expect(report).toContain("FAIL  tlsCertificate does not name publicHostname obs.example.internal (it names: IP Address:127.0.0.1)");
      expect(report).toContain("FAIL  tlsKey does not match the leaf certificate of tlsCertificate");
      expect(report).toContain("ok    tlsCertificate verifies up to tls.caCertificate");
      // Before the Docker host's checks (unreachable here), and neither secret in any output.
      expect(report.indexOf("tlsCertificate does not name")).toBeLessThan(report.indexOf("cannot reach the Docker Engine"));
      const keyBody = otherKey.split("\n")[1];
      const leafBody = pki.serverChain.split("\n")[1];
      expect(run.stdout + run.stderr).not.toContain(keyBody);
      expect(run.stdout + run.stderr).not.toContain(leafBody);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
      fs.rmSync(configDir, { recursive: true, force: true });
    }
  });
});
