/**
 * Grafana with tls on (components/grafana/grafana-server.ts, config.ts): its https settings, the
 * healthcheck that verifies the certificate, and every URL of the stack's own Grafana in https.
 */
import { resolveStackConfig } from "../../components/config/resolve";
import { GRAFANA_CA_PATH, GRAFANA_TLS_CERT_PATH, GRAFANA_TLS_KEY_PATH, grafanaHealthcheck, grafanaTlsSettings } from "../../components/grafana/grafana-server";

const resolve = (values: Record<string, unknown>) =>
  resolveStackConfig({ stack: "dev", values, secretKeys: "grafanaApiToken" in values ? ["grafanaApiToken"] : [] }).config;

describe("Grafana's TLS settings", () => {
  test("https only, the certificate's files, a Secure session cookie (grafana/grafana conf/defaults.ini [server], [security])", () => {
    expect(grafanaTlsSettings()).toEqual([
      "GF_SERVER_PROTOCOL=https",
      `GF_SERVER_CERT_FILE=${GRAFANA_TLS_CERT_PATH}`,
      `GF_SERVER_CERT_KEY=${GRAFANA_TLS_KEY_PATH}`,
      "GF_SECURITY_COOKIE_SECURE=true",
    ]);
  });

  test("the healthcheck: curl verifying the stack CA and publicHostname, resolved to loopback; no secret", () => {
    expect(grafanaHealthcheck({ caFile: GRAFANA_CA_PATH, serverName: "obs.example.internal" })).toEqual([
      "CMD",
      "curl",
      "-fsS",
      "-o",
      "/dev/null",
      "--cacert",
      GRAFANA_CA_PATH,
      "--resolve",
      "obs.example.internal:3000:127.0.0.1",
      "https://obs.example.internal:3000/api/health",
    ]);
    // A provided certificate from a public CA: the image's system roots.
    expect(grafanaHealthcheck({ serverName: "obs.example.com" })).not.toContain("--cacert");
    // No -k / --insecure: the check fails on a certificate its clients would refuse.
    expect(grafanaHealthcheck({ caFile: GRAFANA_CA_PATH, serverName: "x" }).some((arg) => /^(-k|--insecure)$/.test(arg))).toBe(false);
  });

  test("tls off: the plain healthcheck, as before", () => {
    expect(grafanaHealthcheck()).toEqual([
      "CMD-SHELL",
      "wget -q -O /dev/null http://127.0.0.1:3000/api/health || curl -fsS -o /dev/null http://127.0.0.1:3000/api/health",
    ]);
  });
});

describe("the stack's Grafana URLs", () => {
  test("tls on: public and provider URLs https, a given http provider URL (an SSH tunnel's local end) used as https", () => {
    const config = resolve({
      publicHostname: "obs.example.internal",
      agents: [{ host: "app-2.example.internal" }],
      grafana: { providerUrl: "http://127.0.0.1:13000" },
    });
    expect(config.grafana.publicUrl).toBe("https://obs.example.internal:3000");
    expect(config.grafana.providerUrl).toBe("https://127.0.0.1:13000");
    expect(config.prometheusPublicUrl).toBe("https://obs.example.internal:9090");
  });

  test("tls off: http, as before", () => {
    const config = resolve({ publicHostname: "obs.example.internal" });
    expect(config.grafana.publicUrl).toBe("http://obs.example.internal:3000");
    expect(config.grafana.providerUrl).toBe("http://127.0.0.1:3000");
    expect(config.prometheusPublicUrl).toBe("http://obs.example.internal:9090");
  });

  test("an external Grafana's URL is its own, whatever the stack's tls", () => {
    const config = resolve({
      bindAddress: "0.0.0.0",
      publicHostname: "obs.example.com",
      grafana: { external: { url: "https://atra.grafana.net" } },
      grafanaApiToken: "glsa_token",
      logs: { enabled: false },
    });
    expect(config.grafana.publicUrl).toBe("https://atra.grafana.net");
    expect(config.grafana.external?.prometheusUrl).toBe("https://obs.example.com:9090");
  });
});
