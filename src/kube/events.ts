// Kubernetes Events (core/v1) on pods and workloads, so `kubectl describe` shows what
// hybrid-secrets did or failed to do. Fire-and-forget: an event that cannot be written is logged
// and never fails the caller. Repeats of one reason on one object are dropped for `dedupeMs`,
// so a crash-looping workload does not flood the API.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeWriteApi } from './api.ts';
import { type Clock, deadlineSignal } from './clock.ts';
import { KubeApiError } from './errors.ts';

export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** This replica (pod name), shown as the event's reporting instance. */
  readonly instance: string;
  readonly dedupeMs: number;
  readonly apiDeadlineMs: number;
}

const COMPONENT = 'hybrid-secrets';
const MAX_REMEMBERED = 10_000;

export class EventRecorder {
  private readonly options: EventRecorderOptions;
  private readonly api: KubeWriteApi;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly lastSentMs = new Map<string, number>();

  constructor(
    options: EventRecorderOptions,
    deps: { readonly api: KubeWriteApi; readonly clock: Clock; readonly logger: Logger },
  ) {
    this.options = options;
    this.api = deps.api;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  /** Records the event; resolves when written or dropped (never rejects). */
  async emit(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock.now();
    const key = `${subject.uid ?? `${subject.kind}/${subject.namespace}/${subject.name}`}/${reason}`;
    const last = this.lastSentMs.get(key);
    if (last !== undefined && now - last < this.options.dedupeMs) return;
    this.remember(key, now);
    const at = new Date(now);
    const event: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${subject.name}.${randomBytes(8).toString('hex')}`, namespace: subject.namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.namespace,
        name: subject.name,
        uid: subject.uid,
      },
      type,
      reason,
      // The API limits event messages to 1 KiB.
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: this.options.instance,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    const deadline = deadlineSignal(this.clock, this.options.apiDeadlineMs, () => new KubeApiError('event write timed out'));
    try {
      await this.api.createEvent(event, deadline.signal);
    } catch (error) {
      this.logger.warn({ err: error, reason, kind: subject.kind, namespace: subject.namespace, name: subject.name }, 'could not record event');
    } finally {
      deadline.release();
    }
  }

  private remember(key: string, now: number): void {
    if (this.lastSentMs.size >= MAX_REMEMBERED) {
      for (const [k, sentMs] of this.lastSentMs) if (now - sentMs >= this.options.dedupeMs) this.lastSentMs.delete(k);
      if (this.lastSentMs.size >= MAX_REMEMBERED) this.lastSentMs.clear();
    }
    this.lastSentMs.set(key, now);
  }
}
