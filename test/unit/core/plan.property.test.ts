// Property: for arbitrary annotation maps and arbitrary pod shapes, planInjection returns a plan
// (skip, a denial with problems, or a patch that applies cleanly and is then idempotent) and
// never throws. The same holds for `inject` on arbitrary documents.
import fc from 'fast-check';
import fjp from 'fast-json-patch';
import t from 'tap';
import { planInjection } from '../../../src/core/plan.ts';
import { injectManifests } from '../../../src/manifests/inject.ts';
import { P, catalog, config } from '../../support/core-fixtures.ts';

const NUM_RUNS = 400;

const secretName = fc.oneof(
  fc.constantFrom('db', 'api-token', 'tls.crt', 'a', '.', '..', '', 'UPPER', 'x'.repeat(41), 'a/b'),
  fc.stringMatching(/^[a-z0-9][-a-z0-9_.]{0,8}[a-z0-9]$/),
);
const annotationKey = fc.oneof(
  fc.constantFrom('inject', 'store', 'store-kind', 'mount-path', 'containers', 'init-containers', 'refresh-interval', 'role', 'status', 'bogus').map((k) => `${P}${k}`),
  fc.tuple(fc.constantFrom('secret-', 'version-', 'env-'), secretName).map(([prefix, name]) => `${P}${prefix}${name}`),
  fc.string({ maxLength: 20 }),
);
const annotationValue = fc.oneof(
  fc.constantFrom('true', 'vault', 'aws', 'azurekv', 'gcpsm', 'fake', 'restricted', 'team-vault', 'SecretStore', 'ClusterSecretStore', '/mnt/secrets', '/etc', 'app', 'app,proxy', 'migrate', '1h', '0', 'injected', 'DB_PASSWORD', 'app/db#password', 'db-password', '#', 'a#', '3'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const randomAnnotations = fc
  .tuple(fc.dictionary(annotationKey, annotationValue, { maxKeys: 12 }), fc.boolean())
  .map(([map, select]) => (select ? { ...map, [`${P}inject`]: 'true' } : map));
// A valid request with a few optional, mostly valid additions: reaches injection often.
const nearlyValidAnnotations = fc
  .tuple(
    fc.constantFrom('vault', 'aws', 'gcpsm', 'restricted'),
    fc.dictionary(
      fc.constantFrom(`${P}env-db`, `${P}containers`, `${P}init-containers`, `${P}mount-path`, `${P}version-db`, `${P}secret-api`, `${P}role`),
      fc.constantFrom('DB_PASSWORD', 'X', 'app', 'app,proxy', 'migrate', '/mnt/secrets', '/data', '/srv/s', '3', 'team-api', 'web'),
      { maxKeys: 3 },
    ),
  )
  .map(([store, extra]) => ({ [`${P}inject`]: 'true', [`${P}store`]: store, [`${P}secret-db`]: 'db-password', ...extra }));
const annotations = fc.oneof(randomAnnotations, nearlyValidAnnotations, nearlyValidAnnotations);

/** Mostly the expected shape, sometimes anything at all. */
function mostly<T>(shape: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof({ arbitrary: shape, weight: 6 }, { arbitrary: fc.anything(), weight: 1 });
}

const container = fc.record(
  {
    name: mostly(fc.oneof(fc.constantFrom('app', 'proxy', 'migrate'), fc.string({ maxLength: 5 }))),
    env: mostly(fc.array(fc.record({ name: fc.constantFrom('DB_PASSWORD', 'PORT', 'X') }), { maxLength: 3 })),
    volumeMounts: mostly(fc.array(fc.record({ name: fc.string(), mountPath: fc.constantFrom('/mnt/secrets', '/data') }), { maxLength: 2 })),
  },
  { requiredKeys: [] },
);
const pod = fc.record(
  {
    metadata: mostly(
      fc.record(
        {
          name: mostly(fc.string({ maxLength: 70 })),
          generateName: fc.string({ maxLength: 10 }),
          labels: mostly(fc.constant({ 'pod-template-hash': 'abc' })),
          annotations: mostly(annotations),
          ownerReferences: mostly(fc.constant([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u', controller: true }])),
        },
        { requiredKeys: ['annotations'] },
      ),
    ),
    spec: mostly(
      fc.record(
        {
          containers: mostly(fc.array(container, { maxLength: 3 })),
          initContainers: mostly(fc.array(container, { maxLength: 2 })),
          volumes: mostly(fc.array(fc.record({ name: fc.constantFrom('hybrid-secrets', 'cache') }), { maxLength: 2 })),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
const namespace = fc.constantFrom('team-a', 'prod', 'payments-eu', 'default');

t.test('arbitrary pods and annotations: a plan, never an exception', async (t) => {
  const seen = { skip: 0, deny: 0, inject: 0 };
  fc.assert(
    fc.property(pod, namespace, (candidate, ns) => {
      const plan = planInjection({ pod: candidate, namespace: ns }, catalog, config);
      seen[plan.action] += 1;
      if (plan.action === 'deny') {
        if (plan.problems.length === 0) return false;
        return plan.problems.every((p) => p.field !== '' && p.message !== '');
      }
      if (plan.action === 'inject') {
        const after = fjp.applyPatch(structuredClone(candidate), structuredClone(plan.patch) as fjp.Operation[], true, false).newDocument;
        const again = planInjection({ pod: after, namespace: ns }, catalog, config);
        return again.action === 'skip' && again.reason === 'already-injected' && plan.objects.name.length <= 63;
      }
      return true;
    }),
    { numRuns: NUM_RUNS },
  );
  // Injection on arbitrary shapes is rare here; the well-formed-shapes property below covers it.
  t.ok(seen.skip > 0 && seen.deny > 0, `the generators reach skips and denials (${JSON.stringify(seen)})`);
});

t.test('selected pods with valid-looking annotations reach injection', async (t) => {
  const valid = fc.record({
    [`${P}store`]: fc.constantFrom('vault', 'aws', 'gcpsm'),
    [`${P}secret-db`]: fc.constantFrom('db-password', 'team/db'),
    [`${P}refresh-interval`]: fc.constantFrom('1h', '0', '90s'),
  });
  let injected = 0;
  fc.assert(
    fc.property(valid, fc.array(fc.constantFrom('app', 'proxy', 'side'), { minLength: 1, maxLength: 3 }), (extra, names) => {
      const containers = [...new Set(names)].map((name) => ({ name }));
      const plan = planInjection({ pod: { metadata: { name: 'p', annotations: { [`${P}inject`]: 'true', ...extra } }, spec: { containers } }, namespace: 'team-a' }, catalog, config);
      if (plan.action === 'inject') injected += 1;
      // GCP secret ids have no '/': that one pair is denied, on the secret; every other injects.
      if (extra[`${P}store`] === 'gcpsm' && extra[`${P}secret-db`] === 'team/db') {
        return plan.action === 'deny' && plan.problems.some((problem) => problem.field === `${P}secret-db`);
      }
      return plan.action === 'inject';
    }),
    { numRuns: 100 },
  );
  t.ok(injected > 0, `some pods are injected (${injected})`);
});

t.test('well-formed pods of any shape: the patch applies cleanly and a second plan skips', async (t) => {
  const maybeList = <T>(item: fc.Arbitrary<T>) => fc.option(fc.array(item, { maxLength: 3 }), { nil: undefined });
  const shapedContainer = (name: string) =>
    fc.record(
      {
        name: fc.constant(name),
        image: fc.string(),
        env: maybeList(fc.record({ name: fc.constantFrom('PORT', 'MODE'), value: fc.string() })),
        volumeMounts: maybeList(fc.record({ name: fc.constant('cache'), mountPath: fc.constantFrom('/cache', '/tmp') })),
      },
      { requiredKeys: ['name'] },
    );
  const shapedPod = fc.record({
    metadata: fc.record(
      {
        name: fc.string({ maxLength: 70 }),
        labels: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
        annotations: fc.constant({ [`${P}inject`]: 'true', [`${P}secret-db`]: 'db-password', [`${P}env-db`]: 'DB_PASSWORD' }),
      },
      { requiredKeys: ['annotations'] },
    ),
    spec: fc.record(
      {
        containers: fc.tuple(shapedContainer('app'), fc.option(shapedContainer('proxy'), { nil: undefined })).map(([a, b]) => (b ? [a, b] : [a])),
        initContainers: fc.option(fc.tuple(shapedContainer('migrate')).map((list) => [...list]), { nil: undefined }),
        volumes: maybeList(fc.record({ name: fc.constant('cache'), emptyDir: fc.constant({}) })),
      },
      { requiredKeys: ['containers'] },
    ),
  });
  fc.assert(
    fc.property(shapedPod, (candidate) => {
      const plan = planInjection({ pod: candidate, namespace: 'team-a' }, catalog, config);
      if (plan.action !== 'inject') return false;
      const after = fjp.applyPatch(structuredClone(candidate), structuredClone(plan.patch) as fjp.Operation[], true, false).newDocument as typeof candidate;
      const again = planInjection({ pod: after, namespace: 'team-a' }, catalog, config);
      const containers = after.spec.containers as { env?: { name: string }[]; volumeMounts?: { name: string }[] }[];
      return (
        again.action === 'skip' &&
        containers.every((c) => c.env?.some((e) => e.name === 'DB_PASSWORD') && c.volumeMounts?.some((m) => m.name === 'hybrid-secrets'))
      );
    }),
    { numRuns: NUM_RUNS },
  );
  t.pass(`${NUM_RUNS} pods injected`);
});

t.test('inject on arbitrary documents: a result, never an exception', async (t) => {
  const documents = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constantFrom('Pod', 'Deployment', 'List', 'CronJob', 'ConfigMap'), metadata: fc.anything(), spec: fc.anything(), items: fc.anything() }, { requiredKeys: ['kind'] }),
      fc.record({ kind: fc.constant('Pod'), metadata: fc.record({ name: fc.constant('p'), annotations: annotations }), spec: fc.constant({ containers: [{ name: 'app' }] }) }),
    ),
    { maxLength: 4 },
  );
  fc.assert(
    fc.property(documents, (docs) => {
      const source = docs.map((doc) => JSON.stringify(doc)).join('\n---\n');
      const result = injectManifests(source, catalog, config, { file: 'in.yaml', namespace: 'team-a' });
      return result.ok ? typeof result.output === 'string' : result.errors.length > 0;
    }),
    { numRuns: 200 },
  );
  t.pass('no exception');
});
