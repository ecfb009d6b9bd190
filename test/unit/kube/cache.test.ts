import type { KubernetesObject } from '@kubernetes/client-node';
import t from 'tap';
import { InformerCache, type CacheEvent } from '../../../src/kube/cache.ts';
import { FakeClock, FakeSource, flush, silentLogger } from './fakes.ts';

const options = { name: 'things', resyncMs: 600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 8_000, syncTimeoutMs: 30_000 };

function obj(name: string, resourceVersion = '1', namespace = 'ns'): KubernetesObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace, resourceVersion } };
}

function setup(initial: KubernetesObject[][] = [[obj('a')]]) {
  const clock = new FakeClock();
  const sources: FakeSource<KubernetesObject>[] = [];
  let next = 0;
  const cache = new InformerCache<KubernetesObject>(options, {
    clock,
    logger: silentLogger,
    makeSource: () => {
      const source = new FakeSource(initial[Math.min(next++, initial.length - 1)]);
      sources.push(source);
      return source;
    },
  });
  const events: CacheEvent<KubernetesObject>[] = [];
  cache.onEvent((event) => events.push(event));
  return { clock, cache, sources, events };
}

t.test('is not synced until the first list completes, then serves lookups', async (t) => {
  const { cache, sources } = setup();
  cache.start();
  t.equal(cache.hasSynced(), false);
  t.equal(cache.get('a', 'ns'), undefined, 'nothing served before the list');
  sources[0]!.completeStart();
  await flush();
  t.equal(cache.hasSynced(), true);
  t.equal(cache.get('a', 'ns')?.metadata?.name, 'a');
  t.same(cache.list('ns').map((o) => o.metadata?.name), ['a']);
  t.same(cache.list('other'), []);
});

t.test('a failed first list is retried with exponential backoff', async (t) => {
  const { clock, cache, sources } = setup();
  cache.start();
  sources[0]!.completeStart(new Error('403 forbidden'));
  await flush();
  t.equal(cache.hasSynced(), false);
  t.equal(sources[0]!.stopped, true, 'the failed informer is stopped');
  await clock.advance(999);
  t.equal(sources.length, 1, 'no retry before the backoff');
  await clock.advance(1);
  t.equal(sources.length, 2, 'retried after 1 s');
  sources[1]!.completeStart(new Error('still forbidden'));
  await clock.advance(1_999);
  t.equal(sources.length, 2);
  await clock.advance(1);
  t.equal(sources.length, 3, 'second retry after 2 s');
  sources[2]!.completeStart();
  await flush();
  t.equal(cache.hasSynced(), true);
});

t.test('backoff is capped', async (t) => {
  const { clock, cache, sources } = setup();
  cache.start();
  for (let i = 0; i < 6; i++) {
    sources[i]!.completeStart(new Error('down'));
    await clock.advance(8_000);
  }
  t.equal(sources.length, 7, 'one retry per capped 8 s period');
});

t.test('a watch that stops on an error is restarted and keeps serving meanwhile', async (t) => {
  const { clock, cache, sources, events } = setup([[obj('a')], [obj('a'), obj('b')]]);
  cache.start();
  sources[0]!.completeStart();
  await flush();
  sources[0]!.fail(new Error('watch failed: 500'));
  t.equal(cache.get('a', 'ns')?.metadata?.name, 'a', 'stale data still served');
  t.equal(cache.hasSynced(), true, 'stays ready while restarting');
  await clock.advance(1_000);
  t.equal(sources.length, 2);
  t.equal(cache.get('b', 'ns'), undefined, 'the new informer is not used before it synced');
  sources[1]!.completeStart();
  await flush();
  t.equal(cache.get('b', 'ns')?.metadata?.name, 'b', 'swapped in after its list');
  t.ok(events.some((e) => e.type === 'resync'));
});

t.test('re-lists periodically by swapping in a fresh informer', async (t) => {
  const { clock, cache, sources } = setup([[obj('a')], [obj('b')]]);
  cache.start();
  sources[0]!.completeStart();
  await flush();
  await clock.advance(options.resyncMs);
  t.equal(sources.length, 2, 'a fresh informer lists again');
  t.equal(cache.get('a', 'ns')?.metadata?.name, 'a', 'old data served until the new list is in');
  sources[1]!.completeStart();
  await flush();
  t.equal(cache.get('a', 'ns'), undefined, 'an object missed by the watch disappears');
  t.equal(cache.get('b', 'ns')?.metadata?.name, 'b');
  t.equal(sources[0]!.stopped, true, 'the previous informer is stopped');
});

t.test('forwards events of the active informer only', async (t) => {
  const { clock, cache, sources, events } = setup();
  cache.start();
  sources[0]!.upsert(obj('early'));
  t.same(events, [], 'no events before the informer is active');
  sources[0]!.completeStart();
  await flush();
  sources[0]!.upsert(obj('b'));
  sources[0]!.remove(obj('a'));
  t.same(
    events.map((e) => (e.type === 'resync' ? 'resync' : `${e.type}:${e.object.metadata?.name}`)),
    ['resync', 'add:b', 'delete:a'],
  );
  await clock.advance(options.resyncMs);
  sources[0]!.upsert(obj('late'));
  t.ok(events.some((e) => e.type === 'add' && e.object.metadata?.name === 'late'), 'the old informer stays active');
  sources[1]!.upsert(obj('pending'));
  t.notOk(events.some((e) => e.type === 'add' && e.object.metadata?.name === 'pending'), 'a pending one is silent');
});

t.test('assumed objects are served until the informer reports that object', async (t) => {
  const { cache, sources } = setup();
  cache.start();
  sources[0]!.completeStart();
  await flush();
  cache.assume(obj('a', '7'));
  cache.assume(obj('new', '8'));
  t.equal(cache.get('a', 'ns')?.metadata?.resourceVersion, '7');
  t.equal(cache.get('new', 'ns')?.metadata?.resourceVersion, '8');
  t.same(cache.list('ns').map((o) => o.metadata?.name).sort(), ['a', 'new']);
  t.same(cache.list('elsewhere'), []);
  sources[0]!.upsert(obj('a', '6'));
  t.equal(cache.get('a', 'ns')?.metadata?.resourceVersion, '6', 'any informer event replaces the assumption');
  sources[0]!.remove(obj('new', '9'));
  t.equal(cache.get('new', 'ns'), undefined);
});

t.test('stop stops every informer and ends retries', async (t) => {
  const { clock, cache, sources } = setup();
  cache.start();
  sources[0]!.completeStart(new Error('down'));
  await flush();
  await cache.stop();
  await clock.advance(120_000);
  t.equal(sources.length, 1, 'no restart after stop');
  t.equal(cache.hasSynced(), false);
  t.equal(clock.pendingTimers(), 0);
});

t.test('a list that never completes is abandoned after syncTimeoutMs and retried', async (t) => {
  const { clock, cache, sources } = setup();
  cache.start();
  await clock.advance(29_999);
  t.equal(sources.length, 1);
  await clock.advance(1);
  t.equal(sources[0]!.stopped, true, 'the hung informer is stopped');
  await clock.advance(1_000);
  t.equal(sources.length, 2, 'retried after the backoff');
  sources[0]!.completeStart();
  await flush();
  t.equal(cache.hasSynced(), false, 'a late answer from the abandoned informer is ignored');
  sources[1]!.completeStart();
  await flush();
  t.equal(cache.hasSynced(), true);
});
