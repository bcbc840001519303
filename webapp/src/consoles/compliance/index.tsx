// The compliance console (`/compliance`): exports, retention, legal holds, eDiscovery and the audit
// log, each a section with its own URL. Loaded on demand: nothing here is in the chat's first load.
import { useEffect, useRef, type ComponentType } from 'react';
import { Link } from '../../components/Link.tsx';
import { navigate } from '../../lib/router.ts';
import { useAppState } from '../../state/store.ts';
import type { ConsoleProps } from '../registry.ts';
import { AuditPage } from './AuditPage.tsx';
import { EDiscoveryPage } from './EDiscoveryPage.tsx';
import { ExportsPage } from './ExportsPage.tsx';
import { HoldsPage } from './HoldsPage.tsx';
import { RetentionPage } from './RetentionPage.tsx';
import { sectionAt, sectionsFor, type SectionId } from './logic.ts';
import './compliance.css';

export const PREFIX = '/compliance';

const pages: Record<SectionId, ComponentType> = {
  exports: ExportsPage,
  retention: RetentionPage,
  holds: HoldsPage,
  ediscovery: EDiscoveryPage,
  audit: AuditPage,
};

export default function ComplianceConsole({ path }: ConsoleProps) {
  const roles = useAppState((s) => s.me?.roles ?? '');
  const available = sectionsFor(roles);
  const section = sectionAt(path, available);
  const heading = useRef<HTMLHeadingElement>(null);

  // The URL names the section shown (the console's home opens the first one).
  useEffect(() => {
    if (section && path !== section.path) navigate(PREFIX + section.path, true);
  }, [path, section]);
  // Moving to a section moves focus to its title, so keyboard and screen reader users start there.
  useEffect(() => {
    heading.current?.focus();
  }, [section?.id]);

  if (!section) return <p className="empty">You do not have access to any part of this console.</p>;
  const Page = pages[section.id];
  return (
    <div className="compliance-console">
      <header className="cc-header">
        <h1 className="cc-console-name">Compliance console</h1>
        <Link className="cc-back" href="/">
          Back to chat
        </Link>
        <nav aria-label="Compliance sections">
          <ul className="cc-tabs">
            {available.map((s) => (
              <li key={s.id}>
                <Link href={PREFIX + s.path} aria-current={s.id === section.id ? 'page' : undefined} className={s.id === section.id ? 'active' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <section className="cc-body" aria-labelledby="cc-section-title">
        <h2 id="cc-section-title" ref={heading} tabIndex={-1}>
          {section.label}
        </h2>
        <Page />
      </section>
    </div>
  );
}
