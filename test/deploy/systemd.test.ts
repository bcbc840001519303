// deploy/systemd/custodian.service: the hardening the issue asks for, `systemd-analyze verify` (with
// ExecStart pointed at this checkout's launcher, which exists here) and `systemd-analyze security`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../support/cli.ts';

const unitFile = path.join(repoRoot, 'deploy', 'systemd', 'custodian.service');
const unitText = fs.readFileSync(unitFile, 'utf8');

/** The unit's sections as key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/systemd/custodian.service', () => {
  const unit = parseUnit(unitText);
  const service = unit.get('Service')!;
  const value = (key: string) => service.get(key)?.at(-1);

  it('runs the release launcher as the dedicated user with the data directory writable', () => {
    expect(value('User')).to.equal('custodian');
    expect(value('Group')).to.equal('custodian');
    expect(value('ExecStart')).to.equal('/opt/custodian/current/bin/custodian start');
    expect(value('ReadWritePaths')).to.equal('/var/lib/custodian');
    expect(service.get('Environment')).to.include('CUSTODIAN_DATA_DIR=/var/lib/custodian');
    expect(value('EnvironmentFile')).to.equal('-/etc/custodian/custodian.env');
    expect(unit.get('Install')!.get('WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('is hardened: no new privileges, read-only system, private tmp, no home, no capabilities, IP and Unix sockets only', () => {
    expect(value('NoNewPrivileges')).to.equal('yes');
    expect(value('ProtectSystem')).to.equal('strict');
    expect(value('PrivateTmp')).to.equal('yes');
    expect(value('ProtectHome')).to.equal('yes');
    expect(value('CapabilityBoundingSet')).to.equal('');
    expect(value('AmbientCapabilities')).to.equal('');
    expect(value('RestrictAddressFamilies')!.split(/\s+/).sort()).to.deep.equal(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(Number(value('LimitNOFILE'))).to.be.at.least(65536);
    expect(value('Restart')).to.equal('on-failure');
    expect(value('KillMode')).to.equal('mixed');
  });

  it('passes systemd-analyze verify without a warning', function () {
    if (!hasSystemdAnalyze) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-unit-'));
    try {
      const copy = path.join(dir, 'custodian.service');
      fs.writeFileSync(copy, unitText.replace('/opt/custodian/current/bin/custodian', path.join(repoRoot, 'bin', 'custodian')));
      const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stderr.trim(), 'warnings').to.equal('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has an exposure level of at most 2.0 in systemd-analyze security', function () {
    if (!hasSystemdAnalyze) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-unit-'));
    try {
      fs.writeFileSync(path.join(dir, 'custodian.service'), unitText);
      const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', 'custodian.service'], { cwd: dir, encoding: 'utf8' });
      if (result.status !== 0 && /unrecognized option|offline/.test(result.stderr)) this.skip();
      const level = /Overall exposure level for custodian\.service: ([\d.]+)/.exec(result.stdout);
      expect(level, result.stdout + result.stderr).to.not.equal(null);
      expect(Number(level![1])).to.be.at.most(2.0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
