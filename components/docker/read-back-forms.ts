/**
 * Values in the exact form the Docker provider reads back from the engine, so a second `pulumi up`
 * compares equal strings and numbers and shows no change.
 *
 * @pulumi/docker 5.x bridges kreuzwerker/terraform-provider-docker. Its read of a container
 * (internal/provider/resource_docker_container_funcs.go, resourceDockerContainerRead) sets
 * `healthcheck.interval`, `timeout`, `start_period` and `start_interval` from the engine's
 * nanosecond values with Go's `time.Duration.String()`, and `memory_swap` from
 * `HostConfig.MemorySwap / 1024 / 1024` whenever it is positive. The engine stores durations in
 * nanoseconds, so `60s` comes back as `1m0s`; and it sets MemorySwap to twice Memory when only Memory
 * is given (moby/moby daemon/daemon_unix.go, adaptContainerSettings), so an unset `memorySwap` reads
 * back as a number the program never sent.
 */

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Go's `time.Duration.String()` (golang/go src/time/time.go, `func (d Duration) String`) for a
 * non-negative duration in nanoseconds: `0s`; below a second `1.5ms`, `20µs`, `3ns`; from a second on
 * `[<h>h][<m>m]<s>[.<frac>]s` where the minutes appear whenever hours do (`1h0m0s`) and the seconds
 * always (`1m0s`), trailing zeros of the fraction dropped.
 */
export function goDurationString(nanoseconds: bigint): string {
  if (nanoseconds < 0n) throw new Error(`goDurationString: negative duration ${nanoseconds}`);
  if (nanoseconds === 0n) return "0s";
  if (nanoseconds < NANOS_PER_SECOND) {
    if (nanoseconds < 1_000n) return `${nanoseconds}ns`;
    if (nanoseconds < 1_000_000n) return `${withFraction(nanoseconds, 1_000n)}µs`;
    return `${withFraction(nanoseconds, 1_000_000n)}ms`;
  }
  const hours = nanoseconds / (3600n * NANOS_PER_SECOND);
  const afterHours = nanoseconds % (3600n * NANOS_PER_SECOND);
  const minutes = afterHours / (60n * NANOS_PER_SECOND);
  const seconds = withFraction(afterHours % (60n * NANOS_PER_SECOND), NANOS_PER_SECOND);
  if (hours > 0n) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** `value / unit` printed with the remainder as a decimal fraction, trailing zeros dropped (as Go's fmtFrac). */
function withFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/** A whole number of seconds as the provider reads a healthcheck duration back (`60` → `1m0s`). */
export function dockerHealthcheckDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`dockerHealthcheckDuration: ${seconds} is not a whole, non-negative number of seconds`);
  return goDurationString(BigInt(seconds) * NANOS_PER_SECOND);
}

/** Whether a healthcheck duration string is already in the provider's read-back form. */
export function isDockerHealthcheckReadBackForm(value: string): boolean {
  const nanos = parseGoDuration(value);
  return nanos !== undefined && goDurationString(nanos) === value;
}

/** Go's `time.ParseDuration` for the units a healthcheck uses (h, m, s, ms, us/µs, ns); undefined if unreadable. */
export function parseGoDuration(value: string): bigint | undefined {
  if (value === "0") return 0n;
  const units: Record<string, bigint> = {
    h: 3600n * NANOS_PER_SECOND,
    m: 60n * NANOS_PER_SECOND,
    s: NANOS_PER_SECOND,
    ms: 1_000_000n,
    us: 1_000n,
    µs: 1_000n,
    ns: 1n,
  };
  const part = /(\d+)(?:\.(\d+))?(h|ms|m|s|us|µs|ns)/y;
  let total = 0n;
  let index = 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) return undefined;
    const unit = units[match[3]];
    const fraction = match[2] ?? "";
    total += BigInt(match[1]) * unit + (fraction ? (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length) : 0n);
    index = part.lastIndex;
  }
  return index === 0 ? undefined : total;
}
