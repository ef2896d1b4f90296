/**
 * Every Filebeat the program deploys sends to the port its config means. Filebeat's Elasticsearch
 * output reads each `hosts` entry with common.MakeURL(protocol, path, host, 9200)
 * (elastic/beats libbeat/outputs/elasticsearch/elasticsearch.go, makeES; libbeat/common/url.go), which
 * puts port 9200 on a host without one whatever its scheme: `https://logs.example` would be dialled
 * on 9200. The hosts are read here exactly so (test/support/beats-make-url.ts, a port of MakeURL
 * checked against Beats' own test table), over the rendered filebeat.yml of every shipped stack file
 * and of the generated stacks (external clusters, the agent host, every option).
 */
import * as yaml from "js-yaml";
import { FILEBEAT_CONFIG_PATH, filebeatHost } from "../../components/logs/filebeat-config";
import { filebeatDialledPort, goDialledPort, makeURL, meantPort } from "../support/beats-make-url";
import { everyOptionStackConfig } from "../support/every-option-stack";
import { EVERY_EXTERNAL_OPTION_STACKS, externalStackConfig, EXTERNAL_ELASTIC_ONLY, BOTH_EXTERNAL, AGENT_HOST } from "../support/external-stacks";
import { planIsolated, resolvedStackConfig } from "../support/plan";
import type { PlanResult } from "../../scripts/lib/plan";

describe("the port of MakeURL reads hosts as Beats does", () => {
  // elastic/beats libbeat/common/url_test.go, TestGetUrl: MakeURL("", "", input, 9200).
  const BEATS_TABLE: Record<string, string> = {
    "": "http://localhost:9200",
    "http://localhost": "http://localhost:9200",
    "http://localhost:80": "http://localhost:80",
    "http://localhost:80/": "http://localhost:80/",
    "http://localhost/": "http://localhost:9200/",
    "33f3600fd5c1bb599af557c36a4efb08.host": "http://33f3600fd5c1bb599af557c36a4efb08.host:9200",
    "33f3600fd5c1bb599af557c36a4efb08.host:12345": "http://33f3600fd5c1bb599af557c36a4efb08.host:12345",
    localhost: "http://localhost:9200",
    "localhost:80": "http://localhost:80",
    "localhost:80/": "http://localhost:80/",
    "localhost/": "http://localhost:9200/",
    "localhost/mypath": "http://localhost:9200/mypath",
    "http://192.168.1.1:80": "http://192.168.1.1:80",
    "https://192.168.1.1:80/hello": "https://192.168.1.1:80/hello",
    "http://192.168.1.1": "http://192.168.1.1:9200",
    "http://192.168.1.1/hello": "http://192.168.1.1:9200/hello",
    "192.168.1.1": "http://192.168.1.1:9200",
    "192.168.1.1:80": "http://192.168.1.1:80",
    "192.168.1.1/hello": "http://192.168.1.1:9200/hello",
    "192.168.1.1:80/hello": "http://192.168.1.1:80/hello",
    "http://[2001:db8::1]:80": "http://[2001:db8::1]:80",
    "http://[2001:db8::1]": "http://[2001:db8::1]:9200",
    "https://[2001:db8::1]:9200": "https://[2001:db8::1]:9200",
    "http://FE80:0000:0000:0000:0202:B3FF:FE1E:8329": "http://[FE80:0000:0000:0000:0202:B3FF:FE1E:8329]:9200",
    "http://[2001:db8::1]:80/hello": "http://[2001:db8::1]:80/hello",
    "http://[2001:db8::1]/hello": "http://[2001:db8::1]:9200/hello",
    "https://[2001:db8::1]:9200/hello": "https://[2001:db8::1]:9200/hello",
    "http://FE80:0000:0000:0000:0202:B3FF:FE1E:8329/hello": "http://[FE80:0000:0000:0000:0202:B3FF:FE1E:8329]:9200/hello",
    "2001:db8::1": "http://[2001:db8::1]:9200",
    "[2001:db8::1]:80": "http://[2001:db8::1]:80",
    "[2001:db8::1]": "http://[2001:db8::1]:9200",
    "2001:db8::1/hello": "http://[2001:db8::1]:9200/hello",
    "[2001:db8::1]:80/hello": "http://[2001:db8::1]:80/hello",
    "[2001:db8::1]/hello": "http://[2001:db8::1]:9200/hello",
  };
  test.each(Object.entries(BEATS_TABLE))("MakeURL(%j) is %s", (input, output) => {
    expect(makeURL("", "", input, 9200)).toBe(output);
  });

  test("with a default scheme and path (TestGetUrl, inputOutputWithDefaults)", () => {
    expect(makeURL("https", "/hello", "http://localhost", 9200)).toBe("http://localhost:9200/hello");
    expect(makeURL("https", "/hello", "http://localhost/test", 9200)).toBe("http://localhost:9200/test");
    expect(makeURL("https", "/hello", "192.156.4.5", 9200)).toBe("https://192.156.4.5:9200/hello");
    expect(makeURL("https", "/hello", "http://username:password@es.found.io:9324", 9200)).toBe("http://username:password@es.found.io:9324/hello");
  });

  test("the defect itself: an https URL without a port is dialled on 9200", () => {
    expect(filebeatDialledPort("https://logs.obs-prod.atra.internal")).toBe(9200);
    expect(meantPort("https://logs.obs-prod.atra.internal")).toBe(443);
  });
});

describe("filebeatHost writes out the port the URL means", () => {
  test.each([
    ["https://logs.obs-prod.atra.internal", "https://logs.obs-prod.atra.internal:443"],
    ["http://logs.example.internal", "http://logs.example.internal:80"],
    ["https://atra-obs.es.europe-west1.gcp.cloud.es.io:443", "https://atra-obs.es.europe-west1.gcp.cloud.es.io:443"],
    ["http://atra-dev-elasticsearch:9200", "http://atra-dev-elasticsearch:9200"],
    ["https://es.internal.example:9243/", "https://es.internal.example:9243"],
    ["https://proxy.example.internal/elastic", "https://proxy.example.internal:443/elastic"],
    ["HTTPS://Logs.Example.Internal", "https://logs.example.internal:443"],
    ["https://[2001:db8::1]", "https://[2001:db8::1]:443"],
  ])("%s -> %s, which Filebeat dials on the meant port", (url, host) => {
    expect(filebeatHost(url)).toBe(host);
    expect(filebeatDialledPort(filebeatHost(url))).toBe(meantPort(url));
    // Before the fix the URL went in unchanged: a port-less one was dialled on 9200, an upper-case
    // scheme (no match for MakeURL's lower-case `hasScheme`) became the host name "HTTPS" on port 80.
    // (An explicit port, even the default one the WHATWG parser drops, was already right.)
    if (!/^[a-z]+:\/\/(\[[^\]]*\]|[^/:]+):\d+/i.test(url)) expect(filebeatDialledPort(url)).not.toBe(meantPort(url));
  });
});

interface Case {
  name: string;
  plan: () => Promise<PlanResult>;
  /** The Elasticsearch URL the stack's config means Filebeat to send to. */
  meant: string;
}

const SHIPPED: Case[] = ["dev", "prod", "agent-example"].map((stack) => ({
  name: stack,
  plan: () => planIsolated(stack),
  meant: resolvedMeant(stack),
}));
const GENERATED: Case[] = [
  {
    name: "external-elastic-only",
    plan: () => planIsolated("ext-elastic", { config: externalStackConfig(EXTERNAL_ELASTIC_ONLY) }),
    meant: "https://es.internal.example:9200",
  },
  {
    name: "both-external (Elastic Cloud, no port)",
    plan: () => planIsolated("ext-both", { config: externalStackConfig(BOTH_EXTERNAL) }),
    meant: url(BOTH_EXTERNAL),
  },
  { name: "agent host (no port)", plan: () => planIsolated("ext-agent", { config: externalStackConfig(AGENT_HOST) }), meant: url(AGENT_HOST) },
  ...Object.entries(EVERY_EXTERNAL_OPTION_STACKS).map(([name, stack]) => ({
    name,
    plan: () => planIsolated(name, { config: externalStackConfig(stack) }),
    meant: url(stack),
  })),
  {
    name: "every-option",
    plan: () => planIsolated("every-option", { config: everyOptionStackConfig() }),
    meant: "http://atra-obs-every-option-elasticsearch:9200",
  },
];

function url(stack: { values: Record<string, unknown> }): string {
  return ((stack.values.logs as { external: { elasticsearchUrl: string } }).external.elasticsearchUrl as string).replace(/\/$/, "");
}

function resolvedMeant(stack: string): string {
  const config = resolvedStackConfig(stack);
  return config.logs.shipTo?.elasticsearchUrl ?? config.logs.external?.elasticsearchUrl ?? `http://${config.namePrefix}-elasticsearch:9200`;
}

describe.each([...SHIPPED, ...GENERATED])("$name: Filebeat's hosts, read as Beats reads them", ({ plan, meant }) => {
  let hosts: string[];
  let output: Record<string, unknown>;
  let result: PlanResult;
  beforeAll(async () => {
    result = await plan();
    const artifact = result.artifacts.find((a) => a.path.endsWith(`filebeat${FILEBEAT_CONFIG_PATH}`) || a.path.endsWith(FILEBEAT_CONFIG_PATH));
    expect(artifact).toBeDefined();
    output = (yaml.load(artifact!.content) as Record<string, Record<string, unknown>>)["output.elasticsearch"];
    hosts = output.hosts as string[];
  });

  test("every host carries its port, and MakeURL dials the port the config means", () => {
    expect(hosts.length).toBeGreaterThan(0);
    // No `protocol` or `path` setting that MakeURL would apply instead.
    expect(output).not.toHaveProperty("protocol");
    expect(output).not.toHaveProperty("path");
    for (const host of hosts) {
      expect(host).toMatch(/^https?:\/\/[^/]+:\d+/);
      expect(filebeatDialledPort(host)).toBe(meantPort(meant));
      expect(new URL(host).hostname).toBe(new URL(meant).hostname);
    }
  });

  /**
   * The other URLs handed to tools, and how each picks a port when the URL has none: Grafana's
   * datasources and Prometheus's remote_write are dialled by Go's net/http (canonicalAddr, golang/go
   * src/net/http/transport.go: the URL's port, else 80/443 by scheme; Go's url.Parse lower-cases the
   * scheme). Kibana's `elasticsearch.hosts` (the stack network's `name:9200`, components/docker/names.ts
   * stackNetworkAddress) and every healthcheck URL (127.0.0.1:<port>) name their port.
   */
  test("Grafana's datasource URLs and Prometheus's remote_write URLs: Go's net/http dials the port they mean", () => {
    const urls: string[] = [];
    for (const resource of result.run.resources) {
      if (resource.type === "grafana:oss/dataSource:DataSource" && typeof resource.inputs.url === "string") urls.push(resource.inputs.url);
    }
    const prometheusYml = result.artifacts.find((a) => a.path.endsWith("/etc/prometheus/prometheus.yml"));
    const remoteWrite = ((prometheusYml && (yaml.load(prometheusYml.content) as { remote_write?: { url: string }[] }).remote_write) ?? []).map((r) => r.url);
    urls.push(...remoteWrite);
    if (urls.length === 0) {
      // A federated agent host (the shipped agent example): the central stack pulls it, so it dials no such URL.
      expect(result.run.outputs.role.value).toBe("agent");
      expect(String(result.run.outputs.prometheusUrl.value)).toMatch(/^https:\/\//);
    }
    for (const url of urls) expect(goDialledPort(url)).toBe(meantPort(url));
  });
});
