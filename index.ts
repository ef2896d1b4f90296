/**
 * atra-observability: the composition root. Read and validate the stack config, the dashboards and
 * the alert rules (nothing is registered if any is wrong), build the stack its role asks for, export
 * what people need. `role: central` (the default) is the whole observability stack; `role: agent` is one
 * more application host shipping to it (components/agent-host.ts).
 */
import { loadStackConfig } from "./components/config/pulumi-config";
import { agentHost } from "./components/agent-host";
import { centralStack } from "./components/central-stack";

const loaded = loadStackConfig();
const outputs = loaded.config.role === "agent" ? agentHost(loaded) : centralStack(loaded, __dirname);

export const role = outputs.role;
export const environment = outputs.environment;
export const host = outputs.host;
export const monitoredServices = outputs.monitoredServices;
export const grafanaUrl = outputs.grafanaUrl;
export const prometheusUrl = outputs.prometheusUrl;
export const prometheusUser = outputs.prometheusUser;
export const prometheusPassword = outputs.prometheusPassword;
export const grafanaAdminUser = outputs.grafanaAdminUser;
export const grafanaAdminPassword = outputs.grafanaAdminPassword;
export const grafanaUser = outputs.grafanaUser;
export const grafanaPassword = outputs.grafanaPassword;
export const dashboardUrls = outputs.dashboardUrls;
export const kibanaUrl = outputs.kibanaUrl;
export const kibanaUser = outputs.kibanaUser;
export const kibanaPassword = outputs.kibanaPassword;
export const elasticsearchUrl = outputs.elasticsearchUrl;
export const elasticsearchUser = outputs.elasticsearchUser;
export const elasticsearchPassword = outputs.elasticsearchPassword;
export const logsDataStream = outputs.logsDataStream;
export const kibanaDataViewId = outputs.kibanaDataViewId;
export const logShipperUser = outputs.logShipperUser;
export const logShipperPassword = outputs.logShipperPassword;
export const grafanaLogsUser = outputs.grafanaLogsUser;
export const grafanaLogsPassword = outputs.grafanaLogsPassword;
export const remoteWriteUrls = outputs.remoteWriteUrls;
export const agentLogShipperApiKeys = outputs.agentLogShipperApiKeys;
export const agentFederation = outputs.agentFederation;
export const caCertificate = outputs.caCertificate;
