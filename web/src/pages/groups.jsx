// pages/groups.jsx — admins: groups and their limits (null = no limit),
// and their booking policy for GPU reservations (docs/reservations.md).
import { useState } from 'preact/hooks';
import { apiDelete, apiGet, apiPatch, apiPost } from '../api.js';
import { fmtDuration, fmtLimit, fmtMem } from '../format.js';
import {
	Badge,
	Check,
	ConfirmDialog,
	Dialog,
	Empty,
	ErrorBanner,
	Field,
	Loading,
	PageHeader,
	useLoad,
} from '../components/ui.jsx';

const LIMITS = [
	{ key: 'max_gpus', label: 'Max GPUs', short: 'GPUs' },
	{ key: 'max_cpus', label: 'Max CPUs', short: 'CPUs' },
	{ key: 'max_mem_mb', label: 'Max memory (MiB)', short: 'Memory', fmt: fmtMem },
	{ key: 'max_walltime_s', label: 'Max wall time (seconds)', short: 'Wall time', fmt: fmtDuration },
	{ key: 'max_jobs', label: 'Max concurrent jobs', short: 'Jobs' },
	{ key: 'max_sessions', label: 'Max sessions', short: 'Sessions' },
];

// How GPUs may be booked on the calendar.
const RESV_LIMITS = [
	{ key: 'resv_max_gpus', label: 'Max GPUs per booking', short: (v) => `${v} GPU${v === 1 ? '' : 's'}` },
	{ key: 'resv_max_s', label: 'Max length (seconds)', fmt: fmtDuration, short: fmtDuration },
	{ key: 'resv_max_ahead_s', label: 'How far ahead (seconds)', fmt: fmtDuration, short: (v) => `${fmtDuration(v)} ahead` },
	{ key: 'resv_max_active', label: 'Max bookings at once', short: (v) => `${v} at once` },
];
const ALL_LIMITS = [...LIMITS, ...RESV_LIMITS];

// "1 GPU · 8 h · 14 d ahead · 1 at once · approval"; a 0 limit means none.
function resvText(g) {
	if (!('resv_approval' in g)) return '';
	if (g.resv_max_gpus === 0 || g.resv_max_s === 0 || g.resv_max_active === 0) return 'none';
	const parts = RESV_LIMITS.filter((l) => g[l.key] != null).map((l) => l.short(g[l.key]));
	if (g.resv_approval) parts.push('approval');
	return parts.length ? parts.join(' · ') : 'no limit';
}

const memberCount = (m) => (Array.isArray(m) ? m.length : typeof m === 'number' ? m : 0);

function GroupForm({ group, onSaved, onClose }) {
	const editing = !!group;
	const init = {
		name: group ? group.name : '',
		description: (group && group.description) || '',
		fairshare_weight: group && group.fairshare_weight != null ? String(group.fairshare_weight) : '1',
	};
	for (const l of ALL_LIMITS) init[l.key] = group && group[l.key] != null ? String(group[l.key]) : '';
	init.resv_approval = !!(group && group.resv_approval);
	const [f, setF] = useState(init);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });

	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		const body = {};
		if (!editing) body.name = f.name.trim();
		const desc = f.description.trim();
		if (!editing ? desc : desc !== (group.description || '')) body.description = desc;
		for (const l of ALL_LIMITS) {
			const raw = f[l.key].trim();
			if (raw !== '' && !/^\d+$/.test(raw)) {
				setError(`${l.label}: a whole number of 0 or more, or empty for no limit.`);
				return;
			}
			const v = raw === '' ? null : Number(raw);
			if (!editing ? v !== null : v !== group[l.key]) body[l.key] = v;
		}
		if (!editing ? f.resv_approval : f.resv_approval !== !!group.resv_approval) body.resv_approval = f.resv_approval;
		const w = Number(f.fairshare_weight);
		if (!(f.fairshare_weight.trim() !== '' && Number.isFinite(w) && w > 0)) {
			setError('Fair-share weight: a number greater than 0.');
			return;
		}
		if (!editing ? w !== 1 : w !== group.fairshare_weight) body.fairshare_weight = w;
		setBusy(true);
		try {
			const saved = editing
				? Object.keys(body).length
					? await apiPatch('/groups/' + encodeURIComponent(group.name), body)
					: group
				: await apiPost('/groups', body);
			onSaved(saved);
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};

	return (
		<Dialog title={editing ? `Edit group ${group.name}` : 'New group'} onClose={onClose} testid="group-dialog" wide>
			<form class="dialog-body" onSubmit={submit} id="group-form">
				{!editing && (
					<Field
						label="Name"
						id="group-name"
						required
						autocomplete="off"
						autocapitalize="none"
						spellcheck={false}
						value={f.name}
						onInput={set('name')}
					/>
				)}
				<Field label="Description" id="group-description" value={f.description} onInput={set('description')} />
				<fieldset class="fieldset">
					<legend>Limits</legend>
					<p class="hint">Leave a limit empty for no limit.</p>
					<div class="grid-3">
						{LIMITS.map((l) => (
							<Field
								key={l.key}
								label={l.label}
								id={'group-' + l.key.replace(/_/g, '-')}
								type="number"
								min="0"
								step="1"
								inputMode="numeric"
								placeholder="no limit"
								hint={l.fmt && f[l.key] !== '' && /^\d+$/.test(f[l.key]) ? '= ' + l.fmt(Number(f[l.key])) : undefined}
								value={f[l.key]}
								onInput={set(l.key)}
							/>
						))}
					</div>
				</fieldset>
				<fieldset class="fieldset">
					<legend>GPU bookings</legend>
					<p class="hint">What members may reserve on the calendar. Empty: no limit; 0 GPUs: no bookings.</p>
					<div class="grid-3">
						{RESV_LIMITS.map((l) => (
							<Field
								key={l.key}
								label={l.label}
								id={'group-' + l.key.replace(/_/g, '-')}
								type="number"
								min="0"
								step="1"
								inputMode="numeric"
								placeholder="no limit"
								hint={l.fmt && f[l.key] !== '' && /^\d+$/.test(f[l.key]) ? '= ' + l.fmt(Number(f[l.key])) : undefined}
								value={f[l.key]}
								onInput={set(l.key)}
							/>
						))}
					</div>
					<Check
						label="Bookings wait for an admin's approval"
						id="group-resv-approval"
						checked={f.resv_approval}
						onChange={(e) => setF({ ...f, resv_approval: e.currentTarget.checked })}
					/>
				</fieldset>
				<Field
					label="Fair-share weight"
					id="group-fairshare"
					type="number"
					min="0"
					step="any"
					required
					hint="Greater than 0; the group's share of the machines relative to the others (default 1)."
					value={f.fairshare_weight}
					onInput={set('fairshare_weight')}
				/>
				<ErrorBanner error={error} testid="group-error" />
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-primary" id="group-save" disabled={busy}>
						{busy ? 'Saving…' : editing ? 'Save changes' : 'Create group'}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

export function GroupsPage() {
	const [state, reload] = useLoad(() => apiGet('/groups'));
	const [editing, setEditing] = useState(null); // a group, or 'new'
	const [deleting, setDeleting] = useState(null);
	const [done, setDone] = useState(null);
	const groups = (state.data && state.data.groups) || [];

	return (
		<section class="page" data-testid="page-groups">
			<PageHeader title="Groups">
				<button type="button" class="btn btn-primary" id="group-new" onClick={() => setEditing('new')}>
					New group
				</button>
			</PageHeader>
			<p class="muted">A user's first group is their primary group; its limits apply to their jobs and sessions.</p>
			{done && (
				<div class="alert alert-ok" role="status" data-testid="group-done">
					{done}
				</div>
			)}
			<ErrorBanner error={state.error} />
			{state.loading && !state.data ? (
				<Loading />
			) : groups.length === 0 ? (
				state.data && <Empty>No groups.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="groups-table">
						<caption class="sr-only">Groups and their limits</caption>
						<thead>
							<tr>
								<th scope="col">Group</th>
								{LIMITS.map((l) => (
									<th scope="col" key={l.key} class="num">
										{l.short}
									</th>
								))}
								<th scope="col">Bookings</th>
								<th scope="col" class="num">
									Fair share
								</th>
								<th scope="col" class="num">
									Members
								</th>
								<th scope="col">
									<span class="sr-only">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{groups.map((g) => {
								const members = memberCount(g.members);
								return (
									<tr key={g.name} data-testid="group-row" data-group={g.name}>
										<td>
											<span class="mono strong">{g.name}</span> {g.builtin && <Badge>built-in</Badge>}
											{g.description && <div class="muted small">{g.description}</div>}
										</td>
										{LIMITS.map((l) => (
											<td key={l.key} class={g[l.key] == null ? 'num muted' : 'num'}>
												{g[l.key] == null ? '∞' : fmtLimit(g[l.key], l.fmt)}
												{g[l.key] == null && <span class="sr-only">no limit</span>}
											</td>
										))}
										<td class="small" data-testid="group-resv">
											{resvText(g)}
										</td>
										<td class="num">{g.fairshare_weight}</td>
										<td class="num" title={Array.isArray(g.members) ? g.members.join(', ') : undefined}>
											{members}
										</td>
										<td class="actions">
											<button
												type="button"
												class="btn btn-small"
												aria-label={`Edit group ${g.name}`}
												onClick={() => setEditing(g)}
											>
												Edit
											</button>
											<button
												type="button"
												class="btn btn-small btn-danger-ghost"
												aria-label={`Delete group ${g.name}`}
												onClick={() => setDeleting(g)}
											>
												Delete
											</button>
										</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}
			{editing && (
				<GroupForm
					group={editing === 'new' ? null : editing}
					onClose={() => setEditing(null)}
					onSaved={(g) => {
						setDone(editing === 'new' ? `Group ${g.name} created.` : `Group ${g.name} saved.`);
						setEditing(null);
						reload();
					}}
				/>
			)}
			{deleting && (
				<ConfirmDialog
					title="Delete group"
					testid="delete-group-dialog"
					onClose={() => setDeleting(null)}
					onConfirm={async () => {
						await apiDelete('/groups/' + encodeURIComponent(deleting.name));
						setDone(`Group ${deleting.name} deleted.`);
						reload();
					}}
				>
					<p>
						Delete the group <strong>{deleting.name}</strong>?
						{deleting.builtin && ' It is one of the groups kaon created on its first start.'}
						{memberCount(deleting.members) > 0 && ' It still has members, so the server will refuse until they leave it.'}
					</p>
				</ConfirmDialog>
			)}
		</section>
	);
}
