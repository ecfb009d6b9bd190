import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createWebhookCertificates, type WebhookCertificates } from '../../../src/tls/certificates.ts';
import { FileTlsSource, readMaterial } from '../../../src/tls/reloader.ts';
import { TlsMaterialHolder, type TlsMaterial } from '../../../src/tls/source.ts';

const now = new Date();
const first = await createWebhookCertificates({ service: 'a', namespace: 'x', now });
const second = await createWebhookCertificates({ service: 'b', namespace: 'x', now });

function recordingLog() {
  const lines: { level: string; fields: object; message: string }[] = [];
  return {
    lines,
    info: (fields: object, message: string) => lines.push({ level: 'info', fields, message }),
    warn: (fields: object, message: string) => lines.push({ level: 'warn', fields, message }),
  };
}

async function directoryWith(certificates: WebhookCertificates): Promise<{ dir: string; certFile: string; keyFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hybrid-secrets-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(keyFile, certificates.serving.keyPem);
  await writeFile(certFile, certificates.serving.certPem);
  return { dir, certFile, keyFile };
}

function nextMaterial(source: { subscribe(listener: (material: TlsMaterial) => void): () => void }): Promise<TlsMaterial> {
  return new Promise((resolve) => {
    const stop = source.subscribe((material) => {
      stop();
      resolve(material);
    });
  });
}

t.test('readMaterial names the flag and file it cannot read, and refuses a mismatched pair', async (t) => {
  const { dir, certFile, keyFile } = await directoryWith(first);
  await t.rejects(readMaterial(join(dir, 'missing.crt'), keyFile), /cannot read --tls-cert-file .*missing\.crt: ENOENT/);
  await t.rejects(readMaterial(certFile, join(dir, 'missing.key')), /cannot read --tls-key-file .*missing\.key: ENOENT/);
  await writeFile(keyFile, second.serving.keyPem);
  await t.rejects(readMaterial(certFile, keyFile), /do not form a usable pair/);
  await writeFile(certFile, 'not a certificate');
  await t.rejects(readMaterial(certFile, keyFile), /do not form a usable pair/);
});

t.test('reload takes new files, ignores unchanged ones, and keeps the old pair while a rotation is half-written', async (t) => {
  const { certFile, keyFile } = await directoryWith(first);
  const log = recordingLog();
  // No watch: this test decides when reloads happen.
  const source = await FileTlsSource.open({ certFile, keyFile, log, pollIntervalMs: 0, watch: false });
  t.teardown(() => source.close());
  t.equal(source.current()?.cert, first.serving.certPem);
  t.equal(await source.reload(), false, 'unchanged files');

  const seen: TlsMaterial[] = [];
  source.subscribe((material) => seen.push(material));
  await writeFile(certFile, second.serving.certPem); // the key still belongs to the first certificate
  t.equal(await source.reload(), false, 'a half-written rotation is not taken');
  t.equal(source.current()?.cert, first.serving.certPem, 'still serving the old pair');
  t.match(log.lines.at(-1), { level: 'warn', message: /keeping the current certificate/ });

  await writeFile(keyFile, second.serving.keyPem);
  t.equal(await source.reload(), true);
  t.equal(source.current()?.cert, second.serving.certPem);
  t.equal(seen.at(-1)?.key, second.serving.keyPem, 'subscribers hear about it');
  t.match(log.lines.at(-1), { level: 'info', message: 'TLS certificate reloaded' });
});

t.test('open fails clearly when the files are unusable', async (t) => {
  const { certFile, keyFile } = await directoryWith(first);
  await writeFile(keyFile, second.serving.keyPem);
  await t.rejects(FileTlsSource.open({ certFile, keyFile, log: recordingLog(), pollIntervalMs: 0 }), /do not form a usable pair/);
});

t.test('a mounted-Secret style update (symlink swap in the directory) is picked up through the watch', async (t) => {
  // Kubernetes' atomic writer: files are links through ..data to a timestamped directory, and an
  // update renames a new ..data link over the old one.
  const dir = await mkdtemp(join(tmpdir(), 'hybrid-secrets-secret-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const writeVersion = async (name: string, certificates: WebhookCertificates): Promise<void> => {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'tls.key'), certificates.serving.keyPem);
    await writeFile(join(dir, name, 'tls.crt'), certificates.serving.certPem);
  };
  await writeVersion('..2026_01', first);
  await symlink('..2026_01', join(dir, '..data'));
  await symlink('..data/tls.crt', join(dir, 'tls.crt'));
  await symlink('..data/tls.key', join(dir, 'tls.key'));

  const source = await FileTlsSource.open({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    log: recordingLog(),
    pollIntervalMs: 0,
  });
  t.teardown(() => source.close());
  t.equal(source.current()?.cert, first.serving.certPem);

  const changed = nextMaterial(source);
  await writeVersion('..2026_02', second);
  await symlink('..2026_02', join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  t.equal((await changed).cert, second.serving.certPem);
  t.equal(source.current()?.key, second.serving.keyPem);
});

t.test('TlsMaterialHolder: refuses an unusable pair, ignores a repeat, tells subscribers once', async (t) => {
  const holder = new TlsMaterialHolder();
  t.equal(holder.current(), undefined);
  let calls = 0;
  const stop = holder.subscribe(() => calls++);
  const material = { cert: first.serving.certPem, key: first.serving.keyPem };
  holder.set(material);
  holder.set({ ...material });
  t.equal(calls, 1);
  t.throws(() => holder.set({ cert: first.serving.certPem, key: second.serving.keyPem }));
  t.equal(holder.current()?.key, first.serving.keyPem, 'kept the usable pair');
  stop();
  holder.set({ cert: second.serving.certPem, key: second.serving.keyPem });
  t.equal(calls, 1, 'no calls after unsubscribing');
  t.throws(() => new TlsMaterialHolder({ cert: 'x', key: 'y' }));
});
