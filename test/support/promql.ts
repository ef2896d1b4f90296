/** PromQL syntax check with the Prometheus project's own lezer grammar (what Grafana's editor uses). */
import { parser } from "@prometheus-io/lezer-promql";

/** Empty when `expr` parses; otherwise where the parser gave up. */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.from + 10)}"`);
    },
  });
  return errors;
}
