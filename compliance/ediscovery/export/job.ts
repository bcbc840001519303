// Case export: a saved search, or everything a legal hold covers, as one zip for review platforms:
//   messages/<DOCID>.eml   one RFC 5322 message per item, attachments as MIME parts
//   loadfile.dat           Concordance load file (þ, U+0014, ®, CRLF; UTF-8 with BOM)
//   loadfile.csv           the same table as CSV
//   native/posts.jsonl     every covered post with all its versions, reactions and file records
//   manifest.json (+.p7s)  the signed manifest of compliance exports: SHA-256 of every file
// `custodian export verify <zip>` checks it offline. The zip is written in one snapshot and moved
// into place when complete; an interrupted run starts again from the beginning.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { recordAudit } from '../../../audit/index.ts';
import type { JobContext, JobDownload, JobOutcome, JobRow, JobTypeDefinition } from '../../../retention-jobs/index.ts';
import type { Actor } from '../../../server/auth/actor.ts';
import { InvalidInputError } from '../../../server/lib/errors.ts';
import { version } from '../../../server/lib/version.ts';
import type { Services } from '../../../server/services.ts';
import { buildManifest } from '../../custody/manifest.ts';
import { signDetached } from '../../custody/signature.ts';
import { exportKey } from '../../export/runner.ts';
import { ExportStorage } from '../../export/storage.ts';
import { ZipWriter } from '../../export/zip.ts';
import { custodianIdsSql } from '../../holds/coverage.ts';
import { savedRequest, type SavedSearchRow } from '../cases.ts';
import { resolveSearch, type SearchRequest } from '../search.ts';
import { emlOf, type ItemFile } from './eml.ts';
import { exportItems } from './items.ts';
import { BOM, csvLine, datLine, loadFileFields, type LoadFileRow } from './loadfile.ts';

export const CASE_EXPORT_TYPE = 'ediscovery_export';

interface CaseExportData {
  case_id?: string;
  search_id?: string;
  hold_id?: string;
  docid_prefix: string;
}

/** Appends lines to a file through a small buffer. */
class LineFile {
  readonly file: string;
  private readonly out: fs.WriteStream;

  constructor(file: string) {
    this.file = file;
    this.out = fs.createWriteStream(file, { mode: 0o600 });
  }

  async write(text: string): Promise<void> {
    if (!this.out.write(text)) await new Promise<void>((r) => this.out.once('drain', () => r()));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

const iso = (ms: number) => (ms ? new Date(ms).toISOString() : '');

async function requestOf(services: Pick<Services, 'db'>, data: CaseExportData): Promise<{ request: SearchRequest; label: string }> {
  if (data.search_id) {
    const saved = (await services.db('ediscovery_saved_searches').where({ id: data.search_id, delete_at: 0 }).first()) as SavedSearchRow | undefined;
    if (!saved || (data.case_id && saved.case_id !== data.case_id)) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'The saved search does not exist in that case.');
    return { request: savedRequest(saved), label: `search-${saved.id.slice(0, 8)}` };
  }
  const request: SearchRequest = { terms: '', is_or_search: false, time_zone_offset: 0, include_versions: true, include_deleted: true, hold_id: data.hold_id, custodian_ids: [], channel_ids: [], team_ids: [] };
  return { request, label: `hold-${data.hold_id!.slice(0, 8)}` };
}

async function run(ctx: JobContext): Promise<JobOutcome> {
  const { services, job } = ctx;
  const { db, config, files: store } = services;
  const data = job.data as unknown as CaseExportData;
  const { request, label } = await requestOf(services, data);
  const search = await resolveSearch(db, request);
  const custodianIds = new Set(search.custodianIds);
  for (const holdId of search.holdIds) {
    const hold = await db('legal_holds').where({ id: holdId }).first('current_version');
    const ids = custodianIdsSql(holdId, hold.current_version);
    for (const r of (await db.raw(ids.sql, ids.bindings)).rows as { user_id: string }[]) custodianIds.add(r.user_id);
  }
  const key = await exportKey(services);
  const storage = new ExportStorage(config.dataDir);
  const temp = path.join(storage.tempDir(), `${job.id}-${crypto.randomBytes(4).toString('hex')}`);
  await fsp.mkdir(temp, { recursive: true, mode: 0o700 });
  const started = Date.now();
  const zipFile = path.join(temp, 'export.zip');
  const zip = new ZipWriter(zipFile, { date: new Date(started) });
  const host = new URL(config.siteUrl).hostname || 'custodian.local';
  const dat = new LineFile(path.join(temp, 'loadfile.dat'));
  const csv = new LineFile(path.join(temp, 'loadfile.csv'));
  const jsonl = new LineFile(path.join(temp, 'posts.jsonl'));
  const counts = { channels: 0, posts: 0, versions: 0, messages: 0, joins: 0, leaves: 0, attachments: 0, warnings: 0 };
  const channels = new Set<string>();
  const missing: string[] = [];
  let first = 0;
  let last = 0;
  try {
    await dat.write(BOM + datLine(loadFileFields));
    await csv.write(BOM + csvLine(loadFileFields));
    await db.transaction(
      async (trx) => {
        const items = exportItems(trx, search, {
          docIdPrefix: data.docid_prefix, custodianIds: [...custodianIds],
          onPost: async (native) => {
            counts.posts++;
            await jsonl.write(JSON.stringify(native) + '\n');
          },
        });
        for await (const item of items) {
          ctx.throwIfStopped();
          const nativePath = `messages/${item.docId}.eml`;
          const openFile = async (f: ItemFile): Promise<Readable | undefined> => ((await store.stat(f.path).catch(() => undefined)) ? store.open(f.path) : undefined);
          const entry = await zip.add(nativePath, emlOf(item, host, openFile, (f) => missing.push(`${item.docId}: ${f.name} (${f.id})`)));
          counts.messages++;
          if (item.itemType === 'prior_version') counts.versions++;
          counts.attachments += item.files.length;
          channels.add(item.channel.id);
          first = first || item.sentAt;
          last = item.sentAt;
          const others = item.participants.filter((p) => p.id !== item.sender.id);
          const row: LoadFileRow = {
            DOCID: item.docId, PARENTDOCID: item.parentDocId, ITEMTYPE: item.itemType, STATE: item.state, CUSTODIAN: item.custodians.join('; '),
            FROM: `${item.sender.username} <${item.sender.email}>`, TO: others.map((p) => `${p.username} <${p.email}>`).join('; '),
            PARTICIPANTS: item.participants.map((p) => p.username).join('; '), TEAM: item.team?.name ?? '', CHANNEL: item.channel.name, CHANNELTYPE: item.channel.type,
            DATESENT: iso(item.sentAt), DATEVERSION: iso(item.versionAt), DATEREPLACED: iso(item.replacedAt), DATEDELETED: iso(item.deletedAt),
            SUBJECT: item.message.replace(/\s+/g, ' ').trim().slice(0, 120), ATTACHCOUNT: String(item.files.length), ATTACHNAMES: item.files.map((f) => f.name).join('; '),
            POSTID: item.postId, VERSIONID: item.versionId ? String(item.versionId) : '', NATIVEPATH: nativePath, SHA256: entry.sha256,
          };
          const values = loadFileFields.map((f) => row[f]);
          await dat.write(datLine(values));
          await csv.write(csvLine(values));
        }
      },
      { isolationLevel: 'repeatable read', readOnly: true },
    );
    for (const f of [dat, csv, jsonl]) await f.close();
    counts.channels = channels.size;
    counts.warnings = missing.length;
    await zip.add('loadfile.dat', fs.createReadStream(dat.file));
    await zip.add('loadfile.csv', fs.createReadStream(csv.file));
    await zip.add('native/posts.jsonl', fs.createReadStream(jsonl.file));
    const manifest = buildManifest({
      generator: `Custodian ${version}`, node: config.nodeId, jobId: job.id, batch: 1, format: 'ediscovery', incremental: false,
      cursor: { from: { updateAt: 0, postId: null }, to: { updateAt: started, postId: null } }, timeRange: { start: first, end: last }, jobEndTime: started,
      counts, files: zip.entries, signerFingerprint: key.fingerprint,
    });
    await zip.add('manifest.json', manifest);
    await zip.add('manifest.json.p7s', signDetached(manifest, key));
    const written = await zip.finish();
    const fileKey = `ediscovery/${job.id}/ediscovery-${label}-${new Date(started).toISOString().slice(0, 10)}.zip`;
    await storage.moveIn(zipFile, fileKey);
    const result = {
      file_key: fileKey, size: String(written.size), sha256: written.sha256, items: String(counts.messages), posts: String(counts.posts),
      versions: String(counts.versions), attachments: String(counts.attachments), warnings: String(missing.length), ...(missing.length ? { missing_files: missing.slice(0, 50).join('\n') } : {}),
    };
    await ctx.checkpoint({ data: result, progress: 100 });
    return { status: missing.length ? 'warning' : 'success', data: result };
  } catch (err) {
    zip.abort();
    throw err;
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
}

async function download(services: Services, job: JobRow, actor: Actor): Promise<JobDownload | undefined> {
  const d = job.data as Record<string, string>;
  if (!d.file_key) return undefined;
  const storage = new ExportStorage(services.config.dataDir);
  await recordAudit(services.db, {
    event_name: 'ediscovery_export_downloaded', status: 'success',
    actor: { user_id: actor.userId, session_id: actor.sessionId, ip_address: actor.ipAddress, user_agent: actor.userAgent },
    meta: { api_path: `/api/v4/jobs/${job.id}/download`, node_id: services.config.nodeId },
    event: { object_type: 'ediscovery_export', parameters: { job_id: job.id }, resulting_state: { file: d.file_key, sha256: d.sha256 } },
  });
  return { name: path.basename(d.file_key), size: Number(d.size), contentType: 'application/zip', etag: `"${d.sha256}"`, open: (range) => storage.open(d.file_key, range) };
}

/** Jobs of type `ediscovery_export` (data: case_id + search_id, or hold_id; optional docid_prefix). */
export const caseExportJob: JobTypeDefinition = {
  type: CASE_EXPORT_TYPE,
  permissions: { create: 'ediscovery_search', read: 'ediscovery_search', download: 'ediscovery_search' },
  async prepare(data, { db }) {
    const prefix = data.docid_prefix ?? 'CUST';
    if (!/^[A-Z][A-Z0-9_-]{0,11}$/.test(prefix)) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'docid_prefix must be 1-12 upper-case letters, digits, - or _, starting with a letter.');
    const id = (v: string | undefined) => (v && /^[a-z0-9]{26}$/.test(v) ? v : undefined);
    if (Boolean(data.search_id) === Boolean(data.hold_id)) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'An eDiscovery export needs either search_id (with case_id) or hold_id.');
    if (data.hold_id) {
      if (!id(data.hold_id) || !(await db('legal_holds').where({ id: data.hold_id }).first('id'))) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'The legal hold does not exist.');
      return { hold_id: data.hold_id, ...(id(data.case_id) ? { case_id: data.case_id } : {}), docid_prefix: prefix };
    }
    if (!id(data.search_id) || !id(data.case_id)) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'search_id and case_id must be ids.');
    const saved = await db('ediscovery_saved_searches').where({ id: data.search_id, case_id: data.case_id, delete_at: 0 }).first('id');
    if (!saved) throw new InvalidInputError('api.job.create.invalid_data.app_error', 'The saved search does not exist in that case.');
    return { case_id: data.case_id, search_id: data.search_id, docid_prefix: prefix };
  },
  async onCreated(trx, job, who) {
    await recordAudit(trx, {
      event_name: 'ediscovery_export_requested', status: 'success', actor: { user_id: who?.userId ?? '', ip_address: who?.ipAddress ?? '' },
      meta: { api_path: '/api/v4/jobs' }, event: { object_type: 'ediscovery_export', parameters: { job_id: job.id, ...job.data } },
    });
  },
  run,
  download,
};
