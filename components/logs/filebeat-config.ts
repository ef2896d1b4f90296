/**
 * Pure renderer for the log shipper (Filebeat 9.x): filebeat.yml from the service catalog's `logs`
 * globs, the read-only directory mounts those globs need, and the checks on the globs themselves.
 *
 * The Filebeat container sees the host's log directories at the same paths (so the globs are used
 * unchanged), keeps its registry under FILEBEAT_DATA_PATH on a retained volume, and ships the raw
 * lines (no ndjson parser: the Elasticsearch ingest pipeline parses the structlog JSON) to a data
 * stream as a least-privilege writer whose credentials come from environment variables, so the
 * rendered file never holds a secret.
 */
import { httpUrlProblems, repeats } from "../lib/validators";
import { validateDataStreamName } from "./elastic-bodies";
import { logFields, serviceLabels, ServiceIdentity } from "../catalog";
import { FILEBEAT_SERVICE } from "./services";
import * as yaml from "js-yaml";

/** Where the container reads its config and keeps its registry (the official image's layout). */
export const FILEBEAT_CONFIG_PATH = "/usr/share/filebeat/filebeat.yml";
/** Where the CA certificate Filebeat trusts (logs.external.caCertificate, or the stack's own CA with tls on) is uploaded for `ssl.certificate_authorities`. */
export const FILEBEAT_CA_PATH = "/usr/share/filebeat/atra-ca.pem";
export const FILEBEAT_DATA_PATH = "/usr/share/filebeat/data";
/** Filebeat's HTTP monitoring endpoint (on its port in stack-services.ts), inside the container only: the healthcheck asks it. */
export const FILEBEAT_HTTP_HOST = "127.0.0.1";

export interface LogService {
  name: string;
  logs?: string[];
}

export interface FilebeatConfigArgs {
  services: LogService[];
  /** As Filebeat reaches Elasticsearch, e.g. `http://atra-dev-elasticsearch:9200`. No credentials in it. */
  elasticsearchUrl: string;
  /** The data stream the events go to (its index template is managed elsewhere). */
  dataStream: string;
  /**
   * The ingest pipeline that parses the structlog JSON. Absent (an agent host does not know the
   * central stack's pipeline name), no `pipeline` is sent and the data stream's index template
   * setting `index.default_pipeline` applies, which the `pipeline` parameter would only override
   * (elastic/elasticsearch docs/reference/elasticsearch/index-settings/index-modules.md,
   * `index.default_pipeline`).
   */
  pipeline?: string;
  /** The host every event names in `host.name`: the same value as the `host` label of this host's metrics (prometheus.hostLabel). */
  host: string;
  /** Names of the environment variables that hold the writer's user name and password (or `apiKeyEnv`). */
  usernameEnv?: string;
  passwordEnv?: string;
  /**
   * Instead of a user: the environment variable holding an API key in the `id:api_key` form Filebeat
   * takes (elastic/beats docs/reference/filebeat/elasticsearch-output.md, `api_key`: "the ID of the API
   * key and the API key joined by a colon"; not the base64 `encoded` form). Never written into the file.
   */
  apiKeyEnv?: string;
  /**
   * For https with a private CA (elastic/beats docs/reference/filebeat/configuration-ssl.md): the CA
   * file's path inside the container (`ssl.certificate_authorities`, the file is uploaded beside the
   * config) and/or the CA's SHA-256 fingerprint, 64 lower-case hex digits (`ssl.ca_trusted_fingerprint`:
   * that CA, when in the chain the server presents, is added to the trusted ones). Verification is
   * `full` (the default: chain and host name) unless `verificationMode` says `certificate` (the chain is
   * verified up to the trusted CAs, the host name is not: elastic/elastic-agent-libs
   * transport/tlscommon/tls_config.go, makeVerifyConnection, `VerifyCertificate`), which only the stack's
   * own Filebeat uses, with a provided certificate that names publicHostname but not the container it
   * dials (Beats has no setting for the name to check: tlscommon/config.go, Config).
   */
  tls?: { caFile?: string; caFingerprint?: string; verificationMode?: FilebeatVerificationMode };
  stack: string;
}

/** The `ssl.verification_mode` values the program writes (elastic/elastic-agent-libs transport/tlscommon/types.go, tlsVerificationModes). */
export type FilebeatVerificationMode = "full" | "certificate";

/** Stable filestream input id: derived from the service name only, since a new id re-reads every file. */
export function filestreamInputId(serviceName: string): string {
  return `atra-${serviceName}`;
}

export function renderFilebeatConfig(args: FilebeatConfigArgs): string {
  const problems = argumentProblems(args);
  if (problems.length > 0) throw new Error(`Cannot render the Filebeat config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);

  const withLogs = args.services.filter((service) => (service.logs ?? []).length > 0);
  if (withLogs.length === 0) {
    // Filebeat exits at start with "no modules or inputs enabled" when it has no input.
    throw new Error("No catalog service has logs: the log shipper would have nothing to read (Filebeat exits without inputs); do not deploy it.");
  }

  const document = {
    "path.data": FILEBEAT_DATA_PATH,
    "filebeat.inputs": withLogs.map((service) => filestreamInput(service, service.logs as string[])),
    // No cloud/docker/kubernetes metadata lookups (no metadata endpoint calls, no Docker socket).
    // host.name is set here rather than left to Filebeat, which would name the container (its
    // hostname). In the publisher pipeline (elastic/beats libbeat/publisher/processing/default.go,
    // builder.Create) an input's `fields` come first, then the builtin host.name/agent.*/ecs.version
    // are added without overwriting, then the global `processors` run; an `add_fields` processor
    // overwrites (libbeat/processors/actions/addfields/add_fields.go, MakeFieldsProcessor). So a
    // global add_fields wins over both, and every event of every input carries this host.
    processors: [{ add_fields: { target: "", fields: logFields({ host: args.host }) } }],
    "queue.mem": { events: 4096, "flush.min_events": 512, "flush.timeout": "5s" },
    "output.elasticsearch": {
      hosts: [filebeatHost(args.elasticsearchUrl)],
      ...(args.apiKeyEnv
        ? { api_key: envReference(args.apiKeyEnv) }
        : { username: envReference(args.usernameEnv as string), password: envReference(args.passwordEnv as string) }),
      ...(args.tls?.caFile ? { "ssl.certificate_authorities": [args.tls.caFile] } : {}),
      ...(args.tls?.caFingerprint ? { "ssl.ca_trusted_fingerprint": args.tls.caFingerprint } : {}),
      ...(args.tls?.caFile || args.tls?.caFingerprint || args.tls?.verificationMode ? { "ssl.verification_mode": args.tls.verificationMode ?? "full" } : {}),
      // The data stream itself; Filebeat >= 7.5 sends every event as a bulk `create` (the only op a
      // data stream accepts, and all the writer's create_doc privilege allows), so no op_type is set.
      index: args.dataStream,
      ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}),
      // Presets would override the settings below; `custom` applies them as written.
      preset: "custom",
      worker: 1,
      bulk_max_size: 512,
      compression_level: 1,
      "backoff.init": "1s",
      "backoff.max": "60s",
    },
    // The program manages the index template, the ILM policy and the Kibana data view.
    "setup.template.enabled": false,
    "setup.ilm.enabled": false,
    "setup.dashboards.enabled": false,
    "http.enabled": true,
    "http.host": FILEBEAT_HTTP_HOST,
    "http.port": FILEBEAT_SERVICE.port,
    "logging.level": "info",
    "logging.to_stderr": true,
    "logging.to_files": false,
  };
  return `# Rendered by atra-observability for stack "${args.stack}". Do not edit: change the stack config.\n${yaml.dump(document, {
    lineWidth: -1,
    noRefs: true,
  })}`;
}

/**
 * One filestream input per service. Raw lines (no parser). Rotation by rename or by new files is
 * followed: a renamed or removed file is read to its end through the open handle (renamed/removed do
 * not close it), and the handle is closed after 5 minutes without new lines.
 *
 * File identity: `native` (inode and device), with the scanner's fingerprinting off, so a file is
 * shipped from its first byte. Filebeat 9's default, `fingerprint`, hashes the first 1024 bytes and does
 * not read a shorter file at all: the scanner skips it (elastic/beats filebeat/input/filestream/fswatch.go:
 * defaultFileScannerConfig has `Fingerprint.Enabled: true, Length: DefaultFingerprintSize` (1024), and
 * toFileDescriptor returns errFileTooSmall below offset + length, which GetFiles skips), whatever the
 * file identity, so `native` alone is not enough. A smaller fingerprint (64 bytes at least, sha256's block
 * size: newFileScanner refuses less) is no fix for structlog files: structlog's JSONRenderer writes the
 * `timestamp` last, so two runs' files that start with the same event share their first 64 bytes, get
 * the same fingerprint, and the second is skipped as "an already known ingest target" or resumed at the
 * first one's offset (test/unit/filebeat-config.test.ts shows it with real structlog output).
 * `native`'s own risk, a new file reusing a deleted file's inode: filestream opens it at the old file's
 * offset, from 0 when the new one is shorter (input.go: "File was truncated. Reading file from offset 0"),
 * so only a reused inode whose file outgrew the old offset before the next scan (10 s) loses its start;
 * and a device number that changes (some network or LVM setups after a reboot) re-reads every file once.
 * Switching an existing registry from fingerprint to native re-reads the files present (filestream
 * migrates registry keys only towards fingerprint: prospector.go, fileProspector.Init): README, "Logs".
 *
 * `clean_removed` is off because `close.on_state_change.removed` is off: elastic/beats
 * docs/reference/filebeat/filebeat-input-filestream.md (`clean_removed`): "You must disable this
 * option if you also disable close.on_state_change.removed" (on Linux `removed` is off by default
 * since 9.1 while `clean_removed` is on by default, so the rule needs both set here). Otherwise the
 * registry state of a file still being read through its open handle could be dropped, and the
 * file read again from the start (duplicates) if it reappears. The price: one
 * small registry entry per rotated file stays until the registry is cleaned (`clean_inactive`
 * stays at its default -1, because it needs `ignore_older`, which would skip old files that have not
 * been shipped yet). Keeping every line matters more here than a registry that never grows.
 */
function filestreamInput(service: ServiceIdentity, globs: string[]): Record<string, unknown> {
  return {
    type: "filestream",
    id: filestreamInputId(service.name),
    paths: [...globs],
    // The service's own fields (catalog.ts: `service.name` and its metadata); `host.name` is the processor's above.
    fields: logFields(serviceLabels(service)),
    fields_under_root: true,
    "file_identity.native": null,
    "prospector.scanner.fingerprint.enabled": false,
    "prospector.scanner.check_interval": "10s",
    "close.on_state_change.inactive": "5m",
    "close.on_state_change.renamed": false,
    "close.on_state_change.removed": false,
    clean_removed: false,
  };
}

/**
 * The URL as `output.elasticsearch.hosts` must carry it: with its port written out. Filebeat's
 * Elasticsearch output turns every host into a URL with common.MakeURL(protocol, path, host, 9200)
 * (elastic/beats libbeat/outputs/elasticsearch/elasticsearch.go, makeES), and MakeURL keeps that
 * default port 9200 unless the host names one (libbeat/common/url.go: `port := strconv.Itoa(defaultPort)`,
 * replaced only when net.SplitHostPort finds one), whatever the scheme. So `https://logs.example` is
 * dialled on 9200, not on the 443 a browser, Node or Go's net/http would use. The port the URL means
 * (its own, else 443 for https and 80 for http, which the WHATWG parser the config validates with
 * leaves out) is written out, and the scheme in the lower case MakeURL's `hasScheme` pattern
 * (`^([a-z][a-z0-9+\-.]*)://`) recognises. A path (a cluster behind a proxy prefix) and a query are
 * kept; a lone `/` is dropped. test/program/filebeat-hosts.test.ts reads every stack's hosts as MakeURL does.
 */
export function filebeatHost(url: string): string {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const path = parsed.pathname === "/" ? "" : parsed.pathname;
  // `hostname` keeps an IPv6 address in its brackets, as a URL writes it.
  return `${parsed.protocol}//${parsed.hostname}:${port}${path}${parsed.search}`;
}

function envReference(name: string): string {
  return "${" + name + "}";
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function argumentProblems(args: FilebeatConfigArgs): string[] {
  const problems: string[] = [];
  const credentials: [string, string | undefined][] = args.apiKeyEnv
    ? [["apiKeyEnv", args.apiKeyEnv]]
    : [
        ["usernameEnv", args.usernameEnv],
        ["passwordEnv", args.passwordEnv],
      ];
  if (args.apiKeyEnv && (args.usernameEnv || args.passwordEnv)) problems.push("give apiKeyEnv or usernameEnv/passwordEnv, not both");
  for (const [key, value] of credentials) {
    if (value === undefined || !ENV_NAME.test(value)) problems.push(`${key} "${value ?? ""}" is not an environment variable name`);
  }
  if (args.tls?.caFingerprint !== undefined && !/^[0-9a-f]{64}$/.test(args.tls.caFingerprint))
    problems.push("tls.caFingerprint must be 64 lower-case hex digits (Filebeat's ssl.ca_trusted_fingerprint)");
  if (args.tls?.caFile !== undefined && !args.tls.caFile.startsWith("/"))
    problems.push(`tls.caFile "${args.tls.caFile}" must be an absolute path in the container`);
  if (args.tls?.verificationMode !== undefined && !["full", "certificate"].includes(args.tls.verificationMode))
    problems.push(`tls.verificationMode "${String(args.tls.verificationMode)}" must be full or certificate`);
  if ((args.tls?.caFile || args.tls?.caFingerprint || args.tls?.verificationMode) && !args.elasticsearchUrl.toLowerCase().startsWith("https:"))
    problems.push("tls settings need an https:// elasticsearchUrl");
  // The file is not secret: the same URL rule as every rendered file (credentials come from the environment).
  for (const problem of httpUrlProblems(args.elasticsearchUrl)) problems.push(`elasticsearchUrl ${problem}`);
  const dataStreamProblem = validateDataStreamName(args.dataStream);
  if (dataStreamProblem) problems.push(`dataStream ${dataStreamProblem}`);
  // Filebeat expands ${...} and %{...} in its strings: the pipeline name keeps to the data stream's safe set.
  if (args.pipeline !== undefined && !/^[a-z0-9][a-z0-9._-]*$/.test(args.pipeline))
    problems.push(`pipeline "${args.pipeline}" must be lowercase letters, digits, '.', '_' or '-'`);
  // The same shape as prometheus.hostLabel; and no `$` or `%`, which Filebeat would expand.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(args.host))
    problems.push(`host "${args.host}" must be a host name or address (letters, digits, '.', '-', '_')`);
  const [duplicate] = repeats(args.services.map((service) => service.name));
  if (duplicate) problems.push(`service "${duplicate.value}" appears twice: filestream input ids must be unique`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Mounts

export interface LogMount {
  hostPath: string;
  containerPath: string;
}

/** Characters that make a path segment a pattern (Go's filepath.Match, plus `{` which it reads literally). */
const GLOB_CHARS = /[*?[{]/;

/**
 * The directory a glob can match files in and below: the segments before the first one holding a
 * glob character; for a glob without any, the file's directory (a directory mount follows rotation,
 * a file mount would pin one inode).
 */
export function staticDirectory(glob: string): string {
  const segments = glob.split("/");
  const first = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  const kept = first === -1 ? segments.slice(0, -1) : segments.slice(0, first);
  const joined = kept.join("/").replace(/\/+$/, "");
  return joined === "" ? "/" : joined;
}

/** The fewest read-only directory mounts that cover every glob, each at the same path in the container. */
export function logMounts(services: LogService[]): LogMount[] {
  const directories = [...new Set(services.flatMap((service) => (service.logs ?? []).map(staticDirectory)))].sort();
  const kept = directories.filter((dir) => !directories.some((other) => other !== dir && isInside(dir, other)));
  return kept.map((dir) => ({ hostPath: dir, containerPath: dir }));
}

function isInside(path: string, directory: string): boolean {
  return directory === "/" || path === directory || path.startsWith(`${directory}/`);
}

// ---------------------------------------------------------------------------------------------
// Checks on the globs

export interface LogGlobIssue {
  /** Config path, e.g. ["services", 1, "logs", 0]; the caller turns it into a config key. */
  path: (string | number)[];
  message: string;
}

/** Directories never mounted into the shipper, nor anything below them. */
const SYSTEM_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/run",
  "/var/lib/docker",
  "/var/lib/containerd",
];
/** Directories too broad to mount as a whole (below them is fine, e.g. /home/app/logs). */
const BROAD_DIRECTORIES = ["/", "/home", "/var", "/var/lib"];

/** Every problem with the catalog's `logs` globs, each with its config path. */
export function logGlobIssues(services: LogService[]): LogGlobIssue[] {
  const issues: LogGlobIssue[] = [];
  const firstOwner = new Map<string, { service: string; index: number; logIndex: number }>();
  services.forEach((service, index) => {
    const seenHere = new Map<string, number>();
    (service.logs ?? []).forEach((glob, logIndex) => {
      const path = ["services", index, "logs", logIndex];
      const problem = globProblem(glob);
      if (problem) {
        issues.push({ path, message: problem });
        return;
      }
      const earlier = seenHere.get(glob);
      if (earlier !== undefined) {
        issues.push({ path, message: `"${glob}" is listed twice for this service (also logs[${earlier}])` });
        return;
      }
      seenHere.set(glob, logIndex);
      const owner = firstOwner.get(glob);
      if (owner && owner.service !== service.name) {
        issues.push({
          path,
          message: `"${glob}" is also a log glob of service "${owner.service}" (services[${owner.index}].logs[${owner.logIndex}]); a file belongs to one service, or its lines are shipped twice`,
        });
        return;
      }
      if (!owner) firstOwner.set(glob, { service: service.name, index, logIndex });
    });
  });
  return issues;
}

/** The first thing wrong with one glob, or undefined. */
export function globProblem(glob: string): string | undefined {
  if (glob.trim() === "") return "must not be empty";
  if (glob !== glob.trim()) return `"${glob}" has leading or trailing whitespace`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(glob)) return "must not contain control characters (a newline, a tab)";
  if (!glob.startsWith("/")) return `"${glob}" must be an absolute path on the Docker host (starting with /), not relative`;
  if (glob.endsWith("/")) {
    // Suggest only a glob that is itself accepted ("/" or "/etc/" would give one that is refused).
    const suggestion = globProblem(`${glob}*.log`) === undefined ? `${glob}*.log` : "/srv/<app>/logs/*.log";
    return `"${glob}" ends with '/': name the files, e.g. ${suggestion}`;
  }
  const segments = glob.slice(1).split("/");
  if (segments.includes("..")) return `"${glob}" must not contain '..' segments`;
  if (segments.includes(".") || segments.includes("")) return `"${glob}" must be a normalized path (no '.' segments, no '//')`;
  if (glob.includes("\\")) return `"${glob}" must not contain a backslash (escapes are not supported)`;
  if (glob.includes("$")) return `"${glob}" must not contain '$' (Filebeat would read \${...} as an environment variable)`;
  if (/[{}]/.test(glob)) return `"${glob}" uses {...}: Filebeat's globs have no alternatives (Go reads '{' literally); list one glob per alternative`;

  const doubleStars = segments.filter((segment) => segment.includes("**"));
  if (doubleStars.some((segment) => segment !== "**")) {
    return `"${glob}" has '**' inside a segment, where it matches like '*'; '**' is recursive only as a whole segment, e.g. /srv/app/**/*.log`;
  }
  if (doubleStars.length > 1) return `"${glob}" has more than one '**' (Filebeat accepts one per glob)`;
  if (segments[segments.length - 1] === "**") {
    return `"${glob}" ends in '**', which matches directories at every depth; end with a file pattern, e.g. ${glob}/*.log`;
  }
  for (const segment of segments) {
    const classProblem = characterClassProblem(segment);
    if (classProblem) return `"${glob}" ${classProblem}`;
  }

  const directory = staticDirectory(glob);
  if (directory.includes(":")) return `"${glob}": the directory ${directory} contains ':', which a Docker bind mount cannot express`;
  if (BROAD_DIRECTORIES.includes(directory)) {
    return `"${glob}" would mount ${directory} into the log shipper; keep the logs in a directory of their own, e.g. /srv/<app>/logs/*.log`;
  }
  const tree = SYSTEM_TREES.find((system) => isInside(directory, system));
  if (tree)
    return `"${glob}" would mount ${directory}, a system directory (${tree}), into the log shipper; that is refused: keep the logs in a directory of their own`;
  return undefined;
}

/**
 * Go's filepath.Match character classes: `[`, an optional `^`, one or more characters or ranges
 * `a-z` (a `-` or `]` only escaped), then `]`. Anything else is ErrBadPattern, and Filebeat matches
 * nothing with it. `[!...]` is valid in Go but means "! or ...", not negation.
 */
function characterClassProblem(segment: string): string | undefined {
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] !== "[") continue;
    let j = i + 1;
    if (segment[j] === "!") return "uses [!...]: Go's globs negate a class with [^...]";
    if (segment[j] === "^") j++;
    let ranges = 0;
    for (;;) {
      if (j >= segment.length) return "has a '[' that is never closed";
      if (segment[j] === "]" && ranges > 0) break;
      if (segment[j] === "-" || segment[j] === "]") return "has a malformed [...] class (a '-' or ']' where a character belongs)";
      j++;
      if (segment[j] === "-") {
        j++;
        if (j >= segment.length || segment[j] === "-" || segment[j] === "]") return "has a malformed [...] range";
        if (segment[j] < segment[j - 2]) return `has a [...] range that runs backwards (${segment[j - 2]}-${segment[j]})`;
        j++;
      }
      ranges++;
    }
    i = j;
  }
  return undefined;
}
