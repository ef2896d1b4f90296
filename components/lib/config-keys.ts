/**
 * How a problem names its config key (`atra-observability:services[1].metrics`), shared by the config
 * layer and every feature's rules, and the "did you mean" for a mistyped key or namespace.
 */

export const CONFIG_NAMESPACE = "atra-observability";

/**
 * What the offline plan puts in place of a `secure:` value it cannot decrypt. Secret values are
 * checked for shape only when they are real, so the plan of a stack with encrypted settings works.
 */
export const UNDECRYPTED_SECRET = "offline-plan-secret-placeholder";

export interface ConfigIssue {
  /** The full config key, e.g. `atra-observability:services[1].metrics`. */
  key: string;
  message: string;
}

export function fullKey(path: PropertyKey[]): string {
  let key = `${CONFIG_NAMESPACE}:`;
  path.forEach((segment, index) => {
    if (typeof segment === "number") key += `[${segment}]`;
    else key += index === 0 ? String(segment) : `.${String(segment)}`;
  });
  return key;
}

/** The candidate nearest to `word` within a few edits, for "did you mean". */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
