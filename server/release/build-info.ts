import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What scripts/package.ts records about a release build in BUILD.json at the tarball's root. */
export interface BuildInfo {
  version: string;
  commit: string;
  /** True when the tree had uncommitted changes at build time. */
  dirty: boolean;
  builtAt: string;
  target: string;
  node: string;
  postgres: string;
  webapp: boolean;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** BUILD.json of a release tarball, or undefined in a source checkout. */
export function buildInfo(): BuildInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'BUILD.json'), 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** The lines of `custodian version` after the first. */
export function describeBuild(): string[] {
  const info = buildInfo();
  if (!info) return [`Build: source checkout (${root})`];
  return [
    `Build: release ${info.version} ${info.target}, commit ${info.commit.slice(0, 12)}${info.dirty ? ' (with uncommitted changes)' : ''}, built ${info.builtAt}`,
    `Bundled: Node ${info.node}, PostgreSQL ${info.postgres}, web app ${info.webapp ? 'included' : 'not included'}`,
  ];
}
