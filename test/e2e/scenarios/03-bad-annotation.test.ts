// A bad annotation is refused at admission with our message, naming the annotation, and nothing
// is stored.
import t from 'tap';
import { annotationPrefix, generatedObjects, injectionAnnotations, pod, startProduct, suffix, toYaml, vaultClusterStore } from '../harness/product.ts';

t.test('kubectl apply of a pod with a bad annotation fails with a message naming it', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const namespace = await product.optedInNamespace(t, 'bad');

  const bad = [
    { key: 'mount-path', value: 'relative/dir' },
    { key: 'containers', value: 'no-such-container' },
    { key: 'secret-Bad_Name!', value: 'apps/db' },
  ];
  for (const { key, value } of bad) {
    const annotations = injectionAnnotations(store, { token: 'apps/api' }, { [key]: value });
    const name = `bad-${bad.findIndex((item) => item.key === key)}`;
    const result = await kube.kubectl(['apply', '-f', '-'], { input: toYaml(pod(name, namespace, annotations)) });
    t.not(result.code, 0, `${annotationPrefix}${key}: ${value} is refused`);
    t.match(result.stderr, /admission webhook "inject\.hybrid-secrets\.io" denied the request/, 'by our webhook');
    t.ok(result.stderr.includes(`${annotationPrefix}${key}`), `the message names ${annotationPrefix}${key}: ${result.stderr.trim()}`);
    const stored = await kube.core.readNamespacedPod({ name, namespace }).catch(() => undefined);
    t.equal(stored, undefined, 'the pod was not stored');
  }
  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  t.equal(externalSecrets.length + classes.length, 0, 'nothing was generated for refused pods');
});
