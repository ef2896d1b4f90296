/**
 * The receiver's login under Pulumi's mock engine (components/metrics/web-config.ts): a central stack
 * with `prometheus.remoteWriteReceiver` generates two passwords, uploads the web config and the login's
 * files as secrets, checks its health with the credentials file, and never shows a password, hash or
 * their encodings in the plan; without the receiver none of it is made.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { authenticatedHealthcheck, HEALTHCHECK_CREDENTIALS_PATH, QUERY_PASSWORD_PATH } from "../../components/metrics/web-config";
import { planIsolated, stackConfig } from "../support/plan";

const CONTAINER = "docker:index/container:Container";
const PASSWORD = "random:index/randomPassword:RandomPassword";

const prometheusOf = (plan: PlanResult): PlannedResource =>
  plan.run.resources.find((resource) => resource.type === CONTAINER && resource.name === "prometheus")!;
const uploadsOf = (plan: PlanResult) => prometheusOf(plan).inputs.uploads as { file: string; content: string; permissions: string }[];

describe("a central stack with the remote-write receiver", () => {
  let plan: PlanResult;
  beforeAll(async () => {
    plan = await planIsolated("central", { config: stackConfig({ publicHostname: "obs.example.internal", prometheus: { remoteWriteReceiver: true } }) });
  });

  test("two generated passwords, letters and digits, under the metrics stack", () => {
    const passwords = plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-"));
    expect(passwords.map((resource) => [resource.name, resource.inputs, resource.parent?.endsWith("::metrics")])).toEqual([
      ["prometheus-agents-password", { length: 32, special: false }, true],
      ["prometheus-query-password", { length: 32, special: false }, true],
    ]);
  });

  test("the web config and the login's files are secret uploads, read-only for all; prometheus.yml stays readable", () => {
    const uploads = uploadsOf(plan);
    expect(uploads.map((upload) => [upload.file, upload.permissions])).toEqual([
      ["/etc/prometheus/prometheus.yml", "0644"],
      ["/etc/prometheus/web.yml", "0444"],
      [QUERY_PASSWORD_PATH, "0444"],
      [HEALTHCHECK_CREDENTIALS_PATH, "0444"],
    ]);
    expect(prometheusOf(plan).secretPaths).toEqual(["uploads[1].content", "uploads[2].content", "uploads[3].content"]);
    expect(uploads[0].content).toContain(`password_file: ${QUERY_PASSWORD_PATH}`);
    // The web config waits on the generated hashes: the container depends on both passwords.
    expect(prometheusOf(plan).dependencies.filter((urn) => urn.includes(PASSWORD)).length).toBe(2);
  });

  test("the command takes the web config and the healthcheck logs in from the credentials file", () => {
    const prometheus = prometheusOf(plan);
    expect(prometheus.inputs.command).toEqual(expect.arrayContaining(["--web.enable-remote-write-receiver", "--web.config.file=/etc/prometheus/web.yml"]));
    // The credentials file is read by the shell and handed to printf, never to a program (no-secret-argv.test.ts).
    expect((prometheus.inputs.healthcheck as { tests: string[] }).tests).toEqual(authenticatedHealthcheck("http://127.0.0.1:9090/-/ready"));
    expect((prometheus.inputs.healthcheck as { tests: string[] }).tests[1]).toContain(`"$(cat ${HEALTHCHECK_CREDENTIALS_PATH})" | nc 127.0.0.1 9090`);
  });

  test("no generated password, hash or Basic credentials appear anywhere in the plan, its inputs or its outputs", () => {
    const everything = JSON.stringify({ artifacts: plan.artifacts, inputs: plan.run.resources.map((resource) => resource.inputs), outputs: plan.run.outputs });
    for (const login of ["agents", "query"]) {
      const password = `mock-generated-password-prometheus-${login}-password`;
      expect(everything).not.toContain(password);
      expect(everything).not.toContain(Buffer.from(`atra-grafana:${password}`).toString("base64"));
    }
    expect(everything).not.toMatch(/\$2a\$10\$/);
  });
});

describe("a stack without the receiver", () => {
  test("makes no login: no passwords of Prometheus, no web config, the plain healthcheck", async () => {
    const plan = await planIsolated("plain", { config: stackConfig({}) });
    expect(plan.run.resources.filter((resource) => resource.type === PASSWORD && resource.name.startsWith("prometheus-"))).toEqual([]);
    expect(uploadsOf(plan).map((upload) => upload.file)).toEqual(["/etc/prometheus/prometheus.yml"]);
    expect((prometheusOf(plan).inputs.healthcheck as { tests: string[] }).tests).toEqual([
      "CMD",
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "http://127.0.0.1:9090/-/ready",
    ]);
  });
});
