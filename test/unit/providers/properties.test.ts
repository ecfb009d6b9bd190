// Property-based checks: arbitrary secret lists never make a mapping throw, every refusal names an
// annotation, and every accepted result's YAML parses back (as YAML 1.1 and 1.2) to the objects
// intended for exactly those secrets.
import fc from 'fast-check';
import t from 'tap';
import { parse } from 'yaml';
import type { SecretSpec } from '../../../src/contract/types.ts';
import { propertyToJmesPath } from '../../../src/providers/aws.ts';
import { mapToCsi } from '../../../src/providers/index.ts';
import type { CsiProviderResult } from '../../../src/providers/types.ts';
import { kvReadPath } from '../../../src/providers/vault.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';

const RUNS = 300;

// Values YAML likes to reinterpret, plus arbitrary text.
const tricky = fc.constantFrom('true', 'no', '0600', '1e3', 'null', '~', '- x', 'a: b', '#x', "'q'", '"dq"', 'multi\nline', ' pad ', 'a.b', 'ü/€');
const text = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), tricky, fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/));
const secretName = fc.stringMatching(/^[a-z0-9]([-a-z0-9_.]{0,38}[a-z0-9])?$/).filter((n) => n !== '.' && n !== '..');

const secretList = fc
  .uniqueArray(
    fc.record(
      { name: secretName, key: text, property: text, version: fc.oneof(text, fc.integer({ min: 1, max: 99 }).map(String)) },
      { requiredKeys: ['name', 'key'] },
    ),
    { minLength: 1, maxLength: 8, selector: (s) => s.name },
  )
  .map((secrets) => secrets as SecretSpec[]);

// Key Vault lists: mostly valid names and no property, so both outcomes are frequent.
const keyVaultList = fc
  .uniqueArray(
    fc.record(
      {
        name: secretName,
        key: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^(secret\/)?[A-Za-z0-9-]{1,20}$/) }, { weight: 1, arbitrary: text }),
        property: text,
        version: fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/) }, { weight: 1, arbitrary: text }),
      },
      { requiredKeys: ['name', 'key'] },
    ),
    { minLength: 1, maxLength: 4, selector: (s) => s.name },
  )
  .map((secrets) => secrets.map(({ property, ...rest }, i) => (i % 3 === 2 ? { ...rest, property } : rest)) as SecretSpec[]);

// Secret Manager lists: mostly valid secret IDs and versions, so both outcomes are frequent.
const secretManagerList = fc
  .uniqueArray(
    fc.record(
      {
        name: secretName,
        key: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/) }, { weight: 1, arbitrary: text }),
        property: text,
        version: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 99 }).map(String) }, { weight: 1, arbitrary: text }),
      },
      { requiredKeys: ['name', 'key'] },
    ),
    { minLength: 1, maxLength: 8, selector: (s) => s.name },
  )
  .map((secrets) => secrets as SecretSpec[]);

const role = fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { nil: undefined });

/** Parses a parameter the way a provider would, checking both YAML versions agree. */
function parseBoth(text: string | undefined): unknown {
  const v12 = parse(text ?? '') as unknown;
  const v11 = parse(text ?? '', { version: '1.1' }) as unknown;
  if (JSON.stringify(v11) !== JSON.stringify(v12)) throw new Error(`YAML 1.1 and 1.2 disagree on ${text}`);
  return v12;
}

function checkShape(result: CsiProviderResult): void {
  if (result.ok) {
    for (const [key, value] of Object.entries(result.spec.parameters)) {
      if (typeof value !== 'string') throw new Error(`parameter ${key} is not a string`);
    }
  } else {
    if (result.problems.length === 0) throw new Error('a refusal without problems');
    for (const p of result.problems) {
      if (!p.field.startsWith('hybrid-secrets.io/') || p.message === '') throw new Error(`bad problem ${JSON.stringify(p)}`);
    }
  }
}

/** Counts accepted cases, so a mapping that refused everything could not pass unnoticed. */
function acceptanceCounter(): { count(result: CsiProviderResult): void; readonly accepted: number } {
  let accepted = 0;
  return {
    count(result) {
      if (result.ok) accepted += 1;
    },
    get accepted() {
      return accepted;
    },
  };
}

function sameJson(actual: unknown, expected: unknown): boolean {
  return JSON.stringify(actual) === JSON.stringify(expected);
}

t.test('vault: objects are exactly the requested secrets', async (t) => {
  const store = clusterStore({ vault: { server: 'https://v:8200', path: 'secret', auth: { kubernetes: { role: 'r' } } } });
  const counter = acceptanceCounter();
  fc.assert(
    fc.property(secretList, role, (secrets, podRole) => {
      const req = request(secrets, podRole === undefined ? {} : { role: podRole });
      const result = mapToCsi(store, req, noConfig);
      checkShape(result);
      counter.count(result);
      if (!result.ok) return true;
      const expected = req.secrets.map((s) => ({
        objectName: s.name,
        secretPath: kvReadPath(s.key, 'secret', 'v2') + (s.version === undefined ? '' : `?version=${s.version}`),
        ...(s.property === undefined ? {} : { secretKey: s.property }),
      }));
      return sameJson(parseBoth(result.spec.parameters.objects), expected) && result.spec.parameters.roleName === (podRole ?? 'r');
    }),
    { numRuns: RUNS },
  );
  t.ok(counter.accepted > RUNS / 20, `${counter.accepted} of ${RUNS} lists accepted`);
});

for (const service of ['SecretsManager', 'ParameterStore'] as const) {
  t.test(`aws ${service}: every secret is mounted once under its name`, async (t) => {
    const store = clusterStore({ aws: { service, region: 'eu-west-1', prefix: 'p/' } });
    const counter = acceptanceCounter();
    fc.assert(
      fc.property(secretList, (secrets) => {
        const req = request(secrets);
        const result = mapToCsi(store, req, noConfig);
        checkShape(result);
        counter.count(result);
        if (!result.ok) return true;
        const objects = parseBoth(result.spec.parameters.objects) as {
          objectName: string;
          objectAlias: string;
          objectVersion?: string;
          objectVersionLabel?: string;
          jmesPath?: { path: string; objectAlias: string }[];
        }[];
        const aliases = new Map<string, { objectName: string; path?: string }>();
        for (const o of objects) {
          for (const [alias, path] of [[o.objectAlias, undefined], ...(o.jmesPath ?? []).map((j) => [j.objectAlias, j.path])]) {
            if (alias === undefined || aliases.has(alias)) return false; // the provider refuses duplicate aliases
            aliases.set(alias, path === undefined ? { objectName: o.objectName } : { objectName: o.objectName, path });
          }
        }
        if (service === 'ParameterStore' && new Set(objects.map((o) => o.objectName)).size !== objects.length) return false;
        const hidden = [...aliases.keys()].filter((a) => a.startsWith('.'));
        if (aliases.size - hidden.length !== req.secrets.length) return false;
        return req.secrets.every((s) => {
          const entry = aliases.get(s.name);
          const wantedPath = s.property === undefined ? undefined : propertyToJmesPath(s.property);
          return entry !== undefined && entry.objectName === `p/${s.key}` && entry.path === wantedPath;
        });
      }),
      { numRuns: RUNS },
    );
    t.ok(counter.accepted > RUNS / 20, `${counter.accepted} of ${RUNS} lists accepted`);
  });
}

t.test('azurekv: one object per secret, named by alias', async (t) => {
  const store = clusterStore(
    { azurekv: { vaultUrl: 'https://my-vault.vault.azure.net', tenantId: 't' } },
    { 'hybrid-secrets.io/azure-client-id': '7d2c7c5e-3b1a-4c8e-9f00-1a2b3c4d5e6f' },
  );
  const counter = acceptanceCounter();
  fc.assert(
    fc.property(keyVaultList, (secrets) => {
      const req = request(secrets);
      const result = mapToCsi(store, req, noConfig);
      checkShape(result);
      counter.count(result);
      if (!result.ok) return !req.secrets.every((s) => s.property === undefined && /^(secret\/)?[A-Za-z0-9-]{1,127}$/.test(s.key) && (s.version === undefined || /^[A-Za-z0-9]+$/.test(s.version)));
      const outer = parseBoth(result.spec.parameters.objects) as { array: string[] };
      const expected = req.secrets.map((s) => ({
        objectName: s.key.replace(/^secret\//, ''),
        objectType: 'secret',
        ...(s.version === undefined ? {} : { objectVersion: s.version }),
        objectAlias: s.name,
      }));
      return sameJson(outer.array.map((item) => parseBoth(item)), expected);
    }),
    { numRuns: RUNS },
  );
  t.ok(counter.accepted > RUNS / 20, `${counter.accepted} of ${RUNS} lists accepted`);
});

t.test('gcpsm: one entry per secret with its path and JSON key', async (t) => {
  const store = clusterStore({ gcpsm: { projectID: 'proj' } });
  const counter = acceptanceCounter();
  fc.assert(
    fc.property(secretManagerList, (secrets) => {
      const req = request(secrets);
      const result = mapToCsi(store, req, noConfig);
      checkShape(result);
      counter.count(result);
      if (!result.ok) return true;
      const expected = req.secrets.map((s) => ({
        resourceName: `projects/proj/secrets/${s.key}/versions/${s.version ?? 'latest'}`,
        path: s.name,
        ...(s.property === undefined ? {} : { extractJSONKey: s.property }),
      }));
      return sameJson(parseBoth(result.spec.parameters.secrets), expected);
    }),
    { numRuns: RUNS },
  );
  t.ok(counter.accepted > RUNS / 20, `${counter.accepted} of ${RUNS} lists accepted`);
});

t.test('arbitrary store shapes never throw', async (t) => {
  const backend = fc.constantFrom('vault', 'aws', 'azurekv', 'gcpsm', 'openBao', 'fake');
  fc.assert(
    fc.property(backend, fc.anything(), secretList, fc.dictionary(fc.string(), fc.string()), (name, config, secrets, annotations) => {
      const result = mapToCsi(clusterStore({ [name]: config }, annotations), request(secrets), noConfig);
      checkShape(result);
    }),
    { numRuns: RUNS },
  );
  t.pass('checked');
});
