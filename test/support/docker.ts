/**
 * Harness for tests against a real Docker Engine (Debian's docker.io, started by .ci/run): is one
 * answering, a tiny image built locally from Debian's busybox-static (nothing can be pulled), and
 * removal by id of whatever a test made. Without an engine the suite is skipped on a developer
 * machine but fails under CI (CI=true), where .ci/run must have started one.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const BUSYBOX = "/bin/busybox";

export function docker(args: string[], input?: string | Buffer): string {
  return execFileSync("docker", args, { encoding: "utf8", input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], timeout: 60_000 }).trim();
}

/** Like docker() but returns status and output instead of throwing. */
export function dockerTry(args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: docker(args) };
  } catch (error) {
    const failure = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failure.status ?? 1, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}

function dockerProblem(): string | undefined {
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian package busybox-static)`;
  const version = dockerTry(["version", "--format", "{{.Server.APIVersion}}"]);
  return version.status === 0 ? undefined : `no Docker Engine answers (${version.output.split("\n")[0]})`;
}

/** `describe` when a Docker Engine answers; otherwise skipped locally, failing under CI. */
export function describeWithDocker(title: string, body: () => void): void {
  const problem = dockerProblem();
  if (!problem) {
    describe(title, body);
  } else if (process.env.CI === "true") {
    describe(title, () => {
      test("a Docker Engine is running", () => {
        throw new Error(`${problem}: .ci/run must install docker.io and busybox-static and start dockerd`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${problem})`, body);
  }
}

/** busybox applets the probes and tests use. */
const APPLETS = ["sh", "cat", "nc", "httpd", "printf", "sleep", "true", "wget", "ip"];

/**
 * A busybox image like the Prometheus images (quay.io/prometheus/busybox, running as nobody), made
 * with `docker import` of a root filesystem holding Debian's static busybox. Returns its reference
 * (`atra-test-busybox:<random>`, a tag the stack's image schema accepts) and id. `scripts` replaces
 * applets by shell scripts.
 */
export function buildBusyboxImage(scripts: Record<string, string> = {}): { ref: string; id: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "atra-busybox-"));
  try {
    fs.mkdirSync(path.join(root, "bin"));
    fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
    fs.mkdirSync(path.join(root, "etc"));
    fs.copyFileSync(BUSYBOX, path.join(root, "bin/busybox"));
    fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
    for (const applet of APPLETS) if (!scripts[applet]) fs.symlinkSync("busybox", path.join(root, "bin", applet));
    // Stand-ins for applets (e.g. an `nc` that hangs, to interrupt a run mid-probe).
    for (const [name, script] of Object.entries(scripts)) fs.writeFileSync(path.join(root, "bin", name), script, { mode: 0o755 });
    fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    const tarball = execFileSync("tar", ["-C", root, "--owner=0", "--group=0", "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
    const ref = `atra-test-busybox:t${randomBytes(4).toString("hex")}`;
    const id = docker(["import", "--change", "USER nobody", "--change", 'CMD ["sh"]', "-", ref], tarball);
    return { ref, id };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Remove containers, networks and images by id (never by name pattern); missing ones are fine. */
export function removeById(kind: "container" | "network" | "image", ids: (string | undefined)[]): void {
  const list = ids.filter((id): id is string => Boolean(id));
  if (list.length === 0) return;
  if (kind === "container") dockerTry(["rm", "--force", "--volumes", ...list]);
  else if (kind === "network") for (const id of list) dockerTry(["network", "rm", id]);
  else dockerTry(["image", "rm", "--force", ...list]);
}

/** Containers and networks carrying `label` (key=value). */
export function labelled(label: string): { containers: string[]; networks: string[] } {
  const split = (text: string) => text.split(/\s+/).filter(Boolean);
  return {
    containers: split(docker(["ps", "--all", "--quiet", "--no-trunc", "--filter", `label=${label}`])),
    networks: split(docker(["network", "ls", "--quiet", "--no-trunc", "--filter", `label=${label}`])),
  };
}

/** The default bridge's gateway as a container on it sees it (its default route). */
export function defaultBridgeGateway(image: string): string {
  const routes = docker(["run", "--rm", "--network", "bridge", image, "cat", "/proc/net/route"]);
  const line = routes.split("\n").find((row) => row.split(/\s+/)[1] === "00000000");
  if (!line) throw new Error(`no default route on the default bridge:\n${routes}`);
  const hex = line.split(/\s+/)[2];
  return [3, 2, 1, 0].map((byte) => parseInt(hex.slice(byte * 2, byte * 2 + 2), 16)).join(".");
}
