// Single sign-on status: which ways of signing in are on, and the facts an identity provider's
// administrator asks for (SAML metadata, entity id and ACS URL; the OIDC issuer; the LDAP server).
import type { ReactNode } from 'react';
import { adminApi, type SsoConfig } from './api.ts';
import { oidcProvider } from './logic.ts';
import { LoadError, useLoad } from './ui.tsx';

function Enabled({ on }: { on: boolean }) {
  return <span className={`admin-badge ${on ? 'ok' : 'off'}`}>{on ? 'Enabled' : 'Disabled'}</span>;
}

function Card({ id, title, on, children }: { id: string; title: string; on: boolean; children?: ReactNode }) {
  return (
    <section className="admin-card" aria-labelledby={id}>
      <h2 id={id}>{title} <Enabled on={on} /></h2>
      {on ? children : <p className="muted">Off. It is switched on through the server’s settings (see the README’s single sign-on settings).</p>}
    </section>
  );
}

export function SsoStatus({ config }: { config: SsoConfig }) {
  const saml = config.SamlSettings;
  const ldap = config.LdapSettings;
  const oidc = oidcProvider(config);
  return (
    <div className="admin-cards">
      <Card id="sso-saml" title="SAML 2.0" on={saml.Enable}>
        <dl className="admin-facts">
          <dt>Entity id</dt><dd><code>{saml.ServiceProviderIdentifier}</code></dd>
          <dt>Assertion consumer service</dt><dd><code>{saml.AssertionConsumerServiceURL}</code></dd>
          <dt>Identity provider metadata</dt><dd>{saml.IdpMetadataURL ? <code>{saml.IdpMetadataURL}</code> : 'From a file on the server'}</dd>
        </dl>
        <a className="button" href={adminApi.samlMetadataUrl} download="custodian-saml-metadata.xml">Download service provider metadata</a>
      </Card>
      <Card id="sso-oidc" title={oidc ? `OpenID Connect (${oidc.service})` : 'OpenID Connect'} on={!!oidc}>
        {oidc && (
          <dl className="admin-facts">
            <dt>Issuer</dt><dd><code data-testid="oidc-issuer">{oidc.issuer || '—'}</code></dd>
            <dt>Client id</dt><dd><code>{oidc.section.Id || '—'}</code></dd>
            <dt>Scopes</dt><dd><code>{oidc.section.Scope}</code></dd>
          </dl>
        )}
      </Card>
      <Card id="sso-ldap" title="LDAP / Active Directory" on={ldap.Enable}>
        <dl className="admin-facts">
          <dt>Server</dt><dd><code>{ldap.LdapServer}:{ldap.LdapPort}</code> ({ldap.ConnectionSecurity === 'TLS' ? 'LDAPS' : ldap.ConnectionSecurity === 'STARTTLS' ? 'StartTLS' : 'loopback, no TLS'})</dd>
          <dt>Base DN</dt><dd><code>{ldap.BaseDN}</code></dd>
          <dt>Scheduled sync</dt><dd>{ldap.EnableSync ? `Every ${ldap.SyncIntervalMinutes} minutes` : 'Off (sync on demand from Groups)'}</dd>
        </dl>
      </Card>
    </div>
  );
}

export default function SsoPage() {
  const config = useLoad(() => adminApi.ssoConfig(), 'sso');
  return (
    <>
      <LoadError error={config.error} onRetry={config.reload} />
      {config.loading && !config.data && <p className="admin-empty" role="status">Loading…</p>}
      {config.data && <SsoStatus config={config.data} />}
    </>
  );
}
