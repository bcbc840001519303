import { inlineImageTypes } from './sniff.ts';

/** A file_infos row as stored. `path` is the storage key; it and the hash never leave the server. */
export interface FileInfoRow {
  id: string;
  creator_id: string;
  post_id: string;
  channel_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  path: string;
  name: string;
  extension: string;
  size: number;
  mime_type: string;
  sha256: string;
  width: number;
  height: number;
}

/** Mattermost's FileInfo object (API v4). A type alias, so it is assignable to Record<string, unknown>. */
export type FileInfoJson = {
  id: string;
  user_id: string;
  post_id: string;
  channel_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  name: string;
  extension: string;
  size: number;
  mime_type: string;
  width: number;
  height: number;
  has_preview_image: boolean;
  mini_preview: null;
  archived: boolean;
};

/** True when the file is an image served (as its own thumbnail and preview) inline. */
export function isPreviewable(row: Pick<FileInfoRow, 'mime_type'>): boolean {
  return inlineImageTypes.has(row.mime_type);
}

/** The FileInfo clients see; fields are listed explicitly. */
export function presentFileInfo(row: FileInfoRow): FileInfoJson {
  return {
    id: row.id,
    user_id: row.creator_id,
    post_id: row.post_id,
    channel_id: row.channel_id,
    create_at: row.create_at,
    update_at: row.update_at,
    delete_at: row.delete_at,
    name: row.name,
    extension: row.extension,
    size: row.size,
    mime_type: row.mime_type,
    width: row.width,
    height: row.height,
    has_preview_image: isPreviewable(row),
    // Mattermost's mini preview is a tiny JPEG rendered server-side; Custodian renders none.
    mini_preview: null,
    archived: false,
  };
}
