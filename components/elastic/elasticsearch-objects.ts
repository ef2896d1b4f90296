/**
 * Elasticsearch objects of the logs stage as Pulumi resources (dynamic providers over the official
 * client, see provider-runtime.ts): security roles, native users, a reserved user's password, ILM
 * policies, composable index templates, ingest pipelines and API keys.
 *
 * Each takes the connection (made secret here, and its outputs listed as secret) and the request
 * body as the client's `estypes` type it. The body comes from the renderers; these classes only
 * send it. Changing `name` replaces the object (the new one is created before the old is deleted);
 * any other change is a PUT of the new body.
 */
import * as pulumi from "@pulumi/pulumi";
import { ElasticConnection, ElasticConnectionArgs, RetryOptions, secretConnection, withSecretOutputs } from "./connection";
import {
  builtinUserPasswordProvider,
  elasticsearchApiKeyProvider,
  ilmPolicyProvider,
  indexTemplateProvider,
  ingestPipelineProvider,
  nativeUserProvider,
  roleProvider,
} from "./provider-runtime";
import type { ApiKeyBody, IlmPolicyBody, IndexTemplateBody, IngestPipelineBody, RoleBody, UserBody } from "./request-bodies";

/** Dynamic resource module: types read `pulumi-nodejs:dynamic/elastic:<Class>`. */
export const ELASTIC_MODULE = "elastic";

export interface ElasticsearchObjectArgs<Body> {
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The object's name in Elasticsearch (the id, for ingest pipelines). */
  name: pulumi.Input<string>;
  /** The request body (typed by the client's `estypes`). */
  body: pulumi.Input<Body>;
  /** Retry budget while the server starts; defaults suit a `pulumi up` (about 2 minutes). */
  retry?: RetryOptions;
}

abstract class ElasticsearchObject<Body> extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly name: pulumi.Output<string>;
  declare readonly body: pulumi.Output<Body>;

  protected constructor(
    provider: pulumi.dynamic.ResourceProvider,
    type: string,
    resourceName: string,
    args: ElasticsearchObjectArgs<Body>,
    opts: pulumi.CustomResourceOptions | undefined,
  ) {
    super(
      provider,
      resourceName,
      { connection: secretConnection(args.connection), name: args.name, body: args.body, retry: args.retry },
      withSecretOutputs(opts, ["connection"]),
      ELASTIC_MODULE,
      type,
    );
  }
}

/** PUT _security/role/<name>. */
export class ElasticsearchRole extends ElasticsearchObject<RoleBody> {
  constructor(name: string, args: ElasticsearchObjectArgs<RoleBody>, opts?: pulumi.CustomResourceOptions) {
    super(roleProvider, "ElasticsearchRole", name, args, opts);
  }
}

/** PUT _ilm/policy/<name>; body `{ policy: { phases, _meta? } }`. */
export class IlmPolicy extends ElasticsearchObject<IlmPolicyBody> {
  constructor(name: string, args: ElasticsearchObjectArgs<IlmPolicyBody>, opts?: pulumi.CustomResourceOptions) {
    super(ilmPolicyProvider, "IlmPolicy", name, args, opts);
  }
}

/** PUT _index_template/<name> (composable template; `data_stream: {}` for a data stream). */
export class IndexTemplate extends ElasticsearchObject<IndexTemplateBody> {
  constructor(name: string, args: ElasticsearchObjectArgs<IndexTemplateBody>, opts?: pulumi.CustomResourceOptions) {
    super(indexTemplateProvider, "IndexTemplate", name, args, opts);
  }
}

/** PUT _ingest/pipeline/<name>. */
export class IngestPipeline extends ElasticsearchObject<IngestPipelineBody> {
  constructor(name: string, args: ElasticsearchObjectArgs<IngestPipelineBody>, opts?: pulumi.CustomResourceOptions) {
    super(ingestPipelineProvider, "IngestPipeline", name, args, opts);
  }
}

export interface ElasticsearchUserArgs {
  connection: pulumi.Input<ElasticConnectionArgs>;
  name: pulumi.Input<string>;
  /** At least 6 characters; stored as a secret. */
  password: pulumi.Input<string>;
  /** roles, full_name, email, metadata, enabled. */
  body: pulumi.Input<UserBody>;
  retry?: RetryOptions;
}

/**
 * A native user: PUT _security/user/<name>. Refresh reads the user back and checks the password by
 * authenticating as the user; a password changed outside Pulumi is set again by the next `up`.
 */
export class ElasticsearchUser extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly name: pulumi.Output<string>;
  declare readonly password: pulumi.Output<string>;
  declare readonly body: pulumi.Output<UserBody>;

  constructor(name: string, args: ElasticsearchUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      nativeUserProvider,
      name,
      { connection: secretConnection(args.connection), name: args.name, password: pulumi.secret(args.password), body: args.body, retry: args.retry },
      withSecretOutputs(opts, ["connection", "password"]),
      ELASTIC_MODULE,
      "ElasticsearchUser",
    );
  }
}

export interface BuiltinUserPasswordArgs {
  /** A user allowed to change other users' passwords (e.g. `elastic`). */
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The reserved user, e.g. `kibana_system`. */
  name: pulumi.Input<string>;
  password: pulumi.Input<string>;
  retry?: RetryOptions;
}

/**
 * A reserved user's password: PUT _security/user/<name>/_password (the client's method; ES takes
 * POST too). Refresh authenticates as the user (GET _security/_authenticate); deleting the
 * resource leaves the user and password alone.
 */
export class BuiltinUserPassword extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly name: pulumi.Output<string>;
  declare readonly password: pulumi.Output<string>;

  constructor(name: string, args: BuiltinUserPasswordArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      builtinUserPasswordProvider,
      name,
      { connection: secretConnection(args.connection), name: args.name, password: pulumi.secret(args.password), retry: args.retry },
      withSecretOutputs(opts, ["connection", "password"]),
      ELASTIC_MODULE,
      "BuiltinUserPassword",
    );
  }
}

export interface ElasticsearchApiKeyArgs {
  /**
   * A user allowed to create API keys (`manage_api_key`, or `manage_own_api_key`), who holds at least the
   * privileges the key grants: a key can never do more than its owner could when it was made. Not an API
   * key: Elasticsearch refuses a key with privileges to a request authenticated by one (check says so).
   */
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The key's name (names need not be unique in Elasticsearch). */
  name: pulumi.Input<string>;
  /** `role_descriptors` (at least one) and `metadata`. */
  body: pulumi.Input<ApiKeyBody>;
  /**
   * With `body.expiration`: a plain `up` makes a new key once this one expires within this time (an Elasticsearch
   * duration), leaving the current one valid until it expires (provider-runtime.ts, apiKeyProvider).
   */
  renewBefore?: pulumi.Input<string>;
  retry?: RetryOptions;
}

/**
 * An API key: POST _security/api_key; refresh reads it back (GET ...?id=), a key invalidated or expired
 * is gone and made again; destroy invalidates it (DELETE _security/api_key). Any change of name, body or
 * connection URL makes a new key, created before the old one is invalidated; rotating is
 * `pulumi up --replace <urn>`. A change of credentials alone keeps the key. `apiKey` and `encoded` are
 * secret outputs; the engine stores them encrypted.
 */
export class ElasticsearchApiKey extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly name: pulumi.Output<string>;
  declare readonly body: pulumi.Output<ApiKeyBody>;
  /** The key's id (also the resource id). */
  declare readonly keyId: pulumi.Output<string>;
  /** `<id>:<api_key>`: the form Filebeat's `output.elasticsearch.api_key` takes (Beats base64-encodes it itself). Secret. */
  declare readonly apiKey: pulumi.Output<string>;
  /** base64 of `<id>:<api_key>`: the form an `Authorization: ApiKey <encoded>` header (and `elasticApiKey`) takes. Secret. */
  declare readonly encoded: pulumi.Output<string>;
  /** When the current key expires (epoch ms), if it does. */
  declare readonly expiresAt: pulumi.Output<number | undefined>;

  constructor(name: string, args: ElasticsearchApiKeyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      elasticsearchApiKeyProvider,
      name,
      // The outputs the provider computes are registered unknown, so the engine knows their names.
      {
        connection: secretConnection(args.connection),
        name: args.name,
        body: args.body,
        renewBefore: args.renewBefore,
        retry: args.retry,
        keyId: undefined,
        apiKey: undefined,
        encoded: undefined,
        expiresAt: undefined,
        previousKeyId: undefined,
      },
      withSecretOutputs(opts, ["connection", "apiKey", "encoded"]),
      ELASTIC_MODULE,
      "ElasticsearchApiKey",
    );
  }
}
