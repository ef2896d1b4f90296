/**
 * No secret on a process command line. A program's arguments are readable by every process of the
 * host (/proc/<pid>/cmdline), and Docker keeps a container's command, entrypoint and healthcheck in
 * its config (the provider in state) in plain text. So:
 *
 * - over the whole plan of every shipped stack file and generated stack: no container's `command`,
 *   `entrypoints` or healthcheck `tests` holds a secret value or a secret Output, and in their shell
 *   scripts a secret (a secret-named environment variable, or a secret file the container gets
 *   uploaded) is only ever handed to the `printf` builtin at the head of a pipeline, never to a program;
 * - the environment variables an image's launcher turns into arguments of its server (ARGV_FORMING_ENV:
 *   Kibana's every setting, Grafana's GF_PATHS_*) hold no secret value and no secret Output, and Kibana
 *   gets its secrets in its uploaded secrets file (components/logs/kibana-secrets.ts) instead;
 * - the shell scripts and healthchecks themselves, run under strace in Debian's dash and busybox sh with
 *   the programs they call (real curl and a stub elasticsearch-users, busybox nc): no exec'd program's
 *   argv holds the secret, and the secret still gets where it must (the server sees the login, useradd
 *   reads the password twice on stdin).
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { ELASTICSEARCH_ENTRYPOINT_SCRIPT, ELASTIC_ADMIN_USER } from "../../components/logs/logs-stack";
import {
  basicAuthorization,
  ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH,
  elasticsearchHealthcheck,
  elasticsearchHealthcheckConfig,
} from "../../components/logs/logs-tls";
import { KIBANA_COMMAND, KIBANA_SECRETS_CONFIG_PATH } from "../../components/logs/kibana-secrets";
import type { PlanResult } from "../../scripts/lib/plan";
import { everyOptionStackConfig, EVERY_OPTION_VALUES } from "../support/every-option-stack";
import { EVERY_EXTERNAL_OPTION_STACKS, externalStackConfig, secretValues } from "../support/external-stacks";
import { planIsolated } from "../support/plan";

const CONTAINER = "docker:index/container:Container";
/**
 * The environment variables an image's launcher turns into arguments of its server process, by container:
 * - Kibana: every variable named after a setting (elastic/kibana src/dev/build/tasks/os_packages/
 *   docker_generator/resources/base/bin/kibana-docker: `--${kibana_var}=${value}` for each of `kibana_vars`).
 *   The list changes per version, so every variable of the container counts.
 * - Grafana: GF_PATHS_* (grafana/grafana packaging/docker/run.sh: `cfg:default.paths.data="$GF_PATHS_DATA"`
 *   and the other paths are arguments of `grafana server`); every other GF_* variable the server reads from
 *   its environment (pkg/setting/setting.go, applyEnvVariableOverrides), which no other account reads.
 */
const ARGV_FORMING_ENV: Record<string, RegExp> = { kibana: /^/, grafana: /^GF_PATHS_/ };
/** Environment variables of the stack's containers that hold a secret. */
const SECRET_VARIABLE = /PASSWORD|AUTHORIZATION|TOKEN|SECRET|API_?KEY|ENCRYPTIONKEY/i;

interface Stack {
  name: string;
  plan: () => Promise<PlanResult>;
  secrets: string[];
}

const STACKS: Stack[] = [
  ...["dev", "prod", "agent-example"].map((name) => ({ name, plan: () => planIsolated(name), secrets: [] })),
  {
    name: "every-option",
    plan: () => planIsolated("every-option", { config: everyOptionStackConfig() }),
    secrets: ["grafanaAdminPassword", "prometheusQueryPassword", "elasticPassword"].map((key) => String(EVERY_OPTION_VALUES[key])),
  },
  ...Object.entries(EVERY_EXTERNAL_OPTION_STACKS).map(([name, stack]) => ({
    name,
    plan: () => planIsolated(name, { config: externalStackConfig(stack) }),
    secrets: secretValues(stack),
  })),
];

/** The simple commands of a shell script, with the pipeline position of each: splits on newlines, `;`, `&&`, `||`, `|` outside quotes. */
export function simpleCommands(script: string): { text: string; headOfPipeline: boolean }[] {
  const commands: { text: string; headOfPipeline: boolean }[] = [];
  let current = "";
  let head = true;
  // Open quotes and command substitutions, innermost last.
  const open: string[] = [];
  const flush = (nextIsHead: boolean) => {
    if (current.trim() !== "") commands.push({ text: current.trim(), headOfPipeline: head });
    current = "";
    head = nextIsHead;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    const top = open[open.length - 1];
    if (top === "'") {
      if (c === "'") open.pop();
    } else if (top === '"') {
      if (c === '"') open.pop();
      else if (c === "\\") {
        current += c + (script[++i] ?? "");
        continue;
      } else if (c === "$" && script[i + 1] === "(") open.push("(");
    } else if (c === "'" || c === '"') {
      open.push(c);
    } else if (c === "$" && script[i + 1] === "(") {
      open.push("(");
    } else if (c === ")" && top === "(") {
      open.pop();
    } else if (top === undefined) {
      if (c === "\n" || c === ";") {
        flush(true);
        continue;
      }
      if ((c === "&" || c === "|") && script[i + 1] === c) {
        flush(true);
        i++;
        continue;
      }
      if (c === "|") {
        flush(false);
        continue;
      }
    }
    current += c;
  }
  flush(true);
  return commands;
}

/** Where a script hands a secret to something other than the printf builtin at the head of a pipeline. */
function secretOnCommandLine(script: string, secretFiles: string[]): string[] {
  return simpleCommands(script).flatMap(({ text, headOfPipeline }) => {
    // An assignment from a command substitution (`name=$(...)`): the commands inside are checked as a script.
    const substitution = /^[A-Za-z_][A-Za-z0-9_]*=\$\((.*)\)$/s.exec(text);
    if (substitution) return secretOnCommandLine(substitution[1], secretFiles);
    const variables = [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]).filter((name) => SECRET_VARIABLE.test(name));
    const files = secretFiles.filter((file) => text.includes(file));
    if (variables.length === 0 && files.length === 0) return [];
    const givenToPrintf = headOfPipeline && /^printf\s/.test(text);
    return givenToPrintf ? [] : [`${[...variables.map((v) => `$${v}`), ...files].join(", ")} in: ${text}`];
  });
}

/** The shell scripts of a container: a CMD-SHELL healthcheck, an entrypoint or command run through `sh -c`. */
function shellScripts(inputs: Record<string, unknown>): string[] {
  const scripts: string[] = [];
  const tests = (inputs.healthcheck as { tests?: string[] } | undefined)?.tests ?? [];
  if (tests[0] === "CMD-SHELL") scripts.push(tests.slice(1).join(" "));
  for (const argv of [inputs.entrypoints, inputs.command] as (string[] | undefined)[]) {
    if (argv && /(^|\/)(ba|da)?sh$/.test(argv[0] ?? "") && argv[1] === "-c") scripts.push(argv[2]);
  }
  return scripts;
}

describe("the shell-script reader", () => {
  test("splits pipelines and lists, not quoted text or command substitutions", () => {
    expect(simpleCommands(`set -e\nprintf '%s|x' "$(cat /a | tr a b)" | curl -K - || true; a && b`)).toEqual([
      { text: "set -e", headOfPipeline: true },
      { text: `printf '%s|x' "$(cat /a | tr a b)"`, headOfPipeline: true },
      { text: "curl -K -", headOfPipeline: false },
      { text: "true", headOfPipeline: true },
      { text: "a", headOfPipeline: true },
      { text: "b", headOfPipeline: true },
    ]);
  });

  test("finds the old forms: a password as useradd's -p, curl's -u, wget's header from the credentials file", () => {
    const file = "/etc/prometheus/secrets/login-healthcheck-basic";
    expect(secretOnCommandLine(`elasticsearch-users useradd "$ATRA_ADMIN_USER" -p "$ATRA_ADMIN_PASSWORD" -r superuser`, [])).toHaveLength(1);
    expect(secretOnCommandLine(`curl -fsS -u "$ATRA_ADMIN_USER:$ATRA_ADMIN_PASSWORD" http://127.0.0.1:9200/`, [])).toHaveLength(1);
    expect(secretOnCommandLine(`wget -q -O /dev/null --header "Authorization: Basic $(cat ${file})" http://127.0.0.1:9090/-/ready`, [file])).toHaveLength(1);
    expect(secretOnCommandLine(`printf '%s' "$ATRA_ADMIN_PASSWORD" | elasticsearch-users useradd "$ATRA_ADMIN_USER"`, [])).toEqual([]);
  });
});

describe.each(STACKS)("$name: no secret on a container's command line", ({ plan, secrets }) => {
  let containers: { name: string; inputs: Record<string, unknown>; secretPaths: string[] }[];
  beforeAll(async () => {
    containers = (await plan()).run.resources.filter((resource) => resource.type === CONTAINER);
  });

  test("command, entrypoints and healthcheck carry no secret Output and no secret value", () => {
    expect(containers.length).toBeGreaterThan(0);
    // The mock engine's generated secrets: passwords, the Grafana token, API keys (scripts/lib/mock-engine.ts mockState).
    const generated = ["mock-generated-password-", "mock-grafana-token-", "mock-key-id-"];
    for (const container of containers) {
      expect(container.secretPaths.filter((p) => /^(command|entrypoints|healthcheck)/.test(p))).toEqual([]);
      const text = JSON.stringify([container.inputs.command, container.inputs.entrypoints, container.inputs.healthcheck]);
      for (const secret of [...secrets, ...generated]) expect(text).not.toContain(secret);
    }
  });

  test("no environment variable a launcher turns into arguments holds a secret; Kibana reads its secrets from its uploaded file", () => {
    const generated = ["mock-generated-password-", "mock-grafana-token-", "mock-key-id-"];
    let checked = 0;
    for (const container of containers) {
      const argvForming = ARGV_FORMING_ENV[container.name];
      if (!argvForming) continue;
      // A secret Output anywhere in the list makes the whole list secret, masked here as one value (the mock
      // engine records "envs"): Kibana's must not be; Grafana's is (its admin password, read by the server from
      // its environment), and the stack sets no GF_PATHS_* (components/grafana/grafana-server.ts).
      if (container.name === "kibana") expect(container.secretPaths.filter((p) => p.startsWith("envs"))).toEqual([]);
      const listed = Array.isArray(container.inputs.envs) ? (container.inputs.envs as string[]) : [];
      const envs = listed.filter((env) => argvForming.test(env));
      for (const env of envs) {
        expect(env).not.toMatch(/^[^=]*(PASSWORD|ENCRYPTIONKEY|TOKEN|SECRET)[^=]*=/);
        for (const secret of [...secrets, ...generated]) expect(env).not.toContain(secret);
      }
      if (container.name === "kibana") {
        expect(container.inputs.command).toEqual(KIBANA_COMMAND);
        const uploads = (container.inputs.uploads as { file: string; permissions: string }[]).map((u, index) => ({ ...u, index }));
        const file = uploads.find((upload) => upload.file === KIBANA_SECRETS_CONFIG_PATH);
        expect(file?.permissions).toBe("0440");
        expect(container.secretPaths).toContain(`uploads[${file?.index}].content`);
      }
      checked++;
    }
    if (containers.some((c) => c.name === "kibana" || c.name === "grafana")) expect(checked).toBeGreaterThan(0);
  });

  test("their shell scripts hand a secret only to the printf builtin, never to a program's arguments", () => {
    let secretsHandled = 0;
    for (const container of containers) {
      const uploads = (container.inputs.uploads as { file: string }[] | undefined) ?? [];
      // An upload whose content is secret (the mock engine records its path as secret): a secret file.
      const secretUpload = (index: number) => container.secretPaths.some((p) => p === "uploads" || p.startsWith(`uploads[${index}]`));
      const secretFiles = uploads.filter((_, index) => secretUpload(index)).map((upload) => upload.file);
      for (const script of shellScripts(container.inputs)) {
        expect(secretOnCommandLine(script, secretFiles)).toEqual([]);
        const names = [...script.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]);
        if (names.some((name) => SECRET_VARIABLE.test(name)) || secretFiles.some((file) => script.includes(file))) secretsHandled++;
      }
    }
    // Not vacuous: where a stack runs Elasticsearch, some script does handle a secret. (Prometheus's
    // healthcheck with a login is promtool in exec form, its secret in the file its client config names.)
    const handlesSecrets = containers.some((c) => c.name === "elasticsearch");
    if (handlesSecrets) expect(secretsHandled).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The scripts, run

const SHELLS: [string, string[]][] = [
  ["dash", ["/usr/bin/dash", "-c"]],
  ["busybox sh", ["/bin/busybox", "sh", "-c"]],
];
const SECRET = "s3cret-Pass'w\"ord\\with$meta";

/**
 * Runs `script` under strace (every execve, whole argv) and returns every exec'd argv, the exit status
 * and stderr. Asynchronous: the test's HTTP server answers from this process's event loop meanwhile.
 */
function traced(shell: string[], script: string, env: Record<string, string>, dir: string): Promise<{ status: number; execs: string; stderr: string }> {
  const trace = path.join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const child = spawn("strace", ["-f", "-qq", "-e", "trace=execve", "-s", "65535", "-o", trace, ...shell, script], {
      env: { PATH: `${dir}/bin:/usr/bin:/bin`, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, execs: fs.readFileSync(trace, "utf8"), stderr });
    });
  });
}

const stracePtraceWorks = spawnSync("strace", ["-qq", "-e", "trace=execve", "-o", "/dev/null", "/bin/true"]).status === 0;
const describeTraced = stracePtraceWorks ? describe : describe.skip;

describeTraced("the scripts under strace: the secret reaches its reader, never an argv", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-argv-"));
    fs.mkdirSync(path.join(dir, "bin"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A server on 127.0.0.1 answering 200 to the expected Authorization header, 401 otherwise. */
  async function withServer<T>(authorization: string, body: (port: number, seen: string[]) => Promise<T>): Promise<T> {
    const seen: string[] = [];
    const server = http.createServer((request, response) => {
      seen.push(String(request.headers.authorization));
      response.writeHead(request.headers.authorization === authorization ? 200 : 401);
      response.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      return await body((server.address() as { port: number }).port, seen);
    } finally {
      server.close();
    }
  }

  test.each(SHELLS)("Elasticsearch's entrypoint (%s): useradd reads the password twice on stdin; no argv holds it", async (_name, shell) => {
    const home = path.join(dir, "es");
    const log = path.join(dir, "users.log");
    fs.mkdirSync(path.join(home, "bin"), { recursive: true });
    // elasticsearch-users: records its arguments and its standard input.
    fs.writeFileSync(path.join(home, "bin/elasticsearch-users"), `#!/bin/sh\necho "args: $*" >> ${log}\ncat | sed 's/^/stdin: /' >> ${log}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "bin/docker-entrypoint.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    fs.rmSync(log, { force: true });
    const script = ELASTICSEARCH_ENTRYPOINT_SCRIPT.replaceAll("/usr/share/elasticsearch", home).replaceAll(
      "/usr/local/bin/docker-entrypoint.sh",
      path.join(dir, "bin/docker-entrypoint.sh"),
    );
    const run = await traced(shell, script, { ATRA_ADMIN_USER: ELASTIC_ADMIN_USER, ATRA_ADMIN_PASSWORD: SECRET }, dir);
    expect(run.status).toBe(0);
    expect(run.execs).toMatch(/elasticsearch-users", \["[^"]*elasticsearch-users", "useradd", "atra-admin", "-r", "superuser"\]/);
    expect(run.execs).not.toContain("s3cret");
    expect(fs.readFileSync(log, "utf8")).toBe(`args: userdel atra-admin\nargs: useradd atra-admin -r superuser\nstdin: ${SECRET}\nstdin: ${SECRET}\n`);
  });

  test("Elasticsearch's healthcheck (exec'd as Docker runs CMD): real curl sends the login from its config file; no argv holds it", async () => {
    const authorization = basicAuthorization(ELASTIC_ADMIN_USER, SECRET);
    const config = path.join(dir, "healthcheck.curlrc");
    await withServer(authorization, async (port, seen) => {
      const [kind, ...argv] = elasticsearchHealthcheck();
      expect(kind).toBe("CMD");
      const moved = argv.map((arg) =>
        arg.replace("http://127.0.0.1:9200/", `http://127.0.0.1:${port}/`).replace(ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH, config),
      );
      // Exec'd directly, as Docker execs Test[1:] of a CMD healthcheck (moby/moby daemon/health.go): traced(argv, lastArg).
      const run = () => traced(moved.slice(0, -1), moved[moved.length - 1], {}, dir);
      fs.writeFileSync(config, elasticsearchHealthcheckConfig(ELASTIC_ADMIN_USER, SECRET), { mode: 0o440 });
      const ok = await run();
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
      expect(seen).toEqual([authorization]);
      expect(ok.execs).toMatch(new RegExp(`"curl", "-K", "${config}"`));
      expect(ok.execs).not.toContain(authorization.slice("Basic ".length));
      expect(ok.execs).not.toContain("s3cret");
      // The negative control: a wrong login fails the check.
      fs.writeFileSync(config, elasticsearchHealthcheckConfig(ELASTIC_ADMIN_USER, "wrong"), { mode: 0o440 });
      expect((await run()).status).not.toBe(0);
    });
  });

  test("the control: the old wget healthcheck put the credentials on wget's command line", async () => {
    fs.writeFileSync(path.join(dir, "creds"), "c2VjcmV0LWNyZWRz");
    fs.rmSync(path.join(dir, "bin/wget"), { force: true });
    fs.writeFileSync(path.join(dir, "bin/wget"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const run = await traced(SHELLS[0][1], `wget -q -O /dev/null --header "Authorization: Basic $(cat ${dir}/creds)" http://127.0.0.1:1/-/ready`, {}, dir);
    expect(run.execs).toContain("Authorization: Basic c2VjcmV0LWNyZWRz");
  });
});

test("strace can trace here (else the run tests above are skipped)", () => {
  expect(execFileSync("strace", ["-V"], { encoding: "utf8" })).toMatch(/strace/);
  if (process.env.CI === "true") expect(stracePtraceWorks).toBe(true);
});
