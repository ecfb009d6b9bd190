// The admission server over real HTTPS: TLS policy, the real core on the example stores, every
// bad-input class, and concurrent reviews on keep-alive connections.
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { connect } from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { FileTlsSource } from '../../src/tls/reloader.ts';
import { EXAMPLE_REVIEWS, send, startServer, tlsDirectory } from './fixtures/https.ts';
import { captureLogger } from '../unit/server/fixtures/reviews.ts';

const tlsFiles = await tlsDirectory();
t.teardown(() => tlsFiles.remove());
const tls = await FileTlsSource.open({ ...tlsFiles, log: captureLogger().logger, pollIntervalMs: 0 });
t.teardown(() => tls.close());
const server = await startServer({ tls, server: { bodyLimitBytes: 256 * 1024 } });
t.teardown(() => server.app.close());
const ca = tlsFiles.certificates.ca.certPem;
const example = async (name: string): Promise<string> => readFile(`${EXAMPLE_REVIEWS}${name}`, 'utf8');

t.test('TLS: 1.2 and 1.3 are served, 1.1 is refused, the certificate verifies as localhost', async (t) => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const socket = connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca, minVersion: version, maxVersion: version });
    await once(socket, 'secureConnect');
    t.equal(socket.authorized, true, `${version} verified`);
    t.equal(socket.getProtocol(), version);
    socket.destroy();
  }
  const old = connect({
    host: '127.0.0.1',
    port: server.port,
    servername: 'localhost',
    ca,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  const [error] = (await once(old, 'error')) as [NodeJS.ErrnoException];
  t.match(error.code, /ERR_SSL|ECONNRESET|EPROTO/, 'TLS 1.1 handshake fails');
  old.destroy();
  // OpenSSL's defaults refuse TLS 1.1 too; the server's own floor is what must not regress.
  t.equal((server.app.server as unknown as { minVersion?: string }).minVersion, 'TLSv1.2');
});

t.test('an example Pod CREATE gets the patch from the real core', async (t) => {
  const answer = await send(server.port, await example('pod-create.json'), { ca });
  t.equal(answer.statusCode, 200);
  const { apiVersion, kind, response } = answer.json();
  t.equal(apiVersion, 'admission.k8s.io/v1');
  t.equal(kind, 'AdmissionReview');
  t.equal(response.uid, '3b1f0c2e-7a5d-4e8b-9c6f-1d2e3f4a5b6c');
  t.equal(response.allowed, true);
  t.equal(response.patchType, 'JSONPatch');
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
  t.ok(Array.isArray(patch) && patch.length > 0);
  t.ok(
    patch.some((op: { path: string; value?: unknown }) => op.path === '/spec/volumes' && JSON.stringify(op.value).includes('secrets-store.csi.k8s.io')),
    'adds the CSI volume',
  );
  t.match(server.logLines().filter((line) => line.msg === 'standalone: not creating the generated objects (no cluster)'), [
    { externalSecret: /^shop\/web-/ },
  ]);
});

t.test('the example denial lists every problem, one line each, naming the annotation', async (t) => {
  const { response } = (await send(server.port, await example('pod-denied.json'), { ca })).json();
  t.equal(response.allowed, false);
  t.equal(response.status.code, 403);
  const lines: string[] = response.status.message.split('\n');
  t.equal(lines.length, 4);
  for (const line of lines) t.match(line, /^hybrid-secrets\.io\/[a-z-./]+: /);
  t.match(response.warnings, [/hybrid-secrets.io\/colour/]);
});

t.test('dry-run answers the same and creates nothing; an unselected pod passes untouched', async (t) => {
  const before = server.logLines().length;
  const dry = (await send(server.port, await example('pod-dry-run.json'), { ca })).json().response;
  t.equal(dry.allowed, true);
  t.equal(dry.patchType, 'JSONPatch');
  const created = server.logLines().slice(before).filter((line) => String(line.msg).startsWith('standalone:'));
  t.same(created, [], 'the writer was not called');
  const plain = (await send(server.port, await example('pod-not-selected.json'), { ca })).json().response;
  t.same(plain, { uid: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', allowed: true });
});

t.test('every bad-input class over the wire: a JSON review error with a stable code, and no crash', async (t) => {
  const valid = await example('pod-create.json');
  const withRequest = (change: (request: Record<string, unknown>) => void): string => {
    const body = JSON.parse(valid);
    change(body.request);
    return JSON.stringify(body);
  };
  const cases: { name: string; body: string | Buffer | undefined; contentType?: string | null; status: number; code: string; uid?: string }[] = [
    { name: 'no content type', body: valid, contentType: null, status: 415, code: 'UnsupportedMediaType' },
    { name: 'text/plain', body: valid, contentType: 'text/plain', status: 415, code: 'UnsupportedMediaType' },
    { name: 'form', body: 'a=b', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'UnsupportedMediaType' },
    { name: 'no body', body: undefined, status: 400, code: 'EmptyBody' },
    { name: 'empty body', body: '', status: 400, code: 'EmptyBody' },
    { name: 'malformed JSON', body: valid.slice(0, 100), status: 400, code: 'MalformedJson' },
    { name: 'JSON null', body: 'null', status: 400, code: 'EmptyBody' },
    { name: 'over the body limit', body: Buffer.alloc(300 * 1024, 0x20), status: 413, code: 'BodyTooLarge' },
    { name: 'another kind', body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod' }), status: 400, code: 'NotAReview' },
    { name: 'v1beta1', body: valid.replace('"admission.k8s.io/v1"', '"admission.k8s.io/v1beta1"'), status: 400, code: 'NotAReview' },
    { name: 'no request', body: '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', status: 400, code: 'MissingRequest' },
    { name: 'no uid', body: withRequest((r) => delete r.uid), status: 400, code: 'MissingUid' },
    {
      name: 'a Deployment',
      body: withRequest((r) => (r.kind = { group: 'apps', version: 'v1', kind: 'Deployment' })),
      status: 400,
      code: 'NotAPod',
      uid: '3b1f0c2e-7a5d-4e8b-9c6f-1d2e3f4a5b6c',
    },
    {
      name: 'object not a Pod',
      body: withRequest((r) => (r.object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })),
      status: 400,
      code: 'NotAPod',
      uid: '3b1f0c2e-7a5d-4e8b-9c6f-1d2e3f4a5b6c',
    },
  ];
  for (const { name, body, contentType, status, code, uid } of cases) {
    const answer = await send(server.port, body, { ca, ...(contentType === undefined ? {} : { contentType }) });
    t.equal(answer.statusCode, status, `${name}: HTTP ${status}`);
    t.match(answer.headers['content-type'], /^application\/json/, `${name}: JSON`);
    const { kind, response } = answer.json();
    t.equal(kind, 'AdmissionReview', `${name}: a review`);
    t.match(response, { uid: uid ?? '', allowed: false, status: { code: status, reason: code, message: String } }, `${name}: ${code}`);
  }
  const health = await send(server.port, undefined, { ca, method: 'GET', path: '/healthz' });
  t.equal(health.statusCode, 200, 'still alive');
});

t.test('concurrent reviews on keep-alive connections are each answered with their own uid', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  t.teardown(() => agent.destroy());
  const template = JSON.parse(await example('pod-create.json'));
  const count = 200;
  const answers = await Promise.all(
    Array.from({ length: count }, (_, index) => {
      const body = structuredClone(template);
      body.request.uid = `uid-${index}`;
      body.request.dryRun = index % 2 === 0;
      return send(server.port, JSON.stringify(body), { ca, agent });
    }),
  );
  t.equal(answers.filter((answer) => answer.statusCode === 200).length, count, 'all answered');
  t.same(
    answers.map((answer) => answer.json().response.uid),
    Array.from({ length: count }, (_, index) => `uid-${index}`),
    'each with its own uid',
  );
  const patches = new Set(answers.map((answer) => answer.json().response.patch));
  t.equal(patches.size, 1, 'the same pod gets the same patch every time');
  const metrics = await send(server.port, undefined, { ca, method: 'GET', path: '/metrics' });
  t.match(metrics.body, /hybrid_secrets_admission_reviews_total\{outcome="patched"\} \d+/);
});
