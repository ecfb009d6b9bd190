import fjp from 'fast-json-patch';
import t from 'tap';
import { planInjection } from '../../../src/core/plan.ts';
import type { InjectionPlan, InjectionTarget } from '../../../src/core/types.ts';
import { MemoryStoreCatalog } from '../../../src/stores/catalog.ts';
import { P, catalog, config, minimalPod, richPod } from '../../support/core-fixtures.ts';

type Pod = InjectionTarget['pod'];

function plan(pod: Pod, namespace = 'team-a', extra: Partial<InjectionTarget> = {}): InjectionPlan {
  return planInjection({ pod, namespace, ...extra }, catalog, config);
}

function inject(pod: Pod, namespace = 'team-a'): Extract<InjectionPlan, { action: 'inject' }> {
  const result = plan(pod, namespace);
  if (result.action !== 'inject') throw new Error(`expected inject, got ${JSON.stringify(result)}`);
  return result;
}

function applied(pod: Pod, result: Extract<InjectionPlan, { action: 'inject' }>): Pod {
  // validate = true: every operation must be valid against the document.
  return fjp.applyPatch(structuredClone(pod), structuredClone(result.patch) as fjp.Operation[], true, false).newDocument;
}

function problemsOf(result: InjectionPlan): { field: string; message: string }[] {
  if (result.action !== 'deny') throw new Error(`expected deny, got ${result.action}`);
  return [...result.problems];
}

t.test('pods that did not opt in are skipped', async (t) => {
  t.same(plan({ metadata: {}, spec: {} }), { action: 'skip', reason: 'not-selected' });
  t.same(plan({}), { action: 'skip', reason: 'not-selected' });
  t.same(plan(minimalPod({ [`${P}inject`]: 'True' })), { action: 'skip', reason: 'not-selected' });
  t.same(plan(minimalPod({ [`${P}inject`]: 'yes' })), { action: 'skip', reason: 'not-selected' });
});

t.test('a minimal pod gets the volume, the mount and the status', async (t) => {
  const pod = minimalPod();
  const result = inject(pod);
  const name = result.objects.name;
  t.match(name, /^web-[0-9a-f]{10}$/);
  t.same(applied(pod, result), {
    metadata: { name: 'web', annotations: { ...pod.metadata.annotations as object, [`${P}status`]: 'injected' } },
    spec: {
      containers: [{ name: 'app', image: 'app:1', volumeMounts: [{ name: 'hybrid-secrets', mountPath: '/mnt/secrets', readOnly: true }] }],
      volumes: [{ name: 'hybrid-secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: name } } }],
    },
  });
  t.same(result.store, { name: 'vault', kind: 'ClusterSecretStore' });
  t.same(result.warnings, []);
});

t.test('a rich pod keeps everything it had and gains mounts and env in the targets', async (t) => {
  const pod = richPod({ [`${P}env-db`]: 'DB_PASSWORD', [`${P}containers`]: 'app', [`${P}init-containers`]: 'migrate', [`${P}mount-path`]: '/run-secrets' });
  const result = inject(pod);
  const name = result.objects.name;
  const after = applied(pod, result) as ReturnType<typeof richPod>;
  const spec = after.spec as { volumes: unknown[]; containers: Record<string, unknown>[]; initContainers: Record<string, unknown>[] };
  t.equal(spec.volumes.length, 2);
  const envVar = { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name, key: 'db' } } };
  const mount = { name: 'hybrid-secrets', mountPath: '/run-secrets', readOnly: true };
  t.same(spec.containers[0], { name: 'app', image: 'app:1', env: [{ name: 'PORT', value: '8080' }, envVar], volumeMounts: [{ name: 'cache', mountPath: '/cache' }, mount] });
  t.same(spec.containers[1], { name: 'proxy', image: 'proxy:1' }, 'untargeted container untouched');
  t.same(spec.initContainers[0], { name: 'migrate', image: 'migrate:1', env: [{ name: 'MODE', value: 'up' }, envVar], volumeMounts: [mount] });
  t.equal((after.metadata.annotations as Record<string, string>)['kubectl.kubernetes.io/restartedAt'], '2026-01-01T00:00:00Z');
});

t.test('without a containers list every container is a target', async (t) => {
  const pod = richPod();
  const after = applied(pod, inject(pod)) as { spec: { containers: { volumeMounts?: unknown[] }[]; initContainers: { volumeMounts?: unknown[] }[] } };
  t.ok(after.spec.containers.every((c) => c.volumeMounts?.length));
  t.equal(after.spec.initContainers[0]?.volumeMounts, undefined, 'init containers only when listed');
});

t.test('applying the patch, then planning again, is a no-op', async (t) => {
  for (const pod of [minimalPod(), richPod({ [`${P}env-db`]: 'DB' })]) {
    const once = applied(pod, inject(pod));
    t.same(plan(once), { action: 'skip', reason: 'already-injected' });
  }
});

t.test('generated objects: names, labels, owners', async (t) => {
  const result = inject(richPod());
  const { objects } = result;
  t.match(objects.name, /^web-[0-9a-f]{10}$/, 'the Deployment name, from the ReplicaSet minus pod-template-hash');
  t.equal(objects.namespace, 'team-a', 'the request namespace, never the object one');
  t.equal(objects.workload, 'web');
  t.same(objects.owner, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f7c9b4', uid: '0b6c1c2e-5f7d-4c55-9e0a-1f2d3c4b5a69' });
  for (const object of [objects.externalSecret, objects.secretProviderClass]) {
    t.equal(object.metadata.name, objects.name);
    t.same(object.metadata.labels, {
      'app.kubernetes.io/managed-by': 'hybrid-secrets',
      'hybrid-secrets.io/spec-hash': objects.specHash,
      'hybrid-secrets.io/workload': 'web',
    });
    t.same(object.metadata.ownerReferences, [{ ...objects.owner, controller: false, blockOwnerDeletion: false }]);
  }
  t.same((objects.externalSecret.spec as { target: unknown }).target, { name: objects.name, creationPolicy: 'Owner' });
  t.equal(objects.specHash, objects.name.slice(-10));
});

t.test('the same spec gives the same name; another spec another one', async (t) => {
  const a = inject(richPod()).objects;
  const b = inject(richPod({ [`${P}mount-path`]: '/other', [`${P}env-db`]: 'X' })).objects;
  t.equal(a.name, b.name, 'mount path and env vars are not part of the generated objects');
  const c = inject(richPod({ [`${P}refresh-interval`]: '5m' })).objects;
  t.not(a.name, c.name);
  const d = inject(richPod({ [`${P}version-db`]: '2' })).objects;
  t.not(a.name, d.name);
});

t.test('workload names', async (t) => {
  const owned = (kind: string, name: string, labels: Record<string, string> = {}) => ({
    metadata: { labels, annotations: minimalPod().metadata.annotations, ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: 'u', controller: true }] },
    spec: { containers: [{ name: 'app' }] },
  });
  const workload = (pod: Pod, extra: Partial<InjectionTarget> = {}) => {
    const result = plan(pod, 'team-a', extra);
    return result.action === 'inject' ? result.objects.workload : result.action;
  };
  t.equal(workload(owned('StatefulSet', 'db')), 'db');
  t.equal(workload(owned('ReplicaSet', 'standalone-rs')), 'standalone-rs', 'a ReplicaSet without pod-template-hash');
  t.equal(workload(owned('Job', 'nightly-28391')), 'nightly-28391');
  t.equal(workload({ metadata: { generateName: 'worker-', annotations: minimalPod().metadata.annotations }, spec: { containers: [{ name: 'a' }] } }), 'worker');
  t.equal(workload(minimalPod(), { workload: 'from-manifest' }), 'from-manifest');
  t.equal(workload({ metadata: { annotations: minimalPod().metadata.annotations }, spec: { containers: [{ name: 'a' }] } }), 'pod');
  const long = inject({ metadata: { name: `Very.Long_${'x'.repeat(80)}`, annotations: minimalPod().metadata.annotations }, spec: { containers: [{ name: 'a' }] } }).objects;
  t.ok(long.name.length <= 63, 'name fits a label value');
  t.match(long.name, /^very-long-x+-[0-9a-f]{10}$/);
  t.ok(long.workload.length <= 63);
});

t.test('denials carry every problem, each naming the annotation or pod field', async (t) => {
  const pod = richPod({
    [`${P}containers`]: 'app,missing',
    [`${P}init-containers`]: 'nope',
    [`${P}env-db`]: 'PORT',
    [`${P}mount-path`]: '/cache',
    [`${P}refresh-interval`]: 'often',
    [`${P}bogus`]: 'x',
  });
  const result = plan(pod);
  t.equal(result.action, 'deny');
  const problems = problemsOf(result);
  const fields = problems.map((p) => p.field).sort();
  t.same(fields, [`${P}containers`, `${P}env-db`, `${P}init-containers`, `${P}mount-path`, `${P}refresh-interval`]);
  t.match(problems.find((p) => p.field === `${P}containers`)?.message, /container 'missing' does not exist; the pod's containers are: app, proxy/);
  t.match(problems.find((p) => p.field === `${P}env-db`)?.message, /container 'app' already defines env var PORT/);
  t.match(problems.find((p) => p.field === `${P}mount-path`)?.message, /already mounts a volume at \/cache/);
  if (result.action === 'deny') t.equal(result.warnings.length, 1, 'warnings travel with a denial');
});

t.test('a volume named hybrid-secrets without the status is a conflict', async (t) => {
  const pod = minimalPod();
  (pod.spec as { volumes?: unknown[] }).volumes = [{ name: 'hybrid-secrets', emptyDir: {} }];
  t.match(problemsOf(plan(pod)), [{ field: 'spec.volumes', message: /already has a volume named 'hybrid-secrets'/ }]);
  const marked = minimalPod({ [`${P}status`]: 'injected' });
  t.equal(plan(marked).action, 'inject', 'the status alone (without our volume) does not skip');
});

t.test('store access is enforced', async (t) => {
  t.match(problemsOf(plan(minimalPod({ [`${P}store`]: 'restricted' }), 'team-a')), [
    { field: `${P}store`, message: /ClusterSecretStore 'restricted' may not be used from namespace 'team-a'/ },
  ]);
  t.equal(plan(minimalPod({ [`${P}store`]: 'restricted' }), 'prod').action, 'inject', 'by namespace label');
  t.equal(plan(minimalPod({ [`${P}store`]: 'restricted' }), 'payments-eu').action, 'inject', 'by regex, labels unknown');
  t.match(problemsOf(plan(minimalPod({ [`${P}store`]: 'team-vault', [`${P}store-kind`]: 'SecretStore' }), 'team-b')), [
    { field: `${P}store`, message: /SecretStore 'team-vault' does not exist in namespace 'team-b'/ },
  ]);
  t.equal(plan(minimalPod({ [`${P}store`]: 'team-vault', [`${P}store-kind`]: 'SecretStore' }), 'team-a').action, 'inject');
  const noDefault = planInjection({ pod: minimalPod(), namespace: 'team-a' }, catalog, { csiProviderNames: {} });
  t.match(problemsOf(noDefault), [{ field: `${P}store`, message: /no default store/ }]);
});

t.test('an invalid store annotation never falls back to the default store', async (t) => {
  const problems = problemsOf(plan(minimalPod({ [`${P}store`]: 'Not Valid' })));
  t.same(problems.map((p) => p.field), [`${P}store`]);
});

t.test('provider problems are passed through', async (t) => {
  const problems = problemsOf(plan(minimalPod({ [`${P}store`]: 'fake' })));
  t.equal(problems.length, 1);
  t.match(problems[0]?.message, /fake/);
});

t.test('malformed pods are problems, never exceptions', async (t) => {
  const selected = minimalPod().metadata.annotations as Record<string, string>;
  const cases: [string, Pod, string][] = [
    ['no spec', { metadata: { annotations: selected } }, 'spec'],
    ['containers not a list', { metadata: { annotations: selected }, spec: { containers: {} } }, 'spec.containers'],
    ['no containers', { metadata: { annotations: selected }, spec: { containers: [] } }, 'spec.containers'],
    ['unnamed container', { metadata: { annotations: selected }, spec: { containers: [{}] } }, 'spec.containers[0].name'],
    ['env not a list', { metadata: { annotations: selected }, spec: { containers: [{ name: 'a', env: 'x' }] } }, 'spec.containers[0].env'],
    ['volumes not a list', { metadata: { annotations: selected }, spec: { containers: [{ name: 'a' }], volumes: 3 } }, 'spec.volumes'],
  ];
  for (const [name, pod, field] of cases) {
    t.ok(problemsOf(plan(pod)).some((p) => p.field === field), name);
  }
  t.match(problemsOf(plan({ metadata: { annotations: { ...selected, [`${P}x`]: 1 } }, spec: { containers: [{ name: 'a' }] } })), [
    { field: 'metadata.annotations' },
  ]);
});

t.test('the store catalog is read, never changed', async (t) => {
  const empty = new MemoryStoreCatalog({ clusterStores: [], namespacedStores: [], namespaces: new Map() });
  t.match(problemsOf(planInjection({ pod: minimalPod(), namespace: 'x' }, empty, config)), [{ field: `${P}store`, message: /default store ClusterSecretStore 'vault' does not exist/ }]);
});
