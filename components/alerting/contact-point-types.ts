/**
 * Contact point types, everything about each in one place: its config fields (a zod schema), whether
 * it takes a secret and what that secret is called, the secret's shape check, and how a configured
 * contact point becomes the args of a `grafana.alerting.ContactPoint`.
 *
 * Adding a type touches only this module: define it below with `withSecret` or `withoutSecret` and
 * list it in CONTACT_POINT_TYPES. The config schema (components/config/schema.ts), the secret checks
 * (components/config/resolve.ts) and the Grafana component (components/grafana/grafana-alerting.ts)
 * take everything from here. Each type's `args` is annotated `: TypeArgs`, so `tsc` checks every
 * field name against the Grafana provider's own ContactPointArgs (@pulumiverse/grafana); without
 * the annotation a misspelt field would pass unnoticed.
 *
 * A type's one secret setting (webhook or Slack URL, Telegram bot token) is never a config field: it
 * comes from the secret `alertingSecrets.<name>`, so nothing in the contact point's config is
 * sensitive. It reaches contactPointArgs as an opaque value (a Pulumi secret in the program, a
 * placeholder in tests); nothing here reads it except the shape check, which never repeats it.
 */
import type * as grafana from "@pulumiverse/grafana";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

const CONTACT_POINT_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A contact point's name: also how routes, the default contact point and `alertingSecrets` name it. */
export const contactPointName = z.string().regex(CONTACT_POINT_NAME, { error: "must be lowercase letters, digits and dashes, start with a letter" });

/** A type's secret setting. */
export interface ContactPointSecret {
  /** What it is, in messages ("needs its <name>"). */
  name: string;
  /** What is wrong with a value, without repeating it; undefined when it has the right shape. */
  problem(value: string): string | undefined;
}

/** The type's part of a `grafana.alerting.ContactPoint`'s args (contactPointArgs adds the name). */
type TypeArgs = Omit<grafana.alerting.ContactPointArgs, "name">;

/** The config entry of one type: its name, its `type` and its own fields, nothing else (strict). */
function variant<T extends string, F extends z.core.$ZodLooseShape>(type: T, fields: F) {
  return z.strictObject({ name: contactPointName, type: z.literal(type), ...fields });
}
type Variant<T extends string, F extends z.core.$ZodLooseShape> = ReturnType<typeof variant<T, F>>;

interface ContactPointType<T extends string, F extends z.core.$ZodLooseShape> {
  type: T;
  schema: Variant<T, F>;
  secret?: ContactPointSecret;
  args(point: z.infer<Variant<T, F>>, secret: pulumi.Input<string> | undefined): TypeArgs;
}

function withSecret<T extends string, F extends z.core.$ZodLooseShape>(definition: {
  type: T;
  fields: F;
  secret: ContactPointSecret;
  args(point: z.infer<Variant<T, F>>, secret: pulumi.Input<string>): TypeArgs;
}): ContactPointType<T, F> {
  return {
    type: definition.type,
    schema: variant(definition.type, definition.fields),
    secret: definition.secret,
    args: (point, secret) => {
      // resolveStackConfig refuses a contact point without its secret; reaching this is a programming error.
      // (Every variant has a name; tsc cannot see through the generic shape.)
      if (secret === undefined) throw new Error(`contact point "${(point as { name: string }).name}" has no secret setting`);
      return definition.args(point, secret);
    },
  };
}

function withoutSecret<T extends string, F extends z.core.$ZodLooseShape>(definition: {
  type: T;
  fields: F;
  args(point: z.infer<Variant<T, F>>): TypeArgs;
}): ContactPointType<T, F> {
  return { type: definition.type, schema: variant(definition.type, definition.fields), args: (point) => definition.args(point) };
}

/** A secret URL's problem: not a URL, or not http(s); `also` adds a type's own rule. */
function secretUrlProblem(value: string, what: string, also?: (url: URL) => string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a valid ${what}`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `the ${what} must be an http(s) URL`;
  return also?.(url);
}

// ---------------------------------------------------------------------------------------------
// The types.

const webhook = withSecret({
  type: "webhook",
  fields: { httpMethod: z.enum(["POST", "PUT"]).optional() },
  secret: { name: "URL", problem: (value) => secretUrlProblem(value, "URL") },
  args: (point, url): TypeArgs => ({ webhooks: [{ url, httpMethod: point.httpMethod ?? "POST" }] }),
});

const email = withoutSecret({
  type: "email",
  fields: {
    addresses: z.array(z.email({ error: "must be an email address" })).min(1, { error: "needs at least one address" }),
    singleEmail: z.boolean().optional(),
  },
  args: (point): TypeArgs => ({ emails: [{ addresses: point.addresses, singleEmail: point.singleEmail ?? false }] }),
});

const slack = withSecret({
  type: "slack",
  fields: { recipient: z.string().min(1).optional(), mentionChannel: z.enum(["here", "channel"]).optional() },
  secret: {
    name: "webhook URL",
    problem: (value) => secretUrlProblem(value, "webhook URL", (url) => (url.protocol === "https:" ? undefined : "the Slack webhook URL must use https")),
  },
  args: (point, url): TypeArgs => ({
    slacks: [
      {
        url,
        ...(point.recipient ? { recipient: point.recipient } : {}),
        ...(point.mentionChannel ? { mentionChannel: point.mentionChannel } : {}),
      },
    ],
  }),
});

const telegram = withSecret({
  type: "telegram",
  fields: { chatId: z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,})$/, { error: "must be a numeric chat id or @channelname" }) },
  secret: {
    name: "bot token",
    problem: (value) => (/^\d+:[A-Za-z0-9_-]{20,}$/.test(value) ? undefined : "is not a Telegram bot token (digits:characters, as BotFather gives it)"),
  },
  args: (point, token): TypeArgs => ({ telegrams: [{ token, chatId: point.chatId }] }),
});

/** Every type; the config's `type` must name one of them. */
const CONTACT_POINT_TYPES = [webhook, email, slack, telegram] as const;

// ---------------------------------------------------------------------------------------------
// What the config layer and the Grafana component use.

type Schemas<Types extends readonly { schema: unknown }[]> = { [K in keyof Types]: Types[K]["schema"] };

/** One contact point in the config (`alerting.contactPoints[]`), by its `type`. */
export const contactPointSchema = z.discriminatedUnion(
  "type",
  CONTACT_POINT_TYPES.map((type) => type.schema) as unknown as Schemas<typeof CONTACT_POINT_TYPES>,
  {
    error: `type must be one of ${CONTACT_POINT_TYPES.map((type) => type.type).join(", ")}`,
  },
);

export type ContactPointConfig = z.infer<typeof contactPointSchema>;
export type ContactPointTypeName = ContactPointConfig["type"];

function typeOf(type: ContactPointTypeName): (typeof CONTACT_POINT_TYPES)[number] {
  // The schema admits only listed types, so the find always succeeds.
  return CONTACT_POINT_TYPES.find((candidate) => candidate.type === type)!;
}

/** The secret a type takes (`alertingSecrets.<name>`), or undefined when it takes none. */
export function contactPointSecret(type: ContactPointTypeName): ContactPointSecret | undefined {
  return typeOf(type).secret;
}

/** The args of the `grafana.alerting.ContactPoint` for a configured contact point; `secret` is its `alertingSecrets` value. */
export function contactPointArgs(point: ContactPointConfig, secret: pulumi.Input<string> | undefined): grafana.alerting.ContactPointArgs {
  // Each definition's args take that definition's own config entry; the union of them cannot say so.
  const args = typeOf(point.type).args as (point: ContactPointConfig, secret: pulumi.Input<string> | undefined) => TypeArgs;
  return { name: point.name, ...args(point, secret) };
}
