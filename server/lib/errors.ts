/**
 * Domain errors. They carry a stable machine-readable id (Mattermost's style) and a human message,
 * never an HTTP status: the error middleware maps each class to a status in one place.
 */
export class AppError extends Error {
  readonly id: string;
  readonly detailedError: string;
  constructor(id: string, message: string, detailedError = '') {
    super(message);
    this.id = id;
    this.detailedError = detailedError;
    this.name = new.target.name;
  }
}

/** The input is malformed or breaks a rule. */
export class InvalidInputError extends AppError {}
/** No credentials, or credentials that are not (or no longer) valid. */
export class UnauthenticatedError extends AppError {}
/** The actor is known but may not do this. */
export class ForbiddenError extends AppError {}
/** The thing does not exist, or the actor may not know it exists. */
export class NotFoundError extends AppError {}
/** The change conflicts with existing state (duplicate name, already a member...). */
export class ConflictError extends AppError {}
/** The body is larger than allowed. */
export class PayloadTooLargeError extends AppError {}
/** The body's content type is not one this endpoint accepts. */
export class UnsupportedMediaTypeError extends AppError {}
/** Too many attempts; try again later. */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(id: string, message: string, retryAfterSeconds: number) {
    super(id, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** A feature the server does not offer in this configuration. */
export class NotImplementedError extends AppError {}
/** A server this one depends on (a directory, an identity provider) cannot be reached or refused us; try again later. */
export class ServiceUnavailableError extends AppError {}

/** Shorthand for the most common validation failure. */
export function invalidParam(name: string, detail = ''): InvalidInputError {
  return new InvalidInputError('api.context.invalid_param.app_error', `Invalid or missing ${name} parameter in request.`, detail);
}
