// Numbers of one benchmark run: percentiles, ratios to the baseline, and the printed table.
// Pure (no I/O) so it is unit-tested; bench/run.ts does the measuring and the writing.
import type { CorpusClass } from './corpus.ts';

/** What served the requests of a phase. */
export const TARGETS = ['baseline', 'app', 'app+kube-writer'] as const;
/** `serve` of another checkout of the project (`--compare-with`), beside `app` in the same run. */
export const OTHER_APP = 'other-app';
export type Target = (typeof TARGETS)[number] | typeof OTHER_APP;

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** What one load run measured. */
export interface LoadFigures {
  readonly durationMs: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  /** Responses other than 2xx, socket errors and timeouts: all should be 0. */
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** One load phase: one target, one corpus class, one concurrency. */
export interface PhaseResult extends LoadFigures {
  readonly target: Target;
  readonly class: CorpusClass;
  readonly connections: number;
  /** CPU time (user + system) the server process spent during the phase. */
  readonly serverCpuMs: number;
  /** Peak RSS of the server process since it started, at the end of the phase. */
  readonly serverPeakRssBytes: number;
}

export interface Comparison {
  readonly class: CorpusClass;
  readonly connections: number;
  readonly target: Target;
  /** Our requests/s divided by the baseline's (target: ≥ 0.8). */
  readonly throughputRatio: number;
  /** Our p99 divided by the baseline's (target: ≤ 2). */
  readonly p99Ratio: number;
}

export const TARGET_THROUGHPUT_RATIO = 0.8;
export const TARGET_P99_RATIO = 2;

/** Nearest-rank percentile of unsorted samples; 0 for no samples. */
export function percentile(samples: ArrayLike<number>, fraction: number): number {
  return nearestRank(Float64Array.from(samples).sort(), fraction);
}

export function summarizeLatency(samplesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  return { p50Ms: nearestRank(sorted, 0.5), p99Ms: nearestRank(sorted, 0.99), maxMs: nearestRank(sorted, 1) };
}

function nearestRank(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** Each non-baseline phase against the baseline phase of the same class and concurrency. */
export function compareToBaseline(results: readonly PhaseResult[]): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const result of results) {
    if (result.target === 'baseline') continue;
    const base = results.find((r) => r.target === 'baseline' && r.class === result.class && r.connections === result.connections);
    if (!base) continue;
    comparisons.push({
      class: result.class,
      connections: result.connections,
      target: result.target,
      throughputRatio: ratio(result.requestsPerSecond, base.requestsPerSecond),
      p99Ratio: ratio(result.latency.p99Ms, base.latency.p99Ms),
    });
  }
  return comparisons;
}

function ratio(ours: number, base: number): number {
  return base > 0 ? ours / base : Number.NaN;
}

const MIB = 1024 * 1024;

/** The short table printed after a run and pasted into docs/performance.md (Markdown). */
export function formatTable(results: readonly PhaseResult[]): string {
  const comparisons = compareToBaseline(results);
  const header = ['class', 'conns', 'server', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'req/s vs base', 'p99 vs base', 'CPU ms/req', 'peak RSS MiB', 'failed'];
  const rows = results.map((r) => {
    const c = comparisons.find((x) => x.class === r.class && x.connections === r.connections && x.target === r.target);
    return [
      r.class,
      String(r.connections),
      r.target,
      r.requestsPerSecond.toFixed(0),
      r.latency.p50Ms.toFixed(2),
      r.latency.p99Ms.toFixed(2),
      r.latency.maxMs.toFixed(1),
      c ? `${c.throughputRatio.toFixed(2)}×` : '—',
      c ? `${c.p99Ratio.toFixed(2)}×` : '—',
      r.requests > 0 ? (r.serverCpuMs / r.requests).toFixed(3) : '—',
      (r.serverPeakRssBytes / MIB).toFixed(0),
      String(r.non2xx + r.errors + r.timeouts),
    ];
  });
  const numeric = new Set(header.slice(3).map((_, i) => i + 3));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** One line per hot-path comparison against the targets of §9 / the issue. */
export function formatVerdicts(results: readonly PhaseResult[]): string[] {
  return compareToBaseline(results)
    .filter((c) => c.class === 'hot')
    .map((c) => {
      const throughputOk = c.throughputRatio >= TARGET_THROUGHPUT_RATIO;
      const p99Ok = c.p99Ratio <= TARGET_P99_RATIO;
      return (
        `hot, ${c.connections} conns, ${c.target}: throughput ${c.throughputRatio.toFixed(2)}× baseline ` +
        `(target ≥ ${TARGET_THROUGHPUT_RATIO}: ${throughputOk ? 'met' : 'MISSED'}), ` +
        `p99 ${c.p99Ratio.toFixed(2)}× (target ≤ ${TARGET_P99_RATIO}: ${p99Ok ? 'met' : 'MISSED'})`
      );
    });
}
