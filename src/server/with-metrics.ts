// Counts every review by outcome, times it, and counts injections and errors.
import type { Metrics } from '../metrics.ts';
import type { ReviewHandler } from './review.ts';

/** Monotonic milliseconds; injected so tests decide how long a review took. */
export type MonotonicClock = () => number;

export function withMetrics(next: ReviewHandler, metrics: Metrics, nowMs: MonotonicClock): ReviewHandler {
  return async function measure(input) {
    const startMs = nowMs();
    const result = await next(input);
    const { outcome } = result;
    metrics.reviews.inc({ outcome });
    metrics.reviewDuration.observe({ outcome }, (nowMs() - startMs) / 1000);
    if (outcome === 'patched' && input.decoded.ok) {
      metrics.injections.inc({ namespace: input.decoded.request.namespace ?? '' });
    }
    if (result.errorCode !== undefined) metrics.errors.inc({ code: result.errorCode });
    return result;
  };
}
