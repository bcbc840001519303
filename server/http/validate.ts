import type { Middleware } from 'koa';
import type { z } from 'zod';
import { InvalidInputError } from '../lib/errors.ts';
import { readJsonBody } from './body.ts';
import type { AppState } from './state.ts';

function describe(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

/** Parses `value` with `schema`, turning failures into a 400 naming the offending fields. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const field = result.error.issues[0]?.path.join('.') || what;
    throw new InvalidInputError('api.context.invalid_param.app_error', `Invalid or missing ${field} parameter in request.`, describe(result.error.issues));
  }
  return result.data;
}

/** Middleware: reads the JSON body, validates it and stores the typed result in `ctx.state.body`. */
export function validateBody<S extends z.ZodType>(schema: S, limit: number): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.state.body = parseOrThrow(schema, await readJsonBody(ctx, limit), 'body');
    await next();
  };
}

/** Typed access to the body a `validateBody(schema)` earlier in the chain stored. */
export function bodyOf<S extends z.ZodType>(_schema: S, state: AppState): z.output<S> {
  return state.body as z.output<S>;
}
