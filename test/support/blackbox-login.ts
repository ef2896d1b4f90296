/**
 * The blackbox exporter's login (components/metrics/blackbox-login.ts) at local paths, for tests that run the
 * rendered prometheus.yml against Debian's blackbox exporter: a generated password, the rendered web config with
 * its bcrypt hash, the password file Prometheus reads, the healthcheck's credentials file, and prometheus.yml
 * with the container's password path replaced by the local file.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BLACKBOX_PASSWORD_PATH, blackboxHealthcheckCredentials, renderBlackboxWebConfig } from "../../components/metrics/blackbox-login";
import { bcryptHash } from "./local-prometheus";

export interface LocalBlackboxLogin {
  password: string;
  webConfigFile: string;
  passwordFile: string;
  credentialsFile: string;
  /** The exporter's flag for its web config. */
  flag: string;
  /** prometheus.yml (text) with every use of the container's password path pointing at the local file. */
  localize: (prometheusYaml: string) => string;
}

export function writeBlackboxLogin(dir: string): LocalBlackboxLogin {
  const password = randomBytes(16).toString("hex");
  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode: 0o444 });
    return file;
  };
  const webConfigFile = write("blackbox-web.yml", renderBlackboxWebConfig(bcryptHash(password)));
  const passwordFile = write("blackbox-password", password);
  const credentialsFile = write("blackbox-healthcheck-basic", blackboxHealthcheckCredentials(password));
  return {
    password,
    webConfigFile,
    passwordFile,
    credentialsFile,
    flag: `--web.config.file=${webConfigFile}`,
    localize: (prometheusYaml) => prometheusYaml.split(BLACKBOX_PASSWORD_PATH).join(passwordFile),
  };
}
