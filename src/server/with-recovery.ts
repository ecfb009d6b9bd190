// Turns a thrown error (a bug) into a 500 answer that still carries the review's uid, so the
// API server applies the webhook's failurePolicy and the process keeps serving.
import { ReviewError } from './errors.ts';
import { errored, type ReviewHandler } from './review.ts';

export function withRecovery(next: ReviewHandler): ReviewHandler {
  return async function recover(input) {
    try {
      return await next(input);
    } catch (error) {
      const uid = input.decoded.ok ? input.decoded.request.uid : (input.decoded.uid ?? '');
      input.log.error({ err: error, uid }, 'review handler failed');
      return errored(uid, new ReviewError('InternalError', `see the webhook's log for uid ${uid || '(none)'}`));
    }
  };
}
