import t from 'tap';
import type { GeneratedObjectWriter, GeneratedObjects, InjectionPlan, InjectionTarget } from '../../../src/core/types.ts';
import { createAdmissionHandler, denialMessage } from '../../../src/server/admission.ts';
import { decodeReview, type AdmissionRequest } from '../../../src/server/review.ts';
import { FakeClock } from '../kube/fakes.ts';
import { captureLogger, injectPlan, review, samplePatch, type ReviewParts } from './fixtures/reviews.ts';

const context = { log: captureLogger().logger };

function request(parts: ReviewParts = {}): AdmissionRequest {
  const decoded = decodeReview(review(parts));
  if (!decoded.ok) throw decoded.error;
  return decoded.request;
}

class RecordingWriter implements GeneratedObjectWriter {
  readonly ensured: GeneratedObjects[] = [];
  /** What isCurrent answers: false makes every review call ensure. */
  current = false;
  readonly behaviour: (signal: AbortSignal) => Promise<void>;
  constructor(behaviour: (signal: AbortSignal) => Promise<void> = async () => {}) {
    this.behaviour = behaviour;
  }
  isCurrent(): boolean {
    return this.current;
  }
  async ensure(objects: GeneratedObjects, options: { signal: AbortSignal }): Promise<void> {
    this.ensured.push(objects);
    await this.behaviour(options.signal);
  }
}

function handler(plan: InjectionPlan, writer = new RecordingWriter(), isReady = () => true) {
  const targets: InjectionTarget[] = [];
  const clock = new FakeClock();
  const admit = createAdmissionHandler({
    plan: (target) => {
      targets.push(target);
      return plan;
    },
    writer,
    isReady,
    apiDeadlineMs: 5_000,
    clock,
  });
  return { admit, targets, writer, clock };
}

t.test('inject: ensures the generated objects, then answers with the patch and warnings', async (t) => {
  const { admit, targets, writer } = handler(injectPlan({ warnings: ['hybrid-secrets.io/colour: unknown annotation'] }));
  const result = await admit(request(), context);
  t.equal(result.outcome, 'patched');
  t.equal(result.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
  t.same(JSON.parse(Buffer.from(result.response.patch ?? '', 'base64').toString()), samplePatch);
  t.same(result.response.warnings, ['hybrid-secrets.io/colour: unknown annotation']);
  t.equal(writer.ensured.length, 1);
  t.equal(writer.ensured[0]?.name, 'web-0a1b2c3d');
  t.equal(targets[0]?.namespace, 'team-a', 'namespace comes from the request');
  t.match(result.logFields, { generated: 'web-0a1b2c3d', store: 'ClusterSecretStore/vault' });
});

t.test('objects the writer reports current: the same patch, and ensure is not called', async (t) => {
  const { admit, writer, clock } = handler(injectPlan());
  writer.current = true;
  const result = await admit(request(), context);
  t.equal(result.outcome, 'patched');
  t.same(JSON.parse(Buffer.from(result.response.patch ?? '', 'base64').toString()), samplePatch);
  t.equal(writer.ensured.length, 0);
  t.equal(clock.timersSet(), 0, 'no deadline was started');
  writer.current = false;
  await admit(request(), context);
  t.equal(clock.timersSet(), 1, 'a review that ensures runs under a deadline');
  t.equal(writer.ensured.length, 1);
});

t.test('the namespace comes from request.namespace even when the object names another', async (t) => {
  const { admit, targets } = handler({ action: 'skip', reason: 'not-selected' });
  const object = review().request as { object: { metadata: Record<string, unknown> } };
  object.object.metadata.namespace = 'elsewhere';
  await admit(request({ namespace: 'team-b', object: object.object }), context);
  t.equal(targets[0]?.namespace, 'team-b');
});

t.test('dry-run: same answer, nothing ensured', async (t) => {
  const { admit, writer } = handler(injectPlan());
  const result = await admit(request({ dryRun: true }), context);
  t.equal(result.outcome, 'patched');
  t.equal(writer.ensured.length, 0);
});

t.test('skip: allowed without a patch', async (t) => {
  const { admit, writer } = handler({ action: 'skip', reason: 'already-injected' });
  const result = await admit(request(), context);
  t.same(result.response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
  t.same(result.logFields, { reason: 'already-injected' });
  t.equal(writer.ensured.length, 0);
});

t.test('deny: one line per problem, each naming the annotation; nothing ensured', async (t) => {
  const { admit, writer } = handler({
    action: 'deny',
    problems: [
      { field: 'hybrid-secrets.io/secret-db', message: 'remote reference must not be empty' },
      { field: 'hybrid-secrets.io/mount-path', message: 'must be an absolute path' },
    ],
    warnings: ['hybrid-secrets.io/colour: unknown annotation'],
  });
  const result = await admit(request(), context);
  t.equal(result.outcome, 'denied');
  t.same(result.response.status, {
    code: 403,
    reason: 'Forbidden',
    message:
      'hybrid-secrets.io/secret-db: remote reference must not be empty\nhybrid-secrets.io/mount-path: must be an absolute path',
  });
  t.same(result.response.warnings, ['hybrid-secrets.io/colour: unknown annotation']);
  t.equal(writer.ensured.length, 0);
});

t.test('anything but a Pod CREATE is allowed without consulting the core', async (t) => {
  for (const parts of [{ operation: 'UPDATE' }, { operation: 'DELETE', object: undefined }, { operation: 'CONNECT' }]) {
    const { admit, targets } = handler(injectPlan());
    const result = await admit(request(parts), context);
    t.equal(result.outcome, 'allowed', parts.operation);
    t.equal(targets.length, 0);
  }
  const { admit, targets } = handler(injectPlan());
  const binding = review({ subResource: 'binding', object: { kind: 'Binding' } });
  (binding.request as Record<string, unknown>).kind = { group: '', version: 'v1', kind: 'Binding' };
  const decoded = decodeReview(binding);
  t.ok(decoded.ok);
  if (decoded.ok) t.equal((await admit(decoded.request, context)).outcome, 'allowed');
  t.equal(targets.length, 0);
});

t.test('a writer failure refuses the pod with the writer message', async (t) => {
  const writer = new RecordingWriter(async () => {
    throw new Error('ExternalSecret team-a/web-0a1b2c3d: admission webhook "vexternalsecret" denied the request');
  });
  const { admit } = handler(injectPlan(), writer);
  const result = await admit(request(), context);
  t.equal(result.outcome, 'errored');
  t.equal(result.errorCode, 'EnsureFailed');
  t.equal(result.httpStatus, 200);
  t.equal(result.response.allowed, false);
  t.equal(result.response.patch, undefined);
  t.match(result.response.status?.message, /could not create the generated objects: ExternalSecret team-a\/web-0a1b2c3d: admission webhook/);
});

t.test('the deadline answers the review even when the writer ignores its signal', async (t) => {
  const writer = new RecordingWriter(() => new Promise<void>(() => {}));
  const { admit, clock } = handler(injectPlan(), writer);
  const pending = admit(request(), context);
  await clock.advance(5_000);
  const result = await pending;
  t.equal(result.errorCode, 'EnsureFailed');
  t.match(result.response.status?.message, /timed out after 5000 ms ensuring ExternalSecret and SecretProviderClass team-a\/web-0a1b2c3d/);
});

t.test('a writer that gives up on abort is reported as a timeout', async (t) => {
  const writer = new RecordingWriter(
    (signal) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
  );
  const { admit, clock } = handler(injectPlan(), writer);
  const pending = admit(request(), context);
  await clock.advance(5_000);
  t.match((await pending).response.status?.message, /timed out after 5000 ms/);
});

t.test('the writer receives the deadline signal, which aborts when the deadline passes', async (t) => {
  let received: AbortSignal | undefined;
  const writer = new RecordingWriter(async (signal) => {
    received = signal;
    return new Promise<void>(() => {});
  });
  const { admit, clock } = handler(injectPlan(), writer);
  const pending = admit(request(), context);
  await clock.advance(4_999);
  t.equal(received?.aborted, false);
  await clock.advance(1);
  t.equal(received?.aborted, true);
  t.equal((await pending).errorCode, 'EnsureFailed');
});

t.test('the deadline timer is released as soon as the writer is done, whatever the outcome', async (t) => {
  for (const behaviour of [async () => {}, async () => Promise.reject(new Error('refused'))]) {
    const { admit, clock } = handler(injectPlan(), new RecordingWriter(behaviour));
    await admit(request(), context);
    t.equal(clock.pendingTimers(), 0);
  }
  const { admit, clock } = handler(injectPlan(), new RecordingWriter(async () => new Promise<void>(() => {})));
  void admit(request(), context);
  await clock.advance(1);
  t.equal(clock.pendingTimers(), 1, 'while the writer works, its deadline runs');
});

t.test('denialMessage', async (t) => {
  t.equal(denialMessage([{ field: 'a', message: 'x' }]), 'a: x');
  t.equal(denialMessage([]), "hybrid-secrets could not apply the pod's annotations", 'never an empty denial');
});

t.test('the deadline follows the API server timeout when that is shorter', async (t) => {
  for (const [callerTimeoutMs, deadlineMs] of [[undefined, 5_000], [10_000, 5_000], [3_000, 2_000]] as const) {
    const { admit, clock } = handler(injectPlan(), new RecordingWriter(async () => new Promise<void>(() => {})));
    const pending = admit(request(), callerTimeoutMs === undefined ? context : { ...context, callerTimeoutMs });
    await clock.advance(deadlineMs);
    t.match((await pending).response.status?.message, new RegExp(`timed out after ${deadlineMs} ms`));
  }
});

t.test('before the catalog is loaded, selected pods get a 503 instead of a wrong decision', async (t) => {
  for (const plan of [injectPlan(), { action: 'deny', problems: [{ field: 'hybrid-secrets.io/store', message: 'unknown' }], warnings: [] } as InjectionPlan]) {
    const { admit, writer } = handler(plan, new RecordingWriter(), () => false);
    const result = await admit(request(), context);
    t.equal(result.httpStatus, 503);
    t.equal(result.errorCode, 'NotReady');
    t.equal(result.response.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
    t.equal(writer.ensured.length, 0);
  }
  const { admit } = handler({ action: 'skip', reason: 'not-selected' }, new RecordingWriter(), () => false);
  t.equal((await admit(request(), context)).outcome, 'allowed', 'unselected pods pass while loading');
});
