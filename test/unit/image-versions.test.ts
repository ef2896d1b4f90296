/**
 * The `images.*` overrides the program refuses (components/config/image-versions.ts): an Elastic image
 * off major 9; on a stack that runs its own cluster, an Elasticsearch below the default (this
 * program's policy) and a Kibana or Filebeat off Elasticsearch's major.minor or newer than it; Grafana
 * outside 12 and 13 or below 12.1.1. Each at its config key, all at once; what cannot be checked from
 * the config alone (a digest-only or non-version tag) is let through.
 *
 * Upstream behaviour the rules stand on: a data directory cannot be downgraded (elastic/elasticsearch
 * server/src/main/java/org/elasticsearch/env/NodeMetadata.java, verifyUpgradeToCurrentVersion:
 * "cannot downgrade a node from version [...]"); Kibana refuses an Elasticsearch of another major or
 * an older minor and only warns on a patch difference (elastic/kibana
 * src/core/packages/elasticsearch/server-internal/src/version_check/es_kibana_version_compatability.ts,
 * esVersionCompatibleWithKibana; ensure_es_version.ts, warningNodes); a Beat checks it is not newer
 * than its cluster's major.minor (elastic/beats libbeat/cmd/instance/beat.go,
 * registerESVersionCheckCallback); Grafana's migrations run forward only (grafana/grafana
 * pkg/services/sqlstore/migrator/types.go, `Migration` has no way down).
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { imageVersion, imageVersionIssues } from "../../components/config/image-versions";
import { DEFAULT_IMAGES } from "../../components/stack-services";

const ES = "docker.elastic.co/elasticsearch/elasticsearch";
const KIBANA = "docker.elastic.co/kibana/kibana";
const FILEBEAT = "docker.elastic.co/beats/filebeat";

function issuesOf(images: Record<string, string>): { key: string; message: string }[] {
  try {
    resolveStackConfig({ stack: "dev", values: { images }, secretKeys: [] });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}
const keysOf = (images: Record<string, string>) => issuesOf(images).map((issue) => issue.key.replace(/^atra-observability:/, ""));

describe("imageVersion", () => {
  test.each([
    ["docker.elastic.co/elasticsearch/elasticsearch:9.5.7", { major: 9, minor: 5, patch: 7 }],
    ["grafana/grafana:13.2.0-ubuntu", { major: 13, minor: 2, patch: 0 }],
    ["registry.local:5000/prom/prometheus:v3.13.2", { major: 3, minor: 13, patch: 2 }],
    [`grafana/grafana:12.4.3@sha256:${"a".repeat(64)}`, { major: 12, minor: 4, patch: 3 }],
  ])("%s names %j", (reference, version) => {
    expect(imageVersion(reference)).toEqual(version);
  });

  test.each([`grafana/grafana@sha256:${"a".repeat(64)}`, "grafana/grafana:main", "registry.local:5000/grafana"])("%s names no version", (reference) => {
    expect(imageVersion(reference)).toBeUndefined();
  });
});

describe("the defaults", () => {
  test("every default names a version and passes the rules", () => {
    for (const reference of Object.values(DEFAULT_IMAGES)) expect(imageVersion(reference)).toBeDefined();
    expect(imageVersionIssues({ images: { ...DEFAULT_IMAGES } })).toEqual([]);
    expect(resolveStackConfig({ stack: "dev", values: {}, secretKeys: [] }).config.images).toEqual(DEFAULT_IMAGES);
  });
});

const MINOR_RULE =
  "Kibana and Filebeat must be on Elasticsearch's major and minor and not newer than it (Kibana refuses an older Elasticsearch minor and only warns on a patch difference; a Beat is not to be newer than its cluster)";

describe("Elasticsearch, Kibana and Filebeat", () => {
  test("the defaults differ in patch only, none newer than Elasticsearch (Kibana's own compatibility rule)", () => {
    const es = imageVersion(DEFAULT_IMAGES.elasticsearch)!;
    for (const key of ["kibana", "filebeat"] as const) {
      const version = imageVersion(DEFAULT_IMAGES[key])!;
      expect([version.major, version.minor]).toEqual([es.major, es.minor]);
      expect(version.patch).toBeLessThanOrEqual(es.patch);
    }
    expect([DEFAULT_IMAGES.elasticsearch, DEFAULT_IMAGES.kibana, DEFAULT_IMAGES.filebeat]).toEqual([`${ES}:9.5.7`, `${KIBANA}:9.5.0`, `${FILEBEAT}:9.5.2`]);
  });

  test("the old 9.1.0 pins: Elasticsearch is refused below the default (the program's policy); Kibana and Filebeat follow it", () => {
    const issues = issuesOf({ elasticsearch: `${ES}:9.1.0`, kibana: `${KIBANA}:9.1.0`, filebeat: `${FILEBEAT}:9.1.0` });
    expect(issues).toEqual([
      {
        key: "atra-observability:images.elasticsearch",
        message:
          "is Elasticsearch 9.1.0, older than the default 9.5.7: this program takes no Elasticsearch older than its default on a stack that runs its own cluster (its requests are written for 9.5.7, and a data directory a newer version has started on cannot be downgraded); use 9.5.7 or newer within 9.x",
      },
    ]);
  });

  test.each(["8.19.10", "10.0.0"])("Elasticsearch %s, off major 9, is refused", (version) => {
    const messages = issuesOf({ elasticsearch: `${ES}:${version}`, kibana: `${KIBANA}:${version}`, filebeat: `${FILEBEAT}:${version}` });
    expect(messages).toContainEqual({
      key: "atra-observability:images.elasticsearch",
      message: `is Elasticsearch ${version}: the program supports major 9 only (its @elastic/elasticsearch client and the APIs it renders are 9.x; Elastic supports no downgrade and no jump over a major)`,
    });
    expect(messages.map((issue) => issue.key)).toEqual([
      "atra-observability:images.elasticsearch",
      "atra-observability:images.filebeat",
      "atra-observability:images.kibana",
    ]);
  });

  test("a newer 9.x for all three is accepted, and so are patch differences with Kibana and Filebeat not newer", () => {
    expect(issuesOf({ elasticsearch: `${ES}:9.6.1`, kibana: `${KIBANA}:9.6.1`, filebeat: `${FILEBEAT}:9.6.1` })).toEqual([]);
    expect(issuesOf({ elasticsearch: `${ES}:9.6.3`, kibana: `${KIBANA}:9.6.0`, filebeat: `${FILEBEAT}:9.6.2` })).toEqual([]);
    expect(issuesOf({ kibana: `${KIBANA}:9.5.7`, filebeat: `${FILEBEAT}:9.5.7` })).toEqual([]);
  });

  test("Elasticsearch alone moved to another minor: Kibana and Filebeat (still the defaults) are named", () => {
    expect(issuesOf({ elasticsearch: `${ES}:9.6.0` })).toEqual([
      {
        key: "atra-observability:images.filebeat",
        message: `is the default Filebeat 9.5.2 but images.elasticsearch is 9.6.0: ${MINOR_RULE}; use 9.6.0 to 9.6.0`,
      },
      {
        key: "atra-observability:images.kibana",
        message: `is the default Kibana 9.5.0 but images.elasticsearch is 9.6.0: ${MINOR_RULE}; use 9.6.0 to 9.6.0`,
      },
    ]);
  });

  test("Kibana or Filebeat newer than Elasticsearch, even by a patch, is refused at its key", () => {
    expect(issuesOf({ kibana: `${KIBANA}:9.5.8`, filebeat: `${FILEBEAT}:9.6.0` })).toEqual([
      {
        key: "atra-observability:images.filebeat",
        message: `is Filebeat 9.6.0 but the default images.elasticsearch is 9.5.7: ${MINOR_RULE}; use 9.5.0 to 9.5.7`,
      },
      {
        key: "atra-observability:images.kibana",
        message: `is Kibana 9.5.8 but the default images.elasticsearch is 9.5.7: ${MINOR_RULE}; use 9.5.0 to 9.5.7`,
      },
    ]);
  });

  test("Kibana on an older minor than Elasticsearch is refused (the stack keeps one minor)", () => {
    expect(keysOf({ elasticsearch: `${ES}:9.6.0`, kibana: `${KIBANA}:9.5.7`, filebeat: `${FILEBEAT}:9.6.0` })).toEqual(["images.kibana"]);
  });

  test("a mirror's registry and a digest after the tag do not matter; the version does", () => {
    const digest = `@sha256:${"b".repeat(64)}`;
    expect(
      issuesOf({
        elasticsearch: `registry.local:5000/elasticsearch/elasticsearch:9.5.7${digest}`,
        kibana: `registry.local:5000/kibana/kibana:9.5.0`,
        filebeat: `registry.local:5000/beats/filebeat:9.5.2`,
      }),
    ).toEqual([]);
  });

  test("an agent host or a stack on an external cluster runs no Elasticsearch: Filebeat of an older or newer 9.x minor is taken, off major 9 is not", () => {
    const external = { logs: { external: { elasticsearchUrl: "https://es.example" } } };
    for (const version of ["9.2.4", "9.4.3", "9.6.0"]) {
      expect(imageVersionIssues({ role: "agent", images: { filebeat: `${FILEBEAT}:${version}` } })).toEqual([]);
      expect(imageVersionIssues({ ...external, images: { filebeat: `${FILEBEAT}:${version}` } })).toEqual([]);
    }
    expect(imageVersionIssues({ ...external, images: { elasticsearch: `${ES}:9.4.0`, kibana: `${KIBANA}:9.4.0` } })).toEqual([]);
    expect(imageVersionIssues({ role: "agent", images: { filebeat: `${FILEBEAT}:8.19.10` } }).map((issue) => issue.key)).toEqual([
      "atra-observability:images.filebeat",
    ]);
  });

  test("a digest-only or non-version tag cannot be checked and is let through", () => {
    expect(issuesOf({ elasticsearch: `${ES}@sha256:${"c".repeat(64)}` })).toEqual([]);
    expect(issuesOf({ kibana: `${KIBANA}:custom-build` })).toEqual([]);
  });
});

describe("Grafana", () => {
  test.each(["12.1.1", "12.4.3", "13.2.0", "13.3.1-ubuntu"])("%s is accepted", (version) => {
    expect(keysOf({ grafana: `grafana/grafana:${version}` })).toEqual([]);
  });

  test.each(["12.0.0", "12.1.0"])("%s, below the earlier default 12.1.1 that deployed stacks migrated to, is refused", (version) => {
    expect(issuesOf({ grafana: `grafana/grafana:${version}` })).toEqual([
      {
        key: "atra-observability:images.grafana",
        message: `is Grafana ${version}, older than 12.1.1, the program's earlier default that deployed stacks have migrated their database to (Grafana migrates its database forward only); use 12.1.1 or newer`,
      },
    ]);
  });

  test("11.6.0 is refused at images.grafana", () => {
    expect(issuesOf({ grafana: "grafana/grafana:11.6.0" })).toEqual([
      {
        key: "atra-observability:images.grafana",
        message:
          "is Grafana 11.6.0: the program supports Grafana 12 and 13 only (its alert rule and provisioning models need 12, and Grafana does not migrate its database back)",
      },
    ]);
  });

  test("14.0.0 is refused at images.grafana", () => {
    expect(issuesOf({ grafana: "grafana/grafana:14.0.0" })).toEqual([
      {
        key: "atra-observability:images.grafana",
        message: "is Grafana 14.0.0: the program supports Grafana 12 and 13 only (a newer major is not yet checked against the program)",
      },
    ]);
  });

  test("refused versions of several images come together with the other problems of the stack file", () => {
    expect(keysOf({ grafana: "grafana/grafana:11.6.0", prometheus: "prom/prometheus:latest", kibana: `${KIBANA}:9.4.0` })).toEqual([
      "images.grafana",
      "images.kibana",
      "images.prometheus",
    ]);
  });
});

/**
 * Issue 21: digests next to tags. `images.<key>: repo:tag@sha256:...` is accepted and its version still read
 * from the tag (the rules above keep working); `requireImageDigests: true` asks it of every image the stack
 * runs (components/config/image-versions.ts imageDigestIssues says what the Engine does with it).
 */
describe("image digests", () => {
  const digest = (char: string) => `sha256:${char.repeat(64)}`;
  const pinned = (key: keyof typeof DEFAULT_IMAGES, char = "a") => `${DEFAULT_IMAGES[key]}@${digest(char)}`;
  const problems = (values: Record<string, unknown>) => {
    try {
      resolveStackConfig({ stack: "dev", values, secretKeys: [] });
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
      throw error;
    }
  };

  test("the version is read from the tag of a tag+digest reference, so the version rules still hold", () => {
    expect(imageVersion(`${ES}:9.5.0@${digest("b")}`)).toEqual({ major: 9, minor: 5, patch: 0 });
    expect(imageVersion(`registry.local:5000/grafana/grafana:13.2.0@${digest("c")}`)).toEqual({ major: 13, minor: 2, patch: 0 });
    expect(imageVersionIssues({ images: { elasticsearch: `${ES}:8.19.0@${digest("d")}` } }).map((issue) => issue.key)).toEqual([
      "atra-observability:images.elasticsearch",
    ]);
  });

  test("without requireImageDigests, a digest is optional; with it, each running image without one is named at its key, all at once", () => {
    expect(problems({ images: { prometheus: pinned("prometheus") } })).toEqual([]);
    const found = problems({ requireImageDigests: true, logs: { enabled: false }, cadvisor: { enabled: false }, images: { prometheus: pinned("prometheus") } });
    // Neither Elasticsearch, Kibana, Filebeat nor cAdvisor runs here: not asked for.
    expect(found.map((problem) => problem.split(":")[1].split(" ")[0])).toEqual(
      ["images.blackboxExporter", "images.grafana", "images.nodeExporter"].map((key) => key),
    );
    expect(found).toContain(
      `atra-observability:images.grafana: is ${DEFAULT_IMAGES.grafana}, with no digest, and requireImageDigests is on: pin it as ${DEFAULT_IMAGES.grafana}@sha256:<digest> (the digest of that tag: docker buildx imagetools inspect ${DEFAULT_IMAGES.grafana}, or after a pull: docker image inspect --format '{{index .RepoDigests 0}}' ${DEFAULT_IMAGES.grafana})`,
    );
  });

  test("with requireImageDigests, every running image pinned as repo:tag@sha256 passes; a digest without a tag does not", () => {
    const images = {
      prometheus: pinned("prometheus"),
      grafana: pinned("grafana"),
      nodeExporter: pinned("nodeExporter"),
      blackboxExporter: pinned("blackboxExporter"),
    };
    expect(problems({ requireImageDigests: true, logs: { enabled: false }, cadvisor: { enabled: false }, images })).toEqual([]);
    const untagged = `prom/prometheus@${digest("e")}`;
    expect(
      problems({ requireImageDigests: true, logs: { enabled: false }, cadvisor: { enabled: false }, images: { ...images, prometheus: untagged } }),
    ).toEqual([
      expect.stringMatching(
        /^atra-observability:images\.prometheus: is prom\/prometheus@sha256:e{64}, a digest without a tag, and requireImageDigests is on: give the tag too/,
      ),
    ]);
  });
});
