// Two replicas: exactly one holds the Lease; kill it (no clean release) and the other takes over.
import t from 'tap';
import type { V1Lease } from '@kubernetes/client-node';
import { eventually } from '../harness/cluster.ts';
import { startProduct } from '../harness/product.ts';

t.test('one of two replicas holds the Lease, and the other takes over when it dies', async (t) => {
  const product = await startProduct(t);
  const { kube } = product;
  const second = await product.startReplica(t, 'b');
  const namespace = product.manifests.serviceAccount.namespace;
  const identities = new Map([
    [`hybrid-secrets-${product.webhook.name}`, product.webhook],
    [`hybrid-secrets-${second.name}`, second],
  ]);
  // The Lease is found by its holder rather than by name: the name is the product's choice.
  // Replicas identify themselves by POD_NAME, as deploy/'s Deployment sets it.
  const heldLeases = async (): Promise<V1Lease[]> =>
    (await kube.coordination.listNamespacedLease({ namespace })).items.filter((lease) =>
      identities.has(lease.spec?.holderIdentity ?? ''),
    );

  const [lease] = await eventually('a replica to acquire the Lease', async () => {
    const leases = await heldLeases();
    if (leases.length > 0) return leases;
    const all = (await kube.coordination.listNamespacedLease({ namespace })).items;
    throw new Error(`Leases in ${namespace}: ${all.map((item) => `${item.metadata?.name} held by ${item.spec?.holderIdentity}`).join(', ') || 'none'}`);
  });
  t.equal((await heldLeases()).length, 1, 'exactly one Lease is held by a replica');
  const leaderIdentity = lease?.spec?.holderIdentity ?? '';
  const leader = identities.get(leaderIdentity);
  const follower = [...identities.entries()].find(([identity]) => identity !== leaderIdentity);
  t.ok(leader && follower, `${leaderIdentity} leads`);

  await leader?.kill();
  const takeover = await eventually(
    `${follower?.[0]} to take the Lease over`,
    async () => {
      const current = await kube.coordination.readNamespacedLease({ name: lease?.metadata?.name ?? '', namespace });
      return current.spec?.holderIdentity === follower?.[0] ? current : undefined;
    },
    { timeoutMs: 120_000 },
  );
  t.equal(takeover.spec?.holderIdentity, follower?.[0], 'the surviving replica holds the Lease');
  t.ok(
    (takeover.spec?.leaseTransitions ?? 0) > (lease?.spec?.leaseTransitions ?? 0),
    'and the Lease counts the transition',
  );
});
