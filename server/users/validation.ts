import { z } from 'zod';

// Mattermost's rules: usernames start with a letter, use a-z 0-9 . - _, and some names are reserved
// because they mean something in @mentions.
const reservedUsernames = new Set(['all', 'channel', 'here', 'matterbot', 'system', 'custodian']);

export const usernameSchema = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(
    z
      .string()
      .regex(/^[a-z][a-z0-9._-]{2,63}$/, 'must be 3-64 characters: a letter, then letters, digits, ".", "-" or "_"')
      .refine((v) => !reservedUsernames.has(v), 'is reserved'),
  );

export const emailSchema = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.string().max(128).regex(/^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/, 'must be an email address'));

export const nameField = (max: number) => z.string().max(max).default('');
