/**
 * The Elasticsearch and Kibana dynamic providers, driven the way Pulumi's dynamic-provider host
 * drives them: each provider is serialized with `pulumi.runtime.serializeFunction` (as
 * `pulumi.dynamic.Resource` does), loaded back from that text with require-from-string and
 * `.handler()`, and its check/create/read/diff/update/delete are called against an in-process fake
 * of the documented Elasticsearch 9 and Kibana 9 APIs (test/support/fake-elastic.ts). The resource
 * classes are also registered under Pulumi's mock engine to check what state would hold in secret.
 */
import { renderKibanaViewerRole } from "../../components/logs/elastic-bodies";
import { failure, serializeAndLoad, Serialized } from "../support/serialized-provider";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as runtime from "../../components/elastic/provider-runtime";
import type { DataViewState, ObjectState, SavedObjectState, UserState, BuiltinPasswordState } from "../../components/elastic/provider-runtime";
import type { ElasticConnection, RetryOptions } from "../../components/elastic/connection";
import { FakeElastic, RecordedRequest, startFakeElastic } from "../support/fake-elastic";
import { defaultDataStream, logsNaming, renderIndexTemplate } from "../../components/logs/elastic-bodies";

const ADMIN_PASSWORD = "es-admin-Pa55word!";
const FAST: RetryOptions = { maxElapsedMs: 3_000, initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 2_000 };
const COMPONENTS_DIR = path.resolve(__dirname, "../../components");

const PROVIDERS = {
  role: runtime.roleProvider,
  ilmPolicy: runtime.ilmPolicyProvider,
  indexTemplate: runtime.indexTemplateProvider,
  ingestPipeline: runtime.ingestPipelineProvider,
  user: runtime.nativeUserProvider,
  builtinPassword: runtime.builtinUserPasswordProvider,
  dataView: runtime.kibanaDataViewProvider,
  savedObject: runtime.kibanaSavedObjectProvider,
};
type ProviderName = keyof typeof PROVIDERS;

const serialized = {} as Record<ProviderName, Serialized>;
const loaded = (name: ProviderName) => serialized[name].provider;

beforeAll(async () => {
  for (const name of Object.keys(PROVIDERS) as ProviderName[]) serialized[name] = await serializeAndLoad(PROVIDERS[name]);
});

let fake: FakeElastic;
let connection: ElasticConnection;
beforeEach(async () => {
  fake = await startFakeElastic(ADMIN_PASSWORD);
  connection = { url: fake.url, username: "elastic", password: ADMIN_PASSWORD };
});
afterEach(async () => {
  await fake.close();
});

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
const last = (method: string, pathPrefix: string): RecordedRequest => {
  const found = [...fake.requests].reverse().find((request) => request.method === method && request.path.startsWith(pathPrefix));
  if (!found) throw new Error(`no ${method} ${pathPrefix} recorded; got ${fake.requests.map((r) => `${r.method} ${r.path}`).join(", ")}`);
  return found;
};
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** The same value with every object's keys in reverse order. */
const reverseKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, item]) => [key, reverseKeys(item)]),
    );
  return value;
};

/** A 127.0.0.1 port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------

describe("serialized providers", () => {
  test.each(Object.keys(PROVIDERS) as ProviderName[])("%s serializes without secrets, local module paths or local requires", (name) => {
    const { text, containsSecrets } = serialized[name];
    expect(containsSecrets).toBe(false);
    expect(text).not.toContain(COMPONENTS_DIR);
    expect(text).not.toContain(path.resolve(__dirname, "../.."));
    expect(text).not.toContain(ADMIN_PASSWORD);
    const requires = [...text.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]);
    // Node's own modules for a private CA (tls, net: the fingerprint's CA; https: Kibana's calls with a CA).
    for (const required of requires) expect(["@elastic/elasticsearch", "tls", "net", "https"]).toContain(required);
    expect(text).toMatch(/^exports\.handler = /);
  });

  test("the Elasticsearch providers load the official client and the Kibana ones use fetch (node's https only with a private CA)", () => {
    for (const name of ["role", "ilmPolicy", "indexTemplate", "ingestPipeline", "user", "builtinPassword"] as ProviderName[]) {
      expect(serialized[name].text).toContain('require("@elastic/elasticsearch")');
    }
    for (const name of ["dataView", "savedObject"] as ProviderName[]) {
      expect(serialized[name].text).not.toContain('require("@elastic/elasticsearch")');
      expect(serialized[name].text).toContain("fetch(");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The four Elasticsearch objects with a name and a body share one behaviour; each case says how
// its API stores and addresses the object.

interface BodyCase {
  provider: ProviderName;
  path: (name: string) => string;
  stored: (name: string) => unknown;
  v1: object;
  v2: object;
  /** Changes the object behind Pulumi's back (as someone in Kibana's UI would). */
  tamper: (name: string) => void;
}

const BODY_CASES: Record<string, BodyCase> = {
  role: {
    provider: "role",
    path: (name) => `/_security/role/${name}`,
    stored: (name) => fake.roles.get(name),
    v1: { cluster: ["monitor"], indices: [{ names: ["logs-atra-*"], privileges: ["read", "view_index_metadata"] }] },
    v2: { cluster: ["monitor"], indices: [{ names: ["logs-atra-*"], privileges: ["read", "view_index_metadata", "write"] }] },
    tamper: (name) => {
      (fake.roles.get(name) as { cluster: string[] }).cluster = ["all"];
    },
  },
  // People's Kibana viewer: a role with Kibana's application privileges, stored and read back as written.
  kibanaViewerRole: {
    provider: "role",
    path: (name) => `/_security/role/${name}`,
    stored: (name) => fake.roles.get(name),
    v1: renderKibanaViewerRole("logs-atra-dev"),
    v2: {
      ...renderKibanaViewerRole("logs-atra-dev"),
      applications: [{ application: "kibana-.kibana", privileges: ["feature_discover_v2.read"], resources: ["space:default"] }],
    },
    tamper: (name) => {
      (fake.roles.get(name) as { applications: unknown[] }).applications = [{ application: "kibana-.kibana", privileges: ["all"], resources: ["*"] }];
    },
  },
  ilmPolicy: {
    provider: "ilmPolicy",
    path: (name) => `/_ilm/policy/${name}`,
    stored: (name) => fake.ilmPolicies.get(name),
    v1: {
      policy: {
        phases: {
          hot: { actions: { rollover: { max_age: "1d", max_primary_shard_size: "10gb" } } },
          delete: { min_age: "14d", actions: { delete: {} } },
        },
      },
    },
    v2: {
      policy: {
        phases: {
          hot: { actions: { rollover: { max_age: "1d", max_primary_shard_size: "10gb" } } },
          delete: { min_age: "30d", actions: { delete: {} } },
        },
      },
    },
    tamper: (name) => {
      const stored = fake.ilmPolicies.get(name) as { policy: { phases: { delete: { min_age: string } } } };
      stored.policy.phases.delete.min_age = "1d";
    },
  },
  indexTemplate: {
    provider: "indexTemplate",
    path: (name) => `/_index_template/${name}`,
    stored: (name) => fake.indexTemplates.get(name),
    v1: {
      index_patterns: ["logs-atra-*"],
      data_stream: {},
      priority: 200,
      template: {
        settings: { number_of_shards: 1, number_of_replicas: 0, "index.lifecycle.name": "atra-logs", index: { default_pipeline: "atra-structlog" } },
        mappings: { properties: { "@timestamp": { type: "date" }, message: { type: "match_only_text" } } },
      },
    },
    v2: {
      index_patterns: ["logs-atra-*"],
      data_stream: {},
      priority: 300,
      template: {
        settings: { number_of_shards: 1, number_of_replicas: 0, "index.lifecycle.name": "atra-logs", index: { default_pipeline: "atra-structlog" } },
        mappings: { properties: { "@timestamp": { type: "date" }, message: { type: "match_only_text" } } },
      },
    },
    tamper: (name) => {
      const stored = fake.indexTemplates.get(name) as { template: { settings: { index: Record<string, string> } } };
      stored.template.settings.index.number_of_replicas = "2";
    },
  },
  ingestPipeline: {
    provider: "ingestPipeline",
    path: (name) => `/_ingest/pipeline/${name}`,
    stored: (name) => fake.pipelines.get(name),
    v1: { description: "structlog JSON to ECS", processors: [{ rename: { field: "event", target_field: "message", ignore_missing: true } }] },
    v2: {
      description: "structlog JSON to ECS",
      processors: [
        { rename: { field: "event", target_field: "message", ignore_missing: true } },
        { rename: { field: "level", target_field: "log.level", ignore_missing: true } },
      ],
    },
    tamper: (name) => {
      (fake.pipelines.get(name) as { processors: unknown[] }).processors = [];
    },
  },
};

describe.each(Object.entries(BODY_CASES))("Elasticsearch %s", (_label, kind) => {
  const provider = () => loaded(kind.provider);
  const inputs = (body: object, name = "atra-logs"): ObjectState<object> => ({ connection, name, body: clone(body), retry: FAST });

  test("check accepts good inputs and names bad ones", async () => {
    const good = await provider().check({}, inputs(kind.v1));
    expect(good.failures).toEqual([]);
    const bad = await provider().check({}, { connection: { ...connection, url: "ftp://x" }, name: "", body: kind.v1 });
    expect(bad.failures?.map((failure) => failure.property)).toEqual(expect.arrayContaining(["connection", "name"]));
    // During preview, values from resources not created yet are unknown: not a failure.
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const preview = await provider().check({}, { connection: unknown, name: "atra-logs", body: unknown });
    expect(preview.failures).toEqual([]);
  });

  test("create PUTs the typed body with the client's headers and basic auth; a second create is an upsert", async () => {
    const created = await provider().create(inputs(kind.v1));
    expect(created.id).toBe("atra-logs");
    expect(created.outs).toEqual(inputs(kind.v1));
    const put = last("PUT", kind.path("atra-logs"));
    expect(put.body).toEqual(kind.v1);
    expect(put.headers.authorization).toBe(basic("elastic", ADMIN_PASSWORD));
    expect(put.headers["content-type"]).toContain("application/vnd.elasticsearch+json; compatible-with=9");
    expect(put.headers.accept).toContain("compatible-with=9");
    expect(kind.stored("atra-logs")).toBeDefined();
    await expect(provider().create(inputs(kind.v1))).resolves.toEqual(created);
  });

  test("read finds it unchanged despite server-added defaults, reports drift, and reports it gone on 404", async () => {
    const { outs } = await provider().create(inputs(kind.v1));
    const present = await provider().read("atra-logs", outs);
    expect(present.id).toBe("atra-logs");
    expect(present.props).toEqual(outs);
    expect((await provider().diff("atra-logs", present.props, inputs(kind.v1))).changes).toBe(false);

    kind.tamper("atra-logs");
    const drifted = await provider().read("atra-logs", outs);
    expect(drifted.id).toBe("atra-logs");
    expect(drifted.props.body).not.toEqual(kind.v1);
    expect((await provider().diff("atra-logs", drifted.props, inputs(kind.v1))).changes).toBe(true);

    const missing = await provider().read("never-made", inputs(kind.v1, "never-made"));
    expect(missing.id).toBe("");
    expect(last("GET", kind.path("never-made")).status).toBe(404);
  });

  test("diff: same inputs no change, new body an update, new name a replacement, new password an update", async () => {
    const { outs } = await provider().create(inputs(kind.v1));
    expect(await provider().diff("atra-logs", outs, inputs(kind.v1))).toEqual({ changes: false, replaces: [] });
    expect(await provider().diff("atra-logs", outs, inputs(kind.v2))).toEqual({ changes: true, replaces: [] });
    expect(await provider().diff("atra-logs", outs, inputs(kind.v1, "atra-logs-2"))).toEqual({ changes: true, replaces: ["name"] });
    const rotated = { ...inputs(kind.v1), connection: { ...connection, password: "rotated-password" } };
    expect(await provider().diff("atra-logs", outs, rotated)).toEqual({ changes: true, replaces: [] });
    // Key order is not a change.
    const reordered = { ...inputs(kind.v1), body: reverseKeys(kind.v1) as object };
    expect(JSON.stringify(reordered.body)).not.toBe(JSON.stringify(kind.v1));
    expect((await provider().diff("atra-logs", outs, reordered)).changes).toBe(false);
  });

  test("update PUTs the new body; read then matches it", async () => {
    const { outs } = await provider().create(inputs(kind.v1));
    const updated = await provider().update("atra-logs", outs, inputs(kind.v2));
    expect(updated.outs).toEqual(inputs(kind.v2));
    expect(last("PUT", kind.path("atra-logs")).body).toEqual(kind.v2);
    const read = await provider().read("atra-logs", updated.outs);
    expect(read.props.body).toEqual(kind.v2);
  });

  test("delete removes it and tolerates it being gone already", async () => {
    const { outs } = await provider().create(inputs(kind.v1));
    await provider().delete("atra-logs", outs);
    expect(kind.stored("atra-logs")).toBeUndefined();
    expect(last("DELETE", kind.path("atra-logs")).status).toBe(200);
    await expect(provider().delete("atra-logs", outs)).resolves.toBeUndefined();
    expect(last("DELETE", kind.path("atra-logs")).status).toBe(404);
  });

  test("create retries while the server starts (503) and then succeeds", async () => {
    fake.startingFor(3);
    await provider().create(inputs(kind.v1));
    const puts = fake.requests.filter((request) => request.method === "PUT").map((request) => request.status);
    expect(puts).toEqual([503, 503, 503, 200]);
    expect(kind.stored("atra-logs")).toBeDefined();
  });

  test("bad credentials fail at once with ES's error type and reason, naming the object, without the password", async () => {
    const message = await failure(provider().create({ ...inputs(kind.v1), connection: { ...connection, password: "wrong-password-123" } }));
    expect(message).toContain("HTTP 401 security_exception: unable to authenticate user [elastic]");
    expect(message).toContain('"atra-logs"');
    expect(message).toContain(`PUT ${kind.path("atra-logs").slice(1)}`);
    expect(message).not.toContain("wrong-password-123");
    expect(message).not.toContain(ADMIN_PASSWORD);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("Elasticsearch read-back forms: what the server stores differs from what was sent, and is no drift", () => {
  test("ILM time and byte values come back lower-cased in their canonical unit (TimeValue, ByteSizeValue); read finds no drift", async () => {
    const body = {
      policy: {
        phases: {
          hot: { actions: { rollover: { max_age: "1D", max_primary_shard_size: "10GB", min_size: "1g" } } },
          delete: { min_age: "30D", actions: { delete: {} } },
        },
      },
    };
    const state: ObjectState<object> = { connection, name: "atra-logs", body: clone(body), retry: FAST };
    const { outs } = await loaded("ilmPolicy").create(state);
    const stored = fake.ilmPolicies.get("atra-logs") as {
      policy: { phases: Record<string, { min_age: string; actions: Record<string, Record<string, unknown>> }> };
    };
    expect(stored.policy.phases.hot.actions.rollover).toEqual({ max_age: "1d", max_primary_shard_size: "10gb", min_size: "1gb" });
    expect(stored.policy.phases.hot.min_age).toBe("0ms");
    expect(stored.policy.phases.delete).toEqual({ min_age: "30d", actions: { delete: { delete_searchable_snapshot: true } } });
    const read = await loaded("ilmPolicy").read("atra-logs", outs);
    expect(read.props).toEqual(outs);
    // A real change still shows.
    stored.policy.phases.delete.min_age = "7d";
    expect(((await loaded("ilmPolicy").read("atra-logs", outs)).props as ObjectState<typeof body>).body.policy.phases.delete.min_age).toBe("7d");
  });

  test("the fake renders sizes as ByteSizeValue.getStringRep does", async () => {
    const sizes = { max_size: "1.5gb", max_primary_shard_size: "1024MB", min_size: "0", min_primary_shard_size: "512k" };
    await loaded("ilmPolicy").create({ connection, name: "sizes", body: { policy: { phases: { hot: { actions: { rollover: sizes } } } } }, retry: FAST });
    const stored = fake.ilmPolicies.get("sizes") as { policy: { phases: { hot: { actions: { rollover: Record<string, string> } } } } };
    expect(stored.policy.phases.hot.actions.rollover).toEqual({
      max_size: "1610612736b",
      max_primary_shard_size: "1024mb",
      min_size: "0",
      min_primary_shard_size: "512kb",
    });
  });

  test("a role's index names given as one string, a template's index_patterns as one string: stored as lists, no drift", async () => {
    const role: ObjectState<object> = { connection, name: "reader", body: { indices: [{ names: "logs-atra-*", privileges: ["read"] }] }, retry: FAST };
    const createdRole = await loaded("role").create(role);
    expect((fake.roles.get("reader") as { indices: { names: string[] }[] }).indices[0].names).toEqual(["logs-atra-*"]);
    expect((await loaded("role").read("reader", createdRole.outs)).props).toEqual(createdRole.outs);

    const template: ObjectState<object> = { connection, name: "t", body: { index_patterns: "logs-atra-*", data_stream: {}, priority: 200 }, retry: FAST };
    const createdTemplate = await loaded("indexTemplate").create(template);
    expect(fake.indexTemplates.get("t")).toMatchObject({ index_patterns: ["logs-atra-*"], data_stream: { hidden: false, allow_custom_routing: false } });
    expect((await loaded("indexTemplate").read("t", createdTemplate.outs)).props).toEqual(createdTemplate.outs);
  });

  // The shipped template: index.mode, auto_expand_replicas (AutoExpandReplicas.java: a string setting, stored as
  // sent) and the failure store's data_retention (DataStreamLifecycle.toXContent: getStringRep, plus `enabled`)
  // come back in the form sent, so a refresh finds no drift and a second `up` changes nothing.
  test("the rendered index template reads back as sent (mode, auto_expand_replicas, failure store retention)", async () => {
    const naming = logsNaming("prod", defaultDataStream("prod"));
    const body = renderIndexTemplate({
      dataStream: naming.dataStream,
      ilmPolicy: naming.ilmPolicy,
      pipeline: naming.pipeline,
      finalPipeline: naming.finalPipeline,
      failureStoreRetention: "90d",
    });
    const state: ObjectState<object> = { connection, name: naming.indexTemplate, body, retry: FAST };
    const created = await loaded("indexTemplate").create(state);
    const stored = fake.indexTemplates.get(naming.indexTemplate) as {
      template: { settings: { index: Record<string, unknown> }; data_stream_options: unknown };
    };
    expect(stored.template.settings.index).toMatchObject({ mode: "standard", auto_expand_replicas: "0-1", number_of_shards: "1" });
    expect(stored.template.data_stream_options).toEqual({ failure_store: { enabled: true, lifecycle: { enabled: true, data_retention: "90d" } } });
    const read = await loaded("indexTemplate").read(naming.indexTemplate, created.outs);
    expect(read.props).toEqual(created.outs);
    expect((await loaded("indexTemplate").diff(naming.indexTemplate, created.outs, read.props as ObjectState<object>)).changes).toBe(false);
    // Not trivially equal: a server-side change of the retention shows as drift.
    (stored.template.data_stream_options as { failure_store: { lifecycle: { data_retention: string } } }).failure_store.lifecycle.data_retention = "30d";
    expect((await loaded("indexTemplate").read(naming.indexTemplate, created.outs)).props).not.toEqual(created.outs);
  });

  // Elasticsearch 9.2+ answers GET _index_template and GET _ingest/pipeline with created_date_millis and
  // modified_date_millis (#132083, #130847; ComposableIndexTemplate.toXContent, timestampFieldsFromUnixEpochMillis),
  // fields the program never sets: read compares only what it set (provider-runtime.ts covers/project), so they
  // are no drift, and a refresh does not write them into the state.
  test("9.2+ read-back timestamps (created_date_millis, modified_date_millis) on templates and pipelines are no drift", async () => {
    const naming = logsNaming("dev", defaultDataStream("dev"));
    const template = renderIndexTemplate({
      dataStream: naming.dataStream,
      ilmPolicy: naming.ilmPolicy,
      pipeline: naming.pipeline,
      finalPipeline: naming.finalPipeline,
      failureStoreRetention: "7d",
    });
    const createdTemplate = await loaded("indexTemplate").create({ connection, name: naming.indexTemplate, body: template, retry: FAST });
    const pipelineBody = { description: "p", processors: [{ set: { field: "a", value: "b" } }] };
    const createdPipeline = await loaded("ingestPipeline").create({ connection, name: "stamped", body: pipelineBody, retry: FAST });
    const headers = { authorization: basic("elastic", ADMIN_PASSWORD) };
    const rawTemplate = (await (await fetch(`${fake.url}/_index_template/${naming.indexTemplate}`, { headers })).json()) as {
      index_templates: { index_template: Record<string, unknown> }[];
    };
    expect(rawTemplate.index_templates[0].index_template).toMatchObject({ created_date_millis: expect.any(Number), modified_date_millis: expect.any(Number) });
    const rawPipeline = (await (await fetch(`${fake.url}/_ingest/pipeline/stamped`, { headers })).json()) as Record<string, Record<string, unknown>>;
    expect(rawPipeline.stamped).toMatchObject({ created_date_millis: expect.any(Number), modified_date_millis: expect.any(Number) });
    for (const [name, created] of [
      ["indexTemplate", createdTemplate],
      ["ingestPipeline", createdPipeline],
    ] as const) {
      const read = await loaded(name).read(String(created.id), created.outs);
      expect(read.props).toEqual(created.outs);
      expect(JSON.stringify(read.props)).not.toMatch(/_date/);
      expect((await loaded(name).diff(String(created.id), created.outs, read.props as ObjectState<object>)).changes).toBe(false);
    }
  });
});

describe("the fake answers as Elasticsearch does (each case cites its upstream source in fake-elastic.ts)", () => {
  const es = async (method: string, path: string, body?: unknown, user = "elastic", password = ADMIN_PASSWORD) => {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: basic(user, password), accept: "application/vnd.elasticsearch+json; compatible-with=9", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  const reasonOf = (answer: { body?: Record<string, unknown> }) => {
    const error = answer.body?.error as { type: string; reason: string };
    return `${error.type}: ${error.reason}`;
  };

  test("security: reserved users, short passwords, missing users", async () => {
    const reserved = await es("PUT", "/_security/user/kibana_system", { password: "long-enough", roles: [] });
    expect([reserved.status, reasonOf(reserved)]).toEqual([
      400,
      "action_request_validation_exception: Validation Failed: 1: user [kibana_system] is reserved and only the password can be changed;",
    ]);
    const short = await es("PUT", "/_security/user/someone", { password: "abc", roles: [] });
    expect([short.status, reasonOf(short)]).toEqual([400, "validation_exception: Validation Failed: 1: passwords must be at least [6] characters long;"]);
    const noPassword = await es("PUT", "/_security/user/someone", { roles: [] });
    expect([noPassword.status, reasonOf(noPassword)]).toEqual([
      400,
      "validation_exception: Validation Failed: 1: password must be specified unless you are updating an existing user;",
    ]);
    const missing = await es("POST", "/_security/user/nobody/_password", { password: "long-enough" });
    expect([missing.status, reasonOf(missing)]).toEqual([400, "validation_exception: Validation Failed: 1: user must exist in order to change password;"]);
    const deleteReserved = await es("DELETE", "/_security/user/elastic");
    expect([deleteReserved.status, reasonOf(deleteReserved)]).toEqual([400, "illegal_argument_exception: user [elastic] is reserved and cannot be deleted"]);
    expect(await es("GET", "/_security/role/none")).toEqual({ status: 404, body: {} });
    expect(await es("DELETE", "/_security/role/none")).toEqual({ status: 404, body: { found: false } });
    expect(await es("GET", "/_security/user/none")).toEqual({ status: 404, body: {} });
  });

  test("401 names the request's uri with its query; an unknown route is a 400 with a bare error string", async () => {
    const denied = await es("GET", "/_security/role/x?pretty", undefined, "elastic", "wrong-password");
    expect([denied.status, reasonOf(denied)]).toEqual([
      401,
      "security_exception: unable to authenticate user [elastic] for REST request [/_security/role/x?pretty]",
    ]);
    expect(await es("GET", "/_nothing_here")).toEqual({ status: 400, body: { error: "no handler found for uri [/_nothing_here] and method [GET]" } });
  });

  test("ILM, templates and pipelines: their 404 bodies", async () => {
    const ilm = await es("GET", "/_ilm/policy/none");
    expect([ilm.status, reasonOf(ilm)]).toEqual([404, "resource_not_found_exception: Lifecycle policy not found: none"]);
    const template = await es("GET", "/_index_template/none");
    expect([template.status, reasonOf(template)]).toEqual([404, "resource_not_found_exception: index template matching [none] not found"]);
    const deleteTemplate = await es("DELETE", "/_index_template/none");
    expect([deleteTemplate.status, reasonOf(deleteTemplate)]).toEqual([404, "index_template_missing_exception: index_template [none] missing"]);
    expect(await es("GET", "/_ingest/pipeline/none")).toEqual({ status: 404, body: {} });
    const deletePipeline = await es("DELETE", "/_ingest/pipeline/none");
    expect([deletePipeline.status, reasonOf(deletePipeline)]).toEqual([404, "resource_not_found_exception: pipeline [none] is missing"]);
  });

  test("9.2+: templates and pipelines carry their timestamps, the ISO forms only with ?human=true; a PUT keeps created", async () => {
    await es("PUT", "/_ingest/pipeline/timed", { processors: [] });
    const first = (await es("GET", "/_ingest/pipeline/timed")).body!.timed as Record<string, unknown>;
    expect(Object.keys(first).sort()).toEqual(["created_date_millis", "modified_date_millis", "processors"]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await es("PUT", "/_ingest/pipeline/timed", { processors: [], description: "again" });
    const human = (await es("GET", "/_ingest/pipeline/timed?human=true")).body!.timed as Record<string, number | string>;
    expect(human.created_date_millis).toBe(first.created_date_millis);
    expect(human.modified_date_millis as number).toBeGreaterThan(first.modified_date_millis as number);
    expect(human.created_date).toBe(new Date(human.created_date_millis as number).toISOString());
    expect(human.modified_date).toBe(new Date(human.modified_date_millis as number).toISOString());
    await es("PUT", "/_index_template/timed", { index_patterns: ["timed-*"] });
    const template = (await es("GET", "/_index_template/timed?human=true")).body as { index_templates: { index_template: Record<string, unknown> }[] };
    expect(template.index_templates[0].index_template).toMatchObject({ created_date: expect.any(String), modified_date_millis: expect.any(Number) });
  });

  test("9.2+: a document the failure store keeps answers 201 with failure_store used; an indexed one 201 without it", async () => {
    const naming = logsNaming("dev", defaultDataStream("dev"));
    await es(
      "PUT",
      `/_index_template/${naming.indexTemplate}`,
      renderIndexTemplate({
        dataStream: naming.dataStream,
        ilmPolicy: naming.ilmPolicy,
        pipeline: naming.pipeline,
        finalPipeline: naming.finalPipeline,
        failureStoreRetention: "7d",
      }),
    );
    const indexed = fake.ingest(naming.dataStream, { message: "ok" });
    expect(indexed).toEqual({ _index: expect.stringMatching(new RegExp(`^\\.ds-${naming.dataStream}-`)), status: 201, result: "created" });
    const kept = fake.ingestFailure(naming.dataStream, { type: "document_parsing_exception", message: "failed to parse field [level]" });
    expect(kept).toEqual({ _index: expect.stringMatching(new RegExp(`^\\.fs-${naming.dataStream}-`)), status: 201, result: "created", failure_store: "used" });
  });
});

describe("Elasticsearch errors and retries", () => {
  test("a 400 is not retried and carries ES's error type and reason", async () => {
    const message = await failure(loaded("ingestPipeline").create({ connection, name: "broken", body: { description: "no processors" }, retry: FAST }));
    expect(message).toMatch(
      /Elasticsearch ingest pipeline "broken": PUT _ingest\/pipeline\/broken failed: HTTP 400 parse_exception: \[processors\] required property is missing/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  test("connection refused is retried with bounded backoff, then fails clearly", async () => {
    const port = await closedPort();
    const started = Date.now();
    const message = await failure(
      loaded("role").create({ connection: { ...connection, url: `http://127.0.0.1:${port}` }, name: "r", body: {}, retry: { ...FAST, maxElapsedMs: 1_000 } }),
    );
    const elapsed = Date.now() - started;
    expect(message).toContain("ECONNREFUSED");
    expect(message).toMatch(/gave up after ([3-9]|\d\d+) attempts/);
    expect(message).not.toContain(ADMIN_PASSWORD);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(5_000);
  });

  test("a server that stays unavailable is given up on within the budget", async () => {
    fake.startingFor(1_000);
    const message = await failure(loaded("role").create({ connection, name: "r", body: {}, retry: { ...FAST, maxElapsedMs: 500 } }));
    expect(message).toContain("HTTP 503 unavailable_shards_exception: at least one primary shard for the index [.security-7] is unavailable");
    expect(fake.requests.length).toBeGreaterThan(2);
    expect(fake.requests.length).toBeLessThan(20);
  });

  test("a server without the Elasticsearch product header is refused, not retried", async () => {
    const http = await import("http");
    const impostor = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = impostor.address() as net.AddressInfo;
      const message = await failure(
        loaded("role").create({ connection: { ...connection, url: `http://127.0.0.1:${port}` }, name: "r", body: {}, retry: FAST }),
      );
      expect(message).toMatch(/ProductNotSupportedError|not Elasticsearch|unknown product/i);
      expect(message).not.toMatch(/gave up after/);
    } finally {
      impostor.closeAllConnections();
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("Elasticsearch native user", () => {
  const provider = () => loaded("user");
  const inputs = (overrides: Partial<UserState> = {}): UserState => ({
    connection,
    name: "atra-shipper",
    password: "shipper-Secret-1",
    body: { roles: ["atra_logs_writer"], full_name: "Atra log shipper" },
    retry: FAST,
    ...overrides,
  });

  test("create PUTs roles, full_name and the password; the user can then authenticate", async () => {
    const created = await provider().create(inputs());
    expect(created.id).toBe("atra-shipper");
    // The username goes in the path only: @elastic/elasticsearch 9.5.1 lists `username` as a path parameter and no
    // longer as a body one (lib/api/api/security.js, 'security.put_user' acceptedParams); 9.1.1 sent it in both.
    expect(last("PUT", "/_security/user/atra-shipper").body).toEqual({
      roles: ["atra_logs_writer"],
      full_name: "Atra log shipper",
      password: "shipper-Secret-1",
    });
    expect(fake.passwords.get("atra-shipper")).toBe("shipper-Secret-1");
    await expect(provider().create(inputs())).resolves.toEqual(created);
  });

  test("read checks fields and password; a password changed outside Pulumi shows as a change; 404 is gone", async () => {
    const { outs } = await provider().create(inputs());
    const present = await provider().read("atra-shipper", outs);
    expect(present.props).toEqual(outs);
    expect(last("GET", "/_security/_authenticate").headers.authorization).toBe(basic("atra-shipper", "shipper-Secret-1"));
    expect((await provider().diff("atra-shipper", present.props, inputs())).changes).toBe(false);

    fake.passwords.set("atra-shipper", "changed-by-hand");
    const drifted = await provider().read("atra-shipper", outs);
    expect(drifted.props.password).toBe("");
    expect((await provider().diff("atra-shipper", drifted.props, inputs())).changes).toBe(true);

    expect((await provider().read("nobody", inputs({ name: "nobody" }))).id).toBe("");
  });

  test("diff, update and delete", async () => {
    const { outs } = await provider().create(inputs());
    expect(await provider().diff("atra-shipper", outs, inputs())).toEqual({ changes: false, replaces: [] });
    expect((await provider().diff("atra-shipper", outs, inputs({ password: "another-secret" }))).changes).toBe(true);
    expect((await provider().diff("atra-shipper", outs, inputs({ body: { roles: ["other"] } }))).changes).toBe(true);
    expect((await provider().diff("atra-shipper", outs, inputs({ name: "atra-shipper-2" }))).replaces).toEqual(["name"]);

    await provider().update("atra-shipper", outs, inputs({ password: "another-secret", body: { roles: ["atra_logs_writer", "monitoring_user"] } }));
    expect(fake.users.get("atra-shipper")?.roles).toEqual(["atra_logs_writer", "monitoring_user"]);
    expect(fake.passwords.get("atra-shipper")).toBe("another-secret");

    await provider().delete("atra-shipper", outs);
    expect(fake.users.has("atra-shipper")).toBe(false);
    await expect(provider().delete("atra-shipper", outs)).resolves.toBeUndefined();
  });

  test("check refuses a short password; a 400 from ES never echoes the password", async () => {
    const checked = await provider().check({}, inputs({ password: "abc" }));
    expect(checked.failures?.map((failure) => failure.property)).toContain("password");
    const message = await failure(provider().create(inputs({ password: "abcd" })));
    expect(message).toContain("HTTP 400 validation_exception: Validation Failed: 1: passwords must be at least [6] characters long;");
    expect(message).not.toContain("abcd");
  });
});

describe("Elasticsearch built-in user password", () => {
  const provider = () => loaded("builtinPassword");
  const inputs = (overrides: Partial<BuiltinPasswordState> = {}): BuiltinPasswordState => ({
    connection,
    name: "kibana_system",
    password: "kibana-system-Secret",
    retry: FAST,
    ...overrides,
  });

  test("create sets _password as the admin; read verifies by authenticating as the user", async () => {
    const created = await provider().create(inputs());
    expect(created.id).toBe("kibana_system");
    // ES takes POST or PUT here; the official client sends PUT.
    const post = last("PUT", "/_security/user/kibana_system/_password");
    expect(post.body).toEqual({ password: "kibana-system-Secret" });
    expect(post.headers.authorization).toBe(basic("elastic", ADMIN_PASSWORD));
    expect(fake.passwords.get("kibana_system")).toBe("kibana-system-Secret");

    const present = await provider().read("kibana_system", created.outs);
    expect(present.props).toEqual(created.outs);
    const auth = last("GET", "/_security/_authenticate");
    expect(auth.headers.authorization).toBe(basic("kibana_system", "kibana-system-Secret"));
    expect(auth.status).toBe(200);

    fake.passwords.set("kibana_system", "reset-by-someone");
    const drifted = await provider().read("kibana_system", created.outs);
    expect(drifted.id).toBe("kibana_system");
    expect(drifted.props.password).toBe("");
    expect(last("GET", "/_security/_authenticate").status).toBe(401);
    expect((await provider().diff("kibana_system", drifted.props, inputs())).changes).toBe(true);
  });

  test("diff, update, and delete as a no-op", async () => {
    const { outs } = await provider().create(inputs());
    expect(await provider().diff("kibana_system", outs, inputs())).toEqual({ changes: false, replaces: [] });
    expect((await provider().diff("kibana_system", outs, inputs({ password: "new-kibana-secret" }))).changes).toBe(true);
    expect((await provider().diff("kibana_system", outs, inputs({ name: "logstash_system" }))).replaces).toEqual(["name"]);
    await provider().update("kibana_system", outs, inputs({ password: "new-kibana-secret" }));
    expect(fake.passwords.get("kibana_system")).toBe("new-kibana-secret");
    const before = fake.requests.length;
    await provider().delete("kibana_system", outs);
    expect(fake.requests.length).toBe(before);
    expect(fake.passwords.get("kibana_system")).toBe("new-kibana-secret");
  });

  test("bad admin credentials: 401 with ES's reason, no retry, no password", async () => {
    const message = await failure(provider().create(inputs({ connection: { ...connection, password: "not-the-admin-pw" } })));
    expect(message).toContain('Elasticsearch built-in user "kibana_system": PUT _security/user/kibana_system/_password failed: HTTP 401 security_exception');
    expect(message).not.toContain("not-the-admin-pw");
    expect(message).not.toContain("kibana-system-Secret");
    expect(fake.requests).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe("the fake Kibana models the pinned Kibana", () => {
  test("GET /api/status reports the default images.kibana's version, 9.5.0 (components/logs/services.ts)", async () => {
    const response = await fetch(`${fake.url}/api/status`, { headers: { authorization: basic("elastic", ADMIN_PASSWORD) } });
    expect(response.status).toBe(200);
    const status = (await response.json()) as { version: { number: string } };
    expect(status.version.number).toBe("9.5.0");
  });
});

describe("Kibana data view", () => {
  const provider = () => loaded("dataView");
  const spec = { id: "atra-logs", title: "logs-atra-*", name: "Atra logs", timeFieldName: "@timestamp" };
  const inputs = (overrides: Partial<DataViewState["dataView"]> = {}, spaceId?: string): DataViewState => ({
    connection,
    dataView: { ...spec, ...overrides },
    ...(spaceId ? { spaceId } : {}),
    retry: FAST,
  });

  test("create POSTs the data view with its fixed id, kbn-xsrf and basic auth", async () => {
    const created = await provider().create(inputs());
    expect(created.id).toBe("atra-logs");
    const post = last("POST", "/api/data_views/data_view");
    expect(post.path).toBe("/api/data_views/data_view");
    expect(post.body).toEqual({ data_view: spec, override: false });
    expect(post.headers["kbn-xsrf"]).toBe("true");
    expect(post.headers.authorization).toBe(basic("elastic", ADMIN_PASSWORD));
    expect(post.headers["content-type"]).toBe("application/json");
    expect(fake.dataViews.get("default/atra-logs")).toMatchObject(spec);
  });

  test("create over an existing data view of the same name updates it (idempotent upsert)", async () => {
    await provider().create(inputs());
    await provider().create(inputs({ timeFieldName: "event.created" }));
    const statuses = fake.requests.map((request) => `${request.method} ${request.path} ${request.status}`);
    expect(statuses).toEqual(["POST /api/data_views/data_view 200", "POST /api/data_views/data_view 400", "POST /api/data_views/data_view/atra-logs 200"]);
    expect(last("POST", "/api/data_views/data_view/atra-logs").body).toEqual({
      data_view: { title: "logs-atra-*", name: "Atra logs", timeFieldName: "event.created" },
    });
    expect(fake.dataViews.get("default/atra-logs")?.timeFieldName).toBe("event.created");
  });

  test("create when the id exists under another name (state lost, renamed in the UI): Kibana's 400 conflict turns into an update", async () => {
    await provider().create(inputs({ name: "Renamed by hand" }));
    await provider().create(inputs());
    expect(fake.requests.map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
      "POST /api/data_views/data_view 200",
      "POST /api/data_views/data_view 400",
      "POST /api/data_views/data_view/atra-logs 200",
    ]);
    expect(fake.dataViews.get("default/atra-logs")?.name).toBe("Atra logs");
  });

  test("the fake answers a data view create as Kibana does: 400 for a taken name or id (never 409), override overwrites", async () => {
    const post = async (body: unknown) => {
      const response = await fetch(`${fake.url}/api/data_views/data_view`, {
        method: "POST",
        headers: { "kbn-xsrf": "true", authorization: basic("elastic", ADMIN_PASSWORD), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await post({ data_view: { id: "v1", title: "logs-*", name: "Logs" } })).status).toBe(200);
    // Same name: DataViewsService.createSavedObject's findByName check comes first.
    expect(await post({ data_view: { id: "v2", title: "logs-*", name: "Logs" } })).toEqual({
      status: 400,
      body: { statusCode: 400, error: "Bad Request", message: "Duplicate data view: Logs" },
    });
    // Same id, other name: the saved objects client's conflict, mapped to 400 by handleErrors.
    expect(await post({ data_view: { id: "v1", title: "logs-*", name: "Other" } })).toEqual({
      status: 400,
      body: { statusCode: 400, error: "Bad Request", message: "Saved object [index-pattern/v1] conflict" },
    });
    expect((await post({ data_view: { id: "v1", title: "logs-*", name: "Other" }, override: true })).status).toBe(200);
    expect(fake.dataViews.get("default/v1")?.name).toBe("Other");
    // No name: Kibana names it after its title.
    expect((await post({ data_view: { id: "v3", title: "metrics-*" } })).body.data_view).toMatchObject({ name: "metrics-*", allowNoIndex: false });
    expect(await post({ data_view: { id: "v4", title: "x-*", fieldAttr: {} } })).toEqual({
      status: 400,
      body: { statusCode: 400, error: "Bad Request", message: "[request body.data_view.fieldAttr]: definition for this key is missing" },
    });
  });

  test("the fake's update accepts allowNoIndex and ignores it, as Kibana's updateDataView does; fieldAttrs is refused", async () => {
    await provider().create(inputs());
    const update = (dataView: Record<string, unknown>) =>
      fetch(`${fake.url}/api/data_views/data_view/atra-logs`, {
        method: "POST",
        headers: { "kbn-xsrf": "true", authorization: basic("elastic", ADMIN_PASSWORD), "content-type": "application/json" },
        body: JSON.stringify({ data_view: dataView }),
      });
    const accepted = await update({ allowNoIndex: true, timeFieldName: "event.created" });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { data_view: Record<string, unknown> }).data_view).toMatchObject({
      allowNoIndex: false,
      timeFieldName: "event.created",
    });
    expect(fake.dataViews.get("default/atra-logs")?.allowNoIndex).toBe(false);
    expect((await update({ fieldAttrs: {} })).status).toBe(400);
  });

  test("a changed allowNoIndex (or fieldAttrs) replaces the data view, deleting the old one first; an absent allowNoIndex is false", async () => {
    const { outs } = await provider().create(inputs({ allowNoIndex: true }));
    expect(fake.dataViews.get("default/atra-logs")?.allowNoIndex).toBe(true);
    expect(await provider().diff("atra-logs", outs, inputs({ allowNoIndex: false }))).toEqual({
      changes: true,
      replaces: ["dataView"],
      deleteBeforeReplace: true,
    });
    expect(await provider().diff("atra-logs", outs, inputs())).toEqual({ changes: true, replaces: ["dataView"], deleteBeforeReplace: true });
    expect(await provider().diff("atra-logs", outs, inputs({ allowNoIndex: true, fieldAttrs: { message: { customLabel: "Line" } } }))).toEqual({
      changes: true,
      replaces: ["dataView"],
      deleteBeforeReplace: true,
    });
    const plain = (await provider().create(inputs({ id: "plain", name: "Plain" }))).outs;
    expect(await provider().diff("plain", plain, inputs({ id: "plain", name: "Plain", allowNoIndex: false }))).toEqual({ changes: true, replaces: [] });
    // A new id in another space is another object: no need to delete first.
    expect((await provider().diff("atra-logs", outs, inputs({ allowNoIndex: false }, "ops"))).deleteBeforeReplace).toBeUndefined();

    // What the engine then does for deleteBeforeReplace: delete the old, create the new.
    await provider().delete("atra-logs", outs);
    await provider().create(inputs({ allowNoIndex: false }));
    expect(fake.dataViews.get("default/atra-logs")).toMatchObject({ allowNoIndex: false, name: "Atra logs" });
  });

  test("an upsert over an existing data view whose allowNoIndex differs recreates it (an update would leave it as it was)", async () => {
    await provider().create(inputs());
    fake.requests.length = 0;
    await provider().create(inputs({ allowNoIndex: true }));
    expect(fake.requests.map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
      "POST /api/data_views/data_view 400",
      "POST /api/data_views/data_view/atra-logs 200",
      "DELETE /api/data_views/data_view/atra-logs 200",
      "POST /api/data_views/data_view 200",
    ]);
    expect(fake.dataViews.get("default/atra-logs")?.allowNoIndex).toBe(true);
    // The update sent no allowNoIndex: Kibana would drop it anyway.
    expect(fake.requests[1].body).toEqual({ data_view: { title: "logs-atra-*", name: "Atra logs", timeFieldName: "@timestamp" } });
  });

  test("refresh shows an allowNoIndex that differs on the server, and the next diff replaces", async () => {
    const { outs } = await provider().create(inputs({ allowNoIndex: true }));
    expect((await provider().read("atra-logs", outs)).props).toEqual(outs);
    (fake.dataViews.get("default/atra-logs") as { allowNoIndex: boolean }).allowNoIndex = false;
    const drifted = await provider().read("atra-logs", outs);
    expect((drifted.props as DataViewState).dataView.allowNoIndex).toBe(false);
    expect((await provider().diff("atra-logs", drifted.props, inputs({ allowNoIndex: true }))).replaces).toEqual(["dataView"]);
  });

  test("runtime fields read back as Kibana keeps them (type, script, subfield types) are no drift", async () => {
    const runtimeFieldMap = {
      "service.tier": { type: "keyword", script: { source: "emit('web')" }, customLabel: "Tier", popularity: 3 },
      parts: { type: "composite", script: { source: "emit(Map.of('a', 'x'))" }, fields: { a: { type: "keyword", customLabel: "A" } } },
    };
    const { outs } = await provider().create(inputs({ runtimeFieldMap }));
    expect((fake.dataViews.get("default/atra-logs") as { runtimeFieldMap: Record<string, unknown> }).runtimeFieldMap["service.tier"]).toEqual({
      type: "keyword",
      script: { source: "emit('web')" },
    });
    const read = await provider().read("atra-logs", outs);
    expect(read.props).toEqual(outs);
    expect((await provider().diff("atra-logs", read.props, inputs({ runtimeFieldMap }))).changes).toBe(false);
  });

  test("check refuses an empty name and non-scripted field specs (Kibana would not keep them)", async () => {
    const empty = await provider().check({}, inputs({ name: "" }));
    expect(empty.failures?.map((failure) => failure.reason)).toEqual([expect.stringContaining("dataView.name must not be empty")]);
    const fields = await provider().check(
      {},
      inputs({
        fields: {
          message: { name: "message", type: "string", customLabel: "Line" },
          twice: { name: "twice", type: "number", scripted: true, script: "2", lang: "painless" },
        },
      }),
    );
    expect(fields.failures?.map((failure) => failure.reason)).toEqual([
      expect.stringContaining("keeps only scripted fields in Kibana (message would not be stored)"),
    ]);
  });

  test("a data view of the same name under another id is a clear error, not an overwrite", async () => {
    await provider().create(inputs({ id: "made-by-hand" }));
    const message = await failure(provider().create(inputs()));
    expect(message).toContain("Duplicate data view: Atra logs");
    expect(message).toContain('no data view has id "atra-logs"');
    expect(fake.dataViews.has("default/made-by-hand")).toBe(true);
  });

  test("read, diff, update, delete (and spaces)", async () => {
    const { outs } = await provider().create(inputs({}, "ops"));
    expect(last("POST", "/s/ops/").path).toBe("/s/ops/api/data_views/data_view");
    const present = await provider().read("atra-logs", outs);
    expect(present.props).toEqual(outs);
    expect((await provider().diff("atra-logs", present.props, inputs({}, "ops"))).changes).toBe(false);
    expect(await provider().diff("atra-logs", outs, inputs({ name: "Atra logs (all)" }, "ops"))).toEqual({ changes: true, replaces: [] });
    expect((await provider().diff("atra-logs", outs, inputs({ id: "atra-logs-2" }, "ops"))).replaces).toEqual(["dataView"]);
    expect((await provider().diff("atra-logs", outs, inputs({}))).replaces).toEqual(["spaceId"]);

    (fake.dataViews.get("ops/atra-logs") as { timeFieldName: string }).timeFieldName = "changed";
    const drifted = await provider().read("atra-logs", outs);
    expect((await provider().diff("atra-logs", drifted.props, inputs({}, "ops"))).changes).toBe(true);

    await provider().update("atra-logs", outs, inputs({ name: "Atra logs (all)" }, "ops"));
    expect(fake.dataViews.get("ops/atra-logs")).toMatchObject({ name: "Atra logs (all)", timeFieldName: "@timestamp" });

    await provider().delete("atra-logs", outs);
    expect(fake.dataViews.has("ops/atra-logs")).toBe(false);
    expect(last("DELETE", "/s/ops/api/data_views/data_view/atra-logs").headers["kbn-xsrf"]).toBe("true");
    await expect(provider().delete("atra-logs", outs)).resolves.toBeUndefined();
    expect((await provider().read("atra-logs", outs)).id).toBe("");
  });

  test("update of a data view deleted by hand creates it again", async () => {
    const { outs } = await provider().create(inputs());
    fake.dataViews.clear();
    await provider().update("atra-logs", outs, inputs());
    expect(fake.dataViews.get("default/atra-logs")).toMatchObject(spec);
  });

  test("retries while Kibana is not ready; 401 fails at once with Kibana's message, without the password", async () => {
    fake.startingFor(2);
    await provider().create(inputs());
    expect(fake.requests.map((request) => request.status)).toEqual([503, 503, 200]);
    // Kibana's not-ready answer is text, not JSON.
    fake.startingFor(1);
    const notReady = await fetch(`${fake.url}/api/data_views/data_view/atra-logs`, { headers: { authorization: basic("elastic", ADMIN_PASSWORD) } });
    expect([notReady.status, notReady.headers.get("retry-after"), await notReady.text()]).toEqual([503, "30", "Kibana server is not ready yet"]);

    fake.requests.length = 0;
    const message = await failure(provider().create({ ...inputs(), connection: { ...connection, password: "bad-kibana-pw" } }));
    expect(message).toContain('Kibana data view "atra-logs": POST /api/data_views/data_view failed: HTTP 401 Unauthorized:');
    expect(message).toContain("unable to authenticate user [elastic]");
    expect(message).not.toContain("bad-kibana-pw");
    expect(message).not.toContain(Buffer.from("elastic:bad-kibana-pw").toString("base64"));
    expect(fake.requests).toHaveLength(1);
  });

  test("connection refused is retried, then fails clearly", async () => {
    const port = await closedPort();
    const message = await failure(
      provider().create({ ...inputs(), connection: { ...connection, url: `http://127.0.0.1:${port}` }, retry: { ...FAST, maxElapsedMs: 600 } }),
    );
    expect(message).toContain("ECONNREFUSED");
    expect(message).toMatch(/gave up after \d+ attempts/);
  });
});

describe("Kibana saved object (saved search)", () => {
  const provider = () => loaded("savedObject");
  const searchSource = { query: { query: "log.level:error", language: "kuery" }, filter: [], indexRefName: "kibanaSavedObjectMeta.searchSourceJSON.index" };
  const attributes = {
    title: "Atra errors",
    columns: ["service.name", "message"],
    sort: [["@timestamp", "desc"]],
    kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify(searchSource) },
  };
  const references = [{ name: "kibanaSavedObjectMeta.searchSourceJSON.index", type: "index-pattern", id: "atra-logs" }];
  const inputs = (overrides: Partial<SavedObjectState> = {}): SavedObjectState => ({
    connection,
    type: "search",
    objectId: "atra-errors",
    attributes: clone(attributes),
    references: clone(references),
    retry: FAST,
    ...overrides,
  });

  test("create POSTs with overwrite=true (an upsert), kbn-xsrf and basic auth", async () => {
    const created = await provider().create(inputs());
    expect(created.id).toBe("search/atra-errors");
    const post = last("POST", "/api/saved_objects/search/atra-errors");
    expect(post.path).toBe("/api/saved_objects/search/atra-errors?overwrite=true");
    expect(post.body).toEqual({ attributes, references });
    expect(post.headers["kbn-xsrf"]).toBe("true");
    expect(post.headers.authorization).toBe(basic("elastic", ADMIN_PASSWORD));
    await provider().create(inputs());
    expect(fake.requests.map((request) => request.status)).toEqual([200, 200]);
  });

  test("the fake answers the saved objects API as Kibana does: 409 for an existing id without overwrite (Boom errors pass through)", async () => {
    await provider().create(inputs());
    const response = await fetch(`${fake.url}/api/saved_objects/search/atra-errors`, {
      method: "POST",
      headers: { "kbn-xsrf": "true", authorization: basic("elastic", ADMIN_PASSWORD), "content-type": "application/json" },
      body: JSON.stringify({ attributes }),
    });
    expect([response.status, await response.json()]).toEqual([
      409,
      { statusCode: 409, error: "Conflict", message: "Saved object [search/atra-errors] conflict" },
    ]);
  });

  test("a search source Kibana re-serialized (other key order, added defaults) is no drift; a changed query is", async () => {
    const { outs } = await provider().create(inputs());
    const stored = fake.savedObjects.get("default/search/atra-errors") as { attributes: { kibanaSavedObjectMeta: { searchSourceJSON: string } } };
    stored.attributes.kibanaSavedObjectMeta.searchSourceJSON = JSON.stringify({
      highlightAll: true,
      indexRefName: searchSource.indexRefName,
      filter: [],
      query: searchSource.query,
    });
    const reserialized = await provider().read("search/atra-errors", outs);
    expect(reserialized.props).toEqual(outs);
    stored.attributes.kibanaSavedObjectMeta.searchSourceJSON = JSON.stringify({ ...searchSource, query: { query: "log.level:warning", language: "kuery" } });
    const changed = await provider().read("search/atra-errors", outs);
    expect((await provider().diff("search/atra-errors", changed.props, inputs())).changes).toBe(true);
  });

  test("read (present, drifted, gone), diff, update, delete", async () => {
    const { outs } = await provider().create(inputs());
    const present = await provider().read("search/atra-errors", outs);
    expect(present.props).toEqual(outs);
    expect(await provider().diff("search/atra-errors", present.props, inputs())).toEqual({ changes: false, replaces: [] });
    expect(await provider().diff("search/atra-errors", outs, inputs({ attributes: { ...attributes, title: "Errors" } }))).toEqual({
      changes: true,
      replaces: [],
    });
    expect((await provider().diff("search/atra-errors", outs, inputs({ objectId: "other" }))).replaces).toEqual(["objectId"]);
    expect((await provider().diff("search/atra-errors", outs, inputs({ type: "dashboard" }))).replaces).toEqual(["type"]);

    (fake.savedObjects.get("default/search/atra-errors") as { attributes: { title: string } }).attributes.title = "edited in the UI";
    const drifted = await provider().read("search/atra-errors", outs);
    expect((drifted.props as SavedObjectState).attributes.title).toBe("edited in the UI");
    expect((await provider().diff("search/atra-errors", drifted.props, inputs())).changes).toBe(true);

    await provider().update("search/atra-errors", drifted.props, inputs());
    expect((fake.savedObjects.get("default/search/atra-errors") as { attributes: { title: string } }).attributes.title).toBe("Atra errors");

    await provider().delete("search/atra-errors", outs);
    expect(fake.savedObjects.size).toBe(0);
    await expect(provider().delete("search/atra-errors", outs)).resolves.toBeUndefined();
    expect(last("DELETE", "/api/saved_objects/search/atra-errors").status).toBe(404);
    expect((await provider().read("search/atra-errors", outs)).id).toBe("");
  });
});

// ---------------------------------------------------------------------------------------------
// The resource classes under Pulumi's mock engine: what the engine would store, and as what.

describe("resource classes under the mock engine", () => {
  test("connection and passwords are secret inputs and outputs; types, ids and the serialized provider are as expected", async () => {
    const entry = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "elastic-program-")), "index.js");
    const components = path.resolve(__dirname, "../../components/elastic");
    fs.writeFileSync(
      entry,
      `const es = require(${JSON.stringify(path.join(components, "elasticsearch-objects.ts"))});
const kb = require(${JSON.stringify(path.join(components, "kibana-objects.ts"))});
const connection = { url: "http://es:9200", username: "elastic", password: ${JSON.stringify(ADMIN_PASSWORD)} };
const kibana = { url: "http://kibana:5601", username: "elastic", password: ${JSON.stringify(ADMIN_PASSWORD)} };
const role = new es.ElasticsearchRole("writer-role", { connection, name: "atra_logs_writer", body: { cluster: ["monitor"] } });
new es.IlmPolicy("ilm", { connection, name: "atra-logs", body: { policy: { phases: {} } } });
new es.IndexTemplate("template", { connection, name: "atra-logs", body: { index_patterns: ["logs-atra-*"], data_stream: {} } });
new es.IngestPipeline("pipeline", { connection, name: "atra-structlog", body: { processors: [] } });
const user = new es.ElasticsearchUser("shipper", { connection, name: "atra-shipper", password: "shipper-Secret-1", body: { roles: ["atra_logs_writer"] } }, { dependsOn: [role] });
const kibanaSystem = new es.BuiltinUserPassword("kibana-system", { connection, name: "kibana_system", password: "kibana-system-Secret" });
new kb.KibanaDataView("data-view", { connection: kibana, dataView: { id: "atra-logs", title: "logs-atra-*" } });
new kb.KibanaSavedObject("saved-search", { connection: kibana, type: "search", objectId: "atra-errors", attributes: { title: "Errors" } });
exports.userPassword = user.password;
exports.kibanaSystemPassword = kibanaSystem.password;
exports.roleConnection = role.connection;
exports.roleName = role.name;
`,
    );
    let run: import("../../scripts/lib/mock-engine").ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runProgram } = require("../../scripts/lib/mock-engine") as typeof import("../../scripts/lib/mock-engine");
      run = await runProgram({ entry, project: "atra-observability", stack: "dev", config: {}, secretKeys: [] });
    });
    fs.rmSync(path.dirname(entry), { recursive: true, force: true });
    const resources = run!.resources.filter((resource) => resource.custom);
    const byName = (name: string) => resources.find((resource) => resource.name === name)!;

    expect(resources.map((resource) => `${resource.type} ${resource.name}`).sort()).toEqual([
      "pulumi-nodejs:dynamic/elastic:BuiltinUserPassword kibana-system",
      "pulumi-nodejs:dynamic/elastic:ElasticsearchRole writer-role",
      "pulumi-nodejs:dynamic/elastic:ElasticsearchUser shipper",
      "pulumi-nodejs:dynamic/elastic:IlmPolicy ilm",
      "pulumi-nodejs:dynamic/elastic:IndexTemplate template",
      "pulumi-nodejs:dynamic/elastic:IngestPipeline pipeline",
      "pulumi-nodejs:dynamic/elastic:KibanaDataView data-view",
      "pulumi-nodejs:dynamic/elastic:KibanaSavedObject saved-search",
    ]);
    for (const resource of resources) {
      expect(resource.secretPaths).toContain("connection");
      expect(JSON.stringify(resource.inputs)).not.toContain(ADMIN_PASSWORD);
      const provider = String(resource.inputs.__provider);
      expect(provider).toMatch(/^exports\.handler = /);
      expect(provider).not.toContain(COMPONENTS_DIR);
    }
    expect(byName("shipper").secretPaths).toEqual(expect.arrayContaining(["connection", "password"]));
    expect(byName("kibana-system").secretPaths).toEqual(expect.arrayContaining(["connection", "password"]));
    expect(JSON.stringify(run!.resources)).not.toContain("shipper-Secret-1");
    expect(JSON.stringify(run!.resources)).not.toContain("kibana-system-Secret");
    expect(byName("shipper").dependencies).toContain(byName("writer-role").urn);
    expect(byName("writer-role").inputs).toMatchObject({ name: "atra_logs_writer", body: { cluster: ["monitor"] } });

    expect(run!.outputs.userPassword.secret).toBe(true);
    expect(run!.outputs.kibanaSystemPassword.secret).toBe(true);
    expect(run!.outputs.roleConnection.secret).toBe(true);
    expect(run!.outputs.roleName).toEqual({ value: "atra_logs_writer", secret: false });
  });
});
