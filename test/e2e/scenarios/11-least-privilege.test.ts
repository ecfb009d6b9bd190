// deploy/'s RBAC, exercised with a real token of its ServiceAccount: what the webhook needs is
// allowed, Secret values are not readable.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cluster } from '../harness/cluster.ts';
import { kubeconfigYaml } from '../harness/control-plane.ts';
import { kubectl } from '../harness/kubectl.ts';
import { installDeploy, renderDeploy, serviceAccountToken } from '../harness/webhook.ts';

t.test('the webhook ServiceAccount cannot read Secrets', async (t) => {
  const kube = cluster();
  const manifests = await renderDeploy(kube);
  await installDeploy(kube, manifests);
  const token = await serviceAccountToken(kube, manifests.serviceAccount);
  const kubeconfig = join(kube.state.runDir, 'least-privilege.kubeconfig');
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({ server: kube.state.apiServerUrl, caPem: readFileSync(kube.state.caCertFile, 'utf8'), user: { token } }),
    { mode: 0o600 },
  );
  const namespace = await kube.namespace(t, 'tenant', { 'hybrid-secrets.io/injection': 'enabled' });
  const own = manifests.serviceAccount.namespace;
  const canI = async (...args: string[]): Promise<string> => (await kubectl(kubeconfig, ['auth', 'can-i', ...args])).stdout.trim();

  // The token really is the ServiceAccount (not the admin): the API server says who we are.
  const whoami = await kubectl(kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  t.equal(whoami.stdout, `system:serviceaccount:${own}:${manifests.serviceAccount.name}`, 'requests run as the ServiceAccount');

  for (const verb of ['get', 'list', 'watch']) {
    t.equal(await canI(verb, 'secrets', `--namespace=${namespace}`), 'no', `cannot ${verb} Secrets in an application namespace`);
    t.equal(await canI(verb, 'secrets', '--all-namespaces'), 'no', `cannot ${verb} Secrets cluster-wide`);
  }
  t.equal(await canI('list', 'secrets', `--namespace=${own}`), 'no', `cannot list Secrets in its own namespace ${own}`);
  const denied = await kubectl(kubeconfig, ['get', 'secrets', `--namespace=${namespace}`]);
  t.not(denied.code, 0, 'a real read is refused');
  t.match(denied.stderr, /forbidden/i, 'as forbidden');

  // What it needs, so the "no" answers above are about Secrets, not a broken token.
  t.equal(await canI('create', 'externalsecrets.external-secrets.io', `--namespace=${namespace}`), 'yes', 'creates ExternalSecrets');
  t.equal(await canI('patch', 'secretproviderclasses.secrets-store.csi.x-k8s.io', `--namespace=${namespace}`), 'yes', 'applies SecretProviderClasses');
  t.equal(await canI('list', 'clustersecretstores.external-secrets.io'), 'yes', 'reads ClusterSecretStores');
  t.equal(await canI('watch', 'namespaces'), 'yes', 'watches namespaces');
  // The Lease rule is scoped by resourceNames (least privilege): ask about that very Lease.
  const leaseNames = manifests.all
    .filter((doc) => doc.kind === 'Role' && doc.metadata.namespace === own)
    .flatMap((doc) => (doc['rules'] as Array<{ resources?: string[]; resourceNames?: string[] }> | undefined) ?? [])
    .filter((rule) => rule.resources?.includes('leases'))
    .flatMap((rule) => rule.resourceNames ?? []);
  t.ok(leaseNames.length > 0, `deploy/ names its Lease: ${leaseNames.join(', ')}`);
  for (const lease of leaseNames) {
    t.equal(await canI('update', `leases.coordination.k8s.io/${lease}`, `--namespace=${own}`), 'yes', `holds its Lease ${lease}`);
  }
  t.equal(await canI('update', 'leases.coordination.k8s.io/someone-else', `--namespace=${own}`), 'no', 'and no other Lease');
  t.equal(await canI('delete', 'pods', `--namespace=${namespace}`), 'no', 'cannot delete pods');
});
