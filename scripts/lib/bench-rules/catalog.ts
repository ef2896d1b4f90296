/** The generated catalog the benchmarks plan and evaluate: every service with a health probe, metrics, logs, an availability and a latency SLO. */
export function benchServices(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    name: `svc-${i}`,
    metrics: `http://svc-${i}:8000/metrics`,
    health: `http://svc-${i}:8000/health`,
    logs: [`/srv/logs/svc-${i}/*.log`],
    ...(i % 4 === 0 ? { maxLogSilence: "30m" } : {}),
    slo: { availability: 99.9, latency: { thresholdSeconds: 0.5, objective: 99 } },
  }));
}

/** A 30d SLO window needs 30d of retention (the bench stacks are dev stacks, which keep 7d). */
export const BENCH_PROMETHEUS = { retentionTime: "30d" };
