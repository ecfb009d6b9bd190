// The webhook as the benchmark runs it. Imported by bench/target.ts for webhook targets only,
// so the baseline process loads none of these modules.
// - `app`: the shipped `serve` command in standalone mode (stores file, writer that logs),
//   started in this process exactly as `hybrid-secrets serve --stores … --tls-cert-file …`.
// - `app+kube-writer`: the same app and handler assembled as `serve` does, with the cluster
//   writer over in-memory caches and a fake API: the first review of a spec applies, every
//   later one finds the same hash in the cache and writes nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openServeLogger } from '../src/cli/logger.ts';
import { buildWebhookApp, runServe } from '../src/cli/serve.ts';
import { createMetrics } from '../src/metrics.ts';
import { DEFAULT_CSI_PROVIDER_NAMES } from '../src/providers/index.ts';
import type { ServerOptions } from '../src/server/options.ts';
import { loadStoreCatalogFile } from '../src/stores/catalog.ts';
import type { CertificateKeyPair } from '../src/tls/certificates.ts';
import { TlsMaterialHolder } from '../src/tls/source.ts';
import { SERVER_NAME } from './load.ts';
import type { Target } from './report.ts';
import type { RunningTarget } from './target.ts';

export interface WebhookTargetOptions {
  readonly target: Exclude<Target, 'baseline'>;
  readonly serving: CertificateKeyPair;
  readonly caPem: string;
  readonly storesFile: string;
  readonly server: ServerOptions;
  /** For `other-app`: the checkout whose `src/cli/serve.ts` to run. */
  readonly compareWith?: string;
}

type RunServe = (argv: string[]) => Promise<number>;

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

export async function startWebhook(options: WebhookTargetOptions): Promise<RunningTarget> {
  switch (options.target) {
    case 'app':
      return startServeCommand(options, runServe);
    case 'other-app':
      return startServeCommand(options, await otherRunServe(options.compareWith));
    case 'app+kube-writer':
      return startWithKubeWriter(options);
  }
}

/** `runServe` of another checkout; `serve`'s command line is the interface the two share. */
async function otherRunServe(checkout: string | undefined): Promise<RunServe> {
  if (checkout === undefined) throw new Error('other-app needs --compare-with');
  const module = join(resolve(checkout), 'src', 'cli', 'serve.ts');
  const loaded = (await import(pathToFileURL(module).href)) as { runServe?: RunServe };
  if (typeof loaded.runServe !== 'function') throw new Error(`${module} does not export runServe`);
  return loaded.runServe;
}

async function startServeCommand(options: WebhookTargetOptions, runServe: RunServe): Promise<RunningTarget> {
  const directory = await mkdtemp(join(tmpdir(), 'hybrid-secrets-bench-'));
  const certFile = join(directory, 'tls.crt');
  const keyFile = join(directory, 'tls.key');
  await writeFile(certFile, options.serving.certPem);
  await writeFile(keyFile, options.serving.keyPem, { mode: 0o600 });
  const port = await freePort(options.server.host);
  const served = runServe(['--stores', options.storesFile, '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--host', options.server.host, '--port', String(port)]);
  let exitCode: number | undefined;
  void served.then((code) => (exitCode = code));
  const deadlineMs = Date.now() + READY_TIMEOUT_MS;
  while (!(await isReady(port, options.caPem))) {
    if (exitCode !== undefined) throw new Error(`serve exited with code ${exitCode} before it was ready`);
    if (Date.now() > deadlineMs) throw new Error(`serve was not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  return {
    port,
    stop: async () => {
      // serve drains and returns on SIGTERM, as in a pod being stopped.
      process.kill(process.pid, 'SIGTERM');
      await served;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function startWithKubeWriter(options: WebhookTargetOptions): Promise<RunningTarget> {
  const catalog = await loadStoreCatalogFile(options.storesFile, { defaultNamespace: 'default' });
  const config = { csiProviderNames: DEFAULT_CSI_PROVIDER_NAMES };
  // Imported here: only this target needs the fake cluster.
  const { startFakeCluster } = await import('./fake-cluster.ts');
  const cluster = await startFakeCluster();
  // As `serve` logs: one info line per review to stdout (the parent discards it).
  const logger = openServeLogger('info');
  const app = buildWebhookApp(
    { catalog, writer: cluster.writer, isReady: () => true },
    {
      config,
      server: options.server,
      tls: new TlsMaterialHolder({ cert: options.serving.certPem, key: options.serving.keyPem }),
      metrics: createMetrics({ processMetrics: true }),
      logger: logger.log,
    },
  );
  await app.listen({ host: options.server.host, port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('webhook has no TCP address');
  return {
    port: address.port,
    stop: async () => {
      await app.close();
      await cluster.stop();
      logger.close();
    },
  };
}

/** A port nobody listens on right now (loopback only; the window before serve binds is tiny). */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function isReady(port: number, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', servername: SERVER_NAME, ca: caPem, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
