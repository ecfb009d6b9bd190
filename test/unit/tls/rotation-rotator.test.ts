import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { isSignedBy, type CertificateKeyPair } from '../../../src/tls/certificates.ts';
import { DEFAULT_ROTATION_POLICY, TLS_SECRET_KEYS, splitPemBundle } from '../../../src/tls/rotation.ts';
import {
  TlsRotator,
  followServingCertificate,
  startTlsRotation,
  webhookCertificateIssuer,
  type RotationOutcome,
} from '../../../src/tls/rotator.ts';
import { FakeClock, silentLogger } from '../kube/fakes.ts';
import { FakePublisher, FakeSecretStore } from './rotation-fakes.ts';

// Every certificate made here generates a real RSA key: slow on a busy machine.
t.setTimeout(180_000);

const DAY_MS = 24 * 60 * 60 * 1000;
const policy = DEFAULT_ROTATION_POLICY;
const issuer = webhookCertificateIssuer({ service: 'hybrid-secrets', namespace: 'hybrid-secrets', policy });
const requiredDnsNames = ['hybrid-secrets.hybrid-secrets.svc'];

function setup(clock: FakeClock): { secrets: FakeSecretStore; bundle: FakePublisher; rotator: TlsRotator } {
  const secrets = new FakeSecretStore();
  const bundle = new FakePublisher();
  const rotator = new TlsRotator({ secrets, bundle, issuer, clock, policy, requiredDnsNames, log: silentLogger });
  return { secrets, bundle, rotator };
}

t.test('300 days of rotation: the API server always trusts what every replica may serve', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const { secrets, bundle, rotator } = setup(clock);
  // Serving certificates a replica may still present: the current one, and each replaced one
  // until `propagationMs` after its replacement (replicas reload well within that).
  const served: { pem: string; replacedAtMs?: number }[] = [];
  const violations: string[] = [];
  const check = (event: string): void => {
    const current = secrets.data[TLS_SECRET_KEYS.cert];
    if (current !== undefined && served.at(-1)?.pem !== current) {
      const previous = served.at(-1);
      if (previous !== undefined) previous.replacedAtMs = clock.now();
      served.push({ pem: current });
    }
    if (bundle.bundle === undefined) return; // first install: nothing can be trusted before the first publish
    const trusted = splitPemBundle(bundle.bundle);
    for (const s of served) {
      if (s.replacedAtMs !== undefined && clock.now() - s.replacedAtMs >= policy.propagationMs) continue;
      if (!trusted.some((ca) => isSignedBy(s.pem, ca))) {
        violations.push(`${new Date(clock.now()).toISOString()} after ${event}: a served certificate is not trusted`);
      }
    }
  };
  secrets.onChange = () => check('secret write');
  bundle.onChange = () => check('publish');

  const steps: string[] = [];
  const startMs = clock.now();
  const endMs = startMs + 300 * DAY_MS;
  let wiped = false;
  while (clock.now() < endMs) {
    if (!wiped && clock.now() >= startMs + 5 * DAY_MS) {
      // An operator forces a rotation by emptying the Secret; replicas still serve the old one.
      secrets.data = {};
      wiped = true;
    }
    const outcome = await rotator.runOnce();
    steps.push(...outcome.steps);
    t.equal(outcome.result, 'current');
    const current = secrets.data[TLS_SECRET_KEYS.cert]!;
    const notAfter = Date.parse(new X509Certificate(current).validTo);
    if (notAfter - clock.now() < 9 * DAY_MS) violations.push(`${new Date(clock.now()).toISOString()}: serving certificate close to expiry`);
    check('pass');
    const next = outcome.result === 'current' ? outcome.nextCheckAtMs : clock.now();
    t.ok(next > clock.now(), 'the next check is in the future');
    await clock.advance(Math.min(next - clock.now(), DAY_MS));
  }
  t.same(violations, [], 'no gap in trust and no expiry');
  const rolls = steps.filter((s) => s === 'stage-ca').length;
  t.equal(rolls, 1, 'the 1-year CA rolled once in 300 days (at two thirds of its life)');
  const roll = steps.slice(steps.indexOf('stage-ca'));
  t.same(roll.slice(0, 3), ['stage-ca', 'switch-ca', 'retire-old-ca'], 'stage, switch, retire in that order');
  t.ok(steps.filter((s) => s === 'renew-serving').length >= 13, 'serving certificates renewed every 20 days');
  t.equal(steps.filter((s) => s === 'bootstrap').length, 2, 'bootstraps: the install and the forced rotation');
  t.equal(steps.filter((s) => s === 'retire-old-ca').length, 2, 'the CAs carried over the forced rotation, and the rolled CA, retired');
  t.equal(splitPemBundle(bundle.bundle!).length, 1, 'one CA trusted at the end');
});

t.test('a concurrent writer wins; the rotator re-reads on its next pass', async (t) => {
  const clock = new FakeClock();
  const { secrets, bundle, rotator } = setup(clock);
  secrets.beforeWrite = () => {
    secrets.version++;
  };
  const outcome = await rotator.runOnce();
  t.same(outcome, { result: 'conflict', steps: ['bootstrap'] });
  t.same(secrets.data, {}, 'nothing overwritten');
  t.equal(bundle.publishes, 1, 'the new CA was trusted before the write that lost');

  secrets.beforeWrite = () => {};
  const settled = await rotator.runOnce();
  t.same(settled.steps, ['bootstrap'], 'published before writing: nothing left to publish');
  t.equal(settled.result, 'current');
  t.equal(splitPemBundle(bundle.bundle!).length, 2, 'the CA of the lost write is still trusted for a while');
  t.match(secrets.data[TLS_SECRET_KEYS.state], /switchedAtMs/, 'and retired like any replaced CA');
});

t.test('a lost write while staging a CA leaves an extra trusted CA, removed on the next pass', async (t) => {
  const clock = new FakeClock();
  const { secrets, bundle, rotator } = setup(clock);
  await rotator.runOnce();
  const original = bundle.bundle!;
  await clock.advance(250 * DAY_MS);
  // Get past serving renewal first, then lose the staging write.
  let writes = 0;
  secrets.beforeWrite = () => {
    if (++writes === 2) secrets.version++;
  };
  const outcome: RotationOutcome = await rotator.runOnce();
  t.same(outcome, { result: 'conflict', steps: ['renew-serving', 'stage-ca'] });
  t.equal(splitPemBundle(bundle.bundle!).length, 2, 'the new CA was published before the write was lost');
  t.notOk(TLS_SECRET_KEYS.nextCaCert in secrets.data, 'the Secret holds no staged CA');

  secrets.beforeWrite = () => {};
  const retried = await rotator.runOnce();
  t.same(retried.steps, ['publish-bundle', 'stage-ca'], 'stored bundle republished, then staged again');
  t.equal(splitPemBundle(bundle.bundle!).length, 2);
  t.ok(splitPemBundle(bundle.bundle!).includes(splitPemBundle(original)[0]!), 'the old CA is still trusted');
  t.ok(secrets.data[TLS_SECRET_KEYS.nextCaCert], 'the staged CA is stored');
});

t.test('startTlsRotation runs only while leading and keeps going after errors', async (t) => {
  const clock = new FakeClock();
  let leading = false;
  let calls = 0;
  let fail = false;
  const rotator = {
    async runOnce(): Promise<RotationOutcome> {
      calls++;
      if (fail) throw new Error('API down');
      return { result: 'current', nextCheckAtMs: clock.now() + 10 * DAY_MS, steps: [] };
    },
  };
  const loop = startTlsRotation({ rotator, isLeader: () => leading, clock, intervalMs: 60_000, log: silentLogger });
  await clock.advance(5 * 60_000);
  t.equal(calls, 0, 'not leading: never runs');
  leading = true;
  await clock.advance(60_000);
  t.equal(calls, 1, 'runs on the next tick after becoming leader');
  await clock.advance(60_000);
  t.equal(calls, 2, 'checks every interval even when nothing is due (heals a reset caBundle)');
  fail = true;
  await clock.advance(2 * 60_000);
  t.equal(calls, 4, 'errors do not stop the loop');
  fail = false;
  loop.runNow();
  await clock.advance(0);
  t.equal(calls, 5, 'runNow runs at once (on gaining leadership)');
  loop.runNow();
  loop.runNow();
  await clock.advance(0);
  t.equal(calls, 7, 'a runNow during a run runs once more afterwards, never concurrently');
  await clock.advance(60_000);
  t.equal(calls, 8, 'back on the interval');
  loop.stop();
  loop.runNow();
  await clock.advance(10 * 60_000);
  t.equal(calls, 8, 'stopped');
  t.equal(clock.pendingTimers(), 0);
});

t.test('a rotation that changed something tells the replica to reload at once', async (t) => {
  const clock = new FakeClock();
  const { rotator } = setup(clock);
  let changes = 0;
  const loop = startTlsRotation({ rotator, isLeader: () => true, clock, intervalMs: 60_000, log: silentLogger, onChange: () => changes++ });
  // Key generation is real asynchronous work: wait for it (bounded), not for the fake clock.
  for (const until = Date.now() + 10_000; changes === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
  t.equal(changes, 1, 'bootstrap reported');
  await clock.advance(10 * 60_000);
  t.equal(changes, 1, 'quiet passes are not');
  loop.stop();
});

t.test('every replica follows the Secret and switches certificates without a restart', async (t) => {
  const clock = new FakeClock();
  const { secrets, rotator } = setup(clock);
  const seen: CertificateKeyPair[] = [];
  const follower = followServingCertificate({
    secrets,
    clock,
    intervalMs: 30_000,
    onCertificate: (pair) => seen.push(pair),
    log: silentLogger,
  });
  await clock.advance(0);
  t.equal(seen.length, 0, 'empty Secret: nothing to serve yet');
  await rotator.runOnce();
  await clock.advance(30_000);
  t.equal(seen.length, 1, 'picked up the first certificate');
  t.equal(seen[0]?.certPem, secrets.data[TLS_SECRET_KEYS.cert]);
  await clock.advance(5 * 30_000);
  t.equal(seen.length, 1, 'unchanged Secret: no reload');

  secrets.failReads = true;
  await clock.advance(30_000);
  t.equal(follower.current()?.certPem, seen[0]?.certPem, 'a failed read keeps the current certificate');
  secrets.failReads = false;

  const before = secrets.data;
  secrets.data = { ...before, [TLS_SECRET_KEYS.key]: before[TLS_SECRET_KEYS.caKey]! };
  await clock.advance(30_000);
  t.equal(seen.length, 1, 'a certificate with the wrong key is not loaded');

  secrets.data = before;
  await clock.advance(21 * DAY_MS);
  await rotator.runOnce();
  await clock.advance(30_000);
  t.equal(seen.length, 2, 'renewed certificate loaded within one interval');
  t.equal(seen[1]?.certPem, secrets.data[TLS_SECRET_KEYS.cert]);
  follower.stop();
  t.equal(clock.pendingTimers(), 0);
});
