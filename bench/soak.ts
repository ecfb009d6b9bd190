// Soak: hot-path load at a fixed rate (about half the measured maximum) for a bounded time,
// sampling the server's RSS to show whether memory grows under steady traffic.
import { runLoad, type LoadResult } from './load.ts';
import { median } from './report.ts';
import type { ServerProcess } from './server-process.ts';

export interface SoakOptions {
  readonly server: ServerProcess;
  readonly bodies: readonly string[];
  readonly requestsPerSecond: number;
  readonly durationSeconds: number;
}

export interface SoakSample {
  readonly atSeconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

export interface SoakResult {
  readonly target: string;
  readonly requestsPerSecond: number;
  readonly durationSeconds: number;
  readonly load: Omit<LoadResult, 'latenciesMs'>;
  readonly samples: readonly SoakSample[];
  readonly firstMinuteMedianRssBytes: number;
  readonly lastMinuteMedianRssBytes: number;
  /**
   * Lowest heap use seen in each minute: the troughs of the collector's sawtooth. They rise
   * steadily when something is retained; peaks and RSS also move with the collector's timing.
   */
  readonly heapUsedMinimumPerMinuteBytes: readonly number[];
}

const SAMPLE_EVERY_SECONDS = 5;
const SOAK_CONNECTIONS = 8;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const startedMs = Date.now();
  const pending: Promise<SoakSample>[] = [];
  let ticks = 0;
  const sample = async (): Promise<SoakSample> => {
    const stats = await options.server.stats();
    return { atSeconds: Math.round((Date.now() - startedMs) / 1000), rssBytes: stats.rssBytes, heapUsedBytes: stats.heapUsedBytes };
  };
  const { latenciesMs: _latencies, ...load } = await runLoad({
    port: options.server.port,
    bodies: options.bodies,
    connections: SOAK_CONNECTIONS,
    durationSeconds: options.durationSeconds,
    overallRate: options.requestsPerSecond,
    onTick: () => {
      if (++ticks % SAMPLE_EVERY_SECONDS === 0) pending.push(sample());
    },
  });
  pending.push(sample());
  const samples = await Promise.all(pending);
  const window = Math.min(60, options.durationSeconds / 2);
  return {
    target: options.server.target,
    requestsPerSecond: options.requestsPerSecond,
    durationSeconds: options.durationSeconds,
    load,
    samples,
    firstMinuteMedianRssBytes: median(samples.filter((s) => s.atSeconds <= window).map((s) => s.rssBytes)),
    lastMinuteMedianRssBytes: median(samples.filter((s) => s.atSeconds >= options.durationSeconds - window).map((s) => s.rssBytes)),
    heapUsedMinimumPerMinuteBytes: minimumPerMinute(samples),
  };
}

function minimumPerMinute(samples: readonly SoakSample[]): number[] {
  const minimums: number[] = [];
  for (const sample of samples) {
    // Minute n holds samples taken in (60n, 60(n+1)] s: the last sample closes the last minute.
    const minute = Math.max(0, Math.floor((sample.atSeconds - 1) / 60));
    minimums[minute] = Math.min(minimums[minute] ?? Number.POSITIVE_INFINITY, sample.heapUsedBytes);
  }
  return minimums.filter((m) => m !== undefined);
}
