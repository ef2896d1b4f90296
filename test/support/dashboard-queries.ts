/** Every PromQL expression of a dashboard model: panel targets (rows' nested panels too) and query variables. */
export interface DashboardQuery {
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
}

export function dashboardQueries(model: { panels?: Panel[]; templating?: { list?: { name: string; type: string; query?: unknown }[] } }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ where: `panel "${panel.title}" ${target.refId ?? ""}`.trim(), expr: target.expr });
      }
      walk(panel.panels);
    }
  };
  walk(model.panels);
  for (const variable of model.templating?.list ?? []) {
    if (variable.type !== "query") continue;
    const query = typeof variable.query === "string" ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    if (query) queries.push({ where: `variable $${variable.name}`, expr: query });
  }
  return queries;
}

/** Grafana-only functions in variable queries (`label_values(...)`) are not PromQL. */
export function isGrafanaVariableFunction(expr: string): boolean {
  return /^\s*(label_values|label_names|metrics|query_result)\s*\(/.test(expr);
}

/** Replace Grafana's template variables with concrete values; names without a value are reported. */
export function substituteVariables(expr: string, values: Record<string, string>): { expr: string; missing: string[] } {
  const missing: string[] = [];
  const result = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c) as string;
    if (name in values) return values[name];
    missing.push(name);
    return whole;
  });
  return { expr: result, missing };
}
