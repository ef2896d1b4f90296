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
export const SECRET_OUTPUT = /(password|apikey|token|secret)$/i;

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
}

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

/** Every secret value in the outputs (to keep them out of everything verify prints). */
export function secretValues(outputs: Outputs): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(outputs)) {
    if (SECRET_OUTPUT.test(key) && typeof value === "string" && value.length > 0) {
      values.push(value);
      // An Elasticsearch API key output is `id:key`; the base64 form verify sends is a secret too.
      values.push(Buffer.from(value).toString("base64"));
    }
  }
  return values;
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
  return username !== undefined && password !== undefined ? { url, username, password } : { url };
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
