// `custodian audit verify | export | rotate-key`: the tamper-evident audit log from the command line.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { AuditKeyDir, checkpointFilePath, exportBundle, readPublicKeys, recordAudit, rotateAuditKey, sealAll, verifyBundle, verifyDatabase, type PublicAuditKey, type VerifyResult } from '../../audit/index.ts';
import type { Config } from '../config/schema.ts';
import type { Knex } from '../db/connection.ts';
import type { Logger } from '../lib/logger.ts';
import { withOwnerDatabase } from './database.ts';

export const auditUsage = `  audit verify [--public-key PEM]... [--checkpoints FILE]...
                                      Verify the audit log in the database: hash chain, signed checkpoints,
                                      and the checkpoint file under the data dir (exit 0 intact, 2 tampered)
  audit verify --bundle FILE [--public-key PEM]...
                                      Verify an exported bundle offline (no database; pin the public key)
  audit export --from T --to T --out FILE
                                      Write a verifiable bundle of the records from T to T (epoch ms or ISO
                                      date; or --from-seq/--to-seq N), with checkpoints and inclusion proofs
  audit rotate-key                    Replace the checkpoint signing key (old public keys stay valid)`;

const EXIT_TAMPERED = 2;
const write = (line: string) => process.stdout.write(line + '\n');

function cliActor(): { user_id: string; session_id: string; ip_address: string; user_agent: string } {
  let who = 'unknown';
  try {
    who = os.userInfo().username;
  } catch {
    // no passwd entry
  }
  return { user_id: '', session_id: '', ip_address: '', user_agent: `custodian-cli (${who}@${os.hostname()})` };
}

/** Records a command-line action in the audit log (chained by the server, or by the next `audit` command). */
export async function recordCliAudit(
  db: Knex | Knex.Transaction,
  cfg: Config,
  command: string,
  event: { event_name: string; object_type: string; parameters?: Record<string, unknown>; resulting_state?: Record<string, unknown> },
): Promise<void> {
  await recordAudit(db, {
    event_name: event.event_name, status: 'success', actor: cliActor(), meta: { api_path: `cli:${command}`, node_id: cfg.nodeId },
    event: { object_type: event.object_type, parameters: event.parameters, resulting_state: event.resulting_state },
  });
}

function pinnedKeys(files: string[] | undefined): PublicAuditKey[] {
  return (files ?? []).flatMap((f) => readPublicKeys(f));
}

/** Prints a verification result; returns the exit code. */
function report(result: VerifyResult, what: string): number {
  for (const warning of result.warnings) write(`warning: ${warning}`);
  if (result.ok) {
    write(`${what} intact: records ${result.fromSeq}..${result.toSeq} (${result.records} records), ${result.checkpoints} checkpoints, signed through ${result.signedThrough}.`);
    return 0;
  }
  const first = result.first!;
  write(`${what} FAILED verification: first bad sequence number ${first.seq}: ${first.reason} (${first.detail})`);
  for (const f of result.findings.slice(1, 20)) write(`  also at ${f.seq}: ${f.reason} (${f.detail})`);
  return EXIT_TAMPERED;
}

/** An epoch-ms number or an ISO date. */
function timeArg(value: string | undefined, name: string, usage: (m: string) => Error): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw usage(`--${name} must be epoch milliseconds or an ISO date.`);
  return ms;
}

export async function auditCommand(args: string[], config: () => Promise<Config>, loggerFor: (c: Config) => Logger, usage: (m: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  const cliMeta = (cfg: Config, command: string) => ({ api_path: `cli:audit ${command}`, node_id: cfg.nodeId });
  switch (sub) {
    case 'verify': {
      const { values } = parseArgs({ args: rest, options: { bundle: { type: 'string' }, 'public-key': { type: 'string', multiple: true }, checkpoints: { type: 'string', multiple: true } } });
      const pinned = pinnedKeys(values['public-key']);
      if (values.bundle) return report(await verifyBundle(values.bundle, { trustedKeys: pinned }), `Bundle ${values.bundle}`);
      const cfg = await config();
      return withOwnerDatabase(cfg, loggerFor(cfg), async (db) => {
        const keys = new AuditKeyDir(cfg.dataDir);
        await sealAll(db);
        const result = await verifyDatabase(db, { trustedKeys: [...keys.publicKeys(), ...pinned], checkpointFiles: [checkpointFilePath(cfg.dataDir), ...(values.checkpoints ?? [])] });
        const code = report(result, 'Audit log');
        // The verification is itself an audited event.
        await recordAudit(db, {
          event_name: 'verify_audit_log', status: 'success', actor: cliActor(), meta: cliMeta(cfg, 'verify'),
          event: { object_type: 'audit_log', resulting_state: { intact: result.ok, records: result.records, first_bad_seq: result.first?.seq ?? null, reason: result.first?.reason ?? null } },
        });
        await sealAll(db);
        return code;
      }, { migrate: false });
    }
    case 'export': {
      const { values } = parseArgs({ args: rest, options: { from: { type: 'string' }, to: { type: 'string' }, 'from-seq': { type: 'string' }, 'to-seq': { type: 'string' }, out: { type: 'string' } } });
      if (!values.out) throw usage('audit export needs --out FILE.');
      const range = {
        fromMs: timeArg(values.from, 'from', usage), toMs: timeArg(values.to, 'to', usage),
        fromSeq: values['from-seq'] ? Number(values['from-seq']) : undefined, toSeq: values['to-seq'] ? Number(values['to-seq']) : undefined,
      };
      const cfg = await config();
      return withOwnerDatabase(cfg, loggerFor(cfg), async (db) => {
        await recordAudit(db, { event_name: 'export_audit_log', status: 'success', actor: cliActor(), meta: cliMeta(cfg, 'export'), event: { object_type: 'audit_log', parameters: { ...range, out: values.out } } });
        const written = await exportBundle(db, new AuditKeyDir(cfg.dataDir), range, values.out!, { nodeId: cfg.nodeId, maxCheckpointRecords: cfg.auditCheckpointRecords });
        write(`Wrote ${written.records} records (${written.from}..${written.to}) to ${values.out}.`);
        return 0;
      }, { migrate: false });
    }
    case 'rotate-key': {
      const cfg = await config();
      return withOwnerDatabase(cfg, loggerFor(cfg), async (db) => {
        const { oldKeyId, newKeyId } = await rotateAuditKey(db, new AuditKeyDir(cfg.dataDir), { dataDir: cfg.dataDir, nodeId: cfg.nodeId, actor: cliActor(), apiPath: 'cli:audit rotate-key' });
        await sealAll(db);
        write(`Rotated the audit signing key: ${oldKeyId} -> ${newKeyId}. Keep the old public key: it verifies older checkpoints.`);
        return 0;
      }, { migrate: false });
    }
    default:
      throw usage(`Unknown audit command "${sub ?? ''}".`);
  }
}
