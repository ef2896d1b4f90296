/**
 * A small model of Elasticsearch's ingest pipeline execution, for exactly the processors and
 * options the logs pipeline uses. It is a model, not Elasticsearch: it reproduces the documented
 * behaviour (and, where the docs are silent, the behaviour of the server's source: IngestDocument,
 * CompoundProcessor and the processors named below), and it throws `UnsupportedByModel` for any
 * processor, option, condition or template it does not implement, so the pipeline cannot start
 * using something these tests never exercised.
 *
 * Reproduced:
 * - Field paths (IngestDocument, "classic" access): dot-separated keys through objects; reading a
 *   missing key fails with "field [k] not present as part of path [p]"; setting creates missing
 *   parent objects, and fails under a parent that is not an object ("cannot set [k] with parent
 *   object of type [T]", "... with null parent", "[k] is not an integer" for lists); `hasField`
 *   is false through null, scalars and non-numeric list keys.
 * - Failure handling ("Handling pipeline failures"): a failing processor with `ignore_failure`
 *   is skipped; with `on_failure` its handlers run with `_ingest.on_failure_message`,
 *   `_ingest.on_failure_processor_type` and `_ingest.on_failure_processor_tag` set, then the
 *   pipeline continues with the next processor; otherwise the pipeline-level `on_failure` runs
 *   and the remaining processors do not, and the document is indexed as it is then. A failure
 *   with no handler at all rejects the document (`PipelineFailure`).
 * - `if`: only `ctx.a != null` / `ctx.a?.b != null` (Painless null-safe access through objects).
 *   A condition that would read a key of a non-object is refused (`UnsupportedByModel`): Painless
 *   semantics there (list shortcuts, errors) are not modelled.
 * - Templates: only `{{{path}}}` (triple braces, no escaping) in `set`/`append` values.
 * - json (field, target_field): any JSON value is accepted (object, array, string, number,
 *   boolean, null, as the docs say); an empty value parses to null; invalid JSON fails.
 *   NOT modelled: duplicate keys (Elasticsearch fails the line, `allow_duplicate_keys` false),
 *   Jackson's exact error texts, numbers beyond double precision.
 * - set (field, value | copy_from, override), remove (field, ignore_missing), rename (field,
 *   target_field, ignore_missing; fails if the target exists; puts the value back if setting the
 *   target fails), lowercase (field, target_field, ignore_missing; strings or lists of strings),
 *   append (field, value, allow_duplicates).
 * - date (field, target_field, formats ISO8601 and UNIX, timezone UTC, output_format: the default
 *   `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` or the microsecond variant): the value's string form is tried
 *   against each format in order; instants are kept in nanoseconds; UNIX is seconds, truncated to
 *   milliseconds as the server does. ISO8601 here accepts `yyyy-MM-dd[THH[:mm[:ss[.f{1,9}]]]]`
 *   with an optional `Z` / `±HH[:mm]` / `±HHmm` offset (no offset: the timezone, UTC).
 */

export class UnsupportedByModel extends Error {
  constructor(message: string) {
    super(`ingest simulator: ${message}`);
    this.name = "UnsupportedByModel";
  }
}

/** The document was rejected: a processor failed and no on_failure handled it. */
export class PipelineFailure extends Error {
  constructor(message: string, readonly processorType: string) {
    super(message);
    this.name = "PipelineFailure";
  }
}

/** An error a processor raises (Elasticsearch's IllegalArgumentException). */
class ProcessorError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The Java class name Elasticsearch would print for a parsed JSON value. */
function javaType(value: Json): string {
  if (typeof value === "string") return "java.lang.String";
  if (typeof value === "boolean") return "java.lang.Boolean";
  if (typeof value === "number") return Number.isInteger(value) ? (Math.abs(value) <= 2 ** 31 - 1 ? "java.lang.Integer" : "java.lang.Long") : "java.lang.Double";
  if (Array.isArray(value)) return "java.util.ArrayList";
  return "java.util.HashMap";
}

function deepCopy<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------------------------------------
// The document: source plus _ingest metadata, with IngestDocument's path semantics
// ---------------------------------------------------------------------------------------------

class Document {
  readonly ingest: JsonObject;
  constructor(readonly source: JsonObject, now: Date) {
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
      if (index < 0 || index >= parent.length) throw new ProcessorError(`[${index}] is out of bounds for array with length [${parent.length}] as part of path [${path}]`);
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

const CONDITION = /^ctx\.([A-Za-z_@][\w@]*)((?:\?\.[A-Za-z_@][\w@]*)*)\s*!=\s*null$/;

/** `ctx.a?.b?.c != null`, with Painless null-safe access through objects. */
function evaluateCondition(condition: unknown, doc: Document): boolean {
  if (typeof condition !== "string") throw new UnsupportedByModel(`"if" must be an inline script string, got ${JSON.stringify(condition)}`);
  const match = CONDITION.exec(condition.trim());
  if (!match) throw new UnsupportedByModel(`condition ${JSON.stringify(condition)} is outside the modelled subset (ctx.a?.b != null)`);
  const keys = [match[1]!, ...match[2]!.split("?.").filter((key) => key !== "")];
  let value: Json | undefined = doc.source;
  for (const key of keys) {
    if (value === null || value === undefined) return false;
    if (!isObject(value)) throw new UnsupportedByModel(`condition ${JSON.stringify(condition)} reads [${key}] of a ${javaType(value)}: Painless behaviour there is not modelled`);
    value = value[key];
  }
  return value !== null && value !== undefined;
}

/** Renders `{{{path}}}` templates; a whole-value template of a missing field renders as "". */
function renderTemplate(template: string, doc: Document): string {
  if (/\{\{(?!\{)/.test(template.replace(/\{\{\{[^{}]+\}\}\}/g, ""))) {
    throw new UnsupportedByModel(`template ${JSON.stringify(template)}: only {{{path}}} is modelled`);
  }
  return template.replace(/\{\{\{\s*([^{}\s]+)\s*\}\}\}/g, (_all, path: string) => {
    if (!doc.has(path)) return "";
    const value = doc.get(path);
    return typeof value === "string" ? value : JSON.stringify(value);
  });
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

function parseIso8601(text: string): bigint {
  const match = ISO8601.exec(text);
  if (!match) throw new ProcessorError(`failed to parse date field [${text}] with format [iso8601]`);
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", offset = "Z"] = match;
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw new ProcessorError(`failed to parse date field [${text}] with format [iso8601]`);
  }
  let offsetMinutes = 0;
  if (offset !== "Z") {
    const digits = offset.slice(1).replace(":", "");
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0")) * (offset.startsWith("-") ? -1 : 1);
  }
  return BigInt(ms - offsetMinutes * 60_000) * NANOS_PER_MS + BigInt(fraction.padEnd(9, "0") || "0");
}

function parseUnix(text: string): bigint {
  // Double.parseDouble accepts more than this (hex, NaN); structlog writes plain decimals.
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new ProcessorError(`For input string: "${text}"`);
  return BigInt(Math.trunc(Number(text) * 1000)) * NANOS_PER_MS;
}

const OUTPUT_FORMATS: Record<string, number> = {
  "yyyy-MM-dd'T'HH:mm:ss.SSSXXX": 3,
  "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX": 6,
};

function formatInstant(nanos: bigint, fractionDigits: number): string {
  const ms = nanos / NANOS_PER_MS - (nanos % NANOS_PER_MS < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const nanosOfSecond = ((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return `${base}.${nanosOfSecond.toString().padStart(9, "0").slice(0, fractionDigits)}Z`;
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
    const text = raw === null ? "null" : typeof raw === "string" ? raw : JSON.stringify(raw);
    let parsed: Json;
    if (text.trim() === "") {
      parsed = null;
    } else {
      try {
        parsed = JSON.parse(text) as Json;
      } catch (error) {
        throw new ProcessorError(`com.fasterxml.jackson.core.JsonParseException: ${(error as Error).message}`);
      }
    }
    doc.set(target, parsed);
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

  append(config, doc) {
    checkOptions("append", config, ["field", "value", "allow_duplicates"], ["field", "value"]);
    const field = stringOption("append", config, "field");
    const allowDuplicates = booleanOption("append", config, "allow_duplicates", true);
    const rendered = renderValue(config.value, doc);
    const values = Array.isArray(rendered) ? rendered : [rendered];
    const existing = doc.has(field) ? doc.get(field) : undefined;
    const list: Json[] = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    for (const value of values) {
      if (allowDuplicates || !list.some((item) => JSON.stringify(item) === JSON.stringify(value))) list.push(value);
    }
    doc.set(field, list);
  },

  date(config, doc) {
    checkOptions("date", config, ["field", "target_field", "formats", "timezone", "output_format"], ["field", "formats"]);
    const field = stringOption("date", config, "field");
    const target = config.target_field === undefined ? "@timestamp" : stringOption("date", config, "target_field");
    if (config.timezone !== undefined && config.timezone !== "UTC") throw new UnsupportedByModel(`date: timezone ${JSON.stringify(config.timezone)} is not modelled (only UTC)`);
    const outputFormat = config.output_format === undefined ? "yyyy-MM-dd'T'HH:mm:ss.SSSXXX" : config.output_format;
    const digits = typeof outputFormat === "string" ? OUTPUT_FORMATS[outputFormat] : undefined;
    if (digits === undefined) throw new UnsupportedByModel(`date: output_format ${JSON.stringify(outputFormat)} is not modelled`);
    const formats = config.formats;
    if (!Array.isArray(formats) || formats.length === 0) throw new UnsupportedByModel("date: formats must be a non-empty list");
    const parsers = formats.map((format) => {
      if (format === "ISO8601") return parseIso8601;
      if (format === "UNIX") return parseUnix;
      throw new UnsupportedByModel(`date: format ${JSON.stringify(format)} is not modelled`);
    });
    const raw = doc.get(field);
    const text = raw === null ? null : typeof raw === "string" ? raw : JSON.stringify(raw);
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
  if (!isObject(container) || Object.keys(container).length !== 1) throw new UnsupportedByModel(`a processor must be an object with one key: ${JSON.stringify(container)}`);
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
export function simulatePipeline(pipeline: PipelineDefinition, source: Record<string, unknown>, now = new Date()): SimulationResult {
  for (const key of Object.keys(pipeline)) {
    if (!["description", "processors", "on_failure", "version", "_meta"].includes(key)) throw new UnsupportedByModel(`pipeline option "${key}" is not modelled`);
  }
  const doc = new Document(deepCopy(source as Json) as JsonObject, now);
  try {
    for (const processor of pipeline.processors ?? []) runProcessor(processor, doc);
  } catch (error) {
    if (!(error instanceof ProcessorFailed)) throw error;
    if (pipeline.on_failure === undefined) throw new PipelineFailure(error.failure.message, error.failure.processorType);
    try {
      runHandlers(pipeline.on_failure, error.failure, doc);
    } catch (handlerError) {
      if (handlerError instanceof ProcessorFailed || handlerError instanceof ProcessorError) {
        throw new PipelineFailure(handlerError.message, error.failure.processorType);
      }
      throw handlerError;
    }
  }
  return { source: doc.source };
}

/** One path step into an array by index, with Elasticsearch's messages; anything else cannot be walked into. */
function arrayElement(context: Json, key: string, path: string): Json {
  if (!Array.isArray(context)) throw new ProcessorError(`cannot resolve [${key}] from object of type [${javaType(context)}] as part of path [${path}]`);
  if (!/^-?\d+$/.test(key)) throw new ProcessorError(`[${key}] is not an integer, cannot be used as an index as part of path [${path}]`);
  const index = Number(key);
  if (index < 0 || index >= context.length) throw new ProcessorError(`[${index}] is out of bounds for array with length [${context.length}] as part of path [${path}]`);
  return context[index]!;
}
