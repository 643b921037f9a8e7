/** PromQL words that are not metric names (operators, modifiers, aggregation clauses). */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads (selectors, `{__name__="…"}` matchers), without
 * functions, aggregations, label names, strings, ranges or Grafana variables (`$pool`,
 * `$__rate_interval`). Enough for the dashboards we write: not a full PromQL parser.
 */
export function metricNamesInPromQL(expression: string): string[] {
  const names = new Set<string>();
  let expr = expression;
  // Matchers on the name itself: {__name__="x"}.
  for (const match of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(match[1]!);
  expr = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  for (const match of expr.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = expr.slice(match.index + word.length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const before = expr.slice(0, match.index);
    if (/\d$/.test(before) || /\d(\.\d*)?[eE]$/.test(before)) continue; // part of a number or a duration (5m, 1e3)
    names.add(word);
  }
  return [...names].sort();
}

/** The names of every metric that has at least one sample in a Prometheus text exposition. */
export function sampledMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name) names.add(name);
  }
  return names;
}

interface DashboardPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}

/** Every PromQL expression of a Grafana dashboard (panels, rows' panels, and template variable queries). */
export function dashboardExpressions(dashboard: {
  panels?: DashboardPanel[];
  templating?: { list?: { query?: string | { query?: string }; type?: string }[] };
}): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const visit = (panels: DashboardPanel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? [])
        if (target.expr) out.push({ panel: panel.title ?? '', expr: target.expr });
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    // label_values(selector, label) and query_result(expr) read metrics; label_values(label) reads none.
    const call = query ? /^(label_values|query_result)\((.*)\)$/s.exec(query.trim()) : null;
    if (!call) continue;
    const [, fn, args] = call;
    const expr = fn === 'query_result' ? args! : /^(.*),\s*\w+\s*$/s.exec(args!)?.[1];
    if (expr) out.push({ panel: `variable ${query}`, expr });
  }
  return out;
}
