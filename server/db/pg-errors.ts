import { AppError, ConflictError, InvalidInputError } from '../lib/errors.ts';

interface PgDriverError {
  code?: unknown;
  constraint?: unknown;
  routine?: unknown;
}

function isPgError(err: unknown): err is Error & PgDriverError {
  return err instanceof Error && typeof (err as PgDriverError).code === 'string' && typeof (err as PgDriverError).routine === 'string';
}

/**
 * Translates PostgreSQL SQLSTATE codes that mean "bad input" into domain errors, in one place.
 * Anything else is returned unchanged (and becomes a 500).
 */
export function translatePgError(err: unknown): unknown {
  if (!isPgError(err) || err instanceof AppError) return err;
  const code = err.code as string;
  if (code === '23505') return new ConflictError('store.sql.unique_violation', 'A record with that value already exists.', String(err.constraint ?? ''));
  if (code === '23503') return new InvalidInputError('store.sql.foreign_key_violation', 'The request refers to a record that does not exist.', String(err.constraint ?? ''));
  if (code.startsWith('22')) return new InvalidInputError('store.sql.invalid_data', 'The request contains a value the database cannot store.', code);
  return err;
}
