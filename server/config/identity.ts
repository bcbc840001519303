import { settingSources, type RawConfig } from './schema.ts';

const name = (key: keyof typeof settingSources) => settingSources[key];

/** True for loopback hosts, where plain http/ldap is tolerated (tests, a directory on the same host). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Rules that span several identity settings (SAML, OIDC, LDAP), one line per problem. Single settings
 * are checked by the schema; these catch combinations that would boot a server whose sign-in is broken
 * or unsafe.
 */
export function identityProblems(value: RawConfig): string[] {
  const problems: string[] = [];
  if (value.samlEnable) {
    if (!value.samlIdpMetadataFile && !value.samlIdpMetadataUrl) {
      problems.push(`${name('samlEnable')}: SAML needs ${name('samlIdpMetadataFile')} or ${name('samlIdpMetadataUrl')}`);
    }
    if (value.samlIdpMetadataFile && value.samlIdpMetadataUrl) {
      problems.push(`${name('samlIdpMetadataUrl')}: set either ${name('samlIdpMetadataFile')} or ${name('samlIdpMetadataUrl')}, not both`);
    }
    if (value.samlIdpMetadataUrl && URL.canParse(value.samlIdpMetadataUrl)) {
      const url = new URL(value.samlIdpMetadataUrl);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        problems.push(`${name('samlIdpMetadataUrl')}: must be https:// (unsigned metadata over plain http could be swapped in transit)`);
      }
    }
    if (Boolean(value.samlSpKeyFile) !== Boolean(value.samlSpCertFile)) {
      problems.push(`${name('samlSpKeyFile')}: set both ${name('samlSpKeyFile')} and ${name('samlSpCertFile')}, or neither (a pair is generated)`);
    }
  }
  if (value.oidcEnable) {
    for (const key of ['oidcIssuer', 'oidcClientId', 'oidcClientSecret'] as const) {
      if (!value[key]) problems.push(`${name(key)}: required when ${name('oidcEnable')} is true`);
    }
    if (value.oidcIssuer && URL.canParse(value.oidcIssuer)) {
      const url = new URL(value.oidcIssuer);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        problems.push(`${name('oidcIssuer')}: must be https://`);
      }
    }
    if (!value.oidcScopes.split(' ').includes('openid')) problems.push(`${name('oidcScopes')}: must include openid`);
  }
  if (value.ldapEnable) {
    for (const key of ['ldapUrl', 'ldapBaseDn', 'ldapBindDn', 'ldapBindPassword'] as const) {
      if (!value[key]) problems.push(`${name(key)}: required when ${name('ldapEnable')} is true`);
    }
    if (value.ldapUrl && /^ldaps?:\/\//.test(value.ldapUrl)) {
      const url = new URL(value.ldapUrl.replace(/^ldaps?:/, 'http:'));
      const ldaps = value.ldapUrl.startsWith('ldaps:');
      if (ldaps && value.ldapStartTls) problems.push(`${name('ldapStartTls')}: StartTLS cannot be used with ldaps://`);
      if (!ldaps && !value.ldapStartTls && !isLoopbackHost(url.hostname)) {
        problems.push(`${name('ldapUrl')}: ldap:// sends passwords in clear text; use ldaps:// or set ${name('ldapStartTls')}=true`);
      }
    }
    for (const key of ['ldapUserFilter', 'ldapGroupFilter', 'ldapAdminFilter', 'ldapGuestFilter'] as const) {
      const filter = value[key];
      if (filter && !balancedFilter(filter)) problems.push(`${name(key)}: not a valid LDAP filter (it must be parenthesised and balanced)`);
    }
  }
  if (value.disableLocalLoginForSso && !value.samlEnable && !value.oidcEnable && !value.ldapEnable) {
    problems.push(`${name('disableLocalLoginForSso')}: no SSO service is enabled, so nobody could sign in who has not a local password`);
  }
  return problems;
}

function balancedFilter(filter: string): boolean {
  if (!filter.startsWith('(') || !filter.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === '\\') i += 2;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Files the identity settings name must be readable at boot (preflight), one line per problem. */
export function identityFileProblems(raw: Partial<Record<keyof typeof settingSources, unknown>>, readable: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  const enabled = (key: 'samlEnable' | 'ldapEnable') => ['true', '1', 'yes', true].includes(raw[key] as string | boolean);
  const files: [keyof typeof settingSources, boolean][] = [
    ['samlIdpMetadataFile', enabled('samlEnable')],
    ['samlSpKeyFile', enabled('samlEnable')],
    ['samlSpCertFile', enabled('samlEnable')],
    ['ldapCaFile', enabled('ldapEnable')],
  ];
  for (const [key, on] of files) {
    const file = raw[key];
    if (!on || typeof file !== 'string' || !file) continue;
    const error = readable(file);
    if (error) problems.push(`${name(key)}: cannot read ${file} (${error})`);
  }
  return problems;
}
