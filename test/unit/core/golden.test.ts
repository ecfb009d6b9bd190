// planInjection end to end per backend, compared with reviewed files in test/golden/.
// Regenerate after an intended change with: UPDATE_GOLDEN=1 npx tap test/unit/core/golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { planInjection } from '../../../src/core/plan.ts';
import { P, catalog, config, richPod } from '../../support/core-fixtures.ts';

const goldenDir = new URL('../../golden/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';

const cases: [string, Record<string, string>][] = [
  ['vault', { [`${P}store`]: 'vault', [`${P}secret-api-token`]: 'team/api', [`${P}version-api-token`]: '3', [`${P}env-db`]: 'DB_PASSWORD' }],
  ['vault-secretstore', { [`${P}store`]: 'team-vault', [`${P}store-kind`]: 'SecretStore', [`${P}role`]: 'web' }],
  ['aws', { [`${P}store`]: 'aws', [`${P}secret-api-token`]: 'team/api', [`${P}version-api-token`]: 'AWSCURRENT', [`${P}containers`]: 'app' }],
  ['azurekv', { [`${P}store`]: 'azurekv', [`${P}secret-db`]: 'db-password', [`${P}env-db`]: 'DB_PASSWORD', [`${P}secret-api-token`]: 'api-token', [`${P}version-api-token`]: '0123456789abcdef0123456789abcdef' }],
  ['gcpsm', { [`${P}store`]: 'gcpsm', [`${P}secret-db`]: 'db-credentials#password', [`${P}secret-api-token`]: 'api-token', [`${P}version-api-token`]: '4', [`${P}refresh-interval`]: '15m' }],
];

for (const [name, extra] of cases) {
  t.test(name, async (t) => {
    const result = planInjection({ pod: richPod(extra), namespace: 'team-a' }, catalog, config);
    const actual =
      result.action === 'inject'
        ? { externalSecret: result.objects.externalSecret, secretProviderClass: result.objects.secretProviderClass, patch: result.patch, warnings: result.warnings }
        : result;
    const file = new URL(`${name}.json`, goldenDir);
    const text = `${JSON.stringify(actual, null, 2)}\n`;
    if (update) {
      writeFileSync(file, text);
      t.comment(`wrote ${file.pathname}`);
    }
    t.equal(result.action, 'inject', 'the golden case injects');
    t.ok(existsSync(file), `test/golden/${name}.json exists (UPDATE_GOLDEN=1 writes it)`);
    if (existsSync(file)) t.equal(text, readFileSync(file, 'utf8'), `matches test/golden/${name}.json`);
  });
}
