import { useEffect, useState } from 'react';
import { useAppState } from '../state/store.ts';
import { Icon } from './Icons.tsx';

/** Short messages about background actions (a failed send, say), announced politely. */
export function Notice() {
  const notice = useAppState((s) => s.notice);
  const [visible, setVisible] = useState<typeof notice>(undefined);
  useEffect(() => {
    if (!notice) return;
    setVisible(notice);
    const t = setTimeout(() => setVisible(undefined), 6000);
    return () => clearTimeout(t);
  }, [notice]);
  return (
    <div className="notice-region" role="status" aria-live="polite">
      {visible && (
        <div className="notice">
          {visible.text}
          <button type="button" className="link" onClick={() => setVisible(undefined)} aria-label="Dismiss">
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
    </div>
  );
}

/** Says so while the real-time connection is down (messages may arrive late). */
export function ConnectionBanner() {
  const connection = useAppState((s) => s.connection);
  // Only after a short while: brief blips are not worth a banner.
  const [show, setShow] = useState(false);
  useEffect(() => {
    if (connection !== 'reconnecting') {
      setShow(false);
      return;
    }
    const t = setTimeout(() => setShow(true), 1500);
    return () => clearTimeout(t);
  }, [connection]);
  if (!show) return null;
  return (
    <div className="connection-banner" role="status">
      Connection lost. Reconnecting…
    </div>
  );
}
