/**
 * The ingest pipeline that turns a structlog JSON line (shipped by Filebeat as `message`) into an
 * ECS document. Pure: the dynamic provider PUTs the body as it is.
 *
 * Input, as Filebeat's filestream input sends it: `message` (the raw line), `@timestamp` (when
 * Filebeat read the line), `service.name`, `log.file.path`, `host.name`, ... Output:
 *
 * | structlog key | document field                                                  |
 * |---------------|-----------------------------------------------------------------|
 * | event         | message (an object without `event` keeps the raw line)          |
 * | level         | log.level, lowercased                                           |
 * | logger        | log.logger                                                      |
 * | timestamp     | @timestamp, microseconds kept; Filebeat's read time if missing  |
 * | exception     | error.stack_trace (format_exc_info's traceback text)            |
 * | anything else | structlog.<key>, unchanged (a `flattened` field)                |
 *
 * Never fails and never drops a line: a line that is not JSON (or JSON that is not an object) is
 * indexed with its raw `message`, the tag `structlog_parse_failure` and `error.message`; an
 * unparsable timestamp keeps Filebeat's read time, the tag `structlog_timestamp_unparsable`, and
 * the original value as `structlog.timestamp_unparsed`.
 *
 * Plain processors only; the one condition is a null check. Every processor and option used here
 * is modelled by test/support/ingest-simulator.ts, which refuses anything else.
 */
import type { estypes } from "@elastic/elasticsearch";

export const STRUCTLOG_FIELD = "structlog";
export const PARSE_FAILURE_TAG = "structlog_parse_failure";
export const TIMESTAMP_FAILURE_TAG = "structlog_timestamp_unparsable";

/** Java time pattern: microseconds, as structlog writes them (the default output keeps milliseconds). */
const MICROSECOND_OUTPUT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX";

const FAILURE_MESSAGE = "{{{_ingest.on_failure_message}}}";

function tagAndExplain(tag: string): estypes.IngestProcessorContainer[] {
  return [
    { append: { field: "tags", value: [tag], allow_duplicates: false } },
    { set: { field: "error.message", value: FAILURE_MESSAGE } },
  ];
}

export function renderIngestPipeline(): estypes.IngestPipeline {
  const s = STRUCTLOG_FIELD;
  return {
    description: "structlog JSON lines (one object a line) to ECS: event, level, logger, timestamp, exception; other keys under structlog.* (managed by atra-observability)",
    _meta: { managed_by: "atra-observability" },
    processors: [
      {
        // No processor-level handler: a line that is not JSON ends the pipeline here and the
        // pipeline-level on_failure tags it; the raw line stays in `message`.
        json: { tag: "parse_structlog_json", field: "message", target_field: s },
      },
      {
        // Two jobs. (1) An object without `event` gets the raw line as its event, so `message`
        // below keeps the raw line. (2) Guard: JSON that parsed to an array, string, number or
        // null cannot take a key, so this fails for exactly those lines; on_failure drops the
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
      // `event` always exists in an object now (the guard), so the raw line can go.
      { remove: { tag: "drop_raw_line", field: "message", if: `ctx.${s}?.event != null` } },
      { rename: { tag: "event_to_message", field: `${s}.event`, target_field: "message", ignore_missing: true } },
      // A level that is not a string stays as it is (lowercase fails and is ignored).
      { lowercase: { tag: "lowercase_level", field: `${s}.level`, ignore_missing: true, ignore_failure: true } },
      { rename: { tag: "level_to_log_level", field: `${s}.level`, target_field: "log.level", ignore_missing: true, ignore_failure: true } },
      { rename: { tag: "logger_to_log_logger", field: `${s}.logger`, target_field: "log.logger", ignore_missing: true, ignore_failure: true } },
      {
        // TimeStamper(fmt="iso") writes ISO 8601 (UTC with utc=True); TimeStamper() writes UNIX
        // seconds. Without a timestamp Filebeat's read time stays.
        date: {
          tag: "structlog_timestamp",
          if: `ctx.${s}?.timestamp != null`,
          field: `${s}.timestamp`,
          target_field: "@timestamp",
          formats: ["ISO8601", "UNIX"],
          timezone: "UTC",
          output_format: MICROSECOND_OUTPUT_FORMAT,
          on_failure: [
            ...tagAndExplain(TIMESTAMP_FAILURE_TAG),
            // Kept, under a name the next processor does not remove.
            { rename: { field: `${s}.timestamp`, target_field: `${s}.timestamp_unparsed`, ignore_missing: true, ignore_failure: true } },
          ],
        },
      },
      { remove: { tag: "drop_parsed_timestamp", field: `${s}.timestamp`, ignore_missing: true } },
      { rename: { tag: "exception_to_stack_trace", field: `${s}.exception`, target_field: "error.stack_trace", ignore_missing: true, ignore_failure: true } },
    ],
    // Reached only when the json processor fails (every later processor handles its own
    // failures): the document is still indexed, raw line in `message`, tagged and explained.
    on_failure: tagAndExplain(PARSE_FAILURE_TAG),
  };
}
