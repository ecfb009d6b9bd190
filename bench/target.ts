// The server under test, in a child process of its own so its CPU time and peak RSS are its own.
// bench/run.ts forks this file and talks to it over the IPC channel (see ServerProcess).
import type { FastifyInstance } from 'fastify';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import { buildBaselineApp } from './baseline.ts';
import type { Target } from './report.ts';

/** controller-runtime's body limit: a review carries whole objects. Same for both servers. */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;
export const KEEP_ALIVE_TIMEOUT_MS = 90_000;

export type ParentMessage =
  | { readonly type: 'start'; readonly target: Target; readonly serving: CertificateKeyPair; readonly storesFile: string }
  | { readonly type: 'stats' }
  | { readonly type: 'stop' };

export interface ServerStats {
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  readonly peakRssBytes: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'stats'; readonly stats: ServerStats }
  | { readonly type: 'failed'; readonly message: string };

function stats(): ServerStats {
  const usage = process.resourceUsage();
  const memory = process.memoryUsage();
  return {
    cpuUserMicros: usage.userCPUTime,
    cpuSystemMicros: usage.systemCPUTime,
    peakRssBytes: usage.maxRSS * 1024,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
  };
}

async function buildTarget(message: Extract<ParentMessage, { type: 'start' }>): Promise<FastifyInstance> {
  switch (message.target) {
    case 'baseline':
      return buildBaselineApp({ serving: message.serving, bodyLimitBytes: BODY_LIMIT_BYTES, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS });
    case 'app':
    case 'app+memory-writer':
      throw new Error(`target ${message.target} is not wired yet`);
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

let app: FastifyInstance | undefined;

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'start':
      buildTarget(message)
        .then(async (built) => {
          app = built;
          await built.listen({ host: '127.0.0.1', port: 0 });
          const address = built.server.address();
          if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
          send({ type: 'listening', port: address.port });
        })
        .catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) }));
      return;
    case 'stats':
      send({ type: 'stats', stats: stats() });
      return;
    case 'stop':
      // A normal exit (not a signal) so `--cpu-prof` writes its profile.
      void (app?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
  }
});

// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));
