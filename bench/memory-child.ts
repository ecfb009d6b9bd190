// Child of bench/memory.ts (run with --expose-gc): fills the cluster caches the webhook reads
// — stores and namespaces through InformerStoreCatalog, generated ExternalSecrets and
// SecretProviderClasses through the KubeObjectWriter — and reports RSS after each step.
import { readFileSync } from 'node:fs';
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { planInjection } from '../src/core/plan.ts';
import { InformerStoreCatalog } from '../src/kube/catalog.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../src/providers/index.ts';
import { STORES_FILE, generateCorpus, loadTemplates } from './corpus.ts';
import { MapInformerSource, asStored, informerCache, startFakeCluster } from './fake-cluster.ts';
import type { MemoryResult, MemoryStep } from './memory.ts';

const items = Number(process.argv[2] ?? 10_000);
const NAMESPACES = 500;
const POOL_SIZE = 200;
const steps: MemoryStep[] = [];
let stepStartedMs = performance.now();

function measure(label: string, count: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  const memory = process.memoryUsage();
  steps.push({ label, items: count, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, seconds: (performance.now() - stepStartedMs) / 1000 });
  stepStartedMs = performance.now();
}

/** Stores as the API server serves them: the templates, copied under new names, with status. */
function clusterStores(count: number): { cluster: KubernetesObject[]; namespaced: KubernetesObject[]; namespaces: V1Namespace[] } {
  const documents = parseAllDocuments(readFileSync(STORES_FILE, 'utf8')).map((d) => d.toJS() as KubernetesObject);
  const templates = documents.filter((d) => d.kind === 'ClusterSecretStore' || d.kind === 'SecretStore');
  const namespaces = documents.filter((d) => d.kind === 'Namespace') as V1Namespace[];
  for (let i = 0; i < NAMESPACES; i++) {
    namespaces.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `tenant-${i}`, labels: { 'kubernetes.io/metadata.name': `tenant-${i}`, 'secrets.example.com/tier': i % 3 === 0 ? 'prod' : 'dev' } } });
  }
  const cluster: KubernetesObject[] = [];
  const namespaced: KubernetesObject[] = [];
  const status = { capabilities: 'ReadWrite', conditions: [{ type: 'Ready', status: 'True', reason: 'Valid', message: 'store validated', lastTransitionTime: '2026-01-15T09:30:00Z' }] };
  for (let i = 0; i < count; i++) {
    const template = templates[i % templates.length] as KubernetesObject;
    const isCluster = template.kind === 'ClusterSecretStore';
    const copy = {
      ...structuredClone(template),
      metadata: {
        ...template.metadata,
        name: i < templates.length ? template.metadata?.name : `${template.metadata?.name}-${i}`,
        ...(isCluster ? {} : { namespace: i < templates.length ? template.metadata?.namespace : `tenant-${i % NAMESPACES}` }),
      },
      status,
    };
    (isCluster ? cluster : namespaced).push(asStored(copy, 'kubectl'));
  }
  return { cluster, namespaced, namespaces };
}

function filledSource<T extends KubernetesObject>(objects: readonly T[]): MapInformerSource<T> {
  const source = new MapInformerSource<T>();
  for (const object of objects) source.put(object);
  return source;
}

async function main(): Promise<MemoryResult> {
  measure('started (modules loaded)', 0);

  const stores = clusterStores(items);
  const storeCaches = {
    clusterSecretStores: informerCache('clustersecretstores', filledSource(stores.cluster)),
    secretStores: informerCache('secretstores', filledSource(stores.namespaced)),
    namespaces: informerCache('namespaces', filledSource(stores.namespaces)),
  };
  await new Promise<void>((resolve) => setImmediate(resolve));
  const catalog = new InformerStoreCatalog(storeCaches);
  measure(`${items} stores (+${stores.namespaces.length} namespaces) in the informer caches`, items);

  const cluster = await startFakeCluster();
  // A pool of distinct pods, each admitted under many workload names: every name gets its own
  // pair of objects, of the size the pool's pods give, without generating 10,000 reviews.
  const pool = generateCorpus(loadTemplates(), 'hot', { seed: 20260115, workloads: POOL_SIZE, podsPerWorkload: 1 }).map(
    (entry) => (JSON.parse(entry.body) as { request: { object: { metadata?: unknown; spec?: unknown }; namespace: string } }).request,
  );
  const config = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  const signal = new AbortController().signal;
  let ensured = 0;
  for (let i = 0; i < items; i++) {
    const request = pool[i % pool.length] as (typeof pool)[number];
    const plan = planInjection({ pod: request.object, namespace: request.namespace, workload: `workload-${i}` }, catalog, config);
    if (plan.action !== 'inject') throw new Error(`pool pod ${i % pool.length} was not injected: ${JSON.stringify(plan)}`);
    await cluster.writer.ensure(plan.objects, { signal });
    ensured++;
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  pool.length = 0;
  const cached = cluster.caches.externalSecrets.list().length + cluster.caches.secretProviderClasses.list().length;
  measure(`${ensured} generated object pairs (${cached} objects) in the writer's caches`, ensured);
  if (cluster.api.applies !== 2 * ensured) throw new Error(`expected ${2 * ensured} applies, saw ${cluster.api.applies}`);
  return { items, steps };
}

main().then(
  (result) => {
    process.send?.(result);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
