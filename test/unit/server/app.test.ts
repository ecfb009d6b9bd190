import t from 'tap';
import { createWebhookCertificates } from '../../../src/tls/certificates.ts';
import { TlsMaterialHolder } from '../../../src/tls/source.ts';
import { testApp } from './fixtures/app.ts';
import { review } from './fixtures/reviews.ts';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

/** `contentType` null sends no Content-Type header at all. */
function post(payload: string | Buffer, contentType: string | null = 'application/json') {
  return {
    method: 'POST' as const,
    url: '/mutate',
    payload,
    headers: contentType === null ? {} : { 'content-type': contentType },
  };
}

t.test('POST /mutate answers an AdmissionReview, echoing apiVersion and uid', async (t) => {
  const { app, logLines } = testApp();
  t.teardown(() => app.close());
  const response = await app.inject(post(JSON.stringify(review())));
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  const body = response.json();
  t.equal(body.apiVersion, 'admission.k8s.io/v1');
  t.equal(body.kind, 'AdmissionReview');
  t.equal(body.response.uid, UID);
  t.equal(body.response.allowed, true);
  t.equal(body.response.patchType, 'JSONPatch');
  const reviewLines = logLines().filter((line) => line.msg === 'review');
  t.equal(reviewLines.length, 1, 'exactly one log line for the review');
  t.match(reviewLines[0], { uid: UID, outcome: 'patched', reqId: String });
});

t.test('the query string the API server adds (?timeout=10s) changes nothing', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  const ok = await app.inject({ ...post(JSON.stringify(review())), url: '/mutate?timeout=10s' });
  t.equal(ok.statusCode, 200);
  t.equal(ok.json().response.uid, UID);
  const empty = await app.inject({ ...post(''), url: '/mutate?timeout=10s' });
  t.equal(empty.statusCode, 400);
  t.equal(empty.json().response.status.reason, 'EmptyBody', 'parse errors are answered as reviews there too');
});

t.test('the caller timeout from ?timeout= reaches the admission handler', async (t) => {
  const seen: (number | undefined)[] = [];
  const { app } = testApp({
    admission: async (request, context) => {
      seen.push(context.callerTimeoutMs);
      return { outcome: 'allowed', httpStatus: 200, response: { uid: request.uid, allowed: true } };
    },
  });
  t.teardown(() => app.close());
  for (const url of ['/mutate?timeout=3s', '/mutate', '/mutate?timeout=soon']) {
    await app.inject({ ...post(JSON.stringify(review())), url });
  }
  t.same(seen, [3_000, undefined, undefined]);
});

t.test('a content type with a charset is accepted', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  const response = await app.inject(post(JSON.stringify(review()), 'application/json; charset=utf-8'));
  t.equal(response.statusCode, 200);
});

t.test('every bad-input class gets a clear JSON error with a stable code', async (t) => {
  const { app } = testApp({ server: { bodyLimitBytes: 64 * 1024 } });
  t.teardown(() => app.close());
  const oversize = JSON.stringify({ ...review(), padding: 'x'.repeat(70 * 1024) });
  const cases: { name: string; request: ReturnType<typeof post>; status: number; code: string; uid?: string }[] = [
    { name: 'text/plain', request: post(JSON.stringify(review()), 'text/plain'), status: 415, code: 'UnsupportedMediaType' },
    { name: 'yaml', request: post('kind: AdmissionReview', 'application/yaml'), status: 415, code: 'UnsupportedMediaType' },
    { name: 'no content type', request: post(JSON.stringify(review()), null), status: 415, code: 'UnsupportedMediaType' },
    { name: 'empty body', request: post('', 'application/json'), status: 400, code: 'EmptyBody' },
    { name: 'malformed JSON', request: post('{"apiVersion":', 'application/json'), status: 400, code: 'MalformedJson' },
    { name: 'prototype poisoning', request: post('{"__proto__":{"x":1}}', 'application/json'), status: 400, code: 'MalformedJson' },
    { name: 'too large', request: post(oversize), status: 413, code: 'BodyTooLarge' },
    { name: 'JSON array', request: post('[]'), status: 400, code: 'NotAReview' },
    { name: 'wrong version', request: post(JSON.stringify({ ...review(), apiVersion: 'admission.k8s.io/v1beta1' })), status: 400, code: 'NotAReview' },
    { name: 'no request', request: post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })), status: 400, code: 'MissingRequest' },
    { name: 'no uid', request: post(JSON.stringify(review({ uid: '' }))), status: 400, code: 'MissingUid' },
    {
      name: 'not a pod',
      request: post(JSON.stringify(review({ object: { apiVersion: 'v1', kind: 'Secret', metadata: {} } }))),
      status: 400,
      code: 'NotAPod',
      uid: UID,
    },
  ];
  for (const { name, request, status, code, uid } of cases) {
    const response = await app.inject(request);
    t.equal(response.statusCode, status, `${name}: HTTP status`);
    const body = response.json();
    t.equal(body.kind, 'AdmissionReview', `${name}: answered as a review`);
    t.equal(body.response.allowed, false, `${name}: not allowed`);
    t.equal(body.response.status.reason, code, `${name}: code`);
    t.equal(body.response.status.code, status, `${name}: status code in the review`);
    t.equal(body.response.uid, uid ?? '', `${name}: uid`);
    t.type(body.response.status.message, 'string');
  }
  const tooLarge = await app.inject(post(oversize));
  t.match(tooLarge.json().response.status.message, /larger than the limit: 65536 bytes/);
});

t.test('a handler that throws becomes a 500 carrying the uid; the server keeps serving', async (t) => {
  let calls = 0;
  const { app } = testApp({
    admission: async (request) => {
      calls++;
      if (calls === 1) throw new Error('bug');
      return { outcome: 'allowed', httpStatus: 200, response: { uid: request.uid, allowed: true } };
    },
  });
  t.teardown(() => app.close());
  const failed = await app.inject(post(JSON.stringify(review())));
  t.equal(failed.statusCode, 500);
  t.match(failed.json().response, { uid: UID, allowed: false, status: { code: 500, reason: 'InternalError' } });
  const next = await app.inject(post(JSON.stringify(review())));
  t.equal(next.statusCode, 200);
});

t.test('a framework failure on /mutate is still answered, logged and counted as a review', async (t) => {
  const { app, logLines, metrics } = testApp();
  t.teardown(() => app.close());
  app.addHook('preHandler', async () => {
    throw new Error('hook failed');
  });
  const response = await app.inject(post(JSON.stringify(review())));
  t.equal(response.statusCode, 500);
  t.match(response.json(), { kind: 'AdmissionReview', response: { allowed: false, status: { code: 500, reason: 'InternalError' } } });
  t.match(logLines(), [{ msg: 'review request failed', err: { message: 'hook failed' } }, { msg: 'review', outcome: 'errored' }]);
  t.match(await metrics.registry.metrics(), /hybrid_secrets_errors_total\{code="InternalError"\} 1/);
});

t.test('only POST /mutate reviews', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/mutate' })).statusCode, 404);
  t.equal((await app.inject(Object.assign(post(JSON.stringify(review())), { url: '/validate' }))).statusCode, 404);
});

t.test('/healthz is alive; /readyz needs a certificate and a ready runtime', async (t) => {
  const tls = new TlsMaterialHolder();
  let runtimeReady = false;
  const { app } = testApp({ tls, runtimeReady: () => runtimeReady });
  t.teardown(() => app.close());
  t.same((await app.inject('/healthz')).json(), { status: 'ok' });
  const notReady = await app.inject('/readyz');
  t.equal(notReady.statusCode, 503);
  t.same(notReady.json(), { status: 'not ready', failing: ['tls', 'runtime'] });
  const { serving } = await createWebhookCertificates({ service: 'hs', namespace: 'sys', now: new Date() });
  tls.set({ cert: serving.certPem, key: serving.keyPem });
  t.same((await app.inject('/readyz')).json().failing, ['runtime']);
  runtimeReady = true;
  const ready = await app.inject('/readyz');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready' });
});

t.test('/metrics exposes the review counters in Prometheus format', async (t) => {
  const { app } = testApp();
  t.teardown(() => app.close());
  await app.inject(post(JSON.stringify(review())));
  await app.inject(post('', 'application/json'));
  const response = await app.inject('/metrics');
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/plain/);
  t.match(response.body, /hybrid_secrets_admission_reviews_total\{outcome="patched"\} 1/);
  t.match(response.body, /hybrid_secrets_admission_reviews_total\{outcome="errored"\} 1/);
  t.match(response.body, /hybrid_secrets_errors_total\{code="EmptyBody"\} 1/);
  t.match(response.body, /hybrid_secrets_injections_total\{namespace="team-a"\} 1/);
});
