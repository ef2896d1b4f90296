/**
 * The whole program under Pulumi's mock engine, for every shipped stack file: the resource graph
 * as the engine would receive it (names, images, ports, secrets, retention, ordering, outputs).
 */
import { requiredLogins, FEDERATION_CA_PATH } from "../../components/metrics/web-config";
import { agentPasswordPath } from "../../components/metrics/prometheus-config";
import { spawnSync } from "child_process";
import type { PlannedResource } from "../../scripts/lib/mock-engine";
import { ProgramError } from "../../scripts/lib/mock-engine";
import { listStacks, readStackFile, SECRET_PLACEHOLDER } from "../../scripts/lib/stack-file";
import type { PlanResult } from "../../scripts/lib/plan";
import { planIsolated, PROJECT_DIR, resolvedStackConfig, stackConfig } from "../support/plan";
import { SLO_ALERT_GROUP, SLO_RULE_FILE_PATH, sloDefinitions } from "../../components/slo/slo-rules";
import { MEMORY_RULE_FILE_PATH } from "../../components/metrics/memory-rule";
import * as path from "path";
import { readRuleFiles } from "../../components/alerting/alert-files";
import { parseRuleFiles } from "../../components/alerting/rule-files";
import { ruleUid } from "../../components/alerting/grafana-rules";
import { DATASOURCE_ALERT_GROUP } from "../../components/alerting/datasource-alerts";
import { TLS_ALERT_GROUP } from "../../components/metrics/prometheus-config";
import { durationMs } from "../../components/lib/validators";
import { ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH } from "../../components/logs/logs-tls";
import { GRAFANA_METRICS_PASSWORD_PATH } from "../../components/grafana/service";

const CONTAINER = "docker:index/container:Container";
const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";
/** Groups built in code from the config, not from rule files. */
const LOG_GROUP = "atra-logs";
const DYNAMIC = "pulumi-nodejs:dynamic/elastic:";
const CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint";
const NOTIFICATION_POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy";
const allShippedRuleGroups = parseRuleFiles(readRuleFiles(path.join(PROJECT_DIR, "alerts")));

interface PlannedRule {
  uid: string;
  name: string;
  condition: string;
  noDataState: string;
  execErrState: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  datas: { refId: string; datasourceUid: string; model: string }[];
}
const IMAGE = "docker:index/remoteImage:RemoteImage";
const VOLUME = "docker:index/volume:Volume";

/** The central stacks; agent hosts (role: agent) have their own test, agent-host.test.ts. */
const stacks = listStacks(PROJECT_DIR).filter((stack) => resolvedStackConfig(stack).role === "central");

test("the shipped central stack files are dev and prod", () => {
  expect(stacks).toEqual(expect.arrayContaining(["dev", "prod"]));
});

describe.each(stacks)("stack %s under mocks", (stack) => {
  let plan: PlanResult;
  let resources: PlannedResource[];
  const config = resolvedStackConfig(stack);
  // The certificate alerts (alerts/tls.yml) are loaded only with tls on.
  const shippedRuleGroups = allShippedRuleGroups.filter((group) => config.tls.mode !== "off" || group.name !== TLS_ALERT_GROUP);
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  const byName = (type: string, name: string) => {
    const found = resources.find((resource) => resource.type === type && resource.name === name);
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };

  beforeAll(async () => {
    plan = await planIsolated(stack);
    resources = plan.run.resources;
  });

  test("every resource has a unique URN and every Docker object a unique, stack-prefixed name", () => {
    const urns = resources.map((resource) => resource.urn);
    expect(new Set(urns).size).toBe(urns.length);
    for (const type of [CONTAINER, VOLUME, "docker:index/network:Network"]) {
      const names = ofType(type).map((resource) => String(resource.inputs.name));
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) expect(name.startsWith(`atra-obs-${stack}-`)).toBe(true);
    }
  });

  test("images are pulled by exact tag, kept locally, and containers run exactly those images", () => {
    const images = ofType(IMAGE);
    expect(images.length).toBeGreaterThanOrEqual(4);
    for (const image of images) {
      expect(image.inputs.name).toMatch(/:[A-Za-z0-9_.-]+$/);
      expect(image.inputs.name).not.toMatch(/:latest$/);
      expect(image.inputs.keepLocally).toBe(true);
    }
    const imageIds = new Set(images.map((image) => `sha256:mock-image-id-of(${String(image.inputs.name)})`));
    for (const container of ofType(CONTAINER)) expect(imageIds).toContain(container.inputs.image);
    expect(images.map((image) => image.inputs.name)).toEqual(
      expect.arrayContaining([config.images.prometheus, config.images.grafana, config.images.nodeExporter, config.images.blackboxExporter]),
    );
  });

  test("containers are healthchecked, waited for, restarted, memory-limited and labelled", () => {
    const containers = ofType(CONTAINER);
    expect(containers.map((c) => c.name).sort()).toEqual(
      [
        "blackbox-exporter",
        "grafana",
        "node-exporter",
        "prometheus",
        ...(config.cadvisor.enabled ? ["cadvisor"] : []),
        ...(config.logs.enabled ? ["elasticsearch", "kibana"] : []),
        ...(config.logs.enabled && config.services.some((s) => s.logs?.length) ? ["filebeat"] : []),
      ].sort(),
    );
    for (const container of containers) {
      const healthcheck = container.inputs.healthcheck as { tests: string[] };
      expect(healthcheck.tests[0]).toMatch(/^CMD(-SHELL)?$/);
      expect(container.inputs.wait).toBe(true);
      expect(container.inputs.waitTimeout).toBeGreaterThanOrEqual(60);
      expect(container.inputs.restart).toBe("unless-stopped");
      // Fixed names and published ports: the old container must go before its replacement is created.
      expect(container.deleteBeforeReplace).toBe(true);
      expect(container.inputs.destroyGraceSeconds).toBe(60);
      expect(container.inputs.memory).toBeGreaterThanOrEqual(32);
      expect(container.inputs.labels).toEqual(expect.arrayContaining([{ label: "atra-observability.stack", value: stack }]));
    }
    expect(byName(CONTAINER, "prometheus").inputs.memory).toBe(config.memoryMb.prometheus);
  });

  test("published ports bind to the configured address; exporters, the shipper and Elasticsearch's transport port publish none", () => {
    const published = ofType(CONTAINER).filter((container) => ((container.inputs.ports as unknown[]) ?? []).length > 0);
    expect(published.map((container) => container.name).sort()).toEqual(["elasticsearch", "grafana", "kibana", "prometheus"]);
    expect(byName(CONTAINER, "elasticsearch").inputs.ports).toEqual([
      { internal: 9200, external: config.ports.elasticsearch, ip: config.bindAddress, protocol: "tcp" },
    ]);
    expect(byName(CONTAINER, "kibana").inputs.ports).toEqual([{ internal: 5601, external: config.ports.kibana, ip: config.bindAddress, protocol: "tcp" }]);
    expect(byName(CONTAINER, "prometheus").inputs.ports).toEqual([
      { internal: 9090, external: config.ports.prometheus, ip: config.bindAddress, protocol: "tcp" },
    ]);
    expect(byName(CONTAINER, "grafana").inputs.ports).toEqual([{ internal: 3000, external: config.ports.grafana, ip: config.bindAddress, protocol: "tcp" }]);
  });

  test("data volumes are retained on delete and mounted where the data lives", () => {
    const volumes = ofType(VOLUME);
    expect(volumes.map((volume) => volume.name).sort()).toEqual(["elasticsearch-data", "filebeat-data", "grafana-data", "prometheus-data"]);
    for (const volume of volumes) expect(volume.retainOnDelete).toBe(true);
    expect(byName(CONTAINER, "prometheus").inputs.volumes).toEqual([{ volumeName: `atra-obs-${stack}-prometheus-data`, containerPath: "/prometheus" }]);
    expect(byName(CONTAINER, "grafana").inputs.volumes).toEqual([{ volumeName: `atra-obs-${stack}-grafana-data`, containerPath: "/var/lib/grafana" }]);
    expect(byName(CONTAINER, "elasticsearch").inputs.volumes).toEqual([
      { volumeName: `atra-obs-${stack}-elasticsearch-data`, containerPath: "/usr/share/elasticsearch/data" },
    ]);
    expect((byName(CONTAINER, "filebeat").inputs.volumes as unknown[])[0]).toEqual({
      volumeName: `atra-obs-${stack}-filebeat-data`,
      containerPath: "/usr/share/filebeat/data",
    });
  });

  test("the stack network names its bridge interface (for the firewall rule); node-exporter binds / read-only with rslave", () => {
    expect(byName("docker:index/network:Network", "network").inputs).toEqual({
      name: `atra-obs-${stack}-net`,
      driver: "bridge",
      options: { "com.docker.network.bridge.name": config.network.bridgeName },
      labels: [{ label: "atra-observability.stack", value: stack }],
    });
    expect(config.network.bridgeName).toBe(`atra-${stack}`);
    expect(byName(CONTAINER, "node-exporter").inputs).toMatchObject({
      networkMode: "host",
      pidMode: "host",
      mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true, bindOptions: { propagation: "rslave" } }],
    });
  });

  test("Prometheus and the prober join the application networks; the rendered config is uploaded", () => {
    for (const name of ["prometheus", "blackbox-exporter"]) {
      const networks = (byName(CONTAINER, name).inputs.networksAdvanced as { name: string }[]).map((network) => network.name);
      expect(networks).toEqual([`atra-obs-${stack}-net`, ...config.appNetworks]);
    }
    const uploads = byName(CONTAINER, "prometheus").inputs.uploads as { file: string; content: string }[];
    // The SLO room's recording rules when the catalog sets objectives (test/program/slo.test.ts).
    // Then its own memory limit as a series (components/metrics/memory-rule.ts), which PrometheusMemoryHigh reads.
    const ruleFiles = [...(sloDefinitions(config.services).length > 0 ? [SLO_RULE_FILE_PATH] : []), MEMORY_RULE_FILE_PATH];
    // Published beyond loopback, Prometheus's logins (test/program/prometheus-logins.test.ts) and, tls on, its
    // certificate and the TLS healthcheck's client config (test/program/tls.test.ts); listing agents, the CA of
    // their certificates and a password file each.
    const tls = config.tls.mode !== "off";
    const login = requiredLogins(config).length > 0 ? ["/etc/prometheus/web.yml", "/etc/prometheus/secrets/login-healthcheck-password"] : [];
    const serverTls = tls
      ? ["/etc/prometheus/tls/server.pem", "/etc/prometheus/tls/server-key.pem", "/etc/prometheus/tls/ca.pem", "/etc/prometheus/secrets/healthcheck-http.yml"]
      : [];
    const agents = config.agents.length > 0 ? [FEDERATION_CA_PATH, ...config.agents.map((agent) => agentPasswordPath(agent.host))] : [];
    // The stack's own Grafana's /metrics password, which the scrape of Grafana sends.
    const grafanaMetrics = config.grafana.external ? [] : [GRAFANA_METRICS_PASSWORD_PATH];
    // The blackbox exporter's password (components/metrics/blackbox-login.ts) after the agents' files, before the rule files.
    expect(uploads.map((upload) => upload.file)).toEqual([
      "/etc/prometheus/prometheus.yml",
      ...login,
      ...serverTls,
      ...agents,
      "/etc/prometheus/secrets/blackbox-password",
      ...ruleFiles,
      ...grafanaMetrics,
    ]);
    for (const service of config.services.filter((s) => s.metrics)) expect(uploads[0].content).toContain(`job_name: ${service.name}`);
    expect(byName(CONTAINER, "prometheus").inputs.command).toEqual(
      expect.arrayContaining([
        `--storage.tsdb.retention.time=${config.prometheus.retentionTime}`,
        `--storage.tsdb.retention.size=${config.prometheus.retentionSize}`,
      ]),
    );
    expect(byName(CONTAINER, "prometheus").inputs.command).not.toContain("--web.enable-lifecycle");
  });

  test("what agent hosts and people need is output, its secrets as secrets (agents[], a bind beyond loopback)", () => {
    const outputs = plan.run.outputs;
    for (const removed of ["agentRemoteWriteUser", "agentRemoteWritePassword", "agentRemoteWriteUrl"]) expect(outputs[removed]).toBeUndefined();
    if (config.agents.length > 0) expect(outputs.agentFederation).toEqual({ value: "[secret]", secret: true });
    else expect(outputs.agentFederation).toBeUndefined();
    if (requiredLogins(config).length > 0) {
      // People's own login, not Grafana's or the healthcheck's.
      expect(outputs.prometheusUser).toEqual({ value: "atra-viewer", secret: false });
      expect(outputs.prometheusPassword).toEqual({ value: "[secret]", secret: true });
    } else {
      for (const name of ["prometheusUser", "prometheusPassword"]) expect(outputs[name]).toBeUndefined();
    }
  });

  test("secrets are secrets in state and outputs, and no password appears in plain text", () => {
    // With tls on, the server key's upload too (test/program/tls.test.ts).
    expect(byName(CONTAINER, "grafana").secretPaths).toEqual(config.tls.mode !== "off" ? ["envs", "uploads[1].content"] : ["envs"]);
    expect(byName("pulumi:providers:grafana", "grafana").secretPaths).toEqual(["auth"]);
    expect(plan.run.outputs.grafanaAdminPassword).toEqual({ value: "[secret]", secret: true });
    const everything = JSON.stringify(plan.artifacts);
    expect(everything).not.toContain(SECRET_PLACEHOLDER);
    expect(everything).not.toContain("mock-generated-password");
  });

  test("Grafana's entrypoint syncs the stored admin password from the environment, then starts Grafana", () => {
    const [shell, flag, script] = byName(CONTAINER, "grafana").inputs.entrypoints as string[];
    expect([shell, flag]).toEqual(["/bin/sh", "-c"]);
    expect(script).toContain('"$GF_SECURITY_ADMIN_PASSWORD" | grafana cli');
    expect(script).toContain("reset-admin-password --password-from-stdin");
    expect(script.trim().split("\n").pop()).toBe('exec /run.sh "$@"');
    // The script is valid POSIX shell.
    expect(spawnSync("sh", ["-n", "-c", script]).status).toBe(0);
  });

  test("Elasticsearch's entrypoint rewrites its file-realm admin from the environment, then starts Elasticsearch", () => {
    const elasticsearch = byName(CONTAINER, "elasticsearch");
    const [shell, flag, script] = elasticsearch.inputs.entrypoints as string[];
    expect([shell, flag]).toEqual(["/bin/sh", "-c"]);
    // The password reaches useradd on its stdin, never as an argument (test/program/no-secret-argv.test.ts).
    expect(script).toContain(
      `printf '%s\\n%s\\n' "$ATRA_ADMIN_PASSWORD" "$ATRA_ADMIN_PASSWORD" | /usr/share/elasticsearch/bin/elasticsearch-users useradd "$ATRA_ADMIN_USER" -r superuser`,
    );
    expect(script.trim().split("\n").pop()).toBe("exec /usr/local/bin/docker-entrypoint.sh eswrapper");
    expect(spawnSync("sh", ["-n", "-c", script]).status).toBe(0);
    // The healthcheck authenticates with an uploaded curl config file: no password in the container's settings or curl's argv.
    expect((elasticsearch.inputs.healthcheck as { tests: string[] }).tests.slice(0, 4)).toEqual(["CMD", "curl", "-K", ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH]);
    expect(elasticsearch.inputs.uploads as { file: string }[]).toContainEqual(
      expect.objectContaining({ file: ELASTICSEARCH_HEALTHCHECK_CONFIG_PATH, permissions: "0440" }),
    );
  });

  test("Grafana: the provider works with a service account token it made with the admin login; people get their own Viewer login", () => {
    const provider = byName("pulumi:providers:grafana", "grafana");
    const adminProvider = byName("pulumi:providers:grafana", "grafana-admin");
    const account = byName("grafana:oss/serviceAccount:ServiceAccount", "provisioner");
    const token = byName("grafana:oss/serviceAccountToken:ServiceAccountToken", "provisioner-token");
    expect(account.inputs).toMatchObject({ name: "atra-provisioner", role: "Admin" });
    // Fixed names Grafana refuses twice: a replacement deletes the old one first.
    expect([account.deleteBeforeReplace, token.deleteBeforeReplace]).toEqual([true, true]);
    expect(token.dependencies).toContain(account.urn);
    // The admin login only in the admin provider's auth; the token (secret) in the working provider's, which waits for it.
    expect(adminProvider.secretPaths).toContain("auth");
    expect(provider.secretPaths).toContain("auth");
    expect(provider.dependencies).toContain(token.urn);
    const people = byName("grafana:oss/user:User", "people-user");
    expect(people.inputs).toMatchObject({ login: "atra-people", isAdmin: false, name: "People (atra-observability, Viewer)" });
    // The role is given only at creation (auto_assign_org_role): a change of it (in the name) replaces the user, old one first.
    expect([people.replaceOnChanges, people.deleteBeforeReplace]).toEqual([["name"], true]);
    expect(people.secretPaths).toContain("password");
    expect(plan.run.outputs.grafanaUser.value).toBe("atra-people");
    expect(plan.run.outputs.grafanaUser.value).not.toBe(plan.run.outputs.grafanaAdminUser.value);
    expect(plan.run.outputs.grafanaPassword).toEqual({ value: "[secret]", secret: true });
    // The secret_key, the /metrics login and people's password: generated once (random passwords in state), secret settings.
    for (const name of ["grafana-secret-key", "grafana-metrics-password", "grafana-people-password"])
      expect(ofType("random:index/randomPassword:RandomPassword").map((p) => p.name)).toContain(name);
    expect(byName(CONTAINER, "grafana").secretPaths).toContain("envs");
    // Prometheus's scrape of Grafana logs in to /metrics with the password from its file.
    const prometheusYml = (byName(CONTAINER, "prometheus").inputs.uploads as { file: string; content: string }[])[0].content;
    expect(prometheusYml).toContain(`basic_auth:\n      username: atra-prometheus\n      password_file: ${GRAFANA_METRICS_PASSWORD_PATH}`);
  });

  test("the admin password comes from secret config when set, else from a generated random password", () => {
    const generated = ofType("random:index/randomPassword:RandomPassword").filter((password) => password.name === "grafana-admin-password");
    const configured = readStackFile(PROJECT_DIR, stack, "atra-observability").secretKeys.includes("atra-observability:grafanaAdminPassword");
    expect(generated.length).toBe(configured ? 0 : 1);
  });

  test("Grafana objects use the explicit provider and wait for the healthy Grafana and Prometheus containers", () => {
    const provider = byName("pulumi:providers:grafana", "grafana");
    expect(provider.inputs.url).toBe(config.grafana.providerUrl);
    const grafanaObjects = resources.filter((resource) => resource.type.startsWith("grafana:"));
    expect(grafanaObjects.length).toBeGreaterThanOrEqual(5);
    for (const object of [provider, ...grafanaObjects]) {
      expect(object.dependencies).toEqual(expect.arrayContaining([byName(CONTAINER, "grafana").urn, byName(CONTAINER, "prometheus").urn]));
    }
    // The admin login's provider makes only the service account, its token and people's user; everything else uses the token.
    const adminProvider = byName("pulumi:providers:grafana", "grafana-admin");
    const adminMade = ["grafana:oss/serviceAccount:ServiceAccount", "grafana:oss/serviceAccountToken:ServiceAccountToken", "grafana:oss/user:User"];
    for (const object of grafanaObjects)
      expect([object.type, object.provider?.startsWith(`${(adminMade.includes(object.type) ? adminProvider : provider).urn}::`)]).toEqual([object.type, true]);
    const datasource = byName("grafana:oss/dataSource:DataSource", "prometheus");
    expect(datasource.inputs).toMatchObject({
      uid: "atra-prometheus-ds",
      isDefault: true,
      type: "prometheus",
      // https with tls on (test/program/tls.test.ts).
      url: `${config.tls.mode !== "off" ? "https" : "http"}://atra-obs-${stack}-prometheus:9090`,
    });
    expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).toMatchObject({ httpMethod: "POST" });
  });

  test("Docker objects use the explicit Docker provider with the configured host", () => {
    const provider = byName("pulumi:providers:docker", "docker");
    expect(provider.inputs.host).toBe(config.dockerHost);
    for (const object of resources.filter((resource) => resource.type.startsWith("docker:"))) {
      expect(object.provider?.startsWith(`${provider.urn}::`)).toBe(true);
    }
  });

  // The stack's own groups: the logs, SLO and datasource groups and their per-service groups (`<group>:<service>`).
  const stackOwnGroup = (name: string) => [LOG_GROUP, SLO_ALERT_GROUP, DATASOURCE_ALERT_GROUP].some((own) => name === own || name.startsWith(`${own}:`));

  test("one Grafana rule group per shipped rule-file group, in the alert folder, at the stack's interval", () => {
    const groups = ofType(RULE_GROUP).filter((group) => !stackOwnGroup(String(group.inputs.name)));
    expect(groups.map((group) => group.inputs.name).sort()).toEqual(shippedRuleGroups.map((group) => group.name).sort());
    const folder = byName("grafana:oss/folder:Folder", "alerts");
    expect(folder.inputs.uid).toBe("atra-alerts");
    for (const group of groups) {
      const source = shippedRuleGroups.find((candidate) => candidate.name === group.inputs.name)!;
      expect(group.inputs.folderUid).toBe("atra-alerts");
      expect(group.dependencies).toEqual(expect.arrayContaining([folder.urn, byName("grafana:oss/dataSource:DataSource", "prometheus").urn]));
      expect(group.inputs.intervalSeconds).toBe(durationMs(source.interval ?? config.alerting.evaluationInterval) / 1000);
      expect((group.inputs.rules as PlannedRule[]).map((rule) => rule.name)).toEqual(source.rules.map((rule) => rule.alert));
    }
  });

  test("every rule model is well-formed: a PromQL query, a condition node that refers to it, stable unique uids", () => {
    const rules = ofType(RULE_GROUP)
      .filter((group) => !stackOwnGroup(String(group.inputs.name)))
      .flatMap((group) => (group.inputs.rules as PlannedRule[]).map((rule) => ({ group: String(group.inputs.name), rule })));
    expect(rules.length).toBe(shippedRuleGroups.reduce((sum, group) => sum + group.rules.length, 0));
    const uids = rules.map(({ rule }) => rule.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { group, rule } of rules) {
      expect(rule.uid).toBe(ruleUid(group, rule.name));
      expect(rule.uid.length).toBeLessThanOrEqual(40);
      const refIds = rule.datas.map((data) => data.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      expect(refIds).toContain(rule.condition);
      const models = Object.fromEntries(rule.datas.map((data) => [data.refId, { ...data, model: JSON.parse(data.model) }]));
      const query = models.A;
      expect(query.datasourceUid).toBe("atra-prometheus-ds");
      expect(query.model).toMatchObject({ instant: true, refId: "A" });
      expect(typeof query.model.expr).toBe("string");
      const condition = models[rule.condition];
      expect(condition.datasourceUid).toBe("__expr__");
      // Every $ref in the expression names a node of this rule.
      for (const [, ref] of String(condition.model.expression).matchAll(/\$([A-Za-z_]+)/g)) expect(refIds).toContain(ref);
      expect([rule.noDataState, rule.execErrState]).toEqual(["OK", "KeepLast"]);
      expect(["critical", "warning", "info"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      // Repo-relative runbook links are joined to the base; an absolute one (a user's wiki) stays as written.
      const sourceUrl = shippedRuleGroups.find((candidate) => candidate.name === group)?.rules.find((candidate) => candidate.alert === rule.name)
        ?.annotations.runbook_url;
      const relative = sourceUrl !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(sourceUrl);
      if (config.alerting.runbookBaseUrl && relative) expect(rule.annotations.runbook_url.startsWith(config.alerting.runbookBaseUrl)).toBe(true);
      if (sourceUrl !== undefined && !relative) expect(rule.annotations.runbook_url).toBe(sourceUrl);
    }
  });

  test("contact points come from config with their secrets as secrets; exactly one notification policy routes to them", () => {
    const points = ofType(CONTACT_POINT);
    expect(points.map((point) => point.inputs.name).sort()).toEqual(config.alerting.contactPoints.map((point) => point.name).sort());
    for (const point of points) {
      const type = config.alerting.contactPoints.find((candidate) => candidate.name === point.inputs.name)!.type;
      const secretField = { webhook: ["webhooks[0].url"], slack: ["slacks[0].url"], telegram: ["telegrams[0].token"], email: [] }[type];
      expect(point.secretPaths).toEqual(secretField);
    }
    const policies = ofType(NOTIFICATION_POLICY);
    expect(policies.length).toBe(1);
    const [policy] = policies;
    const known = points.length > 0 ? points.map((point) => point.inputs.name) : ["grafana-default-email"];
    expect(known).toContain(policy.inputs.contactPoint);
    for (const route of (policy.inputs.policies as { contactPoint: string }[] | undefined) ?? []) expect(known).toContain(route.contactPoint);
    expect(policy.dependencies).toEqual(expect.arrayContaining(points.map((point) => point.urn)));
    expect(policy.inputs.groupBies).toEqual(expect.arrayContaining(["alertname"]));
  });

  test("logs stage ordering: objects after a healthy server, Kibana after kibana_system's password, the shipper after its writer, template and pipeline", () => {
    const elasticsearch = byName(CONTAINER, "elasticsearch");
    const dynamic = resources.filter((resource) => resource.type.startsWith(DYNAMIC));
    expect(dynamic.map((resource) => resource.type.slice(DYNAMIC.length)).sort()).toEqual(
      [
        "BuiltinUserPassword",
        "ElasticsearchRole",
        "ElasticsearchRole",
        "ElasticsearchRole", // people's Kibana viewer
        "ElasticsearchUser",
        "ElasticsearchUser",
        "ElasticsearchUser",
        "IlmPolicy",
        "IndexTemplate",
        "IngestPipeline",
        "KibanaDataView",
        "KibanaSavedObject", // recent errors
        "KibanaSavedObject", // slowest requests (docs/logs-performance.md)
        // The data stream's final pipeline (host.name from the agent's key).
        "IngestPipeline",
        ...config.agents.map(() => "ElasticsearchApiKey"),
      ].sort(),
    );
    if (config.agents.length > 0) {
      // One key per agent host: made once the data stream's template exists, output as one secret map.
      for (const agent of config.agents) {
        const key = byName(`${DYNAMIC}ElasticsearchApiKey`, `agent-api-key-${agent.host.toLowerCase()}`);
        expect(key.dependencies).toContain(byName(`${DYNAMIC}IndexTemplate`, "index-template").urn);
        expect(key.dependencies).toContain(byName(`${DYNAMIC}IngestPipeline`, "final-pipeline").urn);
      }
      expect(plan.run.outputs.agentLogShipperApiKeys).toEqual({ value: "[secret]", secret: true });
      expect(plan.run.outputs.agentLogShipperApiKey).toBeUndefined();
      expect(JSON.stringify(plan.artifacts)).not.toContain("mock-api-key-");
    } else {
      expect(plan.run.outputs.agentLogShipperApiKeys).toBeUndefined();
    }
    const kibanaObjects = dynamic.filter((resource) => resource.type.includes(":Kibana"));
    for (const object of dynamic.filter((resource) => !kibanaObjects.includes(resource))) expect(object.dependencies).toContain(elasticsearch.urn);
    const kibana = byName(CONTAINER, "kibana");
    for (const object of kibanaObjects) expect(object.dependencies).toContain(kibana.urn);
    const passwordSet = byName(`${DYNAMIC}BuiltinUserPassword`, "kibana-system-password");
    expect(passwordSet.inputs.name).toBe("kibana_system");
    expect(kibana.dependencies).toEqual(expect.arrayContaining([elasticsearch.urn, passwordSet.urn]));
    const filebeat = byName(CONTAINER, "filebeat");
    expect(filebeat.dependencies).toEqual(
      expect.arrayContaining(["writer-user", "index-template", "ingest-pipeline"].map((name) => dynamic.find((r) => r.name === name)!.urn)),
    );
    const template = byName(`${DYNAMIC}IndexTemplate`, "index-template");
    expect(template.dependencies).toEqual(
      expect.arrayContaining([byName(`${DYNAMIC}IlmPolicy`, "ilm-policy").urn, byName(`${DYNAMIC}IngestPipeline`, "ingest-pipeline").urn]),
    );
    // Elasticsearch refuses to delete what its data stream uses: kept on destroy, like the data.
    expect([template.retainOnDelete, byName(`${DYNAMIC}IlmPolicy`, "ilm-policy").retainOnDelete]).toEqual([true, true]);
    const datasource = byName("grafana:oss/dataSource:DataSource", "elasticsearch");
    expect(datasource.dependencies).toContain(byName(`${DYNAMIC}ElasticsearchUser`, "reader-user").urn);
  });

  test("logs stage secrets: credentials are secret in every container and provider input, the shipper writes as its own user", () => {
    // With tls on (prod), Elasticsearch and Kibana also upload their server key, as a secret (components/logs/logs-tls.ts).
    const tlsOn = config.tls.mode !== "off";
    // Elasticsearch: its environment (the admin sync's password) and the healthcheck's curl config; Kibana: its secrets file only (components/logs/kibana-secrets.ts).
    expect(byName(CONTAINER, "elasticsearch").secretPaths).toEqual(
      tlsOn ? ["envs", "uploads[0].content", "uploads[2].content"] : ["envs", "uploads[0].content"],
    );
    expect(byName(CONTAINER, "kibana").secretPaths).toEqual(tlsOn ? ["uploads[0].content", "uploads[2].content"] : ["uploads[0].content"]);
    expect(byName(CONTAINER, "filebeat").secretPaths).toEqual(["envs"]);
    for (const resource of resources.filter((r) => r.type.startsWith(DYNAMIC))) {
      expect(resource.secretPaths).toContain("connection");
      if ("password" in resource.inputs) expect(resource.secretPaths).toContain("password");
    }
    const datasource = byName("grafana:oss/dataSource:DataSource", "elasticsearch");
    expect(datasource.secretPaths).toEqual(["secureJsonDataEncoded"]);
    expect(datasource.inputs).toMatchObject({ uid: "atra-elasticsearch-ds", basicAuthEnabled: true, basicAuthUsername: `atra-${stack}-grafana-logs` });
    expect(JSON.parse(String(datasource.inputs.jsonDataEncoded))).toMatchObject({
      index: config.logs.dataStream,
      timeField: "@timestamp",
      logLevelField: "log.level",
      logMessageField: "message",
    });
    // The failure store has a datasource of its own (the index is the datasource's), read as the same reader.
    const failures = byName("grafana:oss/dataSource:DataSource", "elasticsearch-failures");
    expect(failures.secretPaths).toEqual(["secureJsonDataEncoded"]);
    expect(failures.inputs).toMatchObject({
      uid: "atra-elasticsearch-failures-ds",
      url: datasource.inputs.url,
      basicAuthUsername: `atra-${stack}-grafana-logs`,
    });
    expect(JSON.parse(String(failures.inputs.jsonDataEncoded))).toMatchObject({ index: `${config.logs.dataStream}::failures`, timeField: "@timestamp" });
    const logsGroup = byName(RULE_GROUP, "rule-group-atra-logs");
    expect(logsGroup.dependencies).toContain(failures.urn);
    expect((logsGroup.inputs.rules as { name: string }[]).map((rule) => rule.name)).toContain("LogIngestFailures");
    const filebeatYml = plan.artifacts.find((a) => a.path.endsWith("filebeat/filebeat.yml"))!.content;
    expect(filebeatYml).toContain("${ATRA_LOGS_WRITER_PASSWORD}");
    const writer = byName(`${DYNAMIC}ElasticsearchUser`, "writer-user");
    expect((writer.inputs.body as { roles: string[] }).roles).toEqual([`atra-${stack}-logs-writer`]);
  });

  test("logs stage: every catalog log glob is shipped, tagged with its service, from read-only mounts", () => {
    const filebeat = byName(CONTAINER, "filebeat");
    // Bind mounts (refused by Docker when the directory is missing; test/program/container-settings.test.ts).
    const mounts = (filebeat.inputs.mounts as { type: string; source: string; readOnly?: boolean }[]).map((mount) => ({ ...mount, hostPath: mount.source }));
    expect(mounts.length).toBeGreaterThan(0);
    for (const mount of mounts) expect(mount).toMatchObject({ type: "bind", readOnly: true });
    const filebeatYml = plan.artifacts.find((a) => a.path.endsWith("filebeat/filebeat.yml"))!.content;
    for (const service of config.services.filter((s) => s.logs?.length)) {
      expect(filebeatYml).toContain(`name: ${service.name}`);
      for (const glob of service.logs!) {
        expect(filebeatYml).toContain(glob);
        expect(mounts.some((mount) => glob.startsWith(`${mount.hostPath}/`))).toBe(true);
      }
    }
    expect(ofType(RULE_GROUP).find((group) => group.inputs.name === "atra-logs")).toBeDefined();
  });

  test("outputs give the URLs, the admin user and every dashboard's URL", () => {
    const outputs = plan.run.outputs;
    expect(outputs.grafanaUrl.value).toBe(config.grafana.publicUrl);
    expect(outputs.prometheusUrl.value).toBe(config.prometheusPublicUrl);
    expect(outputs.grafanaAdminUser.value).toBe(config.grafana.adminUser);
    const dashboards = ofType("grafana:oss/dashboard:Dashboard").map((d) => JSON.parse(String(d.inputs.configJson)).uid as string);
    expect(Object.keys(outputs.dashboardUrls.value as object).sort()).toEqual(dashboards.sort());
    for (const uid of dashboards) expect((outputs.dashboardUrls.value as Record<string, string>)[uid]).toBe(`${config.grafana.publicUrl}/d/${uid}`);
    expect(outputs.kibanaUrl.value).toBe(config.logs.kibanaPublicUrl);
    expect(outputs.elasticsearchUrl.value).toBe(config.logs.elasticsearchPublicUrl);
    expect(outputs.elasticsearchUser.value).toBe("atra-admin");
    expect(outputs.kibanaDataViewId.value).toBe(`atra-${stack}-logs-data-view`);
    expect(outputs.logsDataStream.value).toBe(config.logs.dataStream);
    for (const secret of ["elasticsearchPassword", "logShipperPassword", "grafanaLogsPassword", "kibanaPassword"])
      expect(outputs[secret]).toEqual({ value: "[secret]", secret: true });
  });

  test("people's Kibana login is their own: a native user whose only role reads the data stream in Discover and dashboards", () => {
    const { outputs, resources } = plan.run;
    const user = `atra-${stack}-kibana-viewer`;
    expect(outputs.kibanaUser.value).toBe(user);
    expect(outputs.kibanaUser.value).not.toBe(outputs.elasticsearchUser.value);
    const role = byName(`${DYNAMIC}ElasticsearchRole`, "kibana-viewer-role");
    const account = byName(`${DYNAMIC}ElasticsearchUser`, "kibana-viewer-user");
    expect(account.inputs.name).toBe(user);
    expect((account.inputs.body as { roles: string[] }).roles).toEqual([role.inputs.name]);
    expect(account.secretPaths).toContain("password");
    expect(account.dependencies).toContain(role.urn);
    // No cluster privilege, read-only on the data stream alone, Kibana's read-only Discover and Dashboards in the default space.
    expect(role.inputs.body).toMatchObject({
      cluster: [],
      indices: [{ names: [config.logs.dataStream], privileges: ["read", "view_index_metadata"], allow_restricted_indices: false }],
      applications: [{ application: "kibana-.kibana", privileges: ["feature_discover_v2.read", "feature_dashboard_v2.read"], resources: ["space:default"] }],
    });
    // Nothing else that grants (toMatchObject holds the arrays above exactly): no run_as, global or remote privileges.
    expect(Object.keys(role.inputs.body as object).sort()).toEqual(["applications", "cluster", "description", "indices", "metadata"]);
    expect(
      resources
        .filter((r) => r.type === `${DYNAMIC}ElasticsearchUser`)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["kibana-viewer-user", "reader-user", "writer-user"]);
  });
});

describe("bad config under mocks", () => {
  test("every problem is reported at once and no resource is registered", async () => {
    const error = (await planIsolated("dev", {
      config: stackConfig({
        services: [
          { name: "api", metrics: "ftp://x/metrics" },
          { name: "api", health: "not a url" },
        ],
        ports: { prometheus: 70000 },
        prometheus: { retentionTime: "two weeks" },
        grafanaAdminPassword: "plain-text-password",
        bogus: true,
      }),
    }).catch((e: unknown) => e)) as ProgramError;
    expect(error).toBeInstanceOf(Error);
    expect(error.resources).toEqual([]);
    for (const key of [
      "atra-observability:services[0].metrics",
      "atra-observability:services[1].health",
      "atra-observability:services[1].name",
      "atra-observability:ports.prometheus",
      "atra-observability:prometheus.retentionTime",
      "atra-observability:grafanaAdminPassword",
      "atra-observability:bogus",
    ]) {
      expect(error.message).toContain(key);
    }
    expect(error.message).not.toContain("plain-text-password");
  });

  test("a bind address other than loopback is used for every published port", async () => {
    const plan = await planIsolated("custom", { config: stackConfig({ bindAddress: "0.0.0.0", services: [] }) });
    const containers = plan.run.resources.filter((r) => r.type === CONTAINER && r.inputs.ports);
    for (const container of containers) for (const port of container.inputs.ports as { ip: string }[]) expect(port.ip).toBe("0.0.0.0");
    // The provider still talks to Grafana over loopback when Grafana listens on every interface (https: beyond loopback, tls is on).
    expect(plan.run.resources.find((r) => r.type === "pulumi:providers:grafana")?.inputs.url).toBe("https://127.0.0.1:3000");
  });

  test("the logs stage can be switched off: no Elasticsearch, Kibana, shipper, volumes, datasource, logs dashboard or log alerts", async () => {
    const plan = await planIsolated("nologs", {
      config: stackConfig({ logs: { enabled: false }, services: [{ name: "api", health: "http://api:8000/health", logs: ["/srv/logs/api*.log"] }] }),
    });
    const names = plan.run.resources.map((r) => `${r.type}/${r.name}`);
    for (const gone of ["elasticsearch", "kibana", "filebeat"]) expect(names).not.toContain(`${CONTAINER}/${gone}`);
    expect(names.filter((name) => /elastic|kibana|filebeat|atra-logs/.test(name))).toEqual([]);
    expect(plan.artifacts.map((a) => a.path)).not.toContain("grafana/dashboards/atra-logs.json");
    expect(plan.run.outputs.kibanaUrl).toBeUndefined();
  });

  test("the stack network has a fixed bridge interface; node-exporter binds / with rslave, or with no mode under the escape", async () => {
    const plan = await planIsolated("custom", { config: stackConfig({ network: { bridgeName: "obs-br0" }, nodeExporter: { rootPropagation: "none" } }) });
    const network = plan.run.resources.find((r) => r.type === "docker:index/network:Network");
    expect(network?.inputs).toMatchObject({ name: "atra-obs-custom-net", driver: "bridge", options: { "com.docker.network.bridge.name": "obs-br0" } });
    const nodeExporter = plan.run.resources.find((r) => r.type === CONTAINER && r.name === "node-exporter");
    // No bindOptions at all: the only form Docker accepts for a bind of / on a host whose / is private.
    expect(nodeExporter?.inputs.mounts).toEqual([{ type: "bind", source: "/", target: "/host", readOnly: true }]);
  });

  test("cAdvisor can be switched off, and then neither its container nor its image nor its scrape job exist", async () => {
    const plan = await planIsolated("nocadvisor", { config: stackConfig({ cadvisor: { enabled: false } }) });
    const names = plan.run.resources.map((r) => `${r.type}/${r.name}`);
    expect(names).not.toContain(`${CONTAINER}/cadvisor`);
    expect(names).not.toContain(`${IMAGE}/image-cadvisor`);
    const prometheusYml = plan.artifacts.find((a) => a.path.endsWith("prometheus.yml"))?.content;
    expect(prometheusYml).not.toContain("job_name: cadvisor");
  });
});
