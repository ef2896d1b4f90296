/**
 * The Docker platform's config slice: which Docker host, the applications' networks the stack joins,
 * and the stack network's bridge interface name.
 */
import { z } from "zod";
import { defineSlice } from "../config/slice";
import { fullKey, UNDECRYPTED_SECRET, type ConfigIssue } from "../lib/config-keys";
import { checkedString, isLoopbackUrl, pemCertificate, repeats } from "../lib/validators";
import { pemKeyProblem } from "../tls/config";
import { bridgeNameProblem, defaultBridgeName } from "./names";

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface DockerConfig {
  dockerHost?: string;
  /**
   * TLS to a tcp:// Docker host: the provider's `cert_path` (a directory on the machine running `pulumi up`
   * holding ca.pem, cert.pem, key.pem), or its `ca_material`/`cert_material` (the key, `dockerClientKey`, is a secret
   * and travels separately: StackSecrets).
   */
  dockerTls?: { certPath: string } | { caCertificate: string; clientCertificate: string };
  appNetworks: string[];
  /** The stack's own bridge network; `bridgeName` is its host interface (for firewall rules). */
  network: { bridgeName: string };
}

export const dockerSlice = defineSlice({
  shape: {
    dockerHost: z
      .string()
      .regex(/^(unix|ssh|tcp):\/\/\S+$/, { error: "must be unix:///path/to/docker.sock, ssh://user@host or tcp://host:port" })
      // A password here sits in plain text in the stack file and in the provider's state, and is refused
      // at `up` anyway: ssh:// goes through docker/cli's connection helper (kreuzwerker/terraform-provider-docker
      // internal/provider/config.go, connhelper.GetConnectionHelperWithSSHOpts), whose docker/cli
      // cli/connhelper/ssh/ssh.go ParseURL answers "plain-text password is not supported".
      .refine((host) => !hostHasPassword(host), {
        error:
          "must not carry a password (user:password@): it would sit in plain text in the stack file and in state; use an SSH key (ssh-agent or ~/.ssh/config) or TLS certificates",
      })
      .optional(),
    /** A directory with ca.pem, cert.pem and key.pem for a tcp:// dockerHost (the provider's cert_path). */
    dockerCertPath: z.string().min(1, { error: "must not be empty" }).optional(),
    /** The CA that issued a tcp:// dockerHost's server certificate (PEM; the provider's ca_material). */
    dockerCaCertificate: pemCertificate.optional(),
    /** The client certificate for a tcp:// dockerHost (PEM; the provider's cert_material). */
    dockerClientCertificate: pemCertificate.optional(),
    /** Its private key (PEM; the provider's key_material): a secret. */
    dockerClientKey: z.string().min(1, { error: "must not be empty" }).optional(),
    appNetworks: z
      .array(z.string().regex(DOCKER_NAME, { error: "is not a valid Docker network name" }))
      .superRefine((names, ctx) => {
        for (const { value, index } of repeats(names)) ctx.addIssue({ code: "custom", path: [index], message: `duplicate network "${value}"` });
      })
      .optional(),
    /** The stack's own Docker network. */
    network: z
      .strictObject({
        /** Host interface name of the stack's bridge network (what a firewall rule names); `atra-<stack>` by default. */
        bridgeName: checkedString(bridgeNameProblem).optional(),
      })
      .optional(),
  },
  secretKeys: ["dockerClientKey"],
  rules: ({ values }) => dockerTlsIssues(values),
  resolve: (raw, core): DockerConfig => ({
    dockerHost: raw.dockerHost,
    ...(raw.dockerCertPath
      ? { dockerTls: { certPath: raw.dockerCertPath } }
      : raw.dockerCaCertificate && raw.dockerClientCertificate
        ? { dockerTls: { caCertificate: raw.dockerCaCertificate, clientCertificate: raw.dockerClientCertificate } }
        : {}),
    appNetworks: raw.appNetworks ?? [],
    network: { bridgeName: raw.network?.bridgeName ?? defaultBridgeName(core.stack) },
  }),
});

const MATERIAL_KEYS = ["dockerCaCertificate", "dockerClientCertificate", "dockerClientKey"] as const;

/**
 * A tcp:// Docker host without TLS sends every request in clear, container environments (secrets) included, and
 * lets anyone who reaches the port run containers as root. The provider speaks TLS to it only when given
 * certificates: kreuzwerker/terraform-provider-docker internal/provider/config.go `NewClient`: `cert_material` +
 * `key_material` (+ `ca_material`), else `cert_path` (ca.pem, cert.pem, key.pem), else a plain client; and with
 * materials but no CA it sets `InsecureSkipVerify` (buildHTTPClientFromBytes: `len(caPEMCert) == 0`), so the CA is
 * required here too. The keys (internal/provider/provider.go: `ca_material`, `cert_material`, `key_material`,
 * `cert_path`, defaulting from DOCKER_CA_MATERIAL, DOCKER_CERT_MATERIAL, DOCKER_KEY_MATERIAL, DOCKER_CERT_PATH) are
 * offered as `dockerCertPath`, or `dockerCaCertificate` + `dockerClientCertificate` + the secret `dockerClientKey`.
 * A DOCKER_HOST=tcp:// from the environment is checked where the environment is known (host.ts plainTcpProblem).
 */
export function dockerTlsIssues(values: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const host = typeof values.dockerHost === "string" ? values.dockerHost : undefined;
  const given = MATERIAL_KEYS.filter((key) => values[key] !== undefined);
  const certPath = values.dockerCertPath !== undefined;
  if (host !== undefined && !/^tcp:\/\//i.test(host)) {
    for (const key of [...(certPath ? ["dockerCertPath"] : []), ...given])
      issues.push({ key: fullKey([key]), message: `is TLS to a tcp:// Docker host, and dockerHost is ${host.split(":")[0]}://: remove it` });
    return issues;
  }
  if (certPath && given.length > 0) {
    for (const key of given)
      issues.push({ key: fullKey([key]), message: "and dockerCertPath are two ways to give the same TLS material (the provider refuses both): keep one" });
    return issues;
  }
  if (given.length > 0 && given.length < MATERIAL_KEYS.length) {
    for (const key of MATERIAL_KEYS.filter((key) => !given.includes(key)))
      issues.push({
        key: fullKey([key]),
        message: `is required with ${given.join(" and ")}: a tcp:// Docker host needs the CA (without it the provider skips verifying the host), the client certificate and its key${key === "dockerClientKey" ? ' (pulumi config set --secret dockerClientKey -- "$(cat key.pem)")' : ""}`,
      });
  }
  const key = values.dockerClientKey;
  if (typeof key === "string" && key !== UNDECRYPTED_SECRET) {
    const problem = pemKeyProblem(key);
    if (problem) issues.push({ key: fullKey(["dockerClientKey"]), message: problem });
  }
  if (host !== undefined && !certPath && given.length === 0)
    issues.push({
      key: fullKey(["dockerHost"]),
      message:
        "is tcp:// without TLS: every request, container environments and their secrets included, would cross the network in clear, and anyone reaching the port could run containers as root. " +
        "Give the TLS material: dockerCertPath (a directory with ca.pem, cert.pem, key.pem), or dockerCaCertificate, dockerClientCertificate and the secret dockerClientKey; or use ssh://user@host",
    });
  return issues;
}

/**
 * Whether the stack's Docker host is another machine, where published ports are not local to `pulumi up`: any
 * ssh:// host, and a tcp:// host other than loopback (tcp://127.0.0.1:2376 is this machine's Engine, whose
 * published ports are this machine's). The providers that run where `pulumi up` runs (Grafana, Elasticsearch,
 * Kibana) then need URLs of their own; their default, 127.0.0.1, would be the deploying machine.
 */
export function isRemoteDockerHost(values: Record<string, unknown>): boolean {
  const host = values.dockerHost;
  if (typeof host !== "string") return false;
  if (/^ssh:\/\//i.test(host)) return true;
  return /^tcp:\/\//i.test(host) && !isLoopbackUrl(host.replace(/^tcp:/i, "http:"));
}

/** Whether a Docker host URL carries a password in its user info (`ssh://user:secret@host`). */
export function hostHasPassword(host: string): boolean {
  const authority = host.replace(/^[a-z]+:\/\//, "").split("/")[0];
  const at = authority.lastIndexOf("@");
  return at >= 0 && authority.slice(0, at).includes(":");
}
