// One log line per review: who (uid, namespace, pod, owner), what (operation, dryRun), the
// outcome and how long it took. Never the object itself: pods carry env values and more.
import { controllerOf } from '../core/names.ts';
import { isRecord } from '../core/values.ts';
import type { AdmissionRequest, ReviewHandler } from './review.ts';
import type { MonotonicClock } from './with-metrics.ts';

export function withLogging(next: ReviewHandler, nowMs: MonotonicClock): ReviewHandler {
  return async function log(input) {
    const startMs = nowMs();
    const result = await next(input);
    const durationMs = Math.round((nowMs() - startMs) * 1000) / 1000;
    const { decoded } = input;
    const fields = {
      ...(decoded.ok ? describeRequest(decoded.request) : { uid: decoded.uid ?? '' }),
      outcome: result.outcome,
      ...(result.errorCode === undefined ? {} : { code: result.errorCode }),
      // A denial or error message names annotations and causes, never secret values.
      ...(result.response.allowed || result.response.status === undefined ? {} : { message: result.response.status.message }),
      ...(result.response.warnings === undefined ? {} : { warnings: result.response.warnings.length }),
      ...result.logFields,
      durationMs,
    };
    if (result.outcome === 'errored') input.log.warn(fields, 'review');
    else input.log.info(fields, 'review');
    return result;
  };
}

/** The identifying fields of a review; `pod` is the name, or the generateName prefix before one exists. */
export function describeRequest(request: AdmissionRequest): Record<string, string | boolean> {
  const metadata = isRecord(request.object?.metadata) ? request.object.metadata : {};
  const pod = stringOr(metadata.name, stringOr(metadata.generateName, request.name ?? ''));
  return {
    uid: request.uid,
    namespace: request.namespace ?? '',
    pod,
    owner: ownerName(metadata),
    operation: request.operation,
    dryRun: request.dryRun,
  };
}

function ownerName(metadata: Record<string, unknown>): string {
  const owner = controllerOf(metadata);
  return owner === undefined ? '' : `${owner.kind}/${owner.name}`;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}
