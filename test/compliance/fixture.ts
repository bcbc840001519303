import fs from 'node:fs';
import path from 'node:path';
import type { Job } from '@mattermost/types/jobs';
import { expect } from 'chai';
import { bootApp, type TestApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { readZip } from '../../compliance/export/zip-read.ts';
import { newId } from '../../server/lib/ids.ts';

const pause = (ms = 3) => new Promise((r) => setTimeout(r, ms));

/** Text that has broken exporters: markup, formula injection, controls, CDATA end, astral emoji, RTL, CRLF. */
export const HOSTILE = `=HYPERLINK("http://evil.example","x") <script>alert('&')</script> ]]> \u0001\u0008 😀🏳️‍🌈 مرحبا\r\nline two "quoted", comma`;

export interface Fixture {
  app: TestApp;
  admin: TestUser;
  officer: TestUser;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
  channels: { town: string; secret: string; dm: string; gm: string };
  posts: { hello: string; reply: string; edited: string; deleted: string; hostile: string; withFile: string; missingFile: string; reacted: string };
}

/**
 * A small workspace built through the API as clients would: a public and a private channel, a direct
 * and a group message; posts with a reply, an edit, a deletion, a reaction, hostile text, an attached
 * file and one whose content went missing; carol joins and leaves the public channel.
 */
export async function buildFixture(env: Record<string, string> = {}): Promise<Fixture> {
  const app = await bootApp({ CUSTODIAN_JOB_ROLE: 'all', ...env });
  const admin = await makeUser(app, { username: 'admin', roles: 'system_user system_admin' });
  const officer = await makeUser(app, { username: 'officer', roles: 'system_user compliance_officer' });
  const alice = await makeUser(app, { username: 'alice' });
  const bob = await makeUser(app, { username: 'bob' });
  const carol = await makeUser(app, { username: 'carol' });
  const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, carol.user] });
  await app.ownerDb('teams').where({ id: team.id }).update({ name: 'acme', display_name: 'Acme & Co' });
  const a = client4(app, alice.token);
  const b = client4(app, bob.token);
  const c = client4(app, carol.token);

  const town = await a.createChannel({ team_id: team.id, name: 'town', display_name: 'Town <Square>', type: 'O' } as never);
  await pause();
  await a.addToChannel(bob.user.id, town.id);
  await pause();
  const secret = await a.createChannel({ team_id: team.id, name: 'secret', display_name: 'Secret ☂', type: 'P' } as never);
  await a.addToChannel(carol.user.id, secret.id);
  await pause();
  const dm = await a.createDirectChannel([alice.user.id, bob.user.id]);
  await pause();
  const gm = await a.createGroupChannel([alice.user.id, bob.user.id, carol.user.id]);
  await pause();

  const post = async (client: typeof a, channelId: string, message: string, extra: Record<string, unknown> = {}) => {
    const p = await client.createPost({ channel_id: channelId, message, ...extra } as never);
    await pause();
    return p.id;
  };
  const hello = await post(a, town.id, 'Hello team :wave:');
  const reply = await post(b, town.id, 'Welcome, alice!', { root_id: hello });
  const edited = await post(a, town.id, 'First draft');
  await a.patchPost({ id: edited, message: 'Final wording' });
  await pause();
  const deleted = await post(b, town.id, 'Oops, wrong channel');
  await b.deletePost(deleted);
  await pause();
  const hostile = await post(a, secret.id, HOSTILE);
  await c.addReaction(carol.user.id, hostile, 'smile');
  await pause();
  const reacted = hostile;

  const upload = async (client: typeof a, channelId: string, name: string, bytes: Buffer) => {
    const form = new FormData();
    form.append('channel_id', channelId);
    form.append('files', new Blob([bytes], { type: 'text/plain' }), name);
    return (await client.uploadFile(form)).file_infos[0].id;
  };
  const fileId = await upload(b, dm.id, 'minutes.txt', Buffer.from('minutes of the meeting\n'));
  const withFile = await post(b, dm.id, 'Minutes attached', { file_ids: [fileId] });
  const lostId = await upload(a, gm.id, 'lost.txt', Buffer.from('this content will go missing\n'));
  const missingFile = await post(a, gm.id, 'Here is the file', { file_ids: [lostId] });
  const lost = await app.ownerDb('file_infos').where({ id: lostId }).first();
  fs.rmSync(path.join(app.dataDir, 'files', lost.path));

  await c.addToChannel(carol.user.id, town.id).catch(() => a.addToChannel(carol.user.id, town.id));
  await pause();
  await post(c, town.id, 'Hi all, just passing through');
  await c.removeFromChannel(carol.user.id, town.id);
  // An export's end time trails the clock by a second (writes still committing): let it pass.
  await pause(1100);
  return {
    app, admin, officer, alice, bob, carol,
    channels: { town: town.id, secret: secret.id, dm: dm.id, gm: gm.id },
    posts: { hello, reply, edited, deleted, hostile, withFile, missingFile, reacted },
  };
}

const finished = new Set(['success', 'warning', 'error', 'canceled']);

/** Polls a job until it finishes. */
export async function waitForJob(app: TestApp, token: string, id: string, timeoutMs = 20_000): Promise<Job> {
  const client = client4(app, token);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await client.getJob(id);
    if (finished.has(job.status)) return job;
    await pause(50);
  }
  throw new Error(`job ${id} did not finish in ${timeoutMs} ms`);
}

/** Runs an export job through the API (whole history unless `data` says otherwise) and waits for it. */
export async function runExport(f: Fixture, data: Record<string, string>): Promise<Job> {
  const job = await client4(f.app, f.officer.token).createJob({ type: 'message_export', data } as never);
  const done = await waitForJob(f.app, f.officer.token, job.id);
  expect(['success', 'warning'], JSON.stringify(done)).to.include(done.status);
  return done;
}

/** The committed batches of a job, with their zip paths. */
export async function batchesOf(app: TestApp, jobId: string): Promise<{ seq: number; file: string; sha256: string; counts: Record<string, number> }[]> {
  const rows = await app.ownerDb('compliance_export_batches').where({ job_id: jobId }).orderBy('seq');
  return rows.map((r) => ({ seq: r.seq, file: path.join(app.dataDir, 'exports', r.file_key), sha256: r.sha256, counts: r.counts }));
}

/** Every entry of a zip, as buffers by name. */
export async function zipEntries(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const entry of readZip(file)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await entry.open()) chunks.push(chunk as Buffer);
    out.set(entry.name, Buffer.concat(chunks));
  }
  return out;
}

/**
 * Replaces what changes from run to run (ids, epoch-ms and ISO times, hashes, boundaries) with stable
 * placeholders numbered in order of first appearance, so an output can be compared with its golden file.
 */
export function normalise(text: string): string {
  const maps = new Map<string, Map<string, string>>();
  const label = (kind: string, value: string) => {
    let map = maps.get(kind);
    if (!map) maps.set(kind, (map = new Map()));
    if (!map.has(value)) map.set(value, `<${kind}${map.size + 1}>`);
    return map.get(value)!;
  };
  return text
    .replace(/\b[0-9a-f]{64}\b/g, (v) => label('SHA', v))
    .replace(/(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/g, (v) => label('GROUP', v))
    .replace(/[a-z0-9]{26}__[a-z0-9]{26}/g, (v) => label('DM', v))
    .replace(/=_custodian_[0-9a-f]{24}/g, (v) => label('BOUNDARY', v))
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, (v) => label('ISO', v))
    .replace(/\b(Sun|Mon|Tue|Wed|Thu|Fri|Sat), \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000/g, (v) => label('DATE', v))
    .replace(/\b1[7-9]\d{11}\b/g, (v) => label('T', v))
    .replace(/(?<![a-z0-9])[a-z0-9]{26}(?![a-z0-9])/g, (v) => label('ID', v))
    .replace(/\b\d\d:\d\d:\d\d\b/g, '<DURATION>');
}

/** Compares with test/compliance/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(import.meta.dirname, 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  expect(actual, `differs from golden ${name} (UPDATE_GOLDEN=1 to accept)`).to.equal(fs.readFileSync(file, 'utf8'));
}

/** Seeds `posts` posts over `channels` channels, five members each, straight into the database. */
export async function seedPosts(app: TestApp, channels: number, posts: number): Promise<void> {
  const db = app.ownerDb;
  const base = Date.now() - 3_600_000;
  const users = Array.from({ length: 5 }, (_, i) => ({ id: newId(), username: `member${i}`, email: `member${i}@example.com`, create_at: base, update_at: base }));
  await db('users').insert(users);
  const team = newId();
  await db('teams').insert({ id: team, name: 'large', display_name: 'Large', type: 'O', invite_id: newId(), create_at: base, update_at: base });
  const ids = Array.from({ length: channels }, () => newId());
  await db('channels').insert(ids.map((id, i) => ({ id, team_id: team, name: `room-${i}`, display_name: `Room ${i}`, type: 'O', create_at: base, update_at: base })));
  await db('channel_member_history').insert(ids.flatMap((c) => users.map((u) => ({ channel_id: c, user_id: u.id, join_time: base }))));
  const rows = Array.from({ length: posts }, (_, i) => ({ id: newId(), create_at: base + 1000 + i, update_at: base + 1000 + i, user_id: users[i % 5].id, channel_id: ids[i % channels], message: `note ${i}` }));
  for (let i = 0; i < rows.length; i += 1000) await db('posts').insert(rows.slice(i, i + 1000));
}
