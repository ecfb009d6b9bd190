// The webhook is down: pods that asked for injection in opted-in namespaces are refused
// (failurePolicy: Fail), everything else is unaffected; once it is back, everything proceeds.
import t from 'tap';
import type { V1ReplicaSet } from '@kubernetes/client-node';
import { eventually } from '../harness/cluster.ts';
import {
  annotationPrefix,
  deployment,
  injectionAnnotations,
  mountedClass,
  pod,
  startProduct,
  suffix,
  toYaml,
  vaultClusterStore,
} from '../harness/product.ts';

t.test('a stopped webhook refuses only the pods it would mutate, and recovery is automatic', async (t) => {
  const store = `vault-${suffix()}`;
  const product = await startProduct(t, { stores: [vaultClusterStore(store)] });
  const { kube } = product;
  const optedIn = await product.optedInNamespace(t, 'outage');
  const unlabelled = await kube.namespace(t, 'outage-plain');
  const annotations = injectionAnnotations(store, { token: 'apps/api' });

  await product.webhook.stop();

  const refused = await kube.kubectl(['apply', '-f', '-'], { input: toYaml(pod('needs-secrets', optedIn, annotations)) });
  t.not(refused.code, 0, 'an annotated pod in an opted-in namespace is refused');
  t.match(refused.stderr, /failed calling webhook "inject\.hybrid-secrets\.io"/, `because the webhook is unreachable: ${refused.stderr.trim()}`);
  t.equal(await kube.core.readNamespacedPod({ name: 'needs-secrets', namespace: optedIn }).catch(() => undefined), undefined, 'and not stored');

  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(pod('plain', optedIn)) });
  t.pass('an unannotated pod in the opted-in namespace is created');
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(pod('elsewhere', unlabelled, annotations)) });
  t.pass('an annotated pod in a namespace that did not opt in is created');

  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(deployment('waits', optedIn, { replicas: 1, annotations })) });
  const failure = await eventually('the ReplicaSet to report the refused pod', async () => {
    const sets: V1ReplicaSet[] = (await kube.apps.listNamespacedReplicaSet({ namespace: optedIn })).items;
    return sets.flatMap((set) => set.status?.conditions ?? []).find((condition) => condition.type === 'ReplicaFailure');
  });
  t.match(failure.message, /inject\.hybrid-secrets\.io/, 'the ReplicaSet could not create its pod through the webhook');
  t.equal((await kube.core.listNamespacedPod({ namespace: optedIn, labelSelector: 'app=waits' })).items.length, 0, 'no pod without secrets');

  // Back on the same address the configuration points at: nothing to re-register.
  await product.startReplica(t, 'a-restarted', product.webhook.port);
  const recovered = await eventually(
    'the ReplicaSet to create its pod once the webhook answers',
    async () => (await kube.core.listNamespacedPod({ namespace: optedIn, labelSelector: 'app=waits' })).items[0],
    { timeoutMs: 180_000 },
  );
  t.equal(recovered.metadata?.annotations?.[`${annotationPrefix}status`], 'injected', 'the pod is injected');
  t.ok(mountedClass(recovered), 'and mounts its SecretProviderClass');
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(pod('needs-secrets', optedIn, annotations)) });
  const retried = await kube.core.readNamespacedPod({ name: 'needs-secrets', namespace: optedIn });
  t.equal(retried.metadata?.annotations?.[`${annotationPrefix}status`], 'injected', 'the refused pod is accepted, injected, on retry');
});
