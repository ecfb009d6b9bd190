// The serve command's logger: one JSON line per event on stdout. Lines are written synchronously,
// as Kubernetes components write theirs (a review is never answered while its line is still
// queued in memory), but in chunks: one write per 4 KiB of lines, or every 250 ms when quieter.
// One write per line cost more than planning the review (docs/performance.md). The buffer is
// written on exit too; only a SIGKILL can lose the last 250 ms of lines.
import pino, { type Logger } from 'pino';

const LOG_CHUNK_BYTES = 4096;
export const LOG_FLUSH_INTERVAL_MS = 250;

export interface ServeLogger {
  readonly log: Logger;
  /** Writes what is buffered and stops the flush timer. */
  close(): void;
}

export function openServeLogger(level: string, fd = 1): ServeLogger {
  const destination = pino.destination({ dest: fd, sync: true, minLength: LOG_CHUNK_BYTES });
  const flush = (): void => destination.flush();
  const flushTimer = setInterval(flush, LOG_FLUSH_INTERVAL_MS);
  flushTimer.unref();
  const flushOnExit = (): void => destination.flushSync();
  process.once('exit', flushOnExit);
  return {
    log: pino({ level, base: { service: 'hybrid-secrets' } }, destination),
    close() {
      clearInterval(flushTimer);
      process.off('exit', flushOnExit);
      destination.flushSync();
    },
  };
}
