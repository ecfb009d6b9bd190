// One error type for everything the Kubernetes API answers, whatever the client library threw,
// so callers decide on `statusCode` and show `message` (the API's own words) to users.
import { errorMessage } from '../core/values.ts';

export class KubeApiError extends Error {
  /** HTTP status from the API server; undefined for network errors and timeouts. */
  readonly statusCode: number | undefined;
  /** Kubernetes Status `reason` (Forbidden, Conflict, Invalid, …) when the API sent one. */
  readonly reason: string | undefined;

  constructor(message: string, statusCode?: number, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 409;
}

/**
 * Converts what @kubernetes/client-node throws (ApiException with a JSON or parsed Status body,
 * fetch/abort errors) into a KubeApiError carrying the API's message.
 */
export function toKubeApiError(error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (isAbort(error)) {
    const reason = error instanceof Error && error.message !== '' ? error.message : 'request aborted';
    return new KubeApiError(reason);
  }
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    const body = parseStatusBody((error as { body?: unknown }).body);
    const message = body?.message ?? `HTTP ${error.code}`;
    return new KubeApiError(message, error.code, body?.reason);
  }
  return new KubeApiError(errorMessage(error));
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function parseStatusBody(body: unknown): { message?: string; reason?: string } | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : { message: body.trim() };
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { message, reason } = value as { message?: unknown; reason?: unknown };
  return {
    message: typeof message === 'string' ? message : undefined,
    reason: typeof reason === 'string' ? reason : undefined,
  };
}
