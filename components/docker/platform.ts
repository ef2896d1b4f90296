/**
 * The Docker platform of one stack: the provider (local socket or ssh://), the stack's own network,
 * images pulled by exact tag, and the data volumes. Volumes are retained on delete so neither
 * `pulumi destroy` nor a replacement loses metrics or Grafana state.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { CoreConfig } from "../config/resolve";
import { ProblemsError, stopOnProblems } from "../lib/problems";
import type { DockerConfig } from "./config";
import { dockerHostInUse, programPassphraseProblem, refusePlainTcp } from "./host";
import { ImageKey, runningServices, RunsConfig } from "../stack-services";
import { BRIDGE_NAME_OPTION, dockerNames, STACK_LABEL } from "./names";

/** The Docker slice, the core settings (names, images), and what the stack services' descriptors read to say whether they run. */
export type PlatformConfig = Pick<CoreConfig, "stack" | "namePrefix" | "images"> & DockerConfig & RunsConfig;

/**
 * The stack network: a bridge whose host interface has a fixed name (`network.bridgeName`), so one
 * firewall rule lets Prometheus, on this network, reach node-exporter on the host. The provider hands
 * `options` to the Engine's NetworkCreate as driver options and reads them back from NetworkInspect
 * (kreuzwerker/terraform-provider-docker internal/provider/resource_docker_network_funcs.go); the
 * Engine returns exactly the options given, so a second `up` sees no change. Also what the preflight
 * creates its probe network from.
 */
export function stackNetworkArgs(config: Pick<CoreConfig, "stack" | "namePrefix"> & Pick<DockerConfig, "network">) {
  return {
    name: dockerNames(config).network,
    driver: "bridge",
    options: { [BRIDGE_NAME_OPTION]: config.network.bridgeName },
    labels: [{ label: STACK_LABEL, value: config.stack }],
  };
}

export class DockerPlatform extends pulumi.ComponentResource {
  readonly provider: docker.Provider;
  readonly network: docker.Network;
  readonly prometheusVolume: docker.Volume;
  /** Absent with an external Grafana (`grafana.external`) and on an agent host. */
  readonly grafanaVolume?: docker.Volume;
  /** Present when the logs stage is on, with the stack's own Elasticsearch (never on an agent host). */
  readonly elasticsearchVolume?: docker.Volume;
  /** The shipper's registry (read offsets): kept, so a new shipper neither re-sends nor skips lines. */
  readonly filebeatVolume?: docker.Volume;
  private readonly images = new Map<ImageKey, docker.RemoteImage>();

  constructor(name: string, config: PlatformConfig, secrets: { dockerClientKey?: pulumi.Input<string> } = {}, opts?: pulumi.ComponentResourceOptions) {
    super("atra:docker:Platform", name, {}, opts);
    // Before the provider exists: a set DOCKER_CONTEXT would make it deploy to another daemon than
    // `dockerHost` (and than the preflight checked); refused with the fix, nothing is created (./host.ts).
    const dockerHost = stopOnProblems(() => dockerHostInUse(config.stack, config.dockerHost));
    // A DOCKER_HOST=tcp:// without TLS material (the config's own dockerHost is checked by its rules: ./config.ts).
    stopOnProblems(() => refusePlainTcp(config.stack, dockerHost, config.dockerTls !== undefined));
    // The empty passphrase on a remote host, for a `pulumi up` run without the preflight (the program runs in the project folder).
    stopOnProblems(() => {
      const problem = programPassphraseProblem(config.stack, dockerHost.host, process.env, path.join(process.cwd(), `Pulumi.${config.stack}.yaml`));
      if (problem) throw new ProblemsError(`Secrets of stack "${config.stack}"`, [problem]);
    });
    if (pulumi.runtime.hasEngine()) pulumi.log.info(`Docker host: ${dockerHost.description}`, this);
    const names = dockerNames(config);
    const labels = [{ label: STACK_LABEL, value: config.stack }];

    // `host` as configured: unset, the SDK and the provider fall back to DOCKER_HOST, then the local
    // socket, exactly as dockerHostInUse says.
    // A tcp:// host's TLS (./config.ts dockerTlsIssues): the directory, or the PEMs with the key as a secret, so
    // it is encrypted in the provider's state.
    const tls = config.dockerTls;
    this.provider = new docker.Provider(
      "docker",
      {
        host: config.dockerHost,
        ...(tls && "certPath" in tls ? { certPath: tls.certPath } : {}),
        ...(tls && "caCertificate" in tls
          ? { caMaterial: tls.caCertificate, certMaterial: tls.clientCertificate, keyMaterial: pulumi.secret(secrets.dockerClientKey ?? "") }
          : {}),
      },
      { parent: this },
    );
    const own = { parent: this, provider: this.provider };

    // Fixed names: a replacement must remove the old object first.
    this.network = new docker.Network("network", stackNetworkArgs(config), { ...own, deleteBeforeReplace: true });

    // Retained: neither `destroy` nor a replacement deletes the data; a new volume of the same name reattaches it.
    const retained = { ...own, retainOnDelete: true, deleteBeforeReplace: true };
    this.prometheusVolume = new docker.Volume("prometheus-data", { name: names.prometheusVolume, labels }, retained);
    // Which services run is each one's descriptor's say (`runs`): an agent host runs no Grafana,
    // Elasticsearch or Kibana, nothing of an external Grafana or Elastic cluster runs here (Filebeat
    // still does, shipping to the cluster), a switched-off stage or exporter runs nothing.
    const running: readonly ImageKey[] = runningServices(config);
    if (running.includes("grafana")) this.grafanaVolume = new docker.Volume("grafana-data", { name: names.grafanaVolume, labels }, retained);
    if (running.includes("elasticsearch"))
      this.elasticsearchVolume = new docker.Volume("elasticsearch-data", { name: names.elasticsearchVolume, labels }, retained);
    if (running.includes("filebeat")) this.filebeatVolume = new docker.Volume("filebeat-data", { name: names.filebeatVolume, labels }, retained);

    // Pulled by exact tag and kept on the host after destroy, so a re-create needs no registry.
    const wanted = (Object.keys(config.images) as ImageKey[]).filter((key) => running.includes(key));
    for (const key of wanted) {
      this.images.set(key, new docker.RemoteImage(`image-${key}`, { name: config.images[key], keepLocally: true }, own));
    }

    this.registerOutputs({ network: this.network.name });
  }

  image(key: ImageKey): docker.RemoteImage {
    const image = this.images.get(key);
    if (!image) throw new Error(`image ${key} is not part of this stack (is its component switched off?)`);
    return image;
  }
}

/** A volume a component needs; its absence means the component runs where its stage is switched off. */
export function requireVolume(volume: docker.Volume | undefined, what: string): docker.Volume {
  if (!volume) throw new Error(`the Docker platform has no ${what} volume: is the logs stage switched off?`);
  return volume;
}
