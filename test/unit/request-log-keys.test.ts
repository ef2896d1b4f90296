/**
 * `services[].requestLogKeys` (components/logs/config.ts): a catalog entry naming its own request keys.
 * Bad input is reported at its key, every problem at once; good input reaches the resolved config, which
 * the ingest pipeline reads (components/logs/request-fields.ts; behaviour in test/doubles/ingest-request-fields.test.ts).
 */
import { ConfigError, resolveStackConfig } from "../../components/config/resolve";
import { renderIngestPipeline } from "../../components/logs/ingest-pipeline";

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
  test("a dotted key, a bad unit, an unknown field and keys without logs: each at its key, all at once", () => {
    const issues = issuesOf({
      services: [
        { name: "api", logs: ["/srv/logs/api*.log"], requestLogKeys: { duration: { key: "http.took", unit: "minutes" }, verb: "method" } },
        { name: "agent", health: "http://agent:8010/health", requestLogKeys: { path: "endpoint" } },
      ],
    });
    const keys = issues.map((issue) => issue.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "atra-observability:services[0].requestLogKeys.duration.key",
        "atra-observability:services[0].requestLogKeys.duration.unit",
        "atra-observability:services[0].requestLogKeys.verb",
        "atra-observability:services[1].requestLogKeys",
      ]),
    );
    expect(issues.find((issue) => issue.key.endsWith("duration.key"))?.message).toContain("no dots");
    expect(issues.find((issue) => issue.key.endsWith("duration.unit"))?.message).toContain('"ms"');
    expect(issues.find((issue) => issue.key.endsWith("services[1].requestLogKeys"))?.message).toContain("needs `logs`");
  });

  test("good keys resolve and reach the pipeline, on that service's lines only", () => {
    const { config } = resolveStackConfig({
      stack: "dev",
      values: {
        services: [
          { name: "victoria-agent", logs: ["/srv/atra/logs/victoria*.log"], requestLogKeys: { duration: { key: "took", unit: "ms" }, path: "endpoint" } },
        ],
      },
      secretKeys: [],
    });
    const service = config.services[0]!;
    expect(service.requestLogKeys).toEqual({ duration: { key: "took", unit: "ms" }, path: "endpoint" });
    const text = JSON.stringify(renderIngestPipeline(config.services));
    expect(text).toContain("ctx.structlog?.took instanceof Number");
    expect(text).toContain("compareTo('victoria-agent')");
    expect(JSON.stringify(renderIngestPipeline())).not.toContain("took");
  });
});
