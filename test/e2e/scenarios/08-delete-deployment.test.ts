// Deleting the Deployment garbage-collects its generated objects (owned by its ReplicaSet).
import t from 'tap';
import { eventually } from '../harness/cluster.ts';
import { deployment, generatedNames, injectionAnnotations, startProduct, suffix, toYaml, vaultClusterStore } from '../harness/product.ts';

t.test('deleting the Deployment collects its ExternalSecret and SecretProviderClass', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'delete');
  const annotations = injectionAnnotations(store, { token: 'apps/api' });
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('gone', namespace, { replicas: 2, annotations })) });
  const created = await eventually('the generated objects', async () => {
    const names = await generatedNames(kube, namespace);
    return names.classes.length === 1 && names.externalSecrets.length === 1 ? names : undefined;
  });
  t.comment(`generated: ${created.externalSecrets.join(', ')}`);

  await kube.kubectlOk(['delete', 'deployment', 'gone', `--namespace=${namespace}`]);
  const after = await eventually(
    'the garbage collector to remove the generated objects',
    async () => {
      const names = await generatedNames(kube, namespace);
      return names.classes.length === 0 && names.externalSecrets.length === 0 ? names : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.same(after, { externalSecrets: [], classes: [] }, 'no generated object is left');
});
