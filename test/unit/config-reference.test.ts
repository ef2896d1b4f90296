/**
 * docs/config-reference.md is in step with the config schema (components/config/stack-config.ts): every key of
 * the schema has a row (or is named, in code, in the meaning of the row of the list or map holding it), every row
 * names keys the schema has, and the generated cells (type, default) and the generated table are what
 * `npm run docs:config` (scripts/config-reference.ts) writes. Each rule is also seen to fail on a changed page or
 * schema.
 */
import * as fs from "fs";
import { z } from "zod";
import { stackConfigSchema } from "../../components/config/stack-config";
import { BEGIN_MARKER, END_MARKER, NOT_DESCRIBED, REFERENCE_FILE, renderConfigReference, schemaKeys } from "../../scripts/config-reference";
import { uncoveredOptions } from "../support/every-option-stack";

const PAGE = fs.readFileSync(REFERENCE_FILE, "utf8");

/** The page with one line replaced (the line must be there once). */
function edited(page: string, from: string, to: string): string {
  expect(page.split(from).length).toBe(2);
  return page.replace(from, to);
}

const rowOf = (page: string, keyCell: string) => page.split("\n").find((line) => line.startsWith(`| ${keyCell} |`)) as string;

describe("docs/config-reference.md", () => {
  test("documents every config key, names no other, and its generated part is current", () => {
    const { text, problems } = renderConfigReference(PAGE);
    expect(problems).toEqual([]);
    if (text !== PAGE) throw new Error("docs/config-reference.md is not in step with the config schema: run npm run docs:config");
  });

  test("the schema walk reaches every key the every-option stack walk reaches (test/support/every-option-stack.ts)", () => {
    // uncoveredOptions over an empty config names the top-level keys; over a config holding every object and list
    // once it names their fields: each must be a key of schemaKeys.
    const paths = new Set(schemaKeys().map((key) => key.path));
    const topLevel = uncoveredOptions(stackConfigSchema, {});
    expect(topLevel.length).toBeGreaterThan(20);
    expect(topLevel.filter((key) => !paths.has(key))).toEqual([]);
    const nested = uncoveredOptions(stackConfigSchema, { services: [{}], prometheus: { remoteWrite: [{ queueConfig: {} }] }, logs: { external: {} } });
    expect(nested).toEqual(expect.arrayContaining(["services[].name", "prometheus.remoteWrite[].queueConfig.capacity", "logs.external.caFingerprint"]));
    expect(nested.filter((key) => !paths.has(key))).toEqual([]);
  });

  test("types and defaults come from the schema and the resolver", () => {
    const keys = new Map(schemaKeys().map((key) => [key.path, key.type]));
    expect(keys.get("ports.prometheus")).toBe("integer, 1 to 65535");
    expect(keys.get("grafanaAdminPassword")).toBe("secret string");
    expect(keys.get("alerting.contactPoints[].chatId")).toBe("string, with `type: telegram`");
    expect(keys.has("grafana.external.verifyTls")).toBe(false); // z.never(): every value refused, no option
    expect(rowOf(PAGE, "`prometheus.retentionTime`")).toContain("| string | dev `7d`, staging `15d`, prod `30d` |");
    expect(rowOf(PAGE, "`network.bridgeName`")).toContain("| `atra-<stack>` |");
  });
});

describe("the reference check fails", () => {
  test("on a key without a row, and adds one for it to describe", () => {
    const page = edited(PAGE, rowOf(PAGE, "`cadvisor.privileged`") + "\n", "");
    const { text, problems } = renderConfigReference(page);
    expect(problems).toEqual(["cadvisor.privileged has no row in docs/config-reference.md: npm run docs:config adds one; write its meaning"]);
    expect(text).toContain(`| \`cadvisor.privileged\` | boolean | \`false\` | ${NOT_DESCRIBED} |`);
    // And once added, the row stays a problem until its meaning is written.
    expect(renderConfigReference(text).problems).toEqual([expect.stringMatching(/^cadvisor\.privileged \(line \d+\): its meaning is not written yet$/)]);
  });

  test("on a key the schema gains", () => {
    const schema = stackConfigSchema.extend({ tracing: z.strictObject({ enabled: z.boolean().optional() }).optional() });
    expect(renderConfigReference(PAGE, schema).problems).toEqual([
      "tracing.enabled has no row in docs/config-reference.md: npm run docs:config adds one; write its meaning",
    ]);
  });

  test("on a field a list's row does not name", () => {
    const row = rowOf(PAGE, "`alerting.contactPoints`");
    const page = edited(PAGE, row, row.replace("`telegram` (`chatId`)", "`telegram`"));
    expect(renderConfigReference(page).problems).toEqual([
      "alerting.contactPoints[].chatId has no row in docs/config-reference.md: npm run docs:config adds one; write its meaning",
    ]);
  });

  test("on a row naming a key the schema lacks", () => {
    const row = rowOf(PAGE, "`cadvisor.enabled`");
    const page = edited(PAGE, row, row.replace("`cadvisor.enabled`", "`cadvisor.enable`"));
    expect(renderConfigReference(page).problems).toEqual([
      expect.stringMatching(/^cadvisor\.enable \(line \d+\) is not a config key of the schema/),
      "cadvisor.enabled has no row in docs/config-reference.md: npm run docs:config adds one; write its meaning",
    ]);
  });

  test("on a generated cell edited by hand, which the generator puts back", () => {
    const row = rowOf(PAGE, "`images.prometheus`");
    const page = edited(PAGE, row, row.replace(/prom\/prometheus:v[0-9.]+/, "prom/prometheus:v9.9.9"));
    const { text, problems } = renderConfigReference(page);
    expect(problems).toEqual([]);
    expect(text).not.toBe(page);
    expect(text).toBe(PAGE);
  });

  test("on a generated table edited by hand", () => {
    const begin = PAGE.indexOf(BEGIN_MARKER) + BEGIN_MARKER.length;
    const page = `${PAGE.slice(0, begin)}\n| \`made.up\` | string | \`made\` |${PAGE.slice(begin)}`;
    expect(renderConfigReference(page).text).toBe(PAGE);
  });

  test("without the markers of the generated part", () => {
    const page = edited(PAGE, END_MARKER, "");
    expect(renderConfigReference(page).problems).toEqual([expect.stringContaining("the markers of the generated part are missing")]);
  });
});
