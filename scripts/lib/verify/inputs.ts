/**
 * What verify knows about a stack before it asks anything: the stack's outputs (URLs, users, secret
 * passwords, as `pulumi stack output --json --show-secrets` prints them) and the facts only the
 * program's offline plan holds (scripts/lib/plan.ts, the artifacts `npm run plan` writes): which
 * services ship logs and from where, where Filebeat sends them, the shipped dashboard and datasource
 * uids, the contact points, the SLO recording rules, the ILM policy and whether the failure store is on.
 * Read from the plan's artifacts (rendered files and resources.json), not from components/, so this
 * stays true when the components move.
 */
import * as path from "path";
import * as yaml from "js-yaml";
import type { Endpoint } from "./http";

export type Outputs = Record<string, unknown>;

/** Output keys whose values are secrets (index.ts exports them with pulumi.secret). */
export const SECRET_OUTPUT = /(password|apikeys?|token|secret)$/i;

export interface PlanArtifact {
  path: string;
  content: string;
}

export interface LogService {
  name: string;
  paths: string[];
}

export interface PlanFacts {
  /** Services with log files (each a Filebeat input tagged service.name). */
  logServices: LogService[];
  /** Filebeat's output.elasticsearch.hosts as rendered. */
  filebeatHosts: string[];
  /** Filebeat's container name (for the fixes: `docker logs <it>`). */
  filebeatContainer?: string;
  /** The Elasticsearch container's name and the port it listens on in the stack network (central stacks). */
  elasticsearchContainer?: { name: string; port: number };
  dashboardUids: string[];
  datasources: { uid: string; name: string; type: string }[];
  contactPoints: string[];
  /** Recorded series names per service (from the rendered Prometheus rule files). */
  recordingRules: { record: string; service?: string }[];
  ilmPolicy?: string;
  failureStore: boolean;
  /**
   * services[].maxLogSilence per service, in ms, as the plan renders it: the window of its
   * `ServiceStoppedLogging <service>` alert rule (components/alerting/log-alerts.ts silenceRule).
   */
  logSilenceMs: Record<string, number>;
}

/** How old a service's newest event may be when it sets no services[].maxLogSilence (README "Verify a deployed stack"). */
export const DEFAULT_LOG_SILENCE_MS = 3_600_000;

/**
 * `pulumi stack output --json --show-secrets` prints `{"<name>": <value>}` (pulumi/pulumi
 * pkg/cmd/pulumi/stack/stack_output.go, `--json` with `--show-secrets`); the offline plan's outputs.json
 * keeps `{value, secret}` pairs. Both are taken; a file that is neither is refused.
 */
export function parseOutputs(text: string, source: string): Outputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message}); expected the output of \`pulumi stack output --json --show-secrets\``, {
      cause: error,
    });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${source}: expected a JSON object of stack outputs`);
  const outputs: Outputs = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const wrapped = value && typeof value === "object" && !Array.isArray(value) && "value" in value && "secret" in value;
    outputs[key] = wrapped ? (value as { value: unknown }).value : value;
  }
  if (Object.values(outputs).includes("[secret]"))
    throw new Error(`${source}: secrets are masked ("[secret]"); produce it with \`pulumi stack output --json --show-secrets\``);
  return outputs;
}

/**
 * The keys the plan's outputs.json flags `secret: true` (index.ts exports them with pulumi.secret); empty for
 * `pulumi stack output --json --show-secrets`, which drops the flag: there the key-name rule stands in.
 */
export function flaggedSecretKeys(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return Object.entries(parsed)
      .filter(([, value]) => value !== null && typeof value === "object" && (value as { secret?: unknown }).secret === true)
      .map(([key]) => key);
  } catch {
    return [];
  }
}

/** Every secret value in the outputs (to keep them out of everything verify prints): by key name, or flagged secret. */
export function secretValues(outputs: Outputs, flagged: string[] = []): string[] {
  const values: string[] = [];
  const add = (value: string) => {
    values.push(value);
    // An Elasticsearch API key output is `id:key`; the base64 form verify sends is a secret too.
    values.push(Buffer.from(value).toString("base64"));
  };
  for (const [key, raw] of Object.entries(outputs)) {
    if (!SECRET_OUTPUT.test(key) && !flagged.includes(key)) continue;
    if (typeof raw === "string" && raw.length > 0) add(raw);
    else if (raw !== null && typeof raw === "object") {
      // A secret map (agentLogShipperApiKeys: host -> key): the whole as the plan prints it, and every leaf.
      if (flagged.includes(key)) add(JSON.stringify(raw));
      for (const leaf of stringLeaves(raw)) add(leaf);
    }
  }
  return values;
}

function stringLeaves(value: unknown): string[] {
  if (typeof value === "string") return value.length > 0 ? [value] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(stringLeaves);
}

export function text(outputs: Outputs, key: string): string | undefined {
  const value = outputs[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function endpoint(outputs: Outputs, urlKey: string, userKey?: string, passwordKey?: string): Endpoint | undefined {
  const url = text(outputs, urlKey);
  if (!url) return undefined;
  const username = userKey ? text(outputs, userKey) : undefined;
  const password = passwordKey ? text(outputs, passwordKey) : undefined;
  return username !== undefined && password !== undefined ? { url, username, password, credentials: `the ${userKey}/${passwordKey} outputs` } : { url };
}

/**
 * Credentials for a Grafana or Elastic the stack does not run (grafana.url / logs.elasticsearch.url set): the
 * outputs carry no login for it (the stack authenticates with grafanaApiToken / elasticApiKey from its config,
 * which are not outputs), so verify takes them from the environment, never from argv:
 * - ATRA_GRAFANA_TOKEN: a Grafana service account token, sent as `Bearer` (grafana/grafana pkg/services/authn/clients/api_key.go);
 * - ATRA_ELASTIC_API_KEY: an Elasticsearch API key, the `encoded` value or `id:key` (then base64-encoded), sent as
 *   `ApiKey` (elastic/elasticsearch x-pack/plugin/security/.../authc/ApiKeyService.java getCredentialsFromHeader);
 *   Kibana accepts the same header (elastic/kibana x-pack/platform/plugins/shared/security/server/authentication/providers/http.ts).
 */
export const GRAFANA_TOKEN_ENV = "ATRA_GRAFANA_TOKEN";
export const ELASTIC_API_KEY_ENV = "ATRA_ELASTIC_API_KEY";

export function withEnvCredentials(found: Endpoint | undefined, kind: "grafana" | "elastic", env: NodeJS.ProcessEnv): Endpoint | undefined {
  if (!found || found.credentials) return found;
  if (kind === "grafana" && env[GRAFANA_TOKEN_ENV]) return { ...found, bearer: env[GRAFANA_TOKEN_ENV], credentials: GRAFANA_TOKEN_ENV };
  const key = kind === "elastic" ? env[ELASTIC_API_KEY_ENV] : undefined;
  if (key) return { ...found, apiKey: key.includes(":") ? Buffer.from(key).toString("base64") : key, credentials: ELASTIC_API_KEY_ENV };
  return found;
}

/** The credential values verify took from the environment (redacted like the outputs' secrets). */
export function envSecrets(env: NodeJS.ProcessEnv): string[] {
  const values: string[] = [];
  for (const name of [GRAFANA_TOKEN_ENV, ELASTIC_API_KEY_ENV]) {
    const value = env[name];
    if (value) values.push(value, Buffer.from(value).toString("base64"));
  }
  return values;
}

export function planFacts(artifacts: PlanArtifact[]): PlanFacts {
  const facts: PlanFacts = {
    logServices: [],
    filebeatHosts: [],
    dashboardUids: [],
    datasources: [],
    contactPoints: [],
    recordingRules: [],
    failureStore: false,
    logSilenceMs: {},
  };
  for (const artifact of artifacts) {
    const file = artifact.path.split(path.sep).join("/");
    if (/^containers\/[^/]+\/usr\/share\/filebeat\/filebeat\.yml$/.test(file)) {
      const doc = yaml.load(artifact.content) as {
        "filebeat.inputs"?: { paths?: string[]; fields?: { service?: { name?: string } } }[];
        "output.elasticsearch"?: { hosts?: string[] };
      };
      for (const input of doc["filebeat.inputs"] ?? []) {
        const name = input.fields?.service?.name;
        if (name) facts.logServices.push({ name, paths: input.paths ?? [] });
      }
      facts.filebeatHosts = doc["output.elasticsearch"]?.hosts ?? [];
      facts.filebeatContainer = file.split("/")[1];
    } else if (/^containers\/[^/]+\/etc\/prometheus\/rules\/[^/]+\.ya?ml$/.test(file)) {
      const doc = yaml.load(artifact.content) as { groups?: { rules?: { record?: string; labels?: Record<string, string> }[] }[] };
      for (const group of doc?.groups ?? [])
        for (const rule of group.rules ?? []) if (rule.record) facts.recordingRules.push({ record: rule.record, service: rule.labels?.service });
    } else if (/^grafana\/dashboards\/[^/]+\.json$/.test(file)) {
      const model = JSON.parse(artifact.content) as { uid?: string };
      facts.dashboardUids.push(model.uid ?? path.posix.basename(file, ".json"));
    } else if (/^grafana\/datasources\/[^/]+\.json$/.test(file)) {
      const source = JSON.parse(artifact.content) as { uid?: string; name?: string; type?: string };
      facts.datasources.push({ uid: source.uid ?? path.posix.basename(file, ".json"), name: source.name ?? "", type: source.type ?? "" });
    } else if (/^grafana\/contact-points\/[^/]+\.json$/.test(file)) {
      const point = JSON.parse(artifact.content) as { name?: string };
      facts.contactPoints.push(point.name ?? path.posix.basename(file, ".json"));
    } else if (/^grafana\/alert-rules\/[^/]+\.json$/.test(file)) {
      const group = JSON.parse(artifact.content) as {
        rules?: { name?: string; labels?: Record<string, string>; datas?: { relativeTimeRange?: { from?: number } }[] }[];
      };
      for (const rule of group.rules ?? []) {
        const service = /^ServiceStoppedLogging (.+)$/.exec(rule.name ?? "")?.[1];
        const seconds = rule.datas?.[0]?.relativeTimeRange?.from;
        if (service && typeof seconds === "number") facts.logSilenceMs[service] = seconds * 1000;
      }
    } else if (/^elastic\/IlmPolicy\/[^/]+\.json$/.test(file)) {
      facts.ilmPolicy = (JSON.parse(artifact.content) as { name?: string }).name;
    } else if (/^elastic\/IndexTemplate\/[^/]+\.json$/.test(file)) {
      const template = JSON.parse(artifact.content) as { body?: { template?: { data_stream_options?: { failure_store?: { enabled?: boolean } } } } };
      facts.failureStore = template.body?.template?.data_stream_options?.failure_store?.enabled === true;
    } else if (file === "resources.json") {
      const resources = JSON.parse(artifact.content) as { type: string; inputs: { name?: string; ports?: { internal?: number }[] } }[];
      const elastic = resources.find(
        (resource) => resource.type === "docker:index/container:Container" && /-elasticsearch$/.test(String(resource.inputs.name ?? "")),
      );
      const port = elastic?.inputs.ports?.[0]?.internal;
      if (elastic?.inputs.name && port) facts.elasticsearchContainer = { name: elastic.inputs.name, port };
    }
  }
  return facts;
}
