// The app's state: one immutable object, replaced on every change, read by components through
// `useAppState(selector)`. Selectors must return values already in the state (or primitives), never new
// arrays or objects, so React re-renders only what changed.

import { useSyncExternalStore } from 'react';
import type { Channel, ChannelMember, ClientConfig, Post, Team, User } from '../api/types.ts';
import type { ConnectionState } from '../realtime/socket.ts';

export interface ChannelPosts {
  /** Root posts shown in the channel, oldest first. Replies live in `threads`. */
  order: string[];
  /** More posts exist before the oldest one loaded. */
  hasOlder: boolean;
  loadingOlder: boolean;
  /** Server time up to which this list is known complete (for `since` refetches after a resync). */
  syncedAt: number;
}

export interface State {
  session: 'loading' | 'signed-out' | 'signed-in';
  /** The session ended while the app was open: the sign-in page says so. */
  expired: boolean;
  config?: ClientConfig;
  me?: User;
  teams: Team[];
  users: Record<string, User>;
  channels: Record<string, Channel>;
  /** A team's channels (its own and every direct/group message), by id. */
  teamChannels: Record<string, string[]>;
  /** The signed-in user's memberships, by channel id. */
  members: Record<string, ChannelMember>;
  posts: Record<string, Post>;
  channelPosts: Record<string, ChannelPosts>;
  /** A thread's replies, oldest first, by root id. */
  threads: Record<string, string[]>;
  /** Who is typing where: `channelId:parentId` → user id → expiry time. */
  typing: Record<string, Record<string, number>>;
  connection: ConnectionState;
  /** The post being edited in place, if any. */
  editingPostId?: string;
  /** A short message at the bottom of the screen (errors of background actions). */
  notice?: { id: number; text: string };
}

export const initialState: State = {
  session: 'loading',
  expired: false,
  teams: [],
  users: {},
  channels: {},
  teamChannels: {},
  members: {},
  posts: {},
  channelPosts: {},
  threads: {},
  typing: {},
  connection: 'closed',
};

type Listener = () => void;

export class Store {
  private state: State;
  private readonly listeners = new Set<Listener>();

  constructor(state: State = initialState) {
    this.state = state;
  }

  get = (): State => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Applies `change` (which returns a new state, or the same one for no change) and notifies. */
  update(change: (state: State) => State): void {
    const next = change(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  set(patch: Partial<State>): void {
    this.update((s) => ({ ...s, ...patch }));
  }
}

export const store = new Store();

/** Reads a slice of the state and re-renders when that slice changes. */
export function useAppState<T>(selector: (state: State) => T): T {
  const read = () => selector(store.get());
  return useSyncExternalStore(store.subscribe, read, read);
}

// ---------------------------------------------------------------------------------------------
// Pure state transitions, shared by the actions and the WebSocket handlers (and tested on their own).

/** Adds or replaces posts; replies are appended to their thread, roots to their channel's list. */
export function mergePosts(state: State, incoming: readonly Post[], options: { channelId?: string; older?: { hasOlder: boolean }; syncedAt?: number } = {}): State {
  if (incoming.length === 0 && !options.older && options.syncedAt === undefined) return state;
  const posts = { ...state.posts };
  const channelPosts = { ...state.channelPosts };
  const threads = { ...state.threads };
  const touchedChannels = new Set<string>();
  const touchedThreads = new Set<string>();
  for (const post of incoming) {
    // A post confirmed by the server replaces its optimistic copy.
    if (post.pending_post_id && !post.id.startsWith('pending:')) {
      const pendingId = `pending:${post.pending_post_id}`;
      if (posts[pendingId]) {
        delete posts[pendingId];
        if (post.root_id) threads[post.root_id] = (threads[post.root_id] ?? []).filter((id) => id !== pendingId);
        else if (channelPosts[post.channel_id]) channelPosts[post.channel_id] = { ...channelPosts[post.channel_id], order: channelPosts[post.channel_id].order.filter((id) => id !== pendingId) };
      }
    }
    const known = posts[post.id];
    if (known && known.update_at > post.update_at) continue;
    if (post.delete_at > 0) {
      posts[post.id] = { ...(known ?? post), delete_at: post.delete_at, message: '', file_ids: [], metadata: {} };
      continue;
    }
    posts[post.id] = known && !post.metadata && known.metadata ? { ...post, metadata: known.metadata } : post;
    if (known) continue;
    if (post.root_id) {
      threads[post.root_id] = [...(threads[post.root_id] ?? []), post.id];
      touchedThreads.add(post.root_id);
    } else {
      const list = channelPosts[post.channel_id] ?? { order: [], hasOlder: true, loadingOlder: false, syncedAt: 0 };
      channelPosts[post.channel_id] = { ...list, order: [...list.order, post.id] };
      touchedChannels.add(post.channel_id);
    }
  }
  const byTime = (a: string, b: string) => (posts[a]?.create_at ?? 0) - (posts[b]?.create_at ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  for (const id of touchedChannels) channelPosts[id] = { ...channelPosts[id], order: [...new Set(channelPosts[id].order)].sort(byTime) };
  for (const id of touchedThreads) threads[id] = [...new Set(threads[id])].sort(byTime);
  if (options.channelId) {
    const list = channelPosts[options.channelId] ?? { order: [], hasOlder: true, loadingOlder: false, syncedAt: 0 };
    channelPosts[options.channelId] = {
      ...list,
      ...(options.older ? { hasOlder: options.older.hasOlder, loadingOlder: false } : {}),
      ...(options.syncedAt !== undefined ? { syncedAt: Math.max(list.syncedAt, options.syncedAt) } : {}),
    };
  }
  return { ...state, posts, channelPosts, threads };
}

/** A new reply arrived (live or just sent): its root counts one more. Loaded posts carry the server's count. */
export function countReply(state: State, reply: Post): State {
  if (!reply.root_id) return state;
  return patchPost(state, reply.root_id, (root) => ({ ...root, reply_count: root.reply_count + 1 }));
}

/** Removes a post (an optimistic one that failed, say) from every list. */
export function removePost(state: State, postId: string): State {
  const post = state.posts[postId];
  if (!post) return state;
  const posts = { ...state.posts };
  delete posts[postId];
  const next = { ...state, posts };
  if (post.root_id) next.threads = { ...state.threads, [post.root_id]: (state.threads[post.root_id] ?? []).filter((id) => id !== postId) };
  else if (state.channelPosts[post.channel_id]) {
    const list = state.channelPosts[post.channel_id];
    next.channelPosts = { ...state.channelPosts, [post.channel_id]: { ...list, order: list.order.filter((id) => id !== postId) } };
  }
  return next;
}

/** Replaces one post object with `change(post)`. */
export function patchPost(state: State, postId: string, change: (post: Post) => Post): State {
  const post = state.posts[postId];
  if (!post) return state;
  return { ...state, posts: { ...state.posts, [postId]: change(post) } };
}

/** Adds users to the directory. */
export function mergeUsers(state: State, users: readonly User[]): State {
  if (users.length === 0) return state;
  const next = { ...state.users };
  for (const u of users) next[u.id] = u;
  return { ...state, users: next };
}

/** Adds or replaces channels, and lists them under `teamId`. */
export function mergeChannels(state: State, channels: readonly Channel[], teamId?: string): State {
  const map = { ...state.channels };
  for (const c of channels) map[c.id] = c;
  const teamChannels = teamId ? { ...state.teamChannels, [teamId]: [...new Set([...(state.teamChannels[teamId] ?? []), ...channels.map((c) => c.id)])] } : state.teamChannels;
  return { ...state, channels: map, teamChannels };
}

/** Adds a channel to its team's list, or every team's for direct and group messages. */
export function addChannelEverywhere(state: State, channel: Channel): State {
  const map = { ...state.channels, [channel.id]: channel };
  const teamChannels = { ...state.teamChannels };
  const teams = channel.team_id ? [channel.team_id] : Object.keys(teamChannels);
  for (const t of teams) if (!(teamChannels[t] ?? []).includes(channel.id)) teamChannels[t] = [...(teamChannels[t] ?? []), channel.id];
  return { ...state, channels: map, teamChannels };
}

/** Stores memberships. */
export function mergeMembers(state: State, members: readonly ChannelMember[]): State {
  const map = { ...state.members };
  for (const m of members) map[m.channel_id] = m;
  return { ...state, members: map };
}

/** Marks a channel read: everything seen, no mentions left. */
export function markRead(state: State, channelId: string, at: number): State {
  const channel = state.channels[channelId];
  const member = state.members[channelId];
  if (!channel || !member) return state;
  if (member.msg_count === channel.total_msg_count && member.mention_count === 0 && member.last_viewed_at >= at) return state;
  return { ...state, members: { ...state.members, [channelId]: { ...member, msg_count: channel.total_msg_count, mention_count: 0, last_viewed_at: Math.max(member.last_viewed_at, at) } } };
}

/** Counts a new post in its channel, and a mention of the signed-in user when there is one. */
export function countNewPost(state: State, post: Post, mentionsMe: boolean): State {
  const channel = state.channels[post.channel_id];
  if (!channel) return state;
  const channels = { ...state.channels, [channel.id]: { ...channel, total_msg_count: channel.total_msg_count + 1, last_post_at: Math.max(channel.last_post_at, post.create_at) } };
  const member = state.members[channel.id];
  let members = state.members;
  if (member && post.user_id === state.me?.id) members = { ...members, [channel.id]: { ...member, msg_count: member.msg_count + 1, last_viewed_at: post.create_at } };
  else if (member && mentionsMe) members = { ...members, [channel.id]: { ...member, mention_count: member.mention_count + 1 } };
  return { ...state, channels, members };
}

/** The key of a typing indicator: a channel's composer or a thread's. */
export function typingKey(channelId: string, parentId = ''): string {
  return `${channelId}:${parentId}`;
}
