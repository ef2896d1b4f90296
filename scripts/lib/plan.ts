/**
 * The offline plan as a function: run the program for a stack under the mock engine and collect
 * the artifacts it would deploy, taken from what the program actually sent (container uploads,
 * dashboard and datasource bodies), not rendered a second time.
 */
import * as path from "path";
import { ProgramRun, runProgram } from "./mock-engine";
import { readProjectName, readStackFile } from "./stack-file";

export interface Artifact {
  /** Relative path inside the out dir. */
  path: string;
  content: string;
}

export interface PlanResult {
  run: ProgramRun;
  artifacts: Artifact[];
  elapsedMs: number;
}

export interface PlanOptions {
  /** Config to use instead of the stack file (benchmarks, tests). */
  config?: { config: Record<string, string>; secretKeys: string[] };
  /** Program entry, default index.ts in the project folder. */
  entry?: string;
}

export async function planStack(projectDir: string, stack: string, options: PlanOptions = {}): Promise<PlanResult> {
  const started = process.hrtime.bigint();
  const project = readProjectName(projectDir);
  const stackConfig = options.config ?? readStackFile(projectDir, stack, project);
  const run = await runProgram({
    entry: options.entry ?? path.join(projectDir, "index.ts"),
    project,
    stack,
    config: stackConfig.config,
    secretKeys: stackConfig.secretKeys,
  });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { run, artifacts: collectArtifacts(run), elapsedMs };
}

export function collectArtifacts(run: ProgramRun): Artifact[] {
  const artifacts: Artifact[] = [
    { path: "resources.json", content: json(run.resources.map(withoutProviderCode)) },
    { path: "outputs.json", content: json(run.outputs) },
  ];
  for (const resource of run.resources) {
    const inputs = resource.inputs;
    if (resource.type === "docker:index/container:Container") {
      for (const upload of (inputs.uploads as { file: string; content?: string }[] | undefined) ?? []) {
        if (upload.content !== undefined) {
          artifacts.push({ path: path.posix.join("containers", String(inputs.name), upload.file), content: upload.content });
        }
      }
    } else if (resource.type === "grafana:oss/dashboard:Dashboard" && typeof inputs.configJson === "string") {
      const model = JSON.parse(inputs.configJson) as { uid?: string };
      artifacts.push({ path: `grafana/dashboards/${model.uid ?? resource.name}.json`, content: json(model) });
    } else if (resource.type === "grafana:oss/dataSource:DataSource") {
      artifacts.push({ path: `grafana/datasources/${String(inputs.uid ?? resource.name)}.json`, content: json(inputs) });
    } else if (resource.type === "grafana:alerting/ruleGroup:RuleGroup") {
      // Query models are JSON text in the API; parsed here so the plan reads like the rule.
      const rules = (inputs.rules as { datas: { model: string }[] }[]).map((rule) => ({
        ...rule,
        datas: rule.datas.map((data) => ({ ...data, model: JSON.parse(data.model) as unknown })),
      }));
      artifacts.push({ path: `grafana/alert-rules/${String(inputs.name)}.json`, content: json({ ...inputs, rules }) });
    } else if (resource.type === "grafana:alerting/contactPoint:ContactPoint") {
      artifacts.push({ path: `grafana/contact-points/${String(inputs.name)}.json`, content: json(inputs) });
    } else if (resource.type === "grafana:alerting/notificationPolicy:NotificationPolicy") {
      artifacts.push({ path: "grafana/notification-policy.json", content: json(inputs) });
    } else if (resource.type.startsWith(DYNAMIC_ELASTIC)) {
      // What the Elasticsearch and Kibana providers will send: the body, without the provider's code.
      const { __provider: _code, ...sent } = inputs;
      artifacts.push({ path: `elastic/${resource.type.slice(DYNAMIC_ELASTIC.length)}/${resource.name}.json`, content: json(sent) });
    }
  }
  return artifacts;
}

const DYNAMIC_ELASTIC = "pulumi-nodejs:dynamic/elastic:";

/** A dynamic resource's inputs carry its provider's serialized code; the plan shows its size instead. */
function withoutProviderCode(resource: ProgramRun["resources"][number]) {
  const code = resource.inputs.__provider;
  if (typeof code !== "string") return resource;
  return { ...resource, inputs: { ...resource.inputs, __provider: `[serialized dynamic provider, ${code.length} characters]` } };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
