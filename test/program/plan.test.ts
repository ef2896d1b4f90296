/**
 * `npm run plan` as a user runs it: the real CLI in a child process, for good and bad stacks. Bad
 * stack files are written into a copy of the project, never into the repository (other tests list
 * its stack files).
 */
import * as fs from "fs";
import * as path from "path";
import { copyProject, ProjectCopy, runPlanCli } from "../support/project-copy";
import { tempDir } from "../support/real-tools";

describe("npm run plan", () => {
  let copy: ProjectCopy;
  const out = tempDir("atra-plan-");
  const plan = (args: string[]) => runPlanCli(copy, args);
  beforeAll(() => {
    copy = copyProject();
  });
  afterAll(() => {
    fs.rmSync(out, { recursive: true, force: true });
    copy?.remove();
  });

  test("plans the prod stack (with its encrypted secret) offline, writes every artifact and says what it did", () => {
    const result = plan(["--stack", "prod", "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/atra:grafana:GrafanaConfiguration\s+grafana-config/);
    expect(result.stdout).toMatch(/docker:index\/volume:Volume\s+prometheus-data.*retained on delete/);
    expect(result.stdout).toMatch(/\nplanned \d+ resources for stack "prod" in \d+ ms \(offline: nothing was created or changed\); artifacts in /);
    expect(result.stdout).not.toMatch(/deployed/i);
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
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      parent?: string;
      dependencies: string[];
      inputs: unknown;
    }[];
    expect(result.stdout).toContain(`planned ${resources.length} resources`);
    expect(resources.find((r) => r.name === "grafana" && r.type === "docker:index/container:Container")).toMatchObject({
      parent: expect.stringContaining("GrafanaServer"),
      dependencies: expect.arrayContaining([expect.stringContaining("grafana-data")]),
    });
    // The encrypted value of the stack file is planned as a secret and never written out.
    const everything = files
      .filter((f) => fs.statSync(path.join(out, f)).isFile())
      .map((f) => fs.readFileSync(path.join(out, f), "utf8"))
      .join("\n");
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

  test("a bad stack config prints every config error, says nothing was planned, and exits non-zero", () => {
    copy.add(
      "Pulumi.plan-test-bad.yaml",
      "config:\n  atra-observability:services:\n    - name: Bad Name\n      metrics: nope\n  atra-observability:prometheus:\n    retentionTime: forever\n",
    );
    const result = plan(["--stack", "plan-test-bad", "--out", path.join(out, "bad")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("atra-observability:services[0].name");
    expect(result.stderr).toContain("atra-observability:services[0].metrics");
    expect(result.stderr).toContain("atra-observability:prometheus.retentionTime");
    expect(result.stderr).toContain('Stack config "plan-test-bad": 3 problems; nothing was created or changed:');
    expect(result.stderr).toContain('nothing was planned for stack "plan-test-bad"; no artifact was written');
    expect(result.stderr).not.toMatch(/deployed/i);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a list of problems, not a stack trace
    expect(result.stdout).toBe("");
    expect(fs.existsSync(path.join(out, "bad"))).toBe(false);
  });

  test("the newcomer's mistakes, all at once: a mistyped or unknown namespace, ports 0 and 70000, a secret where none belongs", () => {
    copy.add(
      "Pulumi.plan-test-mistakes.yaml",
      [
        "config:",
        "  atra-observabilty:bindAddress: 0.0.0.0",
        "  grafna:url: http://localhost:3000",
        "  pulumi:disable-default-providers: ['*']",
        "  docker:host: unix:///var/run/docker.sock",
        "  atra-observability:services:",
        "    - name: api",
        "      metrics:",
        "        secure: v1:c2VjcmV0:c2VjcmV0",
        "      health: http://api:0/health",
        "    - name: agent",
        "      health: http://agent:70000/health",
        "",
      ].join("\n"),
    );
    const result = plan(["--stack", "plan-test-mistakes", "--out", path.join(out, "mistakes")]);
    expect(result.status).toBe(1);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
    expect(problems).toEqual([
      expect.stringMatching(/^ {2}- atra-observability:services\[0\]\.health: port 0 is out of range: a port must be 1-65535$/),
      expect.stringMatching(/^ {2}- atra-observability:services\[0\]\.metrics: is stored encrypted but is not a secret setting/),
      expect.stringMatching(/^ {2}- atra-observability:services\[1\]\.health: port 70000 is out of range: a port must be 1-65535$/),
      expect.stringMatching(/^ {2}- atra-observabilty:bindAddress: unknown namespace "atra-observabilty" \(did you mean atra-observability:bindAddress\?\)/),
      expect.stringMatching(
        /^ {2}- grafna:url: unknown namespace "grafna": this program reads atra-observability:\* keys; besides them only Pulumi's own \(pulumi:\*\) and its providers' \(docker:\*, grafana:\*, random:\*, tls:\*\) are allowed$/,
      ),
    ]);
    expect(result.stderr).toContain('nothing was planned for stack "plan-test-mistakes"');
  });

  test("a YAML syntax error in a stack file names the file and the line", () => {
    copy.add("Pulumi.plan-test-yaml.yaml", "config:\n  atra-observability:bindAddress: 127.0.0.1\n  atra-observability:appNetworks: [atra-network\n");
    const result = plan(["--stack", "plan-test-yaml"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Pulumi\.plan-test-yaml\.yaml:4: not valid YAML \(line 4, column 1\): /);
    expect(result.stderr).toContain('nothing was planned for stack "plan-test-yaml"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test("a broken dashboard or rule file a user added is named, and nothing is planned", () => {
    const dashboard = copy.add("dashboards/team/broken.json", '{\n  "title": "Broken",\n  "panels": [\n}\n');
    const rules = copy.add(
      "alerts/team.yml",
      "groups:\n  - name: team\n    rules:\n      - alert: NoSummary\n        expr: up == 0\n        labels: { severity: page }\n",
    );
    try {
      const result = plan(["--stack", "dev", "--out", path.join(out, "broken")]);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /^Dashboards: 1 problem; nothing was created or changed:\n {2}- dashboards\/team\/broken\.json: invalid JSON \(Unexpected token '\}', .* is not valid JSON\)\n\nnothing was planned/,
      );
      expect(result.stderr).toContain('nothing was planned for stack "dev"');
      fs.rmSync(dashboard);
      const second = plan(["--stack", "dev", "--out", path.join(out, "broken")]);
      expect(second.stderr).toMatch(/^Alert rule files: 2 problems; nothing was created or changed:\n/);
      expect(second.stderr).toContain('alerts/team.yml, group "team", rule "NoSummary": severity "page" is not one of critical, warning, info');
      expect(second.stderr).toContain('alerts/team.yml, group "team", rule "NoSummary": needs annotations.summary');
      expect(fs.existsSync(path.join(out, "broken"))).toBe(false);
    } finally {
      fs.rmSync(dashboard, { force: true });
      fs.rmSync(rules, { force: true });
    }
  });

  test("an unknown stack or missing --stack is a usage error", () => {
    expect(plan(["--stack", "nope"]).stderr).toContain("no stack file Pulumi.nope.yaml");
    expect(plan([]).status).toBe(2);
  });
});
