/**
 * A small model of Elasticsearch's ingest pipeline execution and of the index mapping step that
 * follows it, for exactly the processors, options, conditions, templates and field types the logs
 * stage uses. It is a model, not Elasticsearch: it reproduces the documented behaviour (and, where
 * the docs are silent, the behaviour of the server's source, cited below), and it throws
 * `UnsupportedByModel` for anything it does not implement, so the pipeline and the template cannot
 * start using something these tests never exercised.
 *
 * It models pipeline execution, not the HTTP `_ingest/pipeline/_simulate` API: the program never
 * calls that API (nothing in components/ or scripts/ does), so the 9.2 change of its answer to an
 * invalid processor from 500 to 400 (elastic/elasticsearch #130325, changelog-bundles/9.2.0.yml)
 * touches nothing here. What it does model of 9.2+: the bulk item answer of a document the failure
 * store keeps (201, `failure_store: "used"`; see BulkItemStatus).
 *
 * Reproduced (elastic/elasticsearch unless noted):
 * - Field paths (server/.../ingest/IngestDocument.java, "classic" access): dot-separated keys
 *   through objects; reading a missing key fails with "field [k] not present as part of path [p]";
 *   setting creates missing parent objects, and fails under a parent that is not an object
 *   ("cannot set [k] with parent object of type [T]", "... with null parent", "[k] is not an
 *   integer" for lists); `hasField` is false through null, scalars and non-numeric list keys.
 *   `_ingest.*` paths address the ingest metadata.
 * - Failure handling (server/.../ingest/CompoundProcessor.java, "Handling pipeline failures"): a
 *   failing processor with `ignore_failure` is skipped; with `on_failure` its handlers run with
 *   `_ingest.on_failure_message`, `_ingest.on_failure_processor_type` and
 *   `_ingest.on_failure_processor_tag` set, then the pipeline continues with the next processor;
 *   otherwise the pipeline-level `on_failure` runs and the remaining processors do not, and the
 *   document is indexed as it is then. A failure with no handler at all fails the document
 *   (`PipelineFailure`); with the failure store on, it is stored there in its original form.
 * - `if` (ConditionalProcessor + Painless), a subset: `ctx` field access with `.`/`?.`/`['k']`
 *   (Painless map shortcuts: `map.k` is `map.get("k")`, `?.` is null-safe), `instanceof`
 *   String/Number/Long/Boolean/Map/List (false for null; Long is java.lang.Long: what Jackson reads for
 *   an integer past an int, and what convert `long` returns), `== null`, `!= null`, `s.compareTo('lit')`
 *   against 0, `list.contains(ctx...)` on a list of strings (java.util.List.contains with String.equals), `!`,
 *   `&&`, `||` (short-circuit), parentheses. Reading a key of a list or scalar, or
 *   `.` on null, is refused (`UnsupportedByModel`): Painless' list shortcuts and its errors are not
 *   modelled, so the pipeline must guard with `instanceof Map` first.
 * - Templates (modules/lang-mustache: CustomMustacheFactory, CustomReflectionObjectHandler; and
 *   spullara/mustache.java BaseObjectHandler.iterate), a subset: text, `{{{name}}}` (written as it
 *   is: string; integer; boolean; missing or null -> ""), sections `{{#name}}...{{/name}}` (null,
 *   false, "" and empty lists render nothing; a list renders once per element with the element as
 *   the innermost scope; anything else renders once with it as scope) and inverted sections
 *   `{{^name}}`. Ingest value templates encode `{{name}}` as JSON by default
 *   (server/src/test/.../ingest/ValueSourceTests.java), hence the triple braces. Names resolve like mustache.java: the first segment in the innermost scope that
 *   has it, the rest inside that value; lists take numeric segments and `size`. Refused: `{{name}}`
 *   (its escaping depends on the media type), `{{&`, comments, partials, delimiter changes, the
 *   toJson/join/url functions, a section tag alone on its line (mustache's standalone-line rule
 *   is not modelled), and writing an object or list as text.
 * - json (field, target_field; modules/ingest-common/.../JsonProcessor.java): the field's text read as
 *   Jackson reads it with Elasticsearch's settings (parseJacksonJson: comments allowed, a duplicate key
 *   fails, nesting past 1000 fails, no NaN/Infinity, one value then nothing; an empty value is null).
 *   Numbers keep their Java type: Integer/Long/BigInteger exactly, Double (JavaNumber where a
 *   JavaScript number cannot tell, e.g. 2.0, 2^64). Error texts are abridged (class and first sentence).
 * - Numbers written as text (templates, keyword and flattened leaves, the date processor's toString):
 *   Java's forms (javaDoubleToString: `1.0E-4`, `1.0E7`, `2.0`; integers as digits).
 * - set (field, value | copy_from, override), remove (field, ignore_missing), rename (field,
 *   target_field, ignore_missing; fails if the target exists; puts the value back if setting the
 *   target fails), lowercase (field, target_field, ignore_missing; strings or lists of strings),
 *   trim (the same options; Java String.trim: code points up to U+0020 at both ends), append
 *   (field, value, allow_duplicates), convert (type string only: toString), gsub and grok (a regex
 *   subset where java.util.regex, Joni and JavaScript agree; grok with custom pattern_definitions and
 *   `%{NAME:field}` only, searched anywhere in the value, first matching pattern wins).
 * - date (modules/ingest-common/.../DateProcessor.java, DateFormat.java; field, target_field,
 *   formats ISO8601, epoch_second and UNIX, timezone UTC, output_format: the default
 *   `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` or the microsecond variant with `yyyy` or `uuuu`): the value's
 *   toString() is tried against each format in order; instants are kept in nanoseconds. ISO8601 is
 *   Iso8601Parser's (a year alone, `2024-05`, a `T` without time, `,` or `.` before 1-9 fraction
 *   digits, `Z`, `±HH[[:]mm[[:]ss]]`, `UTC`/`GMT`/`UT` with or without an offset; see parseIso8601);
 *   region zone ids and what only the java.time fallback parser could read are refused. epoch_second
 *   reads the fraction from the text (EpochTime.java). UNIX is `(long) (Double.parseDouble(s) * 1000)`
 *   (Java's saturating cast; NaN is 0). Years print as java.time does: `uuuu` with a sign before 0
 *   and above 9999, `yyyy` as the year of era.
 * - dot_expander (field `*` or one dotted name, override; modules/ingest-common/.../DotExpanderProcessor.java).
 * - set_security_user (properties username and api_key; x-pack/plugin/security/.../ingest/SetSecurityUserProcessor.java)
 *   from the request's Authentication, and fail (modules/ingest-common/.../FailProcessor.java).
 * - The default pipeline, a request's `pipeline` (another one, or `_none`) in its place, then the template's
 *   `index.final_pipeline`, which a request cannot skip (SimulatedDataStream).
 * - Index mode: `standard` (pinned in the template, or a name outside `logs-*-*`); an unset mode on a
 *   `logs-*-*` data stream (logsdb or standard by cluster setting) and logsdb are refused.
 * - Mapping (after the pipeline, before the shard, as Elasticsearch parses the document against the
 *   index template's mappings; the first problem rejects the document, see `mappingRejection`). A field name
 *   with dots is the objects it names, its values merged with theirs (DotExpandingXContentParser); what each
 *   mapped leaf indexes is recorded (SimulatedDataStream.indexedFields).
 * - The failure store (docs-content manage-data/data-store/data-streams/failure-store.md): when the
 *   template enables it, a document the pipeline fails on is stored as it arrived, one the mapping
 *   rejects as the pipeline left it, with `error.type`, `error.message` and, for pipeline
 *   failures, `error.pipeline`, `error.processor_type`, `error.processor_tag`. A pipeline failure's
 *   `error.type` is always `illegal_argument_exception` here (what the modelled processors throw);
 *   the stack trace, `document.id` and `error.pipeline_trace` are not modelled.
 */

export class UnsupportedByModel extends Error {
  constructor(message: string) {
    super(`ingest simulator: ${message}`);
    this.name = "UnsupportedByModel";
  }
}

/** The document was rejected: a processor failed and no on_failure handled it. */
export class PipelineFailure extends Error {
  constructor(
    message: string,
    readonly processorType: string,
    readonly processorTag?: string,
  ) {
    super(message);
    this.name = "PipelineFailure";
  }
}

/** An error a processor raises (Elasticsearch's IllegalArgumentException). */
class ProcessorError extends Error {}

/**
 * A Java number that a JavaScript number cannot stand for: a Double with an integral value (Jackson
 * reads `1.0`, `1e13` and `10000000000000.0` as Double, and it prints as `1.0`, `1.0E13`, where an
 * Integer prints `1`), an integer beyond 2^53 (Long up to 2^63 - 1, BigInteger past it; Jackson's
 * ParserBase.getNumberValue picks Integer, Long or BigInteger by size, exactly), and a Long of any size
 * that a processor made (convert `long`: Long.parseLong, boxed), which `instanceof Long` tells from the
 * Integer Jackson reads for the same digits. Every other number is a JavaScript number: integral ones are
 * Integer (within an int) or Long (past it), the rest Double.
 */
export class JavaNumber {
  private constructor(
    readonly javaClass: "Double" | "Long" | "BigInteger",
    readonly double: number,
    readonly integer: bigint,
  ) {}

  static ofDouble(value: number): Json {
    if (!Number.isFinite(value)) throw new UnsupportedByModel(`a non-finite double (${value}): how it is written back is not modelled`);
    return Number.isInteger(value) ? new JavaNumber("Double", value, 0n) : value;
  }

  static ofInteger(value: bigint): Json {
    if (value >= -(2n ** 53n) && value <= 2n ** 53n) return Number(value);
    return new JavaNumber(value >= -(2n ** 63n) && value < 2n ** 63n ? "Long" : "BigInteger", Number(value), value);
  }

  /** A java.lang.Long (the caller checked the range), whatever its size. */
  static ofLong(value: bigint): JavaNumber {
    return new JavaNumber("Long", Number(value), value);
  }

  /** The value for a plain JSON result (a bigint where a number would lose digits). */
  plain(): number | bigint {
    if (this.javaClass === "Double") return this.double;
    return this.integer >= -(2n ** 53n) && this.integer <= 2n ** 53n ? Number(this.integer) : this.integer;
  }
}

type Json = null | boolean | number | string | JavaNumber | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JavaNumber);
}

const isNumber = (value: unknown): value is number | JavaNumber => typeof value === "number" || value instanceof JavaNumber;

/** The Java class name Elasticsearch would print for a parsed JSON value. */
function javaType(value: Json): string {
  if (typeof value === "string") return "java.lang.String";
  if (typeof value === "boolean") return "java.lang.Boolean";
  if (value instanceof JavaNumber) return value.javaClass === "BigInteger" ? "java.math.BigInteger" : `java.lang.${value.javaClass}`;
  if (typeof value === "number")
    return Number.isInteger(value) ? (Math.abs(value) <= 2 ** 31 - 1 ? "java.lang.Integer" : "java.lang.Long") : "java.lang.Double";
  if (Array.isArray(value)) return "java.util.ArrayList";
  return "java.util.HashMap";
}

function deepCopy<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => deepCopy(item)) as T;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) defineKey(out, key, deepCopy(item));
    return out as T;
  }
  return value;
}

/** Sets an own property even for `__proto__` (as JSON.parse does), so a key never touches the prototype. */
function defineKey(object: JsonObject, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The document as plain JSON for callers: JavaNumber becomes its number (or bigint). */
function toPlain(value: Json): unknown {
  if (value instanceof JavaNumber) return value.plain();
  if (Array.isArray(value)) return value.map(toPlain);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      Object.defineProperty(out, key, { value: toPlain(item), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** A stable key for Java's equals between parsed values (Integer 1 and Double 1.0 differ; append's allow_duplicates). */
function equalityKey(value: Json): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item instanceof JavaNumber
      ? `${item.javaClass}:${item.integer}:${item.double}`
      : typeof item === "number"
        ? `${Number.isInteger(item) ? "I" : "D"}:${item}`
        : item,
  );
}

/**
 * Java's Double.toString, as the JDK Elasticsearch 9 bundles prints it (JDK 19 and later, JDK-4511638,
 * openjdk/jdk src/java.base/share/classes/jdk/internal/math/DoubleToDecimal.java): the shortest decimal
 * that rounds to the double (the digits JavaScript's own Number-to-String picks: both take the one
 * closest to the double among the shortest), written plain with at least one fraction digit for
 * 10^-3 <= |d| < 10^7 (`0.001`, `1234567.0`), else as `d.dddE±n` (`1.0E-4`, `1.0E7`,
 * `1.7650870801234567E9`). Subnormals (where Java may prefer two digits to one) are refused.
 */
export function javaDoubleToString(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(value);
  if (abs < 2.2250738585072014e-308) throw new UnsupportedByModel(`Java's Double.toString of the subnormal ${value} is not modelled`);
  const sign = value < 0 ? "-" : "";
  const [mantissa, exponentText] = abs.toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const integer = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const fraction = digits.slice(exponent + 1) || "0";
    return `${sign}${integer}.${fraction}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || "0"}E${exponent}`;
}

/** Java's toString of a number as Elasticsearch holds it (Integer, Long, BigInteger: digits; Double: Double.toString). */
function javaNumberText(value: number | JavaNumber): string {
  if (value instanceof JavaNumber) return value.javaClass === "Double" ? javaDoubleToString(value.double) : value.integer.toString();
  if (Number.isInteger(value) && Math.abs(value) <= 2 ** 53) return String(value);
  return javaDoubleToString(value);
}

/** `Object.toString()` of a parsed value, for processors that read a field as text (date, json). Maps and lists are refused: HashMap's order is not modelled. */
function javaToString(value: Json): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (isNumber(value)) return javaNumberText(value);
  if (value === null) return "null";
  throw new UnsupportedByModel(`Java's toString of a ${javaType(value)} (${JSON.stringify(toPlain(value))}) is not modelled`);
}

// ---------------------------------------------------------------------------------------------
// JSON as Elasticsearch's json processor reads it (Jackson, configured by Elasticsearch)
// ---------------------------------------------------------------------------------------------

/** Jackson's StreamReadConstraints.DEFAULT_MAX_DEPTH (2.15+); Elasticsearch changes only maxStringLength (XContentImplUtils.configure). */
export const JACKSON_MAX_NESTING_DEPTH = 1000;

const JSON_PARSE = "com.fasterxml.jackson.core.JsonParseException";

/**
 * Reads `text` as the json processor does (elastic/elasticsearch modules/ingest-common/.../JsonProcessor.java,
 * apply: JsonXContent's parser, `allowDuplicateKeys(false)`, one value, then nothing but whitespace and
 * comments (strict_json_parsing, on by default)). The parser is Jackson as
 * libs/x-content/impl/.../provider/json/JsonXContentImpl.java configures it:
 * - ALLOW_COMMENTS on: `/* ... *\/` and `// ...` to the end of the line are whitespace;
 * - STRICT_DUPLICATE_DETECTION on: a key repeated in one object fails ("Duplicate field 'k'");
 * - nesting deeper than 1000 objects/arrays fails (StreamReadConstraints.validateNestingDepth);
 * - everything else as RFC 8259: no NaN/Infinity (ALLOW_NON_NUMERIC_NUMBERS off), no leading zeros,
 *   no `+1`, `.5`, `1.`, no single quotes, no unquoted names or control characters, whitespace only
 *   space, tab, CR, LF; an empty value reads as null.
 * Numbers: an integer token is Integer, Long or BigInteger by size; a token with a fraction or an
 * exponent is a Double (ParserBase; USE_BIG_DECIMAL_FOR_FLOATS off). Error texts are abridged: the
 * exception class and Jackson's first sentence, without its source location.
 */
export function parseJacksonJson(text: string): Json {
  let position = 0;
  const fail = (message: string, exception = JSON_PARSE): never => {
    throw new ProcessorError(`${exception}: ${message}`);
  };
  const skipSpace = () => {
    for (;;) {
      const c = text[position];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") position++;
      else if (c === "/" && text[position + 1] === "*") {
        const end = text.indexOf("*/", position + 2);
        if (end < 0) fail("Unexpected end-of-input in a comment");
        position = end + 2;
      } else if (c === "/" && text[position + 1] === "/") {
        while (position < text.length && text[position] !== "\n" && text[position] !== "\r") position++;
      } else if (c === "/") {
        fail("Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not recognized as one)");
      } else if (c !== undefined && c.charCodeAt(0) < 0x20) {
        fail(`Illegal character ((CTRL-CHAR, code ${c.charCodeAt(0)})): only regular white space (\\r, \\n, \\t) is allowed between tokens`);
      } else return;
    }
  };
  const literalEnd = () => /[A-Za-z0-9_$]/.test(text[position] ?? "");
  const parseString = (): string => {
    position++; // the opening quote
    let out = "";
    for (;;) {
      const c = text[position];
      if (c === undefined) fail("Unexpected end-of-input: was expecting closing quote for a string value");
      if (c === '"') {
        position++;
        return out;
      }
      if (c!.charCodeAt(0) < 0x20)
        fail(`Illegal unquoted character ((CTRL-CHAR, code ${c!.charCodeAt(0)})): has to be escaped using backslash to be included in string value`);
      if (c === "\\") {
        const e = text[position + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          position += 2;
        } else if (e === "u" && /^[0-9A-Fa-f]{4}$/.test(text.slice(position + 2, position + 6))) {
          out += String.fromCharCode(parseInt(text.slice(position + 2, position + 6), 16));
          position += 6;
        } else {
          fail(`Unrecognized character escape '${e ?? ""}'`);
        }
        continue;
      }
      out += c;
      position++;
    }
  };
  const parseNumber = (): Json => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(position));
    if (!match || match[0] === "-")
      fail(
        `Unexpected character (${JSON.stringify(text[position + (text[position] === "-" ? 1 : 0)] ?? "EOF")}): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
      );
    const token = match![0];
    const next = text[position + token.length] ?? "";
    if (/^-?0[0-9]/.test(text.slice(position))) fail("Invalid numeric value: Leading zeroes not allowed");
    if (next === "." || /[0-9A-Za-z_]/.test(next)) fail(`Unexpected character (${JSON.stringify(next)}) in numeric value`);
    position += token.length;
    if (match![2] === undefined && match![3] === undefined) return JavaNumber.ofInteger(BigInt(token));
    return JavaNumber.ofDouble(Number(token));
  };
  const parseValue = (depth: number): Json => {
    skipSpace();
    const c = text[position];
    if (c === "{" || c === "[") {
      if (depth + 1 > JACKSON_MAX_NESTING_DEPTH) {
        fail(
          `Document nesting depth (${depth + 1}) exceeds the maximum allowed (${JACKSON_MAX_NESTING_DEPTH}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`,
          "com.fasterxml.jackson.core.exc.StreamConstraintsException",
        );
      }
      position++;
      skipSpace();
      if (c === "[") {
        const list: Json[] = [];
        if (text[position] === "]") {
          position++;
          return list;
        }
        for (;;) {
          list.push(parseValue(depth + 1));
          skipSpace();
          if (text[position] === ",") position++;
          else if (text[position] === "]") {
            position++;
            return list;
          } else fail(`Unexpected character (${JSON.stringify(text[position] ?? "EOF")}): was expecting comma to separate Array entries`);
        }
      }
      const object: JsonObject = {};
      const seen = new Set<string>();
      if (text[position] === "}") {
        position++;
        return object;
      }
      for (;;) {
        skipSpace();
        if (text[position] !== '"') fail(`Unexpected character (${JSON.stringify(text[position] ?? "EOF")}): was expecting double-quote to start field name`);
        const key = parseString();
        if (seen.has(key)) fail(`Duplicate field '${key}'`);
        seen.add(key);
        skipSpace();
        if (text[position] !== ":")
          fail(`Unexpected character (${JSON.stringify(text[position] ?? "EOF")}): was expecting a colon to separate field name and value`);
        position++;
        defineKey(object, key, parseValue(depth + 1));
        skipSpace();
        if (text[position] === ",") position++;
        else if (text[position] === "}") {
          position++;
          return object;
        } else fail(`Unexpected character (${JSON.stringify(text[position] ?? "EOF")}): was expecting comma to separate Object entries`);
      }
    }
    if (c === '"') return parseString();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return parseNumber();
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, position)) {
        position += word.length;
        if (literalEnd())
          fail(
            `Unrecognized token '${word}${/^[A-Za-z0-9_$]*/.exec(text.slice(position))![0]}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
          );
        return value;
      }
    }
    if (/^(NaN|Infinity|-Infinity)/.test(text.slice(position))) {
      fail(`Non-standard token '${/^(NaN|Infinity)/.exec(text.slice(position))![0]}': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow`);
    }
    if (c === undefined) fail("Unexpected end-of-input: expected a value");
    return fail(
      `Unrecognized token '${/^[^\s,:{}[\]"]*/.exec(text.slice(position))![0] || c}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
    );
  };
  skipSpace();
  if (position === text.length) return null; // no token: JsonProcessor reads null
  const value = parseValue(0);
  skipSpace();
  if (position !== text.length) fail(`Unexpected content after the JSON value at position ${position} (strict_json_parsing)`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The document: source plus _ingest metadata, with IngestDocument's path semantics
// ---------------------------------------------------------------------------------------------

/**
 * Who sent the request, as set_security_user reads it from the security context (Authentication): a realm
 * user (a native user such as the central Filebeat's writer), or an API key with its id, name and metadata.
 */
export type Authentication =
  { type: "realm"; username: string } | { type: "api_key"; id: string; name: string; owner: string; metadata: Record<string, unknown> };

/** What the model assumes when a test names no one: a native user, as the central stack's own Filebeat ships. */
export const DEFAULT_AUTHENTICATION: Authentication = { type: "realm", username: "atra-filebeat" };

class Document {
  readonly ingest: JsonObject;
  constructor(
    readonly source: JsonObject,
    now: Date,
    readonly authentication: Authentication = DEFAULT_AUTHENTICATION,
  ) {
    this.ingest = { timestamp: now.toISOString() };
  }

  private split(path: string): { root: JsonObject; keys: string[] } {
    if (!path) throw new ProcessorError("path cannot be null nor empty");
    if (path.startsWith("_ingest.")) return { root: this.ingest, keys: path.slice("_ingest.".length).split(".") };
    const keys = (path.startsWith("_source.") ? path.slice("_source.".length) : path).split(".");
    if (keys.some((key) => key === "")) throw new ProcessorError(`path [${path}] is not valid`);
    return { root: this.source, keys };
  }

  has(path: string): boolean {
    const { root, keys } = this.split(path);
    let context: Json = root;
    for (const key of keys) {
      if (isObject(context)) {
        if (!(key in context)) return false;
        context = context[key]!;
      } else if (Array.isArray(context)) {
        if (!/^-?\d+$/.test(key)) return false;
        const index = Number(key);
        if (index < 0 || index >= context.length) return false;
        context = context[index]!;
      } else {
        return false;
      }
    }
    return true;
  }

  get(path: string): Json {
    const { root, keys } = this.split(path);
    let context: Json = root;
    for (const key of keys) {
      if (context === null) throw new ProcessorError(`cannot resolve [${key}] from null as part of path [${path}]`);
      if (isObject(context)) {
        if (!(key in context)) throw new ProcessorError(`field [${key}] not present as part of path [${path}]`);
        context = context[key]!;
      } else {
        context = arrayElement(context, key, path);
      }
    }
    return context;
  }

  /** Walks to the parent of the leaf, creating missing objects (set) or failing (remove). */
  private parentOf(path: string, create: boolean): { parent: Json; leaf: string } {
    const { root, keys } = this.split(path);
    let context: Json = root;
    for (const key of keys.slice(0, -1)) {
      if (context === null) throw new ProcessorError(`cannot ${create ? "set" : "remove"} [${key}] from null as part of path [${path}]`);
      if (isObject(context)) {
        if (!(key in context)) {
          if (!create) throw new ProcessorError(`field [${key}] not present as part of path [${path}]`);
          context[key] = {};
        }
        context = context[key]!;
      } else {
        context = arrayElement(context, key, path);
      }
    }
    return { parent: context, leaf: keys[keys.length - 1]! };
  }

  set(path: string, value: Json): void {
    const { parent, leaf } = this.parentOf(path, true);
    if (parent === null) throw new ProcessorError(`cannot set [${leaf}] with null parent as part of path [${path}]`);
    if (isObject(parent)) {
      parent[leaf] = value;
    } else if (Array.isArray(parent)) {
      if (!/^-?\d+$/.test(leaf)) throw new ProcessorError(`[${leaf}] is not an integer, cannot be used as an index as part of path [${path}]`);
      const index = Number(leaf);
      if (index < 0 || index >= parent.length)
        throw new ProcessorError(`[${index}] is out of bounds for array with length [${parent.length}] as part of path [${path}]`);
      parent[index] = value;
    } else {
      throw new ProcessorError(`cannot set [${leaf}] with parent object of type [${javaType(parent)}] as part of path [${path}]`);
    }
  }

  remove(path: string): void {
    const { parent, leaf } = this.parentOf(path, false);
    if (isObject(parent)) {
      if (!(leaf in parent)) throw new ProcessorError(`field [${leaf}] not present as part of path [${path}]`);
      delete parent[leaf];
    } else if (parent === null) {
      throw new ProcessorError(`cannot remove [${leaf}] from null as part of path [${path}]`);
    } else if (Array.isArray(parent)) {
      throw new UnsupportedByModel(`removing list elements (${path}) is not modelled`);
    } else {
      throw new ProcessorError(`cannot remove [${leaf}] from object of type [${javaType(parent)}] as part of path [${path}]`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Options, conditions, templates
// ---------------------------------------------------------------------------------------------

const COMMON_OPTIONS = ["tag", "description", "if", "ignore_failure", "on_failure"];

function checkOptions(type: string, config: Record<string, unknown>, allowed: string[], required: string[]): void {
  for (const key of Object.keys(config)) {
    if (!COMMON_OPTIONS.includes(key) && !allowed.includes(key)) throw new UnsupportedByModel(`${type}: option "${key}" is not modelled`);
  }
  for (const key of required) {
    if (config[key] === undefined) throw new UnsupportedByModel(`${type}: required option "${key}" is missing (Elasticsearch would refuse the pipeline)`);
  }
}

function stringOption(type: string, config: Record<string, unknown>, key: string): string {
  const value = config[key];
  if (typeof value !== "string" || value === "") throw new UnsupportedByModel(`${type}: "${key}" must be a non-empty string`);
  if (value.includes("{{")) throw new UnsupportedByModel(`${type}: templates in "${key}" are not modelled`);
  return value;
}

function booleanOption(type: string, config: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new UnsupportedByModel(`${type}: "${key}" must be a boolean`);
  return value;
}

// --- Painless conditions (the subset) ---------------------------------------------------------

type Token = { kind: "op" | "ident" | "string" | "number"; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const op = /^(\?\.|&&|\|\||==|!=|<=|>=|[()!<>.[\]])/.exec(rest);
    if (op) {
      tokens.push({ kind: "op", text: op[0] });
      i += op[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const str = /^'([^'\\]*)'/.exec(rest);
    if (str) {
      tokens.push({ kind: "string", text: str[1]! });
      i += str[0].length;
      continue;
    }
    const num = /^-?\d+/.exec(rest);
    if (num) {
      tokens.push({ kind: "number", text: num[0] });
      i += num[0].length;
      continue;
    }
    throw new UnsupportedByModel(`condition ${JSON.stringify(source)}: cannot read ${JSON.stringify(rest.slice(0, 20))}`);
  }
  return tokens;
}

const INT_MAX = 2 ** 31 - 1;
const PAINLESS_TYPES: Record<string, (value: Json | undefined) => boolean> = {
  String: (value) => typeof value === "string",
  Number: (value) => isNumber(value),
  // java.lang.Long: a JavaNumber Long, or an integral JavaScript number past an int (Jackson's Long; see javaType).
  Long: (value) =>
    value instanceof JavaNumber
      ? value.javaClass === "Long"
      : typeof value === "number" && Number.isInteger(value) && (value > INT_MAX || value < -INT_MAX - 1),
  Boolean: (value) => typeof value === "boolean",
  Map: (value) => isObject(value),
  List: (value) => Array.isArray(value),
};

/** A recursive-descent reader of the modelled Painless subset, evaluating as it reads (with short-circuit). */
class Condition {
  private position = 0;
  private readonly tokens: Token[];
  constructor(
    private readonly source: string,
    private readonly doc: Document,
  ) {
    this.tokens = tokenize(source);
  }

  evaluate(): boolean {
    const value = this.or(true);
    if (this.position !== this.tokens.length) this.refuse(`unexpected ${JSON.stringify(this.tokens[this.position]!.text)}`);
    return value;
  }

  private refuse(why: string): never {
    throw new UnsupportedByModel(`condition ${JSON.stringify(this.source)} is outside the modelled Painless subset: ${why}`);
  }

  private peek(text: string): boolean {
    const token = this.tokens[this.position];
    return token !== undefined && token.kind === "op" && token.text === text;
  }

  private expect(text: string): void {
    if (!this.peek(text)) this.refuse(`expected ${JSON.stringify(text)}`);
    this.position++;
  }

  private or(live: boolean): boolean {
    let value = this.and(live);
    while (this.peek("||")) {
      this.position++;
      const right = this.and(live && !value);
      value = value || right;
    }
    return value;
  }

  private and(live: boolean): boolean {
    let value = this.unary(live);
    while (this.peek("&&")) {
      this.position++;
      const right = this.unary(live && value);
      value = value && right;
    }
    return value;
  }

  private unary(live: boolean): boolean {
    if (this.peek("!")) {
      this.position++;
      return !this.unary(live);
    }
    if (this.peek("(")) {
      this.position++;
      const value = this.or(live);
      this.expect(")");
      return value;
    }
    const operand = this.access(live);
    const token = this.tokens[this.position];
    if (token?.kind === "ident" && token.text === "instanceof") {
      const type = this.tokens[this.position + 1];
      const test = type && PAINLESS_TYPES[type.text];
      if (!test) this.refuse(`instanceof ${type?.text ?? "?"}`);
      this.position += 2;
      return live && test(operand);
    }
    if (this.peek("==") || this.peek("!=")) {
      const negate = this.tokens[this.position]!.text === "!=";
      const right = this.tokens[this.position + 1];
      if (right?.kind !== "ident" || right.text !== "null") this.refuse("only comparisons with null");
      this.position += 2;
      const isNull = operand === null || operand === undefined;
      return live && (negate ? !isNull : isNull);
    }
    if (this.peek(".") && this.tokens[this.position + 1]?.text === "compareTo") {
      this.position += 2;
      this.expect("(");
      const literal = this.tokens[this.position];
      if (literal?.kind !== "string") this.refuse("compareTo takes a string literal here");
      this.position++;
      this.expect(")");
      const op = this.tokens[this.position];
      const zero = this.tokens[this.position + 1];
      if (op?.kind !== "op" || !["<", ">", "<=", ">="].includes(op.text) || zero?.kind !== "number" || zero.text !== "0")
        this.refuse("compareTo(...) must be compared with 0");
      this.position += 2;
      if (!live) return false;
      if (typeof operand !== "string") this.refuse(`compareTo on a ${operand === undefined || operand === null ? "null" : javaType(operand)}`);
      // Java String.compareTo: UTF-16 code units, as JavaScript compares strings.
      const sign = operand < literal.text ? -1 : operand > literal.text ? 1 : 0;
      return { "<": sign < 0, ">": sign > 0, "<=": sign <= 0, ">=": sign >= 0 }[op.text as "<" | ">" | "<=" | ">="];
    }
    if (this.peek(".") && this.tokens[this.position + 1]?.text === "contains") {
      // java.util.List.contains (ArrayList.indexOf: the argument's equals against each element). Modelled for a list of
      // strings only (what set_security_user hands over for an API key's metadata array: ApiKeyService.getApiKeyMetadata,
      // XContentHelper.convertToMap): String.equals is true for an equal string alone, so any other argument (a list,
      // a number, null) matches nothing.
      this.position += 2;
      this.expect("(");
      const argument = this.access(live);
      this.expect(")");
      if (!live) return false;
      if (!Array.isArray(operand)) this.refuse(`contains on a ${operand === undefined || operand === null ? "null" : javaType(operand)}`);
      if (!operand.every((item) => typeof item === "string")) this.refuse("contains on a list of other than strings");
      return typeof argument === "string" && operand.includes(argument);
    }
    this.refuse("a bare value is not a condition");
  }

  /** `ctx` followed by `.k`, `?.k` or `['k']`; undefined stands for a missing key (null in Painless). */
  private access(live: boolean): Json | undefined {
    const head = this.tokens[this.position];
    if (head?.kind !== "ident" || head.text !== "ctx") this.refuse("values are read from ctx only");
    this.position++;
    let value: Json | undefined = this.doc.source;
    for (;;) {
      let key: string;
      let nullSafe = false;
      if (this.peek("?.") || (this.peek(".") && !["compareTo", "contains"].includes(this.tokens[this.position + 1]?.text ?? ""))) {
        nullSafe = this.tokens[this.position]!.text === "?.";
        const name = this.tokens[this.position + 1];
        if (name?.kind !== "ident") this.refuse("a field name after '.'");
        key = name.text;
        this.position += 2;
      } else if (this.peek("[")) {
        const name = this.tokens[this.position + 1];
        if (name?.kind !== "string") this.refuse("['...'] takes a string literal");
        this.position += 2;
        this.expect("]");
        key = name.text;
      } else {
        return value;
      }
      if (!live) continue;
      if (value === null || value === undefined) {
        if (nullSafe) {
          value = undefined;
          continue;
        }
        this.refuse(`reading [${key}] of null (a NullPointerException in Painless)`);
      }
      if (!isObject(value)) this.refuse(`reading [${key}] of a ${javaType(value)}: Painless behaviour there is not modelled`);
      value = key in value ? value[key]! : undefined;
    }
  }
}

function evaluateCondition(condition: unknown, doc: Document): boolean {
  if (typeof condition !== "string") throw new UnsupportedByModel(`"if" must be an inline script string, got ${JSON.stringify(condition)}`);
  return new Condition(condition, doc).evaluate();
}

// --- Mustache templates (the subset) ----------------------------------------------------------

type TemplateNode =
  { kind: "text"; text: string } | { kind: "value"; name: string } | { kind: "section"; name: string; inverted: boolean; body: TemplateNode[] };

function parseTemplate(template: string): TemplateNode[] {
  const tag = /\{\{(\{?)([^{}]*?)\}?\}\}/g;
  // A section tag alone on a line is "standalone" in mustache: the line, with its whitespace and its
  // newline, is dropped. Not modelled, so refused, except where dropping it removes nothing: the
  // template's last line, holding nothing but the tag.
  const lines = template.split("\n");
  lines.forEach((line, index) => {
    if (!/^\s*\{\{[#^/][^{}]*\}\}\s*$/.test(line)) return;
    if (index === lines.length - 1 && line === line.trim()) return;
    throw new UnsupportedByModel(`template line ${JSON.stringify(line)} holds a section tag alone: mustache's standalone-line rule is not modelled`);
  });
  const root: TemplateNode[] = [];
  const stack: { name: string; body: TemplateNode[] }[] = [{ name: "", body: root }];
  let last = 0;
  for (const match of template.matchAll(tag)) {
    const [whole, triple, rawName] = match;
    const body = stack[stack.length - 1]!.body;
    if (match.index! > last) body.push({ kind: "text", text: template.slice(last, match.index) });
    last = match.index! + whole.length;
    const name = rawName!.trim();
    if (triple) {
      if (!whole.endsWith("}}}")) throw new UnsupportedByModel(`template tag ${whole} is not closed with }}}`);
      body.push({ kind: "value", name });
      continue;
    }
    const sigil = name[0];
    if (sigil === "#" || sigil === "^") {
      const sectionName = name.slice(1).trim();
      if (/^(toJson|join|url)\b/i.test(sectionName)) throw new UnsupportedByModel(`template function {{#${sectionName}}} is not modelled`);
      const node: TemplateNode = { kind: "section", name: sectionName, inverted: sigil === "^", body: [] };
      body.push(node);
      stack.push({ name: sectionName, body: node.body });
    } else if (sigil === "/") {
      const open = stack.pop();
      if (!open || stack.length === 0 || open.name !== name.slice(1).trim()) throw new UnsupportedByModel(`template section {{${name}}} closes nothing open`);
    } else {
      throw new UnsupportedByModel(`template tag ${whole}: only {{{name}}} and sections are modelled ({{name}} escapes by media type)`);
    }
  }
  if (stack.length !== 1) throw new UnsupportedByModel(`template section {{#${stack[stack.length - 1]!.name}}} is never closed`);
  if (last < template.length) root.push({ kind: "text", text: template.slice(last) });
  return root;
}

const MISSING = Symbol("missing");

/** mustache.java name lookup: first segment in the innermost scope that has it, the rest inside its value. */
function lookup(name: string, scopes: Json[]): Json | typeof MISSING {
  const [first, ...rest] = name.split(".");
  const step = (value: Json, key: string): Json | typeof MISSING => {
    if (isObject(value)) return key in value ? value[key]! : MISSING;
    if (Array.isArray(value)) {
      if (key === "size") return value.length;
      return /^\d+$/.test(key) && Number(key) < value.length ? value[Number(key)]! : MISSING;
    }
    return MISSING;
  };
  for (let i = scopes.length - 1; i >= 0; i--) {
    let value = step(scopes[i]!, first!);
    if (value === MISSING) continue;
    for (const key of rest) {
      if (value === null) return MISSING;
      value = step(value, key);
      if (value === MISSING) return MISSING;
    }
    return value;
  }
  return MISSING;
}

function renderNodes(nodes: TemplateNode[], scopes: Json[]): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") {
      out += node.text;
    } else if (node.kind === "value") {
      const value = lookup(node.name, scopes);
      if (value === MISSING || value === null) continue;
      if (isNumber(value)) {
        out += javaNumberText(value);
        continue;
      }
      if (typeof value === "object")
        throw new UnsupportedByModel(`template writes {{{${node.name}}}}, an object or list: Java's toString of it is not modelled`);
      out += String(value);
    } else {
      const value = lookup(node.name, scopes);
      // mustache.java BaseObjectHandler.iterate: null, false and "" are falsey; lists iterate; the rest render once.
      const falsey = value === MISSING || value === null || value === false || value === "" || (Array.isArray(value) && value.length === 0);
      if (node.inverted) {
        if (falsey) out += renderNodes(node.body, scopes);
      } else if (!falsey) {
        const items = Array.isArray(value) ? value : [value as Json];
        for (const item of items) out += renderNodes(node.body, [...scopes, item]);
      }
    }
  }
  return out;
}

function renderTemplate(template: string, doc: Document): string {
  if (!template.includes("{{")) return template;
  return renderNodes(parseTemplate(template), [{ ...doc.source, _ingest: doc.ingest }]);
}

function renderValue(value: unknown, doc: Document): Json {
  if (typeof value === "string") return renderTemplate(value, doc);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, doc));
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, doc)]));
  throw new UnsupportedByModel(`value ${String(value)} is not JSON`);
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_DAY = 86_400_000_000_000n;
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: bigint, month: number, day: number): bigint {
  const y = month <= 2 ? year - 1n : year;
  const era = (y >= 0n ? y : y - 399n) / 400n;
  const yoe = y - era * 400n;
  const m = BigInt(month);
  const doy = (153n * (m > 2n ? m - 3n : m + 9n) + 2n) / 5n + BigInt(day) - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146_097n + doe - 719_468n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The mapping's own date parsing (DateFieldMapper's strict_date_optional_time[_nanos]), for the
 * canonical forms the pipeline and Filebeat write: `yyyy-MM-dd[THH[:mm[:ss[.f{1,9}]]]]` and `Z` /
 * `±HH[:mm]` / `±HHmm`. Returns nanoseconds since the epoch.
 */
function parseMappingDate(text: string): bigint {
  const match = ISO8601.exec(text);
  const fail = () => new ProcessorError(`failed to parse date field [${text}] with format [iso8601]`);
  if (!match) throw fail();
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", offset = "Z"] = match;
  const [y, mo, d, h, mi, se] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || se > 59) throw fail();
  let offsetMinutes = 0;
  if (offset !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0")) * (offset.startsWith("-") ? -1 : 1);
  }
  const seconds = daysFromCivil(BigInt(y), mo, d) * 86_400n + BigInt(h * 3600 + mi * 60 + se - offsetMinutes * 60);
  return seconds * 1_000_000_000n + BigInt(fraction.padEnd(9, "0") || "0");
}

/** ZoneOffset.ofTotalSeconds' range: ±18 hours. */
const MAX_OFFSET_SECONDS = 18 * 3600;

/**
 * An offset as ZoneOffset.of reads one after `UTC`/`GMT`/`UT` (`+h`, `+hh`, `+hh:mm`, `+hhmm`,
 * `+hh:mm:ss`, `+hhmmss`), in seconds; undefined when it does not read.
 */
function zoneOffsetOf(text: string): number | undefined {
  const match = /^([+-])(\d{1,2})(?:(:?)(\d{2})(?:\3(\d{2}))?)?$/.exec(text);
  if (!match || (match[2]!.length === 1 && match[4] !== undefined)) return undefined;
  const [hours, minutes, seconds] = [match[2], match[4] ?? "0", match[5] ?? "0"].map(Number) as [number, number, number];
  if (hours > 18 || minutes > 59 || seconds > 59) return undefined;
  const total = (hours * 3600 + minutes * 60 + seconds) * (match[1] === "-" ? -1 : 1);
  return Math.abs(total) > MAX_OFFSET_SECONDS ? undefined : total;
}

/**
 * Iso8601Parser.parseZoneId (elastic/elasticsearch server/src/main/java/org/elasticsearch/common/time/Iso8601Parser.java):
 * `Z` alone; `±HH`, `±HH:mm`, `±HHmm`, `±HH:mm:ss`, `±HHmmss` (a colon in both places or in neither,
 * hours up to 23, within ZoneOffset's ±18h); anything starting with a letter goes to ZoneId.of. Of
 * ZoneId.of's forms the fixed ones are modelled (`UTC`, `GMT`, `UT`, alone or with an offset:
 * java.time ZoneId.of); a region id (`Europe/Paris`, `EST`) needs the tz database's rules and is
 * refused. Returns the offset in seconds, or undefined where the parser answers null (a parse error).
 */
function iso8601Zone(text: string): number | undefined {
  if (text === "Z") return 0;
  const first = text[0]!;
  if (first === "+" || first === "-") {
    const match = /^[+-](\d{2})(?:(:?)(\d{2})(?:\2(\d{2}))?)?$/.exec(text);
    if (!match) return undefined;
    const [hours, minutes, seconds] = [match[1], match[3] ?? "0", match[4] ?? "0"].map(Number) as [number, number, number];
    if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
    const total = (hours * 3600 + minutes * 60 + seconds) * (first === "-" ? -1 : 1);
    return Math.abs(total) > MAX_OFFSET_SECONDS ? undefined : total;
  }
  const prefixed = /^(UTC|GMT|UT)(.*)$/.exec(text);
  if (prefixed) return prefixed[2] === "" ? 0 : zoneOffsetOf(prefixed[2]!);
  // ZoneId.of: a region id must match this (ZoneRegion.checkName); other text is a DateTimeException.
  if (!/^[A-Za-z][A-Za-z0-9~/._+-]+$/.test(text)) return undefined;
  throw new UnsupportedByModel(`time zone id ${JSON.stringify(text)}: region ids (tz database rules) are not modelled`);
}

type IsoFields = { year: number; month?: number; day?: number; hour?: number; minute?: number; second?: number; nanos?: number; offset?: number };

/**
 * Iso8601Parser.parse as the `iso8601` formatter configures it (DateFormatters.java, ISO_8601: an
 * Iso8601DateTimeParser with no mandatory field but the year, optionalTime false, DecimalSeparator.BOTH,
 * TimezonePresence.OPTIONAL): fixed positions; the text may stop after the year, the month, the day,
 * the `T`, the hour, the minute or the second; a zone may follow the hour, the minute, the second or
 * the fraction; a fraction follows `.` or `,` with 1 to 9 digits. Months over 12, days over 31, hours
 * over 23, minutes and seconds over 59 fail here; an impossible day (Feb 30) fails later, in
 * DateFormatters.from. Returns the fields, or the index where parsing failed.
 */
function iso8601Fields(text: string): IsoFields | { errorIndex: number } {
  const int = (from: number, to: number): number | undefined =>
    text.length >= to && /^\d+$/.test(text.slice(from, to)) ? Number(text.slice(from, to)) : undefined;
  const zoneAt = (at: number): number | undefined | "none" => (/^[+\-A-Za-z]/.test(text[at] ?? "") ? iso8601Zone(text.slice(at)) : "none");
  const year = int(0, 4);
  if (year === undefined) return { errorIndex: 0 };
  if (text.length === 4) return { year };
  if (text[4] !== "-") return { errorIndex: 4 };
  const month = int(5, 7);
  if (month === undefined || month > 12) return { errorIndex: 5 };
  if (text.length === 7) return { year, month };
  if (text[7] !== "-") return { errorIndex: 7 };
  const day = int(8, 10);
  if (day === undefined || day > 31) return { errorIndex: 8 };
  if (text.length === 10) return { year, month, day };
  if (text[10] !== "T") return { errorIndex: 10 };
  if (text.length === 11) return { year, month, day };
  const hour = int(11, 13);
  if (hour === undefined || hour > 23) return { errorIndex: 11 };
  if (text.length === 13) return { year, month, day, hour };
  let zone = zoneAt(13);
  if (zone !== "none") return zone === undefined ? { errorIndex: 13 } : { year, month, day, hour, offset: zone };
  if (text[13] !== ":") return { errorIndex: 13 };
  const minute = int(14, 16);
  if (minute === undefined || minute > 59) return { errorIndex: 14 };
  if (text.length === 16) return { year, month, day, hour, minute };
  zone = zoneAt(16);
  if (zone !== "none") return zone === undefined ? { errorIndex: 16 } : { year, month, day, hour, minute, offset: zone };
  if (text[16] !== ":") return { errorIndex: 16 };
  const second = int(17, 19);
  if (second === undefined || second > 59) return { errorIndex: 17 };
  if (text.length === 19) return { year, month, day, hour, minute, second };
  zone = zoneAt(19);
  if (zone !== "none") return zone === undefined ? { errorIndex: 19 } : { year, month, day, hour, minute, second, offset: zone };
  if (text[19] !== "." && text[19] !== ",") return { errorIndex: 19 };
  const digits = /^\d{1,9}/.exec(text.slice(20))?.[0];
  if (digits === undefined) return { errorIndex: 20 };
  const nanos = Number(digits.padEnd(9, "0"));
  const end = 20 + digits.length;
  if (text.length === end) return { year, month, day, hour, minute, second, nanos };
  zone = zoneAt(end);
  if (zone !== "none") return zone === undefined ? { errorIndex: end } : { year, month, day, hour, minute, second, nanos, offset: zone };
  return { errorIndex: end };
}

/**
 * The date processor's ISO8601 format (modules/ingest-common/.../DateFormat.java, Iso8601: the
 * `iso8601` DateFormatter, then DateFormatters.from with the processor's timezone for zone-less
 * text). Modelled from Iso8601Parser (see iso8601Fields), which Elasticsearch tries first; a leading
 * `-` is a negative year (tryParse). When it fails, Elasticsearch tries the java.time parser of the
 * same formatter (JavaDateFormatter.doParse), which needs `yyyy-MM-dd` first (a year of 4 to 10
 * digits, signed when longer than 4) and differs in what may follow: a failure in the first ten
 * characters of a plain four-digit year fails there too; other failures after such a prefix are
 * refused (UnsupportedByModel). Missing fields default to the start (`2024` is 2024-01-01T00:00Z);
 * an impossible date fails (DateFormatters.from builds a LocalDate). Returns nanoseconds since the epoch.
 */
function parseIso8601(text: string): bigint {
  const fail = () => new ProcessorError(`failed to parse date field [${text}] with format [iso8601]`);
  if (text === "") throw new ProcessorError("cannot parse empty datetime");
  const negative = text.startsWith("-");
  const fields = iso8601Fields(negative ? text.slice(1) : text);
  if ("errorIndex" in fields) {
    const plainYear = /^\d{4}-\d{2}-\d{2}/.test(text);
    if (/^[+-]?\d{4,10}-\d{2}-\d{2}/.test(text) && !(plainYear && fields.errorIndex < 10)) {
      throw new UnsupportedByModel(`ISO8601 ${JSON.stringify(text)}: Elasticsearch's java.time fallback parser is not modelled`);
    }
    throw fail();
  }
  const year = negative ? -fields.year : fields.year;
  const month = fields.month ?? 1;
  const day = fields.day ?? 1;
  if (day > daysInMonth(year, month)) throw fail();
  const seconds =
    daysFromCivil(BigInt(year), month, day) * 86_400n +
    BigInt((fields.hour ?? 0) * 3600 + (fields.minute ?? 0) * 60 + (fields.second ?? 0) - (fields.offset ?? 0));
  return seconds * 1_000_000_000n + BigInt(fields.nanos ?? 0);
}

/** Instant.MAX's epoch second (java.time.Instant). */
const INSTANT_MAX_SECONDS = 31_556_889_864_403_199n;

/**
 * The `epoch_second` format (elastic/elasticsearch server/src/main/java/org/elasticsearch/common/time/EpochTime.java,
 * SECONDS_FORMATTER1/2): an optional `-`, 1 to 19 digits of seconds, then optionally `.` and 0 to 9
 * fraction digits (nanoseconds, read from the text, not through a double). Negative values are
 * -(seconds.fraction) (UNSIGNED_SECONDS.resolve); a negative value with an all-zero fraction ends with
 * a nano-of-second of 10^9, which java.time refuses: not modelled. Instants past Instant's range fail.
 */
function parseEpochSecond(text: string): bigint {
  const match = /^(-?)(\d{1,19})(?:\.(\d{0,9}))?$/.exec(text);
  if (!match) throw new ProcessorError(`failed to parse date field [${text}] with format [epoch_second]`);
  const [, minus, secondsText, fraction] = match;
  const seconds = BigInt(secondsText!);
  const nanos = fraction === undefined || fraction === "" ? undefined : BigInt(fraction.padEnd(9, "0"));
  if (seconds > (1n << 63n) - 1n || seconds > INSTANT_MAX_SECONDS) throw new ProcessorError(`failed to parse date field [${text}] with format [epoch_second]`);
  if (minus && nanos === 0n) throw new UnsupportedByModel(`epoch_second ${JSON.stringify(text)}: a negative value with a zero fraction is not modelled`);
  const total = seconds * 1_000_000_000n + (nanos ?? 0n);
  return minus ? -total : total;
}

/** Double.parseDouble's syntax (hexadecimal floats not modelled), then Java's saturating (long) cast of seconds * 1000. */
function parseUnix(text: string): bigint {
  // eslint-disable-next-line no-control-regex -- Java's String.trim() strips every char up to U+0020
  const match = /^[\x00-\x20]*([+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))[fFdD]?[\x00-\x20]*$/.exec(text);
  if (!match) throw new ProcessorError(`For input string: "${text}"`);
  const millis = Number(match[1]!.replace(/^\+/, "")) * 1000;
  let ms: bigint;
  if (Number.isNaN(millis)) ms = 0n;
  else if (millis >= 2 ** 63) ms = LONG_MAX;
  else if (millis <= -(2 ** 63)) ms = LONG_MIN;
  else ms = BigInt(Math.trunc(millis));
  return ms * NANOS_PER_MS;
}

const OUTPUT_FORMATS: Record<string, { digits: number; year: "era" | "proleptic" }> = {
  "yyyy-MM-dd'T'HH:mm:ss.SSSXXX": { digits: 3, year: "era" },
  "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX": { digits: 6, year: "era" },
  "uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX": { digits: 6, year: "proleptic" },
};

/** Civil date of a day count since 1970-01-01, proleptic Gregorian (H. Hinnant's days_from_civil, inverted), exact for any range. */
function civilFromDays(days: bigint): { year: bigint; month: number; day: number } {
  const z = days + 719_468n;
  const era = (z >= 0n ? z : z - 146_096n) / 146_097n;
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = Number(doy - (153n * mp + 2n) / 5n + 1n);
  const month = Number(mp < 10n ? mp + 3n : mp - 9n);
  return { year: yoe + era * 400n + (month <= 2 ? 1n : 0n), month, day };
}

/** java.time's year text: `u`/`y` with four letters pad to 4 and (SignStyle.EXCEEDS_PAD) sign what exceeds it or is negative. */
function yearText(year: bigint, style: "era" | "proleptic"): string {
  const value = style === "era" && year <= 0n ? 1n - year : year;
  const digits = (value < 0n ? -value : value).toString();
  if (value < 0n) return `-${digits.padStart(4, "0")}`;
  return digits.length > 4 ? `+${digits}` : digits.padStart(4, "0");
}

function formatInstant(nanos: bigint, format: { digits: number; year: "era" | "proleptic" }): string {
  const days = nanos / NANOS_PER_DAY - (nanos % NANOS_PER_DAY < 0n ? 1n : 0n);
  const ofDay = nanos - days * NANOS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const seconds = ofDay / 1_000_000_000n;
  const pad = (n: bigint | number) => n.toString().padStart(2, "0");
  const fraction = (ofDay % 1_000_000_000n).toString().padStart(9, "0").slice(0, format.digits);
  return `${yearText(year, format.year)}-${pad(month)}-${pad(day)}T${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}.${fraction}Z`;
}
/**
 * A regular expression in the subset where Java's java.util.regex, Joni (Ruby syntax, grok) and
 * JavaScript's `u` mode read the same: literals, `\\.`-style escapes of punctuation, `[...]` classes of
 * ASCII characters, `\\d` (ASCII digits in all three without UNICODE_CHARACTER_CLASS), `*`, `+`, `?`,
 * `{n}`, `{n,m}`, non-capturing and plain groups, `|`, `^`, `$`, `.` (no line terminators in a log
 * line). Anything else (`\\s`, `\\w`, `\\b`, look-arounds, named groups, flags, non-ASCII) is refused.
 */
function javaRegex(processor: string, pattern: unknown): string {
  if (typeof pattern !== "string" || pattern === "") throw new UnsupportedByModel(`${processor}: pattern must be a non-empty string`);
  // eslint-disable-next-line no-control-regex -- ASCII only
  const allowed = /^(?:\\[.\\[\](){}^$*+?|/"-]|\\d|\[(?:[^\]\\\x00-\x1f\x7f-\uffff]|\\[.\\\]-])+\]|\(\?:|[^\\[\]\x00-\x1f\x7f-\uffff])*$/;
  if (!allowed.test(pattern) || /\(\?[^:]/.test(pattern))
    throw new UnsupportedByModel(`${processor}: regex ${JSON.stringify(pattern)} is outside the modelled subset`);
  return pattern;
}

/**
 * Java's Long.parseLong(value.toString()) as ConvertProcessor's LONG type calls it: an optional sign, then ASCII
 * digits (leading zeros allowed), within [-2^63, 2^63 - 1]; anything else throws NumberFormatException, which
 * the processor reports as "unable to convert [v] to long". The result is a java.lang.Long (the primitive boxed
 * as the processor returns Object), whatever its size. The `0x` form (Long.decode) is refused.
 */
function javaParseLong(value: Json): Json {
  const text = javaToString(value);
  if (/^-?0x/.test(text)) throw new UnsupportedByModel(`convert long: ${JSON.stringify(text)} (Long.decode) is not modelled`);
  const ok = /^[+-]?[0-9]+$/.test(text);
  const parsed = ok ? BigInt(text) : 0n;
  if (!ok || parsed > LONG_MAX || parsed < LONG_MIN) throw new ProcessorError(`unable to convert [${text}] to long`);
  return JavaNumber.ofLong(parsed);
}

// ---------------------------------------------------------------------------------------------
// Processors
// ---------------------------------------------------------------------------------------------

type ProcessorConfig = Record<string, unknown>;

const PROCESSORS: Record<string, (config: ProcessorConfig, doc: Document) => void> = {
  json(config, doc) {
    checkOptions("json", config, ["field", "target_field"], ["field"]);
    const field = stringOption("json", config, "field");
    const target = config.target_field === undefined ? field : stringOption("json", config, "target_field");
    const raw = doc.get(field);
    doc.set(target, parseJacksonJson(javaToString(raw)));
  },

  set(config, doc) {
    checkOptions("set", config, ["field", "value", "copy_from", "override"], ["field"]);
    const field = stringOption("set", config, "field");
    const override = booleanOption("set", config, "override", true);
    if ((config.value === undefined) === (config.copy_from === undefined)) throw new UnsupportedByModel("set: exactly one of value and copy_from");
    if (override || !doc.has(field) || doc.get(field) === null) {
      const value = config.copy_from !== undefined ? deepCopy(doc.get(stringOption("set", config, "copy_from"))) : renderValue(config.value, doc);
      doc.set(field, value);
    }
  },

  /**
   * elastic/elasticsearch x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/ingest/
   * SetSecurityUserProcessor.java, the `username` and `api_key` properties (the others, full_name, email, roles,
   * metadata, realm, authentication_type, are not modelled: refused). The field's existing value is merged into
   * when it is an object, else replaced by a new one; `api_key` is written only for an API key, as
   * `{ name, id, metadata }` (metadata only when not empty: ApiKeyService.getApiKeyMetadata) merged into an
   * existing `api_key` object; the field is set even when nothing was added (an empty object). Without
   * `properties`, every property is written: not modelled either.
   */
  set_security_user(config, doc) {
    checkOptions("set_security_user", config, ["field", "properties"], ["field", "properties"]);
    const field = stringOption("set_security_user", config, "field");
    const properties = config.properties;
    if (!Array.isArray(properties) || properties.some((property) => property !== "api_key" && property !== "username")) {
      throw new UnsupportedByModel(`set_security_user: only the properties username and api_key are modelled, not ${JSON.stringify(properties)}`);
    }
    const existing = doc.has(field) ? doc.get(field) : undefined;
    const user: JsonObject = isObject(existing) ? existing : {};
    const auth = doc.authentication;
    for (const property of properties as string[]) {
      // A realm user's principal; an API key authenticates as its owner (Authentication.getEffectiveSubject().getUser()).
      if (property === "username") user.username = auth.type === "realm" ? auth.username : auth.owner;
      if (property === "api_key" && auth.type === "api_key") {
        const previous = user.api_key;
        const apiKey: JsonObject = isObject(previous) ? previous : {};
        apiKey.name = auth.name;
        apiKey.id = auth.id;
        if (Object.keys(auth.metadata).length > 0) apiKey.metadata = deepCopy(auth.metadata as Json);
        user.api_key = apiKey;
      }
    }
    doc.set(field, user);
  },

  /**
   * elastic/elasticsearch modules/ingest-common/src/main/java/org/elasticsearch/ingest/common/FailProcessor.java: the
   * message template rendered, thrown as FailProcessorException (the model reports it as its other failures).
   */
  fail(config, doc) {
    checkOptions("fail", config, ["message"], ["message"]);
    // A template, as FailProcessor.Factory reads it (ConfigurationUtils.compileTemplate).
    if (typeof config.message !== "string" || config.message === "") throw new UnsupportedByModel('fail: "message" must be a non-empty string');
    throw new ProcessorError(renderTemplate(config.message, doc));
  },

  /**
   * elastic/elasticsearch modules/ingest-common/src/main/java/org/elasticsearch/ingest/common/DotExpanderProcessor.java
   * (field, override; `path` is not modelled): a root key with a dot (`indexOf('.') > 0`; field `*` takes every such
   * root key, else the one named) is removed and its value put at the path it names. When that path exists already,
   * `override: true` sets it (setFieldValue), `false` appends to it (appendFieldValue: the values become a list); when
   * it does not, a prefix of it that holds a value, not an object, fails ("cannot expand [p], because [q] is not an
   * object field, but a value field"), else the path is set, missing objects made. Refused: a key with an empty
   * segment (`a..b`, `a.`: IngestDocument's Java split is not modelled) and, with `*`, two dotted keys where one is a
   * prefix of the other (the result then depends on HashMap's key order).
   */
  dot_expander(config, doc) {
    checkOptions("dot_expander", config, ["field", "override"], ["field"]);
    const field = stringOption("dot_expander", config, "field");
    const override = booleanOption("dot_expander", config, "override", false);
    if (field !== "*" && (!field.includes(".") || field.startsWith(".") || field.endsWith(".")))
      throw new UnsupportedByModel(`dot_expander: field ${JSON.stringify(field)} (Elasticsearch refuses the pipeline)`);
    const keys = field === "*" ? Object.keys(doc.source).filter((key) => key.indexOf(".") > 0) : [field];
    for (const key of keys) {
      if (key.split(".").some((segment) => segment === "")) throw new UnsupportedByModel(`dot_expander: the key ${JSON.stringify(key)} has an empty segment`);
      if (keys.some((other) => other !== key && other.startsWith(`${key}.`)))
        throw new UnsupportedByModel(`dot_expander: ${JSON.stringify(key)} is a prefix of another dotted key: the expansion order (HashMap's) is not modelled`);
    }
    for (const key of keys) {
      if (!(key in doc.source)) continue;
      const value = doc.source[key]!;
      delete doc.source[key];
      if (doc.has(key)) {
        if (override) doc.set(key, value);
        else {
          // IngestDocument.appendFieldValue (allowDuplicates): the existing value and the new one(s) in one list.
          const existing = doc.get(key);
          doc.set(key, [...(Array.isArray(existing) ? existing : [existing]), ...(Array.isArray(value) ? value : [value])]);
        }
        continue;
      }
      const segments = key.split(".");
      for (let end = 1; end < segments.length; end++) {
        const partial = segments.slice(0, end).join(".");
        if (!doc.has(partial)) break;
        if (!isObject(doc.get(partial))) {
          // The value stays removed: the processor fails, and the document goes to the failure store as it arrived.
          throw new ProcessorError(`cannot expand [${key}], because [${partial}] is not an object field, but a value field`);
        }
      }
      doc.set(key, value);
    }
  },

  remove(config, doc) {
    checkOptions("remove", config, ["field", "ignore_missing"], ["field"]);
    const fields = Array.isArray(config.field) ? config.field : [config.field];
    const ignoreMissing = booleanOption("remove", config, "ignore_missing", false);
    for (const field of fields) {
      const path = stringOption("remove", { field }, "field");
      if (ignoreMissing && !doc.has(path)) continue;
      doc.remove(path);
    }
  },

  rename(config, doc) {
    checkOptions("rename", config, ["field", "target_field", "ignore_missing"], ["field", "target_field"]);
    const field = stringOption("rename", config, "field");
    const target = stringOption("rename", config, "target_field");
    if (!doc.has(field)) {
      if (booleanOption("rename", config, "ignore_missing", false)) return;
      throw new ProcessorError(`field [${field}] doesn't exist`);
    }
    if (doc.has(target)) throw new ProcessorError(`field [${target}] already exists`);
    const value = doc.get(field);
    doc.remove(field);
    try {
      doc.set(target, value);
    } catch (error) {
      doc.set(field, value);
      throw error;
    }
  },

  lowercase(config, doc) {
    checkOptions("lowercase", config, ["field", "target_field", "ignore_missing"], ["field"]);
    const field = stringOption("lowercase", config, "field");
    const target = config.target_field === undefined ? field : stringOption("lowercase", config, "target_field");
    const ignoreMissing = booleanOption("lowercase", config, "ignore_missing", false);
    const value = doc.has(field) ? doc.get(field) : undefined;
    if (value === undefined || value === null) {
      if (ignoreMissing) return;
      throw new ProcessorError(value === null ? `field [${field}] is null, cannot process it.` : `field [${field}] not present as part of path [${field}]`);
    }
    const lower = (item: Json): string => {
      if (typeof item !== "string") throw new ProcessorError(`field [${field}] of type [${javaType(item)}] cannot be cast to [java.lang.String]`);
      return item.toLocaleLowerCase("en-US");
    };
    doc.set(target, Array.isArray(value) ? value.map(lower) : lower(value));
  },

  trim(config, doc) {
    checkOptions("trim", config, ["field", "target_field", "ignore_missing"], ["field"]);
    const field = stringOption("trim", config, "field");
    const target = config.target_field === undefined ? field : stringOption("trim", config, "target_field");
    const ignoreMissing = booleanOption("trim", config, "ignore_missing", false);
    const value = doc.has(field) ? doc.get(field) : undefined;
    if (value === undefined || value === null) {
      if (ignoreMissing) return;
      throw new ProcessorError(value === null ? `field [${field}] is null, cannot process it.` : `field [${field}] not present as part of path [${field}]`);
    }
    // Java String.trim: every char up to U+0020 at both ends.
    const trim = (item: Json): string => {
      if (typeof item !== "string") throw new ProcessorError(`field [${field}] of type [${javaType(item)}] cannot be cast to [java.lang.String]`);
      // eslint-disable-next-line no-control-regex -- Java's String.trim() strips every char up to U+0020
      return item.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
    };
    doc.set(target, Array.isArray(value) ? value.map(trim) : trim(value));
  },

  append(config, doc) {
    checkOptions("append", config, ["field", "value", "allow_duplicates"], ["field", "value"]);
    const field = stringOption("append", config, "field");
    const allowDuplicates = booleanOption("append", config, "allow_duplicates", true);
    const rendered = renderValue(config.value, doc);
    const values = Array.isArray(rendered) ? rendered : [rendered];
    const existing = doc.has(field) ? doc.get(field) : undefined;
    const list: Json[] = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    for (const value of values) {
      if (allowDuplicates || !list.some((item) => equalityKey(item) === equalityKey(value))) list.push(value);
    }
    doc.set(field, list);
  },

  convert(config, doc) {
    // modules/ingest-common/.../ConvertProcessor.java: Type.STRING converts with value.toString(); Type.LONG reads
    // value.toString() with Long.parseLong (Long.decode for a `0x`/`-0x` prefix, refused here), and fails with
    // "unable to convert [v] to long" (an IllegalArgumentException: the field is left as it was, since
    // setFieldValue runs only after a successful conversion). A list converts element by element. Only `string`
    // and `long` are modelled.
    checkOptions("convert", config, ["field", "target_field", "type", "ignore_missing"], ["field", "type"]);
    if (config.type !== "string" && config.type !== "long")
      throw new UnsupportedByModel(`convert: type ${JSON.stringify(config.type)} is not modelled (only string and long)`);
    const convertOne = config.type === "string" ? javaToString : javaParseLong;
    const field = stringOption("convert", config, "field");
    const target = config.target_field === undefined ? field : stringOption("convert", config, "target_field");
    const value = doc.has(field) ? doc.get(field) : undefined;
    if (value === undefined || value === null) {
      if (booleanOption("convert", config, "ignore_missing", false)) return;
      throw new ProcessorError(
        value === null ? `Field [${field}] is null, cannot be converted to type [string]` : `field [${field}] not present as part of path [${field}]`,
      );
    }
    doc.set(target, Array.isArray(value) ? value.map(convertOne) : convertOne(value));
  },

  gsub(config, doc) {
    // modules/ingest-common/.../GsubProcessor.java: Pattern.compile(pattern).matcher(value).replaceAll(replacement)
    // on a string (or each string of a list). Java and JavaScript regexes agree on the subset allowed here
    // (classes of ASCII, counted and plain quantifiers, groups, anchors); `$n` in the replacement is a group.
    checkOptions("gsub", config, ["field", "target_field", "pattern", "replacement", "ignore_missing"], ["field", "pattern", "replacement"]);
    const field = stringOption("gsub", config, "field");
    const target = config.target_field === undefined ? field : stringOption("gsub", config, "target_field");
    const pattern = javaRegex("gsub", config.pattern);
    const replacement = config.replacement;
    if (typeof replacement !== "string" || !/^(?:[^$\\]|\$[0-9])*$/.test(replacement))
      throw new UnsupportedByModel(`gsub: replacement ${JSON.stringify(replacement)} is not modelled (text and $n only)`);
    const value = doc.has(field) ? doc.get(field) : undefined;
    if (value === undefined || value === null) {
      if (booleanOption("gsub", config, "ignore_missing", false)) return;
      throw new ProcessorError(value === null ? `field [${field}] is null, cannot process it.` : `field [${field}] not present as part of path [${field}]`);
    }
    const replace = (item: Json): string => {
      if (typeof item !== "string") throw new ProcessorError(`field [${field}] of type [${javaType(item)}] cannot be cast to [java.lang.String]`);
      return item.replace(new RegExp(pattern, "gu"), replacement);
    };
    doc.set(target, Array.isArray(value) ? value.map(replace) : replace(value));
  },

  grok(config, doc) {
    // modules/ingest-common/.../GrokProcessor.java and libs/grok/.../Grok.java: `%{NAME:field}` becomes a named
    // group holding NAME's pattern (from pattern_definitions here); the expression is searched for anywhere in
    // the value (Joni's search, unanchored unless the pattern anchors itself); the first pattern that matches
    // sets each named capture as a string; none matching fails ("Provided Grok expressions do not match field
    // value: [...]"). A capture that did not take part is not set. Only custom pattern_definitions are modelled.
    checkOptions("grok", config, ["field", "patterns", "pattern_definitions", "ignore_missing"], ["field", "patterns"]);
    const field = stringOption("grok", config, "field");
    const definitions = (config.pattern_definitions ?? {}) as Record<string, unknown>;
    const patterns = config.patterns;
    if (!Array.isArray(patterns) || patterns.length === 0) throw new UnsupportedByModel("grok: patterns must be a non-empty list");
    const value = doc.has(field) ? doc.get(field) : undefined;
    if (value === undefined || value === null) {
      if (booleanOption("grok", config, "ignore_missing", false)) return;
      throw new ProcessorError(value === null ? `field [${field}] is null, cannot process it.` : `field [${field}] not present as part of path [${field}]`);
    }
    if (typeof value !== "string") throw new ProcessorError(`field [${field}] of type [${javaType(value)}] cannot be cast to [java.lang.String]`);
    for (const grokPattern of patterns) {
      if (typeof grokPattern !== "string") throw new UnsupportedByModel("grok: a pattern must be a string");
      const fields: string[] = [];
      const expanded = grokPattern.replace(/%\{([A-Z0-9_]+):([A-Za-z0-9_.@]+)\}/g, (_whole, name: string, target: string) => {
        const definition = definitions[name];
        if (typeof definition !== "string") throw new UnsupportedByModel(`grok: pattern %{${name}} is not among the modelled pattern_definitions`);
        fields.push(target);
        return `(${javaRegex("grok", definition)})`;
      });
      if (expanded.includes("%{"))
        throw new UnsupportedByModel(`grok: ${JSON.stringify(grokPattern)} uses a pattern form that is not modelled (only %{NAME:field})`);
      const match = new RegExp(javaRegex("grok", expanded), "u").exec(value);
      if (!match) continue;
      fields.forEach((target, index) => {
        const captured = match[index + 1];
        if (captured !== undefined) doc.set(target, captured);
      });
      return;
    }
    throw new ProcessorError(`Provided Grok expressions do not match field value: [${value}]`);
  },

  date(config, doc) {
    checkOptions("date", config, ["field", "target_field", "formats", "timezone", "output_format"], ["field", "formats"]);
    const field = stringOption("date", config, "field");
    const target = config.target_field === undefined ? "@timestamp" : stringOption("date", config, "target_field");
    if (config.timezone !== undefined && config.timezone !== "UTC")
      throw new UnsupportedByModel(`date: timezone ${JSON.stringify(config.timezone)} is not modelled (only UTC)`);
    const outputFormat = config.output_format === undefined ? "yyyy-MM-dd'T'HH:mm:ss.SSSXXX" : config.output_format;
    const digits = typeof outputFormat === "string" ? OUTPUT_FORMATS[outputFormat] : undefined;
    if (digits === undefined) throw new UnsupportedByModel(`date: output_format ${JSON.stringify(outputFormat)} is not modelled`);
    const formats = config.formats;
    if (!Array.isArray(formats) || formats.length === 0) throw new UnsupportedByModel("date: formats must be a non-empty list");
    const parsers = formats.map((format) => {
      if (format === "ISO8601") return parseIso8601;
      if (format === "UNIX") return parseUnix;
      if (format === "epoch_second") return parseEpochSecond;
      throw new UnsupportedByModel(`date: format ${JSON.stringify(format)} is not modelled`);
    });
    const raw = doc.get(field);
    // DateProcessor.execute: the value's toString() (a Double prints as Double.toString: 1.7650870801234567E9).
    const text = raw === null ? null : javaToString(raw);
    for (const parse of parsers) {
      if (text === null) break;
      try {
        doc.set(target, formatInstant(parse(text), digits));
        return;
      } catch (error) {
        if (!(error instanceof ProcessorError)) throw error;
      }
    }
    throw new ProcessorError(`unable to parse date [${text}]`);
  },
};

// ---------------------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------------------

interface Failure {
  message: string;
  processorType: string;
  processorTag: string | undefined;
}

class ProcessorFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

function runHandlers(handlers: unknown, failure: Failure, doc: Document): void {
  if (!Array.isArray(handlers) || handlers.length === 0) throw new UnsupportedByModel("on_failure must be a non-empty list");
  const previous = { ...doc.ingest };
  doc.ingest.on_failure_message = failure.message;
  doc.ingest.on_failure_processor_type = failure.processorType;
  doc.ingest.on_failure_processor_tag = failure.processorTag ?? null;
  try {
    for (const handler of handlers) runProcessor(handler, doc);
  } finally {
    for (const key of ["on_failure_message", "on_failure_processor_type", "on_failure_processor_tag"]) {
      if (key in previous) doc.ingest[key] = previous[key]!;
      else delete doc.ingest[key];
    }
  }
}

function runProcessor(container: unknown, doc: Document): void {
  if (!isObject(container) || Object.keys(container).length !== 1)
    throw new UnsupportedByModel(`a processor must be an object with one key: ${JSON.stringify(container)}`);
  const [type, rawConfig] = Object.entries(container)[0]!;
  const implementation = PROCESSORS[type];
  if (!implementation) throw new UnsupportedByModel(`processor "${type}" is not modelled`);
  if (!isObject(rawConfig)) throw new UnsupportedByModel(`${type}: configuration must be an object`);
  const config = rawConfig as ProcessorConfig;
  if (config.if !== undefined && !evaluateCondition(config.if, doc)) return;
  try {
    implementation(config, doc);
  } catch (error) {
    // Anything but a processor's own error (UnsupportedByModel, a bug in this model) propagates.
    if (!(error instanceof ProcessorError)) throw error;
    const failure: Failure = { message: error.message, processorType: type, processorTag: typeof config.tag === "string" ? config.tag : undefined };
    if (booleanOption(type, config, "ignore_failure", false)) return;
    if (config.on_failure !== undefined) {
      try {
        runHandlers(config.on_failure, failure, doc);
      } catch (handlerError) {
        if (handlerError instanceof ProcessorError) {
          throw new ProcessorFailed({ message: handlerError.message, processorType: type, processorTag: failure.processorTag });
        }
        throw handlerError;
      }
      return;
    }
    throw new ProcessorFailed(failure);
  }
}

export interface PipelineDefinition {
  description?: string;
  processors?: unknown[];
  on_failure?: unknown[];
  version?: number;
  _meta?: unknown;
}

export interface SimulationResult {
  /** The document as it would be indexed. */
  source: Record<string, unknown>;
}

/**
 * Runs `pipeline` over a copy of `source`. Returns the document to be indexed, or throws
 * `PipelineFailure` when Elasticsearch would reject it, `UnsupportedByModel` when the pipeline uses
 * something this model does not implement.
 */
export function simulatePipeline(
  pipeline: PipelineDefinition,
  source: Record<string, unknown>,
  now = new Date(),
  authentication: Authentication = DEFAULT_AUTHENTICATION,
): SimulationResult {
  return { source: toPlain(runPipeline(pipeline, source, now, authentication)) as Record<string, unknown> };
}

/** The pipeline run, the document in the model's own form (JavaNumber kept, for the mapping step). */
function runPipeline(pipeline: PipelineDefinition, source: Record<string, unknown>, now: Date, authentication?: Authentication): JsonObject {
  for (const key of Object.keys(pipeline)) {
    if (!["description", "processors", "on_failure", "version", "_meta"].includes(key))
      throw new UnsupportedByModel(`pipeline option "${key}" is not modelled`);
  }
  const doc = new Document(deepCopy(source as Json) as JsonObject, now, authentication);
  try {
    for (const processor of pipeline.processors ?? []) runProcessor(processor, doc);
  } catch (error) {
    if (!(error instanceof ProcessorFailed)) throw error;
    if (pipeline.on_failure === undefined) throw new PipelineFailure(error.failure.message, error.failure.processorType, error.failure.processorTag);
    try {
      runHandlers(pipeline.on_failure, error.failure, doc);
    } catch (handlerError) {
      if (handlerError instanceof ProcessorFailed || handlerError instanceof ProcessorError) {
        throw new PipelineFailure(handlerError.message, error.failure.processorType, error.failure.processorTag);
      }
      throw handlerError;
    }
  }
  return doc.source;
}

/** One path step into an array by index, with Elasticsearch's messages; anything else cannot be walked into. */
function arrayElement(context: Json, key: string, path: string): Json {
  if (!Array.isArray(context)) throw new ProcessorError(`cannot resolve [${key}] from object of type [${javaType(context)}] as part of path [${path}]`);
  if (!/^-?\d+$/.test(key)) throw new ProcessorError(`[${key}] is not an integer, cannot be used as an index as part of path [${path}]`);
  const index = Number(key);
  if (index < 0 || index >= context.length)
    throw new ProcessorError(`[${index}] is out of bounds for array with length [${context.length}] as part of path [${path}]`);
  return context[index]!;
}

// ---------------------------------------------------------------------------------------------
// Mapping: what Elasticsearch does with the document after the pipeline
// ---------------------------------------------------------------------------------------------

/** A mapping property as the template writes it (the subset of estypes.MappingProperty read here). */
interface Property {
  type?: string;
  properties?: Record<string, Property>;
  value?: unknown;
  ignore_above?: number;
  depth_limit?: number;
  fields?: Record<string, Property>;
  [key: string]: unknown;
}

interface Mappings {
  dynamic?: boolean | string;
  date_detection?: boolean;
  dynamic_templates?: Partial<Record<string, { match_mapping_type?: string | string[]; mapping?: unknown; [key: string]: unknown }>>[];
  properties?: Record<string, Property>;
  [key: string]: unknown;
}

/** An index template body (PUT _index_template), as the renderer returns it; read through `TemplateParts`. */
export interface TemplateDefinition {
  data_stream?: unknown;
  template?: object;
}

/** index.mode of a template's settings, nested (`{index: {mode}}`) or flat (`"index.mode"`, `mode`); undefined when unset. */
/** The template's `index.final_pipeline`, in either the nested or the flat settings form. */
function templateFinalPipeline(template: TemplateDefinition): string | undefined {
  const settings = (template.template as { settings?: Record<string, unknown> } | undefined)?.settings;
  const index = settings?.index as Record<string, unknown> | undefined;
  const value = index?.final_pipeline ?? settings?.["index.final_pipeline"];
  return typeof value === "string" ? value : undefined;
}

function templateIndexMode(template: TemplateDefinition): string | undefined {
  const settings = (template.template as { settings?: Record<string, unknown> } | undefined)?.settings;
  if (!settings) return undefined;
  const nested = settings.index as Record<string, unknown> | undefined;
  const value = nested?.mode ?? settings["index.mode"] ?? settings.mode;
  return value === undefined || value === null ? undefined : String(value);
}

/** The parts of the template this model reads. */
interface TemplateParts {
  mappings?: Mappings;
  data_stream_options?: { failure_store?: { enabled?: boolean | null } | null } | null;
}

export interface MappingRejection {
  type: string;
  /** Abridged: the field, its type and the cause, not Elasticsearch's exact text (positions, previews). */
  reason: string;
}

/** Lucene's IndexWriter.MAX_TERM_LENGTH, in UTF-8 bytes. */
const MAX_TERM_BYTES = 32766;
/** FlattenedFieldMapper's default depth_limit. */
const FLATTENED_DEPTH_LIMIT = 20;
const TEXT_TYPES = new Set(["keyword", "constant_keyword", "wildcard", "match_only_text", "text"]);
const MODELLED_TYPES = new Set([...TEXT_TYPES, "long", "float", "boolean", "date", "date_nanos", "flattened", "object"]);

class Rejected extends Error {
  constructor(readonly rejection: MappingRejection) {
    super(rejection.reason);
  }
}

function reject(path: string, type: string, cause: string): never {
  throw new Rejected({ type: "document_parsing_exception", reason: `failed to parse field [${path}] of type [${type}]: ${cause}` });
}

const utf8Bytes = (text: string) => Buffer.byteLength(text, "utf8");

/**
 * Date parsing as a date/date_nanos field without a `format` does: `strict_date_optional_time`
 * (`strict_date_optional_time_nanos` for date_nanos; four-digit year, `T` separator, optional offset)
 * or `epoch_millis` (server/.../index/mapper/DateFieldMapper.java, DEFAULT_DATE_TIME_FORMATTER and
 * DEFAULT_DATE_TIME_NANOS_FORMATTER). Returns nanoseconds since the epoch.
 */
function parseDateValue(path: string, type: string, value: Json): bigint {
  if (value instanceof JavaNumber) {
    if (value.javaClass !== "Double") throw new UnsupportedByModel(`a ${value.javaClass} epoch_millis value at ${path} is not modelled`);
    return parseDateValue(path, type, value.double);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) reject(path, type, `failed to parse date field [${value}] with format [epoch_millis]`);
    return BigInt(Math.trunc(value)) * NANOS_PER_MS + BigInt(Math.round((value - Math.trunc(value)) * 1e6));
  }
  if (typeof value !== "string") reject(path, type, `failed to parse date field [${JSON.stringify(value)}]`);
  if (/^-?\d+(\.\d+)?$/.test(value)) return parseDateValue(path, type, Number(value));
  try {
    return parseMappingDate(value);
  } catch {
    reject(path, type, `failed to parse date field [${value}] with format [strict_date_optional_time${type === "date_nanos" ? "_nanos" : ""}||epoch_millis]`);
  }
}

/**
 * Checks a document against a template's mappings as Elasticsearch's document parser would, and
 * learns dynamic mappings into `learned` (one data stream's mapping grows across documents).
 * Where each rule lives in elastic/elasticsearch:
 * - An object mapping given a concrete value: server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java
 *   ("object mapping for [x] tried to parse field [x] as object, but found a concrete value").
 * - A concrete field given an object: FieldMapper.parse / rethrowAsDocumentParsingException
 *   (server/.../index/mapper/FieldMapper.java); keyword (KeywordFieldMapper.java: ignore_above skips,
 *   a longer term than 32766 bytes fails), wildcard (x-pack/plugin/wildcard/.../WildcardFieldMapper.java),
 *   match_only_text (modules/mapper-extras/.../MatchOnlyTextFieldMapper.java) read text, numbers and
 *   booleans as text and refuse objects.
 * - constant_keyword (x-pack/plugin/mapper-constant-keyword/.../ConstantKeywordFieldMapper.java): a
 *   value other than the mapped one fails; with none mapped, the first value becomes it.
 * - long/float (server/.../index/mapper/NumberFieldMapper.java): numbers, and numeric strings
 *   (coerce, on by default; a long truncates a fraction); anything else fails, as do values out of
 *   a long's range.
 * - date, date_nanos (DateFieldMapper.java): see parseDateValue; date_nanos also refuses instants
 *   before 1970 or after 2262-04-11T23:47:16.854775807Z (server/.../common/time/DateUtils.java, toLong).
 * - flattened (server/.../index/mapper/flattened/FlattenedFieldParser.java): the value must be an
 *   object (arrays of objects too); a nested object deeper than depth_limit (default 20,
 *   FlattenedFieldMapper.java) fails; a key with \0 fails; a leaf longer than ignore_above
 *   (characters) is skipped, else its keyed form (key, \0, value) over 32766 UTF-8 bytes fails.
 * - Unmapped fields (DocumentParser + DynamicFieldsBuilder.java, `dynamic: true`): strings that
 *   read as strict_date_optional_time become `date` (date_detection on by default), else the first
 *   matching dynamic template by match_mapping_type; numbers `long`/`float`, booleans `boolean`,
 *   objects `object`. Later values must fit what was learned.
 * - A data stream's documents need `@timestamp` (DataStreamTimestampFieldMapper.java).
 * - `dynamic: false` (at the root or on an object, inherited by sub-objects): unmapped fields are skipped (parseObject).
 * Not modelled (refused): other field types, `dynamic` strict or runtime, runtime fields, copy_to,
 * match/path_match in dynamic templates.
 */
export function mappingRejection(
  mappingsBody: object,
  source: Record<string, unknown>,
  learned: Map<string, Property> = new Map(),
  indexed?: Map<string, unknown[]>,
): MappingRejection | undefined {
  const mappings = mappingsBody as Mappings;
  const dynamic = dynamicSetting(mappings.dynamic, true, "");
  indexedValues = indexed;
  try {
    if (source["@timestamp"] === undefined || source["@timestamp"] === null) {
      throw new Rejected({ type: "document_parsing_exception", reason: "data stream timestamp field [@timestamp] is missing" });
    }
    parseObject(mappings, mappings.properties ?? {}, source as JsonObject, "", learned, dynamic);
    return undefined;
  } catch (error) {
    if (error instanceof Rejected) return error.rejection;
    throw error;
  } finally {
    indexedValues = undefined;
  }
}

/**
 * Where the parse running now records what each mapped leaf field indexes (field path -> values, in document order):
 * what a search, a terms aggregation or an alert's query sees of the document, whatever its _source looks like.
 * Set by mappingRejection for one parse (the model is synchronous); undefined when the caller does not ask.
 */
let indexedValues: Map<string, unknown[]> | undefined;

function recordIndexed(path: string, value: Json): void {
  if (!indexedValues) return;
  const values = indexedValues.get(path) ?? [];
  values.push(toPlain(value));
  indexedValues.set(path, values);
}

/**
 * An object's `dynamic`: `true` or `false` (modelled), inherited when unset (ObjectMapper: a sub-object without its own
 * `dynamic` takes its parent's). `strict` and `runtime` are not modelled.
 */
function dynamicSetting(value: unknown, inherited: boolean, path: string): boolean {
  if (value === undefined) return inherited;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new UnsupportedByModel(`dynamic: ${String(value)}${path ? ` (at ${path})` : ""} is not modelled`);
}

function parseObject(
  mappings: Mappings,
  properties: Record<string, Property>,
  value: JsonObject,
  prefix: string,
  learned: Map<string, Property>,
  dynamic = true,
): void {
  for (const [key, child] of Object.entries(value)) {
    if (key.includes(".")) {
      // A field name with dots is read as the objects it names (server/src/main/java/org/elasticsearch/index/mapper/
      // DotExpandingXContentParser.java: `"a.b.c": v` is parsed as `"a": {"b": {"c": v}}`), next to any `a` object the
      // document also has: both go through the same mappers, so a field gets the values of both
      // (server/src/test/java/org/elasticsearch/index/mapper/DocumentParserTests.java, testDotsWithExistingMapper:
      // `foo.bar.baz`, `foo: {bar.baz}` and `foo.bar: {baz}` index three values in foo.bar.baz). Names with an empty
      // or blank segment (rejected, or kept whole for one trailing dot) and `subobjects: false` are not modelled.
      const segments = key.split(".");
      if (segments.some((segment) => segment.trim() === ""))
        throw new UnsupportedByModel(`field name [${prefix}${key}] with an empty or blank segment is not modelled`);
      const [head, ...rest] = segments as [string, ...string[]];
      const expanded: JsonObject = {};
      defineKey(expanded, rest.join("."), child);
      parseObject(mappings, properties, Object.defineProperty({}, head, { value: expanded, enumerable: true }) as JsonObject, prefix, learned, dynamic);
      continue;
    }
    const path = `${prefix}${key}`;
    const property = properties[key] ?? learned.get(path);
    if (property) parseField(mappings, property, child, path, learned, dynamic);
    // `dynamic: false` (server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java: an unmapped object is
    // skipped with everything under it, an unmapped value is not indexed; no dynamic mapper is made): the field stays
    // in _source only, nothing is checked, nothing is learned.
    else if (dynamic) parseDynamic(mappings, child, path, learned);
  }
}

function parseField(mappings: Mappings, property: Property, value: Json, path: string, learned: Map<string, Property>, dynamic = true): void {
  if (value === null) return;
  const type = property.type ?? (property.properties ? "object" : "object");
  if (!MODELLED_TYPES.has(type)) throw new UnsupportedByModel(`mapping type ${type} (at ${path}) is not modelled`);
  if (Array.isArray(value)) {
    for (const item of value) parseField(mappings, property, item, path, learned, dynamic);
    return;
  }
  if (type === "object") {
    if (!isObject(value)) {
      throw new Rejected({
        type: "document_parsing_exception",
        reason: `object mapping for [${path}] tried to parse field [${path.split(".").pop()}] as object, but found a concrete value`,
      });
    }
    parseObject(mappings, property.properties ?? {}, value, `${path}.`, learned, dynamicSetting(property.dynamic, dynamic, path));
    return;
  }
  if (type === "flattened") return parseFlattened(property, value, path);
  if (isObject(value)) reject(path, type, "Can't get text on a START_OBJECT");
  if (TEXT_TYPES.has(type)) {
    const text = isNumber(value) ? javaNumberText(value) : String(value);
    if (type === "constant_keyword") {
      const expected = property.value ?? learned.get(`${path}#constant`)?.value;
      if (expected === undefined) learned.set(`${path}#constant`, { value: text });
      else if (String(expected) !== text) {
        throw new Rejected({
          type: "document_parsing_exception",
          reason: `[constant_keyword] field [${path}] only accepts values that are equal to the value defined in the mappings [${String(expected)}], but got [${text}]`,
        });
      }
    }
    if (type === "keyword" && (property.ignore_above === undefined || text.length <= property.ignore_above) && utf8Bytes(text) > MAX_TERM_BYTES) {
      throw new Rejected({
        type: "document_parsing_exception",
        reason: `Document contains at least one immense term in field="${path}" (whose UTF8 encoding is longer than the max length ${MAX_TERM_BYTES})`,
      });
    }
    // A keyword longer than ignore_above stays in _source only (KeywordFieldMapper); the others index their text.
    if (!(type === "keyword" && property.ignore_above !== undefined && text.length > property.ignore_above)) recordIndexed(path, text);
    return;
  }
  if (type === "long" || type === "float") {
    if (value instanceof JavaNumber && value.javaClass !== "Double") {
      if (type === "long" && value.javaClass === "BigInteger") reject(path, type, `Value [${value.integer}] is out of range for a long`);
      if (type === "long") return recordIndexed(path, value);
      throw new UnsupportedByModel(`a ${value.javaClass} in a ${type} field (${path}) is not modelled`);
    }
    const number = isNumber(value)
      ? value instanceof JavaNumber
        ? value.double
        : value
      : typeof value === "string" && value.trim() !== ""
        ? Number(value)
        : Number.NaN;
    if (typeof value === "boolean" || Number.isNaN(number)) reject(path, type, `For input string: "${String(value)}"`);
    if (type === "long" && (number >= 2 ** 63 || number < -(2 ** 63)))
      reject(path, type, `Value [${isNumber(value) ? javaNumberText(value) : String(value)}] is out of range for a long`);
    recordIndexed(path, value);
    return;
  }
  if (type === "boolean") {
    if (!(typeof value === "boolean" || value === "true" || value === "false" || value === ""))
      reject(path, type, `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`);
    recordIndexed(path, value);
    return;
  }
  // date, date_nanos
  const nanos = parseDateValue(path, type, value);
  if (type === "date_nanos") {
    if (nanos < 0n) reject(path, type, `date[${String(value)}] is before the epoch in 1970 and cannot be stored in nanosecond resolution`);
    if (nanos > LONG_MAX) reject(path, type, `date[${String(value)}] is after 2262-04-11T23:47:16.854775807 and cannot be stored in nanosecond resolution`);
  }
  recordIndexed(path, value);
}

function parseFlattened(property: Property, value: Json, path: string): void {
  if (!isObject(value))
    reject(
      path,
      "flattened",
      `Failed to parse object: expecting token of type [START_OBJECT] but found [${typeof value === "string" ? "VALUE_STRING" : typeof value === "boolean" ? "VALUE_BOOLEAN" : "VALUE_NUMBER"}]`,
    );
  const depthLimit = typeof property.depth_limit === "number" ? property.depth_limit : FLATTENED_DEPTH_LIMIT;
  const ignoreAbove = typeof property.ignore_above === "number" ? property.ignore_above : Number.MAX_SAFE_INTEGER;
  const walk = (object: JsonObject, keys: string[]): void => {
    for (const [key, child] of Object.entries(object)) visit(child, keys, key);
  };
  const visit = (child: Json, keys: string[], key: string): void => {
    if (child === null) return;
    if (Array.isArray(child)) {
      for (const item of child) visit(item, keys, key);
    } else if (isObject(child)) {
      const nested = [...keys, key];
      if (nested.length + 1 > depthLimit) {
        throw new Rejected({
          type: "document_parsing_exception",
          reason: `The provided [flattened] field [${path}] exceeds the maximum depth limit of [${depthLimit}].`,
        });
      }
      walk(child, nested);
    } else {
      const fullKey = [...keys, key].join(".");
      if (fullKey.includes("\0")) {
        throw new Rejected({
          type: "document_parsing_exception",
          reason: `Keys in [flattened] fields cannot contain the reserved character \\0. Offending key: [${fullKey}].`,
        });
      }
      const text = isNumber(child) ? javaNumberText(child) : String(child);
      if (text.length > ignoreAbove) return;
      if (utf8Bytes(`${fullKey}\0${text}`) > MAX_TERM_BYTES) {
        throw new Rejected({
          type: "document_parsing_exception",
          reason: `Flattened field [${path}] contains one immense field whose keyed encoding is longer than the allowed max length of ${MAX_TERM_BYTES} bytes.`,
        });
      }
    }
  };
  walk(value, []);
}

const STRICT_DATE_OPTIONAL_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function parseDynamic(mappings: Mappings, value: Json, path: string, learned: Map<string, Property>): void {
  if (value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) {
      const known = learned.get(path);
      if (known) parseField(mappings, known, item, path, learned);
      else parseDynamic(mappings, item, path, learned);
    }
    return;
  }
  let matchType: string;
  if (isObject(value)) matchType = "object";
  else if (typeof value === "string") matchType = mappings.date_detection !== false && STRICT_DATE_OPTIONAL_TIME.test(value) ? "date" : "string";
  else if (typeof value === "boolean") matchType = "boolean";
  else if (value instanceof JavaNumber) {
    if (value.javaClass === "BigInteger") throw new UnsupportedByModel(`dynamic mapping of a BigInteger (${path}) is not modelled`);
    matchType = value.javaClass === "Double" ? "double" : "long";
  } else matchType = Number.isInteger(value) ? "long" : "double";
  let property: Property | undefined;
  for (const entry of mappings.dynamic_templates ?? []) {
    const [name, template] = Object.entries(entry)[0]!;
    if (!template) continue;
    const conditions = Object.keys(template).filter((key) => key !== "mapping");
    if (conditions.some((key) => key !== "match_mapping_type") || typeof template.match_mapping_type !== "string") {
      throw new UnsupportedByModel(`dynamic template ${name}: only a single match_mapping_type is modelled`);
    }
    if (template.match_mapping_type === matchType || template.match_mapping_type === "*") {
      property = { ...((template.mapping as Property | undefined) ?? {}) };
      break;
    }
  }
  property ??= { type: { object: "object", date: "date", string: "text", boolean: "boolean", long: "long", double: "float" }[matchType]! };
  if (property.type === "text") throw new UnsupportedByModel(`a dynamically mapped string at ${path} (text + keyword) is not modelled`);
  learned.set(path, property);
  parseField(mappings, property, value, path, learned);
}

// ---------------------------------------------------------------------------------------------
// Indexing into a data stream, with or without its failure store
// ---------------------------------------------------------------------------------------------

export interface FailureDocument {
  /** The failure document's own time: when the failure happened. */
  "@timestamp": string;
  document: { index: string; source: Record<string, unknown> };
  error: { type: string; message: string; pipeline?: string; processor_type?: string; processor_tag?: string };
}

/**
 * What the bulk `create` item answers (elastic/elasticsearch server/src/main/java/org/elasticsearch/action/bulk/
 * BulkItemResponse.java; the failure store's part: action/bulk/IndexDocFailureStoreStatus.java, shown only when
 * `used`, `not_enabled` or `failed`). A document kept in the failure store is a success, 201 with
 * `failure_store: "used"`, not the 400 it was before the failure store (GA in 9.1, on by default for new
 * logs-*-* data streams from 9.2, #131261); one refused on a data stream whose failure store is off answers
 * its error's status (400 for both the pipeline's illegal_argument_exception and the mapping's
 * document_parsing_exception) with `failure_store: "not_enabled"`.
 */
export type BulkItemStatus = { status: 201; failure_store?: "used" } | { status: 400; failure_store: "not_enabled" };

export type IngestOutcome =
  | { outcome: "indexed"; source: Record<string, unknown>; fields: Record<string, unknown[]>; answer: BulkItemStatus }
  | { outcome: "failure_store"; stage: "pipeline" | "mapping"; failure: FailureDocument; answer: BulkItemStatus }
  | { outcome: "rejected"; stage: "pipeline" | "mapping"; error: { type: string; message: string }; answer: BulkItemStatus };

/** A pipeline and the id it is stored under. */
export interface NamedPipeline {
  name: string;
  definition: PipelineDefinition;
}

/** What a bulk request says about one document besides the document: who sent it, and the `pipeline` it names. */
export interface IngestRequest {
  /** Who the request authenticated as; DEFAULT_AUTHENTICATION (a native user) unless given. */
  authentication?: Authentication;
  /** The request's `pipeline` parameter: `_none`, or another pipeline in place of the default one. */
  pipeline?: "_none" | NamedPipeline;
}

/**
 * One data stream: its template (mappings, failure store switch), default pipeline and final pipeline, with the
 * mapping it has learned so far. `ingest` is what a bulk `create` of one document does: the request's pipeline (or
 * the default one, unless the request says `_none`), then the final pipeline, which no request can replace or skip
 * (elastic/elasticsearch server/src/main/java/org/elasticsearch/ingest/IngestService.java: resolvePipelines sets the
 * request's pipeline in place of the default one only, the final one from the index settings; executePipelines runs
 * the first, then the final one on the document it left). A failure in either is a pipeline failure (failure store,
 * `error.pipeline` naming the pipeline that failed). Not modelled: a pipeline that changes `_index` (rerouting to another
 * data stream, whose final pipeline would then run), and the final pipeline's `_ingest.pipeline` metadata.
 */
export class SimulatedDataStream {
  private readonly learned = new Map<string, Property>();
  readonly indexed: Record<string, unknown>[] = [];
  /** Per indexed document (same order as `indexed`): each mapped leaf field's indexed values (what searches and aggregations see). */
  readonly indexedFields: Record<string, unknown[]>[] = [];
  readonly failures: FailureDocument[] = [];

  constructor(
    readonly name: string,
    private readonly template: TemplateDefinition,
    private readonly pipeline: PipelineDefinition,
    private readonly pipelineName = "default-pipeline",
    private readonly finalPipeline?: NamedPipeline,
  ) {
    if (template.data_stream === undefined) throw new UnsupportedByModel("the template has no data_stream: not a data stream template");
    const named = templateFinalPipeline(template);
    // The model runs what the template names, or refuses: a final pipeline it would skip would make every test pass.
    if (named !== finalPipeline?.name) {
      throw new UnsupportedByModel(
        `the template's index.final_pipeline is ${JSON.stringify(named)}, the final pipeline given is ${JSON.stringify(finalPipeline?.name)}: give the one it names`,
      );
    }
    const mode = templateIndexMode(template);
    // elastic/elasticsearch x-pack/plugin/logsdb/.../LogsdbIndexModeSettingsProvider.java (getLogsdbModeSetting): a
    // data stream named logs-*-* whose template sets no index.mode gets logsdb when cluster.logsdb.enabled is true,
    // the default on a 9.x cluster without earlier logs-*-* data streams (LogsDBPlugin.java). Which one applies
    // depends on the cluster, so the model refuses to guess.
    if (mode === undefined && /^logs-.*-.*$/.test(name)) {
      throw new UnsupportedByModel(
        `index.mode is unset for ${name}: Elasticsearch 9 makes a logs-*-* data stream logsdb or standard by cluster setting (cluster.logsdb.enabled); pin it`,
      );
    }
    // logsdb changes what the mapping does (index.mapping.ignore_malformed on by default, host.name and @timestamp
    // sorting, synthetic _source where licensed): not modelled.
    if (mode !== undefined && mode !== "standard") throw new UnsupportedByModel(`index.mode ${JSON.stringify(mode)} is not modelled (only standard)`);
  }

  private mappings(): object {
    return (this.template.template as TemplateParts | undefined)?.mappings ?? {};
  }

  /** The dynamic fields the data stream's mapping has learned so far (field path -> mapping): what senders added. */
  get learnedFields(): string[] {
    return [...this.learned.keys()];
  }

  get failureStoreEnabled(): boolean {
    return (this.template.template as TemplateParts | undefined)?.data_stream_options?.failure_store?.enabled === true;
  }

  ingest(source: Record<string, unknown>, now = new Date(), request: IngestRequest = {}): IngestOutcome {
    let processed: JsonObject;
    const first: NamedPipeline | undefined =
      request.pipeline === "_none" ? undefined : (request.pipeline ?? { name: this.pipelineName, definition: this.pipeline });
    let running = first?.name ?? "";
    try {
      processed = first ? runPipeline(first.definition, source, now, request.authentication) : (deepCopy(source as Json) as JsonObject);
      if (this.finalPipeline) {
        running = this.finalPipeline.name;
        // The document as the first pipeline left it, Java number types kept.
        processed = runPipeline(this.finalPipeline.definition, processed as Record<string, unknown>, now, request.authentication);
      }
    } catch (error) {
      if (!(error instanceof PipelineFailure)) throw error;
      const failure: FailureDocument = {
        "@timestamp": now.toISOString(),
        // Pipeline failures keep the document as it arrived (failure-store.md, "Failure document source").
        document: { index: this.name, source: deepCopy(source as Json) as Record<string, unknown> },
        error: {
          type: "illegal_argument_exception",
          message: error.message,
          pipeline: running,
          processor_type: error.processorType,
          ...(error.processorTag ? { processor_tag: error.processorTag } : {}),
        },
      };
      return this.fail("pipeline", failure);
    }
    const fields = new Map<string, unknown[]>();
    const rejection = mappingRejection(this.mappings(), processed, this.learned, fields);
    const plain = toPlain(processed) as Record<string, unknown>;
    if (rejection) {
      // Mapping failures keep the document as the pipeline left it.
      return this.fail("mapping", {
        "@timestamp": now.toISOString(),
        document: { index: this.name, source: plain },
        error: { type: rejection.type, message: rejection.reason },
      });
    }
    this.indexed.push(plain);
    const indexedFields = Object.fromEntries(fields);
    this.indexedFields.push(indexedFields);
    return { outcome: "indexed", source: plain, fields: indexedFields, answer: { status: 201 } };
  }

  private fail(stage: "pipeline" | "mapping", failure: FailureDocument): IngestOutcome {
    if (!this.failureStoreEnabled) {
      return {
        outcome: "rejected",
        stage,
        error: { type: failure.error.type, message: failure.error.message },
        answer: { status: 400, failure_store: "not_enabled" },
      };
    }
    this.failures.push(failure);
    return { outcome: "failure_store", stage, failure, answer: { status: 201, failure_store: "used" } };
  }
}
