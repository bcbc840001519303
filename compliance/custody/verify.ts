import crypto from 'node:crypto';
import type forge from 'node-forge';
import { readZip } from '../export/zip-read.ts';
import { certificateFingerprint } from './keys.ts';
import { MANIFEST_FILE, SIGNATURE_FILE, type Manifest } from './manifest.ts';
import { verifyDetached } from './signature.ts';

/** What `custodian export verify` found: ok, or every difference, each on its own line. */
export interface VerifyReport {
  ok: boolean;
  problems: string[];
  manifest?: Manifest;
  signer?: { subject?: string; fingerprint?: string; signingTime?: Date; pinned: boolean };
  filesChecked: number;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Checks a batch zip offline: the manifest's signature (and, when given, that it was made with the
 * pinned certificate), then every file against the manifest: missing, extra, different size or
 * different SHA-256. Needs nothing but the zip (and the certificate to pin).
 */
export async function verifyExportZip(file: string, options: { pinned?: forge.pki.Certificate } = {}): Promise<VerifyReport> {
  const problems: string[] = [];
  const actual = new Map<string, { size: number; sha256: string }>();
  let manifestBytes: Buffer | undefined;
  let signature: Buffer | undefined;
  try {
    for await (const entry of readZip(file)) {
      if (actual.has(entry.name) || (entry.name === MANIFEST_FILE && manifestBytes) || (entry.name === SIGNATURE_FILE && signature)) {
        problems.push(`${entry.name}: appears more than once in the zip`);
      }
      if (entry.name === MANIFEST_FILE) manifestBytes = await readAll(await entry.open());
      else if (entry.name === SIGNATURE_FILE) signature = await readAll(await entry.open());
      else {
        const hash = crypto.createHash('sha256');
        let size = 0;
        for await (const chunk of await entry.open()) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        actual.set(entry.name, { size, sha256: hash.digest('hex') });
      }
    }
  } catch (err) {
    return { ok: false, problems: [...problems, `the zip cannot be read: ${(err as Error).message}`], filesChecked: 0 };
  }
  if (!manifestBytes) return { ok: false, problems: [...problems, `${MANIFEST_FILE} is missing`], filesChecked: 0 };
  if (!signature) problems.push(`${SIGNATURE_FILE} is missing: the manifest is not signed`);

  let signer: VerifyReport['signer'];
  if (signature) {
    const check = verifyDetached(manifestBytes, signature);
    problems.push(...check.problems.map((p) => `signature: ${p}`));
    const pinned = options.pinned ? certificateFingerprint(options.pinned) : undefined;
    if (pinned && check.fingerprint && pinned !== check.fingerprint) {
      problems.push(`signature: made with certificate ${check.fingerprint}, not the expected ${pinned}`);
    }
    signer = { subject: check.signer, fingerprint: check.fingerprint, signingTime: check.signingTime, pinned: Boolean(pinned && pinned === check.fingerprint) };
  }

  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
    if (!Array.isArray(manifest.files)) throw new Error('it has no "files" list');
  } catch (err) {
    return { ok: false, problems: [...problems, `${MANIFEST_FILE} is not a readable manifest: ${(err as Error).message}`], signer, filesChecked: 0 };
  }
  const listed = new Set<string>();
  for (const expected of manifest.files) {
    listed.add(expected.name);
    const found = actual.get(expected.name);
    if (!found) problems.push(`${expected.name}: listed in the manifest but missing from the zip`);
    else if (found.size !== expected.size) problems.push(`${expected.name}: size differs (manifest ${expected.size} bytes, zip ${found.size} bytes)`);
    else if (found.sha256 !== expected.sha256) problems.push(`${expected.name}: content differs (manifest SHA-256 ${expected.sha256}, zip ${found.sha256})`);
  }
  for (const name of actual.keys()) if (!listed.has(name)) problems.push(`${name}: in the zip but not listed in the manifest`);
  return { ok: problems.length === 0, problems, manifest, signer, filesChecked: manifest.files.length };
}
