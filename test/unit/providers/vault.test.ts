import t from 'tap';
import { parse } from 'yaml';
import { kvReadPath } from '../../../src/providers/vault.ts';
import { mapToCsi } from '../../../src/providers/index.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';

const server = 'https://vault.example:8200';

t.test('kvReadPath follows ESO path building', async (t) => {
  t.equal(kvReadPath('app/db', 'secret', 'v2'), 'secret/data/app/db');
  t.equal(kvReadPath('secret/app/db', 'secret', 'v2'), 'secret/data/app/db', 'key already under the mount');
  t.equal(kvReadPath('secret/data/app/db', 'secret', 'v2'), 'secret/data/app/db', 'key already under mount/data');
  t.equal(kvReadPath('app/db', 'secret', 'v1'), 'secret/app/db');
  t.equal(kvReadPath('secret/app/db', 'secret', 'v1'), 'secret/app/db');
  t.equal(kvReadPath('secret/data/x', 'secret', 'v1'), 'secret/data/x', 'v1 keeps a literal data segment');
  t.equal(kvReadPath('kv/app/db', undefined, 'v2'), 'kv/data/app/db', 'no path: data after the first segment');
  t.equal(kvReadPath('kv/data/app', undefined, 'v2'), 'kv/data/app', 'no path: /data/ already there');
  t.equal(kvReadPath('single', undefined, 'v2'), 'single/data');
  t.equal(kvReadPath('kv/app', undefined, 'v1'), 'kv/app');
  t.equal(kvReadPath('team/a', 'kv/team-x', 'v2'), 'kv/team-x/data/team/a', 'nested mount');
});

t.test('vault store with kubernetes auth', async (t) => {
  const store = clusterStore({ vault: { server, path: 'secret', version: 'v2', auth: { kubernetes: { role: 'app' } } } });
  const result = mapToCsi(
    store,
    request([
      { name: 'db', key: 'team/db', property: 'password', version: '3' },
      { name: 'api', key: 'team/api' },
    ]),
    noConfig,
  );
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.spec.provider, 'vault');
  t.same(Object.keys(result.spec.parameters), ['vaultAddress', 'vaultAuthMountPath', 'roleName', 'objects']);
  t.equal(result.spec.parameters.vaultAuthMountPath, 'kubernetes', 'ESO default mount');
  t.same(parse(result.spec.parameters.objects ?? ''), [
    { objectName: 'api', secretPath: 'secret/data/team/api' },
    { objectName: 'db', secretPath: 'secret/data/team/db?version=3', secretKey: 'password' },
  ]);
});
