import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { DAY, insertPost, purge } from './helpers.ts';

/**
 * Property: random posts, edits, deletes, pins, holds (create, change, release), policy changes and
 * retention runs, in random order. After every run, the database holds exactly the posts an
 * independent model of the rules says survive (docs/decisions/0010): no held post or version is
 * missing, and no expired post that nothing holds or keeps remains. The model here is plain
 * JavaScript, written from the decision record, not from the SQL.
 */

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed with PROPERTY_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Words that PostgreSQL's English stemmer maps alike in queries and documents, and no stop words.
const vocabulary = ['apple', 'zebra', 'kiwi', 'mango', 'lemon', 'melon', 'ruby', 'opal', 'cobalt', 'walnut'];

interface ModelPost {
  id: string;
  user: string;
  channel: string;
  at: number;
  rootId: string;
  pinned: boolean;
  deleted: boolean;
  texts: string[];
  versions: number;
}
interface ModelHold {
  id: string;
  released: boolean;
  starts: number;
  ends: number;
  users: string[];
  groups: string[];
  channels: string[];
  query: string;
}
interface ModelPolicy {
  id: string;
  days: number;
  keepPinned: boolean;
  teams: string[];
  channels: string[];
}

const seeds = (process.env.PROPERTY_SEED ?? '20261122,7,1234').split(',').map(Number);
const steps = Number(process.env.PROPERTY_STEPS ?? 400);

for (const seed of seeds) describe(`retention and holds, property-style (seed ${seed})`, () => {
  let app: TestApp;
  let officer: TestUser;
  const users: TestUser[] = [];
  const channelTeam = new Map<string, string>();
  let teams: string[] = [];
  const groupId = 'prop-group';

  before(async function () {
    this.timeout(60_000);
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    for (let i = 0; i < 5; i++) users.push(await makeUser(app));
    const all = users.map((u) => u.user);
    teams = [(await makeTeam(app.ownerDb, { members: all })).id, (await makeTeam(app.ownerDb, { members: all })).id];
    for (const [team, type] of [[teams[0], 'O'], [teams[0], 'P'], [teams[1], 'O'], [teams[1], 'O']] as const) {
      channelTeam.set((await makeChannel(app.ownerDb, team, { type, members: all })).id, team);
    }
    // A direct message channel: no team, so only channel policies and the global one apply.
    const dm = newId();
    await app.ownerDb('channels').insert({ id: dm, team_id: '', type: 'D', name: `${users[0].user.id}__${users[1].user.id}`, create_at: Date.now(), update_at: Date.now() });
    for (const u of [users[0], users[1]]) await app.ownerDb('channel_members').insert({ channel_id: dm, user_id: u.user.id, scheme_user: true });
    channelTeam.set(dm, '');
    await app.ownerDb('groups').insert({ id: groupId, display_name: 'Property group', source: 'custom', remote_id: groupId, create_at: Date.now(), update_at: Date.now() });
  });
  after(async () => app?.close());

  it(`keeps every held version and no unheld expired post (seed ${seed}, ${steps} steps)`, async function () {
    this.timeout(240_000);
    const random = prng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const chance = (p: number) => random() < p;
    const some = <T>(list: readonly T[], max: number): T[] => [...new Set(Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(list)))];
    const now = () => Date.now();
    const channels = [...channelTeam.keys()];
    const userIds = users.map((u) => u.user.id);
    const tokenOf = new Map(users.map((u) => [u.user.id, u.token]));

    const posts = new Map<string, ModelPost>();
    const holds: ModelHold[] = [];
    const policies: ModelPolicy[] = [];
    const history: { user: string; channel: string; join: number; leave: number | null }[] = [];
    const groupMembers = new Set<string>();
    const global = { enabled: false, hours: 24 * 30, keepPinned: false };
    const log: string[] = [];

    // Membership history, random but fixed for the run: custodians' reach through channels.
    for (const user of userIds) {
      for (const channel of channels) {
        if (!chance(0.5)) continue;
        const join = now() - Math.floor(random() * 70) * DAY;
        const leave = chance(0.4) ? join + Math.floor(random() * 30) * DAY : null;
        history.push({ user, channel, join, leave });
      }
    }
    await app.ownerDb('channel_member_history').delete();
    if (history.length) await app.ownerDb('channel_member_history').insert(history.map((h) => ({ channel_id: h.channel, user_id: h.user, join_time: h.join, leave_time: h.leave })));
    for (const user of some(userIds, 2)) {
      groupMembers.add(user);
      await app.ownerDb('group_members').insert({ group_id: groupId, user_id: user, create_at: now() });
    }

    const words = (text: string) => text.toLowerCase().split(/\s+/);
    const custodians = (h: ModelHold) => new Set([...h.users, ...(h.groups.includes(groupId) ? groupMembers : [])]);
    const isHeld = (p: ModelPost) =>
      holds.some((h) => {
        if (h.released || p.at < h.starts || (h.ends !== 0 && p.at > h.ends)) return false;
        const who = custodians(h);
        const inScope = h.channels.includes(p.channel) || who.has(p.user) || history.some((m) => who.has(m.user) && m.channel === p.channel && m.join <= p.at && (m.leave === null || m.leave >= p.at));
        return inScope && (!h.query || p.texts.some((t) => words(t).includes(h.query)));
      });
    const ruleFor = (p: ModelPost): { cutoffDays?: number; cutoffHours?: number; keepPinned: boolean } | undefined => {
      const byChannel = policies.find((x) => x.channels.includes(p.channel));
      const team = channelTeam.get(p.channel)!;
      const byTeam = byChannel ?? policies.find((x) => x.teams.includes(team));
      if (byTeam) return byTeam.days < 0 ? undefined : { cutoffDays: byTeam.days, keepPinned: byTeam.keepPinned };
      return global.enabled ? { cutoffHours: global.hours, keepPinned: global.keepPinned } : undefined;
    };

    const livePosts = () => [...posts.values()].filter((p) => !p.deleted);
    const api = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await request(app, method, path, { token, body });
      expect(res.status, `${method} ${path}: ${res.text}\n${log.join('\n')}`).to.be.below(300);
      return res.json;
    };

    const check = async (label: string) => {
      const rows = (await app.ownerDb('posts').select('id')) as { id: string }[];
      const actual = new Set(rows.map((r) => r.id));
      const expected = new Set(posts.keys());
      const missing = [...expected].filter((id) => !actual.has(id));
      const extra = [...actual].filter((id) => !expected.has(id));
      const context = `${label} (seed ${seed})\n${log.slice(-25).join('\n')}`;
      expect(missing.map((id) => ({ id, held: isHeld(posts.get(id)!) })), `posts deleted that should remain: ${context}`).to.deep.equal([]);
      expect(extra, `posts remaining that should be gone: ${context}`).to.deep.equal([]);
      const counts = (await app.ownerDb('post_versions').groupBy('post_id').select('post_id').count({ n: '*' })) as { post_id: string; n: string }[];
      const versionCount = new Map(counts.map((c) => [c.post_id, Number(c.n)]));
      for (const p of posts.values()) expect(versionCount.get(p.id) ?? 0, `versions of ${p.id}: ${context}`).to.equal(p.versions);
      expect([...versionCount.keys()].filter((id) => !posts.has(id)), `orphan versions: ${context}`).to.deep.equal([]);
    };

    let runs = 0;
    const stats = { deleted: 0, heldSaves: 0, heldByPriorVersion: 0, pinnedSaves: 0 };
    const retentionRun = async (label: string, batchSize: number) => {
      const at = now();
      await purge(app, { now: at, batchSize });
      runs++;
      for (const p of [...posts.values()]) {
        const rule = ruleFor(p);
        if (!rule) continue;
        const cutoff = at - (rule.cutoffDays !== undefined ? rule.cutoffDays * DAY : rule.cutoffHours! * 3_600_000);
        if (p.at >= cutoff) continue;
        if (isHeld(p)) {
          stats.heldSaves++;
          if (!isHeld({ ...p, texts: p.texts.slice(-1) })) stats.heldByPriorVersion++;
        }
        else if (rule.keepPinned && p.pinned) stats.pinnedSaves++;
        else {
          posts.delete(p.id);
          stats.deleted++;
        }
      }
      log.push(`retention run ${runs} (batch ${batchSize})`);
      await check(`after retention run ${runs}, ${label}`);
    };
    for (let step = 0; step < steps; step++) {
      const roll = random();
      if (roll < 0.3 || posts.size < 5) {
        const channel = pick(channels);
        const members = channelTeam.get(channel) === '' ? [userIds[0], userIds[1]] : userIds;
        const user = pick(members);
        const roots = livePosts().filter((p) => p.channel === channel && !p.rootId);
        const rootId = roots.length && chance(0.25) ? pick(roots).id : '';
        const at = now() - Math.floor(random() * 60 * 24) * 3_600_000;
        const text = some(vocabulary, 2).join(' ');
        const id = await insertPost(app.ownerDb, { user, channel, at, message: text, rootId });
        posts.set(id, { id, user, channel, at, rootId, pinned: false, deleted: false, texts: [text], versions: 0 });
        log.push(`post ${id} by ${user} in ${channel} at -${Math.round((now() - at) / DAY)}d "${text}"${rootId ? ` reply to ${rootId}` : ''}`);
      } else if (roll < 0.45 && livePosts().length) {
        const p = pick(livePosts());
        // Half the edits drop every query word, so only a prior version still matches a hold's query.
        const text = some(chance(0.5) ? vocabulary.slice(4) : vocabulary, 2).join(' ');
        await api('PUT', `/api/v4/posts/${p.id}/patch`, tokenOf.get(p.user)!, { message: text });
        p.texts.push(text);
        p.versions++;
        log.push(`edit ${p.id} "${text}"`);
      } else if (roll < 0.5 && livePosts().length) {
        const p = pick(livePosts());
        await api('DELETE', `/api/v4/posts/${p.id}`, tokenOf.get(p.user)!);
        for (const victim of livePosts().filter((x) => x.id === p.id || (!p.rootId && x.rootId === p.id))) {
          victim.deleted = true;
          victim.versions++;
        }
        log.push(`delete ${p.id}`);
      } else if (roll < 0.54 && livePosts().length) {
        const p = pick(livePosts());
        await api('POST', `/api/v4/posts/${p.id}/${p.pinned ? 'unpin' : 'pin'}`, tokenOf.get(p.user)!);
        p.pinned = !p.pinned;
        p.versions++;
        log.push(`pin ${p.id} ${p.pinned}`);
      } else if (roll < 0.62) {
        const starts = chance(0.5) ? 0 : now() - Math.floor(random() * 60) * DAY;
        const ends = chance(0.5) ? 0 : starts + Math.floor(1 + random() * 30) * DAY;
        // Mostly one kind of scope per hold, so each rule of the definition decides some posts alone.
        const kind = random();
        const scope = {
          user_ids: kind < 0.4 || chance(0.15) ? some(userIds, 2) : [],
          group_ids: (kind >= 0.4 && kind < 0.7) || chance(0.1) ? [groupId] : [],
          channel_ids: kind >= 0.7 || chance(0.1) ? [pick(channels)] : [],
        };
        const query = chance(0.6) ? pick(vocabulary.slice(0, 4)) : '';
        const hold = await api('POST', '/api/v4/legal_holds', officer.token, { display_name: `Hold ${step}`, starts_at: starts, ends_at: ends, query, ...scope });
        holds.push({ id: hold.id, released: false, starts, ends, users: scope.user_ids, groups: scope.group_ids, channels: scope.channel_ids, query });
        log.push(`hold ${hold.id} ${JSON.stringify({ starts: starts && Math.round((now() - starts) / DAY), ends: ends && Math.round((now() - ends) / DAY), query, ...scope })}`);
      } else if (roll < 0.7 && holds.some((h) => !h.released)) {
        const h = pick(holds.filter((x) => !x.released));
        if (chance(0.6)) {
          await api('POST', `/api/v4/legal_holds/${h.id}/release`, officer.token, {});
          h.released = true;
          log.push(`release ${h.id}`);
        } else {
          const users2 = some(userIds, 2);
          const query = chance(0.5) ? '' : h.query;
          await api('PATCH', `/api/v4/legal_holds/${h.id}`, officer.token, { user_ids: users2, query });
          h.users = users2;
          h.query = query;
          log.push(`narrow/widen ${h.id} users=${users2.join(',')} query=${query}`);
        }
      } else if (roll < 0.76) {
        if (chance(0.5)) {
          global.enabled = chance(0.85);
          global.hours = (1 + Math.floor(random() * 50)) * 24;
          global.keepPinned = chance(0.5);
          await api('PUT', '/api/v4/data_retention/policy', officer.token, { message_deletion_enabled: global.enabled, message_retention_hours: global.hours, keep_pinned: global.keepPinned });
          log.push(`global ${JSON.stringify(global)}`);
        } else if (policies.length && chance(0.4)) {
          const p = policies.splice(Math.floor(random() * policies.length), 1)[0];
          await api('DELETE', `/api/v4/data_retention/policies/${p.id}`, officer.token);
          log.push(`drop policy ${p.id}`);
        } else {
          const taken = new Set(policies.flatMap((p) => [...p.teams, ...p.channels]));
          const onTeam = chance(0.4);
          const target = onTeam ? pick(teams) : pick(channels);
          if (!taken.has(target)) {
            const days = chance(0.2) ? -1 : 1 + Math.floor(random() * 50);
            const keepPinned = chance(0.5);
            const body = { display_name: `P${step}`, post_duration: days, keep_pinned: keepPinned, team_ids: onTeam ? [target] : [], channel_ids: onTeam ? [] : [target] };
            const created = await api('POST', '/api/v4/data_retention/policies', officer.token, body);
            policies.push({ id: created.id, days, keepPinned, teams: body.team_ids, channels: body.channel_ids });
            log.push(`policy ${created.id} ${JSON.stringify(body)}`);
          }
        }
      } else if (roll < 0.82) {
        await retentionRun(`step ${step}`, 2 + Math.floor(random() * 15));
      }
    }
    await retentionRun('the end', 7);
    if (process.env.PROPERTY_STATS) process.stdout.write(`      ${JSON.stringify({ runs, holds: holds.length, posts: posts.size, ...stats })}\n`);
    expect(runs, 'the sequence ran retention several times').to.be.greaterThan(3);
    expect(holds.length, 'and created holds').to.be.greaterThan(3);
  });
});
