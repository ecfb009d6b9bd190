// The @kubernetes/client-node implementations against a local HTTP stub: checks the requests
// they send (paths, query, content type, bodies) and how they read answers. The stub is not a
// Kubernetes API server; behaviour of a real one is covered by the end-to-end suite.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { ClientNodeLeaseApi, ClientNodeWriteApi, clientNodeInformerSources } from '../../../src/kube/api.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';
import { generated, owner } from './fixtures.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

type Handler = (request: Seen, response: ServerResponse) => void;

async function stubServer(t: { teardown(fn: () => void): void }, handler: Handler) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body };
      seen.push(request);
      handler(request, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'stub', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'c', cluster: 'stub', user: 'u' }],
    currentContext: 'c',
  });
  return { kubeConfig, seen };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const signal = () => new AbortController().signal;

t.test('apply is a forced server-side apply with our field manager', async (t) => {
  const { kubeConfig, seen } = await stubServer(t, (req, res) => json(res, 200, { ...JSON.parse(req.body), metadata: { ...JSON.parse(req.body).metadata, resourceVersion: '7' } }));
  const api = new ClientNodeWriteApi(kubeConfig);
  const objects = generated({ owner: owner('web-1') });
  const body = { ...objects.externalSecret, metadata: { ...objects.externalSecret.metadata, ownerReferences: [owner('web-1')] } };
  const stored = await api.apply(body, signal());
  t.equal(stored.metadata?.resourceVersion, '7');
  const [request] = seen;
  t.equal(request!.method, 'PATCH');
  const url = new URL(request!.url, 'http://x');
  t.equal(url.pathname, '/apis/external-secrets.io/v1/namespaces/team-a/externalsecrets/web-abc123');
  t.equal(url.searchParams.get('fieldManager'), 'hybrid-secrets');
  t.equal(url.searchParams.get('force'), 'true');
  t.equal(request!.contentType, 'application/apply-patch+yaml');
  t.same(JSON.parse(request!.body), body, 'the whole object is sent as is');

  await api.apply(objects.secretProviderClass, signal());
  t.equal(new URL(seen[1]!.url, 'http://x').pathname, '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/team-a/secretproviderclasses/web-abc123');
});

t.test("API refusals become a KubeApiError with the Status message", async (t) => {
  const { kubeConfig } = await stubServer(t, (_req, res) =>
    json(res, 403, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'externalsecrets.external-secrets.io "web-abc123" is forbidden: User "system:serviceaccount:x:y" cannot patch resource',
    }),
  );
  const api = new ClientNodeWriteApi(kubeConfig);
  const error = await api.apply(generated().externalSecret, signal()).catch((e: unknown) => e);
  t.type(error, KubeApiError);
  t.match(error, {
    statusCode: 403,
    reason: 'Forbidden',
    message: 'externalsecrets.external-secrets.io "web-abc123" is forbidden: User "system:serviceaccount:x:y" cannot patch resource',
  });
});

t.test('an aborted signal ends a hung request', async (t) => {
  const { kubeConfig } = await stubServer(t, () => undefined);
  const api = new ClientNodeWriteApi(kubeConfig);
  const controller = new AbortController();
  const pending = api.apply(generated().externalSecret, controller.signal).catch((e: unknown) => e);
  setImmediate(() => controller.abort(new KubeApiError('no answer from the Kubernetes API within 5 ms')));
  const error = await pending;
  t.type(error, KubeApiError);
  t.match(error, { message: 'no answer from the Kubernetes API within 5 ms' });
});

t.test('delete sends uid and resourceVersion preconditions; 404 is success', async (t) => {
  let status = 200;
  const { kubeConfig, seen } = await stubServer(t, (_req, res) => json(res, status, { kind: 'Status', status: status === 200 ? 'Success' : 'Failure', code: status, message: 'x' }));
  const api = new ClientNodeWriteApi(kubeConfig);
  await api.delete({ kind: 'SecretProviderClass', namespace: 'team-a', name: 'web-abc123' }, { uid: 'u1', resourceVersion: '42' }, signal());
  t.equal(seen[0]!.method, 'DELETE');
  t.equal(new URL(seen[0]!.url, 'http://x').pathname, '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/team-a/secretproviderclasses/web-abc123');
  t.match(JSON.parse(seen[0]!.body), { preconditions: { uid: 'u1', resourceVersion: '42' } });
  status = 404;
  await t.resolves(api.delete({ kind: 'ExternalSecret', namespace: 'team-a', name: 'gone' }, { uid: 'u', resourceVersion: '1' }, signal()));
  status = 409;
  await t.rejects(api.delete({ kind: 'ExternalSecret', namespace: 'team-a', name: 'changed' }, { uid: 'u', resourceVersion: '1' }, signal()), { statusCode: 409, message: 'x' });
});

t.test('events are created in the subject namespace', async (t) => {
  const { kubeConfig, seen } = await stubServer(t, (req, res) => json(res, 201, JSON.parse(req.body)));
  const api = new ClientNodeWriteApi(kubeConfig);
  await api.createEvent(
    { metadata: { name: 'web.1', namespace: 'team-a' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'team-a' }, reason: 'R', message: 'm', type: 'Normal' },
    signal(),
  );
  t.equal(seen[0]!.method, 'POST');
  t.equal(seen[0]!.url, '/api/v1/namespaces/team-a/events');
});

t.test('lease: read (404 → none), create and replace with microsecond times', async (t) => {
  const leases: Record<string, unknown> = {};
  const { kubeConfig, seen } = await stubServer(t, (req, res) => {
    if (req.method === 'GET') {
      if (leases.current === undefined) json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
      else json(res, 200, leases.current);
      return;
    }
    const body = JSON.parse(req.body) as { metadata: Record<string, unknown> };
    leases.current = { ...body, metadata: { ...body.metadata, resourceVersion: String(seen.length) } };
    json(res, req.method === 'POST' ? 201 : 200, leases.current);
  });
  const api = new ClientNodeLeaseApi(kubeConfig, { namespace: 'hs', name: 'hybrid-secrets' });
  t.equal(await api.read(signal()), undefined);
  const record = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTimeMs: Date.UTC(2026, 0, 1, 12, 0, 0, 123), renewTimeMs: Date.UTC(2026, 0, 1, 12, 0, 1, 456), leaseTransitions: 0 };
  const created = await api.create(record, signal());
  t.same(created.record, record, 'round-trips');
  t.equal(seen[1]!.url, '/apis/coordination.k8s.io/v1/namespaces/hs/leases');
  const sent = JSON.parse(seen[1]!.body) as { spec: { renewTime: string } };
  t.equal(sent.spec.renewTime, '2026-01-01T12:00:01.456000Z', 'MicroTime format');
  const replaced = await api.replace({ ...record, holderIdentity: 'b' }, created.resourceVersion, signal());
  t.equal(seen[2]!.method, 'PUT');
  t.equal(seen[2]!.url, '/apis/coordination.k8s.io/v1/namespaces/hs/leases/hybrid-secrets');
  t.match(JSON.parse(seen[2]!.body), { metadata: { resourceVersion: created.resourceVersion }, spec: { holderIdentity: 'b' } });
  t.equal((await api.read(signal()))?.record.holderIdentity, 'b');
  t.not(replaced.resourceVersion, created.resourceVersion);
});

t.test('the generated-object informer lists and watches only our objects', async (t) => {
  const { kubeConfig, seen } = await stubServer(t, (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'b', namespace: 'ns', resourceVersion: '11' } } })}\n`);
      return; // keep the watch open
    }
    json(res, 200, { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecretList', metadata: { resourceVersion: '10' }, items: [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '9' } }] });
  });
  const source = clientNodeInformerSources(kubeConfig).externalSecrets();
  const added = new Promise<string>((resolve) => source.on('add', (o) => o.metadata?.name === 'b' && resolve('b')));
  await source.start();
  t.equal(source.get('a', 'ns')?.metadata?.name, 'a');
  t.equal(await added, 'b');
  const [list, watch] = seen.map((s) => new URL(s.url, 'http://x'));
  t.equal(list!.pathname, '/apis/external-secrets.io/v1/externalsecrets');
  t.equal(list!.searchParams.get('labelSelector'), 'app.kubernetes.io/managed-by=hybrid-secrets');
  t.equal(watch!.searchParams.get('labelSelector'), 'app.kubernetes.io/managed-by=hybrid-secrets');
  t.equal(watch!.searchParams.get('resourceVersion'), '10');
  await source.stop();
});
