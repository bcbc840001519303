import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { version } from '../../server/lib/version.ts';
import { clusterFromEnv } from '../support/postgres.ts';
import { exited, freePort, runCli, startServerProcess } from '../support/cli.ts';
import { api, checkSample, login, populate, type SiteSample } from '../support/site.ts';

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, prefix: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, crypto.createHash('sha256').update(fs.readFileSync(path.join(d, e.name))).digest('hex'));
    }
  };
  walk(dir, '');
  return out;
}

describe('custodian backup and restore (real processes, embedded PostgreSQL)', function () {
  this.timeout(180_000);
  let root: string;
  let source: string;
  let archive: string;
  let sample: SiteSample;
  const password = 'backup-admin-passphrase';

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-backup-'));
    fs.chmodSync(root, 0o755);
    source = path.join(root, 'source');
    archive = path.join(root, 'backups', 'site.tar.gz');
    // A checkpoint after every audit record: checkpoints are signed while the backup runs too.
    const env = { CUSTODIAN_DATA_DIR: source, CUSTODIAN_LOG_LEVEL: 'warn', CUSTODIAN_AUDIT_CHECKPOINT_RECORDS: '1' };
    const port = await freePort();
    const server = await startServerProcess(env, port);
    try {
      const created = await runCli(['user', 'create', '--email', 'root@example.com', '--username', 'root', '--password', password, '--system-admin'], env);
      expect(created.code, created.stderr).to.equal(0);
      const base = `http://127.0.0.1:${port}`;
      sample = await populate(base, await login(base, 'root', password));
      // Online: the backup is taken while the server runs and serves.
      const backup = await runCli(['backup', '--out', archive], env);
      expect(backup.code, backup.stderr + backup.stdout).to.equal(0);
      expect(backup.stdout).to.match(/Backup written: .*site\.tar\.gz/);
      expect(backup.stdout).to.match(/SHA-256 [0-9a-f]{64}/);
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('audits the backup on the source', async () => {
    const env = { CUSTODIAN_DATA_DIR: source, CUSTODIAN_LOG_LEVEL: 'warn' };
    const port = await freePort();
    const server = await startServerProcess(env, port);
    try {
      const base = `http://127.0.0.1:${port}`;
      const audits = await api(base, 'GET', '/audits?event_name=create_backup', { token: await login(base, 'root', password) });
      expect(audits.json).to.have.length(1);
      expect(audits.json[0].record).to.deep.include({ status: 'success' });
      expect(audits.json[0].record.event.parameters).to.deep.equal({ out: archive });
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });

  it('writes a checksum file beside the archive, and refuses to overwrite a backup', async () => {
    const [sum, name] = fs.readFileSync(`${archive}.sha256`, 'utf8').trim().split(/\s+/);
    expect(name).to.equal('site.tar.gz');
    expect(sum).to.equal(crypto.createHash('sha256').update(fs.readFileSync(archive)).digest('hex'));
    const again = await runCli(['backup', '--out', archive], { CUSTODIAN_DATA_DIR: source, CUSTODIAN_LOG_LEVEL: 'warn' });
    expect(again.code).to.equal(64);
    expect(again.stderr).to.match(/already exists/);
  });

  it('verifies every entry with --verify-only', async () => {
    const result = await runCli(['restore', '--from', archive, '--verify-only'], { CUSTODIAN_DATA_DIR: path.join(root, 'unused'), CUSTODIAN_LOG_LEVEL: 'warn' });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/every SHA-256 matches, and so does the archive checksum/);
    expect(fs.existsSync(path.join(root, 'unused', 'postgres')), 'verify-only changes nothing').to.equal(false);
  });

  it('refuses a damaged archive before touching the data directory', async () => {
    const damaged = path.join(root, 'damaged.tar.gz');
    const bytes = fs.readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    const target = path.join(root, 'from-damaged');
    const result = await runCli(['restore', '--from', damaged], { CUSTODIAN_DATA_DIR: target, CUSTODIAN_LOG_LEVEL: 'warn' });
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.match(/not a valid Custodian backup/);
    expect(fs.existsSync(path.join(target, 'postgres'))).to.equal(false);
  });

  it('restores users, posts, threads, files and keys into a fresh data directory', async () => {
    const target = path.join(root, 'restored');
    const env = { CUSTODIAN_DATA_DIR: target, CUSTODIAN_LOG_LEVEL: 'warn' };
    const restored = await runCli(['restore', '--from', archive], env, 120_000);
    expect(restored.code, restored.stderr + restored.stdout).to.equal(0);
    expect(restored.stdout).to.match(/Restored into .*restored \(\d+ migrations applied, 0 pending\)/);
    const sourceFiles = filesUnder(path.join(source, 'files'));
    expect(sourceFiles.size).to.be.greaterThan(0);
    expect(filesUnder(path.join(target, 'files'))).to.deep.equal(sourceFiles);
    expect(filesUnder(path.join(target, 'keys'))).to.deep.equal(filesUnder(path.join(source, 'keys')));

    const port = await freePort();
    const server = await startServerProcess(env, port);
    try {
      const base = `http://127.0.0.1:${port}`;
      const token = await login(base, 'root', password);
      await checkSample(base, token, sample);
      // The restore is audited in the restored chain, which still verifies end to end.
      const audits = await api(base, 'GET', '/audits?event_name=restore_backup', { token });
      expect(audits.status).to.equal(200);
      expect(audits.json).to.have.length(1);
      expect(audits.json[0].record.event.resulting_state).to.include({ backup_version: version }).and.have.property('archive_sha256').that.matches(/^[0-9a-f]{64}$/);
      const verified = await runCli(['audit', 'verify'], env);
      expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
      expect(Number(/, (\d+) checkpoints/.exec(verified.stdout)?.[1]), verified.stdout).to.be.greaterThan(0);
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }

    const twice = await runCli(['restore', '--from', archive], env);
    expect(twice.code, 'a data directory in use is never overwritten').to.not.equal(0);
    expect(twice.stderr).to.match(/needs a fresh data directory/);
  });

  it('restores into an empty external database (DATABASE_URL) owned by a role that is not a superuser', async () => {
    const cluster = clusterFromEnv();
    const name = `restore_${process.pid}_${Date.now().toString(36)}`;
    const role = `${name}_owner`;
    const admin = new pg.Client(cluster.owner);
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER PASSWORD 'restore-pw'`);
      await admin.query(`CREATE DATABASE ${name} OWNER ${role}`);
      const url = `postgres://${role}:restore-pw@localhost/${name}?host=${encodeURIComponent(cluster.owner.host)}&port=${cluster.owner.port}`;
      const env = { DATABASE_URL: url, CUSTODIAN_DATA_DIR: path.join(root, 'external'), CUSTODIAN_LOG_LEVEL: 'warn' };
      const restored = await runCli(['restore', '--from', archive], env, 120_000);
      expect(restored.code, restored.stderr + restored.stdout).to.equal(0);
      expect(restored.stdout).to.match(/Restored into the database of DATABASE_URL/);
      const port = await freePort();
      const server = await startServerProcess(env, port);
      try {
        const base = `http://127.0.0.1:${port}`;
        await checkSample(base, await login(base, 'root', password), sample);
      } finally {
        server.child.kill('SIGTERM');
        await exited(server.child);
      }
      const again = await runCli(['restore', '--from', archive], { ...env, CUSTODIAN_DATA_DIR: path.join(root, 'external-2') });
      expect(again.code).to.not.equal(0);
      expect(again.stderr).to.match(/needs an empty database/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });
});
