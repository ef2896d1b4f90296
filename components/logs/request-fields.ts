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
 * A catalog entry's `requestLogKeys` (config.ts) names its own keys (and the duration's unit: s, ms, us
 * or ns); they are tried first, on that service's lines only. A key may be a dotted path into nested
 * objects (`http.status_code` reads `{"http": {"status_code": 200}}`): each parent is checked to be an
 * object first (`instanceof Map`), so a line where it is text or a list reads as "absent" rather than
 * failing the condition. `ignoreDefaults` lists default keys the service writes for something else
 * (a job's `status: "ok"`): on its lines they are not read and stay under `structlog.*`, untagged.
 * `route` before `path`: a route template (`/items/{id}`) groups requests, a raw path does not; the
 * other stays under `structlog.*`.
 *
 * Exact durations without scripts. The json processor reads a fraction as a Java Double, and a Double
 * turned into text prints as Double.toString (the shortest decimal that reads back as the same double,
 * JDK 19+: the same digits Python's repr wrote, e.g. `0.0125`, `1.0E-4`, `1.5E10`). Multiplying the double
 * by 10^9 would round (0.0125 * 1e9 is not always the decimal digits written), so the pipeline moves the
 * decimal point in the TEXT instead, with gsub, and reads the digits as a long with `convert`:
 *   number -> convert(string) -> integers get `.0` -> E-4..E-9 written out (`1.0E-4` -> `0.00010`),
 *   smaller (under a nanosecond in every unit) -> `0.0` -> E7..E18 written out -> nine zeros appended ->
 *   the point moved 9 places (s), 6 (ms), 3 (us) or 0 (ns), digits past the nanosecond cut (toward
 *   zero) -> leading zeros dropped -> convert(long) (ConvertProcessor LONG: Long.parseLong).
 * So `duration=0.0125` becomes exactly 12500000 ns, `duration_ms=12.5` exactly 12500000 ns, and an
 * integer of nanoseconds (`time.perf_counter_ns()`, an Integer or Long) is taken digit for digit.
 * The largest duration is Long.MAX_VALUE ns (9223372036854775807 ns: about 9.22e9 s, 9.22e12 ms,
 * 9.22e15 us); what does not fit (negative, past that, text, an object, E19 or more) is kept under
 * `structlog.<key>` and the line is tagged REQUEST_FIELD_MISMATCH_TAG.
 *
 * Every processor here is modelled by test/support/ingest-simulator.ts (gsub, convert string/long,
 * set, rename, remove, append; conditions in the modelled Painless subset, `instanceof Long` among them).
 */
import type { estypes } from "@elastic/elasticsearch";

export const REQUEST_FIELD_MISMATCH_TAG = "structlog_request_field_type_mismatch";

export const DURATION_UNITS = ["s", "ms", "us", "ns"] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];
/** Places the decimal point moves to reach nanoseconds. */
const NANOSECOND_PLACES: Record<DurationUnit, number> = { s: 9, ms: 6, us: 3, ns: 0 };

/** A catalog entry's own request keys (`services[].requestLogKeys`). */
export interface RequestLogKeys {
  duration?: { key: string; unit: DurationUnit };
  method?: string;
  path?: string;
  statusCode?: string;
  requestId?: string;
  traceId?: string;
  userAgent?: string;
  /** Default keys this service writes for something else: not read on its lines (DEFAULT_REQUEST_KEYS). */
  ignoreDefaults?: readonly string[];
}

export interface RequestKeysOfService {
  name: string;
  requestLogKeys?: RequestLogKeys;
}

/** One structlog key: what the pipeline can address as `ctx.structlog?.<key>` (and the simulator can read). */
const KEY_SEGMENT = "[A-Za-z_][A-Za-z0-9_]{0,63}";
/** At most this many nested objects deep (the `structlog` flattened field allows 20). */
export const MAX_KEY_DEPTH = 8;
/** A structlog key, or a dotted path of keys into nested objects (`http.status_code`). */
export const STRUCTLOG_KEY = new RegExp(`^${KEY_SEGMENT}(?:\\.${KEY_SEGMENT}){0,${MAX_KEY_DEPTH - 1}}$`);

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

/** Every default key, in the order of the table above: what `ignoreDefaults` may name. */
export const DEFAULT_REQUEST_KEYS: readonly string[] = [
  ...DEFAULT_DURATION_KEYS.map((d) => d.key),
  ...KEYWORD_REQUEST_FIELDS.method.keys,
  ...KEYWORD_REQUEST_FIELDS.path.keys,
  ...DEFAULT_STATUS_KEYS,
  ...KEYWORD_REQUEST_FIELDS.requestId.keys,
  ...KEYWORD_REQUEST_FIELDS.traceId.keys,
  ...KEYWORD_REQUEST_FIELDS.userAgent.keys,
];

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
/** Top-level work object: which default keys this line's service ignores (removed after). */
const IGNORED = "structlog_request_ignored";

/**
 * A Painless test of a (possibly nested) structlog key's value: `test` gets the null-safe read
 * (`ctx.structlog?.http?.status_code`), guarded by each parent being a Map. Painless reads `.k` of a Map
 * as get("k") and `?.` of null as null; `.k` of a String or List would throw (a failed condition fails
 * the processor), hence the guards, evaluated first (`&&` short-circuits).
 */
function onKey(key: string, test: (value: string) => string): string {
  const segments = key.split(".");
  const read = (count: number) => `ctx.structlog?.${segments.slice(0, count).join("?.")}`;
  const guards = segments.slice(0, -1).map((_segment, index) => `${read(index + 1)} instanceof Map`);
  return `(${[...guards, test(read(segments.length))].join(" && ")})`;
}
const scalar = (value: string) => `(${value} instanceof String || ${value} instanceof Number || ${value} instanceof Boolean)`;
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
/** The IGNORED marker of a default key (default keys are single words, so a field of their own). */
const ignoredMarker = (key: string) => `${IGNORED}.${key}`;

interface Candidate {
  key: string;
  /** A Painless condition restricting it to some lines: one service's own key, or a default key some services ignore. */
  only?: string;
}

/** A default key, off on the lines of the services that ignore it. */
function defaultCandidate(key: string, services: readonly RequestKeysOfService[]): Candidate {
  const ignored = services.some((service) => service.requestLogKeys?.ignoreDefaults?.includes(key));
  return { key, only: ignored ? `ctx.${IGNORED}?.${key} == null` : undefined };
}

/** The candidates for one target: each service's own key first (on its lines), then the defaults. */
function candidates(services: readonly RequestKeysOfService[], own: (keys: RequestLogKeys) => string | undefined, defaults: readonly string[]): Candidate[] {
  const list: Candidate[] = [];
  for (const service of services) {
    const key = service.requestLogKeys ? own(service.requestLogKeys) : undefined;
    if (key !== undefined) list.push({ key, only: ofService(service.name) });
  }
  return [...list, ...defaults.map((key) => defaultCandidate(key, services))];
}

/** One set per ignored default key: true on the lines of the services that ignore it. */
function ignoredMarkers(services: readonly RequestKeysOfService[]): estypes.IngestProcessorContainer[] {
  return DEFAULT_REQUEST_KEYS.flatMap((key): estypes.IngestProcessorContainer[] => {
    const ignoring = services.filter((service) => service.requestLogKeys?.ignoreDefaults?.includes(key));
    if (ignoring.length === 0) return [];
    return [
      {
        set: {
          tag: `ignore_default_${key}`,
          if: ignoring.map((service) => `(${ofService(service.name)})`).join(" || "),
          field: ignoredMarker(key),
          value: true,
        },
      },
    ];
  });
}

/** gsub on the work text (absent when no duration was found: ignore_missing). */
const gsub = (tag: string, pattern: string, replacement: string, condition?: string): estypes.IngestProcessorContainer => ({
  gsub: { tag, field: `${WORK}.text`, pattern, replacement, ignore_missing: true, ...(condition ? { if: condition } : {}) },
});

/** Double.toString writes 10^7 and more as d.dddEn; written out up to E18 (a long's nanoseconds end at 9.22e18). */
const LARGEST_EXPONENT = 18;

function durationProcessors(services: readonly RequestKeysOfService[]): estypes.IngestProcessorContainer[] {
  const own: (Candidate & { unit: DurationUnit })[] = services.flatMap((service) =>
    service.requestLogKeys?.duration ? [{ ...service.requestLogKeys.duration, only: ofService(service.name) }] : [],
  );
  const all: (Candidate & { unit: DurationUnit })[] = [
    ...own,
    ...DEFAULT_DURATION_KEYS.map((duration) => ({ ...defaultCandidate(duration.key, services), unit: duration.unit })),
  ];
  const processors: estypes.IngestProcessorContainer[] = [];
  all.forEach((candidate, index) => {
    const found = `ctx.${WORK}?.from_${index} != null`;
    processors.push(
      {
        set: {
          tag: `duration_from_${candidate.key}`,
          if: and(
            onKey(candidate.key, (value) => `${value} instanceof Number`),
            `ctx.${WORK} == null`,
            candidate.only,
          ),
          field: `${WORK}.from_${index}`,
          value: candidate.key,
        },
      },
      {
        convert: {
          tag: `duration_text_${candidate.key}`,
          if: found,
          field: `structlog.${candidate.key}`,
          target_field: `${WORK}.text`,
          type: "string",
        },
      },
    );
    // Seconds carry no marker; the other units say which they are.
    if (candidate.unit !== "s")
      processors.push({ set: { tag: `duration_unit_${candidate.unit}_${candidate.key}`, if: found, field: `${WORK}.unit_${candidate.unit}`, value: true } });
  });
  // Integer/Long/BigInteger text (`12`) as a decimal.
  processors.push(gsub("duration_integer", "^([0-9]+)$", "$1.0"));
  // Double.toString writes values under 10^-3 as d.dddE-n: written out for n = 4..9 ...
  for (let n = 4; n <= 9; n++) processors.push(gsub(`duration_exponent_minus_${n}`, `^([0-9])\\.([0-9]+)E-${n}$`, `0.${"0".repeat(n - 1)}$1$2`));
  // ... and below 10^-9 nothing is left at nanosecond precision in any unit (10^-10 ns at the finest).
  processors.push(gsub("duration_exponent_tiny", "^[0-9]\\.[0-9]+E-[0-9][0-9]+$", "0.0"));
  // Values of 10^7 or more: d.dddEn, written out for n = 7..18 (mantissa padded with zeros so the point can move;
  // Double.toString's mantissa has at most 17 digits). `$1` then zeros: Java's Matcher and JavaScript both read
  // `$10` as group 1 and a `0` when the pattern has fewer than 10 groups.
  processors.push(gsub("duration_exponent_pad", "^([0-9]\\.[0-9]+)E([7-9]|1[0-8])$", `$1${"0".repeat(LARGEST_EXPONENT)}E$2`));
  for (let n = 7; n <= LARGEST_EXPONENT; n++) processors.push(gsub(`duration_exponent_${n}`, `^([0-9])\\.([0-9]{${n}})([0-9]*)E${n}$`, "$1$2.$3"));
  // Nine zeros, then the point moves to nanoseconds; digits past it are cut.
  processors.push(gsub("duration_pad", "^([0-9]+\\.[0-9]+)$", "$1000000000"));
  const marker = (unit: DurationUnit) => `ctx.${WORK}?.unit_${unit}`;
  for (const unit of DURATION_UNITS) {
    const places = NANOSECOND_PLACES[unit];
    const condition =
      unit === "s"
        ? DURATION_UNITS.filter((other) => other !== "s")
            .map((other) => `${marker(other)} == null`)
            .join(" && ")
        : `${marker(unit)} != null`;
    const pattern = places === 0 ? "^([0-9]+)\\.[0-9]*$" : `^([0-9]+)\\.([0-9]{${places}})[0-9]*$`;
    processors.push(gsub(`duration_${unit}_to_ns`, pattern, places === 0 ? "$1" : "$1$2", condition));
  }
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
      // Not digits (E19 and beyond, negative) or past a long: the value stays under structlog, tagged.
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
          if: and(onKey(candidate.key, scalar), free, candidate.only),
          field: `structlog.${candidate.key}`,
          type: "long",
          on_failure: [{ append: { field: "tags", value: [REQUEST_FIELD_MISMATCH_TAG], allow_duplicates: false } }],
        },
      },
      {
        // Only what the conversion made: ConvertProcessor's LONG returns a java.lang.Long (Long.parseLong, boxed;
        // elastic/elasticsearch modules/ingest-common/.../ConvertProcessor.java). A value it refused is still the
        // Double or BigInteger it was (404.0, 404.7, 1e300, 99999999999999999999): a Number, but not a Long, so it
        // stays under structlog (tagged above) instead of reaching the long mapping, which would truncate 404.7
        // or refuse 1e300 (the failure store).
        rename: {
          tag: `status_to_ecs_${candidate.key}`,
          if: and(
            onKey(candidate.key, (value) => `${value} instanceof Long`),
            free,
            candidate.only,
          ),
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
        if: and(onKey(candidate.key, scalar), `${field(spec.field)} == null`, candidate.only),
        field: `structlog.${candidate.key}`,
        target_field: spec.field,
      },
    })),
  );
}

/**
 * A request key left under structlog holding a value no ECS field takes (a duration that is not a
 * number; an object or a list elsewhere), on the lines the key is read on: a Painless condition.
 */
function wrongTypeCondition(services: readonly RequestKeysOfService[]): string {
  const durations = candidates(
    services,
    (keys) => keys.duration?.key,
    DEFAULT_DURATION_KEYS.map((d) => d.key),
  );
  const others = [
    ...candidates(services, (keys) => keys.statusCode, DEFAULT_STATUS_KEYS),
    ...(Object.keys(KEYWORD_REQUEST_FIELDS) as KeywordTarget[]).flatMap((target) =>
      candidates(services, (keys) => keys[target], KEYWORD_REQUEST_FIELDS[target].keys),
    ),
  ];
  const tests = [
    ...durations.map((c) =>
      and(
        onKey(c.key, (value) => `${value} != null && !(${value} instanceof Number)`),
        c.only,
      ),
    ),
    ...others.map((c) =>
      and(
        onKey(c.key, (value) => `${value} != null && !${scalar(value)}`),
        c.only,
      ),
    ),
  ];
  return [...new Set(tests)].map((test) => `(${test})`).join(" || ");
}

/**
 * The request-field processors, run after `structlog` is known to be an object (or absent). A request key
 * left under structlog holding a value no ECS field takes tags the line.
 */
export function renderRequestFieldProcessors(services: readonly RequestKeysOfService[] = []): estypes.IngestProcessorContainer[] {
  const markers = ignoredMarkers(services);
  return [
    ...markers,
    ...durationProcessors(services),
    ...statusProcessors(services),
    ...keywordProcessors(services),
    {
      append: {
        tag: "request_field_type_mismatch",
        if: wrongTypeCondition(services),
        field: "tags",
        value: [REQUEST_FIELD_MISMATCH_TAG],
        allow_duplicates: false,
      },
    },
    ...(markers.length > 0 ? [{ remove: { tag: "drop_ignored_defaults", field: IGNORED, ignore_missing: true } }] : []),
  ];
}
