import fs from 'node:fs';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError, type Entry } from 'ldapts';
import type { Config } from '../../server/config/schema.ts';
import { ServiceUnavailableError } from '../../server/lib/errors.ts';
import { escapeFilterValue, normalizeDn } from './escape.ts';

/** A directory user, mapped through the configured attribute names. */
export interface DirectoryUser {
  dn: string;
  id: string;
  login: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
}

/** A directory group with its direct members' DNs (normalised). */
export interface DirectoryGroup {
  dn: string;
  id: string;
  displayName: string;
  members: string[];
}

// Binary attributes that hold ids in Active Directory.
const binaryIds = new Set(['objectguid', 'objectsid']);

/** An entry's attributes keyed by lowercase name: LDAP attribute names are case-insensitive. */
function attributesOf(entry: Entry): (name: string) => Entry[string] | undefined {
  const map = new Map<string, Entry[string]>();
  for (const [key, value] of Object.entries(entry)) map.set(key.toLowerCase(), value);
  return (name) => map.get(name.toLowerCase());
}

function text(value: Entry[string] | undefined): string {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return '';
  return Buffer.isBuffer(first) ? first.toString('hex') : String(first);
}

function list(value: Entry[string] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/**
 * The directory cannot be reached (refused, timed out, TLS failed, connection lost) or will not let the
 * service account in. Nothing to do with a user's credentials: a 503 naming the reason, which directory
 * endpoints (administrators) see and sign-in hides from the client but logs and audits.
 */
export class DirectoryUnavailable extends ServiceUnavailableError {
  readonly reason: string;
  constructor(reason: string, cause?: unknown) {
    super('api.ldap.unavailable.app_error', `The LDAP server cannot be used: ${reason}.`);
    this.reason = reason;
    this.cause = cause;
  }
}

// ldapts reports transport failures as plain Errors: Node's (with a string code, TLS ones included) or its own.
const transportMessage = /Connection timeout|Operation timed out|Socket error|Connection closed|Socket connection not established/;

function isTransportFailure(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string' || transportMessage.test((err as Error)?.message ?? '');
}

/** Group memberships of each user DN, nested groups followed (cycles are harmless). */
export function resolveMemberships(groups: DirectoryGroup[]): (userDn: string) => DirectoryGroup[] {
  const containing = new Map<string, DirectoryGroup[]>();
  for (const g of groups) for (const m of g.members) containing.set(m, [...(containing.get(m) ?? []), g]);
  return (userDn) => {
    const found = new Map<string, DirectoryGroup>();
    const queue = [normalizeDn(userDn)];
    while (queue.length) {
      for (const g of containing.get(queue.shift()!) ?? []) {
        if (found.has(g.dn)) continue;
        found.set(g.dn, g);
        queue.push(g.dn);
      }
    }
    return [...found.values()];
  };
}

/**
 * Talks to the LDAP server with ldapts: TLS (LDAPS or StartTLS before any bind) with certificate and
 * host name verification, the service account for searches, paged searches, escaped filter values, no
 * referral chasing (ldapts returns references; they are ignored).
 */
export class Directory {
  private readonly config: Config;
  private readonly tls: ConnectionOptions;

  constructor(config: Config) {
    this.config = config;
    this.tls = { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(config.ldapCaFile ? { ca: fs.readFileSync(config.ldapCaFile) } : {}) };
  }

  private unreachable(err: unknown): DirectoryUnavailable {
    if (err instanceof DirectoryUnavailable) return err;
    return new DirectoryUnavailable(`${this.config.ldapUrl} cannot be reached (${(err as Error)?.message ?? String(err)})`, err);
  }

  /** A connection; the socket opens with the first operation (StartTLS, else the first bind). */
  private async connect(): Promise<Client> {
    const { config } = this;
    const url = config.ldapUrl!;
    // ldapts speaks TLS from the first byte whenever tlsOptions are given, so only for ldaps://.
    const ldaps = url.startsWith('ldaps:');
    const client = new Client({ url, timeout: config.ldapTimeoutSeconds * 1000, connectTimeout: config.ldapTimeoutSeconds * 1000, ...(ldaps ? { tlsOptions: this.tls } : {}), strictDN: true });
    if (config.ldapStartTls) {
      try {
        // Host name (or IP) verification against the certificate; SNI only for names.
        const host = new URL(url.replace(/^ldap:/, 'http:')).hostname.replace(/^\[|\]$/g, '');
        await client.startTLS({ ...this.tls, host, ...(net.isIP(host) ? {} : { servername: host }) });
      } catch (err) {
        await client.unbind().catch(() => undefined);
        throw this.unreachable(err);
      }
    }
    return client;
  }

  /**
   * Runs `work` on a connection bound as the service account, closing it afterwards. A directory that
   * cannot be reached, drops the connection or refuses the service account throws DirectoryUnavailable.
   */
  async asService<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      try {
        await client.bind(this.config.ldapBindDn!, this.config.ldapBindPassword!);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) throw new DirectoryUnavailable('the directory refused the service account (check the bind DN and password)', err);
        throw this.unreachable(err);
      }
      try {
        return await work(client);
      } catch (err) {
        // An LDAP error result here is the directory refusing our configured search (base DN, filter, limits).
        if (err instanceof ResultCodeError) throw new DirectoryUnavailable(`the directory refused a search: ${err.message} (check the base DN and filters)`, err);
        throw isTransportFailure(err) ? this.unreachable(err) : err;
      }
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private userAttributes(): string[] {
    const c = this.config;
    return [...new Set([c.ldapIdAttribute, c.ldapLoginIdAttribute, c.ldapUsernameAttribute, c.ldapEmailAttribute, c.ldapFirstNameAttribute, c.ldapLastNameAttribute].filter(Boolean))];
  }

  private toUser(entry: Entry): DirectoryUser {
    const c = this.config;
    const get = attributesOf(entry);
    return {
      dn: entry.dn, id: text(get(c.ldapIdAttribute)), login: text(get(c.ldapLoginIdAttribute)), username: text(get(c.ldapUsernameAttribute)),
      email: text(get(c.ldapEmailAttribute)), firstName: text(get(c.ldapFirstNameAttribute)), lastName: text(get(c.ldapLastNameAttribute)),
    };
  }

  /** Paged search under the base DN. */
  private async search(client: Client, filter: string, attributes: string[]): Promise<Entry[]> {
    const entries: Entry[] = [];
    const explicitBufferAttributes = attributes.filter((a) => binaryIds.has(a.toLowerCase()));
    for await (const page of client.searchPaginated(this.config.ldapBaseDn!, { scope: 'sub', filter, attributes, explicitBufferAttributes, paged: { pageSize: this.config.ldapPageSize } })) {
      entries.push(...page.searchEntries);
    }
    return entries;
  }

  /** Every user the user filter selects. */
  async allUsers(client: Client): Promise<DirectoryUser[]> {
    return (await this.search(client, this.config.ldapUserFilter, this.userAttributes())).map((e) => this.toUser(e)).filter((u) => u.id);
  }

  /** Every group the group filter selects, with direct members. */
  async allGroups(client: Client): Promise<DirectoryGroup[]> {
    const c = this.config;
    const entries = await this.search(client, c.ldapGroupFilter, [c.ldapGroupIdAttribute, c.ldapGroupDisplayNameAttribute, c.ldapGroupMemberAttribute]);
    return entries.map((e) => {
      const get = attributesOf(e);
      return {
        dn: normalizeDn(e.dn), id: text(get(c.ldapGroupIdAttribute)) || normalizeDn(e.dn), displayName: text(get(c.ldapGroupDisplayNameAttribute)) || e.dn,
        members: list(get(c.ldapGroupMemberAttribute)).map(normalizeDn),
      };
    });
  }

  /** The one user whose login attribute equals `loginId` (escaped), or undefined (none, or ambiguous). */
  async findByLogin(client: Client, loginId: string): Promise<DirectoryUser | undefined> {
    const filter = `(&${this.config.ldapUserFilter}(${this.config.ldapLoginIdAttribute}=${escapeFilterValue(loginId)}))`;
    const { searchEntries } = await client.search(this.config.ldapBaseDn!, { scope: 'sub', filter, attributes: this.userAttributes(), sizeLimit: 2 });
    return searchEntries.length === 1 ? this.toUser(searchEntries[0]) : undefined;
  }

  /** True when the entry at `dn` matches `filter` (admin and guest filters). */
  async matches(client: Client, dn: string, filter: string): Promise<boolean> {
    if (!filter) return false;
    const { searchEntries } = await client.search(dn, { scope: 'base', filter, attributes: ['1.1'] });
    return searchEntries.length === 1;
  }

  /** Binds as `dn` with `password` on a fresh connection (after TLS); true when the directory accepts. */
  async verifyPassword(dn: string, password: string): Promise<boolean> {
    // An empty password would be an RFC 4513 unauthenticated bind, which "succeeds" anonymously.
    if (!password) return false;
    const client = await this.connect();
    try {
      await client.bind(dn, password);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 49) return false; // invalidCredentials
      throw isTransportFailure(err) ? this.unreachable(err) : err;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}
