import t from 'tap';
import { ensureDeadlineMs, parseGoDurationMs } from '../../../src/server/caller-timeout.ts';

t.test('Go durations as the API server writes them', async (t) => {
  t.equal(parseGoDurationMs('10s'), 10_000);
  t.equal(parseGoDurationMs('30s'), 30_000);
  t.equal(parseGoDurationMs('1m0s'), 60_000);
  t.equal(parseGoDurationMs('1.5s'), 1_500);
  t.equal(parseGoDurationMs('500ms'), 500);
  t.equal(parseGoDurationMs('1m30s'), 90_000);
  for (const bad of [undefined, '', '10', 's', '10x', '-1s', '0s', ['10s'], '10s; drop']) {
    t.equal(parseGoDurationMs(bad), undefined, `${JSON.stringify(bad)} is not a timeout`);
  }
});

t.test('the deadline leaves time to answer within the caller timeout', async (t) => {
  t.equal(ensureDeadlineMs(5_000, undefined), 5_000, 'no caller timeout: the configured deadline');
  t.equal(ensureDeadlineMs(5_000, 10_000), 5_000, 'a roomy caller: the configured deadline');
  t.equal(ensureDeadlineMs(5_000, 3_000), 2_000, 'a tight caller: its timeout minus the margin');
  t.equal(ensureDeadlineMs(5_000, 1_000), 500, 'a very tight caller: half its timeout');
  t.equal(ensureDeadlineMs(5_000, 1), 1, 'never zero');
});
