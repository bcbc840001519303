import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import ldap from 'ldapjs';
import { BASE_DN, directoryEntries, testPki, toLdif, type FixtureEntry } from './directory-fixture.ts';
import { freePort } from './helpers.ts';

const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PASSWORD = 'root-secret';

/** A directory the tests run against: its URL, its CA, and ways to change it behind the app's back. */
export interface TestDirectory {
  name: string;
  url: string;
  caFile?: string;
  otherCaFile?: string;
  removeMember(groupDn: string, memberDn: string): Promise<void>;
  addMember(groupDn: string, memberDn: string): Promise<void>;
  deleteEntry(dn: string): Promise<void>;
  stop(): Promise<void>;
}

export const slapdAvailable = fs.existsSync('/usr/sbin/slapd');

/** Starts OpenLDAP's slapd on a free port with a generated slapd.conf and the seeded directory (slapadd). */
export async function startSlapd(): Promise<TestDirectory> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  const pki = testPki();
  for (const [name, pem] of Object.entries({ 'ca.crt': pki.caCert, 'other-ca.crt': pki.otherCaCert, 'server.crt': pki.serverCert, 'server.key': pki.serverKey })) {
    fs.writeFileSync(path.join(dir, name), pem, { mode: 0o600 });
  }
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(conf, [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    'modulepath /usr/lib/ldap', 'moduleload back_mdb', `pidfile ${dir}/slapd.pid`,
    `TLSCACertificateFile ${dir}/ca.crt`, `TLSCertificateFile ${dir}/server.crt`, `TLSCertificateKeyFile ${dir}/server.key`,
    'database mdb', `suffix "${BASE_DN}"`, `rootdn "${ROOT_DN}"`, `rootpw ${ROOT_PASSWORD}`, `directory ${dir}/db`, 'maxsize 16777216',
    'access to attrs=userPassword by self read by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'seed.ldif'), toLdif(directoryEntries()));
  const add = spawnSync('/usr/sbin/slapadd', ['-f', conf, '-l', path.join(dir, 'seed.ldif')], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`slapadd failed: ${add.stderr}`);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  // Ready when a bind works.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Client({ url, timeout: 1000, connectTimeout: 1000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      await client.unbind();
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`slapd did not start: ${(err as Error).message} ${stderr}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const asRoot = async (work: (c: Client) => Promise<void>) => {
    const client = new Client({ url });
    await client.bind(ROOT_DN, ROOT_PASSWORD);
    try {
      await work(client);
    } finally {
      await client.unbind();
    }
  };
  return {
    name: 'OpenLDAP slapd', url, caFile: path.join(dir, 'ca.crt'), otherCaFile: path.join(dir, 'other-ca.crt'),
    removeMember: (groupDn, memberDn) => asRoot(async (c) => {
      const { Change, Attribute } = await import('ldapts');
      await c.modify(groupDn, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [memberDn] }) }));
    }),
    addMember: (groupDn, memberDn) => asRoot(async (c) => {
      const { Change, Attribute } = await import('ldapts');
      await c.modify(groupDn, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [memberDn] }) }));
    }),
    deleteEntry: (dn) => asRoot((c) => c.del(dn)),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The parts of ldapjs 3's request and response objects used here (@types/ldapjs describes ldapjs 2).
interface LdapRequest {
  dn: unknown;
  credentials?: string;
  scope?: unknown;
  attributes?: unknown[];
  filter: { matches(attributes: Record<string, string[]>, strictAttributeCase: boolean): boolean };
}
interface LdapResponse {
  attributes: string[];
  end(): void;
  send(entry: { dn: string; attributes: Record<string, string[]> }): void;
}

/**
 * The fallback where slapd is absent: an in-process ldapjs server over the same seeded entries, with
 * simple bind, subtree/base search with real filter matching, and entryUUID.
 */
export async function startInProcessLdap(): Promise<TestDirectory> {
  const entries = new Map<string, FixtureEntry & { uuid: string }>();
  for (const e of directoryEntries()) entries.set(e.dn.toLowerCase(), { ...e, uuid: crypto.randomUUID() });
  const server = ldap.createServer();
  const norm = (dn: unknown) => String(dn).replace(/\s*,\s*/g, ',').toLowerCase();
  server.bind(BASE_DN, (req: LdapRequest, res: LdapResponse, next: (err?: unknown) => void) => {
    const entry = entries.get(norm(req.dn));
    const password = req.credentials;
    if (!entry || !password || !entry.attributes.userPassword?.includes(password)) return next(new ldap.InvalidCredentialsError());
    res.end();
    return next();
  });
  server.search(BASE_DN, (req: LdapRequest, res: LdapResponse, next: (err?: unknown) => void) => {
    const base = norm(req.dn);
    // ldapjs compares the lowercased names of what we send with the requested list as given.
    res.attributes = res.attributes.map((a) => a.toLowerCase());
    const scope = String(req.scope);
    for (const entry of entries.values()) {
      const dn = entry.dn.toLowerCase();
      const inScope = scope === 'base' ? dn === base : dn === base || dn.endsWith(`,${base}`);
      if (!inScope) continue;
      const attrs: Record<string, string[]> = { entryuuid: [entry.uuid] };
      for (const [k, v] of Object.entries(entry.attributes)) attrs[k.toLowerCase()] = v;
      if (!req.filter.matches(attrs, false)) continue;
      // Answer under the names the client asked for (ldapjs compares them case-sensitively).
      const wanted = (req.attributes ?? []).map(String).filter((a) => a !== '1.1');
      const visible = wanted.length
        ? Object.fromEntries(wanted.filter((a) => attrs[a.toLowerCase()] && a.toLowerCase() !== 'userpassword').map((a) => [a, attrs[a.toLowerCase()]]))
        : Object.fromEntries(Object.entries(attrs).filter(([k]) => k !== 'userpassword'));
      res.send({ dn: entry.dn, attributes: visible });
    }
    res.end();
    return next();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    name: 'in-process ldapjs', url: `ldap://127.0.0.1:${port}`,
    async removeMember(groupDn, memberDn) {
      const group = entries.get(groupDn.toLowerCase())!;
      group.attributes.member = group.attributes.member.filter((m) => m.toLowerCase() !== memberDn.toLowerCase());
    },
    async addMember(groupDn, memberDn) {
      entries.get(groupDn.toLowerCase())!.attributes.member.push(memberDn);
    },
    async deleteEntry(dn) {
      entries.delete(dn.toLowerCase());
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
