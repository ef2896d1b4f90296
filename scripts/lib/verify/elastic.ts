/**
 * Elasticsearch and Kibana checks: cluster health; the data stream and its ILM policy with no ILM
 * error; per catalog service with logs, the age of its newest event (FAIL, with the likely causes, for a
 * service whose events never arrived); the failure store's document count with its top error types;
 * Kibana available and the data view present.
 *
 * Answer shapes (elastic/elasticsearch rest-api-spec/src/main/resources/rest-api-spec/api/*.json and the
 * REST actions behind them, 9.x):
 * - `GET _cluster/health` (cluster.health.json): `{cluster_name, status: "green"|"yellow"|"red", ...}`
 *   (server/.../action/admin/cluster/health/ClusterHealthResponse.java).
 * - `GET _data_stream/<name>` (indices.get_data_stream.json): `{data_streams: [{name, status, template,
 *   ilm_policy, indices: [...], failure_store: {enabled, indices}}]}`; a missing one is 404
 *   index_not_found_exception (server/.../action/datastreams/GetDataStreamAction.java).
 * - `GET <index>/_ilm/explain?only_errors=true` (ilm.explain_lifecycle.json, only_errors): `{indices: {<name>:
 *   {index, managed, policy, step: "ERROR", step_info: {type, reason}}}}`, only the indices in an error step
 *   (x-pack/plugin/ilm/.../action/TransportExplainLifecycleAction.java; core/.../ilm/IndexLifecycleExplainResponse.java).
 * - `POST <index>/_search` (search.json) with size 0 and aggregations: `{hits: {total}, aggregations: {<name>:
 *   {buckets: [{key, doc_count, <sub>: {value, value_as_string}}]}}}` (terms: StringTerms; max: InternalMax).
 * - `<data stream>::failures` selects the failure store's indices (server/.../action/support/IndexComponentSelector.java);
 *   failure documents carry `error.type` (keyword) and `error.message` (server/.../cluster/metadata/
 *   DataStreamFailureStoreDefinition.java).
 * Kibana (elastic/kibana):
 * - `GET /api/status`: `{status: {overall: {level: "available"|"degraded"|"unavailable"|"critical", summary}}}`, 503
 *   unless available (src/core/packages/status/server-internal/src/routes/status.ts).
 * - `GET /api/data_views/data_view/<id>`: 200 `{data_view}`, 404 when missing
 *   (src/platform/plugins/shared/data_views/server/rest_api_routes/public/get_data_view.ts).
 */
import { Endpoint, request } from "./http";
import type { LogService, Outputs, PlanFacts } from "./inputs";
import { filebeatPortMismatch, missingEventCauses } from "./filebeat";
import { DEFAULT_LOG_SILENCE_MS } from "./inputs";
import { unreachable } from "./prometheus";
import type { Check, CheckOutcome } from "./types";

type Json = Record<string, unknown>;

function esError(answer: { status: number; body: unknown; text: string }): string {
  const error = (answer.body as { error?: { type?: string; reason?: string } | string } | undefined)?.error;
  if (error && typeof error === "object") return `HTTP ${answer.status} ${error.type ?? ""}: ${error.reason ?? ""}`.trim();
  return `HTTP ${answer.status}${answer.text ? `: ${answer.text.slice(0, 200)}` : ""}`;
}

export function ageText(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

export interface ElasticCheckOptions {
  endpoint: Endpoint;
  dataStream: string;
  facts: PlanFacts;
  outputs: Outputs;
  /** Services whose newest event is checked. */
  services: LogService[];
  /** Only events with this host.name (agent checks against the central data stream). */
  hostName?: string;
  /** Check the cluster, data stream, ILM and failure store too (not from an agent). */
  cluster: boolean;
  filebeatContainer?: string;
  now?: () => number;
  /** Whether this is the last ask (the wait is over): a stale newest event warns before, fails then. */
  final?: () => boolean;
}

export function elasticChecks(options: ElasticCheckOptions): Check[] {
  const { endpoint, dataStream } = options;
  const now = options.now ?? Date.now;
  const checks: Check[] = [];
  if (options.cluster) {
    checks.push({
      id: "elasticsearch.health",
      run: async () => {
        try {
          const answer = await request(endpoint, "/_cluster/health");
          if (answer.status === 401) return esAuthFailure("elasticsearch.health", endpoint);
          const status = (answer.body as { status?: string } | undefined)?.status;
          if (answer.status === 200 && status === "green") return { id: "elasticsearch.health", status: "ok", summary: "Elasticsearch cluster health green" };
          if (answer.status === 200 && status === "yellow")
            return {
              id: "elasticsearch.health",
              status: "warn",
              summary: "Elasticsearch cluster health yellow: some replica shards are not allocated",
              fix: ["on one node, an index with replicas stays yellow: GET _cluster/allocation/explain names it"],
              retry: true,
            };
          return {
            id: "elasticsearch.health",
            status: "fail",
            summary: `Elasticsearch cluster health ${status ?? esError(answer)}`,
            fix: ["red: a primary shard is unassigned (disk full? GET _cluster/allocation/explain)"],
            retry: true,
          };
        } catch (error) {
          return unreachable("elasticsearch.health", "Elasticsearch", error);
        }
      },
    });
    checks.push({
      id: "elasticsearch.data-stream",
      run: async () => {
        try {
          const answer = await request(endpoint, `/_data_stream/${encodeURIComponent(dataStream)}`);
          if (answer.status === 401) return esAuthFailure("elasticsearch.data-stream", endpoint);
          if (answer.status === 404)
            return {
              id: "elasticsearch.data-stream",
              status: "fail",
              summary: `the data stream ${dataStream} does not exist: no event was ever written to it`,
              fix: ["Filebeat has not delivered a single event: see the events checks for the likely causes"],
              retry: true,
            };
          if (answer.status !== 200) return { id: "elasticsearch.data-stream", status: "fail", summary: `${dataStream}: ${esError(answer)}`, retry: true };
          const stream = ((answer.body as { data_streams?: Json[] }).data_streams ?? [])[0] as
            { ilm_policy?: string; status?: string; indices?: unknown[]; failure_store?: { enabled?: boolean } } | undefined;
          const problems: string[] = [];
          const expected = options.facts.ilmPolicy;
          if (expected && stream?.ilm_policy !== expected) problems.push(`its ILM policy is ${stream?.ilm_policy ?? "none"}, not ${expected}`);
          if (options.facts.failureStore && stream?.failure_store?.enabled !== true) problems.push("its failure store is off");
          if (expected) {
            const policy = await request(endpoint, `/_ilm/policy/${encodeURIComponent(expected)}`);
            if (policy.status !== 200) problems.push(`the ILM policy ${expected} is missing (${esError(policy)})`);
          }
          if (problems.length > 0)
            return {
              id: "elasticsearch.data-stream",
              status: "fail",
              summary: `data stream ${dataStream}: ${problems.join("; ")}`,
              fix: [
                "the data stream was made before the index template (an index without the template's settings): roll it over after `npm run deploy` (POST <data stream>/_rollover)",
              ],
            };
          return {
            id: "elasticsearch.data-stream",
            status: stream?.status === "RED" ? "fail" : "ok",
            summary: `data stream ${dataStream} (${stream?.indices?.length ?? 0} backing indices, ILM policy ${stream?.ilm_policy ?? "none"}${options.facts.failureStore ? ", failure store on" : ""}) health ${String(stream?.status ?? "?").toLowerCase()}`,
          };
        } catch (error) {
          return unreachable("elasticsearch.data-stream", "data stream not read", error);
        }
      },
    });
    checks.push({
      id: "elasticsearch.ilm",
      run: async () => {
        try {
          const answer = await request(endpoint, `/${encodeURIComponent(dataStream)}/_ilm/explain?only_errors=true`);
          if (answer.status === 404)
            return { id: "elasticsearch.ilm", status: "skip", summary: `ILM not checked: the data stream ${dataStream} does not exist yet`, retry: true };
          if (answer.status !== 200) return { id: "elasticsearch.ilm", status: "fail", summary: `ILM explain: ${esError(answer)}`, retry: true };
          const indices = Object.values(
            (answer.body as { indices?: Record<string, { index: string; step?: string; step_info?: { type?: string; reason?: string } }> }).indices ?? {},
          );
          if (indices.length === 0) return { id: "elasticsearch.ilm", status: "ok", summary: `no ILM error on ${dataStream}'s indices` };
          return {
            id: "elasticsearch.ilm",
            status: "fail",
            summary: `ILM errors: ${indices.map((index) => `${index.index}: ${index.step_info?.type ?? ""} ${index.step_info?.reason ?? index.step ?? ""}`.trim()).join("; ")}`,
            fix: ["fix the cause, then POST <index>/_ilm/retry (e.g. a rollover alias error, or a disk watermark)"],
          };
        } catch (error) {
          return unreachable("elasticsearch.ilm", "ILM not explained", error);
        }
      },
    });
  }
  for (const service of options.services) {
    const id = `elasticsearch.events.${service.name}`;
    checks.push({ id, run: () => newestEvent(options, service, now) });
  }
  if (options.cluster && options.facts.failureStore)
    checks.push({
      id: "elasticsearch.failure-store",
      run: async () => {
        try {
          const answer = await request(endpoint, `/${encodeURIComponent(`${dataStream}::failures`)}/_search`, {
            body: { size: 0, track_total_hits: true, aggs: { types: { terms: { field: "error.type", size: 5 } } } },
          });
          if (answer.status === 404)
            return { id: "elasticsearch.failure-store", status: "skip", summary: `failure store not read: ${dataStream} does not exist yet`, retry: true };
          if (answer.status !== 200) return { id: "elasticsearch.failure-store", status: "fail", summary: `failure store: ${esError(answer)}`, retry: true };
          const body = answer.body as {
            hits?: { total?: { value?: number } | number };
            aggregations?: { types?: { buckets?: { key: string; doc_count: number }[] } };
          };
          const total = typeof body.hits?.total === "number" ? body.hits.total : (body.hits?.total?.value ?? 0);
          if (total === 0) return { id: "elasticsearch.failure-store", status: "ok", summary: `failure store of ${dataStream} is empty` };
          const reasons = (body.aggregations?.types?.buckets ?? []).map((bucket) => `${bucket.key} (${bucket.doc_count})`);
          // A warning, not a failure: the stack works and the documents are kept; one bad line would otherwise fail
          // every verify for the failure store's retention. The log alert rule fires on it too.
          return {
            id: "elasticsearch.failure-store",
            status: "warn",
            summary: `${total} event${total === 1 ? "" : "s"} refused into the failure store of ${dataStream}; top error types: ${reasons.join(", ") || "?"}`,
            fix: [`inspect them: GET ${dataStream}::failures/_search (error.type, error.message), fix the cause, re-index them (runbook)`],
            data: { total, reasons },
          };
        } catch (error) {
          return unreachable("elasticsearch.failure-store", "failure store not read", error);
        }
      },
    });
  if (options.cluster) checks.push({ id: "elasticsearch.agent-keys", run: () => agentKeyExpiry(options, now) });
  return checks;
}

/**
 * The renewal window of an agent host's log key: 14 days, or the last third of a shorter life. The same rule as the
 * central stack's renewal (components/logs/elastic-bodies.ts agentKeyRenewBeforeMs; test/doubles/verify-services.test.ts
 * holds the two equal): a key inside it on a verify means no central `up` ran since it entered it.
 */
export const AGENT_KEY_WARN_MS = 14 * 86_400_000;

/** The key id of an encoded API key (base64 of `id:api_key`; ApiKeyService.parseApiKey splits at the first colon). */
function encodedKeyId(encoded: unknown): string | undefined {
  if (typeof encoded !== "string") return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? decoded.slice(0, colon) : undefined;
}

/**
 * The agents' log keys against what the outputs hand out: every host of `agentLogShipperApiKeys` (one per agents[]
 * entry, host -> encoded key) must have that very key valid, since an agent whose key is missing, invalidated or
 * expired has every line refused (401) and nothing else says so. `GET _security/api_key` without `active_only`
 * (security.get_api_key.json; RestGetApiKeyAction): invalidated and expired keys are listed too, each with
 * `invalidated`, `creation` and, when it expires, `expiration` in epoch ms (ApiKey.innerToXContent), so a key that is
 * no longer valid is told apart from one that is not there. FAIL: a host's key missing, invalidated or expired; a valid
 * key (metadata `atra_host`, this data stream) of a host no longer in the outputs (a revocation that did not happen).
 * warn: a host's key inside its renewal window (no central `up` renewed it), or a renewed host whose previous key is
 * still valid (the agent may still ship with it: `up` it with its new entry before that key expires).
 */
async function agentKeyExpiry(options: ElasticCheckOptions, now: () => number): Promise<CheckOutcome> {
  const id = "elasticsearch.agent-keys";
  const handed = options.outputs.agentLogShipperApiKeys;
  const expected = new Map<string, string | undefined>(
    handed !== null && typeof handed === "object" ? Object.entries(handed as Json).map(([host, encoded]) => [host, encodedKeyId(encoded)]) : [],
  );
  try {
    const answer = await request(options.endpoint, "/_security/api_key");
    if (answer.status === 403) return { id, status: "skip", summary: "agent log keys not read: the login may not list API keys (cluster manage_api_key)" };
    if (answer.status !== 200) return { id, status: "warn", summary: `agent log keys not read: ${esError(answer)}` };
    const listed = (answer.body as { api_keys?: Json[] } | undefined)?.api_keys ?? [];
    const valid = (key: Json) => key.invalidated !== true && !(typeof key.expiration === "number" && key.expiration <= now());
    const agentKeys = listed.filter((key) => {
      const metadata = (key.metadata ?? {}) as Json;
      return typeof metadata.atra_host === "string" && metadata.data_stream === options.dataStream;
    });
    const hostOf = (key: Json) => String((key.metadata as Json).atra_host);
    const failures: string[] = [];
    const warnings: string[] = [];
    const fixes = new Set<string>();
    let next: { host: string; left: number } | undefined;
    for (const [host, keyId] of expected) {
      const key = listed.find((candidate) => candidate.id === keyId);
      if (!keyId || !key) {
        failures.push(`${host}: its key (agentLogShipperApiKeys) is not in Elasticsearch`);
        fixes.add(
          "a key missing or no longer valid: `pulumi up` the central stack (a plain up renews it), then set the host's new entry of agentLogShipperApiKeys as its logShipperApiKey and `up` the agent (docs/add-a-host.md)",
        );
        continue;
      }
      if (key.invalidated === true || !valid(key)) {
        failures.push(
          `${host}: its key ${key.invalidated === true ? "is invalidated" : `expired ${ageText(now() - (key.expiration as number))} ago`}: its lines are refused`,
        );
        fixes.add(
          "a key missing or no longer valid: `pulumi up` the central stack (a plain up renews it), then set the host's new entry of agentLogShipperApiKeys as its logShipperApiKey and `up` the agent (docs/add-a-host.md)",
        );
        continue;
      }
      if (typeof key.expiration === "number") {
        const left = key.expiration - now();
        const lifetime = typeof key.creation === "number" ? key.expiration - key.creation : Number.POSITIVE_INFINITY;
        if (left <= Math.min(AGENT_KEY_WARN_MS, lifetime / 3)) {
          warnings.push(`${host}: its key expires in ${ageText(left)}`);
          fixes.add("a key near its expiry: `pulumi up` the central stack (it renews the key), then give the agent its new entry and `up` it");
        }
        if (!next || left < next.left) next = { host, left };
      }
      const previous = agentKeys.filter((candidate) => hostOf(candidate) === host && candidate.id !== keyId && valid(candidate));
      for (const old of previous) {
        const until = typeof old.expiration === "number" ? ` (it expires in ${ageText(old.expiration - now())})` : "";
        warnings.push(`${host}: renewed, its previous key is still valid${until}`);
        fixes.add(
          "a renewed key: if the agent has not been `up`ped since, set its new entry of agentLogShipperApiKeys as its logShipperApiKey and `up` it before the previous key expires",
        );
      }
    }
    const stray = agentKeys.filter((key) => !expected.has(hostOf(key)) && valid(key));
    for (const key of stray) failures.push(`${hostOf(key)}: not in agents[] (outputs), yet its key ${String(key.id)} is valid: it can still write`);
    if (stray.length > 0) fixes.add(`revoke it: DELETE _security/api_key {"ids": [${stray.map((key) => JSON.stringify(key.id)).join(", ")}]}`);
    if (failures.length > 0) return { id, status: "fail", summary: `agent log keys: ${[...failures, ...warnings].join("; ")}`, fix: [...fixes] };
    if (warnings.length > 0) return { id, status: "warn", summary: `agent log keys: ${warnings.join("; ")}`, fix: [...fixes] };
    if (expected.size === 0) return { id, status: "ok", summary: "no agent log keys (no agents[])" };
    return {
      id,
      status: "ok",
      summary: `${expected.size} agent log key${expected.size === 1 ? "" : "s"} valid${next ? `, the next expiring in ${ageText(next.left)} (${next.host})` : ""}`,
    };
  } catch (error) {
    return unreachable(id, "agent log keys not read", error);
  }
}

async function newestEvent(options: ElasticCheckOptions, service: LogService, now: () => number): Promise<CheckOutcome> {
  const id = `elasticsearch.events.${service.name}`;
  const filter: Json[] = [{ term: { "service.name": service.name } }];
  if (options.hostName) filter.push({ term: { "host.name": options.hostName } });
  let answer;
  try {
    // One service per request keeps each line's answer its own; a terms aggregation over all services would
    // need a bucket size as large as the catalog. `max` of @timestamp is the newest event.
    answer = await request(options.endpoint, `/${encodeURIComponent(options.dataStream)}/_search`, {
      body: { size: 0, track_total_hits: true, query: { bool: { filter } }, aggs: { newest: { max: { field: "@timestamp" } } } },
    });
  } catch (error) {
    return unreachable(id, `events of ${service.name} not searched`, error);
  }
  if (answer.status === 401) return esAuthFailure(id, options.endpoint);
  const body = answer.body as { hits?: { total?: { value?: number } }; aggregations?: { newest?: { value?: number | null } } };
  const newest = answer.status === 200 ? body.aggregations?.newest?.value : undefined;
  const where = options.hostName ? ` from host ${options.hostName}` : "";
  if (typeof newest === "number") {
    // How old the newest event may be: the service's maxLogSilence (the window of its ServiceStoppedLogging rule),
    // else DEFAULT_LOG_SILENCE_MS. Older is a warning while verify waits (a quiet service may still write), a
    // FAIL once the wait is over: shipping that broke after the first day leaves old events behind.
    const age = now() - newest;
    const bound = options.facts.logSilenceMs?.[service.name];
    const limit = bound ?? DEFAULT_LOG_SILENCE_MS;
    const text = `${service.name}: newest event${where} ${ageText(age)} old (${body.hits?.total?.value ?? "?"} events)`;
    const data = { newest: new Date(newest).toISOString(), ageMs: age, maxSilenceMs: limit };
    if (age <= limit) return { id, status: "ok", summary: text, data };
    return {
      id,
      status: options.final?.() === false ? "warn" : "fail",
      summary: `${text}, more than ${ageText(limit)} (${bound === undefined ? "the default, no services[].maxLogSilence" : "services[].maxLogSilence"}): no line arrives any more`,
      fix: [
        `the service stopped writing, or shipping broke since: ${options.filebeatContainer ? `docker logs ${options.filebeatContainer}` : "Filebeat's log"} names the output error (connection refused: host or port; 401/403: the writer's password or API key)`,
        ...(() => {
          const mismatch = filebeatPortMismatch(options.facts, options.outputs);
          return mismatch ? [mismatch] : [];
        })(),
      ],
      data,
      retry: true,
    };
  }
  if (answer.status !== 200 && answer.status !== 404) return { id, status: "fail", summary: `${service.name}: search failed: ${esError(answer)}`, retry: true };
  return {
    id,
    status: "fail",
    summary: `${service.name}: no event${where} ever arrived in ${options.dataStream}`,
    fix: missingEventCauses(service, options.facts, options.outputs, false, options.filebeatContainer),
    retry: true,
  };
}

function esAuthFailure(id: string, endpoint?: Endpoint): CheckOutcome {
  const from = endpoint?.credentials ?? "the elasticsearchUser/elasticsearchPassword outputs";
  return {
    id,
    status: "fail",
    summary: `Elasticsearch refuses ${from} (401)`,
    fix: [
      endpoint?.apiKey
        ? `give a valid API key of the external Elasticsearch in ${from}`
        : "the password was changed outside the stack: run `npm run deploy` again (the stack sets it)",
    ],
  };
}

/** After all events checks ran: a service without events while others have them points at its files, not at the output. */
export function refineEventCauses(
  results: CheckOutcome[],
  services: LogService[],
  facts: PlanFacts,
  outputs: Outputs,
  filebeatContainer?: string,
): CheckOutcome[] {
  const arrived = results.some((result) => result.id.startsWith("elasticsearch.events.") && result.status === "ok");
  if (!arrived) return results;
  return results.map((result) => {
    const service = services.find((candidate) => result.id === `elasticsearch.events.${candidate.name}`);
    if (!service || result.status !== "fail" || !/ever arrived/.test(result.summary)) return result;
    return { ...result, fix: missingEventCauses(service, facts, outputs, true, filebeatContainer) };
  });
}

export function kibanaChecks(endpoint: Endpoint, dataViewId: string | undefined): Check[] {
  const checks: Check[] = [
    {
      id: "kibana.status",
      run: async () => {
        try {
          const answer = await request(endpoint, "/api/status");
          const overall = (answer.body as { status?: { overall?: { level?: string; summary?: string } } } | undefined)?.status?.overall;
          if (answer.status === 401)
            return {
              id: "kibana.status",
              status: "fail",
              summary: `Kibana refuses ${endpoint.credentials ?? "the elasticsearchUser/elasticsearchPassword outputs"} (401)`,
            };
          if (answer.status === 200 && overall?.level === "available") return { id: "kibana.status", status: "ok", summary: "Kibana is available" };
          if (overall?.level === "degraded")
            return { id: "kibana.status", status: "warn", summary: `Kibana is degraded: ${overall.summary ?? ""}`.trim(), retry: true };
          return {
            id: "kibana.status",
            status: "fail",
            summary: `Kibana is not available (HTTP ${answer.status}${overall?.level ? `, ${overall.level}: ${overall.summary ?? ""}` : `: ${answer.text.slice(0, 120)}`})`,
            fix: ["Kibana waits for Elasticsearch and its kibana_system login: docker logs <stack>-kibana"],
            retry: true,
          };
        } catch (error) {
          return unreachable("kibana.status", "Kibana", error);
        }
      },
    },
  ];
  if (dataViewId)
    checks.push({
      id: "kibana.data-view",
      run: async () => {
        try {
          const answer = await request(endpoint, `/api/data_views/data_view/${encodeURIComponent(dataViewId)}`);
          if (answer.status === 200) return { id: "kibana.data-view", status: "ok", summary: `data view ${dataViewId} exists` };
          if (answer.status === 401)
            return {
              id: "kibana.data-view",
              status: "fail",
              summary: `Kibana refuses ${endpoint.credentials ?? "the login"} (401): the data view was not read`,
            };
          return {
            id: "kibana.data-view",
            status: "fail",
            summary: `data view ${dataViewId}: HTTP ${answer.status}`,
            fix: ["it was deleted in Kibana, or `up` did not finish: run `npm run deploy` again"],
            retry: answer.status !== 404,
          };
        } catch (error) {
          return unreachable("kibana.data-view", "data view not read", error);
        }
      },
    });
  return checks;
}
