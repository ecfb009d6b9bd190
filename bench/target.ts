// The server under test, in a child process of its own so its CPU time and peak RSS are its own.
// bench/run.ts forks this file and talks to it over the IPC channel (see ServerProcess).
import { resolveServerOptions } from '../src/server/options.ts';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import { buildBaselineApp } from './baseline.ts';
import type { Target } from './report.ts';

/** The webhook's own HTTP settings; the baseline gets the same body limit and keep-alive. */
const SERVER_OPTIONS = resolveServerOptions({ host: '127.0.0.1', port: 0 });

export type ParentMessage =
  | {
      readonly type: 'start';
      readonly target: Target;
      readonly serving: CertificateKeyPair;
      /** PEM of the CA that signed `serving`, to check the server's answers. */
      readonly caPem: string;
      readonly storesFile: string;
      /** For `other-app`: the checkout whose `src/cli/serve.ts` to run. */
      readonly compareWith?: string;
    }
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

/** A server under test that is listening. */
export interface RunningTarget {
  readonly port: number;
  stop(): Promise<void>;
}

async function startTarget(message: Extract<ParentMessage, { type: 'start' }>): Promise<RunningTarget> {
  if (message.target === 'baseline') {
    const app = buildBaselineApp({
      serving: message.serving,
      bodyLimitBytes: SERVER_OPTIONS.bodyLimitBytes,
      keepAliveTimeoutMs: SERVER_OPTIONS.keepAliveTimeoutMs,
    });
    await app.listen({ host: SERVER_OPTIONS.host, port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('baseline has no TCP address');
    return { port: address.port, stop: () => app.close() };
  }
  // Loaded only here, so the baseline process carries none of the webhook's modules.
  const { startWebhook } = await import('./app-target.ts');
  return startWebhook({ ...message, target: message.target, server: SERVER_OPTIONS });
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

let running: RunningTarget | undefined;

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'start':
      startTarget(message).then(
        (started) => {
          running = started;
          send({ type: 'listening', port: started.port });
        },
        (error: unknown) => send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
      return;
    case 'stats':
      send({ type: 'stats', stats: stats() });
      return;
    case 'stop':
      // A normal exit (not a signal) so `--cpu-prof` writes its profile.
      void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
  }
});

// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));
