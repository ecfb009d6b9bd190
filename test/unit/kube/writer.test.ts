import type { KubernetesObject } from '@kubernetes/client-node';
import t from 'tap';
import { createMetrics } from '../../../src/metrics.ts';
import { InformerCache } from '../../../src/kube/cache.ts';
import { KubeObjectWriter, unionOwners } from '../../../src/kube/writer.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';
import { FakeClock, FakeSource, FakeWriteApi, apiError, deferred, flush, silentLogger } from './fakes.ts';
import { appliedRef, generated, owner } from './fixtures.ts';

const cacheTiming = { resyncMs: 600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 60_000, syncTimeoutMs: 90_000 };

async function setup(existing: { es?: KubernetesObject[]; spc?: KubernetesObject[] } = {}) {
  const clock = new FakeClock();
  const api = new FakeWriteApi();
  const metrics = createMetrics();
  const esSource = new FakeSource<KubernetesObject>(existing.es ?? []);
  const spcSource = new FakeSource<KubernetesObject>(existing.spc ?? []);
  const caches = {
    externalSecrets: new InformerCache<KubernetesObject>({ name: 'es', ...cacheTiming }, { clock, logger: silentLogger, makeSource: () => esSource }),
    secretProviderClasses: new InformerCache<KubernetesObject>({ name: 'spc', ...cacheTiming }, { clock, logger: silentLogger, makeSource: () => spcSource }),
  };
  caches.externalSecrets.start();
  caches.secretProviderClasses.start();
  esSource.completeStart();
  spcSource.completeStart();
  await flush();
  const writer = new KubeObjectWriter({ apiDeadlineMs: 2_000 }, { api, caches, clock, metrics, logger: silentLogger });
  const writes = async (result = 'ok') =>
    (await metrics.kubeWrites.get()).values.filter((v) => v.labels.result === result).reduce((sum, v) => sum + v.value, 0);
  return { clock, api, metrics, caches, writer, esSource, spcSource, writes };
}

const signal = () => new AbortController().signal;

function cachedCopy(objects: ReturnType<typeof generated>, kind: 'externalSecret' | 'secretProviderClass', owners = [owner('web-1')]): KubernetesObject {
  const object = objects[kind];
  return { ...object, metadata: { ...object.metadata, resourceVersion: '5', uid: `u-${kind}`, ownerReferences: owners } } as KubernetesObject;
}

t.test('applies the ExternalSecret, then the SecretProviderClass, with the owner', async (t) => {
  const { api, writer, writes } = await setup();
  const objects = generated({ owner: owner('web-1') });
  await writer.ensure(objects, { signal: signal() });
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass']);
  for (const applied of api.applied) {
    t.same(applied.metadata.ownerReferences, [appliedRef(owner('web-1'))]);
    t.equal(applied.metadata.labels['hybrid-secrets.io/spec-hash'], 'abc123');
    t.same(applied.spec, applied.kind === 'ExternalSecret' ? objects.externalSecret.spec : objects.secretProviderClass.spec);
  }
  t.equal(await writes(), 2);
});

t.test('no write when the cache holds both objects with the same hash and the owner', async (t) => {
  const objects = generated({ owner: owner('web-1') });
  const { api, writer } = await setup({
    es: [cachedCopy(objects, 'externalSecret')],
    spc: [cachedCopy(objects, 'secretProviderClass')],
  });
  await writer.ensure(objects, { signal: signal() });
  await writer.ensure(generated(), { signal: signal() });
  t.equal(api.applied.length, 0);
  t.equal(writer.state(objects), 'current');
});

t.test('the next ensure skips the write thanks to the assumed result', async (t) => {
  const { api, writer } = await setup();
  const objects = generated({ owner: owner('web-1') });
  await writer.ensure(objects, { signal: signal() });
  await writer.ensure(objects, { signal: signal() });
  t.equal(api.applied.length, 2, 'one write per kind in total');
});

t.test('100 concurrent ensures of one spec cost one write per kind', async (t) => {
  const { api, writer, writes } = await setup();
  const gate = deferred();
  api.respond = () => gate.promise;
  const objects = generated({ owner: owner('web-1') });
  const all = Promise.all(Array.from({ length: 100 }, () => writer.ensure(objects, { signal: signal() })));
  await flush();
  gate.resolve();
  await all;
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass']);
  t.equal(await writes(), 2);
});

t.test('a new owner is applied together with every cached owner', async (t) => {
  const objects = generated({ owner: owner('web-2') });
  const { api, writer } = await setup({
    es: [cachedCopy(objects, 'externalSecret', [owner('web-1')])],
    spc: [cachedCopy(objects, 'secretProviderClass', [owner('web-1')])],
  });
  t.equal(writer.state(objects), 'owner-missing');
  await writer.ensure(objects, { signal: signal() });
  t.equal(api.applied.length, 2);
  for (const applied of api.applied) t.same(applied.metadata.ownerReferences?.map((o) => o.name), ['web-1', 'web-2']);
});

t.test('concurrent ensures for different owners do not drop each other', async (t) => {
  const { api, writer } = await setup();
  const gate = deferred();
  api.respond = () => gate.promise;
  const first = writer.ensure(generated({ owner: owner('rs-a') }), { signal: signal() });
  const second = writer.ensure(generated({ owner: owner('rs-b') }), { signal: signal() });
  await flush();
  t.equal(api.applied.length, 1, 'the second waits for the running write');
  api.respond = async () => undefined;
  gate.resolve();
  await Promise.all([first, second]);
  const last = api.applied.slice(-2);
  t.same(last.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass']);
  for (const applied of last) t.same(applied.metadata.ownerReferences?.map((o) => o.name), ['rs-a', 'rs-b']);
  t.equal(api.applied.length, 4);
});

t.test('only the object that lacks the owner or hash is written', async (t) => {
  const objects = generated({ owner: owner('web-1') });
  const { api, writer } = await setup({ es: [cachedCopy(objects, 'externalSecret')] });
  t.equal(writer.state(objects), 'missing');
  await writer.ensure(objects, { signal: signal() });
  t.same(api.applied.map((o) => o.kind), ['SecretProviderClass']);
});

t.test('an ExternalSecret refusal names the object, carries the API message, and writes no SPC', async (t) => {
  const { api, writer, writes } = await setup();
  api.respond = async (object) => {
    if (object.kind === 'ExternalSecret') throw apiError(400, 'admission webhook "validate.externalsecret.external-secrets.io" denied the request: bad');
  };
  await t.rejects(writer.ensure(generated({ owner: owner('web-1') }), { signal: signal() }), {
    message: 'cannot apply ExternalSecret team-a/web-abc123: admission webhook "validate.externalsecret.external-secrets.io" denied the request: bad',
    statusCode: 400,
  });
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret']);
  t.equal(await writes('error'), 1);
});

t.test('an SPC failure after the ExternalSecret applied still rejects', async (t) => {
  const { api, writer } = await setup();
  api.respond = async (object) => {
    if (object.kind === 'SecretProviderClass') throw apiError(403, 'secretproviderclasses is forbidden');
  };
  await t.rejects(writer.ensure(generated(), { signal: signal() }), {
    message: 'cannot apply SecretProviderClass team-a/web-abc123: secretproviderclasses is forbidden',
  });
  api.respond = async () => undefined;
  await writer.ensure(generated(), { signal: signal() });
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass', 'SecretProviderClass'], 'a retry only writes what is missing');
});

t.test('every waiter of a shared write gets its failure; a later ensure retries', async (t) => {
  const { api, writer } = await setup();
  const gate = deferred();
  api.respond = () => gate.promise;
  const a = writer.ensure(generated(), { signal: signal() });
  const b = writer.ensure(generated(), { signal: signal() });
  await flush();
  gate.reject(apiError(409, 'Operation cannot be fulfilled'));
  await t.rejects(a, /cannot apply ExternalSecret team-a\/web-abc123: Operation cannot be fulfilled/);
  await t.rejects(b, /Operation cannot be fulfilled/);
  api.respond = async () => undefined;
  await writer.ensure(generated(), { signal: signal() });
  t.equal(api.applied.length, 3);
});

t.test('a slow API fails the ensure at apiDeadlineMs with a clear message', async (t) => {
  const { api, writer, clock } = await setup();
  api.respond = (_object, signal) =>
    new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  const pending = writer.ensure(generated(), { signal: signal() });
  const outcome = t.rejects(pending, {
    message: 'cannot apply ExternalSecret team-a/web-abc123: no answer from the Kubernetes API within 2000 ms',
  });
  await clock.advance(2_000);
  await outcome;
});

t.test("a caller's abort stops its wait but not the shared write", async (t) => {
  const { api, writer } = await setup();
  const gate = deferred();
  api.respond = () => gate.promise;
  const impatient = new AbortController();
  const a = writer.ensure(generated(), { signal: impatient.signal });
  const b = writer.ensure(generated(), { signal: signal() });
  await flush();
  impatient.abort(new Error('review deadline'));
  await t.rejects(a, /review deadline/);
  gate.resolve();
  await b;
  t.equal(api.applied.length, 2);
});

t.test('an already aborted signal writes nothing', async (t) => {
  const { api, writer } = await setup();
  const controller = new AbortController();
  controller.abort(new KubeApiError('gone'));
  await t.rejects(writer.ensure(generated(), { signal: controller.signal }), /gone/);
  t.equal(api.applied.length, 0);
});

t.test('a different spec hash under the same name is rewritten', async (t) => {
  const old = generated({ specHash: 'old111' });
  const { api, writer } = await setup({
    es: [cachedCopy(old, 'externalSecret', [])],
    spc: [cachedCopy(old, 'secretProviderClass', [])],
  });
  t.equal(writer.state(generated()), 'stale');
  await writer.ensure(generated(), { signal: signal() });
  t.equal(api.applied.length, 2);
});

t.test('unionOwners merges by uid in a stable order', async (t) => {
  const a = { metadata: { ownerReferences: [{ ...owner('b', 'uid-2'), controller: true }, owner('a', 'uid-1')] } };
  const b = { metadata: { ownerReferences: [owner('a', 'uid-1')] } };
  t.same(unionOwners([a, b, undefined], owner('c', 'uid-3')), [owner('a', 'uid-1'), owner('b', 'uid-2'), owner('c', 'uid-3')]);
  t.same(unionOwners([], undefined), []);
});
