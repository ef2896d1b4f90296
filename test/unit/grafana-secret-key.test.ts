/**
 * Grafana's generated `secret_key` applies only to a database created with it (components/grafana/grafana-server.ts,
 * KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE): the script runs here in Debian's dash and busybox sh (the image's
 * /bin/sh is busybox ash, Alpine), in a temporary data directory, and the environment Grafana would then get is read
 * back with `env`.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE, SECRET_KEY_MARKER } from "../../components/grafana/grafana-server";

const SHELLS: [string, string[]][] = [
  ["dash", ["/usr/bin/dash", "-c"]],
  ["busybox sh", ["/bin/busybox", "sh", "-c"]],
];

describe.each(SHELLS)("the secret_key guard (%s)", (_name, shell) => {
  let data: string;
  beforeEach(() => (data = fs.mkdtempSync(path.join(os.tmpdir(), "atra-grafana-data-"))));
  afterEach(() => fs.rmSync(data, { recursive: true, force: true }));

  /** The guard, then `env`: what Grafana's run.sh would be exec'd with. */
  function run(): { key: string | undefined; stderr: string; status: number | null } {
    const script = [...KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE, "env"].join("\n");
    const result = spawnSync(shell[0], [...shell.slice(1), script], {
      env: { PATH: "/usr/bin:/bin", GF_PATHS_DATA: data, GF_SECURITY_SECRET_KEY: "the-stack-key" },
      encoding: "utf8",
    });
    const line = result.stdout.split("\n").find((entry) => entry.startsWith("GF_SECURITY_SECRET_KEY="));
    return { key: line?.slice("GF_SECURITY_SECRET_KEY=".length), stderr: result.stderr, status: result.status };
  }

  test("a new database: the marker is written before Grafana creates it, and the stack's key applies, then and on every later start", () => {
    expect(run()).toEqual({ key: "the-stack-key", stderr: "", status: 0 });
    expect(fs.existsSync(path.join(data, SECRET_KEY_MARKER))).toBe(true);
    fs.writeFileSync(path.join(data, "grafana.db"), "");
    expect(run()).toEqual({ key: "the-stack-key", stderr: "", status: 0 });
  });

  test("a database made before (no marker): Grafana's default key stays, with a warning; no marker is written", () => {
    fs.writeFileSync(path.join(data, "grafana.db"), "");
    const result = run();
    expect(result.key).toBeUndefined();
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("grafana.db predates the stack's secret_key");
    expect(fs.existsSync(path.join(data, SECRET_KEY_MARKER))).toBe(false);
  });
});
