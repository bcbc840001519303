// What the app does: sign-in, loading teams and channels, opening channels, posting, reacting, and
// applying WebSocket events. Components call these; they change the state through `store`.

import { api, ApiError, onSessionExpired } from '../api/client.ts';
import type { Channel, ChannelMember, Post, PostList, Reaction, User } from '../api/types.ts';
import { directPeer } from '../lib/channels.ts';
import { RealtimeClient, websocketUrl, type ServerEvent } from '../realtime/socket.ts';
import {
  addChannelEverywhere, countNewPost, countReply, markRead, mergeChannels, mergeMembers, mergePosts, mergeUsers, patchPost, removePost, store, typingKey,
} from './store.ts';

const PAGE = 60;
let noticeId = 0;

/** Shows a short notice at the bottom of the screen. */
export function notify(text: string): void {
  store.set({ notice: { id: ++noticeId, text } });
}

function describeError(err: unknown, what: string): string {
  if (err instanceof ApiError && err.status !== 0) return `${what}: ${err.message}`;
  if (err instanceof ApiError) return err.message;
  return `${what}.`;
}

// ---------------------------------------------------------------------------------------------
// Session

let realtime: RealtimeClient | undefined;

/** Loads the client configuration and the current user; the app renders from the result. */
export async function bootstrap(): Promise<void> {
  onSessionExpired(() => sessionEnded());
  const config = await api.clientConfig().catch(() => undefined);
  if (config) store.set({ config });
  try {
    const me = await api.me();
    await signedIn(me);
  } catch {
    store.set({ session: 'signed-out' });
  }
}

/** Who was signed in last in this tab: their drafts survive an expired session, nobody else's do. */
let lastUserId: string | undefined;

async function signedIn(me: User): Promise<void> {
  // A new session starts from nothing: no posts, channels or caches of the previous one.
  forgetSession(me.id !== lastUserId);
  lastUserId = me.id;
  const teams = await api.myTeams();
  store.update((s) => mergeUsers({ ...s, me, session: 'signed-in', expired: false, teams: teams.filter((t) => t.delete_at === 0) }, [me]));
  startRealtime();
}

export async function login(loginId: string, password: string): Promise<void> {
  await signedIn(await api.login(loginId, password));
}

export async function logout(): Promise<void> {
  realtime?.stop();
  await api.logout().catch(() => undefined);
  forgetSession(true);
  lastUserId = undefined;
  store.update((s) => ({ ...s, session: 'signed-out', expired: false, me: undefined, teams: [] }));
}

/** Drafts by `channelId:rootId`, for the life of the page and the signed-in user. */
export const drafts = new Map<string, string>();

/** Clears what the previous session loaded (and, for another user or a sign-out, the drafts). */
function forgetSession(withDrafts: boolean): void {
  loadingTeams.clear();
  teamUsersLoaded.clear();
  publicChannelLoads.clear();
  usersInFlight.clear();
  openBatch = undefined;
  channelLoads.clear();
  if (withDrafts) drafts.clear();
  store.update((s) => ({ ...s, users: {}, channels: {}, teamChannels: {}, members: {}, posts: {}, channelPosts: {}, threads: {}, typing: {}, editingPostId: undefined }));
}

/** The server says the session is over (expired, revoked, logged out elsewhere). */
function sessionEnded(): void {
  const s = store.get();
  if (s.session !== 'signed-in') return;
  realtime?.stop();
  store.set({ session: 'signed-out', expired: true, me: undefined });
}

// ---------------------------------------------------------------------------------------------
// Teams, channels, users

const loadingTeams = new Map<string, Promise<void>>();

/** Loads a team's channels and memberships (once; `force` refetches). */
export function loadTeam(teamId: string, force = false): Promise<void> {
  const running = loadingTeams.get(teamId);
  if (running && !force) return running;
  const load = (async () => {
    const [channels, members] = await Promise.all([api.myChannels(teamId), api.myChannelMembers(teamId)]);
    store.update((s) => mergeMembers(mergeChannels({ ...s, teamChannels: { ...s.teamChannels, [teamId]: [] } }, channels, teamId), members));
    const me = store.get().me!;
    const peers = channels.map((c) => directPeer(c, me.id)).filter((id): id is string => !!id);
    await ensureUsers(peers);
  })();
  loadingTeams.set(teamId, load);
  load.catch(() => loadingTeams.delete(teamId));
  return load;
}

interface UserBatch {
  ids: Set<string>;
  done: Promise<void>;
}
let openBatch: UserBatch | undefined;
const usersInFlight = new Map<string, Promise<void>>();

async function fetchUserBatch(batch: UserBatch): Promise<void> {
  await Promise.resolve(); // let the rest of this tick join the batch
  if (openBatch === batch) openBatch = undefined;
  const ids = [...batch.ids];
  try {
    for (let i = 0; i < ids.length; i += 200) {
      const users = await api.usersByIds(ids.slice(i, i + 200)).catch(() => [] as User[]);
      store.update((s) => mergeUsers(s, users));
    }
  } finally {
    for (const id of ids) usersInFlight.delete(id);
  }
}

/** Makes sure the users are in the directory, batching lookups asked for in the same tick. */
export function ensureUsers(ids: Iterable<string>): Promise<void> {
  const known = store.get().users;
  const waits: Promise<void>[] = [];
  for (const id of new Set(ids)) {
    if (!id || known[id]) continue;
    let wait = usersInFlight.get(id);
    if (!wait) {
      if (!openBatch) {
        const batch = { ids: new Set<string>() } as UserBatch;
        batch.done = fetchUserBatch(batch);
        openBatch = batch;
      }
      openBatch.ids.add(id);
      wait = openBatch.done;
      usersInFlight.set(id, wait);
    }
    waits.push(wait);
  }
  return waits.length ? Promise.all(waits).then(() => undefined) : Promise.resolve();
}

const teamUsersLoaded = new Map<string, Promise<User[]>>();

/** Runs `load` once per key (again after a failure). */
function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let running = cache.get(key);
  if (!running) {
    running = load();
    running.catch(() => cache.delete(key));
    cache.set(key, running);
  }
  return running;
}

/** Every active user of a team (for @mention and from: suggestions), loaded once per team. */
export function loadTeamUsers(teamId: string): Promise<User[]> {
  return once(teamUsersLoaded, teamId, async () => {
    const all: User[] = [];
    for (let page = 0; page < 25; page++) {
      const users = await api.teamUsers(teamId, page);
      all.push(...users);
      if (users.length < 200) break;
    }
    store.update((s) => mergeUsers(s, all));
    return all;
  });
}

const publicChannelLoads = new Map<string, Promise<Channel[]>>();

/** A team's public channels (for ~channel suggestions), loaded once per team. */
export function loadPublicChannels(teamId: string): Promise<Channel[]> {
  return once(publicChannelLoads, teamId, () => api.publicChannels(teamId));
}

/** Finds a channel of the team by name, joining it when it is public and not joined yet. */
export async function resolveChannel(teamId: string, name: string): Promise<Channel | undefined> {
  const s = store.get();
  const found = (s.teamChannels[teamId] ?? []).map((id) => s.channels[id]).find((c) => c?.name === name);
  if (found) return found;
  try {
    const channel = await api.channelByName(teamId, name);
    if (!s.members[channel.id] && channel.type === 'O') {
      const member = await api.joinChannel(channel.id, s.me!.id);
      store.update((st) => mergeMembers(addChannelEverywhere(st, channel), [member]));
    } else store.update((st) => addChannelEverywhere(st, channel));
    return channel;
  } catch {
    return undefined;
  }
}

/** Opens (or creates) the direct message channel with a user. */
export async function openDirect(userId: string): Promise<Channel> {
  const me = store.get().me!;
  const channel = await api.openDirect(me.id, userId);
  const member: ChannelMember = { channel_id: channel.id, user_id: me.id, last_viewed_at: 0, msg_count: channel.total_msg_count, mention_count: 0 };
  store.update((s) => mergeMembers(addChannelEverywhere(s, channel), s.members[channel.id] ? [] : [member]));
  await ensureUsers([userId]);
  return channel;
}

// ---------------------------------------------------------------------------------------------
// Posts

function postsOf(list: PostList): Post[] {
  return list.order.map((id) => list.posts[id]).filter(Boolean);
}

const channelLoads = new Map<string, Promise<void>>();
/** A channel loaded this recently, with the WebSocket connected since, needs no refetch. */
const FRESH_MS = 60_000;

/**
 * Loads the newest page of a channel, unless it is loaded already (then only what changed since).
 * Called on hover and focus too, so a click usually finds the posts in memory.
 */
export function loadChannel(channelId: string, force = false): Promise<void> {
  const running = channelLoads.get(channelId);
  if (running) return running;
  const known = store.get().channelPosts[channelId];
  // While the WebSocket is up it keeps loaded channels current: no refetch on every hover.
  if (!force && known && known.syncedAt > Date.now() - FRESH_MS && realtime?.connected) return Promise.resolve();
  const load = (async () => {
    const startedAt = Date.now();
    if (known && known.syncedAt > 0) {
      const list = await api.channelPosts(channelId, { since: known.syncedAt - 1000 });
      const posts = postsOf(list);
      store.update((s) => mergePosts(s, posts, { channelId, syncedAt: startedAt }));
      await ensureUsers(posts.map((p) => p.user_id));
      return;
    }
    const list = await api.channelPosts(channelId, { perPage: PAGE });
    const posts = postsOf(list);
    await ensureUsers(posts.map((p) => p.user_id));
    store.update((s) => mergePosts(s, posts, { channelId, older: { hasOlder: list.prev_post_id !== '' }, syncedAt: startedAt }));
  })();
  channelLoads.set(channelId, load);
  load.finally(() => channelLoads.delete(channelId)).catch(() => undefined);
  return load;
}

/** Loads the page before the oldest loaded post (infinite scroll upwards). */
export async function loadOlder(channelId: string): Promise<void> {
  const s = store.get();
  const list = s.channelPosts[channelId];
  if (!list || !list.hasOlder || list.loadingOlder) return;
  const oldest = list.order.find((id) => !id.startsWith('pending:'));
  store.update((st) => ({ ...st, channelPosts: { ...st.channelPosts, [channelId]: { ...list, loadingOlder: true } } }));
  try {
    const page = await api.channelPosts(channelId, { before: oldest, perPage: PAGE });
    const posts = postsOf(page);
    await ensureUsers(posts.map((p) => p.user_id));
    store.update((st) => mergePosts(st, posts, { channelId, older: { hasOlder: page.prev_post_id !== '' && posts.length > 0 } }));
  } catch (err) {
    store.update((st) => ({ ...st, channelPosts: { ...st.channelPosts, [channelId]: { ...st.channelPosts[channelId], loadingOlder: false } } }));
    notify(describeError(err, 'Could not load older messages'));
  }
}

/** Loads a thread's root and replies. */
export async function loadThread(rootId: string): Promise<void> {
  const list = await api.thread(rootId);
  const posts = postsOf(list);
  await ensureUsers(posts.map((p) => p.user_id));
  store.update((s) => mergePosts(s, posts));
}

const viewTimers = new Map<string, ReturnType<typeof setTimeout>>();

/** Marks a channel read, locally at once and on the server shortly after (coalescing bursts). */
export function viewChannel(channelId: string): void {
  const s = store.get();
  const member = s.members[channelId];
  const channel = s.channels[channelId];
  if (!member || !channel) return;
  if (member.msg_count === channel.total_msg_count && member.mention_count === 0) return;
  store.update((st) => markRead(st, channelId, Date.now()));
  clearTimeout(viewTimers.get(channelId));
  viewTimers.set(channelId, setTimeout(() => {
    viewTimers.delete(channelId);
    api.viewChannel(channelId).catch(() => undefined);
  }, 300));
}

function pendingId(): string {
  const me = store.get().me!;
  return `${me.id}:${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
}

/** Posts a message: shown at once, confirmed (or marked failed) when the server answers. */
export async function sendPost(channelId: string, message: string, options: { rootId?: string; fileIds?: string[]; files?: Post['metadata'] } = {}): Promise<void> {
  const me = store.get().me!;
  const pending = pendingId();
  const now = Date.now();
  const optimistic: Post = {
    id: `pending:${pending}`, create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false, user_id: me.id, channel_id: channelId,
    root_id: options.rootId ?? '', message, type: '', props: {}, file_ids: options.fileIds ?? [], pending_post_id: pending, reply_count: 0,
    metadata: options.files ?? {},
  };
  store.update((s) => mergePosts(s, [optimistic]));
  try {
    const post = await api.createPost({ channel_id: channelId, message, root_id: options.rootId, file_ids: options.fileIds, pending_post_id: pending });
    // The WebSocket may have delivered (and counted) it already.
    store.update((s) => (s.posts[post.id] ? mergePosts(s, [post]) : countReply(mergePosts(s, [post]), post)));
  } catch (err) {
    store.update((s) => patchPost(s, optimistic.id, (p) => ({ ...p, props: { ...p.props, failed: true } })));
    notify(describeError(err, 'Your message was not sent'));
  }
}

/** Sends a failed message again. */
export async function retryPost(postId: string): Promise<void> {
  const post = store.get().posts[postId];
  if (!post) return;
  store.update((s) => removePost(s, postId));
  await sendPost(post.channel_id, post.message, { rootId: post.root_id || undefined, fileIds: post.file_ids, files: post.metadata });
}

export function discardPost(postId: string): void {
  store.update((s) => removePost(s, postId));
}

export async function editPost(postId: string, message: string): Promise<void> {
  try {
    const post = await api.editPost(postId, message);
    store.update((s) => mergePosts(s, [post]));
  } catch (err) {
    notify(describeError(err, 'Could not save your edit'));
    throw err;
  }
}

export async function deletePost(postId: string): Promise<void> {
  try {
    await api.deletePost(postId);
    const now = Date.now();
    store.update((s) => patchPost(s, postId, (p) => ({ ...p, delete_at: now, update_at: now, message: '', file_ids: [], metadata: {} })));
  } catch (err) {
    notify(describeError(err, 'Could not delete the message'));
  }
}

export async function setPinned(postId: string, pinned: boolean): Promise<void> {
  store.update((s) => patchPost(s, postId, (p) => ({ ...p, is_pinned: pinned })));
  try {
    await api.pin(postId, pinned);
  } catch (err) {
    store.update((s) => patchPost(s, postId, (p) => ({ ...p, is_pinned: !pinned })));
    notify(describeError(err, pinned ? 'Could not pin the message' : 'Could not unpin the message'));
  }
}

function withReaction(post: Post, reaction: Reaction, present: boolean): Post {
  const list = (post.metadata?.reactions ?? []).filter((r) => !(r.user_id === reaction.user_id && r.emoji_name === reaction.emoji_name));
  if (present) list.push(reaction);
  return { ...post, metadata: { ...post.metadata, reactions: list } };
}

/** Adds the signed-in user's reaction, or removes it when already there. */
export async function toggleReaction(postId: string, emoji: string): Promise<void> {
  const s = store.get();
  const me = s.me!;
  const post = s.posts[postId];
  if (!post) return;
  const mine = (post.metadata?.reactions ?? []).some((r) => r.user_id === me.id && r.emoji_name === emoji);
  const reaction: Reaction = { user_id: me.id, post_id: postId, emoji_name: emoji, create_at: Date.now() };
  store.update((st) => patchPost(st, postId, (p) => withReaction(p, reaction, !mine)));
  try {
    if (mine) await api.unreact(postId, emoji);
    else await api.react(me.id, postId, emoji);
  } catch (err) {
    store.update((st) => patchPost(st, postId, (p) => withReaction(p, reaction, mine)));
    notify(describeError(err, 'Could not update the reaction'));
  }
}

// ---------------------------------------------------------------------------------------------
// Real time

/** The channel on screen, so new posts there count as read. */
let visibleChannelId: string | undefined;
export function setVisibleChannel(channelId: string | undefined): void {
  visibleChannelId = channelId;
}

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
const TYPING_SHOWN_MS = 5_000;

function setTyping(key: string, userId: string, until: number | undefined): void {
  store.update((s) => {
    const current = s.typing[key] ?? {};
    if (until === undefined && !(userId in current)) return s;
    const next = { ...current };
    if (until === undefined) delete next[userId];
    else next[userId] = until;
    return { ...s, typing: { ...s.typing, [key]: next } };
  });
}

function onTyping(channelId: string, parentId: string, userId: string): void {
  const key = typingKey(channelId, parentId);
  setTyping(key, userId, Date.now() + TYPING_SHOWN_MS);
  const timerKey = `${key}/${userId}`;
  clearTimeout(typingTimers.get(timerKey));
  typingTimers.set(timerKey, setTimeout(() => setTyping(key, userId, undefined), TYPING_SHOWN_MS));
}

function parseJson<T>(value: unknown): T | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** Applies one server event to the state. Exported for tests. */
export function applyEvent(event: ServerEvent): void {
  const s = store.get();
  const me = s.me;
  if (!me) return;
  switch (event.event) {
    case 'posted': {
      const post = parseJson<Post>(event.data.post);
      if (!post) return;
      const mentions = parseJson<string[]>(event.data.mentions) ?? [];
      const known = !!s.posts[post.id];
      void ensureUsers([post.user_id]);
      store.update((st) => {
        let next = mergePosts(st, [post]);
        if (!known) next = countReply(countNewPost(next, post, mentions.includes(me.id)), post);
        return next;
      });
      setTyping(typingKey(post.channel_id, post.root_id), post.user_id, undefined);
      if (post.channel_id === visibleChannelId && document.visibilityState === 'visible') viewChannel(post.channel_id);
      if (!store.get().channels[post.channel_id]) void refreshChannel(post.channel_id);
      return;
    }
    case 'post_edited':
    case 'post_deleted': {
      const post = parseJson<Post>(event.data.post);
      if (post) store.update((st) => mergePosts(st, [post]));
      return;
    }
    case 'reaction_added':
    case 'reaction_removed': {
      const reaction = parseJson<Reaction>(event.data.reaction);
      if (reaction) store.update((st) => patchPost(st, reaction.post_id, (p) => withReaction(p, reaction, event.event === 'reaction_added')));
      return;
    }
    case 'typing': {
      const channelId = event.broadcast.channel_id;
      const userId = String(event.data.user_id ?? '');
      if (channelId && userId && userId !== me.id) {
        onTyping(channelId, String(event.data.parent_id ?? ''), userId);
        void ensureUsers([userId]);
      }
      return;
    }
    case 'channel_viewed': {
      const channelId = String(event.data.channel_id ?? '');
      if (channelId) store.update((st) => markRead(st, channelId, Date.now()));
      return;
    }
    case 'channel_created':
    case 'direct_added':
    case 'group_added':
    case 'user_added': {
      const channelId = String(event.data.channel_id ?? event.broadcast.channel_id ?? '');
      const userId = String(event.data.user_id ?? event.broadcast.user_id ?? '');
      if (channelId && (event.event !== 'user_added' || userId === me.id)) void refreshChannel(channelId);
      return;
    }
    case 'user_removed': {
      const channelId = String(event.data.channel_id ?? event.broadcast.channel_id ?? '');
      const userId = String(event.data.user_id ?? event.broadcast.user_id ?? '');
      if (userId === me.id && channelId) {
        store.update((st) => {
          const teamChannels = Object.fromEntries(Object.entries(st.teamChannels).map(([t, ids]) => [t, ids.filter((id) => id !== channelId)]));
          return { ...st, teamChannels };
        });
      }
      return;
    }
    case 'channel_updated': {
      const channel = parseJson<Channel>(event.data.channel);
      if (channel) store.update((st) => addChannelEverywhere(st, { ...st.channels[channel.id], ...channel }));
      return;
    }
    case 'added_to_team':
    case 'leave_team':
      void api.myTeams().then((teams) => store.set({ teams: teams.filter((t) => t.delete_at === 0) }));
      return;
    default:
      return;
  }
}

/** Fetches a channel (and my membership) that the app did not know yet. */
async function refreshChannel(channelId: string): Promise<void> {
  try {
    const channel = await api.channel(channelId);
    const teamId = channel.team_id || Object.keys(store.get().teamChannels)[0];
    if (teamId) {
      const members = await api.myChannelMembers(teamId);
      store.update((s) => mergeMembers(addChannelEverywhere(s, channel), members.filter((m) => m.channel_id === channelId)));
    }
    const peer = directPeer(channel, store.get().me!.id);
    if (peer) await ensureUsers([peer]);
  } catch {
    // Not visible to us after all.
  }
}

/** After missed events: refetch memberships and the changes in every loaded channel. */
async function resync(): Promise<void> {
  const s = store.get();
  await Promise.all(Object.keys(s.teamChannels).map((t) => loadTeam(t, true).catch(() => undefined)));
  await Promise.all(Object.keys(store.get().channelPosts).map((c) => loadChannel(c, true).catch(() => undefined)));
}

function startRealtime(): void {
  realtime?.stop();
  realtime = new RealtimeClient({ url: websocketUrl(location) }, {
    onEvent: applyEvent,
    onResync: () => void resync(),
    onState: (connection) => {
      if (store.get().connection !== connection) store.set({ connection });
    },
    // Closed by policy: the session may be over. Any 401 here ends it in the UI.
    onPolicyClose: () => {
      api.me().catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) sessionEnded();
      });
    },
  });
  realtime.start();
}

/** Tells the channel (or thread) that the user is typing. */
export function sendTyping(channelId: string, parentId = ''): void {
  void realtime?.send('user_typing', { channel_id: channelId, parent_id: parentId });
}

/** Reconnects at once when the browser says the network or the tab is back. */
export function watchConnectivity(): void {
  const nudge = () => realtime?.nudge();
  window.addEventListener('online', nudge);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    nudge();
    if (visibleChannelId) viewChannel(visibleChannelId);
  });
}
