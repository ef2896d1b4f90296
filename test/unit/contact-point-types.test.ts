/**
 * Contact point types (components/alerting/contact-point-types.ts): per type, the config it takes,
 * its secret's name and shape check (messages as the config errors print them, never echoing the
 * value), and the Grafana args it becomes.
 */
import { ContactPointConfig, contactPointArgs, contactPointSchema, contactPointSecret } from "../../components/alerting/contact-point-types";

describe("contact point types", () => {
  test("the config entry of each type, strict; an unknown type names the known ones", () => {
    expect(contactPointSchema.safeParse({ name: "hook", type: "webhook", httpMethod: "PUT" }).success).toBe(true);
    expect(contactPointSchema.safeParse({ name: "hook", type: "webhook", url: "https://x" }).success).toBe(false);
    expect(contactPointSchema.safeParse({ name: "mail", type: "email", addresses: [] }).success).toBe(false);
    expect(contactPointSchema.safeParse({ name: "tg", type: "telegram", chatId: "@atra_alerts" }).success).toBe(true);
    const unknown = contactPointSchema.safeParse({ name: "p", type: "pagerduty" });
    expect(unknown.error?.issues[0]?.message).toBe("type must be one of webhook, email, slack, telegram");
  });

  test("which types take a secret, what it is called, and its shape problems", () => {
    expect(contactPointSecret("email")).toBeUndefined();
    const problems = (type: ContactPointConfig["type"], values: string[]) => values.map((value) => contactPointSecret(type)!.problem(value));
    expect(contactPointSecret("webhook")!.name).toBe("URL");
    expect(problems("webhook", ["https://hooks.example.com/a", "http://10.0.0.1/hook", "ftp://files/x", "not a url"])).toEqual([
      undefined,
      undefined,
      "the URL must be an http(s) URL",
      "is not a valid URL",
    ]);
    expect(contactPointSecret("slack")!.name).toBe("webhook URL");
    expect(problems("slack", ["https://hooks.slack.com/services/T/B/x", "http://hooks.slack.com/services/T/B/x", "ftp://x/y", "nope"])).toEqual([
      undefined,
      "the Slack webhook URL must use https",
      "the webhook URL must be an http(s) URL",
      "is not a valid webhook URL",
    ]);
    expect(contactPointSecret("telegram")!.name).toBe("bot token");
    expect(problems("telegram", ["123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ", "123456:short", "token"])).toEqual([
      undefined,
      "is not a Telegram bot token (digits:characters, as BotFather gives it)",
      "is not a Telegram bot token (digits:characters, as BotFather gives it)",
    ]);
  });

  test("the Grafana args: the secret where the API expects it; a type that needs one refuses to go without", () => {
    expect(contactPointArgs({ name: "hook", type: "webhook", httpMethod: "PUT" }, "<secret>")).toEqual({
      name: "hook",
      webhooks: [{ url: "<secret>", httpMethod: "PUT" }],
    });
    expect(contactPointArgs({ name: "chat", type: "slack", mentionChannel: "here" }, "<secret>")).toEqual({
      name: "chat",
      slacks: [{ url: "<secret>", mentionChannel: "here" }],
    });
    expect(contactPointArgs({ name: "mail", type: "email", addresses: ["a@example.com"], singleEmail: true }, undefined)).toEqual({
      name: "mail",
      emails: [{ addresses: ["a@example.com"], singleEmail: true }],
    });
    expect(() => contactPointArgs({ name: "tg", type: "telegram", chatId: "42" }, undefined)).toThrow('contact point "tg" has no secret setting');
  });
});
