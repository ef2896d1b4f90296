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

/** The Elastic images the stack runs. */
const ELASTIC_KEYS = ["elasticsearch", "kibana", "filebeat"] as const satisfies readonly ImageKey[];
const ELASTIC_NAMES: Record<(typeof ELASTIC_KEYS)[number], string> = { elasticsearch: "Elasticsearch", kibana: "Kibana", filebeat: "Filebeat" };
/** The Elastic major the program renders for and whose client (@elastic/elasticsearch 9.x, package.json) the providers use. */
export const ELASTIC_MAJOR = 9;
/** The Grafana majors the program is written and tested for (12: the rule and provisioning models; 13: the pinned default). */
export const GRAFANA_MAJORS = [12, 13] as const;
/**
 * The oldest Grafana the program takes: 12.1.1, its earlier default, which deployed stacks have already
 * migrated their database to. Grafana's migrations run forward only (grafana/grafana
 * pkg/services/sqlstore/migrator/types.go: a `Migration` has `Sql`, no way down; read in the stored
 * copy at 02a89c75, not at 13.2.0), so an older Grafana on that database is not something to offer.
 */
export const GRAFANA_FLOOR: ImageVersion = { major: 12, minor: 1, patch: 1 };

/** The `images.*` overrides the program refuses: each at its key, all at once. */
export function imageVersionIssues(values: Record<string, unknown>): ConfigIssue[] {
  const given = (values.images ?? {}) as Record<string, unknown>;
  if (typeof given !== "object" || given === null) return [];
  const override = (key: ImageKey) => (typeof given[key] === "string" ? (given[key] as string) : undefined);
  const issues: ConfigIssue[] = [];
  // Only a central stack not shipping to an external cluster runs Elasticsearch and Kibana (the
  // same condition as components/logs/services.ts `ownCluster`); an agent host or a stack on an
  // external cluster runs Filebeat alone, against a cluster whose version the config does not name.
  const logs = values.logs as { external?: unknown } | undefined;
  const ownCluster = roleOf(values) !== "agent" && (typeof logs !== "object" || logs === null || logs.external === undefined);

  for (const key of ELASTIC_KEYS) {
    const reference = override(key);
    const version = reference === undefined ? undefined : imageVersion(reference);
    if (!version) continue;
    if (version.major !== ELASTIC_MAJOR) {
      issues.push({
        key: fullKey(["images", key]),
        message: `is ${ELASTIC_NAMES[key]} ${text(version)}: the program supports major ${ELASTIC_MAJOR} only (its @elastic/elasticsearch client and the APIs it renders are 9.x; Elastic supports no downgrade and no jump over a major)`,
      });
      continue;
    }
    const floor = imageVersion(DEFAULT_IMAGES.elasticsearch);
    if (key === "elasticsearch" && ownCluster && floor && compare(version, floor) < 0) {
      // This program's policy, not an Elastic rule (a fresh 9.4 cluster is supported by Elastic): the
      // bodies it sends are written for the default's APIs, and a data directory cannot go back once
      // a newer node has started on it (elastic/elasticsearch
      // server/src/main/java/org/elasticsearch/env/NodeMetadata.java, verifyUpgradeToCurrentVersion:
      // "cannot downgrade a node from version [...] to version [...]"), so a stack that ran the
      // default can never be given an older one. Only the stack's own Elasticsearch has such a data
      // directory; Kibana and Filebeat follow it through the rule below.
      issues.push({
        key: fullKey(["images", key]),
        message: `is Elasticsearch ${text(version)}, older than the default ${text(floor)}: this program takes no Elasticsearch older than its default on a stack that runs its own cluster (its requests are written for ${text(floor)}, and a data directory a newer version has started on cannot be downgraded); use ${text(floor)} or newer within ${ELASTIC_MAJOR}.x`,
      });
    }
  }

  // Kibana and Filebeat against the stack's own Elasticsearch: its major and minor, and not newer
  // than it; the patch may differ. Kibana refuses an Elasticsearch of another major or an older minor
  // and only logs a warning for any other difference (elastic/kibana
  // src/core/packages/elasticsearch/server-internal/src/version_check/es_kibana_version_compatability.ts,
  // esVersionCompatibleWithKibana: "Reject mismatching major version numbers", "Reject older minor
  // versions of ES"; esVersionEqualsKibana decides the warning, ensure_es_version.ts `warningNodes`:
  // "It's acceptable if ES and Kibana versions are not the same as long as they are not incompatible,
  // but we should warn about it"). A Beat is meant to be no newer than its cluster: elastic/beats
  // libbeat/cmd/instance/beat.go registerESVersionCheckCallback ("make sure ES instance we are
  // connecting to is at least on the same version as the Beat": `esVersion.LessThanMajorMinor(
  // beatVersion)` → libbeat/outputs/elasticsearch/client.go ErrTooOld "Elasticsearch is too old"),
  // though only with `output.elasticsearch.allow_older_versions: false`; it defaults to true there
  // (isConnectionToOlderVersionAllowed) and filebeat.yml does not set it, so Filebeat would not
  // refuse by itself and the config does. The same minor is this program's policy on top: the stack
  // upgrades the three together. An agent host or a stack on an external cluster: only the major
  // rule above (the external cluster's version is not in the config).
  if (ownCluster && (override("elasticsearch") || override("kibana") || override("filebeat"))) {
    const effective = (key: ImageKey) => override(key) ?? DEFAULT_IMAGES[key];
    const elasticsearch = imageVersion(effective("elasticsearch"));
    const esReported = issues.some((issue) => issue.key === fullKey(["images", "elasticsearch"]));
    for (const key of ["kibana", "filebeat"] as const) {
      const version = imageVersion(effective(key));
      const reported = issues.some((issue) => issue.key === fullKey(["images", key]));
      if (!elasticsearch || !version || reported || esReported) continue;
      const sameMinor = version.major === elasticsearch.major && version.minor === elasticsearch.minor;
      if (sameMinor && compare(version, elasticsearch) <= 0) continue;
      const source = override("elasticsearch") ? "images.elasticsearch" : "the default images.elasticsearch";
      const what = override(key) ? `is ${ELASTIC_NAMES[key]} ${text(version)}` : `is the default ${ELASTIC_NAMES[key]} ${text(version)}`;
      const range = `${elasticsearch.major}.${elasticsearch.minor}.0 to ${text(elasticsearch)}`;
      issues.push({
        key: fullKey(["images", key]),
        message: `${what} but ${source} is ${text(elasticsearch)}: Kibana and Filebeat must be on Elasticsearch's major and minor and not newer than it (Kibana refuses an older Elasticsearch minor and only warns on a patch difference; a Beat is not to be newer than its cluster); use ${range}`,
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
  } else if (grafanaVersion && compare(grafanaVersion, GRAFANA_FLOOR) < 0) {
    issues.push({
      key: fullKey(["images", "grafana"]),
      message: `is Grafana ${text(grafanaVersion)}, older than ${text(GRAFANA_FLOOR)}, the program's earlier default that deployed stacks have migrated their database to (Grafana migrates its database forward only); use ${text(GRAFANA_FLOOR)} or newer`,
    });
  }
  return issues;
}

/** `repo:tag@sha256:<64 hex>`: a tag for people and the version rules above, and the digest the Engine pulls and checks. */
const TAGGED_DIGEST = /^[^@\s]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64}$/;

/** Whether an image reference carries both a tag and a sha256 digest (what `requireImageDigests` asks for). */
export function hasTaggedDigest(reference: string): boolean {
  const [name] = reference.split("@");
  return TAGGED_DIGEST.test(reference) && (name.split("/").pop() ?? "").includes(":");
}

/**
 * `requireImageDigests: true`: every image the stack runs (its defaults included, which carry tags only) must be
 * given in `images.<key>` as `repo:tag@sha256:...`. What a digest buys: the Engine pulls a tag+digest reference
 * by its digest and checks the content against it. The Docker provider hands the name to the Engine's API client,
 * whose ImagePull sends the digest, not the tag, when a reference has both (moby/moby client/image_pull.go,
 * getAPITagFromNamedRef: "if digested ... return digested.Digest()"; kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_image_funcs.go pullImage -> client.ImagePull(ctx, image, ...)), and a
 * reference that is both tagged and digested is looked up by its digest only (distribution/reference
 * normalize.go ParseDockerRef: "The reference is both tagged and digested, only return digested"): the
 * provider's first step, an ImageInspect of the name (findImage -> searchLocalImages), does not take a local
 * image that merely has the same tag (test/real-tools/docker-read-back.test.ts shows it with the real Engine).
 * So a moved or re-pushed tag cannot change what runs. The tag is not checked against the digest: it is for
 * people and for the version rules above. Called once the rest of the config is valid (which images run is
 * known only from the resolved config: components/stack-services.ts runningServices).
 */
export function imageDigestIssues(requireDigests: boolean | undefined, images: Record<ImageKey, string>, running: readonly ImageKey[]): ConfigIssue[] {
  if (!requireDigests) return [];
  return running
    .filter((key) => !hasTaggedDigest(images[key]))
    .map((key) => ({
      key: fullKey(["images", key]),
      message: images[key].includes("@")
        ? `is ${images[key]}, a digest without a tag, and requireImageDigests is on: give the tag too (repo:<tag>@sha256:...), which tells people and the version rules which version it is`
        : `is ${images[key]}, with no digest, and requireImageDigests is on: pin it as ${images[key].split("@")[0]}@sha256:<digest> (the digest of that tag: docker buildx imagetools inspect ${images[key].split("@")[0]}, or after a pull: docker image inspect --format '{{index .RepoDigests 0}}' ${images[key].split("@")[0]})`,
    }));
}
