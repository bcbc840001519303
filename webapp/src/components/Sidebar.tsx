import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { Channel, Team, User } from '../api/types.ts';
import { channelLabel, sidebarSections, unreadState } from '../lib/channels.ts';
import { rankUsers } from '../lib/composer.ts';
import { channelPath, navigate } from '../lib/router.ts';
import { loadChannel, loadTeamUsers, notify, openDirect } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';
import { Icon } from './Icons.tsx';
import { Link } from './Link.tsx';

const ChannelLink = memo(function ChannelLink({ channel, team, active, label, onPick }: { channel: Channel; team: Team; active: boolean; label: string; onPick: () => void }) {
  const member = useAppState((s) => s.members[channel.id]);
  const { unread, mentions } = unreadState(channel, member);
  const icon = channel.type === 'P' ? 'lock' : channel.type === 'D' ? 'at' : channel.type === 'G' ? 'people' : 'hash';
  const href = channelPath(team.name, channel.name);
  const prefetch = () => void loadChannel(channel.id).catch(() => undefined);
  return (
    <li>
      <Link
        href={href}
        className={`channel-item${active ? ' active' : ''}${unread && !active ? ' unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-channel-name={channel.name}
        onMouseEnter={prefetch}
        onFocus={prefetch}
        onNavigate={() => {
          prefetch(); // the request runs while React swaps the view
          onPick();
        }}
      >
        <span className="channel-icon">
          <Icon name={icon} size={15} />
        </span>
        <span className="channel-name">{label}</span>
        {unread && !active && <span className="visually-hidden">, unread</span>}
        {mentions > 0 && !active && (
          <span className="badge" aria-label={`${mentions} mention${mentions === 1 ? '' : 's'}`}>
            {mentions}
          </span>
        )}
      </Link>
    </li>
  );
});

function DirectMessageDialog({ team, onClose }: { team: Team; onClose: () => void }) {
  const me = useAppState((s) => s.me)!;
  const [users, setUsers] = useState<User[]>([]);
  const [query, setQuery] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    loadTeamUsers(team.id).then(setUsers, () => notify('Could not load the team’s members.'));
  }, [team.id]);
  const matches = rankUsers(users.filter((u) => u.id !== me.id), query, 20);
  async function pick(user: User) {
    try {
      const channel = await openDirect(user.id);
      onClose();
      navigate(channelPath(team.name, channel.name));
    } catch {
      notify(`Could not open a conversation with @${user.username}.`);
    }
  }
  return (
    <div className="dialog-backdrop" onClick={onClose}>
      <div role="dialog" aria-modal="true" aria-labelledby="dm-title" className="dialog" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2 id="dm-title">Direct message</h2>
        <input ref={input} type="search" aria-label="Find people" placeholder="Find people" value={query} onChange={(e) => setQuery(e.target.value)} />
        <ul className="pick-list">
          {matches.map((u) => (
            <li key={u.id}>
              <button type="button" onClick={() => void pick(u)}>
                @{u.username} {u.first_name || u.last_name ? <span className="muted">{`${u.first_name ?? ''} ${u.last_name ?? ''}`.trim()}</span> : null}
              </button>
            </li>
          ))}
          {matches.length === 0 && <li className="muted">No one matches.</li>}
        </ul>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}

/** The channel list of a team: channels, then direct and group messages. */
export function Sidebar({ team, current, onClose }: { team: Team; current?: Channel; onClose: () => void }) {
  const me = useAppState((s) => s.me)!;
  const ids = useAppState((s) => s.teamChannels[team.id]);
  const channels = useAppState((s) => s.channels);
  const users = useAppState((s) => s.users);
  const [dmOpen, setDmOpen] = useState(false);
  const sections = useMemo(() => sidebarSections((ids ?? []).map((id) => channels[id]).filter(Boolean), me.id, users), [ids, channels, me.id, users]);

  return (
    <aside className="sidebar" aria-label="Channels">
      <header className="sidebar-header">
        <h1 className="team-name">{team.display_name}</h1>
        <button type="button" className="icon-button close-sidebar" aria-label="Close channel list" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <nav aria-label={`${team.display_name} channels`} className="sidebar-scroll">
        {!ids && <p className="muted sidebar-loading">Loading channels…</p>}
        <h2 className="section-title" id="section-channels">
          Channels
        </h2>
        <ul aria-labelledby="section-channels">
          {sections.channels.map((c) => (
            <ChannelLink key={c.id} channel={c} team={team} active={c.id === current?.id} label={channelLabel(c, me.id, users)} onPick={onClose} />
          ))}
        </ul>
        <h2 className="section-title" id="section-direct">
          Direct messages
          <button type="button" className="icon-button" aria-label="Write a direct message" onClick={() => setDmOpen(true)}>
            <Icon name="plus" size={16} />
          </button>
        </h2>
        <ul aria-labelledby="section-direct">
          {sections.direct.map((c) => (
            <ChannelLink key={c.id} channel={c} team={team} active={c.id === current?.id} label={channelLabel(c, me.id, users)} onPick={onClose} />
          ))}
        </ul>
      </nav>
      {dmOpen && <DirectMessageDialog team={team} onClose={() => setDmOpen(false)} />}
    </aside>
  );
}
