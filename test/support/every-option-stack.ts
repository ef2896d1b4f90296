/**
 * A generated stack that sets every config option (with values written the way a user might, not
 * already in canonical form: `60s`, `24h`), for tests that must hold over whatever a user can
 * configure. `uncoveredOptions` walks the config schema so a key added later without being added
 * here fails the test that uses this stack instead of going unchecked.
 */
import { z } from "zod";
import { stackConfigSchema } from "../../components/config/stack-config";
import { DEFAULT_IMAGES } from "../../components/stack-services";
import { stackConfig } from "./plan";
import { unwrapSchema as unwrap } from "../../components/lib/zod-schema";

/** PEM-shaped stand-ins (the plan reads only their shape; the preflight checks real ones, test/unit/preflight-tls.test.ts). */
const TEST_CA_PEM = "-----BEGIN CERTIFICATE-----\nZXZlcnktb3B0aW9uLWNh\n-----END CERTIFICATE-----\n";
const SECRET_VALUES: Record<string, string> = {
  grafanaAdminPassword: "every-option-grafana-password",
  prometheusQueryPassword: "every-option-query-password",
  elasticPassword: "every-option-elastic-password",
  tlsCertificate: "-----BEGIN CERTIFICATE-----\nZXZlcnktb3B0aW9uLWxlYWY=\n-----END CERTIFICATE-----\n" + TEST_CA_PEM,
  tlsKey: "-----BEGIN PRIVATE KEY-----\nZXZlcnktb3B0aW9uLWtleQ==\n-----END PRIVATE KEY-----\n",
  // The tcp:// Docker host's client key (dockerCertPath, the other way, is in the external stacks' set).
  dockerClientKey: "-----BEGIN PRIVATE KEY-----\nZXZlcnktb3B0aW9uLWRvY2tlci1rZXk=\n-----END PRIVATE KEY-----\n",
};

export const EVERY_OPTION_VALUES: Record<string, unknown> = {
  // A central stack; agent hosts (which refuse most keys here) have their own in test/support/external-stacks.ts.
  role: "central",
  environment: "staging",
  services: [
    {
      name: "billing-api",
      metrics: "http://billing_api:9000/metrics?format=prometheus",
      health: "http://billing_api:9000/health",
      logs: ["/srv/billing/logs/api*.log"],
      maxLogSilence: "90m",
      // Availability from the health probe.
      slo: { availability: 99.9, window: "14d" },
    },
    // Its request lines name their own keys (every requestLogKeys key).
    {
      name: "billing-worker",
      logs: ["/srv/billing/logs/worker*.log"],
      requestLogKeys: {
        duration: { key: "took_ms", unit: "ms" },
        method: "http_method",
        path: "endpoint",
        statusCode: "http_status",
        requestId: "correlation_id",
        traceId: "otel_trace_id",
        userAgent: "client_agent",
        // Its `status` is a job state, not an HTTP status (docs/logs-performance.md).
        ignoreDefaults: ["status"],
      },
    },
    // Availability from request counters (no health endpoint), and latency from its histogram (every `slo` key in one entry).
    {
      name: "billing-orders",
      metrics: "http://billing_orders:9100/metrics",
      scrapeLimits: { sampleLimit: 50000, labelLimit: 45, labelNameLengthLimit: 120, labelValueLengthLimit: 4096, targetLimit: 2 },
      slo: {
        availability: 99.5,
        requests: { total: "orders_requests_total", errors: 'outcome="failed"' },
        latency: { thresholdSeconds: 0.3, objective: 99, histogram: "orders_request_seconds", buckets: [0.1, 0.3, 1] },
        window: "21d",
      },
    },
  ],
  bindAddress: "127.0.0.1",
  // A certificate chain and key of the user's (secret), and the CA that issued them (tls.extraNames, for
  // generated certificates only, is in the external stacks' set: test/support/external-stacks.ts).
  tls: { mode: "provided", caCertificate: TEST_CA_PEM },
  publicHostname: "obs.example.internal",
  agents: [{ host: "app-9.example.internal", prometheusUrl: "https://app-9.example.internal:19090", services: ["worker"] }],
  appNetworks: ["billing-net"],
  // A tcp:// host with its TLS material (a tcp:// host without it is refused).
  dockerHost: "tcp://docker-1.example.internal:2376",
  dockerCaCertificate: TEST_CA_PEM,
  dockerClientCertificate: TEST_CA_PEM,
  // Every image key, pinned by tag and digest (stand-in digests: the plan pulls nothing), as requireImageDigests asks.
  requireImageDigests: true,
  images: Object.fromEntries(Object.entries(DEFAULT_IMAGES).map(([key, reference], index) => [key, `${reference}@sha256:${index.toString(16).repeat(64)}`])),
  ports: { prometheus: 19090, grafana: 13000, elasticsearch: 19200, kibana: 15601 },
  memoryMb: { prometheus: 1500, grafana: 700, nodeExporter: 64, blackboxExporter: 64, cadvisor: 300, elasticsearch: 2048, kibana: 1200, filebeat: 200 },
  logs: {
    enabled: true,
    dataStream: "logs-billing-staging",
    retention: "21d",
    rolloverMaxAge: "12h",
    rolloverMaxPrimaryShardSize: "20GB",
    elasticsearchHeapMb: 768,
    errorRateThreshold: 5,
    errorRateWindow: "120s",
    elasticsearchProviderUrl: "http://127.0.0.1:19200",
    kibanaProviderUrl: "http://127.0.0.1:15601",
    agentKeyExpiration: "60d",
  },
  prometheus: {
    retentionTime: "21d",
    retentionSize: "15GB",
    scrapeInterval: "30s",
    scrapeTimeout: "20s",
    evaluationInterval: "60s",
    scrapeLimits: { sampleLimit: 20000, labelLimit: 40, labelNameLengthLimit: 100, labelValueLengthLimit: 2048, targetLimit: 5 },
    // Server mode (agent mode refuses retention and the receiver: its own stacks in test/program/remote-metrics.test.ts).
    mode: "server",
    hostLabel: "obs-host-1",
    remoteWrite: [
      {
        name: "central",
        url: "https://mimir.example.internal/api/v1/push",
        basicAuthUser: "tenant-1",
        headers: { "X-Scope-OrgID": "tenant-1" },
        queueConfig: {
          capacity: 10000,
          maxShards: 20,
          minShards: 2,
          maxSamplesPerSend: 2000,
          batchSendDeadline: "5s",
          minBackoff: "30ms",
          maxBackoff: "5s",
          retryOnRateLimit: true,
        },
      },
      { name: "cloud", url: "https://prometheus-blocks.example.net/api/prom/push" },
      { name: "local-receiver", url: "http://127.0.0.1:19999/api/v1/write" },
    ],
    agentLimits: { sampleLimit: 20000, labelLimit: 30, labelNameLengthLimit: 100, labelValueLengthLimit: 512, bodySizeLimit: "32MB" },
    external: { queryUrl: "https://mimir.example.internal/prometheus", basicAuthUser: "grafana-reader" },
  },
  grafana: { adminUser: "obs-admin", providerUrl: "http://127.0.0.1:13000", peopleRole: "Editor" },
  cadvisor: { enabled: true, privileged: true },
  alerting: {
    evaluationInterval: "60s",
    runbookBaseUrl: "https://git.example.internal/obs/-/blob/main/",
    contactPoints: [
      { name: "pager", type: "webhook", httpMethod: "PUT" },
      { name: "mail", type: "email", addresses: ["ops@example.internal"], singleEmail: true },
      { name: "chat", type: "slack", recipient: "#obs", mentionChannel: "here" },
      { name: "phone", type: "telegram", chatId: "-100123456" },
    ],
    defaultContactPoint: "chat",
    routes: [
      { match: { severity: "critical" }, contactPoint: "pager", continue: true },
      { match: { severity: "critical" }, contactPoint: "phone" },
      { match: { severity: "info" }, contactPoint: "mail" },
    ],
    groupBy: ["alertname", "service"],
    groupWait: "60s",
    groupInterval: "300s",
    repeatInterval: "24h",
  },
  alertingSecrets: {
    pager: "https://pager.example.internal/hook/every-option",
    chat: "https://hooks.slack.com/services/T000/B000/every-option",
    phone: "123456:every-option-telegram-token",
  },
  // The basic auth password of "central" and the Bearer token of "cloud"; "local-receiver" takes none.
  remoteWriteSecrets: { central: "every-option-remote-write-password", cloud: "every-option-remote-write-token" },
  nodeExporter: { listenAddress: "172.17.0.1:9100", rootPropagation: "none" },
  network: { bridgeName: "atra-everyopt" },
  ...SECRET_VALUES,
};

const SECRET_KEYS = [...Object.keys(SECRET_VALUES), "alertingSecrets", "remoteWriteSecrets"];

export function everyOptionStackConfig() {
  return stackConfig(EVERY_OPTION_VALUES, SECRET_KEYS);
}

/** Config keys the schema knows that `value` does not set, as `a.b.c` paths (arrays: their first object). */
export function uncoveredOptions(schema: z.ZodType = stackConfigSchema, value: unknown = EVERY_OPTION_VALUES, at = ""): string[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    const record = (value ?? {}) as Record<string, unknown>;
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => {
      const path = at ? `${at}.${key}` : key;
      // A key whose every value is refused (`verifyTls: false` under an external backend) is no option to cover.
      if (unwrap(child) instanceof z.ZodNever) return [];
      return record[key] === undefined ? [path] : uncoveredOptions(child, record[key], path);
    });
  }
  if (inner instanceof z.ZodArray && Array.isArray(value) && value.length > 0) {
    // Every element's keys together must cover the element schema (optional keys may sit on different elements).
    const element = inner.element as z.ZodType;
    const merged = Object.assign({}, ...value.filter((item) => typeof item === "object" && item !== null)) as Record<string, unknown>;
    return uncoveredOptions(element, unwrap(element) instanceof z.ZodObject ? merged : value[0], `${at}[]`);
  }
  return [];
}

/**
 * Options no stack of `stacks` sets: each key must be set by at least one of them (the local every-option
 * stack and the external ones of test/support/external-stacks.ts, whose keys cannot share one stack).
 */
export function uncoveredByAll(stacks: Record<string, unknown>[]): string[] {
  const [first, ...rest] = stacks.map((values) => uncoveredOptions(stackConfigSchema, values));
  // A stack that leaves out `a` leaves out `a.b` and `a[].c` too.
  const leavesOut = (uncovered: string[], path: string) => uncovered.some((gap) => path === gap || path.startsWith(`${gap}.`) || path.startsWith(`${gap}[]`));
  return (first ?? []).filter((path) => rest.every((uncovered) => leavesOut(uncovered, path)));
}
