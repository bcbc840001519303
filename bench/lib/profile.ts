// Reads V8 .cpuprofile files (written by `node --cpu-prof`) and says where the time went: self time by
// function and by area (a package, a server folder, Node internals, GC), and inclusive time of the
// busiest functions. Run by hand: node bench/lib/profile.ts <file-or-dir>
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const root = path.resolve(import.meta.dirname, '..', '..');

/** Which part of the code a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'GC';
    if (frame.functionName === '(idle)') return 'idle';
    if (frame.functionName === '(program)') return 'program (native, unattributed)';
    return 'native';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(1, 2).join('') : url.slice(5)}`;
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const rel = path.relative(root, file);
  const parts = rel.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : rel;
}

const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url ? `${path.relative(root, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : ''}`.trim();

export interface ProfileSummary {
  files: string[];
  seconds: number;
  busy_seconds: number;
  by_area: { area: string; self_ms: number; pct_of_busy: number }[];
  top_self: { fn: string; self_ms: number; pct_of_busy: number }[];
  top_inclusive: { fn: string; total_ms: number; pct_of_busy: number }[];
}

export function analyseProfile(profile: CpuProfile, files: string[] = []): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  let total = 0;
  let idle = 0;
  const area = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    total += us;
    const a = areaOf(node.callFrame);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    area.set(a, (area.get(a) ?? 0) + us);
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive: every distinct function on the stack of this node gets the node's time once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!.callFrame);
      if (seen.has(k) || k === '(root)') continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle || 1;
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 1000);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    files,
    seconds: Math.round(total / 1e5) / 10,
    busy_seconds: Math.round(busy / 1e5) / 10,
    by_area: top(area, 25).map(([a, us]) => ({ area: a, self_ms: ms(us), pct_of_busy: pct(us) })),
    top_self: top(self, 40).map(([fn, us]) => ({ fn, self_ms: ms(us), pct_of_busy: pct(us) })),
    top_inclusive: top(inclusive, 40).map(([fn, us]) => ({ fn, total_ms: ms(us), pct_of_busy: pct(us) })),
  };
}

/** Analyses the largest .cpuprofile in a directory (the server's main thread), or one file. */
export function analyseProfiles(target: string): ProfileSummary | undefined {
  if (!fs.existsSync(target)) return undefined;
  const files = fs.statSync(target).isDirectory()
    ? fs.readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)
    : [target];
  if (!files.length) return undefined;
  return analyseProfile(JSON.parse(fs.readFileSync(files[0], 'utf8')) as CpuProfile, files);
}

if (import.meta.main) {
  const summary = analyseProfiles(process.argv[2] ?? path.join(root, 'bench', 'results'));
  if (!summary) throw new Error('no .cpuprofile found');
  console.log(`${summary.files[0]}: ${summary.seconds} s profiled, ${summary.busy_seconds} s busy`);
  console.log('\nself time by area');
  console.table(summary.by_area);
  console.log('\nself time by function');
  console.table(summary.top_self.slice(0, 30));
  console.log('\ninclusive time by function');
  console.table(summary.top_inclusive.slice(0, 30));
}
