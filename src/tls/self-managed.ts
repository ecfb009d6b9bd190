// `serve --tls-auto`: the webhook's certificates come from the TLS Secret that the elected
// replica keeps current (rotation.ts, rotator.ts). Every replica follows the Secret into a
// TlsSource, so the HTTPS server picks up renewed certificates without a restart.
import { isIP } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../core/values.ts';
import type { Clock } from '../kube/clock.ts';
import { serviceSubjectAltNames } from './certificates.ts';
import { ClientNodeCaBundlePublisher, ClientNodeTlsSecretStore, TLS_SECRET_NAME, WEBHOOK_CONFIGURATION_NAME } from './kube.ts';
import { DEFAULT_ROTATION_POLICY, type RotationPolicy } from './rotation.ts';
import {
  TlsRotator,
  followServingCertificate,
  startTlsRotation,
  webhookCertificateIssuer,
  type CaBundlePublisher,
  type RotationLog,
  type TlsSecretStore,
} from './rotator.ts';
import { TlsMaterialHolder, type TlsSource } from './source.ts';

/** The part of the leader elector self-managed TLS needs. */
export interface Leadership {
  isLeader(): boolean;
  onStartedLeading(listener: (signal: AbortSignal) => void): () => void;
}

export interface SelfManagedTlsOptions {
  /** The webhook's namespace (POD_NAMESPACE): where the Service and the TLS Secret live. */
  readonly namespace: string;
  readonly service?: string;
  readonly leadership: Leadership;
  readonly clock: Clock;
  readonly log: RotationLog;
  readonly policy?: RotationPolicy;
  /** How often the elected replica checks the Secret and the caBundle (heals a reset bundle). */
  readonly checkIntervalMs?: number;
  /** How often every replica re-reads the Secret; well below `policy.propagationMs`. */
  readonly reloadIntervalMs?: number;
}

export const DEFAULT_CHECK_INTERVAL_MS = 60_000;
export const DEFAULT_RELOAD_INTERVAL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface SelfManagedTls {
  /** Empty until the Secret holds a usable certificate; the server is not ready before. */
  readonly source: TlsSource;
  stop(): void;
}

/** Wires the Kubernetes adapters; the rest is `startSelfManagedTlsWith`. */
export function startSelfManagedTls(kubeConfig: KubeConfig, options: SelfManagedTlsOptions): SelfManagedTls {
  return startSelfManagedTlsWith(
    {
      secrets: new ClientNodeTlsSecretStore(kubeConfig, { namespace: options.namespace, name: TLS_SECRET_NAME, requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      bundle: new ClientNodeCaBundlePublisher(kubeConfig, { name: WEBHOOK_CONFIGURATION_NAME, requestTimeoutMs: REQUEST_TIMEOUT_MS }),
    },
    options,
  );
}

export function startSelfManagedTlsWith(
  io: { readonly secrets: TlsSecretStore; readonly bundle: CaBundlePublisher },
  options: SelfManagedTlsOptions,
): SelfManagedTls {
  const policy = options.policy ?? DEFAULT_ROTATION_POLICY;
  const service = options.service ?? 'hybrid-secrets';
  const reloadIntervalMs = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  if (reloadIntervalMs * 3 > policy.propagationMs) {
    // Rollover retires the old CA `propagationMs` after the switch: replicas must have reloaded.
    throw new Error(`the TLS reload interval (${reloadIntervalMs} ms) must be at most a third of propagationMs (${policy.propagationMs} ms)`);
  }
  const { clock, log, leadership } = options;
  const holder = new TlsMaterialHolder();
  const follower = followServingCertificate({
    secrets: io.secrets,
    clock,
    intervalMs: reloadIntervalMs,
    log,
    onCertificate: ({ certPem, keyPem }) => {
      try {
        holder.set({ cert: certPem, key: keyPem });
      } catch (error) {
        log.warn({ err: errorMessage(error) }, 'TLS certificate from the Secret does not load');
      }
    },
  });
  const rotator = new TlsRotator({
    ...io,
    issuer: webhookCertificateIssuer({ service, namespace: options.namespace, policy }),
    clock,
    policy,
    requiredDnsNames: serviceSubjectAltNames(service, options.namespace).filter((name) => isIP(name) === 0),
    log,
  });
  const rotation = startTlsRotation({
    rotator,
    isLeader: () => leadership.isLeader(),
    clock,
    intervalMs: options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
    log,
    // The leader serves what it just wrote without waiting for its next read.
    onChange: () => follower.runNow(),
  });
  // A new leader checks at once: on a fresh install nobody can serve until it has.
  const unsubscribe = leadership.onStartedLeading(() => rotation.runNow());
  return {
    source: holder,
    stop() {
      unsubscribe();
      rotation.stop();
      follower.stop();
    },
  };
}
