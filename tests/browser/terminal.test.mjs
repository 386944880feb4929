// tests/browser/terminal.test.mjs — the Terminal page against the real
// daemon: a shell over the WebSocket, typing and output, resizing with the
// window, paste, a reload that finds the same shell (a variable set before
// it is still set), ending the terminal; and a page clean under the CSP
// (xterm.js's generated styles included, the WebSocket under connect-src
// 'self').
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

const USER = 'term' + Math.random().toString(36).slice(2, 8).replace(/[^a-z]/g, 'x');
const PASSWORD = USER + '-password';

async function waitForScreen(page, text) {
	await page.waitForFunction(
		(t) => (document.querySelector('[data-testid="terminal"] .xterm-rows')?.textContent || '').includes(t),
		text,
		{ timeout: 10000 },
	);
}

async function connected(page) {
	await page.locator('[data-testid="terminal-status"]', { hasText: 'Connected' }).waitFor();
	return page.locator('[data-testid="terminal"]').getAttribute('data-terminal-id');
}

test('the terminal page runs a shell and a reload finds the same one', async () => {
	const admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	const created = await apiAs(admin, 'POST', '/users', {
		username: USER,
		password: PASSWORD,
		groups: ['researchers'],
	});
	assert.equal(created.status, 201, await created.text());

	const { context, page } = await pageNew();
	await context.grantPermissions(['clipboard-read', 'clipboard-write']);
	await loginThroughPage(page, USER, PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	await page.click('nav [data-testid="nav-terminal"]');
	await page.locator('[data-testid="page-terminal"]').waitFor();
	const id = await connected(page);
	assert.match(id, /^[0-9a-f]{16}$/);

	// Type a command; its output (not its echo) appears.
	await page.locator('[data-testid="terminal"] .xterm').click();
	await page.keyboard.type('KAONVAR=kept$((40+2)); echo out$((6*7))put\n');
	await waitForScreen(page, 'out42put');
	// Colours: a red escape sequence renders in red without a CSP
	// violation (the theme's CSS lives in an adopted stylesheet).
	await page.keyboard.type("printf '\\033[31mred\\033[0m plain\\n'\n");
	await waitForScreen(page, 'red plain');
	const red = await page.evaluate(() => {
		const spans = [...document.querySelectorAll('[data-testid="terminal"] .xterm-rows span')];
		const s = spans.find((e) => e.textContent === 'red');
		return s ? getComputedStyle(s).color : null;
	});
	assert.ok(red && red !== 'rgb(230, 232, 239)', `the red text has its own colour (got ${red})`);
	await screenshot(page, 'terminal');

	// The window's size reaches the PTY.
	const sizeOf = async () => (await (await page.request.get('/api/v1/terminals/' + id)).json());
	const before = await sizeOf();
	assert.ok(before.cols > 80, `the terminal fills the page (cols ${before.cols})`);
	await page.setViewportSize({ width: 700, height: 600 });
	await page.waitForFunction(
		async ([tid, cols]) => {
			const r = await fetch('/api/v1/terminals/' + tid);
			return (await r.json()).cols < cols;
		},
		[id, before.cols],
		{ timeout: 10000, polling: 200 },
	);
	await page.keyboard.type('echo size=$(stty size)\n');
	await waitForScreen(page, 'size=');
	await screenshot(page, 'terminal-narrow');
	await page.setViewportSize({ width: 1280, height: 800 });

	// Paste: Ctrl+Shift+V puts the clipboard into the shell.
	await page.evaluate(() => navigator.clipboard.writeText('echo pas$((1+1))ted'));
	await page.locator('[data-testid="terminal"] .xterm').click();
	await page.keyboard.press('Control+Shift+V');
	await page.keyboard.press('Enter');
	await waitForScreen(page, 'pas2ted');

	// A reload reattaches to the same shell: the scrollback comes back
	// and the variable set before is still set.
	await page.reload();
	assert.equal(await connected(page), id, 'the same terminal after a reload');
	await waitForScreen(page, 'out42put');
	await page.locator('[data-testid="terminal"] .xterm').click();
	await page.keyboard.type('echo v=$KAONVAR\n');
	await waitForScreen(page, 'v=kept42');
	await screenshot(page, 'terminal-after-reload');

	// Ctrl-C reaches the shell: it interrupts a running command.
	await page.keyboard.type('sleep 100\n');
	await page.waitForTimeout(300);
	await page.keyboard.press('Control+C');
	await page.keyboard.type('echo after$((2*2))ctrlc\n');
	await waitForScreen(page, 'after4ctrlc');

	// Ending the terminal says so, and offers a new one.
	await page.click('[data-testid="terminal-end"]');
	await page.locator('[data-testid="terminal-ended"]').waitFor();
	const list = await (await page.request.get('/api/v1/terminals')).json();
	assert.deepEqual(list.terminals, []);
	await screenshot(page, 'terminal-ended');
	await page.click('[data-testid="terminal-new"]');
	const second = await connected(page);
	assert.notEqual(second, id, 'a new terminal');
	await page.click('[data-testid="terminal-end"]');
	await page.locator('[data-testid="terminal-ended"]').waitFor();
	await context.close();

	const del = await apiAs(admin, 'DELETE', '/users/' + USER);
	assert.equal(del.status, 204);
});

test('the terminal page is clean: no CSP violation, no error', () => {
	assert.ok(seen.indexResponses.length > 0, 'no index.html response was seen');
	for (const r of seen.indexResponses) {
		const csp = r.headers['content-security-policy'] || '';
		assert.match(csp, /connect-src 'self'/, 'the CSP still limits connections to this server');
		assert.doesNotMatch(csp, /unsafe-inline/, 'the CSP allows no inline style or script');
	}
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	assert.deepEqual(seen.consoleErrors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');
});
