import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { JobContext, JobOutcome, JobTypeDefinition } from '../../retention-jobs/index.ts';
import { InvalidInputError } from '../../server/lib/errors.ts';
import { isId } from '../../server/lib/ids.ts';
import { csvRow } from '../export/formats/text.ts';
import { versionMessageId } from '../export/records.ts';
import { ExportStorage } from '../export/storage.ts';
import { ZipWriter } from '../export/zip.ts';

/** Mattermost's compliance report columns (posts.csv). */
export const REPORT_HEADER = [
  'TeamName', 'TeamDisplayName', 'ChannelName', 'ChannelDisplayName', 'ChannelType', 'UserUsername', 'UserEmail', 'UserNickname', 'UserType',
  'PostId', 'PostCreateAt', 'PostUpdateAt', 'PostDeleteAt', 'PostRootId', 'PostParentId', 'PostOriginalId', 'PostMessage', 'PostType',
  'PostProps', 'PostHashtags', 'PostFileIds',
] as const;

export interface ReportRow {
  id: string;
  create_at: number;
  user_id: string;
  status: string;
  count: number;
  description: string;
  type: string;
  start_at: number;
  end_at: number;
  keywords: string;
  emails: string;
  job_id: string;
  file_key: string;
  size: number;
  sha256: string;
}

/** Mattermost's Compliance JSON. */
export function presentReport(r: ReportRow) {
  return { id: r.id, create_at: r.create_at, user_id: r.user_id, status: r.status, count: r.count, desc: r.description, type: r.type, start_at: r.start_at, end_at: r.end_at, keywords: r.keywords, emails: r.emails };
}

const rfc3339 = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : '');

function like(keyword: string): string {
  return `%${keyword.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

async function* reportCsv(ctx: JobContext, report: ReportRow, counter: { rows: number }): AsyncGenerator<string> {
  const emails = report.emails.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean);
  const keywords = report.keywords.split(/[,\s]+/).map((k) => k.trim()).filter(Boolean).map(like);
  const filters = (message: string) =>
    `${emails.length ? ' AND lower(u.email) = ANY(:emails)' : ''}${keywords.length ? ` AND ${message} ILIKE ANY(:keywords)` : ''}`;
  const select = `t.name AS team_name, t.display_name AS team_display_name, c.name AS channel_name, c.display_name AS channel_display_name, c.type AS channel_type,
      u.username, u.email, u.nickname, u.is_bot`;
  const sql = `SELECT * FROM (
      SELECT ${select}, p.id, 0::bigint AS version_id, p.create_at, p.update_at, p.delete_at, p.root_id, p.original_id, p.message, p.type, p.props::text AS props, p.hashtags, p.file_ids::text AS file_ids
      FROM posts p JOIN channels c ON c.id = p.channel_id LEFT JOIN teams t ON t.id = c.team_id LEFT JOIN users u ON u.id = p.user_id
      WHERE p.create_at >= :start AND p.create_at <= :end ${filters('p.message')}
      UNION ALL
      SELECT ${select}, p.id, v.id, p.create_at, v.replaced_at, v.replaced_at, p.root_id, p.id, v.message, p.type, v.props::text, '', v.file_ids::text
      FROM post_versions v JOIN posts p ON p.id = v.post_id JOIN channels c ON c.id = p.channel_id LEFT JOIN teams t ON t.id = c.team_id LEFT JOIN users u ON u.id = p.user_id
      WHERE v.reason = 'edit' AND p.create_at >= :start AND p.create_at <= :end ${filters('v.message')}) r
    ORDER BY create_at, id, version_id = 0, version_id`;
  yield csvRow([...REPORT_HEADER]);
  const { db } = ctx.services;
  const trx = await db.transaction();
  try {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await trx.raw(`DECLARE report_rows NO SCROLL CURSOR FOR ${sql}`, { start: report.start_at, end: report.end_at, emails, keywords });
    while (true) {
      ctx.throwIfStopped();
      const { rows } = await trx.raw('FETCH 2000 FROM report_rows');
      for (const r of rows) {
        counter.rows++;
        const version = Number(r.version_id) > 0;
        yield csvRow([
          r.team_name ?? '', r.team_display_name ?? '', r.channel_name, r.channel_display_name, r.channel_type, r.username ?? '', r.email ?? '',
          r.nickname ?? '', r.is_bot ? 'bot' : 'user', version ? versionMessageId(r.id, Number(r.version_id)) : r.id, rfc3339(Number(r.create_at)),
          rfc3339(Number(r.update_at)), rfc3339(Number(r.delete_at)), r.root_id, r.root_id, version ? r.id : r.original_id, r.message, r.type,
          r.props, r.hashtags, r.file_ids,
        ]);
      }
      if (rows.length < 2000) break;
    }
  } finally {
    await trx.rollback().catch(() => undefined);
  }
}

/** Runs a legacy compliance report: posts (and replaced edit versions) matching its filters → zip with meta.json and posts.csv. */
async function runReport(ctx: JobContext): Promise<JobOutcome> {
  const { db, config } = ctx.services;
  const reportId = String(ctx.job.data.report_id);
  const report = (await db('compliance_reports').where({ id: reportId }).first()) as ReportRow | undefined;
  if (!report) throw new Error(`compliance report ${reportId} does not exist`);
  await db('compliance_reports').where({ id: reportId }).update({ status: 'running' });
  const storage = ExportStorage.for(config);
  const temp = path.join(storage.tempDir(), `report-${reportId}-${crypto.randomBytes(4).toString('hex')}.zip`);
  try {
    const zip = new ZipWriter(temp, { date: new Date(report.create_at) });
    const counter = { rows: 0 };
    await zip.add('posts.csv', reportCsv(ctx, report, counter));
    await zip.add('meta.json', JSON.stringify({ ...presentReport(report), status: 'finished', count: counter.rows }, null, 2) + '\n');
    const written = await zip.finish();
    const key = `compliance-reports/${reportId}.zip`;
    await storage.moveIn(temp, key);
    await ctx.checkpoint({ data: { report_id: reportId, count: String(counter.rows) } }, (trx) =>
      trx('compliance_reports').where({ id: reportId }).update({ status: 'finished', count: counter.rows, file_key: key, size: written.size, sha256: written.sha256 }),
    );
    return { status: 'success' };
  } catch (err) {
    await db('compliance_reports').where({ id: reportId }).update({ status: 'failed' });
    throw err;
  } finally {
    await fsp.rm(temp, { force: true });
  }
}

/** The job that runs legacy compliance reports (created by POST /compliance/reports). */
export const complianceReportJob: JobTypeDefinition = {
  type: 'compliance_report',
  permissions: { create: 'run_compliance_export', read: 'read_compliance' },
  prepare(data) {
    if (!isId(data.report_id)) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'A compliance report job needs a report_id; create reports with POST /compliance/reports.');
    return { report_id: data.report_id };
  },
  run: runReport,
};
