// tests/browser/workspace.test.mjs — the workspace pages as a new user
// meets them: Files (uploads with progress, drag and drop, a resumed
// upload, quota errors, previews that cannot script the app, names with
// HTML), the Editor (save, 409 conflict with reload / overwrite, Run with
// live output, Stop, a pending run with its queue position), Jobs and the
// job detail, and the Cluster page. Every change the pages send carries
// X-CSRF-Token.
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
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

const USER = 'wren';
const PASSWORD = 'workspace-pass-1';
let admin = null;
let wren = null; // wren's API session, for changes "behind the page's back"
const writes = []; // every non-GET API request the pages sent

before(async () => {
	await browserStart();
	admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	const r = await apiAs(admin, 'POST', '/users', { username: USER, display_name: 'Wren', password: PASSWORD, groups: ['researchers'] });
	assert.equal(r.status, 201, await r.text());
	wren = await apiLogin(USER, PASSWORD);
	assert.equal(wren.status, 200);
});
after(async () => {
	await browserStop();
	// Jobs outlive the daemon: stop every job of wren's still going, or its
	// processes would keep the Unix account from being removed.
	if (wren) {
		const r = await apiAs(wren, 'GET', '/jobs?state=pending,running&limit=1000');
		for (const j of r.ok ? (await r.json()).jobs : []) await apiAs(wren, 'POST', `/jobs/${j.id}/cancel`);
		await sleep(1000);
		await apiAs(wren, 'POST', '/logout');
	}
	if (admin) await apiAs(admin, 'POST', '/logout');
});

async function userPage(opts) {
	const { context, page } = await pageNew(opts);
	page.on('request', (req) => {
		const u = new URL(req.url());
		if (u.origin === new URL(BASE).origin && u.pathname.startsWith('/api/v1/') && !['GET', 'HEAD'].includes(req.method()) && u.pathname !== '/api/v1/login')
			writes.push({ method: req.method(), path: u.pathname, csrf: req.headers()['x-csrf-token'] || null });
	});
	await loginThroughPage(page, USER, PASSWORD);
	await page.locator('[data-testid="user-menu"]').waitFor();
	return { context, page };
}

// PUT bytes as wren through the API (not the page).
async function putFile(path, body) {
	const res = await fetch(BASE + '/api/v1/files/' + path.split('/').map(encodeURIComponent).join('/'), {
		method: 'PUT',
		headers: { Cookie: wren.cookie, 'X-CSRF-Token': wren.csrf, 'Content-Type': 'application/octet-stream' },
		body,
	});
	assert.ok(res.ok, `PUT ${path}: ${res.status} ${await res.text()}`);
}

async function getFile(path) {
	const res = await apiAs(wren, 'GET', '/files/' + path.split('/').map(encodeURIComponent).join('/'));
	assert.equal(res.status, 200);
	return Buffer.from(await res.arrayBuffer());
}

// A one-page PDF that says text, written by hand (no PDF library needed).
function minimalPdf(text) {
	const objs = [
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
		null,
		'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
	];
	const stream = `BT /F1 20 Tf 20 100 Td (${text}) Tj ET`;
	objs[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
	let out = '%PDF-1.4\n';
	const offsets = objs.map((o, i) => {
		const at = out.length;
		out += `${i + 1} 0 obj\n${o}\nendobj\n`;
		return at;
	});
	const xref = out.length;
	out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
	for (const at of offsets) out += `${String(at).padStart(10, '0')} 00000 n \n`;
	out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
	return Buffer.from(out, 'latin1');
}

const row = (page, name) => page.locator(`[data-testid="file-row"][data-name="${name.replace(/["\\]/g, '\\$&')}"]`);
const sha = (b) => createHash('sha256').update(b).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The editor's text, as CodeMirror holds it.
async function editorText(page) {
	return page.locator('.cm-content').evaluate((el) => {
		const view = el.closest('.cm-editor');
		return [...view.querySelectorAll('.cm-line')].map((l) => l.textContent).join('\n');
	});
}

test('Files: folders, several uploads with progress bars, drag and drop, a resumed upload, quota errors', async () => {
	const { context, page } = await userPage();
	await page.click('nav [data-testid="nav-files"]');
	await page.locator('[data-testid="page-files"]').waitFor();
	// A new account's home holds only hidden files (from /etc/skel), which
	// are not listed until asked for.
	await page.getByText('This folder is empty').waitFor();

	// A new folder, then into it.
	await page.click('#files-mkdir');
	await page.fill('#name-input', 'project');
	await page.click('[data-testid="name-submit"]');
	await row(page, 'project').waitFor();
	await row(page, 'project').locator('[data-testid="file-open"]').click();
	await page.waitForURL(/#\/files\/project$/);
	assert.match(await page.locator('[data-testid="breadcrumbs"]').innerText(), /Home\s*\/?\s*project/);

	// Three files at once: two small (one PUT each) and a 10 MiB one that
	// goes through the resumable API in 4 MiB chunks. The second chunk is
	// held back, then its connection is cut: the page must resume from the
	// server's offset, not start over.
	const big = randomBytes(10 << 20);
	const tricky = '<b>bold<img src=x onerror="window.__pwned=1">.txt';
	let chunkPuts = 0;
	let resumedAt = null;
	let releaseHeld;
	const held = new Promise((r) => (releaseHeld = r));
	await page.route('**/api/v1/uploads/*', async (route) => {
		const req = route.request();
		if (req.method() !== 'PUT') return route.continue();
		chunkPuts++;
		if (chunkPuts === 2) {
			await held;
			return route.abort('connectionreset');
		}
		if (chunkPuts === 3) resumedAt = req.headers()['content-range'];
		return route.continue();
	});
	await page.setInputFiles('[data-testid="upload-input"]', [
		{ name: 'hello.py', mimeType: 'text/x-python', buffer: Buffer.from('print("hello from kaon")\n') },
		{ name: tricky, mimeType: 'text/plain', buffer: Buffer.from('just text\n') },
		{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big },
	]);
	const bigItem = page.locator('[data-testid="upload-item"][data-name="big.bin"]');
	await bigItem.waitFor();
	// Held at the second chunk: the bar shows the part that went through.
	const bar = bigItem.locator('[role="progressbar"]');
	await page.waitForFunction((el) => Number(el.getAttribute('aria-valuenow')) >= 40, await bar.elementHandle());
	assert.equal(await bigItem.getAttribute('data-state'), 'uploading');
	assert.ok(await bar.isVisible(), 'the progress bar is visible');
	const pct = Number(await bar.getAttribute('aria-valuenow'));
	assert.ok(pct > 0 && pct < 100, `progress while uploading: ${pct}`);
	assert.match(await bigItem.innerText(), /Uploading \d+%/);
	await screenshot(page, 'files-uploading');
	releaseHeld();
	await page.locator('[data-testid="upload-item"][data-name="big.bin"][data-state="done"]').waitFor({ timeout: 30000 });
	assert.equal(await bar.getAttribute('aria-valuenow'), '100');
	assert.equal(resumedAt, `bytes ${4 << 20}-${(8 << 20) - 1}/${10 << 20}`, 'the upload resumed at the offset the server kept');
	await page.unroute('**/api/v1/uploads/*');
	for (const n of ['hello.py', tricky])
		await page.locator(`[data-testid="upload-item"][data-state="done"]`, { hasText: n.slice(0, 8) }).first().waitFor();
	assert.equal(sha(await getFile('project/big.bin')), sha(big), 'the resumed upload is byte for byte the file');
	await row(page, 'big.bin').waitFor();
	assert.match(await row(page, 'big.bin').innerText(), /\b10 MiB\b/);

	// A name with HTML is shown as text, never as markup.
	const trickyRow = row(page, tricky);
	await trickyRow.waitFor();
	assert.equal((await trickyRow.locator('.name-text').innerText()).trim(), tricky);
	assert.equal(await page.locator('[data-testid="files-table"] b, [data-testid="files-table"] img').count(), 0);
	assert.equal(await page.evaluate(() => window.__pwned), undefined);

	// Drag and drop onto the list uploads too.
	await page.evaluate(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['dropped bytes\n'], 'dropped.txt', { type: 'text/plain' }));
		dt.items.add(new File(['second\n'], 'dropped2.txt', { type: 'text/plain' }));
		const zone = document.querySelector('[data-testid="dropzone"]');
		for (const type of ['dragenter', 'dragover', 'drop'])
			zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
	});
	await row(page, 'dropped.txt').waitFor();
	await row(page, 'dropped2.txt').waitFor();
	assert.equal((await getFile('project/dropped.txt')).toString(), 'dropped bytes\n');

	// Over the quota (16 MiB in tests/browser/run, 10 used): refused before
	// any byte is sent, and the page says so.
	await page.setInputFiles('[data-testid="upload-input"]', [{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(8 << 20) }]);
	const err = page.locator('[data-testid="upload-item"][data-name="huge.bin"] [data-testid="upload-error"]');
	await err.waitFor();
	assert.match(await err.innerText(), /quota/i);
	await screenshot(page, 'files-quota');

	// Sort by size, largest first.
	await page.click('[data-testid="sort-size"]');
	await page.click('[data-testid="sort-size"]');
	const names = await page.locator('[data-testid="file-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.name));
	assert.equal(names[0], 'big.bin');

	// Rename, copy, delete (with a confirmation).
	await row(page, 'dropped2.txt').locator('[data-testid="file-rename"]').click();
	await page.fill('#name-input', 'project/renamed.txt');
	await page.click('[data-testid="name-submit"]');
	await row(page, 'renamed.txt').waitFor();
	assert.equal(await row(page, 'dropped2.txt').count(), 0);
	await row(page, 'renamed.txt').locator('[data-testid="file-copy"]').click();
	await page.click('[data-testid="name-submit"]');
	await row(page, 'renamed copy.txt').waitFor();
	await row(page, 'renamed copy.txt').locator('[data-testid="file-delete"]').click();
	await page.locator('[data-testid="delete-file-dialog"]').waitFor();
	await page.click('[data-testid="delete-file-dialog"] [data-testid="confirm"]');
	await row(page, 'renamed copy.txt').waitFor({ state: 'detached' });
	await page.locator('[data-testid="uploads"] button', { hasText: 'Clear finished' }).click();
	await screenshot(page, 'files');

	// Download links: a file, and the folder as a tar.
	assert.match(await row(page, 'hello.py').locator('[data-testid="file-download"]').getAttribute('href'), /\/api\/v1\/files\/project\/hello\.py\?download=1$/);
	assert.match(await page.locator('[data-testid="download-folder"]').getAttribute('href'), /\/api\/v1\/files\/project\?archive=tar$/);
	const dl = page.waitForEvent('download');
	await row(page, 'hello.py').locator('[data-testid="file-download"]').click();
	assert.equal((await dl).suggestedFilename(), 'hello.py');
	await context.close();
});

test('Preview: Markdown is rendered without its HTML, a PDF shows in the viewer, an HTML file cannot script the app', async () => {
	await putFile('notes.md', '# Results\n\nSome *text*.\n\n<script>window.__md = 1</script>\n<img src=x onerror="window.__md = 2">\n\n[bad link](javascript:window.__md=3)\n');
	await putFile('page.html', '<!doctype html><title>user page</title><h1 id="h">user html</h1>\n<script>try { parent.document.body.dataset.pwned = "yes"; } catch (e) {} document.getElementById("h").textContent = "script ran";</script>\n');
	const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
	await putFile('dot.png', png);
	await putFile('paper.pdf', minimalPdf('Hello from a PDF'));
	const { context, page } = await userPage();
	await page.goto('/#/files');
	await row(page, 'notes.md').locator('[data-testid="file-open"]').click();
	const md = page.locator('[data-testid="preview-markdown"]');
	await md.waitFor();
	assert.equal(await md.locator('h1').innerText(), 'Results');
	assert.equal(await md.locator('em').innerText(), 'text');
	assert.equal(await md.locator('script, img').count(), 0, 'raw HTML in Markdown is not rendered');
	assert.match(await md.innerText(), /<script>window.__md = 1<\/script>/);
	assert.equal(await md.locator('a[href^="javascript"]').count(), 0);
	assert.equal(await page.evaluate(() => window.__md), undefined);
	await screenshot(page, 'preview-markdown');
	await page.keyboard.press('Escape');

	await row(page, 'page.html').locator('[data-testid="file-open"]').click();
	const frameEl = page.locator('[data-testid="preview-html"]');
	await frameEl.waitFor();
	assert.equal(await frameEl.getAttribute('sandbox'), '', 'the iframe is sandboxed with no permissions');
	const frame = await (await frameEl.elementHandle()).contentFrame();
	await frame.waitForLoadState();
	await frame.locator('#h').waitFor();
	assert.equal(await frame.locator('#h').innerText(), 'user html', "the file's script did not run");
	// Even code running in the frame cannot reach this page.
	const probe = await frame.evaluate(() => {
		try {
			return 'read: ' + parent.document.title;
		} catch (e) {
			return 'blocked: ' + e.name;
		}
	});
	assert.match(probe, /^blocked: SecurityError/);
	assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined);
	await screenshot(page, 'preview-html');
	await page.keyboard.press('Escape');

	// A PDF shows in the browser's own viewer inside the preview, although
	// it is served with CSP sandbox like every user file.
	const pdfLoaded = page.waitForResponse((r) => r.url().endsWith('/api/v1/files/paper.pdf'));
	await row(page, 'paper.pdf').locator('[data-testid="file-open"]').click();
	const pdfFrame = page.locator('[data-testid="preview-pdf"]');
	await pdfFrame.waitFor();
	const pdfRes = await pdfLoaded;
	assert.equal(pdfRes.status(), 200);
	const pdfHeaders = await pdfRes.allHeaders();
	assert.equal(pdfHeaders['content-type'], 'application/pdf');
	assert.equal(pdfHeaders['content-security-policy'], 'sandbox');
	await sleep(1500); // the viewer draws the page
	await screenshot(page, 'preview-pdf');
	await page.keyboard.press('Escape');

	await row(page, 'dot.png').locator('[data-testid="file-open"]').click();
	await page.locator('[data-testid="preview-image"]').waitFor();
	assert.ok(await page.locator('[data-testid="preview-image"]').evaluate((img) => img.complete && img.naturalWidth === 1));
	await page.keyboard.press('Escape');
	await context.close();
});

test('Editor: open from Files, edit, save with Ctrl-S; a change on disk answers 409 and reload / overwrite work', async () => {
	await putFile('edit.py', 'print("one")\n');
	const { context, page } = await userPage();
	await page.goto('/#/files');
	await row(page, 'edit.py').locator('[data-testid="file-edit"]').click();
	await page.waitForURL(/#\/edit\/edit\.py$/);
	await page.locator('.cm-content').waitFor();
	await page.locator('.cm-line', { hasText: 'print("one")' }).waitFor();
	assert.equal(await page.locator('nav [data-testid="nav-files"]').getAttribute('aria-current'), 'page');

	await page.locator('.cm-content').click();
	await page.keyboard.press('Control+End');
	await page.keyboard.type('print("two")');
	await page.locator('[data-testid="save-state"]', { hasText: 'Unsaved' }).waitFor();
	await page.keyboard.press('Control+s');
	await page.locator('[data-testid="save-state"]', { hasText: 'Saved' }).waitFor();
	assert.equal((await getFile('edit.py')).toString(), 'print("one")\nprint("two")');
	await screenshot(page, 'editor');

	// Changed on disk behind the editor's back: saving is refused with 409.
	await putFile('edit.py', 'print("from disk")\n');
	await page.keyboard.type('\n# mine');
	const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/files/edit.py') && r.request().method() === 'PUT');
	await page.keyboard.press('Control+s');
	assert.equal((await refused).status(), 409);
	await page.locator('[data-testid="conflict-dialog"]').waitFor();
	assert.equal((await getFile('edit.py')).toString(), 'print("from disk")\n', 'the change on disk is kept');
	await screenshot(page, 'editor-conflict');
	await page.click('[data-testid="conflict-reload"]');
	await page.locator('[data-testid="conflict-dialog"]').waitFor({ state: 'detached' });
	await page.locator('.cm-line', { hasText: 'print("from disk")' }).waitFor();
	assert.equal(await editorText(page), 'print("from disk")\n');

	// Again, and this time overwrite.
	await putFile('edit.py', 'print("disk again")\n');
	await page.locator('.cm-content').click();
	await page.keyboard.press('Control+End');
	await page.keyboard.type('print("mine wins")');
	await page.click('#editor-save');
	await page.locator('[data-testid="conflict-dialog"]').waitFor();
	await page.click('[data-testid="conflict-overwrite"]');
	await page.locator('[data-testid="save-state"]', { hasText: 'Saved' }).waitFor();
	assert.equal((await getFile('edit.py')).toString(), 'print("from disk")\nprint("mine wins")');
	// And the next save goes through with the new ETag, no conflict.
	await page.keyboard.type('\n');
	await page.keyboard.press('Control+s');
	await page.locator('[data-testid="save-state"]', { hasText: 'Saved' }).waitFor();
	assert.equal(await page.locator('[data-testid="conflict-dialog"]').count(), 0);
	await context.close();
});

test('Run: output streams live, the exit status shows; Stop ends a long run', async () => {
	await putFile('live.py', 'import sys, time\nprint("first line")\ntime.sleep(4)\nprint("second line")\nprint("to stderr", file=sys.stderr)\n');
	await putFile('long.sh', 'echo tick\nsleep 600\n');
	const { context, page } = await userPage();
	await page.goto('/#/edit/live.py');
	await page.locator('.cm-line', { hasText: 'first line' }).waitFor();
	await page.click('[data-testid="run"]');
	const out = page.locator('[data-testid="run-output"] [data-testid="job-output"]');
	await out.getByText('first line').waitFor({ timeout: 20000 });
	// Live: the first line is there while the job still runs.
	assert.equal(await page.locator('[data-testid="run-output"] [data-testid="job-state"]').getAttribute('data-state'), 'running');
	assert.doesNotMatch(await out.innerText(), /second line/);
	await screenshot(page, 'editor-running');
	await out.getByText('second line').waitFor({ timeout: 20000 });
	await page.locator('[data-testid="run-output"] [data-testid="job-state"][data-state="completed"]').waitFor({ timeout: 20000 });
	await out.locator('.joblog-err', { hasText: 'to stderr' }).waitFor();
	assert.match(await page.locator('[data-testid="job-status-text"]').innerText(), /exit status 0/);
	assert.match(await page.locator('[data-testid="job-elapsed"]').innerText(), /^0:0[3-9]$/);
	await screenshot(page, 'editor-done');

	await page.goto('/#/edit/long.sh');
	await page.locator('.cm-line', { hasText: 'sleep 600' }).waitFor();
	await page.click('[data-testid="run"]');
	await out.getByText('tick').waitFor({ timeout: 20000 });
	await page.click('[data-testid="job-stop"]');
	await page.locator('[data-testid="run-output"] [data-testid="job-state"][data-state="cancelled"]').waitFor({ timeout: 20000 });
	assert.match(await page.locator('[data-testid="job-status-text"]').innerText(), /stopped/);
	await context.close();
});

test('Run: a pending run says what it waits for and its place in the queue, then runs on its GPU', async () => {
	// Both (simulated) GPUs taken by another job of wren's.
	const r = await apiAs(wren, 'POST', '/jobs', { name: 'blocker', command: ['sleep', '600'], resources: { gpus: 2, walltime_s: 600 } });
	const text = await r.text();
	assert.equal(r.status, 201, text);
	const blocker = JSON.parse(text);
	for (let i = 0; i < 100; i++) {
		const j = await (await apiAs(wren, 'GET', '/jobs/' + blocker.id)).json();
		if (j.state === 'running') break;
		await sleep(100);
	}
	await putFile('gpu.py', 'import os\nprint("GPUs:", os.environ.get("CUDA_VISIBLE_DEVICES"))\n');
	const { context, page } = await userPage();
	await page.goto('/#/edit/gpu.py');
	await page.locator('.cm-line', { hasText: 'CUDA_VISIBLE_DEVICES' }).waitFor();
	await page.selectOption('[data-testid="run-mode"]', 'gpu');
	await page.click('[data-testid="run"]');
	const status = page.locator('[data-testid="run-output"] [data-testid="job-status-text"]');
	await status.getByText(/waiting for a GPU: first in the queue, expected start \d\d:\d\d/).waitFor({ timeout: 20000 });
	await screenshot(page, 'editor-pending');

	assert.equal((await apiAs(wren, 'POST', `/jobs/${blocker.id}/cancel`)).status, 200);
	const out = page.locator('[data-testid="run-output"] [data-testid="job-output"]');
	await out.getByText(/GPUs: [01]/).waitFor({ timeout: 30000 });
	await page.locator('[data-testid="run-output"] [data-testid="job-state"][data-state="completed"]').waitFor({ timeout: 20000 });
	await context.close();
});

test('Jobs: the list updates without a reload, the detail shows spec, resources and output; Cluster shows the node', async () => {
	const { context, page } = await userPage();
	await page.click('nav [data-testid="nav-jobs"]');
	await page.locator('[data-testid="page-jobs"]').waitFor();
	await page.locator('[data-testid="job-row"]', { hasText: 'live.py' }).first().waitFor();
	await page.locator('[data-testid="job-row"]', { hasText: 'long.sh' }).first().waitFor();

	// A job submitted elsewhere shows up by itself.
	const r = await apiAs(wren, 'POST', '/jobs', { name: 'from-the-cli', command: ['sleep', '30'], resources: { gpus: 1, walltime_s: 120 } });
	assert.equal(r.status, 201);
	const cli = await r.json();
	await page.locator(`[data-testid="job-row"][data-id="${cli.id}"]`).waitFor({ timeout: 6000 });
	await screenshot(page, 'jobs');

	await page.locator('[data-testid="job-row"]', { hasText: 'live.py' }).first().locator('a').first().click();
	await page.locator('[data-testid="page-job"]').waitFor();
	await page.locator('[data-testid="job-facts"] [data-testid="job-state"][data-state="completed"]').waitFor();
	assert.match(await page.locator('[data-testid="job-command"]').innerText(), /python3 -u live\.py/);
	await page.locator('[data-testid="job-output"]').getByText('second line').waitFor();
	assert.ok((await page.locator('[data-testid="job-node"]').innerText()).trim().length > 0);
	await screenshot(page, 'job-detail');

	// The running GPU job in its detail: its GPU index, and a Stop button.
	await page.goto(`/#/jobs/${cli.id}`);
	await page.locator('[data-testid="job-facts"] [data-testid="job-state"][data-state="running"]').waitFor({ timeout: 10000 });
	assert.match(await page.locator('[data-testid="job-gpus"]').innerText(), /^[01]$/);

	await page.click('nav [data-testid="nav-cluster"]');
	await page.locator('[data-testid="page-cluster"]').waitFor();
	const node = page.locator('[data-testid="node"]').first();
	await node.waitFor();
	assert.equal(await node.locator('[data-testid="gpu"]').count(), 2);
	await node.locator('[data-testid="gpu"][data-busy="true"]', { hasText: `job ${cli.id}` }).waitFor({ timeout: 6000 });
	await page.locator(`[data-testid="queue-row"][data-id="${cli.id}"]`).waitFor();
	await page.locator('[data-testid="share-table"]').getByText(USER).first().waitFor();
	await screenshot(page, 'cluster');
	await page.setViewportSize({ width: 390, height: 800 });
	await screenshot(page, 'cluster-narrow');

	await page.goto(`/#/jobs/${cli.id}`);
	await page.click('[data-testid="job-stop"]');
	await page.locator('[data-testid="job-facts"] [data-testid="job-state"][data-state="cancelled"]').waitFor({ timeout: 10000 });
	await context.close();
});

test('every change the pages sent carried the CSRF token; no page error, console error or CSP violation', async () => {
	assert.ok(writes.length >= 10, `only ${writes.length} writes were seen`);
	const missing = writes.filter((w) => !w.csrf);
	assert.deepEqual(missing, [], 'requests without X-CSRF-Token');
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	// On purpose: the one cut connection of the resumed upload, and the
	// browser saying it blocked the user's HTML page's script.
	const errors = seen.consoleErrors.filter(
		(e) => !/ERR_CONNECTION_RESET|ERR_FAILED/.test(e) && !/^Blocked script execution in '[^']*\/api\/v1\/files\/page\.html' because the document's frame is sandboxed/.test(e),
	);
	assert.deepEqual(errors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');
});
