// Certificate authority and serving certificates for the webhook's HTTPS endpoint.
// Used by `hybrid-secrets certs` (local development), by the test suites, and by the
// self-managed TLS mode that rotates certificates in a cluster. Keys are generated with
// node:crypto (native and fast); node-forge builds and signs the X.509 certificates.
// Time comes in as `now` so callers (and tests) decide what "now" is.
import { X509Certificate, generateKeyPair, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start slightly in the past so a client whose clock lags accepts them at once. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const RSA_KEY_BITS = 2048;

export const DEFAULT_CA_VALIDITY_MS = 5 * 365 * DAY_MS;
/** Below the 397 days clients accept for publicly trusted certificates; rotation renews earlier. */
export const DEFAULT_SERVING_VALIDITY_MS = 365 * DAY_MS;

/** A certificate and its private key, both PEM. */
export interface CertificateKeyPair {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

export interface CertificateAuthorityOptions {
  readonly commonName: string;
  readonly now: Date;
  readonly validityMs?: number;
}

export interface ServingCertificateOptions {
  readonly commonName: string;
  /** Subject alternative names: DNS names and IP addresses (v4 or v6), told apart by form. */
  readonly subjectAltNames: readonly string[];
  readonly now: Date;
  readonly validityMs?: number;
}

/** What a caller needs to decide whether a certificate is still fit (e.g. due for rotation). */
export interface CertificateDescription {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly isCertificateAuthority: boolean;
}

/**
 * The names the API server may use to reach a webhook behind a Service, plus the loopback
 * names for trying it locally. The API server checks the SAN; a CN alone is rejected.
 */
export function serviceSubjectAltNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    'localhost',
    '127.0.0.1',
  ];
}

export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateKeyPair> {
  const keys = await generateRsaKeys();
  const cert = newCertificate(keys.publicKey, options.now, options.validityMs ?? DEFAULT_CA_VALIDITY_MS);
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** A TLS server certificate for `subjectAltNames`, signed by `ca`. */
export async function createServingCertificate(
  ca: CertificateKeyPair,
  options: ServingCertificateOptions,
): Promise<CertificateKeyPair> {
  if (options.subjectAltNames.length === 0) {
    throw new Error('a serving certificate needs at least one subject alternative name');
  }
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = await generateRsaKeys();
  const caNotAfterMs = caCert.validity.notAfter.getTime();
  // Never outlive the issuer: a chain is only as valid as its shortest-lived link.
  const validityMs = Math.min(
    options.validityMs ?? DEFAULT_SERVING_VALIDITY_MS,
    caNotAfterMs - options.now.getTime(),
  );
  if (validityMs <= 0) throw new Error('the certificate authority has expired');
  const cert = newCertificate(keys.publicKey, options.now, validityMs);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: options.subjectAltNames.map(toAltName) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

export function describeCertificate(certPem: string): CertificateDescription {
  const x509 = new X509Certificate(certPem);
  const altNames = parseSubjectAltNames(x509.subjectAltName);
  return {
    subject: x509.subject,
    issuer: x509.issuer,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    dnsNames: altNames.dnsNames,
    ipAddresses: altNames.ipAddresses,
    isCertificateAuthority: x509.ca,
  };
}

/** True when `certPem` was issued and signed by the certificate authority `caCertPem`. */
export function isSignedBy(certPem: string, caCertPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caCertPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** The `caBundle` field of a webhook configuration: the CA certificate PEM, base64. */
export function caBundle(caCertPem: string): string {
  return Buffer.from(caCertPem, 'utf8').toString('base64');
}

interface RsaKeys {
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly privateKey: forge.pki.rsa.PrivateKey;
  readonly privateKeyPem: string;
}

async function generateRsaKeys(): Promise<RsaKeys> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    privateKeyPem: privateKey,
  };
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, now: Date, validityMs: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityMs);
  return cert;
}

/**
 * 126 random bits as a 16-byte DER integer whose first byte is 0x40–0x7f: positive (top bit
 * clear) and minimally encoded (never a leading zero byte). Go's x509 parser, and so the API
 * server calling the webhook, rejects a negative or non-minimal serial as malformed.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = 0x40 | ((bytes[0] ?? 0) & 0x3f);
  return bytes.toString('hex');
}

function toAltName(name: string): { type: number; value?: string; ip?: string } {
  // GeneralName tags (RFC 5280): 2 = dNSName, 7 = iPAddress.
  return isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name };
}

function parseSubjectAltNames(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of (text ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) dnsNames.push(entry.slice('DNS:'.length));
    else if (entry.startsWith('IP Address:')) ipAddresses.push(entry.slice('IP Address:'.length));
  }
  return { dnsNames, ipAddresses };
}

export interface WebhookCertificates {
  readonly ca: CertificateKeyPair;
  readonly serving: CertificateKeyPair;
}

/** A fresh CA and a serving certificate for the webhook Service `service` in `namespace`. */
export async function createWebhookCertificates(options: {
  readonly service: string;
  readonly namespace: string;
  readonly now: Date;
  readonly caValidityMs?: number;
  readonly servingValidityMs?: number;
}): Promise<WebhookCertificates> {
  const ca = await createCertificateAuthority({
    commonName: `${options.service}.${options.namespace} webhook CA`,
    now: options.now,
    validityMs: options.caValidityMs,
  });
  const serving = await createServingCertificate(ca, {
    commonName: `${options.service}.${options.namespace}.svc`,
    subjectAltNames: serviceSubjectAltNames(options.service, options.namespace),
    now: options.now,
    validityMs: options.servingValidityMs,
  });
  return { ca, serving };
}
