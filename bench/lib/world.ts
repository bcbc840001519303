import pg from 'pg';
import { hashPassword } from '../../server/auth/passwords.ts';
import { messageMaker, vocabulary } from './text.ts';

/** The shape of a seeded installation for the load test and the search benchmark. */
export interface WorldOptions {
  users: number;
  teams: number;
  /** Channels per team besides town-square and off-topic (which every team member is in). */
  channelsPerTeam: number;
  /** Channels of their team each user is in besides the two default ones (on average). */
  channelsPerUser: number;
  /** Share of a team's users who are also in the next team. */
  secondTeamShare: number;
  posts: number;
  /** Distinct message texts the posts draw from. */
  messagePool: number;
  /** Spread posts over this many days before now (search uses dates). */
  days: number;
  /**
   * Keep the posts table's indexes during the load and insert in time order on one connection, so
   * every index fills its pages the way posts created one at a time do (split pages, a GIN pending
   * list); by default indexes are rebuilt after the load, which packs them tighter than production.
   */
  liveIndexes?: boolean;
  log?: (line: string) => void;
}

export const defaultWorld: WorldOptions = { users: 1000, teams: 10, channelsPerTeam: 60, channelsPerUser: 12, secondTeamShare: 0.25, posts: 100_000, messagePool: 100_000, days: 365 };

export interface World {
  password: string;
  userIds: string[];
  usernames: string[];
  teamIds: string[];
  channels: number;
  posts: number;
  seconds: Record<string, number>;
  bytes: { posts_table: number; database: number };
}

// Ids: 26 characters of [a-z0-9] from md5 of a tag, so SQL can make millions in place.
const sqlId = (expr: string) => `substr(md5(${expr}), 1, 26)`;

/**
 * Seeds users, teams, channels (a few big ones per team, many small ones; one in five private),
 * memberships, and posts with realistic text and sizes (1 in 10 a reply in its channel) at COPY
 * speed: set-based SQL inside PostgreSQL, the posts table's secondary indexes (including the
 * full-text GIN index) dropped during the load and rebuilt after it (unless `liveIndexes`).
 */
export async function seedWorld(owner: pg.ClientConfig, options: Partial<WorldOptions> = {}): Promise<World> {
  const o = { ...defaultWorld, ...options };
  const log = o.log ?? ((line: string) => console.log(line));
  const client = new pg.Client(owner);
  await client.connect();
  const seconds: Record<string, number> = {};
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await fn();
    seconds[name] = Math.round((performance.now() - t) / 100) / 10;
    log(`  seed ${name}: ${seconds[name]} s`);
    return out;
  };
  const password = 'bench-password-1';
  const now = Date.now();
  try {
    await client.query("SET maintenance_work_mem = '256MB'; SET work_mem = '64MB'; SET synchronous_commit = off");
    await client.query('DROP TABLE IF EXISTS bench_messages, bench_members, bench_channels');
    const hash = await hashPassword(password);
    await step('users, teams, channels, members', async () => {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO users (id, create_at, update_at, username, email, password_hash, roles, first_name, last_name)
         SELECT ${sqlId("'u' || i")}, $1, $1, 'bench' || i, 'bench' || i || '@example.com', $2, 'system_user', 'Bench', 'User ' || i
         FROM generate_series(1, $3) i`,
        [now, hash, o.users],
      );
      await client.query(
        `INSERT INTO teams (id, create_at, update_at, display_name, name, type, invite_id, allow_open_invite)
         SELECT ${sqlId("'team' || t")}, $1, $1, 'Team ' || t, 'team-' || t, 'O', ${sqlId("'invite' || t")}, true FROM generate_series(1, $2) t`,
        [now, o.teams],
      );
      // User i is in team (i mod T); a share of them also in the next team.
      await client.query(
        `INSERT INTO team_members (team_id, user_id, create_at)
         SELECT ${sqlId("'team' || (1 + i % $2)")}, ${sqlId("'u' || i")}, $1::bigint FROM generate_series(1, $3) i
         UNION ALL
         SELECT ${sqlId("'team' || (1 + (i + 1) % $2)")}, ${sqlId("'u' || i")}, $1::bigint FROM generate_series(1, $3) i WHERE $2 > 1 AND i % 1000 < $4`,
        [now, o.teams, o.users, Math.round(o.secondTeamShare * 1000)],
      );
      // Channel k of team t: k = 1 town-square, k = 2 off-topic, then open and (every fifth) private ones.
      await client.query(
        `INSERT INTO channels (id, create_at, update_at, team_id, type, display_name, name, creator_id)
         SELECT ${sqlId("'c' || t || '-' || k")}, $1, $1, ${sqlId("'team' || t")},
                CASE WHEN k > 2 AND k % 5 = 0 THEN 'P' ELSE 'O' END,
                CASE k WHEN 1 THEN 'Town Square' WHEN 2 THEN 'Off-Topic' ELSE 'Channel ' || t || '-' || k END,
                CASE k WHEN 1 THEN 'town-square' WHEN 2 THEN 'off-topic' ELSE 'channel-' || t || '-' || k END, ''
         FROM generate_series(1, $2) t, generate_series(1, $3 + 2) k`,
        [now, o.teams, o.channelsPerTeam],
      );
      await client.query(
        `INSERT INTO channel_members (channel_id, user_id, last_update_at, last_viewed_at)
         SELECT c.id, tm.user_id, $1, $1 FROM team_members tm JOIN channels c ON c.team_id = tm.team_id
         WHERE c.name IN ('town-square', 'off-topic') OR abs(hashtext(tm.user_id || c.id)) % $2 < $3`,
        [now, o.channelsPerTeam, o.channelsPerUser],
      );
      await client.query('INSERT INTO channel_member_history (channel_id, user_id, join_time) SELECT channel_id, user_id, $1 FROM channel_members', [now]);
      await client.query('COMMIT');
    });

    const channels = Number((await client.query('SELECT count(*) AS n FROM channels')).rows[0].n);
    if (o.posts > 0) {
      await step('message pool', async () => {
        await client.query('CREATE UNLOGGED TABLE bench_messages (n int PRIMARY KEY, message text NOT NULL)');
        const make = messageMaker(vocabulary());
        for (let start = 0; start < o.messagePool; start += 10_000) {
          const texts = Array.from({ length: Math.min(10_000, o.messagePool - start) }, make);
          await client.query('INSERT INTO bench_messages SELECT $1::int + ord - 1, m FROM unnest($2::text[]) WITH ORDINALITY AS t(m, ord)', [start, texts]);
        }
        // Channels numbered 0..C-1 with their members numbered 0..n-1, so post i can go to channel
        // i mod C by one of its members without reading a (TOASTed) member array per row.
        await client.query(
          `CREATE UNLOGGED TABLE bench_members AS
           SELECT dense_rank() OVER (ORDER BY channel_id)::int - 1 AS ch, (row_number() OVER (PARTITION BY channel_id ORDER BY user_id) - 1)::int AS k, channel_id, user_id
           FROM channel_members`,
        );
        await client.query('ALTER TABLE bench_members ADD PRIMARY KEY (ch, k)');
        await client.query('CREATE UNLOGGED TABLE bench_channels AS SELECT ch AS n, min(channel_id) AS id, count(*)::int AS members FROM bench_members GROUP BY ch');
        await client.query('ALTER TABLE bench_channels ADD PRIMARY KEY (n)');
        await client.query('ANALYZE bench_members; ANALYZE bench_channels; ANALYZE bench_messages');
      });
      const memberChannels = Number((await client.query('SELECT count(*) AS n FROM bench_channels')).rows[0].n);
      const indexes = o.liveIndexes ? [] : (await client.query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'posts' AND indexname NOT IN (SELECT conname FROM pg_constraint)")).rows as { indexname: string; indexdef: string }[];
      await step('posts', async () => {
        for (const ix of indexes) await client.query(`DROP INDEX ${ix.indexname}`);
        const spacing = Math.max(1, Math.floor((o.days * 86_400_000) / o.posts));
        // Computing the full-text tsvector (a generated column) is most of the cost: two connections
        // insert chunks side by side so both cores work (one, in time order, when indexes are live).
        const chunk = o.liveIndexes ? 50_000 : 250_000;
        let next = 1;
        const worker = async () => {
          const c = new pg.Client(owner);
          await c.connect();
          try {
            await c.query("SET work_mem = '64MB'; SET synchronous_commit = off");
            while (next <= o.posts) {
              const start = next;
              const end = Math.min(o.posts, start + chunk - 1);
              next = end + 1;
              await c.query(
                `INSERT INTO posts (id, create_at, update_at, user_id, channel_id, root_id, message, reply_count, last_reply_at)
                 SELECT ${sqlId("'p' || i")}, $1::bigint + i * $2::bigint, $1::bigint + i * $2::bigint,
                        cm.user_id, ch.id,
                        CASE WHEN (i / $3::bigint) % 10 IN (5, 6) THEN ${sqlId("'p' || (i - $3::bigint * ((i / $3::bigint) % 10 - 3))")} ELSE '' END,
                        m.message,
                        CASE WHEN (i / $3::bigint) % 10 = 3 THEN (i + 2 * $3::bigint <= $7::bigint)::int + (i + 3 * $3::bigint <= $7::bigint)::int ELSE 0 END,
                        CASE WHEN (i / $3::bigint) % 10 = 3 AND i + 2 * $3::bigint <= $7::bigint THEN $1::bigint + (CASE WHEN i + 3 * $3::bigint <= $7::bigint THEN i + 3 * $3::bigint ELSE i + 2 * $3::bigint END) * $2::bigint ELSE 0 END
                 FROM generate_series($4::bigint, $5::bigint) i
                 JOIN bench_channels ch ON ch.n = i % $3::bigint
                 JOIN bench_members cm ON cm.ch = ch.n AND cm.k = abs(hashint8(i)) % ch.members
                 JOIN bench_messages m ON m.n = abs(hashint8(i * 7919)) % $6::bigint`,
                [now - o.posts * spacing, spacing, memberChannels, start, end, o.messagePool, o.posts],
              );
              log(`    posts ${start}-${end}`);
            }
          } finally {
            await c.end();
          }
        };
        await Promise.all(o.liveIndexes ? [worker()] : [worker(), worker()]);
      });
      await step('counters', async () => {
        await client.query(
          `UPDATE channels c SET total_msg_count = s.n, total_msg_count_root = s.roots, last_post_at = s.last, last_root_post_at = s.last_root
           FROM (SELECT channel_id, count(*) n, count(*) FILTER (WHERE root_id = '') roots, max(create_at) last, max(create_at) FILTER (WHERE root_id = '') last_root FROM posts GROUP BY channel_id) s
           WHERE s.channel_id = c.id`,
        );
        await client.query('UPDATE channel_members m SET msg_count = c.total_msg_count, msg_count_root = c.total_msg_count_root, last_viewed_at = c.last_post_at FROM channels c WHERE c.id = m.channel_id');
      });
      await step('post indexes', async () => {
        for (const ix of indexes) await client.query(ix.indexdef);
      });
    }
    await client.query('DROP TABLE IF EXISTS bench_messages, bench_members, bench_channels');
    await step('vacuum analyze', () => client.query('VACUUM ANALYZE'));
    const users = (await client.query("SELECT id, username FROM users WHERE username LIKE 'bench%' ORDER BY length(username), username")).rows;
    const teamIds = (await client.query("SELECT id FROM teams WHERE name LIKE 'team-%' ORDER BY length(name), name")).rows.map((r) => r.id as string);
    const bytes = (await client.query("SELECT pg_total_relation_size('posts') AS posts, pg_database_size(current_database()) AS db")).rows[0];
    return { password, userIds: users.map((r) => r.id), usernames: users.map((r) => r.username), teamIds, channels, posts: o.posts, seconds, bytes: { posts_table: Number(bytes.posts), database: Number(bytes.db) } };
  } finally {
    await client.end();
  }
}
