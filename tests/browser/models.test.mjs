// tests/browser/models.test.mjs — the model pages against the real daemon,
// the real model worker and the shipped scikit-learn model models/digits:
// an admin adds the model from the catalog page (empty before); a user
// finds it by search and by keyword, opens its page (metadata, the
// description as Markdown, the thumbnail, a curl line), uses Try it with
// an uploaded picture of a digit and sees the digit the model predicts,
// sees the model's 422 next to the field it names and its 400 as a
// message; starts a training from the Train form and follows its status
// and live log to done, then removes it; an admin turns predict off and
// Try it answers 402. Every change carries X-CSRF-Token, and the pages
// are clean under the CSP.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
	ADMIN_PASSWORD,
	apiAs,
	apiLogin,
	assert,
	BASE,
	browserStart,
	browserStop,
	loginThroughPage,
	pageNew,
	screenshot,
	seen,
} from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const USER = 'mod' + Math.random().toString(36).slice(2, 8).replace(/[^a-z]/g, 'x');
const PASSWORD = USER + '-password';
const MODEL_MS = 120000; // registration imports the model; a worker or a training starts Python and fits

let admin = null;
let user = null;
let tmp = null;
let label = null; // the digit the picture shows
const writes = []; // every request that changes something, from the pages

before(async () => {
	await browserStart();
	admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	const r = await apiAs(admin, 'POST', '/users', { username: USER, password: PASSWORD, groups: ['researchers'] });
	assert.equal(r.status, 201, await r.text());
	user = await apiLogin(USER, PASSWORD);
	assert.equal(user.status, 200);

	// The model folder an admin registers: a copy readable by every
	// account (registration reads it with the admin's Unix account).
	tmp = mkdtempSync(path.join(tmpdir(), 'kaon-models-browser-'));
	chmodSync(tmp, 0o755);
	cpSync(path.join(ROOT, 'models/digits'), path.join(tmp, 'digits'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
	execFileSync('chmod', ['-R', 'a+rX', path.join(tmp, 'digits')]);
	// A picture of the last digit of scikit-learn's data set, dark ink on
	// light paper and 64x64, as a user would upload one; and its label.
	execFileSync('/usr/bin/python3', [
		'-c',
		`import sys
import numpy as np
from PIL import Image
from sklearn import datasets
d = datasets.load_digits()
grey = (255 - d.images[-1] * 255 / 16).astype(np.uint8)
Image.fromarray(grey).resize((64, 64), Image.NEAREST).save(sys.argv[1] + "/digit.png")
open(sys.argv[1] + "/digit.label", "w").write(str(int(d.target[-1])))`,
		tmp,
	]);
	label = Number(readFileSync(path.join(tmp, 'digit.label'), 'utf8'));

	// A second model, registered through the API: the DEEPaaS-style test
	// module, whose predict arguments have every kind of input (a
	// required integer, a bounded float, a choice, a boolean, a list, a
	// file) and whose answer can be JSON, text or a picture (the Accept
	// header).
	cpSync(path.join(ROOT, 'tests/e2e/deepaas_style_model'), path.join(tmp, 'deepaas-style'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
	execFileSync('chmod', ['-R', 'a+rX', path.join(tmp, 'deepaas-style')]);
	const reg = await apiAs(admin, 'POST', '/models', { dir: path.join(tmp, 'deepaas-style') });
	assert.equal(reg.status, 201, await reg.text());
});

after(async () => {
	await browserStop();
	if (user) {
		const r = await apiAs(user, 'GET', '/jobs?state=pending,running&limit=1000');
		for (const j of r.ok ? (await r.json()).jobs : []) await (await apiAs(user, 'POST', `/jobs/${j.id}/cancel`)).body?.cancel();
		await (await apiAs(user, 'POST', '/logout')).body?.cancel();
	}
	if (admin) {
		// Out of the catalog: its warm workers stop, and the later test
		// files see the daemon as they expect it.
		await (await apiAs(admin, 'DELETE', '/models/digits')).body?.cancel();
		await (await apiAs(admin, 'DELETE', '/models/deepaas-style')).body?.cancel();
		await (await apiAs(admin, 'DELETE', '/users/' + USER)).body?.cancel();
		await (await apiAs(admin, 'POST', '/logout')).body?.cancel();
	}
	if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function loggedIn(username, password) {
	const { context, page } = await pageNew();
	page.on('request', (req) => {
		const u = new URL(req.url());
		if (u.origin === new URL(BASE).origin && !['GET', 'HEAD'].includes(req.method()) && u.pathname !== '/api/v1/login')
			writes.push({ method: req.method(), path: u.pathname, csrf: req.headers()['x-csrf-token'] || null });
	});
	await loginThroughPage(page, username, password);
	await page.locator('[data-testid="user-menu"]').waitFor();
	return { context, page };
}

const card = (page, name) => page.locator(`[data-testid="model-card"][data-name="${name}"]`);

test('an admin adds the digits model from the catalog page', { timeout: MODEL_MS + 30000 }, async () => {
	const { context, page } = await loggedIn('admin', ADMIN_PASSWORD);
	await page.click('nav [data-testid="nav-models"]');
	await page.locator('[data-testid="page-models"]').waitFor();
	assert.equal(await page.locator('nav [data-testid="nav-models"]').getAttribute('aria-current'), 'page');
	await card(page, 'deepaas-style').waitFor();
	assert.equal(await card(page, 'digits').count(), 0);

	await page.click('[data-testid="model-add"]');
	// A folder without a manifest: the API's message, the dialog stays.
	await page.fill('[data-testid="register-dir"]', tmp);
	await page.click('[data-testid="register-submit"]');
	assert.match(await page.locator('[data-testid="model-register"] [data-testid="error"]').textContent(), /no kaon-model\.json/);
	await page.fill('[data-testid="register-dir"]', path.join(tmp, 'digits'));
	await page.click('[data-testid="register-submit"]');
	// Registration imports the module: then the model's own page.
	await page.locator('[data-testid="page-model"][data-name="digits"]').waitFor({ timeout: MODEL_MS });
	assert.equal(await page.locator('h1').textContent(), 'Handwritten digit classifier');
	assert.equal(await page.locator('[data-testid="model-version"]').textContent(), '1.0.0');
	// The description is Markdown, rendered: **Predict** is bold.
	assert.equal(await page.locator('[data-testid="model-description"] strong').first().textContent(), 'Predict');
	const facts = await page.locator('[data-testid="model-facts"]').textContent();
	assert.match(facts, /MIT/);
	assert.match(facts, /kaon developers/);
	assert.match(facts, /scikit-learn/);
	// The thumbnail is there and loaded (an SVG from the catalog).
	const thumb = page.locator('.model-head [data-testid="model-thumb"]');
	await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
	// curl users get the DEEPaaS endpoint with the upload.
	const curl = await page.locator('[data-testid="curl-predict"]').inputValue();
	assert.match(curl, /-F 'image=@FILE'/);
	assert.ok(curl.endsWith(`${BASE}/v2/models/digits/predict/`), curl);
	// The admin's flags.
	assert.equal(await page.locator('[data-testid="flag-predict"]').isChecked(), true);
	assert.equal(await page.locator('[data-testid="flag-train"]').isChecked(), true);
	await screenshot(page, 'model-about');
	await context.close();
});

test('a user finds the model by search and by keyword', { timeout: 60000 }, async () => {
	const { context, page } = await loggedIn(USER, PASSWORD);
	await page.click('nav [data-testid="nav-models"]');
	await card(page, 'digits').waitFor();
	assert.match(await card(page, 'digits').textContent(), /Recognises a handwritten digit/);
	assert.match(await card(page, 'digits').textContent(), /vision/);
	// The admin's button is not there for a user.
	assert.equal(await page.locator('[data-testid="model-add"]').count(), 0);

	await page.fill('[data-testid="models-search"]', 'nothing-like-this');
	await page.locator('[data-testid="models-empty"]').waitFor();
	assert.match(await page.locator('[data-testid="models-empty"]').textContent(), /No model matches “nothing-like-this”/);
	assert.match(page.url(), /#\/models\?q=nothing-like-this$/);
	await page.fill('[data-testid="models-search"]', 'HANDWRITTEN');
	await card(page, 'digits').waitFor();

	// A keyword of the card filters by keyword (?keyword=vision).
	await page.fill('[data-testid="models-search"]', '');
	await card(page, 'digits').locator('button', { hasText: 'scikit-learn' }).click();
	await page.locator('[data-testid="models-keyword"]').waitFor();
	assert.match(page.url(), /keyword=scikit-learn/);
	await card(page, 'digits').waitFor();
	await screenshot(page, 'models-catalog');

	await card(page, 'digits').locator('[data-testid="model-card-link"]').click();
	await page.locator('[data-testid="page-model"][data-name="digits"]').waitFor();
	// A user sees no admin flags.
	assert.equal(await page.locator('[data-testid="model-flags"]').count(), 0);
	await context.close();
});

test('Try it: a picture of a digit is recognised; bad arguments are shown where they belong', { timeout: MODEL_MS + 60000 }, async () => {
	const { context, page } = await loggedIn(USER, PASSWORD);
	await page.goto('/#/models/digits');
	await page.click('[data-testid="model-tab-try"]');
	await page.locator('[data-testid="try-form"]').waitFor();
	assert.equal(await page.locator('[data-testid="model-tab-try"]').getAttribute('aria-current'), 'page');
	// The form comes from the predict schema: a file input for the
	// picture, a text input for the 64 pixels, with their help.
	assert.equal(await page.locator('[data-testid="arg-image"]').getAttribute('type'), 'file');
	assert.equal(await page.locator('[data-testid="arg-pixels"]').getAttribute('type'), 'text');
	assert.match(await page.locator('[data-testid="try-form"]').textContent(), /A picture of one handwritten digit/);
	assert.match(await page.locator('[data-testid="try-form"]').textContent(), /64 numbers from 0 to 16/);

	await page.setInputFiles('[data-testid="arg-image"]', path.join(tmp, 'digit.png'));
	assert.match(await page.locator('[data-testid="try-curl"]').inputValue(), /-F 'image=@digit\.png;type=image\/png'/);
	await page.click('[data-testid="try-submit"]');
	// The first prediction starts the model's warm worker.
	const json = page.locator('[data-testid="predict-json"]');
	await json.waitFor({ timeout: MODEL_MS });
	const answer = JSON.parse(await json.textContent());
	assert.equal(answer.status, 'OK');
	assert.equal(answer.predictions.label, label, `the model read the picture of a ${label} as ${answer.predictions.label}`);
	assert.match(await json.textContent(), /\n {2}"predictions": \{\n/, 'the JSON is pretty-printed');
	await screenshot(page, 'model-try');

	// Three pixels instead of 64: the model's 422 under the field.
	await page.setInputFiles('[data-testid="arg-image"]', []);
	await page.fill('[data-testid="arg-pixels"]', '0, 3, 16');
	await page.click('[data-testid="try-submit"]');
	const pixErr = page.locator('[data-testid="arg-error-pixels"]');
	await pixErr.waitFor();
	assert.match(await pixErr.textContent(), /64/);
	assert.equal(await page.locator('[data-testid="try-error"]').getAttribute('data-status'), '422');
	assert.equal(await page.locator('[data-testid="arg-pixels"]').getAttribute('aria-invalid'), 'true');
	assert.equal(await json.count(), 0, 'no stale result next to an error');
	// A number that is not one is caught before anything is sent.
	await page.fill('[data-testid="arg-pixels"]', '0, x');
	await page.click('[data-testid="try-submit"]');
	await page.waitForFunction(() => /"x" is not a number/.test(document.querySelector('[data-testid="arg-error-pixels"]')?.textContent || ''));
	// Nothing at all: the model's own 400, as a message.
	await page.fill('[data-testid="arg-pixels"]', '');
	await page.click('[data-testid="try-submit"]');
	await page.waitForFunction(() => document.querySelector('[data-testid="try-error"]')?.dataset.status === '400');
	assert.match(await page.locator('[data-testid="try-error-message"]').textContent(), /give either an image file or 64 pixel values/i);
	await context.close();
});

test('Try it: a form for every kind of argument; JSON, a picture and a download as answers', { timeout: MODEL_MS + 60000 }, async () => {
	const { context, page } = await loggedIn(USER, PASSWORD);
	await page.goto('/#/models/deepaas-style/try');
	await page.locator('[data-testid="try-form"]').waitFor();
	const arg = (n) => page.locator(`[data-testid="arg-${n}"]`);
	// Each parameter its input, its default filled in, required marked.
	assert.equal(await arg('data').getAttribute('type'), 'file');
	assert.equal(await arg('demo_int').getAttribute('type'), 'number');
	assert.equal(await arg('demo_int').getAttribute('required'), '');
	assert.equal(await arg('demo_int').getAttribute('step'), '1');
	assert.match(await page.locator('label[for]', { has: page.locator('text=demo_int') }).textContent(), /required/);
	assert.equal(await arg('demo_float').inputValue(), '0.5');
	assert.equal(await arg('demo_float').getAttribute('min'), '0');
	assert.equal(await arg('demo_float').getAttribute('max'), '1');
	assert.equal(await arg('demo_choice').evaluate((el) => el.tagName), 'SELECT');
	assert.equal(await arg('demo_choice').inputValue(), 'choice2');
	assert.equal(await arg('demo_bool').getAttribute('type'), 'checkbox');
	assert.equal(await arg('demo_bool').isChecked(), true);
	assert.equal(await arg('demo_list').inputValue(), '1, 2');
	assert.equal(await arg('name').getAttribute('maxlength'), '5');
	assert.equal(await arg('accept').count(), 0, 'accept is the response type select, not an argument');
	assert.deepEqual(await page.locator('[data-testid="try-accept"] option').allTextContents(), ['application/json', 'text/plain', 'image/png']);

	await arg('demo_int').fill('7');
	await arg('demo_choice').selectOption('choice1');
	await arg('demo_bool').uncheck();
	await arg('demo_list').fill('3 4, 5');
	await page.setInputFiles('[data-testid="arg-data"]', path.join(tmp, 'digit.png'));
	await page.click('[data-testid="try-submit"]');
	const json = page.locator('[data-testid="predict-json"]');
	await json.waitFor({ timeout: MODEL_MS });
	const p = JSON.parse(await json.textContent()).predictions;
	assert.equal(p.demo_int, 7);
	assert.equal(p.demo_choice, 'choice1');
	assert.equal(p.demo_bool, false);
	assert.deepEqual(p.demo_list, [3, 4, 5]);
	assert.equal(p.demo_float, 0.5);
	assert.equal(p.data.original_filename, 'digit.png');
	assert.equal(p.data.content_type, 'image/png');
	// The curl line says the same, accept in its header.
	const curl = await page.locator('[data-testid="try-curl"]').inputValue();
	assert.match(curl, /-F demo_int=7 /);
	assert.match(curl, /-F demo_list=3 -F demo_list=4 -F demo_list=5 /);
	assert.match(curl, /-H 'accept: application\/json'/);

	// image/png: the model answers with the picture, shown inline.
	await page.selectOption('[data-testid="try-accept"]', 'image/png');
	await page.click('[data-testid="try-submit"]');
	const img = page.locator('[data-testid="predict-image"]');
	await img.waitFor();
	await page.waitForFunction((el) => el.complete && el.naturalWidth === 64, await img.elementHandle());
	assert.equal(await page.locator('[data-testid="predict-result"]').getAttribute('data-kind'), 'image');
	await screenshot(page, 'model-try-image');

	// text/plain: a download.
	await page.selectOption('[data-testid="try-accept"]', 'text/plain');
	await page.click('[data-testid="try-submit"]');
	const link = page.locator('[data-testid="predict-download"]');
	await link.waitFor();
	const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
	assert.equal(download.suggestedFilename(), 'prediction.txt');
	const file = await download.path();
	assert.equal(readFileSync(file, 'utf8'), 'demo_int=7');
	await context.close();
	// Its warm worker holds a CPU until it idles out; the training below
	// needs one (the test machine may have two).
	await (await apiAs(admin, 'DELETE', '/models/deepaas-style')).body?.cancel();
});

test('Train: a training started from the form reaches done with its live log', { timeout: MODEL_MS + 60000 }, async () => {
	const { context, page } = await loggedIn(USER, PASSWORD);
	await page.goto('/#/models/digits/train');
	await page.locator('[data-testid="train-form"]').waitFor();
	// The train schema's defaults and limits.
	const c = page.locator('[data-testid="arg-C"]');
	assert.equal(await c.getAttribute('type'), 'number');
	assert.equal(await c.inputValue(), '10');
	assert.equal(await page.locator('[data-testid="arg-test_size"]').getAttribute('min'), '0.05');
	assert.equal(await page.locator('[data-testid="arg-test_size"]').getAttribute('max'), '0.9');
	assert.match(await page.locator('[data-testid="train-form"]').textContent(), /Share of the data held out/);
	assert.match(await page.locator('[data-testid="trainings"], .empty').first().textContent(), /No training/);

	await page.fill('[data-testid="arg-test_size"]', '0.3');
	await page.click('[data-testid="train-submit"]');
	const panel = page.locator('[data-testid="training"]');
	await panel.waitFor();
	const uuid = await panel.getAttribute('data-uuid');
	assert.match(uuid, /^[0-9a-f]{32}$/);
	assert.match(page.url(), new RegExp(`#/models/digits/train\\?t=${uuid}$`));
	assert.match(await panel.textContent(), /test_size=0\.3/);
	// Running, then done, with the model's print in the live log.
	await page.locator(`[data-testid="training"][data-status="done"]`).waitFor({ timeout: MODEL_MS });
	await page.waitForFunction(() => /accuracy/.test(document.querySelector('[data-testid="training-log"]')?.textContent || ''), null, { timeout: 20000 });
	const output = JSON.parse(await page.locator('[data-testid="training-output"]').textContent());
	assert.ok(output.accuracy > 0.9, `accuracy ${output.accuracy}`);
	assert.equal(output.test_samples, 540);
	await page.locator(`[data-testid="training-row"][data-uuid="${uuid}"][data-status="done"]`).waitFor();
	await screenshot(page, 'model-train');

	// What the page showed is what a DEEPaaS client sees.
	const r = await fetch(`${BASE}/v2/models/digits/train/${uuid}`, { headers: { Cookie: user.cookie } });
	assert.equal(r.status, 200);
	const rec = await r.json();
	assert.equal(rec.status, 'done');
	assert.equal(rec.args.test_size, 0.3);

	// Only an admin may make it a new version of the model.
	assert.equal(await page.locator('[data-testid="training-register"]').count(), 0);
	const adm = await loggedIn('admin', ADMIN_PASSWORD);
	await adm.page.goto(`/#/models/digits/train?t=${uuid}`);
	await adm.page.locator('[data-testid="training-register"]').waitFor();
	await adm.page.fill('[data-testid="register-version"]', 'bad version');
	await adm.page.click('[data-testid="register-submit"]');
	await adm.page.locator('[data-testid="register-error"]').waitFor();
	assert.match(await adm.page.locator('[data-testid="register-error"]').textContent(), /version/);
	await adm.page.fill('[data-testid="register-version"]', '1.0.1');
	await adm.page.click('[data-testid="register-submit"]');
	await adm.page.locator('[data-testid="training-registered"][data-version="1.0.1"]').waitFor({ timeout: MODEL_MS });
	await adm.context.close();
	const cur = await apiAs(admin, 'GET', '/models/digits');
	assert.equal((await cur.json()).version, '1.0.1');

	// Remove it: DELETE, and it leaves the list.
	await page.locator(`[data-testid="training-row"][data-uuid="${uuid}"] button`, { hasText: 'Remove' }).click();
	await page.click('[data-testid="training-delete"] [data-testid="confirm"]');
	await page.locator(`[data-testid="training-row"][data-uuid="${uuid}"]`).waitFor({ state: 'detached' });
	const gone = await fetch(`${BASE}/v2/models/digits/train/${uuid}`, { headers: { Cookie: user.cookie } });
	assert.equal(gone.status, 404);
	await gone.body?.cancel();
	await context.close();
});

test('a public model can be tried without an account; a private one cannot', { timeout: MODEL_MS + 30000 }, async () => {
	const r = await apiAs(admin, 'PATCH', '/models/digits', { public: true });
	assert.equal(r.status, 200);
	await r.body?.cancel();
	const { context, page } = await pageNew();
	await page.goto('/#/try/digits');
	await page.locator('[data-testid="public-title"]').waitFor();
	assert.match(await page.locator('[data-testid="public-title"]').textContent(), /digit/i);
	assert.equal(await page.locator('[data-testid="login-page"]').count(), 0, 'no login page');
	await page.setInputFiles('[data-testid="arg-image"]', path.join(tmp, 'digit.png'));
	await page.click('[data-testid="try-submit"]');
	const json = page.locator('[data-testid="predict-json"]');
	await json.waitFor({ timeout: MODEL_MS });
	assert.equal(JSON.parse(await json.textContent()).predictions.label, label);
	// A model that is not public: no form, a way to log in.
	await page.goto('/#/try/deepaas-style');
	await page.locator('.empty', { hasText: 'no public model' }).waitFor();
	assert.equal(await page.locator('[data-testid="try-form"]').count(), 0);
	await context.close();
	const back = await apiAs(admin, 'PATCH', '/models/digits', { public: false });
	await back.body?.cancel();
});

test('an admin turns predict off: the badge, and Try it answers 402', { timeout: 60000 }, async () => {
	const { context, page } = await loggedIn('admin', ADMIN_PASSWORD);
	await page.goto('/#/models/digits');
	await page.locator('[data-testid="flag-predict"]').uncheck();
	await page.locator('.model-head .badge', { hasText: 'predict off' }).waitFor();
	await page.click('[data-testid="model-tab-try"]');
	await page.setInputFiles('[data-testid="arg-image"]', path.join(tmp, 'digit.png'));
	await page.click('[data-testid="try-submit"]');
	await page.waitForFunction(() => document.querySelector('[data-testid="try-error"]')?.dataset.status === '402');
	assert.match(await page.locator('[data-testid="try-error-message"]').textContent(), /disabled/);
	await page.click('[data-testid="model-tab-about"]');
	await page.locator('[data-testid="flag-predict"]').check();
	await page.locator('.model-head .badge', { hasText: 'predict off' }).waitFor({ state: 'detached' });
	await context.close();
});

test('the model pages are clean: CSRF on every change, no CSP violation, no error', () => {
	assert.ok(writes.length >= 6, `only ${writes.length} changes seen`);
	for (const w of writes) assert.ok(w.csrf, `${w.method} ${w.path} without X-CSRF-Token`);
	assert.ok(writes.some((w) => w.path === '/v2/models/digits/predict/'));
	assert.ok(writes.some((w) => w.path === '/v2/models/digits/train/'));
	assert.ok(seen.indexResponses.length > 0, 'no index.html response was seen');
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	assert.deepEqual(seen.consoleErrors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');
});
