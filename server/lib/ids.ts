import crypto from 'node:crypto';

// Mattermost ids: 16 random bytes in lowercase base32 without padding, 26 characters.
const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';

// Random bytes are drawn from the CSPRNG a few kilobytes at a time: ids are made on every request
// (request ids, rows, tokens) and each small draw is a system call. No byte is handed out twice.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

function randomBytes16(): Buffer {
  if (offset + 16 > pool.length) {
    pool = crypto.randomBytes(POOL_BYTES);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}

/** A new 26-character id in Mattermost's alphabet. */
export function newId(): string {
  const bytes = randomBytes16();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const idPattern = /^[a-z0-9]{26}$/;

/** True when `value` has the shape of a Custodian/Mattermost id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && idPattern.test(value);
}

/** A random secret token (26 characters, same alphabet), for sessions and CSRF. */
export const newToken = newId;
