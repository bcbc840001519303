import crypto from 'node:crypto';

/**
 * A position in the stream of post updates, ordered by (update_at, post id). `postId: null` means
 * "every post updated at or before `updateAt`" (the end of a job, or the start of the first one).
 */
export interface ExportCursor {
  updateAt: number;
  postId: string | null;
}

/** The span of one batch: post updates after `from` up to and including `to`. */
export interface BatchRange {
  from: ExportCursor;
  to: ExportCursor;
  /** Joins and leaves with from.updateAt < time <= to.updateAt belong to this batch. */
  startTime: number;
  endTime: number;
  /** The lower time bound of the job the batch belongs to (posts created after it are new to the archive). */
  jobStartTime: number;
}

export type ChannelTypeName = 'public' | 'private' | 'direct' | 'group';

const channelTypeNames: Record<string, ChannelTypeName> = { O: 'public', P: 'private', D: 'direct', G: 'group' };

export function channelTypeName(type: string): ChannelTypeName {
  return channelTypeNames[type] ?? 'public';
}

export interface ExportUser {
  id: string;
  username: string;
  email: string;
  isBot: boolean;
}

/** A user's presence in a channel during a batch (from channel member history, or as a post author). */
export interface Participant {
  user: ExportUser;
  joinTime: number;
  /** undefined: still a member at the end of the batch. */
  leaveTime?: number;
}

export interface ExportChannel {
  id: string;
  name: string;
  displayName: string;
  type: string;
  teamId: string;
  teamName: string;
  teamDisplayName: string;
  createAt: number;
  deleteAt: number;
  /** This channel's share of the batch: max(batch start, channel creation) .. min(batch end, deletion). */
  startTime: number;
  endTime: number;
  participants: Participant[];
  /** Messages per user id in this batch. */
  messageCounts: Map<string, number>;
}

export interface ExportFile {
  id: string;
  name: string;
  path: string;
  size: number;
  mimeType: string;
  sha256: string;
  createAt: number;
  deleteAt: number;
}

export interface ExportReaction {
  userId: string;
  emojiName: string;
  createAt: number;
  deleteAt: number;
}

/**
 * Mattermost's update kinds: '' for a new post; EditedOriginalMsg carries the text an edit replaced,
 * EditedNewMsg the text after it; UpdatedNoMsgChange (reaction, pin, props); Deleted; FileDeleted.
 */
export type UpdateType = '' | 'EditedOriginalMsg' | 'EditedNewMsg' | 'UpdatedNoMsgChange' | 'Deleted' | 'FileDeleted';

/** One exported message: a post as it is now, or a version an edit replaced. */
export interface ExportMessage {
  /** The message id in the export: the post id, or a stable id derived from the replaced version. */
  id: string;
  postId: string;
  /**
   * 'post': a post row as it is now (one per post update in range); 'version': text an edit replaced;
   * 'created': the creation of a deleted post the archive never saw; 'file': a file deleted from a post.
   */
  source: 'post' | 'version' | 'created' | 'file';
  updateType: UpdateType;
  channelId: string;
  user: ExportUser;
  createAt: number;
  /** When this update happened (update_at, replaced_at, delete_at or the file's delete_at). */
  updateAt: number;
  editAt: number;
  deleteAt: number;
  rootId: string;
  /** For EditedOriginalMsg: the post that now holds the edited text. */
  editedNewMsgId: string;
  message: string;
  postType: string;
  props: Record<string, unknown>;
  hashtags: string;
  files: ExportFile[];
  reactions: ExportReaction[];
  previewsPost: string;
  /** The (update_at, post id) key the record was selected by: what incremental exports count. */
  key: ExportCursor;
}

/** A join or leave inside the batch's time range. */
export interface MemberEvent {
  kind: 'join' | 'leave';
  channelId: string;
  user: ExportUser;
  time: number;
}

const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** A stable 26-character id for the text an edit replaced (the same version always gets the same id). */
export function versionMessageId(postId: string, versionId: number): string {
  const digest = crypto.createHash('sha256').update(`${postId}:${versionId}`).digest();
  let out = '';
  for (let i = 0; i < 26; i++) out += alphabet[digest[i] & 31];
  return out;
}

/** Compares cursors in (update_at, post id) order; null post ids sort after every id of their time. */
export function compareCursor(a: ExportCursor, b: ExportCursor): number {
  if (a.updateAt !== b.updateAt) return a.updateAt < b.updateAt ? -1 : 1;
  if (a.postId === b.postId) return 0;
  if (a.postId === null) return 1;
  if (b.postId === null) return -1;
  return a.postId < b.postId ? -1 : 1;
}
