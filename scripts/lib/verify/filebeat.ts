/**
 * Why a service's events never arrived, as far as the plan and the outputs can tell: first the port
 * Filebeat really dials against the port Elasticsearch listens on, then the other causes in the order
 * they are likely.
 *
 * Filebeat turns every `output.elasticsearch.hosts` entry into a URL with
 * `common.MakeURL(protocol, path, host, 9200)` (elastic/beats libbeat/outputs/elasticsearch/elasticsearch.go,
 * makeES; libbeat/common/url.go, MakeURL): a host without a scheme gets "http://", and a host without a
 * port gets 9200, whatever its scheme: `https://logs.example.com` is dialled on 9200, not 443.
 */
import type { Outputs, PlanFacts } from "./inputs";
import { text } from "./inputs";
import type { Check } from "./types";

export function beatsDialPort(host: string): { scheme: string; hostname: string; port: number } | undefined {
  const withScheme = /^[a-z][a-z0-9+\-.]*:\/\//.test(host) ? host : `http://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  // MakeURL keeps a port the host names (net.SplitHostPort), else 9200. WHATWG URL drops a port equal to
  // the scheme's default (https://x:443 -> port ""), so the authority is read from the text.
  const authority = withScheme
    .replace(/^[a-z][a-z0-9+\-.]*:\/\//, "")
    .split(/[/?#]/)[0]
    .replace(/^.*@/, "");
  const explicit = /:(\d+)$/.exec(authority);
  return { scheme: url.protocol.replace(":", ""), hostname: url.hostname, port: explicit ? Number(explicit[1]) : 9200 };
}

/** The port a client that is not Beats (Node, Go's net/http, a browser) uses for a URL. */
function urlPort(raw: string): { hostname: string; port: number } | undefined {
  try {
    const url = new URL(raw);
    return { hostname: url.hostname, port: url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80 };
  } catch {
    return undefined;
  }
}

/** A wrong port in Filebeat's output, when the plan and outputs show one. */
export function filebeatPortMismatch(facts: PlanFacts, outputs: Outputs): string | undefined {
  const published = text(outputs, "elasticsearchUrl");
  for (const host of facts.filebeatHosts) {
    const dialed = beatsDialPort(host);
    if (!dialed) continue;
    let expected: number | undefined;
    let why = "";
    if (facts.elasticsearchContainer && dialed.hostname === facts.elasticsearchContainer.name) {
      expected = facts.elasticsearchContainer.port;
      why = `the container ${facts.elasticsearchContainer.name} listens on ${expected}`;
    } else if (published) {
      const target = urlPort(published);
      if (target && target.hostname === dialed.hostname) {
        expected = target.port;
        why = `Elasticsearch is at ${published} (port ${expected})`;
      }
    }
    if (expected !== undefined && expected !== dialed.port)
      return (
        `Filebeat dials ${dialed.hostname}:${dialed.port} (output.elasticsearch.hosts: ${host}${/:\d+$/.test(host.split(/[/?#]/, 3).slice(0, 3).join("/")) ? "" : "; Beats adds 9200 to a host without a port"}) ` +
        `but ${why}: every event stays in Filebeat's queue. Give the host its port (logs.elasticsearch.url with :${expected}) and deploy again`
      );
  }
  return undefined;
}

/** Likely causes, most likely first, for services whose events never arrived. */
export function missingEventCauses(
  service: { name: string; paths: string[] },
  facts: PlanFacts,
  outputs: Outputs,
  anyServiceArrived: boolean,
  filebeatContainer: string | undefined,
): string[] {
  const causes: string[] = [];
  const mismatch = filebeatPortMismatch(facts, outputs);
  const logs = filebeatContainer ? `docker logs ${filebeatContainer}` : "Filebeat's log";
  if (!anyServiceArrived) {
    if (mismatch) causes.push(mismatch);
    causes.push(
      `Filebeat cannot deliver at all: ${logs} names the error (connection refused: wrong host or port; 401/403: the writer user or API key; x509: the CA)`,
    );
  }
  causes.push(
    `no file matches ${service.paths.join(", ")} on the Docker host, or the service has not written a line yet (Filebeat only ships files that exist)`,
  );
  if (anyServiceArrived && mismatch) causes.push(mismatch);
  causes.push("the ingest pipeline refused its lines: see the failure store check below");
  return causes;
}

/**
 * `filebeat.output`: the port rule as its own check, from the plan and the outputs alone (no network), so it runs
 * on every stack with Filebeat, an agent's included, before and whether or not any event search can run.
 * FAIL on a proven mismatch; WARN when the host names no port and its scheme is https (Beats dials 9200 there,
 * not 443) but nothing says where Elasticsearch listens; ok when every host's dial port matches.
 */
export function filebeatOutputCheck(facts: PlanFacts, outputs: Outputs): Check {
  const id = "filebeat.output";
  return {
    id,
    run: async () => {
      const mismatch = filebeatPortMismatch(facts, outputs);
      if (mismatch) return { id, status: "fail", summary: mismatch.split(": every event")[0], fix: [mismatch] };
      const dialed = facts.filebeatHosts.map((host) => ({ host, dial: beatsDialPort(host) }));
      const unparsed = dialed.filter((entry) => !entry.dial).map((entry) => entry.host);
      if (unparsed.length > 0)
        return {
          id,
          status: "fail",
          summary: `Filebeat's output.elasticsearch.hosts ${unparsed.join(", ")}: not a host Beats can dial`,
          fix: ["set logs.elasticsearch.url to a URL"],
        };
      const implicit = dialed.filter(
        (entry) =>
          entry.dial?.scheme === "https" && entry.dial.port === 9200 && !/:\d+$/.test(entry.host.replace(/^[a-z][a-z0-9+\-.]*:\/\//, "").split(/[/?#]/)[0]),
      );
      if (implicit.length > 0)
        return {
          id,
          status: "warn",
          summary: `Filebeat dials ${implicit.map((entry) => `${entry.dial!.hostname}:9200`).join(", ")} (Beats adds 9200 to a host without a port, https too), and nothing here says Elasticsearch listens there`,
          fix: ["if Elasticsearch is behind 443, write the port: logs.elasticsearch.url https://<host>:443"],
        };
      return {
        id,
        status: "ok",
        summary: `Filebeat dials ${dialed.map((entry) => `${entry.dial!.hostname}:${entry.dial!.port}`).join(", ")}, where Elasticsearch listens`,
      };
    },
  };
}
