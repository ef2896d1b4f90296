/**
 * The preflight against a real Docker Engine (started by .ci/run): each host problem is created for
 * real (a private `/`, a missing application network, a taken port, a listen address that is not the
 * host's, a firewall drop on the stack's bridge, a second `up` holding its own ports), seen to fail
 * with its fix, and seen to pass once fixed. Images are built locally; every test removes by id what
 * it made, and every run is checked to leave nothing of its own behind.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { planIsolated, stackConfig } from "../support/plan";
import { buildBusyboxImage, defaultBridgeGateway, describeWithDocker, docker, labelled, removeById } from "../support/docker";
import { findTool, freePort } from "../support/real-tools";
import { rawConfigFromStore } from "../../components/config/pulumi-config";
import { resolveStackConfig } from "../../components/config/resolve";
import { DEFAULT_IMAGES } from "../../components/stack-services";
import { BRIDGE_NAME_OPTION, COMPONENT_LABEL, STACK_LABEL } from "../../components/docker/names";
import { CheckResult, formatReport, hostNeeds, PREFLIGHT_LABEL } from "../../scripts/lib/preflight/checks";
import { DockerCli } from "../../scripts/lib/preflight/docker-cli";
import { checkBindSources, checkStoredSettings, PreflightReport, runPreflight } from "../../scripts/lib/preflight/run";

/** Whether the Docker host's `/` is a private mount (no shared:/master: tag in mountinfo), as on these machines. */
function hostRootIsPrivate(): boolean {
  const root = fs
    .readFileSync("/proc/1/mountinfo", "utf8")
    .split("\n")
    .find((line) => line.split(" ")[4] === "/");
  return !/ (shared|master):\d+/.test(root ?? "");
}

describeWithDocker("preflight against the real Docker Engine", () => {
  const stack = `pf${randomBytes(3).toString("hex")}`;
  const made = { containers: [] as string[], networks: [] as string[], images: [] as string[] };
  let image: string;
  let gateway: string;
  let ports: { prometheus: number; grafana: number; elasticsearch: number; kibana: number };
  let listenPort: number;
  const appNetwork = `atra-test-app-${randomBytes(3).toString("hex")}`;

  beforeAll(async () => {
    const built = buildBusyboxImage();
    image = built.ref;
    made.images.push(built.id);
    gateway = defaultBridgeGateway(image);
    ports = { prometheus: await freePort(), grafana: await freePort(), elasticsearch: await freePort(), kibana: await freePort() };
    listenPort = await freePort();
  });

  afterAll(() => {
    removeById("container", made.containers);
    removeById("network", made.networks);
    removeById("image", made.images);
  });

  /** The stack's config as a user writes it, with every image pointed at the local busybox image. */
  const values = (overrides: Record<string, unknown>) => ({
    services: [{ name: "api", metrics: "http://api:8000/metrics" }],
    images: Object.fromEntries(Object.keys(DEFAULT_IMAGES).map((key) => [key, image])),
    ports,
    nodeExporter: { listenAddress: `${gateway}:${listenPort}` },
    logs: { enabled: false },
    ...overrides,
  });

  /** Plan the program with these values, run the preflight, and check it left nothing of its own. */
  async function preflight(overrides: Record<string, unknown>): Promise<PreflightReport & { byId: (id: string) => CheckResult }> {
    const stored = stackConfig(values(overrides)) as { config: Record<string, string>; secretKeys: string[] };
    const config = resolveStackConfig(rawConfigFromStore(stack, stored.config, stored.secretKeys)).config;
    const plan = await planIsolated(stack, { config: stored });
    const cli = new DockerCli(config.dockerHost);
    const report = await runPreflight({ config, resources: plan.run.resources, docker: cli });
    if (process.env.PREFLIGHT_DEBUG) console.log(`${formatReport(report.header, report.results)}\n(${report.elapsedMs} ms)`);
    expect(report.leftovers).toEqual([]);
    expect(labelled(`${PREFLIGHT_LABEL}=${cli.runId}`)).toEqual({ containers: [], networks: [] });
    const byId = (id: string) => {
      const found = report.results.find((result) => result.id === id);
      if (!found) throw new Error(`no check ${id} in:\n${formatReport(report.header, report.results)}`);
      return found;
    };
    return { ...report, byId };
  }

  describe("a host with every problem, then fixed", () => {
    let broken: Awaited<ReturnType<typeof preflight>>;
    let fixed: Awaited<ReturnType<typeof preflight>>;
    let listener: net.Server;
    let conflicting: string;
    let conflictingOptions: Record<string, string>;

    beforeAll(async () => {
      // A process on the host holds Grafana's port.
      listener = net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) => listener.listen(ports.grafana, "127.0.0.1", resolve));
      // Another network already has the stack's bridge interface, made as the preflight makes its probe network.
      conflicting = docker(["network", "create", "--driver", "bridge", "--opt", `${BRIDGE_NAME_OPTION}=atra-${stack}`, `atra-test-conflict-${stack}`]);
      made.networks.push(conflicting);
      conflictingOptions = JSON.parse(docker(["network", "inspect", "--format", "{{json .Options}}", conflicting])) as Record<string, string>;
      broken = await preflight({
        appNetworks: [appNetwork],
        // TEST-NET-1 (RFC 5737): an address no host has.
        nodeExporter: { listenAddress: `192.0.2.1:${listenPort}` },
        logs: { enabled: true },
      });
      // The fixes: the config escape for a private root, the network created, the port freed, the gateway address.
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      made.networks.push(docker(["network", "create", appNetwork]));
      removeById("network", [conflicting]);
      fixed = await preflight({ appNetworks: [appNetwork], nodeExporter: { listenAddress: `${gateway}:${listenPort}`, rootPropagation: "none" } });
    });

    afterAll(async () => {
      if (listener.listening) await new Promise<void>((resolve) => listener.close(() => resolve()));
    });

    test("the Engine and its API version are reported", () => {
      expect(broken.byId("api-version")).toMatchObject({ status: "pass", summary: expect.stringMatching(/^Engine API 1\.\d+ >= 1\.41/) });
      expect(broken.header).toMatch(/Docker Engine \S+, API 1\.\d+/);
    });

    test("a private / refuses node-exporter's rslave bind; nodeExporter.rootPropagation=none passes", () => {
      const propagation = broken.byId("root-propagation");
      if (hostRootIsPrivate()) {
        expect(propagation.status).toBe("fail");
        expect(propagation.summary).toContain("not a shared or slave mount");
        expect(propagation.remedy?.join("\n")).toContain("mount --make-rshared /");
        expect(propagation.remedy?.join("\n")).toContain("pulumi config set --path nodeExporter.rootPropagation none");
      } else {
        expect(propagation.status).toBe("pass");
      }
      expect(fixed.byId("root-propagation")).toMatchObject({ status: "pass", summary: expect.stringContaining("with no propagation") });
    });

    test("a listen address that is not the host's fails with the gateway as fix; the gateway passes and is reachable from the stack's bridge", () => {
      expect(broken.byId("listen-address")).toMatchObject({
        status: "fail",
        summary: expect.stringContaining(`192.0.2.1:${listenPort} is not an address of the Docker host`),
        remedy: [`pulumi config set --path nodeExporter.listenAddress ${gateway}:${listenPort}`],
      });
      expect(broken.byId("node-exporter-reachable").status).toBe("skip");
      expect(fixed.byId("listen-address")).toMatchObject({ status: "pass", summary: expect.stringContaining("the default bridge gateway") });
      expect(fixed.byId("node-exporter-reachable")).toMatchObject({
        status: "pass",
        summary: expect.stringContaining(`bridge interface atra-${stack}`),
      });
    });

    test("a bridge interface name another network has fails with the config key; free, it passes (and the options read back as sent)", () => {
      expect(broken.byId("bridge-name")).toMatchObject({
        status: "fail",
        summary: expect.stringContaining("networks have same bridge name"),
        remedy: [expect.stringContaining("pulumi config set --path network.bridgeName")],
      });
      expect(fixed.byId("bridge-name")).toMatchObject({ status: "pass", summary: `bridge interface atra-${stack} is free: the stack network can be created` });
      // The Engine returns exactly the options given, which the provider reads back: a second `up` sees no change.
      expect(conflictingOptions).toEqual({ [BRIDGE_NAME_OPTION]: `atra-${stack}` });
    });

    test("a missing application network fails with the command that creates it; once created it passes", () => {
      expect(broken.byId(`app-network:${appNetwork}`)).toMatchObject({
        status: "fail",
        remedy: [expect.stringContaining(`docker network create ${appNetwork}`)],
      });
      expect(fixed.byId(`app-network:${appNetwork}`).status).toBe("pass");
    });

    test("a port taken by a host process fails with the config key that moves it; freed, it passes", () => {
      expect(broken.byId("port:grafana")).toMatchObject({
        status: "fail",
        summary: `127.0.0.1:${ports.grafana} (grafana) is taken on the Docker host by a process outside Docker`,
        remedy: [`find it: ss -ltnp 'sport = :${ports.grafana}'`, "or publish grafana elsewhere: pulumi config set --path ports.grafana <free port>"],
      });
      for (const component of ["prometheus", "elasticsearch", "kibana"]) expect(broken.byId(`port:${component}`).status).toBe("pass");
      expect(fixed.byId("port:grafana").status).toBe("pass");
      // The logs stage is off in the fixed stack: its ports are not asked for.
      expect(fixed.results.some((result) => result.id === "port:elasticsearch")).toBe(false);
    });

    test("vm.max_map_count is read from the host when the logs stage is on", () => {
      const hostValue = Number(fs.readFileSync("/proc/sys/vm/max_map_count", "utf8"));
      expect(broken.byId("max-map-count")).toMatchObject(
        hostValue >= 262144
          ? { status: "pass" }
          : {
              status: "fail",
              summary: `vm.max_map_count is ${hostValue} on the host; Elasticsearch needs at least 262144`,
              remedy: [
                expect.stringContaining("sysctl -w vm.max_map_count=262144"),
                "or switch the logs stage off: pulumi config set --path logs.enabled false",
              ],
            },
      );
      expect(fixed.byId("max-map-count").status).toBe("skip");
    });

    test("what the Engine stores for the containers' log options, memory and swap, and for the network's options, is what the stack sends", () => {
      // This Engine (Debian's 20.10) has no daemon.json log-opts and has swap accounting (docker info: SwapLimit true);
      // the failing cases, from moby's source, are in test/unit/preflight-checks.test.ts and preflight-daemon-defaults.test.ts.
      const swapLimit = docker(["info", "--format", "{{.SwapLimit}}"]) === "true";
      for (const report of [broken, fixed]) {
        expect(report.byId("log-options")).toMatchObject({ status: "pass", summary: expect.stringContaining("json-file max-file=3, max-size=10m") });
        expect(report.byId("memory-swap").status).toBe(swapLimit ? "pass" : "fail");
      }
      expect(fixed.byId("network-options")).toMatchObject({ status: "pass", summary: expect.stringContaining(`${BRIDGE_NAME_OPTION}=atra-${stack}`) });
    });

    test("a difference the Engine makes is seen: memory sent without swap is stored with twice the swap (a change at every `up`)", async () => {
      // moby/moby daemon/daemon_unix.go adaptContainerSettings; memory_swap is not Computed in the provider,
      // so the stored 2x reads back as a change. The program sends memorySwap = memory to avoid exactly this.
      const cli = new DockerCli(undefined);
      try {
        const results = await checkStoredSettings(cli, {
          probeImage: image,
          storedSettings: [
            { settings: { memory: 64, memorySwap: 64 }, containers: ["as-the-program-sends"] },
            { settings: { memory: 64 }, containers: ["memory-alone"] },
          ],
        });
        const swap = results.find((result) => result.id === "memory-swap");
        if (docker(["info", "--format", "{{.SwapLimit}}"]) === "true") {
          expect(swap).toMatchObject({
            status: "fail",
            summary: expect.stringContaining("memory-alone: memory 64 MB, memorySwap unset sent; read back 64, 128"),
          });
          expect(swap?.summary).not.toContain("as-the-program-sends");
        }
      } finally {
        expect(await cli.cleanup()).toEqual([]);
      }
      expect(labelled(`${PREFLIGHT_LABEL}=${cli.runId}`)).toEqual({ containers: [], networks: [] });
    });

    test("ports on 127.0.0.1 with an Engine before 28: a dev stack is not warned; a staging stack is, with the raw-table rules, and still passes", async () => {
      const major = Number(/^(\d+)\./.exec(docker(["version", "--format", "{{.Server.Version}}"]))?.[1]);
      expect(fixed.byId("loopback-ports").status).toBe(major >= 28 ? "pass" : "skip");
      // The same host and stack, as a staging stack (the warning is for non-dev stacks).
      const stored = stackConfig(values({ nodeExporter: { listenAddress: `${gateway}:${listenPort}`, rootPropagation: "none" } })) as {
        config: Record<string, string>;
        secretKeys: string[];
      };
      const config = { ...resolveStackConfig(rawConfigFromStore(stack, stored.config, stored.secretKeys)).config, environment: "staging" as const };
      const plan = await planIsolated(stack, { config: stored });
      const report = await runPreflight({ config, resources: plan.run.resources, docker: new DockerCli(config.dockerHost) });
      expect(report.leftovers).toEqual([]);
      const loopback = report.results.find((result) => result.id === "loopback-ports");
      if (major >= 28) {
        expect(loopback?.status).toBe("pass");
      } else {
        expect(loopback).toMatchObject({
          status: "warn",
          summary: expect.stringContaining(`can reach 127.0.0.1:${ports.prometheus}, 127.0.0.1:${ports.grafana}`),
        });
        expect(loopback?.remedy).toContain(`  iptables -t raw -A PREROUTING -p tcp -d 127.0.0.1 --dport ${ports.grafana} ! -i lo -j DROP`);
        expect(loopback?.remedy).toContain(`  iptables -t raw -A PREROUTING -d <the stack network's subnet> ! -i atra-${stack} -j DROP`);
      }
      expect(report.ok).toBe(true);
    });

    test("the bind sources of the planned containers are probed in the full run (node-exporter's / exists)", () => {
      for (const report of [broken, fixed]) {
        expect(report.byId("bind-source:/")).toMatchObject({ status: "pass", summary: "/ (bound by node-exporter) exists on the Docker host" });
      }
    });

    test("the report is not ok while anything fails, and ok once fixed", () => {
      expect(broken.ok).toBe(false);
      expect(fixed.ok).toBe(true);
      expect(fixed.results.filter((result) => result.status === "fail")).toEqual([]);
      expect(formatReport(fixed.header, fixed.results)).toMatch(/checks passed, \d+ not needed: nothing here would stop `pulumi up`\.$/);
    });
  });

  test("log directories missing on the Docker host fail by name, every one, with mkdir and the globs as fix; created, they pass", async () => {
    // Filebeat's log directories are `mounts` of type bind (components/logs/log-shipper.ts); the Engine refuses a
    // missing bind source at create ("bind source path does not exist": moby/moby volume/mounts/linux_parser.go
    // validateMountConfigImpl), and only the first one (daemon/container.go validateHostConfig): one probe per path.
    const existing = fs.mkdtempSync(path.join(os.tmpdir(), "atra-pf-logs-"));
    const missing = [`${existing}-missing-a`, `${existing}-missing-b`];
    try {
      const stored = stackConfig(
        values({
          logs: { enabled: true },
          services: [
            { name: "api", metrics: "http://api:8000/metrics", logs: [`${existing}/api*.log`] },
            { name: "worker", logs: [`${missing[0]}/*.log`] },
            { name: "cron", logs: [`${missing[1]}/cron.log`] },
          ],
        }),
      ) as { config: Record<string, string>; secretKeys: string[] };
      const config = resolveStackConfig(rawConfigFromStore(stack, stored.config, stored.secretKeys)).config;
      const plan = await planIsolated(stack, { config: stored });
      const needs = hostNeeds(config, plan.run.resources, image);
      expect(needs.bindSources.map((mount) => mount.source).sort()).toEqual(["/", existing, ...missing].sort());
      const probe = async () => {
        const cli = new DockerCli(config.dockerHost);
        try {
          return await checkBindSources(cli, needs);
        } finally {
          expect(await cli.cleanup()).toEqual([]);
          expect(labelled(`${PREFLIGHT_LABEL}=${cli.runId}`)).toEqual({ containers: [], networks: [] });
        }
      };
      const before = await probe();
      const byId = (results: CheckResult[], source: string) => results.find((result) => result.id === `bind-source:${source}`);
      expect(byId(before, existing)).toMatchObject({ status: "pass", summary: `${existing} (bound by filebeat) exists on the Docker host` });
      expect(byId(before, "/")?.status).toBe("pass");
      for (const [index, directory] of missing.entries()) {
        const result = byId(before, directory);
        expect(result).toMatchObject({
          status: "fail",
          summary: expect.stringContaining(`${directory} (bound by filebeat) does not exist on the Docker host`),
        });
        expect(result?.remedy?.[0]).toContain(`mkdir -p ${directory}`);
        expect(result?.remedy?.[1]).toContain(`fix services[${index + 1}].logs[0]`);
      }
      // The fix: the directories exist; nothing of theirs is created by the probes (read-only, never started).
      for (const directory of missing) fs.mkdirSync(directory);
      const after = await probe();
      expect(after.map((result) => result.status)).toEqual(after.map(() => "pass"));
      expect(after).toHaveLength(4);
      for (const directory of [existing, ...missing]) expect(fs.readdirSync(directory)).toEqual([]);
    } finally {
      for (const directory of [existing, ...missing]) fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  test("a firewall dropping the stack's bridge on the listen port fails reachability with the rule that fixes it", async () => {
    const bridge = `atra-${stack}`;
    const rule = ["INPUT", "-i", bridge, "-p", "tcp", "--dport", String(listenPort), "-j", "DROP"];
    // docker.io depends on iptables, and the Engine programs its own rules with it.
    const iptables = findTool("iptables") ?? "/usr/sbin/iptables";
    execFileSync(iptables, ["-I", ...rule]);
    try {
      const report = await preflight({ nodeExporter: { listenAddress: `${gateway}:${listenPort}`, rootPropagation: "none" } });
      expect(report.byId("listen-address").status).toBe("pass");
      const reach = report.byId("node-exporter-reachable");
      expect(reach.status).toBe("fail");
      expect(reach.summary).toContain("Prometheus's node-exporter target would stay down");
      expect(reach.remedy?.join("\n")).toContain(`ufw allow in on ${bridge} to ${gateway} port ${listenPort} proto tcp`);
      expect(reach.remedy?.join("\n")).toContain(`nft insert rule inet filter input iifname "${bridge}" tcp dport ${listenPort} accept`);
    } finally {
      execFileSync(iptables, ["-D", ...rule]);
    }
  });

  test("a second `up` listening on every interface: its own ports and listen address pass, reached through host-gateway; a foreign container's port fails", async () => {
    const ownLabels = (component: string) => ["--label", `${STACK_LABEL}=${stack}`, "--label", `${COMPONENT_LABEL}=${component}`];
    // Stand-ins for the running stack: node-exporter in the host's network on its address, Prometheus publishing its port.
    const exporter = docker(["run", "--detach", ...ownLabels("node-exporter"), "--network", "host", image, "httpd", "-f", "-p", `0.0.0.0:${listenPort}`]);
    made.containers.push(exporter);
    const prometheus = docker(["run", "--detach", ...ownLabels("prometheus"), "--publish", `127.0.0.1:${ports.prometheus}:9090`, image, "sleep", "600"]);
    made.containers.push(prometheus);
    const foreign = docker(["run", "--detach", "--publish", `127.0.0.1:${ports.grafana}:3000`, image, "sleep", "600"]);
    made.containers.push(foreign);
    const foreignName = docker(["inspect", "--format", "{{.Name}}", foreign]).replace(/^\//, "");
    try {
      const report = await preflight({ nodeExporter: { listenAddress: `0.0.0.0:${listenPort}`, rootPropagation: "none" } });
      expect(report.byId("listen-address")).toMatchObject({ status: "pass", summary: expect.stringContaining("held by this stack's running") });
      // Prometheus reaches an exporter on every interface as host.docker.internal (host-gateway); so does the probe.
      expect(report.byId("node-exporter-reachable")).toMatchObject({
        status: "pass",
        summary: `host.docker.internal:${listenPort} (the node-exporter) answers from a probe network with the stack network's settings (bridge interface atra-${stack})`,
      });
      expect(report.byId("port:prometheus")).toMatchObject({ status: "pass", summary: expect.stringContaining("held by this stack's") });
      expect(report.byId("port:grafana")).toMatchObject({ status: "fail", summary: expect.stringContaining(`by container ${foreignName}`) });
    } finally {
      removeById("container", [exporter, prometheus, foreign]);
    }
  });
});
