// The admission decision for one decoded review: select → plan (pure core) → ensure the
// generated objects (unless dry-run) → answer. Everything with side effects is injected.
import type { FastifyBaseLogger } from 'fastify';
import type { Problem } from '../contract/types.ts';
import type { GeneratedObjectWriter, InjectionPlan, InjectionTarget } from '../core/types.ts';
import { deadlineSignal, raceAbort, systemClock, type Clock } from '../kube/clock.ts';
import { ensureDeadlineMs } from './caller-timeout.ts';
import { ReviewError } from './errors.ts';
import { allowed, denied, errored, patched, type AdmissionRequest, type ReviewResult } from './review.ts';
import { errorMessage } from '../core/values.ts';

export interface AdmissionHandlerOptions {
  /** The pure core, bound to the store catalog and the server's InjectionConfig. */
  readonly plan: (target: InjectionTarget) => InjectionPlan;
  readonly writer: GeneratedObjectWriter;
  /** True once the catalog the plan reads is loaded; before that no selected pod is decided. */
  readonly isReady: () => boolean;
  /** Budget for ensuring the generated objects; shortened when the caller waits less. */
  readonly apiDeadlineMs: number;
  /** Times the deadline; tests pass a fake one. */
  readonly clock?: Clock;
}

/** What the handler knows about the HTTP call besides the review. */
export interface AdmissionContext {
  readonly log: FastifyBaseLogger;
  /** How long the API server waits for the answer (`?timeout=` of the call), when it said. */
  readonly callerTimeoutMs?: number;
}

export type AdmissionHandler = (request: AdmissionRequest, context: AdmissionContext) => Promise<ReviewResult>;

export function createAdmissionHandler(options: AdmissionHandlerOptions): AdmissionHandler {
  const clock = options.clock ?? systemClock;

  return async function admit(request, context) {
    const { uid } = request;
    if (request.operation !== 'CREATE' || request.subResource !== undefined || request.object === undefined) {
      return allowed(uid, { logFields: { reason: 'not-a-pod-create' } });
    }
    // The namespace comes from the request: at admission the object may not carry one.
    const plan = options.plan({ pod: request.object, namespace: request.namespace ?? '' });
    // A half-loaded catalog would deny pods for stores that do exist.
    if (plan.action !== 'skip' && !options.isReady()) return errored(uid, new ReviewError('NotReady'));
    switch (plan.action) {
      case 'skip':
        return allowed(uid, { logFields: { reason: plan.reason } });
      case 'deny':
        return denied(uid, denialMessage(plan.problems), {
          warnings: plan.warnings,
          logFields: { problems: plan.problems.map((problem) => problem.field).join(',') },
        });
      case 'inject': {
        const logFields = { generated: plan.objects.name, store: `${plan.store.kind}/${plan.store.name}` };
        // Already current (the usual case once a workload's first pod is in): nothing to wait for.
        if (!request.dryRun && !options.writer.isCurrent(plan.objects)) {
          const deadlineMs = ensureDeadlineMs(options.apiDeadlineMs, context.callerTimeoutMs);
          // Released as soon as the writer is done: a timer per review would otherwise outlive
          // the review by the whole deadline.
          const deadline = deadlineSignal(clock, deadlineMs, () => new Error(`deadline of ${deadlineMs} ms passed`));
          let failure: string | undefined;
          try {
            failure = await ensureWithin(options.writer, plan, deadline.signal, deadlineMs);
          } finally {
            deadline.release();
          }
          if (failure !== undefined) {
            return errored(uid, new ReviewError('EnsureFailed', failure), { warnings: plan.warnings, logFields });
          }
        }
        return patched(uid, plan.patch, { warnings: plan.warnings, logFields });
      }
    }
  };
}

/** One line per problem, each naming the annotation (or field) to change. */
export function denialMessage(problems: readonly Problem[]): string {
  if (problems.length === 0) return 'hybrid-secrets could not apply the pod\'s annotations';
  return problems.map((problem) => `${problem.field}: ${problem.message}`).join('\n');
}

/**
 * Runs writer.ensure under the deadline. Resolves to undefined on success, or to a message fit
 * for the user. The race guards against a writer that ignores its signal: the review must be
 * answered within the deadline either way.
 */
async function ensureWithin(
  writer: GeneratedObjectWriter,
  plan: Extract<InjectionPlan, { action: 'inject' }>,
  signal: AbortSignal,
  deadlineMs: number,
): Promise<string | undefined> {
  const what = `ExternalSecret and SecretProviderClass ${plan.objects.namespace}/${plan.objects.name}`;
  try {
    await raceAbort(writer.ensure(plan.objects, { signal }), signal);
    return undefined;
  } catch (error) {
    // The writer's message names the object and the cause already.
    return signal.aborted ? `timed out after ${deadlineMs} ms ensuring ${what}` : errorMessage(error);
  }
}
