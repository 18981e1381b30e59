/** The kinds of failure a client can see, in the `error` field of every error body. */
export type ErrorKind =
  | 'invalid_json'
  | 'invalid_payload'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'not_found'
  | 'kafka_unavailable'
  | 'slack_not_configured'
  | 'slack_not_ready'
  | 'store_unavailable'
  | 'forbidden'
  | 'bad_request'
  | 'internal';

/** An error that already knows its HTTP status and the message safe to show the sender. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly kind: ErrorKind,
    message: string,
    /** Response headers that go with it (e.g. Retry-After on a 503). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
