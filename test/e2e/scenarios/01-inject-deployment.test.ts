// An annotated Deployment in an opted-in namespace: the controller-manager's pods are mutated,
// and one ExternalSecret and one SecretProviderClass, accepted by the upstream schemas, are
// stored and owned by the ReplicaSet.
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '../harness/cluster.ts';
import {
  annotationPrefix,
  csiVolume,
  deployment,
  generatedObjects,
  injectionAnnotations,
  mountedClass,
  startProduct,
  suffix,
  toYaml,
  vaultClusterStore,
  webhookCalls,
} from '../harness/product.ts';

t.test('an annotated Deployment gets mounts, one ExternalSecret and one SecretProviderClass', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'inject');

  const annotations = injectionAnnotations(
    store,
    { 'db-password': 'apps/db#password', 'api-token': 'apps/api' },
    { 'env-db-password': 'DB_PASSWORD', containers: 'app' },
  );
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('shop', namespace, { replicas: 2, annotations })) });

  const pods = await eventually('two pods of Deployment shop', async () => {
    const items = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=shop' })).items;
    return items.length === 2 ? items : undefined;
  });

  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  t.equal(externalSecrets.length, 1, 'one ExternalSecret for the Deployment');
  t.equal(classes.length, 1, 'one SecretProviderClass for the Deployment');
  const externalSecret = externalSecrets[0] as { metadata: { name: string; ownerReferences?: unknown[] }; spec: Record<string, unknown> };
  const secretProviderClass = classes[0] as { metadata: { name: string; ownerReferences?: unknown[] }; spec: Record<string, unknown> };

  const replicaSet = pods[0]?.metadata?.ownerReferences?.find((owner) => owner.kind === 'ReplicaSet');
  t.ok(replicaSet, 'the pods belong to a ReplicaSet');
  for (const generated of [externalSecret, secretProviderClass]) {
    t.match(
      generated.metadata.ownerReferences,
      [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet?.name, uid: replicaSet?.uid }],
      `${generated.metadata.name} is owned by ReplicaSet ${replicaSet?.name}`,
    );
  }

  t.match(
    externalSecret.spec,
    {
      secretStoreRef: { name: store, kind: 'ClusterSecretStore' },
      target: { creationPolicy: 'Owner' },
    },
    'the ExternalSecret reads from the annotated store into a Secret it owns',
  );
  const data = externalSecret.spec['data'] as Array<{ secretKey: string; remoteRef: Record<string, unknown> }>;
  t.same(data.map((item) => item.secretKey).sort(), ['api-token', 'db-password'], 'exactly the two secrets');
  t.match(data.find((item) => item.secretKey === 'db-password')?.remoteRef, { key: 'apps/db', property: 'password' }, 'key#property splits');
  t.match(data.find((item) => item.secretKey === 'api-token')?.remoteRef, { key: 'apps/api' }, 'a bare key has no property');
  t.equal(secretProviderClass.spec['provider'], 'vault', 'the store is Vault, so the CSI provider is vault');
  t.match(
    secretProviderClass.spec['parameters'],
    { vaultAddress: 'https://vault.example:8200', roleName: 'apps' },
    'with the store address and Kubernetes auth role',
  );

  const targetSecret = (externalSecret.spec['target'] as { name: string }).name;
  for (const item of pods as V1Pod[]) {
    const name = item.metadata?.name;
    t.equal(item.metadata?.annotations?.[`${annotationPrefix}status`], 'injected', `${name} is marked injected`);
    const volume = csiVolume(item);
    t.equal(volume?.csi?.readOnly, true, `${name} has a read-only CSI volume`);
    t.equal(mountedClass(item), secretProviderClass.metadata.name, `${name} mounts the generated SecretProviderClass`);
    const [app, sidecar] = item.spec?.containers ?? [];
    t.match(
      app?.volumeMounts?.find((mount) => mount.name === volume?.name),
      { mountPath: '/mnt/secrets', readOnly: true },
      'app mounts it read-only at the default path',
    );
    t.notOk(
      sidecar?.volumeMounts?.some((mount) => mount.name === volume?.name),
      'the sidecar, not listed in containers, does not',
    );
    t.match(
      app?.env,
      [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: targetSecret, key: 'db-password' } } }],
      'DB_PASSWORD reads the ESO-synced Secret',
    );
  }
  t.equal(webhookCalls(kube, namespace).length, 2, 'the API server called the webhook once per pod');
});
