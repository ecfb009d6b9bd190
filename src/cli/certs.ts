// `hybrid-secrets certs`: a CA and a serving certificate for the webhook Service (and for
// localhost), written to a directory; prints the caBundle for the webhook configuration.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDnsLabel } from '../contract/rules.ts';
import { caBundle, createWebhookCertificates, type WebhookCertificates } from '../tls/certificates.ts';
import { writeFileAtomically } from './files.ts';
import { parseCommandFlags, UsageError } from './flags.ts';

/** File names inside the output directory (the names a kubernetes.io/tls Secret uses, plus the CA). */
export const CERT_FILES = Object.freeze({
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
});

const USAGE = `usage: hybrid-secrets certs --out <dir> [flags]

Creates a certificate authority and a serving certificate for the webhook Service, valid for
<svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local, localhost and 127.0.0.1.
Writes ${CERT_FILES.caCert}, ${CERT_FILES.caKey}, ${CERT_FILES.cert} and ${CERT_FILES.key} (keys readable by the owner only)
and prints the base64 caBundle for the MutatingWebhookConfiguration.

flags:
      --out <dir>          directory to write to (created if missing; required)
      --service <name>     webhook Service name (default: hybrid-secrets)
      --namespace <ns>     webhook Service namespace (default: hybrid-secrets)
      --force              replace certificates that already exist
  -h, --help               show this help`;

export async function runCerts(argv: string[]): Promise<number> {
  const usageError = (message: string): number => {
    console.error(`hybrid-secrets certs: ${message}\n\n${USAGE}`);
    return 2;
  };
  let values;
  try {
    values = parseCommandFlags(argv, {
      out: { type: 'string' },
      service: { type: 'string', default: 'hybrid-secrets' },
      namespace: { type: 'string', default: 'hybrid-secrets' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(error.message);
  }
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined || values.out === '') return usageError('--out is required');
  if (!isDnsLabel(values.service)) return usageError(`--service '${values.service}' is not a Service name`);
  if (!isDnsLabel(values.namespace)) return usageError(`--namespace '${values.namespace}' is not a namespace name`);

  try {
    const certificates = await createWebhookCertificates({ service: values.service, namespace: values.namespace, now: new Date() });
    await writeCertificateFiles(values.out, certificates, { overwrite: values.force });
    console.error(`wrote ${Object.values(CERT_FILES).map((name) => join(values.out ?? '', name)).join(', ')}`);
    console.error('caBundle (base64 of the CA certificate) for the webhook configuration:');
    console.log(caBundle(certificates.ca.certPem));
    return 0;
  } catch (error) {
    console.error(`hybrid-secrets certs: ${(error as Error).message}`);
    return 1;
  }
}

/**
 * Writes the four files. Refuses (touching nothing) when any exists unless `overwrite`, so an
 * existing CA is never replaced by accident. Each file is written to a temporary name and
 * renamed, so a reader never sees half a file; keys are created owner-only (0600).
 */
export async function writeCertificateFiles(
  directory: string,
  certificates: WebhookCertificates,
  options: { readonly overwrite: boolean },
): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o755 });
  // Keys first, so a file watcher that reacts to the certificate finds its key already there.
  const files: [name: string, content: string, mode: number][] = [
    [CERT_FILES.caKey, certificates.ca.keyPem, 0o600],
    [CERT_FILES.key, certificates.serving.keyPem, 0o600],
    [CERT_FILES.caCert, certificates.ca.certPem, 0o644],
    [CERT_FILES.cert, certificates.serving.certPem, 0o644],
  ];
  if (!options.overwrite) {
    for (const [name] of files) {
      if (await exists(join(directory, name))) {
        throw new Error(`${join(directory, name)} already exists; pass --force to replace the certificates`);
      }
    }
  }
  for (const [name, content, mode] of files) await writeFileAtomically(join(directory, name), content, mode);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

