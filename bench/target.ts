// The server under test, in a child process of its own so its CPU time and peak RSS are its own.
// bench/run.ts forks this file and talks to it over the IPC channel (see ServerProcess).
import type { FastifyInstance } from 'fastify';
import { resolveServerOptions } from '../src/server/options.ts';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import { buildBaselineApp } from './baseline.ts';
import type { Target } from './report.ts';

/** The webhook's own HTTP settings; the baseline gets the same body limit and keep-alive. */
const SERVER_OPTIONS = resolveServerOptions({ host: '127.0.0.1', port: 0 });

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
  if (message.target === 'baseline') {
    return buildBaselineApp({
      serving: message.serving,
      bodyLimitBytes: SERVER_OPTIONS.bodyLimitBytes,
      keepAliveTimeoutMs: SERVER_OPTIONS.keepAliveTimeoutMs,
    });
  }
  // Loaded only here, so the baseline process carries none of the webhook's modules.
  const { buildWebhookApp } = await import('./app-target.ts');
  return buildWebhookApp({ target: message.target, serving: message.serving, storesFile: message.storesFile, server: SERVER_OPTIONS });
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
