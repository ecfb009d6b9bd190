// Prometheus metrics, one set per process (tests build their own). Every component that
// counts something receives this object; nothing registers metrics on the global registry.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ReviewOutcome = 'patched' | 'allowed' | 'denied' | 'errored';

export interface Metrics {
  readonly registry: Registry;
  /** Admission reviews answered, by outcome. */
  readonly reviews: Counter<'outcome'>;
  /** Server-side time to answer one review. */
  readonly reviewDuration: Histogram<'outcome'>;
  /** Pods (or templates) that received a patch, by namespace. */
  readonly injections: Counter<'namespace'>;
  /** Errors by stable code (bad request, internal, kube API, …). */
  readonly errors: Counter<'code'>;
  /** Writes sent to the Kubernetes API, by resource and result (ok, error). */
  readonly kubeWrites: Counter<'resource' | 'verb' | 'result'>;
  /** Reconciler actions (heal, adopt, collect), by result. */
  readonly reconcileActions: Counter<'action' | 'result'>;
}

export function createMetrics(options: { readonly processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'hybrid_secrets_' });
  const registers = [registry];
  return {
    registry,
    reviews: new Counter({
      name: 'hybrid_secrets_admission_reviews_total',
      help: 'Admission reviews answered, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    reviewDuration: new Histogram({
      name: 'hybrid_secrets_admission_review_duration_seconds',
      help: 'Server-side time to answer one admission review.',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    injections: new Counter({
      name: 'hybrid_secrets_injections_total',
      help: 'Pods that received the hybrid-secrets patch, by namespace.',
      labelNames: ['namespace'],
      registers,
    }),
    errors: new Counter({
      name: 'hybrid_secrets_errors_total',
      help: 'Errors, by stable error code.',
      labelNames: ['code'],
      registers,
    }),
    kubeWrites: new Counter({
      name: 'hybrid_secrets_kube_writes_total',
      help: 'Writes sent to the Kubernetes API, by resource, verb and result.',
      labelNames: ['resource', 'verb', 'result'],
      registers,
    }),
    reconcileActions: new Counter({
      name: 'hybrid_secrets_reconcile_actions_total',
      help: 'Reconciler actions (heal, adopt, collect), by result.',
      labelNames: ['action', 'result'],
      registers,
    }),
  };
}
