/**
 * Harness for tests that run the real Prometheus tools from Debian's packages: find them, start
 * them on 127.0.0.1 with bounded waits, stop them by PID. Missing tools skip the suite on a
 * developer machine but fail it under CI (CI=true), where .ci/run must have installed them.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** `describe` when every tool is present; otherwise skipped locally, failing under CI. */
export function describeWithTools(tools: string[], title: string, body: () => void): void {
  const missing = tools.filter((tool) => !findTool(tool));
  if (missing.length === 0) {
    describe(title, body);
  } else if (process.env.CI === "true") {
    describe(title, () => {
      test("required tools are installed", () => {
        throw new Error(
          `missing ${missing.join(", ")}: .ci/run must install them (Debian packages prometheus, prometheus-node-exporter, prometheus-blackbox-exporter)`,
        );
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${missing.join(", ")} not installed)`, body);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
}

export function startProcess(name: string, command: string, args: string[]): RunningProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { name, child, output: () => output };
}

/** Stop by PID: SIGTERM, then SIGKILL if it has not exited within the grace period. */
export async function stopProcess(process_: RunningProcess | undefined, graceMs = 5000): Promise<void> {
  if (!process_ || process_.child.exitCode !== null || process_.child.signalCode !== null || !process_.child.pid) return;
  const exited = new Promise<void>((resolve) => process_.child.once("exit", () => resolve()));
  process.kill(process_.child.pid, "SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    process.kill(process_.child.pid, "SIGKILL");
    await exited;
  }
}

/** Poll `check` until it returns a value (not undefined), or fail after `timeoutMs` with what was last seen. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Run a command to completion; returns status and combined output (never throws on a non-zero exit). */
export function runTool(command: string, args: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    return { status: 0, output };
  } catch (error) {
    const failure = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failure.status ?? 1, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}
