import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Channel, Post, Team } from '../api/types.ts';
import { buildMessageRows } from '../lib/grouping.ts';
import { channelPath, navigate } from '../lib/router.ts';
import { loadThread } from '../state/actions.ts';
import { typingKey, useAppState } from '../state/store.ts';
import { Composer } from './Composer.tsx';
import { focusSibling, Rows } from './PostList.tsx';
import { TypingIndicator } from './TypingIndicator.tsx';
import { Icon } from './Icons.tsx';

/** A thread beside the channel: the root message, its replies, and a reply box. */
export function ThreadPanel({ rootId, team, channel }: { rootId: string; team: Team; channel: Channel }) {
  const root = useAppState((s) => s.posts[rootId]);
  const replyIds = useAppState((s) => s.threads[rootId]);
  const posts = useAppState((s) => s.posts);
  const [failed, setFailed] = useState(false);
  const panel = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const close = () => navigate(channelPath(team.name, channel.name));

  useEffect(() => {
    setFailed(false);
    loadThread(rootId).catch(() => setFailed(true));
    heading.current?.focus();
  }, [rootId]);

  const thread = useMemo(() => [root, ...(replyIds ?? []).map((id) => posts[id])].filter((p): p is Post => !!p), [root, replyIds, posts]);
  const rows = useMemo(() => buildMessageRows(thread), [thread]);

  useLayoutEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [rows.length]);

  return (
    <aside
      className="right-panel thread-panel"
      aria-labelledby="thread-title"
      ref={panel}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !(e.target as HTMLElement).closest('textarea, .emoji-picker')) close();
      }}
    >
      <header className="panel-header">
        <h2 id="thread-title" ref={heading} tabIndex={-1}>
          Thread <span className="muted">in {channel.display_name || channel.name}</span>
        </h2>
        <button type="button" className="icon-button" aria-label="Close thread" onClick={close}>
          <Icon name="close" />
        </button>
      </header>
      <div className="post-list thread-list" ref={list} onKeyDown={focusSibling} role="log" aria-label="Thread messages" tabIndex={0}>
        {failed && <p className="muted">This thread could not be loaded. It may have been deleted.</p>}
        {!root && !failed && <p className="muted" role="status">Loading thread…</p>}
        <Rows rows={rows} team={team} channel={channel} inChannel={false} />
      </div>
      <TypingIndicator typingKey={typingKey(channel.id, rootId)} />
      {root && root.delete_at === 0 && channel.delete_at === 0 && <Composer key={rootId} team={team} channel={channel} rootId={rootId} placeholder="Reply…" dropZone={panel} />}
    </aside>
  );
}
