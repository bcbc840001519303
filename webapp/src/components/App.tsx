import { useAppState } from '../state/store.ts';
import { Login } from './Login.tsx';
import { Shell } from './Shell.tsx';

export function App() {
  const session = useAppState((s) => s.session);
  if (session === 'loading') {
    return (
      <div className="splash" role="status" aria-live="polite">
        Loading Custodian…
      </div>
    );
  }
  if (session === 'signed-out') return <Login />;
  return <Shell />;
}
