// Liveness and readiness. Alive means the process answers HTTP; ready means a review would
// be answered correctly: a certificate is loaded and everything the handler reads is loaded.
import type { FastifyInstance } from 'fastify';

export interface ReadinessCheck {
  readonly name: string;
  readonly ready: () => boolean;
}

export function registerHealthRoutes(app: FastifyInstance, checks: readonly ReadinessCheck[]): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const failing = checks.filter((check) => !check.ready()).map((check) => check.name);
    if (failing.length > 0) return reply.code(503).send({ status: 'not ready', failing });
    return { status: 'ready' };
  });
}
