// A server-side dry run shows the mutation and creates nothing (sideEffects: NoneOnDryRun).
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { annotationPrefix, csiVolume, generatedObjects, injectionAnnotations, pod, startProduct, suffix, toYaml, vaultClusterStore, writesBy } from '../harness/product.ts';

t.test('kubectl apply --dry-run=server shows the mutation and stores nothing', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'dry-run');

  const annotations = injectionAnnotations(store, { 'db-password': 'apps/db#password' });
  const output = await kube.kubectlOk(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], {
    input: toYaml(pod('preview', namespace, annotations)),
  });
  const preview = JSON.parse(output) as V1Pod;
  t.equal(preview.metadata?.annotations?.[`${annotationPrefix}status`], 'injected', 'the answer carries the mutation');
  const volume = csiVolume(preview);
  t.equal(volume?.csi?.readOnly, true, 'with the read-only CSI volume');
  t.match(
    preview.spec?.containers?.[0]?.volumeMounts?.find((mount) => mount.name === volume?.name),
    { readOnly: true },
    'and its read-only mount',
  );

  const stored = await kube.core.readNamespacedPod({ name: 'preview', namespace }).catch(() => undefined);
  t.equal(stored, undefined, 'the pod was not created');
  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  t.equal(externalSecrets.length, 0, 'no ExternalSecret was created');
  t.equal(classes.length, 0, 'no SecretProviderClass was created');
  const writes = [
    ...writesBy(kube, product.username, 'externalsecrets', namespace),
    ...writesBy(kube, product.username, 'secretproviderclasses', namespace),
  ];
  t.same(writes, [], 'the webhook sent no write, not even a dry-run one');
});
