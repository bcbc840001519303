import type { Post } from '../../../webapp/src/api/types.ts';

let n = 0;

/** A post with sensible defaults; `at` is a local time (year, month 0-based, day, hours, minutes). */
export function post(fields: Partial<Post> & { at?: [number, number, number, number, number] } = {}): Post {
  const { at, ...rest } = fields;
  const time = at ? new Date(at[0], at[1], at[2], at[3], at[4]).getTime() : Date.now();
  n++;
  return {
    id: `p${String(n).padStart(25, '0')}`, create_at: time, update_at: time, edit_at: 0, delete_at: 0, is_pinned: false,
    user_id: 'alice', channel_id: 'c1', root_id: '', message: `message ${n}`, type: '', props: {}, file_ids: [],
    pending_post_id: '', reply_count: 0, ...rest,
  };
}
