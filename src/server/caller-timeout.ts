// The API server tells the webhook how long it will wait: `POST /mutate?timeout=10s` (the
// webhook's timeoutSeconds, as a Go duration). Creating objects must finish before that, with
// time left to answer; otherwise the caller gives up with a generic error instead of our message.
import { parseGoDurationNs } from '../contract/rules.ts';

/** Time kept back for answering and the network, out of the caller's timeout. */
const ANSWER_MARGIN_MS = 1_000;

/** Parses the Go durations the API server sends ("10s", "1m0s", "500ms"); undefined if not one. */
export function parseGoDurationMs(text: unknown): number | undefined {
  const totalNs = typeof text === 'string' ? parseGoDurationNs(text) : undefined;
  return totalNs !== undefined && totalNs > 0 ? totalNs / 1e6 : undefined;
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
