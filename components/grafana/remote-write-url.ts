/**
 * Where Grafana-managed recording rules write (the SLO series when metrics live in a remote-write
 * backend: components/slo/slo-rules.ts, sloGrafanaRecordingGroups): the datasource URL and type from
 * which Grafana derives a remote write's URL. Pure, for the config rules (components/slo/config.ts) and
 * the write datasource (remote-write-datasource.ts).
 *
 * Grafana does not take a write URL: it derives one from the target datasource's URL and type
 * (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go, getRemoteWriteURL). This file
 * inverts it: the URL and `prometheusType` from which getRemoteWriteURL yields exactly a remote write's
 * URL, checked by running this file's port of getRemoteWriteURL on them. A remote write URL that no datasource URL maps
 * to is refused at config time (components/slo/config.ts).
 */

/**
 * Grafana's limit on a datasource URL (grafana/grafana pkg/services/datasources/service/datasource.go,
 * maxDatasourceUrlLen, checked by prepareInstanceSettings).
 */
const MAX_DATASOURCE_URL_LENGTH = 255;

/** What getRemoteWriteURL reads of a datasource: `jsonData.prometheusType` is "Prometheus", or anything else (Mimir/Cortex routes). */
export type PrometheusType = "Prometheus" | "Mimir";

/** scheme://authority, the path, and the query (without `?`); no fragment. */
const URL_PARTS = /^(https?:\/\/[^/?#@]+)([^?#]*)(?:\?([^#]*))?$/;
/** Path characters that Go's url.URL writes back as they are (unreserved and `/`): anything else could come back escaped. */
const PLAIN_PATH = /^[A-Za-z0-9._~/-]*$/;

/** Go's path.Clean (src/path/path.go): the shortest equivalent path; "." for an empty one. */
export function goPathClean(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(segment);
  }
  const cleaned = (rooted ? "/" : "") + out.join("/");
  return cleaned === "" ? "." : cleaned;
}

/** Go's path.Join: the non-empty elements joined by `/`, cleaned; "" when all are empty. */
function goPathJoin(...elements: string[]): string {
  const joined = elements.filter((element) => element !== "").join("/");
  return joined === "" ? "" : goPathClean(joined);
}

/** Go's path.Dir: everything before the last `/`, cleaned. */
function goPathDir(path: string): string {
  return goPathClean(path.slice(0, path.lastIndexOf("/") + 1));
}

/**
 * Port of getRemoteWriteURL (grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go) for a
 * datasource of type `prometheus`, on a URL of URL_PARTS with a PLAIN_PATH path:
 * - `prometheusType` "Prometheus": `u.JoinPath("/api/v1/write")`;
 * - else a path ending in /api/prom (Mimir/Cortex legacy routes): `path.Join(u.Path, "/push")`;
 * - else a path ending in /prometheus (Mimir's new routes): `path.Join(path.Dir(u.Path), "/api/v1/push")`;
 * - else the host as Mimir's root: `/api/v1/push`.
 * The query string is kept as it is (the code changes only the path).
 */
export function grafanaRemoteWriteUrl(datasourceUrl: string, prometheusType: PrometheusType): string {
  const parts = URL_PARTS.exec(datasourceUrl);
  if (!parts || !PLAIN_PATH.test(parts[2])) throw new Error(`not a URL this port handles: ${datasourceUrl}`);
  const [, origin, path, query] = parts;
  const withQuery = (writePath: string) => `${origin}${writePath}${query !== undefined ? `?${query}` : ""}`;
  // url.JoinPath on an empty path joins to "/" and drops the leading slash, which URL.String puts back.
  if (prometheusType === "Prometheus") return withQuery(goPathJoin(path === "" ? "/" : path, "/api/v1/write"));
  const cleanPath = goPathClean(path);
  if (cleanPath.endsWith("/api/prom")) return withQuery(goPathJoin(path, "/push"));
  if (cleanPath.endsWith("/prometheus")) return withQuery(goPathJoin(goPathDir(path), "/api/v1/push"));
  return withQuery("/api/v1/push");
}

/**
 * The remote write that Grafana records into: the first of prometheus.remoteWrite (the order of remote
 * writes means nothing else to Prometheus, so a stack with several puts the backend that
 * prometheus.external.queryUrl reads first). The config rules and the program both take it from here.
 */
export const RECORDING_REMOTE_WRITE_INDEX = 0;

export interface RemoteWriteDatasourceTarget {
  /** The datasource's URL: also a query URL of the same backend in each case. */
  url: string;
  prometheusType: PrometheusType;
}

/**
 * The datasource URL and type from which Grafana derives exactly `remoteWriteUrl`, or why there is none:
 * - `<base>/api/v1/write` (a Prometheus remote-write receiver, VictoriaMetrics): `<base>`, type Prometheus;
 * - `<prefix>/api/v1/push` (Mimir, Cortex): `<prefix>/prometheus`, Mimir's query path;
 * - `<base>/api/prom/push` (Grafana Cloud, Cortex's legacy routes): `<base>/api/prom`.
 */
export function remoteWriteDatasourceTarget(remoteWriteUrl: string): RemoteWriteDatasourceTarget | { problem: string } {
  const parts = URL_PARTS.exec(remoteWriteUrl);
  if (!parts) return { problem: "is not of the form scheme://host/path[?query] that a Grafana datasource URL can carry" };
  const [, origin, path, query] = parts;
  if (!PLAIN_PATH.test(path) || (path !== "" && goPathClean(path) !== path)) {
    return { problem: "has a path Grafana would rewrite (only letters, digits, '.', '_', '~', '-' and single '/', no trailing '/', '.' or '..' segments)" };
  }
  const suffixes: [string, (prefix: string) => string, PrometheusType][] = [
    ["/api/v1/write", (prefix) => prefix, "Prometheus"],
    ["/api/v1/push", (prefix) => `${prefix}/prometheus`, "Mimir"],
    ["/api/prom/push", (prefix) => `${prefix}/api/prom`, "Mimir"],
  ];
  const match = suffixes.find(([suffix]) => path.endsWith(suffix));
  if (!match) {
    return {
      problem:
        "does not end in /api/v1/write (a Prometheus receiver, VictoriaMetrics), /api/v1/push (Mimir, Cortex) or /api/prom/push (Grafana Cloud), " +
        "the only remote-write paths Grafana's recording rules write to (it derives the path from a datasource URL: grafana/grafana pkg/services/ngalert/writer/datasourcewriter.go, getRemoteWriteURL)",
    };
  }
  const [suffix, datasourcePath, prometheusType] = match;
  const url = `${origin}${datasourcePath(path.slice(0, -suffix.length))}${query !== undefined ? `?${query}` : ""}`;
  if (url.length > MAX_DATASOURCE_URL_LENGTH) return { problem: `would make a datasource URL longer than Grafana's ${MAX_DATASOURCE_URL_LENGTH} characters` };
  // The inverse must hold exactly (test/unit/external-config.test.ts holds it for each form).
  const derived = grafanaRemoteWriteUrl(url, prometheusType);
  if (derived !== remoteWriteUrl) return { problem: `cannot be expressed as a Grafana datasource: the nearest one would make Grafana write to ${derived}` };
  return { url, prometheusType };
}
