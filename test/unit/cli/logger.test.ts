import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { LOG_FLUSH_INTERVAL_MS, openServeLogger } from '../../../src/cli/logger.ts';

function logFile(t: Test): { fd: number; lines: () => Record<string, unknown>[] } {
  const directory = mkdtempSync(join(tmpdir(), 'serve-logger-'));
  const path = join(directory, 'log');
  const fd = openSync(path, 'a');
  t.teardown(() => {
    closeSync(fd);
    rmSync(directory, { recursive: true, force: true });
  });
  const lines = () =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { fd, lines };
}

t.test('lines are written in chunks: at 4 KiB at once, otherwise within the flush interval', async (t) => {
  const file = logFile(t);
  const logger = openServeLogger('info', file.fd);
  t.teardown(() => logger.close());
  logger.log.info({ uid: 'a' }, 'review');
  t.same(file.lines(), [], 'one short line waits in the buffer');
  await sleep(LOG_FLUSH_INTERVAL_MS * 3);
  t.match(file.lines(), [{ uid: 'a', msg: 'review', service: 'hybrid-secrets', level: 30 }], 'written by the timer');
  for (let i = 0; i < 60; i += 1) logger.log.info({ uid: `bulk-${i}`, padding: 'x'.repeat(64) }, 'review');
  t.ok(file.lines().length > 1, 'a full chunk is written without waiting');
});

t.test('close writes whatever is buffered, and the level filters', async (t) => {
  const file = logFile(t);
  const logger = openServeLogger('warn', file.fd);
  logger.log.info('not at this level');
  logger.log.warn({ code: 'X' }, 'kept');
  logger.close();
  t.match(file.lines(), [{ msg: 'kept', code: 'X', level: 40 }]);
  t.equal(file.lines().length, 1);
});
