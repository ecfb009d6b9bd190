import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { isSignedBy } from '../../../src/tls/certificates.ts';
import {
  DEFAULT_ROTATION_POLICY,
  TLS_SECRET_KEYS,
  bundlePem,
  nextMaterial,
  parseTlsSecret,
  planRotation,
  serializeTlsSecret,
  splitPemBundle,
  type RotationStep,
  type TlsSecretState,
} from '../../../src/tls/rotation.ts';
import { webhookCertificateIssuer } from '../../../src/tls/rotator.ts';

// Every certificate made here generates a real RSA key: slow on a busy machine.
t.setTimeout(180_000);

const DAY_MS = 24 * 60 * 60 * 1000;
const policy = DEFAULT_ROTATION_POLICY;
const issuer = webhookCertificateIssuer({ service: 'hybrid-secrets', namespace: 'hybrid-secrets', policy });
const dnsNames = ['hybrid-secrets.hybrid-secrets.svc'];
const t0 = Date.UTC(2026, 0, 1);

// `published` defaults to exactly the stored bundle.
const plan = (material: TlsSecretState, nowMs: number, published = bundlePem(material.trustedCaPems)): RotationStep =>
  planRotation({ nowMs, secret: { ok: true, material }, publishedBundlePem: published, requiredDnsNames: dnsNames, policy });
const notBeforeMs = (pem: string): number => Date.parse(new X509Certificate(pem).validFrom);
const notAfterMs = (pem: string): number => Date.parse(new X509Certificate(pem).validTo);

t.test('an empty or damaged Secret starts over', async (t) => {
  const fresh = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer);
  const good = serializeTlsSecret(fresh);
  const k = TLS_SECRET_KEYS;
  const cases: [string, Record<string, string> | undefined, RegExp][] = [
    ['missing', undefined, /empty/],
    ['empty', {}, /empty/],
    ['lacks keys', { [k.caCert]: fresh.ca.certPem }, /lacks ca\.key, tls\.crt, tls\.key, ca-bundle\.crt/],
    ['garbage certificate', { ...good, [k.cert]: 'not a certificate' }, /damaged/],
    ['key of another certificate', { ...good, [k.key]: fresh.ca.keyPem }, /tls\.key is not the key of tls\.crt/],
    ['CA not in bundle', { ...good, [k.bundle]: fresh.serving.certPem }, /does not contain the stored CA/],
    ['bad state', { ...good, [k.state]: '{"stagedAtMs":"soon"}' }, /stagedAtMs is not a time/],
    ['staged CA without time', { ...good, [k.nextCaCert]: fresh.ca.certPem, [k.nextCaKey]: fresh.ca.keyPem }, /lacks stagedAtMs/],
  ];
  for (const [name, data, problem] of cases) {
    const parsed = parseTlsSecret(data);
    t.equal(parsed.ok, false, name);
    if (!parsed.ok) t.match(parsed.problem, problem, name);
    const step = planRotation({ nowMs: t0, secret: parsed, publishedBundlePem: undefined, requiredDnsNames: dnsNames, policy });
    t.equal(step.action, 'bootstrap', `${name}: bootstrap`);
  }
  const roundTrip = parseTlsSecret(good);
  t.ok(roundTrip.ok, 'serialize then parse');
  if (roundTrip.ok) t.same(serializeTlsSecret(roundTrip.material), good, 'lossless');
});

t.test('a fresh CA and serving certificate: publish, then renew the serving certificate at two thirds', async (t) => {
  const m = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer);
  t.ok(isSignedBy(m.serving.certPem, m.ca.certPem));
  t.equal(notAfterMs(m.ca.certPem) - t0, policy.caValidityMs, '1-year CA');
  t.equal(notAfterMs(m.serving.certPem) - t0, policy.servingValidityMs, '30-day serving certificate');
  const unpublished = planRotation({ nowMs: t0, secret: { ok: true, material: m }, publishedBundlePem: undefined, requiredDnsNames: dnsNames, policy });
  t.match(unpublished, { action: 'publish-bundle' }, 'nothing published yet');
  const other = await issuer.createCa(t0);
  t.match(plan(m, t0, bundlePem([other.certPem])), { action: 'publish-bundle' }, 'a foreign bundle is replaced');
  t.match(plan(m, t0, bundlePem([m.ca.certPem, other.certPem])), { action: 'publish-bundle' }, 'an extra CA is removed');

  const renewAt = notBeforeMs(m.serving.certPem) + Math.floor((notAfterMs(m.serving.certPem) - notBeforeMs(m.serving.certPem)) * 2 / 3);
  t.same(plan(m, t0), { action: 'none', nextCheckAtMs: renewAt }, 'next check at the serving renewal');
  t.ok(notAfterMs(m.serving.certPem) - renewAt >= 9 * DAY_MS, 'renewed with more than 9 days to spare');
  t.same(plan(m, renewAt - 1), { action: 'none', nextCheckAtMs: renewAt });
  t.match(plan(m, renewAt), { action: 'renew-serving', reason: /due for renewal/ });
  t.match(plan(m, notAfterMs(m.serving.certPem)), { action: 'renew-serving', reason: /expired/ });
  t.match(plan(m, notAfterMs(m.ca.certPem)), { action: 'bootstrap', reason: /CA has expired/ });

  const renewed = await nextMaterial({ action: 'renew-serving', reason: 'test' }, m, renewAt, issuer);
  t.equal(renewed.ca, m.ca, 'same CA');
  t.not(renewed.serving.certPem, m.serving.certPem);
  t.ok(isSignedBy(renewed.serving.certPem, m.ca.certPem));
  t.match(plan(renewed, renewAt), { action: 'none' });
});

t.test('a serving certificate that does not fit is renewed', async (t) => {
  const m = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer);
  const foreign = await issuer.createCa(t0);
  const wrongIssuer = { ...m, serving: await issuer.createServing(foreign, t0) };
  t.match(plan(wrongIssuer, t0), { action: 'renew-serving', reason: /not signed by the current CA/ });
  const step = planRotation({
    nowMs: t0,
    secret: { ok: true, material: m },
    publishedBundlePem: bundlePem(m.trustedCaPems),
    requiredDnsNames: [...dnsNames, 'hybrid-secrets.other.svc'],
    policy,
  });
  t.match(step, { action: 'renew-serving', reason: /lacks the names hybrid-secrets\.other\.svc/ }, 'the namespace changed');
});

t.test('CA rollover: stage (old + new trusted), switch after propagation, retire after propagation', async (t) => {
  const m0 = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer);
  const caRenewAt = notBeforeMs(m0.ca.certPem) + Math.floor((notAfterMs(m0.ca.certPem) - notBeforeMs(m0.ca.certPem)) * 2 / 3);
  // A serving certificate fresh at that time, so only the CA is due.
  const m1 = await nextMaterial({ action: 'renew-serving', reason: 'test' }, m0, caRenewAt, issuer);
  t.match(plan(m1, caRenewAt - 1), { action: 'none' });
  t.match(plan(m1, caRenewAt), { action: 'stage-ca' });
  t.ok(notAfterMs(m0.ca.certPem) - caRenewAt > 100 * DAY_MS, 'rolled months before the CA expires');

  const staged = await nextMaterial({ action: 'stage-ca', reason: 'test' }, m1, caRenewAt, issuer);
  t.equal(staged.trustedCaPems.length, 2);
  t.ok(staged.nextCa !== undefined && staged.trustedCaPems.includes(staged.nextCa.certPem), 'new CA trusted');
  t.ok(staged.trustedCaPems.includes(m1.ca.certPem), 'old CA still trusted');
  t.equal(staged.serving, m1.serving, 'still serving from the old CA');
  t.match(plan(staged, caRenewAt, bundlePem(m1.trustedCaPems)), { action: 'publish-bundle' }, 'republished if the bundle was lost');
  const switchAt = caRenewAt + policy.propagationMs;
  t.same(plan(staged, caRenewAt), { action: 'none', nextCheckAtMs: switchAt });
  t.match(plan(staged, switchAt), { action: 'switch-ca' });

  const switched = await nextMaterial({ action: 'switch-ca', reason: 'test' }, staged, switchAt, issuer);
  t.equal(switched.ca, staged.nextCa, 'the new CA signs now');
  t.equal(switched.nextCa, undefined);
  t.ok(isSignedBy(switched.serving.certPem, staged.nextCa!.certPem));
  t.same(switched.trustedCaPems, staged.trustedCaPems, 'both CAs stay trusted while replicas reload');
  const retireAt = switchAt + policy.propagationMs;
  t.same(plan(switched, switchAt), { action: 'none', nextCheckAtMs: retireAt });
  t.match(plan(switched, retireAt), { action: 'retire-old-ca' });

  const retired = await nextMaterial({ action: 'retire-old-ca', reason: 'test' }, switched, retireAt, issuer);
  t.same(retired.trustedCaPems, [switched.ca.certPem]);
  t.equal(retired.switchedAtMs, undefined);
  t.match(plan(retired, retireAt), { action: 'none' });

  for (const m of [staged, switched, retired]) {
    const parsed = parseTlsSecret(serializeTlsSecret(m));
    t.ok(parsed.ok, 'every intermediate state survives the Secret');
    if (parsed.ok) t.same(splitPemBundle(bundlePem(parsed.material.trustedCaPems)), splitPemBundle(bundlePem(m.trustedCaPems)));
  }
});

t.test('a bootstrap keeps trusting the unexpired CAs still published until replicas reload', async (t) => {
  const live = await issuer.createCa(t0 - DAY_MS);
  const expired = await issuer.createCa(t0 - 2 * policy.caValidityMs);
  const m = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer, bundlePem([live.certPem, expired.certPem]));
  t.same(splitPemBundle(bundlePem(m.trustedCaPems)), splitPemBundle(bundlePem([m.ca.certPem, live.certPem])), 'new CA and the live one; the expired one is gone');
  t.equal(m.switchedAtMs, t0, 'retired like after a CA switch');
  t.match(plan(m, t0 + policy.propagationMs), { action: 'retire-old-ca' });
  const fresh = await nextMaterial({ action: 'bootstrap', reason: 'test' }, undefined, t0, issuer, undefined);
  t.same(fresh.trustedCaPems, [fresh.ca.certPem], 'first install: only the new CA');
  t.equal(fresh.switchedAtMs, undefined);
});
