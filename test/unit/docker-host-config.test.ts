/**
 * `dockerHost` with a password in it is refused at its key (issue 17, item 8). The provider stores its
 * `host` in state in plain text, the stack file is in git, and an ssh:// host with a password is refused
 * at `up` anyway: the provider dials ssh:// through docker/cli's connection helper
 * (kreuzwerker/terraform-provider-docker internal/provider/config.go, connhelper.GetConnectionHelperWithSSHOpts),
 * and docker/cli cli/connhelper/ssh/ssh.go ParseURL answers "plain-text password is not supported".
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { hostHasPassword } from "../../components/docker/config";
import { dockerHostInUse, emptyPassphraseProblem, plainTcpProblem, programPassphraseProblem, stackFileUsesPassphrase } from "../../components/docker/host";
import * as fs from "fs";
import * as path from "path";
import { makePki } from "../support/pki";
import { tempDir } from "../support/real-tools";

const PASSWORD = "hunter2-Secret";

function problems(values: Record<string, unknown>): string[] {
  try {
    resolveStackConfig({ stack: "dev", values, secretKeys: [] });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
    throw error;
  }
  return [];
}

describe("a password inside dockerHost", () => {
  test.each([`ssh://deploy:${PASSWORD}@docker-1.example.com`, `tcp://admin:${PASSWORD}@docker-1.example.com:2376`, `ssh://deploy:@docker-1.example.com:22`])(
    "a host with user:password@ (#%#) is refused at its key, without echoing the password",
    (dockerHost) => {
      const tls = dockerHost.startsWith("tcp:") ? { dockerCertPath: "/home/ops/.docker/docker-1" } : {};
      const found = problems({ dockerHost, ...tls, grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } });
      expect(found).toEqual([
        "atra-observability:dockerHost: must not carry a password (user:password@): it would sit in plain text in the stack file and in state; use an SSH key (ssh-agent or ~/.ssh/config) or TLS certificates",
      ]);
      expect(found.join("\n")).not.toContain(PASSWORD);
    },
  );

  test.each(["ssh://deploy@docker-1.example.com", "ssh://deploy@docker-1.example.com:2222", "unix:///var/run/docker.sock", "ssh://docker-1/var/run/x:y@z"])(
    "%s has no password",
    (dockerHost) => {
      expect(hostHasPassword(dockerHost)).toBe(false);
      expect(problems({ dockerHost, grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } })).toEqual([]);
    },
  );
});

/**
 * A tcp:// Docker host without TLS is refused (issue 21): the provider then talks to the Engine in clear
 * (kreuzwerker/terraform-provider-docker internal/provider/config.go NewClient: without cert_material/key_material
 * or cert_path it builds a plain client), and with materials but no CA it skips verifying the host
 * (buildHTTPClientFromBytes: InsecureSkipVerify when ca is empty).
 */
describe("tcp:// Docker hosts and their TLS material", () => {
  const base = { grafana: { providerUrl: "http://127.0.0.1:13000" }, logs: { enabled: false } };
  let pki: ReturnType<typeof makePki>;
  let dir: string;
  beforeAll(() => {
    dir = tempDir("atra-docker-tls-");
    pki = makePki(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const problemsWith = (values: Record<string, unknown>, secretKeys: string[] = []) => {
    try {
      resolveStackConfig({ stack: "dev", values: { ...base, ...values }, secretKeys });
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.key}: ${issue.message}`);
      throw error;
    }
    return [];
  };

  test("tcp:// without any TLS material is refused at dockerHost, naming the keys that give it", () => {
    const found = problemsWith({ dockerHost: "tcp://10.0.0.5:2376" });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^atra-observability:dockerHost: is tcp:\/\/ without TLS: every request, container environments and their secrets included, would cross the network in clear/,
    );
    expect(found[0]).toContain(
      "dockerCertPath (a directory with ca.pem, cert.pem, key.pem), or dockerCaCertificate, dockerClientCertificate and the secret dockerClientKey",
    );
  });

  test("dockerCertPath, or the three PEMs with the key as a secret, are accepted and reach the config", () => {
    expect(problemsWith({ dockerHost: "tcp://10.0.0.5:2376", dockerCertPath: "/home/ops/.docker/docker-1" })).toEqual([]);
    const materials = {
      dockerHost: "tcp://10.0.0.5:2376",
      dockerCaCertificate: pki.caPem,
      dockerClientCertificate: pki.serverChain.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n",
      dockerClientKey: pki.serverKey,
    };
    expect(problemsWith(materials, ["dockerClientKey"])).toEqual([]);
    const resolved = resolveStackConfig({ stack: "dev", values: { ...base, ...materials }, secretKeys: ["dockerClientKey"] });
    expect(resolved.config.dockerTls).toEqual({ caCertificate: pki.caPem, clientCertificate: materials.dockerClientCertificate });
    expect(JSON.stringify(resolved.config)).not.toContain(pki.serverKey.trim().split("\n")[1]);
    expect(resolved.secrets.dockerClientKey).toBe(pki.serverKey);
  });

  test("partial material names each missing key; the key must be a secret and a PEM key; both ways at once are refused", () => {
    expect(
      problemsWith({ dockerHost: "tcp://10.0.0.5:2376", dockerClientCertificate: pki.caPem, dockerClientKey: pki.serverKey }, ["dockerClientKey"]),
    ).toEqual([
      expect.stringMatching(
        /^atra-observability:dockerCaCertificate: is required with dockerClientCertificate and dockerClientKey: a tcp:\/\/ Docker host needs the CA \(without it the provider skips verifying the host\)/,
      ),
    ]);
    expect(
      problemsWith({ dockerHost: "tcp://10.0.0.5:2376", dockerCaCertificate: pki.caPem, dockerClientCertificate: pki.caPem, dockerClientKey: pki.serverKey }),
    ).toEqual([expect.stringMatching(/^atra-observability:dockerClientKey: .*secret/)]);
    expect(
      problemsWith({ dockerHost: "tcp://10.0.0.5:2376", dockerCaCertificate: pki.caPem, dockerClientCertificate: pki.caPem, dockerClientKey: "not a key" }, [
        "dockerClientKey",
      ]),
    ).toEqual(["atra-observability:dockerClientKey: must be a PEM private key (-----BEGIN PRIVATE KEY----- ..., or RSA/EC PRIVATE KEY)"]);
    expect(problemsWith({ dockerHost: "tcp://10.0.0.5:2376", dockerCertPath: "/x", dockerCaCertificate: pki.caPem })).toEqual([
      "atra-observability:dockerCaCertificate: and dockerCertPath are two ways to give the same TLS material (the provider refuses both): keep one",
    ]);
    expect(problemsWith({ dockerHost: "ssh://deploy@docker-1", dockerCertPath: "/x" })).toEqual([
      "atra-observability:dockerCertPath: is TLS to a tcp:// Docker host, and dockerHost is ssh://: remove it",
    ]);
  });

  test("DOCKER_HOST=tcp:// (no dockerHost) is refused where the environment is known, unless TLS material is there", () => {
    const choice = dockerHostInUse("dev", undefined, { DOCKER_HOST: "tcp://10.0.0.9:2376" });
    expect(plainTcpProblem(choice, false, {})).toContain("DOCKER_HOST=tcp://10.0.0.9:2376 is tcp:// without TLS");
    expect(plainTcpProblem(choice, true, {})).toBeUndefined();
    expect(plainTcpProblem(choice, false, { DOCKER_CERT_PATH: "/home/ops/.docker" })).toBeUndefined();
    expect(plainTcpProblem(dockerHostInUse("dev", undefined, { DOCKER_HOST: "ssh://a@b" }), false, {})).toBeUndefined();
  });
});

/**
 * The dev stack's empty passphrase (deploy.sh's default) is refused when the Docker host is remote: its state
 * then holds the passwords of services other people reach, encrypted under a key anyone can derive.
 */
describe("the dev stack's empty passphrase on a remote Docker host", () => {
  test.each(["ssh://deploy@docker-1.example.com", "tcp://10.0.0.5:2376"])(
    "%s with no passphrase set, or an empty one, is refused naming the variable",
    (host) => {
      expect(emptyPassphraseProblem("dev", host, {})).toContain(
        `stack "dev" deploys to the remote Docker host ${host}, but neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set (the dev stack's default is the empty passphrase)`,
      );
      expect(emptyPassphraseProblem("prod", host, { PULUMI_CONFIG_PASSPHRASE: "" })).toContain("but PULUMI_CONFIG_PASSPHRASE is empty");
      const dir = tempDir("atra-passphrase-");
      try {
        const file = path.join(dir, "passphrase");
        fs.writeFileSync(file, "\n");
        expect(emptyPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE_FILE: file })).toContain(`PULUMI_CONFIG_PASSPHRASE_FILE (${file}) is empty`);
        fs.writeFileSync(file, "correct horse\n");
        expect(emptyPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE_FILE: file })).toBeUndefined();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("a passphrase, the local socket, a stack with no default, or another secrets provider: no problem", () => {
    expect(emptyPassphraseProblem("dev", "ssh://deploy@docker-1", { PULUMI_CONFIG_PASSPHRASE: "correct horse" })).toBeUndefined();
    expect(emptyPassphraseProblem("dev", "unix:///var/run/docker.sock", {})).toBeUndefined();
    expect(emptyPassphraseProblem("prod", "ssh://deploy@docker-1", {})).toBeUndefined();
    expect(emptyPassphraseProblem("dev", "ssh://deploy@docker-1", {}, "awskms://alias/atra")).toBeUndefined();
    expect(emptyPassphraseProblem("dev", "ssh://deploy@docker-1", {}, "passphrase")).toContain("empty passphrase");
  });
});

/**
 * The Grafana, Elasticsearch and Kibana providers run where `pulumi up` runs: with any Docker host on another
 * machine (ssh://, and tcp:// not to loopback) their default 127.0.0.1 would be the deploying machine, so their
 * URLs are required, with the same message for both schemes (issue 21 review, m4).
 */
describe("the provider URLs with a Docker host on another machine", () => {
  const tls = { dockerCertPath: "/etc/docker-tls" };
  const required = (key: string) =>
    `atra-observability:${key}: is required with a remote dockerHost (ssh://, or tcp:// to another machine): the default 127.0.0.1 is the machine running \`pulumi up\`, not the Docker host. Give the local end of an SSH tunnel to the published port, or the published address on the Docker host (see docs/remote-docker-host.md)`;

  test.each(["ssh://deploy@docker-1.example.com", "tcp://10.0.0.5:2376", "tcp://docker-1.example.com:2376"])(
    "%s without them: each is required",
    (dockerHost) => {
      const found = problems({ dockerHost, ...(dockerHost.startsWith("tcp") ? tls : {}) });
      expect(found).toEqual(
        expect.arrayContaining([required("grafana.providerUrl"), required("logs.elasticsearchProviderUrl"), required("logs.kibanaProviderUrl")]),
      );
    },
  );

  test.each(["tcp://127.0.0.1:2376", "tcp://localhost:2376", "unix:///var/run/docker.sock"])("%s (this machine): not required", (dockerHost) => {
    expect(problems({ dockerHost, ...(dockerHost.startsWith("tcp") ? tls : {}) })).toEqual([]);
  });
});

/**
 * `pulumi up` run directly skips the preflight: the program checks the empty passphrase itself (issue 21 review, m3),
 * from the environment the Pulumi CLI hands it, where that is known: the stack file says the passphrase provider
 * (an `encryptionsalt`, no other `secretsprovider:`) and every passphrase variable set is blank.
 */
describe("the program's own check of an empty passphrase on a remote Docker host", () => {
  let dir: string;
  let stackFile: string;
  beforeEach(() => {
    dir = tempDir("atra-program-passphrase-");
    stackFile = path.join(dir, "Pulumi.dev.yaml");
    fs.writeFileSync(stackFile, "encryptionsalt: v1:abc:v1:def:ghi\nconfig:\n  atra-observability:dockerHost: ssh://deploy@docker-1\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const host = "ssh://deploy@docker-1";

  test("an empty PULUMI_CONFIG_PASSPHRASE, or an empty file, with the passphrase provider: refused naming the variable", () => {
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "" }, stackFile)).toContain("but PULUMI_CONFIG_PASSPHRASE is empty");
    expect(programPassphraseProblem("prod", "tcp://10.0.0.5:2376", { PULUMI_CONFIG_PASSPHRASE: " " }, stackFile)).toContain(
      "PULUMI_CONFIG_PASSPHRASE is empty",
    );
    const file = path.join(dir, "passphrase");
    fs.writeFileSync(file, "\n");
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE_FILE: file }, stackFile)).toContain(
      `PULUMI_CONFIG_PASSPHRASE_FILE (${file}) is empty`,
    );
  });

  test("not known, so not refused: no variable set (the CLI asked), a passphrase in either, the local socket, another provider, no stack file", () => {
    expect(programPassphraseProblem("dev", host, {}, stackFile)).toBeUndefined();
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "correct horse" }, stackFile)).toBeUndefined();
    const file = path.join(dir, "passphrase");
    fs.writeFileSync(file, "correct horse\n");
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: file }, stackFile)).toBeUndefined();
    expect(programPassphraseProblem("dev", "unix:///var/run/docker.sock", { PULUMI_CONFIG_PASSPHRASE: "" }, stackFile)).toBeUndefined();
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "" }, path.join(dir, "Pulumi.missing.yaml"))).toBeUndefined();
    fs.writeFileSync(stackFile, "secretsprovider: awskms://alias/atra\nencryptedkey: abc\n");
    expect(stackFileUsesPassphrase(stackFile)).toBe(false);
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "" }, stackFile)).toBeUndefined();
    fs.writeFileSync(stackFile, "config:\n  atra-observability:logs: {}\n"); // a service backend's own provider: no salt
    expect(programPassphraseProblem("dev", host, { PULUMI_CONFIG_PASSPHRASE: "" }, stackFile)).toBeUndefined();
    fs.writeFileSync(stackFile, "secretsprovider: passphrase\nencryptionsalt: v1:abc\n");
    expect(stackFileUsesPassphrase(stackFile)).toBe(true);
  });
});
