/**
 * An in-process HTTP server on 127.0.0.1 (random port) answering the few Grafana HTTP endpoints
 * `npm run verify` asks, the way grafana/grafana (12.x) answers them, each citing where upstream:
 *
 * - `GET /api/health` (pkg/api/health.go, apiHealthHandler): 200 `{database: "ok", version, commit}`;
 *   503 with `database: "failing"` when the database does not answer. No login needed.
 * - `GET /api/datasources/uid/<uid>/health` (pkg/api/datasources.go, CheckDatasourceHealthWithUID ->
 *   checkDatasourceHealth): the plugin's CheckHealthResult as `{status: "OK"|"ERROR", message}`, 200 when OK and
 *   400 when not; an unknown uid fails GetDatasourceByUID, which is not access-denied, so 500
 *   `{message: "Unable to load datasource metadata"}`.
 * - `GET /api/prometheus/grafana/api/v1/rules` (pkg/services/ngalert/api/prometheus/api_prometheus.go,
 *   RouteGetRuleStatuses; definitions in pkg/services/ngalert/api/tooling/definitions/prom.go):
 *   `{status: "success", data: {groups: [{name, file, rules: [{name, state, health, lastError, type: "alerting"}]}]}}`,
 *   health "ok", "error" or "nodata".
 * - `GET /api/dashboards/uid/<uid>` (pkg/api/dashboard.go, GetDashboard): 200 `{dashboard, meta}`, 404
 *   `{message: "Dashboard not found"}` (dashboards.ErrDashboardNotFound).
 * - `GET /api/alertmanager/grafana/config/api/v1/alerts` (pkg/services/ngalert/api/api_alertmanager.go,
 *   RouteGetAlertingConfig): `{template_files, alertmanager_config: {route, receivers: [{name,
 *   grafana_managed_receiver_configs: [{uid, name, type, disableResolveMessage, settings, secureFields}]}]}}`.
 * - `POST /api/alertmanager/grafana/config/api/v1/receivers/test` (same file, RoutePostTestReceivers and
 *   newTestReceiversResult; grafana/alerting notify/receivers.go TestReceivers): a config whose uid names a stored
 *   receiver integration gets its secure settings from it (crypto.ProcessSecureSettings), an unknown uid is 400
 *   (UnknownReceiverError); the answer is `{alert, receivers: [{name, grafana_managed_receiver_configs: [{name, uid,
 *   status: "ok"|"failed", error}]}], notified_at}`, 200 when every integration succeeded, 207 when some failed.
 * - Every other route needs basic auth of the admin: a wrong login is 401 `{message: "Invalid username or password"}`
 *   (pkg/services/authn/clients/basic.go via pkg/services/authn: errInvalidPassword's public message).
 *
 * Every request is recorded (method, path, parsed body) for the tests.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface FakeGrafanaRule {
  name: string;
  health: "ok" | "error" | "nodata";
  state?: string;
  lastError?: string;
}

export interface FakeReceiver {
  name: string;
  integrations: { uid: string; name: string; type: string; settings: Record<string, unknown>; secure?: Record<string, string> }[];
}

export interface FakeGrafana {
  url: string;
  requests: { method: string; path: string; body: unknown; status: number }[];
  state: {
    databaseOk: boolean;
    /** uid -> health check result; a missing uid is an unknown datasource. */
    datasources: Map<string, { ok: boolean; message: string }>;
    ruleGroups: { name: string; rules: FakeGrafanaRule[] }[];
    dashboards: Set<string>;
    receivers: FakeReceiver[];
    /** Integration uids whose test notification fails, with the error text. */
    failingIntegrations: Map<string, string>;
    /** The test notifications sent: integration uid and the secure settings it was sent with. */
    notified: { uid: string; secure?: Record<string, string> }[];
  };
  close(): Promise<void>;
}

export async function startFakeGrafana(admin: { user: string; password: string }): Promise<FakeGrafana> {
  const requests: FakeGrafana["requests"] = [];
  const state: FakeGrafana["state"] = {
    databaseOk: true,
    datasources: new Map(),
    ruleGroups: [],
    dashboards: new Set(),
    receivers: [],
    failingIntegrations: new Map(),
    notified: [],
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const record = { method: req.method ?? "GET", path: `${url.pathname}${url.search}`, body, status: 0 };
      requests.push(record);
      const send = (status: number, payload: unknown) => {
        record.status = status;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      const path = url.pathname;
      if (path === "/api/health" && req.method === "GET") {
        return send(state.databaseOk ? 200 : 503, { database: state.databaseOk ? "ok" : "failing", version: "12.3.1", commit: "fake" });
      }
      const expected = `Basic ${Buffer.from(`${admin.user}:${admin.password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return send(401, { message: "Invalid username or password" });

      let match = /^\/api\/datasources\/uid\/([^/]+)\/health$/.exec(path);
      if (match && req.method === "GET") {
        const health = state.datasources.get(decodeURIComponent(match[1]));
        if (!health) return send(500, { message: "Unable to load datasource metadata" });
        return send(health.ok ? 200 : 400, { status: health.ok ? "OK" : "ERROR", message: health.message });
      }
      if (path === "/api/prometheus/grafana/api/v1/rules" && req.method === "GET") {
        return send(200, {
          status: "success",
          data: {
            groups: state.ruleGroups.map((group) => ({
              name: group.name,
              file: "Atra",
              rules: group.rules.map((rule) => ({
                name: rule.name,
                state: rule.state ?? "inactive",
                health: rule.health,
                ...(rule.lastError ? { lastError: rule.lastError } : {}),
                type: "alerting",
              })),
            })),
          },
        });
      }
      match = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
      if (match && req.method === "GET") {
        const uid = decodeURIComponent(match[1]);
        if (!state.dashboards.has(uid)) return send(404, { message: "Dashboard not found" });
        return send(200, { dashboard: { uid, title: uid }, meta: { slug: uid, provisioned: false } });
      }
      if (path === "/api/alertmanager/grafana/config/api/v1/alerts" && req.method === "GET") {
        return send(200, {
          template_files: {},
          alertmanager_config: {
            route: { receiver: state.receivers[0]?.name },
            receivers: state.receivers.map((receiver) => ({
              name: receiver.name,
              grafana_managed_receiver_configs: receiver.integrations.map((integration) => ({
                uid: integration.uid,
                name: integration.name,
                type: integration.type,
                disableResolveMessage: false,
                settings: integration.settings,
                // Secure settings are never returned, only which are set.
                secureFields: Object.fromEntries(Object.keys(integration.secure ?? {}).map((key) => [key, true])),
              })),
            })),
          },
        });
      }
      if (path === "/api/alertmanager/grafana/config/api/v1/receivers/test" && req.method === "POST") {
        const posted = (body as { receivers?: { name: string; grafana_managed_receiver_configs?: { uid?: string; name?: string }[] }[] })?.receivers ?? [];
        if (posted.length === 0) return send(400, { message: "no receivers" });
        const results = [];
        let failed = false;
        for (const receiver of posted) {
          const configs = [];
          for (const config of receiver.grafana_managed_receiver_configs ?? []) {
            const stored = state.receivers.flatMap((candidate) => candidate.integrations).find((integration) => integration.uid === config.uid);
            if (config.uid && !stored) return send(400, { message: `unknown receiver: ${config.uid}` });
            const error = state.failingIntegrations.get(config.uid ?? "");
            if (error) failed = true;
            else state.notified.push({ uid: config.uid ?? "", secure: stored?.secure });
            configs.push({ name: config.name, uid: config.uid, status: error ? "failed" : "ok", ...(error ? { error } : {}) });
          }
          results.push({ name: receiver.name, grafana_managed_receiver_configs: configs });
        }
        return send(failed ? 207 : 200, {
          alert: { annotations: { summary: "Notification test" }, labels: { alertname: "TestAlert", instance: "Grafana" } },
          receivers: results,
          notified_at: new Date().toISOString(),
        });
      }
      return send(404, { message: "Not found" });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
