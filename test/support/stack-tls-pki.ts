/**
 * Certificates for the logs-over-TLS tests, made with Debian's openssl in a folder the test owns, never
 * committed: ECDSA P-256 like components/tls/pki.ts makes them. A CA; a "generated" server certificate
 * naming what StackPki's names (publicHostname, the containers' stack-network names, localhost,
 * 127.0.0.1); a "provided" one naming publicHostname only (all a provided certificate must name); and a
 * second, wrong CA.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface StackTlsPki {
  caPem: string;
  wrongCaPem: string;
  /** Leaf then CA, as StackPki's serverCertificate. */
  generatedChain: string;
  generatedKey: string;
  /** Leaf naming publicHostname only, then CA. */
  providedChain: string;
  providedKey: string;
}

export function makeStackTlsPki(dir: string, publicHostname: string, containerNames: string[]): StackTlsPki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
  const key = (name: string) => openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  const ca = (name: string) => {
    key(name);
    openssl(
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    );
    return read(`${name}.pem`);
  };
  const caPem = ca("atra-stack-ca");
  const wrongCaPem = ca("atra-other-ca");
  const server = (name: string, sans: string[]) => {
    key(name);
    openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${publicHostname}`);
    fs.writeFileSync(
      path.join(dir, `${name}.ext`),
      `subjectAltName=${sans.join(",")}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "atra-stack-ca.pem",
      "-CAkey",
      "atra-stack-ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
    return { chain: read(`${name}.pem`) + caPem, key: read(`${name}.key`) };
  };
  const generated = server("generated", [`DNS:${publicHostname}`, ...containerNames.map((name) => `DNS:${name}`), "DNS:localhost", "IP:127.0.0.1"]);
  const provided = server("provided", [`DNS:${publicHostname}`]);
  return {
    caPem,
    wrongCaPem,
    generatedChain: generated.chain,
    generatedKey: generated.key,
    providedChain: provided.chain,
    providedKey: provided.key,
  };
}
