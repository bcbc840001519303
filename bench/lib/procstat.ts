import fs from 'node:fs';
import os from 'node:os';

// CPU and memory of processes from /proc (Linux), sampled by the load coordinator: the server, its
// PostgreSQL (every descendant of the server process), the load agents, and the machine as a whole.

const CLK_TCK = 100;

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The fields of `<procDir>/stat` after the command name, from field 3 (state) on: index i is field i + 3.
 * `procDir` is a process (`/proc/<pid>`) or a thread (`/proc/<pid>/task/<tid>`); undefined when it has ended.
 */
function statFields(procDir: string): string[] | undefined {
  const text = read(`${procDir}/stat`);
  // The command name (field 2) may contain spaces and parentheses: split after its closing ')'.
  return text ? text.slice(text.lastIndexOf(')') + 2).split(' ') : undefined;
}

/** utime + stime of a process in seconds, what its exited children used (cutime + cstime), and its parent pid. */
function stat(pid: number): { cpu: number; exitedChildrenCpu: number; ppid: number } | undefined {
  const fields = statFields(`/proc/${pid}`);
  if (!fields) return undefined;
  return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, exitedChildrenCpu: (Number(fields[13]) + Number(fields[14])) / CLK_TCK };
}

/** Resident memory in bytes: proportional set size when available (shared memory split between sharers). */
function memory(pid: number, proportional: boolean): number {
  if (proportional) {
    const rollup = read(`/proc/${pid}/smaps_rollup`);
    const pss = rollup && /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (pss) return Number(pss[1]) * 1024;
  }
  const status = read(`/proc/${pid}/status`);
  const rss = status && /VmRSS:\s+(\d+) kB/.exec(status);
  return rss ? Number(rss[1]) * 1024 : 0;
}

/** Every live descendant of `root`. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s) continue;
    (children.get(s.ppid) ?? children.set(s.ppid, []).get(s.ppid)!).push(Number(name));
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds used so far by `root` and its live descendants (a server and its PostgreSQL backends). */
export function treeCpuSeconds(root: number): number {
  let total = 0;
  for (const pid of [root, ...descendants(root)]) total += stat(pid)?.cpu ?? 0;
  return total;
}

/**
 * CPU seconds used so far by `pid` alone (the server's Node process without its PostgreSQL); with
 * `exitedChildren`, plus what its exited children used (a postmaster's finished backends).
 */
export function processCpuSeconds(pid: number, exitedChildren = false): number {
  const s = stat(pid);
  return s ? s.cpu + (exitedChildren ? s.exitedChildrenCpu : 0) : 0;
}

function machineTicks(): { busy: number; total: number } {
  const line = (read('/proc/stat') ?? '').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((s, v) => s + v, 0);
  return { busy: total - idle, total };
}

export interface ProcSample {
  /** Seconds since the sampler started. */
  t: number;
  /** CPU as % of one core, per group. */
  cpu: Record<string, number>;
  /** Resident memory in MiB, per group (PostgreSQL: proportional, so shared buffers count once). */
  rss_mib: Record<string, number>;
  /** Whole machine, % of all cores (includes everything else running). */
  machine_cpu_pct: number;
  load1: number;
}

/**
 * Samples CPU and memory of named process groups. A group is a function returning its pids now
 * (PostgreSQL backends come and go); CPU of processes that exited between samples is not counted.
 */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private readonly groups: Record<string, () => number[]>;
  private readonly proportional: Set<string>;
  private last = new Map<number, number>();
  private lastMachine = machineTicks();
  private lastAt = performance.now();
  private readonly started = performance.now();
  private timer?: NodeJS.Timeout;

  constructor(groups: Record<string, () => number[]>, proportional: string[] = []) {
    this.groups = groups;
    this.proportional = new Set(proportional);
  }

  start(intervalMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Mean of the samples taken in the last `seconds` seconds. */
  recent(seconds: number): { cpu: Record<string, number>; rss_mib: Record<string, number>; machine_cpu_pct: number } {
    const now = (performance.now() - this.started) / 1000;
    const window = this.samples.filter((s) => s.t > now - seconds);
    const mean = (pick: (s: ProcSample) => number) => (window.length ? window.reduce((a, s) => a + pick(s), 0) / window.length : 0);
    const cpu: Record<string, number> = {};
    const rss: Record<string, number> = {};
    for (const name of Object.keys(this.groups)) {
      cpu[name] = mean((s) => s.cpu[name] ?? 0);
      rss[name] = mean((s) => s.rss_mib[name] ?? 0);
    }
    return { cpu, rss_mib: rss, machine_cpu_pct: mean((s) => s.machine_cpu_pct) };
  }

  sample(): ProcSample {
    const now = performance.now();
    const elapsed = (now - this.lastAt) / 1000;
    const next = new Map<number, number>();
    const cpu: Record<string, number> = {};
    const rss: Record<string, number> = {};
    for (const [name, pidsOf] of Object.entries(this.groups)) {
      let used = 0;
      let bytes = 0;
      for (const pid of pidsOf()) {
        const s = stat(pid);
        if (!s) continue;
        next.set(pid, s.cpu);
        const before = this.last.get(pid);
        if (before !== undefined) used += s.cpu - before;
        bytes += memory(pid, this.proportional.has(name));
      }
      cpu[name] = elapsed > 0 ? Math.round((used / elapsed) * 1000) / 10 : 0;
      rss[name] = Math.round(bytes / 2 ** 20);
    }
    const m = machineTicks();
    const machine = m.total > this.lastMachine.total ? ((m.busy - this.lastMachine.busy) / (m.total - this.lastMachine.total)) * 100 : 0;
    this.last = next;
    this.lastMachine = m;
    this.lastAt = now;
    const sample = { t: Math.round((now - this.started) / 100) / 10, cpu, rss_mib: rss, machine_cpu_pct: Math.round(machine * 10) / 10, load1: Math.round(os.loadavg()[0] * 100) / 100 };
    this.samples.push(sample);
    return sample;
  }
}

/** Linux scheduling policies as /proc reports them (field 41 of stat). */
export const SCHED = { OTHER: 0, BATCH: 3, IDLE: 5 } as const;

/**
 * Nice value and scheduling policy of a process (`/proc/<pid>`) or a thread (`/proc/<pid>/task/<tid>`,
 * `/proc/self/task/<tid>`); undefined when it has ended.
 */
export function schedulingOf(procDir: string): { nice: number; policy: number } | undefined {
  const fields = statFields(procDir);
  return fields && { nice: Number(fields[16]), policy: Number(fields[38]) };
}

/** utime + stime of a process or thread directory under /proc, in clock ticks; undefined when it has ended. */
export function threadCpuTicks(procDir: string): number | undefined {
  const fields = statFields(procDir);
  return fields && Number(fields[11]) + Number(fields[12]);
}
