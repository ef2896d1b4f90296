/**
 * Where the ingest simulator (test/support/ingest-simulator.ts) must answer as Elasticsearch 9 does, or
 * refuse with UnsupportedByModel (issue 17, items 9 and 10): how the json processor reads a line
 * (Jackson as Elasticsearch configures it), which ISO 8601 forms the date processor takes, how Java
 * prints numbers, how UNIX-seconds timestamps keep their microseconds, and how an error line that is
 * not strict JSON (structlog writes NaN bare) keeps its level. Each case names the upstream source it
 * follows. Real lines come from Debian's python3-structlog (test/support/structlog-lines.py edge).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaultDataStream, logsNaming, renderIndexTemplate } from "../../components/logs/elastic-bodies";
import { LEVEL_FROM_RAW_LINE, PARSE_FAILURE_TAG, renderIngestPipeline } from "../../components/logs/ingest-pipeline";
import { ERROR_LEVELS } from "../../components/logs/kibana-bodies";
import { renderHostIdentityPipeline } from "../../components/logs/host-identity-pipeline";
import {
  JACKSON_MAX_NESTING_DEPTH,
  javaDoubleToString,
  mappingRejection,
  parseJacksonJson,
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
  failureStoreRetention: "7d",
});

const FINAL = { name: naming.finalPipeline, definition: renderHostIdentityPipeline("h") };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents are free-form JSON
type Doc = Record<string, any>;

const filebeatEvent = (line: string): Doc => ({ "@timestamp": READ_TIME, message: line, service: { name: "api" }, host: { name: "h" } });

function ingest(line: string): Doc {
  const outcome = new SimulatedDataStream(naming.dataStream, template, pipeline, naming.pipeline, FINAL).ingest(filebeatEvent(line));
  if (outcome.outcome !== "indexed") throw new Error(`not indexed: ${outcome.outcome}`);
  return outcome.source;
}

/** The json processor alone, into `parsed`. */
const jsonOnly = (line: string) => simulatePipeline({ processors: [{ json: { field: "message", target_field: "parsed" } }] }, { message: line }).source.parsed;
const jsonFailure = (line: string): string => {
  try {
    simulatePipeline({ processors: [{ json: { field: "message", target_field: "parsed" } }] }, { message: line });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${line} parsed`);
};

/** The date processor alone, ISO8601 only, microsecond output. */
const isoDate = (value: string) =>
  simulatePipeline(
    { processors: [{ date: { field: "t", formats: ["ISO8601"], timezone: "UTC", output_format: "uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX" } }] },
    { t: value },
  ).source["@timestamp"];

// ---------------------------------------------------------------------------------------------
// The json processor: Jackson as Elasticsearch configures it
// ---------------------------------------------------------------------------------------------

describe("json processor (elastic/elasticsearch JsonProcessor.java + libs/x-content JsonXContentImpl.java)", () => {
  // JsonProcessor: allow_duplicate_keys defaults to false; JsonXContentImpl sets STRICT_DUPLICATE_DETECTION.
  test("a duplicate key fails the line: parse failure tag, raw line kept (JSON.parse would keep the last value)", () => {
    const line = '{"event": "twice", "level": "info", "event": "again"}';
    expect(jsonFailure(line)).toMatch(/JsonParseException: Duplicate field 'event'/);
    const doc = ingest(line);
    expect(doc.tags).toEqual([PARSE_FAILURE_TAG]);
    expect(doc.message).toBe(line);
    expect(doc.log.level).toBe("info"); // read from the raw line (below)
    // Duplicates in different objects are fine.
    expect(jsonOnly('{"a": {"k": 1}, "b": {"k": 2}}')).toEqual({ a: { k: 1 }, b: { k: 2 } });
  });

  // JsonXContentImpl: ALLOW_COMMENTS true.
  test("comments are whitespace (ALLOW_COMMENTS); an unterminated one fails", () => {
    expect(jsonOnly('/* lead */ {"event": "x", // to the end of the line\n "level": "info" /* inner */} // tail')).toEqual({ event: "x", level: "info" });
    expect(jsonFailure('{"event": "x"} /* open')).toMatch(/JsonParseException/);
    expect(jsonFailure('{"event": "x"} # yaml style')).toMatch(/JsonParseException/);
  });

  // Jackson StreamReadConstraints.DEFAULT_MAX_DEPTH = 1000; Elasticsearch only raises maxStringLength (XContentImplUtils).
  test("nesting: 1000 levels parse, 1001 fail with StreamConstraintsException", () => {
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    expect(JACKSON_MAX_NESTING_DEPTH).toBe(1000);
    expect(() => parseJacksonJson(nested(1000))).not.toThrow();
    expect(jsonFailure(nested(1001))).toMatch(/StreamConstraintsException: Document nesting depth \(1001\) exceeds the maximum allowed \(1000/);
    const deepObject = `{"event": "deep", "p": ${'{"a": '.repeat(1000)}1${"}".repeat(1000)}}`;
    expect(ingest(deepObject).tags).toEqual([PARSE_FAILURE_TAG]);
  });

  test("what Jackson refuses that is not JSON: NaN/Infinity, leading zeros, +1, .5, 1., single quotes, trailing content", () => {
    for (const line of [
      '{"a": NaN}',
      '{"a": Infinity}',
      '{"a": -Infinity}',
      '{"a": 01}',
      '{"a": +1}',
      '{"a": .5}',
      '{"a": 1.}',
      "{'a': 1}",
      '{"a": 1} {"b": 2}',
      '{"a": 1}x',
    ]) {
      expect({ line, failed: /JsonParseException/.test(jsonFailure(line)) }).toEqual({ line, failed: true });
    }
    expect(jsonOnly("")).toBeNull();
    expect(jsonOnly("  /* nothing */ ")).toBeNull();
  });

  // ParserBase.getNumberValue: Integer, Long or BigInteger by size for integer tokens; Double otherwise.
  test("regexes outside the subset Java, Joni and JavaScript read alike are refused (\\s, \\w, look-arounds)", () => {
    for (const pattern of ["\\s+", "\\w", "(?=x)", "(?<n>x)", "é"]) {
      expect(() => simulatePipeline({ processors: [{ gsub: { field: "m", pattern, replacement: "" } }] }, { m: "x" })).toThrow(UnsupportedByModel);
    }
    expect(simulatePipeline({ processors: [{ gsub: { field: "m", pattern: "^([0-9])\\.([0-9]{2})", replacement: "$1$2." } }] }, { m: "1.2345" }).source.m).toBe(
      "123.45",
    );
  });

  test("numbers: integer tokens are exact at any size (BigInteger), float tokens are Doubles", () => {
    expect(jsonOnly('{"huge": 18446744073709551616, "long": 9007199254740993, "int": 7, "whole": 2.0}')).toEqual({
      huge: 18446744073709551616n,
      long: 9007199254740993n,
      int: 7,
      whole: 2,
    });
    expect(() => jsonOnly('{"inf": 1e400}')).toThrow(UnsupportedByModel);
  });
});

// ---------------------------------------------------------------------------------------------
// Java's number text
// ---------------------------------------------------------------------------------------------

describe("numbers as Java prints them (Double.toString, JDK 19+; Integer/Long/BigInteger digits)", () => {
  // openjdk/jdk test/jdk/java/lang/Double/ToString.java and the Double.toString javadoc examples.
  test.each([
    [1.0, "1.0"],
    [0.001, "0.001"],
    [0.0001, "1.0E-4"],
    [1e7, "1.0E7"],
    [9999999.0, "9999999.0"],
    [1234567.5, "1234567.5"],
    [1765087080.1234567, "1.7650870801234567E9"],
    [2 ** 64, "1.8446744073709552E19"],
    [-2.5e-5, "-2.5E-5"],
    [1e23, "1.0E23"],
    [100, "100.0"],
    [0.1, "0.1"],
    [-0, "-0.0"],
  ])("Double.toString(%p) is %s", (value, text) => {
    expect(javaDoubleToString(value)).toBe(text);
  });

  test("a subnormal is refused (Java may pick two digits where JavaScript picks one)", () => {
    expect(() => javaDoubleToString(5e-324)).toThrow(UnsupportedByModel);
  });

  // Mustache writes a value with its toString (CustomReflectionObjectHandler); ingest then holds Jackson's numbers.
  test("a template writes numbers as Java does: 1.0E-4, 1.0E7, 2.0, an exact 2^64, 7", () => {
    const doc = simulatePipeline(
      {
        processors: [
          { json: { field: "message", target_field: "n" } },
          { set: { field: "text", value: "{{{n.small}}} {{{n.large}}} {{{n.whole}}} {{{n.huge}}} {{{n.int}}}" } },
        ],
      },
      { message: '{"small": 0.0001, "large": 10000000.0, "whole": 2.0, "huge": 18446744073709551616, "int": 7}' },
    ).source;
    expect(doc.text).toBe("1.0E-4 1.0E7 2.0 18446744073709551616 7");
  });
});

// ---------------------------------------------------------------------------------------------
// The date processor's ISO8601 format
// ---------------------------------------------------------------------------------------------

describe("ISO8601 as Elasticsearch 9 reads it (server/.../common/time/Iso8601Parser.java via DateFormatters ISO_8601)", () => {
  test.each([
    ["2024", "2024-01-01T00:00:00.000000Z"],
    ["2024-05", "2024-05-01T00:00:00.000000Z"],
    ["2024-05-06", "2024-05-06T00:00:00.000000Z"],
    ["2024-05-06T", "2024-05-06T00:00:00.000000Z"],
    ["2024-05-06T10", "2024-05-06T10:00:00.000000Z"],
    ["2024-05-06T10Z", "2024-05-06T10:00:00.000000Z"],
    ["2024-05-06T10:30+02:00", "2024-05-06T08:30:00.000000Z"],
    ["2024-05-06T10:30:15,25Z", "2024-05-06T10:30:15.250000Z"],
    ["2024-05-06T10:30:15.123456789-0330", "2024-05-06T14:00:15.123456Z"],
    ["2024-05-06T10:30:15+05:30:10", "2024-05-06T05:00:05.000000Z"],
    ["2024-05-06T10:30:15UTC", "2024-05-06T10:30:15.000000Z"],
    ["2024-05-06T10:30:15GMT+2", "2024-05-06T08:30:15.000000Z"],
    ["2024-05-06T10:30:15UT-01:30", "2024-05-06T12:00:15.000000Z"],
    ["-0044-03-15T12:00:00Z", "-0044-03-15T12:00:00.000000Z"],
  ])("%s is %s", (value, expected) => {
    expect(isoDate(value)).toBe(expected);
  });

  test.each(["2024-13", "2024-02-30", "2024-05-32", "2024-5-06", "24-05-06", "yesterday at noon"])("%s is unparsable", (value) => {
    expect(() => isoDate(value)).toThrow(/unable to parse date/);
  });

  test("region zone ids and what only the java.time fallback parser could read are refused, not guessed", () => {
    expect(() => isoDate("2024-05-06T10:30:15Europe/Paris")).toThrow(UnsupportedByModel);
    expect(() => isoDate("+12024-05-06T10:30:15Z")).toThrow(UnsupportedByModel);
    expect(() => isoDate("2024-05-06T10:30:15.1234567891Z")).toThrow(UnsupportedByModel);
    // Iso8601Parser answers null for these (ZoneOffset past 18h; a colon in one place only), and the java.time
    // parser after it is not modelled: refused rather than guessed.
    expect(() => isoDate("2024-05-06T10:30:15+19:00")).toThrow(UnsupportedByModel);
    expect(() => isoDate("2024-05-06T10:30:15+0530:10")).toThrow(UnsupportedByModel);
  });

  test("the pipeline takes the same forms: a year-only timestamp is that year, not 2024 seconds after 1970", () => {
    const doc = ingest(JSON.stringify({ event: "x", timestamp: "2024" }));
    expect(doc["@timestamp"]).toBe("2024-01-01T00:00:00.000000Z");
    expect(ingest(JSON.stringify({ event: "x", timestamp: "2024-05-06T10:30:15,5+01:00" }))["@timestamp"]).toBe("2024-05-06T09:30:15.500000Z");
  });
});

// ---------------------------------------------------------------------------------------------
// Index mode: the simulator models standard, and refuses to guess
// ---------------------------------------------------------------------------------------------

describe("dotted field names (DotExpanderProcessor.java; DotExpandingXContentParser.java, DocumentParserTests.java)", () => {
  const expand = (config: Record<string, unknown>, source: Record<string, unknown>) =>
    simulatePipeline({ processors: [{ dot_expander: config }] }, source).source;

  test("dot_expander `*`: every root dotted key becomes the path it names; override sets, no override appends; nested keys stay", () => {
    expect(expand({ field: "*" }, { "foo.bar": "baz", a: { "b.c": 1 } })).toEqual({ foo: { bar: "baz" }, a: { "b.c": 1 } });
    // An existing path (DotExpanderProcessor.expandDot): appendFieldValue makes a list, or setFieldValue with override replaces.
    expect(expand({ field: "*" }, { foo: { bar: "a" }, "foo.bar": "b" })).toEqual({ foo: { bar: ["a", "b"] } });
    expect(expand({ field: "*", override: true }, { foo: { bar: "a" }, "foo.bar": "b" })).toEqual({ foo: { bar: "b" } });
    expect(expand({ field: "foo.bar" }, { "foo.bar": "b", "x.y": 1 })).toEqual({ foo: { bar: "b" }, "x.y": 1 });
  });

  test("a prefix holding a value cannot be expanded: the processor fails with Elasticsearch's message", () => {
    expect(() => expand({ field: "*", override: true }, { foo: "a", "foo.bar": "b" })).toThrow(
      "cannot expand [foo.bar], because [foo] is not an object field, but a value field",
    );
  });

  test("what depends on Java's HashMap order or split is refused, not guessed", () => {
    expect(() => expand({ field: "*" }, { "a.b": 1, "a.b.c": 2 })).toThrow(UnsupportedByModel);
    expect(() => expand({ field: "*" }, { "a..b": 1 })).toThrow(UnsupportedByModel);
  });

  test("the mapper reads a dotted name as the objects it names, merged with them (testDotsWithExistingMapper: three values)", () => {
    const mappings = { properties: { "@timestamp": { type: "date" }, foo: { properties: { bar: { properties: { baz: { type: "long" } } } } } } };
    const indexed = new Map<string, unknown[]>();
    const source = { "@timestamp": READ_TIME, "foo.bar.baz": 123, foo: { "bar.baz": 456 }, "foo.bar": { baz: 789 } };
    expect(mappingRejection(mappings, source, new Map(), indexed)).toBeUndefined();
    expect(indexed.get("foo.bar.baz")).toEqual([123, 456, 789]);
    expect(() => mappingRejection(mappings, { "@timestamp": READ_TIME, "foo..bar": 1 })).toThrow(UnsupportedByModel);
  });
});

describe("index mode (x-pack/plugin/logsdb LogsdbIndexModeSettingsProvider.java)", () => {
  const withSettings = (index: Record<string, unknown>) => ({ ...template, template: { ...template.template, settings: { index } } });

  test("the shipped template pins standard, which the simulator models", () => {
    expect(template.template!.settings!.index!.mode).toBe("standard");
    expect(() => new SimulatedDataStream(naming.dataStream, template, pipeline, naming.pipeline, FINAL)).not.toThrow();
  });

  test("a logs-*-* template without index.mode (logsdb or standard by cluster setting) and logsdb are refused", () => {
    expect(() => new SimulatedDataStream(naming.dataStream, withSettings({}), pipeline)).toThrow(/index.mode is unset.*cluster.logsdb.enabled/);
    expect(() => new SimulatedDataStream(naming.dataStream, withSettings({ mode: "logsdb" }), pipeline)).toThrow(UnsupportedByModel);
    // A name outside logs-*-* stays standard whatever the cluster setting.
    expect(() => new SimulatedDataStream("logs-flat", withSettings({}), pipeline)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Real structlog lines: microseconds of UNIX timestamps, and levels of lines with NaN
// ---------------------------------------------------------------------------------------------

function structlogAvailable(): boolean {
  return fs.existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import structlog"], { encoding: "utf8" }).status === 0;
}

const describeWithStructlog = structlogAvailable() || process.env.CI === "true" ? describe : describe.skip;

describeWithStructlog("real structlog lines Jackson reads differently from JavaScript (structlog-lines.py edge)", () => {
  let lines: string[] = [];
  const byEvent = (event: string) => {
    const line = lines.find((candidate) => candidate.includes(`"event": ${JSON.stringify(event)}`));
    if (!line) throw new Error(`no line with event ${event}:\n${lines.join("\n")}`);
    return line;
  };

  beforeAll(() => {
    const run = spawnSync(PYTHON, [SCRIPT, "edge"], { encoding: "utf8", timeout: 30_000 });
    if (run.status !== 0) throw new Error(`structlog-lines.py edge failed (${run.status}): ${run.stderr}`);
    lines = run.stdout.split("\n").filter((line) => line.trim() !== "");
    expect(lines.length).toBe(8);
  });

  // structlog/processors.py (_make_stamper, fmt=None): `time.time()`, written by json.dumps as the float's repr.
  test("TimeStamper() floats keep the microsecond written (Double.toString, E9 made decimal, epoch_second)", () => {
    const precise = lines.filter((line) => line.includes('"unix timestamp precise"'));
    expect(precise).toHaveLength(3);
    for (const line of precise) {
      const written = /"timestamp": ([0-9.]+)\}/.exec(line)![1]!;
      const [whole, fraction = ""] = written.split(".");
      const seconds = new Date(Number(whole) * 1000).toISOString().slice(0, 19);
      const doc = ingest(line);
      expect({ line, timestamp: doc["@timestamp"] }).toEqual({ line, timestamp: `${seconds}.${fraction.padEnd(6, "0").slice(0, 6)}Z` });
      expect(doc.tags).toBeUndefined();
    }
    // Before the fix: the UNIX format alone kept milliseconds (DateFormat.Unix), the rest was cut without a trace.
    const cut = simulatePipeline(
      {
        processors: [
          { json: { field: "message", target_field: "s" } },
          { date: { field: "s.timestamp", formats: ["UNIX"], output_format: "uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX" } },
        ],
      },
      { message: precise[1]! },
    ).source["@timestamp"] as string;
    expect(cut).toMatch(/\.\d{3}000Z$/);
  });

  // json.dumps(allow_nan=True) writes NaN/Infinity bare; Jackson refuses them (ALLOW_NON_NUMERIC_NUMBERS off).
  test.each([
    ["ratio undefined", "error"],
    ["limit overflow", "critical"],
    ["nested level before the real one", "error"],
    ["traceback with a local named level", "error"],
  ])("%s: not JSON to Jackson, yet log.level is %s (grok on the raw line) and the raw line is kept", (event, level) => {
    const line = byEvent(event);
    expect(jsonFailure(line)).toMatch(/Non-standard token '(NaN|Infinity)'/);
    const doc = ingest(line);
    expect(doc.tags).toEqual([PARSE_FAILURE_TAG]);
    expect(doc.message).toBe(line);
    expect(doc.log.level).toBe(level);
    expect((ERROR_LEVELS as readonly string[]).includes(doc.log.level)).toBe(true);
  });

  test("the grok patterns: event-adjacent level first, the first key-position level second; a line with none gets none", () => {
    expect(LEVEL_FROM_RAW_LINE).toHaveLength(2);
    // EventRenamer("message") puts the event after the level: the second pattern finds it.
    expect(ingest('{"ratio": NaN, "level": "warning", "message": "renamed"}').log.level).toBe("warning");
    expect(ingest("plain text, level: error").log?.level).toBeUndefined();
    expect(ingest('{"level": "ERROR", "ratio": NaN}').log.level).toBe("error");
  });

  test("numbers Java prints differently: the line is indexed, exact, with Java's forms where text is made", () => {
    const line = byEvent("numbers java prints");
    const doc = ingest(line);
    expect(doc.tags).toBeUndefined();
    expect(doc.structlog).toEqual({ small: 0.0001, large: 1e7, whole: 2, huge: 18446744073709551616n, seconds: 1765087080.1234567 });
  });
});
