import t from 'tap';
import { parse } from 'yaml';
import { AWS_POD_IDENTITY_ANNOTATION, propertyToJmesPath } from '../../../src/providers/aws.ts';
import { mapToCsi } from '../../../src/providers/index.ts';
import { clusterStore, noConfig, request } from './support/builders.ts';
import { matchGolden } from './support/golden.ts';

const secretsManager = { aws: { service: 'SecretsManager', region: 'eu-west-1' } };
const parameterStore = { aws: { service: 'ParameterStore', region: 'eu-west-1', prefix: '/prod/' } };

function objectsOf(result: ReturnType<typeof mapToCsi>): unknown {
  return result.ok ? parse(result.spec.parameters.objects ?? '') : result.problems;
}

t.test('properties become JMESPath expressions that read what ESO reads', async (t) => {
  t.equal(propertyToJmesPath('password'), '"password"');
  t.equal(propertyToJmesPath('db-password'), '"db-password"', 'hyphens need quoting in JMESPath');
  t.equal(propertyToJmesPath('a.b'), '"a.b" || "a"."b"', 'literal dotted key first, as ESO does');
  t.equal(propertyToJmesPath('a\\.b.c'), '"a.b.c" || "a.b"."c"', 'escaped dots stay in the segment');
  t.equal(propertyToJmesPath('quote"d'), '"quote\\"d"');
  t.equal(propertyToJmesPath(''), undefined);
  t.equal(propertyToJmesPath('a..b'), undefined, 'empty segment');
  t.equal(propertyToJmesPath('items.#'), undefined, 'gjson query syntax');
  t.equal(propertyToJmesPath('a*'), undefined, 'gjson wildcard');
});

t.test('golden: Secrets Manager with properties, versions and a whole value', async (t) => {
  const result = mapToCsi(
    clusterStore(secretsManager),
    request([
      { name: 'db-user', key: 'app/db', property: 'username' },
      { name: 'db-password', key: 'app/db', property: 'password' },
      { name: 'db-json', key: 'app/db' },
      { name: 'old-api', key: 'app/api', version: 'AWSPREVIOUS' },
      { name: 'pinned-api', key: 'app/api', version: 'uuid/0f2c2bde-1f57-4fa0-9d6c-5d2d3e1b7a10' },
      { name: 'api', key: 'app/api' },
    ]),
    noConfig,
  );
  matchGolden(t, 'aws-secretsmanager', result);
  t.same(result.ok && Object.keys(result.spec.parameters), ['region', 'objects']);
  t.same(objectsOf(result), [
    { objectName: 'app/api', objectType: 'secretsmanager', objectAlias: 'api' },
    {
      objectName: 'app/db',
      objectType: 'secretsmanager',
      objectAlias: 'db-json',
      jmesPath: [
        { path: '"password"', objectAlias: 'db-password' },
        { path: '"username"', objectAlias: 'db-user' },
      ],
    },
    { objectName: 'app/api', objectType: 'secretsmanager', objectAlias: 'old-api', objectVersionLabel: 'AWSPREVIOUS' },
    {
      objectName: 'app/api',
      objectType: 'secretsmanager',
      objectAlias: 'pinned-api',
      objectVersion: '0f2c2bde-1f57-4fa0-9d6c-5d2d3e1b7a10',
    },
  ]);
});

t.test('only properties of a secret: the whole value goes to a hidden file', async (t) => {
  const result = mapToCsi(
    clusterStore(secretsManager),
    request([
      { name: 'user', key: 'db', property: 'username' },
      { name: 'pass', key: 'db', property: 'password' },
    ]),
    noConfig,
  );
  t.same(objectsOf(result), [
    {
      objectName: 'db',
      objectType: 'secretsmanager',
      objectAlias: '.pass.json',
      jmesPath: [
        { path: '"password"', objectAlias: 'pass' },
        { path: '"username"', objectAlias: 'user' },
      ],
    },
  ]);
});

t.test('two whole copies of one secret are two objects with their own aliases', async (t) => {
  const result = mapToCsi(clusterStore(secretsManager), request([{ name: 'a', key: 'db' }, { name: 'b', key: 'db' }]), noConfig);
  t.same(objectsOf(result), [
    { objectName: 'db', objectType: 'secretsmanager', objectAlias: 'a' },
    { objectName: 'db', objectType: 'secretsmanager', objectAlias: 'b' },
  ]);
});

t.test('golden: Parameter Store with prefix, versions and pod identity', async (t) => {
  const result = mapToCsi(
    clusterStore(parameterStore, { [AWS_POD_IDENTITY_ANNOTATION]: 'true' }),
    request([
      { name: 'db-host', key: 'db', property: 'host', version: '4' },
      { name: 'db-port', key: 'db', property: 'port', version: '4' },
      { name: 'flag', key: 'feature/flag', version: 'stable' },
    ]),
    noConfig,
  );
  matchGolden(t, 'aws-parameterstore', result);
  t.equal(result.ok && result.spec.parameters.usePodIdentity, 'true');
  t.same(objectsOf(result), [
    {
      objectName: '/prod/db',
      objectType: 'ssmparameter',
      objectAlias: '.db-host.json',
      objectVersion: '4',
      jmesPath: [
        { path: '"host"', objectAlias: 'db-host' },
        { path: '"port"', objectAlias: 'db-port' },
      ],
    },
    { objectName: '/prod/feature/flag', objectType: 'ssmparameter', objectAlias: 'flag', objectVersionLabel: 'stable' },
  ]);
  const irsa = mapToCsi(clusterStore(parameterStore, { [AWS_POD_IDENTITY_ANNOTATION]: 'false' }), request([{ name: 'a', key: 'a' }]), noConfig);
  t.equal(irsa.ok && irsa.spec.parameters.usePodIdentity, 'false', 'an explicit false is passed on');
  const unquoted = { [AWS_POD_IDENTITY_ANNOTATION]: true } as unknown as Record<string, string>;
  const fromFile = mapToCsi(clusterStore(parameterStore, unquoted), request([{ name: 'a', key: 'a' }]), noConfig);
  t.equal(fromFile.ok && fromFile.spec.parameters.usePodIdentity, 'true', 'an unquoted true from a stores file');
  const unset = mapToCsi(clusterStore(parameterStore), request([{ name: 'a', key: 'a' }]), noConfig);
  t.ok(unset.ok);
  t.notOk(unset.ok && 'usePodIdentity' in unset.spec.parameters, 'absent by default (IRSA)');
});

t.test('Parameter Store reads a parameter once per mount', async (t) => {
  const result = mapToCsi(
    clusterStore(parameterStore),
    request([
      { name: 'a', key: 'db', property: 'x', version: '1' },
      { name: 'b', key: 'db', property: 'y', version: '2' },
      { name: 'c', key: 'db', property: 'z', version: '1' },
      { name: 'd', key: 'db', version: '1' },
      { name: 'e', key: 'db', version: '1' },
    ]),
    noConfig,
  );
  t.same(result, {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/version-b',
        message: 'the AWS CSI provider reads parameter "/prod/db" once per mount; another secret of this pod reads version 1, this one 2',
      },
      {
        field: 'hybrid-secrets.io/secret-e',
        message: 'the AWS CSI provider mounts parameter "/prod/db" under one name only, and secret-d already mounts its whole value',
      },
    ],
  });
});

t.test('store problems', async (t) => {
  const secrets = request([{ name: 'a', key: 'a' }]);
  t.same(mapToCsi(clusterStore({ aws: { service: 'CertificateManager' } }), secrets, noConfig), {
    ok: false,
    problems: [
      { field: 'hybrid-secrets.io/store', message: 'ClusterSecretStore "shared": spec.provider.aws.region is required' },
      {
        field: 'hybrid-secrets.io/store',
        message:
          'ClusterSecretStore "shared": the AWS CSI provider reads SecretsManager and ParameterStore, not spec.provider.aws.service "CertificateManager"',
      },
    ],
  });
  t.same(mapToCsi(clusterStore(secretsManager, { [AWS_POD_IDENTITY_ANNOTATION]: 'yes' }), secrets, noConfig), {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/store',
        message: `ClusterSecretStore "shared": annotation ${AWS_POD_IDENTITY_ANNOTATION} must be "true" or "false"`,
      },
    ],
  });
  const noService = mapToCsi(clusterStore({ aws: { region: 'eu-west-1' } }), secrets, noConfig);
  t.same(noService.ok ? [] : noService.problems.map((p) => p.message), [
    'ClusterSecretStore "shared": spec.provider.aws.service is required',
  ]);
});

t.test('secret problems', async (t) => {
  const result = mapToCsi(
    clusterStore(secretsManager),
    request([
      { name: 'a', key: 'db', property: 'items.#' },
      { name: 'b', key: 'db', version: 'has space' },
      { name: 'c', key: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' },
      { name: 'd', key: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' },
      { name: 'e', key: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' },
    ]),
    noConfig,
  );
  t.same(result, {
    ok: false,
    problems: [
      {
        field: 'hybrid-secrets.io/secret-a',
        message:
          'the property "items.#" cannot be read by the AWS CSI provider: use a key or a dotted path of keys (no wildcards, queries or modifiers)',
      },
      { field: 'hybrid-secrets.io/version-b', message: '"has space" is not a version id, number or label (no spaces or ":")' },
      {
        field: 'hybrid-secrets.io/secret-c',
        message: 'the ARN "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf" must name secretsmanager in the store\'s region "eu-west-1"',
      },
      {
        field: 'hybrid-secrets.io/secret-d',
        message: 'the ARN "arn:aws:ssm:eu-west-1:123456789012:parameter/db" must name secretsmanager in the store\'s region "eu-west-1"',
      },
    ],
  });
});
