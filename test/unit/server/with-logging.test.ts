import t from 'tap';
import { ReviewError } from '../../../src/server/errors.ts';
import { allowed, decodeReview, denied, errored, patched } from '../../../src/server/review.ts';
import { withLogging } from '../../../src/server/with-logging.ts';
import { captureLogger, manualClock, pod, review, samplePatch } from './fixtures/reviews.ts';

t.test('one info line per review with who, what, outcome and duration; never the object', async (t) => {
  const { logger, lines } = captureLogger();
  const clock = manualClock();
  const handler = withLogging(async () => {
    clock.advance(12.5);
    return patched('uid-1', samplePatch, { warnings: ['w'], logFields: { generated: 'web-0a1b2c3d' } });
  }, clock.nowMs);
  const object = pod({ 'hybrid-secrets.io/inject': 'true', 'hybrid-secrets.io/secret-db': 'prod/db#password' });
  await handler({ decoded: decodeReview(review({ uid: 'uid-1', dryRun: true, object })), log: logger });
  const logged = lines();
  t.equal(logged.length, 1);
  t.same(
    { ...logged[0], time: undefined, pid: undefined, hostname: undefined },
    {
      level: 30,
      time: undefined,
      pid: undefined,
      hostname: undefined,
      uid: 'uid-1',
      namespace: 'team-a',
      pod: 'web-7d9f8-',
      owner: 'ReplicaSet/web-7d9f8',
      operation: 'CREATE',
      dryRun: true,
      outcome: 'patched',
      warnings: 1,
      generated: 'web-0a1b2c3d',
      durationMs: 12.5,
      msg: 'review',
    },
  );
  t.notMatch(JSON.stringify(logged), /prod\/db|annotations|containers/, 'no object content');
});

t.test('the pod name wins over generateName; a bare pod has no owner', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = withLogging(async () => allowed('u'), manualClock().nowMs);
  const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', generateName: 'x-' }, spec: {} };
  await handler({ decoded: decodeReview(review({ object })), log: logger });
  t.match(lines()[0], { pod: 'debug', owner: '', outcome: 'allowed' });
});

t.test('denials log their message; errors log at warn with their code', async (t) => {
  const { logger, lines } = captureLogger();
  const clock = manualClock();
  await withLogging(async () => denied('u', 'hybrid-secrets.io/store: unknown store'), clock.nowMs)({
    decoded: decodeReview(review()),
    log: logger,
  });
  const error = new ReviewError('BodyTooLarge', '7340032 bytes');
  await withLogging(async () => errored('', error), clock.nowMs)({ decoded: { ok: false, error }, log: logger });
  const [denial, failure] = lines();
  t.match(denial, { level: 30, outcome: 'denied', message: 'hybrid-secrets.io/store: unknown store' });
  t.match(failure, { level: 40, uid: '', outcome: 'errored', code: 'BodyTooLarge', message: /larger than the limit: 7340032 bytes/ });
  t.notOk('namespace' in (failure ?? {}), 'nothing invented for an undecodable request');
});
