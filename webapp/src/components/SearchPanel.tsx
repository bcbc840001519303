import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/client.ts';
import type { Post, Team } from '../api/types.ts';
import { channelLabel } from '../lib/channels.ts';
import { renderMarkdown } from '../lib/markdown-react.ts';
import { channelPath } from '../lib/router.ts';
import { hasCriteria, highlightTerms, parseSearch, searchRequest } from '../lib/search-syntax.ts';
import { ensureUsers } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';
import { Icon } from './Icons.tsx';
import { Link } from './Link.tsx';

type Result = { state: 'loading' } | { state: 'done'; posts: Post[] } | { state: 'error'; message: string };

/** Search results beside the channel; a result opens its thread in its channel. */
export function SearchPanel({ team, query, onClose }: { team: Team; query: string; onClose: () => void }) {
  const [result, setResult] = useState<Result>({ state: 'loading' });
  const users = useAppState((s) => s.users);
  const channels = useAppState((s) => s.channels);
  const me = useAppState((s) => s.me)!;
  const heading = useRef<HTMLHeadingElement>(null);
  const parsed = parseSearch(query);
  const highlight = highlightTerms(parsed);

  useEffect(() => {
    heading.current?.focus();
    const p = parseSearch(query);
    if (p.problems.length || !hasCriteria(p)) {
      setResult({ state: 'error', message: p.problems.join('; ') || 'Type something to search for.' });
      return;
    }
    let cancelled = false;
    setResult({ state: 'loading' });
    api.search(team.id, searchRequest(query)).then(
      async (list) => {
        const posts = list.order.map((id) => list.posts[id]).filter(Boolean);
        await ensureUsers(posts.map((x) => x.user_id));
        if (!cancelled) setResult({ state: 'done', posts });
      },
      (err: unknown) => {
        if (cancelled) return;
        const status = err instanceof ApiError ? err.status : 0;
        const message = status === 404 || status === 501 ? 'Search is not available on this server yet.' : err instanceof Error ? err.message : 'Search failed.';
        setResult({ state: 'error', message });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [team.id, query]);

  return (
    <aside className="right-panel search-panel" aria-labelledby="search-title" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <header className="panel-header">
        <h2 id="search-title" ref={heading} tabIndex={-1}>
          Results for <q>{query}</q>
        </h2>
        <button type="button" className="icon-button" aria-label="Close search results" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="panel-scroll" aria-live="polite" aria-busy={result.state === 'loading'}>
        {result.state === 'loading' && <p className="muted">Searching…</p>}
        {result.state === 'error' && <p className="muted">{result.message}</p>}
        {result.state === 'done' && result.posts.length === 0 && <p className="muted">No messages match.</p>}
        {result.state === 'done' && result.posts.length > 0 && (
          <ol className="search-results">
            {result.posts.map((post) => {
              const channel = channels[post.channel_id];
              const href = channel ? channelPath(team.name, channel.name, post.root_id || post.id) : undefined;
              return (
                <li key={post.id} className="search-result">
                  <p className="muted">
                    {channel ? channelLabel(channel, me.id, users) : 'Another channel'} · @{users[post.user_id]?.username ?? '…'} · {new Date(post.create_at).toLocaleString()}
                  </p>
                  <div className="message">{renderMarkdown(post.message, { myUsername: me.username, highlight })}</div>
                  {href && (
                    <Link href={href} onNavigate={onClose}>
                      Jump to message
                    </Link>
                  )}
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </aside>
  );
}
