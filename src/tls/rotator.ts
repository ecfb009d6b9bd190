// The I/O side of self-managed TLS: the elected replica turns planRotation's steps into writes
// to the TLS Secret and the webhook configuration's caBundle; every replica follows the Secret
// and hands new serving certificates to the HTTPS server.
import { errorMessage } from '../core/values.ts';
import type { Clock, Timer } from '../kube/clock.ts';
import {
  createCertificateAuthority,
  createServingCertificate,
  serviceSubjectAltNames,
  type CertificateKeyPair,
} from './certificates.ts';
import {
  TLS_SECRET_KEYS,
  bundlePem,
  nextMaterial,
  parseTlsSecret,
  planRotation,
  serializeTlsSecret,
  splitPemBundle,
  type CertificateIssuer,
  type RotationPolicy,
  type RotationStep,
} from './rotation.ts';

/** The TLS Secret, by name, in the webhook's namespace. Values are decoded (PEM text). */
export interface TlsSecretStore {
  /** Rejects when the Secret does not exist (the manifests ship it empty). */
  read(): Promise<{ readonly data: Readonly<Record<string, string>>; readonly resourceVersion: string }>;
  /**
   * Replaces the data when the Secret is still at `resourceVersion`; resolves false when another
   * writer got there first (HTTP 409), so the caller re-reads instead of overwriting.
   */
  write(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<boolean>;
}

/** The caBundle of the webhook's own MutatingWebhookConfiguration (PEM text, not base64). */
export interface CaBundlePublisher {
  /** The bundle every webhook of the configuration holds; undefined when unset or not all equal. */
  read(): Promise<string | undefined>;
  publish(bundlePem: string): Promise<void>;
}

export interface RotationLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Certificates for the Service `service` in `namespace`, made with certificates.ts. */
export function webhookCertificateIssuer(options: {
  readonly service: string;
  readonly namespace: string;
  readonly policy: RotationPolicy;
}): CertificateIssuer {
  const { service, namespace, policy } = options;
  return {
    createCa: (nowMs) =>
      createCertificateAuthority({
        commonName: `${service}.${namespace} webhook CA ${new Date(nowMs).toISOString()}`,
        now: new Date(nowMs),
        validityMs: policy.caValidityMs,
      }),
    createServing: (ca, nowMs) =>
      createServingCertificate(ca, {
        commonName: `${service}.${namespace}.svc`,
        subjectAltNames: serviceSubjectAltNames(service, namespace),
        now: new Date(nowMs),
        validityMs: policy.servingValidityMs,
      }),
  };
}

export type RotationOutcome =
  | { readonly result: 'current'; readonly nextCheckAtMs: number; readonly steps: readonly RotationStep['action'][] }
  | { readonly result: 'conflict'; readonly steps: readonly RotationStep['action'][] };

/** Enough for any state: bootstrap → publish, or renew → publish → stage → …, never a loop. */
const MAX_STEPS_PER_PASS = 6;

export interface TlsRotatorOptions {
  readonly secrets: TlsSecretStore;
  readonly bundle: CaBundlePublisher;
  readonly issuer: CertificateIssuer;
  readonly clock: Clock;
  readonly policy: RotationPolicy;
  readonly requiredDnsNames: readonly string[];
  readonly log: RotationLog;
}

/** Runs on the elected replica only: brings Secret and caBundle to the state planRotation wants. */
export class TlsRotator {
  private readonly options: TlsRotatorOptions;

  constructor(options: TlsRotatorOptions) {
    this.options = options;
  }

  /** Takes steps until nothing is due. Kubernetes API errors reject; the caller retries later. */
  async runOnce(): Promise<RotationOutcome> {
    const { secrets, bundle, issuer, clock, policy, requiredDnsNames, log } = this.options;
    const steps: RotationStep['action'][] = [];
    for (let i = 0; i < MAX_STEPS_PER_PASS; i++) {
      const stored = await secrets.read();
      const secret = parseTlsSecret(stored.data);
      const published = await bundle.read();
      const step = planRotation({ nowMs: clock.now(), secret, publishedBundlePem: published, requiredDnsNames, policy });
      if (step.action === 'none') return { result: 'current', nextCheckAtMs: step.nextCheckAtMs, steps };
      steps.push(step.action);
      log.info({ step: step.action, reason: step.reason }, 'TLS rotation step');
      const current = secret.ok ? secret.material : undefined;
      if (step.action === 'publish-bundle') {
        await bundle.publish(bundlePem(current!.trustedCaPems));
        continue;
      }
      let next = await nextMaterial(step, current, clock.now(), issuer, published);
      const publishedPems = new Set(splitPemBundle(published ?? ''));
      if (splitPemBundle(bundlePem(next.trustedCaPems)).some((pem) => !publishedPems.has(pem))) {
        // Trust first, record second: no replica can load a certificate from a CA the API
        // servers do not trust yet, and a staging time never precedes its publication. A lost
        // write only leaves an extra trusted CA, which the next pass replaces with the stored bundle.
        await bundle.publish(bundlePem(next.trustedCaPems));
        if (step.action === 'stage-ca') next = { ...next, stagedAtMs: clock.now() };
      }
      if (!(await secrets.write(serializeTlsSecret(next), stored.resourceVersion))) {
        log.warn({ step: step.action }, 'TLS Secret changed concurrently; retrying on the next pass');
        return { result: 'conflict', steps };
      }
    }
    throw new Error(`TLS rotation did not settle after ${MAX_STEPS_PER_PASS} steps: ${steps.join(', ')}`);
  }
}

/** A loop that can also be run at once; never two runs at a time. */
export interface Loop {
  /** Runs now (or right after the run in progress) instead of waiting for the timer. */
  runNow(): void;
  stop(): void;
}

/** Runs `task` at once and then after the delay each run returns, until stopped. */
function startLoop(clock: Clock, task: () => Promise<number>): Loop {
  let timer: Timer | undefined;
  let running = false;
  let again = false;
  let stopped = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    timer?.cancel();
    const delayMs = await task();
    running = false;
    if (stopped) return;
    if (again) {
      again = false;
      void run();
    } else {
      timer = clock.setTimer(() => void run(), delayMs);
    }
  };
  void run();
  return {
    runNow: () => void (stopped ? undefined : run()),
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}

/**
 * Runs the rotator every `intervalMs` while `isLeader()` holds, and sooner when a step is due.
 * Errors are logged and retried on the next run; they never stop the loop.
 */
export function startTlsRotation(options: {
  readonly rotator: Pick<TlsRotator, 'runOnce'>;
  readonly isLeader: () => boolean;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly log: RotationLog;
  /** Called after a run that changed something, e.g. to reload this replica's certificate now. */
  readonly onChange?: () => void;
}): Loop {
  const { rotator, isLeader, clock, intervalMs, log, onChange } = options;
  return startLoop(clock, async () => {
    if (!isLeader()) return intervalMs;
    try {
      const outcome = await rotator.runOnce();
      if (outcome.steps.length > 0) onChange?.();
      if (outcome.result === 'current') return Math.max(1000, Math.min(intervalMs, outcome.nextCheckAtMs - clock.now()));
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'TLS rotation failed; retrying');
    }
    return intervalMs;
  });
}

/**
 * Every replica: re-reads the TLS Secret every `intervalMs` and calls `onCertificate` when the
 * serving certificate changed, so new connections use it without a restart. A failed read keeps
 * the certificate being served.
 */
export function followServingCertificate(options: {
  readonly secrets: Pick<TlsSecretStore, 'read'>;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly onCertificate: (pair: CertificateKeyPair) => void;
  readonly log: RotationLog;
}): Loop & { readonly current: () => CertificateKeyPair | undefined } {
  const { secrets, clock, intervalMs, onCertificate, log } = options;
  let current: CertificateKeyPair | undefined;
  const loop = startLoop(clock, async () => {
    try {
      const { data } = await secrets.read();
      const certPem = data[TLS_SECRET_KEYS.cert];
      const keyPem = data[TLS_SECRET_KEYS.key];
      const changed = certPem !== undefined && keyPem !== undefined && (certPem !== current?.certPem || keyPem !== current.keyPem);
      if (changed) {
        // Whole-Secret validation also proves the key belongs to the certificate.
        const parsed = parseTlsSecret(data);
        if (parsed.ok) {
          current = { certPem, keyPem };
          onCertificate(current);
        } else {
          log.warn({ problem: parsed.problem }, 'TLS Secret not usable yet; keeping the current certificate');
        }
      }
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'reading the TLS Secret failed');
    }
    return intervalMs;
  });
  return { ...loop, current: () => current };
}
