// A ClusterSecretStore whose conditions exclude the namespace: creating a pod must not become a
// way to read it. The pod is denied, naming the store, and nothing is generated.
import t from 'tap';
import { generatedObjects, injectionAnnotations, pod, startProduct, suffix, toYaml, vaultClusterStore } from '../harness/product.ts';

t.test('a store whose conditions exclude the namespace is refused', async (t) => {
  const id = suffix();
  const restricted = `restricted-${id}`;
  const open = `open-${id}`;
  const product = await startProduct(t, {
    stores: [
      // Only namespaces labelled team=payments, or named exactly "payments", may use it.
      vaultClusterStore(restricted, [{ namespaceSelector: { matchLabels: { team: 'payments' } } }, { namespaces: ['payments'] }]),
      vaultClusterStore(open),
    ],
  });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'outsider');

  const refused = await kube.kubectl(['apply', '-f', '-'], {
    input: toYaml(pod('reader', namespace, injectionAnnotations(restricted, { token: 'payments/api' }))),
  });
  t.not(refused.code, 0, 'the pod is refused');
  t.match(refused.stderr, /admission webhook "inject\.hybrid-secrets\.io" denied the request/, 'by our webhook');
  t.ok(refused.stderr.includes(restricted), `the message names the store: ${refused.stderr.trim()}`);
  t.match(refused.stderr, /ClusterSecretStore/, 'and its kind');
  t.ok(refused.stderr.includes(namespace), 'and the namespace');
  t.equal(await kube.core.readNamespacedPod({ name: 'reader', namespace }).catch(() => undefined), undefined, 'not stored');
  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  t.equal(externalSecrets.length + classes.length, 0, 'nothing generated from the forbidden store');

  // The same pod against a store without conditions is fine: the denial above is about the store.
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: toYaml(pod('reader', namespace, injectionAnnotations(open, { token: 'payments/api' }))),
  });
  const allowed = await generatedObjects(kube, namespace);
  t.equal(allowed.externalSecrets.length, 1, 'a store open to every namespace is usable');
});
