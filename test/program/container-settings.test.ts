/**
 * Container settings whose meaning depends on software outside this program: the shells that run
 * the entrypoints, Elasticsearch's reading of its environment, and Grafana's stored admin login.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { elasticsearchEnvironment, elasticsearchSettingVariable } from "../../components/logs/logs-stack";
import { adminLoginGuardProvider } from "../../components/grafana/admin-login-guard";
import { planIsolated, resolvedStackConfig } from "../support/plan";
import { FILEBEAT_DATA_PATH, logMounts } from "../../components/logs/filebeat-config";

/**
 * Elasticsearch's Docker build turns `ES_SETTING_*` variables into settings this way
 * (elastic/elasticsearch server/src/main/java/org/elasticsearch/common/cli/EnvironmentAwareCommand.java,
 * putDockerEnvSettings): strip the prefix, `_` to `.`, `..` back to `_`, lower-case.
 */
function settingFromVariable(name: string): string | undefined {
  if (!name.startsWith("ES_SETTING_")) return undefined;
  return name.slice("ES_SETTING_".length).replace(/_/g, ".").replace(/\.\./g, "_").toLowerCase();
}

const SHELLS = ["/bin/dash", "/bin/busybox"].filter((shell) => fs.existsSync(shell));

describe("Elasticsearch's settings in the environment", () => {
  const config = resolvedStackConfig("dev");
  const environment = elasticsearchEnvironment(config);
  const variables = Object.fromEntries(environment.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));

  test("every setting is an ES_SETTING_ variable Elasticsearch decodes back to it", () => {
    const settings = Object.fromEntries(
      Object.entries(variables).flatMap(([name, value]) => (settingFromVariable(name) ? [[settingFromVariable(name), value]] : [])),
    );
    expect(settings).toEqual({
      "discovery.type": "single-node",
      // Transport on loopback (issue 21): no container on the stack network can open a transport connection.
      "transport.host": "127.0.0.1",
      "cluster.name": config.namePrefix,
      "node.name": `${config.namePrefix}-elasticsearch`,
      "xpack.security.enabled": "true",
      "xpack.security.http.ssl.enabled": "false",
      "xpack.security.transport.ssl.enabled": "false",
      "xpack.license.self_generated.type": "basic",
      "xpack.ml.enabled": "false",
      "ingest.geoip.downloader.enabled": "false",
    });
    expect(elasticsearchSettingVariable("xpack.license.self_generated.type")).toBe("ES_SETTING_XPACK_LICENSE_SELF__GENERATED_TYPE");
  });

  test("every variable name is a shell identifier", () => {
    for (const name of Object.keys(variables)) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
  });

  // The entrypoint runs under /bin/sh -c; in images whose sh is dash or busybox, a dotted name would be dropped.
  test.each(SHELLS)("%s passes every variable on to the program it starts", (shell) => {
    const args = shell.endsWith("busybox") ? ["sh", "-c", "exec env"] : ["-c", "exec env"];
    const passed = spawnSync(shell, args, { env: { ...variables, "discovery.type": "single-node" }, encoding: "utf8" }).stdout.split("\n");
    for (const [name, value] of Object.entries(variables)) expect(passed).toContain(`${name}=${value}`);
    // The negative control: the dotted form this replaces does not survive.
    expect(passed).not.toContain("discovery.type=single-node");
  });

  test("the machine has Debian's dash (its /bin/sh) to check with", () => {
    expect(SHELLS).toContain("/bin/dash");
  });
});

describe("Grafana admin login guard", () => {
  const check = (olds: object | undefined, news: { login: string; dataVolume: string }) =>
    (adminLoginGuardProvider.check as NonNullable<pulumi.dynamic.ResourceProvider["check"]>)(olds, news);

  test("a changed login on the same volume is refused with the key, both logins and the way out", async () => {
    const result = await check({ login: "admin", dataVolume: "atra-obs-dev-grafana-data" }, { login: "ops", dataVolume: "atra-obs-dev-grafana-data" });
    expect(result.failures).toHaveLength(1);
    expect(result.failures?.[0].property).toBe("login");
    expect(result.failures?.[0].reason).toMatch(
      /^atra-observability:grafana\.adminUser: changed from "admin" to "ops".*Set grafana\.adminUser back to "admin".*pulumi state delete/,
    );
  });

  test.each([
    ["first deployment", undefined, { login: "ops", dataVolume: "v1" }],
    ["same login", { login: "ops", dataVolume: "v1" }, { login: "ops", dataVolume: "v1" }],
    ["new volume (new database)", { login: "admin", dataVolume: "v1" }, { login: "ops", dataVolume: "v2" }],
  ])("%s passes", async (_case, olds, news) => {
    expect((await check(olds, news)).failures ?? []).toEqual([]);
  });

  test("the program registers the guard and the Grafana container waits for it", async () => {
    const resources = (await planIsolated("dev")).run.resources;
    const guard = resources.find((resource) => resource.type === "pulumi-nodejs:dynamic/grafana:AdminLoginGuard");
    const grafana = resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === "grafana");
    expect(guard?.inputs).toMatchObject({ login: "admin", dataVolume: "atra-obs-dev-grafana-data" });
    expect(grafana?.dependencies).toContain(guard?.urn);
  });

  test("the provider serializes without project modules", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => adminLoginGuardProvider);
    expect(serialized.text).not.toMatch(/require\(/);
    expect(serialized.containsSecrets).toBe(false);
  });
});

test("cAdvisor gets the kernel log and the disk names read-only, as its quick start passes them", async () => {
  const resources = (await planIsolated("dev")).run.resources;
  const cadvisor = resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === "cadvisor");
  expect(cadvisor?.inputs.devices).toEqual([{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }]);
  expect(cadvisor?.inputs.volumes).toEqual(expect.arrayContaining([{ hostPath: "/dev/disk", containerPath: "/dev/disk", readOnly: true }]));
});

/**
 * Issue 21: the blackbox exporter, which sits on the applications' networks, answers only its login
 * (components/metrics/blackbox-login.ts; the real exporter's 401s and the probe jobs' login are in
 * test/real-tools/blackbox-login.test.ts): its web config and the healthcheck's credentials are secret
 * uploads, Prometheus gets the password as a secret file, and no command or healthcheck carries it.
 */
test.each(["dev", "agent-example"])("%s: the blackbox exporter runs with its login, the secrets only in secret uploads", async (stack) => {
  const resources = (await planIsolated(stack)).run.resources;
  const container = (name: string) => resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === name);
  const blackbox = container("blackbox-exporter");
  const prometheus = container("prometheus");
  expect(blackbox?.inputs.command).toEqual(["--config.file=/etc/blackbox_exporter/config.yml", "--web.config.file=/etc/blackbox_exporter/web.yml"]);
  const uploads = (blackbox?.inputs.uploads ?? []) as { file: string }[];
  const secretUpload = (resource: typeof blackbox, file: string) => {
    const index = ((resource?.inputs.uploads ?? []) as { file: string }[]).findIndex((upload) => upload.file === file);
    expect(index).toBeGreaterThanOrEqual(0);
    return resource?.secretPaths.some((secretPath) => secretPath === `uploads[${index}].content` || secretPath === "uploads") ?? false;
  };
  expect(uploads.map((upload) => upload.file)).toEqual(
    expect.arrayContaining(["/etc/blackbox_exporter/web.yml", "/etc/blackbox_exporter/secrets/healthcheck-basic"]),
  );
  expect(secretUpload(blackbox, "/etc/blackbox_exporter/web.yml")).toBe(true);
  expect(secretUpload(blackbox, "/etc/blackbox_exporter/secrets/healthcheck-basic")).toBe(true);
  expect(secretUpload(prometheus, "/etc/prometheus/secrets/blackbox-password")).toBe(true);
  const healthcheck = (blackbox?.inputs.healthcheck as { tests: string[] }).tests.join(" ");
  expect(healthcheck).toContain("/-/healthy");
  expect(healthcheck).toContain("$(cat /etc/blackbox_exporter/secrets/healthcheck-basic)");
});

/**
 * Issue 21: cAdvisor's read-only /var/run let it connect() to every socket there (a read-only bind forbids
 * writing files, not connecting to a socket). It gets the Docker Engine's socket alone, which it needs for
 * container names and labels (google/cadvisor container/docker/factory.go Register, CanHandleAndAccept;
 * components/metrics/cadvisor.ts says what that socket still allows), and nothing else under /var/run or /run.
 */
test.each(["dev", "prod", "agent-example"])("%s: cAdvisor mounts the Docker socket alone, never all of /var/run", async (stack) => {
  const resources = (await planIsolated(stack)).run.resources;
  const cadvisor = resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === "cadvisor");
  if (!resolvedStackConfig(stack).cadvisor.enabled) return expect(cadvisor).toBeUndefined();
  const volumes = cadvisor?.inputs.volumes as { hostPath: string; containerPath: string; readOnly: boolean }[];
  expect(volumes).toEqual([
    { hostPath: "/", containerPath: "/rootfs", readOnly: true },
    { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true },
    { hostPath: "/sys", containerPath: "/sys", readOnly: true },
    { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
    { hostPath: "/dev/disk", containerPath: "/dev/disk", readOnly: true },
  ]);
  for (const volume of volumes) expect(volume.hostPath).not.toMatch(/^\/(var\/)?run\/?$/);
});

/**
 * Reading /dev/kmsg needs CAP_SYSLOG where kernel.dmesg_restrict=1 (torvalds/linux kernel/printk/printk.c:
 * devkmsg_open -> check_syslog_permissions -> syslog_action_restricted), which Docker's default set lacks;
 * sent as the Engine stores it (moby/moby oci/caps/utils.go, NormalizeLegacyCapabilities: `CAP_`, upper case).
 * test/real-tools/log-bind-mounts.test.ts opens the device in a real container with and without it.
 */
test.each(["dev", "prod", "agent-example"])("%s: cAdvisor, given /dev/kmsg, also gets CAP_SYSLOG to open it", async (stack) => {
  const resources = (await planIsolated(stack)).run.resources;
  const cadvisor = resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === "cadvisor");
  if (!resolvedStackConfig(stack).cadvisor.enabled) return expect(cadvisor).toBeUndefined();
  expect(cadvisor?.inputs.devices).toEqual([{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }]);
  expect(cadvisor?.inputs.capabilities).toEqual({ adds: ["CAP_SYSLOG"] });
  // Every capability the program adds anywhere is in the Engine's stored form.
  for (const container of resources.filter((resource) => resource.type === "docker:index/container:Container")) {
    for (const capability of (container.inputs.capabilities as { adds?: string[] } | undefined)?.adds ?? []) expect(capability).toMatch(/^CAP_[A-Z_]+$/);
  }
});

/**
 * Filebeat's log directories: read-only bind mounts (HostConfig.Mounts), which the Engine refuses when
 * the directory is missing (moby/moby volume/mounts/linux_parser.go, validateMountConfigImpl:
 * errBindSourceDoesNotExist), not host-path `volumes` (HostConfig.Binds, whose missing directory the Engine
 * creates owned by root). The provider sends `mounts` and `volumes` so (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container_funcs.go, `mounts`; resource_docker_container_structures.go,
 * volumeSetToDockerVolumes). test/real-tools/log-bind-mounts.test.ts shows the Engine's two behaviours.
 */
test.each(["dev", "prod", "agent-example"])("%s: Filebeat mounts every log directory as a read-only bind mount, its registry as a volume", async (stack) => {
  const resources = (await planIsolated(stack)).run.resources;
  const filebeat = resources.find((resource) => resource.type === "docker:index/container:Container" && resource.name === "filebeat");
  const config = resolvedStackConfig(stack);
  const expected = logMounts(config.services).map((mount) => ({ type: "bind", source: mount.hostPath, target: mount.containerPath, readOnly: true }));
  expect(expected.length).toBeGreaterThan(0);
  expect(filebeat?.inputs.mounts).toEqual(expected);
  // No host path among the volumes: only the registry's named volume.
  const volumes = filebeat?.inputs.volumes as { hostPath?: string; volumeName?: string; containerPath: string }[];
  expect(volumes).toEqual([{ volumeName: expect.stringContaining("filebeat"), containerPath: FILEBEAT_DATA_PATH }]);
});
