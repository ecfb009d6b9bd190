import t from 'tap';
import { ReviewError } from '../../../src/server/errors.ts';
import { allowed, decodeReview, type ReviewInput } from '../../../src/server/review.ts';
import { withRecovery } from '../../../src/server/with-recovery.ts';
import { captureLogger, review } from './fixtures/reviews.ts';

t.test('a throwing handler becomes a 500 answer carrying the uid, and the error is logged', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = withRecovery(async () => {
    throw new TypeError('cannot read properties of undefined');
  });
  const result = await handler({ decoded: decodeReview(review({ uid: 'uid-1' })), log: logger });
  t.equal(result.httpStatus, 500);
  t.equal(result.outcome, 'errored');
  t.equal(result.errorCode, 'InternalError');
  t.equal(result.response.uid, 'uid-1');
  t.equal(result.response.allowed, false);
  t.match(result.response.status, { code: 500, reason: 'InternalError', message: /uid uid-1/ });
  const [line] = lines();
  t.match(line, { level: 50, uid: 'uid-1', msg: 'review handler failed', err: { message: 'cannot read properties of undefined' } });
});

t.test('a synchronous throw is caught too', async (t) => {
  const handler = withRecovery((() => {
    throw new Error('sync');
  }) as never);
  const input: ReviewInput = { decoded: { ok: false, error: new ReviewError('EmptyBody') }, log: captureLogger().logger };
  const result = await handler(input);
  t.equal(result.errorCode, 'InternalError');
  t.equal(result.response.uid, '');
});

t.test('a normal answer passes through untouched', async (t) => {
  const answer = allowed('u');
  const handler = withRecovery(async () => answer);
  t.equal(await handler({ decoded: decodeReview(review()), log: captureLogger().logger }), answer);
});
