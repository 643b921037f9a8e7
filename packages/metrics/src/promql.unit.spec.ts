import { describe, expect, it } from 'vitest';
import { dashboardExpressions, metricNamesInPromQL, sampledMetricNames } from './promql.js';

describe('metricNamesInPromQL', () => {
  it('finds the selectors of a quantile over a rate, not functions, labels, ranges or numbers', () => {
    expect(
      metricNamesInPromQL(
        'histogram_quantile(0.99, sum by (le, route) (rate(matchmaking_http_request_duration_seconds_bucket{route!="unmatched", status=~"2.."}[5m])))',
      ),
    ).toEqual(['matchmaking_http_request_duration_seconds_bucket']);
  });

  it('finds both sides of a binary expression, with on/ignoring/group_left clauses and offsets', () => {
    expect(
      metricNamesInPromQL(
        'sum(rate(a_total{x="1"}[1m] offset 5m)) / on (pool) group_left (mode) sum(b_total) > bool 0.5 and c_seconds',
      ),
    ).toEqual(['a_total', 'b_total', 'c_seconds']);
  });

  it('ignores Grafana variables, strings that look like names, 1e3 and durations', () => {
    expect(
      metricNamesInPromQL(
        'max by (queue) (q_jobs{queue=~"$queue", state="waiting"}) * 1e3 + label_replace(up, "dst", "not_a_metric", "", "") [$__range:1m]',
      ),
    ).toEqual(['q_jobs', 'up']);
  });

  it('reads {__name__="…"} matchers', () => {
    expect(metricNamesInPromQL('{__name__="matchmaking_x_total", pool="3+0"}')).toEqual(['matchmaking_x_total']);
  });
});

describe('sampledMetricNames', () => {
  it('lists names with at least one sample (HELP/TYPE alone do not count)', () => {
    const text = [
      '# HELP a_total A',
      '# TYPE a_total counter',
      'a_total 3',
      '# HELP b Without samples',
      '# TYPE b gauge',
      '# TYPE h histogram',
      'h_bucket{le="0.1"} 1',
      'h_bucket{le="+Inf"} 1',
      'h_sum 0.05',
      'h_count 1',
      '',
    ].join('\n');
    expect([...sampledMetricNames(text)].sort()).toEqual(['a_total', 'h_bucket', 'h_count', 'h_sum']);
  });
});

describe('dashboardExpressions', () => {
  it("walks panels, rows' panels and query variables", () => {
    const expressions = dashboardExpressions({
      panels: [
        { title: 'A', targets: [{ expr: 'x' }, {}] },
        { title: 'row', panels: [{ title: 'B', targets: [{ expr: 'y' }] }] },
      ],
      templating: {
        list: [
          { type: 'query', query: { query: 'label_values(matchmaking_pool_searching_entries, pool)' } },
          { type: 'query', query: 'label_values(pool)' },
          { type: 'custom', query: 'a,b' },
        ],
      },
    });
    expect(expressions.map((e) => e.expr)).toEqual(['x', 'y', 'matchmaking_pool_searching_entries']);
  });
});
