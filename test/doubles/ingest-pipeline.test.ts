/**
 * The rendered ingest pipeline and index template, run over lines a REAL structlog wrote (Debian's
 * python3-structlog, test/support/structlog-lines.py: the production stdlib chain, dict_tracebacks,
 * EventRenamer("message"), TimeStamper(utc=False) and TimeStamper(), and values of the wrong type)
 * and over malformed lines, through the ingest simulator (test/support/ingest-simulator.ts). The
 * simulator is a model of Elasticsearch's ingest and mapping semantics, not Elasticsearch: see its
 * header for what it reproduces and what it refuses.
 *
 * Each document goes through a simulated data stream: pipeline, then the template's mappings, then
 * the data stream or (template: failure store on) its failure store. "No line is lost" means every
 * line ends in one of the two, never rejected.
 *
 * Without /usr/bin/python3 + structlog the real-line suite is skipped locally and fails under CI.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { estypes } from "@elastic/elasticsearch";
import { imageVersion } from "../../components/config/image-versions";
import { defaultDataStream, logsNaming, renderHostIdentityPipeline, renderIndexTemplate } from "../../components/logs/elastic-bodies";
import { DEFAULT_IMAGES } from "../../components/stack-services";
import {
  DATE_NANOS_LAST,
  DICT_TRACEBACK_TEMPLATE,
  PARSE_FAILURE_TAG,
  renderIngestPipeline,
  TIMESTAMP_FAILURE_TAG,
  TIMESTAMP_RANGE_TAG,
  TYPE_MISMATCH_TAG,
} from "../../components/logs/ingest-pipeline";
import {
  IngestOutcome,
  mappingRejection,
  PipelineDefinition,
  PipelineFailure,
  SimulatedDataStream,
  simulatePipeline,
  UnsupportedByModel,
} from "../support/ingest-simulator";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "support", "structlog-lines.py");
const READ_TIME = "2030-01-02T03:04:05.678Z";
const pipeline = renderIngestPipeline();
const naming = logsNaming("dev", defaultDataStream("dev"));
const template = renderIndexTemplate({
  dataStream: naming.dataStream,
  ilmPolicy: naming.ilmPolicy,
  pipeline: naming.pipeline,
  finalPipeline: naming.finalPipeline,
  failureStoreRetention: "30d",
});
const mappings = template.template!.mappings!;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are free-form JSON
type Doc = Record<string, any>;

/** The pinned Filebeat's version (components/logs/services.ts), which its events carry in `agent.version`. */
const FILEBEAT_VERSION = (({ major, minor, patch }) => `${major}.${minor}.${patch}`)(imageVersion(DEFAULT_IMAGES.filebeat)!);

/** What Filebeat's filestream input sends for one line. */
function filebeatEvent(line: string, extra: Doc = {}): Doc {
  return {
    "@timestamp": READ_TIME,
    message: line,
    service: { name: "knowledge-os-api" },
    log: { file: { path: "/srv/atra/logs/knowledge_os_api.log" }, offset: 1234 },
    input: { type: "filestream" },
    host: { name: "docker-host" },
    agent: { type: "filebeat", version: FILEBEAT_VERSION },
    ecs: { version: "8.0.0" },
    ...extra,
  };
}

/** The data stream's final pipeline, given whenever the template names it (the simulator refuses to skip it). */
const FINAL = { name: naming.finalPipeline, definition: renderHostIdentityPipeline("docker-host") };
const newStream = (body: typeof template = template, definition: PipelineDefinition = pipeline) =>
  new SimulatedDataStream(naming.dataStream, body, definition, naming.pipeline, body.template?.settings?.index?.final_pipeline ? FINAL : undefined);

/** Pipeline, mapping, data stream: the outcome of one bulk `create`. */
function ingestOutcome(line: string, extra: Doc = {}, stream = newStream()): IngestOutcome {
  return stream.ingest(filebeatEvent(line, extra));
}

/** The indexed document; fails the test if the line did not land in the data stream. */
function ingest(line: string, extra: Doc = {}): Doc {
  const outcome = ingestOutcome(line, extra);
  if (outcome.outcome !== "indexed") throw new Error(`line not indexed (${outcome.outcome}): ${JSON.stringify(outcome)}`);
  return outcome.source;
}

/** Microseconds since the epoch of an ISO 8601 string, parsed here independently of the simulator. */
function isoMicros(text: string): bigint {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new Error(`not an ISO 8601 timestamp with offset: ${text}`);
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) throw new Error(`unparsable: ${text}`);
  return BigInt(seconds) * 1000n + BigInt((match[2] ?? "").padEnd(6, "0").slice(0, 6) || "0");
}

/** Filebeat's own fields pass through untouched. */
function expectShipperFieldsKept(doc: Doc): void {
  expect(doc.service).toEqual({ name: "knowledge-os-api" });
  expect(doc.host).toEqual({ name: "docker-host" });
  expect(doc.log.file).toEqual({ path: "/srv/atra/logs/knowledge_os_api.log" });
  expect(doc.log.offset).toBe(1234);
  expect(doc.agent).toEqual({ type: "filebeat", version: FILEBEAT_VERSION });
}

/** Rebuilds the structlog object from the document: every key must be somewhere. */
function reconstructStructlog(doc: Doc): Doc {
  const rebuilt: Doc = { ...(doc.structlog ?? {}) };
  rebuilt.event = doc.message;
  if (doc.log?.level !== undefined) rebuilt.level = doc.log.level;
  if (doc.log?.logger !== undefined) rebuilt.logger = doc.log.logger;
  // dict_tracebacks' list stays under structlog.exception; format_exc_info's text moves.
  if (doc.error?.stack_trace !== undefined && rebuilt.exception === undefined) rebuilt.exception = doc.error.stack_trace;
  // Request fields moved onto ECS (request-fields.ts; exact values: ingest-request-fields.test.ts). The lines here
  // that carry them use `path`, `status` and `duration_ms`.
  if (doc.url?.path !== undefined) rebuilt.path = doc.url.path;
  if (doc.http?.response?.status_code !== undefined) rebuilt.status = doc.http.response.status_code;
  if (doc.event?.duration !== undefined) rebuilt.duration_ms = doc.event.duration / 1e6;
  return rebuilt;
}

/** The line's own event text: `event`, or `message` for EventRenamer("message") output. */
const eventOf = (original: Doc): unknown => original.event ?? original.message;

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

/** Lines written with values of the wrong type on purpose (structlog-lines.py, "Values a developer can bind ..."). */
const MISTYPED_EVENTS = [
  "level as a dict",
  "logger as a list",
  "timestamp before 1970",
  "timestamp after 2262",
  "unix timestamp far out",
  "exception as a dict",
  "nested too deep",
];

describeWithStructlog("the pipeline over real structlog lines", () => {
  let lines: string[] = [];
  const byEvent = (event: string): string => {
    const line = lines.find((candidate) => eventOf(JSON.parse(candidate) as Doc) === event);
    if (!line) throw new Error(`structlog-lines.py printed no line with event ${JSON.stringify(event)}:\n${lines.join("\n")}`);
    return line;
  };
  const isMistyped = (line: string) => {
    const original = JSON.parse(line) as Doc;
    return typeof eventOf(original) !== "string" || MISTYPED_EVENTS.includes(eventOf(original) as string);
  };

  beforeAll(() => {
    const run = spawnSync(PYTHON, [SCRIPT], { encoding: "utf8", timeout: 30_000 });
    if (run.status !== 0) throw new Error(`structlog-lines.py failed (${run.status}): ${run.stderr}`);
    lines = run.stdout.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(22);
  });

  test("no line is lost: every line lands in the data stream, or (mapping still rejects it) in the failure store", () => {
    const stream = newStream();
    const outcomes = lines.map((line) => ({ line, outcome: stream.ingest(filebeatEvent(line)) }));
    expect(outcomes.filter(({ outcome }) => outcome.outcome === "rejected")).toEqual([]);
    expect(stream.indexed.length + stream.failures.length).toBe(lines.length);
    // Only the object nested past the flattened depth limit needs the failure store.
    expect(outcomes.filter(({ outcome }) => outcome.outcome === "failure_store").map(({ line }) => eventOf(JSON.parse(line) as Doc))).toEqual([
      "nested too deep",
    ]);
  });

  test("without the failure store the same data stream would have refused a line (the store matters)", () => {
    const withoutStore = { ...template, template: { ...template.template, data_stream_options: undefined } };
    const stream = newStream(withoutStore);
    const refused = lines.map((line) => stream.ingest(filebeatEvent(line))).filter((outcome) => outcome.outcome === "rejected");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ stage: "mapping", error: { message: expect.stringMatching(/exceeds the maximum depth limit of \[20\]/) } });
  });

  test("every well-typed line becomes a mapped document with no tag and nothing lost", () => {
    const wellTyped = lines.filter((line) => !isMistyped(line));
    expect(wellTyped.length).toBeGreaterThanOrEqual(14);
    for (const line of wellTyped) {
      const original = JSON.parse(line) as Doc;
      const doc = ingest(line);
      expect({ line, tags: doc.tags }).toEqual({ line, tags: undefined });
      expect(doc.error?.message).toBeUndefined();
      expect(doc.message).toBe(eventOf(original));
      expect(doc.log.level).toBe(String(original.level).toLowerCase());
      expect(doc.event.created).toBe(READ_TIME);
      // The timestamp is the one mapped key not kept verbatim: compare it as an instant.
      const { timestamp, ...withoutTimestamp } = original;
      if (!("event" in original)) {
        withoutTimestamp.event = withoutTimestamp.message;
        delete withoutTimestamp.message;
      }
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
    // path, status and duration_ms are request fields, on ECS now (request-fields.ts).
    expect(doc.structlog).toEqual({ user_id: 42, cached: false });
    expect(doc.url).toEqual({ path: "/api/search" });
    expect(doc.http).toEqual({ response: { status_code: 200 } });
    expect(doc.event.duration).toBe(12_500_000);
    expect(typeof original.timestamp).toBe("string");
    expect(original.timestamp).toMatch(/\.\d{6}Z$/);
    expect(doc["@timestamp"]).toMatch(/\.\d{6}Z$/);
    expect(isoMicros(doc["@timestamp"])).toBe(isoMicros(original.timestamp));
    expect(doc["@timestamp"]).not.toBe(READ_TIME);
    expect(doc.event.created).toBe(READ_TIME);
  });

  test("every ISO timestamp lands in @timestamp at the same microsecond (a zone-less one read as UTC)", () => {
    const timed = lines
      .map((line) => JSON.parse(line) as Doc)
      .filter((original) => typeof original.timestamp === "string" && !MISTYPED_EVENTS.includes(eventOf(original) as string));
    expect(timed.length).toBeGreaterThanOrEqual(11);
    expect(timed.filter((original) => !/(Z|[+-]\d{2}:\d{2})$/.test(original.timestamp)).length).toBeGreaterThanOrEqual(3);
    for (const original of timed) {
      const doc = ingest(JSON.stringify(original));
      const asWritten = /(Z|[+-]\d{2}:\d{2})$/.test(original.timestamp) ? original.timestamp : `${original.timestamp}Z`;
      expect(isoMicros(doc["@timestamp"])).toBe(isoMicros(asWritten));
    }
  });

  test("warning and critical levels", () => {
    expect(ingest(byEvent("slow query")).log.level).toBe("warning");
    const critical = ingest(byEvent("disk almost full"));
    expect(critical.log.level).toBe("critical");
    expect(critical.structlog).toEqual({ mount: "/srv", free_bytes: 1024 });
  });

  test("log.exception with format_exc_info: level error, the traceback text in error.stack_trace", () => {
    const line = byEvent("division failed");
    const doc = ingest(line);
    expect(doc.log.level).toBe("error");
    expect(doc.error.stack_trace).toBe((JSON.parse(line) as Doc).exception);
    expect(doc.error.stack_trace).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(doc.error.stack_trace).toContain("ZeroDivisionError: division by zero");
    expect(doc.structlog).toEqual({ job_id: "job-17" });
  });

  test("dict_tracebacks: the list of stacks becomes a readable traceback; the list itself is kept", () => {
    const line = byEvent("config load failed");
    const original = JSON.parse(line) as Doc;
    expect(Array.isArray(original.exception)).toBe(true);
    expect(original.exception.map((stack: Doc) => [stack.exc_type, stack.is_cause])).toEqual([
      ["RuntimeError", false],
      ["KeyError", true],
    ]);
    const doc = ingest(line);
    expect(doc.tags).toBeUndefined();
    expect(doc.log.level).toBe("error");
    const trace: string = doc.error.stack_trace;
    const [outer, cause] = original.exception as Doc[];
    const frameLine = (frame: Doc) => `  File "${frame.filename}", line ${frame.lineno}, in ${frame.name}`;
    expect(trace).toBe(
      [
        "Traceback (most recent call last):",
        ...outer!.frames.map(frameLine),
        "RuntimeError: no config at /etc/atra.toml",
        "The exception above was raised from:",
        "Traceback (most recent call last):",
        ...cause!.frames.map(frameLine),
        "KeyError: '/etc/atra.toml'",
      ].join("\n"),
    );
    expect(trace).toContain(", in load_config");
    expect(doc.structlog.exception).toEqual(original.exception);
    expect(doc.structlog.attempt).toBe(3);
  });

  test("dict_tracebacks, an exception raised while handling another: both stacks, no 'raised from'", () => {
    const doc = ingest(byEvent("error while handling another"));
    expect(doc.error.stack_trace).toMatch(
      /^Traceback \(most recent call last\):\n[\s\S]*IndexError: list index out of range\nTraceback \(most recent call last\):\n[\s\S]*ZeroDivisionError: division by zero$/,
    );
    expect(doc.error.stack_trace).not.toContain("raised from");
  });

  test("EventRenamer('message'): the event is in `message`, the document's message is that text", () => {
    const line = byEvent("renamed event");
    const original = JSON.parse(line) as Doc;
    expect(original).not.toHaveProperty("event");
    const doc = ingest(line);
    expect(doc.message).toBe("renamed event");
    expect(doc.log.level).toBe("warning");
    expect(doc.structlog).toEqual({ order_id: "o-1" });
    expect(doc.tags).toBeUndefined();
    const withTrace = ingest(byEvent("renamed with traceback"));
    expect(withTrace.message).toBe("renamed with traceback");
    expect(withTrace.error.stack_trace).toContain("ValueError: invalid literal for int() with base 10: 'x'");
  });

  test("TimeStamper(utc=False): local wall-clock time without zone, read as UTC (documented in the pipeline)", () => {
    const line = byEvent("local time without zone");
    const original = JSON.parse(line) as Doc;
    expect(original.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    const doc = ingest(line);
    expect(doc["@timestamp"]).toBe(`${original.timestamp}Z`);
    expect(doc.tags).toBeUndefined();
  });

  test("keys named like ECS fields stay under structlog and leave Filebeat's fields alone", () => {
    const doc = ingest(byEvent("peer connected"));
    expect(doc.structlog).toEqual({ host: "10.0.0.7", service: { name: "victoria" }, log: "not the ECS log", error: "none" });
    expectShipperFieldsKept(doc);
    expect(doc.error).toBeUndefined();
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

  // DateProcessor reads the Double through Double.toString ("1.7...E9"), which UNIX cuts to the millisecond
  // (DateFormat.java, Unix); the pipeline rewrites the E9 text as plain decimal and reads it with
  // epoch_second (EpochTime.java: up to nine fraction digits from the text), so the microsecond stays.
  test("TimeStamper() without fmt (UNIX seconds) is parsed to the microsecond structlog wrote", () => {
    const line = byEvent("unix timestamp");
    const written = /"timestamp": ([0-9.]+)/.exec(line)![1]!;
    expect(typeof (JSON.parse(line) as Doc).timestamp).toBe("number");
    const doc = ingest(line);
    expect(doc.tags).toBeUndefined();
    const [whole, fraction = ""] = written.split(".");
    expect(isoMicros(doc["@timestamp"])).toBe(BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, "0").slice(0, 6)));
    expect(doc.structlog).toEqual({ worker: "w2" });
    expect(doc).not.toHaveProperty("structlog_timestamp_text");
  });

  test("an event that is a dict: the raw line stays the message, the dict stays under structlog, tagged", () => {
    const line = lines.find((candidate) => (JSON.parse(candidate) as Doc).marker === "event-dict")!;
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc.structlog).toEqual({ event: { kind: "event as a dict" }, marker: "event-dict" });
    expect(doc.log.level).toBe("info");
    expect(doc.tags).toEqual([TYPE_MISMATCH_TAG]);
  });

  test.each([
    ["level as a dict", "level", { name: "info", no: 20 }],
    ["logger as a list", "logger", ["a", "b"]],
    ["exception as a dict", "exception", { type: "X" }],
  ])("%s: kept under structlog, not moved into its keyword/wildcard field, tagged", (event, key, value) => {
    const doc = ingest(byEvent(event));
    expect(doc.structlog[key]).toEqual(value);
    expect(doc.tags).toEqual([TYPE_MISMATCH_TAG]);
    expect(doc.message).toBe(event);
    if (key === "level") expect(doc.log.level).toBeUndefined();
    if (key === "logger") expect(doc.log.logger).toBeUndefined();
    if (key === "exception") expect(doc.error).toBeUndefined();
  });

  test.each([
    ["timestamp before 1970", "1969-07-20T20:17:40Z"],
    ["timestamp after 2262", "2300-01-01T00:00:00Z"],
    ["unix timestamp far out", 1e13],
  ])("%s: outside date_nanos, so the read time stays and the value is kept, tagged", (event, value) => {
    const doc = ingest(byEvent(event));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toEqual([TIMESTAMP_RANGE_TAG]);
    expect(doc.structlog).toEqual({ timestamp_out_of_range: value });
  });

  test("an object deeper than the flattened depth limit: the failure store keeps it as the pipeline left it", () => {
    const stream = newStream();
    const outcome = ingestOutcome(byEvent("nested too deep"), {}, stream);
    expect(outcome.outcome).toBe("failure_store");
    if (outcome.outcome !== "failure_store") return;
    expect(outcome.stage).toBe("mapping");
    expect(outcome.failure.error).toEqual({
      type: "document_parsing_exception",
      message: "The provided [flattened] field [structlog] exceeds the maximum depth limit of [20].",
    });
    expect(outcome.failure.document.index).toBe(naming.dataStream);
    expect(outcome.failure.document.source.message).toBe("nested too deep");
    expect((outcome.failure.document.source.structlog as Doc).payload.l24).toBeDefined();
    expect(stream.failures).toHaveLength(1);
    expect(stream.indexed).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The guards matter: the same lines through a pipeline without them
// ---------------------------------------------------------------------------------------------

describe("without the type guards the mapping would reject these lines", () => {
  /** The pipeline as it was before item 7: every move unconditional (`if` dropped, failures ignored). */
  const unguarded: PipelineDefinition = {
    ...pipeline,
    processors: pipeline.processors!.map((processor) => {
      // @elastic/elasticsearch 9.5 types a processor container as ExactlyOne<...>, which admits undefined.
      const [[type, config]] = Object.entries(processor ?? {}) as [[string, Record<string, unknown>]];
      if (!["rename", "remove"].includes(type) || typeof config.if !== "string" || !/instanceof String \|\|/.test(config.if)) return processor;
      const { if: _condition, ...rest } = config;
      return { [type]: { ...rest, ignore_failure: true } };
    }),
  };

  test.each([
    [{ event: "x", level: { name: "info" } }, /\[log\.level\] of type \[keyword\]/],
    [{ event: "x", logger: { name: "a" } }, /\[log\.logger\] of type \[keyword\]/],
    [{ event: { a: 1 } }, /\[message\] of type \[match_only_text\]/],
    [{ event: "x", exception: [{ exc_type: "E", frames: [] }] }, /\[error\.stack_trace\] of type \[wildcard\]/],
  ])("%j", (object, rejection) => {
    const line = JSON.stringify(object);
    const stream = newStream({ ...template, template: { ...template.template, data_stream_options: undefined } }, unguarded);
    const outcome = stream.ingest(filebeatEvent(line));
    expect(outcome).toMatchObject({ outcome: "rejected", stage: "mapping", error: { message: expect.stringMatching(rejection) } });
    expect(ingestOutcome(line).outcome).toBe("indexed");
  });

  test("a timestamp outside date_nanos, moved unguarded, is rejected by the mapping", () => {
    const unranged: PipelineDefinition = {
      ...pipeline,
      processors: pipeline.processors!.filter((processor) => !JSON.stringify(processor).includes("timestamp_out_of_range")),
    };
    const line = JSON.stringify({ event: "x", timestamp: "1969-12-31T23:59:59Z" });
    const outcome = newStream(template, unranged).ingest(filebeatEvent(line));
    expect(outcome).toMatchObject({
      outcome: "failure_store",
      stage: "mapping",
      failure: { error: { message: expect.stringMatching(/before the epoch in 1970/) } },
    });
    expect(ingestOutcome(line).outcome).toBe("indexed");
  });
});

// ---------------------------------------------------------------------------------------------
// Lines that are not structlog objects: indexed, raw, tagged
// ---------------------------------------------------------------------------------------------

describe("the Filebeat events model the pinned Filebeat", () => {
  test("agent.version is the default images.filebeat's 9.5.2, and the pipeline keeps it", () => {
    expect(filebeatEvent("x").agent).toEqual({ type: "filebeat", version: "9.5.2" });
    expect(ingest("not json").agent).toEqual({ type: "filebeat", version: "9.5.2" });
  });
});

describe("the pipeline over malformed lines", () => {
  function expectKeptAsRawLine(line: string, errorPattern: RegExp): Doc {
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc.tags).toEqual([PARSE_FAILURE_TAG]);
    expect(doc.error.message).toMatch(errorPattern);
    expect(doc.structlog).toBeUndefined();
    expect(doc.log.level).toBeUndefined();
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.event).toEqual({ created: READ_TIME });
    expectShipperFieldsKept(doc);
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

  test("a line that is not JSON still gets its message pattern (set in the pipeline-level on_failure, where the pipeline stops)", () => {
    const line = 'worker 17 crashed after 2.5 s: {"job": 0x1f';
    const doc = ingest(line);
    expect(doc.tags).toEqual([PARSE_FAILURE_TAG]);
    expect(doc.atra).toEqual({ message_pattern: 'worker <n> crashed after <n> s: {"job": <hex>' });
    // JSON that is not an object continues past the guard: the main processors set it.
    expect(ingest("42").atra).toEqual({ message_pattern: "<n>" });
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
  });

  test("an unparsable timestamp: read time kept, tagged, original kept", () => {
    const doc = ingest(JSON.stringify({ event: "clock broke", level: "error", timestamp: "yesterday at noon" }));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toEqual([TIMESTAMP_FAILURE_TAG]);
    expect(doc.error.message).toMatch(/unable to parse date \[yesterday at noon\]/);
    expect(doc.structlog).toEqual({ timestamp_unparsed: "yesterday at noon" });
    expect(doc.message).toBe("clock broke");
    expect(doc.log.level).toBe("error");
  });

  test("an impossible date (Feb 30) is unparsable, not rolled over", () => {
    const doc = ingest(JSON.stringify({ event: "x", timestamp: "2024-02-30T00:00:00Z" }));
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toEqual([TIMESTAMP_FAILURE_TAG]);
  });

  test("the edges of date_nanos: the last microsecond it stores is kept, the next one is not", () => {
    expect(ingest(JSON.stringify({ event: "x", timestamp: DATE_NANOS_LAST }))["@timestamp"]).toBe(DATE_NANOS_LAST);
    expect(ingest(JSON.stringify({ event: "x", timestamp: "1970-01-01T00:00:00Z" }))["@timestamp"]).toBe("1970-01-01T00:00:00.000000Z");
    expect(ingest(JSON.stringify({ event: "x", timestamp: "2262-04-11T23:47:16.854776Z" })).tags).toEqual([TIMESTAMP_RANGE_TAG]);
    expect(ingest(JSON.stringify({ event: "x", timestamp: -0.001 })).tags).toEqual([TIMESTAMP_RANGE_TAG]);
    // A year with five digits, and one before year 0 (UNIX seconds), sort below the range too.
    expect(ingest(JSON.stringify({ event: "x", timestamp: 4e11 })).tags).toEqual([TIMESTAMP_RANGE_TAG]);
    expect(ingest(JSON.stringify({ event: "x", timestamp: -1.2e11 })).tags).toEqual([TIMESTAMP_RANGE_TAG]);
  });

  test("null values: event null keeps the raw line, timestamp null keeps the read time", () => {
    const line = JSON.stringify({ event: null, level: "info", timestamp: null });
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc["@timestamp"]).toBe(READ_TIME);
    expect(doc.tags).toBeUndefined();
    expect(doc.structlog).toEqual({});
  });

  test("EventRenamer output with an explicit `event: null` keeps both keys (the rename cannot overwrite)", () => {
    const line = JSON.stringify({ event: null, message: "renamed" });
    const doc = ingest(line);
    expect(doc.message).toBe(line);
    expect(doc.structlog).toEqual({ message: "renamed" });
  });

  test("scalar levels of other types are moved unchanged (keyword takes them); uppercase levels are lowercased", () => {
    expect(ingest(JSON.stringify({ event: "x", level: 40 })).log.level).toBe(40);
    expect(ingest(JSON.stringify({ event: "x", level: true })).log.level).toBe(true);
    expect(ingest(JSON.stringify({ event: "x", level: "WARNING" })).log.level).toBe("warning");
    expect(ingest(JSON.stringify({ event: 7 })).message).toBe(7);
  });

  test("the json processor alone would leave a non-object the mapping rejects (the guard matters)", () => {
    const parseOnly = { ...pipeline, processors: pipeline.processors!.slice(0, 2) };
    expect(parseOnly.processors[1]!.json).toBeDefined();
    const doc = simulatePipeline(parseOnly, filebeatEvent("[1, 2, 3]")).source;
    expect(mappingRejection(mappings, doc)?.reason).toMatch(/failed to parse field \[structlog\] of type \[flattened\]/);
    expect(ingestOutcome("[1, 2, 3]").outcome).toBe("indexed");
  });

  test("the dict_tracebacks template has no section tag alone on a line before its end (mustache would drop that line)", () => {
    const lines = DICT_TRACEBACK_TEMPLATE.split("\n");
    for (const line of lines.slice(0, -1)) expect(line).not.toMatch(/^\s*\{\{[#^/][^}]*\}\}\s*$/);
    expect(lines[lines.length - 1]).toBe("{{/structlog.exception}}");
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
    ["a condition outside the subset", { remove: { field: "a", if: "ctx.a.size() > 0" } }],
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
          {
            rename: {
              tag: "t1",
              field: "missing",
              target_field: "x",
              on_failure: [
                {
                  set: {
                    field: "why",
                    value: "{{{_ingest.on_failure_processor_type}}}/{{{_ingest.on_failure_processor_tag}}}: {{{_ingest.on_failure_message}}}",
                  },
                },
              ],
            },
          },
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
    const result = simulatePipeline(
      { processors: [{ lowercase: { field: "a.b", ignore_failure: true } }, { set: { field: "next", value: 1 } }] },
      source,
    ).source;
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
      simulatePipeline({ processors: [{ date: { field: "t", formats: ["ISO8601"], ...(outputFormat ? { output_format: outputFormat } : {}) } }] }, { t: value })
        .source["@timestamp"];
    expect(run("2024-05-01T12:34:56.123456789-03:30")).toBe("2024-05-01T16:04:56.123Z");
    expect(run("2024-05-01T12:34:56.123456Z", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")).toBe("2024-05-01T12:34:56.123456Z");
    expect(run("2024-05-01")).toBe("2024-05-01T00:00:00.000Z");
    expect(run("1969-12-31T23:59:59.999999Z", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")).toBe("1969-12-31T23:59:59.999999Z");
  });
});

// ---------------------------------------------------------------------------------------------
// The simulator's new parts: Painless conditions, mustache, trim, java.time years, mapping,
// failure store. Each expectation is the upstream behaviour cited in the simulator.
// ---------------------------------------------------------------------------------------------

describe("ingest simulator: conditions (Painless subset)", () => {
  const when = (condition: string, source: Doc) =>
    simulatePipeline({ processors: [{ set: { field: "hit", value: true, if: condition } }] }, source).source.hit === true;

  test("instanceof, null checks, !, && and || with short-circuit", () => {
    const source = { a: { s: "x", n: 1.5, b: false, m: {}, l: [] }, t: "2000-01-01" };
    expect(
      ["String", "Number", "Boolean", "Map", "List"].map((type) =>
        when(`ctx.a?.${({ String: "s", Number: "n", Boolean: "b", Map: "m", List: "l" } as Doc)[type]} instanceof ${type}`, source),
      ),
    ).toEqual([true, true, true, true, true]);
    expect(when("ctx.a?.s instanceof Map", source)).toBe(false);
    // Long: java.lang.Long only (an integer past an int, or convert long's result); 1.5 and a small integer are not.
    expect(when("ctx.a?.n instanceof Long", source)).toBe(false);
    expect(when("ctx.i instanceof Long", { i: 404 })).toBe(false);
    expect(when("ctx.i instanceof Long", { i: 3_000_000_000 })).toBe(true);
    expect(when("ctx.missing?.x instanceof String", source)).toBe(false);
    expect(when("ctx.missing?.x == null && !(ctx.a?.s == null)", source)).toBe(true);
    // The right side would read a key of a string: short-circuit means it is never evaluated.
    expect(when("ctx.t instanceof Map && ctx.t.x != null", source)).toBe(false);
    expect(when("ctx.t instanceof String || ctx.t.x != null", source)).toBe(true);
    expect(() => when("ctx.t.x != null", source)).toThrow(UnsupportedByModel);
    expect(() => when("ctx.missing.x != null", source)).toThrow(/NullPointerException/);
  });

  test("compareTo against a literal, as Java compares strings", () => {
    expect(when("ctx['t'].compareTo('2000-01-01') >= 0", { t: "2000-01-01" })).toBe(true);
    expect(when("ctx['t'].compareTo('2000-01-02') < 0", { t: "2000-01-01" })).toBe(true);
    expect(when("ctx['t'].compareTo('1970') < 0", { t: "+19700-01-01" })).toBe(true);
    expect(() => when("ctx['t'].compareTo('x') < 0", { t: 5 })).toThrow(UnsupportedByModel);
    expect(() => when("ctx['t'].compareTo('x') < 1", { t: "a" })).toThrow(UnsupportedByModel);
  });
});

describe("ingest simulator: templates (mustache subset)", () => {
  const render = (template: string, source: Doc) => simulatePipeline({ processors: [{ set: { field: "out", value: template } }] }, source).source.out;

  test("sections: lists iterate, false/null/''/[]/missing render nothing, the rest once; inverted sections", () => {
    const source = { list: [{ v: 1 }, { v: 2 }], t: true, f: false, e: "", z: [], s: "x", n: 0, o: { v: "in" } };
    expect(render("{{#list}}[{{{v}}}]{{/list}}", source)).toBe("[1][2]");
    expect(render("{{#t}}T{{/t}}{{#f}}F{{/f}}{{#e}}E{{/e}}{{#z}}Z{{/z}}{{#missing}}M{{/missing}}", source)).toBe("T");
    expect(render("{{#s}}S{{/s}}{{#n}}N{{/n}}{{#o}}{{{v}}}{{/o}}", source)).toBe("SNin");
    expect(render("{{^f}}not f{{/f}}{{^t}}not t{{/t}}", source)).toBe("not f");
  });

  test("names: innermost scope first, then outward; a dotted name stays inside the value it starts in", () => {
    const source = { name: "outer", items: [{ name: "inner" }, { other: 1 }], a: { b: { c: "deep" } } };
    expect(render("{{#items}}{{{name}}};{{/items}}", source)).toBe("inner;outer;");
    expect(render("{{{a.b.c}}}|{{{a.x.c}}}|{{{items.size}}}|{{{items.0.name}}}", source)).toBe("deep||2|inner");
  });

  test("refused: double braces, functions, a lone section tag before the end, writing an object", () => {
    for (const template of ["{{name}}", "{{#toJson}}a{{/toJson}}", "{{#a}}\nx\n{{/a}}", "{{{a}}}", "{{&a}}"]) {
      expect(() => render(template, { a: { b: 1 }, name: "n" })).toThrow(UnsupportedByModel);
    }
  });

  test("trim: Java's String.trim on both ends", () => {
    const out = simulatePipeline({ processors: [{ trim: { field: "x" } }] }, { x: " \t\n a b \n" }).source.x;
    expect(out).toBe("a b");
    expect(() => simulatePipeline({ processors: [{ trim: { field: "x" } }] }, { x: 5 })).toThrow(PipelineFailure);
  });
});

describe("ingest simulator: date output as java.time prints it", () => {
  const run = (value: unknown, formats = ["ISO8601", "UNIX"], outputFormat = "uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX") =>
    simulatePipeline({ processors: [{ date: { field: "t", formats, output_format: outputFormat } }] }, { t: value }).source["@timestamp"];

  // Expected instants from JavaScript's own Date (new Date(4e14).toISOString() is +014645-06-30T15:06:40.000Z).
  test("uuuu signs years beyond four digits and before year 0; yyyy prints the year of era", () => {
    expect(run(4e11)).toBe(`+${new Date(4e14).toISOString().slice(2, -1)}000Z`);
    expect(run(4e11)).toBe("+14645-06-30T15:06:40.000000Z");
    expect(run(-1.2e11)).toBe("-1833-05-09T02:40:00.000000Z");
    expect(new Date(-1.2e14).toISOString()).toBe("-001833-05-09T02:40:00.000Z");
    expect(run(-1.2e11, ["UNIX"], "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")).toBe("1834-05-09T02:40:00.000000Z");
    expect(run("0099-12-31T23:59:59Z")).toBe("0099-12-31T23:59:59.000000Z");
  });

  test("UNIX: Java's saturating (long) cast of seconds * 1000; NaN is the epoch", () => {
    expect(run("1e300", ["UNIX"])).toBe("+292278994-08-17T07:12:55.807000Z");
    expect(run("NaN", ["UNIX"])).toBe("1970-01-01T00:00:00.000000Z");
    expect(run(" 1.5 ", ["UNIX"])).toBe("1970-01-01T00:00:01.500000Z");
  });
});

describe("ingest simulator: the mapping step (as Elasticsearch's document parser)", () => {
  const base = { "@timestamp": READ_TIME };
  const rejected = (source: Doc) => mappingRejection(mappings, { ...base, ...source })?.reason;

  test.each<[string, Doc, RegExp | undefined]>([
    ["keyword takes strings, numbers, booleans and lists of them", { log: { level: ["info", 3, true] } }, undefined],
    ["keyword refuses an object", { log: { level: { a: 1 } } }, /\[log\.level\] of type \[keyword\]/],
    [
      "an object mapping refuses a concrete value",
      { log: "x" },
      /object mapping for \[log\] tried to parse field \[log\] as object, but found a concrete value/,
    ],
    ["match_only_text refuses an object", { message: { a: 1 } }, /\[message\] of type \[match_only_text\]/],
    ["wildcard refuses a list of objects", { error: { stack_trace: [{ a: 1 }] } }, /\[error\.stack_trace\] of type \[wildcard\]/],
    ["long coerces a numeric string", { log: { offset: "12" } }, undefined],
    ["long refuses text", { log: { offset: "twelve" } }, /\[log\.offset\] of type \[long\]/],
    ["date_nanos refuses 1969", { "@timestamp": "1969-12-31T23:59:59Z" }, /before the epoch in 1970/],
    ["date_nanos refuses 2262-04-12", { "@timestamp": "2262-04-12T00:00:00Z" }, /after 2262-04-11T23:47:16\.854775807/],
    ["date_nanos takes its last nanosecond", { "@timestamp": "2262-04-11T23:47:16.854775807Z" }, undefined],
    ["date refuses text that is not a date", { event: { created: "soon" } }, /\[event\.created\] of type \[date\]/],
    [
      "constant_keyword refuses another value",
      { data_stream: { namespace: "prod" } },
      /only accepts values that are equal to the value defined in the mappings \[dev\]/,
    ],
    ["flattened refuses a scalar", { structlog: "x" }, /\[structlog\] of type \[flattened\]/],
    // FlattenedFieldParser: the field's own object is level 1; a nested object at path length p fails when p + 1 > 20.
    ["flattened takes 20 nested objects counting its own", { structlog: JSON.parse(`${'{"a":'.repeat(20)}1${"}".repeat(20)}`) }, undefined],
    ["flattened refuses 21", { structlog: JSON.parse(`${'{"a":'.repeat(21)}1${"}".repeat(21)}`) }, /exceeds the maximum depth limit of \[20\]/],
    ["flattened refuses a NUL in a key", { structlog: { "a\u0000b": 1 } }, /reserved character/],
    ["flattened skips a leaf above ignore_above", { structlog: { big: "x".repeat(9000) } }, undefined],
    ["flattened refuses a keyed leaf over 32766 bytes", { structlog: { ["k".repeat(30000)]: "v".repeat(8000) } }, /immense field/],
    ["a data stream document needs @timestamp", { "@timestamp": undefined }, /data stream timestamp field \[@timestamp\] is missing/],
  ])("%s", (_name, source, expected) => {
    const reason = rejected(source);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  test("dynamic mapping (a template with dynamic: true, not ours): the first value decides, a later document of another shape is refused", () => {
    const learned = new Map();
    const dynamic = {
      ...mappings,
      dynamic: true,
      dynamic_templates: [{ strings_as_keyword: { match_mapping_type: "string", mapping: { type: "keyword", ignore_above: 1024 } } }],
    };
    expect(mappingRejection(dynamic, { ...base, input: { type: "filestream" } }, learned)).toBeUndefined();
    expect(mappingRejection(dynamic, { ...base, input: { type: { nested: 1 } } }, learned)?.reason).toMatch(/\[input\.type\] of type \[keyword\]/);
    expect(mappingRejection(dynamic, { ...base, extra: 5 }, learned)).toBeUndefined();
    expect(mappingRejection(dynamic, { ...base, extra: "five" }, learned)?.reason).toMatch(/\[extra\] of type \[long\]/);
    expect(mappingRejection(dynamic, { ...base, when: "2024-01-01T00:00:00Z" }, learned)).toBeUndefined();
    expect(mappingRejection(dynamic, { ...base, when: "not a date" }, learned)?.reason).toMatch(/\[when\] of type \[date\]/);
  });

  test("the shipped template's dynamic: false: an unknown field, of any shape, is neither refused nor learned; sub-objects inherit it", () => {
    expect(mappings.dynamic).toBe(false);
    const learned = new Map();
    for (const source of [
      { ...base, extra: 5 },
      { ...base, extra: "five" },
      { ...base, extra: { deep: { er: [1, "x", { y: true }] } } },
      // Under a mapped object (host has only name mapped): inherited, ignored.
      { ...base, host: { name: "h", hostname: { not: "a string" } } },
    ])
      expect(mappingRejection(mappings, source, learned)).toBeUndefined();
    expect([...learned.keys()]).toEqual([]);
    // A mapped field still refuses what its type cannot take.
    expect(mappingRejection(mappings, { ...base, log: { offset: "many" } }, learned)?.reason).toMatch(/\[log\.offset\]/);
    expect(() => mappingRejection({ ...mappings, dynamic: "strict" }, base)).toThrow(UnsupportedByModel);
  });

  test("a field type the model does not know is refused, not guessed", () => {
    expect(() => mappingRejection({ properties: { x: { type: "geo_point" } } }, { ...base, x: "1,2" })).toThrow(UnsupportedByModel);
  });
});

describe("ingest simulator: the failure store", () => {
  const failing: PipelineDefinition = { processors: [{ rename: { tag: "needs_field", field: "missing", target_field: "x" } }] };

  test("a pipeline failure stores the document as it arrived, with the pipeline, processor type and tag", () => {
    const stream = newStream(template, failing);
    const source = filebeatEvent("line");
    const outcome = stream.ingest(source, new Date("2030-01-02T03:04:06Z"));
    expect(outcome).toEqual({
      outcome: "failure_store",
      stage: "pipeline",
      failure: {
        "@timestamp": "2030-01-02T03:04:06.000Z",
        document: { index: naming.dataStream, source },
        error: {
          type: "illegal_argument_exception",
          message: "field [missing] doesn't exist",
          pipeline: naming.pipeline,
          processor_type: "rename",
          processor_tag: "needs_field",
        },
      },
      // Elasticsearch 9.2+ (the failure store GA in 9.1, on by default for new logs-*-* from 9.2, #131261): the bulk
      // item is a success, 201 with failure_store "used" (action/bulk/IndexDocFailureStoreStatus.java).
      answer: { status: 201, failure_store: "used" },
    });
  });

  test("with the failure store off (no data_stream_options), the same failure is refused", () => {
    const withoutStore = { ...template, template: { ...template.template, data_stream_options: undefined } };
    expect(newStream(withoutStore, failing).ingest(filebeatEvent("line"))).toMatchObject({
      outcome: "rejected",
      stage: "pipeline",
      answer: { status: 400, failure_store: "not_enabled" },
    });
    expect(newStream(withoutStore).ingest({ ...filebeatEvent("x"), log: "flat" })).toMatchObject({ outcome: "rejected", stage: "mapping" });
  });

  test("the shipped template turns it on", () => {
    expect(newStream().failureStoreEnabled).toBe(true);
  });
});

describe("documents without Filebeat's @timestamp", () => {
  test("the pipeline still parses the line; the mapping then sends the document to the failure store, not to oblivion", () => {
    const { "@timestamp": _readTime, ...withoutTime } = filebeatEvent(JSON.stringify({ event: "no read time", level: "info" }));
    const processed = simulatePipeline(pipeline, withoutTime).source;
    expect(processed.tags).toBeUndefined();
    expect(processed.message).toBe("no read time");
    expect(newStream().ingest(withoutTime)).toMatchObject({
      outcome: "failure_store",
      stage: "mapping",
      failure: { error: { message: "data stream timestamp field [@timestamp] is missing" } },
    });
  });
});
