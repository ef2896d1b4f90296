/**
 * Contact points and the notification policy tree from the stack config. Pure: the secret setting
 * of each contact point is passed in as an opaque value (a Pulumi secret in the program, a
 * placeholder in tests), so this module never sees or handles secret text itself.
 */
import type { AlertingConfig } from "../config/resolve";
import type { ContactPointConfig } from "../config/schema";
import { canonicalNotificationTiming } from "../grafana/read-back-forms";

/** The args of one `grafana.alerting.ContactPoint`, with `S` where the secret goes. */
export interface ContactPointSpec<S> {
  name: string;
  webhooks?: { url: S; httpMethod: string }[];
  emails?: { addresses: string[]; singleEmail: boolean }[];
  slacks?: { url: S; recipient?: string; mentionChannel?: string }[];
  telegrams?: { token: S; chatId: string }[];
}

export function contactPointSpec<S>(point: ContactPointConfig, secret: S | undefined): ContactPointSpec<S> {
  const required = (): S => {
    // resolveStackConfig refuses a contact point without its secret; reaching this is a programming error.
    if (secret === undefined) throw new Error(`contact point "${point.name}" has no secret setting`);
    return secret;
  };
  switch (point.type) {
    case "webhook":
      return { name: point.name, webhooks: [{ url: required(), httpMethod: point.httpMethod ?? "POST" }] };
    case "email":
      return { name: point.name, emails: [{ addresses: point.addresses, singleEmail: point.singleEmail ?? false }] };
    case "slack":
      return {
        name: point.name,
        slacks: [
          {
            url: required(),
            ...(point.recipient ? { recipient: point.recipient } : {}),
            ...(point.mentionChannel ? { mentionChannel: point.mentionChannel } : {}),
          },
        ],
      };
    case "telegram":
      return { name: point.name, telegrams: [{ token: required(), chatId: point.chatId }] };
  }
}

/** The args of the one `grafana.alerting.NotificationPolicy` (Grafana keeps exactly one tree). */
export interface NotificationPolicySpec {
  contactPoint: string;
  groupBies: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
  policies: { contactPoint: string; matchers: { label: string; match: "="; value: string }[]; continue: boolean }[];
}

export function notificationPolicySpec(alerting: AlertingConfig): NotificationPolicySpec {
  return {
    contactPoint: alerting.defaultContactPoint,
    groupBies: alerting.groupBy,
    // In the form Grafana returns them (`60s` is sent as `1m`), so the provider's read-back matches.
    groupWait: canonicalNotificationTiming(alerting.groupWait),
    groupInterval: canonicalNotificationTiming(alerting.groupInterval),
    repeatInterval: canonicalNotificationTiming(alerting.repeatInterval),
    policies: alerting.routes.map((route) => ({
      contactPoint: route.contactPoint,
      matchers: Object.entries(route.match).map(([label, value]) => ({ label, match: "=" as const, value })),
      continue: route.continue,
    })),
  };
}
