/**
 * Elasticsearch's managed objects for the logs stage: the security objects (a least-privilege
 * writer for the shipper, a read-only user for Grafana, the `kibana_system` password), the ILM
 * policy, the ingest pipeline and the data stream's index template. Takes an endpoint and an admin
 * identity and knows nothing of Docker, so it can configure any Elasticsearch.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ElasticConnectionArgs } from "../elastic/connection";
import {
  BuiltinUserPassword,
  ElasticsearchApiKey,
  ElasticsearchRole,
  ElasticsearchUser,
  IlmPolicy,
  IndexTemplate,
  IngestPipeline,
} from "../elastic/elasticsearch-objects";
import type { RoleBody } from "../elastic/request-bodies";
import {
  LogsNaming,
  agentApiKeyName,
  agentKeyRenewBeforeMs,
  renderAgentApiKey,
  renderHostIdentityPipeline,
  renderIlmPolicy,
  renderIndexTemplate,
  renderIngestPipeline,
  renderKibanaViewerRole,
  renderReaderRole,
  renderWriterRole,
} from "./elastic-bodies";
import type { RequestKeysOfService } from "./request-fields";

export interface ElasticsearchConfigurationArgs {
  /** An Elasticsearch URL reachable from `pulumi up`, and a user allowed to manage security and indices. */
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The objects' names, the data stream among them. */
  naming: LogsNaming;
  ilm: { rolloverMaxAge: string; rolloverMaxPrimaryShardSize: string; deleteAfter: string };
  /** The stack's own Kibana's `kibana_system` password; absent for an external cluster (its Kibana is set up already). */
  kibanaSystemPassword?: pulumi.Input<string>;
  writerPassword: pulumi.Input<string>;
  readerPassword: pulumi.Input<string>;
  /** People's Kibana login's password: the login (role and user, renderKibanaViewerRole) is made when given. */
  kibanaViewerPassword?: pulumi.Input<string>;
  /**
   * The agent hosts (config.agents[]) whose Filebeat ships here: one API key each, whose metadata names the host and
   * its services (renderAgentApiKey). The connection must then be a user, not an API key: Elasticsearch refuses a key
   * with privileges to a request authenticated by one (DERIVED_API_KEY_REFUSAL), and a key can do no more than that
   * user; only the owner user may update a key in place (its services changed), never a key.
   */
  agentHosts?: readonly { host: string; services: readonly string[] }[];
  /** The central stack's host label (prometheus.hostLabel): the final pipeline's host.name of lines written without an API key. */
  centralHost: string;
  /** How long each agent key lives (logs.agentKeyExpiration, `90d`). */
  agentKeyExpiration?: string;
  /** What must be up first (a healthy Elasticsearch). */
  waitFor: pulumi.Input<pulumi.Resource>[];
  /** Catalog entries with their own request keys (`services[].requestLogKeys`), for the ingest pipeline. */
  requestKeys?: readonly RequestKeysOfService[];
}

export class ElasticsearchConfiguration extends pulumi.ComponentResource {
  readonly kibanaSystemPassword?: BuiltinUserPassword;
  readonly writerUser: ElasticsearchUser;
  readonly readerUser: ElasticsearchUser;
  /** People's Kibana login (renderKibanaViewerRole); present when `kibanaViewerPassword` is given. */
  readonly kibanaViewerUser?: ElasticsearchUser;
  readonly indexTemplate: IndexTemplate;
  readonly ingestPipeline: IngestPipeline;
  /** The data stream's final pipeline: host.name from the agent's API key (host-identity-pipeline.ts). */
  readonly finalPipeline: IngestPipeline;
  readonly ilmPolicy: IlmPolicy;
  /** Agent host -> its API key; `apiKey` (`id:api_key`) and `encoded` outputs are secret. Empty without agents. */
  readonly agentApiKeys: ReadonlyMap<string, ElasticsearchApiKey>;

  constructor(name: string, args: ElasticsearchConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:logs:ElasticsearchConfiguration", name, {}, opts);
    const { naming, connection } = args;
    const own = { parent: this, dependsOn: args.waitFor };

    // Kibana connects as kibana_system; its password is set here, before Kibana starts.
    if (args.kibanaSystemPassword !== undefined) {
      this.kibanaSystemPassword = new BuiltinUserPassword(
        "kibana-system-password",
        { connection, name: "kibana_system", password: args.kibanaSystemPassword },
        own,
      );
    }

    // A role and the one user that holds it, for the shipper (writes) and for Grafana (reads).
    const userWithRole = (
      kind: "writer" | "reader" | "kibana-viewer",
      user: string,
      role: string,
      body: RoleBody,
      password: pulumi.Input<string>,
      fullName: string,
    ) => {
      const created = new ElasticsearchRole(`${kind}-role`, { connection, name: role, body }, own);
      return new ElasticsearchUser(
        `${kind}-user`,
        { connection, name: user, password, body: { roles: [role], full_name: fullName } },
        { ...own, dependsOn: [...args.waitFor, created] },
      );
    };
    this.writerUser = userWithRole(
      "writer",
      naming.writerUser,
      naming.writerRole,
      renderWriterRole(naming.dataStream),
      args.writerPassword,
      "Log shipper (atra-observability)",
    );
    this.readerUser = userWithRole(
      "reader",
      naming.readerUser,
      naming.readerRole,
      renderReaderRole(naming.dataStream),
      args.readerPassword,
      "Grafana logs datasource (atra-observability)",
    );
    if (args.kibanaViewerPassword !== undefined) {
      this.kibanaViewerUser = userWithRole(
        "kibana-viewer",
        naming.kibanaViewerUser,
        naming.kibanaViewerRole,
        renderKibanaViewerRole(naming.dataStream),
        args.kibanaViewerPassword,
        "People reading logs in Kibana (atra-observability)",
      );
    }

    // Kept on delete: Elasticsearch refuses to delete a policy, template or default pipeline its data
    // stream still uses, and the data (on a retained volume) outlives a `destroy` anyway.
    this.ilmPolicy = new IlmPolicy(
      "ilm-policy",
      { connection, name: naming.ilmPolicy, body: { policy: renderIlmPolicy(args.ilm) } },
      { ...own, retainOnDelete: true },
    );
    this.ingestPipeline = new IngestPipeline(
      "ingest-pipeline",
      { connection, name: naming.pipeline, body: renderIngestPipeline(args.requestKeys ?? []) },
      { ...own, retainOnDelete: true },
    );
    this.finalPipeline = new IngestPipeline(
      "final-pipeline",
      { connection, name: naming.finalPipeline, body: renderHostIdentityPipeline(args.centralHost) },
      { ...own, retainOnDelete: true },
    );
    // The template names all three: they exist before the first backing index is created from it.
    this.indexTemplate = new IndexTemplate(
      "index-template",
      {
        connection,
        name: naming.indexTemplate,
        // The failure store keeps failed lines as long as the ILM policy keeps indexed ones (logs.retention).
        body: renderIndexTemplate({
          dataStream: naming.dataStream,
          ilmPolicy: naming.ilmPolicy,
          pipeline: naming.pipeline,
          finalPipeline: naming.finalPipeline,
          failureStoreRetention: args.ilm.deleteAfter,
        }),
      },
      { ...own, dependsOn: [...args.waitFor, this.ilmPolicy, this.ingestPipeline, this.finalPipeline], retainOnDelete: true },
    );
    // One key per agent host, made once the data stream's template, pipelines and policy exist, so an agent's first
    // write creates the data stream from them. Not retained: removing a host from agents[] invalidates its key alone
    // (the provider's delete: DELETE _security/api_key { ids: [its id] }); the others are separate resources.
    // The resource name carries the host, so adding or removing one host leaves the others' keys as they are.
    const keys = new Map<string, ElasticsearchApiKey>();
    for (const { host, services } of args.agentHosts ?? []) {
      const expiration = args.agentKeyExpiration;
      if (!expiration) throw new Error("ElasticsearchConfiguration: agentHosts needs agentKeyExpiration");
      keys.set(
        host,
        new ElasticsearchApiKey(
          `agent-api-key-${host.toLowerCase()}`,
          {
            connection,
            name: agentApiKeyName(naming, host),
            body: renderAgentApiKey(naming, host, services, expiration),
            // Renewed by a plain `up` near its expiry, the old key left valid until then (agentKeyRenewBeforeMs).
            renewBefore: `${agentKeyRenewBeforeMs(expiration)}ms`,
          },
          { ...own, dependsOn: [...args.waitFor, this.ilmPolicy, this.ingestPipeline, this.finalPipeline, this.indexTemplate] },
        ),
      );
    }
    this.agentApiKeys = keys;
    this.registerOutputs({});
  }
}
