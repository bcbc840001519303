// The system console (/admin_console): users, groups and directory sync, teams and channels, single
// sign-on status and server health, for system admins; user managers get users and groups.
import { lazy, Suspense, useEffect, useRef, type ComponentType } from 'react';
import { Link } from '../../components/Link.tsx';
import { useAppState } from '../../state/store.ts';
import type { ConsoleProps } from '../registry.ts';
import { isSystemAdmin, sectionOf, sectionsFor, type SectionId } from './logic.ts';
import UsersPage from './UsersPage.tsx';
import './admin.css';

const PREFIX = '/admin_console';

// Users is the landing page; the others load when first opened.
const GroupsPage = lazy(() => import('./GroupsPage.tsx'));
const TeamsPage = lazy(() => import('./TeamsPage.tsx'));
const SsoPage = lazy(() => import('./SsoPage.tsx'));
const HealthPage = lazy(() => import('./HealthPage.tsx'));
const PAGES: Record<Exclude<SectionId, 'users' | 'groups'>, ComponentType> = { teams: TeamsPage, sso: SsoPage, health: HealthPage };

export default function AdminConsole({ path }: ConsoleProps) {
  const me = useAppState((s) => s.me)!;
  const sections = sectionsFor(me);
  const section = sectionOf(path, sections);
  const heading = useRef<HTMLHeadingElement>(null);

  // A new section is announced by moving focus to its title, as the chat does for a new channel.
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [section?.id]);

  if (!section) return <p className="empty">The system console is for system admins and user managers.</p>;
  const admin = isSystemAdmin(me);
  let page;
  if (section.id === 'users') page = <UsersPage me={me} canEditRoles={admin} />;
  else if (section.id === 'groups') page = <GroupsPage isAdmin={admin} />;
  else {
    const Page = PAGES[section.id];
    page = <Page />;
  }

  return (
    <div className="admin-console">
      <header className="admin-header">
        <Link href="/" className="admin-back">Back to chat</Link>
        <nav className="admin-nav" aria-label="System console sections">
          <ul>
            {sections.map((s) => (
              <li key={s.id}>
                <Link href={`${PREFIX}/${s.id}`} aria-current={s.id === section.id ? 'page' : undefined}>{s.label}</Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <div className="admin-body" data-section={section.id}>
        <h1 id="console-title" ref={heading} tabIndex={-1}>{section.label}</h1>
        <Suspense fallback={<p className="admin-empty" role="status">Loading…</p>}>{page}</Suspense>
      </div>
    </div>
  );
}
