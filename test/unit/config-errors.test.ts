/**
 * Error messages a newcomer meets first, at the unit level (test/plan.test.ts runs them through the CLI):
 * a broken stack file names the file and line; keys in a namespace nothing reads are reported; URL
 * ports out of range say so; an encrypted value where no secret belongs is reported at its own key.
 */
import * as fs from "fs";
import * as path from "path";
import { ALLOWED_OTHER_NAMESPACES, namespaceIssues, rawConfigFromStore, securePaths, stackFileSecurePaths } from "../../components/config/pulumi-config";
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { parseRuleFiles } from "../../components/alerting/rule-files";
import { readStackFile, StackFileError } from "../../scripts/lib/stack-file";
import { PROJECT_DIR } from "../support/project-copy";
import { tempDir } from "../support/real-tools";

function issuesOf(run: () => unknown): { key: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config namespaces", () => {
  test("besides ours, exactly Pulumi's own and the namespaces of the provider packages in package.json are allowed", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const providers = Object.keys(pkg.dependencies)
      .map(
        (name) =>
          JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "node_modules", name, "package.json"), "utf8")) as {
            pulumi?: { resource?: boolean; name?: string };
          },
      )
      .filter((manifest) => manifest.pulumi?.resource === true)
      .map((manifest) => manifest.pulumi!.name!);
    expect([...ALLOWED_OTHER_NAMESPACES].sort()).toEqual(["pulumi", ...providers].sort());
  });

  test("a mistyped namespace gets a suggestion, an unknown one is named, allowed ones pass", () => {
    const issues = namespaceIssues([
      "atra-observabilty:bindAddress",
      "atra:ports",
      "kubernetes:context",
      "atra-observability:bindAddress",
      "pulumi:disable-default-providers",
      "docker:host",
      "grafana:url",
      "random:x",
    ]);
    expect(issues.map((issue) => issue.key)).toEqual(["atra-observabilty:bindAddress", "atra:ports", "kubernetes:context"]);
    expect(issues[0].message).toMatch(/^unknown namespace "atra-observabilty" \(did you mean atra-observability:bindAddress\?\): /);
    expect(issues[2].message).toMatch(/^unknown namespace "kubernetes": this program reads atra-observability:\* keys/);
  });

  test("they are reported with every other config problem, in one error", () => {
    const raw = rawConfigFromStore("dev", { "atra-observabilty:bindAddress": "0.0.0.0", "atra-observability:bindAddress": "nope" }, []);
    expect(issuesOf(() => resolveStackConfig(raw)).map((issue) => issue.key)).toEqual(["atra-observability:bindAddress", "atra-observabilty:bindAddress"]);
  });
});

describe("URL ports", () => {
  const health = (url: string) => issuesOf(() => resolveStackConfig({ stack: "dev", values: { services: [{ name: "api", health: url }] }, secretKeys: [] }));

  test("port 0 is refused and a port above 65535 is out of range (where the URL parser would only say 'invalid URL')", () => {
    expect(() => new URL("http://api:70000/health")).toThrow("Invalid URL");
    expect(health("http://api:0/health")).toEqual([
      { key: "atra-observability:services[0].health", message: "port 0 is out of range: a port must be 1-65535" },
    ]);
    expect(health("http://api:70000/health")).toEqual([
      { key: "atra-observability:services[0].health", message: "port 70000 is out of range: a port must be 1-65535" },
    ]);
    expect(health("http://user@[::1]:99999")).toEqual([expect.objectContaining({ message: "port 99999 is out of range: a port must be 1-65535" })]);
  });

  test("ports 1 and 65535 and URLs without a port are fine; other garbage is still an invalid URL", () => {
    for (const url of ["http://api:1/health", "http://api:65535/health", "https://api/health", "http://api:8000"]) {
      expect(() => resolveStackConfig({ stack: "dev", values: { services: [{ name: "api", health: url }] }, secretKeys: [] })).not.toThrow();
    }
    expect(health("http://api:80:80/health")).toEqual([expect.objectContaining({ message: "must be an absolute http:// or https:// URL" })]);
  });
});

describe("an encrypted value under a key that is not secret", () => {
  const values = { services: [{ name: "api", metrics: "http://api:8000/metrics", health: "http://api:8000/health" }] };

  test("is reported at the value's own key when the stack file says where it is", () => {
    expect(issuesOf(() => resolveStackConfig({ stack: "dev", values, secretKeys: ["services"], securePaths: [["services", 0, "metrics"]] }))).toEqual([
      { key: "atra-observability:services[0].metrics", message: expect.stringContaining("is stored encrypted but is not a secret setting") },
    ]);
  });

  test("without the stack file (config from elsewhere) at the key Pulumi marks secret", () => {
    expect(issuesOf(() => resolveStackConfig({ stack: "dev", values, secretKeys: ["services"] })).map((issue) => issue.key)).toEqual([
      "atra-observability:services",
    ]);
  });

  test("the paths come from the stack file's `secure:` values, of this project's keys only", () => {
    expect(securePaths({ a: [{ b: { secure: "v1:x" } }, { secure: "v1:y" }], c: "plain" }, ["k"])).toEqual([
      ["k", "a", 0, "b"],
      ["k", "a", 1],
    ]);
    const dir = tempDir("atra-secure-");
    try {
      const file = path.join(dir, "Pulumi.dev.yaml");
      fs.writeFileSync(
        file,
        "config:\n  atra-observability:services:\n    - name: api\n      metrics:\n        secure: v1:abc\n  alertingSecrets:\n    pager:\n      secure: v1:def\n  docker:host:\n    secure: v1:ghi\n",
      );
      expect(stackFileSecurePaths(file)).toEqual([
        ["services", 0, "metrics"],
        ["alertingSecrets", "pager"],
      ]);
      expect(stackFileSecurePaths(path.join(dir, "Pulumi.none.yaml"))).toBeUndefined();
      fs.writeFileSync(file, "config: [\n");
      expect(stackFileSecurePaths(file)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("secrets where they belong stay fine", () => {
    expect(() =>
      resolveStackConfig({
        stack: "dev",
        values: {
          grafanaAdminPassword: "a-long-enough-password",
          alerting: { contactPoints: [{ name: "pager", type: "webhook" }] },
          alertingSecrets: { pager: "https://hooks.example.com/x" },
        },
        secretKeys: ["grafanaAdminPassword", "alertingSecrets"],
        securePaths: [["grafanaAdminPassword"], ["alertingSecrets", "pager"]],
      }),
    ).not.toThrow();
  });
});

describe("stack files that are not valid", () => {
  const dir = tempDir("atra-stack-files-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const read = (text: string) => {
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), text);
    return () => readStackFile(dir, "bad", "atra-observability");
  };

  test("a YAML syntax error names the file, line and column, with the offending lines", () => {
    const run = read("config:\n  atra-observability:bindAddress: 0.0.0.0\n    atra-observability:appNetworks: x\n");
    expect(run).toThrow(StackFileError);
    expect(run).toThrow(/Pulumi\.bad\.yaml:3: not valid YAML \(line 3, column \d+\): bad indentation of a mapping entry\n/);
  });

  test("a document or a config section that is not a mapping is named too", () => {
    expect(read("- config\n")).toThrow(/Pulumi\.bad\.yaml: a stack file is a mapping with a `config:` section/);
    expect(read("config: [a, b]\n")).toThrow(/Pulumi\.bad\.yaml: `config:` must be a mapping of keys \(atra-observability:<key>\) to values/);
  });
});

describe("one rule, one place (issue 10)", () => {
  test("an unknown key, a bad port and a scrape timeout longer than its interval are reported in one run", () => {
    const issues = issuesOf(() =>
      resolveStackConfig({
        stack: "dev",
        values: { bindAdress: "0.0.0.0", ports: { grafana: 70000 }, prometheus: { scrapeInterval: "15s", scrapeTimeout: "30s" } },
        secretKeys: [],
      }),
    );
    expect(issues.map((issue) => issue.key)).toEqual([
      "atra-observability:bindAdress",
      "atra-observability:ports.grafana",
      "atra-observability:prometheus.scrapeTimeout",
    ]);
  });

  test("a rule group with interval 0s is refused like alerting.evaluationInterval 0s, with the same message", () => {
    const config = issuesOf(() => resolveStackConfig({ stack: "dev", values: { alerting: { evaluationInterval: "0s" } }, secretKeys: [] }));
    expect(config).toEqual([{ key: "atra-observability:alerting.evaluationInterval", message: "must be longer than zero" }]);
    const group =
      "groups:\n  - name: g\n    interval: 0s\n    rules:\n      - alert: A\n        expr: up == 0\n        labels: { severity: warning }\n        annotations: { summary: s }\n";
    expect(() => parseRuleFiles([{ fileName: "alerts/user.yml", text: group }])).toThrow(/interval must be longer than zero/);
    expect(() => parseRuleFiles([{ fileName: "alerts/user.yml", text: group.replace("0s", "15s") }])).toThrow(/interval 15s is not a multiple of 10s/);
  });
});

test("a URL with surrounding whitespace is refused (a provider would join its API path to the raw value)", () => {
  const issues = issuesOf(() => resolveStackConfig({ stack: "dev", values: { grafana: { providerUrl: " http://127.0.0.1:3000 " } }, secretKeys: [] }));
  expect(issues).toEqual([{ key: "atra-observability:grafana.providerUrl", message: "must not have leading or trailing whitespace" }]);
});
