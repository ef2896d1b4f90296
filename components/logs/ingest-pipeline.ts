/**
 * The ingest pipeline that turns a structlog JSON line (shipped by Filebeat as `message`) into an
 * ECS document. Pure: the dynamic provider PUTs the body as it is.
 *
 * Input, as Filebeat's filestream input sends it: `message` (the raw line), `@timestamp` (when
 * Filebeat read the line), `service.name`, `log.file.path`, `host.name`, ... Output:
 *
 * | structlog key | document field (only when the value has the field's type)              |
 * |---------------|-------------------------------------------------------------------------|
 * | event         | message, if text/number/boolean (else the raw line stays the message)    |
 * | message       | message, when there is no `event` (EventRenamer("message") output)      |
 * | level         | log.level, lowercased, if text/number/boolean                           |
 * | logger        | log.logger, if text/number/boolean                                      |
 * | timestamp     | @timestamp (microseconds), if it parses and fits date_nanos (1970-2262): |
 * |               | ISO 8601 as Elasticsearch reads it; UNIX seconds (TimeStamper()'s float)|
 * |               | to the microsecond structlog wrote (digits beyond it are cut)           |
 * | exception     | error.stack_trace: format_exc_info's text as it is; dict_tracebacks'    |
 * |               | list of stacks rendered as a Python-style traceback (and kept as is)    |
 * | anything else | structlog.<key>, unchanged (a `flattened` field)                        |
 *
 * `event.created` keeps Filebeat's read time (ECS: when the agent first read the event).
 *
 * What this pipeline promises: no processor failure rejects a line, and no value it moves can be
 * refused by the index template's mapping (each move into a typed ECS field is guarded by the
 * value's type). A value that does not fit stays under `structlog.*` and the line gets a tag:
 * - `structlog_parse_failure`: not JSON (as Elasticsearch's Jackson reads it: a repeated key,
 *   nesting past 1000, or the NaN/Infinity structlog writes bare all fail), or JSON that is not an
 *   object: raw line in `message`, the reason in `error.message`, structlog's `level`, when
 *   one is found in the raw line (LEVEL_FROM_RAW_LINE), in `log.level`, and the raw line's pattern
 *   in `atra.message_pattern`.
 * - `structlog_timestamp_unparsable`: Filebeat's read time stays in `@timestamp`, the value is kept
 *   as `structlog.timestamp_unparsed`, the reason in `error.message`.
 * - `structlog_timestamp_out_of_range`: the timestamp parsed but lies outside what `date_nanos`
 *   stores (before 1970 or after 2262-04-11T23:47:16.854775807Z; elastic/elasticsearch
 *   server/src/main/java/org/elasticsearch/common/time/DateUtils.java, toLong): read time in
 *   `@timestamp`, the value kept as `structlog.timestamp_out_of_range`.
 * - `structlog_type_mismatch`: `event`, `level`, `logger` or `exception` held a value of the wrong
 *   type (an object, a list); it stays where it was, under `structlog.*`.
 * What the pipeline cannot see (a `structlog` object nested deeper than the flattened field's
 * depth_limit of 20, a key with a NUL character, a leaf whose key and value together pass Lucene's
 * 32766-byte term limit) the mapping still rejects; the data stream's failure store keeps those
 * documents (`<data stream>::failures`, see elastic-bodies.ts), so no line is dropped.
 *
 * Time zones: a timestamp with an offset (`Z`, `+02:00`) is exact. A timestamp without one
 * (structlog's `TimeStamper(fmt="iso", utc=False)` writes the local wall-clock time with no offset)
 * is read as UTC: the date processor applies its `timezone` only to zone-less input
 * (elastic/elasticsearch modules/ingest-common/.../DateFormat.java, Iso8601: DateFormatters.from(
 * accessor, ROOT, timezone)), and a container's local time is UTC unless its image or environment
 * sets TZ. A service that sets TZ and logs with utc=False is shifted by its offset: log with
 * `TimeStamper(fmt="iso", utc=True)` (README, "Logs").
 *
 * Painless appears only in `if` conditions (type checks, null checks, one string comparison),
 * templates only as mustache `{{{...}}}` and sections, regexes (gsub, grok) only in the subset where
 * Java's, Joni's and JavaScript's agree. Every processor, condition and template form
 * used here is modelled by test/support/ingest-simulator.ts, which refuses anything else.
 */
import type { estypes } from "@elastic/elasticsearch";
import type { IngestPipelineBody } from "../elastic/request-bodies";
import { renderRequestFieldProcessors, type RequestKeysOfService } from "./request-fields";

export const STRUCTLOG_FIELD = "structlog";
export const PARSE_FAILURE_TAG = "structlog_parse_failure";
export const TIMESTAMP_FAILURE_TAG = "structlog_timestamp_unparsable";
export const TIMESTAMP_RANGE_TAG = "structlog_timestamp_out_of_range";
export const TYPE_MISMATCH_TAG = "structlog_type_mismatch";

/**
 * Java time pattern: microseconds, as structlog writes them (the default output keeps
 * milliseconds). `uuuu` (proleptic year, sign for years before 0 and after 9999) rather than
 * `yyyy` (year of era, which prints 2000 BC as "2000"), so the range check below can compare the
 * text: every in-range value has a plain four-digit year.
 */
const MICROSECOND_OUTPUT_FORMAT = "uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX";

/** What date_nanos can store (DateUtils.toLong), at the output format's microsecond precision. */
export const DATE_NANOS_FIRST = "1970-01-01T00:00:00.000000Z";
export const DATE_NANOS_LAST = "2262-04-11T23:47:16.854775Z";

const FAILURE_MESSAGE = "{{{_ingest.on_failure_message}}}";

/** The structlog timestamp as text while it is parsed (removed after; top level, so no structlog key can clash). */
const TIMESTAMP_TEXT = "structlog_timestamp_text";

/**
 * Grok patterns that find structlog's own `level` in a line the json processor refused, tried in
 * order (GrokProcessor: the first that matches wins). structlog builds the event dict as bound
 * context, then the call's keyword arguments, then `event` (BoundLoggerBase._process_event), and
 * processors add their keys after that (add_log_level, add_logger_name, TimeStamper, ...). So:
 * 1. the `level` that follows `"event": "<string>"` with only string-valued keys between (logger,
 *    timestamp): the last such place in the line. A `level` inside a logged value comes before the
 *    event, and one in dict_tracebacks' frame locals comes after a list; neither is reached;
 * 2. else (EventRenamer moves the event after the level) the first `"level": "<letters>"` at a key
 *    position.
 * A key position: right after `{` or `,` (inside a JSON string every quote is escaped, so an
 * unescaped quote after `{` or `,` starts a key). Letters only, as structlog's level names are.
 */
export const LEVEL_FROM_RAW_LINE = [
  '^.*[{,] *"event" *: *"(?:[^"\\\\]|\\\\.)*"(?: *, *"[A-Za-z_]+" *: *"(?:[^"\\\\]|\\\\.)*")* *, *"level" *: *"%{STRUCTLOG_LEVEL:log.level}"',
  '[{,] *"level" *: *"%{STRUCTLOG_LEVEL:log.level}"',
];

/**
 * dict_tracebacks' output as text (structlog 22.x, structlog/tracebacks.py: a list of stacks, each
 * {exc_type, exc_value, syntax_error, is_cause, frames: [{filename, lineno, name, line, locals}]},
 * the logged exception first, then the exception it was raised from (`is_cause` true) or during the
 * handling of (`is_cause` false)). Rendered like Python's traceback, one block per stack in
 * structlog's order. Mustache sections iterate lists and skip `false` (mustache.java
 * BaseObjectHandler.iterate; Elasticsearch turns collections into iterables,
 * modules/lang-mustache/.../CustomReflectionObjectHandler.java); triple braces write values without
 * escaping. No line of the template is a tag alone, so mustache's standalone-line rule never applies.
 * Local variables and source lines (structlog 22 leaves `line` empty) are not in the text; the
 * structured list stays in `structlog.exception` for them.
 */
export const DICT_TRACEBACK_TEMPLATE =
  "{{#structlog.exception}}{{#is_cause}}The exception above was raised from:\n{{/is_cause}}" +
  "Traceback (most recent call last):\n" +
  '{{#frames}}  File "{{{filename}}}", line {{{lineno}}}, in {{{name}}}\n{{/frames}}' +
  "{{{exc_type}}}: {{{exc_value}}}\n{{/structlog.exception}}";

function tagAndExplain(tag: string): estypes.IngestProcessorContainer[] {
  return [{ append: { field: "tags", value: [tag], allow_duplicates: false } }, { set: { field: "error.message", value: FAILURE_MESSAGE } }];
}

/** Painless: the structlog key's value (null-safe; `structlog` is a Map or absent where these are used). */
const at = (key: string) => `ctx.${STRUCTLOG_FIELD}?.${key}`;
/** A value a keyword / text / wildcard field takes: a string, a number or a boolean (not an object, not a list). */
const isScalar = (key: string) => `(${at(key)} instanceof String || ${at(key)} instanceof Number || ${at(key)} instanceof Boolean)`;
const TIMESTAMP = "ctx['@timestamp']";

/**
 * The message with what varies between lines of one kind taken out, for "top messages by pattern"
 * (the stand-in for Kibana's log pattern analysis, which needs a platinum licence: docs/logs-performance.md).
 * Applied in order with gsub (GsubProcessor: java.util.regex replaceAll): UUIDs, then `0x` hex, then long
 * hex runs (hashes, trace ids), then every run of digits with an optional fraction. A keyword (ignore_above
 * 1024: a longer message has no pattern in the index, though its _source keeps it).
 */
export const MESSAGE_PATTERN_FIELD = "atra.message_pattern";
export const MESSAGE_PATTERN_REPLACEMENTS: readonly { tag: string; pattern: string; replacement: string }[] = [
  { tag: "pattern_uuid", pattern: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", replacement: "<uuid>" },
  { tag: "pattern_hex_literal", pattern: "0x[0-9a-fA-F]+", replacement: "<hex>" },
  { tag: "pattern_hex_run", pattern: "[0-9a-f]{16,}", replacement: "<hex>" },
  { tag: "pattern_number", pattern: "[0-9]+(?:\\.[0-9]+)?", replacement: "<n>" },
];

/**
 * The message-pattern processors: `atra.message_pattern` from `message` when it is text. `suffix` keeps the
 * tags of the pipeline-level on_failure copy apart from the main ones.
 */
function messagePatternProcessors(suffix = ""): estypes.IngestProcessorContainer[] {
  return [
    { set: { tag: `message_pattern${suffix}`, if: "ctx.message instanceof String", field: MESSAGE_PATTERN_FIELD, copy_from: "message" } },
    ...MESSAGE_PATTERN_REPLACEMENTS.map(({ tag, pattern, replacement }): estypes.IngestProcessorContainer => ({
      gsub: { tag: `${tag}${suffix}`, field: MESSAGE_PATTERN_FIELD, pattern, replacement, ignore_missing: true },
    })),
  ];
}

/**
 * `services`: the catalog entries whose `requestLogKeys` name their own request keys (request-fields.ts);
 * the default keys apply to every line (except where a service's `ignoreDefaults` turns one off).
 */
export function renderIngestPipeline(services: readonly RequestKeysOfService[] = []): IngestPipelineBody {
  const s = STRUCTLOG_FIELD;
  return {
    description:
      "structlog JSON lines (one object a line) to ECS: event, level, logger, timestamp, exception, each moved only when its type fits; other keys under structlog.* (managed by atra-observability)",
    _meta: { managed_by: "atra-observability" },
    processors: [
      // Filebeat's read time, kept (ECS event.created) before @timestamp takes the line's own time.
      // (Guarded: a copy from a missing field would fail the whole pipeline.)
      { set: { tag: "read_time_to_event_created", if: `${TIMESTAMP} != null`, field: "event.created", copy_from: "@timestamp", override: false } },
      {
        // No processor-level handler: a line that is not JSON ends the pipeline here and the
        // pipeline-level on_failure tags it; the raw line stays in `message`.
        json: { tag: "parse_structlog_json", field: "message", target_field: s },
      },
      {
        // EventRenamer("message") output: the event is under `message` and there is no `event`.
        // An `event` key holding null makes the rename fail (target exists): ignored, both kept.
        rename: {
          tag: "event_renamer_message",
          if: `ctx.${s} instanceof Map && ctx.${s}.event == null && ctx.${s}.message != null`,
          field: `${s}.message`,
          target_field: `${s}.event`,
          ignore_failure: true,
        },
      },
      {
        // Two jobs. (1) An object without `event` gets the raw line as its event, so `message`
        // keeps the raw line. (2) Guard: JSON that parsed to an array, string, number or null
        // cannot take a key, so this fails for exactly those lines; on_failure drops the
        // non-object value (a `flattened` field accepts only objects: indexing it would reject
        // the document) and tags the line, whose raw text is still in `message`.
        set: {
          tag: "require_json_object",
          field: `${s}.event`,
          copy_from: "message",
          override: false,
          on_failure: [{ remove: { field: s, ignore_missing: true } }, ...tagAndExplain(PARSE_FAILURE_TAG)],
        },
      },
      // From here on `structlog` is an object, or absent after the guard's on_failure.
      // message (match_only_text) takes a string, number or boolean; an object or list event
      // stays under structlog.event and the raw line stays the message.
      { remove: { tag: "drop_raw_line", if: isScalar("event"), field: "message" } },
      { rename: { tag: "event_to_message", if: isScalar("event"), field: `${s}.event`, target_field: "message" } },
      { lowercase: { tag: "lowercase_level", if: `${at("level")} instanceof String`, field: `${s}.level` } },
      { rename: { tag: "level_to_log_level", if: isScalar("level"), field: `${s}.level`, target_field: "log.level" } },
      { rename: { tag: "logger_to_log_logger", if: isScalar("logger"), field: `${s}.logger`, target_field: "log.logger" } },
      // TimeStamper() writes UNIX seconds as a Python float (structlog/processors.py, _make_stamper:
      // `time.time()`), e.g. 1765087080.1234567. The json processor reads it as a Double, and the date
      // processor reads a field through toString() (DateProcessor.execute), i.e. Double.toString:
      // "1.7650870801234567E9"; its UNIX format then keeps milliseconds only (DateFormat.java, Unix:
      // `(long) (Double.parseDouble(date) * 1000.0)`). So a number's text is made plain decimal first:
      // convert it to a string, then move the decimal point of the E9 form (every time from 2001-09-09 to
      // 2286-11-20) nine places right, and parse that with epoch_second, which reads up to nine fraction
      // digits from the text (EpochTime.java, SECONDS_FORMATTER1). The float's digits are those Python
      // wrote (both print the shortest decimal that reads back as the same double), so @timestamp keeps
      // the microsecond structlog wrote. Other magnitudes keep UNIX's milliseconds.
      {
        convert: {
          tag: "unix_timestamp_text",
          if: `${at("timestamp")} instanceof Number`,
          field: `${s}.timestamp`,
          target_field: TIMESTAMP_TEXT,
          type: "string",
        },
      },
      {
        gsub: {
          tag: "unix_timestamp_plain_decimal",
          if: `ctx.${TIMESTAMP_TEXT} != null`,
          field: TIMESTAMP_TEXT,
          pattern: "^([0-9])\\.([0-9]{9})([0-9]+)E9$",
          replacement: "$1$2.$3",
        },
      },
      // Any other value is read as it is.
      {
        set: {
          tag: "timestamp_text",
          if: `${at("timestamp")} != null && !(${at("timestamp")} instanceof Number)`,
          field: TIMESTAMP_TEXT,
          copy_from: `${s}.timestamp`,
        },
      },
      {
        // TimeStamper(fmt="iso") writes ISO 8601 (with `Z` when utc=True, with no offset when
        // utc=False: read as UTC, see the header); TimeStamper() writes UNIX seconds (above).
        // Without a timestamp Filebeat's read time stays.
        date: {
          tag: "structlog_timestamp",
          if: `ctx.${TIMESTAMP_TEXT} != null`,
          field: TIMESTAMP_TEXT,
          target_field: "@timestamp",
          formats: ["ISO8601", "epoch_second", "UNIX"],
          timezone: "UTC",
          output_format: MICROSECOND_OUTPUT_FORMAT,
          on_failure: [
            ...tagAndExplain(TIMESTAMP_FAILURE_TAG),
            // Kept, under a name the processors below do not remove.
            { rename: { field: `${s}.timestamp`, target_field: `${s}.timestamp_unparsed`, ignore_missing: true, ignore_failure: true } },
          ],
        },
      },
      { remove: { tag: "drop_timestamp_text", field: TIMESTAMP_TEXT, ignore_missing: true } },
      // A parsed time outside date_nanos' range would reject the whole document. In this output
      // format (UTC, `uuuu`) text order is time order for four-digit years; any other year starts
      // with '0', '+' or '-' and sorts below DATE_NANOS_FIRST. Tag and keep the value first: the
      // last step puts the read time back, after which the condition no longer holds.
      ...((): estypes.IngestProcessorContainer[] => {
        const outOfRange = `${TIMESTAMP} instanceof String && (${TIMESTAMP}.compareTo('${DATE_NANOS_FIRST}') < 0 || ${TIMESTAMP}.compareTo('${DATE_NANOS_LAST}') > 0)`;
        return [
          { append: { tag: "timestamp_out_of_range_tag", if: outOfRange, field: "tags", value: [TIMESTAMP_RANGE_TAG], allow_duplicates: false } },
          {
            rename: {
              tag: "timestamp_out_of_range_keep",
              if: outOfRange,
              field: `${s}.timestamp`,
              target_field: `${s}.timestamp_out_of_range`,
              ignore_missing: true,
              ignore_failure: true,
            },
          },
          { set: { tag: "timestamp_out_of_range_read_time", if: outOfRange, field: "@timestamp", copy_from: "event.created" } },
        ];
      })(),
      { remove: { tag: "drop_parsed_timestamp", field: `${s}.timestamp`, ignore_missing: true } },
      // format_exc_info: the traceback as text, moved as it is (wildcard takes text and numbers).
      { rename: { tag: "exception_to_stack_trace", if: isScalar("exception"), field: `${s}.exception`, target_field: "error.stack_trace" } },
      // dict_tracebacks: a list of stacks, rendered as text; the list stays under structlog.
      { set: { tag: "dict_traceback_to_stack_trace", if: `${at("exception")} instanceof List`, field: "error.stack_trace", value: DICT_TRACEBACK_TEMPLATE } },
      { trim: { tag: "trim_stack_trace", if: `${at("exception")} instanceof List`, field: "error.stack_trace" } },
      // Request fields (duration, method, route, status, ids) onto ECS: request-fields.ts.
      ...renderRequestFieldProcessors(services),
      // The message's pattern (numbers and ids taken out), for grouping similar lines.
      ...messagePatternProcessors(),
      {
        // Whatever did not fit its typed field is still under structlog.*: say so.
        append: {
          tag: "type_mismatch_tag",
          if: `${at("event")} != null || ${at("level")} != null || ${at("logger")} != null || (${at("exception")} != null && !(${at("exception")} instanceof List))`,
          field: "tags",
          value: [TYPE_MISMATCH_TAG],
          allow_duplicates: false,
        },
      },
    ],
    // Reached only when the json processor fails (every later processor handles its own
    // failures): the document is still indexed, raw line in `message`, tagged and explained.
    // The level is still read from the raw line (LEVEL_FROM_RAW_LINE), so an error line that is not
    // strict JSON (structlog writes NaN and Infinity bare: json.dumps' allow_nan) still counts as an
    // error for the error-rate alert, and the raw line gets its message pattern (the processors above
    // never ran: a pipeline-level on_failure ends the pipeline, server/.../ingest/CompoundProcessor.java).
    on_failure: [
      ...tagAndExplain(PARSE_FAILURE_TAG),
      {
        grok: {
          tag: "level_from_raw_line",
          field: "message",
          patterns: LEVEL_FROM_RAW_LINE,
          pattern_definitions: { STRUCTLOG_LEVEL: "[A-Za-z]+" },
          ignore_failure: true,
        },
      },
      { lowercase: { tag: "lowercase_raw_line_level", field: "log.level", ignore_missing: true } },
      ...messagePatternProcessors("_raw_line"),
    ],
  };
}
