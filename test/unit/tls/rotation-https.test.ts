// Self-managed TLS behind the real admission server over HTTPS: a replica starts with no
// certificate, serves the one the elected replica issues, and switches to a re-issued one
// without a restart, while clients that trust the published caBundle keep getting answers.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { TLS_SECRET_KEYS, splitPemBundle } from '../../../src/tls/rotation.ts';
import { startSelfManagedTlsWith, type Leadership } from '../../../src/tls/self-managed.ts';
import { EXAMPLE_REVIEWS, send, startServer } from '../../integration/fixtures/https.ts';
import { FakeClock, silentLogger } from '../kube/fakes.ts';
import { FakePublisher, FakeSecretStore } from './rotation-fakes.ts';

// Certificates are made with real RSA keys: slow on a busy machine.
t.setTimeout(180_000);

const leading: Leadership = { isLeader: () => true, onStartedLeading: () => () => {} };

async function until(condition: () => boolean): Promise<boolean> {
  for (const end = Date.now() + 20_000; !condition() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

const fingerprint = (pem: string | undefined): string => new X509Certificate(pem ?? '').fingerprint256;

t.test('serves the issued certificate, then a re-issued one, without a restart', async (t) => {
  const clock = new FakeClock(Date.now());
  const secrets = new FakeSecretStore();
  const bundle = new FakePublisher();
  const tls = startSelfManagedTlsWith({ secrets, bundle }, { namespace: 'hybrid-secrets', leadership: leading, clock, log: silentLogger });
  t.teardown(() => tls.stop());
  const server = await startServer({ tls: tls.source });
  t.teardown(() => server.app.close());
  const body = await readFile(`${EXAMPLE_REVIEWS}pod-create.json`, 'utf8');

  t.ok(await until(() => tls.source.current() !== undefined), 'a certificate arrives without a restart');
  const first = await send(server.port, body, { ca: splitPemBundle(bundle.bundle!) });
  t.equal(first.statusCode, 200, 'the API server, trusting the published caBundle, gets an answer');
  t.equal(first.certificateFingerprint, fingerprint(secrets.data[TLS_SECRET_KEYS.cert]));

  // Force a rotation: the elected replica starts over on its next check.
  secrets.data = {};
  await clock.advance(60_000);
  t.ok(await until(() => secrets.data[TLS_SECRET_KEYS.cert] !== undefined && tls.source.current()?.cert === secrets.data[TLS_SECRET_KEYS.cert]), 're-issued and loaded');
  const trusted = splitPemBundle(bundle.bundle!);
  t.equal(trusted.length, 2, 'old and new CA published');
  const second = await send(server.port, body, { ca: trusted });
  t.equal(second.statusCode, 200);
  t.equal(second.certificateFingerprint, fingerprint(secrets.data[TLS_SECRET_KEYS.cert]), 'new connections get the new certificate');
  t.not(second.certificateFingerprint, first.certificateFingerprint);

  await clock.advance(5 * 60_000);
  t.ok(await until(() => splitPemBundle(bundle.bundle ?? '').length === 1), 'the old CA is retired');
  const third = await send(server.port, body, { ca: splitPemBundle(bundle.bundle!) });
  t.equal(third.statusCode, 200, 'the new CA alone verifies what is served');
});
