// Fifty replicas of one spec share one ExternalSecret and one SecretProviderClass, and cost one
// write of each (counted in the API server's audit log).
import t from 'tap';
import { eventually } from '../harness/cluster.ts';
import {
  annotationPrefix,
  deployment,
  generatedObjects,
  injectionAnnotations,
  mountedClass,
  startProduct,
  suffix,
  toYaml,
  vaultClusterStore,
  webhookCalls,
  writesBy,
} from '../harness/product.ts';

const replicas = 50;

t.test(`scaling to ${replicas} replicas keeps one pair of generated objects`, async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'scale');
  const annotations = injectionAnnotations(store, { 'db-password': 'apps/db#password' });

  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('fleet', namespace, { replicas: 1, annotations })) });
  await eventually('the first pod', async () => (await kube.core.listNamespacedPod({ namespace })).items.length === 1);
  const startMs = Date.now();
  await kube.kubectlOk(['scale', 'deployment/fleet', `--replicas=${replicas}`, `--namespace=${namespace}`]);
  const pods = await eventually(
    `${replicas} pods`,
    async () => {
      const items = (await kube.core.listNamespacedPod({ namespace })).items;
      return items.length === replicas ? items : undefined;
    },
    { timeoutMs: 180_000 },
  );
  t.comment(`${replicas} pods admitted in ${Date.now() - startMs} ms after scaling`);

  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  t.equal(externalSecrets.length, 1, 'one ExternalSecret');
  t.equal(classes.length, 1, 'one SecretProviderClass');
  const className = classes[0]?.metadata?.name;
  t.ok(
    pods.every((item) => item.metadata?.annotations?.[`${annotationPrefix}status`] === 'injected' && mountedClass(item) === className),
    `all ${replicas} pods are injected and mount ${className}`,
  );
  t.equal(webhookCalls(kube, namespace).length, replicas, 'the webhook was called for every pod');

  const externalSecretWrites = writesBy(kube, product.username, 'externalsecrets', namespace);
  const classWrites = writesBy(kube, product.username, 'secretproviderclasses', namespace);
  t.comment(`writes for ${replicas} pods: ExternalSecret ${externalSecretWrites.length}, SecretProviderClass ${classWrites.length}`);
  t.equal(externalSecretWrites.length, 1, 'one ExternalSecret write for all pods');
  t.equal(classWrites.length, 1, 'one SecretProviderClass write for all pods');
});
