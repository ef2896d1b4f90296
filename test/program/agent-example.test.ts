/**
 * The shipped agent example (Pulumi.agent-example.yaml) ships straight to the shipped central stack
 * (Pulumi.prod.yaml) over TLS, with no proxy or tunnel (issue 20 item 3): under the mock engine, its remote
 * write URL and user, its Elasticsearch URL (port written out) and data stream are the prod stack's planned
 * outputs agentRemoteWriteUrl, agentRemoteWriteUser, elasticsearchUrl and logsDataStream; prod publishes
 * beyond loopback with tls on and outputs its CA; and the example says how to take that CA
 * (`pulumi stack output caCertificate | pulumi config set ...`) for both of its shippers.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import type { PlanResult } from "../../scripts/lib/plan";
import { planIsolated, PROJECT_DIR, resolvedStackConfig } from "../support/plan";

describe("the agent example ships straight to the prod stack", () => {
  let prod: PlanResult;
  let agent: PlanResult;
  beforeAll(async () => {
    prod = await planIsolated("prod");
    agent = await planIsolated("agent-example");
  });
  const output = (plan: PlanResult, name: string) => plan.run.outputs[name]?.value;

  test("prod serves the agents itself: published beyond loopback, TLS on, its CA an output", () => {
    const central = resolvedStackConfig("prod");
    expect(central.bindAddress).toBe("0.0.0.0");
    expect(central.tls.mode).toBe("generated");
    expect(central.prometheus.receiverPublicUrl).toBeUndefined();
    expect(String(output(prod, "caCertificate"))).toContain("-----BEGIN CERTIFICATE-----");
    expect(output(prod, "agentRemoteWriteUrl")).toBe(`https://${central.publicHostname}:${central.ports.prometheus}/api/v1/write`);
  });

  test("its remote write, Elasticsearch and data stream are prod's outputs", () => {
    const config = resolvedStackConfig("agent-example");
    expect(config.prometheus.remoteWrite.map((remote) => [remote.url, remote.basicAuthUser])).toEqual([
      [output(prod, "agentRemoteWriteUrl"), output(prod, "agentRemoteWriteUser")],
    ]);
    expect(config.logs.dataStream).toBe(output(prod, "logsDataStream"));
    // As planned (the offline plan of the real program): Filebeat ships to prod's Elasticsearch, port written out.
    const filebeat = yaml.load(agent.artifacts.find((artifact) => artifact.path.endsWith("filebeat.yml"))?.content ?? "") as {
      "output.elasticsearch": { hosts: string[]; index: string };
    };
    expect(filebeat["output.elasticsearch"].hosts).toEqual([output(prod, "elasticsearchUrl")]);
    expect(filebeat["output.elasticsearch"].index).toBe(output(prod, "logsDataStream"));
  });

  test("prod lists the example host with exactly its services: its log lines (service.name) are not refused by prod's final pipeline", () => {
    const config = resolvedStackConfig("agent-example");
    const entry = resolvedStackConfig("prod").agents.find((agent) => agent.host === config.publicHostname);
    expect(entry?.services).toEqual(config.services.map((service) => service.name));
  });

  test("it says how to trust the central CA: the output caCertificate piped into both trust settings", () => {
    const text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.agent-example.yaml"), "utf8");
    const command = (key: string) =>
      new RegExp(
        `pulumi stack output --stack prod caCertificate \\\\\\n#\\s+\\| pulumi config set --stack agent-example --path '${key.replace(/\./g, "\\.")}'`,
      );
    expect(text).toMatch(command("tls.caCertificate"));
    expect(text).toMatch(command("logs.external.caCertificate"));
    expect(text).not.toMatch(/reverse proxy|ssh -N/);
  });
});
