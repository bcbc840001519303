import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../server/config/load.ts';

describe('configuration', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-cfg-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('uses Mattermost-like defaults', () => {
    const config = loadConfig({});
    expect(config.port).to.equal(8065);
    expect(config.dataDir).to.equal(path.resolve('./data'));
    expect(config.siteUrl).to.equal('http://localhost:8065');
    expect(config.secureCookies).to.equal(false);
  });

  it('reads secrets from _FILE variables and lets the environment override the JSON file', () => {
    const secret = path.join(tmp, 'db-url');
    fs.writeFileSync(secret, 'postgres://u:p@db.internal:5432/custodian\n');
    const file = path.join(tmp, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ port: 9000, siteUrl: 'https://chat.example.org/' }));
    const config = loadConfig({ DATABASE_URL_FILE: secret, CUSTODIAN_CONFIG_FILE: file, CUSTODIAN_PORT: '9100' });
    expect(config.databaseUrl).to.equal('postgres://u:p@db.internal:5432/custodian');
    expect(config.port).to.equal(9100);
    expect(config.siteUrl).to.equal('https://chat.example.org');
    expect(config.secureCookies).to.equal(true);
  });

  it('lists every problem at once, including unknown keys in the file', () => {
    const file = path.join(tmp, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ prot: 1, maxBodyBytes: -5 }));
    try {
      loadConfig({ CUSTODIAN_CONFIG_FILE: file, CUSTODIAN_SITE_URL: 'ftp://x', DATABASE_URL: 'mysql://x' });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).to.match(/unknown setting "prot"/);
      expect(problems).to.match(/CUSTODIAN_MAX_BODY_BYTES/);
      expect(problems).to.match(/CUSTODIAN_SITE_URL: must be an http/);
      expect(problems).to.match(/DATABASE_URL: must be a postgres/);
      expect((err as ConfigError).problems).to.have.length(4);
    }
  });
});
