import { ensureDir } from '../lib/fs.ts';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { configSchema, settingSources } from './schema.ts';
import { ConfigError, loadConfig, readRawValues } from './load.ts';
import { identityFileProblems } from './identity.ts';
import type { Config } from './schema.ts';

/** Checks that the data directory exists (or can be created) and is writable. */
export function checkDataDir(dataDir: string): string | undefined {
  try {
    ensureDir(dataDir);
    const probe = path.join(dataDir, `.write-test-${process.pid}`);
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe);
    return undefined;
  } catch (err) {
    return `${settingSources.dataDir}: ${dataDir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

function describeTarget(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/** Checks that an external database answers; the password never appears in the message. */
export async function checkDatabaseUrl(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `${settingSources.databaseUrl}: cannot connect to ${describeTarget(url)} (${reason})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Validates the configuration and the environment it points at (data directory writable, external
 * database reachable), and reports every problem at once rather than the first.
 */
export async function loadAndCheckConfig(env: Record<string, string | undefined> = process.env): Promise<Config> {
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  // Check the environment even when other settings are wrong, so one run lists everything.
  const { raw } = readRawValues(env, []);
  const dataDir = configSchema.shape.dataDir.safeParse(raw.dataDir);
  if (dataDir.success) {
    const problem = checkDataDir(dataDir.data);
    if (problem) problems.push(problem);
  }
  problems.push(...identityFileProblems(raw, (file) => {
    try {
      fs.accessSync(file, fs.constants.R_OK);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'error';
    }
  }));
  for (const key of ['tlsCertFile', 'tlsKeyFile'] as const) {
    const file = raw[key];
    if (typeof file !== 'string' || !file) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      problems.push(`${settingSources[key]}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const databaseUrl = configSchema.shape.databaseUrl.safeParse(raw.databaseUrl);
  if (databaseUrl.success && databaseUrl.data) {
    const problem = await checkDatabaseUrl(databaseUrl.data);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}
