/**
 * An agent host (`role: agent`): one more application host. It runs node-exporter, cAdvisor, the
 * blackbox exporter and Prometheus: with the secret `federation` (its entry of the central output
 * agentFederation) in server mode with a short retention, serving `/federate` over TLS to the central
 * Prometheus's login alone, which pulls it; without, in agent mode remote-writing everything it scrapes
 * to `prometheus.remoteWrite` (an external backend; it may also remote-write when federated); and, when its catalog services have log files,
 * Filebeat shipping them into the central stack's data stream with the API key the central stack made
 * for agents. It configures nothing in Grafana, Elasticsearch or Kibana: the central stack's
 * dashboards and alerts show this host beside the others.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LoadedConfig } from "./config/pulumi-config";
import { DockerPlatform } from "./docker/platform";
import { MetricsStack } from "./metrics/metrics-stack";
import { shipperApiKey } from "./logs/config";
import { parseFederation } from "./metrics/remote-config";
import { UNDECRYPTED_SECRET } from "./lib/config-keys";
import { logShipper } from "./logs/log-shipper";
import type { StackOutputs } from "./stack-outputs";

export function agentHost(loaded: LoadedConfig): StackOutputs {
  const { config, remoteWriteSecrets } = loaded;
  const platform = new DockerPlatform("platform", config, { dockerClientKey: loaded.dockerClientKey });
  // The config rules have checked the secret's shape (remote-config.ts parseFederation); the offline plan,
  // which cannot decrypt it, renders its placeholder in every field.
  const federation = loaded.federation?.apply((value) => {
    if (value === UNDECRYPTED_SECRET) return { password: value, passwordHash: value, certificate: value, key: value };
    const { federation: parsed, problem } = parseFederation(value);
    if (!parsed) throw new Error(`federation ${problem}`);
    return parsed;
  });
  new MetricsStack("metrics", { config, platform, remoteWriteSecrets, ...(federation ? { federation } : {}) });

  const shipped = config.services.filter((service) => (service.logs ?? []).length > 0);
  // Set only when the logs stage is on (the logs slice's resolver).
  const shipTo = config.logs.shipTo;
  if (shipTo) {
    const given = loaded.logShipperApiKey;
    if (!given) throw new Error("an agent host with log files needs logShipperApiKey (the config rules require it)");
    // Filebeat takes `id:api_key`; the encoded form the central cluster may have handed out is decoded here.
    const apiKey = pulumi.secret(given.apply((value) => shipperApiKey(value) ?? value));
    logShipper(
      {
        config,
        platform,
        services: shipped,
        elasticsearchUrl: shipTo.elasticsearchUrl,
        dataStream: config.logs.dataStream,
        // The central stack's pipeline is the data stream's default pipeline (its index template): nothing to name here.
        credentials: { apiKey },
        tls: shipTo,
        waitFor: [],
      },
      {},
    );
  }

  return {
    role: config.role,
    environment: config.environment,
    host: config.prometheus.hostLabel,
    monitoredServices: config.services.map((service) => service.name),
    // The agent's own UI (targets, service discovery); queries go to the central stack.
    prometheusUrl: config.prometheusPublicUrl,
    remoteWriteUrls: Object.fromEntries(config.prometheus.remoteWrite.map((remote) => [remote.name, remote.url])),
    ...(shipTo ? { elasticsearchUrl: shipTo.elasticsearchUrl, logsDataStream: config.logs.dataStream } : {}),
  };
}
