// Configuration is read from the environment and files, not edited through the API, so a change
// happens between two starts. Each node keeps the settings it last started with; a start with other
// settings records `update_config` in the audit log (prior and resulting values of what changed),
// in one transaction with the new snapshot, so a crash cannot lose the record or record it twice.
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { recordAudit } from '../../audit/index.ts';
import type { Logger } from '../lib/logger.ts';
import { secretSettings, settingSources, type Config, type SettingKey } from './schema.ts';

type Snapshot = Record<string, unknown>;

/**
 * The settings as they may be recorded: secrets become a keyed fingerprint (equal values, equal
 * fingerprints; the value itself cannot be guessed from it without the node's key).
 */
export function configSnapshot(config: Config, fingerprintKey: Buffer): Snapshot {
  const snapshot: Snapshot = {};
  for (const key of Object.keys(settingSources) as SettingKey[]) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === '') snapshot[key] = null;
    else if (secretSettings.has(key)) snapshot[key] = 'secret:' + crypto.createHmac('sha256', fingerprintKey).update(String(value)).digest('hex').slice(0, 16);
    else snapshot[key] = value;
  }
  return snapshot;
}

/** The settings whose values differ, with their prior and resulting values. */
export function configDifferences(prior: Snapshot, next: Snapshot): { keys: string[]; prior: Snapshot; resulting: Snapshot } {
  const keys = [...new Set([...Object.keys(prior), ...Object.keys(next)])].filter((k) => JSON.stringify(prior[k] ?? null) !== JSON.stringify(next[k] ?? null)).sort();
  return { keys, prior: Object.fromEntries(keys.map((k) => [k, prior[k] ?? null])), resulting: Object.fromEntries(keys.map((k) => [k, next[k] ?? null])) };
}

/** Records the node's configuration change since its previous start, if any. Returns the changed setting names. */
export async function auditConfigChanges(db: Knex, config: Config, fingerprintKey: Buffer, logger: Logger): Promise<string[]> {
  const next = configSnapshot(config, fingerprintKey);
  return db.transaction(async (trx) => {
    const row = await trx('config_snapshots').where({ node_id: config.nodeId }).forUpdate().first('snapshot');
    const prior: Snapshot = row ? JSON.parse(row.snapshot) : {};
    const diff = configDifferences(prior, next);
    if (diff.keys.length === 0) return [];
    await recordAudit(trx, {
      event_name: 'update_config',
      status: 'success',
      actor: { user_agent: 'custodian' },
      meta: { api_path: 'server:start', node_id: config.nodeId },
      event: { object_type: 'config', parameters: { changed: diff.keys, first_start: !row }, prior_state: row ? diff.prior : {}, resulting_state: diff.resulting },
    });
    await trx('config_snapshots')
      .insert({ node_id: config.nodeId, snapshot: JSON.stringify(next), update_at: Date.now() })
      .onConflict('node_id')
      .merge();
    logger.info({ changed: diff.keys }, row ? 'configuration changed since the last start (audited)' : 'first start of this node: configuration recorded in the audit log');
    return diff.keys;
  });
}
