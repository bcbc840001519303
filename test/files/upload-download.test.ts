import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FileUploadResponse } from '@mattermost/types/files';
import { attachFilesToPost } from '../../server/files/service.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { actorFor, filesUnder, jpegHeader, multipart, png, sha256 } from './fixtures.ts';

describe('file uploads and downloads (POST /files, GET /files/{id})', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let publicChannel: { id: string };
  let privateChannel: { id: string };

  before(async () => {
    app = await bootApp();
    alice = await makeUser(app);
    bob = await makeUser(app);
    mallory = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, mallory.user] });
    publicChannel = await makeChannel(app.ownerDb, team.id, { type: 'O', members: [alice.user] });
    privateChannel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] });
  });
  after(async () => app.close());

  const form = (channelId: string | undefined, files: { bytes: Buffer; name: string; type?: string }[], clientIds: string[] = []) => {
    const data = new FormData();
    if (channelId) data.append('channel_id', channelId);
    for (const f of files) data.append('files', new Blob([f.bytes], { type: f.type ?? 'application/octet-stream' }), f.name);
    for (const id of clientIds) data.append('client_ids', id);
    return data;
  };
  const upload = (user: TestUser, channelId: string, bytes: Buffer, name: string, type?: string): Promise<FileUploadResponse> =>
    client4(app, user.token).uploadFile(form(channelId, [{ bytes, name, type }]));
  const download = (user: TestUser | undefined, urlPath: string, headers: Record<string, string> = {}) =>
    fetch(app.url + urlPath, { headers: { ...(user ? { Authorization: `Bearer ${user.token}` } : {}), ...headers } });
  const attach = async (user: TestUser, channelId: string, fileIds: string[]) => {
    const post = await client4(app, user.token).createPost({ channel_id: channelId, message: 'see attached' } as never);
    await app.ownerDb.transaction((trx) => attachFilesToPost(trx, actorFor(user.user.id), channelId, post.id, fileIds));
    return post.id;
  };

  it('uploads through Client4 and downloads the identical bytes, with Mattermost FileInfo fields', async () => {
    const bytes = crypto.randomBytes(200_000);
    const before = Date.now();
    const res = await client4(app, alice.token).uploadFile(form(publicChannel.id, [{ bytes, name: 'report.bin' }], ['client-1']));
    expect(res.client_ids).to.deep.equal(['client-1']);
    expect(res.file_infos).to.have.length(1);
    const info = res.file_infos[0];
    expect(info).to.include({
      user_id: alice.user.id, channel_id: publicChannel.id, post_id: '', name: 'report.bin', extension: 'bin', size: bytes.length,
      mime_type: 'application/octet-stream', width: 0, height: 0, has_preview_image: false, delete_at: 0,
    });
    expect(info.id).to.match(/^[a-z0-9]{26}$/);
    expect(info.create_at).to.be.within(before, Date.now());
    expect(info).to.not.have.any.keys('path', 'sha256', 'creator_id');

    const got = await download(alice, `/api/v4/files/${info.id}`);
    expect(got.status).to.equal(200);
    expect(got.headers.get('content-type')).to.equal('application/octet-stream');
    expect(got.headers.get('content-length')).to.equal(String(bytes.length));
    expect(got.headers.get('content-disposition')).to.equal(`attachment; filename="report.bin"; filename*=UTF-8''report.bin`);
    expect(got.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(sha256(await got.arrayBuffer())).to.equal(sha256(bytes));

    const infoRes = await request(app, 'GET', `/api/v4/files/${info.id}/info`, { token: alice.token });
    expect(infoRes.status).to.equal(200);
    expect(infoRes.headers.get('content-type')).to.equal('application/json');
    expect(infoRes.json).to.deep.equal(info);

    const row = await app.ownerDb('file_infos').where({ id: info.id }).first();
    expect(row.sha256).to.equal(sha256(bytes));
    expect(filesUnder(path.join(app.dataDir, 'files')).map((f) => path.relative(path.join(app.dataDir, 'files'), f))).to.include(row.path);
  });

  it('accepts several files, with channel_id after the files or in the query', async () => {
    const a = Buffer.from('first file');
    const b = crypto.randomBytes(5000);
    const data = new FormData();
    data.append('files', new Blob([a]), 'a.txt');
    data.append('files', new Blob([b]), 'b.bin');
    data.append('channel_id', publicChannel.id);
    const after = await client4(app, alice.token).uploadFile(data);
    expect(after.file_infos.map((f) => [f.name, f.size])).to.deep.equal([['a.txt', a.length], ['b.bin', b.length]]);
    expect(after.client_ids).to.deep.equal([]);

    const res = await fetch(`${app.url}/api/v4/files?channel_id=${publicChannel.id}`, { method: 'POST', headers: { Authorization: `Bearer ${alice.token}` }, body: form(undefined, [{ bytes: a, name: 'q.txt' }]) });
    expect(res.status).to.equal(201);
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(((await res.json()) as FileUploadResponse).file_infos[0]).to.include({ name: 'q.txt', channel_id: publicChannel.id, mime_type: 'text/plain' });
  });

  it('trusts the bytes, not the declared type or name: a PNG called .txt is an image', async () => {
    const bytes = png(48, 32);
    const { file_infos: [info] } = await upload(alice, publicChannel.id, bytes, 'holiday.txt', 'text/plain');
    expect(info).to.include({ mime_type: 'image/png', extension: 'txt', width: 48, height: 32, has_preview_image: true });
    const got = await download(alice, `/api/v4/files/${info.id}`);
    expect(got.headers.get('content-type')).to.equal('image/png');
    expect(got.headers.get('content-disposition')).to.match(/^inline; /);
    expect(sha256(await got.arrayBuffer())).to.equal(sha256(bytes));

    const forced = await download(alice, `/api/v4/files/${info.id}?download=1`);
    expect(forced.headers.get('content-disposition')).to.match(/^attachment; /);
    await forced.arrayBuffer();
    for (const variant of ['thumbnail', 'preview']) {
      const res = await download(alice, `/api/v4/files/${info.id}/${variant}`);
      expect(res.status, variant).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('image/png');
      expect(sha256(await res.arrayBuffer())).to.equal(sha256(bytes));
    }
  });

  it('never serves an HTML file declared as an image inline, nor as HTML', async () => {
    const html = Buffer.from('<html><body><script>fetch("/api/v4/users/me")</script></body></html>');
    const { file_infos: [info] } = await upload(alice, publicChannel.id, html, 'cat.png', 'image/png');
    expect(info).to.include({ mime_type: 'text/plain', has_preview_image: false, width: 0, height: 0 });
    const got = await download(alice, `/api/v4/files/${info.id}`);
    expect(got.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(got.headers.get('content-disposition')).to.match(/^attachment; /);
    expect(got.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(got.headers.get('content-security-policy')).to.include('sandbox');
    expect(await got.text()).to.equal(html.toString());
    const thumb = await request(app, 'GET', `/api/v4/files/${info.id}/thumbnail`, { token: alice.token });
    expect(thumb.status).to.equal(400);
  });

  it('reads JPEG dimensions and keeps a hostile file name out of the storage path', async () => {
    const { file_infos: [info] } = await upload(alice, publicChannel.id, jpegHeader(1024, 768), '../../../etc/"quoted"\r\nname.jpg');
    expect(info).to.include({ mime_type: 'image/jpeg', width: 1024, height: 768, extension: 'jpg' });
    expect(info.name).to.not.match(/[/\r\n]/);
    const row = await app.ownerDb('file_infos').where({ id: info.id }).first();
    expect(row.path).to.not.include('..');
    const got = await download(alice, `/api/v4/files/${info.id}`);
    expect(got.headers.get('content-disposition')).to.match(/^inline; filename="[^"]*"; filename\*=UTF-8''[^\s"]+$/);
    await got.arrayBuffer();
  });

  it('serves byte ranges: 206 with Content-Range, suffix and open ranges, and 416 past the end', async () => {
    const bytes = Buffer.from('0123456789abcdefghij');
    const { file_infos: [info] } = await upload(alice, publicChannel.id, bytes, 'range.txt');
    const url = `/api/v4/files/${info.id}`;
    const cases: [string, string, string][] = [['bytes=0-9', '0123456789', 'bytes 0-9/20'], ['bytes=15-', 'fghij', 'bytes 15-19/20'], ['bytes=-3', 'hij', 'bytes 17-19/20'], ['bytes=18-100', 'ij', 'bytes 18-19/20']];
    for (const [range, body, contentRange] of cases) {
      const res = await download(alice, url, { Range: range });
      expect(res.status, range).to.equal(206);
      expect(res.headers.get('content-range'), range).to.equal(contentRange);
      expect(res.headers.get('content-length'), range).to.equal(String(body.length));
      expect(await res.text(), range).to.equal(body);
    }
    const beyond = await download(alice, url, { Range: 'bytes=20-' });
    expect(beyond.status).to.equal(416);
    expect(beyond.headers.get('content-range')).to.equal('bytes */20');
    expect(((await beyond.json()) as { status_code: number }).status_code).to.equal(416);
    const several = await download(alice, url, { Range: 'bytes=0-1,5-6' });
    expect(several.status).to.equal(200);
    expect(await several.text()).to.equal(bytes.toString());
    const whole = await download(alice, url);
    expect(whole.headers.get('accept-ranges')).to.equal('bytes');
    const etag = whole.headers.get('etag') as string;
    await whole.arrayBuffer();
    expect((await download(alice, url, { 'If-None-Match': etag })).status).to.equal(304);
    const staleRange = await download(alice, url, { Range: 'bytes=0-1', 'If-Range': '"other"' });
    expect(staleRange.status).to.equal(200);
    await staleRange.arrayBuffer();
  });

  it('lets only members upload to a private channel, and only readers of it read its files (403)', async () => {
    expect(await statusOf(() => upload(mallory, privateChannel.id, Buffer.from('sneaky'), 'x.txt'))).to.equal(403);
    const { file_infos: [info] } = await upload(alice, privateChannel.id, Buffer.from('secret plans'), 'plans.txt');
    await attach(alice, privateChannel.id, [info.id]);
    for (const suffix of ['', '/info', '/thumbnail']) {
      const res = await request(app, 'GET', `/api/v4/files/${info.id}${suffix}`, { token: mallory.token });
      expect(res.status, suffix).to.equal(403);
      expect(res.text).to.not.include('secret');
    }
    const asBob = await download(bob, `/api/v4/files/${info.id}`);
    expect(asBob.status).to.equal(200);
    expect(await asBob.text()).to.equal('secret plans');
  });

  it('shows a file only to its uploader until it is attached to a post, then to every reader of a public channel', async () => {
    const { file_infos: [info] } = await upload(alice, publicChannel.id, Buffer.from('draft'), 'draft.txt');
    expect((await request(app, 'GET', `/api/v4/files/${info.id}/info`, { token: bob.token })).status).to.equal(403);
    expect((await request(app, 'GET', `/api/v4/files/${info.id}`, { token: bob.token })).status).to.equal(403);
    const postId = await attach(alice, publicChannel.id, [info.id]);
    // Bob is on the team but has not joined the public channel: he may still read it.
    const res = await request(app, 'GET', `/api/v4/files/${info.id}/info`, { token: bob.token });
    expect(res.status).to.equal(200);
    expect(res.json.post_id).to.equal(postId);
    const got = await download(bob, `/api/v4/files/${info.id}`);
    expect(await got.text()).to.equal('draft');
  });

  it('does not let a non-member upload to a public channel', async () => {
    expect(await statusOf(() => upload(bob, publicChannel.id, Buffer.from('hi'), 'hi.txt'))).to.equal(403);
  });

  it('refuses bad uploads with Mattermost errors and stores nothing', async () => {
    const rowsBefore = Number((await app.ownerDb('file_infos').count({ n: '*' }))[0].n);
    const filesBefore = filesUnder(path.join(app.dataDir, 'files')).length;
    const post = (body: RequestInit['body'], headers: Record<string, string> = {}, query = '') =>
      fetch(`${app.url}/api/v4/files${query}`, { method: 'POST', headers: { Authorization: `Bearer ${alice.token}`, ...headers }, body });
    const expectError = async (res: Response, status: number, label: string) => {
      expect(res.status, label).to.equal(status);
      expect(res.headers.get('content-type'), label).to.equal('application/json');
      const json = (await res.json()) as { id: string; status_code: number };
      expect(json.status_code, label).to.equal(status);
      expect(json.id, label).to.be.a('string');
      return json;
    };

    await expectError(await post(form(undefined, [{ bytes: Buffer.from('x'), name: 'x.txt' }])), 400, 'missing channel_id');
    await expectError(await post(form(publicChannel.id, [])), 400, 'no files');
    const ghost = 'a'.repeat(26);
    await expectError(await post(form(ghost, [{ bytes: Buffer.from('x'), name: 'x.txt' }])), 404, 'unknown channel');
    await expectError(await post(form(undefined, [{ bytes: Buffer.from('x'), name: 'x.txt' }]), {}, `?channel_id=${ghost}`), 404, 'unknown channel in query');
    await expectError(await post(form('not-an-id', [{ bytes: Buffer.from('x'), name: 'x.txt' }])), 400, 'malformed channel_id');
    await expectError(await post(form(publicChannel.id, [{ bytes: Buffer.from('x'), name: 'x.txt' }]), {}, `?channel_id=${privateChannel.id}`), 400, 'two channels');
    await expectError(await post(form(publicChannel.id, [{ bytes: Buffer.from('x'), name: 'x.txt' }], ['c1', 'c2'])), 400, 'client_ids count');
    await expectError(await post(JSON.stringify({ channel_id: publicChannel.id }), { 'Content-Type': 'application/json' }), 415, 'JSON body');
    await expectError(await post('raw bytes', { 'Content-Type': 'application/octet-stream' }, `?channel_id=${publicChannel.id}`), 415, 'raw body');
    await expectError(await post('--x\r\n', { 'Content-Type': 'multipart/form-data' }), 400, 'no boundary');

    const truncated = multipart('XyZ', [{ name: 'channel_id', data: publicChannel.id }, { name: 'files', filename: 'cut.txt', type: 'text/plain', data: 'this upload never finishes' }], { close: false });
    await expectError(await post(truncated, { 'Content-Type': 'multipart/form-data; boundary=XyZ' }), 400, 'truncated body');
    const filesFirstTruncated = multipart('XyZ', [{ name: 'files', filename: 'a.txt', data: 'complete part' }, { name: 'files', filename: 'b.txt', data: 'cut' }], { close: false });
    await expectError(await post(filesFirstTruncated, { 'Content-Type': 'multipart/form-data; boundary=XyZ' }, `?channel_id=${publicChannel.id}`), 400, 'truncated after a whole file');

    const unauthenticated = await fetch(`${app.url}/api/v4/files`, { method: 'POST', body: form(publicChannel.id, [{ bytes: Buffer.from('x'), name: 'x.txt' }]) });
    await expectError(unauthenticated, 401, 'no token');

    // A refused channel named after the files: the file already streamed is removed again.
    const late = multipart('B0', [{ name: 'files', filename: 'early.txt', data: crypto.randomBytes(10_000) }, { name: 'channel_id', data: privateChannel.id }]);
    await expectError(await fetch(`${app.url}/api/v4/files`, { method: 'POST', headers: { Authorization: `Bearer ${mallory.token}`, 'Content-Type': 'multipart/form-data; boundary=B0' }, body: late }), 403, 'channel named after the files');

    expect(Number((await app.ownerDb('file_infos').count({ n: '*' }))[0].n)).to.equal(rowsBefore);
    expect(filesUnder(path.join(app.dataDir, 'files'))).to.have.length(filesBefore);
  });

  it('removes a half-received file when the client disconnects mid-upload', async () => {
    const filesBefore = filesUnder(path.join(app.dataDir, 'files')).length;
    const rowsBefore = Number((await app.ownerDb('file_infos').count({ n: '*' }))[0].n);
    const head = multipart('Q', [{ name: 'channel_id', data: publicChannel.id }], { close: false });
    const partHead = Buffer.from('--Q\r\nContent-Disposition: form-data; name="files"; filename="gone.bin"\r\n\r\n');
    const { port } = new URL(app.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /api/v4/files HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alice.token}\r\nContent-Type: multipart/form-data; boundary=Q\r\nContent-Length: 10000000\r\n\r\n`);
    socket.write(Buffer.concat([head, partHead, crypto.randomBytes(300_000)]));
    // Wait until the server has started writing the file, then vanish.
    const dir = path.join(app.dataDir, 'files');
    const writing = () => fs.existsSync(dir) && fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.tmp'));
    for (let i = 0; i < 200 && !writing(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(writing(), 'a temporary file is being written').to.equal(true);
    socket.destroy();
    for (let i = 0; i < 100 && filesUnder(dir).length !== filesBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(filesUnder(dir)).to.have.length(filesBefore);
    expect(Number((await app.ownerDb('file_infos').count({ n: '*' }))[0].n)).to.equal(rowsBefore);
    expect((await request(app, 'GET', '/api/v4/system/ping')).status).to.equal(200);
  });

  it('answers 400 for a malformed file id, 404 for an unknown or deleted file, 401 without a session', async () => {
    expect((await request(app, 'GET', '/api/v4/files/nope', { token: alice.token })).status).to.equal(400);
    const missing = await request(app, 'GET', `/api/v4/files/${'b'.repeat(26)}`, { token: alice.token });
    expect(missing.status).to.equal(404);
    expect(missing.json.status_code).to.equal(404);
    const { file_infos: [info] } = await upload(alice, publicChannel.id, Buffer.from('bye'), 'bye.txt');
    expect((await request(app, 'GET', `/api/v4/files/${info.id}`)).status).to.equal(401);
    await app.ownerDb('file_infos').where({ id: info.id }).update({ delete_at: Date.now() });
    expect((await request(app, 'GET', `/api/v4/files/${info.id}/info`, { token: alice.token })).status).to.equal(404);
  });
});
