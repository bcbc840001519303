import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client.ts';
import { signInOptions } from '../lib/channels.ts';
import { navigate } from '../lib/router.ts';
import { login } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';

/** The page to return to after signing in: where the user was, unless that was the sign-in page. */
function returnPath(): string {
  const p = location.pathname;
  return p === '/login' ? '/' : p;
}

export function Login() {
  const config = useAppState((s) => s.config);
  const expired = useAppState((s) => s.expired);
  const options = signInOptions(config, returnPath());
  const [loginId, setLoginId] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  const siteName = config?.SiteName || 'Custodian';

  useEffect(() => {
    first.current?.focus();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!loginId.trim() || !password) {
      setError('Enter your username or email and your password.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await login(loginId.trim(), password);
      const to = returnPath();
      navigate(to, true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) setError('Too many attempts. Wait a few minutes, then try again.');
      else if (err instanceof ApiError && (err.status === 401 || err.status === 400)) setError('That username or password is not right.');
      else setError(err instanceof Error ? err.message : 'Could not sign in.');
      setBusy(false);
    }
  }

  return (
    <main className="login" aria-labelledby="login-title">
      <div className="login-card">
        <h1 id="login-title">{siteName}</h1>
        {expired && (
          <p className="login-notice" role="alert">
            Your session has expired. Sign in again to continue where you left off.
          </p>
        )}
        {options.password && (
          <form onSubmit={submit} noValidate aria-describedby={error ? 'login-error' : undefined}>
            <label htmlFor="login-id">Username or email</label>
            <input id="login-id" ref={first} name="login_id" autoComplete="username" value={loginId} onChange={(e) => setLoginId(e.target.value)} required />
            <label htmlFor="login-password">Password</label>
            <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
            {error && (
              <p id="login-error" className="form-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
        {options.sso.length > 0 && (
          <div className="sso" aria-label="Single sign-on">
            {options.password && <p className="divider">or</p>}
            {options.sso.map((o) => (
              <a key={o.provider} className="button sso-button" href={o.href} data-provider={o.provider}>
                Sign in with {o.label}
              </a>
            ))}
          </div>
        )}
      </div>
    </main>
  );
}
