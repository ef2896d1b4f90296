/**
 * Refuses a change of `grafana.adminUser` while Grafana's database volume is kept, before anything
 * is changed (the check runs in `pulumi preview` too).
 *
 * Why: Grafana creates its admin from GF_SECURITY_ADMIN_USER only while its database has no user at
 * all (grafana/grafana pkg/services/sqlstore/sqlstore.go, ensureMainOrgAndAdminUser returns early
 * when the user count is above zero), and the database lives on the retained volume. The entrypoint's
 * `grafana cli admin reset-admin-password` changes the password of one user id (default 1) and never
 * its login (grafana/grafana pkg/cmd/grafana-cli/commands/reset_password_command.go). A new login in
 * config would therefore match no stored user, and the Grafana provider would be locked out half-way
 * through `up`.
 *
 * The resource stores only the login and the volume name (nothing secret). It has no server side:
 * create and update just record the inputs.
 */
import * as pulumi from "@pulumi/pulumi";

export interface AdminLoginGuardInputs {
  /** The admin login Grafana was (or will be) created with. */
  login: string;
  /** The retained volume holding Grafana's database: a new volume means a new database. */
  dataVolume: string;
}

/**
 * The provider, self-contained (the dynamic-provider host runs it from its serialized text): no
 * module of this project is captured.
 */
export const adminLoginGuardProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<AdminLoginGuardInputs> | undefined, news: AdminLoginGuardInputs) {
    const stored = olds?.login;
    if (stored !== undefined && olds?.dataVolume === news.dataVolume && stored !== news.login) {
      return {
        inputs: news,
        failures: [
          {
            property: "login",
            reason:
              `atra-observability:grafana.adminUser: changed from "${stored}" to "${news.login}", but Grafana keeps the login it was ` +
              `created with in its database on the retained volume ${news.dataVolume}, and the password sync only resets the password ` +
              `of that user: the new login would lock pulumi out of Grafana. Set grafana.adminUser back to "${stored}"; or first rename ` +
              `the user in Grafana (Administration > Users and access > Users > ${stored} > Edit), then run ` +
              "`pulumi state delete <urn of this AdminLoginGuard>` and `pulumi up`.",
          },
        ],
      };
    }
    return { inputs: news };
  },
  async create(inputs: AdminLoginGuardInputs) {
    return { id: inputs.dataVolume, outs: inputs };
  },
  async diff(_id: string, olds: AdminLoginGuardInputs, news: AdminLoginGuardInputs) {
    const changes = olds.login !== news.login || olds.dataVolume !== news.dataVolume;
    return { changes, replaces: olds.dataVolume !== news.dataVolume ? ["dataVolume"] : [], deleteBeforeReplace: true };
  },
  async update(_id: string, _olds: AdminLoginGuardInputs, news: AdminLoginGuardInputs) {
    return { outs: news };
  },
};

export class AdminLoginGuard extends pulumi.dynamic.Resource {
  declare readonly login: pulumi.Output<string>;
  declare readonly dataVolume: pulumi.Output<string>;

  constructor(name: string, args: { login: pulumi.Input<string>; dataVolume: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(adminLoginGuardProvider, name, args, opts, "grafana", "AdminLoginGuard");
  }
}
