// Fakes for the kube layer: a manual clock, an in-memory informer source and API.
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeObject } from '../../../src/core/types.ts';
import type { KubeWriteApi, LeaseApi, LeaseRecord, ObjectRef, StoredLease } from '../../../src/kube/api.ts';
import { cacheKey, type InformerSource } from '../../../src/kube/cache.ts';
import type { Clock, Timer } from '../../../src/kube/clock.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';

export const silentLogger = pino({ level: 'silent' });

/** Lets pending promise callbacks run (no timers involved). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; callback: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const timer = { at: this.current + delayMs, seq: this.seq++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Timers set so far, cancelled or not. */
  timersSet(): number {
    return this.seq;
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flush();
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
    await flush();
  }
}

type Verb = 'add' | 'update' | 'delete' | 'error';

/** An informer whose list result and events the test controls. */
export class FakeSource<T extends KubernetesObject> implements InformerSource<T> {
  readonly objects = new Map<string, T>();
  private readonly callbacks: Record<Verb, ((arg: never) => void)[]> = { add: [], update: [], delete: [], error: [] };
  started = false;
  stopped = false;
  private finishStart: ((failure?: unknown) => void) | undefined;

  constructor(initial: readonly T[] = []) {
    for (const object of initial) this.objects.set(key(object), object);
  }

  on(verb: Verb, callback: (arg: never) => void): void {
    this.callbacks[verb].push(callback);
  }

  start(): Promise<void> {
    this.started = true;
    return new Promise<void>((resolve) => {
      this.finishStart = (failure) => {
        if (failure !== undefined) this.fire('error', failure);
        resolve();
      };
    });
  }

  /** Completes the initial list (with an error, like ListWatch, when `failure` is given). */
  completeStart(failure?: unknown): void {
    this.finishStart?.(failure);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): readonly T[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }

  upsert(object: T): void {
    const existed = this.objects.has(key(object));
    this.objects.set(key(object), object);
    this.fire(existed ? 'update' : 'add', object);
  }

  remove(object: T): void {
    this.objects.delete(key(object));
    this.fire('delete', object);
  }

  fail(error: unknown): void {
    this.fire('error', error);
  }

  private fire(verb: Verb, arg: unknown): void {
    for (const callback of this.callbacks[verb]) (callback as (arg: unknown) => void)(arg);
  }
}

function key(object: KubernetesObject): string {
  return cacheKey(object.metadata?.namespace, object.metadata?.name ?? '');
}

/** Records every write; `respond` decides the outcome of each apply (default: success). */
export class FakeWriteApi implements KubeWriteApi {
  readonly applied: KubeObject[] = [];
  readonly deleted: { target: ObjectRef; preconditions: { uid: string; resourceVersion: string } }[] = [];
  readonly events: CoreV1Event[] = [];
  /** Stored objects by kind/namespace/name, as the API would hold them. */
  readonly stored = new Map<string, KubernetesObject>();
  respond: (object: KubeObject, signal: AbortSignal) => Promise<void> = async () => undefined;
  deleteResponse: (target: ObjectRef) => Promise<void> = async () => undefined;
  private version = 100;

  async apply(object: KubeObject, signal: AbortSignal): Promise<KubernetesObject> {
    this.applied.push(object);
    await this.respond(object, signal);
    signal.throwIfAborted();
    const id = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
    const previous = this.stored.get(id);
    const stored: KubernetesObject = {
      ...object,
      metadata: {
        ...object.metadata,
        ownerReferences: object.metadata.ownerReferences?.map((o) => ({ ...o })),
        uid: previous?.metadata?.uid ?? `uid-${id}`,
        resourceVersion: String(this.version++),
        creationTimestamp: previous?.metadata?.creationTimestamp ?? new Date(0),
      },
    } as KubernetesObject;
    this.stored.set(id, stored);
    return stored;
  }

  async delete(
    target: ObjectRef,
    preconditions: { readonly uid: string; readonly resourceVersion: string },
    _signal: AbortSignal,
  ): Promise<void> {
    this.deleted.push({ target, preconditions: { ...preconditions } });
    await this.deleteResponse(target);
  }

  async createEvent(event: CoreV1Event): Promise<void> {
    this.events.push(event);
  }
}

/** A promise the test settles by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function apiError(statusCode: number, message: string): KubeApiError {
  return new KubeApiError(message, statusCode);
}

/** One Lease object with optimistic concurrency, like the API server. */
export class FakeLeaseApi implements LeaseApi {
  stored: StoredLease | undefined;
  private version = 1;
  /** When set, every call rejects with it (an unreachable API). */
  failure: Error | undefined;
  async read(): Promise<StoredLease | undefined> {
    if (this.failure) throw this.failure;
    return this.stored;
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    if (this.failure) throw this.failure;
    if (this.stored) throw new KubeApiError('already exists', 409);
    return this.save(record);
  }

  async replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    if (this.failure) throw this.failure;
    if (this.stored?.resourceVersion !== resourceVersion) throw new KubeApiError('conflict', 409);
    return this.save(record);
  }

  private save(record: LeaseRecord): StoredLease {
    this.stored = { record: { ...record }, resourceVersion: String(this.version++) };
    return this.stored;
  }
}

