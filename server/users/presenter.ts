import type { Actor } from '../auth/actor.ts';
import { isSystemAdmin, systemRolesOf } from '../auth/actor.ts';

/** A users row as stored. */
export interface UserRow {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  username: string;
  email: string;
  email_verified: boolean;
  nickname: string;
  first_name: string;
  last_name: string;
  position: string;
  roles: string;
  locale: string;
  password_hash: string | null;
  last_password_update: number;
  auth_service: string;
  auth_data: string | null;
  is_bot: boolean;
  props: Record<string, string>;
  notify_props: Record<string, string>;
  timezone: Record<string, string>;
  last_activity_at: number;
  /** System roles granted through directory groups (see auth/actor.ts systemRolesOf). */
  group_roles?: string;
}

const defaultNotifyProps = {
  channel: 'true', comments: 'never', desktop: 'mention', desktop_sound: 'true', email: 'true',
  first_name: 'false', mention_keys: '', push: 'mention', push_status: 'away',
};
const defaultTimezone = { automaticTimezone: '', manualTimezone: '', useAutomaticTimezone: 'true' };

/**
 * The User object of API v4. Fields are listed explicitly; the password hash never leaves. Email and
 * private settings are shown to the user themself and to admins only.
 */
export function presentUser(row: UserRow, viewer: Actor | 'system'): Record<string, unknown> {
  const privileged = viewer === 'system' || viewer.userId === row.id || isSystemAdmin(viewer);
  const user: Record<string, unknown> = {
    id: row.id,
    create_at: row.create_at,
    update_at: row.update_at,
    delete_at: row.delete_at,
    username: row.username,
    auth_service: row.auth_service,
    email: row.email,
    nickname: row.nickname,
    first_name: row.first_name,
    last_name: row.last_name,
    position: row.position,
    // Effective system roles, group-granted ones included, so clients show what the user may do.
    roles: [...systemRolesOf(row)].join(' '),
    locale: row.locale,
    timezone: { ...defaultTimezone, ...row.timezone },
    is_bot: row.is_bot,
    props: row.props,
    last_picture_update: 0,
    disable_welcome_email: false,
  };
  if (privileged) {
    Object.assign(user, {
      email_verified: row.email_verified,
      notify_props: { ...defaultNotifyProps, ...row.notify_props },
      last_password_update: row.last_password_update,
      last_activity_at: row.last_activity_at,
      mfa_active: false,
    });
  }
  return user;
}
