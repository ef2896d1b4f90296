/**
 * The Grafana datasource that Grafana-managed recording rules write to (REMOTE_WRITE_DATASOURCE), built
 * from the stack's remote write: the URL from which Grafana derives that remote write's URL
 * (remote-write-url.ts), and that remote write's credentials as the datasource's own login, which
 * Grafana's writer sends (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go, makeWriter).
 */
import * as pulumi from "@pulumi/pulumi";
import type { RemoteWriteConfig } from "../metrics/remote-config";
import { type PrometheusType, RECORDING_REMOTE_WRITE_INDEX, remoteWriteDatasourceTarget } from "./remote-write-url";

/** The fixed uid recording rules name as their target (`record.target_datasource_uid`). */
export const REMOTE_WRITE_DATASOURCE = { uid: "atra-prometheus-write-ds", name: "Prometheus remote write (SLO recording)" } as const;

/** What GrafanaConfiguration provisions as the write datasource: the secrets already Pulumi secrets. */
export interface RemoteWriteDatasourceSpec {
  url: string;
  prometheusType: PrometheusType;
  basicAuth?: { user: string; password: pulumi.Output<string> };
  /** Custom headers in order (jsonData.httpHeaderName<n>, secureJsonData.httpHeaderValue<n>): the remote write's own, and the bearer token's. */
  headers: { name: string; value: pulumi.Input<string> }[];
}

/**
 * The write datasource for a remote write of the stack config, with its credentials as Prometheus sends
 * them (components/metrics/prometheus-config.ts): basic auth with basicAuthUser and the secret, else the
 * secret as `Authorization: Bearer`, sent as a custom header (Grafana's datasource service reads
 * jsonData.httpHeaderName<n> with secureJsonData.httpHeaderValue<n>, pkg/services/datasources/service/datasource.go
 * getCustomHeaders, and the writer adds them to every write, makeWriter; grafana-plugin-sdk-go
 * backend/httpclient/custom_headers_middleware.go sets each, replacing any value). Its other headers
 * (a tenant's X-Scope-OrgID) go the same way. Throws for a URL the config rules refuse.
 */
export function remoteWriteDatasourceSpec(remote: RemoteWriteConfig, secret: pulumi.Output<string> | undefined): RemoteWriteDatasourceSpec {
  const target = remoteWriteDatasourceTarget(remote.url);
  if ("problem" in target) throw new Error(`remote write "${remote.name}" (${remote.url}) ${target.problem}`);
  if (remote.credentials !== "none" && !secret)
    throw new Error(`remote write "${remote.name}" has credentials configured but no remoteWriteSecrets.${remote.name} was handed over`);
  const headers: RemoteWriteDatasourceSpec["headers"] = Object.entries(remote.headers).map(([name, value]) => ({ name, value }));
  if (remote.credentials === "bearer" && secret) headers.push({ name: "Authorization", value: pulumi.interpolate`Bearer ${secret}` });
  return {
    url: target.url,
    prometheusType: target.prometheusType,
    ...(remote.credentials === "basic" && secret && remote.basicAuthUser !== undefined ? { basicAuth: { user: remote.basicAuthUser, password: secret } } : {}),
    headers,
  };
}

/** The write datasource of the remote write Grafana records into (RECORDING_REMOTE_WRITE_INDEX), its secret by name. */
export function recordingRemoteWriteDatasource(
  remoteWrite: readonly RemoteWriteConfig[],
  secrets: Record<string, pulumi.Output<string>>,
): RemoteWriteDatasourceSpec {
  const remote = remoteWrite[RECORDING_REMOTE_WRITE_INDEX];
  if (!remote)
    throw new Error("Grafana records the SLO series by remote write, and prometheus.remoteWrite has none (the config rules require one in agent mode)");
  return remoteWriteDatasourceSpec(remote, secrets[remote.name]);
}

/** The datasource's jsonData and secureJsonData (the latter a Pulumi secret as a whole). */
export function remoteWriteDatasourceData(spec: RemoteWriteDatasourceSpec): {
  jsonData: Record<string, unknown>;
  secureJsonData: pulumi.Output<string> | undefined;
} {
  const jsonData: Record<string, unknown> = { prometheusType: spec.prometheusType, httpMethod: "POST" };
  spec.headers.forEach((header, index) => (jsonData[`httpHeaderName${index + 1}`] = header.name));
  const secure: Record<string, pulumi.Input<string>> = {
    ...(spec.basicAuth ? { basicAuthPassword: spec.basicAuth.password } : {}),
    ...Object.fromEntries(spec.headers.map((header, index) => [`httpHeaderValue${index + 1}`, header.value])),
  };
  return {
    jsonData,
    secureJsonData: Object.keys(secure).length > 0 ? pulumi.secret(pulumi.all(secure).apply((values) => JSON.stringify(values))) : undefined,
  };
}
