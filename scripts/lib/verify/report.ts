/** The report: one line per check (ok / warn / FAIL / SKIP with the fix), or JSON for CI; secrets never in either. */
import type { CheckResult, CheckStatus, VerifyReport } from "./types";

const LABEL: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "SKIP" };

/** Replace every secret value (and its URL-encoded form) in a text. Longest first, so a secret inside another goes too. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of [...new Set(secrets)].filter((value) => value.length >= 4).sort((a, b) => b.length - a.length)) {
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) out = out.split(form).join("[secret]");
  }
  return out;
}

export function redactResults(results: CheckResult[], secrets: string[]): CheckResult[] {
  return JSON.parse(redact(JSON.stringify(results), secrets)) as CheckResult[];
}

export function formatReport(report: VerifyReport): string {
  const lines = [`verify of stack "${report.stack}" (${report.role})`];
  for (const result of report.results) {
    lines.push(`${LABEL[result.status]}  ${result.id}: ${result.summary}`);
    if (result.status !== "ok") for (const fix of result.fix ?? []) lines.push(`        fix: ${fix}`);
  }
  const { ok, warn, fail, skip } = report.counts;
  lines.push(
    `${report.ok ? "verify passed" : "verify FAILED"}: ${ok} ok, ${warn} warn, ${fail} failed, ${skip} not run (${(report.elapsedMs / 1000).toFixed(1)} s)`,
  );
  return lines.join("\n");
}

export function formatJson(report: VerifyReport): string {
  return JSON.stringify(report, null, 2);
}
