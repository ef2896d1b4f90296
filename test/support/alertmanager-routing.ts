/**
 * Where an alert goes, computed the way Alertmanager routes it, for checking a planned Grafana
 * notification policy. Grafana's built-in Alertmanager runs prometheus/alertmanager's dispatcher;
 * this follows dispatch/route.go `Route.Match`: a node matches only if all its matchers match; its
 * children are tried in order, and the first matching child stops the search unless it has
 * `continue`; the node itself is the result only when no child matched. The root has no matchers.
 */

/** A node of the `grafana.alerting.NotificationPolicy` inputs (root or a nested `policies` entry). */
export interface PolicyNode {
  contactPoint: string;
  matchers?: { label: string; match: string; value: string }[];
  continue?: boolean;
  policies?: PolicyNode[];
}

export function receivers(root: PolicyNode, labels: Record<string, string>): string[] {
  return match(root, labels).map((node) => node.contactPoint);
}

function match(node: PolicyNode, labels: Record<string, string>): PolicyNode[] {
  if (!(node.matchers ?? []).every((matcher) => matches(matcher, labels[matcher.label] ?? ""))) return [];
  const all: PolicyNode[] = [];
  for (const child of node.policies ?? []) {
    const found = match(child, labels);
    all.push(...found);
    if (found.length > 0 && !child.continue) break;
  }
  return all.length > 0 ? all : [node];
}

/** Matcher semantics of prometheus/alertmanager pkg/labels/matcher.go (regexes anchored); a missing label is "". */
function matches(matcher: { match: string; value: string }, actual: string): boolean {
  switch (matcher.match) {
    case "=":
      return actual === matcher.value;
    case "!=":
      return actual !== matcher.value;
    case "=~":
      return new RegExp(`^(?:${matcher.value})$`).test(actual);
    case "!~":
      return !new RegExp(`^(?:${matcher.value})$`).test(actual);
    default:
      throw new Error(`unknown matcher operator ${matcher.match}`);
  }
}
