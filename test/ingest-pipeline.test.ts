/**
 * The rendered ingest pipeline, run over lines a REAL structlog wrote (Debian's python3-structlog,
 * test/support/structlog-lines.py) and over malformed lines, through the ingest simulator
 * (test/support/ingest-simulator.ts). The simulator is a model of Elasticsearch's ingest
 * semantics, not Elasticsearch: see its header for what it reproduces and what it refuses.
 *
 * Each resulting document is also checked against the index template's mapping (a small model of
 * the field types: a value the mapping would reject means the line would be lost).
 *
 * Without /usr/bin/python3 + structlog the real-line suite is skipped locally and fails under CI.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { estypes } from "@elastic/elasticsearch";
import { logsNaming, renderIndexTemplate } from "../components/logs/elastic-bodies";
import { PARSE_FAILURE_TAG, renderIngestPipeline, TIMESTAMP_FAILURE_TAG } from "../components/logs/ingest-pipeline";
import { PipelineFailure, simulatePipeline, UnsupportedByModel } from "./support/ingest-simulator";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "support", "structlog-lines.py");
const READ_TIME = "2030-01-02T03:04:05.678Z";
const pipeline = renderIngestPipeline();
const naming = logsNaming("dev");
const template = renderIndexTemplate({ dataStream: naming.dataStream, ilmPolicy: naming.ilmPolicy, pipeline: naming.pipeline });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are free-form JSON
type Doc = Record<string, any>;

/** What Filebeat's filestream input sends for one line. */
function filebeatEvent(line: string, extra: Doc = {}): Doc {
  return {
    "@timestamp": READ_TIME,
    message: line,
    service: { name: "knowledge-os-api" },
    log: { file: { path: "/srv/atra/logs/knowledge_os_api.log" }, offset: 1234 },
    input: { type: "filestream" },
    host: { name: "docker-host" },
    agent: { type: "filebeat", version: "9.1.3" },
    ecs: { version: "8.0.0" },
    ...extra,
  };
}

function ingest(line: string, extra: Doc = {}): Doc {
  return simulatePipeline(pipeline, filebeatEvent(line, extra)).source;
}

/** Microseconds since the epoch of an ISO 8601 string, parsed here independently of the simulator. */
function isoMicros(text: string): bigint {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new Error(`not an ISO 8601 timestamp with offset: ${text}`);
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) throw new Error(`unparsable: ${text}`);
  return BigInt(seconds) * 1000n + BigInt((match[2] ?? "").padEnd(6, "0").slice(0, 6) || "0");
}

// ---------------------------------------------------------------------------------------------
// A model of the mapping: would Elasticsearch accept these values?
// ---------------------------------------------------------------------------------------------

function mappingProblems(doc: Doc): string[] {
  const problems: string[] = [];
  const scalar = (value: unknown) => ["string", "number", "boolean"].includes(typeof value);
  const walk = (value: unknown, property: estypes.MappingProperty, at: string): void => {
    if (value === undefined || value === null) return;
    const type = (property as { type?: string }).type;
    const values = Array.isArray(value) ? value : [value];
    if (type === undefined || type === "object") {
      const properties = (property as estypes.MappingObjectProperty).properties ?? {};
      for (const item of values) {
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
          problems.push(`${at}: object expected, got ${JSON.stringify(item)}`);
          continue;
        }
        for (const [key, child] of Object.entries(properties)) walk((item as Doc)[key], child, `${at}.${key}`);
      }
      return;
    }
    for (const item of values) {
      switch (type) {
        case "keyword":
        case "constant_keyword":
          if (!scalar(item)) problems.push(`${at}: ${type} expected a scalar, got ${JSON.stringify(item)}`);
          if (type === "constant_keyword" && "value" in property && property.value !== undefined && item !== property.value) {
            problems.push(`${at}: constant_keyword ${String(property.value)} got ${JSON.stringify(item)}`);
          }
          break;
        case "match_only_text":
        case "wildcard":
          if (typeof item !== "string" && typeof item !== "number") problems.push(`${at}: ${type} expected text, got ${JSON.stringify(item)}`);
          break;
        case "date_nanos":
          if (typeof item !== "string" || Number.isNaN(Date.parse(item))) problems.push(`${at}: date expected, got ${JSON.stringify(item)}`);
          break;
        case "long":
          if (!Number.isInteger(item)) problems.push(`${at}: long expected, got ${JSON.stringify(item)}`);
          break;
        case "flattened":
          // The flattened field parser starts at an object: arrays of objects are fine, scalars not.
          if (typeof item !== "object" || item === null || Array.isArray(item)) problems.push(`${at}: flattened expects an object, got ${JSON.stringify(item)}`);
          break;
        default:
          problems.push(`${at}: mapping type ${type} not covered by this check`);
      }
    }
  };
  const properties = template.template?.mappings?.properties ?? {};
  for (const [key, property] of Object.entries(properties)) walk(doc[key], property, key);
  return problems;
}

/** Filebeat's own fields pass through untouched. */
function expectShipperFieldsKept(doc: Doc): void {
  expect(doc.service).toEqual({ name: "knowledge-os-api" });
  expect(doc.host).toEqual({ name: "docker-host" });
  expect(doc.log.file).toEqual({ path: "/srv/atra/logs/knowledge_os_api.log" });
  expect(doc.log.offset).toBe(1234);
  expect(doc.agent).toEqual({ type: "filebeat", version: "9.1.3" });
}

/** Rebuilds the structlog object from the document: every key must be somewhere. */
function reconstructStructlog(doc: Doc): Doc {
  const rebuilt: Doc = { ...(doc.structlog ?? {}) };
  rebuilt.event = doc.message;
  if (doc.log?.level !== undefined) rebuilt.level = doc.log.level;
  if (doc.log?.logger !== undefined) rebuilt.logger = doc.log.logger;
  if (doc.error?.stack_trace !== undefined) rebuilt.exception = doc.error.stack_trace;
  return rebuilt;
}

// ---------------------------------------------------------------------------------------------
// Real structlog lines
// ---------------------------------------------------------------------------------------------

function structlogAvailable(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ["-c", "import structlog"], { encoding: "utf8" }).status === 0;
}

function describeWithStructlog(title: string, body: () => void): void {
  if (structlogAvailable()) {
    describe(title, body);
  } else if (process.env.CI === "true") {
    describe(title, () => {
      test("Debian's python3-structlog is installed", () => {
        throw new Error(`${PYTHON} cannot import structlog: .ci/run must install python3-structlog`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${PYTHON} with structlog not available)`, body);
  }
}

describeWithStructlog("the pipeline over real structlog lines", () => {
  let lines: string[] = [];
  const byEvent = (event: string): string => {
    const line = lines.find((candidate) => (JSON.parse(candidate) as Doc).event === event);
    if (!line) throw new Error(`structlog-lines.py printed no line with event ${JSON.stringify(event)}:\n${lines.join("\n")}`);
    return line;
  };

  beforeAll(() => {
    const run = spawnSync(PYTHON, [SCRIPT], { encoding: "utf8", timeout: 30_000 });
    if (run.status !== 0) throw new Error(`structlog-lines.py failed (${run.status}): ${run.stderr}`);
    lines = run.stdout.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(9);
  });

  test("every line becomes a mapped document with no failure tag and nothing lost", () => {
    for (const line of lines) {
      const original = JSON.parse(line) as Doc;
      const doc = ingest(line);
      expect(mappingProblems(doc)).toEqual([]);
      expect(doc.tags).toBeUndefined();
      expect(doc.error?.message).toBeUndefined();
      expect(doc.message).toBe(original.event);
      expect(doc.log.level).toBe(String(original.level).toLowerCase());
      // The timestamp is the one mapped key not kept verbatim: compare it as an instant.
      const { timestamp, ...withoutTimestamp } = original;
      expect(reconstructStructlog(doc)).toEqual(withoutTimestamp);
      if (timestamp === undefined) expect(doc["@timestamp"]).toBe(READ_TIME);
      expectShipperFieldsKept(doc);
    }
  });

  test("info line with extra keys: message, level, logger, microsecond timestamp, extras under structlog", () => {
    const line = byEvent("request handled");
    const original = JSON.parse(line) as Doc;
    const doc = ingest(line);
    expect(doc.message).toBe("request handled");
    expect(doc.log.level).toBe("info");
    expect(doc.log.logger).toBe("knowledge_os.api");
    expect(doc.structlog).toEqual({ path: "/api/search", status: 200, duration_ms: 12.5, user_id: 42, cached: false });
    expect(typeof original.timestamp).toBe("string");
    expect(original.timestamp).toMatch(/\.\d{6}Z$/);
    expect(doc["@timestamp"]).toMatch(/\.\d{6}Z$/);
    expect(isoMicros(doc["@timestamp"])).toBe(isoMicros(original.timestamp));
    expect(doc["@timestamp"]).not.toBe(READ_TIME);
  });

  test("every ISO timestamp lands in @timestamp at the same microsecond", () => {
    const timed = lines.map((line) => JSON.parse(line) as Doc).filter((original) => typeof original.timestamp === "string");
    expect(timed.length).toBeGreaterThanOrEqual(7);
    for (const original of timed) {
      const doc = ingest(JSON.stringify(original));
      expect(isoMicros(doc["@timestamp"])).toBe(isoMicros(original.timestamp));
    }
  });

  test("warning and critical levels", () => {
    expect(ingest(byEvent("slow query")).log.level).toBe("warning");
    const critical = ingest(byEvent("disk almost full"));
    expect(critical.log.level).toBe("critical");
    expect(critical.structlog).toEqual({ mount: "/srv", free_bytes: 1024 });
  });

  test("log.exception: level error, the traceback in error.stack_trace", () => {
    const line = byEvent("division failed");
    const doc = ingest(line);
    expect(doc.log.level).toBe("error");
    expect(doc.error.stack_trace).toBe((JSON.parse(line) as Doc).exception);
    expect(doc.error.stack_trace).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(doc.error.stack_trace).toContain("ZeroDivisionError: division by zero");
    expect(doc.structlog).toEqual({ job_id: "job-17" });
  });

  test("keys named like ECS fields stay under structlog and leave Filebeat's fields alone", () => {
    const doc = ingest(byEvent("peer connected"));
    expect(doc.structlog).toEqual({ host: "10.0.0.7", service: { name: "victoria" }, log: "not the ECS log", error: "none" });
    expectShipperFieldsKept(doc);
    expect(doc.error).toBeUndefined();
    expect(mappingProblems(doc)).toEqual([]);
  });

  test("unicode survives (structlog escapes it as \\u sequences)", () => {
    const line = byEvent("Grüße aus Zürich 👋");
    expect(line).toContain("\\u00fc");
    const doc = ingest(line);
    expect(doc.message).toBe("Grüße aus Zürich 👋");
    expect(doc.structlog).toEqual({ city: "Zürich", note: "ünïcödé ✓" });
  });

  test("nested and dotted keys are kept as they are", () => {
    const doc = ingest(byEvent("nested context"));
    expect(doc.structlog).toEqual({ request: { headers: { "x-id": "abc" }, sizes: [1, 2, 3] }, "http.status": 201 });
  });

  test("a line without timestamp keeps the shipper's read time", () => {
    const doc = ingest(byEvent("no timestamp here"));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toBeUndefined();
    expect(doc.message).toBe("no timestamp here");
    expect(doc.log.logger).toBeUndefined();
    expect(doc.structlog).toEqual({ worker: "w1" });
  });

  test("TimeStamper() without fmt (UNIX seconds) is parsed too, to the millisecond", () => {
    const line = byEvent("unix timestamp");
    const seconds = (JSON.parse(line) as Doc).timestamp as number;
    expect(typeof seconds).toBe("number");
    const doc = ingest(line);
    expect(doc.tags).toBeUndefined();
    expect(isoMicros(doc["@timestamp"])).toBe(BigInt(Math.trunc(seconds * 1000)) * 1000n);
    expect(doc.structlog).toEqual({ worker: "w2" });
  });
});

// ---------------------------------------------------------------------------------------------
// Lines that are not structlog objects: indexed, raw, tagged
// ---------------------------------------------------------------------------------------------

describe("the pipeline over malformed lines", () => {
  function expectKeptAsRawLine(line: string, errorPattern: RegExp): Doc {
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc.tags).toEqual([PARSE_FAILURE_TAG]);
    expect(doc.error.message).toMatch(errorPattern);
    expect(doc.structlog).toBeUndefined();
    expect(doc.log.level).toBeUndefined();
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expectShipperFieldsKept(doc);
    expect(mappingProblems(doc)).toEqual([]);
    return doc;
  }

  test.each([
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 3, in <module>',
    "{not json",
    '{"event": "cut off by a crash',
    '{"event": "x"} trailing',
  ])("not JSON: %j", (line) => {
    expectKeptAsRawLine(line, /JsonParseException/);
  });

  test.each(["[1, 2, 3]", '[{"event": "in a list"}]', "42", "-0.5", '"just a string"', "true", "null"])("JSON but not an object: %s", (line) => {
    expectKeptAsRawLine(line, /cannot set \[event\]|\[event\] is not an integer/);
  });

  test("Filebeat's own tags are kept next to the failure tag", () => {
    const doc = ingest("plain text", { tags: ["atra"] });
    expect(doc.tags).toEqual(["atra", PARSE_FAILURE_TAG]);
  });

  test("an object without event keeps the raw line as its message", () => {
    const line = JSON.stringify({ level: "INFO", msg: "from another library", timestamp: "2024-05-01T12:34:56.5+02:00" });
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc.log.level).toBe("info");
    expect(doc.structlog).toEqual({ msg: "from another library" });
    expect(doc["@timestamp"]).toBe("2024-05-01T10:34:56.500000Z");
    expect(doc.tags).toBeUndefined();
    expect(mappingProblems(doc)).toEqual([]);
  });

  test("an unparsable timestamp: read time kept, tagged, original kept", () => {
    const doc = ingest(JSON.stringify({ event: "clock broke", level: "error", timestamp: "yesterday at noon" }));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toEqual([TIMESTAMP_FAILURE_TAG]);
    expect(doc.error.message).toMatch(/unable to parse date \[yesterday at noon\]/);
    expect(doc.structlog).toEqual({ timestamp_unparsed: "yesterday at noon" });
    expect(doc.message).toBe("clock broke");
    expect(doc.log.level).toBe("error");
    expect(mappingProblems(doc)).toEqual([]);
  });

  test("an impossible date (Feb 30) is unparsable, not rolled over", () => {
    const doc = ingest(JSON.stringify({ event: "x", timestamp: "2024-02-30T00:00:00Z" }));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toEqual([TIMESTAMP_FAILURE_TAG]);
  });

  test("null values: event null keeps the raw line, timestamp null keeps the read time", () => {
    const line = JSON.stringify({ event: null, level: "info", timestamp: null });
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toBeUndefined();
    expect(doc.structlog).toEqual({});
  });

  test("a level that is not a string is moved unchanged; uppercase levels are lowercased", () => {
    expect(ingest(JSON.stringify({ event: "x", level: 40 })).log.level).toBe(40);
    expect(ingest(JSON.stringify({ event: "x", level: "WARNING" })).log.level).toBe("warning");
  });

  test("the json processor alone would leave a non-object the mapping rejects (the guard matters)", () => {
    const parseOnly = { ...pipeline, processors: pipeline.processors!.slice(0, 1) };
    expect(parseOnly.processors[0]!.json).toBeDefined();
    const doc = simulatePipeline(parseOnly, filebeatEvent("[1, 2, 3]")).source;
    expect(mappingProblems(doc)).toEqual(["1", "2", "3"].map((n) => `structlog: flattened expects an object, got ${n}`));
    expect(mappingProblems(ingest("[1, 2, 3]"))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The simulator: refuses what it does not model, and handles failures as documented
// ---------------------------------------------------------------------------------------------

describe("ingest simulator", () => {
  const source = { message: "m", a: { b: 1 } };

  test.each<[string, estypes.IngestProcessorContainer]>([
    ["an unknown processor", { script: { source: "ctx.x = 1" } }],
    ["an unmodelled option", { rename: { field: "a", target_field: "b", ignore_missing: true, override: true } as estypes.IngestRenameProcessor }],
    ["an unmodelled json option", { json: { field: "message", add_to_root: true } }],
    ["a condition outside the subset", { remove: { field: "a", if: "ctx.a instanceof Map" } }],
    ["a double-brace template", { set: { field: "x", value: "{{message}}" } }],
    ["an unmodelled date format", { date: { field: "message", formats: ["dd/MM/yyyy"] } }],
    ["a date timezone", { date: { field: "message", formats: ["ISO8601"], timezone: "Europe/Berlin" } }],
  ])("throws on %s", (_name, processor) => {
    expect(() => simulatePipeline({ processors: [processor] }, source)).toThrow(UnsupportedByModel);
  });

  test("a condition reading a key of a non-object is refused, not guessed", () => {
    expect(() => simulatePipeline({ processors: [{ remove: { field: "message", if: "ctx.message?.x != null" } }] }, source)).toThrow(UnsupportedByModel);
  });

  test("a failure without handlers rejects the document", () => {
    expect(() => simulatePipeline({ processors: [{ rename: { field: "missing", target_field: "x" } }] }, source)).toThrow(PipelineFailure);
  });

  test("processor on_failure runs with the failure metadata, then the pipeline continues", () => {
    const result = simulatePipeline(
      {
        processors: [
          { rename: { tag: "t1", field: "missing", target_field: "x", on_failure: [{ set: { field: "why", value: "{{{_ingest.on_failure_processor_type}}}/{{{_ingest.on_failure_processor_tag}}}: {{{_ingest.on_failure_message}}}" } }] } },
          { set: { field: "after", value: "{{{_ingest.on_failure_message}}}" } },
        ],
      },
      source,
    ).source;
    expect(result.why).toBe("rename/t1: field [missing] doesn't exist");
    expect(result.after).toBe(""); // the metadata is gone once the handler is done
  });

  test("pipeline on_failure stops the remaining processors and the document is indexed", () => {
    const result = simulatePipeline(
      { processors: [{ json: { field: "message" } }, { set: { field: "never", value: "x" } }], on_failure: [{ set: { field: "failed", value: "yes" } }] },
      { message: "not json" },
    ).source;
    expect(result).toEqual({ message: "not json", failed: "yes" });
  });

  test("ignore_failure skips a failing processor", () => {
    const result = simulatePipeline({ processors: [{ lowercase: { field: "a.b", ignore_failure: true } }, { set: { field: "next", value: 1 } }] }, source).source;
    expect(result).toEqual({ message: "m", a: { b: 1 }, next: 1 });
  });

  test("path semantics: setting under a scalar or list fails, missing parents are created", () => {
    const run = (processor: estypes.IngestProcessorContainer, input: Doc) => simulatePipeline({ processors: [processor] }, input).source;
    expect(() => run({ set: { field: "a.b.c", value: 1 } }, source)).toThrow(/cannot set \[c\] with parent object of type \[java.lang.Integer\]/);
    expect(() => run({ set: { field: "l.k", value: 1 } }, { l: [1] })).toThrow(/\[k\] is not an integer/);
    expect(run({ set: { field: "x.y.z", value: 1 } }, {})).toEqual({ x: { y: { z: 1 } } });
    expect(run({ rename: { field: "a.b", target_field: "c.d" } }, source)).toEqual({ message: "m", a: {}, c: { d: 1 } });
  });

  test("rename puts the value back when the target cannot be set", () => {
    const input = { a: { b: 1 }, c: "scalar" };
    expect(() => simulatePipeline({ processors: [{ rename: { field: "a.b", target_field: "c.d" } }] }, input)).toThrow(PipelineFailure);
    const kept = simulatePipeline({ processors: [{ rename: { field: "a.b", target_field: "c.d", ignore_failure: true } }] }, input).source;
    expect(kept).toEqual(input);
  });

  test("date: offsets, fractions and output formats", () => {
    const run = (value: string, outputFormat?: string) =>
      simulatePipeline({ processors: [{ date: { field: "t", formats: ["ISO8601"], ...(outputFormat ? { output_format: outputFormat } : {}) } }] }, { t: value }).source["@timestamp"];
    expect(run("2024-05-01T12:34:56.123456789-03:30")).toBe("2024-05-01T16:04:56.123Z");
    expect(run("2024-05-01T12:34:56.123456Z", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")).toBe("2024-05-01T12:34:56.123456Z");
    expect(run("2024-05-01")).toBe("2024-05-01T00:00:00.000Z");
    expect(run("1969-12-31T23:59:59.999999Z", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")).toBe("1969-12-31T23:59:59.999999Z");
  });
});
