/**
 * The Grafana container: admin password from secret config or generated, sign-up and anonymous
 * access off, its database on the retained volume, healthy before anything configures it.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CoreConfig } from "../config/resolve";
import type { GrafanaConfig } from "./config";
import type { DockerPlatform } from "../docker/platform";
import { dockerNames } from "../docker/names";
import { loopbackUrl, publishedPort, serviceContainer } from "../docker/service-container";
import { STACK_SERVICES } from "../stack-services";
import { AdminLoginGuard } from "./admin-login-guard";

/**
 * Grafana applies GF_SECURITY_ADMIN_PASSWORD only when it creates its database. The database lives
 * on a retained volume, so after a `destroy` (new generated password) or a password change the
 * stored one would differ and the provider would be locked out. Before starting Grafana, make the
 * configured password the stored one. The password travels through the environment and stdin,
 * never the command line.
 *
 * What this relies on in the image: `grafana cli admin reset-admin-password --password-from-stdin`
 * (grafana/grafana pkg/cmd/grafana-cli/commands/reset_password_command.go reads
 * c.Bool("password-from-stdin") then a bufio.Scanner on os.Stdin), the entrypoint `/run.sh`
 * (packaging/docker/Dockerfile: `COPY ${RUN_SH} /run.sh`, `ENTRYPOINT ["/run.sh"]`) and `sh`. Checked
 * 2026-12-07 in the stored copies of those files, which are 12.x-era (alpine base, GF_UID 472); the
 * grafana/grafana repository could not be read at the 13.2.0 tag from here, so their presence in the
 * pinned 13.2.0 image is NOT confirmed from source, and no 13.x release note or issue found says any
 * of them went away. A failed reset only logs "could not reset the admin password", and Grafana still
 * starts; the provider's first call then fails with 401 (AdminLoginGuard says what to do).
 */
const SYNC_ADMIN_PASSWORD_THEN_START = [
  'if [ -f "$GF_PATHS_DATA/grafana.db" ]; then',
  '  printf "%s" "$GF_SECURITY_ADMIN_PASSWORD" | grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" \\',
  '    admin reset-admin-password --password-from-stdin >/dev/null 2>&1 || echo "atra: could not reset the admin password" >&2',
  "fi",
  'exec /run.sh "$@"',
].join("\n");

export interface GrafanaServerArgs {
  /** The Grafana slice, and what names, publishes and sizes its container. */
  config: CoreConfig & GrafanaConfig;
  platform: DockerPlatform;
  /** From secret config; when absent a password is generated and kept in state (encrypted). */
  adminPassword?: pulumi.Output<string>;
  /** Settings another room needs of Grafana (components/slo: RECORDING_RULES_ENV when Grafana records the SLOs). */
  extraSettings?: readonly string[];
}

export class GrafanaServer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly adminUser: string;
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:grafana:GrafanaServer", name, {}, opts);
    const { config, platform } = args;
    const names = dockerNames(config);
    const volume = platform.grafanaVolume;
    if (!volume) throw new Error("the Docker platform has no Grafana volume: with grafana.external no Grafana container is made");

    this.adminUser = config.grafana.adminUser;
    this.adminPassword = pulumi.secret(
      args.adminPassword ?? new random.RandomPassword("grafana-admin-password", { length: 32, special: false }, { parent: this }).result,
    );

    const settings = [
      `GF_SECURITY_ADMIN_USER=${this.adminUser}`,
      "GF_USERS_ALLOW_SIGN_UP=false",
      "GF_AUTH_ANONYMOUS_ENABLED=false",
      "GF_SECURITY_DISABLE_GRAVATAR=true",
      `GF_SERVER_ROOT_URL=${config.grafana.publicUrl}`,
      "GF_ANALYTICS_REPORTING_ENABLED=false",
      "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
      "GF_NEWS_NEWS_FEED_ENABLED=false",
      "GF_METRICS_ENABLED=true",
      ...(args.extraSettings ?? []),
    ];
    // The whole env list is secret because one entry is: Pulumi encrypts it in state as one value.
    const envs = pulumi.secret(this.adminPassword.apply((password) => [...settings, `GF_SECURITY_ADMIN_PASSWORD=${password}`]));

    // A renamed admin would match no user in the retained database: refuse it before the container changes.
    const loginGuard = new AdminLoginGuard("grafana-admin-login", { login: this.adminUser, dataVolume: volume.name }, { parent: this });

    const healthUrl = loopbackUrl("grafana", "/api/health");
    this.container = serviceContainer(
      {
        platform,
        stack: config.stack,
        service: "grafana",
        containerName: names.grafana,
        memoryMb: config.memoryMb.grafana,
        // The image is Alpine-based (busybox wget); curl is the fallback should a variant lack wget.
        healthcheck: ["CMD-SHELL", `wget -q -O /dev/null ${healthUrl} || curl -fsS -o /dev/null ${healthUrl}`],
        // First start runs the database migrations.
        waitTimeoutSeconds: 180,
        startPeriodSeconds: 60,
        container: {
          entrypoints: ["/bin/sh", "-c", SYNC_ADMIN_PASSWORD_THEN_START, "grafana"],
          envs,
          ports: [publishedPort("grafana", config)],
          networksAdvanced: [{ name: platform.network.name, aliases: [STACK_SERVICES.grafana.name] }],
          volumes: [{ volumeName: volume.name, containerPath: "/var/lib/grafana" }],
        },
      },
      { parent: this, dependsOn: [loginGuard] },
    );

    this.registerOutputs({ adminUser: this.adminUser });
  }
}
