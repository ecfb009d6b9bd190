// Load generator: autocannon over HTTPS keep-alive against POST /mutate, cycling through the
// corpus bodies. Latency is recorded from autocannon's per-response event (float milliseconds);
// autocannon's own histogram rounds to whole milliseconds, too coarse for a sub-ms webhook.
import { Agent, request as httpsRequest } from 'node:https';
import autocannon from 'autocannon';
import { summarizeLatency, type LoadFigures } from './report.ts';

export interface LoadOptions {
  readonly port: number;
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests/s over all connections; unlimited when absent. */
  readonly overallRate?: number;
  /** Called about once a second while the load runs (the soak samples RSS with it). */
  readonly onTick?: () => void;
}

export interface LoadResult extends LoadFigures {
  /** Every response's latency, for pooling slices before taking percentiles. */
  readonly latenciesMs: readonly number[];
}

export const MUTATE_PATH = '/mutate';
/** The certificate is for these names; autocannon never verifies it, the checks below do. */
export const SERVER_NAME = 'localhost';

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon(
    {
      url: `https://127.0.0.1:${options.port}`,
      servername: SERVER_NAME,
      connections: options.connections,
      pipelining: 1,
      duration: options.durationSeconds,
      // A rate-limited run is bounded in count as well as in time.
      ...(options.overallRate
        ? { overallRate: options.overallRate, maxOverallRequests: Math.ceil(options.overallRate * options.durationSeconds * 1.1) }
        : {}),
      timeout: 10,
      requests: options.bodies.map((body) => ({
        method: 'POST' as const,
        path: MUTATE_PATH,
        headers: { 'content-type': 'application/json' },
        body,
      })),
    },
    (error, result) => (error ? failed(error) : finished(result)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    latenciesMs.push(responseTimeMs);
    if (statusCode < 200 || statusCode > 299) non2xx++;
  });
  const tick = options.onTick ? setInterval(options.onTick, 1000) : undefined;
  try {
    const result = await done;
    const durationMs = result.duration * 1000;
    return {
      durationMs,
      latenciesMs,
      requests: latenciesMs.length,
      requestsPerSecond: durationMs > 0 ? (latenciesMs.length * 1000) / durationMs : 0,
      latency: summarizeLatency(latenciesMs),
      non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    };
  } finally {
    if (tick) clearInterval(tick);
  }
}

export interface ReviewAnswer {
  readonly statusCode: number;
  readonly response: { readonly uid?: string; readonly allowed?: boolean; readonly patch?: string; readonly status?: { readonly message?: string } };
}

/** A keep-alive agent that trusts `caPem`, for sending many reviews one after the other. */
export function reviewAgent(caPem: string): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1, ca: caPem, servername: SERVER_NAME });
}

/** One review over HTTPS, for checking that a corpus class really takes the path it is named for. */
export async function sendReview(port: number, agent: Agent, body: string): Promise<ReviewAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: MUTATE_PATH,
        headers: { 'content-type': 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response?: ReviewAnswer['response'] };
            resolve({ statusCode: res.statusCode ?? 0, response: review.response ?? {} });
          } catch (error) {
            reject(new Error(`answer to a review is not JSON (HTTP ${res.statusCode}): ${String(error)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('review timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
