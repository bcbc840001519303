import { expect } from 'chai';
import { createLogger } from '../../server/lib/logger.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { bootApp, testConfig, type TestApp } from '../support/app.ts';
import { auditRecords } from './helpers.ts';

describe('configuration changes in the audit log', () => {
  let app: TestApp;
  let restarted: RunningServer | undefined;
  before(async () => (app = await bootApp()));
  after(async () => {
    await restarted?.stop();
    await app.close();
  });

  /** Stops whichever server runs on the app's data dir and starts it again with `env`. */
  const restartWith = async (env: Record<string, string>) => {
    await (restarted ?? app).stop();
    const config = testConfig(app.dataDir, env);
    restarted = await startServer({ config, logger: createLogger(config.logLevel), database: app.database });
    return restarted;
  };
  const configRecords = async (server: RunningServer) => {
    await server.services.audit.flush();
    return (await app.ownerDb('audit_log').where({ event_name: 'update_config' }).orderBy('seq').select('record')).map((r: { record: string }) => JSON.parse(r.record));
  };

  it('records the settings a node first starts with', async () => {
    const [first] = await auditRecords(app, { event_name: 'update_config' });
    expect(first.event.parameters.first_start).to.equal(true);
    expect(first.event.resulting_state.exportFormat).to.equal('actiance');
    expect(first.meta.node_id).to.be.a('string').and.not.equal('');
  });

  it('records what changed between two starts, prior and resulting values, without the secrets', async () => {
    const token = 'metrics-scrape-token-0123456789';
    const server = await restartWith({ CUSTODIAN_EXPORT_FORMAT: 'csv', CUSTODIAN_METRICS_TOKEN: token });
    const records = await configRecords(server);
    expect(records).to.have.length(2);
    const change = records[1];
    expect(change.status).to.equal('success');
    expect(change.event.parameters).to.deep.include({ changed: ['exportFormat', 'metricsToken'], first_start: false });
    expect(change.event.prior_state.exportFormat).to.equal('actiance');
    expect(change.event.resulting_state.exportFormat).to.equal('csv');
    expect(JSON.stringify(records)).to.not.include(token);
  });

  it('records nothing when a node restarts with the same settings, and a changed secret by name only', async () => {
    let server = await restartWith({ CUSTODIAN_EXPORT_FORMAT: 'csv', CUSTODIAN_METRICS_TOKEN: 'metrics-scrape-token-0123456789' });
    expect(await configRecords(server)).to.have.length(2);
    server = await restartWith({ CUSTODIAN_EXPORT_FORMAT: 'csv', CUSTODIAN_METRICS_TOKEN: 'another-scrape-token-9876543210' });
    const records = await configRecords(server);
    expect(records).to.have.length(3);
    expect(records[2].event.parameters.changed).to.deep.equal(['metricsToken']);
    expect(JSON.stringify(records[2])).to.not.include('another-scrape-token');
  });
});
