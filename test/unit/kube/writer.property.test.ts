// Whatever order concurrent applies complete in, no owner is lost and writes stay few.
import type { KubernetesObject } from '@kubernetes/client-node';
import fc from 'fast-check';
import t from 'tap';
import { createMetrics } from '../../../src/metrics.ts';
import { InformerCache } from '../../../src/kube/cache.ts';
import { KubeObjectWriter } from '../../../src/kube/writer.ts';
import { FakeClock, FakeSource, FakeWriteApi, flush, silentLogger } from './fakes.ts';
import { generated, owner } from './fixtures.ts';

const timing = { resyncMs: 600_000, restartInitialBackoffMs: 1_000, restartMaxBackoffMs: 60_000, syncTimeoutMs: 90_000 };

async function freshWriter() {
  const clock = new FakeClock();
  const api = new FakeWriteApi();
  const sources = [new FakeSource<KubernetesObject>(), new FakeSource<KubernetesObject>()] as const;
  const caches = {
    externalSecrets: new InformerCache<KubernetesObject>({ name: 'es', ...timing }, { clock, logger: silentLogger, makeSource: () => sources[0] }),
    secretProviderClasses: new InformerCache<KubernetesObject>({ name: 'spc', ...timing }, { clock, logger: silentLogger, makeSource: () => sources[1] }),
  };
  caches.externalSecrets.start();
  caches.secretProviderClasses.start();
  for (const source of sources) source.completeStart();
  await flush(2);
  const writer = new KubeObjectWriter({ apiDeadlineMs: 2_000 }, { api, caches, clock, metrics: createMetrics(), logger: silentLogger });
  return { api, writer };
}

t.test('concurrent ensures for several owners: every owner ends up on both objects', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }), async (s, owners) => {
      const { api, writer } = await freshWriter();
      api.respond = s.scheduleFunction(async (_object: unknown, _signal: unknown) => undefined);
      const signal = new AbortController().signal;
      await s.waitFor(Promise.all(owners.map((i) => writer.ensure(generated({ owner: owner(`rs-${i}`) }), { signal }))));
      const expected = [...new Set(owners)].map((i) => `uid-rs-${i}`).sort();
      for (const kind of ['ExternalSecret', 'SecretProviderClass']) {
        const stored = api.stored.get(`${kind}/team-a/web-abc123`);
        const uids = (stored?.metadata?.ownerReferences ?? []).map((o) => o.uid).sort();
        if (JSON.stringify(uids) !== JSON.stringify(expected)) throw new Error(`${kind} owners ${uids.join(',')} != ${expected.join(',')}`);
      }
      // At most one write per kind per distinct owner, however many ensures there were.
      if (api.applied.length > 2 * expected.length) throw new Error(`${api.applied.length} writes for ${expected.length} owners`);
    }),
    { numRuns: 150 },
  );
  t.pass('property held');
});
