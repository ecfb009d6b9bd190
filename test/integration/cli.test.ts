// The certs and serve commands as a user runs them.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { runCerts } from '../../src/cli/certs.ts';
import { chooseRuntime, runServe, type Environment } from '../../src/cli/serve.ts';
import { isSignedBy } from '../../src/tls/certificates.ts';
import { CLI } from './fixtures/https.ts';

const run = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  env.HOME = tmpdir(); // no ~/.kube/config
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

t.test('certs writes a CA and a serving certificate, keys owner-only, and prints the caBundle', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hybrid-secrets-certs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'out');
  const first = await run(['certs', '--service', 'hs', '--namespace', 'platform', '--out', out]);
  t.equal(first.code, 0, first.stderr);
  const caPem = await readFile(join(out, 'ca.crt'), 'utf8');
  const certPem = await readFile(join(out, 'tls.crt'), 'utf8');
  t.equal(Buffer.from(first.stdout.trim(), 'base64').toString('utf8'), caPem, 'stdout is the base64 caBundle');
  t.equal(isSignedBy(certPem, caPem), true);
  t.match(new X509Certificate(certPem).subjectAltName, 'DNS:hs.platform.svc.cluster.local');
  for (const key of ['ca.key', 'tls.key']) t.equal((await stat(join(out, key))).mode & 0o777, 0o600, `${key} is 0600`);
  t.equal((await stat(join(out, 'tls.crt'))).mode & 0o777, 0o644, 'certificates are readable');

  // The remaining cases run in-process: same code, without a process start each.
  const errors = t.capture(console, 'error');
  t.capture(console, 'log');
  t.equal(await runCerts(['--out', out]), 1);
  t.match(errors().at(-1)?.args[0], /already exists; pass --force to replace the certificates/);
  t.equal(await readFile(join(out, 'ca.crt'), 'utf8'), caPem, 'nothing replaced');

  t.equal(await runCerts(['--out', out, '--force']), 0);
  t.not(await readFile(join(out, 'ca.crt'), 'utf8'), caPem, 'replaced with --force');

  t.equal(await runCerts(['--out', out, '--service', 'Bad_Name']), 2);
  t.match(errors().at(-1)?.args[0], /--service 'Bad_Name' is not a Service name/);
});

t.test('serve refuses to start without stores or a cluster, and says what to do', async (t) => {
  const result = await run(['serve', '--dev-certs', join(tmpdir(), 'unused')]);
  t.equal(result.code, 2);
  t.match(result.stderr, /pass --stores <file> to serve standalone/);

  const errors = t.capture(console, 'error');
  t.equal(await runServe(['--stores', 'x.yaml', '--dev-certs', 'd', '--keep-alive-timeout-ms', 'soon']), 2);
  t.match(errors().at(-1)?.args[0], /--keep-alive-timeout-ms: must be a whole number, got "soon"/);
  t.equal(await runServe(['--stores', 'x.yaml', '--dev-certs', 'd', '--default-store', 'v', '--default-store-kind', 'Vault']), 2);
  t.match(errors().at(-1)?.args[0], /--default-store-kind must be ClusterSecretStore or SecretStore/);
  t.equal(await runServe(['--stores', 'x.yaml', '--dev-certs', 'd', '--csi-provider', 'vaultt=openbao']), 2);
  t.match(errors().at(-1)?.args[0], /--csi-provider 'vaultt=openbao': unknown backend 'vaultt'/);
  t.equal(await runServe(['--stores', 'x.yaml', '--tls-cert-file', 'c']), 2);
  t.match(errors().at(-1)?.args[0], /--tls-cert-file and --tls-key-file are required/);
  t.equal(await runServe(['--stores', 'x.yaml', '--tls-auto']), 2);
  t.match(errors().at(-1)?.args[0], /--tls-auto needs a cluster; it cannot be used with --stores/);
  t.equal(await runServe(['--kubeconfig', 'k', '--tls-auto', '--dev-certs', 'd']), 2);
  t.match(errors().at(-1)?.args[0], /--tls-auto excludes --tls-cert-file, --tls-key-file and --dev-certs/);
  t.equal(await runServe(['--stores', 'x.yaml', '--dev-certs', 'd', '--orphan-grace-ms', '60000']), 2);
  t.match(errors().at(-1)?.args[0], /--orphan-grace-ms only applies to a cluster/);
  t.equal(await runServe(['--kubeconfig', 'k', '--tls-auto', '--orphan-grace-ms', 'later']), 2);
  t.match(errors().at(-1)?.args[0], /--orphan-grace-ms: must be a whole number, got "later"/);
});

t.test('chooseRuntime: --stores is standalone; a kubeconfig or in-cluster config is a cluster', async (t) => {
  const environment = (env: Record<string, string>, kubeconfigExists = false): Environment => ({
    env,
    fileExists: (path) => kubeconfigExists && path === '/home/u/.kube/config',
    homeDirectory: '/home/u',
  });
  t.same(chooseRuntime({ stores: 's.yaml' }, environment({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })), {
    mode: 'standalone',
    storesFile: 's.yaml',
    storesNamespace: 'default',
  });
  t.same(chooseRuntime({ kubeconfig: '/k' }, environment({})), { mode: 'cluster', kubeconfig: '/k' });
  t.same(chooseRuntime({}, environment({ KUBECONFIG: '/k' })), { mode: 'cluster' });
  t.same(chooseRuntime({}, environment({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })), { mode: 'cluster' });
  t.same(chooseRuntime({}, environment({}, true)), { mode: 'cluster' });
  t.throws(() => chooseRuntime({}, environment({})), /no stores to serve/);
  t.throws(() => chooseRuntime({ stores: 's', kubeconfig: 'k' }, environment({})), /exclude each other/);
  t.throws(() => chooseRuntime({ storesNamespace: 'x' }, environment({ KUBECONFIG: '/k' })), /only applies with --stores/);
});
