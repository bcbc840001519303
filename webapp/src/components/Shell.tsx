import { lazy, Suspense, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import type { Channel, Team } from '../api/types.ts';
import { consolePrefixes, consoles, type ConsoleEntry, type ConsoleProps } from '../consoles/registry.ts';
import { channelPath, navigate, parseRoute, usePath } from '../lib/router.ts';
import { loadTeam, notify, resolveChannel, setVisibleChannel } from '../state/actions.ts';
import { store, useAppState } from '../state/store.ts';
import { ChannelView } from './ChannelView.tsx';
import { ConnectionBanner, Notice } from './Notice.tsx';
import { SearchPanel } from './SearchPanel.tsx';
import { Sidebar } from './Sidebar.tsx';
import { TeamRail } from './TeamRail.tsx';
import { ThreadPanel } from './ThreadPanel.tsx';

const LAST_KEY = 'custodian.last';
/** How long a channel switch keeps the previous channel on screen while the new one loads. */
const WAIT_MS = 400;

function remember(team: string, channel: string): void {
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify({ team, channel }));
  } catch {
    // Storage unavailable: the app starts at the team's first channel next time.
  }
}

function lastVisited(): { team?: string; channel?: string } {
  try {
    return JSON.parse(localStorage.getItem(LAST_KEY) ?? '{}');
  } catch {
    return {};
  }
}

/** The console components, each loaded the first time it is opened. */
const consoleComponents = new Map<string, ComponentType<ConsoleProps>>();
function consoleComponent(entry: ConsoleEntry): ComponentType<ConsoleProps> {
  let c = consoleComponents.get(entry.id);
  if (!c) {
    c = lazy(entry.load);
    consoleComponents.set(entry.id, c);
  }
  return c;
}

/** The team's town square, or its first channel by name. */
function goToDefaultChannel(team: Team): void {
  const s = store.get();
  const named = (s.teamChannels[team.id] ?? []).map((id) => s.channels[id]).filter((c): c is Channel => !!c && c.delete_at === 0 && (c.type === 'O' || c.type === 'P'));
  const pick = named.find((c) => c.name === 'town-square') ?? named.sort((a, b) => a.display_name.localeCompare(b.display_name))[0];
  if (pick) navigate(channelPath(team.name, pick.name), true);
}

export type RightPanel = { kind: 'search'; query: string } | undefined;

/** The signed-in layout: navigation rail, channel sidebar, the channel (or a console), and the right panel. */
export function Shell() {
  const path = usePath();
  const route = useMemo(() => parseRoute(path, consolePrefixes), [path]);
  const teams = useAppState((s) => s.teams);
  const me = useAppState((s) => s.me)!;
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [search, setSearch] = useState<RightPanel>(undefined);
  const closeSidebar = useCallback(() => setSidebarOpen(false), []);

  const teamName = route.kind === 'channel' || route.kind === 'team' ? route.team : undefined;
  const team: Team | undefined = teamName ? teams.find((t) => t.name === teamName) : undefined;

  // Pick a team when the URL names none (or one the user is not in).
  useEffect(() => {
    if (route.kind === 'console' || teams.length === 0) return;
    if (route.kind === 'root' || route.kind === 'login' || route.kind === 'not-found' || !team) {
      const last = lastVisited();
      const pick = teams.find((t) => t.name === last.team) ?? teams[0];
      navigate(`/${pick.name}`, true);
    }
  }, [route, team, teams]);

  const teamLoaded = useAppState((s) => (team ? s.teamChannels[team.id] !== undefined : false));
  useEffect(() => {
    if (team) void loadTeam(team.id);
  }, [team]);

  // Resolve the channel named in the URL, or go to the team's default one.
  const channelName = route.kind === 'channel' ? route.channel : undefined;
  const channel = useAppState((s) => {
    if (!team || !channelName) return undefined;
    for (const id of s.teamChannels[team.id] ?? []) if (s.channels[id]?.name === channelName) return s.channels[id];
    return undefined;
  });

  // Switching to a channel whose messages are not loaded yet keeps the current one on screen until
  // they arrive (or for WAIT_MS at most): one swap straight to the filled list, no blank in between.
  const ready = useAppState((s) => (channel ? (s.channelPosts[channel.id]?.syncedAt ?? 0) > 0 : false));
  const previous = useRef<string | undefined>(undefined);
  const [waited, setWaited] = useState<string | undefined>(undefined);
  const previousChannel = useAppState((s) => (previous.current ? s.channels[previous.current] : undefined));
  const holding = !!channel && !ready && waited !== channel.id && !!previousChannel && previousChannel.id !== channel.id && previousChannel.team_id === channel.team_id;
  const shown = holding ? previousChannel : channel;
  useLayoutEffect(() => {
    previous.current = shown?.id;
  });
  useEffect(() => {
    if (!holding || !channel) return;
    const t = setTimeout(() => setWaited(channel.id), WAIT_MS);
    return () => clearTimeout(t);
  }, [holding, channel]);

  useEffect(() => {
    if (!team || !teamLoaded) return;
    if (route.kind === 'team') {
      const last = lastVisited();
      if (last.team === team.name && last.channel) navigate(channelPath(team.name, last.channel), true);
      else goToDefaultChannel(team);
      return;
    }
    if (route.kind !== 'channel' || channel) return;
    let cancelled = false;
    void resolveChannel(team.id, route.channel).then((found) => {
      if (found || cancelled) return;
      if (route.channel !== 'town-square') notify(`Channel “${route.channel}” was not found.`);
      goToDefaultChannel(team);
    });
    return () => {
      cancelled = true;
    };
  }, [route, team, teamLoaded, channel]);

  useEffect(() => {
    if (team && channel) remember(team.name, channel.name);
    setVisibleChannel(channel?.id);
    setSidebarOpen(false);
  }, [team, channel]);

  const consoleEntry = route.kind === 'console' ? consoles.find((c) => c.prefix === route.prefix) : undefined;
  const thread = route.kind === 'channel' ? route.thread : undefined;
  const rightOpen = !!thread || !!search;

  let center;
  if (consoleEntry && route.kind === 'console') {
    if (!consoleEntry.visibleTo(me)) center = <p className="empty">You do not have access to this console.</p>;
    else {
      const Console = consoleComponent(consoleEntry);
      center = (
        <Suspense fallback={<p className="empty" role="status">Loading…</p>}>
          <Console path={route.rest} />
        </Suspense>
      );
    }
  } else if (teams.length === 0) {
    center = <p className="empty">You are not a member of any team yet. Ask an administrator to add you to one.</p>;
  } else if (team && shown) {
    center = <ChannelView key={shown.id} team={team} channel={shown} onOpenSidebar={() => setSidebarOpen(true)} onSearch={(query) => setSearch({ kind: 'search', query })} />;
  } else {
    center = (
      <p className="empty" role="status">
        Loading…
      </p>
    );
  }

  return (
    <div className={`app${sidebarOpen ? ' sidebar-open' : ''}${rightOpen ? ' right-open' : ''}`}>
      <a className="skip-link" href="#message-list">
        Skip to messages
      </a>
      <TeamRail teams={teams} current={team} me={me} />
      {!consoleEntry && team && (
        <Sidebar team={team} current={channel} onClose={closeSidebar} />
      )}
      {sidebarOpen && <div className="scrim" onClick={closeSidebar} aria-hidden="true" />}
      <main className="center" id="main" aria-busy={holding || undefined}>
        {center}
      </main>
      {team && channel && !holding && thread && !search && <ThreadPanel rootId={thread} team={team} channel={channel} />}
      {team && search && <SearchPanel team={team} query={search.query} onClose={() => setSearch(undefined)} />}
      <ConnectionBanner />
      <Notice />
    </div>
  );
}
