import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../server/config/load.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ CUSTODIAN_DATA_DIR: '/tmp/custodian-config-test', ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('identity configuration is checked at boot, one line per problem', () => {
  it('refuses SAML without metadata, OIDC without client settings and LDAP in clear text, all at once', () => {
    const found = problems({
      CUSTODIAN_SAML_ENABLE: 'true', CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_ISSUER: 'http://idp.example.com',
      CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: 'ldap://dc.example.com', CUSTODIAN_LDAP_BASE_DN: 'dc=example,dc=com',
    });
    expect(found).to.include.members([
      'CUSTODIAN_SAML_ENABLE: SAML needs CUSTODIAN_SAML_IDP_METADATA_FILE or CUSTODIAN_SAML_IDP_METADATA_URL',
      'CUSTODIAN_OIDC_CLIENT_ID: required when CUSTODIAN_OIDC_ENABLE is true',
      'CUSTODIAN_OIDC_CLIENT_SECRET: required when CUSTODIAN_OIDC_ENABLE is true',
      'CUSTODIAN_OIDC_ISSUER: must be https://',
      'CUSTODIAN_LDAP_URL: ldap:// sends passwords in clear text; use ldaps:// or set CUSTODIAN_LDAP_START_TLS=true',
      'CUSTODIAN_LDAP_BIND_DN: required when CUSTODIAN_LDAP_ENABLE is true',
    ]);
  });

  it('refuses both metadata sources, half a key pair, StartTLS over ldaps, a broken filter, and local-login lockout without SSO', () => {
    expect(problems({
      CUSTODIAN_SAML_ENABLE: 'true', CUSTODIAN_SAML_IDP_METADATA_FILE: '/x.xml', CUSTODIAN_SAML_IDP_METADATA_URL: 'https://idp/x', CUSTODIAN_SAML_SP_KEY_FILE: '/k',
      CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: 'ldaps://dc', CUSTODIAN_LDAP_START_TLS: 'true', CUSTODIAN_LDAP_BASE_DN: 'dc=x', CUSTODIAN_LDAP_BIND_DN: 'cn=a',
      CUSTODIAN_LDAP_BIND_PASSWORD: 'p', CUSTODIAN_LDAP_USER_FILTER: '(objectClass=person',
    })).to.have.length(4);
    expect(problems({ CUSTODIAN_DISABLE_LOCAL_LOGIN_FOR_SSO: 'true' })).to.have.length(1);
  });

  it('accepts a complete configuration and keeps secrets out of messages', () => {
    expect(problems({
      CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_ISSUER: 'https://idp.example.com', CUSTODIAN_OIDC_CLIENT_ID: 'c', CUSTODIAN_OIDC_CLIENT_SECRET: 's3cret',
      CUSTODIAN_DISABLE_LOCAL_LOGIN_FOR_SSO: 'true',
    })).to.deep.equal([]);
    expect(problems({ CUSTODIAN_LDAP_BIND_PASSWORD: 's3cret', CUSTODIAN_LDAP_PAGE_SIZE: '0' }).join()).to.not.include('s3cret');
  });
});
