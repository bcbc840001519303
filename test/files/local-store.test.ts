import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalFileStore } from '../../server/files/local-store.ts';
import { fileKey, isSafeKey } from '../../server/files/storage.ts';
import { filesUnder, sha256 } from './fixtures.ts';

describe('local file store', () => {
  let root: string;
  let store: LocalFileStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-store-'));
    store = new LocalFileStore(path.join(root, 'files'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('stores a stream under its key and reports the exact size and SHA-256', async () => {
    const bytes = crypto.randomBytes(300_000);
    const stored = await store.put('20261122/users/u1/f1/data.bin', Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect(stored).to.deep.equal({ size: bytes.length, sha256: sha256(bytes) });
    expect(sha256(fs.readFileSync(path.join(root, 'files/20261122/users/u1/f1/data.bin')))).to.equal(stored.sha256);
    expect(await store.stat('20261122/users/u1/f1/data.bin')).to.include({ size: bytes.length });
    expect(await store.stat('20261122/users/u1/f1/nothing')).to.equal(undefined);
  });

  it('reads back a whole file or an inclusive byte range', async () => {
    await store.put('a/b.txt', Readable.from([Buffer.from('0123456789')]));
    expect(await text(await store.open('a/b.txt'))).to.equal('0123456789');
    expect(await text(await store.open('a/b.txt', { start: 2, end: 4 }))).to.equal('234');
  });

  it('leaves nothing behind, not even a temporary file, when the source fails mid-stream', async () => {
    async function* failing() {
      yield Buffer.alloc(10_000, 1);
      throw new Error('client went away');
    }
    let thrown: unknown;
    await store.put('x/y/z.bin', failing()).catch((err) => (thrown = err));
    expect((thrown as Error).message).to.equal('client went away');
    expect(filesUnder(path.join(root, 'files'))).to.deep.equal([]);
    expect(fs.existsSync(path.join(root, 'files/x/y'))).to.equal(false);
  });

  it('deletes content, treating a missing key as already deleted, and answers 404 for missing content', async () => {
    await store.put('d/e.txt', Readable.from([Buffer.from('x')]));
    await store.delete('d/e.txt');
    await store.delete('d/e.txt');
    expect(filesUnder(path.join(root, 'files'))).to.deep.equal([]);
    let thrown: unknown;
    await store.open('d/e.txt').catch((err) => (thrown = err));
    expect((thrown as Error).name).to.equal('NotFoundError');
  });

  it('refuses keys that could escape the store', async () => {
    for (const key of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a//b', 'a/./b', '', 'a\\b', '.hidden/x', 'a/b\0']) {
      expect(isSafeKey(key), key).to.equal(false);
      expect(() => store.pathOf(key), key).to.throw(/unsafe storage key/);
    }
  });

  it('generates keys from ids and a sanitised name, never from the raw name', () => {
    const key = fileKey({ at: Date.UTC(2026, 10, 22), userId: 'user1', fileId: 'file1', name: '../../etc/pa ss wd.tar.GZ' });
    expect(key).to.equal('20261122/users/user1/file1/etc_pa_ss_wd_tar.GZ');
    expect(isSafeKey(key)).to.equal(true);
    expect(isSafeKey(fileKey({ at: 0, userId: 'u', fileId: 'f', name: '..' }))).to.equal(true);
    expect(isSafeKey(fileKey({ at: 0, userId: 'u', fileId: 'f', name: '名前.png' }))).to.equal(true);
  });
});
