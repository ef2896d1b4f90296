/**
 * The logs stage on the Docker platform: Elasticsearch (single node, security on), its managed
 * objects, Kibana connecting as `kibana_system`, Filebeat shipping the catalog's log files as a
 * least-privilege writer, and Kibana's data view. The order matters and is explicit: Elasticsearch
 * healthy -> users, roles, ILM, pipeline, template -> Kibana and the shipper -> Kibana's objects.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { CoreConfig } from "../config/resolve";
import type { HostLabelConfig } from "../catalog";
import { DockerPlatform, requireVolume } from "../docker/platform";
import { dockerNames, stackNetworkAddress } from "../docker/names";
import { loopbackUrl, publishedPort, serviceContainer } from "../docker/service-container";
import { STACK_SERVICES } from "../stack-services";
import { LogsNaming, logsNaming } from "./elastic-bodies";
import { ElasticsearchConfiguration } from "./elasticsearch-configuration";
import { KibanaConfiguration } from "./kibana-configuration";
import { KIBANA_COMMAND, KIBANA_SECRETS_CONFIG_PATH, kibanaSecretsYml } from "./kibana-secrets";
import { logShipper } from "./log-shipper";
import type { FilebeatVerificationMode } from "./filebeat-config";
import type { ElasticConnectionArgs } from "../elastic/connection";
import type { ExternalElastic, LogsConfig } from "./config";
import type { TlsConfig } from "../tls/config";
import type { AgentsConfig } from "../agents/config";
import {
  ELASTICSEARCH_TLS_PATHS,
  elasticsearchHealthcheck,
  elasticsearchHealthcheckUpload,
  elasticsearchTlsSettings,
  internalVerificationMode,
  KIBANA_TLS_PATHS,
  kibanaTlsHealthcheck,
  kibanaTlsSettings,
  LogsServerTls,
  TlsTrust,
  tlsUploads,
} from "./logs-tls";

/**
 * The stack's Elasticsearch administrator: a file-realm superuser the container (re)writes from its
 * environment at every start. Unlike the built-in `elastic` user, whose password Elasticsearch
 * takes from ELASTIC_PASSWORD only when it first creates its security index, this one always has
 * the configured password, so a retained data volume never locks `pulumi up` out.
 */
export const ELASTIC_ADMIN_USER = "atra-admin";

const ELASTICSEARCH_HOME = "/usr/share/elasticsearch";
/**
 * The administrator's password never goes on a command line (where /proc/<pid>/cmdline shows it to
 * every process of the host that may read it): `printf`, a builtin of every /bin/sh an image may have
 * (dash, bash, busybox ash), writes it to the tool's standard input, and `elasticsearch-users useradd`
 * without `-p` reads it there, twice (elastic/elasticsearch x-pack/plugin/security/src/main/java/org/
 * elasticsearch/xpack/security/authc/file/tool/UsersTool.java, parsePassword: "Enter new password",
 * then "Retype new password", compared). With stdin not a terminal the CLI reads lines from it
 * (libs/cli/src/main/java/org/elasticsearch/cli/Terminal.java: SystemTerminal unless
 * ConsoleTerminal.detectTerminal finds a real terminal, also on JDK >= 22). A password holding a line
 * break cannot be given so; useradd then fails with "Password mismatch" and the container with it.
 */
const SYNC_ADMIN_THEN_START = [
  "set -e",
  `${ELASTICSEARCH_HOME}/bin/elasticsearch-users userdel "$ATRA_ADMIN_USER" >/dev/null 2>&1 || true`,
  `printf '%s\\n%s\\n' "$ATRA_ADMIN_PASSWORD" "$ATRA_ADMIN_PASSWORD" | ${ELASTICSEARCH_HOME}/bin/elasticsearch-users useradd "$ATRA_ADMIN_USER" -r superuser >/dev/null`,
  "if [ -x /bin/tini ]; then exec /bin/tini -- /usr/local/bin/docker-entrypoint.sh eswrapper; fi",
  "exec /usr/local/bin/docker-entrypoint.sh eswrapper",
].join("\n");

/** The entrypoint script: exported for the tests that run it under real shells. */
export const ELASTICSEARCH_ENTRYPOINT_SCRIPT = SYNC_ADMIN_THEN_START;

/**
 * Elasticsearch's node settings as environment variables in the `ES_SETTING_*` form. The container
 * starts through `/bin/sh -c` (the admin-sync entrypoint above), and POSIX shells other than bash
 * (dash, busybox ash) drop variables whose names are not shell identifiers, such as
 * `discovery.type`, from the environment they pass on. Elasticsearch's Docker build reads both forms
 * (elastic/elasticsearch server/src/main/java/org/elasticsearch/common/cli/EnvironmentAwareCommand.java,
 * putDockerEnvSettings): `ES_SETTING_` is stripped, `_` becomes `.`, `__` becomes `_`, lower-cased.
 */
export function elasticsearchEnvironment(config: Pick<CoreConfig, "namePrefix"> & { logs: LogsConfig }, tls?: Pick<TlsTrust, "caCertificate">): string[] {
  const names = dockerNames(config);
  const heap = `${config.logs.elasticsearchHeapMb}m`;
  const settings: [string, string][] = [
    ["discovery.type", "single-node"],
    // The transport layer (9300) on loopback inside the container: no other container on the stack network can open a
    // transport connection, which can call internal actions. A single node needs no transport peer, and loopback keeps
    // the bootstrap checks off (elastic/elasticsearch server/src/main/java/org/elasticsearch/bootstrap/BootstrapChecks.java,
    // enforceLimits: enforced only when the transport binds or publishes beyond loopback and discovery.type is not
    // single-node). `transport.host` sets the transport's bind and publish host alone (server/.../transport/
    // TransportSettings.java, HOST, BIND_HOST and PUBLISH_HOST fall back to it), so HTTP keeps `network.host` (0.0.0.0
    // in the image's elasticsearch.yml) and Kibana, Filebeat and Grafana still reach port 9200.
    ["transport.host", "127.0.0.1"],
    ["cluster.name", config.namePrefix],
    ["node.name", names.elasticsearch],
    ["xpack.security.enabled", "true"],
    // With tls on, HTTPS with the stack's certificate (logs-tls.ts); else plain HTTP inside the host,
    // published on the bind address only (loopback: the config refuses tls off beyond it).
    ...(tls ? elasticsearchTlsSettings(tls) : ([["xpack.security.http.ssl.enabled", "false"]] as [string, string][])),
    // A single node: no transport TLS needed (logs-tls.ts, elasticsearchTlsSettings).
    ["xpack.security.transport.ssl.enabled", "false"],
    ["xpack.license.self_generated.type", "basic"],
    ["xpack.ml.enabled", "false"],
    // No internet egress expected from the host: don't try to download GeoIP databases.
    ["ingest.geoip.downloader.enabled", "false"],
  ];
  return [
    ...settings.map(([setting, value]) => `${elasticsearchSettingVariable(setting)}=${value}`),
    `ES_JAVA_OPTS=-Xms${heap} -Xmx${heap}`,
    `ATRA_ADMIN_USER=${ELASTIC_ADMIN_USER}`,
  ];
}

/** `xpack.license.self_generated.type` -> `ES_SETTING_XPACK_LICENSE_SELF__GENERATED_TYPE` (the inverse of putDockerEnvSettings). */
export function elasticsearchSettingVariable(setting: string): string {
  if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(setting)) throw new Error(`elasticsearchSettingVariable: ${setting} has no ES_SETTING_ form`);
  return `ES_SETTING_${setting.replace(/_/g, "__").replace(/\./g, "_").toUpperCase()}`;
}

export interface LogsStackArgs {
  /** The logs slice, the catalog's log files, what names, publishes and sizes its containers, and the tls mode. */
  config: CoreConfig & { logs: LogsConfig } & HostLabelConfig & Partial<TlsConfig> & Partial<AgentsConfig>;
  platform: DockerPlatform;
  /** From secret config (`elasticPassword`); generated and kept in state when absent. With `logs.external`: `logs.external.user`'s password. */
  adminPassword?: pulumi.Output<string>;
  /** With `logs.external`: the encoded API key the providers use instead of a user (`elasticApiKey`). */
  apiKey?: pulumi.Output<string>;
  /**
   * With `tls.mode` not off: the stack's certificate (components/tls/pki.ts StackPki), which the stack's
   * own Elasticsearch and Kibana serve and every client of theirs trusts. Not used with `logs.external`.
   */
  tls?: LogsServerTls;
}

export class LogsStack extends pulumi.ComponentResource {
  readonly naming: LogsNaming;
  /** The providers' user: the stack's `atra-admin`, or `logs.external.user` (absent with an API key). */
  readonly adminUser?: string;
  /** The stack's administrator password (generated or configured); absent with `logs.external` (the user's own secret is not re-exported). */
  readonly adminPassword?: pulumi.Output<string>;
  /** The stack's own containers; absent with `logs.external`. */
  readonly elasticsearch?: docker.Container;
  readonly kibana?: docker.Container;
  /** Absent when no catalog service has log files. */
  readonly filebeat?: docker.Container;
  readonly elasticsearchConfig: ElasticsearchConfiguration;
  readonly kibanaConfig: KibanaConfiguration;
  /** Elasticsearch as Grafana, Kibana and the shipper reach it: the container on the stack network, or the external cluster. */
  readonly internalElasticsearchUrl: string;
  /** The external cluster's CA (PEM), for Grafana's datasource; absent otherwise. */
  readonly caCertificate?: string;
  /**
   * The stack's own Elasticsearch with tls on: what Grafana's Elasticsearch datasources need to reach
   * `internalElasticsearchUrl` (then https): the CA to trust (PEM; absent for a provided chain from a public
   * CA) and the name to check the certificate against (publicHostname, which every certificate of the stack
   * names; the container name only a generated one). Absent with tls off and with `logs.external`.
   */
  readonly datasourceTls?: { caCertificate?: pulumi.Output<string>; serverName: string };
  readonly readerUser: string;
  readonly readerPassword: pulumi.Output<string>;
  readonly writerUser: string;
  readonly writerPassword: pulumi.Output<string>;
  /** People's Kibana login (read-only: the data stream in Discover and dashboards), never the providers' `atra-admin`. */
  readonly kibanaUser: string;
  readonly kibanaPassword: pulumi.Output<string>;

  constructor(name: string, args: LogsStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:logs:LogsStack", name, {}, opts);
    const { config, platform } = args;
    const names = dockerNames(config);
    const logs = config.logs;
    this.naming = logsNaming(config.stack, logs.dataStream);
    const generated = (resource: string, length = 32) =>
      pulumi.secret(new random.RandomPassword(resource, { length, special: false }, { parent: this }).result);
    this.writerUser = this.naming.writerUser;
    this.readerUser = this.naming.readerUser;
    this.kibanaUser = this.naming.kibanaViewerUser;
    this.kibanaPassword = generated("kibana-viewer-password");

    const external = logs.external;
    const shipped = config.services.filter((service) => service.logs?.length);
    if (external) {
      // An existing cluster: no Elasticsearch or Kibana here; its objects are made there, and the shipper sends there.
      this.writerPassword = generated("logs-writer-password");
      this.readerPassword = generated("logs-reader-password");
      this.internalElasticsearchUrl = external.elasticsearchUrl;
      this.caCertificate = external.caCertificate;
      this.adminUser = external.auth === "password" ? external.user : undefined;
      const credentials: Omit<ElasticConnectionArgs, "url"> =
        external.auth === "apiKey"
          ? { apiKey: requireSecret(args.apiKey, "elasticApiKey") }
          : { username: external.user as string, password: requireSecret(args.adminPassword, "elasticPassword") };
      const tls = {
        ...(external.caCertificate ? { caCertificate: external.caCertificate } : {}),
        ...(external.caFingerprint ? { caFingerprint: external.caFingerprint } : {}),
      };
      this.elasticsearchConfig = new ElasticsearchConfiguration(
        "elasticsearch-config",
        {
          connection: { url: external.elasticsearchUrl, ...credentials, ...tls },
          naming: this.naming,
          // Every central catalog entry: one without `logs` may stand for a service whose lines agent hosts ship.
          requestKeys: config.services,
          ilm: { rolloverMaxAge: logs.rolloverMaxAge, rolloverMaxPrimaryShardSize: logs.rolloverMaxPrimaryShardSize, deleteAfter: logs.retention },
          writerPassword: this.writerPassword,
          readerPassword: this.readerPassword,
          agentHosts: agentHosts(config),
          centralHost: config.prometheus.hostLabel,
          agentKeyExpiration: logs.agentKeyExpiration,
          kibanaViewerPassword: this.kibanaPassword,
          waitFor: [],
        },
        { parent: this },
      );
      if (shipped.length > 0) this.filebeat = this.shipper(config, platform, shipped, [], external);
      this.kibanaConfig = new KibanaConfiguration(
        "kibana-config",
        {
          connection: { url: external.kibanaUrl, ...credentials, ...tls },
          naming: this.naming,
          stack: config.stack,
          waitFor: [this.elasticsearchConfig.indexTemplate],
        },
        { parent: this },
      );
      this.registerOutputs({ dataViewId: this.naming.dataViewId });
      return;
    }

    this.adminUser = ELASTIC_ADMIN_USER;
    const tls = args.tls;
    this.internalElasticsearchUrl = `${tls ? "https" : "http"}://${stackNetworkAddress(names, "elasticsearch")}`;
    if (tls) this.datasourceTls = { ...(tls.caCertificate ? { caCertificate: tls.caCertificate } : {}), serverName: tls.serverName };
    // Kibana and Filebeat dial the container by its name (see logs-tls.ts, internalVerificationMode).
    const verificationMode = internalVerificationMode(config.tls?.mode === "provided" ? "provided" : "generated");
    // The providers reach the published ports (or a tunnel) at a loopback address: they check publicHostname.
    const providerTls: Pick<ElasticConnectionArgs, "caCertificate" | "serverName"> = tls
      ? { ...(tls.caCertificate ? { caCertificate: tls.caCertificate } : {}), serverName: tls.serverName }
      : {};
    this.adminPassword = pulumi.secret(args.adminPassword ?? generated("elastic-admin-password"));
    const kibanaSystemPassword = generated("kibana-system-password");
    this.writerPassword = generated("logs-writer-password");
    this.readerPassword = generated("logs-reader-password");
    // Kibana encrypts saved-object secrets and sessions with these; they must not change between runs.
    const encryptionKeys = ["security", "saved-objects", "reporting"].map((purpose) => generated(`kibana-${purpose}-key`, 48));

    const elasticsearchSettings = elasticsearchEnvironment(config, tls);
    this.elasticsearch = serviceContainer(
      {
        platform,
        stack: config.stack,
        service: "elasticsearch",
        containerName: names.elasticsearch,
        memoryMb: config.memoryMb.elasticsearch,
        // Logged in with an uploaded curl config file (logs-tls.ts): no secret in its arguments or the environment.
        healthcheck: elasticsearchHealthcheck(tls),
        // A cold start (first JVM start, security index creation) takes a while on a laptop.
        waitTimeoutSeconds: 300,
        startPeriodSeconds: 90,
        container: {
          entrypoints: ["/bin/sh", "-c", SYNC_ADMIN_THEN_START],
          envs: pulumi.secret(this.adminPassword.apply((password) => [...elasticsearchSettings, `ATRA_ADMIN_PASSWORD=${password}`])),
          // The transport port (9300) stays unpublished: a single node talks to nobody.
          ports: [publishedPort("elasticsearch", config)],
          networksAdvanced: [{ name: platform.network.name, aliases: [STACK_SERVICES.elasticsearch.name] }],
          volumes: [{ volumeName: requireVolume(platform.elasticsearchVolume, "elasticsearch").name, containerPath: `${ELASTICSEARCH_HOME}/data` }],
          ulimits: [{ name: "nofile", soft: 65535, hard: 65535 }],
          uploads: [elasticsearchHealthcheckUpload(ELASTIC_ADMIN_USER, this.adminPassword), ...(tls ? tlsUploads(ELASTICSEARCH_TLS_PATHS, tls) : [])],
        },
      },
      { parent: this },
    );

    this.elasticsearchConfig = new ElasticsearchConfiguration(
      "elasticsearch-config",
      {
        connection: { url: logs.elasticsearchProviderUrl, username: ELASTIC_ADMIN_USER, password: this.adminPassword, ...providerTls },
        naming: this.naming,
        requestKeys: config.services,
        ilm: { rolloverMaxAge: logs.rolloverMaxAge, rolloverMaxPrimaryShardSize: logs.rolloverMaxPrimaryShardSize, deleteAfter: logs.retention },
        kibanaSystemPassword,
        writerPassword: this.writerPassword,
        readerPassword: this.readerPassword,
        agentHosts: agentHosts(config),
        centralHost: config.prometheus.hostLabel,
        agentKeyExpiration: logs.agentKeyExpiration,
        kibanaViewerPassword: this.kibanaPassword,
        waitFor: [this.elasticsearch],
      },
      { parent: this },
    );

    const kibanaSettings = [
      `ELASTICSEARCH_HOSTS=["${this.internalElasticsearchUrl}"]`,
      "ELASTICSEARCH_USERNAME=kibana_system",
      `SERVER_PUBLICBASEURL=${logs.kibanaPublicUrl}`,
      `SERVER_NAME=${names.kibana}`,
      "TELEMETRY_OPTIN=false",
      ...(tls ? kibanaTlsSettings(tls, verificationMode) : []),
    ];
    this.kibana = serviceContainer(
      {
        platform,
        stack: config.stack,
        service: "kibana",
        containerName: names.kibana,
        memoryMb: config.memoryMb.kibana,
        // 503 until Kibana is ready; then the status API answers (401 without credentials).
        healthcheck: tls
          ? kibanaTlsHealthcheck(tls)
          : ["CMD-SHELL", `curl -s -o /dev/null -w '%{http_code}' ${loopbackUrl("kibana", "/api/status")} | grep -qE '^(200|401)$'`],
        waitTimeoutSeconds: 300,
        startPeriodSeconds: 120,
        container: {
          // No secret here: the image's launcher would pass these on as `--setting=value` arguments (kibana-secrets.ts).
          envs: kibanaSettings,
          // The launcher with the image's kibana.yml and the secrets file (kibana-secrets.ts).
          command: KIBANA_COMMAND,
          ports: [publishedPort("kibana", config)],
          networksAdvanced: [{ name: platform.network.name, aliases: [STACK_SERVICES.kibana.name] }],
          uploads: [
            {
              file: KIBANA_SECRETS_CONFIG_PATH,
              content: pulumi.secret(
                pulumi
                  .all([kibanaSystemPassword, ...encryptionKeys])
                  // `?? ""`: unit tests' bare mocks resolve a RandomPassword's result to undefined.
                  .apply((values) => values.map((value) => value ?? ""))
                  .apply(([elasticsearchPassword, securityKey, savedObjectsKey, reportingKey]) =>
                    kibanaSecretsYml({ elasticsearchPassword, securityKey, savedObjectsKey, reportingKey }),
                  ),
              ),
              permissions: "0440",
            },
            ...(tls ? tlsUploads(KIBANA_TLS_PATHS, tls) : []),
          ],
        },
      },
      // Kibana logs in as kibana_system at start: its password must be set first.
      {
        parent: this,
        dependsOn: [this.elasticsearch, ...(this.elasticsearchConfig.kibanaSystemPassword ? [this.elasticsearchConfig.kibanaSystemPassword] : [])],
      },
    );

    if (shipped.length > 0)
      this.filebeat = this.shipper(config, platform, shipped, [this.elasticsearch], undefined, tls && { caCertificate: tls.caCertificate, verificationMode });

    this.kibanaConfig = new KibanaConfiguration(
      "kibana-config",
      {
        connection: { url: logs.kibanaProviderUrl, username: ELASTIC_ADMIN_USER, password: this.adminPassword, ...providerTls },
        naming: this.naming,
        stack: config.stack,
        waitFor: [this.kibana, this.elasticsearchConfig.indexTemplate],
      },
      { parent: this },
    );

    this.registerOutputs({ dataViewId: this.naming.dataViewId });
  }

  /**
   * Agent host -> the encoded API key (base64 of `id:api_key`) its Filebeat ships with; undefined without agents.
   * One secret map: the provider's additionalSecretOutputs make each key secret in state, which the SDK's mocks
   * do not apply, so it is wrapped here too.
   */
  get agentApiKeys(): pulumi.Output<Record<string, string>> | undefined {
    const keys = [...this.elasticsearchConfig.agentApiKeys.entries()];
    if (keys.length === 0) return undefined;
    const pairs = pulumi.all(keys.map(([host, key]) => key.encoded.apply((encoded): [string, string] => [host, encoded])));
    return pulumi.secret(pairs.apply((entries): Record<string, string> => Object.fromEntries(entries)));
  }

  /** Filebeat, shipping the catalog's log files as the writer to the stack's Elasticsearch or the external cluster. */
  private shipper(
    config: LogsStackArgs["config"],
    platform: DockerPlatform,
    shipped: LogsStackArgs["config"]["services"],
    waitFor: pulumi.Resource[],
    external?: ExternalElastic,
    ownTls?: { caCertificate?: pulumi.Output<string>; verificationMode: FilebeatVerificationMode },
  ): docker.Container {
    return logShipper(
      {
        config,
        platform,
        services: shipped,
        elasticsearchUrl: this.internalElasticsearchUrl,
        dataStream: this.naming.dataStream,
        pipeline: this.naming.pipeline,
        // The writer (create_doc on the data stream only) also on an external cluster: never the providers' own key or user.
        credentials: { user: this.writerUser, password: this.writerPassword },
        // An external cluster's CA, or the stack's own with tls on (verified as logs-tls.ts internalVerificationMode says).
        tls: ownTls ?? { caCertificate: external?.caCertificate, caFingerprint: external?.caFingerprint },
        // Its first line creates the data stream: the writer, the template and the pipeline exist by then.
        waitFor: [...waitFor, this.elasticsearchConfig.writerUser, this.elasticsearchConfig.indexTemplate, this.elasticsearchConfig.ingestPipeline],
      },
      { parent: this },
    );
  }
}

/** The agent hosts that get a log key, with the services each may write lines for: config.agents (central stacks; empty elsewhere). */
function agentHosts(config: Partial<AgentsConfig>): { host: string; services: string[] }[] {
  return (config.agents ?? []).map((agent) => ({ host: agent.host, services: agent.services ?? [] }));
}

function requireSecret(value: pulumi.Output<string> | undefined, key: string): pulumi.Output<string> {
  if (!value) throw new Error(`logs.external needs ${key} (the config rules require it)`);
  return pulumi.secret(value);
}
