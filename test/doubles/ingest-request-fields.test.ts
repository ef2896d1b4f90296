/**
 * Request fields (components/logs/request-fields.ts) and the message pattern (ingest-pipeline.ts), run over
 * REAL structlog request lines (test/support/structlog-request-lines.py: structlog's stdlib chain with
 * contextvars, FastAPI/Starlette-style access lines, django-structlog's RequestMiddleware shapes, a health-only
 * agent with its own keys, wrong-typed values) through the ingest simulator (test/support/ingest-simulator.ts)
 * and the index template's mappings. Every processor is the simulator's model of Elasticsearch's source:
 * ConvertProcessor (string, long: Long.parseLong), GsubProcessor (java.util.regex replaceAll), rename, set,
 * remove, append.
 *
 * Without /usr/bin/python3 + structlog the suite is skipped locally and fails under CI.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaultDataStream, logsNaming, renderIndexTemplate } from "../../components/logs/elastic-bodies";
import { MESSAGE_PATTERN_FIELD, renderIngestPipeline } from "../../components/logs/ingest-pipeline";
import { REQUEST_FIELD_MISMATCH_TAG, type RequestKeysOfService } from "../../components/logs/request-fields";
import { SimulatedDataStream, simulatePipeline, UnsupportedByModel } from "../support/ingest-simulator";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "support", "structlog-request-lines.py");
const naming = logsNaming("dev", defaultDataStream("dev"));
const template = renderIndexTemplate({ dataStream: naming.dataStream, ilmPolicy: naming.ilmPolicy, pipeline: naming.pipeline, failureStoreRetention: "30d" });

/** The catalog's own keys: django-structlog's `code`; the agent's `took` (ms) and `endpoint`. */
const SERVICES: RequestKeysOfService[] = [
  { name: "django-app", requestLogKeys: { statusCode: "code" } },
  { name: "victoria-agent", requestLogKeys: { duration: { key: "took", unit: "ms" }, path: "endpoint" } },
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
    const outcome = new SimulatedDataStream(naming.dataStream, template, pipeline, naming.pipeline).ingest(filebeatEvent(line, service));
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

  test.each(["wrong-types", "negative-duration", "huge-duration"])("%s: values that fit no ECS field are kept under structlog and tagged", (marker) => {
    const doc = ingest(marker);
    expect(doc.tags).toContain(REQUEST_FIELD_MISMATCH_TAG);
    expect(doc.event?.duration).toBeUndefined();
    const original = JSON.parse(lines.get(marker)!);
    for (const key of ["method", "path", "status_code", "duration", "duration_ms"]) {
      if (key in original) expect({ key, value: doc.structlog[key] }).toEqual({ key, value: original[key] });
    }
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
