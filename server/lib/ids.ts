import crypto from 'node:crypto';

// Mattermost ids: 16 random bytes in lowercase base32 without padding, 26 characters.
const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** A new 26-character id in Mattermost's alphabet. */
export function newId(): string {
  const bytes = crypto.randomBytes(16);
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
