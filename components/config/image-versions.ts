/**
 * Which versions a stack may run when it overrides `images.*`: the jumps the program can refuse from
 * the config alone. It does not know which version an existing stack runs now (nothing of the
 * deployed containers is read at config time), so it refuses what is unsupported against the
 * defaults it ships with (components/stack-services.ts), not against the deployed version: a stack
 * that pins 9.5.0 today and 9.6.0 tomorrow, then back to 9.5.0, is refused only the last time if the
 * default is by then 9.6.0. README "Upgrading" says what a user must check by hand.
 *
 * A tag is read as `<major>.<minor>.<patch>` with an optional `v` and any suffix (`9.5.0`,
 * `v13.2.0`, `13.2.0-ubuntu`); a reference pinned by digest alone, or a tag that names no version
 * (`main`), cannot be checked and is let through (README lists this).
 */
import { ConfigIssue, fullKey } from "../lib/config-keys";
import { DEFAULT_IMAGES, ImageKey } from "../stack-services";
import { roleOf } from "./role";

export interface ImageVersion {
  major: number;
  minor: number;
  patch: number;
}

/** The version an image reference's tag names, or undefined when it names none (digest-only, `main`, ...). */
export function imageVersion(reference: string): ImageVersion | undefined {
  const lastSegment = reference.split("@")[0].split("/").pop() ?? "";
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  const match = tag === undefined ? null : /^v?(\d+)\.(\d+)\.(\d+)(?:[-+._].*)?$/.exec(tag);
  return match ? { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) } : undefined;
}

const text = (version: ImageVersion) => `${version.major}.${version.minor}.${version.patch}`;
const compare = (a: ImageVersion, b: ImageVersion) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** The Elastic images the stack runs together: one version for all three. */
const ELASTIC_KEYS = ["elasticsearch", "kibana", "filebeat"] as const satisfies readonly ImageKey[];
const ELASTIC_NAMES: Record<(typeof ELASTIC_KEYS)[number], string> = { elasticsearch: "Elasticsearch", kibana: "Kibana", filebeat: "Filebeat" };
/** The Elastic major the program renders for and whose client (@elastic/elasticsearch 9.x, package.json) the providers use. */
export const ELASTIC_MAJOR = 9;
/** The Grafana majors the program is written and tested for (12: the rule and provisioning models; 13: the pinned default). */
export const GRAFANA_MAJORS = [12, 13] as const;

/** The `images.*` overrides the program refuses: each at its key, all at once. */
export function imageVersionIssues(values: Record<string, unknown>): ConfigIssue[] {
  const given = (values.images ?? {}) as Record<string, unknown>;
  if (typeof given !== "object" || given === null) return [];
  const override = (key: ImageKey) => (typeof given[key] === "string" ? (given[key] as string) : undefined);
  const issues: ConfigIssue[] = [];

  for (const key of ELASTIC_KEYS) {
    const reference = override(key);
    const version = reference === undefined ? undefined : imageVersion(reference);
    const floor = imageVersion(DEFAULT_IMAGES[key]);
    if (!version || !floor) continue;
    if (version.major !== ELASTIC_MAJOR) {
      issues.push({
        key: fullKey(["images", key]),
        message: `is ${ELASTIC_NAMES[key]} ${text(version)}: the program supports major ${ELASTIC_MAJOR} only (its @elastic/elasticsearch client and the APIs it renders are 9.x; Elastic supports no downgrade and no jump over a major)`,
      });
    } else if (compare(version, floor) < 0) {
      // Elasticsearch refuses to start on data a newer version wrote (elastic/elasticsearch
      // server/src/main/java/org/elasticsearch/env/NodeMetadata.java, verifyUpgradeToCurrentVersion:
      // "cannot downgrade a node from version [...] to version [...]"), and the program's bodies are
      // written for the default's APIs, so nothing older than the default is taken.
      issues.push({
        key: fullKey(["images", key]),
        message: `is ${ELASTIC_NAMES[key]} ${text(version)}, older than the default ${text(floor)}: Elastic supports no downgrade (a node refuses data a newer version wrote); use ${text(floor)} or newer within ${ELASTIC_MAJOR}.x`,
      });
    }
  }

  // Kibana and Filebeat on the Elasticsearch version, where the stack runs its own cluster. Kibana
  // refuses an Elasticsearch of another major or an older minor, and warns on any other difference
  // (elastic/kibana src/core/packages/elasticsearch/server-internal/src/version_check/
  // es_kibana_version_compatability.ts: esVersionCompatibleWithKibana, esVersionEqualsKibana); the
  // stack keeps the three on one version, as Elastic's upgrade order assumes. An agent host or a stack
  // shipping to an external cluster runs no Elasticsearch of its own, so only the rules above apply.
  const logs = values.logs as { external?: unknown } | undefined;
  const ownCluster = roleOf(values) !== "agent" && (typeof logs !== "object" || logs === null || logs.external === undefined);
  if (ownCluster && (override("elasticsearch") || override("kibana") || override("filebeat"))) {
    const effective = (key: ImageKey) => override(key) ?? DEFAULT_IMAGES[key];
    const elasticsearch = imageVersion(effective("elasticsearch"));
    for (const key of ["kibana", "filebeat"] as const) {
      const version = imageVersion(effective(key));
      const reported = issues.some((issue) => issue.key === fullKey(["images", key]));
      if (!elasticsearch || !version || reported || compare(version, elasticsearch) === 0) continue;
      const source = override("elasticsearch") ? "images.elasticsearch" : "the default images.elasticsearch";
      const what = override(key) ? `is ${ELASTIC_NAMES[key]} ${text(version)}` : `is the default ${ELASTIC_NAMES[key]} ${text(version)}`;
      issues.push({
        key: fullKey(["images", key]),
        message: `${what} but ${source} is ${text(elasticsearch)}: keep Elasticsearch, Kibana and Filebeat on one version (Kibana refuses an older Elasticsearch minor and warns on any difference)`,
      });
    }
  }

  const grafana = override("grafana");
  const grafanaVersion = grafana === undefined ? undefined : imageVersion(grafana);
  if (grafanaVersion && !(GRAFANA_MAJORS as readonly number[]).includes(grafanaVersion.major)) {
    issues.push({
      key: fullKey(["images", "grafana"]),
      message: `is Grafana ${text(grafanaVersion)}: the program supports Grafana ${GRAFANA_MAJORS.join(" and ")} only (${
        grafanaVersion.major < GRAFANA_MAJORS[0]
          ? "its alert rule and provisioning models need 12, and Grafana does not migrate its database back"
          : "a newer major is not yet checked against the program"
      })`,
    });
  }
  return issues;
}
