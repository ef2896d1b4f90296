/**
 * Hostile stack files (issue 17, items 5-8): each is refused at its key, every problem at once, with
 * no stack trace and nothing written. Most cases run at the config-validation level; a few run the
 * real plan script (`npm run plan`) in a copy of the project, which costs a second or two each.
 *
 * Upstream behaviour modelled here, and where it is defined:
 * - secrets: pulumi/pulumi sdk/go/common/resource/config/object.go (object.Secure: a map is secure when
 *   any value in it is), map.go SecureKeys; sdk/nodejs/runtime/config.ts isConfigSecret (whole keys only).
 * - durations: prometheus/common model/time.go ParseDuration ("duration out of range" above 2^63-1 ns);
 *   prometheus/alertmanager config/config.go Route (*model.Duration timings, which Grafana's Alertmanager
 *   uses); elastic/elasticsearch libs/core/.../TimeValue.java (timeValueDays: at most 106751 days).
 * - YAML: go-yaml/yaml v3.0.1 (the version in pulumi/pulumi sdk/go.mod) decode.go allowedAliasRatio,
 *   mapping/merge (merge keys), readerc.go (UTF-8 only); pulumi/pulumi sdk/go/common/workspace/loaders.go
 *   (readFileStripUTF8BOM).
 * - config size: pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go (all config in one
 *   environment variable, PULUMI_CONFIG); Linux MAX_ARG_STRLEN (131072 bytes).
 * - stack names: pulumi/pulumi sdk/go/common/tokens/stack_name.go ParseStackName.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { configSizeIssues, MAX_PULUMI_CONFIG_BYTES, plainPaths, rawConfigFromStore, stackFilePlainPaths } from "../../components/config/pulumi-config";
import { ConfigError, pulumiConfigPath, resolveStackConfig } from "../../components/config/resolve";
import { stackNameProblem } from "../../components/config/stack-name";
import { expansionProblem, firstInvalidUtf8, parseStackYaml, StackYamlError } from "../../components/config/stack-yaml";
import { esDurationProblem } from "../../components/logs/config";
import { globProblem } from "../../components/logs/filebeat-config";
import { globsOverlap, globsOverlapBySearch, literalPrefix, minimumSegmentBytes } from "../../components/lib/glob-overlap";
import { durationProblem, httpUrlProblems } from "../../components/lib/validators";
import { readStackFile, StackFileError } from "../../scripts/lib/stack-file";
import { copyProject, ProjectCopy, runPlanCli } from "../support/project-copy";
import { findTool, runTool, tempDir } from "../support/real-tools";

type Issue = { key: string; message: string };

function issuesOf(values: Record<string, unknown>, extra: { stack?: string; secretKeys?: string[]; plainPaths?: (string | number)[][] } = {}): Issue[] {
  try {
    resolveStackConfig({ stack: extra.stack ?? "dev", values, secretKeys: extra.secretKeys ?? [], plainPaths: extra.plainPaths });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const keysOf = (issues: Issue[]) => issues.map((issue) => issue.key);
const API = { name: "api", health: "http://api:8000/health" };

describe("a plain-text secret beside an encrypted one (item 5)", () => {
  const values = {
    services: [API],
    alerting: {
      contactPoints: [
        { name: "hook", type: "webhook" },
        { name: "hook2", type: "webhook" },
      ],
    },
    alertingSecrets: { hook: "offline-plan-secret-placeholder", hook2: "https://plain.example.com/hook" },
  };

  test("is refused at its own path, with the --path command that encrypts that value", () => {
    // Pulumi marks the whole key secret (one `secure:` value inside is enough); the stack file says which value is plain.
    const issues = issuesOf(values, { secretKeys: ["alertingSecrets"], plainPaths: [["alertingSecrets", "hook2"]] });
    expect(issues).toEqual([
      {
        key: "atra-observability:alertingSecrets.hook2",
        message:
          "must be stored encrypted: pulumi config set --secret --path 'alertingSecrets.hook2' <value> (a plain-text value would sit in the stack file, in git)",
      },
    ]);
  });

  test("the plain values come from the stack file, secure ones and other namespaces left out", () => {
    const dir = tempDir("atra-plain-");
    try {
      const file = path.join(dir, "Pulumi.dev.yaml");
      fs.writeFileSync(
        file,
        "config:\n  atra-observability:remoteWriteSecrets:\n    mimir:\n      secure: v1:abc\n    cloud: hunter2-plain\n  alertingSecrets:\n    pager: https://x.example/y\n  docker:host: ssh://a\n",
      );
      expect(stackFilePlainPaths(file)).toEqual([
        ["remoteWriteSecrets", "cloud"],
        ["alertingSecrets", "pager"],
      ]);
      expect(stackFilePlainPaths(path.join(dir, "Pulumi.none.yaml"))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(plainPaths({ a: { secure: "x" }, b: ["y", { secure: "z" }], c: null }, ["k"])).toEqual([["k", "b", 0]]);
  });

  test("a secret map stored with no encrypted value names each value and --path, not `--secret <key>`", () => {
    const issues = issuesOf({ ...values, alertingSecrets: { hook: "https://a.example/x", hook2: "https://b.example/y" } });
    expect(issues.map((issue) => [issue.key, issue.message.split(" <value>")[0]])).toEqual([
      ["atra-observability:alertingSecrets.hook", "must be stored encrypted: pulumi config set --secret --path 'alertingSecrets.hook'"],
      ["atra-observability:alertingSecrets.hook2", "must be stored encrypted: pulumi config set --secret --path 'alertingSecrets.hook2'"],
    ]);
    expect(pulumiConfigPath(["remoteWriteSecrets", "a.b"])).toBe('remoteWriteSecrets["a.b"]');
  });
});

describe("durations their consumers cannot hold (item 6)", () => {
  test("Prometheus-syntax durations stop at 2^63-1 ns, as prometheus/common model.ParseDuration does", () => {
    for (const ok of ["292y", "2562047h", "9223372036854ms", "15s"]) expect(durationProblem(ok)).toBeUndefined();
    for (const bad of ["293y", "2562048h", "9223372036855ms", "999999999999y", "292y52w"])
      expect(durationProblem(bad)).toMatch(/is out of range: at most 292y/);
    expect(durationProblem("0d")).toBe("must be longer than zero");
  });

  const promtool = findTool("promtool");
  (promtool ? test : test.skip)("promtool (the real parser) draws the line at the same place: 292y passes, 293y is out of range", () => {
    const dir = tempDir("atra-duration-");
    try {
      const check = (value: string) => {
        fs.writeFileSync(path.join(dir, "prometheus.yml"), `global:\n  scrape_interval: ${value}\n  evaluation_interval: 1m\n`);
        return runTool(promtool as string, ["check", "config", path.join(dir, "prometheus.yml")]);
      };
      expect(check("292y").status).toBe(0);
      const refused = check("293y");
      expect(refused.status).not.toBe(0);
      expect(refused.output).toContain("duration out of range");
      expect(durationProblem("292y")).toBeUndefined();
      expect(durationProblem("293y")).toBeDefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Elasticsearch durations stop at 106751d (Long.MAX_VALUE ns, TimeValue); 0d is too short, not 'not a duration'", () => {
    expect(esDurationProblem("106751d")).toBeUndefined();
    expect(esDurationProblem("106752d")).toMatch(/out of range: at most 106751d/);
    expect(esDurationProblem("9223372036854775807nanos")).toBeUndefined();
    expect(esDurationProblem("9223372036854775808nanos")).toMatch(/out of range/);
    expect(esDurationProblem("0d")).toBe("must be longer than zero");
    expect(esDurationProblem("7x")).toMatch(/must be an Elasticsearch duration/);
  });

  test("each is refused at its key, all at once", () => {
    const issues = issuesOf({
      services: [API],
      prometheus: { retentionTime: "1000y", scrapeInterval: "293y" },
      alerting: { repeatInterval: "999999999999y" },
      logs: { retention: "0d", rolloverMaxAge: "200000d" },
    });
    expect(keysOf(issues)).toEqual([
      "atra-observability:alerting.repeatInterval",
      "atra-observability:logs.retention",
      "atra-observability:logs.rolloverMaxAge",
      "atra-observability:prometheus.retentionTime",
      "atra-observability:prometheus.scrapeInterval",
    ]);
  });
});

describe("YAML read the way the Pulumi CLI reads it (item 7)", () => {
  const parse = (text: string | Buffer) => parseStackYaml(Buffer.isBuffer(text) ? text : Buffer.from(text), "Pulumi.x.yaml");

  const laughs = (levels: number, fanout: number) => {
    let text = `config:\n  pulumi:tags:\n    a0: &a0 [${Array(fanout).fill("lol").join(", ")}]\n`;
    for (let level = 1; level <= levels; level++)
      text += `    a${level}: &a${level} [${Array(fanout)
        .fill(`*a${level - 1}`)
        .join(", ")}]\n`;
    return text;
  };

  test("a billion laughs is refused at once, as yaml.v3 refuses it ('document contains excessive aliasing')", () => {
    const started = Date.now();
    expect(() => parse(laughs(9, 9))).toThrow(/Pulumi\.x\.yaml: document contains excessive aliasing/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("aliases that expand little are accepted, as in yaml.v3 (more than 100 aliased among more than 1000 decoded, above 99%)", () => {
    expect(() => parse(laughs(2, 10))).not.toThrow();
    expect(() => parse(laughs(4, 10))).toThrow(StackYamlError);
    // The ratio, not the count: 200 aliases of a small mapping among many written values pass.
    const written = Array.from({ length: 3000 }, (_, i) => `    v${i}: x`).join("\n");
    const aliases = Array.from({ length: 200 }, (_, i) => `    r${i}: *base`).join("\n");
    expect(() => parse(`config:\n  pulumi:tags:\n    base: &base {a: 1}\n${written}\n${aliases}\n`)).not.toThrow();
    expect(expansionProblem({ a: 1 })).toBeUndefined();
  });

  test("merge keys work as in yaml.v3: keys written in the mapping win, then the first merged mapping", () => {
    const document = parse("base: &base {x: 1, y: 1}\nother: &other {y: 2, z: 2}\nconfig:\n  k:\n    <<: [*base, *other]\n    x: 0\n") as { config: unknown };
    expect(document.config).toEqual({ k: { x: 0, y: 1, z: 2 } });
    expect(() => parse("config:\n  k:\n    <<: 5\n")).toThrow(/cannot merge mappings/);
  });

  test("invalid UTF-8 is refused with its line, not replaced by U+FFFD; a UTF-8 BOM is skipped as the CLI does", () => {
    const bad = Buffer.concat([Buffer.from("config:\n  k: ok\n  j: caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
    expect(() => parse(bad)).toThrow(/Pulumi\.x\.yaml:3: not valid UTF-8 \(byte offset 24, line 3\)/);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a surrogate
    expect(firstInvalidUtf8(Buffer.from("zoé 😀"))).toBeUndefined();
    expect(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("config:\n  k: v\n")]))).toEqual({ config: { k: "v" } });
    expect(() => parse("config:\n  k: a\u0001b\n")).toThrow(/non-printable/);
  });

  test("a value too large for the Pulumi CLI to hand over is refused with its key, the others still checked", () => {
    const big = "a".repeat(5_000_000);
    const raw = rawConfigFromStore("dev", { "pulumi:tags": JSON.stringify({ x: big }), "atra-observability:bindAddress": "nope" }, []);
    const issues = (() => {
      try {
        resolveStackConfig(raw);
      } catch (error) {
        return (error as ConfigError).issues;
      }
      return [];
    })();
    expect(keysOf(issues)).toEqual(["atra-observability:bindAddress", "pulumi:tags"]);
    expect(issues[1].message).toMatch(/^is 5000\d{3} bytes, and the stack's config \d+ bytes in all: more than the Pulumi CLI can hand to the program/);
    expect(configSizeIssues({ "atra-observability:x": "a".repeat(MAX_PULUMI_CONFIG_BYTES - 100) })).toEqual([]);
  });

  test("the plan's stack file reader uses it", () => {
    const dir = tempDir("atra-yaml-");
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), laughs(9, 9));
      expect(() => readStackFile(dir, "dev", "atra-observability")).toThrow(StackFileError);
      fs.writeFileSync(
        path.join(dir, "Pulumi.dev.yaml"),
        "shared: &shared {bindAddress: 0.0.0.0}\nconfig:\n  atra-observability:ports:\n    <<: {grafana: 3001}\n",
      );
      expect(readStackFile(dir, "dev", "atra-observability").config["atra-observability:ports"]).toBe('{"grafana":3001}');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("minor hostile inputs, each at its key (item 8)", () => {
  test("stack names Pulumi refuses are refused (no YAML through the prometheus.yml header comment)", () => {
    expect(stackNameProblem("dev")).toBeUndefined();
    expect(stackNameProblem("eu.prod_2-b")).toBeUndefined();
    expect(stackNameProblem('dev"\nscrape_configs: []\n#')).toMatch(/invalid character "\\"" at position 3/);
    expect(stackNameProblem("x".repeat(101))).toMatch(/cannot exceed 100 characters/);
    expect(keysOf(issuesOf({ services: [API] }, { stack: "dev\nx: 1" }))).toEqual(['stack "dev\\nx: 1"']);
  });

  test("the literal-prefix shortcut never changes the answer of the full search", () => {
    // Every pair of globs built from these parts: literal, `*`, `?`, classes, `**`, at several depths.
    const parts = ["a", "ab", "b", "*", "a*", "*b", "?", "[ab]", "[^a]", "**"];
    const globs = new Set<string>();
    for (const first of parts)
      for (const second of parts) {
        globs.add(`/srv/${first}/${second}.log`);
        globs.add(`/srv/${first}${second === "**" ? "x" : second}.log`);
        if (first !== "**") globs.add(`/srv/${first}`);
      }
    const list = [...globs];
    let overlapping = 0;
    const disagreements: string[] = [];
    for (const a of list)
      for (const b of list) {
        const full = globsOverlapBySearch(a, b);
        if (globsOverlap(a, b) !== full) disagreements.push(`${a} ${b}: search says ${full}`);
        if (full) overlapping++;
      }
    expect(disagreements).toEqual([]);
    // Both answers occur often: the comparison is not vacuous.
    expect(overlapping).toBeGreaterThan(list.length);
    expect(overlapping).toBeLessThan(list.length * list.length);
  });

  test("globs of two services that can match one file are refused, and only those", () => {
    expect(globsOverlap("/srv/logs/*.log", "/srv/logs/api.log")).toBe(true);
    expect(globsOverlap("/srv/logs/api*.log", "/srv/logs/*-worker.log")).toBe(true); // api-worker.log
    expect(globsOverlap("/srv/logs/api*.log", "/srv/logs/worker*.log")).toBe(false);
    expect(globsOverlap("/srv/**/*.log", "/srv/a/b/c.log")).toBe(true);
    expect(globsOverlap("/srv/a/*.log", "/srv/a/*.txt")).toBe(false);
    expect(globsOverlap("/srv/[a-c]*.log", "/srv/[d-f]*.log")).toBe(false);
    expect(globsOverlap("/srv/[^a]*.log", "/srv/a*.log")).toBe(false);
    expect(globsOverlap("/srv/[^a]?.log", "/srv/b?.log")).toBe(true);
    expect(literalPrefix("/srv/logs/api*.log")).toBe("/srv/logs/api");
    expect(literalPrefix("/srv/[ab]/x.log")).toBe("/srv/");
    expect(literalPrefix("/srv/logs/api.log")).toBe("/srv/logs/api.log");
    const issues = issuesOf({
      services: [
        { name: "api", logs: ["/srv/logs/api*.log", "/srv/logs/shared.log"] },
        { name: "worker", logs: ["/srv/logs/*.log"] },
        { name: "other", logs: ["/srv/logs/shared.log"] },
      ],
    });
    expect(issues).toEqual([
      { key: "atra-observability:services[1].logs[0]", message: expect.stringContaining('"/srv/logs/*.log" and "/srv/logs/api*.log" of service "api"') },
      { key: "atra-observability:services[2].logs[0]", message: expect.stringContaining('is also a log glob of service "api"') },
    ]);
  });

  test("a path segment longer than 255 bytes names no file and is refused", () => {
    expect(minimumSegmentBytes("é".repeat(128))).toBe(256);
    expect(minimumSegmentBytes("*[ab]?x")).toBe(3);
    const issues = issuesOf({ services: [{ name: "api", logs: [`/srv/${"é".repeat(128)}/*.log`, `/srv/${"a".repeat(255)}.log`] }] });
    expect(issues).toEqual([
      { key: "atra-observability:services[0].logs[0]", message: expect.stringMatching(/path segment of 256 bytes or more; Linux names are at most 255 bytes/) },
      { key: "atra-observability:services[0].logs[1]", message: expect.stringMatching(/path segment of 259 bytes/) },
    ]);
  });

  test("control characters in URLs and header values are refused (new URL would drop a tab or newline silently)", () => {
    expect(new URL("http://api:8000/hea\tlth").pathname).toBe("/health");
    expect(httpUrlProblems("http://api:8000/hea\tlth")).toEqual(["must not contain control characters (a tab)"]);
    expect(httpUrlProblems("http://api:8000/x\r\nHost: evil")).toEqual(["must not contain control characters (a carriage return)"]);
    const issues = issuesOf({
      services: [{ name: "api", metrics: "http://api:8000/me\ntrics" }],
      prometheus: { remoteWrite: [{ name: "mimir", url: "https://mimir.example/api/v1/push", headers: { "X-Scope-OrgID": "team\r\nX-Evil: 1" } }] },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { key: "atra-observability:services[0].metrics", message: "must not contain control characters (a newline)" },
        { key: "atra-observability:prometheus.remoteWrite[0].headers.X-Scope-OrgID", message: "must not contain control characters (a carriage return)" },
      ]),
    );
  });

  test("on a shared external cluster, a stack name that would collide with another's objects is refused", () => {
    const external = {
      services: [{ name: "api", logs: ["/srv/api/*.log"] }],
      logs: { external: { elasticsearchUrl: "https://es.example:9200", kibanaUrl: "https://kb.example" } },
      elasticApiKey: "offline-plan-secret-placeholder",
    };
    const collide = issuesOf(external, { stack: "eu.prod", secretKeys: ["elasticApiKey"] });
    expect(collide).toEqual([{ key: "atra-observability:logs.external", message: expect.stringContaining('the stack name "eu.prod"') }]);
    expect(issuesOf(external, { stack: "eu-prod", secretKeys: ["elasticApiKey"] })).toEqual([]);
    // Without a shared cluster every stack has its own, and any Pulumi stack name is fine.
    expect(issuesOf({ services: [API] }, { stack: "eu.prod" })).toEqual([]);
  });

  test("messages that were untrue", () => {
    // "/" suggested "/*.log", which is itself refused.
    expect(globProblem("/")).toBe(`"/" ends with '/': name the files, e.g. /srv/<app>/logs/*.log`);
    expect(globProblem("/srv/app/")).toBe(`"/srv/app/" ends with '/': name the files, e.g. /srv/app/*.log`);
    // A missing key is missing, not "expected string".
    expect(issuesOf({ services: [{ health: "http://api:8000/health" }] })).toEqual([
      { key: "atra-observability:services[0].name", message: "is required (a string) and missing" },
    ]);
    expect(issuesOf({ services: [{ name: 5, health: "http://api:8000/health" }] })).toEqual([
      { key: "atra-observability:services[0].name", message: "expected string" },
    ]);
    // A long image tag passed (the path part of the pattern swallowed it); Docker allows 128 characters.
    expect(keysOf(issuesOf({ services: [API], images: { grafana: `grafana/grafana:${"a".repeat(129)}` } }))).toEqual(["atra-observability:images.grafana"]);
  });

  test("an alerting schema error hides no other alerting check; the configured contact points are listed", () => {
    const issues = issuesOf({
      services: [API],
      alerting: {
        groupWait: "soon",
        contactPoints: [
          { name: "pager", type: "webhook" },
          { name: "chat", type: "slack" },
        ],
        routes: [{ match: { severity: "critical" }, contactPoint: "pagr" }],
      },
    });
    expect(issues).toEqual([
      { key: "atra-observability:alerting.contactPoints[0]", message: expect.stringContaining('contact point "pager" needs its') },
      { key: "atra-observability:alerting.contactPoints[1]", message: expect.stringContaining('contact point "chat" needs its') },
      { key: "atra-observability:alerting.groupWait", message: expect.stringContaining("must be a Prometheus duration") },
      { key: "atra-observability:alerting.routes[0].contactPoint", message: 'no contact point named "pagr" (configured: pager, chat)' },
    ]);
  });
});

describe("through the real plan script (`npm run plan`)", () => {
  let copy: ProjectCopy;
  beforeAll(() => {
    copy = copyProject();
  });
  afterAll(() => copy.remove());

  const expectRefused = (result: { status: number | null; stdout: string; stderr: string }) => {
    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(result.stdout).toBe("");
  };

  test("a stack file with many problems: exit 1, every problem with its key at once, the earlier plan removed, nothing written", () => {
    const out = path.join(copy.dir, "out-hostile");
    copy.add("Pulumi.hostile.yaml", "config:\n  atra-observability:services:\n    - name: api\n      health: http://api:8000/health\n");
    expect(runPlanCli(copy, ["--stack", "hostile", "--out", out]).status).toBe(0);
    expect(fs.existsSync(path.join(out, "resources.json"))).toBe(true);
    const hostile = {
      config: {
        "atra-observability:services": [
          { name: "api", health: "http://api:8000/hea\tlth", logs: ["/srv/logs/*.log"] },
          { name: "worker", logs: ["/srv/logs/worker.log"] },
        ],
        "atra-observability:prometheus": { retentionTime: "1000y", scrapeInterval: "293y" },
        "atra-observability:alerting": {
          repeatInterval: "999999999999y",
          contactPoints: [
            { name: "hook", type: "webhook" },
            { name: "hook2", type: "webhook" },
          ],
        },
        "atra-observability:alertingSecrets": { hook: { secure: "v1:AAAA" }, hook2: "https://plain.example/hook" },
      },
    };
    copy.add("Pulumi.hostile.yaml", yaml.dump(hostile));
    const result = runPlanCli(copy, ["--stack", "hostile", "--out", out]);
    expectRefused(result);
    for (const key of [
      "alerting.repeatInterval",
      "alertingSecrets.hook2",
      "prometheus.retentionTime",
      "prometheus.scrapeInterval",
      "services[0].health",
      "services[1].logs[0]",
    ]) {
      expect(result.stderr).toContain(`  - atra-observability:${key}: `);
    }
    expect(result.stderr).toContain("6 problems; nothing was created or changed");
    expect(result.stderr).not.toContain("plain.example");
    expect(fs.existsSync(out)).toBe(false);
  });

  test("a billion laughs, even under pulumi:tags, and a stack name Pulumi refuses: exit 1 with the reason, nothing written", () => {
    const out = path.join(copy.dir, "out-bomb");
    let bomb = "config:\n  pulumi:tags:\n    a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (let level = 1; level <= 9; level++)
      bomb += `    a${level}: &a${level} [${Array(9)
        .fill(`*a${level - 1}`)
        .join(", ")}]\n`;
    copy.add("Pulumi.bomb.yaml", bomb);
    const result = runPlanCli(copy, ["--stack", "bomb", "--out", out]);
    expectRefused(result);
    expect(result.stderr).toContain("Pulumi.bomb.yaml: document contains excessive aliasing");
    expect(fs.existsSync(out)).toBe(false);

    const named = runPlanCli(copy, ["--stack", "dev\nx", "--out", out]);
    expect(named.status).toBe(2);
    expect(named.stderr).toMatch(/^plan: --stack "dev\\nx": a stack name may only contain alphanumerics/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("'configured: none' when remote writes are configured but invalid (item 8)", () => {
  test("the remote writes that name themselves are listed, valid or not", () => {
    const issues = issuesOf(
      {
        services: [API],
        prometheus: {
          remoteWrite: [
            { name: "mimir", url: "not a url" },
            { name: "cloud", url: "https://cloud.example/push", queueConfig: { bogus: 1 } },
          ],
        },
        remoteWriteSecrets: { mimr: "offline-plan-secret-placeholder" },
      },
      { secretKeys: ["remoteWriteSecrets"] },
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { key: "atra-observability:remoteWriteSecrets.mimr", message: expect.stringContaining('no remote write named "mimr" (configured: mimir, cloud)') },
      ]),
    );
  });
});
