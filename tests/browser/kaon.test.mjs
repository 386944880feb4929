// tests/browser/kaon.test.mjs — the web shell against the real daemon:
// login, logout, API tokens, users, changing your password, and a clean
// page under the CSP.
import { after, before, test } from 'node:test';
import {
	ADMIN_PASSWORD,
	apiAs,
	apiLogin,
	assert,
	BASE,
	browserStart,
	browserStop,
	loginAsAdmin,
	loginThroughPage,
	pageNew,
	screenshot,
	seen,
} from './lib.mjs';

before(browserStart);
after(browserStop);

test('admin logs in through the page and sees the frame', async () => {
	const { context, page } = await pageNew();
	await page.goto('/');
	await page.locator('#username').waitFor();
	// The hash moves to #/login just after the form renders: wait for it.
	await page.waitForURL(/#\/login$/);
	await screenshot(page, 'login');
	await loginThroughPage(page, 'admin', ADMIN_PASSWORD);
	const menu = page.locator('[data-testid="user-menu"]');
	await menu.waitFor();
	assert.match(await menu.innerText(), /\badmin\b/);
	assert.equal(await page.locator('[data-testid="product-name"]').innerText(), 'kaon');
	await page.locator('[data-testid="page-home"]').waitFor();
	assert.match(await page.locator('[data-testid="welcome"]').innerText(), /Welcome/);
	// Admins see the admin pages in the navigation.
	assert.equal(await page.locator('nav [data-testid="nav-users"]').count(), 1);
	assert.equal(await page.locator('nav [data-testid="nav-groups"]').count(), 1);
	assert.equal(await page.locator('#username').count(), 0);
	await screenshot(page, 'home');
	// A reload keeps the session (GET /me with the cookie).
	await page.reload();
	await menu.waitFor();
	assert.match(await menu.innerText(), /\badmin\b/);
	await page.setViewportSize({ width: 390, height: 800 });
	await screenshot(page, 'home-narrow');
	await context.close();
});

test('a wrong password shows the error and stays on the login page', async () => {
	const { context, page } = await pageNew();
	await loginThroughPage(page, 'admin', 'not-the-password');
	const err = page.locator('#login-error');
	await err.waitFor();
	assert.ok((await err.innerText()).trim().length > 0, 'the error message is empty');
	assert.equal(await err.getAttribute('role'), 'alert');
	assert.match(page.url(), /#\/login$/);
	assert.equal(await page.locator('#username').count(), 1);
	assert.equal(await page.locator('[data-testid="user-menu"]').count(), 0);
	const me = await context.request.get('/api/v1/me');
	assert.equal(me.status(), 401);
	await screenshot(page, 'login-error');
	await context.close();
});

test('repeated failures show the lockout with its wait', async () => {
	// A made-up username, so that admin is not the one locked out.
	const body = JSON.stringify({ username: 'mallory', password: 'guess-guess' });
	let last = null;
	for (let i = 0; i < 20; i++) {
		last = await fetch(BASE + '/api/v1/login', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body,
		});
		if (last.status === 429) break;
		assert.equal(last.status, 401);
	}
	assert.equal(last.status, 429, 'no lockout after 20 failures');
	const wait = last.headers.get('retry-after');
	assert.match(wait || '', /^\d+$/);

	const { context, page } = await pageNew();
	await loginThroughPage(page, 'mallory', 'guess-guess');
	const err = page.locator('#login-error');
	await err.waitFor();
	const text = await err.innerText();
	assert.match(text, /try again in \d+/i);
	assert.equal(await page.locator('[data-testid="user-menu"]').count(), 0);
	await context.close();
});

test('log out returns to the login page and ends the session', async () => {
	const { context, page } = await loginAsAdmin();
	const before = await context.request.get('/api/v1/me');
	assert.equal(before.status(), 200);
	const cookies = await context.cookies(BASE);
	const session = cookies.find((c) => c.name === 'kaon_session');
	assert.ok(session, 'no kaon_session cookie after login');
	assert.equal(session.httpOnly, true);

	await page.click('[data-testid="user-menu"] button[aria-haspopup="menu"]');
	await page.locator('[data-testid="logout"]').waitFor();
	await screenshot(page, 'user-menu');
	await page.click('[data-testid="logout"]');
	await page.locator('#username').waitFor();
	await page.waitForURL(/#\/login$/);
	assert.equal(await page.locator('[data-testid="user-menu"]').count(), 0);

	const me = await context.request.get('/api/v1/me');
	assert.equal(me.status(), 401);
	// The server ended the session, not only the browser's cookie.
	const replay = await fetch(BASE + '/api/v1/me', { headers: { Cookie: `kaon_session=${session.value}` } });
	assert.equal(replay.status, 401);
	await context.close();
});

test('creating an API token shows it once', async () => {
	const { context, page } = await loginAsAdmin();
	await page.click('nav [data-testid="nav-tokens"]');
	await page.locator('[data-testid="page-tokens"]').waitFor();
	await page.fill('#token-name', 'browser test');
	await page.selectOption('#token-expiry', { label: '7 days' });
	await page.click('#token-create');
	const tokenInput = page.locator('[data-testid="new-token"]');
	await tokenInput.waitFor();
	const token = await tokenInput.inputValue();
	assert.match(token, /^kaon_/);
	const row = page.locator('[data-testid="token-row"]', { hasText: 'browser test' });
	await row.waitFor();
	await screenshot(page, 'tokens');

	// The token works as a bearer token.
	const bearer = { headers: { Authorization: `Bearer ${token}` } };
	const me = await fetch(BASE + '/api/v1/me', bearer);
	assert.equal(me.status, 200);
	assert.equal((await me.json()).username, 'admin');

	// Shown once: after a reload the list has it, but not its secret.
	await page.reload();
	await row.waitFor();
	assert.equal(await page.locator('[data-testid="new-token"]').count(), 0);
	assert.ok(!(await page.content()).includes(token), 'the token is shown again after a reload');

	// And it can be deleted.
	await row.locator('button', { hasText: 'Delete' }).click();
	await page.click('[data-testid="delete-token-dialog"] [data-testid="confirm"]');
	await page.locator('[data-testid="token-row"]', { hasText: 'browser test' }).waitFor({ state: 'detached' });
	const gone = await fetch(BASE + '/api/v1/me', bearer);
	assert.equal(gone.status, 401);
	await context.close();
});

test('admin lists users and creates one', async () => {
	const { context, page } = await loginAsAdmin();
	await page.click('nav [data-testid="nav-users"]');
	await page.locator('[data-testid="page-users"]').waitFor();
	await page.locator('[data-testid="user-row"][data-username="admin"]').waitFor();

	await page.click('#user-new');
	await page.locator('[data-testid="user-dialog"]').waitFor();
	await page.fill('#user-username', 'alice');
	await page.fill('#user-display-name', 'Alice Liddell');
	await page.fill('#user-email', 'alice@example.org');
	await page.fill('#user-password', 'wonderland-42');
	await screenshot(page, 'user-new');
	await page.click('#user-save');
	const row = page.locator('[data-testid="user-row"][data-username="alice"]');
	await row.waitFor();
	assert.match(await row.innerText(), /Alice Liddell/);
	assert.equal(await page.locator('[data-testid="user-dialog"]').count(), 0);
	await screenshot(page, 'users');

	// A duplicate name shows the server's message in the dialog.
	await page.click('#user-new');
	await page.fill('#user-username', 'alice');
	await page.click('#user-save');
	const err = page.locator('[data-testid="user-error"]');
	await err.waitFor();
	assert.ok((await err.innerText()).trim().length > 0);
	await page.keyboard.press('Escape');
	await page.locator('[data-testid="user-dialog"]').waitFor({ state: 'detached' });

	// The groups page lists groups with their limits.
	await page.click('nav [data-testid="nav-groups"]');
	await page.locator('[data-testid="group-row"]').first().waitFor();
	await screenshot(page, 'groups');
	await context.close();

	// The new user logs in and sees no admin pages.
	const alice = await pageNew();
	await loginThroughPage(alice.page, 'alice', 'wonderland-42');
	const menu = alice.page.locator('[data-testid="user-menu"]');
	await menu.waitFor();
	assert.match(await menu.innerText(), /\balice\b/);
	assert.equal(await alice.page.locator('nav [data-testid="nav-users"]').count(), 0);
	await alice.context.close();
});

test('admin manages groups and edits and deletes a user', async () => {
	const { context, page } = await loginAsAdmin();
	await page.goto('/#/groups');
	await page.locator('[data-testid="page-groups"]').waitFor();
	await page.click('#group-new');
	await page.fill('#group-name', 'vision');
	await page.fill('#group-description', 'Computer vision lab');
	await page.fill('#group-max-gpus', '4');
	await page.fill('#group-max-mem-mb', '65536');
	await page.click('#group-save');
	const row = page.locator('[data-testid="group-row"][data-group="vision"]');
	await row.waitFor();
	assert.match(await row.innerText(), /64 GiB/);

	await row.locator('button', { hasText: 'Edit' }).click();
	assert.equal(await page.inputValue('#group-max-gpus'), '4');
	await page.fill('#group-max-gpus', '8');
	await page.fill('#group-max-mem-mb', '');
	await page.click('#group-save');
	await page.locator('[data-testid="group-dialog"]').waitFor({ state: 'detached' });
	const cells = await row.locator('td').allInnerTexts();
	assert.equal(cells[1].trim(), '8');
	assert.match(cells[3], /∞/);

	// Put alice in the group (as her primary group), and disable her.
	await page.click('nav [data-testid="nav-users"]');
	const alice = page.locator('[data-testid="user-row"][data-username="alice"]');
	await alice.waitFor();
	await alice.locator('button', { hasText: 'Edit' }).click();
	await page.selectOption('[data-testid="user-dialog"] [data-testid="primary-group"]', 'vision');
	await page.fill('#user-display-name', 'Alice L.');
	await page.check('#user-disabled');
	await page.click('#user-save');
	await page.locator('[data-testid="user-dialog"]').waitFor({ state: 'detached' });
	await page.locator('[data-testid="user-row"][data-username="alice"]', { hasText: 'Alice L.' }).waitFor();
	const text = await alice.innerText();
	assert.match(text, /vision/);
	assert.match(text, /disabled/);

	// A disabled user cannot log in, and the page says why.
	const other = await pageNew();
	await loginThroughPage(other.page, 'alice', 'wonderland-42');
	await other.page.locator('#login-error').waitFor();
	assert.equal(await other.page.locator('[data-testid="user-menu"]').count(), 0);
	await other.context.close();

	// Deleting a group with members is refused; the dialog shows the reason.
	await page.click('nav [data-testid="nav-groups"]');
	await row.locator('button', { hasText: 'Delete' }).click();
	await page.click('[data-testid="delete-group-dialog"] [data-testid="confirm"]');
	const err = page.locator('[data-testid="delete-group-dialog"] [role="alert"]');
	await err.waitFor();
	assert.ok((await err.innerText()).trim().length > 0);
	await page.keyboard.press('Escape');

	// Delete alice, then the empty group.
	await page.click('nav [data-testid="nav-users"]');
	await alice.locator('button', { hasText: 'Delete' }).click();
	await page.click('[data-testid="delete-user-dialog"] [data-testid="confirm"]');
	await alice.waitFor({ state: 'detached' });
	await page.click('nav [data-testid="nav-groups"]');
	await row.locator('button', { hasText: 'Delete' }).click();
	await page.click('[data-testid="delete-group-dialog"] [data-testid="confirm"]');
	await row.waitFor({ state: 'detached' });
	await context.close();
});

test('a user changes their password on the Home page', async () => {
	const OLD = 'first-password-1';
	const NEW = 'second-password-2';
	const admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	const created = await apiAs(admin, 'POST', '/users', { username: 'carol', display_name: 'Carol', password: OLD });
	assert.equal(created.status, 201, await created.text());

	// Another browser session of carol's, which the change must end.
	const elsewhere = await apiLogin('carol', OLD);
	assert.equal(elsewhere.status, 200);
	assert.equal((await apiAs(elsewhere, 'GET', '/me')).status, 200);

	const { context, page } = await pageNew();
	const sent = [];
	page.on('request', (r) => {
		if (r.url().endsWith('/api/v1/me/password')) sent.push(r.method());
	});
	await loginThroughPage(page, 'carol', OLD);
	await page.locator('[data-testid="page-home"]').waitFor();
	const form = page.locator('#password-form');
	await form.waitFor();

	// Labels and autocomplete hints.
	assert.equal(await page.getByLabel('Current password').getAttribute('autocomplete'), 'current-password');
	assert.equal(await page.getByLabel('New password', { exact: true }).getAttribute('autocomplete'), 'new-password');
	assert.equal(await page.getByLabel('Repeat new password').getAttribute('autocomplete'), 'new-password');
	for (const id of ['#password-current', '#password-new', '#password-repeat'])
		assert.equal(await page.locator(id).getAttribute('type'), 'password');
	await screenshot(page, 'home-password');

	// The two new passwords must match; nothing is sent when they do not.
	const err = page.locator('[data-testid="password-error"]');
	await page.fill('#password-current', OLD);
	await page.fill('#password-new', NEW);
	await page.fill('#password-repeat', NEW + 'x');
	await page.click('#password-submit');
	await err.waitFor();
	assert.match(await err.innerText(), /do not match/i);
	assert.equal(await err.getAttribute('role'), 'alert');
	assert.equal(await page.getAttribute('#password-repeat', 'aria-invalid'), 'true');
	assert.deepEqual(sent, []);
	await screenshot(page, 'home-password-mismatch');

	// A wrong current password shows the server's message and changes nothing.
	await page.fill('#password-current', 'not-my-password');
	await page.fill('#password-repeat', NEW);
	const wrong = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password'));
	await page.click('#password-submit');
	assert.equal((await wrong).status(), 403);
	await page.locator('[data-testid="password-error"]', { hasText: /current password is wrong/i }).waitFor();
	assert.equal(await page.locator('[data-testid="password-done"]').count(), 0);
	assert.equal(await page.inputValue('#password-current'), '');
	await screenshot(page, 'home-password-wrong');
	// Still in the session, and the other one too.
	assert.equal((await context.request.get('/api/v1/me')).status(), 200);
	assert.equal((await apiAs(elsewhere, 'GET', '/me')).status, 200);

	// The right one changes it; the fields are cleared.
	await page.fill('#password-current', OLD);
	const right = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/password'));
	await page.click('#password-submit');
	assert.equal((await right).status(), 204);
	const done = page.locator('[data-testid="password-done"]');
	await done.waitFor();
	assert.equal(await done.getAttribute('role'), 'status');
	assert.equal(await err.count(), 0);
	for (const id of ['#password-current', '#password-new', '#password-repeat'])
		assert.equal(await page.inputValue(id), '', `${id} is not cleared`);
	await screenshot(page, 'home-password-done');

	// This session stays; the other one has ended.
	assert.equal((await context.request.get('/api/v1/me')).status(), 200);
	assert.equal((await apiAs(elsewhere, 'GET', '/me')).status, 401);
	await page.reload();
	await page.locator('[data-testid="page-home"]').waitFor();
	assert.equal(await page.locator('[data-testid="user-menu"]').count(), 1);
	await context.close();

	// The old password no longer logs in, the new one does (also through the page).
	assert.equal((await apiLogin('carol', OLD)).status, 401);
	const fresh = await apiLogin('carol', NEW);
	assert.equal(fresh.status, 200);
	await apiAs(fresh, 'POST', '/logout');
	const again = await pageNew();
	await loginThroughPage(again.page, 'carol', NEW);
	await again.page.locator('[data-testid="user-menu"]').waitFor();
	assert.match(await again.page.locator('[data-testid="user-menu"]').innerText(), /\bcarol\b/);
	await again.context.close();

	assert.equal((await apiAs(admin, 'DELETE', '/users/carol')).status, 204);
	await apiAs(admin, 'POST', '/logout');
});

test('index.html carries a CSP and no page logged errors or CSP violations', async () => {
	const { context, page } = await loginAsAdmin();
	for (const route of ['#/', '#/tokens', '#/users', '#/groups']) {
		await page.goto('/' + route);
		await page.locator('[data-testid="user-menu"]').waitFor();
		await page.locator('main h1').waitFor();
	}
	await context.close();

	assert.ok(seen.indexResponses.length > 0, 'no index.html response was seen');
	for (const r of seen.indexResponses) {
		const csp = r.headers['content-security-policy'];
		assert.ok(csp, `no Content-Security-Policy on ${r.url} (${r.status})`);
		assert.match(csp, /script-src 'self'/);
		assert.match(csp, /style-src 'self'/);
	}
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	assert.deepEqual(seen.consoleErrors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');

	const index = await fetch(BASE + '/');
	const html = await index.text();
	assert.equal(index.status, 200);
	assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html has an inline script');
	assert.ok(!/<style|\sstyle=/i.test(html), 'index.html has an inline style');
});
