// The API server tells the webhook how long it will wait: `POST /mutate?timeout=10s` (the
// webhook's timeoutSeconds, as a Go duration). Creating objects must finish before that, with
// time left to answer; otherwise the caller gives up with a generic error instead of our message.

/** Time kept back for answering and the network, out of the caller's timeout. */
const ANSWER_MARGIN_MS = 1_000;

/** Parses the Go durations the API server sends ("10s", "1m0s", "500ms"); undefined if not one. */
export function parseGoDurationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(text)) return undefined;
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000_001 };
  let totalMs = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    totalMs += Number(value) * (unitMs[unit ?? ''] ?? 0);
  }
  return totalMs > 0 ? totalMs : undefined;
}

/**
 * The budget for creating generated objects: the configured deadline, shortened so the answer
 * still reaches a caller that waits less (at least half its timeout is used for the work).
 */
export function ensureDeadlineMs(apiDeadlineMs: number, callerTimeoutMs: number | undefined): number {
  if (callerTimeoutMs === undefined) return apiDeadlineMs;
  const callerBudgetMs = Math.max(callerTimeoutMs / 2, callerTimeoutMs - ANSWER_MARGIN_MS);
  return Math.max(1, Math.floor(Math.min(apiDeadlineMs, callerBudgetMs)));
}
