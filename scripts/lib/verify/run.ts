/**
 * Runs the checks a stack's role asks for, side by side, each asked again until it is ok or the wait is
 * over (a fresh stack gets a few minutes for its first scrapes and first log lines), and builds the
 * report with every secret of the outputs redacted.
 */
import { Endpoint, sleep } from "./http";
import {
  ELASTIC_API_KEY_ENV,
  endpoint as outputEndpoint,
  envSecrets,
  GRAFANA_TOKEN_ENV,
  Outputs,
  PlanFacts,
  secretValues,
  text,
  withEnvCredentials,
} from "./inputs";
import { filebeatOutputCheck } from "./filebeat";
import { agentCertificatesCheck } from "./federation";
import { elasticChecks, kibanaChecks, refineEventCauses } from "./elastic";
import { grafanaChecks } from "./grafana";
import { instantQuery, prometheusChecks, unreachable } from "./prometheus";
import { redactResults } from "./report";
import { PROMETHEUS_LOGINS } from "../../../components/metrics/web-config";
import type { Check, CheckOutcome, CheckResult, CheckStatus, VerifyReport } from "./types";

export interface VerifyOptions {
  stack: string;
  outputs: Outputs;
  facts: PlanFacts;
  /** The central stack's outputs, for an agent stack (checked from the agent side). */
  centralOutputs?: Outputs;
  /** Send a test notification through each contact point. */
  notify?: boolean;
  /** How long a failing check is asked again (ms). */
  waitMs: number;
  /** Pause between two asks (ms). */
  intervalMs?: number;
  onResult?: (result: CheckResult) => void;
  /** Where ATRA_GRAFANA_TOKEN / ATRA_ELASTIC_API_KEY are read (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Output keys the plan's outputs.json flags secret (redacted whatever their name). */
  secretKeys?: string[];
}

export function buildChecks(options: VerifyOptions, deadline = Date.now() + options.waitMs): Check[] {
  const { outputs, facts } = options;
  // The last ask of a check (as settle decides it): a stale newest event warns before, fails then.
  const final = () => Date.now() + (options.intervalMs ?? 5000) > deadline;
  const role = text(outputs, "role") ?? "central";
  const checks: Check[] = [];
  const prometheus =
    (role === "agent" ? federatedAgentPrometheus(outputs, options.centralOutputs) : undefined) ??
    outputEndpoint(outputs, "prometheusUrl", "prometheusUser", "prometheusPassword");
  if (prometheus) checks.push(...prometheusChecks({ endpoint: prometheus, agentMode: role === "agent", recordingRules: facts.recordingRules }));
  else checks.push(notRun("prometheus", "the outputs have no prometheusUrl"));
  // Filebeat's dial port against where Elasticsearch listens: from the plan and outputs alone, on every stack
  // with Filebeat (an agent's is the one that matters most: its events go to another host).
  if (facts.filebeatHosts.length > 0) checks.push(filebeatOutputCheck(facts, { ...(options.centralOutputs ?? {}), ...outputs }));
  if (role === "agent") {
    checks.push(...agentChecks(options, final));
    return checks;
  }
  // A central stack listing agents: how long each agent's federation certificate has left (federation.ts).
  const certificates = agentCertificatesCheck(outputs);
  if (certificates) checks.push(certificates);
  const env = options.env ?? process.env;
  const grafana = withEnvCredentials(outputEndpoint(outputs, "grafanaUrl", "grafanaAdminUser", "grafanaAdminPassword"), "grafana", env);
  if (grafana && !grafana.credentials) {
    // An external Grafana (grafana.url): the outputs carry no login for it. Its /api/health needs none; every other
    // check would get 401 (grafana/grafana pkg/services/authn: an anonymous request to a signed-in route).
    checks.push(
      ...grafanaChecks({ endpoint: grafana, datasources: [], dashboardUids: [], contactPoints: [], notify: false }).filter(
        (check) => check.id === "grafana.health",
      ),
      notRun(
        "grafana.signed-in",
        `datasources, alert rules, dashboards${options.notify ? ", --notify" : ""}: the stack's outputs carry no login for the external Grafana ${grafana.url}; give a service account token in ${GRAFANA_TOKEN_ENV}`,
      ),
    );
  } else if (grafana)
    checks.push(
      ...grafanaChecks({
        endpoint: grafana,
        datasources: facts.datasources,
        dashboardUids: facts.dashboardUids,
        contactPoints: facts.contactPoints,
        notify: options.notify === true,
      }),
    );
  else checks.push(notRun("grafana", "the outputs have no grafanaUrl (grafana.enabled false?)"));
  const elastic = withEnvCredentials(outputEndpoint(outputs, "elasticsearchUrl", "elasticsearchUser", "elasticsearchPassword"), "elastic", env);
  const dataStream = text(outputs, "logsDataStream");
  if (elastic && dataStream && !elastic.credentials) {
    // An external Elasticsearch/Kibana (logs.elasticsearch.url): every API verify asks needs a login (Kibana's
    // /api/status too unless status.allowAnonymous: elastic/kibana src/core/packages/status/server-internal/src/routes/status.ts).
    checks.push(
      notRun(
        "elasticsearch",
        `cluster, data stream, ILM, events, failure store, Kibana: the stack's outputs carry no login for the external Elasticsearch ${elastic.url}; give an API key in ${ELASTIC_API_KEY_ENV}`,
      ),
    );
  } else if (elastic && dataStream) {
    checks.push(
      ...elasticChecks({
        endpoint: elastic,
        dataStream,
        facts,
        outputs,
        services: facts.logServices,
        cluster: true,
        filebeatContainer: options.facts.filebeatContainer,
        final,
      }),
    );
    const kibanaUrl = text(outputs, "kibanaUrl");
    const kibana = kibanaUrl ? { ...elastic, url: kibanaUrl } : undefined;
    if (kibana) checks.push(...kibanaChecks(kibana, text(outputs, "kibanaDataViewId")));
  }
  return checks;
}

/**
 * A federated agent host's Prometheus (https) lets in only the central stack's login and its own
 * healthcheck's, which is never output: verify logs in as the central stack does, with this host's
 * password from the central outputs' agentFederation entry (components/metrics/agent-federation.ts).
 */
export function federatedAgentPrometheus(outputs: Outputs, central: Outputs | undefined): Endpoint | undefined {
  const url = text(outputs, "prometheusUrl");
  const host = text(outputs, "host");
  const federation = central?.agentFederation;
  if (!url?.startsWith("https://") || !host || federation === null || typeof federation !== "object") return undefined;
  const entry = (federation as Record<string, unknown>)[host];
  const password = entry !== null && typeof entry === "object" ? (entry as { password?: unknown }).password : undefined;
  return typeof password === "string" && password !== ""
    ? { url, username: PROMETHEUS_LOGINS.central, password, credentials: "the central output agentFederation" }
    : undefined;
}

/** An agent host: its series at the central backend, its events in the central data stream with its host.name. */
function agentChecks(options: VerifyOptions, final: () => boolean): Check[] {
  const host = text(options.outputs, "host");
  const central = options.centralOutputs;
  // Without the central outputs nothing proves this host's series and events arrive, which is all an agent
  // promises: a FAIL ("verify incomplete"), not a skip, so `npm run deploy <agent>` cannot end in "verify passed".
  if (!central)
    return [
      {
        id: "agent.central",
        run: async () => ({
          id: "agent.central",
          status: "fail",
          summary: "verify incomplete: this is an agent stack, and without the central stack's outputs nothing shows that its series and events arrive there",
          fix: [
            "give them: npm run verify -- --stack <agent> --central-outputs <file> (or ATRA_CENTRAL_OUTPUTS=<file>); deploy: npm run deploy -- <agent> --central-outputs <file>. The file: `pulumi stack output --json --show-secrets --stack <central>`",
          ],
        }),
      },
    ];
  if (!host) return [notRun("agent.central", "the agent's outputs have no host")];
  const checks: Check[] = [];
  const prometheus = outputEndpoint(central, "prometheusUrl", "prometheusUser", "prometheusPassword");
  if (prometheus)
    checks.push({
      id: "agent.series",
      run: async () => {
        try {
          const series = await instantQuery(prometheus, `up{host=${JSON.stringify(host)}}`);
          if (series.length > 0)
            return { id: "agent.series", status: "ok", summary: `${series.length} up series of host ${host} arrive at the central Prometheus` };
          return {
            id: "agent.series",
            status: "fail",
            summary: `no series of host ${host} at the central Prometheus ${prometheus.url}`,
            fix: [
              "the central Prometheus cannot pull this host: its Targets page names the error of job agent-<host> (401: the agent's secret federation is not the central's agentFederation entry; connection refused or no route: the agent's bindAddress, agents[].prometheusUrl or a firewall)",
            ],
            retry: true,
          };
        } catch (error) {
          return unreachable("agent.series", "central Prometheus", error);
        }
      },
    });
  else checks.push(notRun("agent.series", "the central outputs have no prometheusUrl"));
  const elastic = withEnvCredentials(
    outputEndpoint(central, "elasticsearchUrl", "elasticsearchUser", "elasticsearchPassword"),
    "elastic",
    options.env ?? process.env,
  );
  const dataStream = text(central, "logsDataStream") ?? text(options.outputs, "logsDataStream");
  if (elastic && dataStream)
    checks.push(
      ...elasticChecks({
        endpoint: elastic,
        dataStream,
        facts: options.facts,
        outputs: options.outputs,
        services: options.facts.logServices,
        hostName: host,
        cluster: false,
        filebeatContainer: options.facts.filebeatContainer,
        final,
      }),
    );
  else checks.push(notRun("agent.events", "the central outputs have no elasticsearchUrl or logsDataStream"));
  return checks;
}

function notRun(id: string, why: string): Check {
  return { id, run: async () => ({ id, status: "skip", summary: `not checked: ${why}` }) };
}

/** Ask a check until it is ok, says it will not change, or the deadline passes. */
export async function settle(check: Check, deadline: number, intervalMs: number): Promise<CheckOutcome> {
  for (;;) {
    let outcome: CheckOutcome;
    try {
      outcome = await check.run();
    } catch (error) {
      outcome = { id: check.id, status: "fail", summary: `the check itself failed: ${(error as Error).message}` };
    }
    if (outcome.status === "ok" || !outcome.retry || Date.now() + intervalMs > deadline) return outcome;
    await sleep(intervalMs);
  }
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const deadline = started + options.waitMs;
  const checks = buildChecks(options, deadline);
  const secrets = [
    ...secretValues(options.outputs, options.secretKeys),
    ...secretValues(options.centralOutputs ?? {}, options.secretKeys),
    ...envSecrets(options.env ?? process.env),
  ];
  const outcomes = await Promise.all(
    checks.map(async (check) => {
      const outcome = await settle(check, deadline, options.intervalMs ?? 5000);
      if (options.onResult) options.onResult(redactResults([strip(outcome)], secrets)[0]);
      return outcome;
    }),
  );
  const refined = collapseUnreachable(refineEventCauses(outcomes, options.facts.logServices, options.facts, options.outputs, options.facts.filebeatContainer));
  const results = redactResults(refined.map(strip), secrets);
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const result of results) counts[result.status] += 1;
  return {
    stack: options.stack,
    role: text(options.outputs, "role") ?? "central",
    ok: counts.fail === 0,
    counts,
    results,
    elapsedMs: Date.now() - started,
  };
}

/**
 * When a service gives no answer at all, its first check says why; its other checks, which asked the same
 * address, say they did not run instead of repeating the reason (each is still not a pass).
 */
export function collapseUnreachable(outcomes: CheckOutcome[]): CheckOutcome[] {
  const silent = new Map<string, string>();
  return outcomes.map((outcome) => {
    const service = outcome.id.split(".")[0];
    const noAnswer = outcome.status === "fail" && / no answer from /.test(outcome.summary);
    if (!noAnswer) return outcome;
    const first = silent.get(service);
    if (first === undefined) {
      silent.set(service, outcome.id);
      return outcome;
    }
    return { id: outcome.id, status: "skip", summary: `not run: ${service} gave no answer (${first} above)` };
  });
}

function strip(outcome: CheckOutcome): CheckResult {
  const { retry: _retry, ...result } = outcome;
  return result;
}

export type { Endpoint };
