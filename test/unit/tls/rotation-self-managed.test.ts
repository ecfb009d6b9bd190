import t from 'tap';
import { DEFAULT_ROTATION_POLICY, TLS_SECRET_KEYS } from '../../../src/tls/rotation.ts';
import { startSelfManagedTlsWith, type Leadership } from '../../../src/tls/self-managed.ts';
import { FakeClock, silentLogger } from '../kube/fakes.ts';
import { FakePublisher, FakeSecretStore } from './rotation-fakes.ts';

// Every certificate made here generates a real RSA key: slow on a busy machine.
t.setTimeout(180_000);

class FakeLeadership implements Leadership {
  leading = false;
  private readonly listeners = new Set<(signal: AbortSignal) => void>();
  isLeader(): boolean {
    return this.leading;
  }
  onStartedLeading(listener: (signal: AbortSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  lead(): void {
    this.leading = true;
    for (const l of this.listeners) l(new AbortController().signal);
  }
}

/** Waits for real asynchronous work (key generation), bounded; time itself is faked. */
async function until(condition: () => boolean): Promise<boolean> {
  for (const end = Date.now() + 10_000; !condition() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
  return condition();
}

t.test('two replicas on a fresh install: the leader issues and serves at once, the other within a reload', async (t) => {
  const clock = new FakeClock();
  const secrets = new FakeSecretStore();
  const bundle = new FakePublisher();
  const leaderLease = new FakeLeadership();
  const otherLease = new FakeLeadership();
  // Short-lived certificates keep the number of fake-clock ticks small.
  const policy = { ...DEFAULT_ROTATION_POLICY, servingValidityMs: 30 * 60_000 };
  const options = { namespace: 'hybrid-secrets', clock, log: silentLogger, reloadIntervalMs: 30_000, policy };
  const a = startSelfManagedTlsWith({ secrets, bundle }, { ...options, leadership: leaderLease });
  const b = startSelfManagedTlsWith({ secrets, bundle }, { ...options, leadership: otherLease });
  await clock.advance(0);
  t.equal(a.source.current(), undefined, 'nothing to serve before anyone leads');
  t.equal(secrets.writes, 0, 'a replica that does not lead writes nothing');

  leaderLease.lead();
  t.ok(await until(() => a.source.current() !== undefined), 'the new leader serves without waiting for the interval');
  t.equal(a.source.current()?.cert, secrets.data[TLS_SECRET_KEYS.cert]);
  t.ok(await until(() => bundle.bundle !== undefined), 'caBundle published');
  t.equal(bundle.bundle, secrets.data[TLS_SECRET_KEYS.bundle]);
  t.equal(b.source.current(), undefined, 'the other replica has not re-read yet');
  await clock.advance(30_000);
  t.ok(await until(() => b.source.current() !== undefined), 'the other replica serves after one reload interval');
  t.equal(b.source.current()?.cert, a.source.current()?.cert);

  const seen: string[] = [];
  b.source.subscribe((m) => seen.push(m.cert));
  const first = secrets.data[TLS_SECRET_KEYS.cert];
  await clock.advance(21 * 60_000);
  t.ok(await until(() => secrets.data[TLS_SECRET_KEYS.cert] !== first), 'the leader renewed at two thirds of 30 minutes');
  await clock.advance(30_000);
  t.ok(await until(() => seen.length > 0), 'renewal reaches the other replica within a reload, without a restart');
  t.equal(seen.at(-1), secrets.data[TLS_SECRET_KEYS.cert]);
  a.stop();
  b.stop();
  t.equal(clock.pendingTimers(), 0, 'stop leaves no timers');
});

t.test('a reload interval too slow for the rollover is refused', async (t) => {
  const clock = new FakeClock();
  t.throws(
    () => startSelfManagedTlsWith(
      { secrets: new FakeSecretStore(), bundle: new FakePublisher() },
      { namespace: 'x', clock, log: silentLogger, leadership: new FakeLeadership(), reloadIntervalMs: 120_000 },
    ),
    /reload interval \(120000 ms\) must be at most a third of propagationMs/,
  );
});
