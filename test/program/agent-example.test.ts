/**
 * The shipped agent example (Pulumi.agent-example.yaml) and the shipped central stack (Pulumi.prod.yaml)
 * meet over TLS, with no proxy or tunnel (issue 20 item 3; issue 21): under the mock engine, prod lists the
 * example's host in agents[] and outputs agentFederation (secret) for it, no shared login; the example is
 * federated (its entry of that output) and its Elasticsearch URL (port written out) and data stream are
 * prod's planned outputs; prod publishes beyond loopback with tls on and outputs its CA; and the example
 * says how to take its federation entry and the CA (`pulumi stack output ... | pulumi config set ...`).
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
    expect(String(output(prod, "caCertificate"))).toContain("-----BEGIN CERTIFICATE-----");
    // What each listed agent takes: one secret output, never any shared login.
    expect(prod.run.outputs.agentFederation).toEqual({ value: "[secret]", secret: true });
    for (const removed of ["agentRemoteWriteUrl", "agentRemoteWriteUser", "agentRemoteWritePassword"]) expect(prod.run.outputs[removed]).toBeUndefined();
  });

  test("prod pulls it; its Elasticsearch and data stream are prod's outputs", () => {
    const config = resolvedStackConfig("agent-example");
    // Pulled by prod (its agents[] lists this host), not writing to it.
    expect(resolvedStackConfig("prod").agents.map((entry) => entry.host)).toContain(config.publicHostname);
    expect(config.prometheus.federated).toBe(true);
    expect(config.prometheus.remoteWrite).toEqual([]);
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

  test("it says how to take its federation entry and trust the central CA for its logs", () => {
    const text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.agent-example.yaml"), "utf8");
    const command = (key: string) =>
      new RegExp(
        `pulumi stack output --stack prod caCertificate \\\\\\n#\\s+\\| pulumi config set --stack agent-example --path '${key.replace(/\./g, "\\.")}'`,
      );
    expect(text).toMatch(command("logs.external.caCertificate"));
    expect(text).toMatch(
      /pulumi stack output --stack prod --show-secrets --json agentFederation \| jq -c '\.\["app-2\.atra\.internal"\]' \\\n#\s+\| pulumi config set --secret --stack agent-example federation/,
    );
    expect(text).not.toMatch(/reverse proxy|ssh -N/);
  });
});
