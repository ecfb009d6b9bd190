import t from 'tap';
import { canonicalJson, controllerOf, generatedName, specHash, workloadLabel, workloadOf } from '../../../src/core/names.ts';

t.test('canonical JSON ignores key order and undefined members', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }], c: undefined }), '{"a":[{"x":1,"y":2}],"b":1}');
  t.equal(specHash({ a: 1, b: 2 }), specHash({ b: 2, a: 1 }));
  t.not(specHash({ a: 1 }), specHash({ a: 2 }));
  t.match(specHash({}), /^[0-9a-f]{10}$/);
});

t.test('generated names are DNS labels of at most 63 characters that keep the hash', async (t) => {
  const hash = '0123456789';
  const cases: [string, string][] = [
    ['web', 'web-0123456789'],
    ['Web.API_v2', 'web-api-v2-0123456789'],
    ['--x--', 'x-0123456789'],
    ['', 'pod-0123456789'],
    ['___', 'pod-0123456789'],
    [`${'a'.repeat(51)}-b`, `${'a'.repeat(51)}-0123456789`],
  ];
  for (const [workload, expected] of cases) t.equal(generatedName(workload, hash), expected, JSON.stringify(workload));
  const long = generatedName('x'.repeat(300), hash);
  t.equal(long.length, 63);
  t.ok(long.endsWith(`-${hash}`));
  t.equal(workloadLabel('y'.repeat(100)).length, 63);
  t.match(workloadLabel('A.B'), /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});

t.test('the workload comes from the controller, else the pod', async (t) => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-6c9f8', uid: 'u' };
  t.equal(workloadOf({ labels: { 'pod-template-hash': '6c9f8' } }, rs), 'web');
  t.equal(workloadOf({ labels: { 'pod-template-hash': 'other' } }, rs), 'web-6c9f8', 'suffix must match the label');
  t.equal(workloadOf({}, { ...rs, kind: 'StatefulSet', name: 'db' }), 'db');
  t.equal(workloadOf({ name: 'solo' }, undefined), 'solo');
  t.equal(workloadOf({ generateName: 'batch--' }, undefined), 'batch');
  t.equal(workloadOf({}, undefined), '');
});

t.test('only a complete controller reference is an owner', async (t) => {
  const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' };
  t.same(controllerOf({ ownerReferences: [{ ...ref, controller: false }, { ...ref, name: 'ctl', controller: true }] }), { ...ref, name: 'ctl' });
  t.equal(controllerOf({ ownerReferences: [{ ...ref }] }), undefined, 'not a controller');
  t.equal(controllerOf({ ownerReferences: [{ ...ref, uid: undefined, controller: true }] }), undefined, 'no uid');
  t.equal(controllerOf({ ownerReferences: 'x' }), undefined);
});
