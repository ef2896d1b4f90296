/**
 * Whether two log globs can match the same file, decided exactly for Go's filepath.Match syntax
 * (golang/go src/path/filepath/match.go: `*` any run of non-separator characters, `?` one, `[...]`
 * a class with an optional `^` and ranges) plus Filebeat's `**` as a whole segment (libbeat
 * common/file... recursive_glob: zero or more directory levels, at most 8; treated here as any
 * number, so a pair that overlaps only deeper than 8 levels is reported too). Backslash escapes are
 * refused before this runs (filebeat-config.ts globProblem), so every character is literal or a
 * wildcard.
 *
 * Two globs overlap when some path is matched by both: the intersection of two regular languages,
 * found by a search over pairs of positions (no enumeration of paths). Filebeat runs one input per
 * catalog service, and two inputs each harvest a file they both match, so such a file would be
 * shipped twice, under two service names.
 */

type CharSet = { negated: boolean; ranges: [number, number][] };
type Token = { star: true } | { star: false; set: CharSet };

/** A segment (no '/') as tokens; an unterminated class is read literally (globProblem refuses it first anyway). */
function tokens(segment: string): Token[] {
  const result: Token[] = [];
  const chars = Array.from(segment);
  for (let index = 0; index < chars.length; index++) {
    const char = chars[index];
    if (char === "*") {
      if (!(result.length > 0 && result[result.length - 1].star)) result.push({ star: true });
    } else if (char === "?") result.push({ star: false, set: { negated: true, ranges: [] } });
    else if (char === "[") {
      const close = chars.indexOf("]", index + 2);
      if (close === -1) {
        result.push({ star: false, set: literal(char) });
        continue;
      }
      let body = chars.slice(index + 1, close);
      const negated = body[0] === "^";
      if (negated) body = body.slice(1);
      const ranges: [number, number][] = [];
      for (let at = 0; at < body.length; at++) {
        const low = body[at].codePointAt(0)!;
        if (body[at + 1] === "-" && at + 2 < body.length) {
          ranges.push([low, body[at + 2].codePointAt(0)!]);
          at += 2;
        } else ranges.push([low, low]);
      }
      result.push({ star: false, set: { negated, ranges } });
      index = close;
    } else result.push({ star: false, set: literal(char) });
  }
  return result;
}

function literal(char: string): CharSet {
  const code = char.codePointAt(0)!;
  return { negated: false, ranges: [[code, code]] };
}

/** Some character (never '/', which no segment holds) is in both sets. */
function setsMeet(a: CharSet, b: CharSet): boolean {
  if (a.negated && b.negated) return true; // the alphabet is unbounded
  if (!a.negated && !b.negated) return a.ranges.some(([al, ah]) => b.ranges.some(([bl, bh]) => al <= bh && bl <= ah));
  const [positive, negative] = a.negated ? [b, a] : [a, b];
  // A character of `positive` outside every range of `negative`.
  return positive.ranges.some(([low, high]) => {
    let next = low;
    const sorted = [...negative.ranges].sort((x, y) => x[0] - y[0]);
    for (const [nl, nh] of sorted) {
      if (nl > next) break;
      if (nh >= next) next = nh + 1;
    }
    return next <= high;
  });
}

/** Generic search: positions (i, j) in two sequences, from (0, 0) to (a.length, b.length). */
function meet<T>(a: T[], b: T[], isStar: (item: T) => boolean, itemsMeet: (x: T, y: T) => boolean): boolean {
  const seen = new Set<number>();
  const width = b.length + 1;
  const queue: [number, number][] = [[0, 0]];
  while (queue.length > 0) {
    const [i, j] = queue.pop()!;
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    if (i === a.length && j === b.length) return true;
    const starA = i < a.length && isStar(a[i]);
    const starB = j < b.length && isStar(b[j]);
    if (starA) queue.push([i + 1, j]); // the star matches nothing more
    if (starB) queue.push([i, j + 1]);
    if (starA && j < b.length && !starB) queue.push([i, j + 1]); // the star takes what b's item matches
    if (starB && i < a.length && !starA) queue.push([i + 1, j]);
    if (starA && starB) {
      queue.push([i, j + 1]);
      queue.push([i + 1, j]);
    }
    if (i < a.length && j < b.length && !starA && !starB && itemsMeet(a[i], b[j])) queue.push([i + 1, j + 1]);
  }
  return false;
}

/** Some file name matches both segment patterns. */
export function segmentsOverlap(a: string, b: string): boolean {
  return meet(
    tokens(a),
    tokens(b),
    (token) => token.star,
    (x, y) => !x.star && !y.star && setsMeet(x.set, y.set),
  );
}

/**
 * Some absolute path matches both globs (each absolute, normalized, `**` only as a whole segment).
 * First the literal prefixes: every path a glob matches starts with the text before its first
 * wildcard (no escapes, see above), so two globs whose prefixes differ before either ends match no
 * path in common. That test is what makes a catalog of thousands of services cheap to check pair by
 * pair (most pairs differ in their prefix, e.g. `/srv/logs/billing-api` and `/srv/logs/orders`).
 */
export function globsOverlap(a: string, b: string): boolean {
  const prefixA = literalPrefix(a);
  const prefixB = literalPrefix(b);
  if (!prefixA.startsWith(prefixB) && !prefixB.startsWith(prefixA)) return false;
  return globsOverlapBySearch(a, b);
}

/** The search alone, without the prefix test (exported so a test can hold the two to the same answers). */
export function globsOverlapBySearch(a: string, b: string): boolean {
  const split = (glob: string) => glob.replace(/^\//, "").split("/");
  return meet(split(a), split(b), (segment) => segment === "**", segmentsOverlap);
}

/** The glob's text before its first wildcard character (all of it when it has none). */
export function literalPrefix(glob: string): string {
  const wildcard = glob.search(/[*?[]/);
  return wildcard === -1 ? glob : glob.slice(0, wildcard);
}

/** Characters Go's filepath.Match treats as wildcards. */
export function hasWildcard(glob: string): boolean {
  return /[*?[]/.test(glob);
}

/**
 * The fewest bytes a segment pattern can match: each literal character its UTF-8 length, `?` and a
 * class at least one byte, `*` none. A segment that cannot match fewer than 256 bytes names nothing on
 * Linux, whose file and directory names are at most 255 bytes (NAME_MAX, include/uapi/linux/limits.h).
 */
export function minimumSegmentBytes(segment: string): number {
  return tokens(segment).reduce((sum, token) => {
    if (token.star) return sum;
    const { negated, ranges } = token.set;
    if (!negated && ranges.length === 1 && ranges[0][0] === ranges[0][1]) return sum + Buffer.byteLength(String.fromCodePoint(ranges[0][0]));
    return sum + 1;
  }, 0);
}
