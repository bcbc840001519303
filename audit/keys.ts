// Checkpoint signing keys: Ed25519, generated at first start under <dataDir>/keys/ (private key 0600),
// rotated by `custodian audit rotate-key`. Public keys are also listed in audit_keys, newest last; the
// newest is the one that signs. Old public key files stay so old checkpoints still verify.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { ensureDir } from '../server/lib/fs.ts';

export interface PublicAuditKey {
  keyId: string;
  publicKeyPem: string;
}

export interface SigningKey extends PublicAuditKey {
  privateKey: KeyObject;
}

/** A key's id: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo (DER). */
export function keyIdOf(publicKeyPem: string): string {
  const der = crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Ed25519 signature of the UTF-8 bytes of `text`, base64. */
export function signText(key: SigningKey, text: string): string {
  return crypto.sign(null, Buffer.from(text), key.privateKey).toString('base64');
}

/** True when `signature` (base64) is a valid Ed25519 signature of `text` by `publicKeyPem`. */
export function verifyText(publicKeyPem: string, text: string, signature: string): boolean {
  try {
    return crypto.verify(null, Buffer.from(text), crypto.createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Reads every public key in a PEM file (several keys may be concatenated). */
export function readPublicKeys(file: string): PublicAuditKey[] {
  const pems = fs.readFileSync(file, 'utf8').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (!pems.length) throw new Error(`${file} holds no PEM public key`);
  return pems.map((pem) => ({ keyId: keyIdOf(pem), publicKeyPem: `${pem}\n` }));
}

/** The key files of one data directory. */
export class AuditKeyDir {
  readonly dir: string;
  private readonly cache = new Map<string, SigningKey>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'keys');
  }

  private file(keyId: string, kind: 'key' | 'pub'): string {
    return path.join(this.dir, `audit-${keyId}.${kind}.pem`);
  }

  /** Generates a key pair and writes it: private key 0600, public key 0644, in a 0700 folder. */
  generate(): SigningKey {
    ensureDir(this.dir, 0o700);
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const keyId = keyIdOf(publicKeyPem);
    fs.writeFileSync(this.file(keyId, 'key'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(this.file(keyId, 'pub'), publicKeyPem, { mode: 0o644, flag: 'wx' });
    const key = { keyId, publicKeyPem, privateKey };
    this.cache.set(keyId, key);
    return key;
  }

  /** The signing key with this id; throws when its private key file is missing. */
  signingKey(keyId: string): SigningKey {
    const cached = this.cache.get(keyId);
    if (cached) return cached;
    const file = this.file(keyId, 'key');
    if (!fs.existsSync(file)) throw new Error(`the audit signing key ${keyId} is not in ${this.dir} (copy the keys folder from the node that created it)`);
    const privateKey = crypto.createPrivateKey(fs.readFileSync(file, 'utf8'));
    const publicKeyPem = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    if (keyIdOf(publicKeyPem) !== keyId) throw new Error(`${file} does not hold key ${keyId}`);
    const key = { keyId, publicKeyPem, privateKey };
    this.cache.set(keyId, key);
    return key;
  }

  /** The public keys kept in this folder (trusted by `custodian audit verify` without --public-key). */
  publicKeys(): PublicAuditKey[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter((f) => /^audit-[0-9a-f]{16}\.pub\.pem$/.test(f)).flatMap((f) => readPublicKeys(path.join(this.dir, f)));
  }
}

/** Public keys registered in the database, oldest first. */
export async function registeredKeys(db: Knex | Knex.Transaction): Promise<PublicAuditKey[]> {
  const rows = await db('audit_keys').orderBy('n').select('key_id', 'public_key');
  return rows.map((r: { key_id: string; public_key: string }) => ({ keyId: r.key_id, publicKeyPem: r.public_key }));
}

/** Registers a public key; the newest registered key signs from now on. */
export async function registerKey(trx: Knex.Transaction, key: PublicAuditKey, now = Date.now()): Promise<void> {
  await trx('audit_keys').insert({ key_id: key.keyId, public_key: key.publicKeyPem, created_at: now });
}

/** The key that signs checkpoints now: the newest registered one, loaded from the key folder. */
export async function currentSigningKey(db: Knex | Knex.Transaction, keys: AuditKeyDir): Promise<SigningKey | undefined> {
  const row = await db('audit_keys').orderBy('n', 'desc').first('key_id');
  return row ? keys.signingKey(row.key_id as string) : undefined;
}
