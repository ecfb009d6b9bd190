import t from 'tap';
import { controllerOf, generatedName, specHash, workloadLabel, workloadOf } from '../../../src/core/names.ts';

t.test('the spec hash covers the specs, canonically', async (t) => {
  const es = {
    secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' as const },
    refreshInterval: '1h',
    data: [{ secretKey: 'db', remoteRef: { key: 'app/db', property: 'password' } }],
  };
  const csi = { provider: 'vault', parameters: { roleName: 'apps', objects: '- objectName: db\n' } };
  const hash = specHash(es, csi);
  t.match(hash, /^[0-9a-f]{10}$/);
  t.equal(specHash(es, { provider: 'vault', parameters: { objects: '- objectName: db\n', roleName: 'apps' } }), hash, 'parameter order does not matter');
  const changes: [string, string][] = [
    ['store name', specHash({ ...es, secretStoreRef: { ...es.secretStoreRef, name: 'other' } }, csi)],
    ['store kind', specHash({ ...es, secretStoreRef: { ...es.secretStoreRef, kind: 'SecretStore' } }, csi)],
    ['refresh interval', specHash({ ...es, refreshInterval: '5m' }, csi)],
    ['property', specHash({ ...es, data: [{ secretKey: 'db', remoteRef: { key: 'app/db' } }] }, csi)],
    ['version', specHash({ ...es, data: [{ secretKey: 'db', remoteRef: { key: 'app/db', property: 'password', version: '2' } }] }, csi)],
    ['provider', specHash(es, { ...csi, provider: 'openbao' })],
    ['parameter', specHash(es, { ...csi, parameters: { ...csi.parameters, roleName: 'web' } })],
  ];
  for (const [what, other] of changes) t.not(other, hash, what);
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
