/**
 * The preflight's probes against the stack's Docker host. Each check asks the Engine by doing what
 * `pulumi up` will do, where that is the only reliable answer: a short-lived container with
 * node-exporter's exact host settings, a listener on its listen address in the host's network, a
 * connection to it from a network like the stack's, a container publishing each port. Everything it
 * creates is labelled with the run's id and removed before it returns.
 */
import type { StackConfig } from "../../../components/config/resolve";
import { BRIDGE_NAME_OPTION, COMPONENT_LABEL, STACK_LABEL } from "../../../components/docker/names";
import { STACK_SERVICES } from "../../../components/stack-services";
import type { PlannedResource } from "../mock-engine";
import {
  apiVersionAtLeast,
  bindFailure,
  bindProbeArgs,
  bindSourceResults,
  CheckResult,
  HostNeeds,
  hostNeeds,
  isPortTaken,
  isPropagationRefusal,
  missingApplet,
  MIN_API_VERSION,
  MIN_MAX_MAP_COUNT,
  defaultGateway,
  loopbackPublishingResult,
  networkOptionsResult,
  reachedHttp,
  StoredHostConfig,
  storedSettingsArgs,
  storedSettingsResults,
} from "./checks";
import { DockerCli } from "./docker-cli";

export interface PreflightOptions {
  config: StackConfig;
  /** The program's planned resources (scripts/lib/plan.ts, planStack). */
  resources: PlannedResource[];
  /** Image the probe containers run (default: the stack's node-exporter image); needs busybox sh, httpd, nc, cat. */
  probeImage?: string;
  /** Called with each result as it is known (for callers that stream; the CLI prints the whole report at the end). */
  onResult?: (result: CheckResult) => void;
  /** Created by the caller so it can clean up on a signal; one per run. */
  docker?: DockerCli;
}

export interface PreflightReport {
  header: string;
  results: CheckResult[];
  ok: boolean;
  elapsedMs: number;
  /** Anything the cleanup could not remove (should be empty). */
  leftovers: string[];
}

const PROPAGATION_KEY = "nodeExporter.rootPropagation";
const PROBE_IMAGE_REMEDY =
  "run the preflight with --probe-image <an image with busybox sh, httpd, nc and cat on the host> (the default is the stack's node-exporter image)";

export async function runPreflight(options: PreflightOptions): Promise<PreflightReport> {
  const started = Date.now();
  const { config } = options;
  const needs = hostNeeds(config, options.resources, options.probeImage);
  const docker = options.docker ?? new DockerCli(config.dockerHost);
  const results: CheckResult[] = [];
  const add = (result: CheckResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  let header = `preflight of stack "${config.stack}" against ${docker.host}`;
  let leftovers: string[];
  try {
    const engine = await checkEngine(docker);
    if (engine.version) header += ` (Docker Engine ${engine.version}, API ${engine.apiVersion})`;
    add(engine.result);
    if (engine.usable && engine.apiVersion) add(loopbackPublishingResult({ version: engine.version, apiVersion: engine.apiVersion }, needs));
    const image = engine.usable ? await ensureProbeImage(docker, needs.probeImage) : undefined;
    if (image) add(image);
    if (image?.status === "pass") {
      const ownContainers = await stackContainers(docker, config.stack);
      // Independent probes run side by side; results are reported in a fixed order.
      // allSettled: one probe's error must not start the cleanup while the others still create containers.
      const groups = await Promise.allSettled([
        checkRootPropagation(docker, needs),
        checkNodeExporterPath(docker, needs, ownContainers),
        checkAppNetworks(docker, needs),
        checkPorts(docker, needs, ownContainers),
        checkMaxMapCount(docker, needs),
        checkStoredSettings(docker, needs),
        checkBindSources(docker, needs),
      ]);
      for (const group of groups) {
        if (group.status === "fulfilled") group.value.forEach(add);
        else add({ id: "preflight", status: "fail", summary: `a probe failed: ${(group.reason as Error).message}` });
      }
    }
  } catch (error) {
    add({ id: "preflight", status: "fail", summary: `the preflight itself failed: ${(error as Error).message}` });
  } finally {
    leftovers = await docker.cleanup().catch((error: Error) => [error.message]);
  }
  return { header, results, ok: results.every((result) => result.status !== "fail"), elapsedMs: Date.now() - started, leftovers };
}

async function checkEngine(docker: DockerCli): Promise<{ usable: boolean; result: CheckResult; version?: string; apiVersion?: string }> {
  const answer = await docker
    .run(["version", "--format", "{{json .Server}}"], 30_000)
    .catch((error: Error) => ({ code: 1, stdout: "", stderr: error.message }));
  const server = parseJson<{ Version?: string; ApiVersion?: string }>(answer.stdout);
  if (answer.code !== 0 || !server?.ApiVersion) {
    return {
      usable: false,
      result: {
        id: "engine",
        status: "fail",
        summary: `cannot reach the Docker Engine at ${docker.host}: ${answer.stderr.split("\n")[0] || "no answer"}`,
        remedy: [
          "start dockerd on the host, or point the stack at it: pulumi config set dockerHost ssh://user@host (or export DOCKER_HOST)",
          "no other check ran",
        ],
      },
    };
  }
  const enough = apiVersionAtLeast(server.ApiVersion, MIN_API_VERSION);
  return {
    usable: enough,
    version: server.Version,
    apiVersion: server.ApiVersion,
    result: enough
      ? {
          id: "api-version",
          status: "pass",
          summary: `Engine API ${server.ApiVersion} >= ${MIN_API_VERSION} (host-gateway for Prometheus's host.docker.internal)`,
        }
      : {
          id: "api-version",
          status: "fail",
          summary: `Engine API ${server.ApiVersion} (Docker ${server.Version}) is older than ${MIN_API_VERSION}: the daemon cannot resolve host-gateway for Prometheus's extra host`,
          remedy: ["upgrade Docker Engine to 20.10 or later (Debian 12: apt-get install docker.io)", "no other check ran"],
        },
  };
}

/** The probe image on the host: present, or pulled (the stack pulls the same image anyway, and keeps it). */
async function ensureProbeImage(docker: DockerCli, image: string): Promise<CheckResult> {
  const present = await docker.run(["image", "inspect", "--format", "{{.Id}}", image]);
  if (present.code === 0) return { id: "probe-image", status: "pass", summary: `probe image ${image} is on the host` };
  const pulled = await docker.run(["pull", "--quiet", image], 300_000);
  if (pulled.code === 0)
    return { id: "probe-image", status: "pass", summary: `probe image ${image} pulled (the stack runs it too; kept, as \`up\` keeps its images)` };
  return {
    id: "probe-image",
    status: "fail",
    summary: `the probe image ${image} is not on the host and cannot be pulled: ${pulled.stderr.split("\n")[0]}`,
    remedy: [
      `docker pull ${image} on the host (or docker load it), or run the preflight with --probe-image <a busybox image on the host>`,
      "no other check ran",
    ],
  };
}

interface OwnContainer {
  id: string;
  name: string;
  component: string;
  running: boolean;
  /** `ip:port/proto` of every published port. */
  published: string[];
}

/** This stack's containers already on the host (a second `up`): their ports and names are theirs to keep. */
async function stackContainers(docker: DockerCli, stack: string): Promise<OwnContainer[]> {
  const ids = (await docker.run(["ps", "--all", "--quiet", "--no-trunc", "--filter", `label=${STACK_LABEL}=${stack}`])).stdout.split(/\s+/).filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = await docker.run(["container", "inspect", ...ids]);
  const list = JSON.parse(inspected.stdout || "[]") as {
    Id: string;
    Name: string;
    State: { Running: boolean };
    Config: { Labels: Record<string, string> };
    HostConfig: { PortBindings?: Record<string, { HostIp: string; HostPort: string }[]> };
  }[];
  return list.map((container) => ({
    id: container.Id,
    name: container.Name.replace(/^\//, ""),
    component: container.Config.Labels?.[COMPONENT_LABEL] ?? "",
    running: container.State.Running,
    published: Object.entries(container.HostConfig.PortBindings ?? {}).flatMap(([containerPort, bindings]) =>
      bindings.map((binding) => `${binding.HostIp || "0.0.0.0"}:${binding.HostPort}/${containerPort.split("/")[1] ?? "tcp"}`),
    ),
  }));
}

/** Create, start and wait for a probe container running `script` in /bin/sh; exit code and output, or the start error. */
async function runProbe(
  docker: DockerCli,
  image: string,
  args: string[],
  script: string,
  timeoutMs = 30_000,
): Promise<{ code: number; output: string; startError?: string }> {
  let id: string;
  try {
    id = await docker.createContainer([...args, "--entrypoint", "/bin/sh", image, "-c", script]);
  } catch (error) {
    // The Engine validates mounts and namespaces at create (e.g. an explicit propagation it refuses).
    return { code: 1, output: "", startError: (error as Error).message };
  }
  try {
    const started = await docker.run(["start", "--attach", id], timeoutMs);
    // `start --attach` prints the container's output; a refused start is an "Error response from daemon".
    if (started.code !== 0 && /Error response from daemon|failed to start/i.test(started.stderr)) {
      return { code: started.code, output: started.stdout, startError: started.stderr };
    }
    const state = await docker.run(["container", "inspect", "--format", "{{.State.ExitCode}}", id]);
    return { code: Number(state.stdout.trim() || started.code), output: `${started.stdout}${started.stderr}` };
  } finally {
    await docker.removeContainer(id);
  }
}

async function checkRootPropagation(docker: DockerCli, needs: HostNeeds): Promise<CheckResult[]> {
  const { rootPropagation, hostArgs } = needs.nodeExporter;
  const result = await runProbe(docker, needs.probeImage, hostArgs, "exit 0");
  if (result.startError && isPropagationRefusal(result.startError)) {
    return [
      {
        id: "root-propagation",
        status: "fail",
        summary: `node-exporter's bind of / with ${rootPropagation} propagation is refused: ${firstLine(result.startError)}`,
        remedy: [
          "make the host's / a shared mount, as systemd does at boot: mount --make-rshared /  (and in the boot scripts to keep it)",
          `or, where the host cannot change: pulumi config set --path ${PROPAGATION_KEY} none  (node-exporter then does not see filesystems mounted on the host after it started, until it is re-created)`,
        ],
      },
    ];
  }
  if (result.startError || result.code !== 0) {
    return [
      {
        id: "root-propagation",
        status: "fail",
        summary: `a container with node-exporter's host settings (${hostArgs.join(" ")}) does not start: ${firstLine(result.startError ?? result.output)}`,
      },
    ];
  }
  return [
    {
      id: "root-propagation",
      status: "pass",
      summary: `node-exporter's host settings start (host network and PID namespace, / read-only with ${rootPropagation} propagation)`,
    },
  ];
}

/**
 * node-exporter listens on an address of the host (its listen address binds in the host's network),
 * and Prometheus's network reaches it there (a connection from a network with the stack network's
 * bridge interface, through the host's firewall, to where Prometheus scrapes it).
 */
async function checkNodeExporterPath(docker: DockerCli, needs: HostNeeds, own: OwnContainer[]): Promise<CheckResult[]> {
  const { listen, scrapeTarget } = needs.nodeExporter;
  const listenAddress = `${listen.address}:${listen.port}`;
  const results: CheckResult[] = [];
  const gateway = await defaultBridgeGateway(docker, needs.probeImage);
  const running = own.find((container) => container.component === STACK_SERVICES.nodeExporter.name && container.running);
  const fromNetwork = await probeNetwork(docker, needs);
  results.push(fromNetwork.result);
  if (fromNetwork.result.status === "pass")
    results.push(
      fromNetwork.optionsResult ?? {
        id: "network-options",
        status: "pass",
        summary: `the Engine stores the stack network's options as sent (${Object.entries(needs.network.options)
          .map(([key, value]) => `${key}=${value}`)
          .join(", ")}): a second \`up\` keeps it`,
      },
    );
  const unreachableSkip = (why: string): CheckResult => ({
    id: "node-exporter-reachable",
    status: "skip",
    summary: `reachability of ${scrapeTarget} from the stack network not checked: ${why}`,
  });

  // The same image and user as node-exporter, so a privileged port fails here as it would there.
  let listener: string | undefined = await docker.createContainer([
    "--network",
    "host",
    "--entrypoint",
    "/bin/sh",
    needs.probeImage,
    "-c",
    `exec httpd -f -p ${listenAddress}`,
  ]);
  const started = await docker.run(["start", listener]);
  await sleep(400);
  const state = await docker.run(["container", "inspect", "--format", "{{.State.Running}}", listener]);
  let reached = "probe listener";
  if (started.code !== 0 || state.stdout.trim() !== "true") {
    const log = `${(await docker.run(["logs", listener])).stderr}\n${started.stderr}`;
    await docker.removeContainer(listener);
    listener = undefined;
    const kind = bindFailure(log);
    if (kind === "in-use" && running) {
      // A second `up`: the stack's own node-exporter holds it (and is replaced in place); reach that one.
      results.push({ id: "listen-address", status: "pass", summary: `${listenAddress}: held by this stack's running ${running.name}` });
      reached = "node-exporter";
    } else {
      results.push(listenFailure(kind, listenAddress, gateway, log));
      results.push(unreachableSkip("nothing listens there"));
      return results;
    }
  } else {
    const onGateway = listen.address === gateway;
    results.push({
      id: "listen-address",
      status: "pass",
      summary:
        `${listenAddress} binds in the host's network` +
        (listen.address === "0.0.0.0"
          ? " (every interface: firewall it from outside the host)"
          : onGateway
            ? " (the default bridge gateway)"
            : gateway
              ? ` (not the default bridge gateway ${gateway}, but an address of the host)`
              : ""),
    });
  }

  try {
    results.push(
      fromNetwork.name && fromNetwork.via
        ? await checkReach(docker, needs, reached, fromNetwork.name, fromNetwork.via)
        : unreachableSkip("no network like the stack's can be made"),
    );
  } finally {
    if (listener) await docker.removeContainer(listener);
  }
  return results;
}

function listenFailure(kind: ReturnType<typeof bindFailure>, listenAddress: string, gateway: string | undefined, log: string): CheckResult {
  const [, port] = listenAddress.split(":");
  const key = "nodeExporter.listenAddress";
  switch (kind) {
    case "not-host-address":
      return {
        id: "listen-address",
        status: "fail",
        summary: `${listenAddress} is not an address of the Docker host: node-exporter could not listen there${gateway ? ` (the default bridge gateway is ${gateway})` : " (the host has no default bridge)"}`,
        remedy: gateway
          ? [`pulumi config set --path ${key} ${gateway}:${port}`]
          : [`pulumi config set --path ${key} 0.0.0.0:${port}  (then keep ${port} closed to the outside in the host's firewall)`],
      };
    case "in-use":
      return {
        id: "listen-address",
        status: "fail",
        summary: `${listenAddress} is taken on the Docker host by a process outside this stack`,
        remedy: [`find it: ss -ltnp 'sport = :${port}' (a host node-exporter? stop it), or pulumi config set --path ${key} <address>:<free port>`],
      };
    case "missing-applet":
      return { id: "listen-address", status: "fail", summary: `the probe image cannot listen: ${firstLine(log)}`, remedy: [PROBE_IMAGE_REMEDY] };
    case "permission":
      return {
        id: "listen-address",
        status: "fail",
        summary: `${listenAddress}: node-exporter runs unprivileged and cannot bind port ${port}`,
        remedy: [`pulumi config set --path ${key} <address>:${STACK_SERVICES.nodeExporter.port} (a port above 1023)`],
      };
    default:
      return { id: "listen-address", status: "fail", summary: `a listener on ${listenAddress} in the host's network did not start: ${firstLine(log)}` };
  }
}

/** From a network with the stack network's settings (the stack's own when it exists), connect to where Prometheus scrapes node-exporter. */
/**
 * The network the reachability probe connects from: the stack's own when it exists (a second `up`),
 * else a probe network created with the stack network's driver and options. Creating it is also the
 * check that the bridge interface name is free (the Engine refuses a second network with the same one).
 */
async function probeNetwork(docker: DockerCli, needs: HostNeeds): Promise<{ result: CheckResult; optionsResult?: CheckResult; name?: string; via?: string }> {
  const { network } = needs;
  const id = "bridge-name";
  const existing = await docker.run(["network", "inspect", "--format", "{{json .Options}}", network.name]);
  if (existing.code === 0) {
    const options = parseJson<Record<string, string>>(existing.stdout) ?? {};
    const fixed = options[BRIDGE_NAME_OPTION] === network.bridgeName;
    return {
      name: network.name,
      via: `the stack network ${network.name}`,
      optionsResult: networkOptionsResult(network.name, network.options, options, false),
      result: {
        id,
        status: "pass",
        summary: fixed
          ? `the stack network ${network.name} exists with bridge interface ${network.bridgeName}`
          : `the stack network ${network.name} exists without bridge interface ${network.bridgeName}; \`up\` replaces it (and the containers on it)`,
      },
    };
  }
  const name = `${network.name}-preflight-${docker.runId}`;
  const optionArgs = Object.entries(network.options).flatMap(([key, value]) => ["--opt", `${key}=${value}`]);
  const created = await docker.createNetwork(["--driver", network.driver, ...optionArgs, name]);
  if (created.error) {
    return {
      result: {
        id,
        status: "fail",
        summary: `the stack network (bridge interface ${network.bridgeName}) cannot be created: ${firstLine(created.error)}`,
        remedy: /same bridge name/i.test(created.error)
          ? [`another network uses interface ${network.bridgeName}: pulumi config set --path network.bridgeName <another name, at most 15 characters>`]
          : undefined,
      },
    };
  }
  // What the Engine stored for the options sent (the daemon's default-network-opts are merged in).
  const stored = await docker.run(["network", "inspect", "--format", "{{json .Options}}", created.id as string]);
  const options = stored.code === 0 ? parseJson<Record<string, string>>(stored.stdout) : undefined;
  return {
    name,
    via: `a probe network with the stack network's settings (bridge interface ${network.bridgeName})`,
    optionsResult: options
      ? networkOptionsResult(network.name, network.options, options, true)
      : { id: "network-options", status: "fail", summary: `cannot read the probe network's options back: ${firstLine(stored.stderr)}` },
    result: { id, status: "pass", summary: `bridge interface ${network.bridgeName} is free: the stack network can be created` },
  };
}

/** From the probe network, connect to where Prometheus scrapes node-exporter, with Prometheus's extra hosts. */
async function checkReach(docker: DockerCli, needs: HostNeeds, what: string, networkName: string, via: string): Promise<CheckResult> {
  const { network } = needs;
  const target = needs.nodeExporter.scrapeTarget;
  const [host, port] = target.split(":");
  const request = `printf 'GET /metrics HTTP/1.0\\r\\nHost: ${target}\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`;
  const answer = await runProbe(docker, needs.probeImage, ["--network", networkName, ...needs.prometheusHostArgs], request, 20_000);
  if (missingApplet(answer.output)) {
    return {
      id: "node-exporter-reachable",
      status: "fail",
      summary: `the probe image cannot connect: ${firstLine(answer.output)}`,
      remedy: [PROBE_IMAGE_REMEDY],
    };
  }
  if (reachedHttp(answer.output)) {
    return { id: "node-exporter-reachable", status: "pass", summary: `${target} (the ${what}) answers from ${via}` };
  }
  return {
    id: "node-exporter-reachable",
    status: "fail",
    summary: `${target} does not answer from ${via}: ${firstLine(answer.startError ?? answer.output) || "no answer within 3 s"}; Prometheus's node-exporter target would stay down`,
    remedy: firewallRemedy(network.bridgeName, needs.nodeExporter.listen),
  };
}

/** The host firewall rule that lets the stack's bridge reach node-exporter (ufw, nftables, iptables). */
export function firewallRemedy(bridgeName: string, listen: { address: string; port: number }): string[] {
  const destination = listen.address === "0.0.0.0" ? "" : ` to ${listen.address}`;
  return [
    `allow the stack's bridge ${bridgeName} into the host on port ${listen.port}:`,
    `  ufw:      ufw allow in on ${bridgeName}${destination || " to any"} port ${listen.port} proto tcp`,
    `  nftables: nft insert rule inet filter input iifname "${bridgeName}" tcp dport ${listen.port} accept`,
    `  iptables: iptables -I INPUT -i ${bridgeName} -p tcp --dport ${listen.port} -j ACCEPT`,
  ];
}

/**
 * The default bridge's gateway (docker0's address): from its IPAM config when the Engine lists it
 * (Engine 20.10 lists only the subnet), else the default route of a container on that bridge.
 */
async function defaultBridgeGateway(docker: DockerCli, image: string): Promise<string | undefined> {
  const inspected = await docker.run(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", "bridge"]);
  if (inspected.code !== 0) return undefined;
  const listed = inspected.stdout
    .trim()
    .split(/\s+/)
    .find((address) => /^\d+\.\d+\.\d+\.\d+$/.test(address));
  if (listed) return listed;
  const routes = await runProbe(docker, image, ["--network", "bridge"], "cat /proc/net/route");
  return defaultGateway(routes.output);
}

async function checkAppNetworks(docker: DockerCli, needs: HostNeeds): Promise<CheckResult[]> {
  if (needs.externalNetworks.length === 0) return [{ id: "app-networks", status: "skip", summary: "appNetworks: none configured" }];
  const listed = await docker.run(["network", "ls", "--format", "{{.Name}}"]);
  const present = new Set(listed.stdout.split("\n").map((name) => name.trim()));
  return needs.externalNetworks.map((name) =>
    present.has(name)
      ? { id: `app-network:${name}`, status: "pass", summary: `application network ${name} exists` }
      : {
          id: `app-network:${name}`,
          status: "fail",
          summary: `application network ${name} (appNetworks) does not exist: Prometheus and the prober could not join it`,
          remedy: [`start the application stack that creates it, or docker network create ${name}, or remove it from appNetworks`],
        },
  );
}

async function checkPorts(docker: DockerCli, needs: HostNeeds, own: OwnContainer[]): Promise<CheckResult[]> {
  return Promise.all(
    needs.publishedPorts.map(async (published): Promise<CheckResult> => {
      const spec = `${published.ip}:${published.port}`;
      const id = `port:${published.component}`;
      const holder = own.find((container) =>
        container.published.some((binding) => binding === `${spec}/${published.protocol}` || binding === `0.0.0.0:${published.port}/${published.protocol}`),
      );
      if (holder)
        return { id, status: "pass", summary: `${spec} (${published.component}) is held by this stack's ${holder.name}; \`up\` replaces it in place` };
      // Publishing the port is exactly what fails at `up` (docker-proxy's bind, or the Engine's port allocator).
      const container = await docker.createContainer([
        "--publish",
        `${spec}:9/${published.protocol}`,
        "--entrypoint",
        "/bin/sh",
        needs.probeImage,
        "-c",
        "exit 0",
      ]);
      try {
        const started = await docker.run(["start", container]);
        if (started.code === 0) return { id, status: "pass", summary: `${spec} (${published.component}) is free` };
        if (!isPortTaken(started.stderr))
          return { id, status: "fail", summary: `publishing ${spec} (${published.component}) fails: ${firstLine(started.stderr)}` };
        const other = await containerPublishing(docker, published.port);
        return {
          id,
          status: "fail",
          summary: `${spec} (${published.component}) is taken on the Docker host${other ? ` by container ${other}` : " by a process outside Docker"}`,
          remedy: [
            other ? `stop or move ${other}` : `find it: ss -ltnp 'sport = :${published.port}'`,
            `or publish ${published.component} elsewhere: pulumi config set --path ${published.configKey} <free port>`,
          ],
        };
      } finally {
        await docker.removeContainer(container);
      }
    }),
  );
}

async function containerPublishing(docker: DockerCli, port: number): Promise<string | undefined> {
  const listed = await docker.run(["ps", "--format", "{{.Names}}\t{{.Ports}}"]);
  return listed.stdout
    .split("\n")
    .map((line) => line.split("\t"))
    .find(([, ports]) => new RegExp(`:${port}->`).test(ports ?? ""))?.[0];
}

async function checkMaxMapCount(docker: DockerCli, needs: HostNeeds): Promise<CheckResult[]> {
  if (!needs.needsMaxMapCount)
    return [
      {
        id: "max-map-count",
        status: "skip",
        summary: "vm.max_map_count: no Elasticsearch runs on this host (logs stage off, an external cluster, or an agent host)",
      },
    ];
  // Not namespaced: a container reads the host kernel's value.
  const answer = await runProbe(docker, needs.probeImage, [], "cat /proc/sys/vm/max_map_count");
  const text = answer.output.trim();
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value))
    return [{ id: "max-map-count", status: "fail", summary: `cannot read vm.max_map_count on the host: ${firstLine(answer.startError ?? answer.output)}` }];
  if (value >= MIN_MAX_MAP_COUNT)
    return [{ id: "max-map-count", status: "pass", summary: `vm.max_map_count ${value} >= ${MIN_MAX_MAP_COUNT} (Elasticsearch)` }];
  return [
    {
      id: "max-map-count",
      status: "fail",
      summary: `vm.max_map_count is ${value} on the host; Elasticsearch needs at least ${MIN_MAX_MAP_COUNT}`,
      remedy: [
        `sysctl -w vm.max_map_count=${MIN_MAX_MAP_COUNT} && echo vm.max_map_count=${MIN_MAX_MAP_COUNT} > /etc/sysctl.d/99-elasticsearch.conf`,
        "or switch the logs stage off: pulumi config set --path logs.enabled false",
      ],
    },
  ];
}

/**
 * Create (never start) one container per distinct group of the planned containers' log and memory
 * settings, read back what the Engine stored, and compare it with what was sent, as the provider
 * reads it (checks.ts storedSettingsResults).
 */
export async function checkStoredSettings(docker: DockerCli, needs: Pick<HostNeeds, "storedSettings" | "probeImage">): Promise<CheckResult[]> {
  // allSettled: a failed create must not let the cleanup start while the other creates are in flight.
  const settled = await Promise.allSettled(
    needs.storedSettings.map(async (group) => {
      const id = await docker.createContainer([...storedSettingsArgs(group.settings), "--entrypoint", "/bin/sh", needs.probeImage, "-c", "exit 0"]);
      try {
        const inspected = await docker.run(["container", "inspect", "--format", "{{json .HostConfig}}", id]);
        const stored = parseJson<StoredHostConfig>(inspected.stdout);
        if (!stored) throw new Error(`cannot read back a container's settings: ${firstLine(inspected.stderr)}`);
        return { group, stored };
      } finally {
        await docker.removeContainer(id);
      }
    }),
  );
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
  return storedSettingsResults(settled.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : [])));
}

/**
 * Create (never start) one container per host path the planned containers bind, with that path bound
 * read-only: the Engine checks a bind source at create and returns only the first missing one
 * (moby/moby daemon/container.go validateHostConfig, volume/mounts/linux_parser.go
 * validateMountConfigImpl), so one probe per path reports every missing path at once.
 */
export async function checkBindSources(docker: DockerCli, needs: Pick<HostNeeds, "bindSources" | "probeImage">): Promise<CheckResult[]> {
  const observed = await Promise.all(
    needs.bindSources.map(async (mount) => {
      try {
        const id = await docker.createContainer([...bindProbeArgs(mount.source), "--entrypoint", "/bin/sh", needs.probeImage, "-c", "exit 0"]);
        await docker.removeContainer(id);
        return { mount };
      } catch (error) {
        return { mount, error: firstLine((error as Error).message) };
      }
    }),
  );
  return bindSourceResults(observed);
}

function parseJson<T>(text: string): T | undefined {
  try {
    return (JSON.parse(text.trim() || "null") as T | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The line that says what went wrong: the Engine's error when there is one (CLIs before 23 print log noise first). */
function firstLine(text: string): string {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.find((line) => /Error response from daemon/.test(line)) ?? lines.find((line) => !/^time="[^"]*" level=/.test(line)) ?? lines[0] ?? "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
