import t from 'tap';
import type { LeaseApi } from '../../../src/kube/api.ts';
import { LeaderElector } from '../../../src/kube/leader.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';
import { FakeClock, FakeLeaseApi, silentLogger } from './fakes.ts';

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(identity: string, api: LeaseApi, clock: FakeClock) {
  const e = new LeaderElector({ identity, ...timing }, { api, clock, logger: silentLogger });
  const log: string[] = [];
  const signals: AbortSignal[] = [];
  e.onStartedLeading((signal) => {
    log.push('started');
    signals.push(signal);
  });
  e.onStoppedLeading(() => log.push('stopped'));
  return { e, log, signals };
}

t.test('creates a missing lease and leads', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const { e, log } = elector('a', api, clock);
  e.start();
  await clock.advance(0);
  t.equal(e.isLeader(), true);
  t.same(log, ['started']);
  t.equal(api.stored?.record.holderIdentity, 'a');
  t.equal(api.stored?.record.leaseDurationSeconds, 15);
  await e.stop();
});

t.test('renews every retry period while leading', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const { e } = elector('a', api, clock);
  e.start();
  await clock.advance(0);
  const firstRenew = api.stored!.record.renewTimeMs;
  await clock.advance(2_000);
  t.equal(api.stored!.record.renewTimeMs, firstRenew + 2_000);
  t.equal(api.stored!.record.acquireTimeMs, firstRenew, 'acquire time kept on renewal');
  t.equal(api.stored!.record.leaseTransitions, 0);
  await e.stop();
});

t.test('a second replica waits while the lease is held, and only one leads', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const a = elector('a', api, clock);
  const b = elector('b', api, clock);
  a.e.start();
  await clock.advance(0);
  b.e.start();
  await clock.advance(60_000);
  t.equal(a.e.isLeader(), true);
  t.equal(b.e.isLeader(), false);
  t.same(b.log, []);
  await a.e.stop();
  await b.e.stop();
});

t.test('takes over a lease whose holder stopped renewing, after a full lease duration', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  api.stored = {
    resourceVersion: 'old',
    record: { holderIdentity: 'gone', leaseDurationSeconds: 15, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 3 },
  };
  const { e } = elector('b', api, clock);
  e.start();
  await clock.advance(0);
  t.equal(e.isLeader(), false, 'an old renewTime alone is not trusted: expiry runs on our clock');
  await clock.advance(14_000);
  t.equal(e.isLeader(), false);
  await clock.advance(2_000);
  t.equal(e.isLeader(), true, 'taken once unchanged for 15 s as observed here');
  t.equal(api.stored.record.leaseTransitions, 4);
  await e.stop();
});

t.test('a released (free) lease is taken at once', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  api.stored = {
    resourceVersion: 'r',
    record: { holderIdentity: '', leaseDurationSeconds: 1, acquireTimeMs: clock.now(), renewTimeMs: clock.now(), leaseTransitions: 1 },
  };
  const { e } = elector('b', api, clock);
  e.start();
  await clock.advance(0);
  t.equal(e.isLeader(), true);
  await e.stop();
});

t.test('stops leading when renewals fail past the renew deadline, before the lease expires', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const { e, log, signals } = elector('a', api, clock);
  e.start();
  await clock.advance(0);
  api.failure = new KubeApiError('connection refused');
  await clock.advance(8_000);
  t.equal(e.isLeader(), true, 'still leader within the renew deadline');
  await clock.advance(2_000);
  t.equal(e.isLeader(), false, 'gave up at the renew deadline (10 s), before the lease (15 s) could expire elsewhere');
  t.same(log, ['started', 'stopped']);
  t.equal(signals[0]!.aborted, true, 'the leadership signal aborts');
  api.failure = undefined;
  await clock.advance(2_000);
  t.equal(e.isLeader(), true, 'campaigns again and re-acquires its own lease');
  t.same(log, ['started', 'stopped', 'started']);
  await e.stop();
});

t.test('stops leading at once when another replica holds the lease', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const { e, log } = elector('a', api, clock);
  e.start();
  await clock.advance(0);
  api.stored = { resourceVersion: 'x', record: { ...api.stored!.record, holderIdentity: 'b' } };
  await clock.advance(2_000);
  t.equal(e.isLeader(), false);
  t.same(log, ['started', 'stopped']);
  await e.stop();
});

t.test('a hung renewal counts against the renew deadline', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const { e } = elector('a', api, clock);
  e.start();
  await clock.advance(0);
  api.read = (signal?: AbortSignal) =>
    new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
  await clock.advance(12_000);
  t.equal(e.isLeader(), false);
  await e.stop();
});

t.test('stop releases the lease so a successor takes it without waiting', async (t) => {
  const clock = new FakeClock();
  const api = new FakeLeaseApi();
  const a = elector('a', api, clock);
  const b = elector('b', api, clock);
  a.e.start();
  await clock.advance(0);
  b.e.start();
  await clock.advance(2_000);
  await a.e.stop();
  t.same(a.log, ['started', 'stopped']);
  t.equal(api.stored?.record.holderIdentity, '');
  await clock.advance(2_000);
  t.equal(b.e.isLeader(), true);
  await b.e.stop();
  t.equal(clock.pendingTimers(), 0, 'no timers left behind');
});

t.test('a listener registered while leading is called at once', async (t) => {
  const clock = new FakeClock();
  const { e } = elector('a', new FakeLeaseApi(), clock);
  e.start();
  await clock.advance(0);
  let called = false;
  e.onStartedLeading(() => (called = true));
  t.equal(called, true);
  await e.stop();
});

t.test('rejects inconsistent timings', async (t) => {
  t.throws(
    () => new LeaderElector({ identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, { api: new FakeLeaseApi(), clock: new FakeClock(), logger: silentLogger }),
    /leaseDurationMs > renewDeadlineMs > retryPeriodMs/,
  );
});
