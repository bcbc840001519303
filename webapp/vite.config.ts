// Builds the single-page app into webapp/dist. The server (server/http/webapp.ts) serves that folder:
// hashed files under /assets with immutable caching, index.html for every other non-API path.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  // React's automatic JSX runtime, compiled by Vite's own transformer (no Babel plugin needed).
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The server's CSP is script-src 'self': nothing may be inlined into index.html as a script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npx vite --config webapp/vite.config.ts` during development, against `npm start` on :8065.
    proxy: {
      '/api': { target: 'http://localhost:8065', ws: true },
    },
  },
});
