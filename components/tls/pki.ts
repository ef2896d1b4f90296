/**
 * The stack's certificates (`tls.mode`, config.ts): with `generated`, a stack CA and one server
 * certificate made by Pulumi with @pulumi/tls; with `provided`, the user's chain and key (secret config).
 * Either way the rest of the stack gets the same three things: the CA its clients and the agents trust
 * (not secret: it is the output `caCertificate`), the server chain, and the key (secret, so encrypted in
 * state and uploaded into the servers as a secret file; never in an artifact or output).
 *
 * @pulumi/tls 5.6.1 (node_modules/@pulumi/tls): PrivateKey (`algorithm`, `ecdsaCurve`; outputs
 * `privateKeyPem` secret by `additionalSecretOutputs`, privateKey.js), SelfSignedCert (`privateKeyPem`,
 * `subject`, `isCaCertificate`, `validityPeriodHours`, `earlyRenewalHours`, `allowedUses`; output `certPem`),
 * CertRequest (`privateKeyPem`, `subject`, `dnsNames`, `ipAddresses`; output `certRequestPem`) and
 * LocallySignedCert (`certRequestPem`, `caCertPem`, `caPrivateKeyPem`, `validityPeriodHours`,
 * `earlyRenewalHours`, `allowedUses`; output `certPem`). A certificate within `earlyRenewalHours` of its
 * end is `readyForRenewal` and the next `pulumi up` replaces it (selfSignedCert.d.ts, "earlyRenewalHours"),
 * and with it every container that uploads it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { CoreSettings } from "../config/slice";
import { dockerNames } from "../docker/names";
import { runningServices, type RunsConfig } from "../stack-services";
import { GENERATED_VALIDITY, splitServerNames, TlsConfig } from "./config";

/**
 * The names every server certificate of a stack carries: publicHostname, a specific bind address, the
 * stack-network names of the containers this stack runs (not those of an external Grafana or cluster),
 * loopback, and the extra names.
 */
export function serverNames(config: Pick<CoreSettings, "namePrefix" | "publicHostname" | "bindAddress"> & TlsConfig & RunsConfig): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  const names = dockerNames(config);
  return splitServerNames([
    config.publicHostname,
    ...(config.bindAddress === "0.0.0.0" ? [] : [config.bindAddress]),
    ...runningServices(config).map((key) => names[key]),
    "localhost",
    "127.0.0.1",
    ...config.tls.extraNames,
  ]);
}

export interface StackPkiArgs {
  config: Pick<CoreSettings, "stack" | "namePrefix" | "publicHostname" | "bindAddress"> & TlsConfig & RunsConfig;
  /** `tls.mode: provided`: the chain (leaf first) and key, from secret config. */
  provided?: { certificate: pulumi.Output<string>; key: pulumi.Output<string> };
}

/** What a server of the stack needs to speak TLS, and its clients to trust it (StackPki is one). */
export interface ServerTls {
  /** What clients trust (PEM); undefined: the system roots (a provided certificate from a public CA). */
  readonly caCertificate?: pulumi.Output<string>;
  /** The chain, leaf first (PEM). */
  readonly serverCertificate: pulumi.Output<string>;
  /** Its key (PEM), secret: uploaded only as a secret file. */
  readonly serverKey: pulumi.Output<string>;
  /**
   * The name the stack's own clients check the certificate against: publicHostname, which a generated
   * certificate names and the preflight requires of a provided one (the container names are only in a generated one).
   */
  readonly serverName: string;
}

export class StackPki extends pulumi.ComponentResource implements ServerTls {
  /** What clients trust (PEM). Undefined for a provided chain from a public CA (the clients' system roots then apply). */
  readonly caCertificate?: pulumi.Output<string>;
  /** The server certificate chain, leaf first (PEM). */
  readonly serverCertificate: pulumi.Output<string>;
  /** Its private key (PEM), secret. */
  readonly serverKey: pulumi.Output<string>;
  readonly serverName: string;

  constructor(name: string, args: StackPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:tls:StackPki", name, {}, opts);
    const { config } = args;
    this.serverName = config.publicHostname;
    if (config.tls.mode === "provided") {
      if (!args.provided) throw new Error("StackPki: tls.mode is provided but no tlsCertificate / tlsKey was handed over");
      this.caCertificate = config.tls.caCertificate === undefined ? undefined : pulumi.output(config.tls.caCertificate);
      this.serverCertificate = args.provided.certificate;
      this.serverKey = pulumi.secret(args.provided.key);
    } else {
      // ECDSA P-256: every server here takes it (Go's crypto/tls for Prometheus and Grafana, Java's JSSE for
      // Elasticsearch, Node's OpenSSL for Kibana) and it is far cheaper to make than RSA.
      const key = (keyName: string) => new tls.PrivateKey(keyName, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
      const caKey = key(`${name}-ca-key`);
      const ca = new tls.SelfSignedCert(
        `${name}-ca`,
        {
          privateKeyPem: caKey.privateKeyPem,
          subject: { commonName: `atra-observability ${config.stack} CA`, organization: "atra-observability" },
          isCaCertificate: true,
          validityPeriodHours: GENERATED_VALIDITY.caHours,
          earlyRenewalHours: GENERATED_VALIDITY.caEarlyRenewalHours,
          allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        { parent: this },
      );
      const serverKey = key(`${name}-server-key`);
      const { dnsNames, ipAddresses } = serverNames(config);
      const request = new tls.CertRequest(
        `${name}-server-request`,
        { privateKeyPem: serverKey.privateKeyPem, subject: { commonName: config.publicHostname, organization: "atra-observability" }, dnsNames, ipAddresses },
        { parent: this },
      );
      const server = new tls.LocallySignedCert(
        `${name}-server`,
        {
          certRequestPem: request.certRequestPem,
          caCertPem: ca.certPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          validityPeriodHours: GENERATED_VALIDITY.serverHours,
          earlyRenewalHours: GENERATED_VALIDITY.serverEarlyRenewalHours,
          allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        { parent: this },
      );
      this.caCertificate = ca.certPem;
      // Leaf then CA: a client given only the leaf's issuer still builds the chain.
      this.serverCertificate = pulumi.all([server.certPem, ca.certPem]).apply(([leaf, root]) => `${leaf.trimEnd()}\n${root.trimEnd()}\n`);
      this.serverKey = pulumi.secret(serverKey.privateKeyPem);
    }
    this.registerOutputs({ caCertificate: this.caCertificate });
  }
}
