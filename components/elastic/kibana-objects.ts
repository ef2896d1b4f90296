/**
 * Kibana objects of the logs stage as Pulumi resources (dynamic providers over Kibana's REST API,
 * see provider-runtime.ts): a data view with a fixed id, and a saved object (the saved search).
 * The connection is a Kibana URL with an Elasticsearch user allowed to manage these objects.
 */
import * as pulumi from "@pulumi/pulumi";
import { ElasticConnection, ElasticConnectionArgs, RetryOptions, secretConnection, withSecretOutputs } from "./connection";
import { ELASTIC_MODULE } from "./elasticsearch-objects";
import { DataViewSpec, kibanaDataViewProvider, kibanaSavedObjectProvider, SavedObjectReference } from "./provider-runtime";

export type { DataViewSpec, SavedObjectReference } from "./provider-runtime";

export interface KibanaDataViewArgs {
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The `data_view` object of POST /api/data_views/data_view; `id` (fixed) and `title` required. */
  dataView: pulumi.Input<DataViewSpec>;
  /** Kibana space; the default space when absent. */
  spaceId?: pulumi.Input<string>;
  retry?: RetryOptions;
}

/**
 * POST /api/data_views/data_view with a fixed id; when it exists already (Kibana answers 400 for an
 * existing id and for a name already taken, never 409) it is updated instead (POST .../data_view/<id>).
 * Changing the id or space replaces it, and so does changing `allowNoIndex` or `fieldAttrs`, which
 * Kibana's update API accepts but does not apply, or refuses (the old one is deleted first when the id
 * stays the same). See provider-runtime.ts for the upstream sources.
 */
export class KibanaDataView extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly dataView: pulumi.Output<DataViewSpec>;
  declare readonly spaceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: KibanaDataViewArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kibanaDataViewProvider,
      name,
      { connection: secretConnection(args.connection), dataView: args.dataView, spaceId: args.spaceId, retry: args.retry },
      withSecretOutputs(opts, ["connection"]),
      ELASTIC_MODULE,
      "KibanaDataView",
    );
  }
}

export interface KibanaSavedObjectArgs {
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** Saved object type, e.g. `search`. */
  type: pulumi.Input<string>;
  /** Fixed id. */
  objectId: pulumi.Input<string>;
  attributes: pulumi.Input<Record<string, unknown>>;
  references?: pulumi.Input<SavedObjectReference[]>;
  spaceId?: pulumi.Input<string>;
  retry?: RetryOptions;
}

/** POST /api/saved_objects/<type>/<id>?overwrite=true (an upsert); changing type, id or space replaces it. */
export class KibanaSavedObject extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ElasticConnection>;
  declare readonly type: pulumi.Output<string>;
  declare readonly objectId: pulumi.Output<string>;
  declare readonly attributes: pulumi.Output<Record<string, unknown>>;
  declare readonly references: pulumi.Output<SavedObjectReference[] | undefined>;
  declare readonly spaceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: KibanaSavedObjectArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      kibanaSavedObjectProvider,
      name,
      {
        connection: secretConnection(args.connection),
        type: args.type,
        objectId: args.objectId,
        attributes: args.attributes,
        references: args.references,
        spaceId: args.spaceId,
        retry: args.retry,
      },
      withSecretOutputs(opts, ["connection"]),
      ELASTIC_MODULE,
      "KibanaSavedObject",
    );
  }
}
