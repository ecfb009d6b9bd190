// The harness itself: a real control plane whose controllers run, with the upstream CRDs
// enforcing their schemas. Every other scenario relies on these facts.
import t from 'tap';
import { stringify } from 'yaml';
import { cluster, eventually, list } from '../harness/cluster.ts';
import { crdNames } from '../harness/crds.ts';

const kube = cluster();
t.comment(`Kubernetes ${kube.state.kubernetesVersion} at ${kube.state.apiServerUrl}; CRDs from ${kube.state.crdSource}`);

t.test('kubectl talks to the built API server', async (t) => {
  const version = JSON.parse(await kube.kubectlOk(['version', '-o', 'json'])) as {
    serverVersion: { gitVersion: string };
  };
  t.equal(version.serverVersion.gitVersion, kube.state.kubernetesVersion, 'the server reports the pinned version');
  const whoami = await kube.kubectlOk(['auth', 'can-i', '*', '*']);
  t.equal(whoami.trim(), 'yes', 'the admin kubeconfig is a cluster admin');
});

t.test('the upstream CRDs are established', async (t) => {
  for (const name of crdNames) {
    const crd = await kube.objects.read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
    });
    const conditions = (crd as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions ?? [];
    t.ok(
      conditions.some((condition) => condition.type === 'Established' && condition.status === 'True'),
      `${name} is Established`,
    );
  }
});

t.test('a Deployment gets a ReplicaSet and Pods from the controller-manager', async (t) => {
  const namespace = await kube.namespace(t, 'smoke');
  await kube.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
        },
      },
    },
  });
  const pods = await eventually('two pods of Deployment web', async () => {
    const items = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
    return items.length === 2 ? items : undefined;
  });
  for (const pod of pods) {
    const owner = pod.metadata?.ownerReferences?.[0];
    t.equal(owner?.kind, 'ReplicaSet', `${pod.metadata?.name} is owned by a ReplicaSet`);
    t.match(owner?.name, /^web-/, 'of Deployment web');
    // No scheduler and no kubelet here.
    t.equal(pod.status?.phase, 'Pending', 'and stays Pending');
  }
});

t.test('the CRD schemas accept a valid pair and refuse an invalid one (--dry-run=server)', async (t) => {
  const namespace = await kube.namespace(t, 'schema');
  const externalSecret = {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name: 'db', namespace },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
      target: { name: 'db', creationPolicy: 'Owner' },
      data: [{ secretKey: 'password', remoteRef: { key: 'apps/db', property: 'password' } }],
    },
  };
  const secretProviderClass = {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: 'db', namespace },
    spec: {
      provider: 'vault',
      parameters: { vaultAddress: 'https://vault.example:8200', roleName: 'app', objects: '- objectName: password\n' },
    },
  };
  const valid = [externalSecret, secretProviderClass].map((doc) => stringify(doc)).join('---\n');
  const accepted = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: valid });
  t.equal(accepted.code, 0, `the valid pair is accepted ${accepted.stderr}`);
  t.match(accepted.stdout, /externalsecret\.external-secrets\.io\/db (created|configured) \(server dry run\)/);
  t.match(accepted.stdout, /secretproviderclass\.secrets-store\.csi\.x-k8s\.io\/db (created|configured) \(server dry run\)/);

  // The schema is enforced, so "accepted" above means something: a wrong type is refused.
  const invalid = stringify({ ...externalSecret, spec: { ...externalSecret.spec, secretStoreRef: { kind: 'Nope' } } });
  const refused = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: invalid });
  t.not(refused.code, 0, 'an ExternalSecret with an unknown store kind is refused');
  t.match(refused.stderr, /secretStoreRef/, 'naming the field');

  t.same(await list(kube, 'external-secrets.io/v1', 'ExternalSecret', namespace), [], 'a dry run stores nothing');
});
