// Slack compatibility for integration payloads: Mattermost accepts Slack's markup in webhook and slash
// command texts and attachments, and rewrites it to its own before posting.
import type { Knex } from 'knex';
import { z } from 'zod';

/** A Slack/Mattermost message attachment, kept as sent apart from the fields Mattermost rewrites. */
export type Attachment = Record<string, unknown>;

const attachmentField = z.looseObject({ title: z.unknown().optional(), value: z.unknown().optional(), short: z.unknown().optional() });

/** `attachments` as integrations send it: a list of objects (null counts as none). */
export const attachmentsSchema = z
  .array(z.looseObject({ fields: z.array(attachmentField.nullable()).nullable().optional() }))
  .max(100)
  .nullable()
  .optional();

const linkWithText = /<([^\n<|>]+)\|([^|\n>]+)>/g;
const userIdMention = /<@([a-zA-Z0-9]+)>/g;
const announcements: [string, string][] = [['<!channel>', '@channel'], ['<!here>', '@here'], ['<!all>', '@all']];

/** Slack's `<url|text>` links as Markdown links, as Mattermost does for every integration post. */
export function slackLinksToMarkdown(text: string): string {
  return text.replace(linkWithText, '[$2]($1)');
}

function expandAnnouncements(text: string): string {
  let out = text;
  for (const [from, to] of announcements) out = out.split(from).join(to);
  return out;
}

/**
 * Rewrites Slack markup in a text and in attachments' pretext, text, title and field values:
 * `<!channel>`, `<!here>`, `<!all>` become @-mentions and `<@userid>` becomes `@username`. Field values
 * become strings (Slack allows numbers there; Mattermost's clients expect text).
 */
export async function processSlackMarkup(db: Knex | Knex.Transaction, text: string, attachments: Attachment[]): Promise<{ text: string; attachments: Attachment[] }> {
  const ids = new Set<string>();
  const collect = (s: unknown) => {
    if (typeof s === 'string') for (const m of s.matchAll(userIdMention)) ids.add(m[1]);
  };
  collect(text);
  for (const a of attachments) {
    collect(a.pretext);
    collect(a.text);
    collect(a.title);
    for (const f of fieldsOf(a)) collect(f.value);
  }
  const names = new Map<string, string>();
  if (ids.size) {
    const rows = (await db('users').whereIn('id', [...ids].slice(0, 200)).select('id', 'username')) as { id: string; username: string }[];
    for (const r of rows) names.set(r.id, r.username);
  }
  const rewrite = (s: string) => expandAnnouncements(s).replace(userIdMention, (whole, id: string) => (names.has(id) ? `@${names.get(id)}` : whole));
  const rewriteField = (v: unknown) => (typeof v === 'string' ? rewrite(v) : v);
  return {
    text: rewrite(text),
    attachments: attachments.map((a) => {
      const out: Attachment = { ...a, pretext: rewriteField(a.pretext), text: rewriteField(a.text), title: rewriteField(a.title) };
      for (const key of ['pretext', 'text', 'title']) if (out[key] === undefined) delete out[key];
      if (Array.isArray(a.fields)) {
        out.fields = a.fields
          .filter((f): f is Record<string, unknown> => f !== null && typeof f === 'object')
          .map((f) => (f.value === undefined || f.value === null ? f : { ...f, value: rewrite(typeof f.value === 'string' ? f.value : JSON.stringify(f.value)) }));
      }
      return out;
    }),
  };
}

function fieldsOf(a: Attachment): Record<string, unknown>[] {
  return Array.isArray(a.fields) ? a.fields.filter((f): f is Record<string, unknown> => f !== null && typeof f === 'object') : [];
}
