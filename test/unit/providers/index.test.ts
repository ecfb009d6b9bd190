import t from 'tap';
import {
  CSI_PROVIDER_ANNOTATION,
  DEFAULT_CSI_PROVIDER_NAMES,
  SUPPORTED_BACKENDS,
  mapToCsi,
} from '../../../src/providers/index.ts';
import type { EsoStore } from '../../../src/stores/types.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';

const vault = { vault: { server: 'https://vault:8200', auth: { kubernetes: { role: 'app' } } } };
const oneSecret = request([{ name: 'db', key: 'app/db', property: 'password' }]);

function providerOf(result: ReturnType<typeof mapToCsi>): string | undefined {
  return result.ok ? result.spec.provider : undefined;
}

t.test('default CSI provider names are the upstream ones', async (t) => {
  t.same(DEFAULT_CSI_PROVIDER_NAMES, { vault: 'vault', aws: 'aws', azurekv: 'azure', gcpsm: 'gcp', openBao: 'openbao' });
  t.ok(Object.isFrozen(DEFAULT_CSI_PROVIDER_NAMES));
  t.same(SUPPORTED_BACKENDS, ['vault', 'aws', 'azurekv', 'gcpsm', 'openBao']);
});

t.test('provider name precedence: store annotation, then configuration, then default', async (t) => {
  t.equal(providerOf(mapToCsi(clusterStore(vault), oneSecret, noConfig)), 'vault', 'default');
  const openbao = { csiProviderNames: { vault: 'openbao' } };
  t.equal(providerOf(mapToCsi(clusterStore(vault), oneSecret, openbao)), 'openbao', 'configuration');
  t.equal(
    providerOf(mapToCsi(clusterStore(vault, { [CSI_PROVIDER_ANNOTATION]: 'vault-eu' }), oneSecret, openbao)),
    'vault-eu',
    'annotation over configuration',
  );
  t.equal(
    providerOf(mapToCsi(clusterStore(vault), oneSecret, { csiProviderNames: { aws: 'aws-custom' } })),
    'vault',
    'configuration of another backend does not apply',
  );
});

t.test('an invalid provider name is reported with its source', async (t) => {
  const annotated = mapToCsi(clusterStore(vault, { [CSI_PROVIDER_ANNOTATION]: '../evil' }), oneSecret, noConfig);
  t.same(annotated, {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/store',
        message:
          `ClusterSecretStore "shared": its annotation ${CSI_PROVIDER_ANNOTATION} is "../evil", ` +
          'not a CSI provider name (1-30 letters, digits, "-" or "_")',
      },
    ],
  });
  const dotted = mapToCsi(clusterStore(vault, { [CSI_PROVIDER_ANNOTATION]: 'vault.eu' }), oneSecret, noConfig);
  t.notOk(dotted.ok, 'the driver refuses dots');
  const long = mapToCsi(clusterStore(vault, { [CSI_PROVIDER_ANNOTATION]: 'a'.repeat(31) }), oneSecret, noConfig);
  t.notOk(long.ok, 'the driver refuses more than 30 characters');
  const configured = mapToCsi(clusterStore(vault), oneSecret, { csiProviderNames: { vault: '' } });
  t.notOk(configured.ok);
  if (!configured.ok) t.match(configured.problems[0]?.message, /the CSI provider name configured for backend "vault" is "", not a CSI provider name/);
});

t.test('backends without a CSI provider are refused, naming store, kind, backend and the supported ones', async (t) => {
  for (const backend of ['fake', 'kubernetes', 'webhook', 'onepassword']) {
    const result = mapToCsi(clusterStore({ [backend]: {} }, undefined, 'demo'), oneSecret, noConfig);
    t.same(
      result,
      {
        ok: false,
        problems: [
          {
            field: 'hybrid-secrets.io/store',
            message:
              `ClusterSecretStore "demo": its backend "${backend}" has no Secrets Store CSI provider mapping; ` +
              'supported backends: vault, aws, azurekv, gcpsm, openBao',
          },
        ],
      },
      backend,
    );
  }
});

t.test('a namespaced store is named with its namespace', async (t) => {
  const store: EsoStore = {
    kind: 'SecretStore',
    metadata: { name: 'local', namespace: 'team-a' },
    spec: { provider: { fake: {} } },
  };
  const result = mapToCsi(store, oneSecret, noConfig);
  t.notOk(result.ok);
  if (!result.ok) t.match(result.problems[0]?.message, /^SecretStore "team-a\/local": its backend "fake"/);
});

t.test('a store must name exactly one backend', async (t) => {
  const none = mapToCsi(clusterStore({}), oneSecret, noConfig);
  t.same(none, {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider must name exactly one backend, found none' },
    ],
  });
  const two = mapToCsi(clusterStore({ ...vault, aws: { region: 'x', service: 'SecretsManager' } }), oneSecret, noConfig);
  t.same(two, {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/store',
        message: 'ClusterSecretStore "shared": spec.provider must name exactly one backend, found "vault", "aws"',
      },
    ],
  });
  // A malformed store from a file: no spec.provider object at all.
  const malformed = { kind: 'ClusterSecretStore', metadata: { name: 'broken' }, spec: {} } as unknown as EsoStore;
  t.notOk(mapToCsi(malformed, oneSecret, noConfig).ok);
  const notObject = { kind: 'ClusterSecretStore', metadata: { name: 'broken' }, spec: { provider: 'vault' } } as unknown as EsoStore;
  t.notOk(mapToCsi(notObject, oneSecret, noConfig).ok);
});

t.test('backend configuration that is not an object is reported, not thrown', async (t) => {
  for (const backend of SUPPORTED_BACKENDS) {
    const result = mapToCsi(clusterStore({ [backend]: 'oops' }), oneSecret, noConfig);
    t.notOk(result.ok, backend);
  }
});
