// The baseline of the admission benchmark: a bare fastify HTTPS server that parses the same
// AdmissionReview bodies and answers `allowed: true`. Same TLS, body limit and keep-alive as the
// webhook, so the gap between the two is what hybrid-secrets itself costs.
import fastify, { type FastifyInstance } from 'fastify';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';

export interface BaselineOptions {
  readonly serving: CertificateKeyPair;
  readonly bodyLimitBytes: number;
  readonly keepAliveTimeoutMs: number;
}

export function buildBaselineApp(options: BaselineOptions): FastifyInstance {
  const app = fastify({
    https: { cert: options.serving.certPem, key: options.serving.keyPem, minVersion: 'TLSv1.2' },
    bodyLimit: options.bodyLimitBytes,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    logger: false,
  });
  app.post('/mutate', async (request) => {
    const review = request.body as { apiVersion?: string; request?: { uid?: string } } | undefined;
    return {
      apiVersion: review?.apiVersion ?? 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: review?.request?.uid ?? '', allowed: true },
    };
  });
  return app;
}
