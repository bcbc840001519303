// End-to-end: a compliance officer in Debian's Chromium (playwright-core) against the real server
// with a job worker: signs in, creates a legal hold, runs an export, verifies and downloads it.
// Waits are on what the page shows, never on fixed sleeps. Screenshots go to test-artifacts/.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { verifyExportZip } from '../../compliance/custody/verify.ts';
import { ensureWebapp } from '../../scripts/ensure-webapp.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
/** Generous: the export runs in a worker of a server sharing a loaded machine. */
const JOB_TIMEOUT_MS = 90_000;

describe('compliance console end to end (Chromium)', function () {
  this.timeout(240_000);
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let officer: TestUser;
  let alice: TestUser;
  let boardroom: { id: string; name: string };

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run 'apt-get install chromium' (.ci/run does).`);
    ensureWebapp({ quiet: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    app = await bootApp({ CUSTODIAN_JOB_ROLE: 'all' });
    officer = await makeUser(app, { username: 'olivia', roles: 'system_user compliance_officer' });
    alice = await makeUser(app, { username: 'alice' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user] });
    boardroom = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user] });
    await app.ownerDb('channels').where({ id: boardroom.id }).update({ display_name: 'Boardroom' });
    for (const message of ['Q3 numbers are in', 'Please keep the merger quiet']) {
      expect((await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: boardroom.id, message } })).status).to.equal(201);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', acceptDownloads: true });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
  });

  /** Picks an entry in a directory picker: types, waits for the match, chooses it with the keyboard. */
  async function pick(page: Page, label: string, term: string, match: RegExp): Promise<void> {
    const box = page.getByRole('combobox', { name: label });
    await box.fill(term);
    await page.getByRole('option', { name: match }).waitFor();
    await box.press('Enter');
    await page.getByRole('list', { name: `${label}: chosen` }).getByText(match).waitFor();
  }

  it('signs in, creates a legal hold, runs an export, verifies it and downloads it', async () => {
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    const scripts: string[] = [];
    page.on('request', (req) => {
      if (req.resourceType() === 'script') scripts.push(req.url());
    });

    await page.goto(app.url + '/');
    await page.getByLabel('Username or email').fill(officer.user.username);
    await page.getByLabel('Password').fill(officer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const consoleLink = page.getByRole('link', { name: 'Compliance console' });
    await consoleLink.waitFor();
    expect(scripts.some((url) => /compliance-[\w-]+\.js$/.test(url)), 'the console is not part of the first load').to.equal(false);

    await consoleLink.click();
    const sectionTitle = page.locator('#cc-section-title');
    await page.getByRole('heading', { level: 2, name: 'Exports' }).waitFor();
    expect(new URL(page.url()).pathname).to.equal('/compliance/exports');
    expect(await sectionTitle.evaluate((el) => el === el.ownerDocument.activeElement), 'focus moves to the section title').to.equal(true);
    expect(scripts.some((url) => /compliance-[\w-]+\.js$/.test(url)), 'the console chunk loaded on demand').to.equal(true);

    // A legal hold on alice and the private Boardroom channel (the officer is in neither team nor channel).
    await page.getByRole('navigation', { name: 'Compliance sections' }).getByRole('link', { name: 'Legal holds' }).click();
    await page.getByRole('heading', { level: 2, name: 'Legal holds' }).waitFor();
    await page.getByText('No legal hold is in force.').waitFor();
    await page.getByRole('button', { name: 'Create hold' }).click();
    await page.getByText('Give the hold a name.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Merger inquiry');
    await pick(page, 'Custodians', 'ali', /@alice/);
    await pick(page, 'Channels', 'board', /Boardroom/);
    await page.getByLabel('From (optional)').fill('2020-01-01');
    await page.getByRole('button', { name: 'Create hold' }).click();
    const holdRow = page.locator('tr', { hasText: 'Merger inquiry' });
    await holdRow.waitFor();
    expect(await holdRow.textContent()).to.match(/1 custodian, 1 channel/);
    expect(await holdRow.textContent()).to.include('Active');
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-compliance-01-hold.png'), fullPage: true });
    const holds = (await request(app, 'GET', '/api/v4/legal_holds', { token: officer.token })).json;
    expect(holds.map((h: { display_name: string; user_ids: string[]; channel_ids: string[] }) => [h.display_name, h.user_ids, h.channel_ids])).to.deep.equal([
      ['Merger inquiry', [alice.user.id], [boardroom.id]],
    ]);

    // Run an export (JSON Lines) and follow it until it succeeds, without reloading the page.
    await page.getByRole('navigation', { name: 'Compliance sections' }).getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('heading', { level: 2, name: 'Exports' }).waitFor();
    await page.getByLabel('Format').selectOption('jsonl');
    await page.getByRole('button', { name: 'Run now' }).click();
    const done = page.locator('tr[data-status="success"]');
    await done.waitFor({ timeout: JOB_TIMEOUT_MS });
    expect(await done.count()).to.equal(1);
    expect(await done.textContent()).to.match(/jsonl · \d+ messages · 1 batch/);

    await done.getByRole('button', { name: 'Verify' }).click();
    await done.getByText('Signature and manifest verified').waitFor({ timeout: 30_000 });
    expect(await done.textContent()).to.include('this server’s export certificate');
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-compliance-02-export.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), done.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).to.match(/\.zip$/);
    const saved = path.join(ARTIFACTS, 'e2e-compliance-export.zip');
    await download.saveAs(saved);
    const report = await verifyExportZip(saved);
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    expect(report.manifest?.files.map((f) => f.name)).to.include('export.jsonl');

    // eDiscovery finds the held message, with the match highlighted.
    const sections = page.getByRole('navigation', { name: 'Compliance sections' });
    await sections.getByRole('link', { name: 'eDiscovery' }).click();
    await page.getByLabel('Search terms').fill('merger');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('heading', { name: /^1 match/ }).waitFor();
    expect(await page.locator('.cc-hit mark').allTextContents()).to.deep.equal(['merger']);

    // Retention: saving is offered only once the change has been previewed.
    await sections.getByRole('link', { name: 'Retention' }).click();
    await page.getByRole('heading', { level: 3, name: 'Global policy' }).waitFor();
    await page.getByLabel('Delete messages').check();
    const saveGlobal = page.getByRole('button', { name: 'Save global policy' });
    expect(await saveGlobal.isDisabled(), 'no save before a preview').to.equal(true);
    await page.getByRole('button', { name: 'Preview deletions' }).first().click();
    await page.getByRole('region', { name: 'Deletion preview' }).waitFor();
    expect(await saveGlobal.isDisabled()).to.equal(false);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-compliance-03-retention.png'), fullPage: true });

    // The same console on a phone: one column, tables as labelled cards, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Back to chat' }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow, 'no horizontal scrolling on a phone').to.be.at.most(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-compliance-04-phone.png'), fullPage: true });
  });
});
