/** PromQL syntax check with the Prometheus project's own lezer grammar (what Grafana's editor uses). */
import { promqlErrors } from "../../components/alerting/rule-files";

/** Empty when `expr` parses; otherwise where the parser gave up. */
export function promqlSyntaxErrors(expr: string): string[] {
  return promqlErrors(expr);
}
