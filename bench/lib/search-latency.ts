// Search latency over a seeded world (bench/lib/world.ts): eDiscovery and user search for two terms +
// a date range + from:, queries built from real posts so each has hits, as a reviewer's query usually
// does. Shared by bench/search.ts and bench/retention.ts.
import type pg from 'pg';
import { seedSessions } from './sessions.ts';
import { summarize } from './stats.ts';
import { rng } from './text.ts';

const DAY = 86_400_000;

const STOP = new Set(['the', 'and', 'that', 'have', 'for', 'not', 'with', 'this', 'but', 'his', 'from', 'they', 'say', 'her', 'she', 'will', 'one', 'all', 'would', 'there', 'their', 'what', 'about', 'who', 'get', 'which', 'when', 'make', 'can', 'like', 'time', 'just', 'him', 'know', 'take', 'into', 'year', 'your', 'good', 'some', 'could', 'them', 'see', 'other', 'than', 'then', 'now', 'look', 'only', 'come', 'its', 'over', 'think', 'also', 'back', 'after', 'use', 'two', 'how', 'our', 'work', 'first', 'well', 'way', 'even', 'new', 'want', 'because', 'any', 'these', 'give', 'day', 'most', 'were', 'been', 'has', 'had', 'did', 'does', 'done']);

/**
 * Prior versions (edits) for 2 % of the posts, so eDiscovery searches versions of realistic size; an
 * edit moves the post's update_at and edit_at, as the posts service does.
 */
export async function seedEdits(db: pg.Client): Promise<void> {
  await db.query(
    `INSERT INTO post_versions (post_id, reason, message, props, file_ids, is_pinned, version_create_at, replaced_at, replaced_by)
     SELECT id, 'edit', message || ' (draft)', '{}', '[]', false, create_at, create_at + 60000, user_id FROM posts WHERE abs(hashtext(id)) % 50 = 0`,
  );
  await db.query('UPDATE posts SET update_at = create_at + 60000, edit_at = create_at + 60000 WHERE abs(hashtext(id)) % 50 = 0');
  await db.query('VACUUM ANALYZE posts, post_versions');
}

export interface SearchShape {
  terms: string;
  user: { id: string; username: string };
  teamId: string;
}

/** Queries from real root posts: two of their words, their author, a 90-day window around them. */
export async function searchShapes(db: pg.Client, count: number, seed = 42): Promise<SearchShape[]> {
  const random = rng(seed);
  const samples = (await db.query(`SELECT p.message, p.create_at, u.username, u.id, c.team_id FROM posts p TABLESAMPLE SYSTEM (1) JOIN users u ON u.id = p.user_id JOIN channels c ON c.id = p.channel_id WHERE p.root_id = '' LIMIT 2000`)).rows as { message: string; create_at: string; username: string; id: string; team_id: string }[];
  const shapes: SearchShape[] = [];
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  for (const sample of samples) {
    if (shapes.length >= count) break;
    const words = [...new Set(sample.message.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 4 && !STOP.has(w)))];
    if (words.length < 2) continue;
    const a = words[Math.floor(random() * words.length)];
    let b = words[Math.floor(random() * words.length)];
    while (b === a) b = words[Math.floor(random() * words.length)];
    const at = Number(sample.create_at) - Math.floor(random() * 60) * DAY;
    shapes.push({ terms: `${a} ${b} after:${day(at - 15 * DAY)} before:${day(at + 75 * DAY)} from:${sample.username}`, user: sample, teamId: sample.team_id });
  }
  return shapes;
}

type Api = (token: string, method: string, path: string, body?: unknown) => Promise<{ json: Record<string, unknown>; ms: number }>;

/** Runs every shape as an eDiscovery search (with and without from:) and as the author's user search. */
export async function measureSearches(owner: pg.ClientConfig, api: Api, officerToken: string, shapes: SearchShape[]): Promise<Record<string, unknown>> {
  const ediscovery: number[] = [];
  const ediscoveryNoFrom: number[] = [];
  let ediscoveryHits = 0;
  let broadHits = 0;
  for (const q of shapes) {
    const r = await api(officerToken, 'POST', '/api/v4/ediscovery/search', { terms: q.terms, per_page: 60 });
    ediscovery.push(r.ms);
    ediscoveryHits += Number(r.json.total_count);
    const broad = await api(officerToken, 'POST', '/api/v4/ediscovery/search', { terms: q.terms.replace(/ from:\S+/, ''), per_page: 60 });
    ediscoveryNoFrom.push(broad.ms);
    broadHits += Number(broad.json.total_count);
  }
  const userSearch: number[] = [];
  let userHits = 0;
  // The searcher is the author (a member of the channels the post is in), searching their team.
  const authorTokens = await seedSessions(owner, shapes.map((q) => q.user.id));
  for (const [i, q] of shapes.entries()) {
    const r = await api(authorTokens[i], 'POST', `/api/v4/teams/${q.teamId}/posts/search`, { terms: q.terms, is_or_search: false, per_page: 60 });
    userSearch.push(r.ms);
    userHits += (r.json.order as string[]).length;
  }
  const n = shapes.length || 1;
  return {
    query: 'two terms + after:/before: (90 days) + from:<user>, newest 60, over every version',
    queries: shapes.length,
    ediscovery_ms: summarize(ediscovery), ediscovery_mean_total_count: Math.round(ediscoveryHits / n),
    ediscovery_without_from_ms: summarize(ediscoveryNoFrom), ediscovery_without_from_mean_total_count: Math.round(broadHits / n),
    user_search_ms: summarize(userSearch), user_search_mean_hits: Math.round(userHits / n),
  };
}

/** A fetch of the bench server's API, timed. */
export function apiClient(baseUrl: string): Api {
  return async (token, method, path, body) => {
    const started = performance.now();
    const res = await fetch(baseUrl + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    return { json: text ? JSON.parse(text) : {}, ms };
  };
}
