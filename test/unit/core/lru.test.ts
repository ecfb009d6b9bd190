import t from 'tap';
import { LruMap } from '../../../src/core/lru.ts';

t.test('keeps at most maxEntries, forgetting the least recently used first', async (t) => {
  const map = new LruMap<string, number>(2);
  map.set('a', 1);
  map.set('b', 2);
  t.equal(map.get('a'), 1, 'reading a makes b the oldest');
  map.set('c', 3);
  t.equal(map.size, 2);
  t.equal(map.get('b'), undefined, 'b was evicted');
  t.equal(map.get('a'), 1);
  t.equal(map.get('c'), 3);
  map.set('a', 10);
  map.set('d', 4);
  t.equal(map.get('c'), undefined, 'overwriting a refreshed it; c was the oldest');
  t.equal(map.get('a'), 10);
  map.clear();
  t.equal(map.size, 0);
  t.equal(map.get('a'), undefined);
});

t.test('refuses a size that is not a whole number ≥ 1', async (t) => {
  t.throws(() => new LruMap(0), /maxEntries must be a whole number ≥ 1; got 0/);
  t.throws(() => new LruMap(1.5), RangeError);
});
