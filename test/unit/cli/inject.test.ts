// The inject command end to end, as a spawned process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../../', import.meta.url).pathname;
const node = join(root, 'node_modules/.bin/node');
const stores = join(root, 'examples/stores.yaml');
const example = (name: string): string => join(root, 'examples', name);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(root, 'src/cli.ts'), 'inject', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function kinds(text: string): string[] {
  return parseAllDocuments(text as string).flatMap((document) => {
    const value = document.toJS() as { kind?: string } | null;
    return value === null ? [] : [String(value.kind)];
  });
}

// Each case spawns Node; on a busy machine the file needs more than tap's default 30 s.
t.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'hybrid-secrets-inject-'));

t.test('a Deployment gets its template mutated and the generated pair appended', async (t) => {
  const result = await run(['-f', example('deployment.yaml'), '--stores', stores]);
  t.equal(result.code, 0, result.stderr);
  t.same(kinds(result.stdout), ['Deployment', 'ExternalSecret', 'SecretProviderClass']);
  const [deployment, externalSecret, spc] = parseAllDocuments(result.stdout).map((d) => d.toJS());
  const template = deployment.spec.template;
  t.equal(template.metadata.annotations['hybrid-secrets.io/status'], 'injected');
  const name = externalSecret.metadata.name;
  t.match(name, /^web-[0-9a-f]{10}$/);
  t.equal(externalSecret.metadata.namespace, 'shop', "the document's namespace");
  t.equal(spc.metadata.name, name);
  t.same(template.spec.volumes, [{ name: 'hybrid-secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: name } } }]);
  t.same(template.spec.containers[0].env[1], { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name, key: 'db-password' } } });
  t.equal(template.spec.containers[1].volumeMounts, undefined, 'metrics-proxy is not a target');
  t.equal(template.spec.initContainers[0].volumeMounts[0].mountPath, '/etc/shop/secrets');
  t.match(result.stdout, /^# A Deployment that reads/, 'comments are kept');
});

t.test('running on its own output changes nothing', async (t) => {
  for (const file of ['deployment.yaml', 'statefulset.yaml', 'cronjob.yaml', 'list.yaml']) {
    const first = await run(['-f', example(file), '--stores', stores]);
    t.equal(first.code, 0, `${file}: ${first.stderr}`);
    const second = await run(['-f', '-', '--stores', stores], first.stdout);
    t.equal(second.code, 0, second.stderr);
    t.equal(second.stdout, first.stdout, `${file} is idempotent`);
  }
});

t.test('a List: every workload item is mutated, other items pass through', async (t) => {
  const result = await run(['-f', example('list.yaml'), '--stores', stores]);
  t.equal(result.code, 0, result.stderr);
  const [list, ...generated] = parseAllDocuments(result.stdout).map((d) => d.toJS());
  t.equal(list.items[0].metadata.annotations['hybrid-secrets.io/status'], 'injected');
  t.equal(list.items[1].spec.template.metadata.annotations['hybrid-secrets.io/status'], 'injected');
  t.same(list.items[2], parseAllDocuments(readFileSync(example('list.yaml'), 'utf8'))[0]?.toJS().items[2]);
  t.same(generated.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name.replace(/-[0-9a-f]{10}$/, '')}`), [
    'ExternalSecret/tools/debug-shell',
    'SecretProviderClass/tools/debug-shell',
    'ExternalSecret/payments/node-agent',
    'SecretProviderClass/payments/node-agent',
  ]);
});

t.test('untouched documents pass through byte for byte', async (t) => {
  const odd = `# header\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k:    'v'   # spacing\n---\n\n# second\nkind: Secret\nmetadata:\n  name: s\nstringData: {x: "1"}\n...\n`;
  const result = await run(['-f', '-', '--stores', stores], odd);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, odd);
  const empty = await run(['-f', '-', '--stores', stores], '');
  t.equal(empty.code, 0);
  t.equal(empty.stdout, '');
});

t.test('two workloads of one spec share nothing; one workload twice is generated once', async (t) => {
  const pod = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  annotations:\n    hybrid-secrets.io/inject: "true"\n    hybrid-secrets.io/store: vault\n    hybrid-secrets.io/secret-db: app/db\nspec:\n  containers: [{name: a}]\n`;
  const result = await run(['-f', '-', '--stores', stores, '--namespace', 'team-a'], `${pod('one')}---\n${pod('one')}---\n${pod('two')}`);
  t.equal(result.code, 0, result.stderr);
  t.same(kinds(result.stdout), ['Pod', 'Pod', 'Pod', 'ExternalSecret', 'SecretProviderClass', 'ExternalSecret', 'SecretProviderClass']);
  t.match(result.stdout, /namespace: team-a/, '--namespace applies to documents without one');
});

t.test('bad input: every problem, named by file, document and annotation; no output', async (t) => {
  const bad = `kind: ConfigMap\nmetadata: {name: fine}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n      annotations:\n        hybrid-secrets.io/inject: "true"\n        hybrid-secrets.io/store: vault-prod\n        hybrid-secrets.io/secret-db: app/db\n        hybrid-secrets.io/env-db: 1BAD\n        hybrid-secrets.io/typo: x\n    spec:\n      containers: [{name: app}]\n`;
  const input = join(dir, 'bad.yaml');
  writeFileSync(input, bad);
  const output = join(dir, 'bad-out.yaml');
  const result = await run(['-f', input, '--stores', stores, '-o', output]);
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  t.match(lines, [
    `${input}: document 2 (Deployment/web): warning: unknown annotation hybrid-secrets.io/typo is ignored; see the hybrid-secrets annotation reference for the supported keys`,
    /^.*bad\.yaml: document 2 \(Deployment\/web\): hybrid-secrets\.io\/env-db: '1BAD' is not a valid environment variable name/,
    /^.*bad\.yaml: document 2 \(Deployment\/web\): hybrid-secrets\.io\/store: ClusterSecretStore 'vault-prod' may not be used from namespace 'default'/,
  ]);
  t.same(readdirSync(dir).filter((f) => f.startsWith('bad-out') || f.endsWith('.tmp')), [], 'no output, no temporary file');

  const yamlError = await run(['-f', '-', '--stores', stores], 'kind: Pod\nmetadata: {name: [\n');
  t.equal(yamlError.code, 1);
  t.match(yamlError.stderr, /<stdin>: document 1: invalid YAML/);
});

t.test('-o writes the file atomically and only on success', async (t) => {
  const output = join(dir, 'out.yaml');
  const result = await run(['-f', example('statefulset.yaml'), '--stores', stores, '-o', output]);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, '');
  t.same(kinds(readFileSync(output, 'utf8')), ['StatefulSet', 'ExternalSecret', 'SecretProviderClass']);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

t.test('usage errors exit 2; unreadable files exit 1', async (t) => {
  const cases: string[][] = [
    [],
    ['-f', example('deployment.yaml')],
    ['--stores', stores],
    ['-f', example('deployment.yaml'), '--stores', stores, '--bogus'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--csi-provider', 'vault'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--csi-provider', 'vualt=openbao'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--default-store-kind', 'Store', '--default-store', 'x'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--default-store-kind', 'SecretStore'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--namespace', 'Bad_NS'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--namespace', 'a.b'],
    ['-f', example('deployment.yaml'), '--stores', stores, '--namespace', 'n'.repeat(64)],
  ];
  for (const args of cases) {
    const result = await run(args);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, /usage: hybrid-secrets inject/);
  }
  const help = await run(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--csi-provider/);
  const missing = await run(['-f', join(dir, 'nope.yaml'), '--stores', stores]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.yaml/);
});

t.test('flags: default store and CSI provider names', async (t) => {
  const pod = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    hybrid-secrets.io/inject: "true"\n    hybrid-secrets.io/secret-db: app/db\nspec:\n  containers: [{name: a}]\n`;
  const noDefault = await run(['-f', '-', '--stores', stores], pod);
  t.equal(noDefault.code, 1);
  t.match(noDefault.stderr, /hybrid-secrets\.io\/store: no store named/);
  const withDefault = await run(['-f', '-', '--stores', stores, '--default-store', 'vault', '--csi-provider', 'vault=openbao'], pod);
  t.equal(withDefault.code, 0, withDefault.stderr);
  t.match(withDefault.stdout, /provider: openbao/);
});

t.test('a bad stores file is reported with its documents', async (t) => {
  const badStores = join(dir, 'stores.yaml');
  writeFileSync(badStores, 'kind: ClusterSecretStore\nmetadata: {name: x}\nspec: {}\n');
  const result = await run(['-f', example('deployment.yaml'), '--stores', badStores]);
  t.equal(result.code, 1);
  t.match(result.stderr, /stores\.yaml: document 1 \(ClusterSecretStore\/x\): spec\.provider must configure exactly one provider/);
});
