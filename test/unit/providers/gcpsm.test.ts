import t from 'tap';
import { parse } from 'yaml';
import { resourceName } from '../../../src/providers/gcpsm.ts';
import { mapToCsi } from '../../../src/providers/index.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';
import { matchGolden } from './support/golden.ts';

const secrets = request([
  { name: 'db-password', key: 'db', property: 'password' },
  { name: 'api', key: 'api-key', version: '7' },
  { name: 'cert', key: 'tls_cert' },
]);

function secretsOf(result: ReturnType<typeof mapToCsi>): unknown {
  return result.ok ? parse(result.spec.parameters.secrets ?? '') : result.problems;
}

t.test('resource names are built as ESO builds them', async (t) => {
  t.equal(resourceName('p', undefined, 's', 'latest'), 'projects/p/secrets/s/versions/latest');
  t.equal(resourceName('p', 'europe-west1', 's', '3'), 'projects/p/locations/europe-west1/secrets/s/versions/3');
});

t.test('golden: global secrets', async (t) => {
  const result = mapToCsi(clusterStore({ gcpsm: { projectID: 'my-project' } }), secrets, noConfig);
  matchGolden(t, 'gcpsm-global', result);
  t.equal(result.ok && result.spec.provider, 'gcp');
  t.same(result.ok && Object.keys(result.spec.parameters), ['secrets'], 'pod workload identity is the default auth');
  t.same(secretsOf(result), [
    { resourceName: 'projects/my-project/secrets/api-key/versions/7', path: 'api' },
    { resourceName: 'projects/my-project/secrets/tls_cert/versions/latest', path: 'cert' },
    { resourceName: 'projects/my-project/secrets/db/versions/latest', path: 'db-password', extractJSONKey: 'password' },
  ]);
});

t.test('golden: regional secrets', async (t) => {
  const result = mapToCsi(clusterStore({ gcpsm: { projectID: 'my-project', location: 'europe-west1' } }), secrets, noConfig);
  matchGolden(t, 'gcpsm-regional', result);
  t.same(secretsOf(result), [
    { resourceName: 'projects/my-project/locations/europe-west1/secrets/api-key/versions/7', path: 'api' },
    { resourceName: 'projects/my-project/locations/europe-west1/secrets/tls_cert/versions/latest', path: 'cert' },
    {
      resourceName: 'projects/my-project/locations/europe-west1/secrets/db/versions/latest',
      path: 'db-password',
      extractJSONKey: 'password',
    },
  ]);
});

t.test('the workload identity cluster project stands in for a missing projectID, as in ESO', async (t) => {
  const store = clusterStore({
    gcpsm: { auth: { workloadIdentity: { clusterProjectID: 'cluster-project', serviceAccountRef: { name: 'eso' } } } },
  });
  t.same(secretsOf(mapToCsi(store, request([{ name: 'a', key: 'a' }]), noConfig)), [
    { resourceName: 'projects/cluster-project/secrets/a/versions/latest', path: 'a' },
  ]);
  const explicit = clusterStore({
    gcpsm: { projectID: 'secrets-project', auth: { workloadIdentity: { clusterProjectID: 'cluster-project' } } },
  });
  t.same(secretsOf(mapToCsi(explicit, request([{ name: 'a', key: 'a' }]), noConfig)), [
    { resourceName: 'projects/secrets-project/secrets/a/versions/latest', path: 'a' },
  ]);
});

t.test('store problems', async (t) => {
  const one = request([{ name: 'a', key: 'a' }]);
  t.same(mapToCsi(clusterStore({ gcpsm: {} }), one, noConfig), {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.gcpsm.projectID is required to name the secrets' },
    ],
  });
  t.same(mapToCsi(clusterStore({ gcpsm: { projectID: 'a/b', location: 'a-very-long-location-name-beyond-30' } }), one, noConfig), {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.gcpsm.projectID "a/b" is not a project id' },
      {
        field: 'hybrid-secrets.io/store',
        message: 'ClusterSecretStore "shared": spec.provider.gcpsm.location "a-very-long-location-name-beyond-30" is not a location',
      },
    ],
  });
});

t.test('secret problems', async (t) => {
  t.same(
    mapToCsi(
      clusterStore({ gcpsm: { projectID: 'p' } }),
      request([
        { name: 'a', key: 'projects/p/secrets/a' },
        { name: 'b', key: 'b', version: '1.0' },
      ]),
      noConfig,
    ),
    {
      ok: false,
      problems: [
        {
          field: 'hybrid-secrets.io/secret-a',
          message: '"projects/p/secrets/a" is not a Secret Manager secret id (letters, digits, "-" and "_", at most 255)',
        },
        { field: 'hybrid-secrets.io/version-b', message: '"1.0" is not a Secret Manager version (a number, "latest" or an alias)' },
      ],
    },
  );
});
