// Small pieces every page of the compliance console uses: loading with errors, polling, messages.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client.ts';

/** The message to show for a failed call: the server's own (Mattermost's error JSON) when it sent one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status === 403 ? 'You do not have permission to do this.' : err.message;
  return err instanceof Error ? err.message : String(err);
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

/** Loads `fetcher()` now and on `reload()`; a newer load wins over a slower older one. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  // The caller lists what the fetcher depends on.
  const load = useCallback(fetcher, deps);
  const reload = useCallback(async () => {
    const mine = ++latest.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine === latest.current) {
        setData(value);
        setError(undefined);
      }
    } catch (err) {
      if (mine === latest.current) setError(errorText(err));
    } finally {
      if (mine === latest.current) setLoading(false);
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

/** Calls `tick` every `ms` while `active` (and the tab is visible), e.g. to follow running jobs. */
export function usePolling(tick: () => void, active: boolean, ms: number): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') saved.current();
    }, ms);
    return () => clearInterval(t);
  }, [active, ms]);
}

/** Runs an action with a busy flag and its error, for buttons and forms. */
export function useAction(): { busy: boolean; error: string | undefined; run<T>(action: () => Promise<T>): Promise<T | undefined>; clear(): void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const run = useCallback(async <T,>(action: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (err) {
      setError(errorText(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: useCallback(() => setError(undefined), []) };
}

/** An error for the user, announced by screen readers as it appears. */
export function ErrorMessage({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="cc-error" role="alert">
      {children}
    </p>
  );
}

/** What a list shows while it loads, when it failed, or when it is empty. */
export function ListState({ loaded, empty, isEmpty }: { loaded: Pick<Loaded<unknown>, 'error' | 'loading' | 'data'>; empty: string; isEmpty: boolean }) {
  if (loaded.error) return <ErrorMessage>{loaded.error}</ErrorMessage>;
  if (loaded.data === undefined && loaded.loading) return <p className="cc-muted" role="status">Loading…</p>;
  if (isEmpty) return <p className="cc-muted">{empty}</p>;
  return null;
}

/** Ok / not ok, in words and colour (never colour alone). */
export function Verdict({ ok, children }: { ok: boolean; children: ReactNode }) {
  return <span className={`cc-verdict ${ok ? 'ok' : 'bad'}`}>{ok ? '✓ ' : '✗ '}{children}</span>;
}
