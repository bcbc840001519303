import pg from 'pg';
import { hashPassword } from '../../server/auth/passwords.ts';

export interface SeedOptions {
  users: number;
  channels: number;
  posts: number;
  /** Every channel gets these many members (the first N users). */
  membersPerChannel: number;
}

export interface Seeded {
  teamId: string;
  channelIds: string[];
  userIds: string[];
  password: string;
  usernames: string[];
}

// Ids: 26 characters of [a-z0-9], derived from md5 so SQL can generate millions of them in place.
const sqlId = (expr: string) => `substr(md5(${expr}), 1, 26)`;

/**
 * Seeds at COPY speed with set-based SQL inside PostgreSQL: users, one team, channels, memberships and
 * posts with realistic sizes (a mix of short chat lines and longer paragraphs; 1 in 10 is a reply).
 */
export async function seed(owner: pg.ClientConfig, o: SeedOptions): Promise<Seeded> {
  const client = new pg.Client(owner);
  await client.connect();
  const password = 'bench-password-1';
  const hash = await hashPassword(password);
  const now = Date.now();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (id, create_at, update_at, username, email, password_hash, roles)
       SELECT ${sqlId("'u' || i")}, $1, $1, 'bench' || i, 'bench' || i || '@example.com', $2, 'system_user'
       FROM generate_series(1, $3) i`,
      [now, hash, o.users],
    );
    await client.query(`INSERT INTO teams (id, create_at, update_at, display_name, name, type, invite_id) VALUES (${sqlId("'team'")}, $1, $1, 'Bench', 'bench', 'O', ${sqlId("'invite'")})`, [now]);
    await client.query(`INSERT INTO team_members (team_id, user_id, create_at) SELECT ${sqlId("'team'")}, ${sqlId("'u' || i")}, $1 FROM generate_series(1, $2) i`, [now, o.users]);
    await client.query(
      `INSERT INTO channels (id, create_at, update_at, team_id, type, display_name, name)
       SELECT ${sqlId("'c' || i")}, $1, $1, ${sqlId("'team'")}, 'O', 'Channel ' || i, 'channel-' || i FROM generate_series(1, $2) i`,
      [now, o.channels],
    );
    await client.query(
      `INSERT INTO channel_members (channel_id, user_id, last_update_at)
       SELECT ${sqlId("'c' || c")}, ${sqlId("'u' || u")}, $1 FROM generate_series(1, $2) c, generate_series(1, $3) u`,
      [now, o.channels, Math.min(o.membersPerChannel, o.users)],
    );
    await client.query(
      `INSERT INTO channel_member_history (channel_id, user_id, join_time)
       SELECT channel_id, user_id, $1 FROM channel_members`,
      [now],
    );
    await client.query('COMMIT');
    // Posts in chunks so one transaction never holds millions of rows in memory.
    const chunk = 250_000;
    for (let start = 1; start <= o.posts; start += chunk) {
      const end = Math.min(o.posts, start + chunk - 1);
      // Post i is in channel (i mod C), written by one of that channel's members; every tenth post
      // replies to a post two rounds earlier in the same channel.
      await client.query(
        `INSERT INTO posts (id, create_at, update_at, user_id, channel_id, root_id, message)
         SELECT ${sqlId("'p' || i")}, $1 + i * 37, $1 + i * 37,
                ${sqlId("'u' || (1 + i % $2)")},
                ${sqlId("'c' || (1 + i % $3)")},
                CASE WHEN i % 10 = 0 AND i > $3 * 2 THEN ${sqlId("'p' || (i - $3 * 2)")} ELSE '' END,
                CASE WHEN i % 7 = 0 THEN repeat(md5(i::text) || ' ', 6) ELSE left(repeat(md5(i::text) || ' ', 2), 20 + (i % 60)::int) END
         FROM generate_series($4::bigint, $5::bigint) i`,
        [now - o.posts * 37, Math.min(o.membersPerChannel, o.users), o.channels, start, end],
      );
    }
    await client.query(`UPDATE channels c SET total_msg_count = s.n, last_post_at = s.last FROM (SELECT channel_id, count(*) n, max(create_at) last FROM posts GROUP BY channel_id) s WHERE s.channel_id = c.id`);
    await client.query('VACUUM ANALYZE');
    const channelIds = (await client.query('SELECT id FROM channels ORDER BY length(name), name')).rows.map((r) => r.id as string);
    const users = (await client.query('SELECT id, username FROM users ORDER BY length(username), username')).rows;
    return {
      teamId: (await client.query("SELECT id FROM teams WHERE name = 'bench'")).rows[0].id,
      channelIds,
      userIds: users.map((r) => r.id),
      usernames: users.map((r) => r.username),
      password,
    };
  } finally {
    await client.end();
  }
}
