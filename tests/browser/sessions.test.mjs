// tests/browser/sessions.test.mjs — the Sessions page against the real
// daemon, its proxy and real backends: launch a Jupyter Notebook
// (profile jupyter-cpu) from the page, follow it to ready, open it, see
// Jupyter's notebook tree, create a notebook and run 1+1 in it (the
// kernel's WebSocket through kaon's proxy) and see 2; extend it until the
// policy says no (the API's message shown); stop it. A shell session
// opens in kaon's own page: typing a command shows its output. A session
// near its end warns and offers to extend. The launch form remembers the
// last profile. And the page clean under the CSP.
import { after, before, test } from 'node:test';
import {
	ADMIN_PASSWORD,
	apiAs,
	apiLogin,
	assert,
	browserStart,
	browserStop,
	loginThroughPage,
	pageNew,
	screenshot,
	seen,
} from './lib.mjs';

before(browserStart);
after(browserStop);

const USER = 'sess' + Math.random().toString(36).slice(2, 8).replace(/[^a-z]/g, 'x');
const PASSWORD = USER + '-password';
const READY_MS = 90000; // queue, start of the backend, its first answer

let admin = null;
let user = null; // the test user's API session, for checks from outside the page

async function sessionByName(name) {
	const r = await apiAs(user, 'GET', '/sessions?ended=1');
	assert.equal(r.status, 200);
	const d = await r.json();
	return (Array.isArray(d) ? d : d.sessions).find((s) => s.name === name);
}

async function waitForScreen(page, text) {
	await page.waitForFunction(
		(t) => (document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent || '').includes(t),
		text,
		{ timeout: 15000 },
	);
}

before(async () => {
	admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	const created = await apiAs(admin, 'POST', '/users', { username: USER, password: PASSWORD, groups: ['researchers'] });
	assert.equal(created.status, 201, await created.text());
	user = await apiLogin(USER, PASSWORD);
	assert.equal(user.status, 200);
});

after(async () => {
	// Whatever a failed test left running ends with the user.
	if (user) {
		const r = await apiAs(user, 'GET', '/sessions');
		if (r.ok) {
			const d = await r.json();
			for (const s of Array.isArray(d) ? d : d.sessions || []) {
				if (['pending', 'starting', 'ready', 'running'].includes(s.state)) await (await apiAs(user, 'POST', `/sessions/${s.id}/stop`)).body?.cancel();
			}
		}
	}
	if (admin) await (await apiAs(admin, 'DELETE', '/users/' + USER)).body?.cancel();
});

test('a Jupyter Notebook launched from the page runs a cell', { timeout: 240000 }, async () => {
	const { context, page } = await pageNew();
	await loginThroughPage(page, USER, PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	await page.click('nav [data-testid="nav-sessions"]');
	await page.locator('[data-testid="page-sessions"]').waitFor();
	assert.equal(await page.locator('nav [data-testid="nav-sessions"]').getAttribute('aria-current'), 'page');

	// The launch form: the profiles this user may use, with their limits.
	const jupyter = page.locator('[data-testid="profile"][data-profile="jupyter-cpu"]');
	await jupyter.waitFor();
	const text = await jupyter.textContent();
	assert.match(text, /Jupyter Notebook/);
	assert.match(text, /2 CPUs · 4 GiB/, 'the profile shows its resources');
	assert.match(text, /runs 8 h, extendable to 1 d/, 'and its lifetime');
	assert.match(text, /1 h without use/, 'and its idle timeout');
	assert.equal(await page.locator('[data-testid="profile"][data-profile="shell"]').count(), 1, 'the shell profile is offered');
	await screenshot(page, 'sessions-launch');

	// Launch: the page follows the session from the queue to ready.
	await jupyter.click();
	await page.fill('[data-testid="launch-name"]', 'nb');
	await page.click('[data-testid="launch"]');
	const follow = page.locator('[data-testid="follow"]');
	await follow.waitFor();
	await page.locator('[data-testid="follow"][data-state="ready"]').waitFor({ timeout: READY_MS });
	await screenshot(page, 'sessions-ready');
	const s = await sessionByName('nb');
	assert.ok(s, 'the API lists the session');
	assert.equal(s.profile, 'jupyter-cpu');
	assert.equal(s.state, 'ready');

	// Open: a new tab at the session's url, with Jupyter's notebook tree.
	const open = follow.locator('[data-testid="session-open"]');
	assert.equal(await open.getAttribute('href'), s.url);
	assert.equal(await open.getAttribute('target'), '_blank');
	const [tree] = await Promise.all([context.waitForEvent('page'), open.click()]);
	await tree.waitForLoadState('domcontentloaded');
	assert.ok(new URL(tree.url()).pathname.startsWith(`/s/${s.id}/`), `Jupyter opens under /s/${s.id}/ (${tree.url()})`);
	await tree.locator('#notebook_list').waitFor({ timeout: 30000 });
	await tree.locator('#new-dropdown-button').waitFor();
	await screenshot(tree, 'sessions-jupyter-tree');

	// A browser without a login that follows a session link is sent to
	// the login page, and after logging in comes back to the session.
	{
		const fresh = await pageNew();
		await fresh.page.goto(`${s.url}`);
		await fresh.page.locator('#username').waitFor();
		await fresh.page.fill('#username', USER);
		await fresh.page.fill('#password', PASSWORD);
		await fresh.page.click('#login-submit');
		await fresh.page.waitForURL((u) => u.pathname.startsWith(`/s/${s.id}/`), { timeout: 20000 });
		await fresh.page.locator('#notebook_list').waitFor({ timeout: 30000 });
		await fresh.context.close();
	}
	assert.equal(await follow.count(), 0, 'the launch panel goes once the session is opened');

	// A new Python 3 notebook (Jupyter opens it in another tab); run 1+1.
	await tree.click('#new-dropdown-button');
	const [nb] = await Promise.all([context.waitForEvent('page'), tree.click('#kernel-python3 a')]);
	await nb.waitForURL(/\/notebooks\/.*\.ipynb/, { timeout: 30000 });
	const cell = nb.locator('#notebook-container .cell.code_cell').first();
	await cell.locator('.CodeMirror').waitFor({ timeout: 30000 });
	await nb.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 60000 });
	await cell.locator('.CodeMirror').click();
	await nb.keyboard.type('1+1');
	await nb.keyboard.press('Shift+Enter');
	const out = cell.locator('.output_area .output_subarea');
	await out.first().waitFor({ timeout: 30000 });
	await nb.waitForFunction(
		() => [...document.querySelectorAll('#notebook-container .code_cell:first-child .output_subarea')].some((e) => e.textContent.trim() === '2'),
		null,
		{ timeout: 30000 },
	);
	assert.match(await cell.locator('.input_prompt').textContent(), /\[1\]/, 'the cell ran once');
	await screenshot(nb, 'sessions-jupyter-cell');
	await nb.close();
	await tree.close();

	// The session in the list: Open, Stop, time left, Extend.
	const card = page.locator('[data-testid="session"][data-name="nb"]');
	await card.waitFor();
	assert.match(await card.locator('[data-testid="session-status"]').textContent(), /Ready\. Ends in 7 h 5\d min/);
	assert.equal(await card.locator('[data-testid="session-open"]').getAttribute('href'), s.url);

	// Extend within policy (profile max 24 h: 8 h + 4 x 4 h), then beyond:
	// the API's 422 message is shown.
	for (let i = 0; i < 4; i++) {
		const [resp] = await Promise.all([
			page.waitForResponse((r) => r.url().endsWith(`/api/v1/sessions/${s.id}/extend`)),
			card.locator('[data-testid="session-extend-14400"]').click(),
		]);
		assert.equal(resp.status(), 200, `extension ${i + 1} within policy`);
		await card.locator('[data-testid="session-extended"]').waitFor();
	}
	const extended = await sessionByName('nb');
	const hours = (Date.parse(extended.expires_at) - Date.parse(extended.start_time)) / 3600000;
	assert.ok(Math.abs(hours - 24) < 0.02, `the session now runs 24 h (${hours})`);
	const [refused] = await Promise.all([
		page.waitForResponse((r) => r.url().endsWith(`/api/v1/sessions/${s.id}/extend`)),
		card.locator('[data-testid="session-extend-14400"]').click(),
	]);
	assert.equal(refused.status(), 422, 'beyond the profile maximum');
	const why = (await refused.json()).error.message;
	const shown = card.locator('[data-testid="session-extend-error"]');
	await shown.waitFor();
	assert.ok((await shown.textContent()).toLowerCase().includes(why.toLowerCase()), `the page shows the API's message (${why})`);
	await screenshot(page, 'sessions-extend-refused');

	// Stop (asks first); the session moves to Ended, stopped.
	await card.locator('[data-testid="session-stop"]').click();
	await page.locator('[data-testid="session-stop-dialog"]').waitFor();
	await page.click('[data-testid="session-stop-dialog"] [data-testid="confirm"]');
	const ended = page.locator(`[data-testid="ended-session"][data-id="${s.id}"]`);
	await ended.waitFor({ timeout: 60000 });
	assert.equal(await ended.getAttribute('data-end-reason'), 'stopped');
	assert.equal(await page.locator('[data-testid="session"][data-name="nb"]').count(), 0);
	await screenshot(page, 'sessions-ended');

	// The choice is remembered.
	await page.reload();
	await page.locator('[data-testid="launch-form"]').waitFor();
	assert.equal(await page.locator('[data-profile="jupyter-cpu"] input').isChecked(), true, 'the last profile is preselected');
	await context.close();
});

test('a shell session opens in the page and runs a command', { timeout: 180000 }, async () => {
	const { context, page } = await pageNew();
	await loginThroughPage(page, USER, PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	await page.goto('/#/sessions');
	await page.locator('[data-testid="launch-form"]').waitFor();
	await page.click('[data-testid="profile"][data-profile="shell"]');
	await page.fill('[data-testid="launch-name"]', 'sh');
	await page.click('[data-testid="launch"]');

	// Ready: the page goes to the shell by itself.
	await page.locator('[data-testid="page-session-shell"]').waitFor({ timeout: READY_MS });
	const s = await sessionByName('sh');
	assert.equal(new URL(page.url()).hash, `#/sessions/${s.id}/shell`);
	await page.locator('[data-testid="shell-status"]', { hasText: 'Connected' }).waitFor({ timeout: 30000 });
	await page.locator('[data-testid="terminal"] .xterm').click();
	await page.keyboard.type('echo hi-$((40+2))\n');
	await waitForScreen(page, 'hi-42');
	await screenshot(page, 'sessions-shell');

	// A reload reattaches to the same shell.
	await page.keyboard.type('SESSVAR=kept$((6*7))\n');
	await page.reload();
	await page.locator('[data-testid="shell-status"]', { hasText: 'Connected' }).waitFor({ timeout: 30000 });
	await page.locator('[data-testid="terminal"] .xterm').click();
	await page.keyboard.type('echo v=$SESSVAR\n');
	await waitForScreen(page, 'v=kept42');

	// Stop from the shell's page.
	await page.click('[data-testid="session-stop"]');
	await page.click('[data-testid="session-stop-dialog"] [data-testid="confirm"]');
	await page.locator('[data-testid="shell-ended"]').waitFor({ timeout: 60000 });
	await screenshot(page, 'sessions-shell-ended');
	const stopped = await sessionByName('sh');
	assert.equal(stopped.end_reason, 'stopped');

	// The launch form remembers the shell now.
	await page.goto('/#/sessions');
	await page.locator('[data-testid="launch-form"]').waitFor();
	assert.equal(await page.locator('[data-profile="shell"] input').isChecked(), true);
	await context.close();
});

test('a session near its end warns and offers to extend', { timeout: 120000 }, async () => {
	// Ten minutes of lifetime: inside the 15 minutes the page warns in.
	const r = await apiAs(user, 'POST', '/sessions', { profile: 'shell', name: 'brief', lifetime_s: 600 });
	const body = await r.text();
	assert.equal(r.status, 201, body);
	const s = JSON.parse(body);
	const { context, page } = await pageNew();
	await loginThroughPage(page, USER, PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	await page.goto('/#/sessions');
	const card = page.locator('[data-testid="session"][data-name="brief"]');
	const warning = card.locator('[data-testid="session-expiry-warning"]');
	await warning.waitFor({ timeout: READY_MS });
	assert.match(await warning.textContent(), /This session ends in (9|10) min/);
	await screenshot(page, 'sessions-expiry-warning');
	// +1 h within policy: the warning goes, the new end is said.
	const [resp] = await Promise.all([
		page.waitForResponse((x) => x.url().endsWith(`/api/v1/sessions/${s.id}/extend`)),
		warning.locator('[data-testid="session-extend-3600"]').click(),
	]);
	if (resp.status() === 200) {
		await card.locator('[data-testid="session-extended"]').waitFor();
		await warning.waitFor({ state: 'detached' });
	} else {
		// The shell profile's maximum lifetime may be below 70 minutes:
		// then the refusal is what the page must show.
		assert.equal(resp.status(), 422);
		await card.locator('[data-testid="session-extend-error"]').waitFor();
	}
	await (await apiAs(user, 'POST', `/sessions/${s.id}/stop`)).body?.cancel();
	await context.close();
});

test('the sessions pages are clean: no CSP violation, no error', () => {
	assert.ok(seen.indexResponses.length > 0, 'no index.html response was seen');
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	assert.deepEqual(seen.consoleErrors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');
});
