/**
 * The Grafana container: admin password from secret config or generated, sign-up and anonymous
 * access off, its database on the retained volume, healthy before anything configures it; with tls on
 * (components/tls), serving https only with the stack's server certificate.
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
import { GRAFANA_METRICS_USER } from "./service";
import type { ServerTls } from "../tls/pki";
import { AdminLoginGuard } from "./admin-login-guard";

/**
 * With tls on: where the server certificate chain, its key and the CA sit in the container. Grafana reads
 * `[server] protocol`, `cert_file` and `cert_key` (grafana/grafana conf/defaults.ini `[server]`;
 * pkg/setting/setting.go readServerSettings: with `protocol = https` it takes `CertFile` from `cert_file`
 * and `KeyFile` from `cert_key`), set here through the environment as GF_<SECTION>_<KEY>.
 */
export const GRAFANA_TLS_CERT_PATH = "/etc/grafana/tls/server.pem";
export const GRAFANA_TLS_KEY_PATH = "/etc/grafana/tls/server-key.pem";
export const GRAFANA_CA_PATH = "/etc/grafana/tls/ca.pem";
/** People's Grafana login (`grafana.peopleRole` of the main organization, Viewer by default: grafanaPeopleRoleSettings). */
export const GRAFANA_PEOPLE_USER = "atra-people";

/**
 * The role people's login (GrafanaConfiguration's people user, made by the server admin through the admin API) gets in
 * the main organization: `[users] auto_assign_org_role` (grafana/grafana pkg/setting/setting.go, default Viewer). Sign-up
 * is off, so only users the admin makes get it.
 *
 * Viewer (the default) reads dashboards and alerts and changes nothing that matters; `[users] viewers_can_edit` adds
 * Explore: in grafana/grafana pkg/api/accesscontrol.go (declareFixedRoles) it only appends Viewer to the grants of
 * `fixed:datasources:explorer` (action `datasources:explore`); querying the datasources is Viewer's already in OSS
 * (`fixed:datasources:reader` granted to Viewer without the dspermissions licence). The same setting lets a Viewer
 * change panels in the browser without saving: pkg/services/guardian/accesscontrol_guardian.go CanEdit returns
 * CanView, while saving needs `dashboards:write`, which Viewer has not. It grants no alerting action: the alerting
 * roles (pkg/services/ngalert/accesscontrol.go) give Viewer the readers only, and the writers (rules, contact points,
 * notification policies, silences) to Editor. pkg/setting/setting.go logs it as deprecated: a later Grafana may drop
 * it, leaving Viewers without Explore (docs/config-reference.md, grafana.peopleRole).
 *
 * Editor (opt-in) gets `fixed:alerting:writer` and the dashboard writers: it can silence every alert, change contact
 * points and policies, and edit or delete dashboards.
 */
export function grafanaPeopleRoleSettings(role: "Viewer" | "Editor"): string[] {
  return [`GF_USERS_AUTO_ASSIGN_ORG_ROLE=${role}`, ...(role === "Viewer" ? ["GF_USERS_VIEWERS_CAN_EDIT=true"] : [])];
}

/**
 * Grafana's settings with tls on: https only, the certificate's files, and the session cookie marked
 * Secure (conf/defaults.ini `[security] cookie_secure`: "set to true if you host Grafana behind HTTPS").
 */
export function grafanaTlsSettings(): string[] {
  return [
    "GF_SERVER_PROTOCOL=https",
    `GF_SERVER_CERT_FILE=${GRAFANA_TLS_CERT_PATH}`,
    `GF_SERVER_CERT_KEY=${GRAFANA_TLS_KEY_PATH}`,
    "GF_SECURITY_COOKIE_SECURE=true",
  ];
}

/**
 * The healthcheck: GET /api/health from inside the container. Plain http: busybox wget, curl as the
 * fallback. With tls on: curl, which verifies the certificate against the stack CA (`--cacert`; absent
 * for a provided certificate from a public CA: the image's system roots then apply) and the name every
 * certificate of the stack carries (`serverName`, publicHostname), resolved to loopback with `--resolve`
 * so the name is checked while the connection stays inside the container. busybox wget verifies no
 * certificate, so it is no check of TLS. curl is in the image: the Alpine final stage installs it
 * (grafana/grafana Dockerfile `final-alpine`: `apk add --no-cache ca-certificates bash bubblewrap curl
 * tzdata musl-utils`; the Ubuntu variant `apt-get install -y ca-certificates curl ...`), as the 12.x
 * packaging/docker/Dockerfile did (`apk add --no-cache ca-certificates bash curl tzdata musl-utils`).
 * Read in stored copies of the Dockerfile from the 12.x/13.x era, not at the 13.2.0 tag (unreachable from
 * here). No secret: the command names files and the name only.
 */
export function grafanaHealthcheck(tls?: { caFile?: string; serverName: string }): string[] {
  if (!tls) {
    const healthUrl = loopbackUrl("grafana", "/api/health");
    // The image is Alpine-based (busybox wget); curl is the fallback should a variant lack wget.
    return ["CMD-SHELL", `wget -q -O /dev/null ${healthUrl} || curl -fsS -o /dev/null ${healthUrl}`];
  }
  const port = STACK_SERVICES.grafana.port;
  return [
    "CMD",
    "curl",
    "-fsS",
    "-o",
    "/dev/null",
    ...(tls.caFile ? ["--cacert", tls.caFile] : []),
    "--resolve",
    `${tls.serverName}:${port}:127.0.0.1`,
    `https://${tls.serverName}:${port}/api/health`,
  ];
}

/**
 * The stack's `secret_key` (GF_SECURITY_SECRET_KEY, generated once and kept in state) encrypts the data keys
 * that encrypt every secret in grafana.db: datasource passwords, contact point URLs and tokens (grafana/grafana
 * pkg/services/secrets/manager: envelope encryption, each data key stored encrypted by the `secretKey.v1`
 * provider, pkg/services/secrets/defaultprovider, with `[security] secret_key`). A database made with another key
 * (Grafana's public default `SW2YcwTIb9zpOOhoPsMm`, conf/defaults.ini, on every stack made before this key
 * existed) cannot decrypt its data keys with the new one, and every stored secret would fail. So the key
 * applies only to a database that was created with it: the marker file beside grafana.db says so, written
 * before Grafana first creates the database; an older database keeps the default key, with a warning in the
 * container's log, until someone migrates it (docs/upgrading.md, "Grafana's secret_key").
 *
 * The marker holds the sha256 of the key it was written with. After `pulumi destroy` and `up` the generated key is a
 * new one while the retained volume keeps the database made with the old: started with the new key, Grafana could
 * decrypt none of its data keys (pkg/services/secrets/manager/manager.go: each data key is decrypted with the
 * provider's key before use, and fails otherwise). So a marker whose hash is not the current key's stops the start,
 * with a message naming the recovery (docs/upgrading.md). An empty marker (written by the version before, or by
 * hand in the migration) is taken as the current key's and gets its hash. Without a database no secret is stored
 * yet: the marker is rewritten. The key reaches sha256sum through a pipe from the shell's printf builtin (dash,
 * busybox ash), never as an argument; the hash of a 32-character random key reveals nothing usable.
 */
export const SECRET_KEY_MARKER = "atra-secret-key-in-use";
export const KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE = [
  `atra_marker="$GF_PATHS_DATA/${SECRET_KEY_MARKER}"`,
  'atra_key_hash=$(printf "%s" "$GF_SECURITY_SECRET_KEY" | sha256sum | cut -d " " -f 1)',
  'if [ -f "$GF_PATHS_DATA/grafana.db" ] && [ ! -f "$atra_marker" ]; then',
  "  echo \"atra: grafana.db predates the stack's secret_key: it keeps Grafana's default key (see the docs to migrate it)\" >&2",
  "  unset GF_SECURITY_SECRET_KEY",
  'elif [ -f "$GF_PATHS_DATA/grafana.db" ] && [ -s "$atra_marker" ] && [ "$(cat "$atra_marker")" != "$atra_key_hash" ]; then',
  "  echo \"atra: grafana.db was made with another secret_key than the stack's (a destroy and up made a new one): Grafana could read none of its stored secrets, so it is not started. See docs/upgrading.md, 'A new secret_key on an old database'\" >&2",
  "  exit 1",
  "else",
  '  printf "%s\\n" "$atra_key_hash" > "$atra_marker"',
  "fi",
];

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
  ...KEEP_DEFAULT_SECRET_KEY_FOR_AN_OLDER_DATABASE,
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
  /** With tls on: the certificate Grafana serves (config.grafana.publicUrl is then https). */
  serverTls?: ServerTls;
}

export class GrafanaServer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly adminUser: string;
  readonly adminPassword: pulumi.Output<string>;
  /** People's own login (not the server admin, which stays with the machines): made by GrafanaConfiguration. */
  readonly peopleUser = GRAFANA_PEOPLE_USER;
  readonly peoplePassword: pulumi.Output<string>;
  /** `[security] secret_key`: generated once, kept (secret) in state; never change it (SECRET_KEY_MARKER). */
  readonly secretKey: pulumi.Output<string>;
  /** The password of Grafana's /metrics (user GRAFANA_METRICS_USER), which Prometheus's scrape of Grafana sends. */
  readonly metricsPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:grafana:GrafanaServer", name, {}, opts);
    const { config, platform, serverTls } = args;
    const names = dockerNames(config);
    const volume = platform.grafanaVolume;
    if (!volume) throw new Error("the Docker platform has no Grafana volume: with grafana.external no Grafana container is made");

    this.adminUser = config.grafana.adminUser;
    this.adminPassword = pulumi.secret(
      args.adminPassword ?? new random.RandomPassword("grafana-admin-password", { length: 32, special: false }, { parent: this }).result,
    );

    const generated = (resource: string) => pulumi.secret(new random.RandomPassword(resource, { length: 32, special: false }, { parent: this }).result);
    this.secretKey = generated("grafana-secret-key");
    this.metricsPassword = generated("grafana-metrics-password");
    this.peoplePassword = generated("grafana-people-password");

    const settings = [
      `GF_SECURITY_ADMIN_USER=${this.adminUser}`,
      "GF_USERS_ALLOW_SIGN_UP=false",
      // People's login joins the main organization with grafana.peopleRole (Viewer, with Explore, by default).
      ...grafanaPeopleRoleSettings(config.grafana.peopleRole ?? "Viewer"),
      "GF_AUTH_ANONYMOUS_ENABLED=false",
      "GF_SECURITY_DISABLE_GRAVATAR=true",
      `GF_SERVER_ROOT_URL=${config.grafana.publicUrl}`,
      ...(serverTls ? grafanaTlsSettings() : []),
      "GF_ANALYTICS_REPORTING_ENABLED=false",
      "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
      "GF_NEWS_NEWS_FEED_ENABLED=false",
      "GF_METRICS_ENABLED=true",
      ...(args.extraSettings ?? []),
    ];
    // The whole env list is secret because one entry is: Pulumi encrypts it in state as one value.
    // Read by the server from its environment (pkg/setting/setting.go applyEnvVariableOverrides: GF_<SECTION>_<KEY>),
    // never made arguments by the image's run.sh, which passes only GF_PATHS_* on as `cfg:default.paths.*` arguments
    // (packaging/docker/run.sh): test/program/no-secret-argv.test.ts.
    const envs = pulumi.secret(
      pulumi.all([this.adminPassword, this.secretKey, this.metricsPassword]).apply(([password, secretKey, metricsPassword]) => [
        ...settings,
        `GF_SECURITY_ADMIN_PASSWORD=${password}`,
        `GF_SECURITY_SECRET_KEY=${secretKey}`,
        // A login on /metrics (conf/defaults.ini `[metrics] basic_auth_username`, `basic_auth_password`): the scrape sends it.
        `GF_METRICS_BASIC_AUTH_USERNAME=${GRAFANA_METRICS_USER}`,
        `GF_METRICS_BASIC_AUTH_PASSWORD=${metricsPassword}`,
      ]),
    );

    // A renamed admin would match no user in the retained database: refuse it before the container changes.
    const loginGuard = new AdminLoginGuard("grafana-admin-login", { login: this.adminUser, dataVolume: volume.name }, { parent: this });

    this.container = serviceContainer(
      {
        platform,
        stack: config.stack,
        service: "grafana",
        containerName: names.grafana,
        memoryMb: config.memoryMb.grafana,
        healthcheck: grafanaHealthcheck(serverTls && { ...(serverTls.caCertificate ? { caFile: GRAFANA_CA_PATH } : {}), serverName: serverTls.serverName }),
        // First start runs the database migrations.
        waitTimeoutSeconds: 180,
        startPeriodSeconds: 60,
        container: {
          entrypoints: ["/bin/sh", "-c", SYNC_ADMIN_PASSWORD_THEN_START, "grafana"],
          envs,
          ports: [publishedPort("grafana", config)],
          networksAdvanced: [{ name: platform.network.name, aliases: [STACK_SERVICES.grafana.name] }],
          volumes: [{ volumeName: volume.name, containerPath: "/var/lib/grafana" }],
          ...(serverTls ? { uploads: tlsUploads(serverTls) } : {}),
        },
      },
      { parent: this, dependsOn: [loginGuard] },
    );

    this.registerOutputs({ adminUser: this.adminUser });
  }
}

/**
 * The certificate's files. The provider uploads files owned by root:root (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container_funcs.go: the tar header sets no owner); Grafana runs as
 * uid 472 in group 0 (grafana/grafana Dockerfile: `ARG GF_GID="0"`, `adduser -S -u $GF_UID -G "$GF_GID_NAME"
 * grafana`, `USER "$GF_UID"`), so the key is readable by owner and group only (0440), and is a secret
 * upload, so encrypted in state.
 */
function tlsUploads(server: ServerTls) {
  return [
    { file: GRAFANA_TLS_CERT_PATH, content: server.serverCertificate, permissions: "0444" },
    { file: GRAFANA_TLS_KEY_PATH, content: pulumi.secret(server.serverKey), permissions: "0440" },
    ...(server.caCertificate ? [{ file: GRAFANA_CA_PATH, content: server.caCertificate, permissions: "0444" }] : []),
  ];
}
