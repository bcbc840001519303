// Key rotation: a checkpoint signed by the old key announces the new one (so whoever trusts the old
// key can follow to the new), then the new key is registered and signs from then on. Old public keys
// stay in <dataDir>/keys/ and audit_keys, so old checkpoints keep verifying. The rotation is audited.
import type { Knex } from 'knex';
import { createCheckpoint, syncCheckpointFile, checkpointFilePath } from './checkpoints.ts';
import { currentSigningKey, registerKey, type AuditKeyDir } from './keys.ts';
import type { AuditActor } from './record.ts';
import { sealAll } from './sealer.ts';
import { recordAudit } from './store.ts';

export async function rotateAuditKey(db: Knex, keys: AuditKeyDir, options: { dataDir: string; nodeId: string; actor: Partial<AuditActor>; apiPath: string }): Promise<{ oldKeyId: string; newKeyId: string }> {
  await sealAll(db);
  const old = await currentSigningKey(db, keys);
  if (!old) throw new Error('no audit signing key is registered yet (start the server once)');
  const next = keys.generate();
  await createCheckpoint(db, old, { nodeId: options.nodeId, nextKey: next });
  await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['custodian.audit.keys']);
    await registerKey(trx, next);
    await recordAudit(trx, {
      event_name: 'rotate_audit_key', status: 'success', actor: options.actor, meta: { api_path: options.apiPath, node_id: options.nodeId },
      event: { object_type: 'audit_key', prior_state: { key_id: old.keyId }, resulting_state: { key_id: next.keyId } },
    });
  });
  await syncCheckpointFile(db, checkpointFilePath(options.dataDir));
  return { oldKeyId: old.keyId, newKeyId: next.keyId };
}
