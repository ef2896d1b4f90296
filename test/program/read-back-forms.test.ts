/**
 * A second `pulumi up` changes nothing only if every value the program sends is already in the form
 * the provider or server stores and reads back. These tests hold that over the whole plan of every
 * shipped stack file and of a generated stack that sets every option; each rule names the upstream
 * code that defines the read-back form.
 */
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import type { PlanResult } from "../../scripts/lib/plan";
import { listStacks } from "../../scripts/lib/stack-file";
import { planIsolated, PROJECT_DIR, resolvedStackConfig } from "../support/plan";
import { EVERY_OPTION_VALUES, everyOptionStackConfig, uncoveredByAll, uncoveredOptions } from "../support/every-option-stack";
import { EVERY_EXTERNAL_OPTION_STACKS, externalStackConfig } from "../support/external-stacks";
import { dockerHealthcheckDuration, goDurationString, isDockerHealthcheckReadBackForm, parseGoDuration } from "../../components/docker/read-back-forms";
import { canonicalNotificationTiming, prometheusDurationString } from "../../components/grafana/read-back-forms";

const CONTAINER = "docker:index/container:Container";
const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
const POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy";
const ILM_POLICY = "pulumi-nodejs:dynamic/elastic:IlmPolicy";
const INDEX_TEMPLATE = "pulumi-nodejs:dynamic/elastic:IndexTemplate";

// golang/go src/time/time_test.go, durationTests: the cases Go's own test pins for Duration.String.
test.each([
  [0n, "0s"],
  [1n, "1ns"],
  [1_100n, "1.1µs"],
  [2_200_000n, "2.2ms"],
  [3_300_000_000n, "3.3s"],
  [245_000_000_000n, "4m5s"],
  [245_001_000_000n, "4m5.001s"],
  [18_367_001_000_000n, "5h6m7.001s"],
  [480_000_000_001n, "8m0.000000001s"],
])("Go's Duration.String of %d ns is %s", (nanoseconds, text) => {
  expect(goDurationString(nanoseconds)).toBe(text);
  expect(parseGoDuration(text)).toBe(nanoseconds);
});

test("healthcheck durations are sent as the provider reads them back", () => {
  expect([10, 5, 20, 60, 90, 120, 3600].map(dockerHealthcheckDuration)).toEqual(["10s", "5s", "20s", "1m0s", "1m30s", "2m0s", "1h0m0s"]);
  expect(isDockerHealthcheckReadBackForm("60s")).toBe(false);
  expect(isDockerHealthcheckReadBackForm("1m0s")).toBe(true);
});

// prometheus/common model/time_test.go (TestDurationString / parse round trips): years and weeks only when exact.
test.each([
  [0, "0s"],
  [1, "1ms"],
  [30_000, "30s"],
  [60_000, "1m"],
  [90_000, "1m30s"],
  [3_600_000, "1h"],
  [86_400_000, "1d"],
  [7 * 86_400_000, "1w"],
  [90 * 86_400_000, "90d"],
  [14 * 86_400_000, "2w"],
  [365 * 86_400_000, "1y"],
  [3_723_000, "1h2m3s"],
])("Prometheus's Duration.String of %d ms is %s", (milliseconds, text) => {
  expect(prometheusDurationString(milliseconds)).toBe(text);
});

test("notification timings are normalised to what Grafana returns", () => {
  expect(["60s", "24h", "300s", "4h", "30s", "168h"].map(canonicalNotificationTiming)).toEqual(["1m", "1d", "5m", "4h", "30s", "1w"]);
});

test("the generated stacks set every option the schema has (the local one, and the external ones for what cannot share it)", () => {
  const externals = Object.values(EVERY_EXTERNAL_OPTION_STACKS).map((stack) => ({ ...stack.values, ...stack.secrets }));
  expect(uncoveredByAll([EVERY_OPTION_VALUES, ...externals])).toEqual([]);
  // The local stack leaves only the external backends' keys to the external ones.
  // (and an agent host's shipping key, which a central stack refuses).
  // tls.extraNames too: it names generated certificates, and the local stack's tls is provided.
  // federation is an agent host's (the external agent stack sets it); dockerCertPath is the other form of
  // the tcp:// host's TLS, which the local stack gives as PEM values (one or the other, never both).
  const externalKeys = [
    "elasticApiKey",
    "grafana.external",
    "grafanaApiToken",
    "logs.external",
    "logShipperApiKey",
    "tls.extraNames",
    "federation",
    "dockerCertPath",
  ];
  expect(uncoveredOptions().filter((path) => !externalKeys.some((key) => path === key || path.startsWith(`${key}.`)))).toEqual([]);
});

/** Each plan, and whether it is an agent host's (role: agent), which configures no Grafana. */
const plans: [string, () => Promise<PlanResult>, boolean][] = [
  ...listStacks(PROJECT_DIR).map((stack): [string, () => Promise<PlanResult>, boolean] => [
    stack,
    () => planIsolated(stack),
    resolvedStackConfig(stack).role === "agent",
  ]),
  ["every-option", () => planIsolated("every-option", { config: everyOptionStackConfig() }), false],
  ...Object.entries(EVERY_EXTERNAL_OPTION_STACKS).map(([name, stack]): [string, () => Promise<PlanResult>, boolean] => [
    name,
    () => planIsolated(name, { config: externalStackConfig(stack) }),
    stack.values.role === "agent",
  ]),
];

describe.each(plans)("plan of %s: values already in read-back form", (_name, plan, agentHost) => {
  let resources: PlannedResource[];
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);

  beforeAll(async () => {
    resources = (await plan()).run.resources;
  });

  // kreuzwerker/terraform-provider-docker internal/provider/resource_docker_container_funcs.go,
  // resourceDockerContainerRead: healthcheck durations come back through Go's Duration.String().
  test("every container healthcheck duration is in Go's Duration.String form", () => {
    const containers = ofType(CONTAINER);
    expect(containers.length).toBeGreaterThan(0);
    for (const container of containers) {
      const healthcheck = container.inputs.healthcheck as Record<string, unknown>;
      for (const field of ["interval", "timeout", "startPeriod", "startInterval"]) {
        const value = healthcheck[field];
        if (value === undefined) continue;
        expect({ container: container.name, field, value, readBack: isDockerHealthcheckReadBackForm(String(value)) }).toEqual({
          container: container.name,
          field,
          value,
          readBack: true,
        });
      }
    }
  });

  // Same read function: memory_swap is read back whenever the engine reports it, and the engine sets
  // twice the memory when only memory is given (moby/moby daemon/daemon_unix.go, adaptContainerSettings).
  test("every container with a memory limit sets memorySwap to it (no swap)", () => {
    for (const container of ofType(CONTAINER)) {
      expect({ container: container.name, memory: container.inputs.memory, memorySwap: container.inputs.memorySwap }).toEqual({
        container: container.name,
        memory: expect.any(Number),
        memorySwap: container.inputs.memory,
      });
    }
  });

  // kreuzwerker .../resource_docker_container_structures.go, flattenDevices: host path, container
  // path and cgroup permissions are read back as the engine stores them.
  test("every device mapping names its container path and permissions", () => {
    for (const container of ofType(CONTAINER)) {
      for (const device of (container.inputs.devices as Record<string, unknown>[] | undefined) ?? []) {
        expect(device).toEqual({ hostPath: expect.any(String), containerPath: expect.any(String), permissions: expect.stringMatching(/^[rwm]+$/) });
      }
    }
  });

  // grafana/grafana pkg/services/ngalert/models/alert_query.go (PreSave -> setQueryType): Grafana
  // copies a model's `queryType` onto the query; the provider compares the returned data as JSON
  // (grafana/terraform-provider-grafana internal/resources/grafana/resource_alerting_rule_group.go).
  test("every rule query's queryType is the one Grafana stores after copying the model's", () => {
    const groups = ofType(RULE_GROUP);
    // An agent host configures no Grafana (agent-host.test.ts): nothing to read back.
    if (agentHost) return expect(groups).toEqual([]);
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      for (const rule of group.inputs.rules as { name: string; datas: { refId: string; queryType?: string; model: string }[] }[]) {
        for (const data of rule.datas) {
          const model = JSON.parse(data.model) as { queryType?: unknown };
          const stored = model.queryType === undefined ? (data.queryType ?? "") : model.queryType;
          expect({ rule: rule.name, refId: data.refId, queryType: data.queryType ?? "" }).toEqual({ rule: rule.name, refId: data.refId, queryType: stored });
        }
      }
    }
  });

  // The policy's timings are model.Duration in Grafana's route (prometheus/common model/time.go
  // String) and the provider stores the returned strings (resource_alerting_notification_policy.go).
  test("notification timings are in Prometheus's canonical duration form", () => {
    const [policy] = ofType(POLICY);
    if (agentHost) return expect(policy).toBeUndefined();
    const walk = (route: Record<string, unknown>): void => {
      for (const field of ["groupWait", "groupInterval", "repeatInterval"]) {
        const value = route[field];
        if (value !== undefined) expect({ field, value }).toEqual({ field, value: canonicalNotificationTiming(String(value)) });
      }
      for (const child of (route.policies as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(policy.inputs);
  });

  // elastic/elasticsearch server/src/main/java/org/elasticsearch/common/unit/ByteSizeValue.java:
  // sizes are returned with lower-case units (`10gb`), whatever case was sent.
  // The index template as Elasticsearch stores and returns it: settings as text (Settings.toXContent),
  // auto_expand_replicas as sent (AutoExpandReplicas.java, a string setting), index.mode as its name
  // (IndexMode.getName), the failure store's data_retention through TimeValue.getStringRep
  // (DataStreamLifecycle.java). And the failure store keeps failures as long as the ILM policy keeps lines:
  // both come from logs.retention (without it the failure store keeps 30d, failures_default).
  test("index template: replicas auto-expand, mode pinned, failure store retention = the ILM delete age (logs.retention)", () => {
    const templates = ofType(INDEX_TEMPLATE);
    const policies = ofType(ILM_POLICY);
    expect(templates.length).toBe(policies.length);
    for (const [index, template] of templates.entries()) {
      const body = template.inputs.body as {
        template: { settings: { index: Record<string, unknown> }; data_stream_options: { failure_store: { lifecycle: { data_retention: string } } } };
      };
      const deleteAfter = (policies[index]!.inputs.body as { policy: { phases: { delete: { min_age: string } } } }).policy.phases.delete.min_age;
      expect(body.template.settings.index).toMatchObject({ mode: "standard", auto_expand_replicas: "0-1" });
      expect(body.template.settings.index).not.toHaveProperty("number_of_replicas");
      expect(body.template.data_stream_options.failure_store.lifecycle.data_retention).toBe(deleteAfter);
      expect(deleteAfter).toMatch(/^[1-9][0-9]*(d|h|m|s|ms|micros|nanos)$/);
    }
  });

  // Elasticsearch 9.2+ adds created_date_millis / modified_date_millis (and, with ?human, created_date /
  // modified_date) to what GET _index_template and GET _ingest/pipeline answer (#132083, #130847;
  // server/src/main/java/org/elasticsearch/cluster/metadata/ComposableIndexTemplate.java, toXContent; typed in the
  // 9.5.1 client's IndicesIndexTemplate and IngestPipeline). They are the server's: the program never sends them, and
  // the providers compare only the keys sent (provider-runtime.ts, covers/project), so they are no drift
  // (test/doubles/elastic-providers.test.ts, "9.2+ read-back timestamps"). Re-checked 2026-12-07 against the 9.2.0 to
  // 9.5.5 changelog bundles (docs/release-notes/changelog-bundles/): no other change to these read-back forms.
  test("templates and pipelines never send the server-managed timestamps Elasticsearch 9.2+ reads back", () => {
    const pipelines = ofType("pulumi-nodejs:dynamic/elastic:IngestPipeline");
    // Two pipelines per template, its default and its final one (none on an agent host, which makes neither).
    expect(pipelines.length).toBe(2 * ofType(INDEX_TEMPLATE).length);
    const bodies = [...ofType(INDEX_TEMPLATE), ...pipelines];
    for (const resource of bodies) expect(JSON.stringify(resource.inputs.body)).not.toMatch(/"(created|modified)_date(_millis)?"/);
  });

  test("ILM byte sizes are lower-case, as Elasticsearch returns them", () => {
    for (const policy of ofType(ILM_POLICY)) {
      const sizes = JSON.stringify(policy.inputs.body).match(/"max_[a-z_]*size":"[^"]*"/g) ?? [];
      for (const size of sizes) expect(size).toBe(size.toLowerCase());
    }
  });
});
