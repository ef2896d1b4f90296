/**
 * Grafana-managed alerting: the alert folder, one rule group per source group, the contact points
 * and the one notification policy tree. Takes rule groups already translated (from rule files, or
 * built in code for log alerts) and an existing Grafana provider; knows nothing of Docker.
 */
import * as grafana from "@pulumiverse/grafana";
import * as pulumi from "@pulumi/pulumi";
import type { AlertingConfig } from "../alerting/config";
import type { GrafanaRuleGroup } from "../alerting/grafana-rules";
import { contactPointArgs } from "../alerting/contact-point-types";
import { notificationPolicySpec } from "../alerting/notifications";
import { shardGroupBase } from "../alerting/rule-shards";

export const ALERT_FOLDER = { uid: "atra-alerts", title: "Atra alerts" } as const;

export interface GrafanaAlertingArgs {
  provider: grafana.Provider;
  alerting: AlertingConfig;
  ruleGroups: GrafanaRuleGroup[];
  /** Contact point name to its secret setting (already a Pulumi secret). */
  contactPointSecrets: Record<string, pulumi.Output<string>>;
  /** What must exist first: Grafana itself and the datasources the rules query. */
  waitFor: pulumi.Input<pulumi.Resource>[];
}

export class GrafanaAlerting extends pulumi.ComponentResource {
  readonly folder: grafana.oss.Folder;
  readonly ruleGroups: grafana.alerting.RuleGroup[];
  readonly contactPoints: grafana.alerting.ContactPoint[];
  readonly notificationPolicy: grafana.alerting.NotificationPolicy;

  constructor(name: string, args: GrafanaAlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("atra:grafana:GrafanaAlerting", name, {}, opts);
    const own = { parent: this, provider: args.provider, dependsOn: args.waitFor };

    this.folder = new grafana.oss.Folder("alerts", { uid: ALERT_FOLDER.uid, title: ALERT_FOLDER.title }, own);
    // A group's `name` and `folder_uid` force its replacement (terraform-provider-grafana
    // internal/resources/grafana/resource_alerting_rule_group.go: both ForceNew). Created first, the
    // new group (same name, so the same rule uids: ruleFileUids) would claim the old one's rules while
    // it still exists, and a Grafana before 12 refuses a rule title already in the folder: delete the
    // old group first. Its alerts are evaluated again by the new one within one interval. (A group
    // renamed in its file is another resource, with other uids: created, then the old one deleted.)
    //
    // A group depends on its shard groups (`<name>:<n>`, components/alerting/rule-shards.ts), which
    // are therefore created or updated before it. That orders the one move sharding makes: on the first
    // `up` after a stack kept every per-service rule in one group (`atra-logs` held every service's
    // silence rule beside the stack-wide log alerts), the shard groups are created, each PUT naming the
    // uids of the rules it takes over, so Grafana moves them out of the old group keeping their state
    // (grafana/grafana pkg/services/ngalert/store/deltas.go, calculateChanges); then the old group is
    // updated down to its own rules and has nothing to delete. Run at the same time, the old group's PUT
    // could delete a rule by uid after the other PUT moved it: Grafana computes a PUT's delta before
    // its transaction and deletes by uid alone (pkg/services/ngalert/provisioning/alert_rules.go,
    // ReplaceRuleGroup -> calcDelta, then persistDelta). Later `up`s move no rule (fixed shards).
    const names = new Set(args.ruleGroups.map((group) => group.name));
    const ruleGroup = (group: GrafanaRuleGroup, shards: grafana.alerting.RuleGroup[]) =>
      new grafana.alerting.RuleGroup(
        `rule-group-${group.name}`,
        { name: group.name, folderUid: this.folder.uid, intervalSeconds: group.intervalSeconds, rules: group.rules },
        { ...own, dependsOn: [...args.waitFor, ...shards], deleteBeforeReplace: true },
      );
    const shardsOf = new Map<string, grafana.alerting.RuleGroup[]>();
    const shardGroups = new Map<string, grafana.alerting.RuleGroup>();
    for (const group of args.ruleGroups) {
      const base = shardGroupBase(group.name);
      if (base === undefined || !names.has(base)) continue;
      const resource = ruleGroup(group, []);
      shardGroups.set(group.name, resource);
      shardsOf.set(base, [...(shardsOf.get(base) ?? []), resource]);
    }
    this.ruleGroups = args.ruleGroups.map((group) => shardGroups.get(group.name) ?? ruleGroup(group, shardsOf.get(group.name) ?? []));

    this.contactPoints = args.alerting.contactPoints.map(
      (point) => new grafana.alerting.ContactPoint(`contact-point-${point.name}`, contactPointArgs(point, args.contactPointSecrets[point.name]), own),
    );
    // The tree names contact points by name: create them first. Without any, it routes to Grafana's built-in one.
    this.notificationPolicy = new grafana.alerting.NotificationPolicy("notification-policy", notificationPolicySpec(args.alerting), {
      ...own,
      dependsOn: [...args.waitFor, ...this.contactPoints],
    });
    this.registerOutputs({});
  }
}
