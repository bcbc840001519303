import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { expect } from 'chai';
import { readTar, TarWriter } from '../../server/lib/tar.ts';

async function archive(build: (tar: TarWriter) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c) => chunks.push(c));
  const tar = new TarWriter(out);
  await build(tar);
  await tar.finish();
  out.end();
  return Buffer.concat(chunks);
}

async function entries(bytes: Buffer): Promise<{ path: string; type: string; content: string; mode: number }[]> {
  const out = [];
  for await (const entry of readTar(Readable.from([bytes]))) {
    const chunks: Buffer[] = [];
    for await (const c of entry.content()) chunks.push(c);
    out.push({ path: entry.path, type: entry.type, content: Buffer.concat(chunks).toString('utf8'), mode: entry.mode });
  }
  return out;
}

describe('server/lib/tar (backup archives)', () => {
  const longName = `data/files/${'deep/'.repeat(30)}file-with-a-long-name.bin`;

  it('round-trips files, directories, long and non-ASCII paths, and empty files', async () => {
    const bytes = await archive(async (tar) => {
      await tar.directory('data/keys', 0o700);
      await tar.file('data/keys/a.key', 6, 'secret', 0o600);
      await tar.file(longName, 3, Buffer.from('abc'));
      await tar.file('data/files/Zürich ✓.txt', 0, '');
    });
    expect(bytes.length % 512).to.equal(0);
    expect(await entries(bytes)).to.deep.equal([
      { path: 'data/keys', type: 'directory', content: '', mode: 0o700 },
      { path: 'data/keys/a.key', type: 'file', content: 'secret', mode: 0o600 },
      { path: longName, type: 'file', content: 'abc', mode: 0o644 },
      { path: 'data/files/Zürich ✓.txt', type: 'file', content: '', mode: 0o644 },
    ]);
  });

  it('writes archives GNU tar reads', async function () {
    if (spawnSync('tar', ['--version']).status !== 0) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-tar-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.tar'), await archive(async (tar) => {
        await tar.file(longName, 3, 'abc');
        await tar.file('data/files/Zürich ✓.txt', 2, 'ok');
      }));
      const listed = spawnSync('tar', ['-tf', path.join(dir, 'a.tar')], { encoding: 'utf8' });
      expect(listed.status, listed.stderr).to.equal(0);
      expect(listed.stdout.trim().split('\n')).to.deep.equal([longName, 'data/files/Zürich ✓.txt']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips what a reader leaves unread, and refuses a size that does not match the content', async () => {
    const bytes = await archive(async (tar) => {
      await tar.file('a', 2000, Buffer.alloc(2000, 1));
      await tar.file('b', 1, 'x');
    });
    const seen = [];
    for await (const entry of readTar(Readable.from([bytes]))) seen.push(entry.path); // content never read
    expect(seen).to.deep.equal(['a', 'b']);
    let error: Error | undefined;
    await archive((tar) => tar.file('short', 10, 'abc')).catch((err) => (error = err));
    expect(error?.message).to.match(/shrank/);
  });

  it('refuses paths that escape the extraction folder, corrupt headers and truncation', async () => {
    for (const evil of ['../etc/passwd', '/etc/passwd', 'data/../../x']) {
      const bytes = await archive((tar) => tar.file(evil, 1, 'x'));
      await entries(bytes).then(
        () => expect.fail(`${evil} accepted`),
        (err) => expect(err.message).to.match(/unsafe archive path/),
      );
    }
    const good = await archive((tar) => tar.file('a', 1, 'x'));
    const corrupt = Buffer.from(good);
    corrupt[10] ^= 1;
    await entries(corrupt).then(() => expect.fail('accepted'), (err) => expect(err.message).to.match(/checksum/));
    await entries(good.subarray(0, 600)).then(() => expect.fail('accepted'), (err) => expect(err.message).to.match(/truncated/));
  });
});
