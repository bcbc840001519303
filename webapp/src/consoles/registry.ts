// Extension point for the consoles (system administration, compliance). Each console owns a path
// prefix, appears in the global navigation for the users it is meant for, and is loaded only when
// opened (a separate chunk), so it adds nothing to the chat's first load.
//
// To add a console: create `consoles/<name>/index.tsx` exporting a default component that receives
// `{ path }` (the part of the URL after the prefix), and add an entry below.

import type { ComponentType } from 'react';
import type { User } from '../api/types.ts';
import type { IconName } from '../components/Icons.tsx';

export interface ConsoleProps {
  /** The URL path below the console's prefix, `/` at its home. */
  path: string;
}

export interface ConsoleEntry {
  id: string;
  /** Path prefix, e.g. `/admin_console` (Mattermost's) or `/compliance`. */
  prefix: string;
  label: string;
  /** Its icon in the navigation rail. */
  icon: IconName;
  /** Who sees the entry (the server still enforces every permission). */
  visibleTo(user: User): boolean;
  load(): Promise<{ default: ComponentType<ConsoleProps> }>;
}

const hasRole = (user: User, role: string) => user.roles.split(/\s+/).includes(role);

export const consoles: readonly ConsoleEntry[] = [
  {
    id: 'admin',
    prefix: '/admin_console',
    label: 'System console',
    icon: 'gear',
    visibleTo: (u) => hasRole(u, 'system_admin') || hasRole(u, 'system_user_manager'),
    load: () => import('./admin/index.tsx'),
  },
  {
    id: 'compliance',
    prefix: '/compliance',
    label: 'Compliance console',
    icon: 'scale',
    // Auditors see its audit log section only.
    visibleTo: (u) => hasRole(u, 'system_admin') || hasRole(u, 'compliance_officer') || hasRole(u, 'auditor'),
    load: () => import('./compliance/index.tsx'),
  },
];

export const consolePrefixes: readonly string[] = consoles.map((c) => c.prefix);
