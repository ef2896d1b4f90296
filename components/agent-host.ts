/**
 * An agent host (`role: agent`): one more application host. It runs node-exporter, cAdvisor, the
 * blackbox exporter and Prometheus in agent mode, remote-writing everything it scrapes (every series
 * labelled with this host) to `prometheus.remoteWrite`; and, when its catalog services have log files,
 * Filebeat shipping them into the central stack's data stream with the API key the central stack made
 * for agents. It configures nothing in Grafana, Elasticsearch or Kibana: the central stack's
 * dashboards and alerts show this host beside the others.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LoadedConfig } from "./config/pulumi-config";
import { DockerPlatform } from "./docker/platform";
import { MetricsStack } from "./metrics/metrics-stack";
import { shipperApiKey } from "./logs/config";
import { logShipper } from "./logs/log-shipper";
import type { StackOutputs } from "./stack-outputs";

export function agentHost(loaded: LoadedConfig): StackOutputs {
  const { config, remoteWriteSecrets } = loaded;
  const platform = new DockerPlatform("platform", config, { dockerClientKey: loaded.dockerClientKey });
  new MetricsStack("metrics", { config, platform, remoteWriteSecrets });

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
    // The agent's own UI (targets, service discovery, its write-ahead log); queries go to the central backend.
    prometheusUrl: config.prometheusPublicUrl,
    remoteWriteUrls: Object.fromEntries(config.prometheus.remoteWrite.map((remote) => [remote.name, remote.url])),
    ...(shipTo ? { elasticsearchUrl: shipTo.elasticsearchUrl, logsDataStream: config.logs.dataStream } : {}),
  };
}
