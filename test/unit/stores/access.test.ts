import t from 'tap';
import { clusterStoreAccess, goRegexMatches, resolveStore, selectorMatches } from '../../../src/stores/access.ts';
import { MemoryStoreCatalog } from '../../../src/stores/catalog.ts';
import type { EsoStore, StoreCondition } from '../../../src/stores/types.ts';

const vault = { vault: { server: 'https://vault:8200' } };
function clusterStore(name: string, conditions?: StoreCondition[]): EsoStore {
  return { kind: 'ClusterSecretStore', metadata: { name }, spec: { provider: vault, ...(conditions && { conditions }) } };
}
const catalog = new MemoryStoreCatalog({
  clusterStores: [
    clusterStore('open'),
    clusterStore('team-a-only', [{ namespaces: ['team-a'] }]),
    clusterStore('labelled', [{ namespaceSelector: { matchLabels: { tier: 'prod' } } }]),
  ],
  namespacedStores: [{ kind: 'SecretStore', metadata: { name: 'local', namespace: 'team-a' }, spec: { provider: vault } }],
  namespaces: new Map([
    ['team-a', { tier: 'dev' }],
    ['prod-1', { tier: 'prod' }],
  ]),
});

t.test('resolves the named store, or the default', async (t) => {
  const named = resolveStore({ name: 'open', kind: 'ClusterSecretStore' }, undefined, 'x', catalog);
  t.ok(named.ok);
  const defaulted = resolveStore(undefined, { name: 'local', kind: 'SecretStore' }, 'team-a', catalog);
  t.ok(defaulted.ok && defaulted.ref.name === 'local');
});

t.test('problems name the store, its kind and the namespace', async (t) => {
  const cases: [Parameters<typeof resolveStore>, RegExp][] = [
    [[undefined, undefined, 'team-a', catalog], /no store named and the server has no default store/],
    [[{ name: 'nope', kind: 'ClusterSecretStore' }, undefined, 'team-a', catalog], /ClusterSecretStore 'nope' does not exist \(requested from namespace 'team-a'\)/],
    [[{ name: 'local', kind: 'SecretStore' }, undefined, 'team-b', catalog], /SecretStore 'local' does not exist in namespace 'team-b'/],
    [[{ name: 'team-a-only', kind: 'ClusterSecretStore' }, undefined, 'team-b', catalog], /ClusterSecretStore 'team-a-only' may not be used from namespace 'team-b'/],
    [[undefined, { name: 'team-a-only', kind: 'ClusterSecretStore' }, 'team-b', catalog], /the default store ClusterSecretStore 'team-a-only' may not be used/],
    [[{ name: 'labelled', kind: 'ClusterSecretStore' }, undefined, 'unknown-ns', catalog], /labels are unknown/],
  ];
  for (const [args, message] of cases) {
    const result = resolveStore(...args);
    t.notOk(result.ok, String(message));
    if (!result.ok) {
      t.equal(result.problem.field, 'hybrid-secrets.io/store');
      t.match(result.problem.message, message);
    }
  }
  t.ok(resolveStore({ name: 'labelled', kind: 'ClusterSecretStore' }, undefined, 'prod-1', catalog).ok);
  t.notOk(resolveStore({ name: 'labelled', kind: 'ClusterSecretStore' }, undefined, 'team-a', catalog).ok);
});

t.test('conditions are OR-ed across and within conditions, as ESO does', async (t) => {
  const labels = { team: 'a', env: 'prod' };
  const cases: [string, StoreCondition[] | undefined, string, Record<string, string> | undefined, boolean][] = [
    ['no conditions allow all', undefined, 'x', undefined, true],
    ['empty conditions allow all', [], 'x', undefined, true],
    ['namespaces list', [{ namespaces: ['a', 'x'] }], 'x', undefined, true],
    ['namespaces list miss', [{ namespaces: ['a'] }], 'x', undefined, false],
    ['regex is unanchored', [{ namespaceRegexes: ['team'] }], 'my-team-ns', undefined, true],
    ['anchored regex', [{ namespaceRegexes: ['^team-[a-z]+$'] }], 'team-a-x', undefined, false],
    ['anchored regex match', [{ namespaceRegexes: ['^team-[a-z]+$'] }], 'team-abc', undefined, true],
    ['invalid regex matches nothing', [{ namespaceRegexes: ['(['] }], '([', undefined, false],
    ['Go flag group', [{ namespaceRegexes: ['(?i)^TEAM'] }], 'team-a', undefined, true],
    ['selector or name within a condition', [{ namespaceSelector: { matchLabels: { team: 'b' } }, namespaces: ['x'] }], 'x', labels, true],
    ['second condition allows', [{ namespaces: ['y'] }, { namespaceSelector: { matchLabels: { env: 'prod' } } }], 'x', labels, true],
    ['selector with unknown labels fails closed', [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } }], 'x', undefined, false],
    ['selector with unknown labels, but a name matches', [{ namespaceSelector: { matchLabels: { env: 'prod' } } }, { namespaces: ['x'] }], 'x', undefined, true],
    ['empty selector selects every known namespace', [{ namespaceSelector: {} }], 'x', {}, true],
    ['metadata.name label is implied', [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }], 'x', {}, true],
  ];
  for (const [name, conditions, namespace, nsLabels, allowed] of cases) {
    t.equal(clusterStoreAccess(conditions, namespace, nsLabels).allowed, allowed, name);
  }
});

t.test('label selectors follow Kubernetes semantics; invalid ones match nothing', async (t) => {
  const labels = { env: 'prod', team: 'a' };
  const cases: [string, Parameters<typeof selectorMatches>[0], boolean][] = [
    ['matchLabels', { matchLabels: { env: 'prod' } }, true],
    ['matchLabels miss', { matchLabels: { env: 'dev' } }, false],
    ['In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }, true],
    ['In missing key', { matchExpressions: [{ key: 'x', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn missing key matches', { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    ['In without values is invalid', { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }, false],
    ['Exists with values is invalid', { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['prod'] }] }, false],
    ['unknown operator is invalid', { matchExpressions: [{ key: 'env', operator: 'Gt' as 'In', values: ['1'] }] }, false],
    ['labels and expressions are AND-ed', { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['b'] }] }, false],
  ];
  for (const [name, selector, expected] of cases) t.equal(selectorMatches(selector, labels), expected, name);
});

t.test('Go regular expressions search unanchored', async (t) => {
  t.ok(goRegexMatches('a', 'bab'));
  t.notOk(goRegexMatches('^a$', 'bab'));
  t.notOk(goRegexMatches('(?U)a+', 'aaa'), 'ungreedy flag is refused');
});
