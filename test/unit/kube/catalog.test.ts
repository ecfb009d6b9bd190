import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import t from 'tap';
import { InformerCache } from '../../../src/kube/cache.ts';
import { InformerStoreCatalog } from '../../../src/kube/catalog.ts';
import { FakeClock, FakeSource, flush, silentLogger } from './fakes.ts';

const options = { resyncMs: 600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 8_000, syncTimeoutMs: 30_000 };

function cacheOf<T extends KubernetesObject>(name: string, source: FakeSource<T>): InformerCache<T> {
  return new InformerCache<T>({ name, ...options }, { clock: new FakeClock(), logger: silentLogger, makeSource: () => source });
}

const store = (name: string, server: string): KubernetesObject =>
  ({ apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name }, spec: { provider: { vault: { server } } } }) as KubernetesObject;

t.test('the generation changes with every store and namespace event, after the cache changed', async (t) => {
  const clusterSource = new FakeSource<KubernetesObject>([store('vault', 'https://a')]);
  const namespaceSource = new FakeSource<V1Namespace>([{ metadata: { name: 'shop', labels: { tier: 'dev' } } }]);
  const caches = {
    clusterSecretStores: cacheOf('clustersecretstores', clusterSource),
    secretStores: cacheOf('secretstores', new FakeSource<KubernetesObject>()),
    namespaces: cacheOf('namespaces', namespaceSource),
  };
  const catalog = new InformerStoreCatalog(caches);
  const seen: { generation: number; server: unknown; tier: string | undefined }[] = [];
  const record = (): void => {
    seen.push({
      generation: catalog.generation,
      server: (catalog.clusterStore('vault')?.spec.provider.vault as { server?: string } | undefined)?.server,
      tier: catalog.namespaceLabels('shop')?.tier,
    });
  };
  caches.clusterSecretStores.onEvent(record);
  caches.namespaces.onEvent(record);
  const start = catalog.generation;
  caches.clusterSecretStores.start();
  caches.namespaces.start();
  caches.secretStores.start();
  clusterSource.completeStart();
  namespaceSource.completeStart();
  await flush();
  const afterSync = catalog.generation;
  t.ok(afterSync > start, 'the first list counts as a change');
  clusterSource.upsert(store('vault', 'https://b'));
  namespaceSource.upsert({ metadata: { name: 'shop', labels: { tier: 'prod' } } });
  clusterSource.remove(store('vault', 'https://b'));
  t.equal(catalog.generation, afterSync + 3, 'one step per event');
  // Listeners registered after the catalog's see the new contents and the new generation together.
  const changes = seen.slice(-3);
  t.same(changes.map((s) => [s.server, s.tier]), [['https://b', 'dev'], ['https://b', 'prod'], [undefined, 'prod']]);
  t.ok(changes.every((s, i) => i === 0 || s.generation > changes[i - 1]!.generation));
  await Promise.all(Object.values(caches).map((cache) => cache.stop()));
});
