import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeTeam, makeUser } from '../support/factories.ts';
import { auditRecords } from './helpers.ts';

async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the statement to be refused');
}

describe('audit log: append-only and fail-closed', () => {
  let app: TestApp;
  before(async () => (app = await bootApp()));
  after(async () => app.close());

  it('lets the application role insert and read audit records but not change or delete them', async () => {
    await makeUser(app);
    await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'nobody', password: 'whatever-it-is' } });
    await app.services.audit.flush();
    const db = app.services.db;
    expect(await db('audit_log').count({ n: '*' })).to.have.length(1);
    for (const table of ['audit_log', 'audit_checkpoints', 'audit_keys']) {
      expect(await refused(db(table).update({ [table === 'audit_log' ? 'record' : table === 'audit_keys' ? 'public_key' : 'body']: 'x' })), table).to.match(/permission denied/);
      expect(await refused(db(table).delete()), table).to.match(/permission denied/);
      expect(await refused(db.raw(`TRUNCATE ${table}`)), table).to.match(/permission denied/);
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE by triggers even for the owner role', async () => {
    await app.services.audit.sync();
    for (const table of ['audit_log', 'audit_checkpoints', 'audit_keys']) {
      expect(await refused(app.ownerDb(table).delete()), table).to.match(/append-only/);
      expect(await refused(app.ownerDb.raw(`TRUNCATE ${table}`)), table).to.match(/append-only/);
    }
    expect(await refused(app.ownerDb('audit_log').update({ sealed_at: 1 }))).to.match(/append-only/);
  });

  it('rolls back the action when its audit record cannot be written (INSERT revoked mid-test)', async () => {
    const { user, token, password } = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [user] });
    const sessionsBefore = (await app.ownerDb('sessions').where({ user_id: user.id })).length;
    await app.ownerDb.raw('REVOKE INSERT ON audit_outbox FROM custodian_app');
    try {
      const created = await request(app, 'POST', '/api/v4/channels', { token, body: { team_id: team.id, name: 'never-created', display_name: 'Never', type: 'O' } });
      expect(created.status).to.equal(500);
      expect(await app.ownerDb('channels').where({ team_id: team.id, name: 'never-created' })).to.have.length(0);
      const login = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password } });
      expect(login.status).to.equal(500);
      expect(login.headers.get('token')).to.equal(null);
      expect(await app.ownerDb('sessions').where({ user_id: user.id })).to.have.length(sessionsBefore);
    } finally {
      await app.ownerDb.raw('GRANT INSERT ON audit_outbox TO custodian_app');
    }
    const again = await request(app, 'POST', '/api/v4/channels', { token, body: { team_id: team.id, name: 'now-created', display_name: 'Now', type: 'O' } });
    expect(again.status).to.equal(201);
    const names = (await auditRecords(app, { event_name: 'create_channel' })).map((r) => r.event.parameters.name);
    expect(names).to.include('now-created');
    expect(names).to.not.include('never-created');
  });
});
