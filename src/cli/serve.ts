// `hybrid-secrets serve`: the admission webhook over HTTPS, standalone on a stores file or
// against a cluster. Flags are validated once (errors name the flag); SIGTERM/SIGINT drain.
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { planInjection } from '../core/plan.ts';
import type { InjectionConfig, Runtime } from '../core/types.ts';
import { systemClock } from '../kube/clock.ts';
import type { LeaderElector } from '../kube/leader.ts';
import { DEFAULT_ORPHAN_GRACE_MS, startKubeRuntime } from '../kube/runtime.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import { startStandaloneRuntime } from '../runtime/standalone.ts';
import { createAdmissionHandler } from '../server/admission.ts';
import { MUTATE_PATH, buildApp } from '../server/app.ts';
import {
  DEFAULT_SERVER_OPTIONS,
  OptionsError,
  SERVER_OPTION_FLAGS,
  parseIntegerFlag,
  resolveServerOptions,
  type ServerOptions,
} from '../server/options.ts';
import { createWebhookCertificates, describeCertificate } from '../tls/certificates.ts';
import { TLS_SECRET_NAME } from '../tls/kube.ts';
import { FileTlsSource } from '../tls/reloader.ts';
import { startSelfManagedTls } from '../tls/self-managed.ts';
import type { TlsSource } from '../tls/source.ts';
import { CERT_FILES, writeCertificateFiles } from './certs.ts';
import { parseCommandFlags, UsageError } from './flags.ts';
import { openServeLogger } from './logger.ts';
import { INJECTION_FLAG_OPTIONS, INJECTION_FLAG_USAGE, injectionConfigFromFlags } from './injection-flags.ts';

const d = DEFAULT_SERVER_OPTIONS;
const USAGE = `usage: hybrid-secrets serve [flags]

Serves the admission webhook (POST ${MUTATE_PATH}, GET /healthz, /readyz, /metrics) over HTTPS.

Where stores come from (one of):
      --stores <file>             standalone: SecretStore, ClusterSecretStore and Namespace documents
                                  from a file; generated objects are logged, not created
      --kubeconfig <file>         a cluster (also $KUBECONFIG, ~/.kube/config, or in-cluster config)
      --stores-namespace <ns>     standalone: namespace of SecretStores that name none (default: default)

TLS (one of):
      --tls-cert-file <file>      serving certificate (PEM); reloaded when it changes
      --tls-key-file <file>       its private key (PEM)
      --tls-auto                  cluster only: self-managed certificates kept in the Secret
                                  ${TLS_SECRET_NAME} of the webhook's namespace ($POD_NAMESPACE); the
                                  elected replica renews them and keeps the webhook's caBundle current
      --dev-certs <dir>           local development: use <dir>/${CERT_FILES.cert} and <dir>/${CERT_FILES.key}, creating a CA
                                  and a certificate for localhost there first when absent

Injection:
${INJECTION_FLAG_USAGE}

HTTP:
      --host <addr>               listen address (default: ${d.host})
      --port <n>                  listen port (default: ${d.port})
      --api-deadline-ms <n>       budget for creating generated objects per review (default: ${d.apiDeadlineMs})
      --orphan-grace-ms <n>       cluster only: unused generated objects are deleted after this
                                  (default: ${DEFAULT_ORPHAN_GRACE_MS})
      --body-limit-bytes <n>      largest accepted review (default: ${d.bodyLimitBytes})
      --keep-alive-timeout-ms <n> idle keep-alive connections close after this (default: ${d.keepAliveTimeoutMs})
      --headers-timeout-ms <n>    time to receive request headers (default: ${d.headersTimeoutMs})
      --request-timeout-ms <n>    time to receive a whole request (default: ${d.requestTimeoutMs})
      --shutdown-grace-ms <n>     on SIGTERM, time for in-flight reviews (default: ${d.shutdownGraceMs})
      --log-level <level>         fatal, error, warn, info, debug or trace (default: info)
  -h, --help                      show this help`;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

type TlsFlags =
  | { readonly mode: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly mode: 'dev'; readonly directory: string }
  | { readonly mode: 'auto' };

/** Where the Runtime comes from. */
export type RuntimeChoice =
  | { readonly mode: 'standalone'; readonly storesFile: string; readonly storesNamespace: string }
  | { readonly mode: 'cluster'; readonly kubeconfig?: string };

interface ServeFlags {
  readonly runtime: RuntimeChoice;
  readonly tls: TlsFlags;
  readonly server: ServerOptions;
  readonly config: InjectionConfig;
  readonly orphanGraceMs: number;
  readonly logLevel: string;
}

/** What the runtime choice looks at besides flags; injected so it can be tested. */
export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fileExists: (path: string) => boolean;
  readonly homeDirectory: string;
}

const processEnvironment = (): Environment => ({ env: process.env, fileExists: existsSync, homeDirectory: homedir() });

/**
 * `--stores` → standalone; a kubeconfig (`--kubeconfig`, $KUBECONFIG, ~/.kube/config) or
 * in-cluster configuration → cluster; neither → a message saying what to do.
 */
export function chooseRuntime(
  flags: { readonly stores?: string; readonly kubeconfig?: string; readonly storesNamespace?: string },
  environment: Environment,
): RuntimeChoice {
  if (flags.stores !== undefined) {
    if (flags.kubeconfig !== undefined) throw new UsageError('--stores and --kubeconfig exclude each other; pass one');
    if (flags.stores === '') throw new UsageError('--stores needs a file');
    return { mode: 'standalone', storesFile: flags.stores, storesNamespace: flags.storesNamespace ?? 'default' };
  }
  if (flags.storesNamespace !== undefined) throw new UsageError('--stores-namespace only applies with --stores');
  if (flags.kubeconfig !== undefined) return { mode: 'cluster', kubeconfig: flags.kubeconfig };
  const { env } = environment;
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') return { mode: 'cluster' };
  if (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== '') return { mode: 'cluster' };
  if (environment.fileExists(join(environment.homeDirectory, '.kube', 'config'))) return { mode: 'cluster' };
  throw new UsageError(
    'no stores to serve: pass --stores <file> to serve standalone (e.g. --stores examples/stores.yaml), ' +
      'or give a cluster with --kubeconfig <file>, $KUBECONFIG or ~/.kube/config, or run inside a cluster',
  );
}

/** Where the serving certificate comes from; stopped on shutdown. */
interface OpenTlsSource {
  readonly source: TlsSource;
  close(): void;
}

async function openTlsSource(flags: TlsFlags, started: StartedRuntime, log: Logger): Promise<OpenTlsSource> {
  if (flags.mode === 'auto') {
    const { cluster } = started;
    // parseFlags accepts --tls-auto only with a cluster.
    if (cluster === undefined) throw new Error('--tls-auto needs a cluster');
    const { kubeConfig, leaderElector } = cluster;
    const tls = startSelfManagedTls(kubeConfig, {
      namespace: webhookNamespace(),
      leadership: leaderElector,
      clock: systemClock,
      log: log.child({ component: 'tls' }),
    });
    return { source: tls.source, close: () => tls.stop() };
  }
  const files = flags.mode === 'dev' ? await ensureDevCertificates(flags.directory, log) : flags;
  const source = await FileTlsSource.open({ certFile: files.certFile, keyFile: files.keyFile, log });
  return { source, close: () => source.close() };
}

/** The webhook's own namespace (downward API), where its Lease and TLS Secret live. */
const webhookNamespace = (): string => process.env.POD_NAMESPACE ?? 'hybrid-secrets';

/** The Lease that elects the replica doing background work (the RBAC names it). */
const LEADER_LEASE_NAME = 'hybrid-secrets-leader';

/** The runtime, and for a cluster what self-managed TLS also needs. */
interface StartedRuntime {
  readonly runtime: Runtime;
  readonly cluster?: { readonly kubeConfig: KubeConfig; readonly leaderElector: LeaderElector };
}

async function startRuntime(
  choice: RuntimeChoice,
  deps: {
    readonly log: Logger;
    readonly metrics: Metrics;
    readonly config: InjectionConfig;
    readonly apiDeadlineMs: number;
    readonly orphanGraceMs: number;
  },
): Promise<StartedRuntime> {
  switch (choice.mode) {
    case 'standalone': {
      const runtime = await startStandaloneRuntime({ storesFile: choice.storesFile, defaultNamespace: choice.storesNamespace, log: deps.log });
      return { runtime };
    }
    case 'cluster': {
      const kubeConfig = new KubeConfig();
      // loadFromDefault: $KUBECONFIG, ~/.kube/config, else the in-cluster service account.
      if (choice.kubeconfig === undefined) kubeConfig.loadFromDefault();
      else kubeConfig.loadFromFile(choice.kubeconfig);
      // The Deployment passes its pod's name and namespace (downward API); a pod's hostname is its name.
      const lease = {
        namespace: webhookNamespace(),
        name: LEADER_LEASE_NAME,
        identity: process.env.POD_NAME ?? hostname(),
      };
      deps.log.info({ cluster: kubeConfig.getCurrentCluster()?.server, lease }, 'connecting to the cluster');
      const runtime = await startKubeRuntime(
        { kubeConfig, apiDeadlineMs: deps.apiDeadlineMs, orphanGraceMs: deps.orphanGraceMs, lease, injection: deps.config },
        { logger: deps.log, metrics: deps.metrics },
      );
      return { runtime, cluster: { kubeConfig, leaderElector: runtime.leaderElector } };
    }
  }
}

function parseFlags(argv: string[], environment: Environment): ServeFlags | 'help' {
  const values = parseCommandFlags(argv, {
    stores: { type: 'string' },
    'stores-namespace': { type: 'string' },
    kubeconfig: { type: 'string' },
    'tls-cert-file': { type: 'string' },
    'tls-key-file': { type: 'string' },
    'dev-certs': { type: 'string' },
    'tls-auto': { type: 'boolean' },
    'orphan-grace-ms': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'api-deadline-ms': { type: 'string' },
    'body-limit-bytes': { type: 'string' },
    'keep-alive-timeout-ms': { type: 'string' },
    'headers-timeout-ms': { type: 'string' },
    'request-timeout-ms': { type: 'string' },
    'shutdown-grace-ms': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    ...INJECTION_FLAG_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';

  const runtime = chooseRuntime(
    { stores: values.stores, kubeconfig: values.kubeconfig, storesNamespace: values['stores-namespace'] },
    environment,
  );

  let tls: TlsFlags;
  const certFile = values['tls-cert-file'];
  const keyFile = values['tls-key-file'];
  const devCerts = values['dev-certs'];
  if (values['tls-auto'] === true) {
    if (certFile !== undefined || keyFile !== undefined || devCerts !== undefined) {
      throw new UsageError('--tls-auto excludes --tls-cert-file, --tls-key-file and --dev-certs; pass one way');
    }
    if (runtime.mode !== 'cluster') throw new UsageError('--tls-auto needs a cluster; it cannot be used with --stores');
    tls = { mode: 'auto' };
  } else if (devCerts !== undefined) {
    if (certFile !== undefined || keyFile !== undefined) {
      throw new UsageError('--dev-certs excludes --tls-cert-file and --tls-key-file; pass one or the other');
    }
    tls = { mode: 'dev', directory: devCerts };
  } else {
    if (certFile === undefined || keyFile === undefined) {
      throw new UsageError(
        '--tls-cert-file and --tls-key-file are required (or --tls-auto in a cluster, or --dev-certs <dir> for local development)',
      );
    }
    tls = { mode: 'files', certFile, keyFile };
  }

  const logLevel = values['log-level'];
  if (!LOG_LEVELS.has(logLevel)) throw new UsageError(`--log-level must be one of ${[...LOG_LEVELS].join(', ')}`);

  try {
    const integer = (key: keyof ServerOptions, text: string | undefined): number | undefined =>
      text === undefined ? undefined : parseIntegerFlag(SERVER_OPTION_FLAGS[key], text);
    const server = resolveServerOptions({
      host: values.host,
      port: integer('port', values.port),
      apiDeadlineMs: integer('apiDeadlineMs', values['api-deadline-ms']),
      bodyLimitBytes: integer('bodyLimitBytes', values['body-limit-bytes']),
      keepAliveTimeoutMs: integer('keepAliveTimeoutMs', values['keep-alive-timeout-ms']),
      headersTimeoutMs: integer('headersTimeoutMs', values['headers-timeout-ms']),
      requestTimeoutMs: integer('requestTimeoutMs', values['request-timeout-ms']),
      shutdownGraceMs: integer('shutdownGraceMs', values['shutdown-grace-ms']),
    });
    const config = injectionConfigFromFlags(values);
    const orphanGraceText = values['orphan-grace-ms'];
    if (orphanGraceText !== undefined && runtime.mode !== 'cluster') {
      throw new UsageError('--orphan-grace-ms only applies to a cluster; it cannot be used with --stores');
    }
    const orphanGraceMs =
      orphanGraceText === undefined ? DEFAULT_ORPHAN_GRACE_MS : parseIntegerFlag('--orphan-grace-ms', orphanGraceText);
    return { runtime, tls, server, config, orphanGraceMs, logLevel };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Makes development certificates in `directory` when there are none; never replaces existing ones. */
async function ensureDevCertificates(directory: string, log: Logger): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(directory, CERT_FILES.cert);
  const keyFile = join(directory, CERT_FILES.key);
  if (!existsSync(certFile) && !existsSync(keyFile)) {
    const certificates = await createWebhookCertificates({ service: 'hybrid-secrets', namespace: 'hybrid-secrets', now: new Date() });
    await writeCertificateFiles(directory, certificates, { overwrite: false });
    log.info({ directory }, 'created development certificates');
  } else if (existsSync(certFile) && describeCertificate(readFileSync(certFile, 'utf8')).notAfter.getTime() < Date.now()) {
    throw new Error(`${certFile} has expired; delete ${directory} to have new development certificates made`);
  }
  return { certFile, keyFile };
}

export async function runServe(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, processEnvironment());
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof OptionsError)) throw error;
    console.error(`hybrid-secrets serve: ${error.message}\n\nRun 'hybrid-secrets serve --help' for the flags.`);
    return 2;
  }
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }
  const logger = openServeLogger(flags.logLevel);
  try {
    return await serve(flags, logger.log);
  } finally {
    logger.close();
  }
}

async function serve(flags: ServeFlags, log: Logger): Promise<number> {
  let runtime: Runtime | undefined;
  let tls: OpenTlsSource | undefined;
  const metrics = createMetrics({ processMetrics: true });
  try {
    const started = await startRuntime(flags.runtime, {
      log,
      metrics,
      config: flags.config,
      apiDeadlineMs: flags.server.apiDeadlineMs,
      orphanGraceMs: flags.orphanGraceMs,
    });
    runtime = started.runtime;
    tls = await openTlsSource(flags.tls, started, log);
  } catch (error) {
    log.fatal({ error: (error as Error).message }, 'cannot start');
    await runtime?.stop();
    return 1;
  }

  const app = buildWebhookApp(runtime, { config: flags.config, server: flags.server, tls: tls.source, metrics, logger: log });

  const signal = waitForSignal();
  try {
    await app.listen({ host: flags.server.host, port: flags.server.port });
  } catch (error) {
    log.fatal({ error: (error as Error).message }, 'cannot listen');
    tls.close();
    await runtime.stop();
    return 1;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : flags.server.port;
  log.info({ host: flags.server.host, port, mode: flags.runtime.mode }, 'serving admission reviews');
  if (flags.runtime.mode === 'standalone' && flags.tls.mode === 'dev') {
    console.error(tryItHint(port, flags.tls.directory));
  }

  const received = await signal.received;
  log.info({ signal: received }, 'shutting down: finishing in-flight reviews');
  // A second signal, or a drain that outlasts the grace period, ends the process at once.
  const forceExit = (reason: string): void => {
    log.warn({ reason }, 'shutdown cut short');
    process.exit(1);
  };
  process.once('SIGTERM', () => forceExit('second signal'));
  process.once('SIGINT', () => forceExit('second signal'));
  const graceTimer = setTimeout(() => forceExit(`grace period of ${flags.server.shutdownGraceMs} ms ran out`), flags.server.shutdownGraceMs);
  graceTimer.unref();
  await app.close();
  tls.close();
  await runtime.stop();
  clearTimeout(graceTimer);
  log.info('stopped');
  return 0;
}

/**
 * The admission app over a runtime's catalog and writer: the wiring `serve` runs, shared with the
 * HTTPS tests and the benchmark so that they exercise exactly this.
 */
export function buildWebhookApp(
  runtime: Pick<Runtime, 'catalog' | 'writer' | 'isReady'>,
  options: {
    readonly config: InjectionConfig;
    readonly server: ServerOptions;
    readonly tls: TlsSource;
    readonly metrics: Metrics;
    readonly logger: FastifyBaseLogger;
  },
): FastifyInstance {
  const { catalog } = runtime;
  const isReady = (): boolean => runtime.isReady();
  return buildApp({
    admission: createAdmissionHandler({
      plan: (target) => planInjection(target, catalog, options.config),
      writer: runtime.writer,
      isReady,
      apiDeadlineMs: options.server.apiDeadlineMs,
    }),
    tls: options.tls,
    runtimeReady: isReady,
    metrics: options.metrics,
    logger: options.logger,
    server: options.server,
  });
}

function waitForSignal(): { received: Promise<NodeJS.Signals> } {
  return {
    received: new Promise((resolve) => {
      const onSignal = (name: NodeJS.Signals): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve(name);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }),
  };
}

/** How to send the bundled example review and read the patch (printed by `npm start`). */
function tryItHint(port: number, certDirectory: string): string {
  const url = `https://localhost:${port}${MUTATE_PATH}`;
  const ca = join(certDirectory, CERT_FILES.caCert);
  const curl = `curl -sS --cacert ${ca} -H 'Content-Type: application/json' --data @examples/reviews/pod-create.json ${url}`;
  return [
    '',
    'Try it: send an example AdmissionReview and see the answer:',
    `  ${curl} | jq .`,
    'The patch is base64; decode it with:',
    `  ${curl} | jq -r .response.patch | base64 -d | jq .`,
    'More examples (a denial, a dry run, an unselected pod): examples/reviews/. Stop with Ctrl-C.',
    '',
  ].join('\n');
}
