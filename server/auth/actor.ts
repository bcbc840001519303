/** Who is making a request: an authenticated user (or bot) and the session they used. */
export interface Actor {
  userId: string;
  /** The user's username, for sender names and audit records without another lookup. */
  username?: string;
  sessionId: string;
  /** System-level roles, e.g. system_user, system_admin, system_guest. */
  roles: ReadonlySet<string>;
  isBot: boolean;
  /** How the request authenticated; cookie-authenticated writes need a CSRF token. */
  via: 'bearer' | 'cookie' | 'query' | 'access_token';
  ipAddress: string;
  userAgent: string;
}

export function isSystemAdmin(actor: Actor): boolean {
  return actor.roles.has('system_admin');
}

export function isGuest(actor: Actor): boolean {
  return actor.roles.has('system_guest');
}

/**
 * A user's system roles: those given to the account plus those its directory groups grant
 * (`users.group_roles`, maintained by group sync), so leaving a group takes its roles away.
 */
export function systemRolesOf(user: { roles: string; group_roles?: string | null }): Set<string> {
  return new Set(`${user.roles} ${user.group_roles ?? ''}`.split(/\s+/).filter(Boolean));
}
