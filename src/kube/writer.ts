// Ensures the generated ExternalSecret + SecretProviderClass exist before a review is answered.
//
// - No write when the cache already holds both objects with the same spec hash and the owner.
// - Writes are serialised per object pair (namespace/name): a write for owners the running write
//   already covers joins it (100 pods of one ReplicaSet → one write per kind); any other waits
//   for it and then applies the union of the cached owners and its own. Server-side apply drops
//   owners a manager applied before and now omits, so two concurrent applies with different
//   owners would otherwise lose one.
// - Shared writes run under their own deadline (apiDeadlineMs), so one caller giving up does
//   not fail the others; each caller still stops waiting when its own signal aborts.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { GeneratedObjects, GeneratedObjectWriter, KubeObject, OwnerRef } from '../core/types.ts';
import type { Metrics } from '../metrics.ts';
import { SPEC_HASH_LABEL } from '../render/objects.ts';
import { resourceOf, type KubeWriteApi } from './api.ts';
import type { InformerCache } from './cache.ts';
import { type Clock, deadlineSignal, raceAbort } from './clock.ts';
import { KubeApiError, toKubeApiError } from './errors.ts';

export interface GeneratedObjectCaches {
  readonly externalSecrets: InformerCache<KubernetesObject>;
  readonly secretProviderClasses: InformerCache<KubernetesObject>;
}

/** How the cluster's copy of a pair compares with what a pod needs. */
export type PairState = 'current' | 'missing' | 'owner-missing' | 'stale';

interface InFlightWrite {
  readonly specHash: string;
  readonly ownerUids: ReadonlySet<string>;
  readonly done: Promise<void>;
}

export class KubeObjectWriter implements GeneratedObjectWriter {
  private readonly apiDeadlineMs: number;
  private readonly api: KubeWriteApi;
  private readonly caches: GeneratedObjectCaches;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly inFlight = new Map<string, InFlightWrite>();

  constructor(
    options: { readonly apiDeadlineMs: number },
    deps: {
      readonly api: KubeWriteApi;
      readonly caches: GeneratedObjectCaches;
      readonly clock: Clock;
      readonly metrics: Metrics;
      readonly logger: Logger;
    },
  ) {
    this.apiDeadlineMs = options.apiDeadlineMs;
    this.api = deps.api;
    this.caches = deps.caches;
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
  }

  isCurrent(objects: GeneratedObjects): boolean {
    return this.state(objects) === 'current';
  }

  async ensure(objects: GeneratedObjects, options: { readonly signal: AbortSignal }): Promise<void> {
    const key = `${objects.namespace}/${objects.name}`;
    for (;;) {
      if (this.state(objects) === 'current') return;
      options.signal.throwIfAborted();
      const running = this.inFlight.get(key);
      if (running === undefined) {
        await raceAbort(this.startWrite(key, objects), options.signal);
        return;
      }
      if (running.specHash === objects.specHash && covers(running.ownerUids, objects.owner)) {
        await raceAbort(running.done, options.signal);
        return;
      }
      // A write for other owners is running: wait for it, then apply the union on top of it.
      await raceAbort(
        running.done.catch(() => undefined),
        options.signal,
      );
    }
  }

  /** What the caches say about the pair `objects` describes (used by the reconciler too). */
  state(objects: GeneratedObjects): PairState {
    const cached = this.cachedPair(objects);
    if (cached.externalSecret === undefined || cached.secretProviderClass === undefined) return 'missing';
    if (!hasHash(cached.externalSecret, objects.specHash) || !hasHash(cached.secretProviderClass, objects.specHash)) {
      return 'stale';
    }
    if (!hasOwner(cached.externalSecret, objects.owner) || !hasOwner(cached.secretProviderClass, objects.owner)) {
      return 'owner-missing';
    }
    return 'current';
  }

  private cachedPair(objects: GeneratedObjects): {
    externalSecret: KubernetesObject | undefined;
    secretProviderClass: KubernetesObject | undefined;
  } {
    return {
      externalSecret: this.caches.externalSecrets.get(objects.name, objects.namespace),
      secretProviderClass: this.caches.secretProviderClasses.get(objects.name, objects.namespace),
    };
  }

  private startWrite(key: string, objects: GeneratedObjects): Promise<void> {
    const cached = this.cachedPair(objects);
    const owners = unionOwners([cached.externalSecret, cached.secretProviderClass], objects.owner);
    const done = this.writePair(objects, owners, cached);
    const entry: InFlightWrite = {
      specHash: objects.specHash,
      ownerUids: new Set(owners.map((o) => o.uid)),
      done,
    };
    this.inFlight.set(key, entry);
    const clear = (): void => {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    };
    done.then(clear, clear);
    return done;
  }

  private async writePair(
    objects: GeneratedObjects,
    owners: readonly OwnerRef[],
    cached: { externalSecret: KubernetesObject | undefined; secretProviderClass: KubernetesObject | undefined },
  ): Promise<void> {
    const deadline = deadlineSignal(
      this.clock,
      this.apiDeadlineMs,
      () => new KubeApiError(`no answer from the Kubernetes API within ${this.apiDeadlineMs} ms`),
    );
    try {
      // The ExternalSecret first: ESO's own webhook validates it, and a refusal there should
      // leave no SecretProviderClass behind.
      if (needsWrite(cached.externalSecret, objects.specHash, owners)) {
        await this.applyOne(objects.externalSecret, owners, this.caches.externalSecrets, deadline.signal);
      }
      if (needsWrite(cached.secretProviderClass, objects.specHash, owners)) {
        await this.applyOne(objects.secretProviderClass, owners, this.caches.secretProviderClasses, deadline.signal);
      }
    } finally {
      deadline.release();
    }
  }

  private async applyOne(
    object: KubeObject,
    owners: readonly OwnerRef[],
    cache: InformerCache<KubernetesObject>,
    signal: AbortSignal,
  ): Promise<void> {
    const resource = resourceOf(object.kind);
    const body: KubeObject = {
      ...object,
      metadata: { ...object.metadata, ownerReferences: owners.map(ownerReference) },
    };
    const started = this.clock.now();
    try {
      const stored = await this.api.apply(body, signal);
      this.metrics.kubeWrites.inc({ resource: resource.plural, verb: 'apply', result: 'ok' });
      cache.assume(stored);
      this.logger.info(
        { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name, owners: owners.length, durationMs: this.clock.now() - started },
        'applied generated object',
      );
    } catch (error) {
      this.metrics.kubeWrites.inc({ resource: resource.plural, verb: 'apply', result: 'error' });
      const cause = toKubeApiError(signal.aborted ? (signal.reason ?? error) : error);
      const what = `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
      this.logger.warn({ err: cause, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name }, 'apply failed');
      throw new KubeApiError(`cannot apply ${what}: ${cause.message}`, cause.statusCode, cause.reason);
    }
  }
}

function ownerReference(owner: OwnerRef): OwnerRef {
  // Several owners share the object, so none is its controller; blocking an owner's deletion
  // would need extra permissions on every owner kind for no benefit.
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: false, blockOwnerDeletion: false };
}

function covers(ownerUids: ReadonlySet<string>, owner: OwnerRef | undefined): boolean {
  return owner === undefined || ownerUids.has(owner.uid);
}

function hasHash(object: KubernetesObject, specHash: string): boolean {
  return object.metadata?.labels?.[SPEC_HASH_LABEL] === specHash;
}

function hasOwner(object: KubernetesObject, owner: OwnerRef | undefined): boolean {
  return owner === undefined || (object.metadata?.ownerReferences ?? []).some((ref) => ref.uid === owner.uid);
}

function needsWrite(cached: KubernetesObject | undefined, specHash: string, owners: readonly OwnerRef[]): boolean {
  if (cached === undefined || !hasHash(cached, specHash)) return true;
  const present = new Set((cached.metadata?.ownerReferences ?? []).map((ref) => ref.uid));
  return owners.some((owner) => !present.has(owner.uid));
}

/** Owners of the cached objects plus the new one, by uid, in a stable order. */
export function unionOwners(
  cached: readonly (KubernetesObject | undefined)[],
  owner: OwnerRef | undefined,
): OwnerRef[] {
  const byUid = new Map<string, OwnerRef>();
  for (const object of cached) {
    for (const ref of object?.metadata?.ownerReferences ?? []) {
      byUid.set(ref.uid, { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid });
    }
  }
  if (owner !== undefined) byUid.set(owner.uid, owner);
  return [...byUid.values()].sort((a, b) => a.uid.localeCompare(b.uid));
}
