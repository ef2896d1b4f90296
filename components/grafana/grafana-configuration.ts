/**
 * Grafana's managed objects: the Prometheus datasource, the dashboards folder and the imported
 * dashboards, through an explicit Grafana provider. It takes an endpoint and credentials and knows
 * nothing of Docker, so it can configure any Grafana (a managed one, one on Kubernetes).
 */
import * as grafana from "@pulumiverse/grafana";
import * as pulumi from "@pulumi/pulumi";
import type { GrafanaPeopleRole } from "./config";
import type { DatasourceMap, ImportedDashboard } from "./dashboard-import";
import { failureStoreIndex } from "../logs/elastic-bodies";
import { REMOTE_WRITE_DATASOURCE, remoteWriteDatasourceData, type RemoteWriteDatasourceSpec } from "./remote-write-datasource";

/** Fixed uids: dashboards and (later) alert rules refer to them, and they must not change between runs. */
export const PROMETHEUS_DATASOURCE = { uid: "atra-prometheus-ds", name: "Prometheus" } as const;
export const ELASTICSEARCH_DATASOURCE = { uid: "atra-elasticsearch-ds", name: "Elasticsearch logs" } as const;
/**
 * The log data stream's failure store (`<data stream>::failures`), for the LogIngestFailures alert and
 * the logs dashboard's failure count. A datasource of its own because Grafana's Elasticsearch
 * datasource takes the index from the datasource, never from the query (grafana/grafana
 * pkg/tsdb/elasticsearch/client/client.go: each _msearch header's `index` is the datasource's; a
 * static pattern is sent as it is, index_pattern.go). The `::failures` selector makes Elasticsearch
 * search the failure store (elastic/docs-content manage-data/data-store/data-streams/failure-store.md,
 * "Searching failures"); the reader role has `read_failure_store`.
 */
export const FAILURE_STORE_DATASOURCE = { uid: "atra-elasticsearch-failures-ds", name: "Elasticsearch log failures" } as const;
/** The datasources dashboards may refer to, as the dashboard importer takes them. */
export const STACK_DATASOURCES: DatasourceMap = {
  prometheus: PROMETHEUS_DATASOURCE,
  elasticsearch: ELASTICSEARCH_DATASOURCE,
  "elasticsearch-failures": { ...FAILURE_STORE_DATASOURCE, type: "elasticsearch" },
};
export const DASHBOARD_FOLDER = { uid: "atra-dashboards", title: "Atra observability" } as const;

/**
 * How a client of one of the stack's own TLS servers trusts it: the CA (PEM; absent for a provided
 * certificate from a public CA, when the system roots apply) and the name to check the certificate
 * against (the stack's publicHostname, which every certificate of the stack names: components/tls/pki.ts),
 * whatever host the URL has (a container name on the stack network).
 */
export interface TrustedTls {
  caCertificate?: pulumi.Input<string>;
  serverName?: string;
}

export interface GrafanaConfigurationArgs {
  /** Where the provider reaches Grafana's API. */
  apiUrl: pulumi.Input<string>;
  /**
   * The stack's own Grafana with tls on: the CA the provider trusts, its `ca_cert` (@pulumiverse/grafana
   * Provider `caCert`, "Certificate CA bundle (file path or literal value)"; grafana/terraform-provider-grafana
   * internal/provider/configure_clients.go parseTLSconfig: a literal is written to a temporary file and
   * becomes the client's only RootCAs). Verification stays on (no `insecureSkipVerify`).
   */
  apiCaCertificate?: pulumi.Input<string>;
  /** Where people open Grafana; used for the dashboards' URLs. */
  publicUrl: string;
  /** People's Grafana login (the stack's own Grafana): made by the admin login, beside the provider's service account. */
  peopleLogin?: { login: string; password: pulumi.Output<string>; role: GrafanaPeopleRole };
  /** The admin login (the stack's Grafana, or an external one's `grafana.adminUser`); not used with `apiToken`. */
  adminUser?: pulumi.Input<string>;
  adminPassword?: pulumi.Output<string>;
  /**
   * An external Grafana's service account token: the provider's `auth` takes "API token, basic auth in the
   * `username:password` format or `anonymous`" (grafana/terraform-provider-grafana docs/index.md, `auth`).
   */
  apiToken?: pulumi.Output<string>;
  /** Prometheus as Grafana's server reaches it: this stack's, or the external query URL (prometheus.external). */
  prometheusUrl: pulumi.Input<string>;
  /**
   * Basic auth for the datasource: an external query URL's, or this stack's Prometheus's Grafana login when it
   * requires logins (published beyond loopback: MetricsStack.grafanaAuth). The password goes only into secureJsonData.
   */
  prometheusBasicAuth?: { user: string; password: pulumi.Output<string> };
  /** This stack's Prometheus with tls on (its URL is then https): the CA and name the datasource checks it with. */
  prometheusTls?: TrustedTls;
  scrapeInterval: string;
  /**
   * The datasource Grafana-managed recording rules write to (REMOTE_WRITE_DATASOURCE), when Grafana records
   * the SLO series into a remote-write backend: the stack's remote write as Grafana derives a write URL
   * and login from a datasource (components/grafana/remote-write-datasource.ts). Not the query datasource:
   * Grafana would write to a path derived from the query URL, with the query login.
   */
  remoteWriteDatasource?: RemoteWriteDatasourceSpec;
  dashboards: ImportedDashboard[];
  /** The log data stream, when the logs stage is on: an Elasticsearch datasource as a read-only user. */
  elasticsearch?: {
    url: pulumi.Input<string>;
    user: pulumi.Input<string>;
    password: pulumi.Output<string>;
    dataStream: string;
    /**
     * A private CA (PEM): an external cluster's (logs.external.caCertificate) or, for the stack's own
     * Elasticsearch with tls on, the stack CA. Trusted through the datasource's `tlsAuthWithCACert` and
     * secure `tlsCACert` (grafana/grafana pkg/services/datasources/service/datasource.go, dsTLSOptions:
     * the PEM goes into the TLS root pool; `tlsSkipVerify` stays unset, so verification stays on).
     */
    caCertificate?: pulumi.Input<string>;
    /** The stack's own Elasticsearch with tls on: the name its certificate is checked against (jsonData `serverName`, dsTLSOptions). */
    serverName?: string;
    /** What must exist before the datasource is usable (the reader user). */
    waitFor: pulumi.Input<pulumi.Resource>[];
  };
  /** What must be up before Grafana is configured (its healthy container, the datasource's backend). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

/** The service account the provider makes for itself with the admin login, and then works as. */
export const PROVISIONER_SERVICE_ACCOUNT = "atra-provisioner";

export class GrafanaConfiguration extends pulumi.ComponentResource {
  /** What configures everything: with an admin login, as the service account's token it made (see below); else the given token. */
  readonly provider: grafana.Provider;
  /** With an admin login: the provider that logs in as the admin, only to make the service account, its token and people's user. */
  readonly adminProvider?: grafana.Provider;
  readonly serviceAccountToken?: grafana.oss.ServiceAccountToken;
  /** With `peopleLogin`: the Grafana user people log in as. */
  readonly peopleUser?: grafana.oss.User;
  readonly prometheusDatasource: grafana.oss.DataSource;
  readonly elasticsearchDatasource?: grafana.oss.DataSource;
  readonly failureStoreDatasource?: grafana.oss.DataSource;
  readonly remoteWriteDatasource?: grafana.oss.DataSource;
  /** Every datasource this component made: dashboards and alert rules refer to them by uid. */
  readonly datasources: grafana.oss.DataSource[];
  readonly folder: grafana.oss.Folder;
  readonly dashboards: grafana.oss.Dashboard[];
  /** Dashboard uid to its URL. */
  readonly dashboardUrls: Record<string, string>;

  constructor(name: string, args: GrafanaConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:grafana:GrafanaConfiguration", name, {}, opts);

    const connection = {
      url: args.apiUrl,
      ...(args.apiCaCertificate ? { caCert: args.apiCaCertificate } : {}),
      // Grafana answers 5xx for a moment after its healthcheck first passes; ride that out.
      retries: 10,
      retryWait: 3,
    };
    // With an admin login (the stack's own Grafana, or an external one's `grafana.adminUser`), the admin login
    // makes only a service account with the Admin role of the organization and a token of it (grafana/
    // terraform-provider-grafana internal/resources/grafana/resource_service_account.go and
    // resource_service_account_token.go: POST /api/serviceaccounts, POST /api/serviceaccounts/<id>/tokens;
    // grafana/grafana pkg/api/serviceaccounts), and people's user; everything else is configured with that token.
    // The token is made once (no expiry: a token that expired would lock `pulumi up` out with nothing to renew it)
    // and is secret in state (the resource's `key` is marked secret by the provider schema).
    // The provider keeps its name ("grafana"): only its `auth` changes, so an existing stack's resources keep
    // their provider and are updated, not replaced (docs/upgrading.md).
    if (!args.apiToken) {
      this.adminProvider = new grafana.Provider("grafana-admin", { ...connection, auth: providerAuth(args) }, { parent: this, dependsOn: args.waitFor });
      const admin = { parent: this, provider: this.adminProvider, dependsOn: args.waitFor };
      // Both have fixed names, and Grafana refuses a second service account or token of the same name (grafana/grafana
      // pkg/services/serviceaccounts/models.go: ErrServiceAccountAlreadyExists, ErrDuplicateToken, raised on create): a
      // replacement deletes the old one first, else Pulumi's create-before-delete would fail on the name.
      // A token deleted in Grafana's UI stays in state until `pulumi refresh` (docs/what-gets-deployed.md).
      const serviceAccount = new grafana.oss.ServiceAccount(
        "provisioner",
        { name: PROVISIONER_SERVICE_ACCOUNT, role: "Admin", isDisabled: false },
        { ...admin, deleteBeforeReplace: true },
      );
      this.serviceAccountToken = new grafana.oss.ServiceAccountToken(
        "provisioner-token",
        { name: PROVISIONER_SERVICE_ACCOUNT, serviceAccountId: serviceAccount.id },
        { ...admin, additionalSecretOutputs: ["key"], deleteBeforeReplace: true },
      );
      if (args.peopleLogin) {
        // A Grafana user of its own for people (the organization role: grafana-server.ts grafanaPeopleRoleSettings).
        // POST /api/admin/users needs the server admin (pkg/api/admin_users.go, AdminCreateUser): the admin provider.
        // Grafana assigns `auto_assign_org_role` only when it creates a user, and the provider's User has no role
        // input: the role is in the user's name, and a change of it replaces the user (deleted first: the login is
        // fixed), so it joins the organization again with the new role. The first `up` of this version so turns the
        // Editor login of older stacks into the configured role.
        const role = args.peopleLogin.role;
        this.peopleUser = new grafana.oss.User(
          "people-user",
          {
            login: args.peopleLogin.login,
            name: `People (atra-observability, ${role})`,
            email: `${args.peopleLogin.login}@atra-observability.invalid`,
            password: pulumi.secret(args.peopleLogin.password),
            isAdmin: false,
          },
          { ...admin, replaceOnChanges: ["name"], deleteBeforeReplace: true },
        );
      }
    }
    const token = this.serviceAccountToken;
    this.provider = new grafana.Provider(
      "grafana",
      { ...connection, auth: token ? pulumi.secret(token.key) : providerAuth(args) },
      // The token exists before any resource of this provider is read or made.
      { parent: this, dependsOn: [...args.waitFor, ...(token ? [token] : [])] },
    );
    // Every object waits explicitly too: a provider's readiness alone does not order the API calls.
    const own = { parent: this, provider: this.provider, dependsOn: args.waitFor };

    this.prometheusDatasource = new grafana.oss.DataSource(
      "prometheus",
      {
        type: "prometheus",
        uid: PROMETHEUS_DATASOURCE.uid,
        name: PROMETHEUS_DATASOURCE.name,
        url: args.prometheusUrl,
        accessMode: "proxy",
        isDefault: true,
        jsonDataEncoded: JSON.stringify({ httpMethod: "POST", timeInterval: args.scrapeInterval, ...tlsJsonData(args.prometheusTls) }),
        // As for the Elasticsearch datasources below: the user in plain settings, the password (and the CA) secret.
        ...(args.prometheusBasicAuth ? { basicAuthEnabled: true, basicAuthUsername: args.prometheusBasicAuth.user } : {}),
        ...(args.prometheusBasicAuth || args.prometheusTls?.caCertificate
          ? { secureJsonDataEncoded: secureJsonData(args.prometheusBasicAuth?.password, args.prometheusTls?.caCertificate) }
          : {}),
      },
      own,
    );

    const remoteWrite = args.remoteWriteDatasource;
    if (remoteWrite) {
      const { jsonData, secureJsonData } = remoteWriteDatasourceData(remoteWrite);
      this.remoteWriteDatasource = new grafana.oss.DataSource(
        "prometheus-remote-write",
        {
          type: "prometheus",
          uid: REMOTE_WRITE_DATASOURCE.uid,
          name: REMOTE_WRITE_DATASOURCE.name,
          url: remoteWrite.url,
          accessMode: "proxy",
          isDefault: false,
          jsonDataEncoded: JSON.stringify(jsonData),
          // The user in plain settings; the password and every header value in secureJsonData, secret as a whole.
          ...(remoteWrite.basicAuth ? { basicAuthEnabled: true, basicAuthUsername: remoteWrite.basicAuth.user } : {}),
          ...(secureJsonData ? { secureJsonDataEncoded: secureJsonData } : {}),
        },
        // After the query datasource: Grafana makes the first datasource of an organization its default
        // (grafana/grafana pkg/services/datasources/service/datasource.go, AddDataSource).
        { ...own, dependsOn: [...args.waitFor, this.prometheusDatasource] },
      );
    }

    const elasticsearch = args.elasticsearch;
    if (elasticsearch) {
      this.elasticsearchDatasource = new grafana.oss.DataSource(
        "elasticsearch",
        {
          type: "elasticsearch",
          uid: ELASTICSEARCH_DATASOURCE.uid,
          name: ELASTICSEARCH_DATASOURCE.name,
          url: elasticsearch.url,
          accessMode: "proxy",
          basicAuthEnabled: true,
          basicAuthUsername: elasticsearch.user,
          jsonDataEncoded: JSON.stringify({
            index: elasticsearch.dataStream,
            timeField: "@timestamp",
            logMessageField: "message",
            logLevelField: "log.level",
            maxConcurrentShardRequests: 5,
            ...tlsJsonData(elasticsearch),
          }),
          secureJsonDataEncoded: secureJsonData(elasticsearch.password, elasticsearch.caCertificate),
        },
        { ...own, dependsOn: [...args.waitFor, ...elasticsearch.waitFor] },
      );
      this.failureStoreDatasource = new grafana.oss.DataSource(
        "elasticsearch-failures",
        {
          type: "elasticsearch",
          uid: FAILURE_STORE_DATASOURCE.uid,
          name: FAILURE_STORE_DATASOURCE.name,
          url: elasticsearch.url,
          accessMode: "proxy",
          basicAuthEnabled: true,
          basicAuthUsername: elasticsearch.user,
          // Failure documents carry their own @timestamp (when the failure happened), error.* and document.*.
          jsonDataEncoded: JSON.stringify({
            index: failureStoreIndex(elasticsearch.dataStream),
            timeField: "@timestamp",
            maxConcurrentShardRequests: 5,
            ...tlsJsonData(elasticsearch),
          }),
          secureJsonDataEncoded: secureJsonData(elasticsearch.password, elasticsearch.caCertificate),
        },
        { ...own, dependsOn: [...args.waitFor, ...elasticsearch.waitFor] },
      );
    }

    this.datasources = [
      this.prometheusDatasource,
      ...(this.remoteWriteDatasource ? [this.remoteWriteDatasource] : []),
      ...(this.elasticsearchDatasource ? [this.elasticsearchDatasource] : []),
      ...(this.failureStoreDatasource ? [this.failureStoreDatasource] : []),
    ];

    this.folder = new grafana.oss.Folder("dashboards", { uid: DASHBOARD_FOLDER.uid, title: DASHBOARD_FOLDER.title }, own);

    this.dashboards = args.dashboards.map(
      (dashboard) =>
        new grafana.oss.Dashboard(
          `dashboard-${dashboard.uid}`,
          {
            folder: this.folder.uid,
            configJson: JSON.stringify(dashboard.model),
            overwrite: true,
            message: `Managed by atra-observability from ${dashboard.fileName}`,
          },
          // Panels query the datasources by uid: create them first so no dashboard opens on a missing datasource.
          { ...own, dependsOn: [...args.waitFor, ...this.datasources] },
        ),
    );

    this.dashboardUrls = Object.fromEntries(args.dashboards.map((dashboard) => [dashboard.uid, `${args.publicUrl}/d/${dashboard.uid}`]));
    this.registerOutputs({ dashboardUrls: this.dashboardUrls });
  }
}

/** The provider's `auth`, secret: the token, or `user:password`. */
function providerAuth(args: GrafanaConfigurationArgs): pulumi.Output<string> {
  if (args.apiToken) return pulumi.secret(args.apiToken);
  if (args.adminUser === undefined || !args.adminPassword) throw new Error("GrafanaConfiguration needs apiToken, or adminUser and adminPassword");
  return pulumi.secret(pulumi.interpolate`${args.adminUser}:${args.adminPassword}`);
}

/**
 * jsonData of a datasource trusting a CA, and checking a given name (grafana/grafana
 * pkg/services/datasources/service/datasource.go dsTLSOptions: `tlsAuthWithCACert`, `serverName`).
 */
function tlsJsonData(tls: TrustedTls | undefined): Record<string, unknown> {
  return { ...(tls?.caCertificate ? { tlsAuthWithCACert: true } : {}), ...(tls?.serverName ? { serverName: tls.serverName } : {}) };
}

/** secureJsonData: the basic-auth password and the CA (`tlsCACert`), the whole of it secret. */
function secureJsonData(password: pulumi.Output<string> | undefined, caCertificate: pulumi.Input<string> | undefined): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([password, caCertificate])
      .apply(([basicAuthPassword, tlsCACert]) =>
        JSON.stringify({ ...(basicAuthPassword !== undefined ? { basicAuthPassword } : {}), ...(tlsCACert ? { tlsCACert } : {}) }),
      ),
  );
}
