// Leader election on a coordination.k8s.io/v1 Lease, following client-go's rules (client-node
// ships no elector):
// - a replica takes the lease when it is free, or when its record has not changed for a whole
//   leaseDuration as observed on this replica's clock (no trust in other replicas' clocks);
// - the leader renews every retryPeriod, and gives up leadership when no renewal succeeded for
//   renewDeadline (shorter than leaseDuration, so it stops before anyone else may start) or
//   when the lease shows another holder;
// - on stop, the leader releases the lease so a successor need not wait for it to expire.
// Work that must run on one replica only registers `onStartedLeading(signal => …)`; the signal
// aborts when leadership ends, which is the moment to stop.
import type { Logger } from 'pino';
import type { LeaseApi, LeaseRecord, StoredLease } from './api.ts';
import { type Clock, type Timer, deadlineSignal } from './clock.ts';
import { KubeApiError, isConflict } from './errors.ts';

export interface LeaderElectionOptions {
  /** Unique per replica (the pod name). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private readonly api: LeaseApi;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly startedListeners = new Set<(signal: AbortSignal) => void>();
  private readonly stoppedListeners = new Set<() => void>();
  private leadership: AbortController | undefined;
  private observed: StoredLease | undefined;
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Aborts an in-flight lease request when stopping. */
  private halt = new AbortController();

  constructor(
    options: LeaderElectionOptions,
    deps: { readonly api: LeaseApi; readonly clock: Clock; readonly logger: Logger },
  ) {
    if (!(options.leaseDurationMs > options.renewDeadlineMs && options.renewDeadlineMs > options.retryPeriodMs)) {
      throw new Error('leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs');
    }
    this.options = options;
    this.api = deps.api;
    this.clock = deps.clock;
    this.logger = deps.logger.child({ component: 'leader-election', identity: options.identity });
  }

  isLeader(): boolean {
    return this.leadership !== undefined;
  }

  /**
   * Calls `listener` each time this replica becomes leader, with a signal that aborts when it
   * stops being leader (also called at once when already leading). Returns an unsubscribe.
   */
  onStartedLeading(listener: (signal: AbortSignal) => void): () => void {
    this.startedListeners.add(listener);
    if (this.leadership !== undefined) listener(this.leadership.signal);
    return () => this.startedListeners.delete(listener);
  }

  onStoppedLeading(listener: () => void): () => void {
    this.stoppedListeners.add(listener);
    return () => this.stoppedListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halt = new AbortController();
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease and its listeners see leadership end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.halt.abort(new Error('leader election stopped'));
    await this.running;
    if (this.leadership === undefined) return;
    this.loseLeadership('stopping');
    await this.release();
  }

  private schedule(delayMs: number): void {
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.options.retryPeriodMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const now = this.clock.now();
    // A leader's attempt must end by its renew deadline; a candidate's within one deadline.
    const budgetMs = this.leadership === undefined ? this.options.renewDeadlineMs : this.lastRenewMs + this.options.renewDeadlineMs - now;
    const deadline = deadlineSignal(
      this.clock,
      Math.max(budgetMs, 1),
      () => new KubeApiError('lease request timed out'),
      this.halt.signal,
    );
    let outcome: 'acquired' | 'held-by-other' | 'failed';
    try {
      outcome = await this.tryAcquireOrRenew(deadline.signal);
    } catch (error) {
      this.logger.warn({ err: error }, 'lease request failed');
      outcome = 'failed';
    } finally {
      deadline.release();
    }
    if (this.stopped) return;
    if (outcome === 'acquired') {
      this.lastRenewMs = this.clock.now();
      if (this.leadership === undefined) this.gainLeadership();
      return;
    }
    if (this.leadership === undefined) return;
    if (outcome === 'held-by-other') this.loseLeadership('the lease has another holder');
    else if (this.clock.now() - this.lastRenewMs >= this.options.renewDeadlineMs) this.loseLeadership('renew deadline passed');
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<'acquired' | 'held-by-other' | 'failed'> {
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    const current = await this.api.read(signal);
    if (current === undefined) {
      return this.write(
        () =>
          this.api.create(
            { holderIdentity: this.options.identity, leaseDurationSeconds: durationSeconds, acquireTimeMs: now, renewTimeMs: now, leaseTransitions: 0 },
            signal,
          ),
      );
    }
    if (this.observed?.resourceVersion !== current.resourceVersion) {
      this.observed = current;
      this.observedAtMs = now;
    }
    const { record } = current;
    const mine = record.holderIdentity === this.options.identity;
    const free = record.holderIdentity === '';
    const expired = this.observedAtMs + record.leaseDurationSeconds * 1000 <= now;
    if (!mine && !free && !expired) return 'held-by-other';
    const next: LeaseRecord = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTimeMs: mine ? record.acquireTimeMs : now,
      renewTimeMs: now,
      leaseTransitions: mine ? record.leaseTransitions : record.leaseTransitions + 1,
    };
    return this.write(() => this.api.replace(next, current.resourceVersion, signal));
  }

  private async write(request: () => Promise<StoredLease>): Promise<'acquired' | 'failed'> {
    try {
      this.observed = await request();
      this.observedAtMs = this.clock.now();
      return 'acquired';
    } catch (error) {
      // Someone else wrote first: not an error, just not us this round.
      if (isConflict(error)) return 'failed';
      throw error;
    }
  }

  private gainLeadership(): void {
    this.leadership = new AbortController();
    this.logger.info('became leader');
    for (const listener of this.startedListeners) this.notify(() => listener(this.leadership!.signal));
  }

  private loseLeadership(reason: string): void {
    const leadership = this.leadership;
    this.leadership = undefined;
    leadership?.abort(new Error(`leadership lost: ${reason}`));
    this.logger.warn({ reason }, 'stopped leading');
    for (const listener of this.stoppedListeners) this.notify(listener);
  }

  private async release(): Promise<void> {
    const observed = this.observed;
    if (observed === undefined || observed.record.holderIdentity !== this.options.identity) return;
    const now = this.clock.now();
    const deadline = deadlineSignal(this.clock, this.options.retryPeriodMs, () => new KubeApiError('lease release timed out'));
    try {
      await this.api.replace(
        { ...observed.record, holderIdentity: '', leaseDurationSeconds: 1, renewTimeMs: now, acquireTimeMs: now },
        observed.resourceVersion,
        deadline.signal,
      );
      this.logger.info('released the lease');
    } catch (error) {
      // The lease then simply expires; nothing else to do on the way out.
      this.logger.warn({ err: error }, 'could not release the lease');
    } finally {
      deadline.release();
    }
  }

  private notify(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.logger.error({ err: error }, 'leadership listener failed');
    }
  }
}
