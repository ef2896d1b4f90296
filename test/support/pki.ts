/** Certificates for the HTTPS tests, made with Debian's openssl in a folder the test owns. */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface Pki {
  caPem: string;
  caFingerprint: string;
  wrongCaPem: string;
  wrongCaFingerprint: string;
  serverKey: string;
  /** The server's certificate followed by its CA: the chain the server presents. */
  serverChain: string;
}

/** A CA, a second (wrong) CA, and a server certificate for 127.0.0.1 signed by the first, with openssl. */
export function makePki(dir: string): Pki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const ca = (name: string) => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
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
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    const pem = fs.readFileSync(path.join(dir, `${name}.pem`), "utf8");
    return { pem, fingerprint: crypto.createHash("sha256").update(new crypto.X509Certificate(pem).raw).digest("hex") };
  };
  const good = ca("atra-test-ca");
  const wrong = ca("atra-wrong-ca");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(path.join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "atra-test-ca.pem",
    "-CAkey",
    "atra-test-ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  );
  return {
    caPem: good.pem,
    caFingerprint: good.fingerprint,
    wrongCaPem: wrong.pem,
    wrongCaFingerprint: wrong.fingerprint,
    serverKey: fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    serverChain: fs.readFileSync(path.join(dir, "server.pem"), "utf8") + good.pem,
  };
}
