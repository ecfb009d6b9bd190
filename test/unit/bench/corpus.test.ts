import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  CORPUS_CLASSES,
  INVALID_VARIANTS,
  STORES_FILE,
  generateCorpus,
  loadTemplates,
  seededRandom,
  type CorpusEntry,
} from '../../../bench/corpus.ts';
import { planInjection } from '../../../src/core/plan.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../../../src/providers/index.ts';
import { parseStoreCatalog } from '../../../src/stores/catalog.ts';

const templates = loadTemplates();
const options = { seed: 7, workloads: 33, podsPerWorkload: 2 };

interface Review {
  apiVersion: string;
  kind: string;
  request: {
    uid: string;
    namespace: string;
    operation: string;
    object: {
      kind: string;
      metadata: { name?: string; generateName?: string; annotations?: Record<string, string>; ownerReferences: unknown[] };
      spec: { containers: { name: string }[] };
    };
  };
}
const review = (entry: CorpusEntry) => JSON.parse(entry.body) as Review;

t.test('the random source is seeded: same seed, same sequence', async (t) => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = [a(), a(), a()];
  t.same([b(), b(), b()], first);
  t.not(c(), first[0]);
  t.ok(first.every((x) => x >= 0 && x < 1));
});

t.test('generation is deterministic and depends on the seed', async (t) => {
  for (const cls of CORPUS_CLASSES) {
    const once = generateCorpus(templates, cls, options).map((e) => e.body);
    const twice = generateCorpus(templates, cls, options).map((e) => e.body);
    t.same(twice, once, `${cls}: same seed gives the same bodies`);
    const other = generateCorpus(templates, cls, { ...options, seed: 8 }).map((e) => e.body);
    t.not(other.join(), once.join(), `${cls}: another seed gives other bodies`);
  }
});

t.test('reviews are Pod CREATE AdmissionReviews of the advertised shape', async (t) => {
  for (const cls of CORPUS_CLASSES) {
    const entries = generateCorpus(templates, cls, options);
    t.equal(entries.length, options.workloads * options.podsPerWorkload, `${cls}: one review per pod`);
    t.equal(new Set(entries.map((e) => e.uid)).size, entries.length, `${cls}: request uids are unique`);
    for (const entry of entries) {
      const r = review(entry);
      t.equal(r.apiVersion, 'admission.k8s.io/v1');
      t.equal(r.kind, 'AdmissionReview');
      t.equal(r.request.uid, entry.uid);
      t.equal(r.request.namespace, entry.namespace);
      t.equal(r.request.operation, 'CREATE');
      t.equal(r.request.object.kind, 'Pod');
      t.equal(r.request.object.metadata.ownerReferences.length, 1, 'pods come from a controller');
      t.ok(r.request.object.metadata.name ?? r.request.object.metadata.generateName, 'a name or a generateName');
      t.equal(r.request.object.spec.containers.length, entry.containers);
      t.ok(entry.containers >= 1 && entry.containers <= 6, 'one to six containers');
    }
  }
  const hot = generateCorpus(templates, 'hot', { seed: 1, workloads: 200, podsPerWorkload: 1 });
  const secrets = hot.map((e) => e.secrets);
  t.equal(Math.min(...secrets), 1, 'as few as one secret');
  t.equal(Math.max(...secrets), 20, 'as many as twenty secrets');
  t.same([...new Set(hot.map((e) => e.containers))].sort(), [1, 2, 3, 4, 5, 6], 'every container count from one to six');
});

t.test('every invalid variant is represented and names its violation', async (t) => {
  const entries = generateCorpus(templates, 'invalid', options);
  t.same([...new Set(entries.map((e) => e.violation))].sort(), [...INVALID_VARIANTS].sort());
});

t.test('each class takes the path it is named for through the real core', async (t) => {
  const loaded = parseStoreCatalog(readFileSync(STORES_FILE, 'utf8'), STORES_FILE, { defaultNamespace: 'default' });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const config = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  const expected = { hot: 'inject', invalid: 'deny', unselected: 'skip' } as const;
  for (const cls of CORPUS_CLASSES) {
    const actions = new Map<string, number>();
    for (const entry of generateCorpus(templates, cls, options)) {
      const { request } = review(entry);
      const plan = planInjection({ pod: request.object, namespace: request.namespace }, loaded.catalog, config);
      const key = `${plan.action}${entry.violation ? ` (${entry.violation})` : ''}`;
      actions.set(key, (actions.get(key) ?? 0) + 1);
    }
    const unexpected = [...actions.keys()].filter((key) => !key.startsWith(expected[cls]));
    t.same(unexpected, [], `${cls}: every review is ${expected[cls]}`);
  }
});
