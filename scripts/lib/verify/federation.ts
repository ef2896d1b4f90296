/**
 * A central stack's agent federation certificates (output agentFederation, components/metrics/agent-federation.ts):
 * how long each agent host's certificate has left. They last a year and a central `pulumi up` renews one in
 * its last 30 days (components/tls/config.ts GENERATED_VALIDITY; the provider replaces a certificate
 * `readyForRenewal`: hashicorp/terraform-provider-tls internal/provider/common_cert.go), after which the
 * agent must be given its new entry. Nothing else warns before the old one ends: the pull then fails
 * (x509 expired) and HostNotReporting fires. So verify warns while a certificate in the outputs is within
 * that window (the central has not been `up`ed since it entered it) and fails once it has ended.
 */
import { X509Certificate } from "crypto";
import { GENERATED_VALIDITY } from "../../../components/tls/config";
import type { Check, CheckResult } from "./types";
import type { Outputs } from "./inputs";

const DAY_MS = 24 * 3600 * 1000;
/** The central renews a certificate this close to its end (earlyRenewalHours): below it, it was not renewed. */
export const AGENT_CERTIFICATE_WARN_DAYS = GENERATED_VALIDITY.serverEarlyRenewalHours / 24;

/** Days left of each agent's certificate (its leaf, the first PEM block), or why it could not be read. */
export function agentCertificateDaysLeft(federation: unknown, now: number): { host: string; daysLeft?: number; ends?: string; problem?: string }[] {
  if (federation === null || typeof federation !== "object") return [];
  return Object.entries(federation as Record<string, unknown>).map(([host, entry]) => {
    const pem = entry !== null && typeof entry === "object" ? (entry as { certificate?: unknown }).certificate : undefined;
    const leaf = typeof pem === "string" ? /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0] : undefined;
    if (!leaf) return { host, problem: "no certificate in its entry" };
    try {
      const ends = new Date(new X509Certificate(leaf).validTo);
      return { host, daysLeft: Math.floor((ends.getTime() - now) / DAY_MS), ends: ends.toISOString() };
    } catch {
      return { host, problem: "its certificate cannot be read" };
    }
  });
}

/** The check on a central stack listing agents (undefined without agentFederation in the outputs). */
export function agentCertificatesCheck(outputs: Outputs, now: () => number = Date.now): Check | undefined {
  const federation = outputs.agentFederation;
  if (federation === null || typeof federation !== "object" || Object.keys(federation).length === 0) return undefined;
  const id = "agents.certificates";
  return {
    id,
    run: async (): Promise<CheckResult> => {
      const hosts = agentCertificateDaysLeft(federation, now());
      const data = Object.fromEntries(hosts.map((host) => [host.host, host.daysLeft ?? host.problem]));
      const ended = hosts.filter((host) => host.daysLeft !== undefined && host.daysLeft < 0);
      const soon = hosts.filter((host) => host.daysLeft !== undefined && host.daysLeft >= 0 && host.daysLeft < AGENT_CERTIFICATE_WARN_DAYS);
      const unreadable = hosts.filter((host) => host.problem !== undefined);
      const renew =
        "pulumi up the central stack (it renews a certificate in its last 30 days), then give each agent its new agentFederation entry and up it (docs/add-a-host.md, rotating)";
      if (ended.length > 0)
        return {
          id,
          status: "fail",
          summary: `the federation certificate of ${ended.map((host) => `${host.host} (ended ${host.ends})`).join(", ")} has ended: the central cannot pull it`,
          fix: [renew],
          data,
        };
      if (soon.length > 0 || unreadable.length > 0)
        return {
          id,
          status: "warn",
          summary: [
            ...soon.map((host) => `${host.host}: its federation certificate ends in ${host.daysLeft} days (${host.ends})`),
            ...unreadable.map((host) => `${host.host}: ${host.problem}`),
          ].join("; "),
          fix: [renew],
          data,
        };
      const least = Math.min(...hosts.map((host) => host.daysLeft as number));
      return { id, status: "ok", summary: `${hosts.length} agent federation certificate(s), the soonest ending in ${least} days`, data };
    },
  };
}
