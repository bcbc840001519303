import { useState } from 'react';
import type { Team, User } from '../api/types.ts';
import { consoles } from '../consoles/registry.ts';
import { teamUnread } from '../lib/channels.ts';
import { effectiveTheme, setTheme } from '../lib/theme.ts';
import { logout } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';
import { Icon } from './Icons.tsx';
import { Link } from './Link.tsx';

function initials(name: string): string {
  const words = name.trim().split(/\s+/);
  return ((words[0]?.[0] ?? '?') + (words[1]?.[0] ?? '')).toUpperCase();
}

function TeamButton({ team, current }: { team: Team; current: boolean }) {
  const channels = useAppState((s) => s.teamChannels[team.id]);
  const allChannels = useAppState((s) => s.channels);
  const members = useAppState((s) => s.members);
  const state = channels ? teamUnread(channels.map((id) => allChannels[id]).filter(Boolean), members) : { unread: false, mentions: 0 };
  const label = `${team.display_name}${state.mentions ? `, ${state.mentions} mentions` : state.unread ? ', unread messages' : ''}`;
  return (
    <li>
      <Link
        href={`/${team.name}`}
        className={`rail-item${current ? ' active' : ''}${state.unread && !current ? ' unread' : ''}`}
        aria-current={current ? 'page' : undefined}
        aria-label={label}
        title={team.display_name}
      >
        {initials(team.display_name)}
        {state.mentions > 0 && !current && <span className="badge" aria-hidden="true">{state.mentions}</span>}
      </Link>
    </li>
  );
}

/** The global navigation: teams, then the consoles this user may open, then theme and sign-out. */
export function TeamRail({ teams, current, me }: { teams: Team[]; current?: Team; me: User }) {
  const [theme, setThemeState] = useState(effectiveTheme);
  const visibleConsoles = consoles.filter((c) => c.visibleTo(me));
  return (
    <nav className="rail" aria-label="Teams and consoles">
      <ul className="rail-list" aria-label="Teams">
        {teams.map((t) => (
          <TeamButton key={t.id} team={t} current={t.id === current?.id} />
        ))}
      </ul>
      {visibleConsoles.length > 0 && (
        <ul className="rail-list consoles" aria-label="Consoles">
          {visibleConsoles.map((c) => (
            <li key={c.id}>
              <Link href={c.prefix} className={`rail-item${location.pathname.startsWith(c.prefix) ? ' active' : ''}`} title={c.label} aria-label={c.label}>
                <Icon name={c.icon} size={20} />
              </Link>
            </li>
          ))}
        </ul>
      )}
      <div className="rail-footer">
        <button
          type="button"
          className="rail-item"
          aria-label={theme === 'dark' ? 'Use light theme' : 'Use dark theme'}
          title={theme === 'dark' ? 'Light theme' : 'Dark theme'}
          onClick={() => {
            const next = theme === 'dark' ? 'light' : 'dark';
            setTheme(next);
            setThemeState(next);
          }}
        >
          <Icon name={theme === 'dark' ? 'sun' : 'moon'} size={20} />
        </button>
        <button type="button" className="rail-item" aria-label={`Sign out ${me.username}`} title={`Sign out @${me.username}`} onClick={() => void logout()}>
          <Icon name="sign-out" size={20} />
        </button>
      </div>
    </nav>
  );
}
