// Pods the webhook must never see: the API server filters them out (namespaceSelector,
// matchConditions) before calling it, so they are stored as they were sent.
import t from 'tap';
import {
  annotationPrefix,
  csiVolume,
  generatedObjects,
  injectionAnnotations,
  pod,
  startProduct,
  suffix,
  toYaml,
  vaultClusterStore,
  webhookCalls,
} from '../harness/product.ts';

t.test('unlabelled namespaces and unannotated pods are left alone, without a webhook call', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const annotations = injectionAnnotations(store, { token: 'apps/api' });

  const unlabelled = await kube.namespace(t, 'not-opted-in');
  const optedIn = await product.optedInNamespace(t, 'opted-in');
  const cases = [
    { namespace: unlabelled, name: 'annotated', annotations, why: 'its namespace did not opt in' },
    { namespace: optedIn, name: 'plain', annotations: {}, why: 'it has no inject annotation' },
    {
      namespace: optedIn,
      name: 'declined',
      annotations: { ...annotations, [`${annotationPrefix}inject`]: 'false' },
      why: 'inject is "false"',
    },
  ];
  for (const item of cases) {
    await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(pod(item.name, item.namespace, item.annotations)) });
    const stored = await kube.core.readNamespacedPod({ name: item.name, namespace: item.namespace });
    t.equal(csiVolume(stored), undefined, `${item.name}: no CSI volume (${item.why})`);
    t.equal(stored.metadata?.annotations?.[`${annotationPrefix}status`], undefined, `${item.name}: no status annotation`);
    t.same(stored.spec?.containers?.[0]?.volumeMounts?.map((mount) => mount.mountPath), ['/var/run/secrets/kubernetes.io/serviceaccount'], `${item.name}: only the service-account token mount`);
  }
  for (const namespace of [unlabelled, optedIn]) {
    t.equal(webhookCalls(kube, namespace).length, 0, `the API server never called the webhook in ${namespace}`);
    const { externalSecrets, classes } = await generatedObjects(kube, namespace);
    t.equal(externalSecrets.length + classes.length, 0, `nothing generated in ${namespace}`);
  }
});
