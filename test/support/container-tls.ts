/**
 * Harness for running the stack's TLS healthchecks the way Docker runs them: inside a container, by the
 * daemon, against a TLS server in the same container. Nothing can be pulled here, so the image is made
 * with `docker import` from this machine's own Debian binaries: busybox-static (for /bin/sh and a few
 * applets), /usr/bin/curl and /usr/bin/openssl with every shared library `ldd` lists for them, copied at
 * the paths `ldd` shows (the dynamic loader included). The containers are created through the Engine API
 * (POST /containers/create), because only there can a healthcheck be given in both of the forms the stack
 * renders: `CMD-SHELL` (Elasticsearch, Kibana) and the exec form `CMD` (Grafana); `docker run
 * --health-cmd` always makes a CMD-SHELL one.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { docker } from "./docker";

const BUSYBOX = "/bin/busybox";
export const TLS_TOOLS = ["/usr/bin/curl", "/usr/bin/openssl"];
/** busybox applets the healthchecks (`sh`, `printf`, `grep`) and the server script use. */
const APPLETS = ["sh", "cat", "printf", "mkfifo", "rm", "grep", "sleep"];

/** The files `ldd` says `binary` loads: the libraries it found and the dynamic loader. */
function sharedLibraries(binary: string): string[] {
  const listing = execFileSync("ldd", [binary], { encoding: "utf8" });
  const files: string[] = [];
  for (const line of listing.split("\n")) {
    if (line.includes("not found")) throw new Error(`ldd ${binary}: ${line.trim()}`);
    const found = /=>\s+(\/\S+)\s+\(/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (found) files.push(found[1]);
  }
  return files;
}

/** Copy a host file into the root filesystem at the same path (its content: a symbolic link is followed). */
function copyAtSamePath(root: string, file: string): void {
  const target = path.join(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  fs.copyFileSync(file, target);
  fs.chmodSync(target, fs.statSync(file).mode & 0o777);
}

/**
 * The image: busybox, curl, openssl and their libraries; /tmp writable by all; an empty /etc/ssl/certs
 * (curl's default CA path in Debian's build, so that nothing but the `--cacert` file is trusted). Its
 * reference is `atra-test-tls:t<random>`, unique per run; the caller removes it by id.
 */
export function buildTlsToolsImage(): { ref: string; id: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "atra-tls-image-"));
  try {
    fs.chmodSync(root, 0o755);
    copyAtSamePath(root, BUSYBOX);
    for (const applet of APPLETS) fs.symlinkSync("busybox", path.join(root, "bin", applet));
    const files = new Set<string>();
    for (const tool of TLS_TOOLS) {
      files.add(tool);
      for (const library of sharedLibraries(tool)) files.add(library);
    }
    for (const file of files) copyAtSamePath(root, file);
    fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.mkdirSync(path.join(root, "etc/ssl/certs"), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    const tarball = execFileSync("tar", ["-C", root, "--owner=0", "--group=0", "-c", "."], { maxBuffer: 256 * 1024 * 1024 });
    const ref = `atra-test-tls:t${randomBytes(4).toString("hex")}`;
    const id = docker(["import", "--change", 'CMD ["sh"]', "-", ref], tarball);
    return { ref, id };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * A small HTTPS server for busybox sh: `openssl s_server` terminates TLS with the given chain and key, one
 * connection per run (`-naccept 1`), its decrypted input on standard output (`-quiet`: nothing else there)
 * and what it reads from standard input sent back, through a FIFO. The shell reads the request line and
 * headers, logs one line per request to /tmp/requests.log (the request line, the Host header, and whether
 * the login matched: `login=ok|wrong|none`; the login itself is never written), and answers 200, or 401
 * when a login is required (the file in $4 is not empty) and the request does not carry exactly it. A
 * real check of the login, unlike `openssl s_server -www`, which answers every GET with 200.
 *
 * Arguments: port, certificate chain file, key file, file holding the required Authorization value.
 */
export const TLS_SERVER_SCRIPT = `
port=$1 chain=$2 key=$3
required=$(cat "$4" 2>/dev/null)
log=/tmp/requests.log
reply=/tmp/tls-reply
rm -f "$reply"
mkfifo "$reply"
: > "$log"
cr=$(printf '\\r')
while :; do
  openssl s_server -quiet -naccept 1 -accept "$port" -cert "$chain" -key "$key" < "$reply" | {
    IFS= read -r request || exit 0
    request=\${request%"$cr"}
    host= authorization=
    while IFS= read -r header; do
      header=\${header%"$cr"}
      [ -z "$header" ] && break
      case $header in
        [Hh]ost:*) host=\${header#*: } ;;
        [Aa]uthorization:*) authorization=\${header#*: } ;;
      esac
    done
    if [ -z "$authorization" ]; then login=none; elif [ "$authorization" = "$required" ]; then login=ok; else login=wrong; fi
    printf '%s host=%s login=%s\\n' "$request" "$host" "$login" >> "$log"
    if [ -z "$required" ] || [ "$login" = ok ]; then status='200 OK'; else status='401 Unauthorized'; fi
    printf 'HTTP/1.1 %s\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\n{}' "$status"
  } > "$reply"
done
`;

/** The Engine API's unix socket: DOCKER_HOST's when it names one, else the default. */
function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  throw new Error(`DOCKER_HOST=${host}: this harness speaks to the Engine API over a unix socket only`);
}

/** One Engine API call; the status and the parsed JSON answer. */
export function engineApi(method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: engineSocket(),
        path: apiPath,
        method,
        headers: payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {},
        timeout: 60_000,
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          try {
            resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          } catch (error) {
            reject(new Error(`${method} ${apiPath}: HTTP ${response.statusCode}: ${text.slice(0, 500)} (${String(error)})`));
          }
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${method} ${apiPath}: no answer within 60 s`)));
    request.on("error", reject);
    request.end(payload);
  });
}

/** Docker's healthcheck settings (api/types/container HealthConfig): durations in nanoseconds. */
export interface HealthConfig {
  Test: string[];
  Interval: number;
  Timeout: number;
  Retries: number;
  StartPeriod?: number;
}

/** What is needed to create a container running TLS_SERVER_SCRIPT behind a healthcheck. */
export interface TlsServerContainer {
  image: string;
  /** The user the server and the healthcheck run as (Docker execs the probe as Config.User). */
  user: string;
  env: string[];
  healthcheck: HealthConfig;
  /** The server's arguments: port, chain file, key file, file of the required login. */
  serverArgs: [string, string, string, string];
  labels: Record<string, string>;
}

/** Create (not start) the container on the default bridge, no ports published; its id. */
export async function createTlsServerContainer(spec: TlsServerContainer): Promise<string> {
  const { status, json } = await engineApi("POST", "/containers/create", {
    Image: spec.image,
    User: spec.user,
    Env: spec.env,
    Cmd: ["/bin/sh", "/srv/serve.sh", ...spec.serverArgs],
    Labels: spec.labels,
    Healthcheck: spec.healthcheck,
    HostConfig: { NetworkMode: "bridge" },
  });
  const id = (json as { Id?: string } | undefined)?.Id;
  if (status !== 201 || !id) throw new Error(`POST /containers/create: HTTP ${status}: ${JSON.stringify(json)}`);
  return id;
}

/** One file to put in a container: where, what, and its mode. */
export interface ContainerFile {
  file: string;
  content: string;
  mode: number;
}

/**
 * Put files in a (created) container as `docker cp - <id>:/` does: a tar archive owned by root (as the
 * Docker provider's uploads are, kreuzwerker/terraform-provider-docker: no owner in the tar header), with
 * each file's mode and every directory 0755.
 */
export function copyIntoContainer(id: string, files: ContainerFile[]): void {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "atra-tls-files-"));
  try {
    const tops = new Set<string>();
    for (const { file, content, mode } of files) {
      const relative = file.replace(/^\/+/, "");
      tops.add(relative.split("/")[0]);
      const target = path.join(stage, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
      fs.chmodSync(target, mode);
      for (let dir = path.dirname(target); dir !== stage; dir = path.dirname(dir)) fs.chmodSync(dir, 0o755);
    }
    const tarball = execFileSync("tar", ["-C", stage, "--owner=0", "--group=0", "-c", ...[...tops].sort()], { maxBuffer: 16 * 1024 * 1024 });
    docker(["cp", "-", `${id}:/`], tarball);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** A healthcheck run as `docker inspect` shows it (api/types/container HealthcheckResult). */
export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface Health {
  Status: string;
  FailingStreak: number;
  Log: HealthResult[];
}

export interface Inspected {
  State: { Running: boolean; Health?: Health };
  Config: { Healthcheck?: HealthConfig; User: string };
  HostConfig: { NetworkMode: string; PortBindings?: Record<string, unknown> | null };
  NetworkSettings: { Ports?: Record<string, unknown> | null };
}

export function inspect(id: string): Inspected {
  return JSON.parse(docker(["inspect", "--type", "container", id]))[0] as Inspected;
}

/**
 * Poll `docker inspect` (every 250 ms, at most `timeoutMs`) until `done` holds for the container's state;
 * fail at once if `giveUp` holds, or with the last state seen at the deadline.
 */
export async function waitForHealth(
  id: string,
  timeoutMs: number,
  done: (health: Health) => boolean,
  giveUp?: (health: Health) => boolean,
): Promise<Inspected> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = inspect(id);
    if (state.State.Health && done(state.State.Health)) return state;
    if (state.State.Health && giveUp?.(state.State.Health)) throw new Error(`container ${id.slice(0, 12)}: ${JSON.stringify(state.State)}`);
    if (Date.now() > deadline) {
      throw new Error(`container ${id.slice(0, 12)}: timed out after ${timeoutMs} ms; last state ${JSON.stringify(state.State)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The lines the server logged (see TLS_SERVER_SCRIPT), read in the running container. */
export function requestLog(id: string): string[] {
  return docker(["exec", id, "cat", "/tmp/requests.log"])
    .split("\n")
    .filter((line) => line !== "");
}
