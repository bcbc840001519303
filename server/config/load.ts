import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportStoreProblems } from './export-store.ts';
import { identityProblems } from './identity.ts';
import { tlsEnabled, tlsProblems } from './tls.ts';
import { configSchema, secretSettings, settingSources, type Config, type SettingKey } from './schema.ts';

/** Thrown when configuration is invalid; `problems` has one line per problem. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

function readConfigFile(env: Env, problems: string[]): { values: Record<string, unknown>; file?: string } {
  const file = env.CUSTODIAN_CONFIG_FILE;
  if (!file) return { values: {} };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`CUSTODIAN_CONFIG_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return { values: {} };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    const values = parsed as Record<string, unknown>;
    for (const key of Object.keys(values)) {
      if (!(key in settingSources)) problems.push(`${file}: unknown setting "${key}"`);
    }
    return { values, file: path.resolve(file) };
  } catch (err) {
    problems.push(`CUSTODIAN_CONFIG_FILE: ${file} is not a JSON object (${(err as Error).message})`);
    return { values: {} };
  }
}

/** Collects raw values from the environment (including `_FILE` secrets) over the config file's values. */
function collectRawValues(env: Env, fromFile: Record<string, unknown>, problems: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(settingSources) as [SettingKey, string][]) {
    if (fromFile[key] !== undefined) raw[key] = fromFile[key];
    const fileVar = env[`${envName}_FILE`];
    if (fileVar && secretSettings.has(key)) {
      try {
        raw[key] = fs.readFileSync(fileVar, 'utf8').trim();
      } catch (err) {
        problems.push(`${envName}_FILE: cannot read ${fileVar} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const value = env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

function describeValue(key: SettingKey, raw: RawValues): string {
  if (secretSettings.has(key)) return '';
  const value = raw[key];
  return value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
}

/** Raw setting values before validation, keyed by setting name. */
export type RawValues = Partial<Record<SettingKey, unknown>>;

/** Reads the raw values (file, `_FILE` secrets, environment); problems reading them are appended. */
export function readRawValues(env: Env, problems: string[]): { raw: RawValues; file?: string } {
  const { values: fromFile, file } = readConfigFile(env, problems);
  return { raw: collectRawValues(env, fromFile, problems), file };
}

/** Reads and validates configuration; throws ConfigError listing every problem found. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const { raw, file } = readRawValues(env, problems);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]) as SettingKey;
      const name = settingSources[key] ?? key;
      problems.push(`${name}: ${issue.message}${describeValue(key, raw)}`);
    }
  }
  if (parsed.success) problems.push(...identityProblems(parsed.data), ...tlsProblems(parsed.data), ...exportStoreProblems(parsed.data));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const value = parsed.data;
  const siteUrl = value.siteUrl ?? `${tlsEnabled(value) ? 'https' : 'http'}://localhost:${value.port || 8065}`;
  return {
    ...value,
    siteUrl,
    nodeId: value.nodeId ?? os.hostname().slice(0, 64).replace(/[^A-Za-z0-9._-]/g, '-'),
    secureCookies: siteUrl.startsWith('https://'),
    configFile: file,
  };
}
