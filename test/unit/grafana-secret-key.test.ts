/**
 * Grafana's generated `secret_key` applies only to a database created with it (components/grafana/grafana-server.ts,
 * KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE): the script runs here in Debian's dash and busybox sh (the image's
 * /bin/sh is busybox ash, Alpine), in a temporary data directory, and the environment Grafana would then get is read
 * back with `env`.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
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
  function run(secretKey = "the-stack-key"): { key: string | undefined; stderr: string; status: number | null } {
    const script = [...KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE, "env"].join("\n");
    const result = spawnSync(shell[0], [...shell.slice(1), script], {
      env: { PATH: "/usr/bin:/bin", GF_PATHS_DATA: data, GF_SECURITY_SECRET_KEY: secretKey },
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

  const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

  test("the marker holds the sha256 of the key it was written with, not the key", () => {
    run();
    const marker = fs.readFileSync(path.join(data, SECRET_KEY_MARKER), "utf8");
    expect(marker).toBe(`${sha256("the-stack-key")}\n`);
    expect(marker).not.toContain("the-stack-key");
  });

  test("destroy + up: a new key on a database made with the old one refuses to start, naming the recovery; the marker stays", () => {
    run("the-old-key");
    fs.writeFileSync(path.join(data, "grafana.db"), "");
    const result = run("a-new-key");
    expect(result.status).toBe(1);
    expect(result.key).toBeUndefined(); // `env` never ran: Grafana is not started
    expect(result.stderr).toContain("grafana.db was made with another secret_key than the stack's");
    expect(result.stderr).toContain("docs/upgrading.md");
    expect(fs.readFileSync(path.join(data, SECRET_KEY_MARKER), "utf8")).toBe(`${sha256("the-old-key")}\n`);
  });

  test("an empty marker (the version before, or the migration's touch) is taken as the current key's and gets its hash", () => {
    fs.writeFileSync(path.join(data, "grafana.db"), "");
    fs.writeFileSync(path.join(data, SECRET_KEY_MARKER), "");
    expect(run()).toEqual({ key: "the-stack-key", stderr: "", status: 0 });
    expect(fs.readFileSync(path.join(data, SECRET_KEY_MARKER), "utf8")).toBe(`${sha256("the-stack-key")}\n`);
  });

  test("no database yet (nothing stored): a stale marker is rewritten for the current key", () => {
    fs.writeFileSync(path.join(data, SECRET_KEY_MARKER), `${sha256("the-old-key")}\n`);
    expect(run("a-new-key")).toEqual({ key: "a-new-key", stderr: "", status: 0 });
    expect(fs.readFileSync(path.join(data, SECRET_KEY_MARKER), "utf8")).toBe(`${sha256("a-new-key")}\n`);
  });
});
