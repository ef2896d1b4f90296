/**
 * Values in the exact form Grafana stores and returns, so that the Grafana provider's read after
 * an apply (and after a refresh) gives back what the program sends and a second `pulumi up` shows
 * no change.
 */
import { durationMs } from "../lib/validators";

/**
 * Prometheus's canonical duration form, as `model.Duration.String()` prints it (prometheus/common
 * model/time.go): the largest units first, years and weeks only when they divide the value exactly
 * (`90d` stays `90d`, `14d` is `2w`), `0s` for zero. `60s` is `1m`, `24h` is `1d`, `90s` is `1m30s`.
 */
export function prometheusDurationString(milliseconds: number): string {
  if (!Number.isInteger(milliseconds) || milliseconds < 0)
    throw new Error(`prometheusDurationString: ${milliseconds} is not a whole, non-negative number of milliseconds`);
  if (milliseconds === 0) return "0s";
  let rest = milliseconds;
  let text = "";
  const units: [string, number, boolean][] = [
    ["y", 31_536_000_000, true],
    ["w", 604_800_000, true],
    ["d", 86_400_000, false],
    ["h", 3_600_000, false],
    ["m", 60_000, false],
    ["s", 1000, false],
    ["ms", 1, false],
  ];
  for (const [unit, size, exactOnly] of units) {
    if (exactOnly && rest % size !== 0) continue;
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}

/**
 * A notification timing as Grafana returns it. The policy's `group_wait`, `group_interval` and
 * `repeat_interval` are Alertmanager `model.Duration`s in Grafana's route definition
 * (grafana/grafana pkg/services/ngalert/api/tooling/definitions/alertmanager.go embeds
 * prometheus/alertmanager config.Route), serialised with `String()`, and the provider stores the
 * returned strings as they are, with no diff suppression (grafana/terraform-provider-grafana
 * internal/resources/grafana/resource_alerting_notification_policy.go, packNotifPolicy).
 */
export function canonicalNotificationTiming(value: string): string {
  return prometheusDurationString(durationMs(value));
}
