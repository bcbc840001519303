import path from 'node:path';
import { parseArgs } from 'node:util';
import { createJobUnchecked, findJob, finishedStatuses, JobWorker, type JobRow } from '../../retention-jobs/index.ts';
import { dataRetentionJob, previewRetention, type PreviewProposal, type RetentionPreview } from '../../retention-jobs/retention/index.ts';
import type { Config } from '../config/schema.ts';
import type { Knex } from '../db/connection.ts';
import { LocalFileStore } from '../files/local-store.ts';
import type { Logger } from '../lib/logger.ts';
import type { Services } from '../services.ts';
import { withOwnerDatabase } from './database.ts';

export const retentionUsage = `  retention preview [--days N (--team ID | --channel ID | --policy ID)...] [--global-days N | --global-hours N]
                    [--keep-pinned] [--json]
                                      What retention would delete now (per team and channel, oldest/newest,
                                      what holds and keep-pinned spare), for the policies in force or a
                                      proposed one; deletes nothing
  retention run                       Run the data retention job now and wait for it`;

const write = (line: string) => process.stdout.write(line + '\n');
const day = (ms: number) => (ms ? new Date(ms).toISOString().slice(0, 10) : '-');

/** Just enough of the server's services for a job to run in this process. */
function jobServices(config: Config, logger: Logger, db: Knex): Services {
  return { config, logger, db, files: new LocalFileStore(path.join(config.dataDir, 'files')) } as unknown as Services;
}

function proposalFrom(args: string[]): { proposal: PreviewProposal; json: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      days: { type: 'string' }, team: { type: 'string', multiple: true }, channel: { type: 'string', multiple: true }, policy: { type: 'string' },
      'global-days': { type: 'string' }, 'global-hours': { type: 'string' }, 'keep-pinned': { type: 'boolean' }, json: { type: 'boolean' },
    },
  });
  const number = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || (n < 1 && !(name === '--days' && n === -1))) throw new Error(`${name} must be a whole number of at least 1`);
    return n;
  };
  const proposal: PreviewProposal = {};
  const days = number(values.days, '--days');
  const globalHours = values['global-days'] !== undefined ? number(values['global-days'], '--global-days')! * 24 : number(values['global-hours'], '--global-hours');
  if (globalHours !== undefined) proposal.global = { message_deletion_enabled: true, message_retention_hours: globalHours, ...(values['keep-pinned'] ? { keep_pinned: true } : {}) };
  if (days !== undefined) {
    if (!values.team && !values.channel && !values.policy) throw new Error('--days needs --team, --channel or --policy: the teams or channels the proposed policy applies to');
    proposal.policy = { id: values.policy, post_duration: days, keep_pinned: values['keep-pinned'] ?? false, team_ids: values.team, channel_ids: values.channel };
  } else if (values.team || values.channel || values.policy) {
    throw new Error('--team, --channel and --policy need --days');
  }
  return { proposal, json: Boolean(values.json) };
}

function print(preview: RetentionPreview): void {
  write(`Retention preview at ${new Date(preview.now).toISOString()} (nothing was deleted)`);
  if (preview.passes.length === 0) write('No message policy deletes anything (global message deletion is off and no custom policy applies).');
  for (const p of preview.passes) write(`  ${p.key.padEnd(36)} deletes posts created before ${new Date(p.cutoff).toISOString()}${p.keep_pinned ? ' (keeps pinned)' : ''}`);
  const t = preview.totals;
  write(`Posts: ${t.posts} (oldest ${day(t.oldest)}, newest ${day(t.newest)}); files attached: ${t.files}; spared by legal holds: ${t.held_excluded}; kept pinned: ${t.pinned_excluded}`);
  for (const team of preview.teams) write(`  team ${team.team_name || '(direct and group messages)'}: ${team.posts} posts, ${team.held_excluded} held`);
  if (preview.channels.length) write(`  ${'channel'.padEnd(40)} ${'team'.padEnd(20)} ${'posts'.padStart(9)} ${'files'.padStart(7)} ${'held'.padStart(7)} ${'pinned'.padStart(7)}  oldest      newest`);
  for (const c of preview.channels) {
    write(`  ${(c.channel_display_name || c.channel_name || c.channel_id).slice(0, 40).padEnd(40)} ${(c.team_name || '-').slice(0, 20).padEnd(20)} ${String(c.posts).padStart(9)} ${String(c.files).padStart(7)} ${String(c.held_excluded).padStart(7)} ${String(c.pinned_excluded).padStart(7)}  ${day(c.oldest).padEnd(10)}  ${day(c.newest)}`);
  }
  const f = preview.file_deletion;
  write(f.enabled ? `Files (global file policy, created before ${new Date(f.cutoff).toISOString()}): ${f.files} files, ${f.bytes} bytes; spared by legal holds: ${f.held_excluded}` : 'Files: global file deletion is off');
}

async function run(config: Config, logger: Logger): Promise<number> {
  return withOwnerDatabase(config, logger, async (db) => {
    const services = jobServices(config, logger, db);
    const job = await createJobUnchecked(services, dataRetentionJob, { trigger: 'cli', who: { userId: '' } });
    write(`Created data retention job ${job.id}; waiting for it to finish...`);
    // Run it here unless a server's worker claims it first; either way, wait for the outcome.
    const worker = new JobWorker(services, [dataRetentionJob], { leaseMs: config.jobLeaseSeconds * 1000, pollMs: 500, onlyJobIds: new Set([job.id]) });
    worker.start();
    let current: JobRow | undefined = job;
    try {
      while (current && !finishedStatuses.has(current.status)) {
        await new Promise((r) => setTimeout(r, 250));
        current = await findJob(db, job.id);
      }
    } finally {
      await worker.stop();
    }
    if (!current) throw new Error(`data retention job ${job.id} disappeared`);
    const d = current.data as Record<string, string>;
    write(`${current.id}  ${current.status}  posts=${d.posts ?? 0} versions=${d.versions ?? 0} reactions=${d.reactions ?? 0} files=${d.files ?? 0} held_skipped=${d.held_skipped ?? 0} pinned_skipped=${d.pinned_skipped ?? 0} batches=${d.batches ?? 0}${d.error ? ` error=${d.error}` : ''}`);
    return current.status === 'success' ? 0 : 1;
  });
}

/** `custodian retention preview|run`. Returns the exit code. */
export async function retentionCommand(args: string[], loadConfig: () => Promise<Config>, logger: (config: Config) => Logger, usageError: (message: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'preview' && sub !== 'run') throw usageError(`Unknown retention command "${sub ?? ''}". Use preview or run.`);
  let parsed: ReturnType<typeof proposalFrom> | undefined;
  if (sub === 'preview') {
    try {
      parsed = proposalFrom(rest);
    } catch (err) {
      throw usageError((err as Error).message);
    }
  }
  const config = await loadConfig();
  if (sub === 'run') return run(config, logger(config));
  const { proposal, json } = parsed!;
  const preview = await withOwnerDatabase(config, logger(config), (db) => previewRetention(db, undefined, proposal, Date.now()));
  if (json) write(JSON.stringify(preview, null, 2));
  else print(preview);
  return 0;
}
