import { Readable } from 'node:stream';
import { Router } from '@koa/router';
import type { Knex } from 'knex';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

interface AuditRow {
  seq: number;
  record: string;
  hash: Buffer;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- records are JSON of a known shape
type Parsed = any;

/** Mattermost's legacy audit fields, plus the sequence number, chain hash and the full record. */
function presentAudit(row: AuditRow): Record<string, unknown> {
  const r: Parsed = JSON.parse(row.record);
  return {
    id: r.id, create_at: r.timestamp, user_id: r.actor.user_id, action: r.meta.api_path || r.event_name,
    extra_info: `${r.event_name} ${r.status}`, ip_address: r.actor.ip_address, session_id: r.actor.session_id,
    event_name: r.event_name, status: r.status, seq: Number(row.seq), hash: row.hash.toString('hex'), record: r,
  };
}

const csvColumns = ['seq', 'id', 'timestamp', 'event_name', 'status', 'user_id', 'session_id', 'ip_address', 'user_agent', 'object_type', 'api_path', 'node_id', 'parameters', 'prior_state', 'resulting_state', 'error', 'hash'];

/** A CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
function csvCell(value: unknown): string {
  let text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(row: AuditRow): string {
  const r: Parsed = JSON.parse(row.record);
  const cells = [r.seq, r.id, r.timestamp, r.event_name, r.status, r.actor.user_id, r.actor.session_id, r.actor.ip_address, r.actor.user_agent, r.event.object_type, r.meta.api_path, r.meta.node_id, r.event.parameters, r.event.prior_state, r.event.resulting_state, r.error, row.hash.toString('hex')];
  return cells.map(csvCell).join(',') + '\r\n';
}

function filtered(db: Knex | Knex.Transaction, q: schema.AuditsQuery): Knex.QueryBuilder {
  const query = db('audit_log').select('seq', 'record', 'hash');
  if (q.user_id) query.where('user_id', q.user_id);
  if (q.event_name) query.where('event_name', q.event_name);
  if (q.object_type) query.where('object_type', q.object_type);
  if (q.status) query.where('status', q.status);
  if (q.since !== undefined) query.where('create_at', '>=', q.since);
  if (q.until !== undefined) query.where('create_at', '<=', q.until);
  return query;
}

/** Every matching record, oldest first, read a page at a time by sequence number. */
async function* exportLines(db: Knex, q: schema.AuditsQuery, line: (row: AuditRow) => string): AsyncGenerator<string> {
  if (q.format === 'csv') yield csvColumns.join(',') + '\r\n';
  let after = 0;
  for (;;) {
    const rows = (await filtered(db, q).where('seq', '>', after).orderBy('seq').limit(2000)) as AuditRow[];
    if (!rows.length) return;
    yield rows.map(line).join('');
    after = Number(rows[rows.length - 1].seq);
  }
}

/** GET /audits: the audit log for auditors and system admins. Every read is itself audited. */
export function auditRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/audits', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const q = queryOf(schema.auditsQuery, ctx.query);
    const audit = openAudit(services, ctx, 'get_audits', { objectType: 'audit_log', parameters: q });
    if (q.format === 'json') {
      const rows = await audit.run(async (trx) => {
        authorize(actor, 'read_audits', { kind: 'system' });
        // Records committed a moment ago are chained first, so a reader sees them.
        await services.audit.flush();
        const page = (await filtered(trx, q).orderBy('seq', 'desc').offset(q.page * q.per_page).limit(q.per_page)) as AuditRow[];
        audit.result({ count: page.length });
        return page;
      });
      sendJson(ctx, 200, rows.map(presentAudit));
      return;
    }
    // Exports stream outside any transaction; the read is recorded before the first byte.
    await audit.run(async () => {
      authorize(actor, 'read_audits', { kind: 'system' });
      await services.audit.flush();
    });
    const jsonl = (row: AuditRow) => `{"hash":"${row.hash.toString('hex')}","record":${row.record}}\n`;
    ctx.status = 200;
    ctx.set('Content-Type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    ctx.set('Content-Disposition', `attachment; filename="audits.${q.format}"`);
    ctx.body = Readable.from(exportLines(db, q, q.format === 'csv' ? csvLine : jsonl));
  });

  return router;
}
