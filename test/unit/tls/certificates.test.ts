import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { createServer } from 'node:https';
import t from 'tap';
import {
  caBundle,
  createCertificateAuthority,
  createServingCertificate,
  createWebhookCertificates,
  describeCertificate,
  isSignedBy,
  randomSerialNumber,
  serviceSubjectAltNames,
} from '../../../src/tls/certificates.ts';

const now = new Date('2026-03-01T12:00:00Z');
const DAY_MS = 24 * 60 * 60 * 1000;

t.test('serial numbers are positive, minimally encoded DER integers (Go rejects others)', async (t) => {
  for (let i = 0; i < 5000; i++) {
    const serial = randomSerialNumber();
    const first = Number.parseInt(serial.slice(0, 2), 16);
    if (serial.length !== 32 || first < 0x01 || first > 0x7f) {
      t.fail(`serial ${serial} would be negative or carry a leading zero byte`);
      return;
    }
  }
  t.pass('5000 serials checked');
});

t.test('service SANs cover every name the API server may use, plus loopback', async (t) => {
  t.same(serviceSubjectAltNames('hs', 'sys'), [
    'hs',
    'hs.sys',
    'hs.sys.svc',
    'hs.sys.svc.cluster.local',
    'localhost',
    '127.0.0.1',
  ]);
});

t.test('webhook certificates: a CA and a serving certificate it signed', async (t) => {
  const { ca, serving } = await createWebhookCertificates({ service: 'hs', namespace: 'sys', now });
  const caInfo = describeCertificate(ca.certPem);
  t.equal(caInfo.isCertificateAuthority, true);
  t.equal(caInfo.subject, caInfo.issuer, 'the CA is self-signed');
  t.equal(isSignedBy(ca.certPem, ca.certPem), true);

  const info = describeCertificate(serving.certPem);
  t.equal(info.isCertificateAuthority, false);
  t.equal(info.issuer, caInfo.subject);
  t.same(info.dnsNames, ['hs', 'hs.sys', 'hs.sys.svc', 'hs.sys.svc.cluster.local', 'localhost']);
  t.same(info.ipAddresses, ['127.0.0.1']);
  t.equal(isSignedBy(serving.certPem, ca.certPem), true);
  t.match(serving.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  t.ok(info.notBefore.getTime() <= now.getTime(), 'valid from now (allowing for clock skew)');
  t.equal(info.notAfter.getTime(), now.getTime() + 365 * DAY_MS);
});

t.test('a serving certificate from another CA is not signed by this one', async (t) => {
  const a = await createWebhookCertificates({ service: 'a', namespace: 'x', now });
  const b = await createWebhookCertificates({ service: 'b', namespace: 'x', now });
  t.equal(isSignedBy(a.serving.certPem, b.ca.certPem), false);
});

t.test('a serving certificate never outlives its CA', async (t) => {
  const ca = await createCertificateAuthority({ commonName: 'short CA', now, validityMs: 10 * DAY_MS });
  const serving = await createServingCertificate(ca, {
    commonName: 'svc',
    subjectAltNames: ['svc'],
    now,
    validityMs: 365 * DAY_MS,
  });
  t.equal(describeCertificate(serving.certPem).notAfter.getTime(), now.getTime() + 10 * DAY_MS);
  await t.rejects(
    createServingCertificate(ca, { commonName: 'svc', subjectAltNames: ['svc'], now: new Date(now.getTime() + 11 * DAY_MS) }),
    /certificate authority has expired/,
  );
  await t.rejects(createServingCertificate(ca, { commonName: 'svc', subjectAltNames: [], now }), /subject alternative name/);
});

t.test('IPv6 addresses become IP SANs', async (t) => {
  const ca = await createCertificateAuthority({ commonName: 'CA', now });
  const serving = await createServingCertificate(ca, { commonName: 'x', subjectAltNames: ['::1', 'x.example'], now });
  const info = describeCertificate(serving.certPem);
  t.same(info.dnsNames, ['x.example']);
  t.same(info.ipAddresses, ['0:0:0:0:0:0:0:1']);
});

t.test('caBundle is the CA PEM in base64', async (t) => {
  t.equal(Buffer.from(caBundle('-----BEGIN CERTIFICATE-----\nabc\n'), 'base64').toString(), '-----BEGIN CERTIFICATE-----\nabc\n');
});

t.test('a TLS client that trusts only the CA accepts the serving certificate for localhost', async (t) => {
  // Real time here: the TLS stack checks validity against the system clock.
  const { ca, serving } = await createWebhookCertificates({ service: 'hs', namespace: 'sys', now: new Date() });
  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  for (const servername of ['localhost', 'hs.sys.svc']) {
    const socket = connect({ host: '127.0.0.1', port, servername, ca: ca.certPem });
    await once(socket, 'secureConnect');
    t.equal(socket.authorized, true, `verified for ${servername}`);
    socket.destroy();
  }
  const stranger = connect({ host: '127.0.0.1', port, servername: 'other.example', ca: ca.certPem, rejectUnauthorized: false });
  await once(stranger, 'secureConnect');
  t.equal(stranger.authorized, false, 'a name outside the SANs is not verified');
  t.match(String(stranger.authorizationError), /ERR_TLS_CERT_ALTNAME_INVALID|altname/i);
  stranger.destroy();
});
