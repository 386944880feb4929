// pages/sessions.jsx — interactive sessions (docs/workspace.md; the API
// in docs/sessions.md): launch a Jupyter Notebook, TensorBoard or a shell
// from a profile, follow it through the queue and its start until it
// answers, open it, extend it before its time is up, stop it; and the
// sessions that have ended.
//
// A session opens at its url (/s/ID/..., kaon's proxy) in a new tab, by
// a link the user clicks: browsers block a tab opened later from a
// script, so when a launched session becomes ready the page shows a
// prominent Open link (as JupyterHub does). A shell session opens in
// this page instead (#/sessions/ID/shell, xterm on /s/ID/tty), and there
// the page goes by itself.
import '../workspace.css';
import './sessions.css';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { fmtDuration, fmtTime } from '../format.js';
import { routeGo } from '../router.js';
import { Dialog, Empty, ErrorBanner, Loading, PageHeader } from '../components/ui.jsx';
import { Icon } from '../components/icons.jsx';
import { OpenLink, SessionTime, StateBadge, statusText, StopButton } from '../components/session.jsx';
import { apiPathOf, HOME, joinPath } from '../workspace/paths.js';
import {
	choiceLoad,
	choiceSave,
	endDetail,
	endText,
	followLoad,
	followSave,
	isLive,
	isMoving,
	isReady,
	isShell,
	limitsText,
	optionNames,
	resourcesText,
	shellRoute,
} from '../workspace/sessions.js';
import { ShellSession } from './sessionshell.jsx';

const listOf = (d, key) => (Array.isArray(d) ? d : (d && d[key]) || []);

// Lifetimes the launch form offers, up to the profile's maximum.
const LIFETIMES = [3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 86400];

function lifetimeChoices(p) {
	const max = p.max_lifetime_s || p.lifetime_s || 24 * 3600;
	const set = new Set(LIFETIMES.filter((s) => s <= max));
	if (p.lifetime_s) set.add(p.lifetime_s);
	return [...set].sort((a, b) => a - b);
}

// --- folder picker ---------------------------------------------------------

// A dialog that walks the folders of the user's home and answers the one
// chosen (home-relative; '' is the home itself).
function FolderPicker({ start, onPick, onClose }) {
	const [path, setPath] = useState(start || '');
	const [dirs, setDirs] = useState(null);
	const [error, setError] = useState(null);
	useEffect(() => {
		let live = true;
		setDirs(null);
		setError(null);
		apiGet(apiPathOf(HOME, path) + '?limit=1000')
			.then((d) => {
				if (!live) return;
				const names = (d.entries || []).filter((e) => e.type === 'dir' && !e.name.startsWith('.')).map((e) => e.name);
				setDirs(names.sort((a, b) => a.localeCompare(b)));
			})
			.catch((e) => {
				if (!live) return;
				// A folder typed by hand that is not there: start from home.
				if (e.status === 404 && path) setPath('');
				else setError(e);
			});
		return () => {
			live = false;
		};
	}, [path]);
	const up = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
	return (
		<Dialog title="Choose a folder" onClose={onClose} testid="folder-picker">
			<div class="dialog-body">
				<p class="mono break" data-testid="folder-picker-path">
					~{path ? '/' + path : ''}
				</p>
				<ErrorBanner error={error} />
				{dirs == null && !error ? (
					<Loading />
				) : (
					<ul class="folder-list" aria-label="Folders">
						{path && (
							<li>
								<button type="button" class="linkish folder-item" onClick={() => setPath(up)}>
									<Icon name="folder" class="icon-folder" /> ..
									<span class="sr-only"> (up one folder)</span>
								</button>
							</li>
						)}
						{(dirs || []).map((n) => (
							<li key={n}>
								<button type="button" class="linkish folder-item" onClick={() => setPath(joinPath(path, n))}>
									<Icon name="folder" class="icon-folder" /> <span class="break">{n}</span>
								</button>
							</li>
						))}
						{dirs && dirs.length === 0 && <li class="muted small">No folders here.</li>}
					</ul>
				)}
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="button" class="btn btn-primary" data-testid="folder-pick" onClick={() => onPick(path)}>
						Use this folder
					</button>
				</div>
			</div>
		</Dialog>
	);
}

// --- the launch form --------------------------------------------------------

function LaunchForm({ me, profiles, onLaunched }) {
	const remembered = useRef(choiceLoad(me.username));
	const initial = profiles.find((p) => p.name === remembered.current.profile) || profiles[0];
	const [profile, setProfile] = useState(initial ? initial.name : '');
	const [name, setName] = useState('');
	const [folder, setFolder] = useState(remembered.current.folder || '');
	const [lifetime, setLifetime] = useState(initial ? String(initial.lifetime_s || '') : '');
	const [picking, setPicking] = useState(false);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const nameId = useId();
	const folderId = useId();
	const lifeId = useId();

	const p = profiles.find((x) => x.name === profile);
	const opts = p ? optionNames(p) : [];
	const choose = (n) => {
		setProfile(n);
		const q = profiles.find((x) => x.name === n);
		setLifetime(q && q.lifetime_s ? String(q.lifetime_s) : '');
	};

	const submit = async (e) => {
		e.preventDefault();
		if (!p || busy) return;
		setBusy(true);
		setError(null);
		const body = { profile: p.name };
		if (name.trim()) body.name = name.trim();
		if (opts.includes('folder')) body.options = { folder: folder.trim().replace(/^~\/?/, '').replace(/^\/+|\/+$/g, '') };
		if (lifetime && Number(lifetime) !== p.lifetime_s) body.lifetime_s = Number(lifetime);
		try {
			const s = await apiPost('/sessions', body);
			choiceSave(me.username, { profile: p.name, folder: opts.includes('folder') ? folder : remembered.current.folder || '' });
			remembered.current = choiceLoad(me.username);
			setName('');
			onLaunched(s);
		} catch (err) {
			setError(err);
		} finally {
			setBusy(false);
		}
	};

	return (
		<form class="card launch" onSubmit={submit} aria-labelledby="launch-title" data-testid="launch-form">
			<h2 id="launch-title">New session</h2>
			<fieldset class="profiles">
				<legend>Profile</legend>
				<div class="profile-grid">
					{profiles.map((q) => (
						<label key={q.name} class={'profile' + (q.name === profile ? ' profile-chosen' : '')} data-testid="profile" data-profile={q.name}>
							<input type="radio" name="profile" value={q.name} checked={q.name === profile} onChange={() => choose(q.name)} />
							<span class="profile-text">
								<span class="profile-title">{q.title || q.name}</span>
								{q.description && <span class="profile-desc">{q.description}</span>}
								<span class="profile-res">{resourcesText(q.resources)}</span>
								<span class="profile-limits">{limitsText(q)}</span>
							</span>
						</label>
					))}
				</div>
			</fieldset>
			<div class="row">
				<div class="field">
					<label for={nameId}>Name</label>
					<input
						id={nameId}
						type="text"
						value={name}
						maxLength={32}
						autocomplete="off"
						placeholder={p ? p.name : ''}
						aria-describedby={nameId + '-hint'}
						onInput={(e) => setName(e.currentTarget.value)}
						data-testid="launch-name"
					/>
					<div class="hint" id={nameId + '-hint'}>
						Optional: lowercase letters, digits and -. Tells your sessions apart; <span class="mono">kaon open NAME</span> uses it.
					</div>
				</div>
				{opts.includes('folder') && (
					<div class="field">
						<label for={folderId}>Folder</label>
						<div class="input-with-button">
							<input
								id={folderId}
								type="text"
								value={folder}
								placeholder="your home"
								aria-describedby={folderId + '-hint'}
								onInput={(e) => setFolder(e.currentTarget.value)}
								data-testid="launch-folder"
							/>
							<button type="button" class="btn" onClick={() => setPicking(true)} data-testid="launch-folder-browse">
								<Icon name="folder" /> Browse…
							</button>
						</div>
						<div class="hint" id={folderId + '-hint'}>
							Relative to your home; empty for the home itself.
						</div>
					</div>
				)}
				{p && lifetimeChoices(p).length > 1 && (
					<div class="field field-narrow">
						<label for={lifeId}>Runs for</label>
						<select id={lifeId} value={lifetime} onChange={(e) => setLifetime(e.currentTarget.value)} data-testid="launch-lifetime">
							{lifetimeChoices(p).map((s) => (
								<option key={s} value={String(s)}>
									{fmtDuration(s)}
								</option>
							))}
						</select>
					</div>
				)}
			</div>
			<ErrorBanner error={error} testid="launch-error" />
			<div class="form-actions form-actions-start">
				<button type="submit" class="btn btn-primary" disabled={!p || busy} data-testid="launch">
					<Icon name="play" /> {busy ? 'Launching…' : 'Launch'}
				</button>
			</div>
			{picking && (
				<FolderPicker
					start={folder.trim().replace(/^~\/?/, '').replace(/^\/+|\/+$/g, '')}
					onClose={() => setPicking(false)}
					onPick={(f) => {
						setFolder(f);
						setPicking(false);
					}}
				/>
			)}
		</form>
	);
}

// --- one session --------------------------------------------------------------

function SessionCard({ s, profile, now, onChange }) {
	return (
		<article class="card session" data-testid="session" data-id={s.id} data-name={s.name} aria-labelledby={`session-${s.id}-name`}>
			<div class="session-head">
				<h3 id={`session-${s.id}-name`} class="session-name break">
					{s.name}
				</h3>
				<StateBadge s={s} />
				<span class="session-profile muted small">
					{profile ? profile.title || profile.name : s.profile}
					{s.resources || (profile && profile.resources) ? ' · ' + resourcesText(s.resources || profile.resources) : ''}
				</span>
				<span class="session-actions">
					{isReady(s) && <OpenLink s={s} />}
					<StopButton s={s} onChange={onChange} />
				</span>
			</div>
			<p class="session-status" data-testid="session-status">
				{isMoving(s) && s.state !== 'pending' && <span class="spinner" aria-hidden="true" />}
				{statusText(s, profile, now)}
			</p>
			<SessionTime s={s} now={now} onChange={onChange} />
		</article>
	);
}

// The session this tab launched, from the queue to ready, in one place:
// when it is ready a big Open link (a new tab must come from a click);
// a shell opens in this page by itself.
function Follow({ s, profile, now, onDone, onChange }) {
	useEffect(() => {
		if (s && isReady(s) && isShell(s)) {
			onDone();
			routeGo(shellRoute(s.id));
		}
	}, [s && isReady(s), s && s.id]);
	if (!s) return null;
	const title = profile ? profile.title || profile.name : s.profile;
	let body;
	if (isReady(s)) {
		body = (
			<>
				<p class="follow-text">
					<strong>{s.name} is ready.</strong>
				</p>
				<OpenLink s={s} primary onOpen={onDone}>
					Open {title}
				</OpenLink>
			</>
		);
	} else if (isLive(s)) {
		body = (
			<p class="follow-text">
				{s.state !== 'pending' && <span class="spinner" aria-hidden="true" />}
				<span>
					<strong>{s.name}</strong>: {statusText(s, profile, now)}
				</span>
			</p>
		);
	} else {
		body = (
			<p class="follow-text">
				<span>
					<strong>{s.name}</strong> {endText(s)}.{' '}
					{(s.end_reason === 'failed' || s.state === 'failed') && (
						<>
							<a href={'#/jobs/' + s.id}>Its job output</a> says why.
						</>
					)}
				</span>
			</p>
		);
	}
	return (
		<section class={'follow' + (isReady(s) ? ' follow-ready' : '')} aria-label={`Launching ${s.name}`} data-testid="follow" data-state={s.state}>
			<div class="follow-body" role="status" aria-live="polite">
				{body}
			</div>
			<StepList s={s} />
			<button type="button" class="btn-icon follow-close" aria-label="Dismiss" onClick={onDone}>
				<svg viewBox="0 0 20 20" aria-hidden="true">
					<path d="M5 5l10 10M15 5L5 15" />
				</svg>
			</button>
			{isLive(s) && !isReady(s) && s.state !== 'ending' && (
				<div class="follow-stop">
					<StopButton
						s={s}
						label="Cancel"
						onChange={(x) => {
							onDone();
							onChange(x);
						}}
					/>
				</div>
			)}
		</section>
	);
}

// queued → starting → ready
function StepList({ s }) {
	const steps = ['queued', 'starting', 'ready'];
	const i = isReady(s) ? 2 : s.state === 'pending' ? 0 : isLive(s) ? 1 : -1;
	if (i < 0) return null;
	return (
		<ol class="steps" aria-label="Progress">
			{steps.map((t, k) => (
				<li key={t} class={k < i ? 'step-done' : k === i ? 'step-now' : ''} aria-current={k === i ? 'step' : undefined}>
					{t}
				</li>
			))}
		</ol>
	);
}

function EndedTable({ sessions, profiles }) {
	const [all, setAll] = useState(false);
	const shown = all ? sessions : sessions.slice(0, 10);
	return (
		<>
			<div class="table-wrap">
				<table class="table" data-testid="ended-table">
					<thead>
						<tr>
							<th>Name</th>
							<th>Profile</th>
							<th>How it ended</th>
							<th>Started</th>
							<th>Ended</th>
							<th class="num">Job</th>
						</tr>
					</thead>
					<tbody>
						{shown.map((s) => {
							const p = profiles.find((x) => x.name === s.profile);
							return (
								<tr key={s.id} data-testid="ended-session" data-id={s.id} data-end-reason={s.end_reason || ''}>
									<td class="break">{s.name}</td>
									<td>{p ? p.title || p.name : s.profile}</td>
									<td>
										<StateBadge s={s} /> <span class="small">{endDetail(s)}</span>
									</td>
									<td class="nowrap">{fmtTime(s.start_time) || '—'}</td>
									<td class="nowrap">{fmtTime(s.end_time)}</td>
									<td class="num mono">
										<a href={'#/jobs/' + s.id} aria-label={`Job ${s.id}: output and details`}>
											{s.id}
										</a>
									</td>
								</tr>
							);
						})}
					</tbody>
				</table>
			</div>
			{sessions.length > shown.length && (
				<div class="files-more">
					<button type="button" class="btn btn-small" onClick={() => setAll(true)}>
						Show all {sessions.length}
					</button>
				</div>
			)}
		</>
	);
}

// --- the page ---------------------------------------------------------------

function SessionsList({ me }) {
	const [profiles, setProfiles] = useState(null);
	const [profilesError, setProfilesError] = useState(null);
	const [sessions, setSessions] = useState(null);
	const [error, setError] = useState(null);
	const [follow, setFollowState] = useState(followLoad);
	const [now, setNow] = useState(Date.now());
	const kick = useRef(null); // polls now

	const setFollow = (id) => {
		followSave(id);
		setFollowState(id);
	};

	useEffect(() => {
		apiGet('/profiles')
			.then((d) => setProfiles(listOf(d, 'profiles')))
			.catch((e) => {
				setProfiles([]);
				setProfilesError(e);
			});
	}, []);

	// Live sessions and the last ended ones (?ended=1), every 2 s while a
	// session is on its way to ready or out, else every 10 s (sessions
	// end by themselves: idle, expired).
	useEffect(() => {
		let live = true;
		let timer = null;
		const poll = async () => {
			clearTimeout(timer);
			let fast = false;
			try {
				const list = listOf(await apiGet('/sessions?ended=1'), 'sessions');
				if (!live) return;
				setSessions(list);
				setError(null);
				fast = list.some(isMoving);
			} catch (e) {
				if (!live) return;
				setError(e);
			}
			setNow(Date.now());
			timer = setTimeout(poll, fast ? 2000 : 10000);
		};
		kick.current = poll;
		poll();
		return () => {
			live = false;
			kick.current = null;
			clearTimeout(timer);
		};
	}, []);

	// The clock of "ends in" between polls.
	useEffect(() => {
		const t = setInterval(() => setNow(Date.now()), 1000);
		return () => clearInterval(t);
	}, []);

	const update = (s) => {
		setSessions((list) => {
			const rest = (list || []).filter((x) => x.id !== s.id);
			return [s, ...rest];
		});
		if (kick.current) kick.current();
	};

	const launched = (s) => {
		setFollow(s.id);
		update(s);
	};

	const byTime = (a, b) => (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);
	const live = (sessions || []).filter(isLive).sort(byTime);
	const ended = (sessions || []).filter((s) => !isLive(s)).sort(byTime);
	const followed = follow != null && sessions ? sessions.find((s) => s.id === follow) : null;
	const profileOf = (s) => (profiles || []).find((p) => p.name === s.profile);

	return (
		<section class="page page-wide" data-testid="page-sessions">
			<PageHeader title="Sessions" />
			<p class="muted small">
				Jupyter notebooks, TensorBoard and shells that run as jobs on the cluster, reached through kaon. Also from the command line:{' '}
				<span class="mono">kaon sessions</span>, <span class="mono">kaon open</span>, <span class="mono">kaon stop</span>.
			</p>
			{followed && (
				<Follow s={followed} profile={profileOf(followed)} now={now} onDone={() => setFollow(null)} onChange={update} />
			)}
			<ErrorBanner error={profilesError} />
			{profiles == null ? (
				<Loading />
			) : profiles.length === 0 ? (
				!profilesError && <Empty>No session profile is open to you. An administrator can add one, or add you to a group that may use one.</Empty>
			) : (
				<LaunchForm me={me} profiles={profiles} onLaunched={launched} />
			)}

			<h2 class="section-title">
				Running <span class="muted small">{sessions ? live.length : ''}</span>
			</h2>
			<ErrorBanner error={error} />
			{sessions == null ? (
				!error && <Loading />
			) : live.length === 0 ? (
				<Empty>No session is running.</Empty>
			) : (
				<div class="sessions" data-testid="sessions">
					{live.map((s) => (
						<SessionCard key={s.id} s={s} profile={profileOf(s)} now={now} onChange={update} />
					))}
				</div>
			)}

			{ended.length > 0 && (
				<>
					<h2 class="section-title">Ended</h2>
					<EndedTable sessions={ended} profiles={profiles || []} />
				</>
			)}
		</section>
	);
}

export function SessionsPage({ route, me }) {
	const m = /^\/sessions\/(\d+)\/shell$/.exec(route);
	if (m) return <ShellSession key={m[1]} id={Number(m[1])} me={me} />;
	return <SessionsList me={me} />;
}
