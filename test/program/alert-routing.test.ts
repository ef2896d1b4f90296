/**
 * Where alerts go: the planned notification policy of every shipped stack file (and of the
 * every-option stack) walked the way Alertmanager routes (test/support/alertmanager-routing.ts, after
 * prometheus/alertmanager dispatch/route.go), for the label sets the shipped alerts carry.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import { listStacks } from "../../scripts/lib/stack-file";
import { planIsolated, PROJECT_DIR, resolvedStackConfig } from "../support/plan";
import { everyOptionStackConfig } from "../support/every-option-stack";
import { PolicyNode, receivers } from "../support/alertmanager-routing";
import { resolveStackConfig } from "../../components/config/resolve";

const POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy";
const CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint";
const BUILTIN_CONTACT_POINT = "grafana-default-email";

/** What each stack promises (the comments of its stack file). */
const EXPECTED: Record<string, Record<"critical" | "warning" | "info", string[]>> = {
  dev: { critical: [BUILTIN_CONTACT_POINT], warning: [BUILTIN_CONTACT_POINT], info: [BUILTIN_CONTACT_POINT] },
  // "Critical alerts page and also reach the chat; warnings and info go to the team's chat channel."
  prod: { critical: ["pager", "team-chat"], warning: ["team-chat"], info: ["team-chat"] },
  "every-option": { critical: ["pager", "phone"], warning: ["chat"], info: ["mail"] },
};

/** Agent hosts (role: agent) route nothing: the central Grafana does, and agent-host.test.ts shows they configure none. */
const centralStacks = listStacks(PROJECT_DIR).filter((stack) => resolvedStackConfig(stack).role === "central");

test("every shipped central stack file has its routing expectation", () => {
  for (const stack of centralStacks) expect(Object.keys(EXPECTED)).toContain(stack);
});

describe.each([...centralStacks, "every-option"])("routing of %s", (stack) => {
  let resources: PlannedResource[];
  beforeAll(async () => {
    resources = (await planIsolated(stack, stack === "every-option" ? { config: everyOptionStackConfig() } : {})).run.resources;
  });

  test.each(["critical", "warning", "info"] as const)("a %s alert reaches the contact points the stack file promises", (severity) => {
    const [policy] = resources.filter((resource) => resource.type === POLICY);
    const labels = { alertname: "ServiceHealthProbeFailing", severity, service: "knowledge-os-api", instance: "http://api:8000/health" };
    expect(receivers(policy.inputs as unknown as PolicyNode, labels)).toEqual(EXPECTED[stack][severity]);
  });

  test("every receiver the tree can pick exists", () => {
    const [policy] = resources.filter((resource) => resource.type === POLICY);
    const points = resources.filter((resource) => resource.type === CONTACT_POINT).map((point) => String(point.inputs.name));
    const walk = (node: PolicyNode): string[] => [node.contactPoint, ...(node.policies ?? []).flatMap(walk)];
    for (const name of walk(policy.inputs as unknown as PolicyNode)) expect([...points, BUILTIN_CONTACT_POINT]).toContain(name);
  });
});

describe("the Alertmanager routing model", () => {
  const tree = (policies: PolicyNode[]): PolicyNode => ({ contactPoint: "default", policies });
  const critical = { contactPoint: "pager", matchers: [{ label: "severity", match: "=", value: "critical" }] };

  test("a matching child without continue stops the search; the parent is not notified", () => {
    expect(receivers(tree([critical, { contactPoint: "chat" }]), { severity: "critical" })).toEqual(["pager"]);
  });

  test("continue on the only matching route does not fall back to the parent (the old prod example)", () => {
    expect(receivers(tree([{ ...critical, continue: true }]), { severity: "critical" })).toEqual(["pager"]);
  });

  test("continue lets a later sibling match too", () => {
    expect(
      receivers(
        tree([
          { ...critical, continue: true },
          { ...critical, contactPoint: "chat" },
        ]),
        { severity: "critical" },
      ),
    ).toEqual(["pager", "chat"]);
  });

  test("no matching child: the parent receives it; a missing label matches only the empty value", () => {
    expect(receivers(tree([critical]), { severity: "warning" })).toEqual(["default"]);
    expect(receivers(tree([{ contactPoint: "none", matchers: [{ label: "team", match: "=", value: "" }] }]), {})).toEqual(["none"]);
  });

  test("regex matchers are anchored", () => {
    const regex = { contactPoint: "regex", matchers: [{ label: "service", match: "=~", value: "api" }] };
    expect(receivers(tree([regex]), { service: "billing-api" })).toEqual(["default"]);
    expect(receivers(tree([regex]), { service: "api" })).toEqual(["regex"]);
  });
});

test("continue on the last route is refused, naming the key and the fix", () => {
  const values = {
    alerting: { contactPoints: [{ name: "pager", type: "webhook" }], routes: [{ match: { severity: "critical" }, contactPoint: "pager", continue: true }] },
    alertingSecrets: { pager: "https://pager.example/hook" },
  };
  expect(() => resolveStackConfig({ stack: "dev", values, secretKeys: ["alertingSecrets"] })).toThrow(
    /atra-observability:alerting\.routes\[0\]\.continue: has no effect on the last route: alerts it matches reach only "pager"/,
  );
});
