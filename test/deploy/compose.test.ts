// deploy/docker: the Compose file (Custodian + PostgreSQL 16) and the Dockerfile it builds, checked
// without a Docker engine (none runs here): structure, health checks, secrets and hardening.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../support/cli.ts';

const dir = path.join(repoRoot, 'deploy', 'docker');
const composeText = fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const compose: any = parse(composeText);
const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');

/** Dockerfile instructions with continuation lines joined. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deploy/docker (Compose + Dockerfile)', () => {
  it('runs PostgreSQL 16 with a health check, on a network of its own', () => {
    const pg = compose.services.postgres;
    expect(pg.image).to.equal('postgres:16');
    expect(pg.healthcheck.test.join(' ')).to.include('pg_isready');
    expect(pg.environment.POSTGRES_PASSWORD).to.match(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(pg.volumes[0]).to.match(/^postgres-data:\/var\/lib\/postgresql\/data$/);
    expect(compose.networks.backend.internal).to.equal(true);
    expect(pg.networks).to.deep.equal(['backend']);
  });

  it('starts Custodian after PostgreSQL is healthy, on DATABASE_URL, with its own volume and a ping health check', () => {
    const app = compose.services.custodian;
    expect(app.depends_on.postgres.condition).to.equal('service_healthy');
    const url = new URL(app.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'x'));
    expect(url.protocol).to.equal('postgres:');
    expect(url.hostname).to.equal('postgres');
    expect(url.pathname).to.equal('/custodian');
    expect(app.environment.CUSTODIAN_DATA_DIR).to.equal('/var/lib/custodian');
    expect(app.volumes).to.deep.equal(['custodian-data:/var/lib/custodian']);
    expect(app.healthcheck.test.join(' ')).to.include('/api/v4/system/ping');
    expect(app.ports[0]).to.match(/:8065"?$/);
    expect(Object.keys(compose.volumes).sort()).to.deep.equal(['custodian-data', 'postgres-data']);
  });

  it('hardens the Custodian container: read-only root, no new privileges, no capabilities', () => {
    const app = compose.services.custodian;
    expect(app.read_only).to.equal(true);
    expect(app.security_opt).to.include('no-new-privileges:true');
    expect(app.cap_drop).to.deep.equal(['ALL']);
  });

  it('requires every secret from .env and documents each one in .env.example', () => {
    const required = new Set([...composeText.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]));
    const example = fs.readFileSync(path.join(dir, '.env.example'), 'utf8');
    for (const name of required) expect(example, name).to.match(new RegExp(`^${name}=`, 'm'));
    expect(required).to.include('POSTGRES_PASSWORD');
  });

  it('builds the image from the release tarball only: non-root, verified, health-checked', () => {
    const ops = instructions(dockerfile);
    expect(ops[0]).to.deep.include({ op: 'FROM' });
    const add = ops.find((i) => i.op === 'ADD');
    expect(add?.args).to.match(/^custodian-\$\{CUSTODIAN_VERSION\}-linux-x64\.tar\.gz \/opt\/$/);
    expect(ops.some((i) => i.op === 'RUN' && i.args.includes('custodian verify-install'))).to.equal(true);
    expect(ops.some((i) => i.op === 'RUN' && /\b(curl|wget|apt-get|apk|npm)\b/.test(i.args)), 'nothing is downloaded at build time').to.equal(false);
    const user = ops.filter((i) => i.op === 'USER').at(-1);
    expect(user?.args).to.match(/^[1-9]\d*:[1-9]\d*$/);
    expect(ops.find((i) => i.op === 'HEALTHCHECK')?.args).to.include('/api/v4/system/ping');
    expect(ops.find((i) => i.op === 'ENTRYPOINT')?.args).to.equal('["/opt/custodian/bin/custodian"]');
    expect(ops.find((i) => i.op === 'CMD')?.args).to.equal('["start"]');
  });

  it('passes `docker compose config` when the Compose plugin is installed', function () {
    if (spawnSync('docker', ['compose', 'version']).status !== 0) this.skip();
    const result = spawnSync('docker', ['compose', '-f', path.join(dir, 'docker-compose.yml'), 'config', '--quiet'], {
      encoding: 'utf8',
      env: { ...process.env, POSTGRES_PASSWORD: 'p', CUSTODIAN_VERSION: '0.1.0', CUSTODIAN_SITE_URL: 'https://chat.example.com' },
    });
    expect(result.status, result.stderr).to.equal(0);
  });
});
