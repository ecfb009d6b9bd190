// The in-cluster Runtime: informer caches for stores, namespaces and generated objects; the
// server-side-apply writer; and, on the elected replica, the reconciler over a pod cache.
//
//   const runtime = await startKubeRuntime(options, { logger, metrics, renderGeneratedObjects });
//   runtime.isReady()            // false until every cache has listed once
//   runtime.leaderElector        // for other leader-only work (certificate rotation)
//   await runtime.stop()         // releases the lease, stops watches
import type { KubeConfig, KubernetesObject, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { GeneratedObjects, GeneratedObjectWriter, InjectionConfig, InjectionTarget, Runtime } from '../core/types.ts';
import type { Metrics } from '../metrics.ts';
import type { StoreCatalog } from '../stores/types.ts';
import {
  ClientNodeLeaseApi,
  ClientNodeWriteApi,
  clientNodeInformerSources,
  type InformerSources,
  type KubeWriteApi,
  type LeaseApi,
} from './api.ts';
import { DEFAULT_CACHE_TIMING, InformerCache, type InformerSource } from './cache.ts';
import { InformerStoreCatalog } from './catalog.ts';
import { type Clock, systemClock } from './clock.ts';
import { toKubeApiError } from './errors.ts';
import { EventRecorder } from './events.ts';
import { DEFAULT_LEADER_ELECTION, LeaderElector } from './leader.ts';
import { DEFAULT_RECONCILE_TIMING, Reconciler } from './reconciler.ts';
import { renderInjectedPod } from '../core/injected.ts';
import { KubeObjectWriter } from './writer.ts';

/** Long enough for any later admission step and the pod's creation to finish. */
export const DEFAULT_ORPHAN_GRACE_MS = 10 * 60_000;

/**
 * Renders the generated objects of a pod that is already injected, from its annotations and
 * the current stores (the core's pure renderer); undefined when it cannot be rendered.
 */
export type RenderGeneratedObjects = (
  target: InjectionTarget,
  catalog: StoreCatalog,
  config: InjectionConfig,
) => GeneratedObjects | undefined;

export interface KubeRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  /** Deadline of each review's writes (and of the reconciler's calls). */
  readonly apiDeadlineMs: number;
  /** How long an ownerless, unreferenced generated object is kept before deletion. */
  readonly orphanGraceMs: number;
  readonly lease: { readonly namespace: string; readonly name: string; readonly identity: string };
  readonly injection: InjectionConfig;
}

/** How long repeated Events of one reason on one object are dropped. */
const EVENT_DEDUPE_MS = 5 * 60_000;

export interface KubeRuntimeDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** How the reconciler renders an injected pod's objects; defaults to `renderInjectedPod`. */
  readonly renderGeneratedObjects?: RenderGeneratedObjects;
  readonly clock?: Clock;
  /** Replace the @kubernetes/client-node implementations (tests). */
  readonly sources?: InformerSources;
  readonly writeApi?: KubeWriteApi;
  readonly leaseApi?: LeaseApi;
}

export interface KubeRuntime extends Runtime {
  /** Elects one replica for background work; also used for certificate rotation. */
  readonly leaderElector: LeaderElector;
}

export async function startKubeRuntime(options: KubeRuntimeOptions, deps: KubeRuntimeDeps): Promise<KubeRuntime> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'kube' });
  const sources = deps.sources ?? clientNodeInformerSources(options.kubeConfig);
  const writeApi = deps.writeApi ?? new ClientNodeWriteApi(options.kubeConfig);
  const leaseApi = deps.leaseApi ?? new ClientNodeLeaseApi(options.kubeConfig, options.lease);

  const cache = <T extends KubernetesObject>(name: string, makeSource: () => InformerSource<T>) =>
    new InformerCache<T>({ name, ...DEFAULT_CACHE_TIMING }, { makeSource, clock, logger });
  const caches = {
    clusterSecretStores: cache('clustersecretstores', sources.clusterSecretStores),
    secretStores: cache('secretstores', sources.secretStores),
    namespaces: cache<V1Namespace>('namespaces', sources.namespaces),
    externalSecrets: cache('externalsecrets', sources.externalSecrets),
    secretProviderClasses: cache('secretproviderclasses', sources.secretProviderClasses),
  };
  // Pods are only watched on the leader: only the reconciler needs them.
  const pods = cache<V1Pod>('pods', sources.pods);
  const servingCaches = Object.values(caches);
  for (const c of servingCaches) c.start();

  const catalog = new InformerStoreCatalog(caches);
  const generated = { externalSecrets: caches.externalSecrets, secretProviderClasses: caches.secretProviderClasses };
  const kubeWriter = new KubeObjectWriter(
    { apiDeadlineMs: options.apiDeadlineMs },
    { api: writeApi, caches: generated, clock, metrics: deps.metrics, logger },
  );
  const events = new EventRecorder(
    { instance: options.lease.identity, dedupeMs: EVENT_DEDUPE_MS, apiDeadlineMs: options.apiDeadlineMs },
    { api: writeApi, clock, logger },
  );
  const writer: GeneratedObjectWriter = {
    isCurrent: (objects) => kubeWriter.isCurrent(objects),
    async ensure(objects, ensureOptions) {
      try {
        await kubeWriter.ensure(objects, ensureOptions);
      } catch (error) {
        // The pod does not exist yet (its admission is being denied): tell its workload.
        const owner = objects.owner;
        if (owner !== undefined) {
          void events.emit(
            { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, namespace: objects.namespace },
            'Warning',
            'GeneratedObjectsApplyFailed',
            toKubeApiError(error).message,
          );
        }
        throw error;
      }
    },
  };

  const render = deps.renderGeneratedObjects ?? renderInjectedPod;
  const reconciler = new Reconciler(
    {
      ...DEFAULT_RECONCILE_TIMING,
      orphanGraceMs: options.orphanGraceMs,
      apiDeadlineMs: options.apiDeadlineMs,
    },
    {
      pods,
      generated,
      writer: kubeWriter,
      api: writeApi,
      events,
      renderForPod: (pod) => render({ pod, namespace: pod.metadata?.namespace ?? '' }, catalog, options.injection),
      clock,
      logger,
      metrics: deps.metrics,
    },
  );

  const leaderElector = new LeaderElector(
    { ...DEFAULT_LEADER_ELECTION, identity: options.lease.identity },
    { api: leaseApi, clock, logger },
  );
  leaderElector.onStartedLeading((signal) => {
    pods.start();
    reconciler.run(signal);
    signal.addEventListener('abort', () => void pods.stop(), { once: true });
  });
  leaderElector.start();

  let stopping: Promise<void> | undefined;
  return {
    catalog,
    writer,
    leaderElector,
    isReady: () => servingCaches.every((c) => c.hasSynced()),
    stop() {
      stopping ??= (async () => {
        await leaderElector.stop();
        await reconciler.idle();
        await Promise.all([...servingCaches, pods].map((c) => c.stop()));
      })();
      return stopping;
    },
  };
}
