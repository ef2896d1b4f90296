/**
 * The `tls` config room (components/tls/config.ts): defaults by what the stack serves, the provided
 * chain's keys as secret settings, and every misuse reported at its own key, all at once.
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { SECRET_KEYS } from "../../components/config/stack-config";
import { serverNames } from "../../components/tls/pki";

function resolve(stack: string, values: Record<string, unknown>, secretKeys: string[] = []) {
  return resolveStackConfig({ stack, values, secretKeys });
}
function issuesOf(stack: string, values: Record<string, unknown>, secretKeys: string[] = []): { key: string; message: string }[] {
  try {
    resolve(stack, values, secretKeys);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const AGENT = {
  role: "agent",
  publicHostname: "app-2.example",
  prometheus: { remoteWrite: [{ name: "central", url: "https://obs.example:9090/api/v1/write" }] },
};
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

describe("tls defaults", () => {
  test("off on a loopback dev stack", () => {
    expect(resolve("dev", {}).config.tls).toEqual({ mode: "off", extraNames: [] });
  });
  test.each([
    ["agent hosts listed", { agents: [{ host: "app-2.example" }], publicHostname: "obs.example" }],
    ["a bind address beyond loopback", { bindAddress: "0.0.0.0", publicHostname: "obs.example" }],
  ])("generated with %s", (_, values) => {
    expect(resolve("prod", values).config.tls.mode).toBe("generated");
  });
  test("an agent host makes no certificate of its own (tls.mode off); bound beyond loopback it serves only with its federation entry", () => {
    expect(resolve("agent-example", AGENT).config.tls.mode).toBe("off");
    expect(() => resolve("agent-example", { ...AGENT, bindAddress: "0.0.0.0" })).toThrow(/federation: is required with bindAddress 0\.0\.0\.0/);
  });
});

describe("tls rules", () => {
  test("the provided chain and key are secret settings", () => {
    expect(SECRET_KEYS).toEqual(expect.arrayContaining(["tlsCertificate", "tlsKey"]));
    expect(issuesOf("prod", { tls: { mode: "provided", caCertificate: CERT }, tlsCertificate: CERT, tlsKey: KEY }).map((issue) => issue.key)).toEqual([
      "atra-observability:tlsCertificate",
      "atra-observability:tlsKey",
    ]);
  });

  test("provided needs both, each a PEM of its kind; all problems at once", () => {
    expect(issuesOf("prod", { tls: { mode: "provided" } }).map((issue) => [issue.key, issue.message.split(":")[0]])).toEqual([
      // Grafana's datasources read serverName only beside a CA of their own (grafana-plugin-sdk-go backend/http_settings.go).
      ["atra-observability:tls.caCertificate", "is required with tls.mode"],
      ["atra-observability:tlsCertificate", "is required with tls.mode"],
      ["atra-observability:tlsKey", "is required with tls.mode"],
    ]);
    // The generated certificate's names: a provided one carries its issuer's.
    expect(
      issuesOf("prod", { tls: { mode: "provided", caCertificate: CERT, extraNames: ["a.example"] }, tlsCertificate: CERT, tlsKey: KEY }, [
        "tlsCertificate",
        "tlsKey",
      ]).map((issue) => issue.key),
    ).toEqual(["atra-observability:tls.extraNames"]);
    const swapped = issuesOf("prod", { tls: { mode: "provided", caCertificate: CERT }, tlsCertificate: KEY, tlsKey: CERT }, ["tlsCertificate", "tlsKey"]);
    expect(swapped.map((issue) => issue.key)).toEqual(["atra-observability:tlsCertificate", "atra-observability:tlsKey"]);
    expect(swapped[0].message).toContain("holds a private key");
    expect(swapped[1].message).toContain("must be a PEM private key");
  });

  test("provided resolves with its CA", () => {
    const { config, secrets } = resolve("prod", { tls: { mode: "provided", caCertificate: CERT }, tlsCertificate: CERT, tlsKey: KEY }, [
      "tlsCertificate",
      "tlsKey",
    ]);
    expect(config.tls).toEqual({ mode: "provided", extraNames: [], caCertificate: CERT });
    expect(secrets.tlsKey).toBe(KEY);
  });

  test("off while serving other hosts is refused; certificates without provided are refused", () => {
    const issues = issuesOf("prod", {
      bindAddress: "0.0.0.0",
      publicHostname: "obs.example",
      tls: { mode: "off", extraNames: ["a.example"] },
    });
    expect(issues.map((issue) => issue.key)).toEqual(["atra-observability:tls.extraNames", "atra-observability:tls.mode"]);
    expect(issues[1].message).toContain("clear text");
    expect(issuesOf("dev", { tlsKey: KEY }, ["tlsKey"])).toEqual([
      { key: "atra-observability:tlsKey", message: expect.stringContaining("only used with tls.mode: provided") },
    ]);
  });

  test("bad names and unknown modes are named", () => {
    const issues = issuesOf("dev", { tls: { mode: "auto", extraNames: ["https://x.example"] } });
    expect(issues.map((issue) => issue.key)).toEqual(["atra-observability:tls.extraNames[0]", "atra-observability:tls.mode"]);
  });

  test("an agent's tls.caCertificate is the central stack's CA, which its remote write trusts", () => {
    const { config } = resolve("agent-example", { ...AGENT, tls: { caCertificate: CERT } });
    expect(config.tls).toEqual({ mode: "off", extraNames: [], centralCaCertificate: CERT });
  });

  test("an agent refuses a serving mode and certificates", () => {
    expect(issuesOf("agent-example", { ...AGENT, tls: { mode: "generated" } }).map((issue) => issue.key)).toEqual(["atra-observability:tls.mode"]);
  });
});

describe("server names", () => {
  test("publicHostname, a specific bind address, every container's stack-network name, loopback and the extra names", () => {
    const { config } = resolve("prod", { publicHostname: "obs.example", bindAddress: "10.0.0.5", tls: { extraNames: ["grafana.example", "192.168.1.9"] } });
    const names = serverNames(config);
    expect(names.dnsNames).toEqual(
      expect.arrayContaining([
        "obs.example",
        "localhost",
        "grafana.example",
        "atra-obs-prod-prometheus",
        "atra-obs-prod-elasticsearch",
        "atra-obs-prod-kibana",
      ]),
    );
    expect(names.ipAddresses).toEqual(["10.0.0.5", "127.0.0.1", "192.168.1.9"]);
  });
});
