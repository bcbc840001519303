import type { ExportMessage, ExportUser } from '../records.ts';
import { countMessage, type ExportFormat, type FormatContext } from './format.ts';

const user = (u: ExportUser) => ({ id: u.id, username: u.username, email: u.email, is_bot: u.isBot });

function messageLine(ctx: FormatContext, m: ExportMessage): string {
  return JSON.stringify({
    type: 'message', id: m.id, post_id: m.postId, source: m.source, update_type: m.updateType, channel_id: m.channelId, user: user(m.user),
    create_at: m.createAt, update_at: m.updateAt, edit_at: m.editAt, delete_at: m.deleteAt, root_id: m.rootId, edited_new_msg_id: m.editedNewMsgId,
    message: m.message, post_type: m.postType, props: m.props, hashtags: m.hashtags, previews_post: m.previewsPost,
    files: m.files.map((f) => ({
      id: f.id, name: f.name, size: f.size, mime_type: f.mimeType, sha256: f.sha256, create_at: f.createAt, delete_at: f.deleteAt,
      path: m.source === 'post' && f.deleteAt === 0 ? ctx.attach(m.postId, f) : '',
    })),
    reactions: m.reactions.map((r) => ({ user_id: r.userId, emoji_name: r.emojiName, create_at: r.createAt, delete_at: r.deleteAt })),
    key: { update_at: m.key.updateAt, post_id: m.key.postId },
  }) + '\n';
}

/**
 * Custodian's native export, `export.jsonl`: lossless, one JSON object per line. Channels with their
 * participants first, then every message record in cursor order (with props, reactions and file
 * hashes), then the joins and leaves in the batch's time range.
 */
async function* jsonLines(ctx: FormatContext): AsyncGenerator<string> {
  for await (const c of ctx.source.channels()) {
    ctx.counts.channels++;
    yield JSON.stringify({
      type: 'channel', id: c.id, name: c.name, display_name: c.displayName, channel_type: c.type,
      team: { id: c.teamId, name: c.teamName, display_name: c.teamDisplayName }, start_time: c.startTime, end_time: c.endTime,
      participants: c.participants.map((p) => ({ user: user(p.user), join_time: p.joinTime, leave_time: p.leaveTime ?? null })),
    }) + '\n';
  }
  for await (const m of ctx.source.messages('key', { reactions: true, props: true })) {
    countMessage(ctx.counts, m);
    yield messageLine(ctx, m);
  }
  for await (const e of ctx.source.memberEvents()) {
    ctx.counts[e.kind === 'join' ? 'joins' : 'leaves']++;
    yield JSON.stringify({ type: e.kind, channel_id: e.channelId, user: user(e.user), time: e.time }) + '\n';
  }
}

export const JSONL_FILE = 'export.jsonl';

export const jsonlFormat: ExportFormat = {
  name: 'jsonl',
  async write(ctx) {
    await ctx.zip.add(JSONL_FILE, jsonLines(ctx));
  },
};
