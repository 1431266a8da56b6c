import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '../../src/observability/metrics.ts';

const deploy = join(import.meta.dir, '..', '..', 'deploy');
const configPath = join(deploy, 'prometheus.yml');
const alertsPath = join(deploy, 'prometheus', 'alerts.yml');

interface Panel {
  type: string;
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(
  readFileSync(join(deploy, 'grafana', 'bunshop-dashboard.json'), 'utf8'),
);
const panels: Panel[] = dashboard.panels.flatMap((p: Panel) => [p, ...(p.panels ?? [])]);
const exprs: string[] = panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr ?? []));
const alerts = Bun.YAML.parse(readFileSync(alertsPath, 'utf8')) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr));

// promtool comes from Debian's prometheus package (.ci/run installs it); outside CI its absence skips, loudly.
const promtoolPath = Bun.which('promtool');
const noPromtool = !promtoolPath && !process.env.CI;
if (noPromtool)
  console.warn(
    `${'!'.repeat(78)}\nSKIPPING promtool checks of deploy/: promtool is not on PATH (apt-get install prometheus)\n${'!'.repeat(78)}`,
  );
function promtool(args: string[]) {
  if (!promtoolPath) throw new Error('promtool is not on PATH: apt-get install prometheus');
  const r = Bun.spawnSync([promtoolPath, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Grafana's variables replaced by values PromQL accepts, so promtool can parse panel queries. */
const asPromQL = (expr: string) =>
  expr.replaceAll('$__rate_interval', '1m').replace(/\$\{?(\w+)\}?/g, '.*');

const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers outside strings, matchers and label lists, not called. */
function metricNames(expr: string): string[] {
  const bare = asPromQL(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index + m[0].length)))
    .map((m) => m[0])
    .filter((name) => !keywords.has(name.toLowerCase()));
}

/** Every series name the registry can expose: families, plus _bucket/_sum/_count of histograms. */
async function exposedNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  metrics.collectRuntime();
  const families = await metrics.registry.getMetricsAsJSON();
  const names = new Set(['up']); // Prometheus adds `up` for every target itself.
  for (const f of families) {
    names.add(f.name);
    if (String(f.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(f.name + s);
  }
  return names;
}

describe('prometheus config', () => {
  test.skipIf(noPromtool)('promtool check config accepts deploy/prometheus.yml', () => {
    const r = promtool(['check', 'config', configPath]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  test.skipIf(noPromtool)('the commented Fly.io alternative is valid too', () => {
    const lines = readFileSync(configPath, 'utf8').split('\n');
    const from = lines.findIndex((l) => l.includes('uncomment the lines below'));
    expect(from).toBeGreaterThan(0);
    const fly = lines.map((l, i) => (i > from ? l.replace(/^ {4}# /, '    ') : l)).join('\n');
    expect(fly).toContain('\n    dns_sd_configs:');
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-prom-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), fly.replace('prometheus/alerts.yml', alertsPath));
      const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(noPromtool)('promtool check rules accepts the alerts', () => {
    const r = promtool(['check', 'rules', alertsPath]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  test('alerts name only metric families bunshop exposes', async () => {
    const exposed = await exposedNames();
    const unknown = alertExprs.flatMap(metricNames).filter((n) => !exposed.has(n));
    expect(unknown).toEqual([]);
  });
});

describe('grafana dashboard', () => {
  test('is a dashboard Grafana imports: schema, templated data source, role variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = dashboard.templating.list.map((v: { name: string; type: string }) => v.name);
    expect(vars).toEqual(expect.arrayContaining(['datasource', 'job', 'role', 'instance']));
    for (const p of panels.filter((p) => p.type !== 'row'))
      expect((p as { datasource?: { uid?: string } }).datasource?.uid).toMatch(
        /^\$\{datasource\}$/,
      );
    const ids = panels.map((p) => (p as { id?: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test.each([
    'Request rate by route',
    'Error ratio (5xx, 4xx)',
    'Latency p50 / p95 / p99',
    'Module call rate by caller → module',
    'Module call p99 by caller → module',
    'Call matrix (calls/s, caller → module)',
    'Circuit breaker states',
    'Saga outcomes by outcome / reason',
    'Saga duration p95',
    'Outbox pending events',
    'Outbox oldest pending age',
    'Outbox relay lag p99',
    'Event redeliveries and dead letters',
    'Process RSS',
    'Event-loop lag',
  ])('has the panel "%s" with a query', (title) => {
    const panel = panels.find((p) => p.title === title);
    expect(panel?.targets?.[0]?.expr).toBeString();
  });

  test('every query names only metric families bunshop exposes', async () => {
    const exposed = await exposedNames();
    const variables = dashboard.templating.list.flatMap((v: { definition?: string }) =>
      [...(v.definition ?? '').matchAll(/label_values\((.+),\s*\w+\)$/g)].map((m) => m[1]!),
    );
    const unknown = [...exprs, ...variables].flatMap(metricNames).filter((n) => !exposed.has(n));
    expect(exprs.length).toBeGreaterThan(15);
    expect([...new Set(unknown)]).toEqual([]);
  });

  test.skipIf(noPromtool)('every query is PromQL promtool parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bunshop-dash-'));
    try {
      // A rules file (JSON is YAML) of one recording rule per panel query: promtool parses each.
      const rules = exprs.map((e, i) => ({ record: `dashboard_query_${i}`, expr: asPromQL(e) }));
      const file = join(dir, 'queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = promtool(['check', 'rules', file]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the name extraction finds what it must and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (caller, le) (rate(a_bucket{x=~"b_c"}[$__rate_interval]))) / on(d) b_total offset 5m',
      ),
    ).toEqual(['a_bucket', 'b_total']);
  });
});
