import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { AppState } from './state.ts';

/** Where `npm run build:webapp` writes the single-page app. */
export const defaultWebappDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'webapp', 'dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json', '.txt', '.webmanifest']);
/** Hashed build output never changes under the same name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

interface CachedFile {
  key: string;
  body: Buffer;
  gzip?: Buffer;
  brotli?: Buffer;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Custodian: web app not built</title></head>
<body><main><h1>The web app is not built</h1>
<p>This server has no <code>webapp/dist</code>. From the checkout, run <code>npm run build:webapp</code>
(or <code>npm start</code>, which builds it when it is missing), then reload this page.</p>
<p>The API is available under <code>/api/v4</code>.</p></main></body></html>
`;

/**
 * Serves the web app from `distDir`: files under `/assets/` (hashed names) cached for a year as
 * immutable, and `index.html` (never cached) for every other GET outside `/api/`, so the app's own
 * router handles deep links. Mount it last among the root routers: it answers any path left over.
 * Without a build, pages get a short explanation of how to make one (503).
 */
export function webappRoutes(options: { distDir?: string } = {}): Router<AppState> {
  const distDir = options.distDir ?? defaultWebappDist;
  const assetsDir = path.join(distDir, 'assets');
  const cache = new Map<string, CachedFile>();
  const router = new Router<AppState>();

  /** Reads a file (and its compressed forms) once per version, keyed by size and mtime. */
  async function load(file: string): Promise<CachedFile | undefined> {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const key = `${stat.size}:${stat.mtimeMs}`;
    const hit = cache.get(file);
    if (hit?.key === key) return hit;
    const body = await fs.readFile(file);
    const entry: CachedFile = { key, body };
    if (COMPRESSIBLE.has(path.extname(file)) && body.length > 1024) {
      entry.gzip = zlib.gzipSync(body, { level: 9 });
      entry.brotli = zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
    }
    cache.set(file, entry);
    return entry;
  }

  function send(ctx: Context, file: string, entry: CachedFile, cacheControl: string): void {
    ctx.set('Cache-Control', cacheControl);
    ctx.set('Vary', 'Accept-Encoding');
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const accepts = ctx.get('Accept-Encoding');
    if (entry.brotli && /\bbr\b/.test(accepts)) {
      ctx.set('Content-Encoding', 'br');
      ctx.body = entry.brotli;
    } else if (entry.gzip && /\bgzip\b/.test(accepts)) {
      ctx.set('Content-Encoding', 'gzip');
      ctx.body = entry.gzip;
    } else ctx.body = entry.body;
    ctx.status = 200;
  }

  router.get('/assets/:name', async (ctx, next) => {
    const name = ctx.params.name;
    if (!ASSET_NAME.test(name) || name.includes('..')) return next();
    const file = path.join(assetsDir, name);
    const entry = await load(file);
    if (!entry) return next();
    send(ctx, file, entry, IMMUTABLE);
  });

  router.get(/^(?!\/api\/)(?!\/api$).*/, async (ctx, next) => {
    // A file path that is not in the build (a stale asset after a deploy): a real 404, not the app.
    if (ctx.path.startsWith('/assets/')) return next();
    const index = path.join(distDir, 'index.html');
    const entry = await load(index);
    if (!entry) {
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/html; charset=utf-8';
      ctx.status = 503;
      ctx.body = NOT_BUILT;
      return;
    }
    send(ctx, index, entry, 'no-cache');
  });

  return router;
}
