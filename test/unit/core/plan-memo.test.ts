// planInjection memoises the part of a plan that pods of one workload share. These tests hold
// it to giving exactly the answers of a fresh plan: for arbitrary pods, on the benchmark corpus,
// and after every kind of catalog change (store, namespace labels, annotations).
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { generateCorpus, loadTemplates, STORES_FILE } from '../../../bench/corpus.ts';
import { planInjection } from '../../../src/core/plan.ts';
import type { InjectionConfig, InjectionPlan, InjectionTarget } from '../../../src/core/types.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../../../src/providers/index.ts';
import { loadStoreCatalogFile } from '../../../src/stores/catalog.ts';
import type { EsoStore, StoreCatalog } from '../../../src/stores/types.ts';
import { P, annotations, catalog, config, minimalPod, richPod, stores } from '../../support/core-fixtures.ts';

/** The same lookups without a generation: planInjection then computes every plan afresh. */
function unmemoised(source: StoreCatalog): StoreCatalog {
  return {
    clusterStore: (name) => source.clusterStore(name),
    namespacedStore: (namespace, name) => source.namespacedStore(namespace, name),
    namespaceLabels: (namespace) => source.namespaceLabels(namespace),
  };
}

/** A catalog whose contents tests change, bumping the generation as the informer catalog does. */
class MutableCatalog implements StoreCatalog {
  generation = 0;
  readonly clusterStores = new Map<string, EsoStore>();
  readonly namespaces = new Map<string, Record<string, string>>();

  clusterStore(name: string): EsoStore | undefined {
    return this.clusterStores.get(name);
  }
  namespacedStore(): EsoStore | undefined {
    return undefined;
  }
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(namespace);
  }
  change(update: () => void): void {
    update();
    this.generation += 1;
  }
}

function plansAgree(t: Test, target: InjectionTarget, memoised: StoreCatalog, injectionConfig: InjectionConfig, label: string): InjectionPlan {
  const fresh = planInjection(target, unmemoised(memoised), injectionConfig);
  // Twice: the first call may fill the memo, the second must come from it.
  t.same(planInjection(target, memoised, injectionConfig), fresh, `${label} (first)`);
  const second = planInjection(target, memoised, injectionConfig);
  t.same(second, fresh, `${label} (memoised)`);
  return second;
}

t.test('arbitrary pods sharing a few annotation sets: memoised plans equal fresh ones', async (t) => {
  const annotationSets = [
    annotations(),
    annotations({ [`${P}store`]: 'aws', [`${P}env-db`]: 'DB_PASSWORD' }),
    annotations({ [`${P}store`]: 'restricted' }),
    annotations({ [`${P}store`]: 'team-vault', [`${P}store-kind`]: 'SecretStore', [`${P}containers`]: 'app' }),
    annotations({ [`${P}store`]: 'azurekv', [`${P}init-containers`]: 'migrate', [`${P}mount-path`]: '/cache' }),
    annotations({ [`${P}store`]: 'fake' }),
    annotations({ [`${P}secret-db`]: '#' }),
    annotations({ [`${P}status`]: 'injected' }),
    { [`${P}inject`]: 'true' },
  ];
  const container = fc.record({
    name: fc.constantFrom('app', 'proxy', 'migrate'),
    env: fc.option(fc.array(fc.record({ name: fc.constantFrom('DB_PASSWORD', 'PORT') }), { maxLength: 2 }), { nil: undefined }),
    volumeMounts: fc.option(fc.array(fc.record({ name: fc.constant('x'), mountPath: fc.constantFrom('/mnt/secrets', '/cache') }), { maxLength: 2 }), { nil: undefined }),
  }, { requiredKeys: ['name'] });
  const pod = fc.record({
    metadata: fc.record({
      name: fc.constantFrom('web-1', 'web-2', 'api'),
      labels: fc.constant({ 'pod-template-hash': 'abc' }),
      annotations: fc.constantFrom(...annotationSets),
      ownerReferences: fc.constantFrom(
        [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u1', controller: true }],
        [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-abc', uid: 'u2', controller: true }],
      ),
    }, { requiredKeys: ['annotations'] }),
    spec: fc.record({
      containers: fc.array(container, { maxLength: 3 }),
      initContainers: fc.array(container, { maxLength: 1 }),
      volumes: fc.array(fc.record({ name: fc.constantFrom('hybrid-secrets', 'cache', 'kube-api-access-x1') }), { maxLength: 2 }),
    }, { requiredKeys: ['containers'] }),
  });
  const namespace = fc.constantFrom('team-a', 'prod', 'payments-eu', 'default', 'unknown');
  const workload = fc.option(fc.constantFrom('web', 'api'), { nil: undefined });
  const seen = new Set<string>();
  fc.assert(
    fc.property(fc.array(fc.tuple(pod, namespace, workload), { minLength: 1, maxLength: 8 }), (targets) => {
      for (const [candidate, ns, name] of targets) {
        const target = { pod: candidate, namespace: ns, ...(name !== undefined && { workload: name }) };
        const fresh = planInjection(target, unmemoised(catalog), config);
        const memoised = planInjection(target, catalog, config);
        seen.add(fresh.action);
        if (JSON.stringify(memoised) !== JSON.stringify(fresh)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.same([...seen].sort(), ['deny', 'inject', 'skip'], 'the pods reach every kind of plan');
});

t.test('pods of one workload in every patch shape: each gets the patch a fresh plan builds', async (t) => {
  // One workload (same annotations, namespace, owner), so every pod shares one memo entry and
  // only what the patch is built from differs: volumes, container order, env and mounts present.
  const extra = { [`${P}env-db`]: 'DB_PASSWORD', [`${P}containers`]: 'app', [`${P}init-containers`]: 'migrate' };
  const container = (name: string, env: boolean, mounts: boolean) => ({
    name,
    ...(env && { env: [{ name: 'PORT', value: '8080' }] }),
    ...(mounts && { volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }),
  });
  const flags = [false, true];
  const patches = new Set<unknown>();
  const contents = new Set<string>();
  // Shapes that differ in one thing come one after the other, while the memo still holds both.
  for (const [first, second] of [['app', 'proxy'], ['proxy', 'app']]) {
    for (const env of flags) {
      for (const mounts of flags) {
        for (const initEnv of flags) {
          for (const volumes of flags) {
            const pod = richPod(extra);
            pod.spec = {
              ...(volumes && { volumes: [{ name: 'cache', emptyDir: {} }] }),
              containers: [container(first!, env, mounts), container(second!, !env, mounts)],
              initContainers: [container('migrate', initEnv, !mounts)],
            };
            const plan = plansAgree(t, { pod, namespace: 'team-a' }, catalog, config, `volumes ${volumes}, ${first} first, env ${env}, mounts ${mounts}, init env ${initEnv}`);
            t.equal(plan.action, 'inject');
            if (plan.action === 'inject') patches.add(plan.patch);
            if (plan.action === 'inject') contents.add(JSON.stringify(plan.patch));
          }
        }
      }
    }
  }
  t.equal(patches.size, contents.size, 'one shared patch per distinct patch');
  t.equal(contents.size, 32, 'each of the 32 shapes gets a patch of its own');
  const again = planInjection({ pod: richPod(extra), namespace: 'team-a' }, catalog, config);
  const same = planInjection({ pod: { ...richPod(extra), metadata: { ...richPod(extra).metadata, generateName: 'web-other-' } }, namespace: 'team-a' }, catalog, config);
  t.ok(again.action === 'inject' && same.action === 'inject' && again.patch === same.patch && Object.isFrozen(again.patch), 'one frozen patch for pods of one shape');
});

t.test('the core fixtures: memoised plans equal fresh ones', async (t) => {
  for (const [label, extra] of [
    ['default store', {}],
    ['aws with env', { [`${P}store`]: 'aws', [`${P}env-db`]: 'DB_PASSWORD' }],
    ['restricted store', { [`${P}store`]: 'restricted' }],
    ['unknown container', { [`${P}containers`]: 'nope' }],
  ] as const) {
    for (const namespace of ['team-a', 'prod']) {
      plansAgree(t, { pod: richPod(extra), namespace }, catalog, config, `rich pod, ${label}, ${namespace}`);
      plansAgree(t, { pod: minimalPod(extra), namespace }, catalog, config, `minimal pod, ${label}, ${namespace}`);
    }
  }
});

t.test('the benchmark corpus: memoised plans equal fresh ones for every class', async (t) => {
  const benchCatalog = await loadStoreCatalogFile(STORES_FILE, { defaultNamespace: 'default' });
  const benchConfig = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  const templates = loadTemplates();
  for (const cls of ['hot', 'invalid', 'unselected'] as const) {
    let equal = 0;
    const entries = generateCorpus(templates, cls, { seed: 20260115, workloads: 48, podsPerWorkload: 4 });
    for (const entry of entries) {
      const { request } = JSON.parse(entry.body) as { request: { object: InjectionTarget['pod']; namespace: string } };
      const target = { pod: request.object, namespace: request.namespace };
      const fresh = planInjection(target, unmemoised(benchCatalog), benchConfig);
      if (JSON.stringify(planInjection(target, benchCatalog, benchConfig)) === JSON.stringify(fresh)) equal += 1;
    }
    t.equal(equal, entries.length, `${cls}: ${entries.length} reviews`);
  }
});

t.test('a changed store is never answered from the memo', async (t) => {
  const mutable = new MutableCatalog();
  mutable.clusterStores.set('vault', stores.vault);
  const target = { pod: richPod(), namespace: 'team-a' };
  const before = plansAgree(t, target, mutable, config, 'vault v2');
  mutable.change(() => mutable.clusterStores.set('vault', { ...stores.vault, spec: { provider: { vault: { server: 'https://other.example:8200', path: 'kv', version: 'v1', auth: { kubernetes: { role: 'apps' } } } } } }));
  const after = plansAgree(t, target, mutable, config, 'vault changed');
  t.equal(before.action, 'inject');
  t.equal(after.action, 'inject');
  if (before.action === 'inject' && after.action === 'inject') t.not(after.objects.specHash, before.objects.specHash, 'a new spec, a new hash');
  mutable.change(() => mutable.clusterStores.delete('vault'));
  const gone = plansAgree(t, target, mutable, config, 'vault deleted');
  t.equal(gone.action, 'deny');
});

t.test('a namespace label change is seen by the store conditions at once', async (t) => {
  const mutable = new MutableCatalog();
  mutable.clusterStores.set('restricted', stores.restricted);
  mutable.namespaces.set('shop', { tier: 'dev' });
  const target = { pod: richPod({ [`${P}store`]: 'restricted' }), namespace: 'shop' };
  t.equal(plansAgree(t, target, mutable, config, 'tier dev').action, 'deny');
  mutable.change(() => mutable.namespaces.set('shop', { tier: 'prod' }));
  t.equal(plansAgree(t, target, mutable, config, 'tier prod').action, 'inject');
  mutable.change(() => mutable.namespaces.set('shop', { tier: 'dev' }));
  t.equal(plansAgree(t, target, mutable, config, 'tier dev again').action, 'deny');
});

t.test('what the memo is keyed on: annotations, namespace, workload and owner', async (t) => {
  const base = plansAgree(t, { pod: richPod(), namespace: 'team-a' }, catalog, config, 'base');
  const other = plansAgree(t, { pod: richPod({ [`${P}secret-api`]: 'app/api' }), namespace: 'team-a' }, catalog, config, 'one more secret');
  const elsewhere = plansAgree(t, { pod: richPod(), namespace: 'prod' }, catalog, config, 'other namespace');
  const named = plansAgree(t, { pod: richPod(), namespace: 'team-a', workload: 'checkout' }, catalog, config, 'other workload');
  const ownerPod = richPod();
  (ownerPod.metadata.ownerReferences as { uid: string }[])[0]!.uid = 'another-uid';
  const owned = plansAgree(t, { pod: ownerPod, namespace: 'team-a' }, catalog, config, 'other owner');
  if (base.action !== 'inject' || other.action !== 'inject' || elsewhere.action !== 'inject' || named.action !== 'inject' || owned.action !== 'inject') {
    t.fail('every variant injects');
    return;
  }
  t.not(other.objects.specHash, base.objects.specHash);
  t.equal(elsewhere.objects.namespace, 'prod');
  t.match(named.objects.name, /^checkout-/);
  t.equal(owned.objects.owner?.uid, 'another-uid');
  // Annotations outside hybrid-secrets.io/ do not matter, so they share the generated objects.
  const restarted = richPod();
  (restarted.metadata.annotations as Record<string, string>)['kubectl.kubernetes.io/restartedAt'] = '2026-02-02T00:00:00Z';
  const again = planInjection({ pod: richPod(), namespace: 'team-a' }, catalog, config);
  const same = planInjection({ pod: restarted, namespace: 'team-a' }, catalog, config);
  t.ok(again.action === 'inject' && same.action === 'inject' && same.objects === again.objects, 'the same generated objects, from the memo');
  t.same(again, base);
});

t.test('shared results are frozen: no review can change another one\'s objects', async (t) => {
  const plan = planInjection({ pod: richPod(), namespace: 'team-a' }, catalog, config);
  if (plan.action !== 'inject') {
    t.fail('injects');
    return;
  }
  t.ok(Object.isFrozen(plan.objects) && Object.isFrozen(plan.objects.externalSecret.spec) && Object.isFrozen(plan.warnings));
  t.throws(() => {
    (plan.objects.externalSecret.metadata.labels as Record<string, string>).x = 'y';
  }, TypeError);
});
