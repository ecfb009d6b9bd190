import t from 'tap';
import { createMetrics } from '../../../src/metrics.ts';
import { ReviewError } from '../../../src/server/errors.ts';
import { allowed, decodeReview, denied, errored, patched, type ReviewResult } from '../../../src/server/review.ts';
import { withMetrics } from '../../../src/server/with-metrics.ts';
import { captureLogger, manualClock, review, samplePatch } from './fixtures/reviews.ts';

/** One sample by its full name (histograms expose `<name>_sum`, `<name>_count`, …). */
async function value(metrics: ReturnType<typeof createMetrics>, sampleName: string, labels: Record<string, string>): Promise<number> {
  const metricName = sampleName.replace(/_(sum|count|bucket)$/, '');
  const data = await metrics.registry.getSingleMetric(metricName)?.get();
  const sample = data?.values.find(
    (entry) =>
      ((entry as { metricName?: string }).metricName ?? metricName) === sampleName &&
      Object.entries(labels).every(([key, expected]) => (entry.labels as Record<string, unknown>)[key] === expected),
  );
  return sample?.value ?? 0;
}

t.test('counts reviews by outcome, injections by namespace, errors by code, and observes duration', async (t) => {
  const metrics = createMetrics();
  const clock = manualClock();
  const results: ReviewResult[] = [
    patched('u', samplePatch),
    patched('u', samplePatch),
    allowed('u'),
    denied('u', 'no'),
    errored('u', new ReviewError('EnsureFailed', 'x')),
  ];
  let index = 0;
  const handler = withMetrics(
    async () => {
      clock.advance(250);
      return results[index++] as ReviewResult;
    },
    metrics,
    clock.nowMs,
  );
  const log = captureLogger().logger;
  for (let i = 0; i < results.length; i++) await handler({ decoded: decodeReview(review({ namespace: 'team-a' })), log });

  t.equal(await value(metrics, 'hybrid_secrets_admission_reviews_total', { outcome: 'patched' }), 2);
  t.equal(await value(metrics, 'hybrid_secrets_admission_reviews_total', { outcome: 'allowed' }), 1);
  t.equal(await value(metrics, 'hybrid_secrets_admission_reviews_total', { outcome: 'denied' }), 1);
  t.equal(await value(metrics, 'hybrid_secrets_admission_reviews_total', { outcome: 'errored' }), 1);
  t.equal(await value(metrics, 'hybrid_secrets_injections_total', { namespace: 'team-a' }), 2);
  t.equal(await value(metrics, 'hybrid_secrets_errors_total', { code: 'EnsureFailed' }), 1);
  t.equal(await value(metrics, 'hybrid_secrets_admission_review_duration_seconds_sum', { outcome: 'patched' }), 0.5);
  t.equal(await value(metrics, 'hybrid_secrets_admission_review_duration_seconds_count', { outcome: 'patched' }), 2);
});

t.test('undecodable requests count as errored with their code', async (t) => {
  const metrics = createMetrics();
  const error = new ReviewError('MalformedJson');
  const handler = withMetrics(async () => errored('', error), metrics, manualClock().nowMs);
  await handler({ decoded: { ok: false, error }, log: captureLogger().logger });
  t.equal(await value(metrics, 'hybrid_secrets_errors_total', { code: 'MalformedJson' }), 1);
  t.equal(await value(metrics, 'hybrid_secrets_admission_reviews_total', { outcome: 'errored' }), 1);
});
