// Micro-benchmark of the generated-object writer over in-memory caches and a fake API with a
// simulated round trip. Prints numbers; asserts nothing.
//   node bench/kube-writer.ts        (Node 24: `export PATH=$PWD/node_modules/.bin:$PATH` first)
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { GeneratedObjects, KubeObject, OwnerRef } from '../src/core/types.ts';
import { InformerCache, type InformerSource } from '../src/kube/cache.ts';
import { systemClock } from '../src/kube/clock.ts';
import type { KubeWriteApi } from '../src/kube/api.ts';
import { KubeObjectWriter } from '../src/kube/writer.ts';
import { createMetrics } from '../src/metrics.ts';

const ROUND_TRIP_MS = 5;
const logger = pino({ level: 'silent' });

function emptySource(): InformerSource<KubernetesObject> {
  return {
    on: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
    get: () => undefined,
    list: () => [],
  };
}

class SlowApi implements Pick<KubeWriteApi, 'apply'> {
  writes = 0;
  async apply(object: KubeObject): Promise<KubernetesObject> {
    this.writes++;
    await new Promise((resolve) => setTimeout(resolve, ROUND_TRIP_MS));
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(this.writes) } } as KubernetesObject;
  }
}

function pair(owner: OwnerRef): GeneratedObjects {
  const labels = { 'app.kubernetes.io/managed-by': 'hybrid-secrets', 'hybrid-secrets.io/spec-hash': 'abc123' };
  const metadata = { name: 'web-abc123', namespace: 'team-a', labels };
  return {
    name: 'web-abc123',
    namespace: 'team-a',
    specHash: 'abc123',
    workload: 'web',
    owner,
    externalSecret: { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata, spec: { data: [] } },
    secretProviderClass: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata, spec: { provider: 'vault' } },
  };
}

async function freshWriter() {
  const caches = {
    externalSecrets: new InformerCache<KubernetesObject>({ name: 'es', resyncMs: 3_600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 1_000, syncTimeoutMs: 60_000 }, { makeSource: emptySource, clock: systemClock, logger }),
    secretProviderClasses: new InformerCache<KubernetesObject>({ name: 'spc', resyncMs: 3_600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 1_000, syncTimeoutMs: 60_000 }, { makeSource: emptySource, clock: systemClock, logger }),
  };
  caches.externalSecrets.start();
  caches.secretProviderClasses.start();
  await new Promise((resolve) => setImmediate(resolve));
  const api = new SlowApi();
  const writer = new KubeObjectWriter(
    { apiDeadlineMs: 2_000 },
    { api: api as unknown as KubeWriteApi, caches, clock: systemClock, metrics: createMetrics(), logger },
  );
  const stop = () => Promise.all([caches.externalSecrets.stop(), caches.secretProviderClasses.stop()]);
  return { writer, api, stop };
}

const rs = (n: number): OwnerRef => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${n}`, uid: `uid-${n}` });
const signal = new AbortController().signal;

async function writesFor(owners: OwnerRef[]): Promise<number> {
  const { writer, api, stop } = await freshWriter();
  await Promise.all(owners.map((owner) => writer.ensure(pair(owner), { signal })));
  await stop();
  return api.writes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(`writes for 100 concurrent ensures, one spec, one ReplicaSet: ${await writesFor(Array.from({ length: 100 }, () => rs(1)))}`);
  console.log(
    `writes for 100 concurrent ensures, one spec, 2 ReplicaSets (rollout): ${await writesFor(Array.from({ length: 100 }, (_, i) => rs(i % 2)))}`,
  );

  const { writer, stop } = await freshWriter();
  const objects = pair(rs(1));
  await writer.ensure(objects, { signal });
  const iterations = 200_000;
  const runs: number[] = [];
  const baselineRuns: number[] = [];
  const noop = async (_o: GeneratedObjects, _s: { signal: AbortSignal }) => undefined;
  for (let run = 0; run < 5; run++) {
    let started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await writer.ensure(objects, { signal });
    runs.push(Number(process.hrtime.bigint() - started) / iterations);
    started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await noop(objects, { signal });
    baselineRuns.push(Number(process.hrtime.bigint() - started) / iterations);
  }
  await stop();
  const warm = median(runs);
  const baseline = median(baselineRuns);
  console.log(
    `warm-cache ensure: median ${warm.toFixed(0)} ns/op over 5 runs of ${iterations} (an empty async call: ${baseline.toFixed(0)} ns/op, ratio ${(warm / baseline).toFixed(1)}x)`,
  );
}

await main();
