// A certificate rotated on disk while clients keep connecting: new connections get the new
// certificate, open connections keep theirs, and no request fails.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import t from 'tap';
import { writeCertificateFiles } from '../../src/cli/certs.ts';
import { FileTlsSource } from '../../src/tls/reloader.ts';
import type { TlsMaterial } from '../../src/tls/source.ts';
import { captureLogger } from '../unit/server/fixtures/reviews.ts';
import { EXAMPLE_REVIEWS, newCertificates, send, startServer, tlsDirectory } from './fixtures/https.ts';

const MAX_REQUESTS = 1_000;
const REQUESTS_BEFORE_SWAP = 10;
const REQUESTS_AFTER_SWAP = 20;

t.test('certificate swapped on disk under load', async (t) => {
  const files = await tlsDirectory();
  t.teardown(() => files.remove());
  const next = await newCertificates();
  const oldFingerprint = new X509Certificate(files.certificates.serving.certPem).fingerprint256;
  const newFingerprint = new X509Certificate(next.serving.certPem).fingerprint256;
  // Clients trust both CAs, as during a CA rollover where the caBundle carries old and new.
  const ca = [files.certificates.ca.certPem, next.ca.certPem];

  const source = await FileTlsSource.open({ ...files, log: captureLogger().logger, pollIntervalMs: 0 });
  t.teardown(() => source.close());
  const server = await startServer({ tls: source });
  t.teardown(() => server.app.close());
  const body = await readFile(`${EXAMPLE_REVIEWS}pod-create.json`, 'utf8');

  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => keepAlive.destroy());
  const early = await send(server.port, body, { ca, agent: keepAlive });
  t.equal(early.certificateFingerprint, oldFingerprint);

  let started = 0;
  let finished = 0;
  let startedWhenChanged = Infinity;
  const results: { index: number; fingerprint: string; status: number }[] = [];
  const failures: string[] = [];
  let reachedBeforeSwap!: () => void;
  const beforeSwap = new Promise<void>((resolve) => (reachedBeforeSwap = resolve));
  const changed = new Promise<TlsMaterial>((resolve) => {
    const stop = source.subscribe((material) => {
      startedWhenChanged = started;
      stop();
      resolve(material);
    });
  });

  const client = async (): Promise<void> => {
    while (started < MAX_REQUESTS && finished < startedWhenChanged + REQUESTS_AFTER_SWAP) {
      const index = started++;
      try {
        const answer = await send(server.port, body, { ca }); // a new connection every time
        results.push({ index, fingerprint: answer.certificateFingerprint, status: answer.statusCode });
      } catch (error) {
        failures.push(`request ${index}: ${(error as Error).message}`);
      }
      finished++;
      if (finished === REQUESTS_BEFORE_SWAP) reachedBeforeSwap();
    }
  };
  const clients = Promise.all([client(), client(), client()]);

  await beforeSwap;
  await writeCertificateFiles(files.directory, next, { overwrite: true });
  const material = await changed;
  t.equal(material.cert, next.serving.certPem, 'the watcher picked up the new pair');
  await clients;

  t.same(failures, [], 'no request failed');
  t.ok(results.every((result) => result.status === 200), 'every review answered');
  t.ok(results.some((result) => result.fingerprint === oldFingerprint), 'the old certificate was served before the swap');
  const afterChange = results.filter((result) => result.index >= startedWhenChanged);
  t.ok(afterChange.length >= REQUESTS_AFTER_SWAP, 'requests kept coming after the swap');
  t.same(
    afterChange.filter((result) => result.fingerprint !== newFingerprint),
    [],
    'every connection opened after the change event got the new certificate',
  );

  const reused = await send(server.port, body, { ca, agent: keepAlive });
  t.equal(reused.statusCode, 200);
  t.equal(reused.certificateFingerprint, oldFingerprint, 'a connection opened before the swap keeps its certificate');
  t.equal((server.app.server as unknown as { minVersion?: string }).minVersion, 'TLSv1.2', 'still TLS 1.2 minimum');
});
