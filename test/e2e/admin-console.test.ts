// End-to-end: a system admin in Debian's Chromium (playwright-core) against the real server deactivates
// a user through the system console while that user has the chat open in another browser context;
// the user's session stops working at once and their tab returns to sign-in. Waits are on what the
// pages show, never on fixed sleeps. Screenshots go to test-artifacts/.
import { expect } from 'chai';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ensureWebapp } from '../../scripts/ensure-webapp.ts';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { ARTIFACTS, Browsers } from './support/chromium.ts';

/** Generous: the machine running this may be busy with other suites. */
const UI_TIMEOUT_MS = 20_000;

describe('system console end to end (Chromium)', function () {
  this.timeout(180_000);
  let app: TestApp;
  const browsers = new Browsers();
  let admin: TestUser;
  let victor: TestUser;
  let general: { id: string; name: string };

  before(async function () {
    ensureWebapp({ quiet: true });
    await browsers.launch();
    app = await bootApp();
    admin = await makeUser(app, { username: 'ada', roles: 'system_user system_admin' });
    victor = await makeUser(app, { username: 'victor' });
    const team = await makeTeam(app.ownerDb, { members: [admin.user, victor.user] });
    general = await makeChannel(app.ownerDb, team.id, { members: [admin.user, victor.user] });
  });

  after(async () => {
    await browsers.close();
    await app?.close();
  });

  const newPage = (viewport = { width: 1280, height: 860 }) => browsers.newPage({ viewport, timeoutMs: UI_TIMEOUT_MS });

  async function signIn(page: Page, who: TestUser, password = who.password): Promise<void> {
    await page.goto(app.url + '/');
    await page.getByLabel('Username or email').fill(who.user.username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const isFocused = async (page: Page, selector: string) => (await page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`)) as boolean;

  it('deactivates a user whose open session then stops working, and activates them again', async () => {
    // Victor has the chat open, connected over the WebSocket.
    const victorPage = await newPage();
    await signIn(victorPage, victor);
    await victorPage.locator(`#message-list[data-channel-id="${general.id}"][data-ready="true"]`).waitFor();

    // The admin opens the system console from the navigation rail; it is not part of the first load.
    const page = await newPage();
    const scripts: string[] = [];
    page.on('request', (req) => {
      if (req.resourceType() === 'script') scripts.push(req.url());
    });
    await signIn(page, admin);
    const consoleLink = page.getByRole('link', { name: 'System console' });
    await consoleLink.waitFor();
    expect(scripts.some((url) => /\/admin-[\w-]+\.js$/.test(url)), 'the console is not in the first load').to.equal(false);
    await consoleLink.click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    expect(scripts.some((url) => /\/admin-[\w-]+\.js$/.test(url)), 'the console loads when opened').to.equal(true);
    expect(await isFocused(page, '#console-title'), 'focus moves to the section title').to.equal(true);
    expect(await page.getByRole('navigation', { name: 'System console sections' }).getByRole('link').allTextContents())
      .to.deep.equal(['Users', 'Groups and directory sync', 'Teams and channels', 'Single sign-on', 'Server health']);

    // Finds Victor by searching, and deactivates him after confirming.
    await page.getByRole('searchbox', { name: 'Search users' }).fill('vic');
    // The search narrows the list (ada leaves it) and keeps victor.
    await page.locator('tr[data-username="ada"]').waitFor({ state: 'detached' });
    const row = page.locator('tr[data-username="victor"]');
    await row.waitFor();
    // Escape cancels: nothing changes and focus goes back to the button.
    await row.getByRole('button', { name: 'Deactivate victor' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate @victor?' });
    await dialog.waitFor();
    expect(await isFocused(page, '.admin-dialog button[type="button"]'), 'a destructive step starts on Cancel').to.equal(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await isFocused(page, 'button[aria-label="Deactivate victor"]')).to.equal(true);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-01-confirm-deactivate.png') });
    const confirmedAt = Date.now();
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('status').filter({ hasText: '@victor is deactivated and signed out.' }).waitFor();
    await row.getByText('Deactivated').waitFor();
    expect(await isFocused(page, 'tr[data-username="victor"] button[aria-label="Activate victor"]'), 'focus returns to the row').to.equal(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-02-user-deactivated.png') });

    // Victor's open tab: the server closed his WebSocket, his next request is refused, and the app
    // goes back to the sign-in page saying why.
    await victorPage.getByText('Your session has expired').waitFor();
    console.log(`      deactivation confirmed → the user's open tab back at sign-in: ${Date.now() - confirmedAt} ms (load average ${os.loadavg()[0].toFixed(1)})`);
    await victorPage.getByRole('button', { name: 'Sign in' }).waitFor();
    const me = await victorPage.request.get(`${app.url}/api/v4/users/me`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } });
    expect(me.status(), 'his session cookie no longer works').to.equal(401);
    await victorPage.screenshot({ path: path.join(ARTIFACTS, 'admin-03-deactivated-user-signed-out.png') });
    // Signing in again is refused while he is deactivated.
    await victorPage.getByLabel('Username or email').fill('victor');
    await victorPage.getByLabel('Password').fill(victor.password);
    await victorPage.getByRole('button', { name: 'Sign in' }).click();
    await victorPage.locator('#login-error').waitFor();
    expect(await victorPage.locator('#message-list').count(), 'still on the sign-in page').to.equal(0);

    // Activated again from the console, he can sign in.
    await row.getByRole('button', { name: 'Activate victor' }).click();
    await page.getByRole('status').filter({ hasText: '@victor can sign in again.' }).waitFor();
    await victorPage.getByRole('button', { name: 'Sign in' }).click();
    await victorPage.locator(`#message-list[data-channel-id="${general.id}"][data-ready="true"]`).waitFor();

    // Roles: the editor starts from his own roles; the row shows the new one once saved.
    await row.getByRole('button', { name: 'Roles of victor' }).click();
    const roles = page.getByRole('dialog', { name: 'Roles of @victor' });
    await roles.getByRole('checkbox', { name: 'Auditor' }).check();
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await page.getByRole('status').filter({ hasText: 'Roles of @victor saved.' }).waitFor();
    await row.getByRole('cell', { name: 'Auditor' }).waitFor();
  });

  it('links a group to a private channel, which adds its members, and limits the channel to the group', async () => {
    const team = await makeTeam(app.ownerDb, { members: [admin.user, victor.user] });
    await app.ownerDb('teams').where({ id: team.id }).update({ display_name: 'Legal' });
    const deals = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [admin.user] });
    await app.ownerDb('channels').where({ id: deals.id }).update({ display_name: 'Deals' });
    const groupId = newId();
    await app.ownerDb('groups').insert({ id: groupId, display_name: 'Legal team', source: 'saml', remote_id: 'legal-team', create_at: Date.now(), update_at: Date.now() });
    await app.ownerDb('group_members').insert({ group_id: groupId, user_id: victor.user.id, create_at: Date.now() });

    const page = await newPage();
    await signIn(page, admin);
    await page.getByRole('link', { name: 'System console' }).click();
    await page.getByRole('link', { name: 'Groups and directory sync' }).click();
    await page.getByRole('button', { name: 'Links of Legal team' }).click();
    await page.getByText('Not linked to any team or channel.').waitFor();

    const form = page.getByRole('form', { name: 'Link Legal team to a team or channel' });
    await form.getByRole('radio', { name: 'A channel' }).check();
    await form.getByRole('combobox', { name: 'Team' }).selectOption({ label: 'Legal' });
    await form.getByRole('option', { name: 'Deals (private)' }).waitFor({ state: 'attached' });
    await form.getByRole('combobox', { name: 'Channel' }).selectOption({ label: 'Deals (private)' });
    await form.getByRole('button', { name: 'Link' }).click();
    await page.getByRole('status').filter({ hasText: 'Legal team linked; its members were added.' }).waitFor();
    await page.getByRole('button', { name: 'Unlink ~Deals' }).waitFor();
    expect(await app.ownerDb('channel_members').where({ channel_id: deals.id, user_id: victor.user.id }).first(), 'the group’s member joined').to.not.equal(undefined);

    await page.getByRole('checkbox', { name: 'Only members of linked groups' }).check();
    await page.getByRole('status').filter({ hasText: '~Deals now keeps only members of its linked groups.' }).waitFor();
    expect((await app.ownerDb('channels').where({ id: deals.id }).first('group_constrained')).group_constrained).to.equal(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-04-group-links.png') });
  });

  it('moves between sections by keyboard and fits a phone screen in the dark theme', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await signIn(page, admin);
    // Signed in (the rail is hidden on a phone, so this waits for its sign-out button in the DOM).
    await page.locator('button[aria-label="Sign out ada"]').waitFor({ state: 'attached' });
    await page.goto(`${app.url}/admin_console/health`);
    await page.getByRole('heading', { level: 1, name: 'Server health' }).waitFor();
    await page.getByText('Healthy', { exact: true }).waitFor();
    await page.getByText(/migrations, all applied at start/).waitFor();

    // Tab from the section title's navigation: the links are reachable and Enter follows them.
    const teamsLink = page.getByRole('link', { name: 'Teams and channels' });
    await teamsLink.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Teams and channels' }).waitFor();
    expect(await isFocused(page, '#console-title')).to.equal(true);
    expect(await teamsLink.getAttribute('aria-current')).to.equal('page');
    await page.getByRole('table', { name: 'Teams' }).waitFor();

    // Nothing sticks out sideways on a phone, and there is a way back to the chat.
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).to.be.at.most(0);
    expect(await page.getByRole('link', { name: 'Back to chat' }).isVisible()).to.equal(true);
    const background = await page.evaluate("getComputedStyle(document.querySelector('main.center')).backgroundColor");
    expect(background).to.equal('rgb(23, 25, 29)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-05-phone-dark.png'), fullPage: true });
  });
});
