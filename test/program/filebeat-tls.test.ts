/**
 * The stack's own Filebeat with `tls.mode` on: its rendered filebeat.yml (from the program, under the
 * mock engine) read the way Beats reads `output.elasticsearch.ssl`, then a real TLS handshake verified as
 * Beats verifies it, against a server on 127.0.0.1 presenting certificates made here with openssl
 * (test/support/stack-tls-pki.ts), never committed.
 *
 * How Beats reads and uses it (elastic/elastic-agent-libs, which Beats 9 imports for all of this):
 * - config/config.go: configs are loaded with `ucfg.PathSep(".")`, so `ssl.certificate_authorities` is
 *   the key `certificate_authorities` of the `ssl` object;
 * - transport/httpcommon/httpcommon.go: the output's `ssl` is a `*tlscommon.Config` (`config:"ssl"`);
 * - transport/tlscommon/config.go, Config: the keys it has (`verification_mode`, `certificate_authorities`,
 *   `ca_trusted_fingerprint`, ...); types.go: `verification_mode` one of full, strict, none, certificate,
 *   full when absent (VerifyFull is the zero value);
 * - tls.go, LoadCertificateAuthorities / NewPEMReader: each CA is inline PEM when it starts with `-`,
 *   else a file path that is opened and must hold a PEM certificate;
 * - transport/tls.go: the dialler builds the client config with BuildModuleClientConfig(host), the host
 *   of the dialled address; tls_config.go, makeVerifyConnection: `full` verifies the chain up to the
 *   configured CAs and then verifyHostname(leaf, host); `certificate` the chain only;
 *   verifyHostname: an IP against the IP SANs (or an IP common name), a name against the DNS SANs (the
 *   common name only when there are none) with matchHostnames (validhostname.go: case-insensitive,
 *   a `*` only as the whole left-most label).
 * The host Filebeat dials comes from `hosts` through MakeURL (test/support/beats-make-url.ts).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import * as yaml from "js-yaml";
import type { PlanResult } from "../../scripts/lib/plan";
import { FILEBEAT_CA_PATH, FILEBEAT_CONFIG_PATH } from "../../components/logs/filebeat-config";
import { planIsolated, stackConfig } from "../support/plan";
import { makeURL } from "../support/beats-make-url";
import { makeStackTlsPki, StackTlsPki } from "../support/stack-tls-pki";

const HOST = "obs.example.internal";
const CONTAINER = "atra-obs-central-elasticsearch";
const SERVICES = [{ name: "api", metrics: "http://api:8000/metrics", logs: ["/srv/api/logs/api*.log"] }];
const CA = "-----BEGIN CERTIFICATE-----\nprovided-ca\n-----END CERTIFICATE-----\n";

/** The keys of tlscommon.Config, by their `config:` tags (elastic-agent-libs transport/tlscommon/config.go, types.go CertificateConfig inlined). */
const TLSCOMMON_KEYS = [
  "enabled",
  "verification_mode",
  "supported_protocols",
  "cipher_suites",
  "certificate_authorities",
  "certificate",
  "key",
  "key_passphrase",
  "key_passphrase_path",
  "disable_legacy_pem_support",
  "curve_types",
  "renegotiation",
  "ca_sha256",
  "ca_trusted_fingerprint",
];
const VERIFICATION_MODES = ["full", "strict", "none", "certificate"];

/** go-ucfg with PathSep("."): a dotted key is a path of nested objects. */
function expandDotted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandDotted);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const parts = key.split(".");
    let at = out;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    const last = parts[parts.length - 1];
    const expanded = expandDotted(item);
    at[last] =
      at[last] && typeof at[last] === "object" && expanded && typeof expanded === "object" ? { ...(at[last] as object), ...(expanded as object) } : expanded;
  }
  return out;
}

interface BeatsTls {
  mode: string;
  /** The PEM text of every configured CA, as LoadCertificateAuthorities reads it. */
  cas: string[];
}

/** `output.elasticsearch.ssl` unpacked into tlscommon.Config and its CAs loaded; files are read under `root` (the container's files). */
function readSsl(filebeatYml: string, root: string): { tls: BeatsTls; hosts: string[] } {
  const config = expandDotted(yaml.load(filebeatYml)) as { output: { elasticsearch: { hosts: string[]; ssl?: Record<string, unknown> } } };
  const output = config.output.elasticsearch;
  const ssl = output.ssl ?? {};
  for (const key of Object.keys(ssl)) expect(TLSCOMMON_KEYS).toContain(key);
  const mode = (ssl.verification_mode as string | undefined) ?? "full";
  expect(VERIFICATION_MODES).toContain(mode);
  const cas = ((ssl.certificate_authorities as string[] | undefined) ?? []).map((entry) =>
    entry.trim().startsWith("-") ? entry : fs.readFileSync(path.join(root, entry), "utf8"),
  );
  for (const pem of cas) expect(pem).toMatch(/-----BEGIN CERTIFICATE-----/);
  return { tls: { mode, cas }, hosts: output.hosts };
}

/** verifyHostname (tls_config.go) on Node's view of the leaf. */
function beatsVerifyHostname(host: string, cert: tls.PeerCertificate): Error | undefined {
  const sans = (cert.subjectaltname ?? "").split(/,\s*/).filter(Boolean);
  const ip = host.replace(/^\[|\]$/g, "");
  if (net.isIP(ip)) {
    const ips = sans.filter((san) => san.startsWith("IP Address:")).map((san) => san.slice("IP Address:".length));
    return ips.includes(ip) || cert.subject?.CN === ip ? undefined : new Error(`x509: certificate is not valid for ${host}`);
  }
  let names = sans.filter((san) => san.startsWith("DNS:")).map((san) => san.slice(4));
  if (names.length === 0 && cert.subject?.CN) names = [String(cert.subject.CN)];
  const match = (pattern: string, name: string) => {
    const patternParts = pattern.toLowerCase().split(".");
    const hostParts = name.toLowerCase().replace(/\.$/, "").split(".");
    return patternParts.length === hostParts.length && patternParts.every((part, index) => (index === 0 && part === "*") || part === hostParts[index]);
  };
  return names.some((name) => match(name, host)) ? undefined : new Error(`x509: certificate is valid for ${names.join(", ")}, not ${host}`);
}

/**
 * Filebeat's handshake with the first of `hosts`: the name from MakeURL, dialled here at `port` on
 * 127.0.0.1 (Docker's DNS would give the container's address), verified as the mode says.
 */
function beatsHandshake(config: { tls: BeatsTls; hosts: string[] }, port: number): Promise<"verified"> {
  const host = new URL(makeURL("", "", config.hosts[0], 9200)).hostname;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: host,
      ...(config.tls.cas.length > 0 ? { ca: config.tls.cas } : {}),
      rejectUnauthorized: config.tls.mode !== "none",
      checkServerIdentity: (_name, cert) => (config.tls.mode === "full" || config.tls.mode === "strict" ? beatsVerifyHostname(host, cert) : undefined),
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error("handshake timed out")));
    socket.once("secureConnect", () => {
      socket.end();
      resolve("verified");
    });
    socket.once("error", reject);
  });
}

let pki: StackTlsPki;
let tmp: string;
let generated: PlanResult;
let provided: PlanResult;
const servers: tls.Server[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atra-filebeat-tls-"));
  pki = makeStackTlsPki(tmp, HOST, [CONTAINER]);
  generated = await planIsolated("central", {
    config: stackConfig({ publicHostname: HOST, services: SERVICES, agents: [{ host: "app-1.example.internal" }] }),
  });
  provided = await planIsolated("central", {
    config: stackConfig(
      {
        publicHostname: HOST,
        services: SERVICES,
        agents: [{ host: "app-1.example.internal" }],
        tls: { mode: "provided", caCertificate: CA },
        tlsCertificate: "-----BEGIN CERTIFICATE-----\nprovided-leaf\n-----END CERTIFICATE-----\n",
        tlsKey: "-----BEGIN PRIVATE KEY-----\nprovided-key\n-----END PRIVATE KEY-----\n",
      },
      ["tlsCertificate", "tlsKey"],
    ),
  });
});
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A TLS server on 127.0.0.1 presenting `chain`; its port. */
async function serve(chain: string, key: string): Promise<number> {
  const server = tls.createServer({ cert: chain, key }, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

const filebeatUploads = (plan: PlanResult) =>
  plan.run.resources.find((r) => r.type === "docker:index/container:Container" && r.name === "filebeat")!.inputs.uploads as { file: string; content: string }[];

/**
 * The Filebeat container's files under a folder of the test: its filebeat.yml as planned, and at the CA
 * path the CA it trusts. The planned CA is the mock engine's stand-in; the test puts a real one at the same
 * path, after checking that the planned file is the stack's CA (the caCertificate output).
 */
function containerRoot(plan: PlanResult, name: string, ca: string): { yml: string; root: string } {
  const files = filebeatUploads(plan);
  expect(files.find((file) => file.file === FILEBEAT_CA_PATH)?.content).toBe(plan.run.outputs.caCertificate.value);
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, path.dirname(FILEBEAT_CA_PATH)), { recursive: true });
  fs.writeFileSync(path.join(root, FILEBEAT_CA_PATH), ca);
  return { yml: files.find((file) => file.file === FILEBEAT_CONFIG_PATH)!.content, root };
}

describe("generated certificates: full verification of the container's name", () => {
  test("the rendered ssl reads as Beats reads it: the CA file, full verification, the container on its port", () => {
    const { yml, root } = containerRoot(generated, "generated", pki.caPem);
    const config = readSsl(yml, root);
    expect(config.hosts).toEqual([`https://${CONTAINER}:9200`]);
    expect(config.tls).toEqual({ mode: "full", cas: [pki.caPem] });
  });

  test("a server with a certificate like the generated one (it names the container) is verified", async () => {
    const { yml, root } = containerRoot(generated, "generated", pki.caPem);
    await expect(beatsHandshake(readSsl(yml, root), await serve(pki.generatedChain, pki.generatedKey))).resolves.toBe("verified");
  });

  test("a certificate of the same CA that does not name the container: refused (the host name is checked)", async () => {
    const { yml, root } = containerRoot(generated, "generated", pki.caPem);
    await expect(beatsHandshake(readSsl(yml, root), await serve(pki.providedChain, pki.providedKey))).rejects.toThrow(
      `x509: certificate is valid for ${HOST}, not ${CONTAINER}`,
    );
  });

  test("another CA in the CA file: refused (the chain is checked)", async () => {
    const { yml, root } = containerRoot(generated, "generated-wrong-ca", pki.wrongCaPem);
    await expect(beatsHandshake(readSsl(yml, root), await serve(pki.generatedChain, pki.generatedKey))).rejects.toThrow(/certificate|issuer/i);
  });
});

describe("provided certificates: the chain verified, the container's name not", () => {
  test("the rendered ssl: the CA file and verification_mode certificate", () => {
    const { yml, root } = containerRoot(provided, "provided", pki.caPem);
    expect(readSsl(yml, root).tls).toEqual({ mode: "certificate", cas: [pki.caPem] });
  });

  test("a certificate naming publicHostname only is accepted; one from another CA is not", async () => {
    const { yml, root } = containerRoot(provided, "provided", pki.caPem);
    await expect(beatsHandshake(readSsl(yml, root), await serve(pki.providedChain, pki.providedKey))).resolves.toBe("verified");
    const wrong = containerRoot(provided, "provided-wrong-ca", pki.wrongCaPem);
    await expect(beatsHandshake(readSsl(wrong.yml, wrong.root), await serve(pki.providedChain, pki.providedKey))).rejects.toThrow(/certificate|issuer/i);
  });
});
