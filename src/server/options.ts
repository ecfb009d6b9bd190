// HTTP settings of the admission server, validated once and frozen. Each setting has the
// command-line flag that sets it, so a bad value is reported in the user's terms.

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  /** A review carries whole objects; 7 MiB is what controller-runtime accepts too. */
  readonly bodyLimitBytes: number;
  /** The API server keeps connections open; close idle ones after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Time allowed for a client to send the request headers (slowloris guard). */
  readonly headersTimeoutMs: number;
  /** Time allowed for a whole request; the API server gives up after at most 30 s anyway. */
  readonly requestTimeoutMs: number;
  /** Budget for creating generated objects within one review. */
  readonly apiDeadlineMs: number;
  /** On SIGTERM, how long in-flight reviews may take before the process exits anyway. */
  readonly shutdownGraceMs: number;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = Object.freeze({
  host: '0.0.0.0',
  port: 8443,
  bodyLimitBytes: 7 * 1024 * 1024,
  keepAliveTimeoutMs: 90_000,
  headersTimeoutMs: 32_000,
  requestTimeoutMs: 40_000,
  apiDeadlineMs: 5_000,
  shutdownGraceMs: 25_000,
});

/** The flag that sets each option. */
export const SERVER_OPTION_FLAGS: Readonly<Record<keyof ServerOptions, string>> = Object.freeze({
  host: '--host',
  port: '--port',
  bodyLimitBytes: '--body-limit-bytes',
  keepAliveTimeoutMs: '--keep-alive-timeout-ms',
  headersTimeoutMs: '--headers-timeout-ms',
  requestTimeoutMs: '--request-timeout-ms',
  apiDeadlineMs: '--api-deadline-ms',
  shutdownGraceMs: '--shutdown-grace-ms',
});

/** Highest sensible deadline: the API server's webhook timeoutSeconds is at most 30. */
const MAX_API_DEADLINE_MS = 29_000;

export class OptionsError extends Error {
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'OptionsError';
  }
}

/** Fills defaults, checks every value and the relations between them, and freezes the result. */
export function resolveServerOptions(input: Partial<ServerOptions> = {}): ServerOptions {
  const options: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...definedOnly(input) };
  const flag = SERVER_OPTION_FLAGS;
  if (options.host.trim() === '') throw new OptionsError(flag.host, 'must not be empty');
  integerIn(options.port, 0, 65_535, flag.port);
  integerIn(options.bodyLimitBytes, 1024, 64 * 1024 * 1024, flag.bodyLimitBytes);
  integerIn(options.keepAliveTimeoutMs, 1, 3_600_000, flag.keepAliveTimeoutMs);
  integerIn(options.headersTimeoutMs, 1, 3_600_000, flag.headersTimeoutMs);
  integerIn(options.requestTimeoutMs, 1, 3_600_000, flag.requestTimeoutMs);
  integerIn(options.apiDeadlineMs, 1, MAX_API_DEADLINE_MS, flag.apiDeadlineMs);
  integerIn(options.shutdownGraceMs, 0, 3_600_000, flag.shutdownGraceMs);
  if (options.headersTimeoutMs > options.requestTimeoutMs) {
    throw new OptionsError(flag.headersTimeoutMs, `must not exceed ${flag.requestTimeoutMs} (${options.requestTimeoutMs})`);
  }
  if (options.apiDeadlineMs >= options.requestTimeoutMs) {
    throw new OptionsError(flag.apiDeadlineMs, `must be below ${flag.requestTimeoutMs} (${options.requestTimeoutMs})`);
  }
  return Object.freeze(options);
}

/** Parses a flag's text as a non-negative integer, naming the flag when it is not one. */
export function parseIntegerFlag(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new OptionsError(flag, `must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text.trim());
}

function integerIn(value: number, min: number, max: number, flag: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionsError(flag, `must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
