// Debian's Chromium driven by playwright-core, as the browser tests use it: one browser per suite,
// a fresh context (cookies, storage) per person, screenshots under test-artifacts/ (gitignored).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');
/** The flags this machine needs: no sandbox as root, and no background calls to a network that is closed. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** A script run in every page of the context before the app's own (measurements). */
  initScript?: string;
  /** Default timeout of the page's waits and actions. */
  timeoutMs?: number;
}

/** The browser of one suite and every context it opened, closed together. */
export class Browsers {
  private browser?: Browser;
  private readonly contexts: BrowserContext[] = [];

  /** Launches Chromium; never skips: CI installs it (.ci/run), so a missing browser is a broken setup. */
  async launch(): Promise<void> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run 'apt-get install chromium' (.ci/run does).`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }

  /** A page in a new context: another person, or the same one on another device. Page errors are logged. */
  async newPage(options: PageOptions = {}): Promise<Page> {
    if (!this.browser) throw new Error('launch() first');
    const context = await this.browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 }, locale: 'en-US' });
    if (options.initScript) await context.addInitScript({ path: options.initScript });
    this.contexts.push(context);
    const page = await context.newPage();
    if (options.timeoutMs) page.setDefaultTimeout(options.timeoutMs);
    page.on('pageerror', (err) => console.error('page error:', err.message));
    return page;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close();
  }
}
