import crypto from 'node:crypto';
import pg from 'pg';
import { newId } from '../../server/lib/ids.ts';

/** Creates a session per user directly in the database (COPY-speed set-based insert); returns the tokens. */
export async function seedSessions(owner: pg.ClientConfig, userIds: string[]): Promise<string[]> {
  const client = new pg.Client(owner);
  await client.connect();
  const tokens = userIds.map(() => newId());
  const now = Date.now();
  try {
    for (let i = 0; i < userIds.length; i += 5000) {
      const slice = userIds.slice(i, i + 5000);
      await client.query(
        `INSERT INTO sessions (id, token_hash, user_id, create_at, expires_at, last_activity_at, roles, csrf_token)
         SELECT id, hash, uid, $1::bigint, $1::bigint + 86400000, $1::bigint, 'system_user', id FROM unnest($2::text[], $3::text[], $4::text[]) AS t(id, hash, uid)`,
        [now, slice.map(() => newId()), slice.map((_, k) => crypto.createHash('sha256').update(tokens[i + k]).digest('hex')), slice],
      );
    }
  } finally {
    await client.end();
  }
  return tokens;
}
