// Check results of the offline release test: each check passes, fails or is skipped (a feature that is
// not built yet), and the run ends with "N passed, N failed, N skipped".
import fs from 'node:fs';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  ms: number;
}

export class Checks {
  readonly results: CheckResult[] = [];
  /** Figures worth reporting (cold start, sizes), by name. */
  readonly figures: Record<string, number | string> = {};

  private print(result: CheckResult): void {
    const mark = result.status === 'passed' ? '✔' : result.status === 'failed' ? '✘' : '-';
    const detail = result.detail ? `: ${result.detail}` : '';
    process.stdout.write(`  ${mark} ${result.name}${result.status === 'skipped' ? ' (skipped)' : ''}${detail}${result.status !== 'skipped' ? ` (${result.ms} ms)` : ''}\n`);
  }

  add(result: CheckResult): void {
    this.results.push(result);
    this.print(result);
  }

  skip(name: string, reason: string): void {
    this.add({ name, status: 'skipped', detail: reason, ms: 0 });
  }

  /**
   * Runs one check. `fn` returns a detail string on success; it may call `skip` on the handle to
   * report a feature that is not there yet. A thrown error fails the check; with `critical`, it also
   * stops the run (later checks depend on it).
   */
  async run(name: string, fn: (handle: { skip(reason: string): never }) => Promise<string | void>, options: { critical?: boolean } = {}): Promise<boolean> {
    const started = Date.now();
    class Skip extends Error {}
    try {
      const detail = await fn({
        skip(reason: string): never {
          throw new Skip(reason);
        },
      });
      this.add({ name, status: 'passed', detail: detail ?? '', ms: Date.now() - started });
      return true;
    } catch (err) {
      if (err instanceof Skip) {
        this.skip(name, err.message);
        return true;
      }
      this.add({ name, status: 'failed', detail: (err as Error).stack ?? String(err), ms: Date.now() - started });
      if (options.critical) throw new CriticalFailure(name);
      return false;
    }
  }

  counts(): Record<CheckStatus, number> {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const r of this.results) counts[r.status]++;
    return counts;
  }

  save(file: string): void {
    fs.writeFileSync(file, JSON.stringify({ results: this.results, figures: this.figures }, null, 2));
  }

  load(file: string): void {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: CheckResult[]; figures: Record<string, number | string> };
    this.results.push(...saved.results);
    Object.assign(this.figures, saved.figures);
  }
}

/** A check the rest of the run depends on failed. */
export class CriticalFailure extends Error {
  constructor(name: string) {
    super(`stopping: "${name}" failed and the remaining checks depend on it`);
  }
}
