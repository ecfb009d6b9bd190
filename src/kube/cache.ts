// An informer-backed cache that keeps serving while its watch is restarted or re-listed.
//
// @kubernetes/client-node's ListWatch stops for good on any watch/list error other than 410 Gone
// and client-side timeouts, and a watch can stall without an error. So this cache:
// - restarts a stopped informer with exponential backoff (fresh list + watch);
// - re-lists every `resyncMs` by starting a fresh informer and swapping it in once it has synced
//   (the old one keeps serving until then, so lookups never see an empty cache);
// - lets writers `assume` the object an apply returned until the informer reports that object
//   again, so the next admission review skips a write the watch has not delivered yet.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, Timer } from './clock.ts';

/** The part of client-node's `makeInformer()` result this cache uses (fakes implement it). */
export interface InformerSource<T extends KubernetesObject> {
  on(verb: 'add' | 'update' | 'delete', callback: (object: T) => void): void;
  on(verb: 'error', callback: (error?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

export type CacheEvent<T> =
  | { readonly type: 'add' | 'update' | 'delete'; readonly object: T }
  /** The cache was replaced by a fresh list: listeners should look at everything again. */
  | { readonly type: 'resync' };

export interface InformerCacheOptions {
  /** Shown in logs (e.g. `clustersecretstores`). */
  readonly name: string;
  readonly resyncMs: number;
  readonly restartInitialBackoffMs: number;
  readonly restartMaxBackoffMs: number;
  /** A list + watch start that takes longer is abandoned and retried (a hung connection). */
  readonly syncTimeoutMs: number;
}

export const DEFAULT_CACHE_TIMING = {
  resyncMs: 10 * 60_000,
  restartInitialBackoffMs: 1_000,
  restartMaxBackoffMs: 60_000,
  syncTimeoutMs: 90_000,
} as const;

export class InformerCache<T extends KubernetesObject> {
  readonly name: string;
  private readonly options: InformerCacheOptions;
  private readonly makeSource: () => InformerSource<T>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private active: InformerSource<T> | undefined;
  private pending: InformerSource<T> | undefined;
  private synced = false;
  private stopped = true;
  private backoffMs: number;
  private timer: Timer | undefined;
  private syncTimer: Timer | undefined;
  private readonly assumed = new Map<string, T>();
  private readonly listeners = new Set<(event: CacheEvent<T>) => void>();

  constructor(
    options: InformerCacheOptions,
    deps: { readonly makeSource: () => InformerSource<T>; readonly clock: Clock; readonly logger: Logger },
  ) {
    this.name = options.name;
    this.options = options;
    this.makeSource = deps.makeSource;
    this.clock = deps.clock;
    this.logger = deps.logger.child({ cache: options.name });
    this.backoffMs = options.restartInitialBackoffMs;
  }

  /** Starts listing and watching in the background; `hasSynced()` tells when data is there. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.syncTimer?.cancel();
    this.syncTimer = undefined;
    const sources = [this.active, this.pending].filter((s) => s !== undefined);
    this.active = undefined;
    this.pending = undefined;
    this.synced = false;
    this.assumed.clear();
    await Promise.all(sources.map((s) => s.stop()));
  }

  /** True once a first full list has arrived (stays true while later re-lists run). */
  hasSynced(): boolean {
    return this.synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.assumed.get(cacheKey(namespace, name)) ?? this.active?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    const fromInformer = this.active?.list(namespace) ?? [];
    if (this.assumed.size === 0) return fromInformer;
    const merged = new Map<string, T>();
    for (const object of fromInformer) merged.set(keyOf(object), object);
    for (const [key, object] of this.assumed) {
      if (namespace === undefined || object.metadata?.namespace === namespace) merged.set(key, object);
    }
    return [...merged.values()];
  }

  /**
   * Serves `object` (the API's answer to our own write) until the informer reports any event for
   * it. Clearing on any event can only cause an extra write, never a skipped one.
   */
  assume(object: T): void {
    this.assumed.set(keyOf(object), object);
  }

  onEvent(listener: (event: CacheEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private launch(): void {
    const source = this.makeSource();
    this.pending = source;
    let failed = false;
    for (const verb of ['add', 'update', 'delete'] as const) {
      source.on(verb, (object: T) => {
        if (source !== this.active) return;
        this.assumed.delete(keyOf(object));
        this.emit({ type: verb, object });
      });
    }
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      this.onSourceError(source, error);
    };
    source.on('error', (error?: unknown) => fail(error));
    this.syncTimer?.cancel();
    this.syncTimer = this.clock.setTimer(() => {
      this.syncTimer = undefined;
      if (source === this.pending) fail(new Error(`list and watch did not start within ${this.options.syncTimeoutMs} ms`));
    }, this.options.syncTimeoutMs);
    source.start().then(
      () => {
        if (!failed) this.onSourceSynced(source);
      },
      (error: unknown) => fail(error),
    );
  }

  private onSourceSynced(source: InformerSource<T>): void {
    if (this.stopped || source !== this.pending) return;
    this.syncTimer?.cancel();
    this.syncTimer = undefined;
    const previous = this.active;
    this.active = source;
    this.pending = undefined;
    this.assumed.clear();
    this.backoffMs = this.options.restartInitialBackoffMs;
    const firstSync = !this.synced;
    this.synced = true;
    if (previous !== undefined) void previous.stop();
    if (firstSync) this.logger.info({ objects: source.list().length }, 'cache synced');
    else this.logger.debug({ objects: source.list().length }, 'cache re-listed');
    this.emit({ type: 'resync' });
    this.schedule(this.options.resyncMs);
  }

  private onSourceError(source: InformerSource<T>, error: unknown): void {
    if (this.stopped || (source !== this.active && source !== this.pending)) return;
    if (source === this.pending) {
      this.pending = undefined;
      this.syncTimer?.cancel();
      this.syncTimer = undefined;
    }
    // An active source that failed has stopped watching but still holds the last known state:
    // keep serving it until a fresh list replaces it.
    void source.stop();
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.restartMaxBackoffMs);
    this.logger.warn({ err: error, retryInMs: delayMs }, 'informer stopped; restarting');
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.stopped || this.pending !== undefined) return;
      this.launch();
    }, delayMs);
  }

  private emit(event: CacheEvent<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'cache listener failed');
      }
    }
  }
}

export function cacheKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function keyOf(object: KubernetesObject): string {
  return cacheKey(object.metadata?.namespace, object.metadata?.name ?? '');
}
