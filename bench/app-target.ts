// The webhook as the benchmark runs it: the real fastify app and admission handler over the
// stores file, with the writer the target names. Imported by bench/target.ts for app targets
// only, so the baseline process loads none of these modules.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { planInjection } from '../src/core/plan.ts';
import type { GeneratedObjectWriter } from '../src/core/types.ts';
import { createMetrics } from '../src/metrics.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../src/providers/index.ts';
import { createAdmissionHandler } from '../src/server/admission.ts';
import { buildApp } from '../src/server/app.ts';
import type { ServerOptions } from '../src/server/options.ts';
import { loadStoreCatalogFile } from '../src/stores/catalog.ts';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import { TlsMaterialHolder } from '../src/tls/source.ts';
import { startFakeCluster } from './fake-cluster.ts';
import type { Target } from './report.ts';

export interface WebhookTargetOptions {
  readonly target: Exclude<Target, 'baseline'>;
  readonly serving: CertificateKeyPair;
  readonly storesFile: string;
  readonly server: ServerOptions;
}

export async function buildWebhookApp(options: WebhookTargetOptions): Promise<FastifyInstance> {
  const catalog = await loadStoreCatalogFile(options.storesFile, { defaultNamespace: 'default' });
  const config = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  return buildApp({
    admission: createAdmissionHandler({
      plan: (target) => planInjection(target, catalog, config),
      writer: await buildWriter(options.target),
      apiDeadlineMs: options.server.apiDeadlineMs,
    }),
    tls: new TlsMaterialHolder({ cert: options.serving.certPem, key: options.serving.keyPem }),
    runtimeReady: () => true,
    metrics: createMetrics(),
    // As in production: one info line per review, to stdout (the parent discards it).
    logger: pino({ level: 'info' }),
    server: options.server,
  });
}

async function buildWriter(target: WebhookTargetOptions['target']): Promise<GeneratedObjectWriter> {
  switch (target) {
    case 'app':
      throw new Error('the standalone writer is not wired yet');
    case 'app+kube-writer':
      // The cluster writer over in-memory caches: the first review of a spec applies (to the
      // fake API), every later one finds the same hash in the cache and writes nothing.
      return (await startFakeCluster()).writer;
  }
}
