// Self-managed TLS (--tls-auto): when to issue, renew and roll the webhook's certificates.
//
// The CA, the serving certificate and the CA bundle the API server trusts live in one Secret
// that every replica reads; one elected replica changes it. `planRotation` is pure: given the
// stored material, the bundle currently published in the webhook configuration and the time, it
// names the one next step. `nextMaterial` performs a step's certificate work, and
// `TlsRotator` (rotator.ts) does the I/O.
//
// CA rollover never leaves the API server distrusting the certificate a replica serves:
//   stage   new CA created; bundle = old + new, published before the Secret records it
//   switch  after `propagationMs`, the serving certificate is re-issued by the new CA
//   retire  after another `propagationMs` (every replica has reloaded), the old CA leaves the bundle
// A bootstrap (empty, damaged or expired Secret) likewise keeps the CAs still published until
// every replica serves the new certificate. Whenever a step trusts a CA the published bundle
// lacks, the rotator publishes before it writes the Secret.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { errorMessage } from '../core/values.ts';
import { isSignedBy, type CertificateKeyPair } from './certificates.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Keys of the TLS Secret. `tls.crt`/`tls.key` keep the kubernetes.io/tls names for familiarity. */
export const TLS_SECRET_KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
  bundle: 'ca-bundle.crt',
  nextCaCert: 'next-ca.crt',
  nextCaKey: 'next-ca.key',
  state: 'rotation.json',
} as const;

export interface RotationPolicy {
  readonly caValidityMs: number;
  readonly servingValidityMs: number;
  /** Renew a certificate once this fraction of its lifetime has passed. */
  readonly renewAtFraction: number;
  /**
   * How long a change needs to reach everyone who must see it: a published caBundle every API
   * server, a new serving certificate every replica (which re-reads the Secret every
   * `reloadIntervalMs`). Must exceed the replicas' reload interval by a wide margin.
   */
  readonly propagationMs: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = Object.freeze({
  caValidityMs: 365 * DAY_MS,
  servingValidityMs: 30 * DAY_MS,
  renewAtFraction: 2 / 3,
  propagationMs: 5 * 60 * 1000,
});

/** The contents of the TLS Secret, parsed. */
export interface TlsSecretState {
  /** The CA that signs the serving certificate. */
  readonly ca: CertificateKeyPair;
  readonly serving: CertificateKeyPair;
  /** The CAs the webhook configuration should trust, current CA included. */
  readonly trustedCaPems: readonly string[];
  /** A CA staged to replace `ca`; already in `trustedCaPems`. */
  readonly nextCa?: CertificateKeyPair;
  /** When `nextCa` was staged (its bundle had been published by then). */
  readonly stagedAtMs?: number;
  /** When the serving certificate moved to a new CA; older CAs stay trusted until propagated. */
  readonly switchedAtMs?: number;
}

export type ParsedTlsSecret =
  | { readonly ok: true; readonly material: TlsSecretState }
  | { readonly ok: false; readonly problem: string };

export type RotationStep =
  | { readonly action: 'bootstrap'; readonly reason: string }
  | { readonly action: 'renew-serving'; readonly reason: string }
  | { readonly action: 'publish-bundle'; readonly reason: string }
  | { readonly action: 'stage-ca'; readonly reason: string }
  | { readonly action: 'switch-ca'; readonly reason: string }
  | { readonly action: 'retire-old-ca'; readonly reason: string }
  | { readonly action: 'none'; readonly nextCheckAtMs: number };

export interface RotationInput {
  readonly nowMs: number;
  readonly secret: ParsedTlsSecret;
  /** CA bundle PEM currently in the webhook configuration; undefined when unset. */
  readonly publishedBundlePem: string | undefined;
  /** DNS names the serving certificate must carry (the Service's names). */
  readonly requiredDnsNames: readonly string[];
  readonly policy: RotationPolicy;
}

/** Creates certificates; implemented with certificates.ts, faked in tests. */
export interface CertificateIssuer {
  createCa(nowMs: number): Promise<CertificateKeyPair>;
  createServing(ca: CertificateKeyPair, nowMs: number): Promise<CertificateKeyPair>;
}

export function planRotation(input: RotationInput): RotationStep {
  const { nowMs, policy } = input;
  if (!input.secret.ok) return { action: 'bootstrap', reason: input.secret.problem };
  const m = input.secret.material;
  const ca = validity(m.ca.certPem);
  if (nowMs >= ca.notAfterMs) return { action: 'bootstrap', reason: 'the CA has expired' };

  const servingProblem = checkServing(m, nowMs, input.requiredDnsNames, policy);
  if (servingProblem !== undefined) return { action: 'renew-serving', reason: servingProblem };

  if (!sameBundle(input.publishedBundlePem, m.trustedCaPems)) {
    return { action: 'publish-bundle', reason: 'the webhook configuration does not trust exactly the stored CAs' };
  }

  const deadlines: number[] = [renewAtMs(validity(m.serving.certPem), policy)];
  if (m.nextCa !== undefined) {
    const switchAtMs = m.stagedAtMs! + policy.propagationMs;
    if (nowMs >= switchAtMs) return { action: 'switch-ca', reason: 'the new CA has been trusted long enough' };
    deadlines.push(switchAtMs);
  } else {
    const caRenewAtMs = renewAtMs(ca, policy);
    if (nowMs >= caRenewAtMs) return { action: 'stage-ca', reason: 'the CA is due for renewal' };
    deadlines.push(caRenewAtMs);
  }
  if (m.trustedCaPems.length > 1 && m.nextCa === undefined) {
    const retireAtMs = m.switchedAtMs! + policy.propagationMs;
    if (nowMs >= retireAtMs) return { action: 'retire-old-ca', reason: 'every replica serves a certificate from the new CA' };
    deadlines.push(retireAtMs);
  }
  return { action: 'none', nextCheckAtMs: Math.min(...deadlines) };
}

/**
 * The material after `step` (any step but `none` and `publish-bundle`, which change nothing
 * stored). Certificates are created through `issuer`; nothing is written here.
 */
export async function nextMaterial(
  step: RotationStep,
  current: TlsSecretState | undefined,
  nowMs: number,
  issuer: CertificateIssuer,
  /** The bundle published now; a bootstrap keeps its unexpired CAs for replicas yet to reload. */
  publishedBundlePem?: string,
): Promise<TlsSecretState> {
  if (step.action === 'bootstrap' || current === undefined) {
    const ca = await issuer.createCa(nowMs);
    const serving = await issuer.createServing(ca, nowMs);
    const carried = splitPemBundle(publishedBundlePem ?? '').filter((pem) => nowMs < validity(pem).notAfterMs);
    // Carried CAs are retired like after a switch: once every replica serves the new certificate.
    return carried.length === 0
      ? { ca, serving, trustedCaPems: [ca.certPem] }
      : { ca, serving, trustedCaPems: [ca.certPem, ...carried], switchedAtMs: nowMs };
  }
  switch (step.action) {
    case 'renew-serving':
      return { ...current, serving: await issuer.createServing(current.ca, nowMs) };
    case 'stage-ca': {
      const nextCa = await issuer.createCa(nowMs);
      return { ...current, nextCa, stagedAtMs: nowMs, trustedCaPems: [...current.trustedCaPems, nextCa.certPem] };
    }
    case 'switch-ca': {
      if (current.nextCa === undefined) throw new Error('switch-ca without a staged CA');
      const { nextCa, stagedAtMs: _staged, ...rest } = current;
      return { ...rest, ca: nextCa, serving: await issuer.createServing(nextCa, nowMs), switchedAtMs: nowMs };
    }
    case 'retire-old-ca': {
      const { switchedAtMs: _switched, ...rest } = current;
      return { ...rest, trustedCaPems: [current.ca.certPem] };
    }
    case 'publish-bundle':
    case 'none':
      return current;
  }
}

export function parseTlsSecret(data: Readonly<Record<string, string>> | undefined): ParsedTlsSecret {
  const k = TLS_SECRET_KEYS;
  if (data === undefined || Object.keys(data).length === 0) return { ok: false, problem: 'the TLS Secret is empty' };
  const missing = [k.caCert, k.caKey, k.cert, k.key, k.bundle].filter((key) => !data[key]);
  if (missing.length > 0) return { ok: false, problem: `the TLS Secret lacks ${missing.join(', ')}` };
  try {
    const pair = (certKey: string, keyKey: string): CertificateKeyPair => {
      const certPem = data[certKey]!;
      const keyPem = data[keyKey]!;
      if (!keyMatches(certPem, keyPem)) throw new Error(`${keyKey} is not the key of ${certKey}`);
      return { certPem, keyPem };
    };
    const trustedCaPems = splitPemBundle(data[k.bundle]!);
    trustedCaPems.forEach((pem) => new X509Certificate(pem));
    const state = data[k.state] === undefined ? {} : parseState(data[k.state]!);
    const hasNext = data[k.nextCaCert] !== undefined || data[k.nextCaKey] !== undefined;
    const material: TlsSecretState = {
      ca: pair(k.caCert, k.caKey),
      serving: pair(k.cert, k.key),
      trustedCaPems,
      ...(hasNext ? { nextCa: pair(k.nextCaCert, k.nextCaKey) } : {}),
      ...state,
    };
    const untrusted = [material.ca, material.nextCa].find((c) => c !== undefined && !trustedCaPems.includes(normalisePem(c.certPem)));
    if (untrusted !== undefined) return { ok: false, problem: `${k.bundle} does not contain the stored CA` };
    // Without these times a roll could not tell when it is safe to take its next step.
    if (material.nextCa !== undefined && material.stagedAtMs === undefined) {
      return { ok: false, problem: `${k.state} lacks stagedAtMs for the staged CA` };
    }
    if (material.nextCa === undefined && trustedCaPems.length > 1 && material.switchedAtMs === undefined) {
      return { ok: false, problem: `${k.state} lacks switchedAtMs for the CAs still trusted` };
    }
    return { ok: true, material };
  } catch (error) {
    return { ok: false, problem: `the TLS Secret is damaged: ${errorMessage(error)}` };
  }
}

export function serializeTlsSecret(m: TlsSecretState): Record<string, string> {
  const k = TLS_SECRET_KEYS;
  const state = { stagedAtMs: m.stagedAtMs, switchedAtMs: m.switchedAtMs };
  return {
    [k.caCert]: m.ca.certPem,
    [k.caKey]: m.ca.keyPem,
    [k.cert]: m.serving.certPem,
    [k.key]: m.serving.keyPem,
    [k.bundle]: bundlePem(m.trustedCaPems),
    ...(m.nextCa === undefined ? {} : { [k.nextCaCert]: m.nextCa.certPem, [k.nextCaKey]: m.nextCa.keyPem }),
    ...(state.stagedAtMs === undefined && state.switchedAtMs === undefined ? {} : { [k.state]: JSON.stringify(state) }),
  };
}

/** The trusted CAs as one PEM bundle (what caBundle holds, before base64). */
export function bundlePem(caPems: readonly string[]): string {
  return caPems.map(normalisePem).join('');
}

export function splitPemBundle(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(normalisePem);
}

function sameBundle(published: string | undefined, trusted: readonly string[]): boolean {
  if (published === undefined) return false;
  const a = splitPemBundle(published).sort();
  const b = trusted.map(normalisePem).sort();
  return a.length === b.length && a.every((pem, i) => pem === b[i]);
}

function checkServing(m: TlsSecretState, nowMs: number, dnsNames: readonly string[], policy: RotationPolicy): string | undefined {
  const cert = new X509Certificate(m.serving.certPem);
  const v = validity(m.serving.certPem);
  if (nowMs >= v.notAfterMs) return 'the serving certificate has expired';
  if (nowMs >= renewAtMs(v, policy)) return 'the serving certificate is due for renewal';
  if (!isSignedBy(m.serving.certPem, m.ca.certPem)) {
    return 'the serving certificate is not signed by the current CA';
  }
  const missing = dnsNames.filter((name) => cert.checkHost(name, { wildcards: false }) === undefined);
  if (missing.length > 0) return `the serving certificate lacks the names ${missing.join(', ')}`;
  return undefined;
}

interface Validity {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

function validity(certPem: string): Validity {
  const cert = new X509Certificate(certPem);
  return { notBeforeMs: Date.parse(cert.validFrom), notAfterMs: Date.parse(cert.validTo) };
}

function renewAtMs(v: Validity, policy: RotationPolicy): number {
  return v.notBeforeMs + Math.floor((v.notAfterMs - v.notBeforeMs) * policy.renewAtFraction);
}

function keyMatches(certPem: string, keyPem: string): boolean {
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return fromCert.equals(fromKey);
}

function parseState(text: string): Pick<TlsSecretState, 'stagedAtMs' | 'switchedAtMs'> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error(`${TLS_SECRET_KEYS.state} is not an object`);
  const { stagedAtMs, switchedAtMs } = value as Record<string, unknown>;
  const time = (name: string, t: unknown): number | undefined => {
    if (t === undefined) return undefined;
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new Error(`${TLS_SECRET_KEYS.state}: ${name} is not a time`);
    return t;
  };
  const staged = time('stagedAtMs', stagedAtMs);
  const switched = time('switchedAtMs', switchedAtMs);
  return { ...(staged === undefined ? {} : { stagedAtMs: staged }), ...(switched === undefined ? {} : { switchedAtMs: switched }) };
}

function normalisePem(pem: string): string {
  return `${pem.trim().replace(/\r\n/g, '\n')}\n`;
}
