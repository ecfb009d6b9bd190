// AdmissionReview (admission.k8s.io/v1) as this webhook reads and writes it: types, strict
// decoding of an untrusted body, and the named answers (allowed, patched, denied, errored).
import type { Operation as PatchOperation } from 'fast-json-patch';
import type { FastifyBaseLogger } from 'fastify';
import { isRecord } from '../core/values.ts';
import type { ReviewOutcome } from '../metrics.ts';
import { ERRORS, ReviewError, type ErrorCode } from './errors.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: ReadonlySet<string> = new Set<AdmissionOperation>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The fields of `request` this webhook reads; everything else is ignored. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly subResource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly operation: AdmissionOperation;
  /** The object being admitted; for a Pod CREATE it is a checked Pod (kind and metadata). */
  readonly object?: Readonly<Record<string, unknown>>;
  readonly dryRun: boolean;
}

/** A Kubernetes `Status`, as carried in `response.status`. */
export interface ReviewStatus {
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: ReviewStatus;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON Patch document. */
  readonly patch?: string;
  readonly warnings?: readonly string[];
}

export interface AdmissionReviewResponseBody {
  readonly apiVersion: string;
  readonly kind: typeof ADMISSION_KIND;
  readonly response: AdmissionResponse;
}

/** Log fields a handler adds to the review's log line: names and reasons, never objects. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** One answered review: what goes back to the API server, and what we observe about it. */
export interface ReviewResult {
  readonly outcome: ReviewOutcome;
  readonly httpStatus: number;
  readonly response: AdmissionResponse;
  /** Catalogue code when the outcome is `errored`. */
  readonly errorCode?: ErrorCode;
  readonly logFields?: LogFields;
}

export type DecodedReview =
  | { readonly ok: true; readonly request: AdmissionRequest }
  | { readonly ok: false; readonly error: ReviewError; readonly uid?: string };

/** What the review pipeline (handler + wrappers) receives for one HTTP request. */
export interface ReviewInput {
  readonly decoded: DecodedReview;
  /** Request-scoped logger. */
  readonly log: FastifyBaseLogger;
  /** How long the API server waits for the answer, from the call's `?timeout=`. */
  readonly callerTimeoutMs?: number;
}

export type ReviewHandler = (input: ReviewInput) => Promise<ReviewResult>;

interface AnswerOptions {
  readonly warnings?: readonly string[];
  readonly logFields?: LogFields;
}

export function allowed(uid: string, options: AnswerOptions = {}): ReviewResult {
  return {
    outcome: 'allowed',
    httpStatus: 200,
    response: { uid, allowed: true, ...warningsOf(options.warnings) },
    ...logFieldsOf(options.logFields),
  };
}

/** Allowed with a JSON Patch; an empty patch is a plain `allowed` (nothing to send). */
export function patched(uid: string, operations: readonly PatchOperation[], options: AnswerOptions = {}): ReviewResult {
  if (operations.length === 0) return allowed(uid, options);
  return {
    outcome: 'patched',
    httpStatus: 200,
    response: {
      uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: encodePatch(operations),
      ...warningsOf(options.warnings),
    },
    ...logFieldsOf(options.logFields),
  };
}

// The core shares one frozen patch among the pods of a workload (src/core/plan.ts); frozen
// operations cannot change, so their encoding is computed once and found by identity.
const encodedPatches = new WeakMap<readonly PatchOperation[], string>();

/** base64 of the JSON Patch document, as `response.patch` carries it. */
function encodePatch(operations: readonly PatchOperation[]): string {
  const cached = encodedPatches.get(operations);
  if (cached !== undefined) return cached;
  const encoded = Buffer.from(JSON.stringify(operations), 'utf8').toString('base64');
  if (Object.isFrozen(operations)) encodedPatches.set(operations, encoded);
  return encoded;
}

/** Refused by policy: the message tells the user what to change (Kubernetes shows it verbatim). */
export function denied(uid: string, message: string, options: AnswerOptions = {}): ReviewResult {
  return {
    outcome: 'denied',
    httpStatus: 200,
    response: { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message }, ...warningsOf(options.warnings) },
    ...logFieldsOf(options.logFields),
  };
}

/** Not answerable normally; `uid` is empty when the request carried none. */
export function errored(uid: string, error: ReviewError, options: AnswerOptions = {}): ReviewResult {
  const definition = ERRORS[error.code];
  return {
    outcome: 'errored',
    httpStatus: definition.httpStatus,
    errorCode: error.code,
    response: {
      uid,
      allowed: false,
      status: { code: definition.statusCode, reason: error.code, message: error.message },
      ...warningsOf(options.warnings),
    },
    ...logFieldsOf(options.logFields),
  };
}

export function reviewBody(result: ReviewResult): AdmissionReviewResponseBody {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response: result.response };
}

/**
 * Checks an untrusted, already JSON-parsed body. Strict where a mistake would change the
 * answer (kind, version, uid, operation, the object of a Pod CREATE); lenient elsewhere.
 */
export function decodeReview(body: unknown): DecodedReview {
  if (body === undefined || body === null || body === '') return fail('EmptyBody');
  if (!isRecord(body)) return fail('NotAReview', `body is ${describeValue(body)}`);
  if (body.kind !== ADMISSION_KIND || body.apiVersion !== ADMISSION_API_VERSION) {
    return fail('NotAReview', `got kind ${describeValue(body.kind)}, apiVersion ${describeValue(body.apiVersion)}`);
  }
  const request = body.request;
  if (request === undefined || request === null) return fail('MissingRequest');
  if (!isRecord(request)) return fail('MissingRequest', `request is ${describeValue(request)}`);
  const uid = request.uid;
  if (typeof uid !== 'string' || uid === '') return fail('MissingUid');
  const invalid = (detail: string): DecodedReview => fail('InvalidRequest', detail, uid);

  const operation = request.operation;
  if (typeof operation !== 'string' || !OPERATIONS.has(operation)) {
    return invalid(`request.operation must be one of CREATE, UPDATE, DELETE, CONNECT; got ${describeValue(operation)}`);
  }
  const kind = request.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string' || typeof kind.group !== 'string') {
    return invalid('request.kind must be an object with string group, version and kind');
  }
  for (const field of ['namespace', 'name', 'subResource'] as const) {
    if (request[field] !== undefined && typeof request[field] !== 'string') {
      return invalid(`request.${field} must be a string; got ${describeValue(request[field])}`);
    }
  }
  if (request.dryRun !== undefined && typeof request.dryRun !== 'boolean') {
    return invalid(`request.dryRun must be a boolean; got ${describeValue(request.dryRun)}`);
  }
  const { subResource, namespace, name, object } = request;
  const decoded: AdmissionRequest = {
    uid,
    kind: { group: kind.group, version: kind.version, kind: kind.kind },
    operation: operation as AdmissionOperation,
    dryRun: request.dryRun === true,
    ...(typeof subResource === 'string' && subResource !== '' ? { subResource } : {}),
    ...(typeof namespace === 'string' ? { namespace } : {}),
    ...(typeof name === 'string' ? { name } : {}),
    ...(isRecord(object) ? { object } : {}),
  };
  // Subresources (pods/binding, pods/eviction, …) carry other kinds; they are never ours to check.
  if (decoded.subResource !== undefined) return { ok: true, request: decoded };
  if (kind.group !== '' || kind.version !== 'v1' || kind.kind !== 'Pod') {
    return fail('NotAPod', `request.kind is ${formatKind(kind.group, kind.version, kind.kind)}`, uid);
  }
  if (operation === 'CREATE') {
    if (!isRecord(object)) return fail('NotAPod', `request.object is ${describeValue(object)}`, uid);
    if (object.kind !== 'Pod' || (object.apiVersion !== undefined && object.apiVersion !== 'v1')) {
      return fail('NotAPod', `request.object has kind ${describeValue(object.kind)}, apiVersion ${describeValue(object.apiVersion)}`, uid);
    }
    if (object.metadata !== undefined && !isRecord(object.metadata)) {
      return invalid('request.object.metadata must be an object');
    }
    if (decoded.namespace === undefined || decoded.namespace === '') {
      return invalid('request.namespace is required for a Pod CREATE');
    }
  }
  return { ok: true, request: decoded };
}

function fail(code: ErrorCode, detail?: string, uid?: string): DecodedReview {
  return { ok: false, error: new ReviewError(code, detail), ...(uid === undefined ? {} : { uid }) };
}

function formatKind(group: string, version: string, kind: string): string {
  return `${group === '' ? '' : `${group}/`}${version} ${kind}`;
}

/** A short, safe description of an untrusted value for an error message (never the value itself if large). */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length <= 64 ? JSON.stringify(value) : 'a long string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function warningsOf(warnings: readonly string[] | undefined): { warnings?: readonly string[] } {
  return warnings === undefined || warnings.length === 0 ? {} : { warnings };
}

function logFieldsOf(logFields: LogFields | undefined): { logFields?: LogFields } {
  return logFields === undefined ? {} : { logFields };
}
