import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SUMS_FILE, verifyInstall } from '../release/integrity.ts';

/** The root of this installation: two folders above server/cli/. */
export const installRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `custodian verify-install [--public-key <pem>]`: checks the release's signature over SHA256SUMS and
 * every file's hash. Exit 0 only when everything matches. Without --public-key the key shipped in the
 * tarball is used, which proves only that the tree is intact: compare the printed fingerprint with
 * the one published for the release.
 */
export async function verifyInstallCommand(args: string[], usage: (message: string) => Error): Promise<number> {
  const { values } = parseArgs({ args, options: { 'public-key': { type: 'string' }, root: { type: 'string' } } });
  const root = path.resolve(values.root ?? installRoot);
  if (!fs.existsSync(path.join(root, SUMS_FILE))) throw usage(`${root} has no ${SUMS_FILE}: verify-install checks an unpacked release tarball, not a source checkout`);
  const key = values['public-key'] ? fs.readFileSync(values['public-key'], 'utf8') : undefined;
  const result = verifyInstall(root, key);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`Release signing key: SHA-256 ${result.fingerprint}${key ? ` (from ${values['public-key']})` : ' (shipped in the tarball: compare it with the published fingerprint)'}`);
  write(`Signature over ${SUMS_FILE}: ${result.signatureValid ? 'valid' : 'INVALID'}`);
  write(`Files: ${result.checked} checked, ${result.modified.length} modified, ${result.missing.length} missing`);
  for (const f of result.modified.slice(0, 50)) write(`  modified  ${f}`);
  for (const f of result.missing.slice(0, 50)) write(`  missing   ${f}`);
  const ok = result.signatureValid && result.modified.length === 0 && result.missing.length === 0;
  write(ok ? 'Installation verified.' : 'Installation NOT verified.');
  return ok ? 0 : 1;
}
