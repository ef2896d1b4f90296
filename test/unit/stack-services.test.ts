/**
 * The stack services' descriptors are the one place their facts live: what is derived from them
 * must agree with the files that cannot import them (the shipped alert rules, the runbook).
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import {
  DEFAULT_IMAGES,
  DEFAULT_MEMORY_MB,
  EXPORTER_JOBS,
  OPTIONAL_EXPORTERS,
  RESERVED_JOB_NAMES,
  runningServices,
  STACK_SERVICE_KEYS,
  STACK_SERVICE_LIST,
} from "../../components/stack-services";
import { resolveStackConfig } from "../../components/config/resolve";

const ROOT = path.resolve(__dirname, "../..");

/** The job names a `job=~"a|b|c"` selector in a PromQL expression matches. */
function jobsOfSelector(expr: string): string[] {
  const match = /job=~"([^"]*)"/.exec(expr);
  if (!match) throw new Error(`no job=~ selector in ${expr}`);
  return match[1].split("|");
}

describe("stack service descriptors", () => {
  test("the ExporterDown rule (alerts/stack.yml) watches exactly the exporters' scrape jobs", () => {
    // The rule file is read as-is by promtool in the alert tests, so it stays a file; this keeps its selector true.
    const document = yaml.load(fs.readFileSync(path.join(ROOT, "alerts/stack.yml"), "utf8")) as { groups: { rules: { alert?: string; expr: string }[] }[] };
    const rule = document.groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === "ExporterDown");
    expect(rule).toBeDefined();
    expect([...jobsOfSelector(rule!.expr)].sort()).toEqual([...EXPORTER_JOBS].sort());
  });

  test("the runbook's ExporterDown section names the same jobs", () => {
    const runbook = fs.readFileSync(path.join(ROOT, "docs/runbook.md"), "utf8");
    const section = runbook.slice(runbook.indexOf("## ExporterDown"), runbook.indexOf("\n## ", runbook.indexOf("## ExporterDown") + 1));
    expect([...jobsOfSelector(section)].sort()).toEqual([...EXPORTER_JOBS].sort());
    for (const job of EXPORTER_JOBS) expect(section).toContain(`$S-${job}`);
  });

  test("every exporter is scraped, and every key, name and job is unique", () => {
    expect(EXPORTER_JOBS.length).toBeGreaterThan(0);
    const unique = (values: readonly string[]) => expect(new Set(values).size).toBe(values.length);
    unique(STACK_SERVICE_KEYS);
    unique(STACK_SERVICE_LIST.map((service) => service.name));
    unique(RESERVED_JOB_NAMES);
  });

  test("defaults come from the descriptors", () => {
    for (const service of STACK_SERVICE_LIST) {
      expect(DEFAULT_IMAGES[service.key]).toBe(service.image);
      expect(DEFAULT_MEMORY_MB.dev[service.key]).toBe(service.memoryMb.dev);
      expect(DEFAULT_MEMORY_MB.prod[service.key]).toBe(service.memoryMb.prod);
    }
  });

  test("an optional exporter switched off runs nothing, and only what runs has its image pulled", () => {
    const resolve = (values: Record<string, unknown>) => resolveStackConfig({ stack: "dev", values, secretKeys: [] }).config;
    const optional: string[] = OPTIONAL_EXPORTERS.map((exporter) => exporter.key);
    expect(optional.length).toBeGreaterThan(0);
    // What is not optional runs on a default central stack.
    expect(runningServices(resolve({})).filter((key) => !optional.includes(key))).toEqual(STACK_SERVICE_KEYS.filter((key) => !optional.includes(key)));
    for (const exporter of OPTIONAL_EXPORTERS) {
      const on = runningServices(resolve({ [exporter.key]: { enabled: true } }));
      const off = runningServices(resolve({ [exporter.key]: { enabled: false } }));
      expect(on).toContain(exporter.key);
      expect(off).toEqual(on.filter((key) => key !== exporter.key));
    }
    expect(runningServices(resolve({ logs: { enabled: false } }))).toEqual(
      runningServices(resolve({})).filter((key) => !["elasticsearch", "kibana", "filebeat"].includes(key)),
    );
  });
});
