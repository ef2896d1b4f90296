/**
 * How Filebeat reads `output.elasticsearch.hosts`, ported from Go so tests can ask which port an
 * event is sent to.
 *
 * elastic/beats libbeat/outputs/elasticsearch/elasticsearch.go (makeES) turns every host into a URL
 * with `common.MakeURL(esConfig.Protocol, esConfig.Path, host, 9200)`; libbeat/common/url.go:
 *
 *   - `hasScheme` (`^([a-z][a-z0-9+\-.]*)://`, lower case only): without a match the default scheme
 *     (`protocol`, else "http") and `://` are put in front;
 *   - `url.Parse`, then `port := strconv.Itoa(defaultPort)`, replaced only when `net.SplitHostPort`
 *     finds a port in the host; an IPv6 address without brackets gets them;
 *   - the default path when the URL has none; `addr.Host = host + ":" + port`; `addr.String()`.
 *
 * Then Go's net/http dials `canonicalAddr(url)` (golang/go src/net/http/transport.go): the URL's
 * port, or `portMap[scheme]` (80, 443) when it has none, which MakeURL never leaves it.
 */

const HAS_SCHEME = /^([a-z][a-z0-9+\-.]*):\/\//;

interface GoUrl {
  scheme: string;
  userinfo?: string;
  host: string;
  path: string;
  rawQuery?: string;
  fragment?: string;
}

/** Go's url.Parse for absolute URLs with an authority (net/url/url.go: getScheme, parseAuthority, parseHost). */
export function goUrlParse(raw: string): GoUrl {
  let rest = raw;
  let fragment: string | undefined;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (!scheme) throw new Error(`parse "${raw}": missing protocol scheme`);
  rest = rest.slice(scheme[0].length);
  let rawQuery: string | undefined;
  const question = rest.indexOf("?");
  if (question >= 0) {
    rawQuery = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  if (!rest.startsWith("//")) return { scheme: scheme[1].toLowerCase(), host: "", path: rest, rawQuery, fragment };
  rest = rest.slice(2);
  const slash = rest.indexOf("/");
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : "";
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  // parseHost: what follows the host (after `]` for IPv6, else after the last ':') must be an optional port.
  const portPart = host.startsWith("[") ? host.slice(host.indexOf("]") + 1) : host.includes(":") ? host.slice(host.lastIndexOf(":")) : "";
  if (host.startsWith("[") && host.indexOf("]") < 0) throw new Error(`parse "${raw}": missing ']' in host`);
  if (portPart !== "" && !/^:\d*$/.test(portPart)) throw new Error(`parse "${raw}": invalid port "${portPart}" after host`);
  return { scheme: scheme[1].toLowerCase(), userinfo, host, path, rawQuery, fragment };
}

/** Go's net.SplitHostPort (net/ipsock.go): undefined where it returns an error (no port, too many colons). */
export function goSplitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || hostport[end + 1] !== ":") return undefined;
    return { host: hostport.slice(1, end), port: hostport.slice(end + 2) };
  }
  const colon = hostport.lastIndexOf(":");
  if (colon < 0 || hostport.indexOf(":") !== colon) return undefined;
  return { host: hostport.slice(0, colon), port: hostport.slice(colon + 1) };
}

function goUrlString(url: GoUrl): string {
  return `${url.scheme}://${url.userinfo !== undefined ? `${url.userinfo}@` : ""}${url.host}${url.path}${url.rawQuery !== undefined ? `?${url.rawQuery}` : ""}${url.fragment !== undefined ? `#${url.fragment}` : ""}`;
}

/** libbeat/common/url.go MakeURL. */
export function makeURL(defaultScheme: string, defaultPath: string, rawURL: string, defaultPort: number): string {
  const scheme = defaultScheme === "" ? "http" : defaultScheme;
  const withScheme = HAS_SCHEME.test(rawURL) ? rawURL : `${scheme}://${rawURL}`;
  const addr = goUrlParse(withScheme);
  let host = addr.host;
  let port = String(defaultPort);
  if (host === "") {
    host = "localhost";
  } else {
    const split = goSplitHostPort(host);
    if (split) {
      host = split.host;
      port = split.port;
    }
    if ((host.match(/:/g) ?? []).length > 1 && !host.includes("]")) host = `[${host}]`;
  }
  if (addr.path === "") addr.path = defaultPath;
  addr.host = `${host}:${port}`;
  return goUrlString(addr);
}

/** Where Go's net/http connects for a URL: canonicalAddr's port (the URL's, else 80/443 by scheme). */
export function goDialledPort(url: string): number {
  const parsed = goUrlParse(url);
  const split = goSplitHostPort(parsed.host);
  const port = split?.port ? split.port : ({ http: "80", https: "443" } as Record<string, string>)[parsed.scheme];
  return Number(port);
}

/** The port Filebeat's Elasticsearch output connects to for one entry of `hosts` (protocol and path as the output sets them). */
export function filebeatDialledPort(host: string, protocol = "", path = ""): number {
  return goDialledPort(makeURL(protocol, path, host, 9200));
}

/** The port a URL means to a WHATWG/Node or Go client: its own, else the scheme's default. */
export function meantPort(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
}
