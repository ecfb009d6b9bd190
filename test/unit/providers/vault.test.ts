import t from 'tap';
import { parse } from 'yaml';
import { mapToCsi } from '../../../src/providers/index.ts';
import { kvReadPath } from '../../../src/providers/vault.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';
import { matchGolden } from './support/golden.ts';

const server = 'https://vault.example:8200';
const secrets = request([
  { name: 'db-password', key: 'team/db', property: 'password', version: '3' },
  { name: 'db-user', key: 'team/db', property: 'username' },
  { name: 'api', key: 'team/api' },
]);

function objectsOf(result: ReturnType<typeof mapToCsi>): unknown {
  return result.ok ? parse(result.spec.parameters.objects ?? '') : result.problems;
}

t.test('kvReadPath follows ESO path building', async (t) => {
  const cases: [string, string | undefined, 'v1' | 'v2', string, string][] = [
    ['app/db', 'secret', 'v2', 'secret/data/app/db', 'key under the mount'],
    ['secret/app/db', 'secret', 'v2', 'secret/data/app/db', 'key already starts with the mount'],
    ['secret/data/app/db', 'secret', 'v2', 'secret/data/app/db', 'key already starts with mount/data'],
    ['app/db', 'secret', 'v1', 'secret/app/db', 'v1 has no data segment'],
    ['secret/app/db', 'secret', 'v1', 'secret/app/db', 'v1 key already starts with the mount'],
    ['secret/data/x', 'secret', 'v1', 'secret/data/x', 'v1 keeps a literal data segment'],
    ['team/a', 'kv/team-x', 'v2', 'kv/team-x/data/team/a', 'nested mount'],
    ['secretive/a', 'secret', 'v2', 'secret/data/secretive/a', 'a prefix that is not a path segment is kept'],
    ['kv/app/db', undefined, 'v2', 'kv/data/app/db', 'no path: data after the first segment'],
    ['kv/data/app', undefined, 'v2', 'kv/data/app', 'no path: /data/ already present'],
    ['single', undefined, 'v2', 'single/data', 'no path, one segment'],
    ['kv/app', undefined, 'v1', 'kv/app', 'no path, v1: as is'],
  ];
  for (const [key, mount, version, expected, why] of cases) t.equal(kvReadPath(key, mount, version), expected, why);
});

t.test('golden: kubernetes auth with ESO defaults', async (t) => {
  const store = clusterStore({ vault: { server, path: 'secret', auth: { kubernetes: { role: 'app' } } } });
  const result = mapToCsi(store, secrets, noConfig);
  matchGolden(t, 'vault-kubernetes-defaults', result);
  t.equal(result.ok && result.spec.parameters.vaultAuthMountPath, 'kubernetes', "ESO's default auth mount");
  t.same(objectsOf(result), [
    { objectName: 'api', secretPath: 'secret/data/team/api' },
    { objectName: 'db-password', secretPath: 'secret/data/team/db?version=3', secretKey: 'password' },
    { objectName: 'db-user', secretPath: 'secret/data/team/db', secretKey: 'username' },
  ]);
});

t.test('golden: namespace, custom mount, KV v1, role from the pod', async (t) => {
  const store = clusterStore({
    vault: {
      server,
      path: 'kv/',
      version: 'v1',
      namespace: 'team-a',
      auth: { kubernetes: { mountPath: 'k8s-prod', role: 'store-role' } },
    },
  });
  const result = mapToCsi(store, request([{ name: 'api', key: 'kv/api', property: 'token' }], { role: 'pod-role' }), noConfig);
  matchGolden(t, 'vault-namespace-v1', result);
  t.same(result.ok && result.spec.parameters, {
    vaultAddress: server,
    vaultNamespace: 'team-a',
    vaultAuthMountPath: 'k8s-prod',
    roleName: 'pod-role',
    objects: '- objectName: "api"\n  secretPath: "kv/api"\n  secretKey: "token"\n',
  });
});

t.test('no store path: the first key segment is the mount', async (t) => {
  const store = clusterStore({ vault: { server, auth: { kubernetes: { role: 'app' } } } });
  t.same(objectsOf(mapToCsi(store, request([{ name: 'a', key: 'secret/app/a' }]), noConfig)), [
    { objectName: 'a', secretPath: 'secret/data/app/a' },
  ]);
});

t.test('JWT auth carries its mount and role; other auth methods need the role annotation', async (t) => {
  const jwt = mapToCsi(clusterStore({ vault: { server, auth: { jwt: { role: 'jwt-role' } } } }), secrets, noConfig);
  t.equal(jwt.ok && jwt.spec.parameters.vaultAuthMountPath, 'jwt');
  t.equal(jwt.ok && jwt.spec.parameters.roleName, 'jwt-role');

  const tokenStore = clusterStore({ vault: { server, auth: { tokenSecretRef: { name: 't', key: 'token' } } } });
  t.same(mapToCsi(tokenStore, secrets, noConfig), {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/role',
        message:
          'ClusterSecretStore "shared" has no Kubernetes auth role the CSI provider could use; ' +
          "set this annotation to the role the pod's service account logs in with",
      },
    ],
  });
  const withRole = mapToCsi(tokenStore, request(secrets.secrets, { role: 'csi' }), noConfig);
  t.ok(withRole.ok);
  if (withRole.ok) {
    t.equal(withRole.spec.parameters.roleName, 'csi');
    t.notOk('vaultAuthMountPath' in withRole.spec.parameters, "the provider's own default auth mount applies");
  }
});

t.test('problems with the store are collected', async (t) => {
  const result = mapToCsi(clusterStore({ vault: { version: 'v3', path: 7, auth: { kubernetes: { role: 'r' } } } }), secrets, noConfig);
  t.same(result, {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.vault.path must be a string' },
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.vault.version must be v1 or v2, not "v3"' },
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.vault.server is required' },
    ],
  });
});

t.test('problems with secrets name their annotation', async (t) => {
  const v2 = clusterStore({ vault: { server, path: 'secret', auth: { kubernetes: { role: 'r' } } } });
  t.same(mapToCsi(v2, request([{ name: 'a', key: 'x', version: 'latest' }, { name: 'b', key: 'y?z' }]), noConfig), {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/version-a', message: 'a KV version is a positive integer, not "latest"' },
      {
        field: 'hybrid-secrets.io/secret-b',
        message: 'the key "y?z" contains "?", which the CSI provider reads as the start of query parameters',
      },
    ],
  });
  const v1 = clusterStore({ vault: { server, path: 'secret', version: 'v1', auth: { kubernetes: { role: 'r' } } } });
  t.same(mapToCsi(v1, request([{ name: 'a', key: 'x', version: '2' }]), noConfig), {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/version-a', message: 'the store uses KV version 1, which keeps no versions; remove the annotation' },
    ],
  });
});

t.test('openBao stores map to the openbao CSI provider', async (t) => {
  const store = clusterStore({ openBao: { server: 'https://bao:8200', namespace: 'ns1' } });
  const result = mapToCsi(store, request(secrets.secrets, { role: 'app' }), noConfig);
  matchGolden(t, 'openbao-defaults', result);
  t.equal(result.ok && result.spec.provider, 'openbao');
  t.same(objectsOf(result), [
    { objectName: 'api', secretPath: 'kv/data/team/api' },
    { objectName: 'db-password', secretPath: 'kv/data/team/db?version=3', secretKey: 'password' },
    { objectName: 'db-user', secretPath: 'kv/data/team/db', secretKey: 'username' },
  ]);
  const spelledWithData = clusterStore({ openBao: { server: 'https://bao:8200', path: 'secret/data' } });
  t.same(objectsOf(mapToCsi(spelledWithData, request([{ name: 'a', key: 'a' }], { role: 'r' }), noConfig)), [
    { objectName: 'a', secretPath: 'secret/data/a' },
  ]);
  const v1 = clusterStore({ openBao: { server: 'https://bao:8200', path: 'old', version: 'v1' } });
  t.same(objectsOf(mapToCsi(v1, request([{ name: 'a', key: 'a' }], { role: 'r' }), noConfig)), [
    { objectName: 'a', secretPath: 'old/a' },
  ]);
  const noRole = mapToCsi(store, secrets, noConfig);
  t.same(noRole.ok ? [] : noRole.problems.map((p) => p.field), ['hybrid-secrets.io/role']);
});
