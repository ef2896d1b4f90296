/**
 * Several hosts write to one Prometheus (agents by remote write), each series with its `host` label.
 * A query or rule keeps hosts apart only if nothing in it drops that label: an aggregation without
 * `host` in its `by` (or with it in `without`, or with no grouping at all), vector matching `on (...)`
 * without `host` (or `ignoring (host)`), or `scalar()`, which turns one host's series into a number
 * and several hosts' into NaN. Read from the syntax tree of the Prometheus project's own lezer grammar.
 */
import { parser } from "@prometheus-io/lezer-promql";

/** A node of the lezer tree (the grammar package's own type, without importing @lezer/common directly). */
type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

const HOST = "host";

function groupingLabels(node: SyntaxNode, text: string): string[] {
  const labels = node.getChild("GroupingLabels");
  return labels ? labels.getChildren("LabelName").map((label) => text.slice(label.from, label.to)) : [];
}

/** Where `expr` would merge or match series of different hosts, each as the offending part of the text. */
export function hostDroppingProblems(expr: string): string[] {
  const problems: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      const node = ref.node;
      const text = expr.slice(node.from, node.to);
      if (node.type.name === "AggregateExpr") {
        const modifier = node.getChild("AggregateModifier");
        const labels = modifier ? groupingLabels(modifier, expr) : [];
        const keeps = modifier?.getChild("By") ? labels.includes(HOST) : modifier?.getChild("Without") ? !labels.includes(HOST) : false;
        if (!keeps) problems.push(`aggregation drops host: ${text}`);
      } else if (node.type.name === "MatchingModifierClause" && !node.parent?.getChild("Unless")) {
        // `a unless on (...) b` keeps a's series with all their labels and only removes some: it merges no hosts
        // (prometheus/prometheus promql/engine.go VectorUnless appends the left-hand samples as they are), so a
        // matching without host there is a filter (AgentSeriesChurn's mute after a central restart), not a merge.
        const labels = groupingLabels(node, expr);
        if (node.getChild("On") ? !labels.includes(HOST) : labels.includes(HOST)) problems.push(`vector matching ignores host: ${text}`);
      } else if (node.type.name === "FunctionCall" && node.getChild("FunctionIdentifier")?.getChild("Scalar")) {
        problems.push(`scalar() drops host: ${text}`);
      }
    },
  });
  return problems;
}

/** The vector selectors of `expr` that lack the matcher (given as text, e.g. `host=~"$host"` after substitution). */
export function selectorsWithout(expr: string, matcher: string): string[] {
  const missing: string[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.type.name !== "VectorSelector") return;
      const text = expr.slice(ref.from, ref.to);
      if (!text.includes(matcher)) missing.push(text);
    },
  });
  return missing;
}
