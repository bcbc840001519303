import { execFileSync, spawnSync } from 'node:child_process';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function lookup(name: string): OsUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { name, uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root. When Custodian runs as root it drops the database server to this
 * unprivileged system user, creating it (no home, no shell) the first time.
 */
export function ensureUnprivilegedUser(name: string): OsUser {
  const existing = lookup(name);
  if (existing) return existing;
  const created = spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', name], {
    encoding: 'utf8',
  });
  const user = lookup(name);
  if (!user) throw new Error(`Could not create the system user "${name}" for PostgreSQL: ${created.stderr || created.error?.message}`);
  return user;
}

/** True when `user` can reach (and, with write=true, write to) `dir`; checks every parent directory too. */
export function userCanUse(user: OsUser, dir: string, write: boolean): boolean {
  const test = spawnSync('/bin/sh', ['-c', write ? 'test -x "$1" && test -w "$1"' : 'test -x "$1" && test -r "$1"', 'sh', dir], {
    uid: user.uid,
    gid: user.gid,
    stdio: 'ignore',
  });
  return test.status === 0;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
