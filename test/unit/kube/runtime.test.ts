import type { KubernetesObject, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { createMetrics } from '../../../src/metrics.ts';
import { startKubeRuntime } from '../../../src/kube/runtime.ts';
import { FakeClock, FakeLeaseApi, FakeSource, FakeWriteApi, apiError, flush, silentLogger } from './fakes.ts';
import { generated, owner } from './fixtures.ts';

const vaultStore = (name: string, namespace?: string): KubernetesObject =>
  ({
    apiVersion: 'external-secrets.io/v1',
    kind: namespace === undefined ? 'ClusterSecretStore' : 'SecretStore',
    metadata: { name, namespace, resourceVersion: '1' },
    spec: { provider: { vault: { server: 'https://vault:8200', path: 'secret' } } },
  }) as KubernetesObject;

function injectedPod(): V1Pod {
  return {
    metadata: {
      name: 'web-7d9f-abcde',
      namespace: 'team-a',
      uid: 'uid-pod',
      annotations: { 'hybrid-secrets.io/status': 'injected' },
      ownerReferences: [{ ...owner('web-7d9f'), controller: true }],
    },
    spec: {
      containers: [{ name: 'app' }],
      volumes: [{ name: 'hybrid-secrets', csi: { driver: 'secrets-store.csi.k8s.io', volumeAttributes: { secretProviderClass: 'web-abc123' } } }],
    },
  };
}

async function setup() {
  const clock = new FakeClock();
  const sources = {
    clusterSecretStores: new FakeSource<KubernetesObject>([vaultStore('vault'), { metadata: { name: 'broken' } }]),
    secretStores: new FakeSource<KubernetesObject>([vaultStore('local', 'team-a')]),
    namespaces: new FakeSource<V1Namespace>([{ metadata: { name: 'team-a', labels: { team: 'a' } } }, { metadata: { name: 'bare' } }]),
    externalSecrets: new FakeSource<KubernetesObject>(),
    secretProviderClasses: new FakeSource<KubernetesObject>(),
    pods: new FakeSource<V1Pod>([injectedPod()]),
  };
  const writeApi = new FakeWriteApi();
  const leaseApi = new FakeLeaseApi();
  const rendered: unknown[] = [];
  const runtime = await startKubeRuntime(
    {
      kubeConfig: new KubeConfig(),
      apiDeadlineMs: 2_000,
      orphanGraceMs: 600_000,
      lease: { namespace: 'hybrid-secrets', name: 'hybrid-secrets', identity: 'replica-0' },
      injection: { csiProviderNames: { vault: 'vault' } },
    },
    {
      logger: silentLogger,
      metrics: createMetrics(),
      clock,
      sources: Object.fromEntries(Object.entries(sources).map(([k, s]) => [k, () => s])) as never,
      writeApi,
      leaseApi,
      renderGeneratedObjects: (target, catalog, config) => {
        rendered.push({ namespace: target.namespace, store: catalog.clusterStore('vault')?.metadata.name, config });
        return generated({ owner: owner('web-7d9f') });
      },
    },
  );
  const syncServing = async () => {
    for (const key of ['clusterSecretStores', 'secretStores', 'namespaces', 'externalSecrets', 'secretProviderClasses'] as const) {
      sources[key].completeStart();
    }
    await flush();
  };
  return { clock, sources, writeApi, leaseApi, runtime, rendered, syncServing };
}

t.test('ready only once every serving cache has listed; lookups are synchronous', async (t) => {
  const { runtime, sources, syncServing } = await setup();
  t.equal(runtime.isReady(), false);
  sources.clusterSecretStores.completeStart();
  await flush();
  t.equal(runtime.isReady(), false, 'one cache is not enough');
  await syncServing();
  t.equal(runtime.isReady(), true);
  t.equal(sources.pods.started, false, 'pods are not watched for serving');
  t.equal(runtime.catalog.clusterStore('vault')?.kind, 'ClusterSecretStore');
  t.equal(runtime.catalog.clusterStore('broken'), undefined, 'a store without spec.provider counts as missing');
  t.equal(runtime.catalog.clusterStore('nope'), undefined);
  t.equal(runtime.catalog.namespacedStore('team-a', 'local')?.kind, 'SecretStore');
  t.equal(runtime.catalog.namespacedStore('team-b', 'local'), undefined);
  t.same(runtime.catalog.namespaceLabels('team-a'), { team: 'a' });
  t.same(runtime.catalog.namespaceLabels('bare'), {});
  t.equal(runtime.catalog.namespaceLabels('unknown'), undefined);
  await runtime.stop();
});

t.test('the elected replica watches pods and heals; stop releases the lease', async (t) => {
  const { runtime, sources, writeApi, leaseApi, clock, rendered, syncServing } = await setup();
  await syncServing();
  await clock.advance(0);
  t.equal(runtime.leaderElector.isLeader(), true);
  t.equal(sources.pods.started, true, 'pods watched once leading');
  sources.pods.completeStart();
  await clock.advance(1_000);
  t.same(writeApi.applied.map((o) => o.kind), ['ExternalSecret', 'SecretProviderClass'], 'the injected pod was healed');
  t.match(rendered[0], { namespace: 'team-a', store: 'vault', config: { csiProviderNames: { vault: 'vault' } } });
  await runtime.stop();
  t.equal(runtime.leaderElector.isLeader(), false);
  t.equal(leaseApi.stored?.record.holderIdentity, '', 'lease released');
  t.equal(sources.pods.stopped, true);
  t.equal(sources.clusterSecretStores.stopped, true);
});

t.test('a failed review write rejects and warns the workload with an Event', async (t) => {
  const { runtime, writeApi, syncServing } = await setup();
  await syncServing();
  writeApi.respond = async () => {
    throw apiError(403, 'externalsecrets.external-secrets.io is forbidden');
  };
  await t.rejects(runtime.writer.ensure(generated({ owner: owner('web-7d9f') }), { signal: new AbortController().signal }), {
    message: 'cannot apply ExternalSecret team-a/web-abc123: externalsecrets.external-secrets.io is forbidden',
  });
  await flush();
  t.match(writeApi.events[0], { type: 'Warning', involvedObject: { kind: 'ReplicaSet', name: 'web-7d9f' } });
  await runtime.stop();
});

t.test('by default the reconciler renders injected pods with the core and heals them', async (t) => {
  const { planInjection } = await import('../../../src/core/plan.ts');
  const { catalog, config, minimalPod } = await import('../../support/core-fixtures.ts');
  const fjp = (await import('fast-json-patch')).default;
  const original = minimalPod();
  const plan = planInjection({ pod: original, namespace: 'team-a' }, catalog, config);
  if (plan.action !== 'inject') throw new Error('expected inject');
  const pod = fjp.applyPatch(structuredClone(original), structuredClone(plan.patch) as never, true, false).newDocument as unknown as V1Pod;
  pod.metadata = { ...pod.metadata, namespace: 'team-a', uid: 'uid-web' };

  const clock = new FakeClock();
  const vault = catalog.clusterStore('vault')!;
  const sources = {
    clusterSecretStores: new FakeSource<KubernetesObject>([{ ...vault, metadata: { ...vault.metadata } } as KubernetesObject]),
    secretStores: new FakeSource<KubernetesObject>(),
    namespaces: new FakeSource<V1Namespace>([{ metadata: { name: 'team-a', labels: {} } }]),
    externalSecrets: new FakeSource<KubernetesObject>(),
    secretProviderClasses: new FakeSource<KubernetesObject>(),
    pods: new FakeSource<V1Pod>([pod]),
  };
  const writeApi = new FakeWriteApi();
  const runtime = await startKubeRuntime(
    {
      kubeConfig: new KubeConfig(),
      apiDeadlineMs: 2_000,
      orphanGraceMs: 600_000,
      lease: { namespace: 'hs', name: 'hs', identity: 'replica-0' },
      injection: config,
    },
    {
      logger: silentLogger,
      metrics: createMetrics(),
      clock,
      sources: Object.fromEntries(Object.entries(sources).map(([k, s]) => [k, () => s])) as never,
      writeApi,
      leaseApi: new FakeLeaseApi(),
    },
  );
  for (const source of Object.values(sources)) source.completeStart();
  await clock.advance(0);
  sources.pods.completeStart(); // started once this replica leads
  await clock.advance(1_000);
  t.same(
    writeApi.applied.map((o) => [o.kind, o.metadata.name, o.spec]),
    [
      ['ExternalSecret', plan.objects.name, plan.objects.externalSecret.spec],
      ['SecretProviderClass', plan.objects.name, plan.objects.secretProviderClass.spec],
    ],
  );
  t.same(writeApi.applied[0]!.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [['Pod', 'web', 'uid-web']], 'the bare pod owns them');
  await runtime.stop();
});
