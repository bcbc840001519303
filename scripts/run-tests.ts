// Runs the test suite: one embedded PostgreSQL for the whole run, then mocha over test/**/*.test.ts,
// and a closing "N passed, N failed" line.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import { startTestCluster } from '../test/support/postgres.ts';

function findTests(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'support' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const files = args.filter((a) => !a.startsWith('--'));
const specs = (files.length ? files : ['test']).flatMap((f) => (fs.statSync(f).isDirectory() ? findTests(f) : [f])).map((f) => path.resolve(f)).sort();

const started = Date.now();
const { cluster, stop } = await startTestCluster();
process.env.CUSTODIAN_TEST_CLUSTER = JSON.stringify(cluster);
process.stdout.write(`test PostgreSQL ready in ${Date.now() - started} ms\n`);

const mocha = new Mocha({ timeout: 30_000, reporter: 'spec', grep });
for (const spec of specs) mocha.addFile(spec);
await mocha.loadFilesAsync();
const stats = await new Promise<{ passes: number; failures: number; pending: number }>((resolve) => {
  const runner = mocha.run(() => resolve(runner.stats ?? { passes: 0, failures: 1, pending: 0 }));
});
await stop();
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`\n${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped (${seconds} s)\n`);
process.exit(stats.failures > 0 || stats.passes === 0 ? 1 : 0);
