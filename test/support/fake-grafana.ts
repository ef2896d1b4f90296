/**
 * An in-process HTTP server on 127.0.0.1 (random port) answering the few Grafana HTTP endpoints
 * `npm run verify` asks, the way grafana/grafana (12.x) answers them, each citing where upstream:
 *
 * - `GET /api/health` (pkg/api/health.go, apiHealthHandler): 200 `{database: "ok", version, commit}`;
 *   503 with `database: "failing"` when the database does not answer. No login needed.
 * - `GET /api/datasources/uid/<uid>/health` (pkg/api/datasources.go, CheckDatasourceHealthWithUID ->
 *   checkDatasourceHealth): the plugin's CheckHealthResult as `{status: "OK"|"ERROR", message}`, 200 when OK and
 *   400 when not; an unknown uid fails GetDatasourceByUID, which is not access-denied, so 500
 *   `{message: "Unable to load datasource metadata"}`. An Elasticsearch datasource's CheckHealth only asks
 *   `_cluster/health?wait_for_status=yellow` and ignores the HTTP status: it is OK "Elasticsearch cluster is
 *   healthy" even when the login is refused, and ERROR "Elasticsearch cluster is not healthy" only for a red cluster
 *   (or a 408) (pkg/tsdb/elasticsearch/healthcheck.go, CheckHealth). Its `ok` flag is ignored, as upstream would.
 * - `POST /api/ds/query` (pkg/api/metrics.go, QueryMetricsV2 -> toJsonStreamingResponse; handleQueryMetricsError):
 *   `{results: {<refId>: {status, frames, error?, errorSource?}}}`, 200 when no query failed, 400 when one did;
 *   an unknown datasource uid is 404 `{message: "Data source not found"}` (datasources.ErrDataSourceNotFound).
 * - `GET /api/prometheus/grafana/api/v1/rules` (pkg/services/ngalert/api/prometheus/api_prometheus.go,
 *   RouteGetRuleStatuses; definitions in pkg/services/ngalert/api/tooling/definitions/prom.go):
 *   `{status: "success", data: {groups: [{name, file, rules: [{name, state, health, lastError, lastEvaluation,
 *   evaluationTime, type: "alerting"}]}]}}`, health "ok", "error" or "nodata". A rule not evaluated yet reads health
 *   "ok" with lastEvaluation the zero time "0001-01-01T00:00:00Z" (RuleStatusMutatorGenerator / toRuleGroup: "by
 *   design return ok health ... for unscheduled rules"; Go's zero time.Time as JSON).
 * - `GET /api/dashboards/uid/<uid>` (pkg/api/dashboard.go, GetDashboard): 200 `{dashboard, meta}`, 404
 *   `{message: "Dashboard not found"}` (dashboards.ErrDashboardNotFound).
 * - `GET /api/alertmanager/grafana/config/api/v1/alerts` (pkg/services/ngalert/api/api_alertmanager.go,
 *   RouteGetAlertingConfig): `{template_files, alertmanager_config: {route, receivers: [{name,
 *   grafana_managed_receiver_configs: [{uid, name, type, disableResolveMessage, settings, secureFields}]}]}}`.
 * - `POST /api/alertmanager/grafana/config/api/v1/receivers/test` (same file, RoutePostTestReceivers and
 *   newTestReceiversResult; grafana/alerting notify/receivers.go TestReceivers): a config whose uid names a stored
 *   receiver integration gets its secure settings from it (crypto.ProcessSecureSettings), an unknown uid is 400
 *   (UnknownReceiverError); the answer is `{alert, receivers: [{name, grafana_managed_receiver_configs: [{name, uid,
 *   status: "ok"|"failed", error}]}], notified_at}`, 200 when every integration succeeded, 207 when some failed;
 *   400 when the invalid configs number as many as the receivers, 408 when the timed-out ones do, with the same body
 *   (statusForTestReceivers, newTestReceiversResult).
 * - Every other route needs basic auth of the admin, or (when the fake is given one) a service account token as
 *   `Bearer` (pkg/services/authn/clients/api_key.go): a wrong login is 401 `{message: "Invalid username or password"}`
 *   (pkg/services/authn/clients/basic.go via pkg/services/authn: errInvalidPassword's public message).
 *
 * Not modelled: what only the Pulumi Grafana provider calls (it is never run against this fake): the service
 * accounts and their tokens (`POST /api/serviceaccounts`, `POST /api/serviceaccounts/<id>/tokens`: grafana/grafana
 * pkg/api/serviceaccounts, made by components/grafana/grafana-configuration.ts), the admin's user creation
 * (`POST /api/admin/users`, pkg/api/admin_users.go), `auto_assign_org_role`, and `/metrics` with its login.
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
  /** false: scheduled but not evaluated yet (zero lastEvaluation); else evaluated at `lastEvaluation` (default: now). */
  evaluated?: boolean;
  lastEvaluation?: string;
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
    /** uid -> health check result; a missing uid is an unknown datasource. type "elasticsearch" answers as upstream (see above). */
    datasources: Map<string, { ok: boolean; message: string; type?: string }>;
    /** For the Elasticsearch plugin's health check: the cluster's status. */
    elasticClusterRed: boolean;
    /** uid -> the error a query through it returns (its login refused, its index missing); absent: the query succeeds. */
    queryErrors: Map<string, string>;
    ruleGroups: { name: string; rules: FakeGrafanaRule[] }[];
    dashboards: Set<string>;
    /** Dashboards the login may not read: 403 `{message: "Access denied to this dashboard"}` (pkg/api/dashboard.go, dashboardGuardianResponse). */
    forbiddenDashboards: Set<string>;
    receivers: FakeReceiver[];
    /** Integration uids whose test notification fails, with the error text. */
    failingIntegrations: Map<string, string>;
    /** How a failing integration fails (InvalidReceiverError, ReceiverTimeoutError, or any other error). */
    failureKinds: Map<string, "invalid" | "timeout">;
    /** The test notifications sent: integration uid and the secure settings it was sent with. */
    notified: { uid: string; secure?: Record<string, string> }[];
  };
  close(): Promise<void>;
}

export async function startFakeGrafana(admin: { user: string; password: string; token?: string }): Promise<FakeGrafana> {
  const requests: FakeGrafana["requests"] = [];
  const state: FakeGrafana["state"] = {
    databaseOk: true,
    datasources: new Map(),
    elasticClusterRed: false,
    queryErrors: new Map(),
    ruleGroups: [],
    dashboards: new Set(),
    forbiddenDashboards: new Set(),
    receivers: [],
    failingIntegrations: new Map(),
    failureKinds: new Map(),
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
      const bearer = admin.token ? `Bearer ${admin.token}` : undefined;
      if (req.headers.authorization !== expected && (bearer === undefined || req.headers.authorization !== bearer))
        return send(401, { message: "Invalid username or password" });

      let match = /^\/api\/datasources\/uid\/([^/]+)\/health$/.exec(path);
      if (match && req.method === "GET") {
        const health = state.datasources.get(decodeURIComponent(match[1]));
        if (!health) return send(500, { message: "Unable to load datasource metadata" });
        if (health.type === "elasticsearch") {
          const red = state.elasticClusterRed;
          return send(red ? 400 : 200, {
            status: red ? "ERROR" : "OK",
            message: red ? "Elasticsearch cluster is not healthy" : "Elasticsearch cluster is healthy",
          });
        }
        return send(health.ok ? 200 : 400, { status: health.ok ? "OK" : "ERROR", message: health.message });
      }
      if (path === "/api/ds/query" && req.method === "POST") {
        const queries = (body as { queries?: { refId?: string; datasource?: { uid?: string } }[] })?.queries ?? [];
        const results: Record<string, unknown> = {};
        let failed = false;
        for (const query of queries) {
          const uid = query.datasource?.uid ?? "";
          if (!state.datasources.has(uid)) return send(404, { message: "Data source not found" });
          const error = state.queryErrors.get(uid);
          if (error) failed = true;
          results[query.refId ?? "A"] = error
            ? { status: 400, error, errorSource: "downstream", frames: [] }
            : { status: 200, frames: [{ schema: { refId: query.refId ?? "A", fields: [{ name: "Time" }, { name: "Count" }] }, data: { values: [[], []] } }] };
        }
        return send(failed ? 400 : 200, { results });
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
                lastEvaluation: rule.evaluated === false ? "0001-01-01T00:00:00Z" : (rule.lastEvaluation ?? new Date().toISOString()),
                evaluationTime: rule.evaluated === false ? 0 : 0.012,
                type: "alerting",
              })),
            })),
          },
        });
      }
      match = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
      if (match && req.method === "GET") {
        const uid = decodeURIComponent(match[1]);
        if (state.forbiddenDashboards.has(uid)) return send(403, { message: "Access denied to this dashboard" });
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
        let failed = 0;
        let invalid = 0;
        let timeouts = 0;
        for (const receiver of posted) {
          const configs = [];
          for (const config of receiver.grafana_managed_receiver_configs ?? []) {
            const stored = state.receivers.flatMap((candidate) => candidate.integrations).find((integration) => integration.uid === config.uid);
            if (config.uid && !stored) return send(400, { message: `unknown receiver: ${config.uid}` });
            const error = state.failingIntegrations.get(config.uid ?? "");
            const kind = state.failureKinds.get(config.uid ?? "");
            if (error) {
              failed += 1;
              if (kind === "invalid") invalid += 1;
              if (kind === "timeout") timeouts += 1;
            } else state.notified.push({ uid: config.uid ?? "", secure: stored?.secure });
            configs.push({ name: config.name, uid: config.uid, status: error ? "failed" : "ok", ...(error ? { error } : {}) });
          }
          results.push({ name: receiver.name, grafana_managed_receiver_configs: configs });
        }
        // statusForTestReceivers: the failing configs are counted against the number of receivers.
        const status = invalid === posted.length ? 400 : timeouts === posted.length ? 408 : failed > 0 ? 207 : 200;
        return send(status, {
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
