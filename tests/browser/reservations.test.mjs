// tests/browser/reservations.test.mjs — the GPU calendar against the real
// daemon (two simulated GPUs, tests/browser/run): a researcher drags a
// window across a GPU's row and books it, and sees the bar; a booking that
// collides is answered with the nearest free windows, and choosing one
// books it; a student's booking waits for approval (hatched), an admin
// approves it from the calendar, and the student finds the notification
// under the bell, which leads to the reservation. A waiting job's page
// says why it waits, its place and its expected start. The browser runs in a
// time zone with a half-hour offset, so a page that mixed up local time
// and UTC would book the wrong hours. And the pages stay clean under the CSP.
import { after, before, test } from 'node:test';
import { ADMIN_PASSWORD, apiAs, apiLogin, assert, browserStart, browserStop, loginThroughPage, pageNew, screenshot, seen } from './lib.mjs';

before(browserStart);
after(browserStop);

const TZ = 'Asia/Kolkata'; // UTC+05:30, no daylight saving time
const tag = Math.random().toString(36).slice(2, 7).replace(/[^a-z]/g, 'x');
const RES = 'resr' + tag; // researchers: books without approval
const STU = 'ress' + tag; // students: every booking waits for an admin
const pw = (u) => u + '-password';

let admin = null;
let res = null;
let stu = null;

before(async () => {
	admin = await apiLogin('admin', ADMIN_PASSWORD);
	assert.equal(admin.status, 200);
	for (const [u, g] of [
		[RES, 'researchers'],
		[STU, 'students'],
	]) {
		const r = await apiAs(admin, 'POST', '/users', { username: u, password: pw(u), groups: [g] });
		assert.equal(r.status, 201, await r.text());
	}
	res = await apiLogin(RES, pw(RES));
	stu = await apiLogin(STU, pw(STU));
	assert.equal(res.status, 200);
	assert.equal(stu.status, 200);
});

// Nothing booked here may hold the GPUs for the test files after this one.
after(async () => {
	for (const s of [res, stu]) {
		if (!s || !s.cookie) continue;
		const from = Math.floor(Date.now() / 1000) - 86400;
		const r = await apiAs(s, 'GET', `/reservations?mine=1&state=pending,approved&from=${from}&to=${from + 90 * 86400}`);
		if (r.ok) {
			for (const x of (await r.json()).reservations) await (await apiAs(s, 'POST', `/reservations/${x.id}/cancel`)).body?.cancel();
		} else {
			await r.body?.cancel();
		}
	}
	if (admin) {
		for (const u of [RES, STU]) await (await apiAs(admin, 'DELETE', '/users/' + u)).body?.cancel();
	}
});

async function userPage(user, password = pw(user)) {
	const { context, page } = await pageNew({ timezoneId: TZ });
	await loginThroughPage(page, user, password);
	await page.locator('[data-testid="user-menu"]').waitFor();
	return { context, page };
}

async function openCalendar(page) {
	await page.click('nav [data-testid="nav-calendar"]');
	await page.locator('[data-testid="page-calendar"] [data-testid="calendar"]').waitFor();
}

// Next week, so a window lies ahead whatever day this runs.
async function nextWeek(page) {
	const shown = await page.locator('[data-testid="calendar"]').getAttribute('data-week');
	await page.click('[data-testid="cal-next"]');
	await page.waitForFunction((w) => {
		const c = document.querySelector('[data-testid="calendar"]');
		return c && c.dataset.week !== w;
	}, shown);
}

// The local time `day` days after the Monday the calendar shows, at `hour`
// o'clock: its instant, where it lies on a row (0..1), and how the booking
// form's datetime-local field writes it. Reckoned in the page, in its zone.
async function localAt(page, day, hour) {
	const ws = await page.locator('[data-testid="calendar"]').getAttribute('data-week');
	return page.evaluate(
		([ws, day, hour]) => {
			const w = Date.parse(ws);
			const d = new Date(w);
			d.setDate(d.getDate() + day);
			d.setHours(hour, 0, 0, 0);
			const e = new Date(w);
			e.setDate(e.getDate() + 7);
			const p = (n) => String(n).padStart(2, '0');
			return {
				iso: d.toISOString().replace(/\.\d{3}Z$/, 'Z'),
				frac: (d.getTime() - w) / (e.getTime() - w),
				input: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hour)}:00`,
			};
		},
		[ws, day, hour],
	);
}

// Press on a GPU's row at a, drag to b, let go.
async function drag(page, gpu, a, b) {
	const box = await page.locator(`[data-testid="cal-track"][data-gpu="${gpu}"]`).boundingBox();
	const y = box.y + box.height / 2;
	await page.mouse.move(box.x + box.width * a.frac, y);
	await page.mouse.down();
	await page.mouse.move(box.x + (box.width * (a.frac + b.frac)) / 2, y, { steps: 4 });
	await page.mouse.move(box.x + box.width * b.frac, y, { steps: 4 });
	await page.mouse.up();
}

const bookingPost = (page) => page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/reservations' && r.request().method() === 'POST');

async function reservation(session, id) {
	const r = await apiAs(session, 'GET', '/reservations/' + id);
	assert.equal(r.status, 200);
	return r.json();
}

let dragged = null; // the researcher's first booking

test('a window dragged across a GPU row is booked, in local time, and shown as my bar', async () => {
	const { context, page } = await userPage(RES);
	await openCalendar(page);
	assert.equal(await page.locator('nav [data-testid="nav-calendar"]').getAttribute('aria-current'), 'page');
	assert.equal(await page.locator('[data-testid="cal-track"]').count(), 2, 'one row per simulated GPU');
	await nextWeek(page);
	const a = await localAt(page, 1, 10); // Tuesday 10:00
	const b = await localAt(page, 1, 14); // Tuesday 14:00

	await drag(page, 0, a, b);
	const form = page.locator('[data-testid="book-dialog"]');
	await form.waitFor();
	assert.equal(await form.locator('[data-testid="book-start"]').inputValue(), a.input, 'the form starts where the drag began');
	assert.equal(await form.locator('[data-testid="book-end"]').inputValue(), b.input, 'and ends where it ended');
	assert.equal(await form.locator('[data-testid="book-gpus"]').inputValue(), '1', 'one row dragged: one GPU');
	await form.locator('[data-testid="book-note"]').fill('paper deadline');
	await screenshot(page, 'calendar-book-form');
	const [resp] = await Promise.all([bookingPost(page), form.locator('[data-testid="book-submit"]').click()]);
	assert.equal(resp.status(), 201, await resp.text());
	const made = await resp.json();
	assert.equal(made.start, a.iso, 'the start is the local time dragged, in UTC');
	assert.equal(made.end, b.iso);
	assert.equal(made.state, 'approved', 'researchers book without approval');
	dragged = made;

	await form.waitFor({ state: 'detached' });
	await page.locator('[data-testid="cal-notice"]').getByText(/Booked 1 GPU/).waitFor();
	const bar = page.locator(`[data-testid="resv-bar"][data-id="${made.id}"]`);
	await bar.waitFor();
	assert.equal(await bar.getAttribute('data-mine'), 'true');
	assert.equal(await bar.getAttribute('data-state'), 'approved');
	assert.match(await bar.getAttribute('class'), /cal-bar-mine/, 'mine is highlighted');
	assert.equal(await page.locator(`[data-testid="cal-track"][data-gpu="${made.gpu_indices[0]}"] [data-testid="resv-bar"][data-id="${made.id}"]`).count(), 1, 'on the row of the GPU it holds');
	// Placed by time: its left edge where the drag began.
	const track = await page.locator(`[data-testid="cal-track"][data-gpu="${made.gpu_indices[0]}"]`).boundingBox();
	const box = await bar.boundingBox();
	assert.ok(Math.abs(box.x - (track.x + track.width * a.frac)) < 3, `the bar begins at Tuesday 10:00 (${box.x} vs ${track.x + track.width * a.frac})`);
	// My reservations lists it.
	await page.locator(`[data-testid="resv-mine"] [data-testid="resv-row"][data-id="${made.id}"]`).waitFor();
	await screenshot(page, 'calendar-booked');

	// Its details from the bar: times, GPUs, note, and no use yet.
	await bar.click();
	const details = page.locator('[data-testid="resv-dialog"]');
	await details.locator('[data-testid="resv-facts"]').waitFor();
	assert.match(page.url(), new RegExp(`#/calendar\\?r=${made.id}$`), 'the details have their own address');
	assert.match(await details.locator('[data-testid="resv-when"]').textContent(), /10:00 – 14:00/);
	assert.equal(await details.locator('[data-testid="resv-note"]').textContent(), 'paper deadline');
	assert.equal(await details.locator('[data-testid="resv-cancel"]').count(), 1, 'the owner may cancel');
	await page.keyboard.press('Escape');
	await details.waitFor({ state: 'detached' });
	assert.match(page.url(), /#\/calendar$/);
	await context.close();
});

test('a colliding booking offers the nearest free windows; choosing one books it', async () => {
	assert.ok(dragged, 'needs the booking of the test before');
	const { context, page } = await userPage(RES);
	// Straight to the reservation by its address: the calendar shows its week.
	await page.goto(`/#/calendar?r=${dragged.id}`);
	await page.locator('[data-testid="resv-dialog"] [data-testid="resv-facts"]').waitFor();
	await page.keyboard.press('Escape');
	await page.locator(`[data-testid="resv-bar"][data-id="${dragged.id}"]`).waitFor();
	const a = await localAt(page, 1, 11);
	const b = await localAt(page, 1, 13);

	// Both GPUs over a window that overlaps it, with the keyboard only.
	await page.locator('[data-testid="book-open"]').focus();
	await page.keyboard.press('Enter');
	const form = page.locator('[data-testid="book-dialog"]');
	await form.waitFor();
	await form.locator('[data-testid="book-gpus"]').fill('2');
	await form.locator('[data-testid="book-start"]').fill(a.input);
	await form.locator('[data-testid="book-end"]').fill(b.input);
	await form.locator('[data-testid="book-submit"]').focus();
	const [refused] = await Promise.all([bookingPost(page), page.keyboard.press('Enter')]);
	assert.equal(refused.status(), 409, 'the window collides');
	const body = await refused.json();
	assert.equal(body.error.code, 'conflict');
	assert.ok(body.error.windows.length >= 1, 'the server suggests windows');
	await form.locator('[data-testid="book-error"]').waitFor();
	const choices = form.locator('[data-testid="book-window"]');
	await choices.first().waitFor();
	assert.equal(await choices.count(), body.error.windows.length, 'every suggestion is offered');
	await screenshot(page, 'calendar-conflict');

	const w = body.error.windows[0];
	assert.equal(await choices.first().getAttribute('data-start'), w.start);
	const [resp] = await Promise.all([bookingPost(page), choices.first().click()]);
	assert.equal(resp.status(), 201, await resp.text());
	const made = await resp.json();
	assert.equal(made.start, w.start, 'the chosen window is booked');
	assert.equal(made.end, w.end);
	assert.equal(made.gpus, 2);
	await form.waitFor({ state: 'detached' });
	await page.locator('[data-testid="cal-notice"]').getByText(/Booked 2 GPUs/).waitFor();
	// On the calendar: a bar on each GPU's row, in the window's week.
	const bars = page.locator(`[data-testid="resv-bar"][data-id="${made.id}"]`);
	await bars.first().waitFor();
	assert.equal(await bars.count(), 2, 'one bar per GPU it holds');
	const mine = await reservation(res, made.id);
	assert.deepEqual([...mine.gpu_indices].sort(), [0, 1]);
	await screenshot(page, 'calendar-suggestion-booked');
	await context.close();
});

test("an admin approves a student's pending booking and the student is notified", async () => {
	// The student books Thursday 9:00–11:00 next week through the form.
	const s = await userPage(STU);
	await openCalendar(s.page);
	await nextWeek(s.page);
	const a = await localAt(s.page, 3, 9);
	const b = await localAt(s.page, 3, 11);
	await s.page.click('[data-testid="book-open"]');
	const form = s.page.locator('[data-testid="book-dialog"]');
	await form.locator('[data-testid="book-start"]').fill(a.input);
	await form.locator('[data-testid="book-end"]').fill(b.input);
	await form.locator('[data-testid="book-note"]').fill('thesis experiments');
	const [resp] = await Promise.all([bookingPost(s.page), form.locator('[data-testid="book-submit"]').click()]);
	assert.equal(resp.status(), 201, await resp.text());
	const made = await resp.json();
	assert.equal(made.state, 'pending', 'a student booking waits for an admin');
	await s.page.locator('[data-testid="cal-notice"]').getByText(/Requested 1 GPU/).waitFor();
	const bar = s.page.locator(`[data-testid="resv-bar"][data-id="${made.id}"]`);
	await bar.waitFor();
	assert.equal(await bar.getAttribute('data-state'), 'pending');
	assert.match(await bar.getAttribute('class'), /cal-bar-pending/, 'pending bookings are hatched');
	await screenshot(s.page, 'calendar-pending');

	// The admin finds it among those waiting and approves it with a note.
	const { context, page } = await userPage('admin', ADMIN_PASSWORD);
	await openCalendar(page);
	const row = page.locator(`[data-testid="resv-pending"] [data-testid="resv-row"][data-id="${made.id}"]`);
	await row.waitFor();
	await row.locator('a').first().click();
	const details = page.locator('[data-testid="resv-dialog"]');
	await details.locator('[data-testid="resv-facts"][data-state="pending"]').waitFor();
	assert.equal(await details.locator('[data-testid="resv-note"]').textContent(), 'thesis experiments', 'admins see the note');
	await details.locator('[data-testid="resv-review-note"]').fill('good luck with the thesis');
	await screenshot(page, 'calendar-review');
	await details.locator('[data-testid="resv-approve"]').click();
	await details.locator('[data-testid="resv-facts"][data-state="approved"]').waitFor();
	assert.match(await details.locator('[data-testid="resv-review"]').textContent(), /approved by admin/);
	assert.equal((await reservation(admin, made.id)).state, 'approved');
	await page.keyboard.press('Escape');
	await row.waitFor({ state: 'detached' });
	await context.close();

	// The student's bell counts it at the next navigation, lists it, and
	// leads to the reservation, now approved.
	await s.page.click('nav [data-testid="nav-jobs"]');
	const count = s.page.locator('[data-testid="bell-count"]');
	await count.waitFor();
	assert.equal((await count.textContent()).trim(), '1');
	await s.page.click('#bell-button');
	const note = s.page.locator('[data-testid="notification"][data-kind="reservation_approved"]');
	await note.waitFor();
	assert.equal(await note.getAttribute('data-read'), 'false');
	await screenshot(s.page, 'calendar-bell');
	await note.click();
	await s.page.waitForURL(new RegExp(`#/calendar\\?r=${made.id}$`));
	const mineNow = s.page.locator('[data-testid="resv-dialog"] [data-testid="resv-facts"][data-state="approved"]');
	await mineNow.waitFor();
	assert.match(await s.page.locator('[data-testid="resv-dialog"] [data-testid="resv-review"]').textContent(), /good luck with the thesis/);
	await count.waitFor({ state: 'detached' });
	const left = await (await apiAs(stu, 'GET', '/notifications')).json();
	assert.equal(left.unread, 0, 'choosing it marked it read');
	await s.context.close();
});

test('a waiting job says on the Jobs pages why it waits, its place and when it starts', async () => {
	// Both simulated GPUs taken, for ten minutes.
	const submit = async (name, gpus, walltime_s) => {
		const r = await apiAs(res, 'POST', '/jobs', { name, command: ['sleep', '600'], resources: { gpus, walltime_s } });
		const text = await r.text();
		assert.equal(r.status, 201, text);
		return JSON.parse(text);
	};
	const job = async (id) => (await apiAs(res, 'GET', '/jobs/' + id)).json();
	const blocker = await submit('blocker', 2, 600);
	try {
		for (let i = 0; i < 100 && (await job(blocker.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
		assert.equal((await job(blocker.id)).state, 'running');
		const waiting = await submit('waiter', 1, 300);
		let j = await job(waiting.id);
		for (let i = 0; i < 50 && !j.estimated_start; i++) {
			await new Promise((r) => setTimeout(r, 100));
			j = await job(waiting.id);
		}
		assert.equal(j.state, 'pending');
		assert.ok(j.reason_text, 'the API says why it waits');
		assert.ok(j.estimated_start, 'and when it is expected to start');

		const { context, page } = await userPage(RES);
		await page.click('nav [data-testid="nav-jobs"]');
		const brief = page.locator(`[data-testid="job-row"][data-id="${j.id}"] [data-testid="job-pending"]`);
		await brief.waitFor();
		// The expected start as the browser's clock shows it (Asia/Kolkata).
		const hm = await page.evaluate((s) => {
			const d = new Date(s);
			return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
		}, j.estimated_start);
		const text = await brief.innerText();
		assert.ok(text.includes(j.reason_text), `the list shows the reason (${text})`);
		assert.match(text, new RegExp(`starts in [^(]+\\([^)]*${hm}\\)`), 'and the expected start, relative and local');
		if (j.queue_position != null) assert.ok(text.includes(`#${j.queue_position} in queue`), 'and its place in the queue');
		for (const h of j.hints || []) assert.ok(text.includes(h), `and the hint "${h}"`);

		await page.click(`[data-testid="job-row"][data-id="${j.id}"] a >> nth=0`);
		const why = page.locator('[data-testid="job-why"]');
		await why.waitFor();
		assert.equal((await why.locator('[data-testid="job-reason"]').innerText()).trim(), j.reason_text);
		assert.match(await why.locator('[data-testid="job-estimated-start"]').innerText(), new RegExp(`in [^(]+\\([^)]*${hm}\\)`));
		if (j.queue_position != null) assert.match(await why.locator('[data-testid="job-queue-position"]').innerText(), new RegExp(`#${j.queue_position} in queue`));
		if (j.hints && j.hints.length) assert.equal(await why.locator('[data-testid="job-hints"] li').count(), j.hints.length);
		if (j.reservation != null) assert.equal(await why.locator(`[data-testid="job-reservation"][href="#/calendar?r=${j.reservation}"]`).count(), 1);
		await screenshot(page, 'jobs-why-pending');
		await context.close();
		await (await apiAs(res, 'POST', `/jobs/${j.id}/cancel`)).body?.cancel();
	} finally {
		await (await apiAs(res, 'POST', `/jobs/${blocker.id}/cancel`)).body?.cancel();
	}
});

test('the calendar pages are clean: no CSP violation, no error', () => {
	assert.deepEqual(seen.cspViolations, [], 'CSP violations');
	assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
	assert.deepEqual(seen.consoleErrors, [], 'console errors');
	assert.deepEqual(seen.serverErrors, [], 'server errors (5xx)');
});
