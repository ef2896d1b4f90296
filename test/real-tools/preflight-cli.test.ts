/**
 * `npm run preflight` and `npm run deploy` as a user runs them: the exit status and messages on a bad
 * stack file and on an unreachable Docker host, deploy stopping before `pulumi up` when the preflight
 * fails (and going on with --skip-preflight), both refusing a set DOCKER_CONTEXT (the provider would follow
 * it instead of dockerHost) and deploy printing the Docker host, and an interrupted preflight removing what it made.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_IMAGES } from "../../components/stack-services";
import { PREFLIGHT_LABEL } from "../../scripts/lib/preflight/checks";
import { buildBusyboxImage, defaultBridgeGateway, describeWithDocker, labelled, removeById } from "../support/docker";
import { PROJECT_DIR } from "../support/plan";
import { freePort, tempDir, waitFor } from "../support/real-tools";

const RUN_TS = path.join(PROJECT_DIR, "scripts/run-ts.js");
const PREFLIGHT = path.join(PROJECT_DIR, "scripts/preflight.ts");
const NOWHERE = "unix:///nonexistent/atra-preflight-test.sock";

function writeStackFile(dir: string, stack: string, body: string): void {
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), body);
}

function preflightSync(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [RUN_TS, PREFLIGHT, ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("a bad stack file: exit 1 with every problem at its key, and nothing asked of the Docker host", () => {
  const dir = tempDir("atra-preflight-config-");
  try {
    writeStackFile(
      dir,
      "bad",
      "config:\n  atra-observability:network:\n    bridgeName: this-name-is-too-long\n  atra-observability:nodeExporter:\n    rootPropagation: rprivate\n",
    );
    const run = preflightSync(["--stack", "bad", "--config-dir", dir], { DOCKER_HOST: NOWHERE });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("atra-observability:network.bridgeName: is 21 characters; a Linux interface name has at most 15");
    expect(run.stderr).toContain("atra-observability:nodeExporter.rootPropagation: must be one of rslave, none");
    expect(run.stderr).toContain("nothing was checked on the Docker host");
    expect(run.stdout).toBe("");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("usage errors exit 2", () => {
  expect(preflightSync([]).status).toBe(2);
  expect(preflightSync(["--stack", "dev", "--bogus"]).stderr).toContain("unknown argument --bogus");
});

test("an unreachable Docker host: exit 1, the fix, and no other check", () => {
  const run = preflightSync(["--stack", "dev"], { DOCKER_HOST: NOWHERE });
  expect(run.status).toBe(1);
  expect(run.stdout).toContain(`FAIL  cannot reach the Docker Engine at ${NOWHERE}`);
  expect(run.stdout).toContain("pulumi config set dockerHost ssh://user@host (or export DOCKER_HOST)");
  expect(run.stdout).toMatch(/1 problem would stop `pulumi up`/);
});

test("a set DOCKER_CONTEXT: the preflight refuses it and asks no host", () => {
  const run = preflightSync(["--stack", "dev"], { DOCKER_HOST: NOWHERE, DOCKER_CONTEXT: "remote" });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(`DOCKER_CONTEXT=remote is set: the Docker provider would deploy to the context's host and ignore ${NOWHERE} (DOCKER_HOST`);
  expect(run.stderr).toContain("nothing was checked on the Docker host");
  expect(run.stdout).toBe("");
});

test("--print-host prints the host by the program's rule", () => {
  const run = preflightSync(["--stack", "dev", "--print-host"], { DOCKER_HOST: NOWHERE, DOCKER_CONTEXT: "" });
  expect(run.status).toBe(0);
  expect(run.stdout).toBe(`${NOWHERE} (DOCKER_HOST; the stack sets no dockerHost)\n`);
});

test("the dev stack's empty passphrase is refused when its Docker host is remote (issue 21), naming the variables", () => {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: "ssh://deploy@atra-nowhere.invalid", DOCKER_CONTEXT: "" };
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  const run = spawnSync(process.execPath, [RUN_TS, PREFLIGHT, "--stack", "dev", "--print-host"], { cwd: PROJECT_DIR, encoding: "utf8", env, timeout: 60_000 });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(
    'stack "dev" deploys to the remote Docker host ssh://deploy@atra-nowhere.invalid, but neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set',
  );
  expect(run.stdout).toBe("");
  // As deploy.sh exports it for dev: still refused. With a passphrase: the host is printed.
  expect(preflightSync(["--stack", "dev", "--print-host"], { ...env, PULUMI_CONFIG_PASSPHRASE: "" }).stderr).toContain("but PULUMI_CONFIG_PASSPHRASE is empty");
  const ok = preflightSync(["--stack", "dev", "--print-host"], { ...env, PULUMI_CONFIG_PASSPHRASE: "correct horse" });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain("ssh://deploy@atra-nowhere.invalid (DOCKER_HOST");
});

describe("npm run deploy runs the preflight first", () => {
  let bin: string;
  let calls: string;
  beforeAll(() => {
    bin = tempDir("atra-deploy-bin-");
    calls = path.join(bin, "calls.log");
    // A stand-in Pulumi CLI that records how it was called, and the Docker variables it was given.
    fs.writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh\necho "$*" >> "${calls}"\necho "DOCKER_HOST=\${DOCKER_HOST-unset} DOCKER_CONTEXT=\${DOCKER_CONTEXT-unset}" >> "${calls}.env"\n`,
      { mode: 0o755 },
    );
  });
  afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

  const deploy = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync("bash", [path.join(PROJECT_DIR, "scripts/deploy.sh"), ...args], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DOCKER_HOST: NOWHERE, DOCKER_CONTEXT: "", ...env },
      timeout: 60_000,
    });
  const recorded = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "");
  const recordedEnv = () => (fs.existsSync(`${calls}.env`) ? fs.readFileSync(`${calls}.env`, "utf8") : "");

  test("a failing preflight stops it before pulumi is called", () => {
    fs.rmSync(calls, { force: true });
    const run = deploy(["dev"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("cannot reach the Docker Engine");
    expect(run.stderr).toContain("nothing was deployed. Fix them, or deploy anyway with --skip-preflight");
    expect(recorded()).toBe("");
  });

  test("--skip-preflight deploys without asking the host, and says which host it deploys to", () => {
    fs.rmSync(calls, { force: true });
    fs.rmSync(`${calls}.env`, { force: true });
    // --skip-verify: verify after `up` is covered by test/real-tools/verify-deploy.test.ts.
    const run = deploy(["dev", "--skip-preflight", "--skip-verify"]);
    expect(run.status).toBe(0);
    // (NOWHERE's path has "preflight" in it: look for the report and its first check instead.)
    expect(run.stdout).not.toMatch(/preflight of stack|cannot reach the Docker Engine/);
    expect(run.stdout).toContain(`deploy: stack dev goes to Docker host ${NOWHERE} (DOCKER_HOST; the stack sets no dockerHost)`);
    expect(recorded().split("\n").filter(Boolean)).toEqual([
      "stack select --create --non-interactive dev",
      "up --yes --non-interactive --stack dev",
      "stack output --stack dev",
    ]);
    expect(new Set(recordedEnv().split("\n").filter(Boolean))).toEqual(new Set([`DOCKER_HOST=${NOWHERE} DOCKER_CONTEXT=`]));
  });

  test("a set DOCKER_CONTEXT is refused before the preflight and before pulumi (the provider would deploy to the context's host)", () => {
    // kreuzwerker/terraform-provider-docker internal/provider/provider.go configure(): a context overrides `host`.
    fs.rmSync(calls, { force: true });
    for (const args of [["dev"], ["dev", "--skip-preflight"]]) {
      const run = deploy(args, { DOCKER_CONTEXT: "remote" });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("DOCKER_CONTEXT=remote is set: the Docker provider would deploy to the context's host and ignore");
      expect(run.stderr).toContain("Unset it (unset DOCKER_CONTEXT)");
      expect(run.stderr).toContain("deploy: nothing was deployed");
      expect(run.stdout).not.toContain("cannot reach the Docker Engine");
    }
    expect(recorded()).toBe("");
  });

  test("dev on a remote Docker host with the empty default passphrase: refused before pulumi is called", () => {
    fs.rmSync(calls, { force: true });
    const env = { DOCKER_HOST: "ssh://deploy@atra-nowhere.invalid" };
    const saved = { a: process.env.PULUMI_CONFIG_PASSPHRASE, b: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    try {
      const run = deploy(["dev", "--skip-preflight"], env);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("but PULUMI_CONFIG_PASSPHRASE is empty");
      expect(run.stderr).toContain("deploy: nothing was deployed");
    } finally {
      if (saved.a !== undefined) process.env.PULUMI_CONFIG_PASSPHRASE = saved.a;
      if (saved.b !== undefined) process.env.PULUMI_CONFIG_PASSPHRASE_FILE = saved.b;
    }
    expect(recorded()).toBe("");
  });

  test("unknown options are refused", () => {
    expect(deploy(["--yes"]).status).toBe(2);
  });
});

describeWithDocker("an interrupted preflight", () => {
  let image: { ref: string; id: string };
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    // `nc` hangs: the run is caught in its reachability probe, with its probe network and containers up.
    image = buildBusyboxImage({ nc: "#!/bin/sh\nexec sleep 60\n" });
    dir = tempDir("atra-preflight-signal-");
  });
  afterAll(() => {
    if (child?.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
    removeById("image", [image?.id]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("SIGTERM removes every container and network it made, and exits 143", async () => {
    const gateway = defaultBridgeGateway(image.ref);
    const images = Object.keys(DEFAULT_IMAGES)
      .map((key) => `    ${key}: ${image.ref}\n`)
      .join("");
    const ports = `    prometheus: ${await freePort()}\n    grafana: ${await freePort()}\n`;
    writeStackFile(
      dir,
      "sigterm",
      `config:\n  atra-observability:logs:\n    enabled: false\n  atra-observability:images:\n${images}  atra-observability:ports:\n${ports}` +
        `  atra-observability:nodeExporter:\n    listenAddress: ${gateway}:${await freePort()}\n    rootPropagation: none\n`,
    );
    const started = spawn(process.execPath, [RUN_TS, PREFLIGHT, "--stack", "sigterm", "--config-dir", dir], {
      cwd: PROJECT_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    let stderr = "";
    started.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => started.on("exit", (code) => resolve(code)));
    const runId = await waitFor("the run id", 30_000, async () => new RegExp(`${PREFLIGHT_LABEL}=([0-9a-f]+)`).exec(stderr)?.[1]);
    const label = `${PREFLIGHT_LABEL}=${runId}`;
    // Its probe network and the hanging reachability probe exist.
    await waitFor("the probe network and containers", 30_000, async () => {
      const made = labelled(label);
      return made.networks.length > 0 && made.containers.length > 0 ? made : undefined;
    });
    started.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toContain("SIGTERM: removing what it created on the Docker host");
    expect(labelled(label)).toEqual({ containers: [], networks: [] });
    // Nothing appears late either (a `docker create` killed in flight is finished by the Engine).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(labelled(label)).toEqual({ containers: [], networks: [] });
  });
});
