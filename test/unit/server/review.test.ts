import t from 'tap';
import { ReviewError } from '../../../src/server/errors.ts';
import { allowed, decodeReview, denied, errored, patched, reviewBody } from '../../../src/server/review.ts';
import { pod, review, samplePatch } from './fixtures/reviews.ts';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

function failure(body: unknown): { code: string; message: string; uid: string | undefined } {
  const decoded = decodeReview(body);
  if (decoded.ok) throw new Error('expected the review to be rejected');
  return { code: decoded.error.code, message: decoded.error.message, uid: decoded.uid };
}

t.test('a well-formed Pod CREATE decodes to the fields the handler reads', async (t) => {
  const decoded = decodeReview(review({ dryRun: true }));
  t.ok(decoded.ok);
  if (!decoded.ok) return;
  t.match(decoded.request, {
    uid: UID,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'team-a',
    operation: 'CREATE',
    dryRun: true,
    object: { kind: 'Pod' },
  });
  t.equal(decoded.request.subResource, undefined);
});

t.test('dryRun defaults to false', async (t) => {
  const body = review();
  delete (body.request as Record<string, unknown>).dryRun;
  const decoded = decodeReview(body);
  t.equal(decoded.ok && decoded.request.dryRun, false);
});

t.test('bodies that are not an AdmissionReview', async (t) => {
  t.equal(failure(undefined).code, 'EmptyBody');
  t.equal(failure(null).code, 'EmptyBody');
  t.equal(failure('').code, 'EmptyBody');
  t.match(failure([1, 2]), { code: 'NotAReview', message: /body is an array/ });
  t.match(failure('{"x":1}'), { code: 'NotAReview', message: /body is "\{/ });
  t.match(failure(42), { code: 'NotAReview', message: /body is a number/ });
  t.match(failure({ ...review(), kind: 'ConfigMap' }), { code: 'NotAReview', message: /got kind "ConfigMap", apiVersion "admission.k8s.io\/v1"/ });
  t.match(failure({ ...review(), apiVersion: 'admission.k8s.io/v1beta1' }), {
    code: 'NotAReview',
    message: /apiVersion "admission.k8s.io\/v1beta1"/,
  });
  t.match(failure({ apiVersion: 'admission.k8s.io/v1' }), { code: 'NotAReview', message: /kind missing/ });
});

t.test('a review without request or uid', async (t) => {
  t.match(failure({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), { code: 'MissingRequest', uid: undefined });
  t.match(failure({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: 'x' }), {
    code: 'MissingRequest',
    message: /request is "x"/,
  });
  t.equal(failure(review({ uid: '' })).code, 'MissingUid');
  const noUid = review();
  delete (noUid.request as Record<string, unknown>).uid;
  t.equal(failure(noUid).code, 'MissingUid');
});

t.test('malformed request fields name the field and keep the uid', async (t) => {
  t.match(failure(review({ operation: 'PATCH' })), {
    code: 'InvalidRequest',
    uid: UID,
    message: /request.operation must be one of CREATE, UPDATE, DELETE, CONNECT; got "PATCH"/,
  });
  const badKind = review();
  (badKind.request as Record<string, unknown>).kind = 'Pod';
  t.match(failure(badKind), { code: 'InvalidRequest', message: /request.kind must be an object/ });
  t.match(failure(review({ namespace: 7 as unknown as string })), { code: 'InvalidRequest', message: /request.namespace must be a string; got a number/ });
  const badDryRun = review();
  (badDryRun.request as Record<string, unknown>).dryRun = 'yes';
  t.match(failure(badDryRun), { code: 'InvalidRequest', message: /request.dryRun must be a boolean/ });
  t.match(failure(review({ namespace: '' })), { code: 'InvalidRequest', message: /request.namespace is required for a Pod CREATE/ });
  t.match(failure(review({ object: { ...pod(), metadata: 'x' } })), { code: 'InvalidRequest', message: /metadata must be an object/ });
});

t.test('objects that are not a Pod', async (t) => {
  const deployment = review();
  (deployment.request as Record<string, unknown>).kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
  t.match(failure(deployment), { code: 'NotAPod', uid: UID, message: /request.kind is apps\/v1 Deployment/ });
  t.match(failure(review({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } })), {
    code: 'NotAPod',
    message: /request.object has kind "ConfigMap"/,
  });
  t.match(failure(review({ object: undefined })), { code: 'NotAPod', message: /request.object is missing/ });
  t.match(failure(review({ object: [] })), { code: 'NotAPod', message: /request.object is an array/ });
});

t.test('operations other than CREATE need no object; subresources are passed through', async (t) => {
  const del = decodeReview(review({ operation: 'DELETE', object: undefined }));
  t.equal(del.ok, true);
  const binding = review({ subResource: 'binding', object: { apiVersion: 'v1', kind: 'Binding' } });
  (binding.request as Record<string, unknown>).kind = { group: '', version: 'v1', kind: 'Binding' };
  const decoded = decodeReview(binding);
  t.equal(decoded.ok && decoded.request.subResource, 'binding');
});

t.test('answers', async (t) => {
  t.same(allowed('u'), { outcome: 'allowed', httpStatus: 200, response: { uid: 'u', allowed: true } });
  t.same(allowed('u', { warnings: [] }).response, { uid: 'u', allowed: true }, 'no empty warnings list');

  const result = patched('u', samplePatch, { warnings: ['w'] });
  t.equal(result.outcome, 'patched');
  t.equal(result.response.patchType, 'JSONPatch');
  t.same(JSON.parse(Buffer.from(result.response.patch ?? '', 'base64').toString('utf8')), samplePatch);
  t.same(result.response.warnings, ['w']);
  t.same(patched('u', []), allowed('u'), 'an empty patch is a plain allow');

  t.same(denied('u', 'line one\nline two').response, {
    uid: 'u',
    allowed: false,
    status: { code: 403, reason: 'Forbidden', message: 'line one\nline two' },
  });

  const internal = errored('u', new ReviewError('InternalError', 'boom'));
  t.equal(internal.httpStatus, 500);
  t.equal(internal.errorCode, 'InternalError');
  t.same(internal.response.status, { code: 500, reason: 'InternalError', message: 'internal error while reviewing the request: boom' });

  const ensure = errored('u', new ReviewError('EnsureFailed', 'apply timed out'));
  t.equal(ensure.httpStatus, 200, 'answered in the review, so the pod is refused whatever the failurePolicy');
  t.equal(ensure.response.allowed, false);

  t.same(reviewBody(allowed('u')), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } });
});

t.test('a frozen patch is encoded once and reused; a mutable one is encoded every time', async (t) => {
  const decode = (result: ReturnType<typeof patched>) => JSON.parse(Buffer.from(result.response.patch ?? '', 'base64').toString('utf8')) as unknown;
  const frozen = Object.freeze([Object.freeze({ op: 'add' as const, path: '/metadata/labels', value: Object.freeze({ a: 'b' }) })]);
  const first = patched(UID, frozen);
  t.equal(patched('other-uid', frozen).response.patch, first.response.patch, 'same encoding, any uid');
  t.same(decode(first), frozen);
  const mutable: { op: 'add'; path: string; value: unknown }[] = [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }];
  t.same(decode(patched(UID, mutable)), mutable);
  mutable.push({ op: 'add', path: '/metadata/annotations', value: {} });
  t.same(decode(patched(UID, mutable)), mutable, 'a changed array is encoded as it is now');
});
