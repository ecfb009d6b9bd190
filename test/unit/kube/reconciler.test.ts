import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { createMetrics } from '../../../src/metrics.ts';
import { InformerCache } from '../../../src/kube/cache.ts';
import { EventRecorder } from '../../../src/kube/events.ts';
import { Reconciler, referencedNames } from '../../../src/kube/reconciler.ts';
import { KubeObjectWriter } from '../../../src/kube/writer.ts';
import { FakeClock, FakeSource, FakeWriteApi, apiError, deferred, flush, silentLogger } from './fakes.ts';
import { appliedRef, generated, owner } from './fixtures.ts';

const GRACE_MS = 10 * 60_000;
const timing = { resyncMs: 3_600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 60_000, syncTimeoutMs: 90_000 };

function pod(options: { name?: string; controller?: boolean; injected?: boolean; mounts?: string; phase?: string; deleting?: boolean; namespace?: string } = {}): V1Pod {
  const name = options.name ?? 'web-7d9f-abcde';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: options.namespace ?? 'team-a',
      uid: `uid-${name}`,
      annotations: options.injected === false ? {} : { 'hybrid-secrets.io/inject': 'true', 'hybrid-secrets.io/status': 'injected' },
      ownerReferences: options.controller === false ? undefined : [{ ...owner('web-7d9f'), controller: true }],
      deletionTimestamp: options.deleting === true ? new Date(0) : undefined,
    },
    spec: {
      containers: [{ name: 'app' }],
      volumes: [
        {
          name: 'hybrid-secrets',
          csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: options.mounts ?? 'web-abc123' } },
        },
      ],
    },
    status: { phase: options.phase ?? 'Running' },
  };
}

/** What the core renders for our test pods: owner = the pod's controller, if any. */
function renderForPod(p: V1Pod) {
  const controller = p.metadata?.ownerReferences?.find((r) => r.controller === true);
  return generated({ owner: controller === undefined ? undefined : owner(controller.name, controller.uid) });
}

function stored(kind: 'externalSecret' | 'secretProviderClass', options: { owners?: ReturnType<typeof owner>[]; name?: string; createdMs?: number; uid?: string } = {}): KubernetesObject {
  const base = generated({ name: options.name })[kind];
  return {
    ...base,
    metadata: {
      ...base.metadata,
      uid: options.uid ?? `${kind}-${options.name ?? 'web-abc123'}`,
      resourceVersion: '42',
      creationTimestamp: new Date(options.createdMs ?? 0),
      ownerReferences: options.owners ?? [],
    },
  } as KubernetesObject;
}

async function setup(state: { pods?: V1Pod[]; es?: KubernetesObject[]; spc?: KubernetesObject[]; render?: ((p: V1Pod) => ReturnType<typeof renderForPod> | undefined) | 'none' } = {}) {
  const clock = new FakeClock();
  const api = new FakeWriteApi();
  const metrics = createMetrics();
  const podSource = new FakeSource<V1Pod>(state.pods ?? []);
  const esSource = new FakeSource<KubernetesObject>(state.es ?? []);
  const spcSource = new FakeSource<KubernetesObject>(state.spc ?? []);
  const cache = <T extends KubernetesObject>(name: string, source: FakeSource<T>) =>
    new InformerCache<T>({ name, ...timing }, { clock, logger: silentLogger, makeSource: () => source });
  const pods = cache('pods', podSource);
  const generatedCaches = { externalSecrets: cache('es', esSource), secretProviderClasses: cache('spc', spcSource) };
  for (const [c, s] of [[pods, podSource], [generatedCaches.externalSecrets, esSource], [generatedCaches.secretProviderClasses, spcSource]] as const) {
    c.start();
    s.completeStart();
  }
  await flush();
  const writer = new KubeObjectWriter({ apiDeadlineMs: 2_000 }, { api, caches: generatedCaches, clock, metrics, logger: silentLogger });
  const events = new EventRecorder({ instance: 'replica-0', dedupeMs: 300_000, apiDeadlineMs: 2_000 }, { api, clock, logger: silentLogger });
  const reconciler = new Reconciler(
    { intervalMs: 60_000, debounceMs: 1_000, orphanGraceMs: GRACE_MS, apiDeadlineMs: 2_000 },
    { pods, generated: generatedCaches, writer, api, events, renderForPod: state.render === 'none' ? undefined : (state.render ?? renderForPod), clock, logger: silentLogger, metrics },
  );
  const actions = async () =>
    Object.fromEntries((await metrics.reconcileActions.get()).values.map((v) => [`${v.labels.action}:${v.labels.result}`, v.value]));
  return { clock, api, metrics, reconciler, podSource, esSource, spcSource, pods, actions, generatedCaches };
}

const live = () => new AbortController().signal;

t.test('heal: recreates missing objects of an injected pod and records an event on it', async (t) => {
  const { api, reconciler, actions } = await setup({ pods: [pod()] });
  const summary = await reconciler.reconcileOnce(live());
  t.same(summary, { healed: 1, adopted: 0, collected: 0, failed: 0 });
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass']);
  t.same(api.applied[0]!.metadata.ownerReferences, [appliedRef(owner('web-7d9f'))]);
  t.equal(api.events.length, 1);
  t.match(api.events[0], {
    type: 'Normal',
    reason: 'GeneratedObjectsRecreated',
    involvedObject: { kind: 'Pod', name: 'web-7d9f-abcde', namespace: 'team-a', uid: 'uid-web-7d9f-abcde' },
    metadata: { namespace: 'team-a' },
  });
  t.same(await actions(), { 'heal:ok': 1 });
});

t.test('nothing to do (and nothing rendered) when the objects exist with the owner', async (t) => {
  const owners = [owner('web-7d9f')];
  let renders = 0;
  const { api, reconciler } = await setup({
    pods: [pod(), pod({ name: 'web-7d9f-fghij' })],
    es: [stored('externalSecret', { owners })],
    spc: [stored('secretProviderClass', { owners })],
    render: (p) => {
      renders++;
      return renderForPod(p);
    },
  });
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 0, collected: 0, failed: 0 });
  t.equal(api.applied.length + api.deleted.length + api.events.length, 0);
  t.equal(renders, 0, 'the cached pair answers the common case');
});

t.test('heal: a half-deleted pair is completed from a fresh render', async (t) => {
  const owners = [owner('web-7d9f')];
  const { api, reconciler } = await setup({ pods: [pod()], es: [stored('externalSecret', { owners })] });
  t.same(await reconciler.reconcileOnce(live()), { healed: 1, adopted: 0, collected: 0, failed: 0 });
  t.same(api.applied.map((o) => o.kind), ['SecretProviderClass']);
});

t.test('adopt: a bare pod becomes the owner of its objects', async (t) => {
  const { api, reconciler, actions } = await setup({
    pods: [pod({ name: 'debug', controller: false })],
    es: [stored('externalSecret')],
    spc: [stored('secretProviderClass')],
  });
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 1, collected: 0, failed: 0 });
  for (const applied of api.applied) t.same(applied.metadata.ownerReferences, [appliedRef(owner('debug', 'uid-debug', 'Pod'))]);
  t.equal(api.events.length, 0, 'adoption is routine: log only');
  t.same(await actions(), { 'adopt:ok': 1 });
});

t.test('ignores pods that are not injected, finished or being deleted', async (t) => {
  const { api, reconciler } = await setup({
    pods: [pod({ name: 'plain', injected: false }), pod({ name: 'done', phase: 'Succeeded' }), pod({ name: 'bye', deleting: true })],
    es: [stored('externalSecret', { createdMs: Date.UTC(2026, 0, 1) })],
    spc: [stored('secretProviderClass', { createdMs: Date.UTC(2026, 0, 1) })],
  });
  await reconciler.reconcileOnce(live());
  t.equal(api.applied.length, 0);
});

t.test('a pod mounting objects its annotations no longer render is not "healed" under a new name', async (t) => {
  const { api, reconciler, actions } = await setup({ pods: [pod({ mounts: 'web-old999' })] });
  await reconciler.reconcileOnce(live());
  t.equal(api.applied.length, 0);
  t.same(await actions(), { 'heal:drifted': 1 });
});

t.test('without a renderer, a bare pod still becomes owner of the cached objects it mounts', async (t) => {
  const { api, reconciler } = await setup({
    pods: [pod({ name: 'debug', controller: false })],
    es: [stored('externalSecret')],
    spc: [stored('secretProviderClass')],
    render: 'none',
  });
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 1, collected: 0, failed: 0 });
  t.same(api.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass']);
  for (const applied of api.applied) {
    t.same(applied.metadata.ownerReferences?.map((o) => o.name), ['debug']);
    t.equal(applied.metadata.labels['hybrid-secrets.io/spec-hash'], 'abc123', 'labels kept');
  }
  t.same(api.applied[0]!.spec, generated().externalSecret.spec, 'the cached spec is applied unchanged');
});

t.test('a drifted pod whose old objects still exist gets its owner added to them', async (t) => {
  const { api, reconciler, actions } = await setup({
    pods: [pod({ mounts: 'web-old999' })],
    es: [stored('externalSecret', { name: 'web-old999' })],
    spc: [stored('secretProviderClass', { name: 'web-old999' })],
  });
  await reconciler.reconcileOnce(live());
  t.same(api.applied.map((o) => o.metadata.name), ['web-old999', 'web-old999']);
  t.same(api.applied[0]!.metadata.ownerReferences, [appliedRef(owner('web-7d9f'))]);
  t.same(await actions(), { 'adopt:ok': 1 });
});

t.test('a pod that cannot be rendered any more is left alone', async (t) => {
  const { api, reconciler } = await setup({ pods: [pod()], render: () => undefined });
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 0, collected: 0, failed: 0 });
  t.equal(api.applied.length, 0);
});

t.test('an apply failure is counted and reported as a Warning event on the pod', async (t) => {
  const { api, reconciler, actions } = await setup({ pods: [pod()] });
  api.respond = async () => {
    throw apiError(403, 'externalsecrets.external-secrets.io is forbidden');
  };
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 0, collected: 0, failed: 1 });
  t.match(api.events[0], {
    type: 'Warning',
    reason: 'GeneratedObjectsApplyFailed',
    message: 'cannot apply ExternalSecret team-a/web-abc123: externalsecrets.external-secrets.io is forbidden',
  });
  t.same(await actions(), { 'heal:error': 1 });
  await reconciler.reconcileOnce(live());
  t.equal(api.events.length, 1, 'repeated failures do not flood events');
});

t.test('collect: ownerless, unreferenced objects go after the grace period, with preconditions', async (t) => {
  const { api, clock, reconciler, actions } = await setup({
    es: [stored('externalSecret')],
    spc: [stored('secretProviderClass')],
  });
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 0, 'first seen unreferenced now: grace starts');
  await clock.advance(GRACE_MS - 1);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 0);
  await clock.advance(1);
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 0, collected: 2, failed: 0 });
  t.same(api.deleted, [
    { target: { kind: 'ExternalSecret', namespace: 'team-a', name: 'web-abc123' }, preconditions: { uid: 'externalSecret-web-abc123', resourceVersion: '42' } },
    { target: { kind: 'SecretProviderClass', namespace: 'team-a', name: 'web-abc123' }, preconditions: { uid: 'secretProviderClass-web-abc123', resourceVersion: '42' } },
  ]);
  t.same(await actions(), { 'collect:ok': 2 });
});

t.test('collect: young objects wait for the grace period from their creation', async (t) => {
  const clock0 = Date.UTC(2026, 0, 1);
  const { api, clock, reconciler } = await setup({ es: [stored('externalSecret', { createdMs: clock0 })] });
  await reconciler.reconcileOnce(live());
  await clock.advance(GRACE_MS - 1_000);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 0);
  await clock.advance(1_000);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 1);
});

t.test('collect: never while a pod references the name, nor when an owner exists', async (t) => {
  const plainPodUsingSecret: V1Pod = {
    metadata: { name: 'reader', namespace: 'team-a', uid: 'u-reader' },
    spec: { containers: [{ name: 'c', env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'web-abc123', key: 'db' } } }] }] },
  };
  const { api, clock, reconciler } = await setup({
    pods: [plainPodUsingSecret, pod({ name: 'gone', deleting: true, mounts: 'owned-x', namespace: 'team-b' })],
    es: [stored('externalSecret'), stored('externalSecret', { name: 'owned', owners: [owner('rs')] })],
    spc: [stored('secretProviderClass')],
  });
  await reconciler.reconcileOnce(live());
  await clock.advance(2 * GRACE_MS);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 0);
});

t.test('collect: a reference that appears resets the grace clock', async (t) => {
  const { api, clock, reconciler, podSource } = await setup({ spc: [stored('secretProviderClass')] });
  await reconciler.reconcileOnce(live());
  await clock.advance(GRACE_MS / 2);
  podSource.upsert(pod({ injected: false }));
  await reconciler.reconcileOnce(live());
  podSource.remove(pod({ injected: false }));
  await clock.advance(GRACE_MS / 2);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 0, 'unreferenced again only since just now');
  await clock.advance(GRACE_MS);
  await reconciler.reconcileOnce(live());
  t.equal(api.deleted.length, 1);
});

t.test('collect: a precondition conflict keeps the object', async (t) => {
  const { api, clock, reconciler, actions } = await setup({ es: [stored('externalSecret')] });
  api.deleteResponse = async () => {
    throw apiError(409, 'Precondition failed: ResourceVersion in precondition: 42, ResourceVersion in object meta: 43');
  };
  await reconciler.reconcileOnce(live());
  await clock.advance(GRACE_MS);
  t.same(await reconciler.reconcileOnce(live()), { healed: 0, adopted: 0, collected: 0, failed: 0 });
  t.same(await actions(), { 'collect:conflict': 1 });
});

t.test('does nothing until the caches have synced', async (t) => {
  const clock = new FakeClock();
  const api = new FakeWriteApi();
  const never = <T extends KubernetesObject>(name: string) =>
    new InformerCache<T>({ name, ...timing }, { clock, logger: silentLogger, makeSource: () => new FakeSource<T>([]) });
  const caches = { externalSecrets: never<KubernetesObject>('es'), secretProviderClasses: never<KubernetesObject>('spc') };
  const metrics = createMetrics();
  const reconciler = new Reconciler(
    { intervalMs: 60_000, debounceMs: 1_000, orphanGraceMs: GRACE_MS, apiDeadlineMs: 2_000 },
    {
      pods: never<V1Pod>('pods'),
      generated: caches,
      writer: new KubeObjectWriter({ apiDeadlineMs: 2_000 }, { api, caches, clock, metrics, logger: silentLogger }),
      api,
      events: { emit: async () => undefined },
      renderForPod,
      clock,
      logger: silentLogger,
      metrics,
    },
  );
  t.match(await reconciler.reconcileOnce(live()), { skipped: 'caches not synced' });
});

t.test('run: passes at start, on relevant changes (debounced) and periodically, until aborted', async (t) => {
  const { api, clock, reconciler, podSource, esSource } = await setup({ pods: [pod()] });
  const leadership = new AbortController();
  const cacheTimers = clock.pendingTimers();
  reconciler.run(leadership.signal);
  await clock.advance(0);
  await reconciler.idle();
  t.equal(api.applied.length, 2, 'first pass heals at once');
  // Someone deletes the ExternalSecret: the informer reports it, the reconciler reacts.
  const es = api.stored.get('ExternalSecret/team-a/web-abc123')!;
  esSource.upsert(es);
  esSource.remove(es);
  await clock.advance(999);
  t.equal(api.applied.length, 2, 'debounced');
  await clock.advance(1);
  await reconciler.idle();
  t.same(api.applied.slice(2).map((o) => o.kind), ['ExternalSecret'], 'recreated after the debounce');
  podSource.upsert(pod({ name: 'web-7d9f-zzzzz', controller: false }));
  await clock.advance(1_000);
  await reconciler.idle();
  t.equal(api.applied.length, 5, 'a new bare pod is adopted (ES + SPC owner added)');
  leadership.abort();
  podSource.upsert(pod({ name: 'another', controller: false }));
  await clock.advance(120_000);
  t.equal(api.applied.length, 5, 'nothing after leadership ended');
  t.equal(clock.pendingTimers(), cacheTimers, 'the reconciler left no timer behind');
});

t.test('referencedNames collects volume, env and envFrom references per namespace', async (t) => {
  const names = referencedNames([
    pod({ mounts: 'spc-a' }),
    {
      metadata: { name: 'p', namespace: 'team-b' },
      spec: {
        containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'from-envfrom' } }] }],
        initContainers: [{ name: 'i', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'from-env', key: 'k' } } }] }],
        volumes: [
          { name: 's', secret: { secretName: 'from-volume' } },
          { name: 'p', projected: { sources: [{ secret: { name: 'from-projected' } }] } },
          { name: 'other-csi', csi: { driver: 'example.com/other', volumeAttributes: { secretProviderClass: 'not-ours' } } },
        ],
      },
    },
  ]);
  t.same([...names.get('team-a')!], ['spc-a']);
  t.same([...names.get('team-b')!].sort(), ['from-env', 'from-envfrom', 'from-projected', 'from-volume']);
});

t.test('a new leadership term gets its first pass even while the old term\'s pass is finishing', async (t) => {
  const { api, clock, reconciler } = await setup({ pods: [pod()] });
  const passes: AbortSignal[] = [];
  const reconcileOnce = reconciler.reconcileOnce.bind(reconciler);
  reconciler.reconcileOnce = (signal) => {
    passes.push(signal);
    return reconcileOnce(signal);
  };
  const gate = deferred();
  api.respond = () => gate.promise;
  const first = new AbortController();
  reconciler.run(first.signal);
  await clock.advance(0);
  t.same(passes, [first.signal]);
  first.abort();
  const second = new AbortController();
  reconciler.run(second.signal);
  gate.resolve();
  await flush();
  await reconciler.idle();
  t.same(passes, [first.signal, second.signal], 'the second term ran its own pass without waiting for the periodic one');
  second.abort();
});
