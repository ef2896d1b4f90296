/**
 * atra-observability: the composition root. Read and validate the stack config, the dashboards and
 * the alert rules (nothing is registered if any is wrong), build the components, export what people need.
 */
import * as path from "path";
import { loadStackConfig } from "./components/config/pulumi-config";
import { DockerPlatform } from "./components/docker/platform";
import { MetricsStack } from "./components/metrics/metrics-stack";
import { LogsStack } from "./components/logs/logs-stack";
import { GrafanaServer } from "./components/grafana/grafana-server";
import {
  ELASTICSEARCH_DATASOURCE,
  FAILURE_STORE_DATASOURCE,
  GrafanaConfiguration,
  PROMETHEUS_DATASOURCE,
  STACK_DATASOURCES,
} from "./components/grafana/grafana-configuration";
import { loadDashboards } from "./components/grafana/dashboard-files";
import { GrafanaAlerting } from "./components/grafana/grafana-alerting";
import { loadAlertRuleGroups } from "./components/alerting/alert-files";
import { logAlertGroup } from "./components/alerting/log-alerts";
import { renderSloRuleFile, SLO_RULE_FILE_PATH, sloAlertGroup, sloDefinitions } from "./components/slo/slo-rules";

const {
  config,
  grafanaAdminPassword: configuredGrafanaPassword,
  alertingSecrets,
  elasticPassword,
  remoteWriteSecrets,
  prometheusQueryPassword,
  grafanaApiToken,
  elasticApiKey,
} = loadStackConfig();
const dashboards = loadDashboards(path.join(__dirname, "dashboards"), STACK_DATASOURCES, config.logs.enabled ? [] : ["elasticsearch"]);
const ruleContext = { defaultInterval: config.alerting.evaluationInterval, runbookBaseUrl: config.alerting.runbookBaseUrl };
const slos = sloDefinitions(config.services);
const alertRuleGroups = [
  ...loadAlertRuleGroups(path.join(__dirname, "alerts"), { ...ruleContext, prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid }),
  ...(config.logs.enabled
    ? [
        logAlertGroup(config.logs, config.services, {
          ...ruleContext,
          interval: config.alerting.evaluationInterval,
          elasticsearchDatasourceUid: ELASTICSEARCH_DATASOURCE.uid,
          failureStoreDatasourceUid: FAILURE_STORE_DATASOURCE.uid,
        }),
      ]
    : []),
  ...(slos.length > 0
    ? [sloAlertGroup(slos, { ...ruleContext, interval: config.alerting.evaluationInterval, prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid })]
    : []),
];
// The SLOs' recording rules, evaluated by Prometheus itself (the alerts above query them).
const prometheusRuleFiles = slos.length > 0 ? [{ path: SLO_RULE_FILE_PATH, content: renderSloRuleFile(slos, config.prometheus.evaluationInterval) }] : [];

const platform = new DockerPlatform("platform", config);
const metrics = new MetricsStack("metrics", { config, platform, remoteWriteSecrets, ruleFiles: prometheusRuleFiles });
const logs = config.logs.enabled ? new LogsStack("logs", { config, platform, adminPassword: elasticPassword, apiKey: elasticApiKey }) : undefined;
// An external Grafana (grafana.external) is configured, not run: no container, volume or password of its own.
const external = config.grafana.external;
const grafanaServer = external ? undefined : new GrafanaServer("grafana-server", { config, platform, adminPassword: configuredGrafanaPassword });
const grafanaAdminLogin =
  grafanaServer ?? (external?.auth === "password" ? { adminUser: config.grafana.adminUser, adminPassword: configuredGrafanaPassword } : undefined);
const grafanaConfig = new GrafanaConfiguration("grafana-config", {
  apiUrl: config.grafana.providerUrl,
  publicUrl: config.grafana.publicUrl,
  adminUser: grafanaAdminLogin?.adminUser,
  adminPassword: grafanaAdminLogin?.adminPassword,
  apiToken: external?.auth === "token" ? grafanaApiToken : undefined,
  // Metrics kept elsewhere (agent mode, a remote-write backend): the datasource, and so the alert rules, read there.
  // An external Grafana reads a URL it reaches (the config rules refuse a container name or loopback).
  prometheusUrl: external?.prometheusUrl ?? config.prometheus.external?.queryUrl ?? metrics.internalUrl,
  prometheusBasicAuth:
    config.prometheus.external?.basicAuthUser !== undefined && prometheusQueryPassword
      ? { user: config.prometheus.external.basicAuthUser, password: prometheusQueryPassword }
      : undefined,
  scrapeInterval: config.prometheus.scrapeInterval,
  dashboards,
  elasticsearch: logs && {
    url: logs.internalElasticsearchUrl,
    user: logs.readerUser,
    password: logs.readerPassword,
    dataStream: logs.naming.dataStream,
    caCertificate: logs.caCertificate,
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

export const environment = config.environment;
export const monitoredServices = config.services.map((service) => service.name);
export const grafanaUrl = config.grafana.publicUrl;
export const prometheusUrl = config.prometheusPublicUrl;
export const grafanaAdminUser = grafanaAdminLogin?.adminUser;
// Only the stack's own Grafana's (generated or configured); an external Grafana's credentials are the user's own.
export const grafanaAdminPassword = grafanaServer?.adminPassword;
export const dashboardUrls = grafanaConfig.dashboardUrls;
export const kibanaUrl = logs && config.logs.kibanaPublicUrl;
export const elasticsearchUrl = logs && config.logs.elasticsearchPublicUrl;
export const elasticsearchUser = logs?.adminUser;
export const elasticsearchPassword = logs?.adminPassword;
export const logsDataStream = logs?.naming.dataStream;
export const kibanaDataViewId = logs?.naming.dataViewId;
export const logShipperUser = logs?.writerUser;
export const logShipperPassword = logs?.writerPassword;
export const grafanaLogsUser = logs?.readerUser;
export const grafanaLogsPassword = logs?.readerPassword;
