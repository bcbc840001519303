import { expect } from 'chai';
import path from 'node:path';
import { Readable } from 'node:stream';
import { newId } from '../../server/lib/ids.ts';
import { attachFilesToPost, deleteFile, fileInfosForPosts, getFileInfo, postFileHooks, uploadFile, type FileDeps } from '../../server/files/service.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { actorFor, filesUnder } from './fixtures.ts';

describe('files service: uploads, attaching to posts, post metadata', () => {
  let app: TestApp;
  let deps: FileDeps;
  let alice: TestUser;
  let bob: TestUser;
  let channel: { id: string };
  let otherChannel: { id: string };
  before(async () => {
    app = await bootApp();
    deps = { db: app.services.db, store: app.services.files, maxFileBytes: app.services.config.maxFileBytes };
    alice = await makeUser(app);
    bob = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
    otherChannel = await makeChannel(app.ownerDb, team.id, { members: [alice.user] });
  });
  after(async () => app.close());

  const put = (user: TestUser, channelId: string, text: string, name = 'note.txt') => uploadFile(deps, actorFor(user.user.id), channelId, name, Readable.from([Buffer.from(text)]));
  const attach = (user: TestUser, channelId: string, postId: string, ids: string[]) =>
    app.services.db.transaction((trx) => attachFilesToPost(trx, actorFor(user.user.id), channelId, postId, ids));
  const refusal = async (work: Promise<unknown>) => {
    try {
      await work;
    } catch (err) {
      return err as Error & { id: string; detailedError: string };
    }
    throw new Error('expected a refusal');
  };

  it('uploads from any stream through the service, with the permission checked first', async () => {
    const row = await put(alice, channel.id, 'hello from a job');
    expect(row).to.include({ creator_id: alice.user.id, channel_id: channel.id, size: 16, mime_type: 'text/plain', post_id: '' });
    const outsider = await makeUser(app);
    expect((await refusal(put(outsider, channel.id, 'no'))).name).to.equal('ForbiddenError');
  });

  it('attaches a user\'s files to their post, in the order given, and groups them for post metadata', async () => {
    const a = await put(alice, channel.id, 'a');
    const b = await put(alice, channel.id, 'b');
    const postId = newId();
    const attached = await attach(alice, channel.id, postId, [b.id, a.id, b.id]);
    expect(attached.map((r) => [r.id, r.post_id])).to.deep.equal([[b.id, postId], [a.id, postId]]);
    // Attaching again to the same post is harmless.
    await attach(alice, channel.id, postId, [a.id]);

    const emptyPost = newId();
    const grouped = await fileInfosForPosts(app.services.db, [postId, emptyPost, '']);
    expect([...grouped.keys()]).to.deep.equal([postId]);
    expect(grouped.get(postId)?.map((r) => r.id)).to.deep.equal([a.id, b.id]);

    const presented = await postFileHooks.loadFiles(app.services.db, [postId]);
    expect(presented.get(postId)?.[0]).to.include({ id: a.id, user_id: alice.user.id, post_id: postId, has_preview_image: false });
    expect(presented.get(postId)?.[0]).to.not.have.any.keys('path', 'sha256');
  });

  it('refuses files that are missing, deleted, someone else\'s, from another channel or on another post, changing nothing', async () => {
    const mine = await put(alice, channel.id, 'mine');
    const bobs = await put(bob, channel.id, 'bobs');
    const elsewhere = await put(alice, otherChannel.id, 'elsewhere');
    const deleted = await put(alice, channel.id, 'deleted');
    await deleteFile(app.services.db, actorFor(alice.user.id), deleted.id);
    const taken = await put(alice, channel.id, 'taken');
    await attach(alice, channel.id, newId(), [taken.id]);

    const cases: [string, string][] = [
      [newId(), 'does not exist'], [deleted.id, 'does not exist'], [bobs.id, 'uploaded by someone else'],
      [elsewhere.id, 'uploaded to another channel'], [taken.id, 'attached to another post'], ['../etc', 'malformed file id'],
    ];
    for (const [id, reason] of cases) {
      const err = await refusal(attach(alice, channel.id, newId(), [mine.id, id]));
      expect(err.name, reason).to.equal('InvalidInputError');
      expect(err.detailedError, reason).to.include(reason);
    }
    const tooMany = await refusal(attach(alice, channel.id, newId(), Array.from({ length: 11 }, () => newId())));
    expect(tooMany.detailedError).to.include('at most 10');
    expect((await app.ownerDb('file_infos').where({ id: mine.id }).first()).post_id).to.equal('');
  });

  it('marks a file deleted but keeps its content; only the uploader (or an admin) may delete it', async () => {
    const row = await put(alice, channel.id, 'keep me on disk');
    expect((await refusal(deleteFile(app.services.db, actorFor(bob.user.id), row.id))).name).to.equal('ForbiddenError');
    await deleteFile(app.services.db, actorFor(alice.user.id), row.id);
    const after = await app.ownerDb('file_infos').where({ id: row.id }).first();
    expect(after.delete_at).to.be.greaterThan(0);
    expect((await refusal(getFileInfo(app.services.db, actorFor(alice.user.id), row.id))).name).to.equal('NotFoundError');
    expect(filesUnder(path.join(app.dataDir, 'files')).some((f) => f.endsWith(row.path))).to.equal(true);
  });
});
