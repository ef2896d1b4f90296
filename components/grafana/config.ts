/** The Grafana room's config slice: the admin login and password, and where `pulumi up` reaches Grafana's API. */
import { z } from "zod";
import { isRemoteDockerHost } from "../docker/config";
import { defineSlice, withoutTrailingSlash } from "../config/slice";
import { fullKey } from "../lib/config-keys";
import { httpUrl } from "../lib/validators";

const DEFAULT_ADMIN_USER = "admin";

export interface GrafanaConfig {
  grafana: {
    adminUser: string;
    /** Where people open Grafana (stack output, GF_SERVER_ROOT_URL). */
    publicUrl: string;
    /** Where the Grafana provider talks to Grafana from the machine running `pulumi up`. */
    providerUrl: string;
  };
}

/** A message for a provider URL a remote Docker host needs: its ports are published there, not where `pulumi up` runs. */
export const PROVIDER_URL_NEEDED_WITH_SSH =
  'is required with an ssh:// dockerHost: the local end of an SSH tunnel to the published port (see README "Remote Docker host")';

export const grafanaSlice = defineSlice({
  shape: {
    grafana: z
      .strictObject({
        adminUser: z
          .string()
          .regex(/^[a-zA-Z0-9._@-]{1,64}$/, { error: "must be 1-64 letters, digits or ._@-" })
          .optional(),
        providerUrl: httpUrl.optional(),
      })
      .optional(),
    /** The admin's password; generated when unset. */
    grafanaAdminPassword: z.string().min(12, { error: "must be at least 12 characters" }).optional(),
  },
  secretKeys: ["grafanaAdminPassword"],
  rules: ({ values }) => {
    const grafana = values.grafana as { providerUrl?: unknown } | undefined;
    return isRemoteDockerHost(values) && grafana?.providerUrl === undefined
      ? [{ key: fullKey(["grafana", "providerUrl"]), message: PROVIDER_URL_NEEDED_WITH_SSH }]
      : [];
  },
  resolve: (raw, core): GrafanaConfig => ({
    grafana: {
      adminUser: raw.grafana?.adminUser ?? DEFAULT_ADMIN_USER,
      publicUrl: `http://${core.publicHostname}:${core.ports.grafana}`,
      providerUrl: raw.grafana?.providerUrl ? withoutTrailingSlash(raw.grafana.providerUrl) : `http://${core.localHost}:${core.ports.grafana}`,
    },
  }),
});
