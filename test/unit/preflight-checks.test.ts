/**
 * The preflight's pure half: what it reads from the program's plan (so its probes use the program's
 * own settings), how it turns container settings into `docker create` arguments, how it reads the
 * Engine's and the probes' answers, and its report. Plus the Engine-version gate, against a stand-in
 * `docker` CLI that answers as an old Engine does.
 */
import * as fs from "fs";
import * as path from "path";
import type { PlanResult } from "../../scripts/lib/plan";
import { planIsolated, resolvedStackConfig } from "../support/plan";
import { tempDir } from "../support/real-tools";
import {
  apiVersionAtLeast,
  bindFailure,
  defaultGateway,
  formatReport,
  hostArgs,
  hostNeeds,
  isPortTaken,
  isPropagationRefusal,
  missingApplet,
  reachedHttp,
} from "../../scripts/lib/preflight/checks";
import {
  addedOptions,
  BIND_PROBE_TARGET,
  BindSource,
  bindProbeArgs,
  bindSourceResults,
  bindSources,
  engineMajor,
  isBindSourceMissing,
  loopbackFirewallRules,
  loopbackPublishingResult,
  networkOptionsResult,
  PublishedPort,
  StoredHostConfig,
  StoredSettings,
  storedSettingsArgs,
  storedSettingsGroups,
  storedSettingsResults,
} from "../../scripts/lib/preflight/checks";
import { DockerCli, dockerEnvironment } from "../../scripts/lib/preflight/docker-cli";
import { firewallRemedy, runPreflight } from "../../scripts/lib/preflight/run";

describe("what the preflight reads from the dev stack's plan", () => {
  let plan: PlanResult;
  const config = resolvedStackConfig("dev");
  beforeAll(async () => {
    plan = await planIsolated("dev");
  });

  test("node-exporter's host settings, listen address and scrape target are the program's", () => {
    const needs = hostNeeds(config, plan.run.resources);
    expect(needs.nodeExporter).toEqual({
      containerName: "atra-obs-dev-node-exporter",
      hostArgs: ["--network", "host", "--pid", "host", "--mount", "type=bind,target=/host,source=/,readonly,bind-propagation=rslave"],
      rootPropagation: "rslave",
      listen: { address: "172.17.0.1", port: 9100 },
      scrapeTarget: "172.17.0.1:9100",
    });
    expect(needs.prometheusHostArgs).toEqual(["--add-host", "host.docker.internal:host-gateway"]);
    expect(needs.probeImage).toBe(config.images.nodeExporter);
  });

  test("the stack network, the application networks, every published port and the logs stage", () => {
    const needs = hostNeeds(config, plan.run.resources);
    expect(needs.network).toEqual({
      name: "atra-obs-dev-net",
      driver: "bridge",
      options: { "com.docker.network.bridge.name": "atra-dev" },
      bridgeName: "atra-dev",
    });
    expect(needs.externalNetworks).toEqual(config.appNetworks);
    expect(needs.publishedPorts.map((port) => `${port.component} ${port.ip}:${port.port} ${port.configKey}`).sort()).toEqual([
      "elasticsearch 127.0.0.1:9200 ports.elasticsearch",
      "grafana 127.0.0.1:3000 ports.grafana",
      "kibana 127.0.0.1:5601 ports.kibana",
      "prometheus 127.0.0.1:9090 ports.prometheus",
    ]);
    expect(needs.needsMaxMapCount).toBe(config.logs.enabled);
  });

  test("every host path the planned containers bind: node-exporter's / and Filebeat's log directory, with the globs that name it", () => {
    const needs = hostNeeds(config, plan.run.resources);
    const globs = config.services.flatMap((service, index) => (service.logs ?? []).map((glob, logIndex) => `services[${index}].logs[${logIndex}] (${glob})`));
    expect(globs.length).toBeGreaterThan(0);
    expect(needs.bindSources).toEqual([
      { source: "/", containers: ["node-exporter"], configKeys: [] },
      { source: "/srv/atra/logs", containers: ["filebeat"], configKeys: globs },
    ]);
  });

  test("an Engine older than API 1.41 stops the preflight with the upgrade as fix", async () => {
    const dir = tempDir("atra-fake-docker-");
    try {
      const fake = path.join(dir, "docker");
      fs.writeFileSync(
        fake,
        `#!/bin/sh\n[ "$1" = version ] && { echo '{"Version":"19.03.15","ApiVersion":"1.40"}'; exit 0; }\necho "unexpected: $*" >&2; exit 1\n`,
        { mode: 0o755 },
      );
      const report = await runPreflight({ config, resources: plan.run.resources, docker: new DockerCli(undefined, fake) });
      expect(report.ok).toBe(false);
      expect(report.results).toEqual([
        {
          id: "api-version",
          status: "fail",
          summary: "Engine API 1.40 (Docker 19.03.15) is older than 1.41: the daemon cannot resolve host-gateway for Prometheus's extra host",
          remedy: ["upgrade Docker Engine to 20.10 or later (Debian 12: apt-get install docker.io)", "no other check ran"],
        },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("container settings to docker create arguments", () => {
  test("mounts, volumes, devices, capabilities, hosts and namespaces", () => {
    expect(
      hostArgs(
        {
          networkMode: "host",
          pidMode: "host",
          privileged: true,
          user: "65534",
          mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true }],
          volumes: [{ hostPath: "/sys", containerPath: "/sys", readOnly: true }],
          devices: [{ hostPath: "/dev/kmsg", containerPath: "/dev/kmsg", permissions: "r" }],
          capabilities: { adds: ["SYS_TIME"], drops: ["ALL"] },
          hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
        },
        ["networkMode", "pidMode", "privileged", "user", "mounts", "volumes", "devices", "capabilities", "hosts"],
      ),
    ).toEqual([
      ...["--network", "host", "--pid", "host", "--privileged", "--user", "65534"],
      ...["--mount", "type=bind,target=/host,source=/,readonly"],
      ...["--volume", "/sys:/sys:ro", "--device", "/dev/kmsg:/dev/kmsg:r", "--cap-add", "SYS_TIME", "--cap-drop", "ALL"],
      ...["--add-host", "host.docker.internal:host-gateway"],
    ]);
  });

  test("a setting the preflight cannot reproduce stops it instead of going unprobed", () => {
    expect(() => hostArgs({ networkMode: "host", sysctls: { "net.core.somaxconn": "1024" } }, ["networkMode"])).toThrow(
      "the preflight does not know how to reproduce container setting(s) sysctls",
    );
  });
});

describe("reading the Engine's answers", () => {
  test("API versions compare numerically", () => {
    expect(apiVersionAtLeast("1.41", "1.41")).toBe(true);
    expect(apiVersionAtLeast("1.100", "1.41")).toBe(true);
    expect(apiVersionAtLeast("1.40", "1.41")).toBe(false);
    expect(apiVersionAtLeast("2.0", "1.41")).toBe(true);
  });

  test("propagation refusals, bind failures, taken ports and HTTP answers", () => {
    // The messages as Engine 20.10 and busybox print them (seen in test/preflight.test.ts against the real Engine).
    expect(isPropagationRefusal("Error response from daemon: path / is mounted on / but it is not a shared or slave mount")).toBe(true);
    expect(isPropagationRefusal("Error response from daemon: No such image")).toBe(false);
    expect(bindFailure("httpd: bind: Cannot assign requested address")).toBe("not-host-address");
    expect(bindFailure("httpd: bind: Address already in use")).toBe("in-use");
    expect(bindFailure("httpd: bind: Permission denied")).toBe("permission");
    expect(bindFailure("/bin/sh: httpd: not found")).toBe("missing-applet");
    expect(missingApplet("sh: nc: not found")).toBe("nc");
    expect(missingApplet("HTTP/1.1 404 Not Found")).toBeUndefined();
    expect(isPortTaken("Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use")).toBe(true);
    expect(isPortTaken("Bind for 0.0.0.0:3000 failed: port is already allocated")).toBe(true);
    expect(reachedHttp("HTTP/1.1 404 Not Found\r\nDate: x\r\n")).toBe(true);
    expect(reachedHttp("nc: can't connect to remote host (172.17.0.1): Connection refused")).toBe(false);
  });

  test("the default route's gateway from /proc/net/route", () => {
    const routes = "Iface\tDestination\tGateway \tFlags\neth0\t00000000\t010011AC\t0003\neth0\t000011AC\t00000000\t0001\n";
    expect(defaultGateway(routes)).toBe("172.17.0.1");
    expect(defaultGateway("Iface\tDestination\tGateway\n")).toBeUndefined();
  });

  test("the Docker host: dockerHost, else DOCKER_HOST, else the local socket; never a context", () => {
    // The provider's rule for `host` (kreuzwerker/terraform-provider-docker internal/provider/provider.go);
    // the CLI gets DOCKER_HOST, which it prefers to DOCKER_CONTEXT and to `docker context use`.
    expect(dockerEnvironment("ssh://deploy@docker-1", { DOCKER_HOST: "tcp://x:2375" }).DOCKER_HOST).toBe("ssh://deploy@docker-1");
    expect(dockerEnvironment(undefined, { DOCKER_HOST: "tcp://x:2375" }).DOCKER_HOST).toBe("tcp://x:2375");
    // dockerCertPath reaches the CLI as DOCKER_CERT_PATH with verification on (tcp:// only).
    expect(dockerEnvironment("tcp://x:2376", {}, "/home/ops/.docker/x")).toMatchObject({ DOCKER_CERT_PATH: "/home/ops/.docker/x", DOCKER_TLS_VERIFY: "1" });
    expect(dockerEnvironment("ssh://deploy@x", {}, "/home/ops/.docker/x").DOCKER_CERT_PATH).toBeUndefined();
    expect(dockerEnvironment(undefined, {})).toEqual({ DOCKER_HOST: "unix:///var/run/docker.sock" });
    // Before: a set context was left to the CLI (which then asked the context's daemon) or removed while
    // the provider would still follow it. scripts/preflight.ts refuses it; the CLI never sees it.
    expect(dockerEnvironment("ssh://deploy@docker-1", { DOCKER_CONTEXT: "" })).toEqual({ DOCKER_HOST: "ssh://deploy@docker-1" });
  });
});

/**
 * What the Engine stores for a container create, modelled line by line on moby/moby (v20.10.24 and
 * master agree on these lines):
 * - daemon/logs.go mergeAndVerifyLogConfig: an empty driver becomes the daemon's; when the container's
 *   driver is the daemon's default driver, every daemon log-opt the container lacks is added; and
 *   daemon/logger/loggerutils/cache/validate.go MergeDefaultLogConfig adds the daemon's `cache-*` keys
 *   to every container.
 * - daemon/daemon_unix.go: adaptContainerSettings sets MemorySwap to twice Memory when only Memory is
 *   given; verifyPlatformContainerResources discards Memory (0, MemorySwap -1) without the memory
 *   cgroup, and sets MemorySwap to -1 without swap accounting (sysInfo.SwapLimit).
 */
function engineStores(
  sent: StoredSettings,
  daemon: { logDriver: string; logOpts: Record<string, string>; memoryLimit: boolean; swapLimit: boolean },
): StoredHostConfig {
  const type = sent.logDriver || daemon.logDriver;
  const config: Record<string, string> = { ...(sent.logOpts ?? {}) };
  for (const [key, value] of Object.entries(daemon.logOpts)) {
    if (type === daemon.logDriver && !(key in config)) config[key] = value;
    if (key.startsWith("cache-") && !(key in config)) config[key] = value;
  }
  let memory = (sent.memory ?? 0) * 1024 * 1024;
  let swap = sent.memorySwap === undefined ? 0 : sent.memorySwap > 0 ? sent.memorySwap * 1024 * 1024 : sent.memorySwap;
  if (memory > 0 && swap === 0) swap = memory * 2;
  if (memory > 0 && !daemon.memoryLimit) {
    memory = 0;
    swap = -1;
  }
  if (memory > 0 && swap !== -1 && !daemon.swapLimit) swap = -1;
  return { LogConfig: { Type: type, Config: config }, Memory: memory, MemorySwap: swap };
}

describe("settings the Engine may store otherwise than sent (a change at every `up`)", () => {
  let plan: PlanResult;
  const config = resolvedStackConfig("prod");
  const DEFAULT_DAEMON = { logDriver: "json-file", logOpts: {}, memoryLimit: true, swapLimit: true };
  beforeAll(async () => {
    plan = await planIsolated("prod");
  });
  const groups = () => hostNeeds(config, plan.run.resources).storedSettings;
  const observe = (daemon: typeof DEFAULT_DAEMON) => groups().map((group) => ({ group, stored: engineStores(group.settings, daemon) }));

  test("the program's containers, grouped by the log and memory settings they send", () => {
    const all = groups();
    const containers = plan.run.resources.filter((resource) => resource.type === "docker:index/container:Container");
    expect(all.flatMap((group) => group.containers).sort()).toEqual(containers.map((container) => container.name).sort());
    for (const { settings } of all) {
      expect(settings.logDriver).toBe("json-file");
      expect(settings.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
      // No swap beyond memory: memorySwap equals memory (see components/docker/service-container.ts).
      expect(settings.memorySwap).toBe(settings.memory);
    }
    expect(
      storedSettingsGroups([
        { name: "a", inputs: { memory: 64, memorySwap: 64 } },
        { name: "b", inputs: { memory: 64, memorySwap: 64 } },
      ]),
    ).toEqual([{ settings: { memory: 64, memorySwap: 64 }, containers: ["a", "b"] }]);
    expect(storedSettingsArgs({ logDriver: "json-file", logOpts: { "max-size": "10m" }, memory: 256, memorySwap: 256 })).toEqual([
      ...["--log-driver", "json-file", "--log-opt", "max-size=10m", "--memory", "256m", "--memory-swap", "256m"],
    ]);
    expect(storedSettingsArgs({ memory: 256, memorySwap: -1 })).toEqual(["--memory", "256m", "--memory-swap", "-1"]);
  });

  test("a daemon with no log-opts and swap accounting stores exactly what is sent: both pass", () => {
    expect(storedSettingsResults(observe(DEFAULT_DAEMON)).map((result) => [result.id, result.status])).toEqual([
      ["log-options", "pass"],
      ["memory-swap", "pass"],
    ]);
  });

  test("daemon.json log-opts merged into the stack's json-file containers: fail, naming the keys to remove", () => {
    const [logs, memory] = storedSettingsResults(observe({ ...DEFAULT_DAEMON, logOpts: { "max-file": "5", compress: "true", "cache-disabled": "true" } }));
    expect(logs.status).toBe("fail");
    // max-file is the stack's own (3 is kept); compress and cache-disabled are added.
    expect(logs.summary).toContain(
      "the Engine adds cache-disabled=true, compress=true to the log options the stack sends (json-file max-file=3, max-size=10m)",
    );
    expect(logs.summary).toContain("every `up` would replace every container");
    expect(logs.remedy?.[1]).toBe("remove cache-disabled, compress there, then restart dockerd (systemctl restart docker)");
    expect(memory.status).toBe("pass");
  });

  test("another default log driver: only its cache-* keys reach the stack's json-file containers", () => {
    const [logs] = storedSettingsResults(observe({ ...DEFAULT_DAEMON, logDriver: "local", logOpts: { "max-size": "50m" } }));
    expect(logs.status).toBe("pass");
    const [cached] = storedSettingsResults(observe({ ...DEFAULT_DAEMON, logDriver: "local", logOpts: { "cache-max-file": "2" } }));
    expect(cached.status).toBe("fail");
    expect(cached.summary).toContain("the Engine adds cache-max-file=2");
  });

  test("no swap accounting: MemorySwap is stored as -1, an in-place update at every `up`; fail with the kernel fix", () => {
    const [logs, memory] = storedSettingsResults(observe({ ...DEFAULT_DAEMON, swapLimit: false }));
    expect(logs.status).toBe("pass");
    expect(memory.status).toBe("fail");
    expect(memory.summary).toMatch(
      /^the kernel has no swap accounting, so the Engine stores memorySwap -1 \(moby\/moby daemon\/daemon_unix.go verifyPlatformContainerResources\)/,
    );
    expect(memory.summary).toMatch(/read back \d+, -1/);
    expect(memory.summary).toContain("every `up` would update every container in place");
    expect(memory.remedy?.join(" ")).toContain("swapaccount=1");
  });

  test("no memory cgroup: the limits are discarded; fail", () => {
    const [, memory] = storedSettingsResults(observe({ ...DEFAULT_DAEMON, memoryLimit: false, swapLimit: false }));
    expect(memory.status).toBe("fail");
    expect(memory.summary).toContain("the Engine discards the memory limits");
    expect(memory.remedy?.[0]).toContain("cgroup_enable=memory");
  });

  test("options added or dropped, as key=value", () => {
    expect(addedOptions({ a: "1", b: "2" }, { a: "1", b: "2" })).toEqual([]);
    expect(addedOptions({ a: "1" }, { a: "1", z: "9", c: "3" })).toEqual(["c=3", "z=9"]);
    expect(addedOptions({ a: "1", b: "2" }, { a: "2" })).toEqual(["a=2", "b (dropped)"]);
  });
});

describe("the stack network's options as the Engine stores them", () => {
  const sent = { "com.docker.network.bridge.name": "atra-prod" };

  test("stored as sent (Engine 20.10, or no default-network-opts): no result of its own", () => {
    expect(networkOptionsResult("atra-obs-prod-net", sent, { ...sent }, true)).toBeUndefined();
  });

  test("default-network-opts merged in (moby/moby daemon/network.go createNetwork, Engine 24+): fail with the daemon.json fix", () => {
    // createNetwork copies the request's options, then adds each of cfg.DefaultNetworkOpts[driver] it lacks.
    const daemonDefaults = { "com.docker.network.driver.mtu": "1400", "com.docker.network.bridge.name": "ignored" };
    const stored: Record<string, string> = { ...sent };
    for (const [key, value] of Object.entries(daemonDefaults)) if (!(key in stored)) stored[key] = value;
    const result = networkOptionsResult("atra-obs-prod-net", sent, stored, true);
    expect(result?.status).toBe("fail");
    expect(result?.summary).toContain("the Engine stores com.docker.network.driver.mtu=1400 in a new network with the stack network's settings");
    expect(result?.summary).toContain("every `up` would replace the stack network and every container on it");
    expect(result?.remedy?.[0]).toContain('remove com.docker.network.driver.mtu from its "bridge" entry');
  });

  test("an existing network with another bridge name is left to the bridge-name check (a one-time replacement)", () => {
    expect(networkOptionsResult("atra-obs-prod-net", sent, { "com.docker.network.bridge.name": "old" }, false)).toBeUndefined();
    expect(networkOptionsResult("atra-obs-prod-net", sent, { ...sent, "com.docker.network.enable_ip_masquerade": "false" }, false)?.remedy).toEqual([
      expect.stringContaining("com.docker.network.enable_ip_masquerade"),
      "the existing network keeps them: `up` replaces it once after that",
    ]);
  });
});

describe("ports published on 127.0.0.1 before Engine 28", () => {
  const ports: PublishedPort[] = [
    { component: "grafana", ip: "127.0.0.1", port: 3000, protocol: "tcp", configKey: "ports.grafana" },
    { component: "prometheus", ip: "0.0.0.0", port: 9090, protocol: "tcp", configKey: "ports.prometheus" },
  ];
  const network = { name: "atra-obs-prod-net", driver: "bridge", options: {}, bridgeName: "atra-prod" };
  const needs = (environment: string, publishedPorts = ports) => ({ environment, publishedPorts, network });

  test("the Engine's major version, from its version string (Debian's 20.10.24+dfsg1) or API 1.48 = 28.0", () => {
    expect(engineMajor("20.10.24+dfsg1")).toBe(20);
    expect(engineMajor("28.0.1")).toBe(28);
    expect(engineMajor("dev")).toBeUndefined();
    expect(loopbackPublishingResult({ version: "dev", apiVersion: "1.48" }, needs("prod")).status).toBe("pass");
    expect(loopbackPublishingResult({ version: "dev", apiVersion: "1.47" }, needs("prod")).status).toBe("warn");
  });

  test("a non-dev stack on Engine 27 or older: a warning with the rules Engine 28 adds (raw PREROUTING drops)", () => {
    const result = loopbackPublishingResult({ version: "20.10.24+dfsg1", apiVersion: "1.41" }, needs("prod"));
    expect(result.status).toBe("warn");
    expect(result.summary).toBe(
      "Docker Engine 20.10.24+dfsg1 is older than 28: a neighbour on the host's LAN can reach 127.0.0.1:3000 (published on 127.0.0.1, but not filtered before 28)",
    );
    // moby/moby v28.0.0 libnetwork/drivers/bridge/port_mapping_linux.go filterPortMappedOnLoopback and
    // filterDirectAccess; 28.2 internal/iptabler/endpoint.go (per container address, `! -i <bridge>`).
    expect(result.remedy).toEqual(loopbackFirewallRules([ports[0]], "atra-prod"));
    expect(result.remedy).toContain("  iptables -t raw -A PREROUTING -p tcp -d 127.0.0.1 --dport 3000 ! -i lo -j DROP");
    expect(result.remedy).toContain("  iptables -t raw -A PREROUTING -d <the stack network's subnet> ! -i atra-prod -j DROP");
    expect(loopbackPublishingResult({ version: "27.5.1", apiVersion: "1.47" }, needs("staging")).status).toBe("warn");
  });

  test("no warning on Engine 28+, for a dev stack, or without loopback ports; a warning fails nothing", () => {
    expect(loopbackPublishingResult({ version: "28.0.0", apiVersion: "1.48" }, needs("prod")).status).toBe("pass");
    expect(loopbackPublishingResult({ version: "20.10.24+dfsg1", apiVersion: "1.41" }, needs("dev")).status).toBe("skip");
    expect(loopbackPublishingResult({ version: "20.10.24+dfsg1", apiVersion: "1.41" }, needs("prod", [ports[1]])).status).toBe("skip");
    expect(formatReport("h", [{ id: "loopback-ports", status: "warn", summary: "w", remedy: ["r"] }]).split("\n")).toEqual([
      "h",
      "  WARN  w",
      "        fix: r",
      "",
      "0 checks passed, 1 warning (WARN) to read: nothing here would stop `pulumi up`.",
    ]);
  });
});

describe("bind mount sources on the Docker host (the Engine refuses a missing one at create)", () => {
  // The Engine's own words for a missing HostConfig.Mounts bind source: moby/moby volume/mounts/validate.go
  // errBindSourceDoesNotExist, wrapped by errMountConfig ("invalid mount config for type ..."), returned
  // from volume/mounts/linux_parser.go validateMountConfigImpl; the text as Docker 20.10's CLI prints it.
  const MISSING = (path: string) =>
    `docker create failed: Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ${path}`;
  const logs: BindSource = {
    source: "/srv/atra/logs",
    containers: ["filebeat"],
    configKeys: ["services[0].logs[0] (/srv/atra/logs/api*.log)"],
  };

  test("every bind of every planned container, one entry per path; host-path volumes (created by the Engine) and named volumes are not", () => {
    expect(
      bindSources(
        [
          { name: "node-exporter", inputs: { mounts: [{ type: "bind", source: "/", target: "/host", readOnly: true }] } },
          {
            name: "filebeat",
            inputs: {
              mounts: [
                { type: "bind", source: "/srv/atra/logs", target: "/srv/atra/logs", readOnly: true },
                { type: "bind", source: "/home/app/logs", target: "/home/app/logs", readOnly: true },
              ],
              volumes: [{ volumeName: "atra-filebeat-data", containerPath: "/usr/share/filebeat/data" }],
            },
          },
          {
            name: "other",
            inputs: {
              mounts: [
                { type: "bind", source: "/srv/atra/logs", target: "/x" },
                { type: "volume", source: "data", target: "/data" },
              ],
            },
          },
          { name: "grafana", inputs: { volumes: [{ hostPath: "/var/lib/grafana-host", containerPath: "/var/lib/grafana" }] } },
        ],
        [{ logs: ["/srv/atra/logs/api*.log", "/home/app/logs/nested/*/x.log"] }, { logs: ["/srv/atra/logs/worker/*.log"] }, {}],
      ),
    ).toEqual([
      { source: "/", containers: ["node-exporter"], configKeys: [] },
      {
        source: "/srv/atra/logs",
        containers: ["filebeat", "other"],
        configKeys: ["services[0].logs[0] (/srv/atra/logs/api*.log)", "services[1].logs[0] (/srv/atra/logs/worker/*.log)"],
      },
      { source: "/home/app/logs", containers: ["filebeat"], configKeys: ["services[0].logs[1] (/home/app/logs/nested/*/x.log)"] },
    ]);
  });

  test("the probe binds the path read-only, quoted for the CLI's CSV reading of --mount (docker/cli opts/mount.go)", () => {
    expect(bindProbeArgs("/srv/atra/logs")).toEqual(["--mount", `type=bind,source=/srv/atra/logs,target=${BIND_PROBE_TARGET},readonly`]);
    expect(bindProbeArgs('/srv/a,b"c')).toEqual(["--mount", `type=bind,"source=/srv/a,b""c",target=${BIND_PROBE_TARGET},readonly`]);
  });

  test("the Engine's refusal of a missing source is recognised (and an older moby's wording); other errors are not", () => {
    expect(isBindSourceMissing(MISSING("/srv/atra/logs"))).toBe(true);
    expect(isBindSourceMissing('invalid mount config for type "bind": bind mount source path does not exist: /x')).toBe(true);
    expect(isBindSourceMissing("invalid mount config for type \"bind\": invalid mount path: 'x' mount path must be absolute")).toBe(false);
  });

  test("a missing path fails, by name, with the directory to create and the globs to fix; an existing one passes", () => {
    const home = { source: "/home/app/logs", containers: ["filebeat"], configKeys: ["services[1].logs[0] (/home/app/logs/*.log)"] };
    const root = { source: "/", containers: ["node-exporter"], configKeys: [] };
    const results = bindSourceResults([{ mount: root }, { mount: logs, error: MISSING("/srv/atra/logs") }, { mount: home, error: MISSING("/home/app/logs") }]);
    expect(results.map((result) => [result.id, result.status])).toEqual([
      ["bind-source:/", "pass"],
      ["bind-source:/srv/atra/logs", "fail"],
      ["bind-source:/home/app/logs", "fail"],
    ]);
    expect(results[0].summary).toBe("/ (bound by node-exporter) exists on the Docker host");
    expect(results[1].summary).toMatch(/^\/srv\/atra\/logs \(bound by filebeat\) does not exist on the Docker host: the Engine refuses filebeat at create/);
    expect(results[1].summary).toContain("`pulumi up` would stop half-way");
    expect(results[1].remedy).toEqual([
      expect.stringContaining("create it on the Docker host before `up`: mkdir -p /srv/atra/logs"),
      expect.stringContaining("or, if the path is wrong, fix services[0].logs[0] (/srv/atra/logs/api*.log) in the stack config"),
    ]);
    expect(results[2].remedy?.[0]).toContain("mkdir -p /home/app/logs");
    const text = formatReport("r", results);
    expect(text).toContain("2 problems would stop `pulumi up`");
  });

  test("another refusal is reported as it is; no bind at all is not needed", () => {
    const [result] = bindSourceResults([{ mount: logs, error: "Error response from daemon: something else" }]);
    expect(result).toEqual({
      id: "bind-source:/srv/atra/logs",
      status: "fail",
      summary: "a container binding /srv/atra/logs (as filebeat does) cannot be created: Error response from daemon: something else",
    });
    expect(bindSourceResults([])).toEqual([{ id: "bind-sources", status: "skip", summary: "no planned container binds a host path" }]);
  });
});

describe("the report", () => {
  test("every pass and every problem with its fix; the firewall rule names the stack's bridge", () => {
    const text = formatReport('preflight of stack "dev"', [
      { id: "a", status: "pass", summary: "one" },
      { id: "b", status: "fail", summary: "two", remedy: firewallRemedy("atra-dev", { address: "172.17.0.1", port: 9100 }) },
      { id: "c", status: "skip", summary: "three" },
    ]);
    expect(text).toBe(
      [
        'preflight of stack "dev"',
        "  ok    one",
        "  FAIL  two",
        "        fix: allow the stack's bridge atra-dev into the host on port 9100:",
        "               ufw:      ufw allow in on atra-dev to 172.17.0.1 port 9100 proto tcp",
        '               nftables: nft insert rule inet filter input iifname "atra-dev" tcp dport 9100 accept',
        "               iptables: iptables -I INPUT -i atra-dev -p tcp --dport 9100 -j ACCEPT",
        "  skip  three",
        "",
        "1 problem would stop `pulumi up`, leave a target down or change the stack at every `up`; 1 check passed, 1 not run.",
      ].join("\n"),
    );
  });
});
