import crypto from 'node:crypto';
import { promisify } from 'node:util';

// OWASP 2025: argon2id with m = 19 MiB, t = 2, p = 1. Encoded in the PHC string format so the
// parameters travel with the hash and can be raised later without breaking old hashes.
const PARAMS = { memory: 19456, passes: 2, parallelism: 1, tagLength: 32 } as const;

type Argon2Params = { message: string | Buffer; nonce: Buffer; memory: number; passes: number; parallelism: number; tagLength: number };
const argon2 = promisify((crypto as unknown as { argon2: (alg: string, p: Argon2Params, cb: (e: Error | null, d: Buffer) => void) => void }).argon2);

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

/** Hashes a password with argon2id; returns a PHC string. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await argon2('argon2id', { message: password, nonce: salt, ...PARAMS });
  return `$argon2id$v=19$m=${PARAMS.memory},t=${PARAMS.passes},p=${PARAMS.parallelism}$${b64(salt)}$${b64(hash)}`;
}

const phc = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Checks a password against a PHC argon2id string in constant time. */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const match = encoded ? phc.exec(encoded) : null;
  if (!match) {
    // Spend the same effort as a real check so timing does not reveal that the account has no password.
    await hashPassword(password);
    return false;
  }
  const [, m, t, p, salt, expected] = match;
  const expectedBytes = Buffer.from(expected, 'base64');
  const actual = await argon2('argon2id', {
    message: password,
    nonce: Buffer.from(salt, 'base64'),
    memory: Number(m),
    passes: Number(t),
    parallelism: Number(p),
    tagLength: expectedBytes.length,
  });
  return crypto.timingSafeEqual(actual, expectedBytes);
}

/** Mattermost's default password rules: 8 to 72 characters... and we also refuse the absurdly long. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8) return 'Your password must contain at least 8 characters.';
  if (password.length > 256) return 'Your password must contain at most 256 characters.';
  return undefined;
}
