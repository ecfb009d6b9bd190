import t from 'tap';
import { parseStoreCatalog } from '../../../src/stores/catalog.ts';

const opts = { defaultNamespace: 'apps' };

t.test('loads stores and namespaces, also inside a List; ignores other kinds', async (t) => {
  const loaded = parseStoreCatalog(
    `apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: vault}
spec:
  provider: {vault: {server: "https://vault:8200"}}
  conditions:
    - namespaceSelector: {matchLabels: {team: a}}
---
apiVersion: v1
kind: List
items:
  - apiVersion: external-secrets.io/v1
    kind: SecretStore
    metadata: {name: local}
    spec: {provider: {aws: {region: eu-west-1}}}
  - apiVersion: v1
    kind: Namespace
    metadata: {name: team-a, labels: {team: a}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
`,
    'stores.yaml',
    opts,
  );
  t.ok(loaded.ok);
  if (!loaded.ok) return;
  t.equal(loaded.catalog.clusterStore('vault')?.spec.conditions?.length, 1);
  t.equal(loaded.catalog.namespacedStore('apps', 'local')?.metadata.namespace, 'apps');
  t.same(loaded.catalog.namespaceLabels('team-a'), { team: 'a' });
  t.equal(loaded.catalog.namespaceLabels('other'), undefined);
  t.equal(loaded.catalog.size, 2);
});

t.test('reports every error with file, document and object', async (t) => {
  const loaded = parseStoreCatalog(
    `kind: ClusterSecretStore
metadata: {name: two}
spec: {provider: {vault: {}, aws: {}}}
---
kind: ClusterSecretStore
metadata: {name: Bad_Name}
spec: {provider: {vault: {}}, conditions: [{namespaces: "team-a"}]}
---
kind: SecretStore
metadata: {name: nospec}
---
key: [unclosed
---
kind: ClusterSecretStore
metadata: {name: dup}
spec: {provider: {vault: {}}}
---
kind: ClusterSecretStore
metadata: {name: dup}
spec: {provider: {vault: {}}}
---
kind: ClusterSecretStore
metadata: {name: sel}
spec: {provider: {vault: {}}, conditions: [{namespaceSelector: {matchExpressions: [{key: a, operator: Gt}]}}]}
`,
    'stores.yaml',
    opts,
  );
  t.notOk(loaded.ok);
  if (loaded.ok) return;
  const errors = loaded.errors.join('\n');
  t.match(errors, /stores\.yaml: document 1 \(ClusterSecretStore\/two\): spec\.provider must configure exactly one provider/);
  t.match(errors, /stores\.yaml: document 2 \(ClusterSecretStore\/Bad_Name\): metadata\.name must be a DNS subdomain/);
  t.match(errors, /document 2 \(ClusterSecretStore\/Bad_Name\): spec\.conditions\[0\]\.namespaces must be a list of names/);
  t.match(errors, /document 3 \(SecretStore\/nospec\): spec is missing/);
  t.match(errors, /document 4: invalid YAML/);
  t.match(errors, /document 6 \(ClusterSecretStore\/dup\): defined twice/);
  t.match(errors, /document 7 \(ClusterSecretStore\/sel\): spec\.conditions\[0\]\.namespaceSelector\.matchExpressions\[0\] must have/);
});
