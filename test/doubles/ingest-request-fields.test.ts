/**
 * Request fields (components/logs/request-fields.ts) and the message pattern (ingest-pipeline.ts), run over
 * REAL structlog request lines (test/support/structlog-request-lines.py: structlog's stdlib chain with
 * contextvars, FastAPI/Starlette-style access lines, django-structlog's RequestMiddleware shapes, a health-only
 * agent with its own keys, wrong-typed values) through the ingest simulator (test/support/ingest-simulator.ts)
 * and the index template's mappings. Every processor is the simulator's model of Elasticsearch's source:
 * ConvertProcessor (string, long: Long.parseLong, returning a java.lang.Long), GsubProcessor (java.util.regex
 * replaceAll), rename, set, remove, append; conditions in the modelled Painless subset (`instanceof Long`, Map
 * guards before a nested key is read).
 *
 * Without /usr/bin/python3 + structlog the suite is skipped locally and fails under CI.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaultDataStream, logsNaming, renderHostIdentityPipeline, renderIndexTemplate } from "../../components/logs/elastic-bodies";
import { MESSAGE_PATTERN_FIELD, renderIngestPipeline } from "../../components/logs/ingest-pipeline";
import { REQUEST_FIELD_MISMATCH_TAG, type RequestKeysOfService } from "../../components/logs/request-fields";
import { SimulatedDataStream, simulatePipeline, UnsupportedByModel } from "../support/ingest-simulator";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "support", "structlog-request-lines.py");
const naming = logsNaming("dev", defaultDataStream("dev"));
const template = renderIndexTemplate({
  dataStream: naming.dataStream,
  ilmPolicy: naming.ilmPolicy,
  pipeline: naming.pipeline,
  finalPipeline: naming.finalPipeline,
  failureStoreRetention: "30d",
});

/**
 * The catalog's own keys: django-structlog's `code`; the agent's `took` (ms) and `endpoint`; timings in
 * microseconds and nanoseconds; nested request objects (dotted keys); a job runner whose `status` is its state.
 */
const SERVICES: RequestKeysOfService[] = [
  { name: "django-app", requestLogKeys: { statusCode: "code" } },
  { name: "victoria-agent", requestLogKeys: { duration: { key: "took", unit: "ms" }, path: "endpoint" } },
  { name: "micro-svc", requestLogKeys: { duration: { key: "took_us", unit: "us" } } },
  { name: "nano-svc", requestLogKeys: { duration: { key: "elapsed_ns", unit: "ns" } } },
  {
    name: "nested-svc",
    requestLogKeys: { duration: { key: "timing.ns", unit: "ns" }, method: "http.method", path: "http.route", statusCode: "http.status_code" },
  },
  { name: "job-runner", requestLogKeys: { ignoreDefaults: ["status"] } },
];
const pipeline = renderIngestPipeline(SERVICES);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are free-form JSON
type Doc = Record<string, any>;

function filebeatEvent(line: string, service: string): Doc {
  return {
    "@timestamp": "2030-01-02T03:04:05.678Z",
    message: line,
    service: { name: service },
    log: { file: { path: `/srv/atra/logs/${service}.log` }, offset: 1 },
    host: { name: "docker-host" },
  };
}

function structlogAvailable(): boolean {
  return fs.existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import structlog"], { encoding: "utf8" }).status === 0;
}

const describeWithStructlog = (title: string, body: () => void) =>
  structlogAvailable()
    ? describe(title, body)
    : process.env.CI === "true"
      ? describe(title, () => test("python3-structlog is installed", () => expect(structlogAvailable()).toBe(true)))
      : describe.skip(title, body);

describeWithStructlog("request fields from real structlog request lines", () => {
  let lines: Map<string, string>;
  beforeAll(() => {
    const run = spawnSync(PYTHON, [SCRIPT], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(run.stderr);
    lines = new Map(
      run.stdout
        .trim()
        .split("\n")
        .map((line) => [JSON.parse(line).marker as string, line]),
    );
  });

  /** Pipeline, mapping, data stream; fails unless the line is indexed (never the failure store). */
  function ingest(marker: string, service = "knowledge-os-api"): Doc {
    const line = lines.get(marker);
    if (!line) throw new Error(`no line ${marker}`);
    const outcome = new SimulatedDataStream(naming.dataStream, template, pipeline, naming.pipeline, {
      name: naming.finalPipeline,
      definition: renderHostIdentityPipeline("docker-host"),
    }).ingest(filebeatEvent(line, service));
    if (outcome.outcome !== "indexed") throw new Error(`${marker} not indexed: ${JSON.stringify(outcome)}`);
    return outcome.source;
  }

  test("a FastAPI-style access line in milliseconds reaches event.duration in nanoseconds, exactly, and the ECS fields", () => {
    const doc = ingest("fastapi-ms");
    expect(lines.get("fastapi-ms")).toContain('"duration_ms": 12.5');
    expect(doc.event.duration).toBe(12_500_000);
    expect(doc.http).toEqual({ request: { method: "GET", id: "0f8fad5b-d9cb-469f-a165-70867728950e" }, response: { status_code: 200 } });
    expect(doc.url).toEqual({ path: "/api/search" });
    expect(doc.user_agent).toEqual({ original: "curl/8.5.0" });
    expect(doc.structlog).toEqual({ marker: "fastapi-ms" });
    expect(doc.tags).toBeUndefined();
    expect(doc.message).toBe("request_finished");
  });

  test("seconds: 0.0125 s is 12500000 ns exactly (text shifted, no float multiply); route before path; trace.id", () => {
    const doc = ingest("fastapi-seconds");
    expect(doc.event.duration).toBe(12_500_000);
    expect(doc.url.path).toBe("/api/items/{item_id}");
    expect(doc.structlog.path).toBe("/api/items/42");
    expect(doc.http.response.status_code).toBe(503);
    expect(doc.trace).toEqual({ id: "4bf92f3577b34da6a3ce929d0e0e4736" });
    expect(doc.log.level).toBe("warning");
  });

  test.each([
    ["seconds-long-fraction", 123_456_789], // 0.123456789987 s: digits past the nanosecond cut
    ["seconds-tiny", 100_000], // elapsed=0.0001: Java writes 1.0E-4
    ["seconds-integer", 2_000_000_000], // latency=2 (an Integer)
    ["millis-integer", 7_000_000], // duration_ms=7
    ["millis-large", 12_345_678_900_000], // 12345678.9 ms: Java writes 1.23456789E7
    ["status-text", 3_250_000],
  ])("%s: event.duration %d ns", (marker, nanos) => {
    const doc = ingest(marker);
    expect(doc.event.duration).toBe(nanos);
    expect(doc.tags).toBeUndefined();
    for (const key of ["duration", "elapsed", "latency", "duration_ms"]) expect(doc.structlog[key]).toBeUndefined();
  });

  test('a status code written as text ("404") is read as a number', () => {
    expect(ingest("status-text").http.response.status_code).toBe(404);
  });

  test("django-structlog: request_id and user_agent on request_started; its `code` is the status only where the catalog says so", () => {
    const started = ingest("django-started", "django-app");
    expect(started.http.request.id).toBe("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    expect(started.user_agent.original).toBe("Mozilla/5.0 (X11; Linux x86_64)");
    expect(started.structlog.request).toBe("GET /orders/5");
    const finished = ingest("django-finished", "django-app");
    expect(finished.http.response.status_code).toBe(500);
    expect(finished.structlog.code).toBeUndefined();
    const elsewhere = ingest("django-finished", "knowledge-os-api");
    expect(elsewhere.http?.response).toBeUndefined();
    expect(elsewhere.structlog.code).toBe(500);
  });

  test("a health-only agent's own keys (requestLogKeys: took in ms, endpoint) reach the same ECS fields", () => {
    const doc = ingest("agent-own-keys", "victoria-agent");
    expect(doc.event.duration).toBe(3_500_000);
    expect(doc.url.path).toBe("/health");
    expect(doc.http.response.status_code).toBe(200);
    expect(doc.structlog).toEqual({ marker: "agent-own-keys" });
    // The same line from another service: its keys are not read.
    const other = ingest("agent-own-keys", "knowledge-os-api");
    expect(other.event.duration).toBeUndefined();
    expect(other.structlog.took).toBe(3.5);
  });

  test.each([
    ["wrong-types", "knowledge-os-api"],
    ["negative-duration", "knowledge-os-api"],
    ["huge-duration", "knowledge-os-api"], // 1e13 ms = 1e19 ns, past Long.MAX_VALUE ns
    ["seconds-past-long", "knowledge-os-api"], // 9.3e9 s = 9.3e18 ns
    ["nanos-past-long", "nano-svc"], // Long.MAX_VALUE + 1 ns (a BigInteger)
  ])("%s: values that fit no ECS field are kept under structlog and tagged", (marker, service) => {
    const doc = ingest(marker, service);
    expect(doc.tags).toContain(REQUEST_FIELD_MISMATCH_TAG);
    expect(doc.event?.duration).toBeUndefined();
    const original = JSON.parse(lines.get(marker)!);
    for (const key of ["method", "path", "status_code", "duration", "duration_ms"]) {
      if (key in original) expect({ key, value: doc.structlog[key] }).toEqual({ key, value: original[key] });
    }
  });

  test("the largest duration is Long.MAX_VALUE ns: 9.2e9 s is exact, and so is a nanosecond count of Long.MAX_VALUE", () => {
    expect(ingest("seconds-near-long").event.duration).toBe(9_200_000_000_000_000_000n);
    expect(ingest("nanos-long-max", "nano-svc").event.duration).toBe(9_223_372_036_854_775_807n);
    expect(lines.get("nanos-past-long")).toContain("9223372036854775808");
    expect(ingest("nanos-past-long", "nano-svc").structlog.elapsed_ns).toBe(9_223_372_036_854_775_808n);
  });

  test.each([
    ["micros", "micro-svc", 12_500_000], // took_us=12500 (an Integer)
    ["micros-fraction", "micro-svc", 500], // 0.5 us
    ["nanos-int", "nano-svc", 1_234_567_890_123], // perf_counter_ns() difference, an Integer/Long
    ["nanos-past-2-53", "nano-svc", 9_007_199_254_740_993n], // 2^53 + 1: a Long no double holds, digit for digit
    ["nanos-float", "nano-svc", 15_000_000_000], // 15000000000.0: Java writes 1.5E10, written out
  ])("requestLogKeys units us and ns: %s on %s is event.duration %d ns", (marker, service, nanos) => {
    const doc = ingest(marker, service);
    expect(doc.event.duration).toBe(nanos);
    expect(doc.tags).toBeUndefined();
    expect(doc.structlog).toEqual({ marker });
    // The same keys on another service's lines are not read.
    expect(ingest(marker, "knowledge-os-api").event?.duration).toBeUndefined();
  });

  test("nested keys (http.status_code, http.route, http.method, timing.ns) reach the ECS fields; what is left of the objects stays", () => {
    const doc = ingest("nested", "nested-svc");
    expect(doc.event.duration).toBe(2_500_000);
    expect(doc.http).toEqual({ request: { method: "PUT" }, response: { status_code: 201 } });
    expect(doc.url).toEqual({ path: "/v1/items/{id}" });
    expect(doc.structlog).toEqual({ marker: "nested", http: {}, timing: {} });
    expect(doc.tags).toBeUndefined();
  });

  test("a nested key whose parent is text or a list reads as absent: the line is indexed untouched, no failure, no tag", () => {
    const doc = ingest("nested-not-object", "nested-svc");
    expect(doc.structlog).toEqual({ marker: "nested-not-object", http: "1.1", timing: ["ns", 3] });
    expect(doc.event?.duration).toBeUndefined();
    expect(doc.tags).toBeUndefined();
    expect(doc.error).toBeUndefined();
  });

  test("a nested key holding an object is kept and tagged", () => {
    const doc = ingest("nested-wrong-type", "nested-svc");
    expect(doc.structlog.http).toEqual({ status_code: { code: 500 } });
    expect(doc.http?.response).toBeUndefined();
    expect(doc.tags).toEqual([REQUEST_FIELD_MISMATCH_TAG]);
  });

  test("ignoreDefaults: a job runner's `status` (its state) is not read on its lines; its other defaults still are", () => {
    const text = ingest("job-status-text", "job-runner");
    expect(text.structlog.status).toBe("ok");
    expect(text.tags).toBeUndefined();
    expect(text.event.duration).toBe(1_500_000_000);
    const integer = ingest("job-status-int", "job-runner");
    expect(integer.structlog.status).toBe(3);
    expect(integer.http?.response).toBeUndefined();
    // Without the switch (another service), the default `status` key reads them: "ok" is tagged, 3 is a status code.
    expect(ingest("job-status-text").tags).toEqual([REQUEST_FIELD_MISMATCH_TAG]);
    expect(ingest("job-status-int").http.response.status_code).toBe(3);
  });

  test.each([
    ["status-double-integral", 404],
    ["status-double-fraction", 404.7],
    ["status-double-huge", 1e300],
    ["status-bigint", 99_999_999_999_999_999_999n],
  ])("%s: a status code that is a number but no whole long stays under structlog, tagged (never moved to the long field)", (marker, value) => {
    const doc = ingest(marker);
    expect(doc.http.response).toBeUndefined();
    expect(doc.structlog.status_code).toBe(value);
    expect(doc.tags).toEqual([REQUEST_FIELD_MISMATCH_TAG]);
    expect(doc.http.request.method).toBe("GET");
  });

  test("lines of one kind share a message pattern: numbers and ids taken out", () => {
    const a = ingest("pattern-a");
    const b = ingest("pattern-b");
    const [object, leaf] = MESSAGE_PATTERN_FIELD.split(".");
    expect(a[object][leaf]).toBe("user <n> fetched order <uuid> in <n> ms");
    expect(b[object][leaf]).toBe(a[object][leaf]);
    expect(a.message).toBe("user 42 fetched order 0f8fad5b-d9cb-469f-a165-70867728950e in 12.5 ms");
  });
});

describe("the simulator's `instanceof Long` (java.lang.Long: Jackson's integers past an int, convert long's result)", () => {
  const isLong = (source: Record<string, unknown>, processors: unknown[] = []) =>
    simulatePipeline({ processors: [...processors, { set: { field: "long", value: true, if: "ctx.v instanceof Long" } }] }, source).source.long === true;
  /** The json processor's reading of `text` (Jackson: Integer, Long or BigInteger by size; Double for a fraction or exponent). */
  const fromJson = (text: string, more: unknown[] = []) => isLong({ text }, [{ json: { field: "text", target_field: "v" } }, ...more]);
  test("an Integer, a Double and a BigInteger are Numbers but not Longs; a Long, and whatever convert long returns, are", () => {
    expect(fromJson("404")).toBe(false);
    expect(fromJson("404.0")).toBe(false);
    expect(fromJson("1e300")).toBe(false);
    expect(fromJson("99999999999999999999")).toBe(false);
    expect(fromJson("3000000000")).toBe(true);
    expect(fromJson("404", [{ convert: { field: "v", type: "long" } }])).toBe(true);
    expect(isLong({ v: "404" }, [{ convert: { field: "v", type: "long" } }])).toBe(true);
    // A failed conversion leaves the Double as it was: still no Long.
    expect(fromJson("404.0", [{ convert: { field: "v", type: "long", ignore_failure: true } }])).toBe(false);
  });
});

describe("the simulator's convert long (ConvertProcessor LONG: Long.parseLong)", () => {
  const run = (value: unknown) =>
    simulatePipeline(
      { processors: [{ convert: { field: "v", type: "long", on_failure: [{ set: { field: "failed", value: "{{{_ingest.on_failure_message}}}" } }] } }] },
      { v: value },
    ).source;
  test("digits with leading zeros and a sign read; past a long, a fraction or text fail and leave the value", () => {
    expect(run("0012500000")).toEqual({ v: 12500000 });
    expect(run("-5")).toEqual({ v: -5 });
    expect(run("9223372036854775807")).toEqual({ v: 9223372036854775807n });
    expect(run("9223372036854775808")).toEqual({ v: "9223372036854775808", failed: "unable to convert [9223372036854775808] to long" });
    expect(run("404.0")).toEqual({ v: "404.0", failed: "unable to convert [404.0] to long" });
    expect(run("negative -5")).toEqual({ v: "negative -5", failed: "unable to convert [negative -5] to long" });
    expect(() => run("0x1F")).toThrow(UnsupportedByModel);
  });
});
