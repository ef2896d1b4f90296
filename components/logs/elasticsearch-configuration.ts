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
  renderAgentApiKey,
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
   * Also make the API key agent stacks' Filebeat ships with (`naming.agentApiKey`, the writer's privileges).
   * The connection must then be a user, not an API key: Elasticsearch refuses a key with privileges to a
   * request authenticated by one (DERIVED_API_KEY_REFUSAL), and the key can do no more than that user.
   */
  agentApiKey?: boolean;
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
  readonly ilmPolicy: IlmPolicy;
  /** Present when `agentApiKey` was asked for; its `apiKey` (`id:api_key`) and `encoded` outputs are secret. */
  readonly agentApiKey?: ElasticsearchApiKey;

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
    // The template names both: they exist before the first backing index is created from it.
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
          failureStoreRetention: args.ilm.deleteAfter,
        }),
      },
      { ...own, dependsOn: [...args.waitFor, this.ilmPolicy, this.ingestPipeline], retainOnDelete: true },
    );
    // Made once the data stream's template, pipeline and policy exist, so an agent's first write creates the
    // data stream from them. Not retained: destroying it (or turning it off) invalidates the key.
    if (args.agentApiKey) {
      this.agentApiKey = new ElasticsearchApiKey(
        "agent-api-key",
        { connection, name: naming.agentApiKey, body: renderAgentApiKey(naming) },
        { ...own, dependsOn: [...args.waitFor, this.ilmPolicy, this.ingestPipeline, this.indexTemplate] },
      );
    }
    this.registerOutputs({});
  }
}
