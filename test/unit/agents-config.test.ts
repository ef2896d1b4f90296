/**
 * The central stack's list of agent hosts (`agents`, components/agents/config.ts): what it resolves to,
 * and every wrong entry refused at its own key, all at once.
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";

function resolve(values: Record<string, unknown>) {
  return resolveStackConfig({ stack: "prod", values, secretKeys: [] }).config;
}

function problems(values: Record<string, unknown>): string[] {
  try {
    resolve(values);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => `${issue.key.replace(/^atra-observability:/, "")}: ${issue.message}`);
  }
  throw new Error("the config was accepted");
}

describe("agents", () => {
  test("each entry resolves with its Prometheus URL (https://<host>:9090 by default); listing agents turns TLS on", () => {
    const config = resolve({
      publicHostname: "obs.example.internal",
      agents: [{ host: "app-2.example.internal" }, { host: "app-3.example.internal", prometheusUrl: "https://10.0.0.3:19090/", services: ["worker", "api"] }],
    });
    expect(config.agents).toEqual([
      { host: "app-2.example.internal", prometheusUrl: "https://app-2.example.internal:9090", services: [] },
      { host: "app-3.example.internal", prometheusUrl: "https://10.0.0.3:19090", services: ["worker", "api"] },
    ]);
    expect(config.tls.mode).toBe("generated");
  });

  test("a stack without agents has none, and TLS stays as the other keys decide", () => {
    const config = resolve({});
    expect(config.agents).toEqual([]);
    expect(config.tls.mode).toBe("off");
  });

  test("a duplicate host, plain http, the central host itself, a URL in host: each at its key, all at once", () => {
    expect(
      problems({
        publicHostname: "obs.example.internal",
        agents: [
          { host: "app-2.example.internal" },
          { host: "APP-2.example.internal" },
          { host: "obs.example.internal" },
          { host: "https://app-4.example.internal" },
          { host: "app-5.example.internal", prometheusUrl: "http://app-5.example.internal:9090" },
          { host: "app-6.example.internal", services: ["worker", "Worker!", "worker"] },
        ],
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agents\[1\]\.host: duplicate agent host "app-2\.example\.internal" \(also agents\[0\]\)$/),
        expect.stringMatching(/^agents\[2\]\.host: is this central stack's own publicHostname/),
        expect.stringMatching(/^agents\[3\]\.host: must be the agent's publicHostname/),
        expect.stringMatching(/^agents\[4\]\.prometheusUrl: must be https/),
        expect.stringMatching(/^agents\[5\]\.services\[1\]: must be a catalog service name/),
        expect.stringMatching(/^agents\[5\]\.services\[2\]: duplicate service "worker" \(also \[0\]\)$/),
      ]),
    );
  });

  test("an agent host refuses the list", () => {
    expect(problems({ role: "agent", publicHostname: "app-2.example.internal", agents: [{ host: "app-3.example.internal" }] })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^agents: lists the hosts that ship to a central stack/)]),
    );
  });
});
