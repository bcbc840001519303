import { expect } from 'chai';
import type { TestApp } from '../support/app.ts';
import { bootApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { batchesOf, seedPosts, waitForJob, zipEntries } from './fixture.ts';

describe('compliance export of batches larger than one cursor fetch', () => {
  let app: TestApp;
  let officer: TestUser;

  before(async function () {
    this.timeout(60_000);
    app = await bootApp({ CUSTODIAN_JOB_ROLE: 'all' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    await seedPosts(app, 130, 2600);
  });
  after(async () => app?.close());

  for (const format of ['actiance', 'jsonl', 'csv']) {
    it(`exports every post once in ${format} when a batch spans several fetches of posts and of channels`, async function () {
      this.timeout(60_000);
      const job = await client4(app, officer.token).createJob({ type: 'message_export', data: { format, from: '0' } } as never);
      expect((await waitForJob(app, officer.token, job.id, 50_000)).status).to.equal('success');
      const [batch, ...more] = await batchesOf(app, job.id);
      expect(more).to.deep.equal([]);
      expect(batch.counts).to.include({ posts: 2600, messages: 2600, channels: 130 });
      const entries = await zipEntries(batch.file);
      const notes = (text: string) => new Set(text.match(/note \d+/g));
      if (format === 'actiance') {
        const xml = entries.get('actiance_export.xml')!.toString();
        expect(xml.match(/<Message>/g)).to.have.length(2600);
        expect(xml.match(/<Conversation /g)).to.have.length(130);
        expect(notes(xml).size).to.equal(2600);
      } else if (format === 'jsonl') {
        expect(notes(entries.get('export.jsonl')!.toString()).size).to.equal(2600);
      } else {
        const lines = entries.get('posts.csv')!.toString().trim().split('\r\n');
        expect(lines.filter((l) => /,note \d+,message,/.test(l))).to.have.length(2600);
      }
    });
  }
});
