/** `npm run plan` as a user runs it: the real CLI in a child process, for a good and a bad stack. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "./support/plan";
import { tempDir } from "./support/real-tools";

function plan(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "scripts/run-ts.js"), path.join(PROJECT_DIR, "scripts/plan.ts"), ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run plan", () => {
  const out = tempDir("atra-plan-");
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test("plans the prod stack (with its encrypted secret) offline and writes every artifact", () => {
    const result = plan(["--stack", "prod", "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/atra:grafana:GrafanaConfiguration\s+grafana-config/);
    expect(result.stdout).toMatch(/docker:index\/volume:Volume\s+prometheus-data.*retained on delete/);
    expect(result.stdout).toMatch(/resources planned for stack "prod"/);
    const files = fs.readdirSync(out, { recursive: true }).map(String).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        "resources.json",
        "outputs.json",
        "containers/atra-obs-prod-prometheus/etc/prometheus/prometheus.yml",
        "containers/atra-obs-prod-blackbox-exporter/etc/blackbox_exporter/config.yml",
        "grafana/dashboards/atra-host.json",
        "grafana/dashboards/atra-prometheus.json",
        "grafana/dashboards/atra-services-overview.json",
        "grafana/datasources/atra-prometheus-ds.json",
      ]),
    );
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as { type: string; name: string; parent?: string; dependencies: string[]; inputs: unknown }[];
    expect(resources.find((r) => r.name === "grafana" && r.type === "docker:index/container:Container")).toMatchObject({
      parent: expect.stringContaining("GrafanaServer"),
      dependencies: expect.arrayContaining([expect.stringContaining("grafana-data")]),
    });
    // The encrypted value of the stack file is planned as a secret and never written out.
    const everything = files.filter((f) => fs.statSync(path.join(out, f)).isFile()).map((f) => fs.readFileSync(path.join(out, f), "utf8")).join("\n");
    expect(everything).not.toContain("offline-plan-secret-placeholder");
    expect(everything).toContain("[secret]");
  });

  test("a second plan into the same folder replaces the first", () => {
    fs.writeFileSync(path.join(out, "stale.txt"), "from an earlier plan");
    expect(plan(["--stack", "prod", "--out", out]).status).toBe(0);
    expect(fs.existsSync(path.join(out, "stale.txt"))).toBe(false);
  });

  test("refuses to clear a folder that holds something other than a plan", () => {
    const precious = tempDir("atra-precious-");
    fs.writeFileSync(path.join(precious, "notes.txt"), "keep me");
    const result = plan(["--stack", "dev", "--out", precious]);
    expect(result.status).not.toBe(0);
    expect(fs.readFileSync(path.join(precious, "notes.txt"), "utf8")).toBe("keep me");
    fs.rmSync(precious, { recursive: true, force: true });
  });

  test("a bad stack config prints every config error and exits non-zero", () => {
    const stackFile = path.join(PROJECT_DIR, "Pulumi.plan-test-bad.yaml");
    fs.writeFileSync(
      stackFile,
      "config:\n  atra-observability:services:\n    - name: Bad Name\n      metrics: nope\n  atra-observability:prometheus:\n    retentionTime: forever\n",
    );
    try {
      const result = plan(["--stack", "plan-test-bad", "--out", path.join(out, "bad")]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("atra-observability:services[0].name");
      expect(result.stderr).toContain("atra-observability:services[0].metrics");
      expect(result.stderr).toContain("atra-observability:prometheus.retentionTime");
      expect(result.stderr).not.toMatch(/\n\s+at /); // a list of problems, not a stack trace
      expect(fs.existsSync(path.join(out, "bad"))).toBe(false);
    } finally {
      fs.rmSync(stackFile, { force: true });
    }
  });

  test("an unknown stack or missing --stack is a usage error", () => {
    expect(plan(["--stack", "nope"]).stderr).toContain("no stack file");
    expect(plan([]).status).toBe(2);
  });
});
