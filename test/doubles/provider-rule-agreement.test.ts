/**
 * The serialized Elasticsearch and Kibana providers (components/elastic/provider-runtime.ts) must be
 * self-contained, so they keep their own copies of rules the config and the renderers also hold.
 * Each copy is checked here against the other over representative inputs, edge cases included:
 * - connection URLs: the providers' check against the config's httpUrlProblems (components/lib);
 * - durations: the read-back form the providers compare in (canonicalTime) against what the
 *   renderer accepts and sends (isEsDuration);
 * - byte sizes: canonicalBytes against the renderer's esByteSizeAsReturned;
 * - Pulumi's placeholder for an unknown value against @pulumi/pulumi's own;
 * - the derived-API-key rule: the provider's derivedKeyRefused against the renderers' derivedApiKeyRefused;
 * - and every body the renderers make passes its provider's check.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as runtime from "../../components/elastic/provider-runtime";
import { httpUrlProblems } from "../../components/lib/validators";
import {
  defaultDataStream,
  derivedApiKeyRefused,
  esByteSizeAsReturned,
  isEsByteSize,
  isEsDuration,
  logsNaming,
  agentApiKeyName,
  renderAgentApiKey,
  renderHostIdentityPipeline,
  renderDataView,
  renderIlmPolicy,
  renderIndexTemplate,
  renderIngestPipeline,
  renderKibanaViewerRole,
  renderReaderRole,
  renderRecentErrorsSearch,
  renderWriterRole,
} from "../../components/logs/elastic-bodies";

const check = (provider: dynamic.ResourceProvider, inputs: object) => provider.check!({}, inputs);
const connection = (url: unknown) => ({ url, username: "atra-admin", password: "admin-password" });

/** Whether the providers' check takes `url` as a connection URL (all providers share the one check). */
async function providerTakesUrl(url: string): Promise<boolean> {
  const result = await check(runtime.roleProvider, { connection: connection(url), name: "role", body: {} });
  return !(result.failures ?? []).some((failure) => failure.reason.startsWith("connection.url"));
}

describe("connection URLs: the providers' check and the config's URL rule agree", () => {
  // Neither credentials, a fragment nor a secret-looking parameter: the part of the rule both hold.
  const shared = [
    "http://127.0.0.1:9200",
    "http://127.0.0.1:5601",
    "https://es.example.com",
    "http://elasticsearch:9200/",
    "https://kibana.example.com:5601/base/path",
    "http://[::1]:9200",
    "HTTP://127.0.0.1:9200",
    "Https://Example.COM",
    "http:elasticsearch:9200",
    " http://127.0.0.1:9200 ",
    "http://es:65535",
    "http://es:080",
    "http://es:0",
    "http://es:00",
    "http://es:65536",
    "http://es:99999",
    "http://",
    "http://a b",
    "ftp://files.example.com",
    "file:///etc/passwd",
    "ws://es:9200",
    "mailto:ops@example.com",
    "127.0.0.1:9200",
    "elasticsearch:9200",
    "/relative/path",
    "",
  ];
  test.each(shared)("%j", async (url) => {
    expect(await providerTakesUrl(url)).toBe(httpUrlProblems(url).length === 0);
  });

  // What the config refuses because a rendered file would carry it in plain text; a provider's
  // connection is a secret input, so it takes them. The config stays the stricter of the two.
  test.each(["http://user:pw@es:9200", "https://es.example.com/#top", "https://es.example.com/?api_key=x"])(
    "%j: refused by the config only (it concerns rendered files)",
    async (url) => {
      expect(httpUrlProblems(url)).not.toEqual([]);
      expect(await providerTakesUrl(url)).toBe(true);
    },
  );
});

describe("durations: what the renderer sends is already in the form the providers expect back", () => {
  const accepted = ["1d", "30d", "12h", "90m", "45s", "500ms", "10micros", "1nanos", "9007199254740993d", "100000000000000000000h"];
  test.each(accepted)("%j", (value) => {
    expect(isEsDuration(value)).toBe(true);
    expect(runtime.canonicalTime(value)).toBe(value);
  });

  test("every time value of a rendered ILM policy, the fixed min_age 0ms included", () => {
    const policy = renderIlmPolicy({ rolloverMaxAge: "12h", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "30d" });
    const times = [policy.phases.hot!.min_age, policy.phases.hot!.actions!.rollover!.max_age, policy.phases.delete!.min_age];
    expect(times).toEqual(["0ms", "12h", "30d"]);
    for (const value of times) expect(runtime.canonicalTime(value)).toBe(value);
  });

  test("the renderer refuses what it could not send in read-back form (upper case, zero, leading zeros, fractions)", () => {
    for (const value of ["1D", "0d", "01d", "1.5h", "1M", "1w", ""]) expect(isEsDuration(value)).toBe(false);
  });
});

describe("byte sizes: the providers' read-back form and the renderer's are the same", () => {
  // Each unit, any letter case, and the largest size of a unit that Elasticsearch's long holds.
  const accepted = ["1b", "1B", "1kb", "512mb", "1024MB", "10gb", "10GB", "50Gb", "1tb", "8191pb", "9007199254740991kb", "9223372036854775807b"];
  test.each(accepted)("%j", (value) => {
    expect(isEsByteSize(value)).toBe(true);
    expect(runtime.canonicalBytes(value)).toBe(esByteSizeAsReturned(value));
  });

  test("the rendered rollover size reads back as sent", () => {
    const sent = renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10GB", deleteAfter: "7d" }).phases.hot!.actions!.rollover!
      .max_primary_shard_size;
    expect(sent).toBe("10gb");
    expect(runtime.canonicalBytes(sent)).toBe(sent);
  });

  test("beyond the largest long, both refuse or leave it alone: the renderer does not send it", () => {
    for (const value of ["8192pb", "9223372036854775808b", "0gb", "1.5gb", "10 gb", "10g"]) expect(isEsByteSize(value)).toBe(false);
  });
});

describe("Pulumi's placeholder for a value not known during preview", () => {
  test("is the one @pulumi/pulumi uses, so a preview's unknown inputs are not failures", async () => {
    expect((await check(runtime.roleProvider, { connection: unknownValue, name: "role", body: unknownValue })).failures).toEqual([]);
    expect((await check(runtime.kibanaDataViewProvider, { connection: unknownValue, dataView: unknownValue })).failures).toEqual([]);
    // Any other string is a value, and is checked.
    expect((await check(runtime.roleProvider, { connection: `${unknownValue}-x`, name: "role", body: {} })).failures).not.toEqual([]);
  });
});

describe("every body the renderers make passes its provider's check", () => {
  const conn = connection("http://127.0.0.1:9200");
  test.each([
    ["dev", defaultDataStream("dev")],
    ["eu.prod-2", "logs-payments-eu"],
  ])("stack %j, data stream %j", async (stack, dataStream) => {
    const naming = logsNaming(stack, dataStream);
    const cases: [dynamic.ResourceProvider, object][] = [
      [runtime.roleProvider, { connection: conn, name: naming.writerRole, body: renderWriterRole(naming.dataStream) }],
      [runtime.roleProvider, { connection: conn, name: naming.readerRole, body: renderReaderRole(naming.dataStream) }],
      [runtime.roleProvider, { connection: conn, name: naming.kibanaViewerRole, body: renderKibanaViewerRole(naming.dataStream) }],
      [
        runtime.ilmPolicyProvider,
        {
          connection: conn,
          name: naming.ilmPolicy,
          body: { policy: renderIlmPolicy({ rolloverMaxAge: "1d", rolloverMaxPrimaryShardSize: "10gb", deleteAfter: "7d" }) },
        },
      ],
      [
        runtime.indexTemplateProvider,
        {
          connection: conn,
          name: naming.indexTemplate,
          body: renderIndexTemplate({
            dataStream: naming.dataStream,
            ilmPolicy: naming.ilmPolicy,
            pipeline: naming.pipeline,
            finalPipeline: naming.finalPipeline,
            failureStoreRetention: "30d",
          }),
        },
      ],
      [runtime.ingestPipelineProvider, { connection: conn, name: naming.pipeline, body: renderIngestPipeline() }],
      [runtime.ingestPipelineProvider, { connection: conn, name: naming.finalPipeline, body: renderHostIdentityPipeline("docker-host") }],
      [
        runtime.elasticsearchApiKeyProvider,
        { connection: conn, name: agentApiKeyName(naming, "app-1.example.com"), body: renderAgentApiKey(naming, "app-1.example.com", ["api"], "90d") },
      ],
      [
        runtime.kibanaDataViewProvider,
        { connection: conn, dataView: renderDataView({ id: naming.dataViewId, dataStream: naming.dataStream, name: `Atra logs (${stack})` }).data_view },
      ],
      [
        runtime.kibanaSavedObjectProvider,
        {
          connection: conn,
          type: "search",
          objectId: naming.recentErrorsSearchId,
          ...renderRecentErrorsSearch({ id: naming.recentErrorsSearchId, dataViewId: naming.dataViewId, title: "Recent errors" }),
        },
      ],
    ];
    for (const [provider, inputs] of cases) expect((await check(provider, inputs)).failures).toEqual([]);
  });
});

describe("the derived-API-key rule: the provider's copy and the renderers' agree", () => {
  const cases: [string, unknown][] = [
    ["the agents' key", renderAgentApiKey(logsNaming("dev", defaultDataStream("dev")), "app-1.example.com", ["api"], "90d").role_descriptors],
    ["none", undefined],
    ["an empty set", {}],
    ["one empty descriptor", { none: {} }],
    ["empty lists", { none: { cluster: [], indices: [], applications: [], run_as: [], metadata: {} } }],
    ["metadata only", { tagged: { metadata: { a: 1 } } }],
    ["one of two granting", { none: {}, reader: { indices: [{ names: ["x"], privileges: ["read"] }] } }],
    ["a global privilege", { app: { global: { application: { manage: { applications: ["a"] } } } } }],
    ["run_as", { sudo: { run_as: ["someone"] } }],
  ];
  test.each(cases)("%s", (_what, descriptors) => {
    expect(runtime.derivedKeyRefused(descriptors)).toBe(derivedApiKeyRefused(descriptors as Parameters<typeof derivedApiKeyRefused>[0]));
  });
});
