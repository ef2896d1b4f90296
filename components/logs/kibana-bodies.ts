/**
 * Pure renderers for the logs stage's Kibana objects: the data view over the data stream and a
 * saved Discover search of recent errors. No Pulumi inside; the dynamic provider sends them.
 *
 * Shapes, as documented for Kibana 9:
 * - Data view: POST /api/data_views/data_view with `{ data_view: { id, title, name,
 *   timeFieldName, allowNoIndex } }`. `title` is the index pattern; `allowNoIndex` lets
 *   the data view exist before the data stream does (Filebeat creates it on its first write).
 *   Kibana answers an existing id with 400 (not 409); the provider turns that into an update, so
 *   create works as an upsert. Kibana's update API ignores `allowNoIndex`, so changing it replaces
 *   the data view (same id, deleted first).
 * - Saved search: the saved objects API (POST /api/saved_objects/search/<id>?overwrite=true) with
 *   `{ attributes, references }`. Attributes follow the `search` type's schema (title,
 *   description, columns, sort, grid, hideChart, isTextBasedQuery, kibanaSavedObjectMeta); the
 *   search source names its data view through `indexRefName`, resolved by the reference of type
 *   `index-pattern` with that name (how Kibana exports saved searches). Kibana 9.2+ moves these
 *   attributes into Discover session `tabs` and migrates objects written in this shape.
 */

import type { DataViewSpec } from "../elastic/kibana-objects";

export interface DataViewOptions {
  id: string;
  dataStream: string;
  name: string;
}

/** The request of POST /api/data_views/data_view: the provider's DataViewSpec, with the fields this stack sets. */
export interface DataViewBody {
  data_view: Required<Pick<DataViewSpec, "id" | "title" | "name" | "timeFieldName" | "allowNoIndex">>;
}

export function renderDataView(options: DataViewOptions): DataViewBody {
  return {
    data_view: {
      id: options.id,
      title: options.dataStream,
      name: options.name,
      timeFieldName: "@timestamp",
      allowNoIndex: true,
    },
  };
}

/** log.level values the saved search selects; the pipeline lowercases levels. structlog's
 *  add_log_level writes `error` for log.exception(), `critical` for log.critical(); `exception`
 *  and `fatal` cover other renderers. */
export const ERROR_LEVELS = ["error", "critical", "exception", "fatal"] as const;

const INDEX_REF_NAME = "kibanaSavedObjectMeta.searchSourceJSON.index";

export interface RecentErrorsSearchOptions {
  id: string;
  dataViewId: string;
  title: string;
}

export interface SavedSearchBody {
  attributes: {
    title: string;
    description: string;
    columns: string[];
    sort: [string, "asc" | "desc"][];
    grid: Record<string, never>;
    hideChart: boolean;
    isTextBasedQuery: boolean;
    kibanaSavedObjectMeta: { searchSourceJSON: string };
  };
  references: { name: string; type: "index-pattern"; id: string }[];
}

/** KQL over log.level; the values are fixed words, quoted anyway so KQL never reads them as syntax. */
export function errorLevelsKql(): string {
  return `log.level: (${ERROR_LEVELS.map((level) => JSON.stringify(level)).join(" or ")})`;
}

/**
 * `options.id` is not part of the body (the API's body schema would refuse it): it goes in the
 * path, POST /api/saved_objects/search/<id>.
 */
export function renderRecentErrorsSearch(options: RecentErrorsSearchOptions): SavedSearchBody {
  const searchSource = {
    query: { query: errorLevelsKql(), language: "kuery" },
    filter: [],
    indexRefName: INDEX_REF_NAME,
  };
  return {
    attributes: {
      title: options.title,
      description: "Log events at error level or above, newest first (managed by atra-observability)",
      columns: ["service.name", "log.level", "message"],
      sort: [["@timestamp", "desc"]],
      grid: {},
      hideChart: false,
      isTextBasedQuery: false,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify(searchSource) },
    },
    references: [{ name: INDEX_REF_NAME, type: "index-pattern", id: options.dataViewId }],
  };
}

/**
 * Saved search "Slowest requests": every line with a request duration (event.duration, written by the ingest
 * pipeline from the request fields, request-fields.ts), longest first, with the fields that place it. The
 * Kibana counterpart of the Grafana dashboard's Slowest requests table (dashboards/logs-performance.json), and
 * unlike that table it includes lines without a request id. Same `search` shape as renderRecentErrorsSearch.
 */
export function renderSlowestRequestsSearch(options: RecentErrorsSearchOptions): SavedSearchBody {
  const searchSource = {
    query: { query: "event.duration: *", language: "kuery" },
    filter: [],
    indexRefName: INDEX_REF_NAME,
  };
  return {
    attributes: {
      title: options.title,
      description: "Request lines by event.duration, longest first (managed by atra-observability)",
      columns: ["service.name", "http.request.method", "url.path", "http.response.status_code", "event.duration", "http.request.id", "message"],
      sort: [["event.duration", "desc"]],
      grid: {},
      hideChart: false,
      isTextBasedQuery: false,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify(searchSource) },
    },
    references: [{ name: INDEX_REF_NAME, type: "index-pattern", id: options.dataViewId }],
  };
}
