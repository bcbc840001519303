import type { Context, Middleware } from 'koa';
import { translatePgError } from '../../db/pg-errors.ts';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLargeError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from '../../lib/errors.ts';
import type { AppState } from '../state.ts';
import { sendJson } from '../respond.ts';

/** The one table that maps domain error classes to HTTP statuses. */
const statusByClass: [new (...args: never[]) => AppError, number][] = [
  [InvalidInputError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [RateLimitedError, 429],
  [NotImplementedError, 501],
  [ServiceUnavailableError, 503],
];

/** Mattermost's error body. */
export interface ErrorBody {
  id: string;
  message: string;
  detailed_error: string;
  request_id: string;
  status_code: number;
}

/** The HTTP status an error class maps to (audit records note it too). */
export function statusOf(err: AppError): number {
  for (const [cls, status] of statusByClass) if (err instanceof cls) return status;
  return 500;
}

/** Errors thrown by Koa or Node's HTTP layer that carry a client-error status (e.g. malformed URLs). */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  if (err instanceof URIError) return 400;
  return undefined;
}

export function writeError(ctx: Context, status: number, id: string, message: string, detailedError = ''): void {
  const body: ErrorBody = { id, message, detailed_error: detailedError, request_id: (ctx.state as AppState).requestId ?? '', status_code: status };
  sendJson(ctx, status, body);
}

/** Catches everything below it and answers with Mattermost's error JSON; 500s never leak a stack trace. */
export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const err = translatePgError(thrown);
      if (err instanceof AppError) {
        const status = statusOf(err);
        if (err instanceof RateLimitedError) ctx.set('Retry-After', String(err.retryAfterSeconds));
        if (status >= 500) ctx.state.log.error({ err }, 'server error');
        writeError(ctx, status, err.id, err.message, err.detailedError);
        return;
      }
      const clientStatus = clientErrorStatus(err);
      if (clientStatus) {
        writeError(ctx, clientStatus, 'api.context.invalid_request.app_error', 'The request could not be understood.');
        return;
      }
      ctx.state.log.error({ err }, 'unhandled error');
      writeError(ctx, 500, 'api.context.internal_error.app_error', 'An internal error occurred. Quote the request id when reporting it.');
    }
  };
}
