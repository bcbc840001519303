import path from 'node:path';
import { z } from 'zod';

/**
 * Every setting Custodian reads, with its environment variable and a default.
 * Values come from (highest precedence first) the environment, `<NAME>_FILE` files for secrets,
 * the optional JSON config file, then the defaults below.
 */
export const settingSources = {
  /** TCP port the HTTP server listens on (Mattermost's default is 8065). */
  port: 'CUSTODIAN_PORT',
  /** Address to bind; 0.0.0.0 serves every interface. */
  listenAddress: 'CUSTODIAN_LISTEN_ADDRESS',
  /** Serve HTTPS with a self-signed certificate generated under <dataDir>/keys/ at first start ("self-signed"), or not ("off"). */
  tls: 'CUSTODIAN_TLS',
  /** PEM certificate (leaf first, then its chain) to serve HTTPS with; turns HTTPS on. */
  tlsCertFile: 'CUSTODIAN_TLS_CERT_FILE',
  /** PEM private key of that certificate. */
  tlsKeyFile: 'CUSTODIAN_TLS_KEY_FILE',
  /** Where Custodian keeps its state: embedded PostgreSQL, files, keys, logs. */
  dataDir: 'CUSTODIAN_DATA_DIR',
  /** External PostgreSQL (postgres://user:pass@host:port/db); when unset, an embedded server runs under the data dir. */
  databaseUrl: 'DATABASE_URL',
  /** The URL users reach Custodian at; used for links, cookies and SSO callbacks. */
  siteUrl: 'CUSTODIAN_SITE_URL',
  /** pino log level. */
  logLevel: 'CUSTODIAN_LOG_LEVEL',
  /** Largest JSON or form body accepted, in bytes. */
  maxBodyBytes: 'CUSTODIAN_MAX_BODY_BYTES',
  /** Largest uploaded file, in bytes (default 100 MB). */
  maxFileBytes: 'CUSTODIAN_MAX_FILE_BYTES',
  /** A session unused for this many minutes expires (0 = never). */
  sessionIdleTimeoutMinutes: 'CUSTODIAN_SESSION_IDLE_TIMEOUT_MINUTES',
  /** A session expires this many hours after login, used or not. */
  sessionLifetimeHours: 'CUSTODIAN_SESSION_LIFETIME_HOURS',
  /** Refuse the legacy X-Requested-With CSRF fallback and demand X-CSRF-Token. */
  strictCsrf: 'CUSTODIAN_STRICT_CSRF',
  /** Failed logins per account within loginWindowMinutes before further attempts are refused. */
  loginMaxAttempts: 'CUSTODIAN_LOGIN_MAX_ATTEMPTS',
  loginWindowMinutes: 'CUSTODIAN_LOGIN_WINDOW_MINUTES',
  /** Name of this node in logs, audit records and job rows. */
  nodeId: 'CUSTODIAN_NODE_ID',
  /** Connections in the database pool. */
  dbPoolMax: 'CUSTODIAN_DB_POOL_MAX',
  /** Operating-system user the embedded PostgreSQL runs as when Custodian is started as root. */
  embeddedPgUser: 'CUSTODIAN_EMBEDDED_PG_USER',
  /** Let anyone create an account through POST /users (off: only admins create users). */
  openSignup: 'CUSTODIAN_OPEN_SIGNUP',
  /** Sign an audit checkpoint after this many new audit records... */
  auditCheckpointRecords: 'CUSTODIAN_AUDIT_CHECKPOINT_RECORDS',
  /** ...or after this many minutes, whichever comes first (only when there are new records). */
  auditCheckpointMinutes: 'CUSTODIAN_AUDIT_CHECKPOINT_MINUTES',
  /** Stream sealed audit records to <dataDir>/audit/stream/audit.jsonl. */
  auditStreamFile: 'CUSTODIAN_AUDIT_STREAM_FILE',
  /** Size at which that file is rotated, and how many rotated files are kept. */
  auditStreamMaxBytes: 'CUSTODIAN_AUDIT_STREAM_MAX_BYTES',
  auditStreamMaxFiles: 'CUSTODIAN_AUDIT_STREAM_MAX_FILES',
  /** Stream audit records and checkpoints to syslog (RFC 5424): tcp://host:port or tls://host:port. */
  auditSyslogUrl: 'CUSTODIAN_AUDIT_SYSLOG_URL',
  /** PEM bundle of CAs trusted for the syslog server's TLS certificate (default: the system's). */
  auditSyslogCaFile: 'CUSTODIAN_AUDIT_SYSLOG_CA_FILE',
  /** Background job roles of this process: all, scheduler (creates due runs), worker (runs jobs) or none. */
  jobRole: 'CUSTODIAN_JOB_ROLE',
  /** Seconds a worker's claim on a job lasts without renewal; a dead worker's job is taken over after this. */
  jobLeaseSeconds: 'CUSTODIAN_JOB_LEASE_SECONDS',
  /** Run the compliance export on its schedule (on-demand runs work either way). */
  exportEnabled: 'CUSTODIAN_EXPORT_ENABLED',
  /** Format of scheduled exports: actiance, globalrelay, csv or jsonl. */
  exportFormat: 'CUSTODIAN_EXPORT_FORMAT',
  /** Time of the daily export, HH:MM in UTC. */
  exportDailyTime: 'CUSTODIAN_EXPORT_DAILY_TIME',
  /** A 5-field cron expression (UTC) for the export; replaces the daily time when set. */
  exportCron: 'CUSTODIAN_EXPORT_CRON',
  /** Epoch milliseconds the first incremental export starts from (0: everything). */
  exportFromTimestamp: 'CUSTODIAN_EXPORT_FROM_TIMESTAMP',
  /** Post updates per export batch (one zip each). */
  exportBatchSize: 'CUSTODIAN_EXPORT_BATCH_SIZE',
  /** PEM private key that signs export manifests; unset: generated under <dataDir>/keys/ at first start. */
  exportKeyFile: 'CUSTODIAN_EXPORT_KEY_FILE',
  /** PEM certificate of that key, embedded in every signature. */
  exportCertFile: 'CUSTODIAN_EXPORT_CERT_FILE',
  /** Where Global Relay EML goes: store (zipped into the export store) or smtp. */
  exportGlobalRelayDelivery: 'CUSTODIAN_EXPORT_GLOBALRELAY_DELIVERY',
  /** SMTP host that receives Global Relay mail (STARTTLS is required). */
  exportSmtpHost: 'CUSTODIAN_EXPORT_SMTP_HOST',
  exportSmtpPort: 'CUSTODIAN_EXPORT_SMTP_PORT',
  exportSmtpUsername: 'CUSTODIAN_EXPORT_SMTP_USERNAME',
  exportSmtpPassword: 'CUSTODIAN_EXPORT_SMTP_PASSWORD',
  /** Envelope recipient of Global Relay mail (the archive's address). */
  exportSmtpTo: 'CUSTODIAN_EXPORT_SMTP_TO',
  /** Envelope sender of Global Relay mail. */
  exportSmtpFrom: 'CUSTODIAN_EXPORT_SMTP_FROM',
  /** Extra CA certificates (PEM file) trusted for the SMTP server's TLS certificate. */
  exportSmtpCaFile: 'CUSTODIAN_EXPORT_SMTP_CA_FILE',
  /** Testing only: pause this many milliseconds between export steps (0 in production). */
  exportStepDelayMs: 'CUSTODIAN_EXPORT_STEP_DELAY_MS',
  /** Where export zips go once written: local (under <dataDir>/exports) or s3 (an S3-compatible bucket). */
  exportStore: 'CUSTODIAN_EXPORT_STORE',
  /** S3 endpoint; unset: AWS (https://s3.<region>.amazonaws.com). */
  exportS3Endpoint: 'CUSTODIAN_EXPORT_S3_ENDPOINT',
  exportS3Region: 'CUSTODIAN_EXPORT_S3_REGION',
  exportS3Bucket: 'CUSTODIAN_EXPORT_S3_BUCKET',
  /** Prefix of every object key (e.g. custodian/). */
  exportS3Prefix: 'CUSTODIAN_EXPORT_S3_PREFIX',
  exportS3AccessKeyId: 'CUSTODIAN_EXPORT_S3_ACCESS_KEY_ID',
  exportS3SecretAccessKey: 'CUSTODIAN_EXPORT_S3_SECRET_ACCESS_KEY',
  /** Bucket in the URL path instead of the host name; default: on with an endpoint, off for AWS. */
  exportS3PathStyle: 'CUSTODIAN_EXPORT_S3_PATH_STYLE',
  /** Multipart upload part size in MiB (5 or more). */
  exportS3PartSizeMb: 'CUSTODIAN_EXPORT_S3_PART_SIZE_MB',
  /** Time of the daily data retention run, HH:MM in UTC, or "off" (on-demand runs work either way). */
  retentionDailyTime: 'CUSTODIAN_RETENTION_DAILY_TIME',
  /** Posts (or files) per retention purge batch: one transaction, one audit record each. */
  retentionBatchSize: 'CUSTODIAN_RETENTION_BATCH_SIZE',
  /** Pause between retention purge batches, in milliseconds, so live traffic keeps its latency. */
  retentionBatchPauseMs: 'CUSTODIAN_RETENTION_BATCH_PAUSE_MS',
  /** OpenSearch for post search on very large sites (http(s)://[user:pass@]host:port); unset: PostgreSQL full-text search. */
  opensearchUrl: 'CUSTODIAN_OPENSEARCH_URL',
  /** Name of the OpenSearch index of posts and their prior versions. */
  opensearchIndex: 'CUSTODIAN_OPENSEARCH_INDEX',
  // Identity: SAML, OpenID Connect, LDAP (sso/). Rules across settings are in config/identity.ts.
  /** Refuse password login for accounts that belong to an SSO service (SAML, OIDC, LDAP). */
  disableLocalLoginForSso: 'CUSTODIAN_DISABLE_LOCAL_LOGIN_FOR_SSO',
  /** Turn on SAML 2.0 sign-in. */
  samlEnable: 'CUSTODIAN_SAML_ENABLE',
  /** The identity provider's metadata XML, from a file... */
  samlIdpMetadataFile: 'CUSTODIAN_SAML_IDP_METADATA_FILE',
  /** ...or fetched from a URL (https, or http on loopback only). */
  samlIdpMetadataUrl: 'CUSTODIAN_SAML_IDP_METADATA_URL',
  /** Our entity id (the Audience the IdP must name); default `<siteUrl>/login/sso/saml`. */
  samlSpEntityId: 'CUSTODIAN_SAML_SP_ENTITY_ID',
  /** Our signing/decryption key and certificate (PEM); generated under `<dataDir>/keys/` when unset. */
  samlSpKeyFile: 'CUSTODIAN_SAML_SP_KEY_FILE',
  samlSpCertFile: 'CUSTODIAN_SAML_SP_CERT_FILE',
  /** Largest clock difference with the IdP accepted in time checks, in seconds. */
  samlClockSkewSeconds: 'CUSTODIAN_SAML_CLOCK_SKEW_SECONDS',
  /** Attribute holding the stable user id (empty: the NameID). */
  samlIdAttribute: 'CUSTODIAN_SAML_ID_ATTRIBUTE',
  samlEmailAttribute: 'CUSTODIAN_SAML_EMAIL_ATTRIBUTE',
  samlUsernameAttribute: 'CUSTODIAN_SAML_USERNAME_ATTRIBUTE',
  samlFirstNameAttribute: 'CUSTODIAN_SAML_FIRST_NAME_ATTRIBUTE',
  samlLastNameAttribute: 'CUSTODIAN_SAML_LAST_NAME_ATTRIBUTE',
  /** Attribute listing the user's groups (linked to teams, channels and roles through /groups). */
  samlGroupsAttribute: 'CUSTODIAN_SAML_GROUPS_ATTRIBUTE',
  /** `attribute=value` that makes a user a system admin (empty: never). */
  samlAdminAttribute: 'CUSTODIAN_SAML_ADMIN_ATTRIBUTE',
  /** `attribute=value` that makes a user a guest (empty: never). */
  samlGuestAttribute: 'CUSTODIAN_SAML_GUEST_ATTRIBUTE',
  /** Turn on OpenID Connect sign-in. */
  oidcEnable: 'CUSTODIAN_OIDC_ENABLE',
  /** The Mattermost service name the provider is served under: /oauth/<service>/login. */
  oidcService: 'CUSTODIAN_OIDC_SERVICE',
  /** Issuer URL; its /.well-known/openid-configuration is read at first use. */
  oidcIssuer: 'CUSTODIAN_OIDC_ISSUER',
  oidcClientId: 'CUSTODIAN_OIDC_CLIENT_ID',
  oidcClientSecret: 'CUSTODIAN_OIDC_CLIENT_SECRET',
  /** Space-separated scopes requested (openid is always included). */
  oidcScopes: 'CUSTODIAN_OIDC_SCOPES',
  oidcUsernameClaim: 'CUSTODIAN_OIDC_USERNAME_CLAIM',
  oidcEmailClaim: 'CUSTODIAN_OIDC_EMAIL_CLAIM',
  oidcFirstNameClaim: 'CUSTODIAN_OIDC_FIRST_NAME_CLAIM',
  oidcLastNameClaim: 'CUSTODIAN_OIDC_LAST_NAME_CLAIM',
  /** Claim listing the user's groups (empty: no group sync from OIDC). */
  oidcGroupsClaim: 'CUSTODIAN_OIDC_GROUPS_CLAIM',
  /** Turn on LDAP / Active Directory sign-in and sync. */
  ldapEnable: 'CUSTODIAN_LDAP_ENABLE',
  /** ldaps://host:636 or ldap://host:389 (ldap:// needs ldapStartTls unless on loopback). */
  ldapUrl: 'CUSTODIAN_LDAP_URL',
  ldapStartTls: 'CUSTODIAN_LDAP_START_TLS',
  /** PEM bundle of CAs trusted for the directory's certificate (default: the system's). */
  ldapCaFile: 'CUSTODIAN_LDAP_CA_FILE',
  /** Service account used to search and sync. */
  ldapBindDn: 'CUSTODIAN_LDAP_BIND_DN',
  ldapBindPassword: 'CUSTODIAN_LDAP_BIND_PASSWORD',
  ldapBaseDn: 'CUSTODIAN_LDAP_BASE_DN',
  /** Which entries are users (Mattermost's UserFilter). */
  ldapUserFilter: 'CUSTODIAN_LDAP_USER_FILTER',
  /** Which entries are groups (Mattermost's GroupFilter). */
  ldapGroupFilter: 'CUSTODIAN_LDAP_GROUP_FILTER',
  /** Users matching this filter are system admins; empty: none. */
  ldapAdminFilter: 'CUSTODIAN_LDAP_ADMIN_FILTER',
  /** Users matching this filter are guests; empty: none. */
  ldapGuestFilter: 'CUSTODIAN_LDAP_GUEST_FILTER',
  ldapIdAttribute: 'CUSTODIAN_LDAP_ID_ATTRIBUTE',
  /** Attribute matched against the login id typed at sign-in. */
  ldapLoginIdAttribute: 'CUSTODIAN_LDAP_LOGIN_ID_ATTRIBUTE',
  ldapUsernameAttribute: 'CUSTODIAN_LDAP_USERNAME_ATTRIBUTE',
  ldapEmailAttribute: 'CUSTODIAN_LDAP_EMAIL_ATTRIBUTE',
  ldapFirstNameAttribute: 'CUSTODIAN_LDAP_FIRST_NAME_ATTRIBUTE',
  ldapLastNameAttribute: 'CUSTODIAN_LDAP_LAST_NAME_ATTRIBUTE',
  ldapGroupIdAttribute: 'CUSTODIAN_LDAP_GROUP_ID_ATTRIBUTE',
  ldapGroupDisplayNameAttribute: 'CUSTODIAN_LDAP_GROUP_DISPLAY_NAME_ATTRIBUTE',
  /** Attribute of a group listing its members' DNs (nested groups are followed). */
  ldapGroupMemberAttribute: 'CUSTODIAN_LDAP_GROUP_MEMBER_ATTRIBUTE',
  /** Minutes between scheduled syncs; 0 turns scheduled sync off (POST /ldap/sync still works). */
  ldapSyncIntervalMinutes: 'CUSTODIAN_LDAP_SYNC_INTERVAL_MINUTES',
  ldapPageSize: 'CUSTODIAN_LDAP_PAGE_SIZE',
  ldapTimeoutSeconds: 'CUSTODIAN_LDAP_TIMEOUT_SECONDS',
  /** Serve Prometheus metrics at /metrics (to loopback clients, or to anyone with the metrics token). */
  metricsEnabled: 'CUSTODIAN_METRICS_ENABLED',
  /** Bearer token that lets a non-loopback scraper read /metrics (unset: loopback only). */
  metricsToken: 'CUSTODIAN_METRICS_TOKEN',
} as const;

export type SettingKey = keyof typeof settingSources;

/** Settings that are secrets: they may be given as `<NAME>_FILE` and are never logged. */
export const secretSettings: ReadonlySet<SettingKey> = new Set<SettingKey>(['databaseUrl', 'exportSmtpPassword', 'exportS3SecretAccessKey', 'oidcClientSecret', 'ldapBindPassword', 'metricsToken', 'opensearchUrl']);

const booleanText = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const integer = (min: number, max: number) =>
  z.coerce.number({ error: `must be a whole number from ${min} to ${max}` }).int(`must be a whole number from ${min} to ${max}`).min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`);

const optionalText = z.string().min(1).max(4096).optional();
// LDAP attribute descriptions, SAML attribute names and OIDC claim names: no spaces or filter syntax.
const attributeName = (fallback: string) => z.string().regex(/^[A-Za-z0-9_.:;/-]{0,256}$/, 'must be an attribute or claim name').default(fallback);
const attributeValue = z.string().regex(/^([A-Za-z0-9_.:;/-]{1,256}=.{1,256})?$/, 'must be attribute=value').default('');

export const configSchema = z.object({
  port: integer(0, 65535).default(8065),
  listenAddress: z.string().min(1).default('0.0.0.0'),
  tls: z.enum(['off', 'self-signed']).default('off'),
  tlsCertFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  tlsKeyFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  dataDir: z.string().min(1).default('./data').transform((p) => path.resolve(p)),
  databaseUrl: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
    .refine((v) => URL.canParse(v), 'is not a valid URL')
    .optional(),
  siteUrl: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  maxBodyBytes: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
  maxFileBytes: integer(1024, 10 * 1024 * 1024 * 1024).default(100 * 1024 * 1024),
  sessionIdleTimeoutMinutes: integer(0, 525600).default(0),
  sessionLifetimeHours: integer(1, 24 * 365).default(720),
  strictCsrf: booleanText.default(false),
  loginMaxAttempts: integer(1, 1000).default(10),
  loginWindowMinutes: integer(1, 1440).default(15),
  nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore').optional(),
  dbPoolMax: integer(1, 200).default(20),
  embeddedPgUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a valid user name').default('custodian'),
  openSignup: booleanText.default(false),
  auditCheckpointRecords: integer(1, 1_000_000).default(10_000),
  auditCheckpointMinutes: integer(1, 1440).default(1),
  auditStreamFile: booleanText.default(true),
  auditStreamMaxBytes: integer(1024, 64 * 1024 * 1024 * 1024).default(100 * 1024 * 1024),
  auditStreamMaxFiles: integer(1, 10_000).default(10),
  auditSyslogUrl: z.string().refine((v) => /^(tcp|tls):\/\/[^/]+:\d+\/?$/.test(v) && URL.canParse(v), 'must be tcp://host:port or tls://host:port').optional(),
  auditSyslogCaFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  jobRole: z.enum(['all', 'scheduler', 'worker', 'none']).default('all'),
  jobLeaseSeconds: integer(2, 3600).default(60),
  exportEnabled: booleanText.default(false),
  exportFormat: z.enum(['actiance', 'globalrelay', 'csv', 'jsonl']).default('actiance'),
  exportDailyTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour, UTC)').default('01:00'),
  exportCron: z.string().regex(/^\s*\S+(\s+\S+){4}\s*$/, 'must be a 5-field cron expression (minute hour day-of-month month day-of-week)').optional(),
  exportFromTimestamp: integer(0, 8_640_000_000_000_000).default(0),
  exportBatchSize: integer(1, 1_000_000).default(10_000),
  exportKeyFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  exportCertFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  exportGlobalRelayDelivery: z.enum(['store', 'smtp']).default('store'),
  exportSmtpHost: z.string().min(1).optional(),
  exportSmtpPort: integer(1, 65535).default(587),
  exportSmtpUsername: z.string().min(1).optional(),
  exportSmtpPassword: z.string().min(1).optional(),
  exportSmtpTo: z.string().email('must be an email address').optional(),
  exportSmtpFrom: z.string().email('must be an email address').default('compliance-export@localhost.localdomain'),
  exportSmtpCaFile: z.string().min(1).transform((p) => path.resolve(p)).optional(),
  exportStepDelayMs: integer(0, 60_000).default(0),
  exportStore: z.enum(['local', 's3']).default('local'),
  exportS3Endpoint: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL').optional(),
  exportS3Region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a region name such as us-east-1').default('us-east-1'),
  exportS3Bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)').optional(),
  exportS3Prefix: z.string().regex(/^([A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/, 'must be empty or path segments each ending with /').default(''),
  exportS3AccessKeyId: z.string().min(1).optional(),
  exportS3SecretAccessKey: z.string().min(1).optional(),
  exportS3PathStyle: booleanText.optional(),
  exportS3PartSizeMb: integer(5, 5120).default(16),
  retentionDailyTime: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|off)$/, 'must be HH:MM (24-hour, UTC) or off').default('02:00'),
  retentionBatchSize: integer(1, 100_000).default(10_000),
  retentionBatchPauseMs: integer(0, 60_000).default(20),
  opensearchUrl: z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL').optional(),
  opensearchIndex: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,200}$/, 'must be a lower-case OpenSearch index name').default('custodian-posts'),
  disableLocalLoginForSso: booleanText.default(false),
  samlEnable: booleanText.default(false),
  samlIdpMetadataFile: optionalText,
  samlIdpMetadataUrl: optionalText.refine((v) => v === undefined || URL.canParse(v), 'is not a valid URL'),
  samlSpEntityId: optionalText,
  samlSpKeyFile: optionalText,
  samlSpCertFile: optionalText,
  samlClockSkewSeconds: integer(0, 300).default(60),
  samlIdAttribute: attributeName(''),
  samlEmailAttribute: attributeName('email'),
  samlUsernameAttribute: attributeName('username'),
  samlFirstNameAttribute: attributeName('firstName'),
  samlLastNameAttribute: attributeName('lastName'),
  samlGroupsAttribute: attributeName('groups'),
  samlAdminAttribute: attributeValue,
  samlGuestAttribute: attributeValue,
  oidcEnable: booleanText.default(false),
  oidcService: z.enum(['openid', 'gitlab', 'office365', 'google']).default('openid'),
  oidcIssuer: optionalText.refine((v) => v === undefined || URL.canParse(v), 'is not a valid URL'),
  oidcClientId: optionalText,
  oidcClientSecret: optionalText,
  oidcScopes: z.string().regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'must be space-separated scopes').default('openid profile email'),
  oidcUsernameClaim: attributeName('preferred_username'),
  oidcEmailClaim: attributeName('email'),
  oidcFirstNameClaim: attributeName('given_name'),
  oidcLastNameClaim: attributeName('family_name'),
  oidcGroupsClaim: attributeName('groups'),
  ldapEnable: booleanText.default(false),
  ldapUrl: optionalText.refine((v) => v === undefined || /^ldaps?:\/\/[^/]+\/?$/.test(v), 'must be ldap://host[:port] or ldaps://host[:port]'),
  ldapStartTls: booleanText.default(false),
  ldapCaFile: optionalText,
  ldapBindDn: optionalText,
  ldapBindPassword: optionalText,
  ldapBaseDn: optionalText,
  ldapUserFilter: z.string().max(1024).default('(objectClass=person)'),
  ldapGroupFilter: z.string().max(1024).default('(|(objectClass=groupOfNames)(objectClass=group))'),
  ldapAdminFilter: z.string().max(1024).default(''),
  ldapGuestFilter: z.string().max(1024).default(''),
  ldapIdAttribute: attributeName('entryUUID'),
  ldapLoginIdAttribute: attributeName('uid'),
  ldapUsernameAttribute: attributeName('uid'),
  ldapEmailAttribute: attributeName('mail'),
  ldapFirstNameAttribute: attributeName('givenName'),
  ldapLastNameAttribute: attributeName('sn'),
  ldapGroupIdAttribute: attributeName('entryUUID'),
  ldapGroupDisplayNameAttribute: attributeName('cn'),
  ldapGroupMemberAttribute: attributeName('member'),
  ldapSyncIntervalMinutes: integer(0, 10080).default(60),
  ldapPageSize: integer(1, 10000).default(500),
  ldapTimeoutSeconds: integer(1, 300).default(10),
  metricsEnabled: booleanText.default(true),
  metricsToken: z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16-256 printable characters without spaces').optional(),
});

export type RawConfig = z.infer<typeof configSchema>;

/** The validated configuration every module receives. */
export type Config = RawConfig & {
  siteUrl: string;
  nodeId: string;
  /** True when the site is served over HTTPS, so cookies get the Secure flag. */
  secureCookies: boolean;
  /** Where the config came from, for `custodian version` and the boot log. */
  configFile?: string;
};
