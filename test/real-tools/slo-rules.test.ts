/**
 * The SLO rules with the real promtool (Debian's Prometheus 2.42): for every shipped stack file and
 * the every-option stack, `promtool check rules` on the generated recording-rule file and on the
 * test-only alert file (the Grafana rules' PromQL wrapped as Prometheus alerting rules), and
 * `promtool test rules` on unit tests generated for every SLO (test/support/slo-promtool.ts): a full
 * outage pages within minutes and not before the workbook's arithmetic says, a 4.5x degradation opens
 * a ticket within hours and never pages, and a healthy series with errors at half the budget's rate
 * keeps every alert silent.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { readProjectName, readStackFile } from "../../scripts/lib/stack-file";
import { rawConfigFromStore } from "../../components/config/pulumi-config";
import { resolveStackConfig, StackConfig } from "../../components/config/resolve";
import { renderPromtoolAlertFile, renderSloRuleFile, sloDefinitions } from "../../components/slo/slo-rules";
import { describeWithTools, runTool, tempDir } from "../support/real-tools";
import { PROJECT_DIR } from "../support/plan";
import { everyOptionStackConfig } from "../support/every-option-stack";
import { promtoolCases } from "../support/slo-promtool";

const STACK_FILES = fs
  .readdirSync(PROJECT_DIR)
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined);

function shippedStack(stack: string): StackConfig {
  const { config, secretKeys } = readStackFile(PROJECT_DIR, stack, readProjectName(PROJECT_DIR));
  return resolveStackConfig(rawConfigFromStore(stack, config, secretKeys)).config;
}

const STACKS: { name: string; config: () => StackConfig }[] = [
  ...STACK_FILES.map((stack) => ({ name: stack, config: () => shippedStack(stack) })),
  {
    name: "every-option",
    config: () => {
      const { config, secretKeys } = everyOptionStackConfig() as { config: Record<string, string>; secretKeys: string[] };
      return resolveStackConfig(rawConfigFromStore("every-option", config, secretKeys)).config;
    },
  },
];

describeWithTools(["promtool"], "SLO rules with promtool", () => {
  let workDir: string;
  beforeAll(() => {
    workDir = tempDir("atra-slo-promtool-");
  });
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  test("the dev stack has SLOs and prod none (prod's plan is unchanged by the SLO room)", () => {
    expect(sloDefinitions(shippedStack("dev").services).map((slo) => `${slo.service}/${slo.slo}`)).toEqual([
      "knowledge-os-api/availability",
      "knowledge-os-api/latency",
      "victoria-agent/availability",
      "veronica-agent/availability",
    ]);
    expect(sloDefinitions(shippedStack("prod").services)).toEqual([]);
  });

  describe.each(STACKS)("stack $name", ({ name, config }) => {
    test("promtool checks the recording rules and the wrapped alerts, and every generated unit test passes", () => {
      const resolved = config();
      const slos = sloDefinitions(resolved.services);
      if (slos.length === 0) return;
      const dir = path.join(workDir, name);
      fs.mkdirSync(dir, { recursive: true });
      const ruleFile = path.join(dir, "slo.yml");
      const alertFile = path.join(dir, "slo-alerts.yml");
      fs.writeFileSync(ruleFile, renderSloRuleFile(slos, resolved.prometheus.evaluationInterval));
      fs.writeFileSync(alertFile, renderPromtoolAlertFile());
      for (const file of [ruleFile, alertFile]) {
        const check = runTool("promtool", ["check", "rules", file]);
        expect({ file: path.basename(file), ...check, output: check.status === 0 ? "" : check.output }).toEqual({
          file: path.basename(file),
          status: 0,
          output: "",
        });
      }

      const cases = slos.flatMap(promtoolCases);
      // One test file per evaluation interval (a file-level setting), each case its own test group.
      const byInterval = new Map<string, typeof cases>();
      for (const testCase of cases) byInterval.set(testCase.evaluationInterval, [...(byInterval.get(testCase.evaluationInterval) ?? []), testCase]);
      for (const [interval, group] of byInterval) {
        const testFile = path.join(dir, `slo-${interval}.test.yml`);
        fs.writeFileSync(
          testFile,
          yaml.dump({ rule_files: [ruleFile, alertFile], evaluation_interval: interval, tests: group.map((testCase) => testCase.test) }, { lineWidth: -1 }),
        );
        const result = runTool("promtool", ["test", "rules", testFile]);
        expect({ interval, cases: group.map((testCase) => testCase.name), status: result.status, output: result.status === 0 ? "" : result.output }).toEqual({
          interval,
          cases: group.map((testCase) => testCase.name),
          status: 0,
          output: "",
        });
      }
      expect(cases.length).toBe(2 * slos.length);
    }, 300_000);
  });
});
