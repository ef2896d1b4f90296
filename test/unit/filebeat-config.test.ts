/** The log shipper's config: one filestream input per service with logs, the output, the mounts and the glob checks. */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import {
  FilebeatConfigArgs,
  FILEBEAT_DATA_PATH,
  globProblem,
  LogService,
  logGlobIssues,
  logMounts,
  renderFilebeatConfig,
  staticDirectory,
} from "../../components/logs/filebeat-config";

/** The first team's catalog (DESIGN.md): four services log to /srv/atra/logs; the agent is only probed. */
const team: LogService[] = [
  { name: "knowledge-os-api", logs: ["/srv/atra/logs/knowledge_os_api*.log"] },
  { name: "victoria-agent" },
  { name: "worker", logs: ["/srv/atra/logs/worker*.log"] },
  { name: "orchestrator", logs: ["/srv/atra/logs/orchestrator*.log"] },
  { name: "nightly-learner", logs: ["/srv/atra/logs/nightly_learner*.log"] },
];

const baseArgs: Omit<FilebeatConfigArgs, "services"> = {
  elasticsearchUrl: "http://atra-dev-elasticsearch:9200",
  dataStream: "logs-atra-dev",
  pipeline: "atra-structlog",
  host: "app-host-7.example.internal",
  usernameEnv: "ATRA_ES_WRITER_USERNAME",
  passwordEnv: "ATRA_ES_WRITER_PASSWORD",
  stack: "dev",
};

/**
 * Filebeat (go-ucfg) reads `a.b: 1` as `a: {b: 1}`. Expand dotted keys the same way, so assertions see
 * the structure Filebeat sees; a key given twice (dotted and nested) with clashing values throws.
 */
function expandDotted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandDotted);
  if (typeof value !== "object" || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const parts = key.split(".");
    let target = result;
    for (const part of parts.slice(0, -1)) {
      const existing = target[part];
      if (existing === undefined) target[part] = {};
      else if (typeof existing !== "object" || existing === null || Array.isArray(existing)) throw new Error(`key ${key} clashes with a value at ${part}`);
      target = target[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    const expanded = expandDotted(inner);
    if (last in target) {
      const existing = target[last];
      if (!isPlainObject(existing) || !isPlainObject(expanded)) throw new Error(`key ${key} is given twice`);
      for (const [k, v] of Object.entries(expanded)) {
        if (k in existing) throw new Error(`key ${key}.${k} is given twice`);
        existing[k] = v;
      }
    } else {
      target[last] = expanded;
    }
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface Input {
  type: string;
  id: string;
  paths: string[];
  fields: Record<string, unknown>;
  fields_under_root: boolean;
  parsers?: unknown;
  prospector: { scanner: { check_interval: string; fingerprint?: { enabled?: boolean; offset?: number; length?: number } } };
  close: { on_state_change: { inactive: string; renamed: boolean; removed: boolean } };
  clean_removed: boolean;
  [key: string]: unknown;
}
interface Rendered {
  path: { data: string };
  filebeat: { inputs: Input[] };
  processors: unknown[];
  queue: { mem: { events: number; flush: { min_events: number; timeout: string } } };
  output: { elasticsearch: Record<string, unknown> & { backoff: Record<string, string> } };
  setup: { template: { enabled: boolean }; ilm: { enabled: boolean }; dashboards: { enabled: boolean }; kibana?: unknown };
  http: { enabled: boolean; host: string; port: number };
  logging: { level: string; to_stderr: boolean; to_files: boolean };
  [key: string]: unknown;
}

function render(services: LogService[], extra: Partial<FilebeatConfigArgs> = {}): { text: string; config: Rendered } {
  const text = renderFilebeatConfig({ ...baseArgs, ...extra, services });
  return { text, config: expandDotted(yaml.load(text)) as Rendered };
}

describe("renderFilebeatConfig", () => {
  const { text, config } = render(team);
  const inputs = config.filebeat.inputs;

  test("starts with the do-not-edit header naming the stack", () => {
    expect(text.split("\n")[0]).toBe('# Rendered by atra-observability for stack "dev". Do not edit: change the stack config.');
  });

  test("one filestream input per service with logs, in catalog order, with ids from the service name", () => {
    expect(inputs.map((input) => [input.type, input.id, input.paths])).toEqual([
      ["filestream", "atra-knowledge-os-api", ["/srv/atra/logs/knowledge_os_api*.log"]],
      ["filestream", "atra-worker", ["/srv/atra/logs/worker*.log"]],
      ["filestream", "atra-orchestrator", ["/srv/atra/logs/orchestrator*.log"]],
      ["filestream", "atra-nightly-learner", ["/srv/atra/logs/nightly_learner*.log"]],
    ]);
    expect(new Set(inputs.map((input) => input.id)).size).toBe(inputs.length);
  });

  test("every event carries a top-level service.name of its service", () => {
    for (const input of inputs) {
      expect(input.fields).toEqual({ service: { name: input.id.replace(/^atra-/, "") } });
      expect(input.fields_under_root).toBe(true);
    }
  });

  test("lines are shipped raw: no parser (the ingest pipeline parses the JSON)", () => {
    for (const input of inputs) expect(input.parsers).toBeUndefined();
    expect(text).not.toMatch(/ndjson|json\./);
  });

  test("rotated and removed files are read to their end through the open handle and closed when idle", () => {
    for (const input of inputs) {
      expect(input.prospector.scanner.check_interval).toBe("10s");
      expect(input.close.on_state_change).toEqual({ inactive: "5m", renamed: false, removed: false });
      expect(input.clean_removed).toBe(false);
      // clean_inactive needs ignore_older and loses data when misconfigured; take_over is for migrations only.
      expect(input).not.toHaveProperty("clean_inactive");
      expect(input).not.toHaveProperty("take_over");
    }
  });

  // elastic/beats docs/reference/filebeat/filebeat-input-filestream.md, `clean_removed`: "You must
  // disable this option if you also disable close.on_state_change.removed". Defaults, from the same
  // page: clean_removed is enabled; close.on_state_change.removed is disabled on Linux since 9.1
  // (enabled only on Windows). So an unset `removed` counts as off and an unset `clean_removed` as on.
  test("upstream's rule: clean_removed is disabled whenever close.on_state_change.removed is", () => {
    const removed = (input: Input) => input.close?.on_state_change?.removed ?? false;
    const cleanRemoved = (input: Input) => input.clean_removed ?? true;
    for (const stackInputs of [inputs, render([{ name: "solo", logs: ["/srv/solo/*.log"] }]).config.filebeat.inputs]) {
      expect(stackInputs.length).toBeGreaterThan(0);
      for (const input of stackInputs) {
        expect(removed(input)).toBe(false);
        expect(cleanRemoved(input)).toBe(false);
      }
    }
  });

  test("the registry lives in the data directory the retained volume is mounted on", () => {
    expect(config.path.data).toBe(FILEBEAT_DATA_PATH);
  });

  test("ships to the data stream through the ingest pipeline with credentials from the environment", () => {
    const output = config.output.elasticsearch;
    expect(output.hosts).toEqual(["http://atra-dev-elasticsearch:9200"]);
    expect(output.username).toBe("${ATRA_ES_WRITER_USERNAME}");
    expect(output.password).toBe("${ATRA_ES_WRITER_PASSWORD}");
    expect(output.index).toBe("logs-atra-dev");
    expect(output.pipeline).toBe("atra-structlog");
    // Filebeat sends bulk `create` by default to Elasticsearch >= 7.5; forcing `index` would be refused by the data stream.
    expect(output).not.toHaveProperty("op_type");
    expect(text).not.toMatch(/op_type/);
    expect(output.preset).toBe("custom");
    expect(output.worker).toBe(1);
    expect(output.bulk_max_size).toBe(512);
    expect(output).not.toHaveProperty("ssl");
  });

  test("a modest queue for one host, set once (Filebeat refuses queue settings in two places)", () => {
    expect(config.queue.mem).toEqual({ events: 4096, flush: { min_events: 512, timeout: "5s" } });
    expect(config.output.elasticsearch).not.toHaveProperty("queue");
    expect(config.queue.mem.flush.min_events).toBeLessThanOrEqual(config.queue.mem.events);
  });

  test("no template, ILM or Kibana setup from Filebeat, and no metadata processors", () => {
    expect(config.setup.template.enabled).toBe(false);
    expect(config.setup.ilm.enabled).toBe(false);
    expect(config.setup.dashboards.enabled).toBe(false);
    expect(config.setup.kibana).toBeUndefined();
    expect(text).not.toMatch(/add_(cloud|docker|kubernetes|host)_metadata/);
  });

  test("every event names its host: one global add_fields at the root sets host.name, no input sets host", () => {
    expect(config.processors).toEqual([{ add_fields: { target: "", fields: { host: { name: "app-host-7.example.internal" } } } }]);
    for (const input of config.filebeat.inputs) expect(input.fields).not.toHaveProperty("host");
  });

  test("without a pipeline no pipeline is sent: the data stream's index.default_pipeline applies", () => {
    const withoutPipeline = { ...baseArgs, services: team };
    delete withoutPipeline.pipeline;
    const output = (expandDotted(yaml.load(renderFilebeatConfig(withoutPipeline))) as Rendered).output.elasticsearch;
    expect(output).not.toHaveProperty("pipeline");
    expect(output.index).toBe("logs-atra-dev");
  });

  test("monitoring endpoint on loopback inside the container, logs to stderr at info", () => {
    expect(config.http).toEqual({ enabled: true, host: "127.0.0.1", port: 5066 });
    expect(config.logging).toEqual({ level: "info", to_stderr: true, to_files: false });
  });

  test("no secret in the file: the only ${...} are the two environment references", () => {
    process.env.ATRA_ES_WRITER_PASSWORD = "s3cret-do-not-render";
    try {
      const again = renderFilebeatConfig({ ...baseArgs, services: team });
      expect(again).not.toContain("s3cret-do-not-render");
      expect([...again.matchAll(/\$\{[^}]*\}/g)].map((m) => m[0]).sort()).toEqual(["${ATRA_ES_WRITER_PASSWORD}", "${ATRA_ES_WRITER_USERNAME}"]);
    } finally {
      delete process.env.ATRA_ES_WRITER_PASSWORD;
    }
  });

  test("rendering is deterministic and an input's id does not move when other services change", () => {
    expect(renderFilebeatConfig({ ...baseArgs, services: team })).toBe(text);
    const changed = render([{ name: "billing", logs: ["/srv/billing/*.log"] }, ...team.slice(2)]).config.filebeat.inputs;
    expect(changed.find((input) => input.paths[0].includes("worker"))?.id).toBe("atra-worker");
  });

  test("a service with two globs in different directories gets one input with both paths", () => {
    const { config: two } = render([
      { name: "billing-api", logs: ["/srv/billing/logs/api*.log", "/var/log/billing/audit-*.log"] },
      { name: "worker", logs: ["/srv/atra/logs/worker*.log"] },
    ]);
    expect(two.filebeat.inputs.map((input) => [input.id, input.paths, input.fields])).toEqual([
      ["atra-billing-api", ["/srv/billing/logs/api*.log", "/var/log/billing/audit-*.log"], { service: { name: "billing-api" } }],
      ["atra-worker", ["/srv/atra/logs/worker*.log"], { service: { name: "worker" } }],
    ]);
  });

  test("no service with logs: refused, since Filebeat exits when it has no input", () => {
    expect(() => renderFilebeatConfig({ ...baseArgs, services: [] })).toThrow(/No catalog service has logs/);
    expect(() => renderFilebeatConfig({ ...baseArgs, services: [{ name: "victoria-agent" }, { name: "empty", logs: [] }] })).toThrow(
      /No catalog service has logs/,
    );
  });

  test.each([
    [{ elasticsearchUrl: "http://elastic:changeme@es:9200" }, /must not carry credentials/],
    [{ elasticsearchUrl: "es:9200" }, /must use http or https|is not a URL/],
    [{ usernameEnv: "ES USER" }, /usernameEnv "ES USER" is not an environment variable name/],
    [{ passwordEnv: "${ES_PASSWORD}" }, /passwordEnv .* is not an environment variable name/],
    [{ dataStream: "logs-%{[agent.version]}" }, /dataStream must be lowercase letters, digits/],
    [{ pipeline: "Atra" }, /pipeline "Atra" must be lowercase/],
    [{ host: "" }, /host "" must be a host name or address/],
    [{ host: "${HOSTNAME}" }, /host "\$\{HOSTNAME\}" must be a host name or address/],
    // The stack's own Elasticsearch with tls on is https: a verification mode means nothing over http.
    [{ tls: { verificationMode: "certificate" } }, /tls settings need an https:\/\/ elasticsearchUrl/],
    [{ elasticsearchUrl: "https://es:9200", tls: { verificationMode: "none" } }, /tls.verificationMode "none" must be full or certificate/],
  ] as [Partial<FilebeatConfigArgs>, RegExp][])("refuses bad arguments: %j", (extra, message) => {
    expect(() => renderFilebeatConfig({ ...baseArgs, ...extra, services: team })).toThrow(message);
  });

  test("the stack's own https Elasticsearch: the CA file and the verification mode as given (full unless said)", () => {
    const ssl = (tls: FilebeatConfigArgs["tls"]) => {
      const output = (
        expandDotted(
          yaml.load(renderFilebeatConfig({ ...baseArgs, elasticsearchUrl: "https://atra-obs-dev-elasticsearch:9200", tls, services: team })),
        ) as Rendered
      ).output.elasticsearch as unknown as { hosts: string[]; ssl?: Record<string, unknown> };
      return { hosts: output.hosts, ssl: output.ssl };
    };
    expect(ssl({ caFile: "/usr/share/filebeat/atra-ca.pem" })).toEqual({
      hosts: ["https://atra-obs-dev-elasticsearch:9200"],
      ssl: { certificate_authorities: ["/usr/share/filebeat/atra-ca.pem"], verification_mode: "full" },
    });
    expect(ssl({ caFile: "/usr/share/filebeat/atra-ca.pem", verificationMode: "certificate" }).ssl).toEqual({
      certificate_authorities: ["/usr/share/filebeat/atra-ca.pem"],
      verification_mode: "certificate",
    });
    // A provided chain from a public CA: the system's roots, the name still not checked inside the stack network.
    expect(ssl({ verificationMode: "certificate" }).ssl).toEqual({ verification_mode: "certificate" });
  });

  test("refuses two services of the same name (their input ids would clash)", () => {
    expect(() => renderFilebeatConfig({ ...baseArgs, services: [team[0], { ...team[0] }] })).toThrow(/service "knowledge-os-api" appears twice/);
  });
});

describe("logMounts", () => {
  test("the team's globs need one mount of /srv/atra/logs, at the same path", () => {
    expect(logMounts(team)).toEqual([{ hostPath: "/srv/atra/logs", containerPath: "/srv/atra/logs" }]);
  });

  test("directories in different places are mounted each; nested ones are covered by their parent", () => {
    expect(
      logMounts([
        { name: "a", logs: ["/srv/atra/logs/a*.log", "/srv/atra/logs/archive/a-*.log"] },
        { name: "b", logs: ["/var/log/billing/audit-*.log"] },
        { name: "c", logs: ["/srv/atra/*/c.log"] },
        { name: "d" },
      ]),
    ).toEqual([
      { hostPath: "/srv/atra", containerPath: "/srv/atra" },
      { hostPath: "/var/log/billing", containerPath: "/var/log/billing" },
    ]);
  });

  test("a sibling that only shares a name prefix is not nested", () => {
    expect(logMounts([{ name: "a", logs: ["/srv/app/*.log", "/srv/app2/*.log"] }]).map((m) => m.hostPath)).toEqual(["/srv/app", "/srv/app2"]);
  });

  test("a literal file path mounts its directory (rotation replaces the file)", () => {
    expect(logMounts([{ name: "a", logs: ["/srv/app/logs/app.log"] }])).toEqual([{ hostPath: "/srv/app/logs", containerPath: "/srv/app/logs" }]);
  });

  test("no logs, no mounts", () => {
    expect(logMounts([{ name: "a" }, { name: "b", logs: [] }])).toEqual([]);
  });

  test("every rendered glob lies inside a mount", () => {
    const services = [...team, { name: "billing", logs: ["/srv/billing/**/*.log", "/var/log/billing/[a-z]*.log"] }];
    const mounts = logMounts(services).map((m) => m.hostPath);
    for (const glob of services.flatMap((s) => s.logs ?? [])) {
      expect([glob, mounts.some((mount) => glob.startsWith(`${mount}/`))]).toEqual([glob, true]);
    }
  });

  test.each([
    ["/srv/atra/logs/knowledge_os_api*.log", "/srv/atra/logs"],
    ["/srv/app/**/*.log", "/srv/app"],
    ["/srv/app/[ab]/x.log", "/srv/app"],
    ["/srv/app?/x.log", "/srv"],
    ["/srv/app/logs/app.log", "/srv/app/logs"],
    ["/app.log", "/"],
    ["/*.log", "/"],
  ])("staticDirectory(%s) is %s", (glob, directory) => {
    expect(staticDirectory(glob)).toBe(directory);
  });
});

describe("logGlobIssues", () => {
  test("the team's globs and other well-formed globs have no issue", () => {
    expect(logGlobIssues(team)).toEqual([]);
    for (const glob of [
      "/srv/app/**/*.log",
      "/srv/app/[a-z]*.log",
      "/srv/app/[^.]*.log",
      "/srv/app/[ab]*.log",
      "/home/app/logs/*.log",
      "/var/log/atra/*.log",
      "/srv/app/logs/app.log",
      "/srv/*/logs/*.log",
    ]) {
      expect([glob, globProblem(glob)]).toEqual([glob, undefined]);
    }
  });

  test.each([
    ["", /must not be empty/],
    ["   ", /must not be empty/],
    [" /srv/app/*.log", /leading or trailing whitespace/],
    ["/srv/app/*.log\n", /leading or trailing whitespace/],
    ["/srv/ap\tp/*.log", /control characters/],
    ["logs/*.log", /must be an absolute path .* not relative/],
    ["./logs/*.log", /must be an absolute path/],
    ["~/logs/*.log", /must be an absolute path/],
    ["/srv/app/../etc/*.log", /must not contain '\.\.' segments/],
    ["/srv/app/./*.log", /normalized path/],
    ["/srv//app/*.log", /normalized path/],
    ["/srv/app/logs/", /ends with '\/': name the files, e.g. \/srv\/app\/logs\/\*\.log/],
    ["/srv/app/**", /ends in '\*\*', which matches directories/],
    ["/srv/**/app/**/*.log", /more than one '\*\*'/],
    ["/srv/app/**.log", /'\*\*' inside a segment/],
    ["/srv/app/{api,worker}.log", /no alternatives .* one glob per alternative/],
    ["/srv/app/[a-z.log", /'\[' that is never closed/],
    ["/srv/app/[].log", /malformed \[\.\.\.\] class/],
    ["/srv/app/[-a]*.log", /malformed \[\.\.\.\] class/],
    ["/srv/app/[^]*.log", /malformed \[\.\.\.\] class/],
    ["/srv/app/[a-]*.log", /malformed \[\.\.\.\] range/],
    ["/srv/app/[z-a]*.log", /runs backwards \(z-a\)/],
    ["/srv/app/[!.]*.log", /negate a class with \[\^\.\.\.\]/],
    ["/srv/app/\\*.log", /backslash/],
    ["/srv/${APP}/*.log", /must not contain '\$'/],
    ["/srv/a:b/*.log", /contains ':'/],
    ["/*.log", /would mount \/ into the log shipper/],
    ["/var/*.log", /would mount \/var into the log shipper/],
    ["/home/*/app.log", /would mount \/home into the log shipper/],
    ["/etc/app/*.log", /would mount \/etc\/app, a system directory \(\/etc\)/],
    ["/proc/1/fd/*", /system directory \(\/proc\)/],
    ["/sys/kernel/*.log", /system directory \(\/sys\)/],
    ["/dev/*.log", /system directory \(\/dev\)/],
    ["/var/lib/docker/containers/*/*.log", /system directory \(\/var\/lib\/docker\)/],
    ["/usr/share/filebeat/logs/*.log", /system directory \(\/usr\)/],
  ])("%j is refused", (glob, message) => {
    const issues = logGlobIssues([{ name: "api", logs: ["/srv/atra/logs/api*.log", glob] }]);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toEqual(["services", 0, "logs", 1]);
    expect(issues[0].message).toMatch(message);
  });

  test("the same glob twice in one service", () => {
    expect(logGlobIssues([{ name: "api", logs: ["/srv/a/*.log", "/srv/b/*.log", "/srv/a/*.log"] }])).toEqual([
      { path: ["services", 0, "logs", 2], message: '"/srv/a/*.log" is listed twice for this service (also logs[0])' },
    ]);
  });

  test("the same glob in two services names the other service", () => {
    const issues = logGlobIssues([
      { name: "api", logs: ["/srv/atra/logs/api*.log"] },
      { name: "agent" },
      { name: "worker", logs: ["/srv/atra/logs/worker*.log", "/srv/atra/logs/api*.log"] },
    ]);
    expect(issues).toEqual([
      {
        path: ["services", 2, "logs", 1],
        message: expect.stringContaining('"/srv/atra/logs/api*.log" is also a log glob of service "api" (services[0].logs[0])'),
      },
    ]);
  });

  test("every problem is reported, each at its own path", () => {
    const issues = logGlobIssues([
      { name: "a", logs: ["relative/*.log", "/srv/ok/*.log"] },
      { name: "b", logs: ["/etc/*.conf"] },
      { name: "c", logs: ["/srv/ok/*.log", ""] },
    ]);
    expect(issues.map((issue) => issue.path)).toEqual([
      ["services", 0, "logs", 0],
      ["services", 1, "logs", 0],
      ["services", 2, "logs", 0],
      ["services", 2, "logs", 1],
    ]);
  });
});

/**
 * Which files filestream's scanner hands on, ported from elastic/beats filebeat/input/filestream/fswatch.go
 * (9.x): defaultFileScannerConfig has the fingerprint on with offset 0 and length DefaultFingerprintSize
 * (1024); newFileScanner refuses a length under sha256.BlockSize (64); toFileDescriptor returns
 * errFileTooSmall for a file shorter than offset + length, which GetFiles skips ("too small to be
 * ingested"); with the fingerprint off it does not look at the size. fileWatcher.watch skips an empty
 * new file ("has no content yet").
 */
function scannerShips(size: number, fingerprint: { enabled?: boolean; offset?: number; length?: number } = {}): boolean {
  const enabled = fingerprint.enabled ?? true;
  const offset = fingerprint.offset ?? 0;
  const length = fingerprint.length ?? 1024;
  if (enabled && length < 64) throw new Error(`fingerprint size ${length} bytes cannot be smaller than 64 bytes`);
  if (enabled && size < offset + length) return false;
  return size > 0;
}

describe("file identity: a file ships from its first line", () => {
  const { config } = render(team);

  test("every input identifies files by inode and device, with the scanner's fingerprinting off", () => {
    for (const input of config.filebeat.inputs) {
      expect(input.file_identity).toEqual({ native: null });
      expect(input.prospector.scanner.fingerprint).toEqual({ enabled: false });
    }
  });

  test("the scanner, as ported: the rendered inputs hand on a one-line file; Filebeat 9's default skips anything under 1 KiB", () => {
    const rendered = config.filebeat.inputs[0].prospector.scanner.fingerprint;
    for (const size of [1, 63, 64, 300, 1023, 1024, 5000]) expect(scannerShips(size, rendered)).toBe(true);
    expect(scannerShips(0, rendered)).toBe(false);
    // The default (no fingerprint settings) and the smallest fingerprint Filebeat accepts.
    expect([300, 1023, 1024].map((size) => scannerShips(size))).toEqual([false, false, true]);
    expect([63, 64].map((size) => scannerShips(size, { length: 64 }))).toEqual([false, true]);
    expect(() => scannerShips(10, { length: 32 })).toThrow("cannot be smaller than 64 bytes");
  });

  /**
   * The nightly learner's per-run file, written by real structlog (Debian's python3-structlog) as the
   * team configures it (test/support/structlog-lines.py): JSONRenderer puts the event first and the
   * timestamp last, so each run's file starts with the same bytes.
   */
  test("real structlog: a learner run's file is under 1 KiB, and two runs share their first 64 bytes (so a 64-byte fingerprint would merge them)", () => {
    const script = [
      "import logging, sys, structlog",
      'logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)',
      "structlog.configure(processors=[structlog.stdlib.add_logger_name, structlog.stdlib.add_log_level,",
      '  structlog.processors.TimeStamper(fmt="iso", utc=True), structlog.processors.JSONRenderer()],',
      "  logger_factory=structlog.stdlib.LoggerFactory(), wrapper_class=structlog.stdlib.BoundLogger)",
      'log = structlog.stdlib.get_logger("atra.nightly_learner")',
      'log.info("nightly learning started", model="ranker")',
      'log.info("nightly learning finished", samples=1200, duration_s=41.2)',
    ].join("\n");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atra-learner-"));
    try {
      const files = [1, 2].map((run) => {
        const file = path.join(dir, `nightly_learner-run${run}.log`);
        fs.writeFileSync(file, execFileSync("/usr/bin/python3", ["-c", script], { encoding: "utf8" }));
        return file;
      });
      const contents = files.map((file) => fs.readFileSync(file));
      expect(contents[0].equals(contents[1])).toBe(false);
      for (const content of contents) {
        expect(content.length).toBeGreaterThan(64);
        expect(content.length).toBeLessThan(1024);
        // Never read with Filebeat 9's default; read with the rendered inputs.
        expect(scannerShips(content.length)).toBe(false);
        expect(scannerShips(content.length, config.filebeat.inputs[0].prospector.scanner.fingerprint)).toBe(true);
      }
      // fswatch.go toFileDescriptor: the fingerprint is the sha256 of bytes [offset, offset + length).
      const fingerprint64 = contents.map((content) => createHash("sha256").update(content.subarray(0, 64)).digest("hex"));
      expect(fingerprint64[0]).toBe(fingerprint64[1]);
      // The native identity tells them apart (identifier_inode_deviceid.go: inode and device of the file).
      const [a, b] = files.map((file) => fs.statSync(file));
      expect(`${a.ino}-${a.dev}`).not.toBe(`${b.ino}-${b.dev}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
