/**
 * Grafana checks: healthy, every shipped datasource passes Grafana's own health check, no alert rule in
 * error or no-data health, every shipped dashboard uid present, and (only with --notify) a test
 * notification through each contact point.
 *
 * Answer shapes (grafana/grafana):
 * - `GET /api/health`: `{database: "ok", version, commit}` with 200; 503 and `database: "failing"` when
 *   its database does not answer (pkg/api/health.go, apiHealthHandler).
 * - `GET /api/datasources/uid/<uid>/health`: the plugin's CheckHealth result `{status: "OK"|"ERROR", message}`,
 *   200 when OK, 400 when the check failed; 500 "Unable to load datasource metadata" for an unknown uid
 *   (pkg/api/datasources.go, CheckDatasourceHealthWithUID / checkDatasourceHealth).
 * - `GET /api/prometheus/grafana/api/v1/rules`: `{status: "success", data: {groups: [{name, file, rules: [{name,
 *   state, health, lastError, lastEvaluation}]}]}}`, health "ok", "error" or "nodata" (pkg/services/ngalert/api/prometheus/
 *   api_prometheus.go, RouteGetRuleStatuses / toRuleGroup; pkg/services/ngalert/api/tooling/definitions/prom.go).
 * - `GET /api/dashboards/uid/<uid>`: 200 `{dashboard, meta}`, 404 `{message: "Dashboard not found"}`
 *   (pkg/api/dashboard.go, GetDashboard; dashboards.ErrDashboardNotFound).
 * - `GET /api/alertmanager/grafana/config/api/v1/alerts`: `{alertmanager_config: {receivers: [{name,
 *   grafana_managed_receiver_configs: [{uid, name, type, settings, secureFields}]}]}}`, secure settings left out.
 * - `POST /api/alertmanager/grafana/config/api/v1/receivers/test` with `{receivers: [...]}`: Grafana fills each
 *   config's secure settings from the stored receiver of the same uid (pkg/services/ngalert/api/api_alertmanager.go,
 *   RoutePostTestReceivers: crypto.ProcessSecureSettings), sends a test alert, and answers `{receivers: [{name,
 *   grafana_managed_receiver_configs: [{name, uid, status: "ok"|"failed", error}]}], notified_at}` with 200 when
 *   every integration succeeded and 207 when some failed (newTestReceiversResult; grafana/alerting notify/receivers.go).
 */
import { Endpoint, request } from "./http";
import { unreachable } from "./prometheus";
import type { Check, CheckOutcome } from "./types";

export interface GrafanaCheckOptions {
  endpoint: Endpoint;
  datasources: { uid: string; name: string; type?: string }[];
  dashboardUids: string[];
  contactPoints: string[];
  notify: boolean;
  now?: () => number;
}

interface GrafanaRule {
  name: string;
  state?: string;
  health: string;
  lastError?: string;
  lastEvaluation?: string;
}

/**
 * A rule whose last evaluation is older than this is not being evaluated (its scheduler stopped, or the rule is
 * paused). The shipped groups evaluate every 60 s (components/alerting, intervalSeconds); ten intervals is generous.
 */
export const RULE_EVALUATION_STALE_MS = 600_000;

export function grafanaChecks(options: GrafanaCheckOptions): Check[] {
  const { endpoint } = options;
  const checks: Check[] = [
    {
      id: "grafana.health",
      run: async () => {
        try {
          const answer = await request(endpoint, "/api/health");
          const body = answer.body as { database?: string; version?: string } | undefined;
          if (answer.status === 200 && body?.database === "ok")
            return { id: "grafana.health", status: "ok", summary: `Grafana ${body.version ?? ""} at ${endpoint.url} is healthy`.replace("  ", " ") };
          return {
            id: "grafana.health",
            status: "fail",
            summary: `Grafana answers ${answer.status} to /api/health (database: ${body?.database ?? "?"})`,
            fix: ["its database (the grafana data volume) does not answer: docker logs <stack>-grafana"],
            retry: true,
          };
        } catch (error) {
          return unreachable("grafana.health", "Grafana", error);
        }
      },
    },
  ];
  for (const source of options.datasources) {
    const id = `grafana.datasource.${source.uid}`;
    checks.push({
      id,
      run: async () => {
        try {
          // Grafana's Elasticsearch health check only asks _cluster/health and never reads the HTTP status: a
          // refused login (401 `{"status":401}`) or a missing index is "OK" (grafana/grafana
          // pkg/tsdb/elasticsearch/healthcheck.go CheckHealth: error only for 408 or status "red"). So an
          // Elasticsearch datasource is proven by a real query through Grafana instead.
          if (source.type === "elasticsearch") return await elasticsearchQuery(endpoint, id, source);
          const answer = await request(endpoint, `/api/datasources/uid/${encodeURIComponent(source.uid)}/health`, { timeoutMs: 30_000 });
          const body = answer.body as { status?: string; message?: string } | undefined;
          if (answer.status === 401) return authFailure(id, endpoint);
          const missing = datasourceMissing(id, source, answer.status, body?.message);
          if (missing) return missing;
          if (answer.status === 200 && body?.status === "OK")
            return { id, status: "ok", summary: `datasource ${source.name || source.uid}: ${body.message ?? "OK"}` };
          return {
            id,
            status: "fail",
            summary: `datasource ${source.name || source.uid} fails Grafana's health check (HTTP ${answer.status}): ${body?.message ?? answer.text.slice(0, 200)}`,
            fix: [
              "Grafana reaches its datasources through the stack network: is the backend up, and do the datasource's user and password still log in (Connections > Data sources > Test)?",
            ],
            retry: true,
          };
        } catch (error) {
          return unreachable(id, `datasource ${source.uid}`, error);
        }
      },
    });
  }
  checks.push({
    id: "grafana.alert-rules",
    run: async () => {
      let groups: { name: string; rules: GrafanaRule[] }[];
      try {
        const answer = await request(endpoint, "/api/prometheus/grafana/api/v1/rules");
        if (answer.status === 401) return authFailure("grafana.alert-rules", endpoint);
        const body = answer.body as { status?: string; data?: { groups: { name: string; rules: GrafanaRule[] }[] } };
        if (answer.status !== 200 || !body?.data) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
        groups = body.data.groups;
      } catch (error) {
        return unreachable("grafana.alert-rules", "alert rule states not read", error);
      }
      const bad = groups.flatMap((group) =>
        group.rules
          .filter((rule) => rule.health === "error" || rule.health === "nodata")
          .map((rule) => ({ group: group.name, rule: rule.name, health: rule.health, lastError: rule.lastError ?? "" })),
      );
      const total = groups.reduce((sum, group) => sum + group.rules.length, 0);
      // Grafana answers health "ok" for a rule it has not evaluated yet, with lastEvaluation the zero time
      // "0001-01-01T00:00:00Z" (grafana/grafana pkg/services/ngalert/api/prometheus/api_prometheus.go
      // RuleStatusMutatorGenerator / toRuleGroup: "by design return ok health ... for unscheduled rules"; Go's
      // time.Time{} marshals so). Right after `up` that is every new rule: not a pass until each was evaluated.
      const now = (options.now ?? Date.now)();
      const unevaluated = groups.flatMap((group) =>
        group.rules
          .filter((rule) => {
            const at = Date.parse(rule.lastEvaluation ?? "");
            return !(at > 0) || now - at > RULE_EVALUATION_STALE_MS;
          })
          .map((rule) => `${group.name}/${rule.name}`),
      );
      if (bad.length === 0 && unevaluated.length > 0)
        return {
          id: "grafana.alert-rules",
          status: "fail",
          summary: `${unevaluated.length} of ${total} alert rules not evaluated yet (or not in the last ${RULE_EVALUATION_STALE_MS / 60_000} min): ${unevaluated.slice(0, 10).join(", ")}${unevaluated.length > 10 ? ", ..." : ""}`,
          fix: [
            "a new rule is evaluated within its group's interval (60 s): wait and run verify again; one that stays unevaluated is paused, or Grafana's scheduler is stuck (docker logs <stack>-grafana)",
          ],
          data: { unevaluated },
          retry: true,
        };
      if (bad.length === 0) return { id: "grafana.alert-rules", status: "ok", summary: `${total} alert rules evaluate (none in error or no-data)` };
      return {
        id: "grafana.alert-rules",
        status: "fail",
        summary: `${bad.length} of ${total} alert rules unhealthy: ${bad
          .map((rule) => `${rule.group}/${rule.rule} ${rule.health}${rule.lastError ? ` (${rule.lastError})` : ""}`)
          .join("; ")}`,
        fix: [
          "error: the rule's query fails (its datasource is down, or the query is wrong); nodata: its query returns nothing (the series or log events it watches do not exist yet, or never will)",
        ],
        data: { unhealthy: bad },
        retry: true,
      };
    },
  });
  if (options.dashboardUids.length > 0)
    checks.push({
      id: "grafana.dashboards",
      run: async () => {
        const missing: string[] = [];
        const errors: string[] = [];
        try {
          for (const uid of options.dashboardUids) {
            const answer = await request(endpoint, `/api/dashboards/uid/${encodeURIComponent(uid)}`);
            if (answer.status === 401) return authFailure("grafana.dashboards", endpoint);
            // Only 404 is "not there" (pkg/api/dashboard.go GetDashboard: dashboards.ErrDashboardNotFound); 403 or
            // 500 says nothing about the dashboard.
            if (answer.status === 404) missing.push(`${uid} (HTTP 404)`);
            else if (answer.status !== 200) errors.push(`${uid}: HTTP ${answer.status} ${answer.text.slice(0, 120)}`);
          }
        } catch (error) {
          return unreachable("grafana.dashboards", "dashboards not read", error);
        }
        if (missing.length === 0 && errors.length > 0)
          return {
            id: "grafana.dashboards",
            status: "fail",
            summary: `shipped dashboards not read: ${errors.join("; ")}`,
            fix: ["403: the login lacks dashboards:read on the folder; 500: Grafana's database (docker logs <stack>-grafana)"],
            retry: true,
          };
        if (missing.length === 0) return { id: "grafana.dashboards", status: "ok", summary: `all ${options.dashboardUids.length} shipped dashboards present` };
        return {
          id: "grafana.dashboards",
          status: "fail",
          summary: `${missing.length} of ${options.dashboardUids.length} shipped dashboards missing: ${missing.join(", ")}`,
          fix: ["someone deleted them in the UI, or the last `up` did not finish: run `npm run deploy` again (the dashboards are managed resources)"],
        };
      },
    });
  if (options.notify) checks.push({ id: "grafana.notify", run: () => testContactPoints(endpoint, options.contactPoints) });
  return checks;
}

function authFailure(id: string, endpoint: Endpoint): CheckOutcome {
  if (endpoint.credentials && endpoint.bearer)
    return {
      id,
      status: "fail",
      summary: `Grafana refuses the token in ${endpoint.credentials} (401)`,
      fix: [`give a valid service account token of the external Grafana in ${endpoint.credentials}`],
    };
  return {
    id,
    status: "fail",
    summary: `Grafana refuses ${endpoint.credentials ?? "the grafanaAdminUser/grafanaAdminPassword outputs"} (401)`,
    fix: ["the admin password was changed in Grafana: set it back, or run `npm run deploy` (the stack manages it)"],
  };
}

/**
 * An unknown uid is 500 "Unable to load datasource metadata", a forbidden one 403 (grafana/grafana
 * pkg/api/datasources.go CheckDatasourceHealthWithUID: ErrDataSourceAccessDenied -> 403, any other lookup error -> 500).
 */
function datasourceMissing(id: string, source: { uid: string; name: string }, status: number, message: string | undefined): CheckOutcome | undefined {
  if (status === 500 && /Unable to load datasource metadata/.test(message ?? ""))
    return {
      id,
      status: "fail",
      summary: `datasource ${source.name || source.uid} is not in Grafana (HTTP 500: ${message})`,
      fix: ["it was deleted in the UI, or `up` did not finish: run `npm run deploy` (the datasources are managed resources)"],
    };
  if (status === 403)
    return {
      id,
      status: "fail",
      summary: `datasource ${source.name || source.uid}: access denied (HTTP 403)`,
      fix: ["the login verify uses may not query this datasource: give it the Viewer role on it, or use the admin login"],
    };
  return undefined;
}

/**
 * An Elasticsearch datasource, proven by a real query: `POST /api/ds/query` with a count over @timestamp in the
 * last 15 minutes. Grafana runs it with the datasource's own login and index (the reader role, the failure
 * store's `::failures` pattern). The answer is `{results: {A: {status, frames, error?}}}`, 200 when every query
 * succeeded and 400 when one failed (grafana/grafana pkg/api/metrics.go QueryMetricsV2 / toJsonStreamingResponse;
 * the per-query status and error from grafana-plugin-sdk-go backend/json.go writeDataResponseJSON). Zero
 * documents is a success: the query ran.
 */
async function elasticsearchQuery(endpoint: Endpoint, id: string, source: { uid: string; name: string }): Promise<CheckOutcome> {
  const answer = await request(endpoint, "/api/ds/query", {
    body: {
      from: "now-15m",
      to: "now",
      queries: [
        {
          refId: "A",
          datasource: { type: "elasticsearch", uid: source.uid },
          query: "*",
          metrics: [{ id: "1", type: "count" }],
          bucketAggs: [{ id: "2", type: "date_histogram", field: "@timestamp", settings: { interval: "auto" } }],
          timeField: "@timestamp",
        },
      ],
    },
    timeoutMs: 30_000,
  });
  if (answer.status === 401) return authFailure(id, endpoint);
  const body = answer.body as { results?: Record<string, { status?: number; error?: string }>; message?: string } | undefined;
  const result = body?.results?.A;
  if (answer.status === 200 && result && !result.error)
    return { id, status: "ok", summary: `datasource ${source.name || source.uid}: a query through Grafana succeeds` };
  if (answer.status === 404 && /Data source not found/i.test(body?.message ?? ""))
    return datasourceMissing(id, source, 500, "Unable to load datasource metadata") as CheckOutcome;
  const missing = answer.status === 403 ? datasourceMissing(id, source, 403, body?.message) : undefined;
  if (missing) return missing;
  return {
    id,
    status: "fail",
    summary: `datasource ${source.name || source.uid}: a query through Grafana fails (HTTP ${answer.status}): ${result?.error ?? body?.message ?? answer.text.slice(0, 200)}`,
    fix: [
      "Grafana queries Elasticsearch with the datasource's own login: 401/security_exception: its user or password (grafanaLogsPassword) no longer logs in; 403: its role lacks read (or read_failure_store) on the index; index_not_found: no event has arrived yet",
    ],
    retry: true,
  };
}

interface Receiver {
  name: string;
  grafana_managed_receiver_configs?: { uid?: string; name?: string; type?: string; settings?: unknown; disableResolveMessage?: boolean }[];
}

async function testContactPoints(endpoint: Endpoint, names: string[]): Promise<CheckOutcome> {
  const id = "grafana.notify";
  let receivers: Receiver[];
  try {
    const answer = await request(endpoint, "/api/alertmanager/grafana/config/api/v1/alerts");
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    receivers = (answer.body as { alertmanager_config?: { receivers?: Receiver[] } }).alertmanager_config?.receivers ?? [];
  } catch (error) {
    return unreachable(id, "contact points not read", error);
  }
  const wanted = names.length > 0 ? receivers.filter((receiver) => names.includes(receiver.name)) : [];
  const absent = names.filter((name) => !receivers.some((receiver) => receiver.name === name));
  if (names.length === 0) return { id, status: "skip", summary: "--notify: the stack configures no contact point, nothing to send" };
  if (wanted.length === 0)
    return {
      id,
      status: "fail",
      summary: `--notify: none of the stack's contact points (${names.join(", ")}) is in Grafana`,
      fix: ["run `npm run deploy` again"],
    };
  let answer;
  try {
    // Only what the test API reads; the secure settings stay in Grafana (filled in by uid).
    const body = {
      receivers: wanted.map((receiver) => ({
        name: receiver.name,
        grafana_managed_receiver_configs: (receiver.grafana_managed_receiver_configs ?? []).map((config) => ({
          uid: config.uid,
          name: config.name,
          type: config.type,
          settings: config.settings,
          disableResolveMessage: config.disableResolveMessage ?? false,
        })),
      })),
    };
    answer = await request(endpoint, "/api/alertmanager/grafana/config/api/v1/receivers/test", { method: "POST", body, timeoutMs: 45_000 });
  } catch (error) {
    return unreachable(id, "test notification not sent", error);
  }
  const result = answer.body as { receivers?: { name: string; grafana_managed_receiver_configs?: { name: string; status: string; error?: string }[] }[] };
  // 400 (every receiver invalid) and 408 (every receiver timed out) carry the same per-integration body as 207
  // (grafana/grafana pkg/services/ngalert/api/api_alertmanager.go RoutePostTestReceivers: statusForTestReceivers,
  // newTestReceiversResult).
  if (![200, 207, 400, 408].includes(answer.status) || !result?.receivers)
    return { id, status: "fail", summary: `--notify: Grafana answered ${answer.status}: ${answer.text.slice(0, 200)}` };
  const outcomes = result.receivers.flatMap((receiver) =>
    (receiver.grafana_managed_receiver_configs ?? []).map((config) => ({
      receiver: receiver.name,
      integration: config.name,
      status: config.status,
      error: config.error,
    })),
  );
  const failed = outcomes.filter((outcome) => outcome.status !== "ok");
  if (failed.length === 0 && absent.length === 0)
    return {
      id,
      status: "ok",
      summary: `--notify: a test notification went out through ${outcomes.map((outcome) => outcome.receiver).join(", ")}`,
      data: { outcomes },
    };
  return {
    id,
    status: "fail",
    summary:
      `--notify: ` +
      [
        ...failed.map((outcome) => `${outcome.receiver} (${outcome.integration}) failed: ${outcome.error ?? outcome.status}`),
        ...absent.map((name) => `${name} is not in Grafana`),
      ].join("; "),
    fix: ["check the contact point's address, token and the network path from Grafana to it (Alerting > Contact points > Test)"],
    data: { outcomes },
  };
}
