/**
 * The stack outputs, for both roles: what people open (URLs), who they log in as (users, secret
 * passwords), and on a central stack what agent hosts need. An output a role or a mix does not have
 * is left undefined, and Pulumi then shows no such output.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Role } from "./config/role";

type Secret = pulumi.Output<string> | undefined;

export interface StackOutputs {
  role: Role;
  environment: string;
  /** The `host` label every series and log event of this host carries. */
  host: string;
  monitoredServices: string[];
  prometheusUrl: string;
  /** With the remote-write receiver on, Prometheus requires a login: this one (Grafana's). */
  prometheusUser?: string;
  prometheusPassword?: Secret;
  grafanaUrl?: string;
  grafanaAdminUser?: string;
  grafanaAdminPassword?: Secret;
  /** People's own Grafana login (an Editor), with the stack's own Grafana. */
  grafanaUser?: string;
  grafanaPassword?: Secret;
  dashboardUrls?: Record<string, string>;
  kibanaUrl?: string;
  /** People's own Kibana login: read-only on the log data stream in Discover and dashboards. */
  kibanaUser?: string;
  kibanaPassword?: Secret;
  elasticsearchUrl?: string;
  elasticsearchUser?: string;
  elasticsearchPassword?: Secret;
  logsDataStream?: string;
  kibanaDataViewId?: string;
  logShipperUser?: string;
  logShipperPassword?: Secret;
  grafanaLogsUser?: string;
  grafanaLogsPassword?: Secret;
  /** Agent hosts: the remote writes this host's Prometheus sends to (name to URL). */
  remoteWriteUrls?: Record<string, string>;
  /** Central stacks with `logs.agentApiKey`: the API key agent hosts' Filebeat ships with (`id:api_key`). */
  agentLogShipperApiKey?: Secret;
  /** Central stacks with `prometheus.remoteWriteReceiver`: where and as whom agent hosts remote-write. */
  agentRemoteWriteUrl?: string;
  agentRemoteWriteUser?: string;
  agentRemoteWritePassword?: Secret;
  /** Central stacks with `tls.mode` generated (or provided with tls.caCertificate): the CA certificate (PEM, not secret) agents and browsers trust. */
  caCertificate?: pulumi.Output<string>;
}
