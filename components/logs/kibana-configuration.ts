/**
 * Kibana's managed objects for the logs stage: the data view over the data stream (fixed id, so
 * links to it stay valid) and a saved search of recent errors. Takes a Kibana endpoint and a user;
 * knows nothing of Docker.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ElasticConnectionArgs } from "../elastic/connection";
import { KibanaDataView, KibanaSavedObject } from "../elastic/kibana-objects";
import type { LogsNaming } from "./elastic-bodies";
import { renderDataView, renderRecentErrorsSearch, renderSlowestRequestsSearch } from "./kibana-bodies";

export interface KibanaConfigurationArgs {
  connection: pulumi.Input<ElasticConnectionArgs>;
  /** The objects' ids and the data stream the data view reads. */
  naming: LogsNaming;
  stack: string;
  /** What must be up first (a healthy Kibana, the index template). */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

export class KibanaConfiguration extends pulumi.ComponentResource {
  readonly dataView: KibanaDataView;
  readonly recentErrors: KibanaSavedObject;
  readonly slowestRequests: KibanaSavedObject;

  constructor(name: string, args: KibanaConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:logs:KibanaConfiguration", name, {}, opts);
    const { naming, connection } = args;
    const own = { parent: this, dependsOn: args.waitFor };

    const dataView = renderDataView({ id: naming.dataViewId, dataStream: naming.dataStream, name: `Atra logs (${args.stack})` });
    this.dataView = new KibanaDataView("data-view", { connection, dataView: dataView.data_view }, own);
    const search = renderRecentErrorsSearch({
      id: naming.recentErrorsSearchId,
      dataViewId: naming.dataViewId,
      title: `Recent errors by service (${args.stack})`,
    });
    this.recentErrors = new KibanaSavedObject(
      "recent-errors-search",
      { connection, type: "search", objectId: naming.recentErrorsSearchId, attributes: search.attributes, references: search.references },
      { ...own, dependsOn: [...args.waitFor, this.dataView] },
    );
    const slowest = renderSlowestRequestsSearch({
      id: naming.slowestRequestsSearchId,
      dataViewId: naming.dataViewId,
      title: `Slowest requests (${args.stack})`,
    });
    this.slowestRequests = new KibanaSavedObject(
      "slowest-requests-search",
      { connection, type: "search", objectId: naming.slowestRequestsSearchId, attributes: slowest.attributes, references: slowest.references },
      { ...own, dependsOn: [...args.waitFor, this.dataView] },
    );
    this.registerOutputs({ dataViewId: naming.dataViewId });
  }
}
