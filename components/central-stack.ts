/**
 * The central stack (`role: central`, the default): Prometheus storing and answering queries, Grafana
 * with its datasources, dashboards and alerts, and the logs stage (the stack's own Elasticsearch and
 * Kibana, or an external cluster), configured from the catalog. It also makes what agent hosts need
 * (their Filebeat's API key; per agent host the password and certificate its Prometheus is pulled with)
 * and outputs it as secrets.
 */
import * as path from "path";
import type { LoadedConfig } from "./config/pulumi-config";
import { DockerPlatform } from "./docker/platform";
import { MetricsStack } from "./metrics/metrics-stack";
import { LogsStack } from "./logs/logs-stack";
import { GrafanaServer } from "./grafana/grafana-server";
import {
  ELASTICSEARCH_DATASOURCE,
  FAILURE_STORE_DATASOURCE,
  GrafanaConfiguration,
  PROMETHEUS_DATASOURCE,
  STACK_DATASOURCES,
} from "./grafana/grafana-configuration";
import { loadDashboards } from "./grafana/dashboard-files";
import { GrafanaAlerting } from "./grafana/grafana-alerting";
import { loadAlertRuleGroups } from "./alerting/alert-files";
import { TLS_ALERT_GROUP } from "./metrics/prometheus-config";
import type { StackServiceKey } from "./stack-services";
import { logAlertGroups } from "./alerting/log-alerts";
import { datasourceAlertGroup, guardEvaluationFailureAlert } from "./alerting/datasource-alerts";
import {
  RECORDING_RULES_ENV,
  renderSloRuleFile,
  SLO_RULE_FILE_PATH,
  sloAlertGroups,
  sloDefinitions,
  sloGrafanaRecordingGroups,
  type SloScope,
} from "./slo/slo-rules";
import type { StackOutputs } from "./stack-outputs";
import { StackPki } from "./tls/pki";
import { AgentFederation } from "./metrics/agent-federation";
import { MEMORY_RULE_FILE_PATH, renderMemoryRuleFile } from "./metrics/memory-rule";
import { recordingRemoteWriteDatasource, REMOTE_WRITE_DATASOURCE } from "./grafana/remote-write-datasource";

/** Build the central stack from the loaded config; the dashboards and alert rule files are read from `projectDir`. */
export function centralStack(loaded: LoadedConfig, projectDir: string): StackOutputs {
  const {
    config,
    grafanaAdminPassword: configuredGrafanaPassword,
    alertingSecrets,
    elasticPassword,
    remoteWriteSecrets,
    prometheusQueryPassword,
    grafanaApiToken,
    elasticApiKey,
  } = loaded;
  const dashboards = loadDashboards(path.join(projectDir, "dashboards"), STACK_DATASOURCES, config.logs.enabled ? [] : ["elasticsearch"], config);
  const ruleContext = { defaultInterval: config.alerting.evaluationInterval, runbookBaseUrl: config.alerting.runbookBaseUrl };
  const tlsOn = config.tls.mode !== "off";
  // Metrics in an external backend (agent mode): Prometheus evaluates no rules, Grafana records the SLO
  // series into the backend, where other stacks' series meet this one's: the SLOs read and write this environment's only.
  const metricsInBackend = config.prometheus.mode === "agent";
  const sloScope: SloScope = metricsInBackend ? { environment: config.environment } : {};
  const slos = sloDefinitions(config.services, sloScope);
  const sloRecordedByGrafana = slos.length > 0 && metricsInBackend;
  const alertRuleGroups = [
    // GrafanaAlertRuleEvaluationFailing keeps its state while Elasticsearch fails (ElasticsearchNotQueryable reports that).
    ...guardEvaluationFailureAlert(
      loadAlertRuleGroups(path.join(projectDir, "alerts"), { ...ruleContext, prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid })
        // The certificate alerts (alerts/tls.yml) watch the TLS probes, which run only with tls on.
        .filter((group) => tlsOn || group.name !== TLS_ALERT_GROUP),
      config.logs.enabled ? ELASTICSEARCH_DATASOURCE.uid : undefined,
    ),
    ...(config.logs.enabled
      ? logAlertGroups(config.logs, config.services, {
          ...ruleContext,
          interval: config.alerting.evaluationInterval,
          host: config.prometheus.hostLabel,
          elasticsearchDatasourceUid: ELASTICSEARCH_DATASOURCE.uid,
          failureStoreDatasourceUid: FAILURE_STORE_DATASOURCE.uid,
        })
      : []),
    // Read through the query datasource, written through the write datasource (GrafanaConfiguration's remoteWriteDatasource).
    ...(sloRecordedByGrafana
      ? sloGrafanaRecordingGroups(slos, config.alerting.evaluationInterval, PROMETHEUS_DATASOURCE.uid, REMOTE_WRITE_DATASOURCE.uid)
      : []),
    ...sloAlertGroups(slos, {
      ...ruleContext,
      interval: config.alerting.evaluationInterval,
      prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid,
      scope: sloScope,
    }),
    // One alert per datasource that stays unreachable; every rule above keeps its state meanwhile.
    datasourceAlertGroup({
      ...ruleContext,
      interval: config.alerting.evaluationInterval,
      prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid,
      elasticsearchDatasourceUid: config.logs.enabled ? ELASTICSEARCH_DATASOURCE.uid : undefined,
    }),
  ];
  // The SLOs' recording rules, evaluated by Prometheus itself (the alerts above query them).
  const prometheusRuleFiles = [
    ...(slos.length > 0 && !sloRecordedByGrafana ? [{ path: SLO_RULE_FILE_PATH, content: renderSloRuleFile(slos, config.prometheus.evaluationInterval) }] : []),
    // Its own memory limit as a series, which PrometheusMemoryHigh and AgentSeriesChurn read (metrics/memory-rule.ts).
    // In agent mode Prometheus evaluates no rules: the limit is not recorded, and PrometheusMemoryHigh stays silent.
    ...(metricsInBackend ? [] : [{ path: MEMORY_RULE_FILE_PATH, content: renderMemoryRuleFile(config.memoryMb.prometheus, config.prometheus.hostLabel) }]),
  ];

  // The stack CA and server certificate (tls.mode; docs/tls.md), before the servers that will upload them.
  const pki =
    config.tls.mode === "off"
      ? undefined
      : new StackPki("tls", {
          config,
          provided: loaded.tlsCertificate && loaded.tlsKey ? { certificate: loaded.tlsCertificate, key: loaded.tlsKey } : undefined,
        });
  // Per agent host (agents[]): the password the central Prometheus pulls it with and its server certificate.
  const agentFederation = config.agents.length > 0 ? new AgentFederation("federation", { agents: config.agents, stack: config.stack }) : undefined;
  const platform = new DockerPlatform("platform", config, { dockerClientKey: loaded.dockerClientKey });
  // The stack's own servers, which serve TLS with tls on (an external Grafana or Elastic cluster is not ours).
  const ownElastic = config.logs.enabled && !config.logs.external;
  const tlsEndpoints: StackServiceKey[] = [
    "prometheus",
    ...(config.grafana.external ? [] : ["grafana" as const]),
    ...(ownElastic ? ["elasticsearch" as const, "kibana" as const] : []),
  ];
  // An external Grafana (grafana.external) is configured, not run: no container, volume or password of its own.
  const external = config.grafana.external;
  const grafanaServer = external
    ? undefined
    : new GrafanaServer("grafana-server", {
        config,
        platform,
        adminPassword: configuredGrafanaPassword,
        extraSettings: sloRecordedByGrafana ? RECORDING_RULES_ENV : [],
        ...(pki ? { serverTls: pki } : {}),
      });
  const metrics = new MetricsStack("metrics", {
    config,
    platform,
    remoteWriteSecrets,
    ruleFiles: prometheusRuleFiles,
    agentFederation,
    // The scrape of the stack's own Grafana logs in to its /metrics.
    grafanaMetricsPassword: grafanaServer?.metricsPassword,
    // With tls on: Prometheus serves it; the blackbox exporter probes each of the stack's TLS endpoints (alerts/tls.yml).
    ...(pki ? { tls: { server: pki, probed: tlsEndpoints } } : {}),
  });
  const logs = config.logs.enabled
    ? new LogsStack("logs", { config, platform, adminPassword: elasticPassword, apiKey: elasticApiKey, tls: config.logs.external ? undefined : pki })
    : undefined;
  const grafanaAdminLogin =
    grafanaServer ?? (external?.auth === "password" ? { adminUser: config.grafana.adminUser, adminPassword: configuredGrafanaPassword } : undefined);
  const grafanaConfig = new GrafanaConfiguration("grafana-config", {
    apiUrl: config.grafana.providerUrl,
    // The stack's own Grafana serves TLS with tls on: the provider trusts the stack CA.
    ...(grafanaServer && pki?.caCertificate ? { apiCaCertificate: pki.caCertificate } : {}),
    publicUrl: config.grafana.publicUrl,
    adminUser: grafanaAdminLogin?.adminUser,
    adminPassword: grafanaAdminLogin?.adminPassword,
    apiToken: external?.auth === "token" ? grafanaApiToken : undefined,
    // The stack's own Grafana: people get a login of their own, not the server admin's.
    peopleLogin: grafanaServer && { login: grafanaServer.peopleUser, password: grafanaServer.peoplePassword, role: config.grafana.peopleRole ?? "Viewer" },
    // Metrics kept elsewhere (agent mode, a remote-write backend): the datasource, and so the alert rules, read there.
    // An external Grafana reads a URL it reaches (the config rules refuse a container name or loopback).
    prometheusUrl: external?.prometheusUrl ?? config.prometheus.external?.queryUrl ?? metrics.internalUrl,
    // The backend's login when metrics are read elsewhere; else this Prometheus's own Grafana login when it requires one.
    prometheusBasicAuth: config.prometheus.external
      ? config.prometheus.external.basicAuthUser !== undefined && prometheusQueryPassword
        ? { user: config.prometheus.external.basicAuthUser, password: prometheusQueryPassword }
        : undefined
      : metrics.grafanaAuth,
    // This stack's Prometheus serves TLS with tls on (metrics.internalUrl, and an external Grafana's published URL, are https).
    ...(pki && !config.prometheus.external
      ? { prometheusTls: { ...(pki.caCertificate ? { caCertificate: pki.caCertificate } : {}), serverName: pki.serverName } }
      : {}),
    scrapeInterval: config.prometheus.scrapeInterval,
    // Where Grafana writes the SLO series it records: the backend's remote write, with its credentials (the config rules refuse a URL Grafana cannot write to).
    remoteWriteDatasource: sloRecordedByGrafana ? recordingRemoteWriteDatasource(config.prometheus.remoteWrite, remoteWriteSecrets) : undefined,
    dashboards,
    elasticsearch: logs && {
      url: logs.internalElasticsearchUrl,
      user: logs.readerUser,
      password: logs.readerPassword,
      dataStream: logs.naming.dataStream,
      // An external cluster's CA (logs.external.caCertificate), or the stack CA and name for its own Elasticsearch with tls on.
      caCertificate: logs.datasourceTls?.caCertificate ?? logs.caCertificate,
      ...(logs.datasourceTls ? { serverName: logs.datasourceTls.serverName } : {}),
      waitFor: [logs.elasticsearchConfig.readerUser],
    },
    // Configure Grafana only once it is healthy and Prometheus answers behind the datasource.
    waitFor: [...(grafanaServer ? [grafanaServer.container] : []), metrics.prometheus],
  });
  new GrafanaAlerting("grafana-alerting", {
    provider: grafanaConfig.provider,
    alerting: config.alerting,
    ruleGroups: alertRuleGroups,
    contactPointSecrets: alertingSecrets,
    waitFor: [...(grafanaServer ? [grafanaServer.container] : []), metrics.prometheus, ...grafanaConfig.datasources],
  });

  return {
    role: config.role,
    environment: config.environment,
    host: config.prometheus.hostLabel,
    monitoredServices: config.services.map((service) => service.name),
    grafanaUrl: config.grafana.publicUrl,
    prometheusUrl: config.prometheusPublicUrl,
    grafanaAdminUser: grafanaAdminLogin?.adminUser,
    // Only the stack's own Grafana's (generated or configured); an external Grafana's credentials are the user's own.
    grafanaAdminPassword: grafanaServer?.adminPassword,
    // People's Grafana login (the stack's own Grafana): the admin login stays with the machines.
    grafanaUser: grafanaServer?.peopleUser,
    grafanaPassword: grafanaServer?.peoplePassword,
    dashboardUrls: grafanaConfig.dashboardUrls,
    kibanaUrl: logs && config.logs.kibanaPublicUrl,
    // People log in to Kibana with their own read-only login; atra-admin stays with the providers.
    kibanaUser: logs?.kibanaUser,
    kibanaPassword: logs?.kibanaPassword,
    elasticsearchUrl: logs && config.logs.elasticsearchPublicUrl,
    elasticsearchUser: logs?.adminUser,
    elasticsearchPassword: logs?.adminPassword,
    logsDataStream: logs?.naming.dataStream,
    kibanaDataViewId: logs?.naming.dataViewId,
    logShipperUser: logs?.writerUser,
    logShipperPassword: logs?.writerPassword,
    grafanaLogsUser: logs?.readerUser,
    grafanaLogsPassword: logs?.readerPassword,
    // Prometheus's login for people (its UI and API), published beyond loopback; Grafana and the healthcheck have their own.
    prometheusUser: metrics.peopleAuth?.user,
    prometheusPassword: metrics.peopleAuth?.password,
    // What agent hosts need (docs/add-a-host.md): per host, its log key and its federation login and certificate.
    agentLogShipperApiKeys: logs?.agentApiKeys,
    agentFederation: agentFederation?.output(),
    // The CA agents and browsers trust (not secret), with tls on.
    caCertificate: pki?.caCertificate,
  };
}
