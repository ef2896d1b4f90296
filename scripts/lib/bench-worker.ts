/**
 * One timed offline plan in its own process (for `npm run bench`); prints as JSON the time inside the
 * process, the resources, the process's peak resident memory (getrusage ru_maxrss, whole process:
 * Node, the TypeScript loader, the program and the mock engine) and the largest Grafana rule group
 * and container upload it plans (their JSON / text size: what one API call or one file carries).
 */
import * as path from "path";
import { planStack } from "./plan";

const RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup";

const [projectDir, stack] = process.argv.slice(2);
planStack(path.resolve(projectDir), stack)
  .then((result) => {
    const resources = result.run.resources;
    const ruleGroups = resources.filter((r) => r.type === RULE_GROUP).map((r) => ({ name: String(r.inputs.name), bytes: JSON.stringify(r.inputs).length }));
    const largestGroup = ruleGroups.reduce((max, g) => (g.bytes > max.bytes ? g : max), { name: "", bytes: 0 });
    const uploads = resources.flatMap((r) =>
      ((r.inputs.uploads as { file: string; content?: string }[] | undefined) ?? []).map((u) => ({ file: u.file, bytes: u.content?.length ?? 0 })),
    );
    const largestUpload = uploads.reduce((max, u) => (u.bytes > max.bytes ? u : max), { file: "", bytes: 0 });
    console.log(
      JSON.stringify({
        elapsedMs: result.elapsedMs,
        resources: resources.length,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        ruleGroups: ruleGroups.length,
        largestRuleGroup: largestGroup,
        largestUpload,
      }),
    );
  })
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
