import type { Middleware } from 'koa';
import type { z } from 'zod';
import { authenticate } from '../http/authenticate.ts';
import { invalidParam } from '../lib/errors.ts';
import type { AppState } from '../http/state.ts';
import { parseOrThrow, validateBody } from '../http/validate.ts';
import type { Services } from '../services.ts';

/** The middleware every route group composes: authentication and body validation with the configured limit. */
export interface RouteKit {
  auth: Middleware<AppState>;
  body<S extends z.ZodType>(schema: S): Middleware<AppState>;
}

export function routeKit(services: Services): RouteKit {
  return {
    auth: authenticate({ db: services.db, sessionPolicy: services.sessionPolicy, strictCsrf: services.config.strictCsrf }),
    body: (schema) => validateBody(schema, services.config.maxBodyBytes),
  };
}

/** Validates query parameters against a schema. */
export function queryOf<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  return parseOrThrow(schema, query, 'query');
}

/** A path parameter that must be an id (26 lowercase base32 characters), or a 400. */
export function idParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (!value || !/^[a-z0-9]{26}$/.test(value)) throw invalidParam(name);
  return value;
}
