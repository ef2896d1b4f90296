/**
 * atra-observability: the composition root. Read and validate the stack config (nothing is
 * registered if it is wrong), build the components, export what people need.
 */
import * as path from "path";
import { loadStackConfig } from "./components/config/pulumi-config";
import { DockerPlatform } from "./components/docker/platform";
import { MetricsStack } from "./components/metrics/metrics-stack";
import { GrafanaServer } from "./components/grafana/grafana-server";
import { ELASTICSEARCH_DATASOURCE, GrafanaConfiguration, PROMETHEUS_DATASOURCE } from "./components/grafana/grafana-configuration";
import { loadDashboards } from "./components/grafana/dashboard-files";
import { GrafanaAlerting } from "./components/grafana/grafana-alerting";
import { loadAlertRuleGroups } from "./components/alerting/alert-files";

const { config, grafanaAdminPassword: configuredPassword, alertingSecrets } = loadStackConfig();
// Dashboards and alert rules are checked before any resource exists, like the config: a bad file stops the run here.
const dashboards = loadDashboards(path.join(__dirname, "dashboards"), { prometheus: PROMETHEUS_DATASOURCE, elasticsearch: ELASTICSEARCH_DATASOURCE });
const alertRuleGroups = loadAlertRuleGroups(path.join(__dirname, "alerts"), {
  prometheusDatasourceUid: PROMETHEUS_DATASOURCE.uid,
  defaultInterval: config.alerting.evaluationInterval,
  runbookBaseUrl: config.alerting.runbookBaseUrl,
});

const platform = new DockerPlatform("platform", config);
const metrics = new MetricsStack("metrics", { config, platform });
const grafanaServer = new GrafanaServer("grafana-server", { config, platform, adminPassword: configuredPassword });
const grafanaConfig = new GrafanaConfiguration(
  "grafana-config",
  {
    apiUrl: config.grafana.providerUrl,
    publicUrl: config.grafana.publicUrl,
    adminUser: grafanaServer.adminUser,
    adminPassword: grafanaServer.adminPassword,
    prometheusUrl: metrics.internalUrl,
    scrapeInterval: config.prometheus.scrapeInterval,
    dashboards,
    // Configure Grafana only once it is healthy and Prometheus answers behind the datasource.
    waitFor: [grafanaServer.container, metrics.prometheus],
  },
);

new GrafanaAlerting("grafana-alerting", {
  provider: grafanaConfig.provider,
  alerting: config.alerting,
  ruleGroups: alertRuleGroups,
  contactPointSecrets: alertingSecrets,
  waitFor: [grafanaServer.container, metrics.prometheus, grafanaConfig.prometheusDatasource],
});

export const grafanaUrl = config.grafana.publicUrl;
export const prometheusUrl = config.prometheusPublicUrl;
export const grafanaAdminUser = grafanaServer.adminUser;
export const grafanaAdminPassword = grafanaServer.adminPassword;
export const dashboardUrls = grafanaConfig.dashboardUrls;
export const environment = config.environment;
export const monitoredServices = config.services.map((service) => service.name);
