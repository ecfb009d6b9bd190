// An in-memory stand-in for the Kubernetes API behind the cluster writer and caches, so the
// benchmark can run the real KubeObjectWriter (cache lookup, same-hash skip, single-flight)
// and measure the memory of full caches without a control plane.
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeObject } from '../src/core/types.ts';
import type { KubeWriteApi, ObjectRef } from '../src/kube/api.ts';
import { DEFAULT_CACHE_TIMING, InformerCache, cacheKey, type InformerSource } from '../src/kube/cache.ts';
import { systemClock } from '../src/kube/clock.ts';
import { KubeObjectWriter, type GeneratedObjectCaches } from '../src/kube/writer.ts';
import { createMetrics } from '../src/metrics.ts';

type Listener = (object: never) => void;

/** An informer over a Map: lists what it holds and reports changes like a watch would. */
export class MapInformerSource<T extends KubernetesObject> implements InformerSource<T> {
  readonly #objects = new Map<string, T>();
  readonly #listeners: Record<'add' | 'update' | 'delete' | 'error', Listener[]> = { add: [], update: [], delete: [], error: [] };

  on(verb: 'add' | 'update' | 'delete' | 'error', callback: Listener): void {
    this.#listeners[verb].push(callback);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(cacheKey(namespace, name));
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Stores `object` and tells listeners, as a watch event after a write would. */
  put(object: T): void {
    const key = cacheKey(object.metadata?.namespace, object.metadata?.name ?? '');
    const verb = this.#objects.has(key) ? 'update' : 'add';
    this.#objects.set(key, object);
    for (const listener of this.#listeners[verb]) listener(object as never);
  }
}

let resourceVersion = 1000;

/** What the API server adds to an object it stores: identity, versions, managed fields. */
export function asStored<T extends KubernetesObject>(object: T, manager: string): T {
  const metadata = object.metadata ?? {};
  return {
    ...object,
    metadata: {
      ...metadata,
      uid: metadata.uid ?? crypto.randomUUID(),
      resourceVersion: String(++resourceVersion),
      generation: 1,
      creationTimestamp: new Date('2026-01-15T09:30:00Z'),
      managedFields: [
        { manager, operation: 'Apply', apiVersion: object.apiVersion, time: new Date('2026-01-15T09:30:00Z'), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {}, 'f:spec': {} } },
      ],
    },
  };
}

/** Applies land in the sources; the watch event follows the answer, as on a real cluster. */
export class FakeKubeWriteApi implements KubeWriteApi {
  readonly #sources: Record<string, MapInformerSource<KubernetesObject>>;
  applies = 0;

  constructor(sources: { readonly externalSecrets: MapInformerSource<KubernetesObject>; readonly secretProviderClasses: MapInformerSource<KubernetesObject> }) {
    this.#sources = { ExternalSecret: sources.externalSecrets, SecretProviderClass: sources.secretProviderClasses };
  }

  async apply(object: KubeObject): Promise<KubernetesObject> {
    const source = this.#sources[object.kind];
    if (!source) throw new Error(`fake API cannot apply ${object.kind}`);
    this.applies++;
    const stored = asStored(structuredClone(object) as KubernetesObject, 'hybrid-secrets');
    setImmediate(() => source.put(stored));
    return stored;
  }

  async delete(_target: ObjectRef): Promise<void> {}

  async createEvent(_event: CoreV1Event): Promise<void> {}
}

export interface FakeCluster {
  readonly writer: KubeObjectWriter;
  readonly caches: GeneratedObjectCaches;
  readonly api: FakeKubeWriteApi;
  stop(): Promise<void>;
}

export const silentLogger = pino({ level: 'silent' });

export function informerCache<T extends KubernetesObject>(name: string, source: InformerSource<T>): InformerCache<T> {
  const cache = new InformerCache<T>({ name, ...DEFAULT_CACHE_TIMING }, { makeSource: () => source, clock: systemClock, logger: silentLogger });
  cache.start();
  return cache;
}

/** The cluster writer over in-memory caches and the fake API; caches are synced on return. */
export async function startFakeCluster(): Promise<FakeCluster> {
  const sources = { externalSecrets: new MapInformerSource<KubernetesObject>(), secretProviderClasses: new MapInformerSource<KubernetesObject>() };
  const caches = {
    externalSecrets: informerCache('externalsecrets', sources.externalSecrets),
    secretProviderClasses: informerCache('secretproviderclasses', sources.secretProviderClasses),
  };
  // The sources resolve start() at once; let the caches see that.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const api = new FakeKubeWriteApi(sources);
  const writer = new KubeObjectWriter(
    { apiDeadlineMs: 5_000 },
    { api, caches, clock: systemClock, metrics: createMetrics(), logger: silentLogger },
  );
  return {
    writer,
    caches,
    api,
    stop: async () => {
      await Promise.all([caches.externalSecrets.stop(), caches.secretProviderClasses.stop()]);
    },
  };
}
