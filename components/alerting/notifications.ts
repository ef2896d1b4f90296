/**
 * The notification policy tree from the stack config. Pure. (The contact points it routes to are
 * made from ./contact-point-types.ts, which holds everything about each contact point type.)
 */
import type { AlertingConfig } from "./config";
import { canonicalNotificationTiming } from "../grafana/read-back-forms";

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
