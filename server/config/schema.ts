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
} as const;

export type SettingKey = keyof typeof settingSources;

/** Settings that are secrets: they may be given as `<NAME>_FILE` and are never logged. */
export const secretSettings: ReadonlySet<SettingKey> = new Set<SettingKey>(['databaseUrl']);

const booleanText = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const integer = (min: number, max: number) =>
  z.coerce.number({ error: `must be a whole number from ${min} to ${max}` }).int(`must be a whole number from ${min} to ${max}`).min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`);

export const configSchema = z.object({
  port: integer(0, 65535).default(8065),
  listenAddress: z.string().min(1).default('0.0.0.0'),
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
