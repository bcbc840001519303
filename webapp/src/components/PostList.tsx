import { startTransition, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Channel, Post, Team } from '../api/types.ts';
import { buildMessageRows, dateLabel, type MessageRow } from '../lib/grouping.ts';
import { loadOlder } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';
import { PostItem } from './PostItem.tsx';

/** Distance from the bottom (px) within which the list follows new messages. */
const STICKY_PX = 80;
/** The smallest height a message row can have: how many rows one screen can show at most. */
const MIN_ROW_PX = 24;

/** Rows to draw in the first frame: enough to fill the screen from the bottom, whatever the messages. */
function firstFrameRows(): number {
  return Math.ceil((typeof window === 'undefined' ? 1200 : window.innerHeight) / MIN_ROW_PX) + 4;
}

/** Moves focus between messages with the arrow keys, Home and End. */
export function focusSibling(e: KeyboardEvent<HTMLElement>): void {
  if (!['ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key)) return;
  const target = e.target as HTMLElement;
  if (target.closest('textarea, input')) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>('article.post')];
  if (items.length === 0) return;
  const at = items.indexOf(target.closest('article.post') as HTMLElement);
  let next: number;
  if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = items.length - 1;
  else if (at < 0) next = items.length - 1;
  else next = Math.max(0, Math.min(items.length - 1, at + (e.key === 'ArrowUp' ? -1 : 1)));
  e.preventDefault();
  items[next].focus();
}

export function Rows({ rows, team, channel, inChannel, highlight }: { rows: MessageRow[]; team: Team; channel: Channel; inChannel: boolean; highlight?: readonly string[] }) {
  const users = useAppState((s) => s.users);
  const me = useAppState((s) => s.me)!;
  const editing = useAppState((s) => s.editingPostId);
  const now = Date.now();
  return (
    <>
      {rows.map((row) =>
        row.kind === 'date' ? (
          <div key={row.key} className="date-separator" role="separator" aria-label={dateLabel(row.day, now)}>
            <span>{dateLabel(row.day, now)}</span>
          </div>
        ) : (
            <PostItem
              key={row.key}
              post={row.post}
              author={users[row.post.user_id]}
              continuation={row.continuation}
              team={team}
              channelName={channel.name}
              inChannel={inChannel}
              editing={editing === row.post.id}
              myId={me.id}
              myUsername={me.username}
              highlight={highlight}
            />
        ),
      )}
    </>
  );
}

/** The channel's messages, newest at the bottom; scrolling up loads older ones. */
export function PostList({ team, channel }: { team: Team; channel: Channel }) {
  const list = useAppState((s) => s.channelPosts[channel.id]);
  const posts = useAppState((s) => s.posts);
  const order = list?.order;
  const visible = useMemo(() => (order ?? []).map((id) => posts[id]).filter((p): p is Post => !!p), [order, posts]);
  const allRows = useMemo(() => buildMessageRows(visible), [visible]);
  // The first frame draws only the rows a screen can show (the newest); the rest follow right after
  // it is painted, at low priority. The reader, at the bottom, sees no difference but gets the
  // channel sooner.
  const [limit, setLimit] = useState(firstFrameRows);
  const complete = limit >= allRows.length;
  const rows = useMemo(() => (complete ? allRows : allRows.slice(allRows.length - limit)), [allRows, complete, limit]);
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const firstKey = useRef<string | undefined>(undefined);
  const fromBottom = useRef(0);

  // Before the browser paints: start at the bottom, keep the view still when older posts are prepended,
  // and follow new posts when the reader is at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = rows.find((r) => r.kind === 'post')?.key;
    if (firstKey.current !== undefined && first !== firstKey.current && !atBottom.current) el.scrollTop = el.scrollHeight - fromBottom.current;
    else if (atBottom.current) el.scrollTop = el.scrollHeight;
    firstKey.current = first;
    el.dataset.ready = 'true';
  }, [rows]);

  useEffect(() => {
    if (complete) return;
    const frame = requestAnimationFrame(() => setTimeout(() => startTransition(() => setLimit(Infinity))));
    return () => cancelAnimationFrame(frame);
  }, [complete]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    fromBottom.current = el.scrollHeight - el.scrollTop;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICKY_PX;
  }, []);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !list?.hasOlder || !complete) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadOlder(channel.id);
    }, { root: scroller.current, rootMargin: '600px 0px 0px 0px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [channel.id, list?.hasOlder, rows.length, complete]);

  // Images load after the first paint: keep the bottom in view while they do.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const onLoad = () => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    };
    el.addEventListener('load', onLoad, true);
    return () => el.removeEventListener('load', onLoad, true);
  }, []);

  return (
    <div
      className="post-list"
      id="message-list"
      ref={scroller}
      onScroll={onScroll}
      onKeyDown={focusSibling}
      role="log"
      aria-label={`Messages in ${channel.display_name || channel.name}`}
      aria-busy={list?.loadingOlder || undefined}
      tabIndex={0}
      data-channel-id={channel.id}
      data-post-count={visible.length}
      data-complete={complete || undefined}
    >
      <div ref={sentinel} className="history-top">
        {list?.loadingOlder ? 'Loading older messages…' : !list?.hasOlder ? <p className="channel-intro">This is the start of {channel.display_name || 'this conversation'}.</p> : null}
      </div>
      {visible.length === 0 && !list?.hasOlder && <p className="muted empty-channel">No messages yet. Say hello!</p>}
      <Rows rows={rows} team={team} channel={channel} inChannel />
    </div>
  );
}
