import { useEffect, useRef, useState } from 'react';
import type { Channel, Team } from '../api/types.ts';
import { channelLabel } from '../lib/channels.ts';
import { narrowScreen } from '../lib/media.ts';
import { loadChannel, notify, viewChannel } from '../state/actions.ts';
import { typingKey, useAppState } from '../state/store.ts';
import { Composer } from './Composer.tsx';
import { PostList } from './PostList.tsx';
import { SearchBox } from './SearchBox.tsx';
import { TypingIndicator } from './TypingIndicator.tsx';
import { Icon } from './Icons.tsx';

/** A channel: its header with the search box, the messages, who is typing, and the composer. */
export function ChannelView({ team, channel, onOpenSidebar, onSearch }: { team: Team; channel: Channel; onOpenSidebar: () => void; onSearch: (query: string) => void }) {
  const me = useAppState((s) => s.me)!;
  const users = useAppState((s) => s.users);
  const label = channelLabel(channel, me.id, users);
  const loaded = useAppState((s) => s.channelPosts[channel.id]?.syncedAt ?? 0) > 0;
  const [failed, setFailed] = useState(false);
  const section = useRef<HTMLElement>(null);
  const title = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setFailed(false);
    loadChannel(channel.id).then(
      () => viewChannel(channel.id),
      () => {
        setFailed(true);
        notify('Could not load this channel’s messages.');
      },
    );
    document.title = `${channel.type === 'D' ? '@' : ''}${label} · ${team.display_name}`;
  }, [channel.id, team.display_name, label, channel.type]);

  // On phones, focus lands on the channel's name (announced by screen readers, no keyboard popping up).
  useEffect(() => {
    if (narrowScreen()) title.current?.focus({ preventScroll: true });
  }, [channel.id]);

  const archived = channel.delete_at > 0;
  return (
    <section className="channel-view" aria-labelledby="channel-title" ref={section}>
      <header className="channel-header">
        <button type="button" className="icon-button open-sidebar" aria-label="Show channels" onClick={onOpenSidebar}>
          <Icon name="menu" />
        </button>
        <div className="channel-title-block">
          <h2 id="channel-title" className="channel-title" ref={title} tabIndex={-1}>
            {channel.type === 'O' && <Icon name="hash" size={16} />}
            {channel.type === 'P' && <Icon name="lock" size={16} />} {label}
          </h2>
          {(channel.header || channel.purpose) && <p className="channel-purpose">{channel.header || channel.purpose}</p>}
        </div>
        <SearchBox team={team} onSearch={onSearch} />
      </header>
      {loaded ? (
        <PostList team={team} channel={channel} />
      ) : (
        <div className="post-list-placeholder" role="status" id="message-list">
          {failed ? 'Messages could not be loaded.' : 'Loading messages…'}
        </div>
      )}
      <TypingIndicator typingKey={typingKey(channel.id)} />
      {archived ? (
        <p className="archived-note">This channel is archived. You can read it but not post.</p>
      ) : (
        <Composer team={team} channel={channel} dropZone={section} placeholder={`Write to ${channel.type === 'D' ? '@' : '~'}${label}`} />
      )}
    </section>
  );
}
