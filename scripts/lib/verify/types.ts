/**
 * What a verify check says: one line per promise of the stack, ok / warn / FAIL with the fix, or SKIP
 * with why it could not run (never a silent pass).
 */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Stable id for CI (`prometheus.targets`, `elasticsearch.events.worker`, ...). */
  id: string;
  status: CheckStatus;
  summary: string;
  /** What to do about it (fail, warn, skip). */
  fix?: string[];
  /** Details a CI report can keep (counts, names); never a secret (the report redacts them anyway). */
  data?: Record<string, unknown>;
}

/** A check that can be asked again while a fresh stack settles (first scrapes, first log lines). */
export interface Check {
  id: string;
  /** Run once; `retry: true` on a result that may still turn ok before the wait is over. */
  run: () => Promise<CheckOutcome>;
}

export type CheckOutcome = CheckResult & { retry?: boolean };

export interface VerifyReport {
  stack: string;
  role: string;
  ok: boolean;
  counts: Record<CheckStatus, number>;
  results: CheckResult[];
  elapsedMs: number;
}
