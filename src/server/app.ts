// The admission server as a fastify app: POST /mutate, health, metrics. Built here, started
// by the caller (`serve`, tests), so tests can drive it with inject() or over real HTTPS.
import { performance } from 'node:perf_hooks';
import type { SecureContextOptions } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';
import type { TlsMaterial, TlsSource } from '../tls/source.ts';
import type { AdmissionHandler } from './admission.ts';
import { parseGoDurationMs } from './caller-timeout.ts';
import { ReviewError, type ErrorCode } from './errors.ts';
import { registerHealthRoutes } from './health.ts';
import { useJsonBodyParser } from './json-body.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import type { ServerOptions } from './options.ts';
import { decodeReview, errored, reviewBody, type ReviewHandler } from './review.ts';
import { withLogging } from './with-logging.ts';
import { withMetrics, type MonotonicClock } from './with-metrics.ts';
import { withRecovery } from './with-recovery.ts';

export const MUTATE_PATH = '/mutate';
const MIN_TLS_VERSION = 'TLSv1.2';

export interface AppOptions {
  readonly admission: AdmissionHandler;
  readonly tls: TlsSource;
  /** True once the stores and generated objects the handler reads are loaded. */
  readonly runtimeReady: () => boolean;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  readonly server: ServerOptions;
  readonly nowMs?: MonotonicClock;
}

/** Fastify's body-parsing failures, in the catalogue's terms. */
const PARSE_ERRORS: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EmptyBody',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MalformedJson',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BodyTooLarge',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MalformedJson',
};

export function buildApp(options: AppOptions): FastifyInstance {
  const { server, tls } = options;
  const nowMs = options.nowMs ?? (() => performance.now());
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per review comes from withLogging; fastify's two lines per request would be noise.
    logController: new LogController({ disableRequestLogging: true }),
    https: secureContextOptions(tls.current()),
    bodyLimit: server.bodyLimitBytes,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    requestTimeout: server.requestTimeoutMs,
    // While shutting down, still answer reviews that arrive on open connections (and close
    // those connections after): a 503 would fail the API server's call for no reason.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  app.server.headersTimeout = server.headersTimeoutMs;

  const stopTlsUpdates = tls.subscribe((material) => {
    // New connections get the new certificate; open ones keep the one they negotiated.
    try {
      (app.server as unknown as { setSecureContext(options: SecureContextOptions): void }).setSecureContext(
        secureContextOptions(material),
      );
      app.log.info('serving a new TLS certificate');
    } catch (error) {
      app.log.error({ err: error }, 'new TLS certificate rejected; still serving the previous one');
    }
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Reviews still being answered during shutdown close their connection afterwards, so the
  // API server does not send its next request on a connection that is about to go away.
  // A callback hook, not an async one: it runs for every response and needs no promise.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onClose', async () => stopTlsUpdates());

  const review: ReviewHandler = withLogging(
    withMetrics(withRecovery(answer(options.admission)), options.metrics, nowMs),
    nowMs,
  );

  // Only JSON is a review; without this, text/plain bodies would reach the handler as strings.
  app.removeContentTypeParser('text/plain');
  useJsonBodyParser(app);
  app.post<{ Querystring: { timeout?: unknown } }>(MUTATE_PATH, async (request, reply) => {
    const callerTimeoutMs = parseGoDurationMs(request.query.timeout);
    const result = await review({
      decoded: decodeReview(request.body),
      log: request.log,
      ...(callerTimeoutMs === undefined ? {} : { callerTimeoutMs }),
    });
    return reply.code(result.httpStatus).send(reviewBody(result));
  });
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    // routeOptions.url, not url: the API server calls `/mutate?timeout=10s`.
    if (request.routeOptions.url !== MUTATE_PATH) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(error.statusCode ?? 500).send({ error: error.code ?? 'InternalError', message: error.message });
    }
    // On /mutate every failure is answered as a review, and logged and counted like one.
    const code = PARSE_ERRORS[error.code];
    if (code === undefined) request.log.error({ err: error }, 'review request failed');
    const reviewError =
      code === undefined
        ? new ReviewError('InternalError')
        : new ReviewError(code, code === 'BodyTooLarge' ? `${server.bodyLimitBytes} bytes` : undefined);
    const result = await review({ decoded: { ok: false, error: reviewError }, log: request.log });
    return reply.code(result.httpStatus).send(reviewBody(result));
  });

  registerHealthRoutes(app, [
    { name: 'tls', ready: () => tls.current() !== undefined },
    { name: 'runtime', ready: options.runtimeReady },
    { name: 'accepting', ready: () => !closing },
  ]);
  registerMetricsRoute(app, options.metrics);
  return app;
}

/** The innermost step: a review that did not decode is answered with its error. */
function answer(admission: AdmissionHandler): ReviewHandler {
  return async ({ decoded, log, callerTimeoutMs }) =>
    decoded.ok
      ? admission(decoded.request, { log, ...(callerTimeoutMs === undefined ? {} : { callerTimeoutMs }) })
      : errored(decoded.uid ?? '', decoded.error);
}

function secureContextOptions(material: TlsMaterial | undefined): SecureContextOptions {
  return { minVersion: MIN_TLS_VERSION, ...(material === undefined ? {} : { cert: material.cert, key: material.key }) };
}
