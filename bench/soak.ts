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
  };
}
