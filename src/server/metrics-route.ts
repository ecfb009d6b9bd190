// GET /metrics in the Prometheus text format, from this app's own registry.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
