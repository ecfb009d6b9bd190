import fjp from 'fast-json-patch';
import t from 'tap';
import { planInjection } from '../../../src/core/plan.ts';
import type { InjectionTarget } from '../../../src/core/types.ts';
import { renderInjectedPod } from '../../../src/core/injected.ts';
import { MemoryStoreCatalog } from '../../../src/stores/catalog.ts';
import { P, catalog, config, minimalPod, richPod } from '../../support/core-fixtures.ts';

type Pod = { metadata: Record<string, unknown>; spec: Record<string, unknown> };

/** The pod as the API server stores it after our patch (plus what creation adds). */
function admitted(pod: Pod, created: Record<string, unknown> = {}): { pod: Pod; objects: NonNullable<ReturnType<typeof renderInjectedPod>> } {
  const plan = planInjection({ pod, namespace: 'team-a' }, catalog, config);
  if (plan.action !== 'inject') throw new Error(`expected inject, got ${plan.action}`);
  const patched = fjp.applyPatch(structuredClone(pod), structuredClone(plan.patch) as fjp.Operation[], true, false).newDocument;
  return { pod: { ...patched, metadata: { ...patched.metadata, uid: 'uid-1', ...created } }, objects: plan.objects };
}

const target = (pod: InjectionTarget['pod']): InjectionTarget => ({ pod, namespace: 'team-a' });

t.test('renders the same objects the admission created, for a Deployment pod with env vars', async (t) => {
  const { pod, objects } = admitted(richPod({ [`${P}env-db`]: 'DB_PASSWORD', [`${P}init-containers`]: 'migrate' }), { name: 'web-5d8f7c9b4-x2x2x' });
  t.same(renderInjectedPod(target(pod), catalog, config), objects);
});

t.test('renders the objects of a named bare pod', async (t) => {
  const { pod, objects } = admitted(minimalPod());
  t.same(renderInjectedPod(target(pod), catalog, config), objects);
});

t.test('a generateName bare pod: named after the generateName, as at admission', async (t) => {
  const bare: Pod = { metadata: { generateName: 'debug-', annotations: minimalPod().metadata.annotations }, spec: { containers: [{ name: 'app' }] } };
  const { pod, objects } = admitted(bare, { name: 'debug-abcde' });
  const rendered = renderInjectedPod(target(pod), catalog, config);
  t.equal(rendered?.name, objects.name);
  t.match(objects.name, /^debug-/);
});

t.test('undefined when the pod cannot be rendered any more or is not ours', async (t) => {
  const { pod } = admitted(minimalPod());
  const empty = new MemoryStoreCatalog({ clusterStores: [], namespacedStores: [], namespaces: new Map() });
  t.equal(renderInjectedPod(target(pod), empty, config), undefined, 'store gone');
  t.equal(renderInjectedPod(target(minimalPod()), catalog, config), undefined, 'never injected: no volume of ours');
  t.equal(renderInjectedPod(target({}), catalog, config), undefined);
});

t.test('a changed store renders other objects, which the reconciler then treats as drift', async (t) => {
  const { pod, objects } = admitted(minimalPod());
  const changedVault = { ...catalog.clusterStore('vault')!, spec: { provider: { vault: { server: 'https://other:8200', path: 'secret', version: 'v2', auth: { kubernetes: { mountPath: 'kubernetes', role: 'apps' } } } } } };
  const changed = new MemoryStoreCatalog({ clusterStores: [changedVault], namespacedStores: [], namespaces: new Map([['team-a', {}]]) });
  const rendered = renderInjectedPod(target(pod), changed, config);
  t.ok(rendered);
  t.not(rendered?.name, objects.name);
});
