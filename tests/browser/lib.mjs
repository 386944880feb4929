// tests/browser/lib.mjs — shared pieces of the browser tests: the browser,
// pages that record console errors, CSP violations and index.html headers,
// and logging in through the page.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// playwright-core is installed in web/node_modules, not next to the tests.
const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export const BASE = process.env.KAON_URL;
export const ADMIN_PASSWORD = process.env.KAON_ADMIN_PASSWORD;
if (!BASE || !ADMIN_PASSWORD) throw new Error('run these through tests/browser/run (KAON_URL, KAON_ADMIN_PASSWORD)');

// Everything every page did that a clean page must not do.
export const seen = {
	consoleErrors: [],
	cspViolations: [],
	pageErrors: [],
	indexResponses: [],
	serverErrors: [],
};

let browser = null;

export async function browserStart() {
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-background-networking'],
	});
	return browser;
}

export async function browserStop() {
	if (browser) await browser.close();
	browser = null;
}

// The API answering 4xx is expected (no session yet, a wrong password; a
// model's 422 for bad arguments on the DEEPaaS API under /v2/); chromium
// still logs each one as "Failed to load resource".
function expectedConsoleError(msg) {
	const loc = msg.location();
	if (!loc || !loc.url) return false;
	const u = new URL(loc.url);
	return (
		u.origin === new URL(BASE).origin &&
		(u.pathname.startsWith('/api/v1/') || u.pathname.startsWith('/v2/')) &&
		/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())
	);
}

// timezoneId: the browser's time zone (an IANA name), for pages that show
// local times; the machine's when not given.
export async function pageNew({ viewport = { width: 1280, height: 800 }, timezoneId } = {}) {
	const context = await browser.newContext({ viewport, baseURL: BASE, ...(timezoneId ? { timezoneId } : {}) });
	const page = await context.newPage();
	page.setDefaultTimeout(10000);
	await page.exposeFunction('__kaonCspViolation', (v) => seen.cspViolations.push(v));
	// Init scripts come in through the DevTools protocol, so the page's CSP
	// does not stop this one from reporting what the CSP stopped.
	await page.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__kaonCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
		});
	});
	page.on('console', (msg) => {
		if (msg.type() !== 'error' || expectedConsoleError(msg)) return;
		seen.consoleErrors.push(`${msg.text()} (${msg.location().url || '?'})`);
	});
	page.on('pageerror', (err) => seen.pageErrors.push(String(err && err.stack ? err.stack : err)));
	page.on('response', (resp) => {
		const u = new URL(resp.url());
		if (u.origin !== new URL(BASE).origin) return;
		if (resp.status() >= 500) seen.serverErrors.push(`${resp.status()} ${u.pathname}`);
		if (resp.request().resourceType() === 'document')
			seen.indexResponses.push({ url: u.pathname, status: resp.status(), headers: resp.headers() });
	});
	return { context, page };
}

export async function loginThroughPage(page, username, password) {
	await page.goto('/');
	await page.locator('#username').waitFor();
	await page.fill('#username', username);
	await page.fill('#password', password);
	await page.click('#login-submit');
}

export async function loginAsAdmin() {
	const { context, page } = await pageNew();
	await loginThroughPage(page, 'admin', ADMIN_PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	return { context, page };
}

// POST /api/v1/login from node, outside any browser. Resolves to the
// status and, on success, what later calls need: the session cookie and
// its CSRF token.
export async function apiLogin(username, password) {
	const res = await fetch(BASE + '/api/v1/login', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ username, password }),
	});
	const out = { status: res.status, cookie: null, csrf: null };
	if (res.ok) {
		const m = /kaon_session=([^;]*)/.exec(res.headers.get('set-cookie') || '');
		out.cookie = m ? `kaon_session=${m[1]}` : null;
		out.csrf = (await res.json()).csrf_token;
	} else {
		await res.body?.cancel();
	}
	return out;
}

// A request inside a session from apiLogin; resolves to the fetch Response.
export function apiAs(session, method, path, body) {
	const headers = { Cookie: session.cookie };
	if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = session.csrf;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	return fetch(BASE + '/api/v1' + path, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
	});
}

// Screenshots for people to look at, only when KAON_SCREENSHOTS names a folder.
export async function screenshot(page, name) {
	const dir = process.env.KAON_SCREENSHOTS;
	if (!dir) return;
	mkdirSync(dir, { recursive: true });
	await page.screenshot({ path: path.join(dir, name + '.png'), fullPage: true });
}

export { assert };
