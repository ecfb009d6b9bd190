// A rolling update that changes the secrets: new pods get new generated objects, old pods keep
// theirs while they run, and the old objects are collected once the old ReplicaSet is gone.
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '../harness/cluster.ts';
import {
  deployment,
  generatedNames,
  injectionAnnotations,
  markReady,
  mountedClass,
  startProduct,
  suffix,
  toYaml,
  vaultClusterStore,
} from '../harness/product.ts';

function replicaSetOf(item: V1Pod): string | undefined {
  return item.metadata?.ownerReferences?.find((owner) => owner.kind === 'ReplicaSet')?.name;
}

t.test('a rolling update that changes the secrets moves pods to new objects', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'rollout');
  // Surge all new pods before removing any old one, so both generations run side by side; no
  // old ReplicaSet is kept, so its objects lose their last owner when the rollout ends.
  const options = {
    replicas: 2,
    revisionHistoryLimit: 0,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: 0 } },
  };
  const listPods = async (): Promise<V1Pod[]> => (await kube.core.listNamespacedPod({ namespace })).items;

  const v1 = injectionAnnotations(store, { 'db-password': 'apps/db#password' });
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('api', namespace, { ...options, annotations: v1 })) });
  const oldPods = await eventually('two v1 pods', async () => ((await listPods()).length === 2 ? listPods() : undefined));
  await markReady(kube, namespace, oldPods);
  const before = await generatedNames(kube, namespace);
  t.equal(before.classes.length, 1, 'v1 has one SecretProviderClass');
  const oldClass = before.classes[0];
  const oldReplicaSet = replicaSetOf(oldPods[0] as V1Pod);

  const v2 = injectionAnnotations(store, { 'db-password': 'apps/db#password', 'api-key': 'apps/api#key' });
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('api', namespace, { ...options, annotations: v2 })) });
  const during = await eventually('two v1 and two v2 pods', async () => {
    const items = await listPods();
    return items.length === 4 ? items : undefined;
  });
  const newPods = during.filter((item) => replicaSetOf(item) !== oldReplicaSet);
  t.equal(newPods.length, 2, 'two pods of the new ReplicaSet');
  const newClass = mountedClass(newPods[0] as V1Pod);
  t.not(newClass, oldClass, 'new pods mount a new SecretProviderClass');
  t.ok(newPods.every((item) => mountedClass(item) === newClass), 'all new pods mount the same one');
  t.ok(
    during.filter((item) => replicaSetOf(item) === oldReplicaSet).every((item) => mountedClass(item) === oldClass),
    'old pods still mount the old one',
  );
  const both = await generatedNames(kube, namespace);
  t.equal(both.classes.length, 2, 'both SecretProviderClasses exist while both generations run');
  t.equal(both.externalSecrets.length, 2, 'and both ExternalSecrets');
  t.ok(both.classes.includes(oldClass ?? ''), 'the old objects are kept for the old pods');

  // Once the new pods are ready, the rollout removes the old pods and the old ReplicaSet; the
  // garbage collector then removes the objects it owned.
  await markReady(kube, namespace, newPods);
  const after = await eventually(
    'the old generated objects to be collected',
    async () => {
      const names = await generatedNames(kube, namespace);
      return names.classes.length === 1 && names.externalSecrets.length === 1 ? names : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.same(after.classes, [newClass], 'only the new SecretProviderClass is left');
  const remaining = await listPods();
  t.ok(remaining.every((item) => replicaSetOf(item) !== oldReplicaSet), 'no old pod is left');
});
