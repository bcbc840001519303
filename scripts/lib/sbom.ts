// A CycloneDX 1.5 JSON SBOM of a release, from its package-lock.json: one component per npm package
// actually installed in the release tree, with its purl, license and the lockfile's integrity hash,
// plus the dependency graph between them. Written by scripts/package.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

export interface SbomComponent {
  type: 'library' | 'application' | 'platform';
  'bom-ref': string;
  group?: string;
  name: string;
  version: string;
  purl?: string;
  description?: string;
  hashes?: { alg: string; content: string }[];
  licenses?: ({ license: { id?: string; name?: string } } | { expression: string })[];
  properties?: { name: string; value: string }[];
}

export interface Sbom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: SbomComponent[] };
    component: SbomComponent;
  };
  components: SbomComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

/** Name of the package at a lockfile path: the part after the last `node_modules/`. */
function nameFromPath(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

export function npmPurl(name: string, version: string): string {
  const encoded = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encoded}@${encodeURIComponent(version)}`;
}

/** npm's SRI integrity (`sha512-<base64>`, sometimes several) as CycloneDX hashes in hex. */
export function integrityToHashes(integrity: string | undefined): { alg: string; content: string }[] {
  if (!integrity) return [];
  const algs: Record<string, string> = { sha512: 'SHA-512', sha384: 'SHA-384', sha256: 'SHA-256', sha1: 'SHA-1' };
  return integrity
    .split(/\s+/)
    .map((part) => /^(sha\d+)-(.+)$/.exec(part))
    .filter((m): m is RegExpExecArray => !!m && m[1] in algs)
    .map((m) => ({ alg: algs[m[1]], content: Buffer.from(m[2], 'base64').toString('hex') }));
}

function licenses(license: string | undefined): SbomComponent['licenses'] {
  if (!license) return undefined;
  if (/^[A-Za-z0-9.+-]+$/.test(license)) return [{ license: { id: license } }];
  if (/ (OR|AND|WITH) /.test(license)) return [{ expression: license.replace(/^\((.*)\)$/, '$1') }];
  return [{ license: { name: license } }];
}

function component(lockPath: string, entry: LockEntry): SbomComponent {
  const name = entry.name ?? nameFromPath(lockPath);
  const version = entry.version ?? '0.0.0';
  const purl = npmPurl(name, version);
  const scoped = name.startsWith('@') ? name.split('/') : undefined;
  return {
    type: 'library',
    'bom-ref': `${purl}#${lockPath}`,
    ...(scoped ? { group: scoped[0], name: scoped.slice(1).join('/') } : { name }),
    version,
    purl,
    ...(entry.integrity ? { hashes: integrityToHashes(entry.integrity) } : {}),
    ...(entry.license ? { licenses: licenses(entry.license) } : {}),
    properties: [{ name: 'custodian:path', value: lockPath }],
  };
}

/** Node's resolution of `dep` required from the package at `from` (both lockfile paths). */
function resolveFrom(from: string, dep: string, present: Set<string>): string | undefined {
  let base = from;
  while (true) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (present.has(candidate)) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

export interface SbomOptions {
  /** The release tree; only packages whose folder exists there are listed. */
  root: string;
  lockfile: string;
  /** Components that are not npm packages (the PostgreSQL build, say). */
  extra?: SbomComponent[];
  /** Lockfile paths that were moved elsewhere in the release, with where they went. */
  relocated?: Record<string, string>;
  timestamp?: Date;
}

export function buildSbom(options: SbomOptions): Sbom {
  const lock = JSON.parse(fs.readFileSync(options.lockfile, 'utf8')) as Lockfile;
  const relocated = options.relocated ?? {};
  const included = Object.entries(lock.packages).filter(
    ([lockPath, entry]) => lockPath !== '' && !entry.dev && !entry.link && (lockPath in relocated || fs.existsSync(path.join(options.root, lockPath))),
  );
  const present = new Set(included.map(([p]) => p));
  const refs = new Map<string, string>();
  const components = included.map(([lockPath, entry]) => {
    const c = component(lockPath, entry);
    if (relocated[lockPath]) c.properties!.push({ name: 'custodian:installed-at', value: relocated[lockPath] });
    refs.set(lockPath, c['bom-ref']);
    return c;
  });
  const rootEntry = lock.packages[''] ?? {};
  const app: SbomComponent = {
    type: 'application',
    'bom-ref': `pkg:npm/${lock.name}@${lock.version}`,
    name: lock.name,
    version: lock.version,
    purl: npmPurl(lock.name, lock.version),
    ...(rootEntry.license ? { licenses: licenses(rootEntry.license) } : {}),
  };
  const edges = (from: string, entry: LockEntry) =>
    [...new Set(Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }))]
      .map((dep) => resolveFrom(from, dep, present))
      .filter((p): p is string => !!p)
      .map((p) => refs.get(p)!)
      .sort();
  const extra = options.extra ?? [];
  const dependencies = [
    { ref: app['bom-ref'], dependsOn: [...edges('', rootEntry), ...extra.map((c) => c['bom-ref'])].sort() },
    ...included.map(([lockPath, entry]) => ({ ref: refs.get(lockPath)!, dependsOn: edges(lockPath, entry) })),
    ...extra.map((c) => ({ ref: c['bom-ref'], dependsOn: [] })),
  ];
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${crypto.randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: (options.timestamp ?? new Date()).toISOString(),
      tools: { components: [{ type: 'application', 'bom-ref': 'custodian-sbom', name: 'custodian scripts/lib/sbom.ts', version: lock.version }] },
      component: app,
    },
    components: [...components, ...extra],
    dependencies,
  };
}
