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
  /** Published beyond loopback, Prometheus requires a login: this one is for people (Grafana and the healthcheck have their own). */
  prometheusUser?: string;
  prometheusPassword?: Secret;
  grafanaUrl?: string;
  grafanaAdminUser?: string;
  grafanaAdminPassword?: Secret;
  /** People's own Grafana login (grafana.peopleRole: a Viewer by default), with the stack's own Grafana. */
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
  /** Central stacks with agents[] and logs: agents[].host -> the encoded API key that host's Filebeat ships with (its `logShipperApiKey`). */
  agentLogShipperApiKeys?: pulumi.Output<Record<string, string>>;
  /**
   * Central stacks listing agents[]: per agent host, what its Prometheus is pulled with (the password the
   * central logs in with, its bcrypt hash, the server certificate and key issued for that host). Secret.
   */
  agentFederation?: pulumi.Output<Record<string, { password: string; passwordHash: string; certificate: string; key: string }>>;
  /** Central stacks with `tls.mode` generated (or provided with tls.caCertificate): the CA certificate (PEM, not secret) agents and browsers trust. */
  caCertificate?: pulumi.Output<string>;
}
