// The error catalogue: every way a review can fail, with a stable code (used in responses,
// logs and the errors metric), the HTTP status it maps to, and a message that says what to fix.

export interface ErrorDefinition {
  /** HTTP status of the answer. 200 means "answered in the review" (the API server reads it). */
  readonly httpStatus: number;
  /** Status code inside the AdmissionReview response (`response.status.code`). */
  readonly statusCode: number;
  readonly summary: string;
}

export const ERRORS = {
  UnsupportedMediaType: {
    httpStatus: 415,
    statusCode: 415,
    summary: 'content type must be application/json',
  },
  EmptyBody: { httpStatus: 400, statusCode: 400, summary: 'request body is empty; send an AdmissionReview as JSON' },
  MalformedJson: { httpStatus: 400, statusCode: 400, summary: 'request body is not valid JSON' },
  BodyTooLarge: { httpStatus: 413, statusCode: 413, summary: 'request body is larger than the limit' },
  NotAReview: {
    httpStatus: 400,
    statusCode: 400,
    summary: 'request body is not an AdmissionReview (want kind AdmissionReview, apiVersion admission.k8s.io/v1)',
  },
  MissingRequest: { httpStatus: 400, statusCode: 400, summary: 'AdmissionReview has no request' },
  MissingUid: { httpStatus: 400, statusCode: 400, summary: 'AdmissionReview request has no uid' },
  InvalidRequest: { httpStatus: 400, statusCode: 400, summary: 'AdmissionReview request is malformed' },
  NotAPod: { httpStatus: 400, statusCode: 400, summary: 'the object under review is not a Pod' },
  /** Stores are still loading: a denial now would be wrong, so the API server's failurePolicy decides. */
  NotReady: {
    httpStatus: 503,
    statusCode: 503,
    summary: 'the webhook is still loading its stores; the API server retries or applies its failurePolicy',
  },
  /** The generated objects could not be ensured: the pod is refused so it never starts without them. */
  EnsureFailed: { httpStatus: 200, statusCode: 500, summary: 'could not create the generated objects' },
  InternalError: { httpStatus: 500, statusCode: 500, summary: 'internal error while reviewing the request' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

/** A review that cannot be answered normally; carries a catalogue code and a specific message. */
export class ReviewError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, detail?: string) {
    const summary = ERRORS[code].summary;
    super(detail === undefined ? summary : `${summary}: ${detail}`);
    this.name = 'ReviewError';
    this.code = code;
  }
}
