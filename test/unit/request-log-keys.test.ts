/**
 * `services[].requestLogKeys` (components/logs/config.ts): a catalog entry naming its own request keys.
 * Bad input is reported at its key, every problem at once; good input reaches the resolved config, which
 * the ingest pipeline reads (components/logs/request-fields.ts; behaviour in test/doubles/ingest-request-fields.test.ts).
 * On an agent host the key is refused (components/config/role.ts; test/unit/agent-config.test.ts).
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { renderIngestPipeline } from "../../components/logs/ingest-pipeline";
import { DEFAULT_REQUEST_KEYS } from "../../components/logs/request-fields";
import { planIsolated, stackConfig } from "../support/plan";

function issuesOf(values: Record<string, unknown>) {
  try {
    resolveStackConfig({ stack: "dev", values, secretKeys: [] });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("services[].requestLogKeys", () => {
  test("a key that is no structlog key or path, a bad unit, an unknown field and an unknown default: each at its key, all at once", () => {
    const issues = issuesOf({
      services: [
        {
          name: "api",
          logs: ["/srv/logs/api*.log"],
          requestLogKeys: { duration: { key: "http..took", unit: "minutes" }, verb: "method", path: "1route", ignoreDefaults: ["status", "took"] },
        },
        // Nine levels deep: past MAX_KEY_DEPTH.
        { name: "deep", logs: ["/srv/logs/deep*.log"], requestLogKeys: { statusCode: "a.b.c.d.e.f.g.h.i" } },
      ],
    });
    const keys = issues.map((issue) => issue.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "atra-observability:services[0].requestLogKeys.duration.key",
        "atra-observability:services[0].requestLogKeys.duration.unit",
        "atra-observability:services[0].requestLogKeys.verb",
        "atra-observability:services[0].requestLogKeys.path",
        "atra-observability:services[0].requestLogKeys.ignoreDefaults[1]",
        "atra-observability:services[1].requestLogKeys.statusCode",
      ]),
    );
    expect(issues.find((issue) => issue.key.endsWith("duration.key"))?.message).toContain("dotted path");
    expect(issues.find((issue) => issue.key.endsWith("duration.unit"))?.message).toMatch(/"us" \(microseconds\) or "ns" \(nanoseconds\)/);
    expect(issues.find((issue) => issue.key.endsWith("ignoreDefaults[1]"))?.message).toContain(DEFAULT_REQUEST_KEYS.join(", "));
    expect(keys).not.toContain("atra-observability:services[0].requestLogKeys.ignoreDefaults[0]");
  });

  test("units us and ns, dotted keys and ignoreDefaults resolve and reach the pipeline, on that service's lines only", () => {
    const { config } = resolveStackConfig({
      stack: "dev",
      values: {
        services: [
          {
            name: "victoria-agent",
            logs: ["/srv/atra/logs/victoria*.log"],
            requestLogKeys: { duration: { key: "timing.elapsed_ns", unit: "ns" }, statusCode: "http.status_code", ignoreDefaults: ["status"] },
          },
          { name: "veronica-agent", logs: ["/srv/atra/logs/veronica*.log"], requestLogKeys: { duration: { key: "took_us", unit: "us" } } },
        ],
      },
      secretKeys: [],
    });
    expect(config.services[0]!.requestLogKeys).toEqual({
      duration: { key: "timing.elapsed_ns", unit: "ns" },
      statusCode: "http.status_code",
      ignoreDefaults: ["status"],
    });
    const text = JSON.stringify(renderIngestPipeline(config.services));
    // The parent is checked to be an object before the nested key is read (null-safe).
    expect(text).toContain("ctx.structlog?.timing instanceof Map && ctx.structlog?.timing?.elapsed_ns instanceof Number");
    expect(text).toContain("ctx.structlog?.http instanceof Map && ctx.structlog?.http?.status_code instanceof Long");
    expect(text).toContain('"field":"structlog.http.status_code"');
    expect(text).toContain("compareTo('victoria-agent')");
    expect(text).toContain("ctx.structlog_request_ignored?.status == null");
    expect(JSON.stringify(renderIngestPipeline())).not.toMatch(/took|timing|structlog_request_ignored/);
  });

  test("a central catalog entry may carry requestLogKeys without logs (its lines come from agent hosts), and the pipeline reads them", () => {
    const { config } = resolveStackConfig({
      stack: "dev",
      values: { services: [{ name: "edge-agent", health: "http://edge:8010/health", requestLogKeys: { path: "endpoint" } }] },
      secretKeys: [],
    });
    expect(config.services[0]!.logs).toBeUndefined();
    expect(JSON.stringify(renderIngestPipeline(config.services))).toContain("compareTo('edge-agent')");
  });

  test("the planned pipeline of a central stack reads the keys of an entry without logs (components/logs/logs-stack.ts passes every entry)", async () => {
    const plan = await planIsolated("central-request-keys", {
      config: stackConfig({
        services: [
          { name: "worker", logs: ["/srv/atra/logs/worker*.log"] },
          { name: "edge-agent", health: "http://edge:8010/health", requestLogKeys: { path: "endpoint" } },
        ],
      }),
    });
    const pipeline = plan.run.resources.find(
      (resource) => resource.type === "pulumi-nodejs:dynamic/elastic:IngestPipeline" && resource.name === "ingest-pipeline",
    );
    expect(JSON.stringify(pipeline!.inputs.body)).toContain("compareTo('edge-agent')");
  });
});
