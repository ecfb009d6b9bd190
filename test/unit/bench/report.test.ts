import t from 'tap';
import { areaOf, summarizeProfile } from '../../../bench/profile-summary.ts';
import { compareToBaseline, formatTable, formatVerdicts, percentile, summarizeLatency, type PhaseResult } from '../../../bench/report.ts';

function phase(overrides: Partial<PhaseResult>): PhaseResult {
  return {
    target: 'baseline',
    class: 'hot',
    connections: 8,
    durationMs: 2_000,
    requests: 2_000,
    requestsPerSecond: 1_000,
    latency: { p50Ms: 1, p99Ms: 4, maxMs: 9 },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    serverCpuMs: 300,
    serverPeakRssBytes: 100 * 1024 * 1024,
    ...overrides,
  };
}

t.test('nearest-rank percentiles', async (t) => {
  const samples = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  t.equal(percentile(samples, 0.5), 5);
  t.equal(percentile(samples, 0.99), 10);
  t.equal(percentile(samples, 0.1), 1);
  t.equal(percentile([], 0.5), 0);
  t.same(summarizeLatency(samples), { p50Ms: 5, p99Ms: 10, maxMs: 10 });
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.same(summarizeLatency(hundred), { p50Ms: 50, p99Ms: 99, maxMs: 100 });
});

t.test('ratios are taken against the baseline of the same class and concurrency', async (t) => {
  const results = [
    phase({}),
    phase({ target: 'app', requestsPerSecond: 800, latency: { p50Ms: 2, p99Ms: 10, maxMs: 20 } }),
    phase({ connections: 1, requestsPerSecond: 500, latency: { p50Ms: 1, p99Ms: 2, maxMs: 3 } }),
    phase({ connections: 1, target: 'app', requestsPerSecond: 100, latency: { p50Ms: 1, p99Ms: 3, maxMs: 3 } }),
    phase({ class: 'invalid', target: 'app', requestsPerSecond: 100 }),
  ];
  t.same(compareToBaseline(results), [
    { class: 'hot', connections: 8, target: 'app', throughputRatio: 0.8, p99Ratio: 2.5 },
    { class: 'hot', connections: 1, target: 'app', throughputRatio: 0.2, p99Ratio: 1.5 },
  ]);
  t.same(formatVerdicts(results), [
    'hot, 8 conns, app: throughput 0.80× baseline (target ≥ 0.8: met), p99 2.50× (target ≤ 2: MISSED)',
    'hot, 1 conns, app: throughput 0.20× baseline (target ≥ 0.8: MISSED), p99 1.50× (target ≤ 2: met)',
  ]);
});

t.test('the table is Markdown with one row per phase', async (t) => {
  const table = formatTable([phase({}), phase({ target: 'app', requestsPerSecond: 500, serverCpuMs: 1_000, non2xx: 2, timeouts: 1 })]);
  const lines = table.split('\n');
  t.equal(lines.length, 4, 'header, rule, two rows');
  t.match(lines[0], /^\| class +\| conns \| server +\| +req\/s \|/);
  t.match(lines[1], /^\|-+\|-+\|-+\|-+:\|/);
  t.match(lines[2], /\| hot +\| 8 +\| baseline +\| +1000 \| +1\.00 \| +4\.00 \| +9\.0 \| +— \| +— \| +0\.150 \| +100 \| +0 \|$/);
  t.match(lines[3], /\| app +\| +500 \|.*\| +0\.50× \| +1\.00× \| +0\.500 \| +100 \| +3 \|$/);
});

t.test('profile summary: areas and inclusive time', async (t) => {
  t.equal(areaOf(''), '(native/VM)');
  t.equal(areaOf('node:internal/streams/writable'), 'node:streams');
  t.equal(areaOf('file:///x/node_modules/fastify/lib/reply.js'), 'fastify');
  t.equal(areaOf('file:///x/node_modules/@scope/pkg/index.js'), '@scope/pkg');
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const summary = summarizeProfile({
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
      { id: 2, callFrame: frame('handler', 'file:///x/node_modules/fastify/a.js'), children: [3] },
      { id: 3, callFrame: frame('parse', 'file:///x/node_modules/secure-json-parse/i.js') },
      { id: 4, callFrame: frame('(idle)', '') },
    ],
    samples: [3, 3, 2, 4],
    timeDeltas: [1000, 1000, 2000, 6000],
  });
  t.equal(summary.totalMs, 10);
  t.equal(summary.idleMs, 6);
  t.same(summary.inclusiveByArea.find((a) => a.area === 'fastify'), { area: 'fastify', ms: 4 });
  t.same(summary.inclusiveByArea.find((a) => a.area === 'secure-json-parse'), { area: 'secure-json-parse', ms: 2 });
  t.same(summary.selfByFunction[0], { name: '(idle)', ms: 6 });
});
