/** A drafts row: one unsent message per user, channel and thread. */
export interface DraftRow {
  user_id: string;
  channel_id: string;
  root_id: string;
  create_at: number;
  update_at: number;
  message: string;
  props: Record<string, unknown>;
  file_ids: string[];
  priority: Record<string, unknown> | null;
}

/** The Draft object of API v4. Drafts are deleted outright, so delete_at is always 0. */
export function presentDraft(row: DraftRow): Record<string, unknown> {
  const draft: Record<string, unknown> = {
    create_at: row.create_at,
    update_at: row.update_at,
    delete_at: 0,
    user_id: row.user_id,
    channel_id: row.channel_id,
    root_id: row.root_id,
    message: row.message,
    props: row.props,
    file_ids: row.file_ids,
  };
  if (row.priority) draft.priority = row.priority;
  return draft;
}
