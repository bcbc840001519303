import { memo, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.ts';
import type { FileInfo, Post, Reaction, Team, User } from '../api/types.ts';
import { formatBytes } from '../lib/composer.ts';
import { emojiChar, quickReactions } from '../lib/emoji.ts';
import { fullTimeLabel, timeLabel } from '../lib/grouping.ts';
import { mentionsIn } from '../lib/markdown.ts';
import { parseCached, renderMarkdown } from '../lib/markdown-react.ts';
import { channelPath } from '../lib/router.ts';
import { deletePost, discardPost, editPost, retryPost, setPinned, toggleReaction } from '../state/actions.ts';
import { store } from '../state/store.ts';
import { EmojiPicker } from './EmojiPicker.tsx';
import { Icon } from './Icons.tsx';
import { Link } from './Link.tsx';

const AVATAR_COLOURS = ['#3b7dd8', '#2e9d6b', '#c2410c', '#7c3aed', '#b91c1c', '#0e7490', '#a16207', '#be185d'];

export function Avatar({ user, id }: { user?: User; id: string }) {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const name = user?.username ?? '?';
  return (
    <span className="avatar" aria-hidden="true" style={{ background: AVATAR_COLOURS[hash % AVATAR_COLOURS.length] }}>
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}

function Files({ files }: { files: FileInfo[] }) {
  return (
    <ul className="files" aria-label="Attachments">
      {files.map((f) => (
        <li key={f.id} className="file">
          {f.has_preview_image ? (
            <a href={api.fileUrl(f.id)} target="_blank" rel="noopener noreferrer">
              <img src={api.thumbnailUrl(f.id)} alt={f.name} loading="lazy" width={f.width ? Math.min(f.width, 360) : undefined} />
            </a>
          ) : (
            <a href={api.fileUrl(f.id, true)} className="file-card" download={f.name}>
              <span className="file-ext" aria-hidden="true">
                {(f.extension || 'file').slice(0, 4).toUpperCase()}
              </span>
              <span className="file-name">{f.name}</span>
              <span className="muted">{formatBytes(f.size)}</span>
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}

function Reactions({ post, myId }: { post: Post; myId: string }) {
  const reactions = post.metadata?.reactions ?? [];
  if (reactions.length === 0) return null;
  const byEmoji = new Map<string, Reaction[]>();
  for (const r of reactions) byEmoji.set(r.emoji_name, [...(byEmoji.get(r.emoji_name) ?? []), r]);
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {[...byEmoji].map(([emoji, list]) => {
        const mine = list.some((r) => r.user_id === myId);
        return (
          <button
            key={emoji}
            type="button"
            className={`reaction${mine ? ' mine' : ''}`}
            aria-pressed={mine}
            aria-label={`${emoji.replace(/_/g, ' ')}: ${list.length}${mine ? ', including you' : ''}`}
            onClick={() => void toggleReaction(post.id, emoji)}
          >
            <span aria-hidden="true">{emojiChar(emoji) ?? `:${emoji}:`}</span> {list.length}
          </button>
        );
      })}
    </div>
  );
}

function EditBox({ post }: { post: Post }) {
  const [text, setText] = useState(post.message);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const close = () => store.set({ editingPostId: undefined });
  async function save() {
    if (text.trim() === '') return;
    if (text === post.message) return close();
    setBusy(true);
    try {
      await editPost(post.id, text);
      close();
    } catch {
      setBusy(false);
    }
  }
  return (
    <div className="edit-box">
      <textarea
        ref={area}
        aria-label="Edit message"
        value={text}
        rows={Math.min(10, text.split('\n').length + 1)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            close();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <div className="edit-actions">
        <span className="muted">Enter to save, Escape to cancel</span>
        <button type="button" onClick={close}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void save()}>
          Save
        </button>
      </div>
    </div>
  );
}

/** True when the message mentions the reader by name or as @here, @channel or @all. */
function mentionsReader(message: string, username: string): boolean {
  if (!message.includes('@')) return false;
  const names = mentionsIn(parseCached(message));
  return names.has(username.toLowerCase()) || names.has('here') || names.has('channel') || names.has('all');
}

interface PostItemProps {
  post: Post;
  author?: User;
  continuation: boolean;
  team: Team;
  channelName: string;
  /** In the channel (reply count shown, thread opens on click) rather than inside a thread. */
  inChannel: boolean;
  editing: boolean;
  myId: string;
  myUsername: string;
  highlight?: readonly string[];
}

/** One message with its actions (react, reply, edit, delete, pin), drawn compactly when it continues a group. */
export const PostItem = memo(function PostItem({ post, author, continuation, team, channelName, inChannel, editing, myId, myUsername, highlight }: PostItemProps) {
  const [picker, setPicker] = useState(false);
  // The action toolbar exists only while the message is hovered or focused: most of a list never needs it.
  const [active, setActive] = useState(false);
  const pending = post.id.startsWith('pending:');
  const failed = post.props?.failed === true;
  const deleted = post.delete_at > 0;
  const mine = post.user_id === myId;
  const name = (post.props?.override_username as string | undefined) ?? author?.username ?? '…';
  const time = timeLabel(post.create_at);
  const full = fullTimeLabel(post.create_at);
  const threadHref = channelPath(team.name, channelName, post.root_id || post.id);
  const mentionsMe = !mine && !deleted && mentionsReader(post.message, myUsername);

  return (
    <article
      className={`post${continuation ? ' continuation' : ''}${pending ? ' pending' : ''}${failed ? ' failed' : ''}${mentionsMe ? ' mentioned' : ''}${post.is_pinned ? ' pinned' : ''}`}
      data-post-id={post.id}
      tabIndex={-1}
      aria-label={`${name} at ${time}`}
      onMouseEnter={() => setActive(true)}
      onMouseLeave={() => setActive(false)}
      onFocus={() => setActive(true)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setActive(false);
      }}
    >
      <div className="post-gutter">{continuation ? <time className="hover-time" dateTime={new Date(post.create_at).toISOString()} title={full}>{time}</time> : <Avatar user={author} id={post.user_id} />}</div>
      <div className="post-body">
        {!continuation && (
          <header className="post-meta">
            <span className="author">{name}</span>
            {author?.is_bot && <span className="tag">BOT</span>}
            <time dateTime={new Date(post.create_at).toISOString()} title={full}>
              {time}
            </time>
            {post.is_pinned && <span className="tag pinned-tag">Pinned</span>}
          </header>
        )}
        {continuation && post.is_pinned && <span className="tag pinned-tag">Pinned</span>}
        {deleted ? (
          <p className="muted deleted">(message deleted)</p>
        ) : editing ? (
          <EditBox post={post} />
        ) : (
          <div className="message">
            {renderMarkdown(post.message, { myUsername, channelHref: (c) => channelPath(team.name, c), highlight })}
            {post.edit_at > 0 && <span className="edited muted"> (edited)</span>}
          </div>
        )}
        {!deleted && post.metadata?.files && post.metadata.files.length > 0 && <Files files={post.metadata.files} />}
        {!deleted && <Reactions post={post} myId={myId} />}
        {inChannel && !deleted && post.reply_count > 0 && (
          <Link className="reply-count" href={threadHref}>
            {post.reply_count} {post.reply_count === 1 ? 'reply' : 'replies'}
          </Link>
        )}
        {failed && (
          <p className="send-failed" role="alert">
            Not sent.{' '}
            <button type="button" className="link" onClick={() => void retryPost(post.id)}>
              Retry
            </button>{' '}
            <button type="button" className="link" onClick={() => discardPost(post.id)}>
              Discard
            </button>
          </p>
        )}
      </div>
      {(active || picker) && !pending && !deleted && !editing && (
        <div className="post-actions" role="toolbar" aria-label="Message actions">
          {quickReactions.slice(0, 3).map((e) => (
            <button key={e} type="button" className="icon-button" aria-label={`React with ${e.replace(/_/g, ' ')}`} title={`:${e}:`} onClick={() => void toggleReaction(post.id, e)}>
              {emojiChar(e)}
            </button>
          ))}
          <button type="button" className="icon-button" aria-label="Add reaction" aria-expanded={picker} title="Add reaction" onClick={() => setPicker((v) => !v)}>
            <Icon name="smile" />
          </button>
          {inChannel && (
            <Link className="icon-button" href={threadHref} aria-label="Reply in thread" title="Reply">
              <Icon name="reply" />
            </Link>
          )}
          <button type="button" className="icon-button" aria-label={post.is_pinned ? 'Unpin message' : 'Pin message'} title={post.is_pinned ? 'Unpin' : 'Pin'} onClick={() => void setPinned(post.id, !post.is_pinned)}>
            <Icon name="pin" />
          </button>
          {mine && (
            <button type="button" className="icon-button" aria-label="Edit message" title="Edit" onClick={() => store.set({ editingPostId: post.id })}>
              <Icon name="edit" />
            </button>
          )}
          {mine && (
            <button
              type="button"
              className="icon-button danger"
              aria-label="Delete message"
              title="Delete"
              onClick={() => {
                if (window.confirm('Delete this message? This cannot be undone.')) void deletePost(post.id);
              }}
            >
              <Icon name="trash" />
            </button>
          )}
          {picker && (
            <EmojiPicker
              label="Add a reaction"
              onClose={() => setPicker(false)}
              onPick={(name) => {
                setPicker(false);
                void toggleReaction(post.id, name);
              }}
            />
          )}
        </div>
      )}
    </article>
  );
});

