import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultKeyPaths, ExportStorage, incrementalFrontier, messageExportJob, prepareCompliance, readCertificate, verifyExportZip } from '../../compliance/index.ts';
import { createJobUnchecked, findJob, finishedStatuses, JobWorker, type JobRow } from '../../retention-jobs/index.ts';
import type { Config } from '../config/schema.ts';
import { LocalFileStore } from '../files/local-store.ts';
import type { Knex } from '../db/connection.ts';
import type { Logger } from '../lib/logger.ts';
import type { Services } from '../services.ts';
import { withOwnerDatabase } from './database.ts';

export const exportUsage = `  export run [--format F] [--from T] [--to T]
                                      Run a compliance export now and wait for it (F: actiance, globalrelay,
                                      csv, jsonl; T: epoch ms or ISO date; without --from/--to it continues
                                      the incremental export)
  export status                       Recent export jobs, the incremental cursor and the next scheduled run
  export verify <zip> [--cert PEM]    Check a batch zip offline against its signed manifest`;

const write = (line: string) => process.stdout.write(line + '\n');

/** Just enough of the server's services for a job to run in this process. */
function jobServices(config: Config, logger: Logger, db: Knex): Services {
  return { config, logger, db, files: new LocalFileStore(path.join(config.dataDir, 'files')) } as unknown as Services;
}

function describe(job: JobRow): string {
  const d = job.data as Record<string, string>;
  const created = new Date(job.create_at).toISOString();
  return `${job.id}  ${job.status.padEnd(16)} ${String(job.progress).padStart(3)}%  ${created}  format=${d.format ?? '?'} batches=${d.batches ?? 0} messages=${d.messages_exported ?? 0} warnings=${d.warning_count ?? 0}${d.error ? ` error=${d.error}` : ''}`;
}

async function run(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } });
  await prepareCompliance(config);
  return withOwnerDatabase(config, logger, async (db) => {
    const services = jobServices(config, logger, db);
    const data: Record<string, string> = {};
    if (values.format) data.format = values.format;
    if (values.from) data.from = values.from;
    if (values.to) data.to = values.to;
    const job = await createJobUnchecked(services, messageExportJob, { data, trigger: 'cli', who: { userId: '' } });
    write(`Created export job ${job.id} (${(job.data as Record<string, string>).format}); waiting for it to finish...`);
    // Run it here unless a server's worker claims it first; either way, wait for the outcome.
    const worker = new JobWorker(services, [messageExportJob], { leaseMs: config.jobLeaseSeconds * 1000, pollMs: 500, onlyJobIds: new Set([job.id]) });
    worker.start();
    let current: JobRow | undefined = job;
    let shown = -1;
    try {
      while (current && !finishedStatuses.has(current.status)) {
        await new Promise((r) => setTimeout(r, 250));
        current = await findJob(db, job.id);
        if (current && current.progress !== shown) {
          shown = current.progress;
          write(`  ${current.status} ${current.progress}%`);
        }
      }
    } finally {
      await worker.stop();
    }
    if (!current) throw new Error(`export job ${job.id} disappeared`);
    write(describe(current));
    const batches = await db('compliance_export_batches').where({ job_id: job.id }).orderBy('seq');
    const storage = ExportStorage.for(config);
    for (const b of batches) write(`  batch ${b.seq}: ${storage.describe(b.file_key)}  sha256 ${b.sha256}`);
    return current.status === 'success' || current.status === 'warning' ? 0 : 1;
  });
}

async function status(config: Config, logger: Logger): Promise<number> {
  return withOwnerDatabase(config, logger, async (db) => {
    const jobs = (await db('jobs').where({ type: messageExportJob.type }).orderBy('create_at', 'desc').limit(10)) as JobRow[];
    write(jobs.length ? 'Recent export jobs (newest first):' : 'No export job has run yet.');
    for (const job of jobs) write(`  ${describe(job)}`);
    const frontier = await incrementalFrontier(db);
    write(`Incremental cursor: ${frontier ? `posts updated after ${new Date(frontier.updateAt).toISOString()} (${frontier.updateAt}${frontier.postId ? `, ${frontier.postId}` : ''})` : 'none yet (the next export starts from CUSTODIAN_EXPORT_FROM_TIMESTAMP)'}`);
    const schedule = await db('job_schedules').where({ type: messageExportJob.type }).first();
    write(schedule ? `Schedule: ${schedule.spec} (UTC); next run ${new Date(Number(schedule.next_run_at)).toISOString()}` : 'Schedule: none (CUSTODIAN_EXPORT_ENABLED is off); exports run on demand');
    return 0;
  }, { migrate: false });
}

async function verify(config: Config | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { cert: { type: 'string' } } });
  if (positionals.length !== 1) throw new Error('export verify needs exactly one zip file: custodian export verify <zip> [--cert PEM]');
  const certFile = values.cert ?? (config ? (config.exportCertFile ?? defaultKeyPaths(config.dataDir).cert) : undefined);
  const pinned = certFile && fs.existsSync(certFile) ? readCertificate(certFile) : undefined;
  if (values.cert && !pinned) throw new Error(`cannot read the certificate ${values.cert}`);
  const report = await verifyExportZip(positionals[0], { pinned });
  if (report.signer) {
    write(`Signed by: ${report.signer.subject ?? '?'} (certificate SHA-256 ${report.signer.fingerprint})${report.signer.signingTime ? ` at ${report.signer.signingTime.toISOString()}` : ''}`);
    write(report.signer.pinned ? `Signer: matches ${certFile}` : 'Signer: NOT PINNED (pass --cert to check who signed)');
  }
  if (report.manifest) write(`Batch: job ${report.manifest.job_id} batch ${report.manifest.batch} (${report.manifest.format}), ${report.manifest.counts.messages} messages`);
  if (report.ok) {
    write(`OK: the manifest's signature is valid and all ${report.filesChecked} files match it.`);
    return 0;
  }
  write(`FAILED: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
  for (const problem of report.problems) write(`  - ${problem}`);
  return 1;
}

/** `custodian export run|status|verify`. Returns the exit code. */
export async function exportCommand(args: string[], loadConfig: () => Promise<Config>, logger: (config: Config) => Logger, usageError: (message: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'verify') {
    let config: Config | undefined;
    try {
      config = await loadConfig();
    } catch {
      config = undefined; // verification is offline: a missing configuration only means no default certificate
    }
    return verify(config, rest);
  }
  const config = await loadConfig();
  if (sub === 'run') return run(config, logger(config), rest);
  if (sub === 'status') return status(config, logger(config));
  throw usageError(`Unknown export command "${sub ?? ''}". Use run, status or verify.`);
}
