// Generated ExternalSecrets and SecretProviderClasses checked against the pinned upstream CRDs'
// openAPIV3Schema (../shared/crds, beside the repository), both from planInjection for every
// backend and from `inject` on every example.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import t from 'tap';
import type { Test } from 'tap';
import { parse } from 'yaml';
import { planInjection } from '../../../src/core/plan.ts';
import { injectManifests } from '../../../src/manifests/inject.ts';
import { parseStoreCatalog } from '../../../src/stores/catalog.ts';
import { P, catalog, config, richPod } from '../../support/core-fixtures.ts';
import { sharedCrdsDir } from '../../support/crds.ts';

const root = new URL('../../../', import.meta.url);

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: object } }[] };
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction>();
for (const file of ['external-secrets.io_externalsecrets.yaml', 'secrets-store.csi.x-k8s.io_secretproviderclasses.yaml']) {
  const crd = parse(readFileSync(join(sharedCrdsDir(), file), 'utf8')) as Crd;
  for (const version of crd.spec.versions) {
    if (!version.served) continue;
    validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(version.schema.openAPIV3Schema));
  }
}

function check(t: Test, object: { apiVersion?: unknown; kind?: unknown }, label: string): void {
  const validate = validators.get(`${String(object.apiVersion)}/${String(object.kind)}`);
  t.ok(validate, `${label}: ${String(object.apiVersion)} ${String(object.kind)} is a served CRD version`);
  if (validate === undefined) return;
  const valid = validate(object);
  t.ok(valid, `${label}: ${ajv.errorsText(validate.errors)}`);
}


t.test('planInjection output for every backend matches the CRDs', async (t) => {
  for (const store of ['vault', 'aws', 'azurekv', 'gcpsm']) {
    const secret = store === 'azurekv' ? 'db-password' : store === 'gcpsm' ? 'db-credentials#password' : 'app/db#password';
    const result = planInjection({ pod: richPod({ [`${P}store`]: store, [`${P}secret-db`]: secret }), namespace: 'team-a' }, catalog, config);
    t.equal(result.action, 'inject', store);
    if (result.action !== 'inject') continue;
    check(t, result.objects.externalSecret, `${store} ExternalSecret`);
    check(t, result.objects.secretProviderClass, `${store} SecretProviderClass`);
  }
});

t.test('inject output for every example matches the CRDs', async (t) => {
  const storesFile = new URL('examples/stores.yaml', root);
  const stores = parseStoreCatalog(readFileSync(storesFile, 'utf8'), 'stores.yaml', { defaultNamespace: 'default' });
  if (!stores.ok) throw new Error(stores.errors.join('\n'));
  let checked = 0;
  for (const example of ['deployment.yaml', 'statefulset.yaml', 'cronjob.yaml', 'list.yaml']) {
    const result = injectManifests(readFileSync(new URL(`examples/${example}`, root), 'utf8'), stores.catalog, { csiProviderNames: {} }, { file: example, namespace: 'default' });
    t.ok(result.ok, example);
    if (!result.ok) continue;
    for (const document of result.output.split(/^---$/m)) {
      const object = parse(document) as { kind?: string } | null;
      if (object?.kind === 'ExternalSecret' || object?.kind === 'SecretProviderClass') {
        check(t, object, `${example} ${object.kind}`);
        checked += 1;
      }
    }
  }
  t.equal(checked, 10, 'five generated pairs');
});

t.test('the schema check rejects what the API server would', async (t) => {
  const result = planInjection({ pod: richPod(), namespace: 'team-a' }, catalog, config);
  if (result.action !== 'inject') throw new Error('expected inject');
  const broken = structuredClone(result.objects.externalSecret) as unknown as { spec: { target: { creationPolicy: string } } };
  broken.spec.target.creationPolicy = 'Sometimes';
  const validate = validators.get('external-secrets.io/v1/ExternalSecret');
  t.notOk(validate?.(broken), 'an invalid creationPolicy is caught');
});
