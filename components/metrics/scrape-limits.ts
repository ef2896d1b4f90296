/**
 * Per-job scrape limits on the catalog services' scrape jobs, so that one service's cardinality (a label
 * carrying a user id, a histogram per URL) cannot fill the Prometheus that alerts for every service.
 * Stack-wide defaults in `prometheus.scrapeLimits`, overridden per service by `services[].scrapeLimits`.
 *
 * What a breach does, in prometheus/prometheus scrape/scrape.go (v2.42.0 and v3.x alike): more samples than
 * `sample_limit` fail the whole scrape (errSampleLimit; `up` is 0, nothing of it is stored) and count in
 * `prometheus_target_scrapes_exceeded_sample_limit_total`; a series over `label_limit`,
 * `label_name_length_limit` or `label_value_length_limit` fails the scrape the same way (append:
 * "If any label limits is exceeded the scrape should fail", verifyLabelLimits) and counts in
 * `prometheus_target_scrape_pool_exceeded_label_limits_total` (which also counts targets dropped at sync for
 * target labels over the limits); more targets than `target_limit` fail every target of the job and count in
 * `prometheus_target_scrape_pool_exceeded_target_limit_total`. So a breach shows as ServiceTargetDown for that
 * service, and alerts/stack.yml PrometheusScrapeSamplesRejected says why (docs/runbook.md).
 * All four fields exist in the 2.42 the tests run (config/config.go ScrapeConfig: sample_limit, target_limit,
 * label_limit, label_name_length_limit, label_value_length_limit) and in 3.x; 0 means no limit there, which is
 * refused here (a limit is the point).
 */
import { z } from "zod";

export interface ScrapeLimits {
  /** Samples one scrape may return (after metric_relabel_configs). */
  sampleLimit: number;
  /** Labels one series may carry (its target labels included: service, host, ...). */
  labelLimit: number;
  /** Length of a label's name. */
  labelNameLengthLimit: number;
  /** Length of a label's value (a URL or an error message in a label is the usual culprit). */
  labelValueLengthLimit: number;
  /** Targets of the job: one per catalog entry today; a guard for when service discovery lists them. */
  targetLimit: number;
}

/**
 * Generous for one Python service (the Python client's default process, GC and platform collectors plus a few
 * request histograms come to a few hundred series; 10000 leaves room for a labelled histogram per endpoint),
 * tight enough that a runaway label is cut off at one service before it costs the 1 GB dev Prometheus its memory.
 */
export const DEFAULT_SCRAPE_LIMITS: ScrapeLimits = {
  sampleLimit: 10000,
  labelLimit: 30,
  labelNameLengthLimit: 128,
  labelValueLengthLimit: 1024,
  targetLimit: 10,
};

const positive = (what: string) => z.int({ error: "must be a whole number" }).min(1, { error: `must be at least 1 (${what}; there is no "unlimited")` });

/** The shape of `prometheus.scrapeLimits` and `services[].scrapeLimits`: any of the limits. */
export const scrapeLimitsShape = z
  .strictObject({
    sampleLimit: positive("samples per scrape").optional(),
    labelLimit: positive("labels per series").optional(),
    labelNameLengthLimit: positive("characters").optional(),
    labelValueLengthLimit: positive("characters").optional(),
    targetLimit: positive("targets per job").optional(),
  })
  .optional();

export type ScrapeLimitsInput = z.infer<typeof scrapeLimitsShape>;

/**
 * The stack-wide limits: the defaults with `prometheus.scrapeLimits` over them. On a federated agent host the
 * label defaults are the central stack's agent-job defaults (remote-config.ts AGENT_LIMIT_DEFAULTS): the
 * central pull fails as a whole on one series over its limits (the same verifyLabelLimits), so a series of one
 * service that the agent stored but the central refuses would take the whole host down there
 * (HostNotReporting). Refused at the agent's own scrape, it fails only that service's target (ServiceTargetDown).
 */
export function resolveScrapeLimits(given: ScrapeLimitsInput, agentLabelLimits?: Pick<ScrapeLimits, "labelLimit" | "labelValueLengthLimit">): ScrapeLimits {
  return { ...DEFAULT_SCRAPE_LIMITS, ...agentLabelLimits, ...given };
}

/** prometheus.yml's fields for a job (prometheus/prometheus config/config.go ScrapeConfig yaml tags). */
export function scrapeLimitFields(limits: ScrapeLimits): {
  sample_limit: number;
  label_limit: number;
  label_name_length_limit: number;
  label_value_length_limit: number;
  target_limit: number;
} {
  return {
    sample_limit: limits.sampleLimit,
    label_limit: limits.labelLimit,
    label_name_length_limit: limits.labelNameLengthLimit,
    label_value_length_limit: limits.labelValueLengthLimit,
    target_limit: limits.targetLimit,
  };
}
