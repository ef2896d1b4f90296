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

  test("the Docker host: dockerHost, else DOCKER_HOST, else the local socket; a context only when nothing else is given", () => {
    expect(dockerEnvironment("ssh://deploy@docker-1", { DOCKER_HOST: "tcp://x:2375", DOCKER_CONTEXT: "c" }).DOCKER_HOST).toBe("ssh://deploy@docker-1");
    expect(dockerEnvironment("ssh://deploy@docker-1", { DOCKER_CONTEXT: "c" }).DOCKER_CONTEXT).toBeUndefined();
    expect(dockerEnvironment(undefined, { DOCKER_HOST: "tcp://x:2375" }).DOCKER_HOST).toBe("tcp://x:2375");
    expect(dockerEnvironment(undefined, {}).DOCKER_HOST).toBe("unix:///var/run/docker.sock");
    expect(dockerEnvironment(undefined, { DOCKER_CONTEXT: "remote" })).toEqual({ DOCKER_CONTEXT: "remote" });
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
        "1 problem would stop `pulumi up` or leave a target down; 1 check passed, 1 not run.",
      ].join("\n"),
    );
  });
});
