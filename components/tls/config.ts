/**
 * The `tls` room's config: whether the stack's published endpoints speak TLS and with which
 * certificates. `tls.mode`:
 * - `off`: plain http; only where everything stays on loopback (the dev default);
 * - `generated`: a stack CA and one server certificate made by Pulumi (@pulumi/tls, pki.ts), keys secret in state;
 * - `provided`: the user's chain (`tlsCertificate`, leaf first) and key (`tlsKey`), both secret settings,
 *   and the CA that issued it (`tls.caCertificate`, plain PEM) for the stack's own clients and the agents.
 *
 * Default: on (`generated`) for any central stack that serves other hosts (agents[]) or binds beyond
 * loopback; `off` otherwise. An agent host makes no certificate: its Prometheus serves the one the
 * central stack issued for it (the secret `federation`, components/metrics/agent-federation.ts); its
 * `tls.caCertificate` is a CA its Prometheus remote write trusts.
 */
import { z } from "zod";
import { ConfigIssue, fullKey, UNDECRYPTED_SECRET } from "../lib/config-keys";
import { isObject, pemCertificate } from "../lib/validators";
import { defineSlice } from "../config/slice";
import type { Role } from "../config/role";
import { listsAgents } from "../agents/config";

export const TLS_MODES = ["off", "generated", "provided"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** A DNS name (optionally a leading `*.` wildcard) or an IPv4 address a server certificate names. */
const SERVER_NAME = /^(\*\.)?[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}))*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Generated certificates: how long each is valid, and how long before its end `pulumi up` replaces it. */
export const GENERATED_VALIDITY = {
  // The @pulumi/tls provider marks a certificate `readyForRenewal` once `now` is within `earlyRenewalHours`
  // of its end, and the next `pulumi up` replaces it (@pulumi/tls selfSignedCert.d.ts / locallySignedCert.d.ts,
  // "earlyRenewalHours"; hashicorp/terraform-provider-tls internal/provider/common_cert.go, modifyPlanIfCertificateReadyForRenewal).
  caHours: 10 * 365 * 24,
  caEarlyRenewalHours: 365 * 24,
  serverHours: 365 * 24,
  serverEarlyRenewalHours: 30 * 24,
} as const;

export interface TlsConfig {
  tls: {
    mode: TlsMode;
    /** Names besides publicHostname, the containers' stack-network names and loopback. */
    extraNames: string[];
    /** Central, provided: the CA that issued `tlsCertificate`. */
    caCertificate?: string;
    /** Agent: the central stack's CA (its output caCertificate), which remote write and Filebeat trust. */
    centralCaCertificate?: string;
  };
}

/** Whether a central stack serves other hosts or people beyond loopback, by its raw values. */
export function servesBeyondLoopback(values: Record<string, unknown>): boolean {
  const bind = typeof values.bindAddress === "string" ? values.bindAddress : "127.0.0.1";
  return listsAgents(values) || !bind.startsWith("127.");
}

/** The mode a stack runs: as given, else generated when it serves beyond loopback (central only), else off. */
export function defaultTlsMode(values: Record<string, unknown>, role: Role): TlsMode {
  const tls = isObject(values.tls) ? values.tls : {};
  if (typeof tls.mode === "string" && (TLS_MODES as readonly string[]).includes(tls.mode)) return tls.mode as TlsMode;
  return role === "central" && servesBeyondLoopback(values) ? "generated" : "off";
}

const pemSecret = z.string().min(1, { error: "must not be empty" });

export const tlsSlice = defineSlice({
  shape: {
    tls: z
      .strictObject({
        mode: z.enum(TLS_MODES, { error: `must be one of ${TLS_MODES.join(", ")}` }).optional(),
        extraNames: z
          .array(z.string().regex(SERVER_NAME, { error: "must be a DNS name (optionally *.wildcard) or an IPv4 address, without scheme or port" }))
          .optional(),
        caCertificate: pemCertificate.optional(),
      })
      .optional(),
    /** `tls.mode: provided`: the server certificate chain, PEM, leaf first. */
    tlsCertificate: pemSecret.optional(),
    /** `tls.mode: provided`: the server certificate's private key, PEM. */
    tlsKey: pemSecret.optional(),
  },
  secretKeys: ["tlsCertificate", "tlsKey"],
  rules: ({ values, role }) => tlsIssues(values, role),
  resolve: (raw, core): TlsConfig => ({
    tls: {
      mode: defaultTlsMode(raw as Record<string, unknown>, core.role),
      extraNames: raw.tls?.extraNames ?? [],
      ...(raw.tls?.caCertificate ? { [core.role === "agent" ? "centralCaCertificate" : "caCertificate"]: raw.tls.caCertificate } : {}),
    },
  }),
});

/** Cross-field rules of the tls keys, each at its own key, all at once. */
export function tlsIssues(values: Record<string, unknown>, role: Role): ConfigIssue[] {
  const tls = isObject(values.tls) ? values.tls : {};
  const issues: ConfigIssue[] = [];
  const given = (key: string) => values[key] !== undefined;
  if (role === "agent") {
    // An agent's exporters and Prometheus stay on loopback and its stack network: it serves no one.
    if (tls.mode !== undefined && tls.mode !== "off")
      issues.push({
        key: fullKey(["tls", "mode"]),
        message:
          "an agent host's only server is its Prometheus, which serves TLS with the certificate in the secret federation (the central output agentFederation): remove it. To trust the central stack's TLS, set tls.caCertificate to its output caCertificate",
      });
    for (const key of ["tlsCertificate", "tlsKey"])
      if (given(key))
        issues.push({
          key: fullKey([key]),
          message:
            "an agent host's Prometheus serves the certificate the central stack issued for it, in the secret federation (the central output agentFederation): remove it",
        });
    if (tls.extraNames !== undefined) issues.push({ key: fullKey(["tls", "extraNames"]), message: "an agent host makes no server certificate: remove it" });
    return issues;
  }
  // An unknown mode is the schema's to report; the rules below depend on the mode.
  if (tls.mode !== undefined && !(TLS_MODES as readonly unknown[]).includes(tls.mode)) return issues;
  const mode = defaultTlsMode(values, role);
  if (mode === "provided") {
    if (!given("tlsCertificate"))
      issues.push({
        key: fullKey(["tlsCertificate"]),
        message: 'is required with tls.mode: provided: pulumi config set --secret tlsCertificate -- "$(cat chain.pem)"',
      });
    if (!given("tlsKey"))
      issues.push({ key: fullKey(["tlsKey"]), message: 'is required with tls.mode: provided: pulumi config set --secret tlsKey -- "$(cat key.pem)"' });
    // The stack's own clients reach the servers by container name and check the certificate against
    // publicHostname instead; Grafana's datasources read `serverName` only beside a CA of their own
    // (grafana-plugin-sdk-go backend/http_settings.go: serverName is parsed only when tlsAuthWithCACert
    // or tlsAuth is on), so every client is given the CA explicitly, a public CA's root included.
    if (tls.caCertificate === undefined)
      issues.push({
        key: fullKey(["tls", "caCertificate"]),
        message:
          "is required with tls.mode: provided: the CA certificate (PEM) that issued tlsCertificate, for a public CA its root (e.g. ISRG Root X1 for Let's Encrypt). The stack's own clients reach its servers by container name and check the certificate against publicHostname with it",
      });
    // Names are the generated certificate's; a provided one names what its issuer put in it.
    if (tls.extraNames !== undefined)
      issues.push({
        key: fullKey(["tls", "extraNames"]),
        message:
          "names the generated certificate; a provided certificate carries the names its issuer put in it: remove it (npm run preflight checks the certificate names publicHostname)",
      });
    for (const [key, problem] of [
      ["tlsCertificate", pemChainProblem],
      ["tlsKey", pemKeyProblem],
    ] as const) {
      const value = values[key];
      if (typeof value === "string" && value !== UNDECRYPTED_SECRET) {
        const message = problem(value);
        if (message) issues.push({ key: fullKey([key]), message });
      }
    }
  } else {
    for (const key of ["tlsCertificate", "tlsKey"])
      if (given(key))
        issues.push({ key: fullKey([key]), message: `is only used with tls.mode: provided (the mode is ${mode}): remove it, or set tls.mode: provided` });
    if (tls.caCertificate !== undefined)
      issues.push({
        key: fullKey(["tls", "caCertificate"]),
        message: `is the CA of provided certificates (tls.mode: provided; the mode is ${mode}): remove it${mode === "generated" ? " (the generated CA is the output caCertificate)" : ""}`,
      });
  }
  if (mode === "off") {
    if (tls.extraNames !== undefined)
      issues.push({ key: fullKey(["tls", "extraNames"]), message: "names server certificates, and tls.mode is off: remove it" });
    if (servesBeyondLoopback(values))
      issues.push({
        key: fullKey(["tls", "mode"]),
        message:
          "is off, yet the stack serves other hosts (agents[] or a bindAddress beyond loopback): logins and API keys would cross the network in clear text. Use generated or provided",
      });
  }
  return issues;
}

/** What a provided chain must look like here; what it names and whether it verifies is preflight's (scripts/lib/preflight/tls.ts). */
export function pemChainProblem(value: string): string | undefined {
  if (/PRIVATE KEY-----/.test(value)) return "holds a private key: give the key as tlsKey, the certificate chain here";
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(value)
    ? undefined
    : "must be a PEM certificate chain, leaf first (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";
}

export function pemKeyProblem(value: string): string | undefined {
  if (/ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(value))
    return "is an encrypted key: the servers read the key without a passphrase; decrypt it (openssl pkey -in key.pem -out plain.pem)";
  return /-----BEGIN ((RSA|EC) )?PRIVATE KEY-----[\s\S]+?-----END ((RSA|EC) )?PRIVATE KEY-----/.test(value)
    ? undefined
    : "must be a PEM private key (-----BEGIN PRIVATE KEY----- ..., or RSA/EC PRIVATE KEY)";
}

/** IPv4 addresses among names (a certificate lists them as IP SANs, the rest as DNS SANs). */
export function splitServerNames(names: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const unique = [...new Set(names)];
  return { dnsNames: unique.filter((name) => !IPV4.test(name)), ipAddresses: unique.filter((name) => IPV4.test(name)) };
}

/** A stack URL as clients use it: `https://` with tls on (every published server then speaks only TLS), as given otherwise. */
export function httpsWhen(url: string, tlsOn: boolean): string {
  return tlsOn ? url.replace(/^http:\/\//, "https://") : url;
}
