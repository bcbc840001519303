// Sidebar logic: channel names as people see them, sections and their order, unread and mention counts.

import type { Channel, ChannelMember, ClientConfig, User } from '../api/types.ts';

/** The other person in a direct message channel (named `idA__idB`); yourself for a self-DM. */
export function directPeer(channel: Channel, myId: string): string | undefined {
  if (channel.type !== 'D') return undefined;
  const [a, b] = channel.name.split('__');
  return a === myId ? b : a;
}

/** A user's handle for lists: `alice`, with "(you)" left to the caller. */
export function displayUser(user: User | undefined, fallback = 'someone'): string {
  return user?.username ?? fallback;
}

/** The name shown for a channel: direct messages show the other person's username. */
export function channelLabel(channel: Channel, myId: string, users: Record<string, User>): string {
  if (channel.type === 'D') {
    const peer = directPeer(channel, myId);
    if (peer === myId) return `${displayUser(users[myId])} (you)`;
    return displayUser(peer ? users[peer] : undefined, 'Direct message');
  }
  return channel.display_name || channel.name;
}

export interface UnreadState {
  unread: boolean;
  mentions: number;
}

/** Unread when the channel has more messages than the member has seen. */
export function unreadState(channel: Channel, member: ChannelMember | undefined): UnreadState {
  if (!member) return { unread: false, mentions: 0 };
  return { unread: channel.total_msg_count > member.msg_count, mentions: member.mention_count };
}

export interface SidebarSections {
  channels: Channel[];
  direct: Channel[];
}

/** Public and private channels by name; direct and group messages by latest activity. */
export function sidebarSections(channels: readonly Channel[], myId: string, users: Record<string, User>): SidebarSections {
  const live = channels.filter((c) => c.delete_at === 0);
  const named = live.filter((c) => c.type === 'O' || c.type === 'P');
  named.sort((a, b) => channelLabel(a, myId, users).localeCompare(channelLabel(b, myId, users), undefined, { sensitivity: 'base' }));
  const direct = live.filter((c) => c.type === 'D' || c.type === 'G');
  direct.sort((a, b) => b.last_post_at - a.last_post_at || channelLabel(a, myId, users).localeCompare(channelLabel(b, myId, users)));
  return { channels: named, direct };
}

/** Total mentions and whether anything is unread, for a team's badge in the team switcher. */
export function teamUnread(channels: readonly Channel[], members: Record<string, ChannelMember>): UnreadState {
  let mentions = 0;
  let unread = false;
  for (const c of channels) {
    const state = unreadState(c, members[c.id]);
    mentions += state.mentions;
    unread ||= state.unread;
  }
  return { unread, mentions };
}

export interface SsoOption {
  provider: 'saml' | 'openid' | 'gitlab' | 'google' | 'office365';
  label: string;
  href: string;
}

export interface SignInOptions {
  password: boolean;
  sso: SsoOption[];
}

const on = (v: string | undefined) => v === 'true';

/** The OAuth/OpenID services Mattermost's client configuration can turn on, with their default labels. */
const OAUTH: { provider: SsoOption['provider']; key: string; label: string; labelKey?: string }[] = [
  { provider: 'openid', key: 'EnableSignUpWithOpenId', label: 'OpenID Connect', labelKey: 'OpenIdButtonText' },
  { provider: 'gitlab', key: 'EnableSignUpWithGitLab', label: 'GitLab' },
  { provider: 'google', key: 'EnableSignUpWithGoogle', label: 'Google' },
  { provider: 'office365', key: 'EnableSignUpWithOffice365', label: 'Microsoft' },
];

/**
 * Which ways to sign in the login page offers, from the server's client configuration. Without a
 * configuration (an older server) the password form alone is shown.
 */
export function signInOptions(config: ClientConfig | undefined, redirectTo = ''): SignInOptions {
  const redirect = redirectTo && redirectTo.startsWith('/') && !redirectTo.startsWith('//') ? `?redirect_to=${encodeURIComponent(redirectTo)}` : '';
  if (!config) return { password: true, sso: [] };
  const password = on(config.EnableSignInWithEmail) || on(config.EnableSignInWithUsername) || on(config.EnableLdap) || config.EnableSignInWithEmail === undefined;
  const sso: SsoOption[] = [];
  if (on(config.EnableSaml)) sso.push({ provider: 'saml', label: config.SamlLoginButtonText || 'SAML', href: `/login/sso/saml${redirect}` });
  for (const o of OAUTH) {
    if (on(config[o.key])) sso.push({ provider: o.provider, label: (o.labelKey && config[o.labelKey]) || o.label, href: `/oauth/${o.provider}/login${redirect}` });
  }
  // A server that turned everything off still needs a way in.
  return { password: password || sso.length === 0, sso };
}
