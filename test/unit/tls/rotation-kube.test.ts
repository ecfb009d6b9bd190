// The Kubernetes adapters of self-managed TLS against a small in-process stand-in for the API
// server: checks the exact requests (paths, verbs, patch types, bodies) and the error mapping.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { ClientNodeCaBundlePublisher, ClientNodeTlsSecretStore } from '../../../src/tls/kube.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const SECRET_PATH = '/api/v1/namespaces/hybrid-secrets/secrets/hybrid-secrets-tls';
const MWC_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/hybrid-secrets';

async function fakeApi(t: { teardown(fn: () => Promise<void>): void }, handle: (seen: Seen, res: ServerResponse) => void): Promise<{ kubeConfig: KubeConfig; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: text === '' ? undefined : JSON.parse(text) };
      seen.push(entry);
      res.setHeader('content-type', 'application/json');
      handle(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return { kubeConfig, seen };
}

const status = (res: ServerResponse, code: number, reason: string, message: string): void => {
  res.statusCode = code;
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
};

t.test('TLS Secret: read decodes, write is a compare-and-swap merge patch', async (t) => {
  const { kubeConfig, seen } = await fakeApi(t, (req, res) => {
    if (req.url.split('?')[0] !== SECRET_PATH) return status(res, 404, 'NotFound', 'not found');
    if (req.method === 'GET') {
      return res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hybrid-secrets-tls', resourceVersion: '7' }, data: { 'tls.crt': b64('CERT'), other: b64('x') } }));
    }
    const body = req.body as { metadata: { resourceVersion: string } };
    if (body.metadata.resourceVersion !== '7') return status(res, 409, 'Conflict', 'the object has been modified');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hybrid-secrets-tls', resourceVersion: '8' } }));
  });
  const store = new ClientNodeTlsSecretStore(kubeConfig, { namespace: 'hybrid-secrets', requestTimeoutMs: 5000 });
  t.same(await store.read(), { data: { 'tls.crt': 'CERT', other: 'x' }, resourceVersion: '7' });

  t.equal(await store.write({ 'tls.crt': 'NEW', 'tls.key': 'KEY' }, '7'), true);
  const patch = seen.at(-1)!;
  t.equal(patch.method, 'PATCH');
  t.equal(patch.contentType, 'application/merge-patch+json');
  const data = (patch.body as { data: Record<string, string | null> }).data;
  t.equal(data['tls.crt'], b64('NEW'));
  t.equal(data['tls.key'], b64('KEY'));
  t.equal(data['next-ca.key'], null, 'keys of ours that are gone are removed');
  t.notOk('other' in data, 'keys that are not ours are left alone');
  t.same((patch.body as { metadata: unknown }).metadata, { resourceVersion: '7' });

  t.equal(await store.write({ 'tls.crt': 'NEW' }, '6'), false, 'a stale version is a lost race, not an error');
});

t.test('TLS Secret: other API errors reject with the API message and the object', async (t) => {
  const { kubeConfig } = await fakeApi(t, (_req, res) => status(res, 403, 'Forbidden', 'secrets "hybrid-secrets-tls" is forbidden'));
  const store = new ClientNodeTlsSecretStore(kubeConfig, { namespace: 'hybrid-secrets', requestTimeoutMs: 5000 });
  const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (error: unknown) => error);
  t.match(await failure(store.read()), { statusCode: 403, message: /^read Secret hybrid-secrets\/hybrid-secrets-tls: secrets "hybrid-secrets-tls" is forbidden$/ });
  t.match(await failure(store.write({}, '1')), { statusCode: 403, message: /^update Secret/ });
});

t.test('caBundle: read needs every webhook to agree; publish patches each webhook at the version read', async (t) => {
  let bundles: (string | undefined)[] = [b64('PEM-A'), b64('PEM-A')];
  const { kubeConfig, seen } = await fakeApi(t, (req, res) => {
    if (req.url.split('?')[0] !== MWC_PATH) return status(res, 404, 'NotFound', 'not found');
    const config = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'hybrid-secrets', resourceVersion: '42' },
      webhooks: bundles.map((caBundle, i) => ({
        name: `w${i}.hybrid-secrets.io`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'NoneOnDryRun',
        clientConfig: { service: { name: 'hybrid-secrets', namespace: 'hybrid-secrets' }, ...(caBundle === undefined ? {} : { caBundle }) },
      })),
    };
    res.end(JSON.stringify(config));
  });
  const publisher = new ClientNodeCaBundlePublisher(kubeConfig, { requestTimeoutMs: 5000 });
  t.equal(await publisher.read(), 'PEM-A');
  bundles = [b64('PEM-A'), undefined];
  t.equal(await publisher.read(), undefined, 'webhooks disagree: publish again');
  bundles = [undefined];
  t.equal(await publisher.read(), undefined, 'unset');

  bundles = [undefined, b64('OLD')];
  await publisher.publish('PEM-B');
  const patch = seen.at(-1)!;
  t.equal(patch.method, 'PATCH');
  t.equal(patch.contentType, 'application/json-patch+json');
  t.same(patch.body, [
    { op: 'test', path: '/metadata/resourceVersion', value: '42' },
    { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: b64('PEM-B') },
    { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: b64('PEM-B') },
  ]);
});
