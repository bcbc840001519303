import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The embedded PostgreSQL runs under Linux's SCHED_BATCH policy (inherited by every backend it forks).
// Each query this server sends wakes a backend; under the default policy the woken backend preempts
// the sender, so the server's single event loop lost its CPU about once per query it wrote (measured:
// 0.47 involuntary context switches per query at 16 concurrent clients, 0.03 under SCHED_BATCH, and
// 1.6x the queries per second). A SCHED_BATCH task never preempts on wake-up; it runs on the other
// core, or when the event loop next waits. Its share of the CPU is unchanged (same nice value), so
// PostgreSQL still gets its time, just not in the middle of the server's turn.

const CHRT_PATHS = ['/usr/bin/chrt', '/bin/chrt'];

/** util-linux's chrt, on Linux where it is installed. */
function chrtPath(): string | undefined {
  return process.platform === 'linux' ? CHRT_PATHS.find((candidate) => fs.existsSync(candidate)) : undefined;
}

/** Whether scheduling policies can be set here (Linux with chrt installed). */
export function chrtAvailable(): boolean {
  return chrtPath() !== undefined;
}

/** The Linux thread id of the calling thread (the main thread's is the process id); throws where /proc is missing. */
export function currentThreadId(): number {
  return Number(path.basename(fs.readlinkSync('/proc/thread-self')));
}

/** The command and arguments that start `command` under SCHED_BATCH, or them unchanged where chrt is absent. */
export function underBatchScheduling(command: string, args: string[]): { command: string; args: string[]; batch: boolean } {
  const chrt = chrtPath();
  if (!chrt) return { command, args, batch: false };
  return { command: chrt, args: ['--batch', '0', command, ...args], batch: true };
}

/**
 * Moves a running process (all its threads) to SCHED_BATCH, or with `{ thread: true }` only the thread
 * whose id is given; false where chrt is absent or refuses.
 */
export function moveToBatchScheduling(id: number, options: { thread?: boolean } = {}): boolean {
  const chrt = chrtPath();
  if (!chrt) return false;
  return spawnSync(chrt, [...(options.thread ? [] : ['--all-tasks']), '--batch', '--pid', '0', String(id)], { stdio: 'ignore' }).status === 0;
}

/**
 * Moves one task (a thread id, or a single-threaded process such as a PostgreSQL backend) to
 * SCHED_IDLE: it runs only on CPU time nothing else wants, and any other task that wakes up, a
 * SCHED_BATCH backend included, preempts it at once. A nice value alone does not give that: a
 * SCHED_BATCH backend never preempts on wake-up, so a live query's backend waited for the end of a
 * nice-19 background backend's slice. False where chrt is absent or refuses.
 */
export function moveToIdleScheduling(taskId: number): boolean {
  const chrt = chrtPath();
  if (!chrt) return false;
  return spawnSync(chrt, ['--idle', '--pid', '0', String(taskId)], { stdio: 'ignore' }).status === 0;
}
