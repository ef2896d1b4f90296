/**
 * `npm run deploy` (scripts/deploy.sh) on a machine without `pulumi` on PATH: it runs npm's `pulumi` package
 * through npx, pinned, with PULUMI_VERSION set to the @pulumi/pulumi SDK's version (the package's launcher
 * downloads that CLI: pulumi npm package lib/resolve.js; the download itself cannot run here, so npx is a
 * stand-in that records how it was called and answers `stack output`), and ends with the verify report:
 * a verify failure fails the deploy after `up`, --skip-verify skips it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { NPM_PULUMI_PACKAGE, sdkVersion } from "../../scripts/lib/verify/pulumi-cli";
import { PROJECT_DIR } from "../support/plan";
import { freePort, tempDir } from "../support/real-tools";

const NOWHERE = "unix:///nonexistent/atra-verify-deploy-test.sock";

describe("npm run deploy on a bare machine ends with verify", () => {
  let bin: string;
  let home: string;
  let calls: string;
  let outputsFile: string;
  beforeAll(() => {
    bin = tempDir("atra-deploy-npx-");
    home = tempDir("atra-deploy-home-");
    calls = path.join(bin, "calls.log");
    outputsFile = path.join(bin, "outputs.json");
    // A stand-in npx: records its arguments and PULUMI_VERSION; `stack output --json` prints the outputs file.
    fs.writeFileSync(
      path.join(bin, "npx"),
      // `stack output ... caCertificate` prints OWN_CA when the file own-ca.pem exists; `stack output --json` (run
      // by verify) also records the CAs verify was started with (NODE_EXTRA_CA_CERTS), to see what it trusts.
      `#!/bin/sh\necho "PULUMI_VERSION=$PULUMI_VERSION $*" >> "${calls}"\n` +
        `case "$*" in *"stack output --json"*) cat "${outputsFile}"; [ -z "$NODE_EXTRA_CA_CERTS" ] || { echo "CA-FILE $NODE_EXTRA_CA_CERTS" > "${bin}/cas.log"; grep -E "^(own|central|federation)-ca$" "$NODE_EXTRA_CA_CERTS" >> "${bin}/cas.log" || true; } ;;\n` +
        `*caCertificate) [ ! -f "${bin}/own-ca.pem" ] || cat "${bin}/own-ca.pem" ;; esac\n`,
      { mode: 0o755 },
    );
  });
  afterAll(() => {
    fs.rmSync(bin, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  // PATH: the stand-in npx, then node's own directory only (no pulumi anywhere on it), then the system's tools.
  const deploy = (args: string[]) => {
    const nodeDir = path.dirname(process.execPath);
    expect(fs.existsSync(path.join(nodeDir, "pulumi"))).toBe(false);
    return spawnSync("bash", [path.join(PROJECT_DIR, "scripts/deploy.sh"), ...args], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${nodeDir}:/usr/bin:/bin`, HOME: home, PULUMI_HOME: "", DOCKER_HOST: NOWHERE, DOCKER_CONTEXT: "" },
      timeout: 120_000,
    });
  };
  const recorded = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter(Boolean) : []);
  const npx = `PULUMI_VERSION=${sdkVersion(PROJECT_DIR)} --yes pulumi@${NPM_PULUMI_PACKAGE}`;

  test("no pulumi on PATH: the pinned npm package fetches the SDK's CLI version; verify runs after up and passes", () => {
    fs.rmSync(calls, { force: true });
    fs.writeFileSync(outputsFile, JSON.stringify({ role: "central" }));
    const run = deploy(["dev", "--skip-preflight", "--verify-wait=0"]);
    expect([run.status, run.stderr]).toEqual([0, expect.any(String)]);
    expect(recorded()).toEqual([
      `${npx} stack select --create --non-interactive dev`,
      `${npx} up --yes --non-interactive --stack dev`,
      `${npx} stack output --stack dev`,
      // The stack's CA, which verify then trusts (NODE_EXTRA_CA_CERTS): none here, so nothing is added.
      `${npx} stack output --stack dev caCertificate`,
      `${npx} stack output --json --show-secrets --stack dev`,
    ]);
    expect(run.stdout).toContain("deploy: verifying stack dev");
    expect(run.stdout).toMatch(/ok {4}filebeat.output: Filebeat dials atra-obs-dev-elasticsearch:9200, where Elasticsearch listens/);
    expect(run.stdout).toMatch(/verify passed: 1 ok, 0 warn, 0 failed, \d+ not run/);
  });

  // M4: an agent stack's deploy without the central outputs must not end in "verify passed".
  test("an agent stack without --central-outputs: the deploy's verify is incomplete and fails; with it, deploy passes the file on", () => {
    fs.rmSync(calls, { force: true });
    fs.writeFileSync(outputsFile, JSON.stringify({ role: "agent", host: "app-2" }));
    let run = deploy(["dev", "--skip-preflight", "--verify-wait=0"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}agent.central: verify incomplete: this is an agent stack/);
    expect(run.stdout).not.toContain("verify passed");
    const central = path.join(bin, "central.json");
    fs.writeFileSync(central, JSON.stringify({ role: "central" }));
    run = deploy(["dev", "--skip-preflight", "--verify-wait=0", "--central-outputs", central]);
    // The central outputs name no Prometheus or Elasticsearch here: the agent checks say so (not run), none fails.
    expect(run.stdout).not.toContain("verify incomplete");
    expect(run.stdout).toMatch(/SKIP {2}agent.series: not checked: the central outputs have no prometheusUrl/);
    expect(run.status).toBe(0);
    // The central stack's CA (its https URLs) and this stack's own: verify trusts both (NODE_EXTRA_CA_CERTS), and the file goes after.
    const centralCa = "-----BEGIN CERTIFICATE-----\ncentral-ca\n-----END CERTIFICATE-----";
    // And the issuer of each agent's federation certificate (its own Prometheus's CA: the central stack's federation CA).
    const federationChain =
      "-----BEGIN CERTIFICATE-----\nagent-leaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nfederation-ca\n-----END CERTIFICATE-----\n";
    fs.writeFileSync(central, JSON.stringify({ role: "central", caCertificate: centralCa, agentFederation: { "app-2": { certificate: federationChain } } }));
    fs.writeFileSync(path.join(bin, "own-ca.pem"), "-----BEGIN CERTIFICATE-----\nown-ca\n-----END CERTIFICATE-----\n");
    fs.rmSync(calls, { force: true });
    run = deploy(["dev", "--skip-preflight", "--verify-wait=0", "--central-outputs", central]);
    fs.rmSync(path.join(bin, "own-ca.pem"));
    expect(run.status).toBe(0);
    const cas = fs.readFileSync(path.join(bin, "cas.log"), "utf8").split("\n").filter(Boolean);
    const caFile = cas[0].slice("CA-FILE ".length);
    // A CA file of the user's (NODE_EXTRA_CA_CERTS already set) is kept in the same file; ours come after it.
    expect(cas.slice(1)).toEqual(["own-ca", "central-ca", "federation-ca"]);
    expect(fs.existsSync(caFile)).toBe(false);
    const missing = deploy(["dev", "--skip-preflight", "--central-outputs", path.join(bin, "nope.json")]);
    expect([missing.status, missing.stderr]).toEqual([2, expect.stringContaining("--central-outputs")]);
  });

  test("a verify failure fails the deploy after up, saying the stack is deployed", async () => {
    fs.rmSync(calls, { force: true });
    const closed = await freePort();
    const probe = net.createConnection(closed, "127.0.0.1");
    await new Promise((resolve) => probe.once("error", resolve).once("connect", resolve));
    probe.destroy();
    fs.writeFileSync(outputsFile, JSON.stringify({ role: "central", prometheusUrl: `http://127.0.0.1:${closed}`, grafanaAdminPassword: "never-printed-1" }));
    const run = deploy(["dev", "--skip-preflight", "--verify-wait=0"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}prometheus.ready: Prometheus: no answer from http:\/\/127.0.0.1:\d+\/-\/ready: connection refused/);
    expect(run.stderr).toContain("deploy: stack dev is deployed, but verify found problems (above)");
    expect(run.stdout + run.stderr).not.toContain("never-printed-1");
    expect(recorded()).toContain(`${npx} up --yes --non-interactive --stack dev`);
  });

  test("--skip-verify: no verify", () => {
    fs.rmSync(calls, { force: true });
    const run = deploy(["dev", "--skip-preflight", "--skip-verify"]);
    expect(run.status).toBe(0);
    expect(recorded()).toEqual([
      `${npx} stack select --create --non-interactive dev`,
      `${npx} up --yes --non-interactive --stack dev`,
      `${npx} stack output --stack dev`,
    ]);
    expect(run.stdout).not.toContain("verifying");
  });
});
