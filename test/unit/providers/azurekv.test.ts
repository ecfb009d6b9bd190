import t from 'tap';
import { parse } from 'yaml';
import { AZURE_CLIENT_ID_ANNOTATION, keyVaultName } from '../../../src/providers/azurekv.ts';
import { mapToCsi } from '../../../src/providers/index.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';
import { matchGolden } from './support/golden.ts';

const clientId = '7d2c7c5e-3b1a-4c8e-9f00-1a2b3c4d5e6f';
const tenantId = 'a1b2c3d4-0000-1111-2222-333344445555';
const workloadIdentity = { [AZURE_CLIENT_ID_ANNOTATION]: clientId };
const vaultUrl = 'https://my-vault.vault.azure.net/';

function objectsOf(result: ReturnType<typeof mapToCsi>): unknown {
  if (!result.ok) return result.problems;
  const outer = parse(result.spec.parameters.objects ?? '') as { array: string[] };
  return outer.array.map((item) => parse(item) as unknown);
}

t.test('keyVaultName takes the host label of a URL in the cloud suffix', async (t) => {
  t.equal(keyVaultName('https://my-vault.vault.azure.net', 'vault.azure.net'), 'my-vault');
  t.equal(keyVaultName('https://My-Vault.vault.azure.net:443/', 'vault.azure.net'), 'my-vault');
  t.equal(keyVaultName('https://kv1.vault.azure.cn/', 'vault.azure.net'), undefined, 'other cloud');
  t.equal(keyVaultName('http://my-vault.vault.azure.net', 'vault.azure.net'), undefined, 'not https');
  t.equal(keyVaultName('https://a.b.vault.azure.net', 'vault.azure.net'), undefined, 'nested host');
  t.equal(keyVaultName('https://ab.vault.azure.net', 'vault.azure.net'), undefined, 'too short');
  t.equal(keyVaultName('not a url', 'vault.azure.net'), undefined);
});

t.test('golden: workload identity from the store annotation', async (t) => {
  const store = clusterStore({ azurekv: { vaultUrl, tenantId, authType: 'WorkloadIdentity' } }, workloadIdentity);
  const result = mapToCsi(
    store,
    request([
      { name: 'db-password', key: 'db-password', version: '0123456789abcdef0123456789abcdef' },
      { name: 'api', key: 'secret/api-key' },
    ]),
    noConfig,
  );
  matchGolden(t, 'azurekv-workload-identity', result);
  t.same(result.ok && Object.keys(result.spec.parameters), ['keyvaultName', 'tenantID', 'clientID', 'objects']);
  t.equal(result.ok && result.spec.provider, 'azure');
  t.same(objectsOf(result), [
    { objectName: 'api-key', objectType: 'secret', objectAlias: 'api' },
    { objectName: 'db-password', objectType: 'secret', objectVersion: '0123456789abcdef0123456789abcdef', objectAlias: 'db-password' },
  ]);
});

t.test('golden: managed identity in a sovereign cloud', async (t) => {
  const store = clusterStore({
    azurekv: {
      vaultUrl: 'https://gov-vault.vault.usgovcloudapi.net',
      tenantId,
      authType: 'ManagedIdentity',
      identityId: clientId,
      environmentType: 'USGovernmentCloud',
    },
  });
  const result = mapToCsi(store, request([{ name: 'a', key: 'a' }]), noConfig);
  matchGolden(t, 'azurekv-managed-identity-usgov', result);
  t.same(result.ok && result.spec.parameters, {
    keyvaultName: 'gov-vault',
    tenantID: tenantId,
    cloudName: 'AzureUSGovernmentCloud',
    useVMManagedIdentity: 'true',
    userAssignedIdentityID: clientId,
    objects: 'array:\n  - |\n    objectName: "a"\n    objectType: "secret"\n    objectAlias: "a"\n',
  });
  const systemAssigned = mapToCsi(
    clusterStore({ azurekv: { vaultUrl, tenantId, authType: 'ManagedIdentity' } }),
    request([{ name: 'a', key: 'a' }]),
    noConfig,
  );
  t.ok(systemAssigned.ok);
  t.notOk(systemAssigned.ok && 'userAssignedIdentityID' in systemAssigned.spec.parameters, 'system-assigned identity');
});

t.test('the annotation wins over the store auth type', async (t) => {
  const result = mapToCsi(
    clusterStore({ azurekv: { vaultUrl, tenantId, authType: 'ManagedIdentity' } }, workloadIdentity),
    request([{ name: 'a', key: 'a' }]),
    noConfig,
  );
  t.equal(result.ok && result.spec.parameters.clientID, clientId);
  t.notOk(result.ok && 'useVMManagedIdentity' in result.spec.parameters);
});

t.test('identities the CSI provider cannot take from the store', async (t) => {
  const secrets = request([{ name: 'a', key: 'a' }]);
  t.same(mapToCsi(clusterStore({ azurekv: { vaultUrl, tenantId } }), secrets, noConfig), {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/store',
        message:
          `ClusterSecretStore "shared": the CSI provider cannot use ESO's ServicePrincipal credentials; ` +
          `annotate the store with ${AZURE_CLIENT_ID_ANNOTATION}: <client id> for workload identity`,
      },
    ],
  });
  const wi = mapToCsi(clusterStore({ azurekv: { vaultUrl, tenantId, authType: 'WorkloadIdentity' } }), secrets, noConfig);
  t.match(wi.ok ? '' : wi.problems[0]?.message, /workload identity client id lives on a service account or Secret/);
  const bad = mapToCsi(clusterStore({ azurekv: { vaultUrl, tenantId } }, { [AZURE_CLIENT_ID_ANNOTATION]: 'me' }), secrets, noConfig);
  t.same(bad.ok ? [] : bad.problems.map((p) => p.message), [
    `ClusterSecretStore "shared": annotation ${AZURE_CLIENT_ID_ANNOTATION} must be a client id (a GUID)`,
  ]);
});

t.test('store problems', async (t) => {
  const secrets = request([{ name: 'a', key: 'a' }]);
  t.same(mapToCsi(clusterStore({ azurekv: { vaultUrl: 'https://kv.example.com' } }, workloadIdentity), secrets, noConfig), {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/store',
        message: 'ClusterSecretStore "shared": spec.provider.azurekv.vaultUrl "https://kv.example.com" is not https://<vault name>.vault.azure.net/',
      },
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.azurekv.tenantId is required' },
    ],
  });
  const stack = mapToCsi(
    clusterStore({ azurekv: { vaultUrl, tenantId, environmentType: 'AzureStackCloud' } }, workloadIdentity),
    secrets,
    noConfig,
  );
  t.same(stack.ok ? [] : stack.problems.map((p) => p.message), [
    'ClusterSecretStore "shared": spec.provider.azurekv.environmentType "AzureStackCloud" needs a cloud environment file ' +
      "on the CSI provider's nodes; supported: PublicCloud, USGovernmentCloud, ChinaCloud, GermanCloud",
  ]);
  const noUrl = mapToCsi(clusterStore({ azurekv: { tenantId } }, workloadIdentity), secrets, noConfig);
  t.same(noUrl.ok ? [] : noUrl.problems.map((p) => p.message), [
    'ClusterSecretStore "shared": spec.provider.azurekv.vaultUrl is required',
  ]);
});

t.test('secret problems', async (t) => {
  const store = clusterStore({ azurekv: { vaultUrl, tenantId } }, workloadIdentity);
  t.same(
    mapToCsi(
      store,
      request([
        { name: 'a', key: 'db', property: 'password' },
        { name: 'b', key: 'cert/tls' },
        { name: 'c', key: 'key/signing' },
        { name: 'd', key: 'under_score' },
        { name: 'e', key: 'db', version: 'v-1' },
      ]),
      noConfig,
    ),
    {
      ok: false,
      problems: [
        {
          field: 'hybrid-secrets.io/secret-a',
          message:
            'the Azure Key Vault CSI provider cannot extract property "password"; remove "#password" or store the value as its own secret',
        },
        {
          field: 'hybrid-secrets.io/secret-b',
          message: 'only Key Vault secrets can be mounted ("cert/" objects are encoded differently by ESO and the CSI provider)',
        },
        {
          field: 'hybrid-secrets.io/secret-c',
          message: 'only Key Vault secrets can be mounted ("key/" objects are encoded differently by ESO and the CSI provider)',
        },
        {
          field: 'hybrid-secrets.io/secret-d',
          message: '"under_score" is not a Key Vault secret name (1-127 letters, digits and hyphens)',
        },
        { field: 'hybrid-secrets.io/version-e', message: '"v-1" is not a Key Vault version id' },
      ],
    },
  );
});
