import t from 'tap';
import { parseContract } from '../../../src/contract/parse.ts';

const P = 'hybrid-secrets.io/';
const base = { [`${P}inject`]: 'true', [`${P}secret-db`]: 'app/db#password' };

function parse(extra: Record<string, string>, withoutBase = false) {
  return parseContract(withoutBase ? extra : { ...base, ...extra });
}

t.test('a minimal request gets every default', async (t) => {
  const { request, problems, warnings } = parse({});
  t.same(problems, []);
  t.same(warnings, []);
  t.same(request, {
    secrets: [{ name: 'db', key: 'app/db', property: 'password' }],
    mountPath: '/mnt/secrets',
    initContainers: [],
    refreshInterval: '1h',
  });
});

t.test('every annotation is read', async (t) => {
  const { request, problems } = parse({
    [`${P}secret-api.key`]: 'team/api',
    [`${P}version-api.key`]: '3',
    [`${P}env-db`]: 'DB_PASSWORD',
    [`${P}store`]: 'team-vault',
    [`${P}store-kind`]: 'SecretStore',
    [`${P}mount-path`]: '/var-lib/app/secrets',
    [`${P}containers`]: 'app, sidecar',
    [`${P}init-containers`]: 'migrate',
    [`${P}refresh-interval`]: '1h30m',
    [`${P}role`]: 'web',
    [`${P}status`]: 'injected',
  });
  t.same(problems, []);
  t.same(request, {
    secrets: [
      { name: 'api.key', key: 'team/api', version: '3' },
      { name: 'db', key: 'app/db', property: 'password', envName: 'DB_PASSWORD' },
    ],
    store: { name: 'team-vault', kind: 'SecretStore' },
    mountPath: '/var-lib/app/secrets',
    containers: ['app', 'sidecar'],
    initContainers: ['migrate'],
    refreshInterval: '1h30m',
    role: 'web',
  });
});

t.test('the store kind defaults to ClusterSecretStore', async (t) => {
  t.same(parse({ [`${P}store`]: 'shared' }).request.store, { name: 'shared', kind: 'ClusterSecretStore' });
});

t.test('unknown keys of the prefix are warnings only', async (t) => {
  const { problems, warnings } = parse({ [`${P}mountpath`]: '/x', 'other.io/secret-x': 'y' });
  t.same(problems, []);
  t.equal(warnings.length, 1);
  t.match(warnings[0], /hybrid-secrets\.io\/mountpath/);
});

// Each case: annotations (added to a valid base) → the annotation named and a part of the message.
const violations: [string, Record<string, string>, string, RegExp][] = [
  ['secret name with upper case', { [`${P}secret-DB`]: 'k' }, `${P}secret-DB`, /lower-case letters/],
  ['secret name too long', { [`${P}secret-${'a'.repeat(41)}`]: 'k' }, `${P}secret-${'a'.repeat(41)}`, /41 characters/],
  ['secret name of 40 characters is fine, 41 is not', { [`${P}secret-${'a'.repeat(41)}`]: 'k' }, `${P}secret-${'a'.repeat(41)}`, /1-40 characters/],
  ['secret name empty', { [`${P}secret-`]: 'k' }, `${P}secret-`, /empty/],
  ['secret name .', { [`${P}secret-.`]: 'k' }, `${P}secret-.`, /not a usable file name/],
  ['secret name ..', { [`${P}secret-..`]: 'k' }, `${P}secret-..`, /not a usable file name/],
  ['secret name ending with -', { [`${P}secret-db-`]: 'k' }, `${P}secret-db-`, /starting and ending/],
  ['secret name with /', { [`${P}secret-a/b`]: 'k' }, `${P}secret-a/b`, /invalid/],
  ['empty key', { [`${P}secret-db`]: '' }, `${P}secret-db`, /remote key is empty/],
  ['key only a property', { [`${P}secret-db`]: '#password' }, `${P}secret-db`, /remote key is empty/],
  ['empty property', { [`${P}secret-db`]: 'app/db#' }, `${P}secret-db`, /property after '#' is empty/],
  ['blank around key', { [`${P}secret-db`]: ' app/db' }, `${P}secret-db`, /surrounding blanks/],
  ['control character in a value', { [`${P}secret-db`]: 'app/db\n#x' }, `${P}secret-db`, /control characters/],
  ['tab in mount path', { [`${P}mount-path`]: '/mnt/\tx' }, `${P}mount-path`, /control characters/],
  ['version of an undeclared secret', { [`${P}version-api`]: '2' }, `${P}version-api`, /no hybrid-secrets\.io\/secret-api/],
  ['empty version', { [`${P}version-db`]: '' }, `${P}version-db`, /version is empty/],
  ['env of an undeclared secret', { [`${P}env-api`]: 'API' }, `${P}env-api`, /no hybrid-secrets\.io\/secret-api/],
  ['env name starting with a digit', { [`${P}env-db`]: '1DB' }, `${P}env-db`, /C identifier/],
  ['env name with -', { [`${P}env-db`]: 'DB-PASS' }, `${P}env-db`, /C identifier/],
  ['env name empty', { [`${P}env-db`]: '' }, `${P}env-db`, /C identifier/],
  ['env name used twice', { [`${P}secret-db2`]: 'k', [`${P}env-db`]: 'X', [`${P}env-db2`]: 'X' }, `${P}env-db2`, /already set by hybrid-secrets\.io\/env-db/],
  ['relative mount path', { [`${P}mount-path`]: 'mnt/secrets' }, `${P}mount-path`, /not absolute/],
  ['root mount path', { [`${P}mount-path`]: '/' }, `${P}mount-path`, /root directory/],
  ['double slash', { [`${P}mount-path`]: '/mnt//secrets' }, `${P}mount-path`, /'\/\/'/],
  ['trailing slash', { [`${P}mount-path`]: '/mnt/secrets/' }, `${P}mount-path`, /ends with/],
  ['dot dot segment', { [`${P}mount-path`]: '/mnt/../etc' }, `${P}mount-path`, /'\.\.' segment/],
  ['dot segment', { [`${P}mount-path`]: '/mnt/./x' }, `${P}mount-path`, /'\.\.' segment|'\.' or/],
  ['system directory /etc', { [`${P}mount-path`]: '/etc' }, `${P}mount-path`, /system directory/],
  ['system directory /usr', { [`${P}mount-path`]: '/usr' }, `${P}mount-path`, /system directory/],
  ['below /proc', { [`${P}mount-path`]: '/proc/self' }, `${P}mount-path`, /system directory/],
  ['below /sys', { [`${P}mount-path`]: '/sys/fs/x' }, `${P}mount-path`, /system directory/],
  ['below /dev', { [`${P}mount-path`]: '/dev/shm/x' }, `${P}mount-path`, /system directory/],
  ['empty containers entry', { [`${P}containers`]: 'app,,web' }, `${P}containers`, /empty name/],
  ['empty containers list', { [`${P}containers`]: '' }, `${P}containers`, /empty name/],
  ['duplicate container', { [`${P}containers`]: 'app,app' }, `${P}containers`, /listed twice/],
  ['duplicate init container', { [`${P}init-containers`]: 'a, a' }, `${P}init-containers`, /listed twice/],
  ['store not a DNS subdomain', { [`${P}store`]: 'Team_Vault' }, `${P}store`, /DNS subdomain/],
  ['store too long', { [`${P}store`]: 'a'.repeat(254) }, `${P}store`, /DNS subdomain/],
  ['unknown store kind', { [`${P}store`]: 's', [`${P}store-kind`]: 'Store' }, `${P}store-kind`, /ClusterSecretStore or SecretStore/],
  ['store kind without store', { [`${P}store-kind`]: 'SecretStore' }, `${P}store-kind`, /needs a store name/],
  ['refresh interval without unit', { [`${P}refresh-interval`]: '10' }, `${P}refresh-interval`, /Go duration/],
  ['refresh interval negative', { [`${P}refresh-interval`]: '-1h' }, `${P}refresh-interval`, /Go duration/],
  ['refresh interval unknown unit', { [`${P}refresh-interval`]: '1d' }, `${P}refresh-interval`, /Go duration/],
  ['refresh interval empty', { [`${P}refresh-interval`]: '' }, `${P}refresh-interval`, /Go duration/],
  ['refresh interval too long', { [`${P}refresh-interval`]: '3000000h' }, `${P}refresh-interval`, /292 years/],
  ['empty role', { [`${P}role`]: ' ' }, `${P}role`, /role is empty/],
];

t.test('every rule violation names its annotation and says what is allowed', async (t) => {
  for (const [name, annotations, field, message] of violations) {
    const { problems } = parse(annotations);
    const match = problems.find((problem) => problem.field === field);
    t.ok(match, `${name}: a problem on ${field}`);
    t.match(match?.message, message, `${name}: message`);
  }
});

t.test('a request without secrets is a problem', async (t) => {
  const { problems } = parse({ [`${P}inject`]: 'true' }, true);
  t.same(problems.map((p) => p.field), [`${P}secret-<name>`]);
});

t.test('every problem is reported, not only the first', async (t) => {
  const { problems } = parse({
    [`${P}mount-path`]: 'relative',
    [`${P}refresh-interval`]: 'soon',
    [`${P}env-db`]: '9',
    [`${P}store`]: 'UPPER',
  });
  t.same(problems.map((p) => p.field).sort(), [`${P}env-db`, `${P}mount-path`, `${P}refresh-interval`, `${P}store`]);
});

t.test('valid edge values are accepted', async (t) => {
  const accepted: Record<string, string>[] = [
    { [`${P}secret-${'a'.repeat(40)}`]: 'k' },
    { [`${P}secret-a`]: 'k' },
    { [`${P}secret-tls.crt`]: 'k' },
    { [`${P}secret-a_b-c.d`]: 'k' },
    { [`${P}refresh-interval`]: '0' },
    { [`${P}refresh-interval`]: '0s' },
    { [`${P}refresh-interval`]: '1.5h' },
    { [`${P}refresh-interval`]: '2h45m30s500ms' },
    { [`${P}mount-path`]: '/etc/app' },
    { [`${P}mount-path`]: '/var/run/secrets/app' },
    { [`${P}mount-path`]: '/procfs' },
    { [`${P}env-db`]: '_db' },
    { [`${P}secret-db`]: 'a#b#c' },
    { [`${P}store`]: 'vault.team-a' },
  ];
  for (const annotations of accepted) {
    t.same(parse(annotations).problems, [], JSON.stringify(annotations));
  }
  t.same(parse({ [`${P}secret-db`]: 'a#b#c' }).request.secrets[0], { name: 'db', key: 'a', property: 'b#c' });
});
