// The background half of a webhook with side effects (it runs on the elected replica only):
// a later admission step may reject a pod after we created its objects, someone may delete them,
// and bare pods have no UID to own them at admission time. So, periodically and on changes:
// - heal:    every injected pod's ExternalSecret + SecretProviderClass exist (recreated if not);
// - adopt:   they list the pod's controller — or the bare pod itself — as an owner, so the
//            garbage collector removes them with their last owner;
// - collect: generated objects with no owner that no pod references are deleted once they have
//            been unreferenced for `orphanGraceMs`, with uid + resourceVersion preconditions so a
//            concurrent change wins over the deletion.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { STATUS_ANNOTATION, STATUS_INJECTED } from '../contract/parse.ts';
import { controllerOf } from '../core/names.ts';
import type { GeneratedObjects, KubeObject, OwnerRef } from '../core/types.ts';
import type { Metrics } from '../metrics.ts';
import { SPEC_HASH_LABEL, WORKLOAD_LABEL } from '../render/objects.ts';
import { CSI_DRIVER } from '../render/pod-patch.ts';
import { RESOURCES, type GeneratedKind, type KubeWriteApi } from './api.ts';
import type { CacheEvent, InformerCache } from './cache.ts';
import { type Clock, type Timer, deadlineSignal } from './clock.ts';
import { KubeApiError, isConflict, toKubeApiError } from './errors.ts';
import type { EventRecorder, EventSubject } from './events.ts';
import type { GeneratedObjectCaches, KubeObjectWriter } from './writer.ts';


export interface ReconcilerOptions {
  /** A full pass at least this often, whatever the watches say. */
  readonly intervalMs: number;
  /** Changes seen within this window are handled by one pass. */
  readonly debounceMs: number;
  readonly orphanGraceMs: number;
  /** Deadline of each delete call. */
  readonly apiDeadlineMs: number;
}

export const DEFAULT_RECONCILE_TIMING = { intervalMs: 60_000, debounceMs: 1_000 } as const;

export interface ReconcilerDeps {
  readonly pods: InformerCache<V1Pod>;
  readonly generated: GeneratedObjectCaches;
  readonly writer: Pick<KubeObjectWriter, 'ensure' | 'state'>;
  readonly api: Pick<KubeWriteApi, 'delete'>;
  readonly events: Pick<EventRecorder, 'emit'>;
  /**
   * The generated objects an injected pod needs, rendered again from its annotations and the
   * current stores; undefined when they cannot be rendered (annotations or store changed).
   * Without it, missing objects are not recreated; owners are still added from the caches.
   */
  readonly renderForPod?: (pod: V1Pod) => GeneratedObjects | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

type Counts = { healed: number; adopted: number; collected: number; failed: number };

export interface ReconcileSummary {
  readonly skipped?: 'caches not synced';
  readonly healed: number;
  readonly adopted: number;
  readonly collected: number;
  readonly failed: number;
}

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly deps: ReconcilerDeps;
  private readonly logger: Logger;
  /** When each ownerless, unreferenced generated object (by kind, then uid) was first seen so. */
  private readonly unreferencedSinceMs: Record<GeneratedKind, Map<string, number>> = {
    ExternalSecret: new Map(),
    SecretProviderClass: new Map(),
  };
  private pass: Promise<unknown> | undefined;
  /** A pass was asked for while one ran: run again, for the term (signal) that asked. */
  private rerun: AbortSignal | undefined;
  private debounce: Timer | undefined;

  constructor(options: ReconcilerOptions, deps: ReconcilerDeps) {
    this.options = options;
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'reconciler' });
  }

  /** Reconciles periodically and on relevant changes until `signal` aborts (leadership ends). */
  run(signal: AbortSignal): void {
    if (signal.aborted) return;
    const { pods, generated, clock } = this.deps;
    let periodic: Timer | undefined;
    const tick = (): void => {
      this.schedulePass(signal);
      periodic = clock.setTimer(tick, this.options.intervalMs);
    };
    const onPod = (event: CacheEvent<V1Pod>): void => {
      if (event.type === 'resync' || (event.type !== 'delete' && isInjected(event.object))) this.trigger(signal);
    };
    const onGenerated = (event: CacheEvent<KubernetesObject>): void => {
      if (event.type === 'delete' || event.type === 'resync') this.trigger(signal);
    };
    const unsubscribe = [
      pods.onEvent(onPod),
      generated.externalSecrets.onEvent(onGenerated),
      generated.secretProviderClasses.onEvent(onGenerated),
    ];
    signal.addEventListener(
      'abort',
      () => {
        periodic?.cancel();
        this.debounce?.cancel();
        this.debounce = undefined;
        for (const off of unsubscribe) off();
        this.unreferencedSinceMs.ExternalSecret.clear();
        this.unreferencedSinceMs.SecretProviderClass.clear();
      },
      { once: true },
    );
    tick();
  }

  /** Resolves when no pass is running (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.pass !== undefined) await this.pass;
  }

  private trigger(signal: AbortSignal): void {
    if (this.debounce !== undefined || signal.aborted) return;
    this.debounce = this.deps.clock.setTimer(() => {
      this.debounce = undefined;
      this.schedulePass(signal);
    }, this.options.debounceMs);
  }

  private schedulePass(signal: AbortSignal): void {
    if (signal.aborted) return;
    if (this.pass !== undefined) {
      this.rerun = signal;
      return;
    }
    this.pass = this.reconcileOnce(signal)
      .catch((error: unknown) => this.logger.error({ err: error }, 'reconcile pass failed'))
      .finally(() => {
        this.pass = undefined;
        const next = this.rerun;
        this.rerun = undefined;
        if (next !== undefined) this.schedulePass(next);
      });
  }

  async reconcileOnce(signal: AbortSignal): Promise<ReconcileSummary> {
    const { pods, generated } = this.deps;
    if (!pods.hasSynced() || !generated.externalSecrets.hasSynced() || !generated.secretProviderClasses.hasSynced()) {
      return { skipped: 'caches not synced', healed: 0, adopted: 0, collected: 0, failed: 0 };
    }
    const counts: Counts = { healed: 0, adopted: 0, collected: 0, failed: 0 };
    const allPods = pods.list();
    for (const pod of allPods) {
      if (signal.aborted) return counts;
      if (isInjected(pod) && isLive(pod)) await this.healPod(pod, signal, counts);
    }
    const referenced = referencedNames(allPods);
    await this.collect('ExternalSecret', generated.externalSecrets, referenced, signal, counts);
    await this.collect('SecretProviderClass', generated.secretProviderClasses, referenced, signal, counts);
    return counts;
  }

  private async healPod(pod: V1Pod, signal: AbortSignal, counts: Counts): Promise<void> {
    const namespace = pod.metadata?.namespace ?? '';
    const owner = podOwner(pod);
    const mounted = mountedProviderClasses(pod);
    // The common case — what the pod mounts exists and lists its owner — needs no rendering.
    for (const name of mounted) if (this.holdsOwner(namespace, name, owner)) return;
    const cachedPairs = [...mounted].flatMap((name) => this.cachedPair(namespace, name) ?? []).map((pair) => ({ ...pair, owner }));
    // Existing objects that only lack the owner get it from their cached copy; this also works
    // when the annotations or stores changed since admission.
    const adoptable = cachedPairs.find((pair) => this.deps.writer.state(pair) === 'owner-missing');
    if (adoptable !== undefined) {
      await this.ensurePair(pod, adoptable, signal, counts);
      return;
    }
    const rendered = this.render(pod);
    if (rendered === undefined) return;
    if (!mounted.has(rendered.name)) {
      // Recreating under the new name would not help this pod, and writing the new spec under
      // the old name would break the name ↔ spec relation every other pod relies on.
      this.deps.metrics.reconcileActions.inc({ action: 'heal', result: 'drifted' });
      this.logger.warn({ namespace, pod: pod.metadata?.name, rendered: rendered.name }, 'injected pod mounts objects that no longer match its annotations');
      return;
    }
    await this.ensurePair(pod, { ...rendered, owner }, signal, counts);
  }

  private render(pod: V1Pod): GeneratedObjects | undefined {
    if (this.deps.renderForPod === undefined) return undefined;
    try {
      return this.deps.renderForPod(pod);
    } catch (error) {
      this.logger.error({ namespace: pod.metadata?.namespace, pod: pod.metadata?.name, err: error }, 'rendering generated objects failed');
      return undefined;
    }
  }

  /** Both objects of the pair are cached, with one spec hash, and list `owner`. */
  private holdsOwner(namespace: string, name: string, owner: OwnerRef | undefined): boolean {
    const externalSecret = this.deps.generated.externalSecrets.get(name, namespace);
    const secretProviderClass = this.deps.generated.secretProviderClasses.get(name, namespace);
    if (externalSecret === undefined || secretProviderClass === undefined) return false;
    if (externalSecret.metadata?.labels?.[SPEC_HASH_LABEL] !== secretProviderClass.metadata?.labels?.[SPEC_HASH_LABEL]) return false;
    if (owner === undefined) return true;
    const listed = (object: KubernetesObject) => (object.metadata?.ownerReferences ?? []).some((ref) => ref.uid === owner.uid);
    return listed(externalSecret) && listed(secretProviderClass);
  }

  /** A generated pair as the caches hold it, in the shape the writer applies. */
  private cachedPair(namespace: string, name: string): GeneratedObjects | undefined {
    const externalSecret = this.deps.generated.externalSecrets.get(name, namespace);
    const secretProviderClass = this.deps.generated.secretProviderClasses.get(name, namespace);
    if (externalSecret === undefined || secretProviderClass === undefined) return undefined;
    const labels = externalSecret.metadata?.labels ?? {};
    return {
      name,
      namespace,
      specHash: labels[SPEC_HASH_LABEL] ?? '',
      workload: labels[WORKLOAD_LABEL] ?? '',
      externalSecret: toKubeObject(externalSecret, name, namespace),
      secretProviderClass: toKubeObject(secretProviderClass, name, namespace),
    };
  }

  private async ensurePair(pod: V1Pod, objects: GeneratedObjects, signal: AbortSignal, counts: Counts): Promise<void> {
    const { metrics, writer, events } = this.deps;
    const state = writer.state(objects);
    if (state === 'current') return;
    const action = state === 'owner-missing' ? 'adopt' : 'heal';
    const podRef = { namespace: pod.metadata?.namespace, pod: pod.metadata?.name, name: objects.name };
    const subject = podSubject(pod);
    try {
      await writer.ensure(objects, { signal });
      metrics.reconcileActions.inc({ action, result: 'ok' });
      if (action === 'heal') {
        counts.healed++;
        this.logger.info(podRef, 'recreated generated objects');
        await events.emit(
          subject,
          'Normal',
          'GeneratedObjectsRecreated',
          `Recreated ExternalSecret and SecretProviderClass ${objects.namespace}/${objects.name}`,
        );
      } else {
        counts.adopted++;
        this.logger.info({ ...podRef, owner: objects.owner?.name }, 'added owner to generated objects');
      }
    } catch (error) {
      if (signal.aborted) return;
      counts.failed++;
      metrics.reconcileActions.inc({ action, result: 'error' });
      this.logger.warn({ ...podRef, err: error }, `${action} failed`);
      await events.emit(subject, 'Warning', 'GeneratedObjectsApplyFailed', toKubeApiError(error).message);
    }
  }

  private async collect(
    kind: GeneratedKind,
    cache: InformerCache<KubernetesObject>,
    referenced: ReadonlyMap<string, ReadonlySet<string>>,
    signal: AbortSignal,
    counts: Counts,
  ): Promise<void> {
    const { clock, metrics, api } = this.deps;
    const unreferencedSinceMs = this.unreferencedSinceMs[kind];
    const resource = RESOURCES[kind].plural;
    const now = clock.now();
    const seen = new Set<string>();
    for (const object of cache.list()) {
      if (signal.aborted) return;
      const { name, namespace, uid, resourceVersion, ownerReferences, creationTimestamp } = object.metadata ?? {};
      if (name === undefined || namespace === undefined || uid === undefined || resourceVersion === undefined) continue;
      seen.add(uid);
      // Objects with owners are the garbage collector's: it deletes them with their last owner.
      if ((ownerReferences ?? []).length > 0 || referenced.get(namespace)?.has(name) === true) {
        unreferencedSinceMs.delete(uid);
        continue;
      }
      const sinceMs = unreferencedSinceMs.get(uid) ?? now;
      unreferencedSinceMs.set(uid, sinceMs);
      const createdMs = creationTimestamp === undefined ? now : new Date(creationTimestamp).getTime();
      if (now - sinceMs < this.options.orphanGraceMs || now - createdMs < this.options.orphanGraceMs) continue;
      const deadline = deadlineSignal(
        clock,
        this.options.apiDeadlineMs,
        () => new KubeApiError(`no answer from the Kubernetes API within ${this.options.apiDeadlineMs} ms`),
        signal,
      );
      const what = { kind, namespace, name };
      try {
        await api.delete(what, { uid, resourceVersion }, deadline.signal);
        metrics.kubeWrites.inc({ resource, verb: 'delete', result: 'ok' });
        metrics.reconcileActions.inc({ action: 'collect', result: 'ok' });
        unreferencedSinceMs.delete(uid);
        counts.collected++;
        this.logger.info(what, 'deleted orphaned generated object');
      } catch (error) {
        metrics.kubeWrites.inc({ resource, verb: 'delete', result: 'error' });
        if (isConflict(error)) {
          // Changed since we looked (e.g. a review just added an owner): keep it.
          metrics.reconcileActions.inc({ action: 'collect', result: 'conflict' });
          unreferencedSinceMs.delete(uid);
        } else {
          metrics.reconcileActions.inc({ action: 'collect', result: 'error' });
          counts.failed++;
          this.logger.warn({ ...what, err: error }, 'deleting orphaned generated object failed');
        }
      } finally {
        deadline.release();
      }
    }
    for (const uid of unreferencedSinceMs.keys()) {
      if (!seen.has(uid)) unreferencedSinceMs.delete(uid);
    }
  }
}

export function isInjected(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[STATUS_ANNOTATION] === STATUS_INJECTED;
}

/** Pods that still run or may run: not finished, not being deleted. */
function isLive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp === undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

/**
 * Who should own a pod's generated objects: its controller (ReplicaSet, StatefulSet, …), or the
 * pod itself when it has none (it has a UID now, unlike at admission).
 */
function podOwner(pod: V1Pod): OwnerRef | undefined {
  const controller = controllerOf({ ...pod.metadata });
  if (controller !== undefined) return controller;
  const { name, uid } = pod.metadata ?? {};
  if (name === undefined || uid === undefined) return undefined;
  return { apiVersion: 'v1', kind: 'Pod', name, uid };
}

function toKubeObject(object: KubernetesObject, name: string, namespace: string): KubeObject {
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    metadata: { name, namespace, labels: object.metadata?.labels ?? {} },
    spec: ((object as { spec?: Record<string, unknown> }).spec ?? {}),
  };
}

function podSubject(pod: V1Pod): EventSubject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid,
  };
}

function mountedProviderClasses(pod: V1Pod): Set<string> {
  const names = new Set<string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const spc = volume.csi?.driver === CSI_DRIVER ? volume.csi.volumeAttributes?.secretProviderClass : undefined;
    if (spc !== undefined) names.add(spc);
  }
  return names;
}

/**
 * Names of SecretProviderClasses and Secrets each namespace's pods use. A generated pair shares
 * one name (ExternalSecret, its Secret, the SPC), so a reference to either keeps both.
 */
export function referencedNames(pods: readonly V1Pod[]): Map<string, Set<string>> {
  const byNamespace = new Map<string, Set<string>>();
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace;
    if (namespace === undefined) continue;
    let names = byNamespace.get(namespace);
    if (names === undefined) byNamespace.set(namespace, (names = new Set()));
    for (const name of mountedProviderClasses(pod)) names.add(name);
    for (const volume of pod.spec?.volumes ?? []) {
      if (volume.secret?.secretName !== undefined) names.add(volume.secret.secretName);
      for (const source of volume.projected?.sources ?? []) if (source.secret?.name !== undefined) names.add(source.secret.name);
    }
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    for (const container of containers) {
      for (const env of container.env ?? []) {
        const secretName = env.valueFrom?.secretKeyRef?.name;
        if (secretName !== undefined) names.add(secretName);
      }
      for (const source of container.envFrom ?? []) if (source.secretRef?.name !== undefined) names.add(source.secretRef.name);
    }
  }
  return byNamespace;
}
