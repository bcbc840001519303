// Small building blocks the console's pages share: loading state, errors, paging, confirmation.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client.ts';

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Runs `load` when `key` changes (and on reload); a late answer for an older key is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    latest.current().then(
      (data) => current && setState({ data, loading: false }),
      (err: unknown) => current && setState({ error: errorText(err), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** Runs an action, reporting success or failure in the page's status line. */
export function useAction(report: (message: string, failed?: boolean) => void) {
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<unknown>, success: string): Promise<boolean> => {
    setBusy(true);
    try {
      await action();
      report(success);
      return true;
    } catch (err) {
      report(errorText(err), true);
      return false;
    } finally {
      setBusy(false);
    }
  }, [report]);
  return { busy, run };
}

/** The page's status line: results of actions are announced to screen readers. */
export function useStatusLine(): { line: ReactNode; report(message: string, failed?: boolean): void } {
  const [status, setStatus] = useState<{ message: string; failed: boolean }>({ message: '', failed: false });
  const report = useCallback((message: string, failed = false) => setStatus({ message, failed }), []);
  const line = (
    <p className={`admin-status${status.failed ? ' failed' : ''}`} role={status.failed ? 'alert' : 'status'} aria-live="polite">
      {status.message}
    </p>
  );
  return { line, report };
}

export function LoadError({ error, onRetry }: { error?: string; onRetry(): void }) {
  if (!error) return null;
  return (
    <div className="admin-error" role="alert">
      <span>{error}</span>
      <button type="button" onClick={onRetry}>Try again</button>
    </div>
  );
}

/** A table of records: a caption for screen readers, column headers, and an unlabelled actions column. */
export function AdminTable({ caption, columns, actions = true, children }: { caption: string; columns: string[]; actions?: boolean; children: ReactNode }) {
  return (
    <table className="admin-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => <th key={c} scope="col">{c}</th>)}
          {actions && <th scope="col"><span className="visually-hidden">Actions</span></th>}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

export function Pager({ page, hasNext, onPage, label }: { page: number; hasNext: boolean; onPage(page: number): void; label: string }) {
  return (
    <nav className="admin-pager" aria-label={label}>
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>Previous</button>
      <span>Page {page + 1}</span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>Next</button>
    </nav>
  );
}

export interface Confirmation {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm(): void;
}

/**
 * A modal confirmation on the native <dialog>: the browser traps focus inside it and closes it on
 * Escape; focus goes back to what opened it.
 */
export function ConfirmDialog({ confirmation, onClose }: { confirmation?: Confirmation; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (confirmation && !dialog.open) {
      const opener = document.activeElement as HTMLElement | null;
      dialog.showModal();
      return () => opener?.focus();
    }
    if (!confirmation && dialog.open) dialog.close();
  }, [confirmation]);
  // The browser queues the close event as a task: after Escape, a quick Enter on the opener can open
  // the next confirmation before that event arrives, and the stale event must not close it again.
  const closedByBrowser = () => {
    if (!ref.current?.open) onClose();
  };
  return (
    <dialog ref={ref} className="admin-dialog" aria-labelledby="admin-dialog-title" onClose={closedByBrowser}>
      {confirmation && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            confirmation.onConfirm();
            onClose();
          }}
        >
          <h2 id="admin-dialog-title">{confirmation.title}</h2>
          <div>{confirmation.body}</div>
          <div className="admin-dialog-actions">
            {/* A destructive step starts on Cancel, so a stray Enter does no harm. */}
            <button type="button" onClick={onClose} autoFocus={confirmation.danger}>Cancel</button>
            <button type="submit" className={confirmation.danger ? 'danger' : 'primary'} autoFocus={!confirmation.danger}>{confirmation.confirmLabel}</button>
          </div>
        </form>
      )}
    </dialog>
  );
}

/** A term typed into a search box, settled after a pause so each keystroke does not cost a request. */
export function useSettled(value: string, delayMs = 250): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(t);
  }, [value, delayMs]);
  return settled;
}
