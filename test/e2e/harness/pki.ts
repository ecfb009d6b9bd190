// Throwaway PKI for one end-to-end run: a CA, serving certificates (API server, webhook) and
// client certificates (admin, controller-manager). Keys come from node:crypto (fast, native);
// node-forge builds and signs the certificates.
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { randomSerialNumber } from '../../../src/tls/certificates.ts';

export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends KeyPair {
  /** Issues a certificate signed by this CA. */
  issue(request: CertificateRequest): KeyPair;
}

export interface CertificateRequest {
  readonly commonName: string;
  /** Subject organisations; Kubernetes reads them as the client's groups. */
  readonly organizations?: readonly string[];
  /** DNS names and IP addresses for a serving certificate (a SAN is required: CN alone is not). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: 'server' | 'client';
}

const validityMs = 24 * 60 * 60 * 1000;

/** An RSA private key in PKCS#1 PEM (also what the API server takes for service-account keys). */
export function rsaKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

function newCertificate(keyPem: string, subject: forge.pki.CertificateField[]): {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
} {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // Positive and minimally encoded, as Go's x509 parser demands: the product's own serials.
  cert.serialNumber = randomSerialNumber();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + validityMs);
  cert.setSubject(subject);
  return { cert, key };
}

export function createCertificateAuthority(commonName = 'hybrid-secrets e2e CA'): CertificateAuthority {
  const keyPem = rsaKeyPem();
  const { cert, key } = newCertificate(keyPem, [{ name: 'commonName', value: commonName }]);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return loadCertificateAuthority(forge.pki.certificateToPem(cert), keyPem);
}

/** A CA from its PEM files (test files issue webhook certificates from the run's CA). */
export function loadCertificateAuthority(certPem: string, keyPem: string): CertificateAuthority {
  const cert = forge.pki.certificateFromPem(certPem);
  const key = forge.pki.privateKeyFromPem(keyPem);
  const issue = (request: CertificateRequest): KeyPair => {
    const leafKeyPem = rsaKeyPem();
    const subject: forge.pki.CertificateField[] = [
      ...(request.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
      { name: 'commonName', value: request.commonName },
    ];
    const leaf = newCertificate(leafKeyPem, subject).cert;
    leaf.setIssuer(cert.subject.attributes);
    const altNames = [
      ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
      ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ];
    leaf.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      {
        name: 'extKeyUsage',
        serverAuth: request.usage === 'server',
        clientAuth: request.usage === 'client',
      },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
      { name: 'authorityKeyIdentifier', keyIdentifier: cert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    leaf.sign(key, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(leaf), keyPem: leafKeyPem };
  };

  return { certPem, keyPem, issue };
}
