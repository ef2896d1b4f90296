/**
 * The preflight's TLS checks (`npm run preflight`, scripts/preflight.ts), all before anything is made:
 *
 * - `tls.mode: provided` (components/tls/config.ts): the chain must name publicHostname, the key must be the
 *   leaf's, and the chain must verify up to the CA the stack's clients will trust (`tls.caCertificate`, else
 *   this machine's roots, for a public CA) and be valid now. The chain and key are secrets: they are read
 *   decrypted from the Pulumi CLI (`pulumi config --show-secrets --json`) into this process only, never
 *   printed. Node's crypto.X509Certificate: `checkHost` / `checkIP` (subjectAltName first, as RFC 6125 and
 *   Go's crypto/x509 `VerifyHostname` do), `checkPrivateKey`, `checkIssued` + `verify` (issuer name and
 *   signature), `validFrom` / `validTo`.
 * - With tls on (generated or provided): the Grafana provider checks Grafana's certificate against the host of
 *   `grafana.providerUrl` itself (grafana/terraform-provider-grafana pkg/provider/configure_clients.go,
 *   createGrafanaAPIClient: the transport's Host is the URL's, its TLS config from parseTLSconfig holds only
 *   the CA, a client certificate and insecure_skip_verify, no server name), so the certificate must name that
 *   host (127.0.0.1 for the local end of the deploy's SSH forward). The Elasticsearch and Kibana providers check
 *   against publicHostname whatever the URL (components/elastic/connection.ts `serverName`), so they need nothing more.
 */
import { spawn } from "child_process";
import { createPrivateKey, X509Certificate } from "crypto";
import * as tls from "tls";
import type { StackConfig } from "../../../components/config/resolve";
import { serverNames } from "../../../components/tls/pki";
import type { CheckResult } from "./checks";

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface ProvidedTls {
  /** `tlsCertificate`: the chain, leaf first. */
  chain: string;
  /** `tlsKey`. */
  key: string;
  publicHostname: string;
  /** `tls.caCertificate`: what the stack's clients trust; absent for a public CA (then the chain must verify up to one of `roots`). */
  ca?: string;
  /** The roots a chain without `ca` must verify up to (PEM); default: this machine's (Node's bundled and the system's). */
  roots?: string[];
  now?: Date;
}

/** The roots a client on this machine trusts: Node's bundled Mozilla roots and the operating system's store. */
export function trustedRoots(): string[] {
  const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (!get) return [...tls.rootCertificates];
  return [...new Set([...get("default"), ...safe(() => get("system"))])];
}

function safe(read: () => string[]): string[] {
  try {
    return read();
  } catch {
    return [];
  }
}

function names(certificate: X509Certificate): string {
  return certificate.subjectAltName ?? certificate.subject.replace(/\n/g, ", ");
}

function namesHost(certificate: X509Certificate, host: string): boolean {
  return IPV4.test(host) ? certificate.checkIP(host) !== undefined : certificate.checkHost(host) !== undefined;
}

export function providedTlsResults(input: ProvidedTls): CheckResult[] {
  const results: CheckResult[] = [];
  let chain: X509Certificate[];
  try {
    chain = (input.chain.match(CERTIFICATE_BLOCK) ?? []).map((pem) => new X509Certificate(pem));
  } catch (error) {
    return [{ id: "tls-certificate", status: "fail", summary: `tlsCertificate: not a readable PEM chain (${(error as Error).message})` }];
  }
  if (chain.length === 0) return [{ id: "tls-certificate", status: "fail", summary: "tlsCertificate: no PEM certificate in it" }];
  const leaf = chain[0];
  const host = input.publicHostname;
  results.push(
    namesHost(leaf, host)
      ? { id: "tls-names-host", status: "pass", summary: `tlsCertificate names publicHostname ${host}` }
      : {
          id: "tls-names-host",
          status: "fail",
          summary: `tlsCertificate does not name publicHostname ${host} (it names: ${names(leaf)}); every client checks the certificate against it`,
          remedy: [
            `issue a certificate with subjectAltName ${IPV4.test(host) ? "IP" : "DNS"}:${host}`,
            "or set publicHostname to a name the certificate carries",
          ],
        },
  );
  let keyMatches = false;
  try {
    keyMatches = leaf.checkPrivateKey(createPrivateKey(input.key));
  } catch (error) {
    results.push({
      id: "tls-key",
      status: "fail",
      summary: `tlsKey: not a readable private key (${(error as Error).message.split("\n")[0]})`,
      remedy: ['pulumi config set --secret tlsKey -- "$(cat key.pem)" (unencrypted PEM)'],
    });
  }
  if (!results.some((result) => result.id === "tls-key"))
    results.push(
      keyMatches
        ? { id: "tls-key", status: "pass", summary: "tlsKey is the key of the leaf certificate" }
        : {
            id: "tls-key",
            status: "fail",
            summary: "tlsKey does not match the leaf certificate of tlsCertificate",
            remedy: ["give the key the certificate was issued for (pulumi config set --secret tlsKey ...)"],
          },
    );
  const chainProblem = verifyChain(chain, input.ca, input.ca ? [] : (input.roots ?? trustedRoots()), input.now ?? new Date());
  results.push(
    chainProblem
      ? {
          id: "tls-chain",
          status: "fail",
          summary: `tlsCertificate: ${chainProblem}`,
          remedy: [
            "put the leaf first, then each intermediate",
            input.ca
              ? "set tls.caCertificate to the root that issued it: pulumi config set --path 'tls.caCertificate' -- \"$(cat root.pem)\""
              : "a certificate of a private CA: set tls.caCertificate to that CA (pulumi config set --path 'tls.caCertificate' -- \"$(cat root.pem)\")",
          ],
        }
      : {
          id: "tls-chain",
          status: "pass",
          summary: `tlsCertificate verifies up to ${input.ca ? "tls.caCertificate" : "a root this machine trusts"}, valid until ${leaf.validTo}`,
        },
  );
  return results;
}

/** The first problem of a chain (leaf first) up to `caPem`, or else up to one of `roots`; undefined when it verifies. */
function verifyChain(chain: X509Certificate[], caPem: string | undefined, roots: string[], now: Date): string | undefined {
  let ca: X509Certificate | undefined;
  try {
    ca = caPem === undefined ? undefined : new X509Certificate(caPem);
  } catch (error) {
    return `tls.caCertificate is not readable (${(error as Error).message})`;
  }
  const subject = (certificate: X509Certificate) => certificate.subject.replace(/\n/g, ", ");
  // tls.caCertificate given again at the end of the chain is the same link, not one more.
  const links = ca ? [...chain.filter((certificate) => certificate.fingerprint256 !== ca.fingerprint256), ca] : chain;
  for (const [index, certificate] of links.entries()) {
    if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo))
      return `certificate ${index} (${subject(certificate)}) is not valid now: ${certificate.validFrom} to ${certificate.validTo}`;
    const issuer = links[index + 1];
    if (!issuer) break;
    if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey))
      return `certificate ${index} (${subject(certificate)}) is not signed by the next one (${subject(issuer)})${
        ca && issuer === ca ? ": the chain does not lead to tls.caCertificate" : ""
      }`;
  }
  if (ca) return undefined;
  // A public CA: the last certificate must be a trusted root, or be issued by one.
  const last = links[links.length - 1];
  const trusted = roots.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  if (trusted.some((root) => root.fingerprint256 === last.fingerprint256)) return undefined;
  const root = trusted.find((candidate) => last.checkIssued(candidate) && last.verify(candidate.publicKey));
  if (!root)
    return `the chain does not lead to a root this machine trusts (its last certificate, ${subject(last)}, is issued by ${last.issuer.replace(/\n/g, ", ")}); a private CA's certificate needs tls.caCertificate`;
  if (now < new Date(root.validFrom) || now > new Date(root.validTo)) return `its root ${subject(root)} is not valid now: ${root.validFrom} to ${root.validTo}`;
  return undefined;
}

/** Whether a name (DNS, with `*.` wildcards, or IPv4) list covers a host, as a client checks it (one wildcard label). */
function listNames(list: string[], host: string): boolean {
  const wanted = host.toLowerCase();
  return list.some((name) => {
    const lower = name.toLowerCase();
    if (lower === wanted) return true;
    return lower.startsWith("*.") && !IPV4.test(wanted) && wanted.slice(wanted.indexOf(".") + 1) === lower.slice(2) && wanted.indexOf(".") > 0;
  });
}

/**
 * Whether the stack's Grafana certificate names the host the Grafana provider reaches it at
 * (`grafana.providerUrl`): the generated certificate's names (components/tls/pki.ts serverNames), or a
 * provided leaf. Undefined when the provider does not talk TLS to the stack's own Grafana.
 */
export function grafanaProviderNameResult(config: StackConfig, providedLeaf?: X509Certificate): CheckResult | undefined {
  if (config.role !== "central" || config.tls.mode === "off" || config.grafana.external) return undefined;
  const url = new URL(config.grafana.providerUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const id = "tls-grafana-provider-name";
  let named: boolean;
  let carries: string;
  if (config.tls.mode === "generated") {
    const { dnsNames, ipAddresses } = serverNames(config);
    named = listNames([...dnsNames, ...ipAddresses], host);
    carries = [...dnsNames, ...ipAddresses].join(", ");
  } else {
    if (!providedLeaf) return undefined;
    named = namesHost(providedLeaf, host);
    carries = names(providedLeaf);
  }
  const direct = `https://${config.publicHostname}:${config.ports.grafana}`;
  return named
    ? { id, status: "pass", summary: `the Grafana provider reaches ${url.origin} (grafana.providerUrl), a name the server certificate carries` }
    : {
        id,
        status: "fail",
        summary: `the Grafana provider checks Grafana's certificate against ${host} (grafana.providerUrl ${url.origin}), which the certificate does not name (it names: ${carries}); it would refuse the connection`,
        remedy:
          config.tls.mode === "generated"
            ? [
                `pulumi config set --path 'tls.extraNames[0]' ${host}`,
                `or pulumi config set --path grafana.providerUrl ${direct} (reached directly, no forward)`,
              ]
            : [
                `issue the certificate with ${IPV4.test(host) ? "IP" : "DNS"}:${host} too`,
                `or pulumi config set --path grafana.providerUrl ${direct} (reached directly: npm run deploy opens no forward for it; this machine must reach that port)`,
              ],
      };
}

export interface TlsSecrets {
  certificate?: string;
  key?: string;
  /** Why they could not be read (the Pulumi CLI's error); never a secret. */
  error?: string;
}

/** Every TLS check of a stack: none for `off`; the Grafana provider's name for generated; that and the provided chain, key and names. */
export function tlsPreflightResults(config: StackConfig, secrets?: TlsSecrets, roots?: string[], now?: Date): CheckResult[] {
  if (config.role !== "central" || config.tls.mode === "off") return [];
  if (config.tls.mode === "generated") {
    // The CA and certificate are made by `pulumi up` (components/tls/pki.ts); only their names can be checked now.
    const named = grafanaProviderNameResult(config);
    return named ? [named] : [];
  }
  if (!secrets || secrets.error || secrets.certificate === undefined || secrets.key === undefined)
    return [
      {
        id: "tls-certificate",
        status: "fail",
        summary: `tls.mode provided: cannot read tlsCertificate and tlsKey to check them${secrets?.error ? `: ${secrets.error}` : ""}`,
        remedy: [
          "set the stack's passphrase (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) or log in to its secrets provider",
          'and set both: pulumi config set --secret tlsCertificate -- "$(cat fullchain.pem)"; pulumi config set --secret tlsKey -- "$(cat privkey.pem)"',
        ],
      },
    ];
  const results = providedTlsResults({
    chain: secrets.certificate,
    key: secrets.key,
    publicHostname: config.publicHostname,
    ca: config.tls.caCertificate,
    roots,
    now,
  });
  let leaf: X509Certificate | undefined;
  try {
    const first = secrets.certificate.match(CERTIFICATE_BLOCK)?.[0];
    leaf = first ? new X509Certificate(first) : undefined;
  } catch {
    leaf = undefined;
  }
  const named = grafanaProviderNameResult(config, leaf);
  return [...results, ...(named ? [named] : [])];
}

/**
 * The decrypted values of a stack's secret keys, from the Pulumi CLI: `pulumi config --show-secrets --json`
 * prints `{"<namespace>:<key>": {"value": "...", "secret": true}}` (pulumi/pulumi pkg/cmd/pulumi/config/config.go,
 * listConfig, `configValueJSON`). The values stay in this process; on an error only the CLI's stderr is reported,
 * never its stdout (which holds them).
 */
export async function readSecretConfig(options: {
  /** argv prefix of the Pulumi CLI (scripts/lib/verify/pulumi-cli.ts). */
  pulumi: string[];
  env?: NodeJS.ProcessEnv;
  stack: string;
  namespace: string;
  keys: string[];
  cwd: string;
  /** The stack file, when it is not beside Pulumi.yaml. */
  configFile?: string;
  timeoutMs?: number;
}): Promise<TlsSecrets & { values?: Record<string, string> }> {
  const [command, ...prefix] = options.pulumi;
  const args = [
    ...prefix,
    "config",
    "--show-secrets",
    "--json",
    "--stack",
    options.stack,
    ...(options.configFile ? ["--config-file", options.configFile] : []),
  ];
  const answer = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: string }>((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: "", stderr: "", error: error.message });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const said =
    answer.error ?? (answer.stderr.split("\n").find((line) => /error/i.test(line)) || answer.stderr.trim().split("\n")[0] || `exit code ${answer.code}`);
  if (answer.error || answer.code !== 0) return { error: `\`pulumi config --show-secrets\` failed: ${said.trim()}` };
  let parsed: Record<string, { value?: unknown }>;
  try {
    parsed = JSON.parse(answer.stdout) as Record<string, { value?: unknown }>;
  } catch {
    return { error: "`pulumi config --show-secrets --json` did not print JSON" };
  }
  const values: Record<string, string> = {};
  for (const key of options.keys) {
    const entry = parsed[`${options.namespace}:${key}`] ?? parsed[key];
    if (entry && typeof entry.value === "string") values[key] = entry.value;
  }
  return { values };
}
