/**
 * The Docker platform's config slice: which Docker host, the applications' networks the stack joins,
 * and the stack network's bridge interface name.
 */
import { z } from "zod";
import { defineSlice } from "../config/slice";
import { checkedString, repeats } from "../lib/validators";
import { bridgeNameProblem, defaultBridgeName } from "./names";

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface DockerConfig {
  dockerHost?: string;
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
  resolve: (raw, core): DockerConfig => ({
    dockerHost: raw.dockerHost,
    appNetworks: raw.appNetworks ?? [],
    network: { bridgeName: raw.network?.bridgeName ?? defaultBridgeName(core.stack) },
  }),
});

/** Whether the stack's Docker host is reached over SSH, where published ports are not local to `pulumi up`. */
export function isRemoteDockerHost(values: Record<string, unknown>): boolean {
  return typeof values.dockerHost === "string" && values.dockerHost.startsWith("ssh://");
}

/** Whether a Docker host URL carries a password in its user info (`ssh://user:secret@host`). */
export function hostHasPassword(host: string): boolean {
  const authority = host.replace(/^[a-z]+:\/\//, "").split("/")[0];
  const at = authority.lastIndexOf("@");
  return at >= 0 && authority.slice(0, at).includes(":");
}
