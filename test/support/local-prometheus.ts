/**
 * The rendered Prometheus files and command line, run by Debian's Prometheus 2.42 on 127.0.0.1: the
 * command with local paths, and bcrypt hashes for the web config's logins (web-config.ts). The bcrypt hashes come from Debian's python3 `crypt` over libxcrypt (`$2b$`, cost 10, the
 * provider's default), so the web config Prometheus reads is what the stack renders, with real hashes.
 */
import { execFileSync } from "child_process";

/**
 * The rendered 3.x command line as Debian's 2.42 runs it here: `--agent` becomes `--enable-feature=agent`,
 * paths and the listen address are local. Every other flag is passed as rendered (2.42 exits on a
 * server-only flag in agent mode, so a retention flag rendered for an agent would fail a test).
 */
export function localCommand(command: string[], local: { configFile: string; dataDir: string; listen: string; webConfigFile?: string }): string[] {
  return command.map((flag) => {
    if (flag === "--agent") return "--enable-feature=agent";
    if (flag.startsWith("--config.file=")) return `--config.file=${local.configFile}`;
    if (flag.startsWith("--storage.agent.path=")) return `--storage.agent.path=${local.dataDir}`;
    if (flag.startsWith("--storage.tsdb.path=")) return `--storage.tsdb.path=${local.dataDir}`;
    if (flag.startsWith("--web.listen-address=")) return `--web.listen-address=${local.listen}`;
    if (flag.startsWith("--web.external-url=")) return `--web.external-url=http://${local.listen}`;
    if (flag.startsWith("--web.config.file=")) {
      if (!local.webConfigFile) throw new Error("the command asks for a web config (TLS and logins): give localCommand its webConfigFile");
      return `--web.config.file=${local.webConfigFile}`;
    }
    return flag;
  });
}

/** bcrypt at cost 10 (libxcrypt's `$2b$`; 2^10 rounds), the password on stdin. */
export function bcryptHash(password: string): string {
  const script = "import crypt, sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))";
  const hash = execFileSync("python3", ["-W", "ignore::DeprecationWarning", "-c", script], { input: password, encoding: "utf8" }).trim();
  if (!/^\$2b\$10\$[./A-Za-z0-9]{53}$/.test(hash)) throw new Error(`python3 crypt gave no bcrypt hash: ${hash}`);
  return hash;
}

/** GET as a login; fails on a non-2xx answer. */
export async function getJsonAs<T>(url: string, authorization: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}
