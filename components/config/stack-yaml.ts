/**
 * Reads a stack file's YAML the way the Pulumi CLI does, so that the offline plan and the program
 * (which reads the stack file for where its `secure:` values sit) accept exactly what `pulumi up`
 * accepts, and refuse hostile input with a clear error instead of running out of memory.
 *
 * The CLI: pulumi/pulumi sdk/go/common/workspace/loaders.go (LoadProjectStack: readFileStripUTF8BOM,
 * then encoding.YAML), sdk/go/common/encoding/marshal.go (gopkg.in/yaml.v3, v3.0.1 in sdk/go.mod). From
 * go-yaml/yaml v3.0.1:
 * - readerc.go: the input must be valid UTF-8 ("invalid leading UTF-8 octet", "incomplete UTF-8 octet
 *   sequence"), never replaced by U+FFFD, and hold no control characters ("control characters are not
 *   allowed"; js-yaml refuses those too: "non-printable characters").
 * - decode.go (mapping, merge, isMerge): merge keys `<<:` take a mapping or a sequence of mappings; a
 *   key written in the mapping wins over a merged one, and within a sequence the first mapping wins.
 *   js-yaml's mergeTag does the same (test/unit/hostile-config.test.ts checks both rules).
 * - decode.go (unmarshal, allowedAliasRatio): a document whose decoding is mostly alias expansion is
 *   refused ("document contains excessive aliasing"): more than 100 aliased nodes among more than
 *   1000 decoded, and aliased/decoded above 99% up to 400000 decodes, falling to 10% at 4000000.
 *   js-yaml shares one object per anchor, so a "billion laughs" file loads in a millisecond and only
 *   blows up later (JSON text for the engine: a V8 out-of-memory); expansionProblem below counts the
 *   nodes yaml.v3 would decode, in its order, and stops at the same ratio.
 */
import * as yaml from "js-yaml";

export class StackYamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackYamlError";
  }
}

const SCHEMA = yaml.CORE_SCHEMA.withTags(yaml.mergeTag);

/** Parse a stack file's bytes; `shown` names it in errors. Throws StackYamlError. */
export function parseStackYaml(bytes: Buffer, shown: string): unknown {
  // pulumi/pulumi sdk/go/common/workspace/loaders.go readFileStripUTF8BOM.
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const invalid = firstInvalidUtf8(body);
  if (invalid !== undefined) {
    const before = body.subarray(0, invalid).toString("utf8");
    const line = before.split("\n").length;
    throw new StackYamlError(
      `${shown}:${line}: not valid UTF-8 (byte offset ${invalid}, line ${line}): the Pulumi CLI refuses the file (yaml: invalid UTF-8); save it as UTF-8`,
    );
  }
  const text = body.toString("utf8");
  let document: unknown;
  try {
    document = yaml.load(text, { filename: shown, schema: SCHEMA });
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    const mark = error.mark;
    const at = mark ? `:${mark.line + 1}: not valid YAML (line ${mark.line + 1}, column ${mark.column + 1})` : ": not valid YAML";
    const snippet = mark?.snippet ? `\n${mark.snippet}` : "";
    throw new StackYamlError(`${shown}${at}: ${error.reason ?? error.message}${snippet}`);
  }
  const expansion = expansionProblem(document);
  if (expansion) throw new StackYamlError(`${shown}: ${expansion}`);
  return document;
}

/**
 * The offset of the first byte that is not part of well-formed UTF-8 (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or undefined. What TextDecoder's fatal mode refuses.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index];
    if (lead < 0x80) {
      index++;
      continue;
    }
    // [length, allowed range of the second byte]
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead === 0xe0) [length, low] = [3, 0xa0];
    else if ((lead >= 0xe1 && lead <= 0xec) || lead === 0xee || lead === 0xef) length = 3;
    else if (lead === 0xed) [length, high] = [3, 0x9f];
    else if (lead === 0xf0) [length, low] = [4, 0x90];
    else if (lead >= 0xf1 && lead <= 0xf3) length = 4;
    else if (lead === 0xf4) [length, high] = [4, 0x8f];
    else return index;
    if (index + length > bytes.length) return index;
    if (bytes[index + 1] < low || bytes[index + 1] > high) return index;
    for (let next = 2; next < length; next++) if ((bytes[index + next] & 0xc0) !== 0x80) return index;
    index += length;
  }
  return undefined;
}

const ALIAS_RATIO_LOW = 400_000;
const ALIAS_RATIO_HIGH = 4_000_000;

/** go-yaml v3 decode.go allowedAliasRatio. */
function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= ALIAS_RATIO_LOW) return 0.99;
  if (decodeCount >= ALIAS_RATIO_HIGH) return 0.1;
  return 0.99 - (0.89 * (decodeCount - ALIAS_RATIO_LOW)) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW);
}

/**
 * Walks the document as yaml.v3 decodes it (document node, then each key and value), counting every
 * decoded node and those reached through an alias (a mapping or sequence js-yaml handed out again),
 * and stops as yaml.v3 does when aliases do most of the work. The walk is bounded: once past 4000000
 * nodes at most 10% may come from aliases, so it ends after about 1.1 times the written nodes.
 */
export function expansionProblem(document: unknown): string | undefined {
  let decodeCount = 1; // the document node
  let aliasCount = 0;
  const seen = new Set<object>();
  const excessive = () => aliasCount > 100 && decodeCount > 1000 && aliasCount / decodeCount > allowedAliasRatio(decodeCount);
  // An explicit stack instead of recursion: a deep document must not overflow the call stack either.
  const stack: { value: unknown; aliased: boolean }[] = [{ value: document, aliased: false }];
  while (stack.length > 0) {
    const { value, aliased: underAlias } = stack.pop()!;
    let aliased = underAlias;
    if (value !== null && typeof value === "object") {
      if (seen.has(value)) aliased = true;
      else seen.add(value);
    }
    decodeCount++;
    if (aliased) aliasCount++;
    if (excessive()) {
      return (
        "document contains excessive aliasing: its anchors and aliases (&name, *name) expand to far more than is written, " +
        "as in a 'billion laughs' file; the Pulumi CLI refuses it with the same message (gopkg.in/yaml.v3). Write the values out instead"
      );
    }
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) stack.push({ value: value[index], aliased });
    } else if (value !== null && typeof value === "object") {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        stack.push({ value: entries[index][1], aliased });
        stack.push({ value: entries[index][0], aliased }); // the key node, decoded first
      }
    }
  }
  return undefined;
}
