/**
 * Request fields: the keys structlog request-logging middleware writes, moved onto ECS by the ingest
 * pipeline (./ingest-pipeline.ts), so latency, throughput and errors can be read from logs alone (the
 * only source for a service with a JSON `/health` and no metrics). Pure: processors only.
 *
 * | structlog key (default, first present wins)   | ECS field (elastic/ecs schemas/http.yml, url.yml, tracing.yml, user_agent.yml) |
 * |-----------------------------------------------|-------------------------------------------------------------------------------|
 * | duration, elapsed, latency (s); duration_ms   | event.duration (long, nanoseconds)                                            |
 * | method                                        | http.request.method (keyword)                                                 |
 * | route, path                                   | url.path (wildcard)                                                           |
 * | status_code, status                           | http.response.status_code (long)                                              |
 * | request_id                                    | http.request.id (keyword)                                                     |
 * | trace_id                                      | trace.id (keyword)                                                            |
 * | user_agent                                    | user_agent.original (keyword)                                                 |
 *
 * A catalog entry's `requestLogKeys` (config.ts) names its own keys (and the duration's unit); they are
 * tried first, on that service's lines only. `route` before `path`: a route template (`/items/{id}`)
 * groups requests, a raw path does not; the other stays under `structlog.*`.
 *
 * Exact durations without scripts. The json processor reads a fraction as a Java Double, and a Double
 * turned into text prints as Double.toString (the shortest decimal that reads back as the same double,
 * JDK 19+: the same digits Python's repr wrote, e.g. `0.0125`, `1.0E-4`). Multiplying the double by 10^9
 * would round (0.0125 * 1e9 is not always the decimal digits written), so the pipeline moves the decimal
 * point in the TEXT instead, with gsub, and reads the digits as a long with `convert`:
 *   number -> convert(string) -> integers get `.0` -> E-4..E-9 written out (`1.0E-4` -> `0.00010`),
 *   smaller (under a nanosecond for seconds) -> `0.0` -> E7..E9 written out -> nine zeros appended ->
 *   the point moved 9 places (seconds) or 6 (milliseconds), digits past the nanosecond cut (toward
 *   zero) -> leading zeros dropped -> convert(long) (ConvertProcessor LONG: Long.parseLong).
 * So `duration=0.0125` becomes exactly 12500000 ns and `duration_ms=12.5` exactly 12500000 ns.
 * What does not fit (negative, 1e10 or more in the key's unit, text, an object, a value past a long) is
 * kept under `structlog.<key>` and the line is tagged REQUEST_FIELD_MISMATCH_TAG.
 *
 * Every processor here is modelled by test/support/ingest-simulator.ts (gsub, convert string/long,
 * set, rename, remove, append; conditions in the modelled Painless subset).
 */
import type { estypes } from "@elastic/elasticsearch";

export const REQUEST_FIELD_MISMATCH_TAG = "structlog_request_field_type_mismatch";

export type DurationUnit = "s" | "ms";

/** A catalog entry's own request keys (`services[].requestLogKeys`). */
export interface RequestLogKeys {
  duration?: { key: string; unit: DurationUnit };
  method?: string;
  path?: string;
  statusCode?: string;
  requestId?: string;
  traceId?: string;
  userAgent?: string;
}

export interface RequestKeysOfService {
  name: string;
  requestLogKeys?: RequestLogKeys;
}

/** A structlog key the pipeline can address as `ctx.structlog.<key>` (and the simulator can read). */
export const STRUCTLOG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const DEFAULT_DURATION_KEYS: readonly { key: string; unit: DurationUnit }[] = [
  { key: "duration", unit: "s" },
  { key: "elapsed", unit: "s" },
  { key: "latency", unit: "s" },
  { key: "duration_ms", unit: "ms" },
];

type KeywordTarget = "method" | "path" | "requestId" | "traceId" | "userAgent";

/** The keyword-typed request fields: ECS field, default keys. */
export const KEYWORD_REQUEST_FIELDS: Record<KeywordTarget, { field: string; keys: readonly string[] }> = {
  method: { field: "http.request.method", keys: ["method"] },
  path: { field: "url.path", keys: ["route", "path"] },
  requestId: { field: "http.request.id", keys: ["request_id"] },
  traceId: { field: "trace.id", keys: ["trace_id"] },
  userAgent: { field: "user_agent.original", keys: ["user_agent"] },
};

export const STATUS_CODE_FIELD = "http.response.status_code";
export const DEFAULT_STATUS_KEYS: readonly string[] = ["status_code", "status"];
export const DURATION_FIELD = "event.duration";

/** Every ECS field this module writes, with its mapping type (the index template maps each; catalog.test checks it). */
export const REQUEST_FIELD_TYPES: Record<string, "keyword" | "wildcard" | "long"> = {
  [DURATION_FIELD]: "long",
  "http.request.method": "keyword",
  "url.path": "wildcard",
  [STATUS_CODE_FIELD]: "long",
  "http.request.id": "keyword",
  "trace.id": "keyword",
  "user_agent.original": "keyword",
};

/** Top-level work object while a duration is read (removed after; no structlog key can clash). */
const WORK = "structlog_duration";

const at = (key: string) => `ctx.structlog?.${key}`;
const isScalar = (key: string) => `(${at(key)} instanceof String || ${at(key)} instanceof Number || ${at(key)} instanceof Boolean)`;
/** Painless null-safe read of a dotted document field: `ctx.http?.request?.method`. */
const field = (path: string) => `ctx.${path.split(".").join("?.")}`;
/**
 * Only this service's lines. String equality as two compareTo tests (String.compareTo is 0 exactly when
 * equals is true), the form the ingest simulator models; catalog names are [a-z0-9-], safe in a literal.
 */
const ofService = (name: string) =>
  `ctx.service?.name instanceof String && ctx.service.name.compareTo('${name}') >= 0 && ctx.service.name.compareTo('${name}') <= 0`;
const and = (...conditions: (string | undefined)[]) =>
  conditions
    .filter((c): c is string => c !== undefined)
    .map((c) => `(${c})`)
    .join(" && ");

interface Candidate {
  key: string;
  /** A Painless condition restricting it to one service's lines. */
  only?: string;
}

/** The candidates for one target: each service's own key first (on its lines), then the defaults. */
function candidates(services: readonly RequestKeysOfService[], own: (keys: RequestLogKeys) => string | undefined, defaults: readonly string[]): Candidate[] {
  const list: Candidate[] = [];
  for (const service of services) {
    const key = service.requestLogKeys ? own(service.requestLogKeys) : undefined;
    if (key !== undefined) list.push({ key, only: ofService(service.name) });
  }
  return [...list, ...defaults.map((key) => ({ key }))];
}

/** gsub on the work text (absent when no duration was found: ignore_missing). */
const gsub = (tag: string, pattern: string, replacement: string, condition?: string): estypes.IngestProcessorContainer => ({
  gsub: { tag, field: `${WORK}.text`, pattern, replacement, ignore_missing: true, ...(condition ? { if: condition } : {}) },
});

function durationProcessors(services: readonly RequestKeysOfService[]): estypes.IngestProcessorContainer[] {
  const own: (Candidate & { unit: DurationUnit })[] = services.flatMap((service) =>
    service.requestLogKeys?.duration ? [{ ...service.requestLogKeys.duration, only: ofService(service.name) }] : [],
  );
  const all: (Candidate & { unit: DurationUnit })[] = [...own, ...DEFAULT_DURATION_KEYS];
  const processors: estypes.IngestProcessorContainer[] = [];
  all.forEach((candidate, index) => {
    const marker = `${WORK}.from_${index}`;
    processors.push(
      {
        set: {
          tag: `duration_from_${candidate.key}`,
          if: and(`${at(candidate.key)} instanceof Number`, `ctx.${WORK} == null`, candidate.only),
          field: marker,
          value: candidate.key,
        },
      },
      {
        convert: {
          tag: `duration_text_${candidate.key}`,
          if: `ctx.${WORK}?.from_${index} != null`,
          field: `structlog.${candidate.key}`,
          target_field: `${WORK}.text`,
          type: "string",
        },
      },
    );
    if (candidate.unit === "ms")
      processors.push({ set: { tag: `duration_millis_${candidate.key}`, if: `ctx.${WORK}?.from_${index} != null`, field: `${WORK}.millis`, value: true } });
  });
  // Integer/Long text (`12`) as a decimal.
  processors.push(gsub("duration_integer", "^([0-9]+)$", "$1.0"));
  // Double.toString writes values under 10^-3 as d.dddE-n: written out for n = 4..9 ...
  for (let n = 4; n <= 9; n++) processors.push(gsub(`duration_exponent_minus_${n}`, `^([0-9])\\.([0-9]+)E-${n}$`, `0.${"0".repeat(n - 1)}$1$2`));
  // ... and below 10^-9 nothing is left at nanosecond precision, even in milliseconds (10^-10 ms).
  processors.push(gsub("duration_exponent_tiny", "^[0-9]\\.[0-9]+E-[0-9][0-9]+$", "0.0"));
  // Values of 10^7 or more: d.dddEn, written out for n = 7..9 (mantissa padded so the point can move).
  processors.push(gsub("duration_exponent_pad", "^([0-9]\\.[0-9]+)E([7-9])$", "$1000000000E$2"));
  for (let n = 7; n <= 9; n++) processors.push(gsub(`duration_exponent_${n}`, `^([0-9])\\.([0-9]{${n}})([0-9]*)E${n}$`, "$1$2.$3"));
  // Nine zeros, then the point moves: 9 places for seconds, 6 for milliseconds; digits past it are cut.
  processors.push(gsub("duration_pad", "^([0-9]+\\.[0-9]+)$", "$1000000000"));
  processors.push(gsub("duration_seconds_to_ns", "^([0-9]+)\\.([0-9]{9})[0-9]*$", "$1$2", `ctx.${WORK}?.millis == null`));
  processors.push(gsub("duration_millis_to_ns", "^([0-9]+)\\.([0-9]{6})[0-9]*$", "$1$2", `ctx.${WORK}?.millis != null`));
  processors.push(gsub("duration_leading_zeros", "^0+([0-9])", "$1"));
  // Long.parseLong takes a leading '-': a negative duration is not one (made unreadable, so convert fails).
  processors.push(gsub("duration_negative", "^(-)", "negative $1"));
  processors.push({
    convert: {
      tag: "duration_to_event_duration",
      field: `${WORK}.text`,
      target_field: DURATION_FIELD,
      type: "long",
      ignore_missing: true,
      // Not digits (E10 and beyond, negative) or past a long: the value stays under structlog, tagged.
      on_failure: [{ append: { field: "tags", value: [REQUEST_FIELD_MISMATCH_TAG], allow_duplicates: false } }],
    },
  });
  all.forEach((candidate, index) => {
    processors.push({
      remove: {
        tag: `duration_moved_${candidate.key}`,
        if: and(`ctx.${WORK}?.from_${index} != null`, `${field(DURATION_FIELD)} != null`),
        field: `structlog.${candidate.key}`,
        ignore_missing: true,
      },
    });
  });
  processors.push({ remove: { tag: "drop_duration_work", field: WORK, ignore_missing: true } });
  return processors;
}

function statusProcessors(services: readonly RequestKeysOfService[]): estypes.IngestProcessorContainer[] {
  return candidates(services, (keys) => keys.statusCode, DEFAULT_STATUS_KEYS).flatMap((candidate) => {
    const free = `${field(STATUS_CODE_FIELD)} == null`;
    return [
      {
        // In place, so a failed conversion leaves the value as it was (ConvertProcessor sets only on success).
        // A whole number or its text (`"404"`) converts; 404.0, "OK", true do not and stay, tagged.
        convert: {
          tag: `status_to_long_${candidate.key}`,
          if: and(isScalar(candidate.key), free, candidate.only),
          field: `structlog.${candidate.key}`,
          type: "long",
          on_failure: [{ append: { field: "tags", value: [REQUEST_FIELD_MISMATCH_TAG], allow_duplicates: false } }],
        },
      },
      {
        rename: {
          tag: `status_to_ecs_${candidate.key}`,
          if: and(`${at(candidate.key)} instanceof Number`, free, candidate.only),
          field: `structlog.${candidate.key}`,
          target_field: STATUS_CODE_FIELD,
        },
      },
    ];
  });
}

function keywordProcessors(services: readonly RequestKeysOfService[]): estypes.IngestProcessorContainer[] {
  return (Object.entries(KEYWORD_REQUEST_FIELDS) as [KeywordTarget, { field: string; keys: readonly string[] }][]).flatMap(([target, spec]) =>
    candidates(services, (keys) => keys[target], spec.keys).map((candidate): estypes.IngestProcessorContainer => ({
      rename: {
        tag: `${target}_from_${candidate.key}`,
        if: and(isScalar(candidate.key), `${field(spec.field)} == null`, candidate.only),
        field: `structlog.${candidate.key}`,
        target_field: spec.field,
      },
    })),
  );
}

/** Every key the pipeline reads request fields from, for the tag below. */
function allKeys(services: readonly RequestKeysOfService[]): { durations: string[]; others: string[] } {
  const durations = new Set<string>(DEFAULT_DURATION_KEYS.map((d) => d.key));
  const others = new Set<string>(DEFAULT_STATUS_KEYS);
  for (const spec of Object.values(KEYWORD_REQUEST_FIELDS)) spec.keys.forEach((key) => others.add(key));
  for (const service of services) {
    const keys = service.requestLogKeys;
    if (!keys) continue;
    if (keys.duration) durations.add(keys.duration.key);
    for (const key of [keys.method, keys.path, keys.statusCode, keys.requestId, keys.traceId, keys.userAgent]) if (key) others.add(key);
  }
  return { durations: [...durations], others: [...others].filter((key) => !durations.has(key)) };
}

/**
 * The request-field processors, run after `structlog` is known to be an object (or absent). A request key
 * left under structlog holding a value no ECS field takes (a duration that is not a number; an object or
 * a list elsewhere) tags the line.
 */
export function renderRequestFieldProcessors(services: readonly RequestKeysOfService[] = []): estypes.IngestProcessorContainer[] {
  const { durations, others } = allKeys(services);
  const wrongType = [
    ...durations.map((key) => `(${at(key)} != null && !(${at(key)} instanceof Number))`),
    ...others.map((key) => `(${at(key)} != null && !${isScalar(key)})`),
  ].join(" || ");
  return [
    ...durationProcessors(services),
    ...statusProcessors(services),
    ...keywordProcessors(services),
    { append: { tag: "request_field_type_mismatch", if: wrongType, field: "tags", value: [REQUEST_FIELD_MISMATCH_TAG], allow_duplicates: false } },
  ];
}
