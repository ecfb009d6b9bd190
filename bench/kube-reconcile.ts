// Micro-benchmark: one reconcile pass over many injected pods whose objects all exist (the
// steady state on the elected replica). Prints numbers; asserts nothing.
//   node bench/kube-reconcile.ts     (Node 24: `export PATH=$PWD/node_modules/.bin:$PATH` first)
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeWriteApi } from '../src/kube/api.ts';
import { DEFAULT_CACHE_TIMING, InformerCache, type InformerSource } from '../src/kube/cache.ts';
import { systemClock } from '../src/kube/clock.ts';
import { EventRecorder } from '../src/kube/events.ts';
import { Reconciler } from '../src/kube/reconciler.ts';
import { KubeObjectWriter } from '../src/kube/writer.ts';
import { createMetrics } from '../src/metrics.ts';

const WORKLOADS = 100;
const PODS_PER_WORKLOAD = 100;
const logger = pino({ level: 'silent' });

function staticSource<T extends KubernetesObject>(objects: T[]): InformerSource<T> {
  const byKey = new Map(objects.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o]));
  return {
    on: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
    get: (name, namespace) => byKey.get(`${namespace}/${name}`),
    list: () => objects,
  };
}

const pods: V1Pod[] = [];
const es: KubernetesObject[] = [];
const spc: KubernetesObject[] = [];
for (let w = 0; w < WORKLOADS; w++) {
  const name = `app${w}-0123456789`;
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `app${w}-5d8f`, uid: `rs-${w}`, controller: true };
  const metadata = (kind: string) => ({
    name,
    namespace: 'team-a',
    uid: `${kind}-${w}`,
    resourceVersion: '1',
    labels: { 'app.kubernetes.io/managed-by': 'hybrid-secrets', 'hybrid-secrets.io/spec-hash': '0123456789' },
    ownerReferences: [{ ...rs, controller: false }],
  });
  es.push({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: metadata('es') });
  spc.push({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: metadata('spc') });
  for (let p = 0; p < PODS_PER_WORKLOAD; p++) {
    pods.push({
      metadata: { name: `app${w}-5d8f-${p}`, namespace: 'team-a', uid: `pod-${w}-${p}`, annotations: { 'hybrid-secrets.io/status': 'injected' }, ownerReferences: [rs] },
      spec: {
        containers: [{ name: 'app', env: [{ name: 'DB', valueFrom: { secretKeyRef: { name, key: 'db' } } }] }],
        volumes: [{ name: 'hybrid-secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: name } } }],
      },
    });
  }
}

const cache = <T extends KubernetesObject>(name: string, objects: T[]) =>
  new InformerCache<T>({ name, ...DEFAULT_CACHE_TIMING }, { makeSource: () => staticSource(objects), clock: systemClock, logger });
const podCache = cache('pods', pods);
const generated = { externalSecrets: cache('es', es), secretProviderClasses: cache('spc', spc) };
for (const c of [podCache, generated.externalSecrets, generated.secretProviderClasses]) c.start();
await new Promise((resolve) => setImmediate(resolve));

let writes = 0;
const api = {
  apply: async () => {
    writes++;
    return {};
  },
  delete: async () => {
    writes++;
  },
  createEvent: async () => undefined,
} as unknown as KubeWriteApi;
const metrics = createMetrics();
const reconciler = new Reconciler(
  { intervalMs: 60_000, debounceMs: 1_000, orphanGraceMs: 600_000, apiDeadlineMs: 4_000 },
  {
    pods: podCache,
    generated,
    writer: new KubeObjectWriter({ apiDeadlineMs: 4_000 }, { api, caches: generated, clock: systemClock, metrics, logger }),
    api,
    events: new EventRecorder({ instance: 'bench', dedupeMs: 60_000, apiDeadlineMs: 4_000 }, { api, clock: systemClock, logger }),
    renderForPod: () => {
      throw new Error('steady state must not render');
    },
    clock: systemClock,
    logger,
    metrics,
  },
);

const signal = new AbortController().signal;
const timesMs: number[] = [];
for (let run = 0; run < 7; run++) {
  const started = process.hrtime.bigint();
  await reconciler.reconcileOnce(signal);
  timesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
}
timesMs.sort((a, b) => a - b);
console.log(
  `reconcile pass over ${pods.length} injected pods / ${WORKLOADS} object pairs, all current: median ${timesMs[3]!.toFixed(1)} ms over 7 runs; API writes: ${writes}`,
);
for (const c of [podCache, generated.externalSecrets, generated.secretProviderClasses]) await c.stop();
