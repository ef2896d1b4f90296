/**
 * What a central stack makes for each agent host it pulls (agents[], components/agents/config.ts): a
 * password of its own, and a server certificate for that host from a CA the central Prometheus trusts.
 * The central Prometheus logs in with the password to that host's `/federate` alone
 * (prometheus-config.ts agentFederationJob); the agent host takes its entry of the output
 * `agentFederation` (the password's bcrypt hash for its web config, the certificate and key it serves).
 * Nothing here lets one host reach another: a host knows only the password it is pulled with.
 * Revoking a host is removing its agents[] entry: its job, password and certificate go at the next
 * `pulumi up`, the other hosts' are untouched (each is a resource of its own, named after its host).
 *
 * The CA: always a federation CA of this central stack's own, made here (validity as the stack CA's), never
 * the stack CA. The stack CA signs the central's own server certificate and is trusted by the central's own
 * clients (its scrapes of itself and Grafana, Grafana's datasources, the healthchecks); an agent certificate
 * from it would be one more certificate those clients accept. The federation CA is trusted only by the agent
 * jobs (prometheus-config.ts agentFederationJob, `ca_file` FEDERATION_CA_PATH, `server_name` the agent's host)
 * and by each agent's own clients (the issuer in its chain). Its key stays in state (secret), as the stack CA's.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { AgentHost } from "../agents/config";
import { GENERATED_VALIDITY, splitServerNames } from "../tls/config";

/** A CA that issues certificates: its certificate (PEM) and its key (PEM, secret). */
interface CertificateIssuer {
  caCertificate: pulumi.Output<string>;
  caKey: pulumi.Output<string>;
}

/** One agent host's entry of the output agentFederation, and what the central Prometheus needs of it. */
export interface AgentCredentials {
  host: string;
  password: pulumi.Output<string>;
  passwordHash: pulumi.Output<string>;
  /** Leaf then the issuing CA (PEM): the agent's healthcheck trusts the last. */
  certificate: pulumi.Output<string>;
  key: pulumi.Output<string>;
}

export interface AgentFederationArgs {
  agents: AgentHost[];
  stack: string;
}

/**
 * The names of an agent's certificate: its host alone, what the central job checks (`tls_config.server_name`)
 * and what the agent's own clients check too (metrics-stack.ts federatedAgentTls: they connect over loopback
 * and verify the name given, not the address: prometheus/common config/http_config.go `TLSConfig.ServerName`
 * sets Go's tls.Config.ServerName, which the handshake verifies against). No `localhost` / `127.0.0.1`: no
 * agent certificate is valid for a loopback name (the config rules refuse such an agents[].host too).
 */
export function agentCertificateNames(host: string): { dnsNames: string[]; ipAddresses: string[] } {
  return splitServerNames([host]);
}

export class AgentFederation extends pulumi.ComponentResource {
  /** The CA the central Prometheus trusts for every agent (PEM). */
  readonly caCertificate: pulumi.Output<string>;
  readonly agents: AgentCredentials[];

  constructor(name: string, args: AgentFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:metrics:AgentFederation", name, {}, opts);
    const key = (keyName: string) => new tls.PrivateKey(keyName, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
    const issuer = this.ownCa(name, args.stack, key);
    this.caCertificate = issuer.caCertificate;
    this.agents = args.agents.map((agent) => {
      // Letters and digits: safe in any file and far under bcrypt's 72 bytes. The hash is made once, at
      // create, and kept in state (hashicorp/terraform-provider-random internal/provider/resource_password.go:
      // `bcrypt_hash` set in Create, plan modifier UseStateForUnknown), so the agent's web config stays the same across ups.
      const password = new random.RandomPassword(`${name}-${agent.host}-password`, { length: 32, special: false }, { parent: this });
      const serverKey = key(`${name}-${agent.host}-key`);
      const request = new tls.CertRequest(
        `${name}-${agent.host}-request`,
        {
          privateKeyPem: serverKey.privateKeyPem,
          subject: { commonName: agent.host, organization: "atra-observability" },
          ...agentCertificateNames(agent.host),
        },
        { parent: this },
      );
      const certificate = new tls.LocallySignedCert(
        `${name}-${agent.host}-certificate`,
        {
          certRequestPem: request.certRequestPem,
          caCertPem: issuer.caCertificate,
          caPrivateKeyPem: issuer.caKey,
          validityPeriodHours: GENERATED_VALIDITY.serverHours,
          earlyRenewalHours: GENERATED_VALIDITY.serverEarlyRenewalHours,
          allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        { parent: this },
      );
      return {
        host: agent.host,
        password: pulumi.secret(password.result),
        passwordHash: pulumi.secret(password.bcryptHash),
        certificate: pulumi.all([certificate.certPem, issuer.caCertificate]).apply(([leaf, root]) => `${leaf.trimEnd()}\n${root.trimEnd()}\n`),
        key: pulumi.secret(serverKey.privateKeyPem),
      };
    });
    this.registerOutputs({ caCertificate: this.caCertificate });
  }

  private ownCa(name: string, stack: string, key: (keyName: string) => tls.PrivateKey): CertificateIssuer {
    const caKey = key(`${name}-ca-key`);
    const ca = new tls.SelfSignedCert(
      `${name}-ca`,
      {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: `atra-observability ${stack} federation CA`, organization: "atra-observability" },
        isCaCertificate: true,
        validityPeriodHours: GENERATED_VALIDITY.caHours,
        earlyRenewalHours: GENERATED_VALIDITY.caEarlyRenewalHours,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      },
      { parent: this },
    );
    return { caCertificate: ca.certPem, caKey: pulumi.secret(caKey.privateKeyPem) };
  }

  /** The output agentFederation: host to its entry, as one secret. */
  output(): pulumi.Output<Record<string, { password: string; passwordHash: string; certificate: string; key: string }>> {
    return pulumi.secret(
      pulumi
        .all(this.agents.map((agent) => pulumi.all([agent.password, agent.passwordHash, agent.certificate, agent.key])))
        .apply((entries) =>
          Object.fromEntries(
            entries.map(([password, passwordHash, certificate, key], index) => [this.agents[index].host, { password, passwordHash, certificate, key }]),
          ),
        ),
    );
  }
}

/**
 * The issuing CA in a chain (its last certificate), which a federated agent's healthcheck trusts. The
 * config rules refuse a chain without one; the offline plan's placeholder (no PEM) is returned as is.
 */
export function issuingCa(chain: string): string {
  const blocks = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.length === 0 ? chain : `${blocks[blocks.length - 1]}\n`;
}
