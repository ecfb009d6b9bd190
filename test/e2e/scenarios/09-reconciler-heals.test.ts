// Someone deletes a generated object under a running pod: the reconciler recreates it.
import t from 'tap';
import { eventually } from '../harness/cluster.ts';
import { deployment, generatedNames, injectionAnnotations, startProduct, suffix, toYaml, vaultClusterStore } from '../harness/product.ts';

t.test('the reconciler recreates a deleted ExternalSecret and SecretProviderClass', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'heal');
  const annotations = injectionAnnotations(store, { token: 'apps/api' });
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('steady', namespace, { replicas: 1, annotations })) });
  const created = await eventually('the generated objects', async () => {
    const names = await generatedNames(kube, namespace);
    return names.classes.length === 1 && names.externalSecrets.length === 1 ? names : undefined;
  });

  for (const [kind, name] of [
    ['externalsecret.external-secrets.io', created.externalSecrets[0]],
    ['secretproviderclass.secrets-store.csi.x-k8s.io', created.classes[0]],
  ] as const) {
    const before = JSON.parse(await kube.kubectlOk(['get', kind, name ?? '', `--namespace=${namespace}`, '-o', 'json'])) as { metadata: { uid: string } };
    await kube.kubectlOk(['delete', kind, name ?? '', `--namespace=${namespace}`]);
    const healed = await eventually(
      `the reconciler to recreate ${kind} ${name}`,
      async () => {
        const got = await kube.kubectl(['get', kind, name ?? '', `--namespace=${namespace}`, '-o', 'json']);
        return got.code === 0 ? (JSON.parse(got.stdout) as { metadata: { uid: string; ownerReferences?: Array<{ kind: string }> } }) : undefined;
      },
      { timeoutMs: 120_000 },
    );
    t.not(healed.metadata.uid, before.metadata.uid, `${kind} ${name} exists again, as a new object`);
    t.match(healed.metadata.ownerReferences, [{ kind: 'ReplicaSet' }], 'still owned by the ReplicaSet');
  }
});
