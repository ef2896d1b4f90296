/**
 * The SLO room's config slice: the catalog entry's `slo` (an availability and/or a latency objective
 * over a window) and the rules that make such an objective computable by this stack's Prometheus.
 *
 * Where an SLI comes from (components/slo/slo-rules.ts): availability from the blackbox probe of
 * `health` when the service has one, else from its request counters (`slo.requests`, scraped from
 * `metrics`); latency from its request-duration histogram (scraped from `metrics`).
 */
import { z } from "zod";
import { defineSlice } from "../config/slice";
import type { Environment } from "../config/environments";
import { fullKey, type ConfigIssue } from "../lib/config-keys";
import { durationMs, durationProblem, httpUrlProblems, isObject } from "../lib/validators";
import { promqlErrors } from "../alerting/rule-files";
import { ENVIRONMENT_DEFAULTS as PROMETHEUS_ENVIRONMENT_DEFAULTS } from "../metrics/config";
import { RECORDING_REMOTE_WRITE_INDEX, remoteWriteDatasourceTarget } from "../grafana/remote-write-url";

/**
 * The burn-rate alerts' windows and factors: the SRE Workbook, ch. 5 "Alerting on SLOs", iteration 6
 * (multiwindow, multi-burn-rate alerts) and Table 5-8, with its Prometheus example's second ticket
 * pair (3x over 1d with 2h): page at 14.4x over 1h (short 5m) or 6x over 6h (short 30m); ticket at
 * 3x over 1d (short 2h) or 1x over 3d (short 6h). The short window is 1/12 of the long one.
 */
export const BURN_RATE_ALERTS = {
  page: [
    { factor: 14.4, long: "1h", short: "5m" },
    { factor: 6, long: "6h", short: "30m" },
  ],
  ticket: [
    { factor: 3, long: "1d", short: "2h" },
    { factor: 1, long: "3d", short: "6h" },
  ],
} as const;

/** Every window the recording rules keep an error ratio for (the SLO window is added per SLO). */
export const RATIO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

export const SLO_DEFAULTS = {
  window: "30d",
  requestsTotal: "http_requests_total",
  requestsErrors: 'code=~"5.."',
  histogram: "http_request_duration_seconds",
};

/** The longest alert window: an SLO window shorter than this would be overtaken by its own ticket alert. */
const MIN_WINDOW = "3d";
/** A rate over more than a quarter reads millions of samples per series at every evaluation. */
const MAX_WINDOW = "90d";

/**
 * What the program assumes a histogram's buckets are when `latency.buckets` is not given: the Python
 * client's defaults (prometheus/client_python prometheus_client/metrics.py, Histogram.DEFAULT_BUCKETS),
 * the team's services being Python. They contain the Go client's (client_golang prometheus/histogram.go,
 * DefBuckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10). The program cannot read a service's buckets.
 */
export const CLIENT_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

/**
 * The fast-burn page fires when the 1h error ratio exceeds 14.4 budgets: with a budget above 1/14.4
 * (an objective at or below 93.06%) even 100% errors cannot reach it, and the page would never fire.
 */
const MIN_OBJECTIVE = 100 - 100 / BURN_RATE_ALERTS.page[0].factor;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const objective = z
  .number({ error: "must be a percentage, e.g. 99.9" })
  .gt(0, { error: "must be a percentage above 0 and below 100, e.g. 99.9" })
  .lt(100, { error: "must be below 100: an objective of 100% leaves no error budget to alert on" })
  .refine((value) => value > MIN_OBJECTIVE, {
    error: `must be above ${MIN_OBJECTIVE.toFixed(2)}: with a larger error budget the fast-burn page (14.4x the budget over 1h) needs more than 100% errors and could never fire`,
  });

const metricName = z.string().regex(METRIC_NAME, { error: "must be a Prometheus metric name (letters, digits, _ and :)" });

const window = z.string().superRefine((value, ctx) => {
  const problem = durationProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  else if (durationMs(value) < durationMs(MIN_WINDOW) || durationMs(value) > durationMs(MAX_WINDOW)) {
    ctx.addIssue({
      code: "custom",
      message: `must be between ${MIN_WINDOW} (the longest burn-rate alert window) and ${MAX_WINDOW}; the usual window is 28d or 30d`,
    });
  }
});

/** A label matcher list as inside `{...}`, e.g. `code=~"5.."` or `status="5xx"`. */
const matchers = z.string().superRefine((value, ctx) => {
  if (/[{}]/.test(value) || value.trim() === "") {
    ctx.addIssue({ code: "custom", message: 'must be label matchers without braces, e.g. code=~"5.."' });
    return;
  }
  const errors = promqlErrors(`x{${value}}`);
  if (errors.length > 0) ctx.addIssue({ code: "custom", message: `is not a valid PromQL label matcher list (e.g. code=~"5.."): ${errors[0]}` });
  if (/(^|[\s,])service\s*(=|!=|=~|!~)/.test(value)) ctx.addIssue({ code: "custom", message: "must not match on service: the SLO adds service itself" });
});

const positiveSeconds = z.number({ error: "must be a number of seconds" }).positive({ error: "must be more than 0 seconds" });

export const SLO_SERVICE_FIELDS = {
  /** The service's objectives (components/slo): availability and/or latency over a window. */
  slo: z
    .strictObject({
      /** Percentage of successful health probes (or requests) over the window, e.g. 99.9. */
      availability: objective.optional(),
      latency: z
        .strictObject({
          /** A request slower than this is a bad event; one of the histogram's bucket bounds. */
          thresholdSeconds: positiveSeconds,
          /** Percentage of requests faster than the threshold. */
          objective,
          /** The request-duration histogram's name (without `_bucket`); default http_request_duration_seconds. */
          histogram: metricName.optional(),
          /** The histogram's bucket bounds, when they are not the client libraries' defaults. */
          buckets: z.array(positiveSeconds).min(1, { error: "needs at least one bucket bound" }).optional(),
        })
        .optional(),
      /** The SLO window (a Prometheus duration, 3d to 90d); default 30d. */
      window: window.optional(),
      /** Request counters for the availability SLI of a service without `health`. */
      requests: z
        .strictObject({
          /** Counter of all requests; default http_requests_total. */
          total: metricName.optional(),
          /** Label matchers selecting the failed requests; default code=~"5..". */
          errors: matchers.optional(),
        })
        .optional(),
    })
    .optional(),
};

export const sloSlice = defineSlice({
  shape: {},
  serviceShape: SLO_SERVICE_FIELDS,
  refineService: (service, ctx) => {
    const slo = service.slo;
    if (!isObject(slo)) return;
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path: ["slo", ...path], message });
    const given = (value: unknown) => typeof value === "string" && value !== "";
    if (slo.availability === undefined && slo.latency === undefined) issue([], "needs availability, latency or both");
    if (slo.availability !== undefined && !given(service.health) && slo.requests === undefined) {
      issue(["availability"], "needs a source: `health` (the blackbox probe's success ratio) or `slo.requests` (the share of failed requests, from `metrics`)");
    }
    if (slo.requests !== undefined) {
      if (!given(service.metrics)) issue(["requests"], "needs `metrics`: the request counters are scraped from it");
      if (given(service.health)) {
        issue(["requests"], "is not used: with `health` the availability SLI is the health probe's success ratio; remove `slo.requests` or `health`");
      } else if (slo.availability === undefined) {
        issue(["requests"], "is only used by an availability objective: set `slo.availability` or remove it");
      }
    }
    const latency = slo.latency;
    if (isObject(latency)) {
      if (!given(service.metrics)) issue(["latency"], "needs `metrics`: the latency SLI is computed from the service's request-duration histogram");
      const threshold = latency.thresholdSeconds;
      const buckets = Array.isArray(latency.buckets) && latency.buckets.every((b) => typeof b === "number") ? (latency.buckets as number[]) : undefined;
      if (typeof threshold === "number" && threshold > 0) {
        if (buckets && !buckets.includes(threshold)) {
          issue(
            ["latency", "thresholdSeconds"],
            `${threshold} is not one of slo.latency.buckets (${buckets.join(", ")}): the share of slower requests is read from the bucket at the threshold`,
          );
        } else if (!buckets && !(CLIENT_DEFAULT_BUCKETS as readonly number[]).includes(threshold)) {
          issue(
            ["latency", "thresholdSeconds"],
            `${threshold} is not a bucket bound of the Prometheus client libraries' default histogram (${CLIENT_DEFAULT_BUCKETS.join(", ")}). ` +
              "The program cannot read the service's buckets: if the histogram has a bucket at this threshold, list its bounds in slo.latency.buckets",
          );
        }
      }
    }
  },
  rules: (context) => sloRules(context.values, context.environment),
  resolve: () => ({}),
});

/**
 * Across keys: Prometheus in agent mode evaluates no rules (prometheus/prometheus docs: "Agent mode
 * ... disables ... rule evaluation"). On a central stack whose metrics live in an external backend
 * (`prometheus.external`, which agent mode requires there) Grafana evaluates the SLO recording rules
 * instead and writes them to the backend (slo-rules.ts, sloGrafanaRecordingGroups); an agent host
 * configures no Grafana, so it has none. And an SLO window longer than this Prometheus's TSDB
 * retention would be computed over less data than it claims (a backend's retention is its own).
 */
function sloRules(values: Record<string, unknown>, environment: Environment): ConfigIssue[] {
  if (!Array.isArray(values.services)) return [];
  const prometheus = isObject(values.prometheus) ? values.prometheus : {};
  const agentRole = values.role === "agent";
  const agentMode = prometheus.mode === "agent" || agentRole;
  // The remote-config rules ask an agent-mode central stack for prometheus.external.queryUrl; without it that key is the problem.
  const recordedByGrafana = agentMode && !agentRole && isObject(prometheus.external);
  const retention = typeof prometheus.retentionTime === "string" ? prometheus.retentionTime : PROMETHEUS_ENVIRONMENT_DEFAULTS[environment].retentionTime;
  const retentionMs = durationProblem(retention) ? undefined : durationMs(retention);
  const issues: ConfigIssue[] = [];
  if (recordedByGrafana && values.services.some((service: unknown) => isObject(service) && isObject(service.slo)))
    issues.push(...recordingTargetIssues(prometheus));
  values.services.forEach((service: unknown, index) => {
    if (!isObject(service) || !isObject(service.slo)) return;
    if (agentMode && !recordedByGrafana) {
      issues.push({
        key: fullKey(["services", index, "slo"]),
        message: agentRole
          ? "cannot be evaluated on an agent host (role: agent): its Prometheus runs in agent mode and evaluates no rules, and it configures no Grafana alerts. SLOs are evaluated for the central stack's own catalog services only: remove it here"
          : "needs Prometheus in server mode, or prometheus.external: in agent mode (prometheus.mode: agent) Prometheus evaluates no rules, and without the backend's query URL Grafana cannot record them there. Set prometheus.external.queryUrl, remove the SLOs from this stack or drop prometheus.mode",
      });
    }
    const given = service.slo.window;
    const sloWindow = typeof given === "string" ? given : SLO_DEFAULTS.window;
    // (In agent mode there is no retention to compare with: the SLO is refused above.)
    if (!agentMode && retentionMs !== undefined && !durationProblem(sloWindow) && durationMs(sloWindow) > retentionMs) {
      issues.push({
        key: fullKey(["services", index, "slo", ...(typeof given === "string" ? ["window"] : [])]),
        message: `the SLO window ${sloWindow}${typeof given === "string" ? "" : " (the default)"} is longer than prometheus.retentionTime ${retention}: Prometheus would compute it over ${retention} of data at most. Set slo.window to at most ${retention}, or raise prometheus.retentionTime`,
      });
    }
  });
  return issues;
}

/**
 * Grafana records the SLO series into the backend through a datasource built from the remote write
 * (components/grafana/remote-write-datasource.ts), and derives the write URL from that datasource's URL
 * (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go, getRemoteWriteURL): a remote write
 * URL that no datasource URL yields is refused here, at its key. (No remote write at all, or an invalid
 * URL, is reported by the remote-write rules and the schema.)
 */
function recordingTargetIssues(prometheus: Record<string, unknown>): ConfigIssue[] {
  const entries = Array.isArray(prometheus.remoteWrite) ? (prometheus.remoteWrite as unknown[]) : [];
  const entry = entries[RECORDING_REMOTE_WRITE_INDEX];
  const url = isObject(entry) ? entry.url : undefined;
  if (typeof url !== "string" || httpUrlProblems(url).length > 0) return [];
  const target = remoteWriteDatasourceTarget(url);
  if (!("problem" in target)) return [];
  return [
    {
      key: fullKey(["prometheus", "remoteWrite", RECORDING_REMOTE_WRITE_INDEX, "url"]),
      message:
        `is where Grafana writes the SLO series it records (services[].slo with prometheus.mode: agent), and ${url} ${target.problem}. ` +
        `Put first in prometheus.remoteWrite a remote write to the backend of prometheus.external.queryUrl at such a path, or remove the SLOs`,
    },
  ];
}
