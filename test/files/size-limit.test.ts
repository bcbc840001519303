import { expect } from 'chai';
import crypto from 'node:crypto';
import path from 'node:path';
import { bootApp, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { filesUnder, multipart } from './fixtures.ts';

describe('file size limit (CUSTODIAN_MAX_FILE_BYTES)', () => {
  const limit = 4096;
  let app: TestApp;
  let alice: TestUser;
  let channel: { id: string };
  before(async () => {
    app = await bootApp({ CUSTODIAN_MAX_FILE_BYTES: String(limit) });
    alice = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user] });
  });
  after(async () => app.close());

  const rowCount = async () => Number((await app.ownerDb('file_infos').count({ n: '*' }))[0].n);
  const storedFiles = () => filesUnder(path.join(app.dataDir, 'files'));
  const formOf = (...sizes: number[]) => {
    const data = new FormData();
    data.append('channel_id', channel.id);
    sizes.forEach((size, i) => data.append('files', new Blob([crypto.randomBytes(size)]), `f${i}.bin`));
    return data;
  };

  it('accepts a file of exactly the limit', async () => {
    const res = await client4(app, alice.token).uploadFile(formOf(limit));
    expect(res.file_infos[0].size).to.equal(limit);
  });

  it('refuses a larger file with 413, leaving no file on disk and no row', async () => {
    const rows = await rowCount();
    const files = storedFiles().length;
    expect(await statusOf(() => client4(app, alice.token).uploadFile(formOf(limit + 1)))).to.equal(413);
    const res = await fetch(`${app.url}/api/v4/files`, { method: 'POST', headers: { Authorization: `Bearer ${alice.token}` }, body: formOf(limit * 50) });
    expect(res.status).to.equal(413);
    const json = (await res.json()) as { id: string; status_code: number };
    expect(json).to.include({ id: 'api.file.upload_file.too_large_detailed.app_error', status_code: 413 });
    expect(await rowCount()).to.equal(rows);
    expect(storedFiles()).to.have.length(files);
  });

  it('removes the files already stored when a later file of the same request is too large', async () => {
    const rows = await rowCount();
    const files = storedFiles().length;
    expect(await statusOf(() => client4(app, alice.token).uploadFile(formOf(100, 200, limit * 3)))).to.equal(413);
    expect(await rowCount()).to.equal(rows);
    expect(storedFiles()).to.have.length(files);
  });

  it('refuses at once a request whose declared length cannot fit, before reading it', async () => {
    // More than 10 files of the limit plus 1 MiB of multipart overhead.
    const body = multipart('B', [{ name: 'channel_id', data: channel.id }, { name: 'files', filename: 'big.bin', data: crypto.randomBytes(2 * 1024 * 1024) }]);
    const res = await fetch(`${app.url}/api/v4/files`, { method: 'POST', headers: { Authorization: `Bearer ${alice.token}`, 'Content-Type': 'multipart/form-data; boundary=B' }, body });
    expect(res.status).to.equal(413);
    expect(((await res.json()) as { message: string }).message).to.match(/^The upload is larger than 10 files/);
  });
});
