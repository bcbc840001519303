// A small router over the History API. URLs follow Mattermost's: /login, /<team>/channels/<channel>,
// /<team>/channels/<channel>/<post id> (thread open). Consoles add their own prefixes (see
// consoles/registry.ts); anything else under a team falls back to its default channel.

import { useSyncExternalStore } from 'react';

export type Route =
  | { kind: 'login' }
  | { kind: 'root' }
  | { kind: 'team'; team: string }
  | { kind: 'channel'; team: string; channel: string; thread?: string }
  | { kind: 'console'; prefix: string; rest: string }
  | { kind: 'not-found' };

const ID = /^[a-z0-9]{26}$/;
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

/** Reads a path; `consolePrefixes` are the paths consoles own (`/admin_console`, ...). */
export function parseRoute(pathname: string, consolePrefixes: readonly string[] = []): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  for (const prefix of consolePrefixes) {
    if (path === prefix || path.startsWith(prefix + '/')) return { kind: 'console', prefix, rest: path.slice(prefix.length) || '/' };
  }
  if (path === '/') return { kind: 'root' };
  if (path === '/login') return { kind: 'login' };
  const parts = path.slice(1).split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '';
    }
  });
  const [team, section, channel, thread] = parts;
  if (!team || !NAME.test(team)) return { kind: 'not-found' };
  if (parts.length === 1) return { kind: 'team', team };
  if (section === 'channels' && channel && /^[a-z0-9_.-]{1,64}$/i.test(channel) && parts.length <= 4) {
    if (thread !== undefined && !ID.test(thread)) return { kind: 'not-found' };
    return thread ? { kind: 'channel', team, channel, thread } : { kind: 'channel', team, channel };
  }
  return { kind: 'team', team };
}

export function channelPath(team: string, channel: string, thread?: string): string {
  return `/${encodeURIComponent(team)}/channels/${encodeURIComponent(channel)}${thread ? `/${thread}` : ''}`;
}

const listeners = new Set<() => void>();
let current = typeof location === 'undefined' ? '/' : location.pathname;

function changed(): void {
  current = location.pathname;
  for (const l of listeners) l();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', changed);

/** Goes to `path` (a same-site path), adding a history entry unless `replace`. */
export function navigate(path: string, replace = false): void {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  changed();
}

/** The current path, re-rendering on navigation. */
export function usePath(): string {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
    () => current,
  );
}

/** True for a plain left click that the router should handle (not a new-tab click). */
export function isPlainClick(e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean }): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
}
