// pages/calendar.jsx — GPU reservations on a week calendar (docs/reservations.md):
// one row per GPU of each node (GET /api/v1/nodes), everyone's bookings as
// bars placed by time (GET /api/v1/reservations?from&to), mine highlighted,
// pending ones hatched, released and rejected ones faded. Dragging across
// GPU rows selects a window and opens the booking form with it; the form
// also opens from a button, for the keyboard. A collision (409) offers the
// nearest free windows the server suggests, each booked with one click.
// A bar opens the reservation's details (#/calendar?r=ID): its use, cancel
// for the owner, approve or reject for admins. Below, my reservations with
// what each was used, and for admins the bookings that wait for them.
// Times are the browser's local time; the API speaks UTC.
import '../workspace.css';
import './calendar.css';
import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { fmtDuration, fmtTime } from '../format.js';
import { routeGo, routeQuery } from '../router.js';
import { Badge, Dialog, Empty, ErrorBanner, Field, Loading, Notice, PageHeader } from '../components/ui.jsx';
import { ProgressBar } from '../components/uploadtray.jsx';

const HOUR = 3600000;
const POLL_MS = 30000;
const LIVE = ['pending', 'approved'];
const WD = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => String(n).padStart(2, '0');
const ms = (s) => new Date(s).getTime();

// Local midnight of the Monday of t's week.
function weekOf(t) {
	const d = new Date(t);
	d.setHours(0, 0, 0, 0);
	d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
	return d.getTime();
}

// n calendar days later, local midnight to local midnight: a day is not
// always 24 h (daylight saving time).
function addDays(t, n) {
	const d = new Date(t);
	d.setDate(d.getDate() + n);
	return d.getTime();
}

// Local hour h of the day that begins at local midnight d.
function atHour(d, h) {
	const x = new Date(d);
	x.setHours(h);
	return x.getTime();
}

const iso = (t) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const hm = (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}`;
const dayText = (d) => `${WD[d.getDay()]} ${d.getDate()} ${MON[d.getMonth()]}`;

// "Tue 10 Mar 10:00 – 14:00", or with both days when it spans midnight.
export function fmtRange(s, e) {
	const a = new Date(s);
	const b = new Date(e);
	const same = a.toDateString() === new Date(ms(e) - 1).toDateString();
	return `${dayText(a)} ${hm(a)} – ${same ? '' : dayText(b) + ' '}${hm(b)}`;
}

// <input type="datetime-local"> speaks local time without a zone.
function toInput(t) {
	const d = new Date(t);
	return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${hm(d)}`;
}
function fromInput(v) {
	const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(v || '');
	return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]).getTime() : NaN;
}

const gpuText = (r) => `${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`;
const stateKind = (s) => (s === 'approved' ? 'ok' : s === 'pending' ? 'warn' : s === 'rejected' ? 'error' : 'neutral');

export function ResvState({ r }) {
	return (
		<>
			<Badge kind={stateKind(r.state)}>{r.state === 'pending' ? 'waiting for approval' : r.state}</Badge>
			{LIVE.includes(r.state) && r.phase && r.phase !== 'upcoming' && <Badge kind={r.phase === 'active' ? 'info' : 'neutral'}>{r.phase === 'active' ? 'now' : r.phase}</Badge>}
		</>
	);
}

// "used 75% of reserved GPU time" as a bar, or why there is nothing to show.
export function ResvUse({ r, compact }) {
	const u = r.use;
	if (!u || (r.phase === 'upcoming' && !u.jobs)) return <span class="muted small">not started yet</span>;
	const pct = Math.round((u.fraction || 0) * 100);
	return (
		<div class="resv-use" data-testid="resv-use" data-fraction={String(u.fraction || 0)}>
			<div class="small">
				used {pct}% of reserved GPU time
				{!compact && (
					<span class="muted">
						{' '}
						({fmtDuration(Math.round(u.gpu_seconds / 60) * 60)} of {fmtDuration(Math.round(u.reserved_gpu_seconds / 60) * 60)} GPU time · {u.jobs} job{u.jobs === 1 ? '' : 's'})
					</span>
				)}
			</div>
			<ProgressBar value={u.gpu_seconds} max={u.reserved_gpu_seconds} label="Share of the reserved GPU time used" kind={pct >= 50 ? 'bar-ok' : pct > 0 ? '' : 'bar-warn'} />
		</div>
	);
}

// The booking form; a 409 lists the nearest free windows as choices.
function BookDialog({ initial, nodes, onBooked, onClose }) {
	const [f, setF] = useState(initial);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const [windows, setWindows] = useState([]);
	const node = nodes.find((n) => n.name === f.node) || nodes[0];
	const start = fromInput(f.start);
	const end = fromInput(f.end);
	const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });

	const book = async (req) => {
		setBusy(true);
		setError(null);
		setWindows([]);
		try {
			const r = await apiPost('/reservations', req);
			onBooked(r);
		} catch (e) {
			setError(e);
			if (e.status === 409 && Array.isArray(e.details.windows)) setWindows(e.details.windows);
			setBusy(false);
		}
	};
	const submit = (e) => {
		e.preventDefault();
		if (Number.isNaN(start) || Number.isNaN(end)) {
			setError('Give both a start and an end.');
			return;
		}
		// A start that went by while the form was open means "now"; the
		// server takes a start up to a minute old as now.
		const s = Math.max(start, Date.now());
		const req = { gpus: Number(f.gpus), start: iso(s), end: iso(end), node: node.name };
		if (f.note.trim()) req.note = f.note.trim();
		book(req);
	};
	const choose = (w) => {
		setF({ ...f, node: w.node, start: toInput(ms(w.start)), end: toInput(ms(w.end)) });
		const req = { gpus: Number(f.gpus), start: w.start, end: w.end, node: w.node };
		if (f.note.trim()) req.note = f.note.trim();
		book(req);
	};

	return (
		<Dialog title="Book GPUs" onClose={onClose} testid="book-dialog">
			<form class="dialog-body" onSubmit={submit} data-testid="book-form">
				<p class="muted small">Times are your local time. The GPUs are yours alone for the window; if nothing uses them soon after it begins, kaon releases them for others.</p>
				<div class="row">
					{nodes.length > 1 ? (
						<div class="field">
							<label for="book-node">Node</label>
							<select id="book-node" value={node.name} onChange={set('node')} data-testid="book-node">
								{nodes.map((n) => (
									<option key={n.name} value={n.name}>
										{n.name} ({n.gpus.length} GPU{n.gpus.length === 1 ? '' : 's'})
									</option>
								))}
							</select>
						</div>
					) : (
						<Field label="Node" value={node.name} readOnly data-testid="book-node" />
					)}
					<Field label="GPUs" type="number" min="1" max={String(node.gpus.length)} required value={f.gpus} onInput={set('gpus')} data-testid="book-gpus" />
				</div>
				<div class="row">
					<Field label="From" type="datetime-local" required value={f.start} onInput={set('start')} data-testid="book-start" />
					<Field label="To" type="datetime-local" required value={f.end} onInput={set('end')} data-testid="book-end" />
				</div>
				<p class="hint book-length" data-testid="book-length">
					{end > start ? `${fmtDuration(Math.round((end - start) / 60000) * 60)}${start < Date.now() ? ', starting now' : ''}` : 'The end must come after the start.'}
				</p>
				<Field label="Note" hint="What it is for, e.g. a deadline; only you and admins see it." maxLength={500} value={f.note} onInput={set('note')} data-testid="book-note" />
				<ErrorBanner error={error} testid="book-error" />
				{windows.length > 0 && (
					<div class="book-windows" data-testid="book-windows">
						<p class="strong">Free windows nearby — choose one to book it:</p>
						<ul>
							{windows.map((w, i) => (
								<li key={i}>
									<button type="button" class="btn btn-small" disabled={busy} onClick={() => choose(w)} data-testid="book-window" data-start={w.start}>
										{fmtRange(w.start, w.end)} · {w.node} GPU {w.gpu_indices.join(', ')}
									</button>
								</li>
							))}
						</ul>
					</div>
				)}
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-primary" disabled={busy || !(end > start)} data-testid="book-submit">
						{busy ? 'Booking…' : 'Book'}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

// One reservation: everything about it, and what the viewer may do.
function ResvDialog({ id, me, onChanged, onLoaded, onClose }) {
	const [r, setR] = useState(null);
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const [note, setNote] = useState('');
	const [confirm, setConfirm] = useState(false);
	useEffect(() => {
		let live = true;
		apiGet('/reservations/' + id)
			.then((x) => {
				if (!live) return;
				setR(x);
				onLoaded(x);
			})
			.catch((e) => live && setError(e));
		return () => {
			live = false;
		};
	}, [id]);

	const act = async (verb, body) => {
		setBusy(true);
		setError(null);
		try {
			setR(await apiPost(`/reservations/${id}/${verb}`, body));
			setConfirm(false);
			onChanged();
		} catch (e) {
			setError(e);
		} finally {
			setBusy(false);
		}
	};
	const owner = r && (r.mine || r.user === me.username);
	const cancellable = r && LIVE.includes(r.state) && r.phase !== 'ended' && (owner || me.admin);
	return (
		<Dialog title={`Reservation ${id}`} onClose={onClose} testid="resv-dialog" wide>
			<div class="dialog-body">
				{!r && !error && <Loading />}
				{r && (
					<>
						<dl class="facts" data-testid="resv-facts" data-state={r.state}>
							<dt>State</dt>
							<dd data-testid="resv-state">
								<ResvState r={r} />
							</dd>
							<dt>Owner</dt>
							<dd>
								{r.user} <span class="muted">({r.group})</span>
							</dd>
							<dt>When</dt>
							<dd data-testid="resv-when">
								{fmtRange(r.start, r.end)} <span class="muted">({fmtDuration(Math.round((ms(r.end) - ms(r.start)) / 60000) * 60)})</span>
							</dd>
							<dt>GPUs</dt>
							<dd>
								{gpuText(r)} on <span class="mono">{r.node}</span>: GPU {r.gpu_indices.join(', ')}
								{r.gpu_model && <span class="muted"> ({r.gpu_model})</span>}
							</dd>
							<dt>With</dt>
							<dd class="small">
								{r.cpus} CPUs · {Math.round(r.mem_mb / 1024)} GiB memory
							</dd>
							{r.note && (
								<>
									<dt>Note</dt>
									<dd class="break" data-testid="resv-note">
										{r.note}
									</dd>
								</>
							)}
							<dt>Use</dt>
							<dd>
								<ResvUse r={r} />
							</dd>
							{r.reviewed_by && (
								<>
									<dt>Reviewed</dt>
									<dd data-testid="resv-review">
										{r.state === 'rejected' ? 'rejected' : 'approved'} by {r.reviewed_by}, {fmtTime(r.reviewed_at)}
										{r.review_note && <div class="break">“{r.review_note}”</div>}
									</dd>
								</>
							)}
							{r.released_at && (
								<>
									<dt>Released</dt>
									<dd>
										{fmtTime(r.released_at)}
										{r.release_reason && <div class="muted small">{r.release_reason}</div>}
									</dd>
								</>
							)}
							<dt>Booked</dt>
							<dd>{fmtTime(r.created_at)}</dd>
						</dl>
						{owner && r.state === 'approved' && r.phase !== 'ended' && (
							<p class="muted small resv-howto">
								Jobs you submit while it runs use it by themselves; to aim one at it, give <span class="mono">"reservation": {r.id}</span> in the job or <span class="mono">kaon submit --reservation {r.id}</span>.
							</p>
						)}
					</>
				)}
				<ErrorBanner error={error} testid="resv-error" />
				{r && me.admin && r.state === 'pending' && (
					<div class="resv-review" data-testid="resv-review-form">
						<Field label="Note to the owner" hint="Optional; shown with the decision." maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} data-testid="resv-review-note" />
						<div class="form-actions form-actions-start">
							<button type="button" class="btn btn-primary" disabled={busy} onClick={() => act('approve', note.trim() ? { note: note.trim() } : {})} data-testid="resv-approve">
								Approve
							</button>
							<button type="button" class="btn btn-danger-ghost" disabled={busy} onClick={() => act('reject', note.trim() ? { note: note.trim() } : {})} data-testid="resv-reject">
								Reject
							</button>
						</div>
					</div>
				)}
				<div class="form-actions">
					{cancellable &&
						(confirm ? (
							<>
								<span class="resv-confirm">Cancel this reservation?</span>
								<button type="button" class="btn" onClick={() => setConfirm(false)}>
									Keep it
								</button>
								<button type="button" class="btn btn-danger" disabled={busy} onClick={() => act('cancel')} data-testid="resv-cancel-confirm">
									Cancel reservation
								</button>
							</>
						) : (
							<button type="button" class="btn btn-danger-ghost" onClick={() => setConfirm(true)} data-testid="resv-cancel">
								Cancel reservation…
							</button>
						))}
					<button type="button" class="btn" onClick={onClose}>
						Close
					</button>
				</div>
			</div>
		</Dialog>
	);
}

// Where t falls in the week, in percent of its width.
const pct = (t, ws, we) => Math.min(100, Math.max(0, ((t - ws) / (we - ws)) * 100));

function Bar({ r, ws, we, onOpen }) {
	const s = ms(r.start);
	const e = ms(r.end);
	const left = pct(s, ws, we);
	const width = Math.max(pct(e, ws, we) - left, 0.3);
	const cls = ['cal-bar'];
	if (r.mine) cls.push('cal-bar-mine');
	if (r.state === 'pending') cls.push('cal-bar-pending');
	if (!LIVE.includes(r.state)) cls.push('cal-bar-faded');
	if (s < ws) cls.push('cal-bar-cut-start');
	if (e > we) cls.push('cal-bar-cut-end');
	const label = `${r.user}${r.note ? ': ' + r.note : ''}`;
	return (
		<button
			type="button"
			class={cls.join(' ')}
			style={{ left: left + '%', width: width + '%' }}
			title={`${label}\n${fmtRange(r.start, r.end)} · ${gpuText(r)} · ${r.state}`}
			aria-label={`Reservation ${r.id} by ${r.user}, ${fmtRange(r.start, r.end)}, ${gpuText(r)}, ${r.state}${r.mine ? ', yours' : ''}`}
			data-testid="resv-bar"
			data-id={r.id}
			data-state={r.state}
			data-mine={r.mine ? 'true' : 'false'}
			onPointerDown={(ev) => ev.stopPropagation()}
			onClick={() => onOpen(r.id)}
		>
			<span class="cal-bar-text">{label}</span>
		</button>
	);
}

function Week({ nodes, resvs, ws, we, now, onSelect, onOpen }) {
	const [sel, setSel] = useState(null);
	const drag = useRef(null);
	const days = Array.from({ length: 7 }, (_, i) => addDays(ws, i));
	const today = new Date(now).toDateString();

	// x on a track → the nearest whole hour, inside the week.
	const timeAt = (clientX, rect) => {
		const f = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
		const t = ws + f * (we - ws);
		const d = new Date(t);
		d.setMinutes(d.getMinutes() + 30, 0, 0);
		d.setMinutes(0);
		return Math.min(we, Math.max(ws, d.getTime()));
	};
	// The GPU row under the pointer (the track holds the pointer capture,
	// so the event's target is always the row the drag began on).
	const rowAt = (x, y, nodeName) => {
		const el = document.elementsFromPoint(x, y).find((n) => n.dataset && n.dataset.node === nodeName && n.dataset.row != null);
		return el ? Number(el.dataset.row) : null;
	};
	const down = (e, n, row) => {
		if (e.button !== 0) return;
		e.preventDefault();
		const rect = e.currentTarget.getBoundingClientRect();
		const t = timeAt(e.clientX, rect);
		drag.current = { node: n.name, rect, row0: row, row1: row, t0: t, t1: t };
		e.currentTarget.setPointerCapture(e.pointerId);
		setSel({ ...drag.current });
	};
	const move = (e) => {
		const d = drag.current;
		if (!d) return;
		const row = rowAt(e.clientX, e.clientY, d.node);
		drag.current = { ...d, t1: timeAt(e.clientX, d.rect), row1: row == null ? d.row1 : row };
		setSel({ ...drag.current });
	};
	const up = (e) => {
		const d = drag.current;
		if (!d) return;
		move(e);
		const f = drag.current;
		drag.current = null;
		setSel(null);
		let s = Math.min(f.t0, f.t1);
		let en = Math.max(f.t0, f.t1);
		if (en === s) en = s + HOUR; // a click: one hour
		onSelect({ node: f.node, gpus: Math.abs(f.row1 - f.row0) + 1, start: s, end: en });
	};
	const cancelDrag = () => {
		drag.current = null;
		setSel(null);
	};

	return (
		<div class="cal-scroll">
			<div class="cal" data-testid="calendar" data-week={iso(ws)}>
				<div class="cal-row cal-head" aria-hidden="true">
					<div class="cal-label" />
					<div class="cal-days">
						{days.map((d) => (
							<div key={d} class={'cal-day' + (new Date(d).toDateString() === today ? ' cal-today' : '')} style={{ left: pct(d, ws, we) + '%', width: pct(addDays(d, 1), ws, we) - pct(d, ws, we) + '%' }}>
								{dayText(new Date(d))}
							</div>
						))}
					</div>
				</div>
				{nodes.map((n) => (
					<div key={n.name} class="cal-node" role="group" aria-label={`Node ${n.name}`}>
						{nodes.length > 1 && <div class="cal-node-name mono">{n.name}</div>}
						{n.gpus.map((g, row) => {
							// Faded ones first, so live ones lie on top where they meet.
							const here = resvs
								.filter((r) => r.node === n.name && r.gpu_indices.includes(g.index))
								.sort((a, b) => LIVE.includes(a.state) - LIVE.includes(b.state));
							const inSel = sel && sel.node === n.name && row >= Math.min(sel.row0, sel.row1) && row <= Math.max(sel.row0, sel.row1);
							return (
								<div key={g.index} class="cal-row">
									<div class="cal-label">
										<span class="strong">GPU {g.index}</span>
										<span class="muted small cal-model">{nodes.length > 1 ? '' : n.name + ' · '}{g.model}</span>
									</div>
									<div
										class="cal-track"
										data-testid="cal-track"
										data-node={n.name}
										data-gpu={g.index}
										data-row={row}
										onPointerDown={(e) => down(e, n, row)}
										onPointerMove={move}
										onPointerUp={up}
										onPointerCancel={cancelDrag}
									>
										{days.map((d, i) => (
											<Fragment key={d}>
												{i > 0 && <div class="cal-dayline" style={{ left: pct(d, ws, we) + '%' }} />}
												{[6, 12, 18].map((h) => (
													<div key={h} class="cal-hourline" style={{ left: pct(atHour(d, h), ws, we) + '%' }} />
												))}
											</Fragment>
										))}
										{now > ws && now < we && <div class="cal-now" style={{ left: pct(now, ws, we) + '%' }} />}
										{here.map((r) => (
											<Bar key={r.id} r={r} ws={ws} we={we} onOpen={onOpen} />
										))}
										{inSel && (
											<div class="cal-sel" data-testid="cal-selection" style={{ left: pct(Math.min(sel.t0, sel.t1), ws, we) + '%', width: Math.abs(pct(sel.t1, ws, we) - pct(sel.t0, ws, we)) + '%' }} />
										)}
									</div>
								</div>
							);
						})}
					</div>
				))}
			</div>
		</div>
	);
}

function ResvTable({ list, testid, showUser }) {
	return (
		<div class="table-wrap">
			<table class="table" data-testid={testid}>
				<thead>
					<tr>
						<th class="num">ID</th>
						{showUser && <th>Who</th>}
						<th>When</th>
						<th>GPUs</th>
						<th>State</th>
						<th>Use</th>
						<th>Note</th>
					</tr>
				</thead>
				<tbody>
					{list.map((r) => (
						<tr key={r.id} data-testid="resv-row" data-id={r.id} data-state={r.state}>
							<td class="num mono">
								<a href={'#/calendar?r=' + r.id}>{r.id}</a>
							</td>
							{showUser && (
								<td>
									{r.user} <span class="muted small">({r.group})</span>
								</td>
							)}
							<td class="nowrap">
								<a href={'#/calendar?r=' + r.id}>{fmtRange(r.start, r.end)}</a>
							</td>
							<td class="nowrap small">
								{gpuText(r)} · <span class="mono">{r.node}</span> {r.gpu_indices.join(', ')}
							</td>
							<td class="badges">
								<ResvState r={r} />
							</td>
							<td class="resv-use-cell">{LIVE.includes(r.state) || r.state === 'released' ? <ResvUse r={r} compact /> : <span class="muted small">—</span>}</td>
							<td class="break small">{r.note}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

export function CalendarPage({ me, route }) {
	const [ws, setWs] = useState(() => weekOf(Date.now()));
	const we = addDays(ws, 7);
	const [data, setData] = useState(null);
	const [lists, setLists] = useState(null);
	const [error, setError] = useState(null);
	const [tick, setTick] = useState(0);
	const [now, setNow] = useState(Date.now());
	const [book, setBook] = useState(null);
	const [notice, setNotice] = useState(null);
	const shownWeekFor = useRef(null);
	const q = routeQuery(route);
	const openId = /^[1-9][0-9]*$/.test(q.get('r') || '') ? Number(q.get('r')) : null;

	useEffect(() => {
		let live = true;
		const load = async () => {
			try {
				const [nodes, week] = await Promise.all([apiGet('/nodes'), apiGet(`/reservations?from=${iso(ws)}&to=${iso(we)}&state=pending,approved,released,rejected`)]);
				if (!live) return;
				setData({ ws, nodes: nodes.nodes.filter((n) => n.gpus.length > 0), resvs: week.reservations });
				setNow(Date.now());
				setError(null);
			} catch (e) {
				if (live) setError(e);
			}
		};
		load();
		const t = setInterval(load, POLL_MS);
		return () => {
			live = false;
			clearInterval(t);
		};
	}, [ws, tick]);

	// My reservations from a month back to half a year ahead; for admins,
	// every booking that waits for a decision.
	useEffect(() => {
		let live = true;
		const t = Date.now();
		const span = `from=${iso(t - 30 * 86400000)}&to=${iso(t + 366 * 86400000)}`;
		Promise.all([
			apiGet(`/reservations?mine=1&${span}&state=pending,approved,released,rejected,cancelled`),
			me.admin ? apiGet(`/reservations?${span}&state=pending`) : Promise.resolve(null),
		])
			.then(([m, p]) => live && setLists({ mine: m.reservations, pending: p ? p.reservations : [] }))
			.catch((e) => live && setError(e));
		return () => {
			live = false;
		};
	}, [tick, me.admin]);

	const reload = () => setTick((x) => x + 1);
	const open = (id) => routeGo('/calendar?r=' + id);
	const close = () => routeGo('/calendar');

	// A reservation opened from a link lies in its own week: show that week
	// once, and leave the buttons free to move on from there.
	const onLoaded = (r) => {
		if (shownWeekFor.current === r.id) return;
		shownWeekFor.current = r.id;
		const s = ms(r.start);
		if (s < ws || s >= we) setWs(weekOf(s));
	};

	const gpuNodes = data ? data.nodes : [];
	const startForm = (init) => {
		if (!gpuNodes.length) return;
		setNotice(null);
		setBook({
			node: init.node || gpuNodes[0].name,
			gpus: String(init.gpus || 1),
			start: toInput(init.start),
			end: toInput(init.end),
			note: '',
		});
	};
	const onSelect = (w) => {
		const t = Date.now();
		if (w.end <= t) {
			setNotice({ error: 'That window has already passed. Drag across a time to come.' });
			return;
		}
		// A window that began already starts now, at the next whole minute.
		const s = w.start < t ? Math.ceil(t / 60000) * 60000 : w.start;
		startForm({ ...w, start: s });
	};
	const onBooked = (r) => {
		setBook(null);
		const s = ms(r.start);
		if (s < ws || s >= we) setWs(weekOf(s));
		setNotice({
			r,
			text:
				r.state === 'pending'
					? `Requested ${gpuText(r)} on ${r.node} for ${fmtRange(r.start, r.end)}. An admin approves it; the bell tells you.`
					: `Booked ${gpuText(r)} on ${r.node} (GPU ${r.gpu_indices.join(', ')}) for ${fmtRange(r.start, r.end)}.`,
		});
		reload();
	};
	const nextHour = Math.ceil(Date.now() / HOUR) * HOUR;

	const weekTitle = `${dayText(new Date(ws))} – ${dayText(new Date(addDays(ws, 6)))} ${new Date(addDays(ws, 6)).getFullYear()}`;
	const shown = data && data.ws === ws ? data : null;
	return (
		<section class="page page-wide" data-testid="page-calendar">
			<PageHeader title="GPU calendar">
				<button type="button" class="btn btn-primary" disabled={!gpuNodes.length} onClick={() => startForm({ start: nextHour, end: nextHour + 2 * HOUR })} data-testid="book-open">
					Book GPUs
				</button>
			</PageHeader>
			<p class="muted small">
				Drag across a GPU's row to book a window, or across several rows for several GPUs. Your bookings are highlighted; hatched ones wait for an admin's approval. Times are your local time.
			</p>
			<ErrorBanner error={error} />
			{notice && notice.error && <ErrorBanner error={notice.error} testid="cal-notice-error" />}
			{notice && notice.text && (
				<Notice testid="cal-notice">
					{notice.text} <a href={'#/calendar?r=' + notice.r.id}>Details</a>
				</Notice>
			)}
			<div class="cal-toolbar" role="group" aria-label="Week">
				<button type="button" class="btn btn-small" onClick={() => setWs(addDays(ws, -7))} data-testid="cal-prev">
					‹ Previous week
				</button>
				<button type="button" class="btn btn-small" onClick={() => setWs(weekOf(Date.now()))} data-testid="cal-today">
					Today
				</button>
				<button type="button" class="btn btn-small" onClick={() => setWs(addDays(ws, 7))} data-testid="cal-next">
					Next week ›
				</button>
				<h2 class="cal-title" aria-live="polite" data-testid="cal-title">
					{weekTitle}
				</h2>
			</div>
			{!shown ? (
				!error && <Loading />
			) : shown.nodes.length === 0 ? (
				<Empty>No node has GPUs, so there is nothing to book.</Empty>
			) : (
				<>
					<Week nodes={shown.nodes} resvs={shown.resvs} ws={ws} we={we} now={now} onSelect={onSelect} onOpen={open} />
					<ul class="cal-legend" aria-label="Legend">
						<li>
							<span class="cal-swatch cal-bar-mine" /> yours
						</li>
						<li>
							<span class="cal-swatch" /> someone else's
						</li>
						<li>
							<span class="cal-swatch cal-bar-pending" /> waiting for approval
						</li>
						<li>
							<span class="cal-swatch cal-bar-faded" /> released or rejected
						</li>
					</ul>
				</>
			)}
			{me.admin && lists && lists.pending.length > 0 && (
				<>
					<h2 class="section-title">
						Waiting for your approval <span class="muted small">{lists.pending.length}</span>
					</h2>
					<ResvTable list={lists.pending} testid="resv-pending" showUser />
				</>
			)}
			<h2 class="section-title">My reservations</h2>
			{!lists ? (
				!error && <Loading />
			) : lists.mine.length === 0 ? (
				<Empty>You have no reservations. Book GPUs for a deadline or a class, and they are yours for that time.</Empty>
			) : (
				<ResvTable list={lists.mine} testid="resv-mine" />
			)}
			{book && gpuNodes.length > 0 && <BookDialog initial={book} nodes={gpuNodes} onBooked={onBooked} onClose={() => setBook(null)} />}
			{openId != null && <ResvDialog key={openId} id={openId} me={me} onChanged={reload} onLoaded={onLoaded} onClose={close} />}
		</section>
	);
}
