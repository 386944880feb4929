// pages/home.jsx — welcome, your groups, your Unix account and home, and
// changing your own password.
import { useRef, useState } from 'preact/hooks';
import { apiPost } from '../api.js';
import { Badge, ErrorBanner, Field, Notice, PageHeader } from '../components/ui.jsx';

// The server's message, made precise with Retry-After when it says how long.
function passwordMessage(e) {
	if (e.status === 429 && e.retryAfter != null) {
		const n = String(e.retryAfter);
		if (!e.message.includes(n)) return `Too many attempts, try again in ${n} s.`;
	}
	return e.message;
}

// POST /api/v1/me/password. The two new passwords are compared here; the
// server judges the current one and the new one's length. Success ends the
// user's other browser sessions, this one stays.
function ChangePassword({ username }) {
	const [current, setCurrent] = useState('');
	const [fresh, setFresh] = useState('');
	const [repeat, setRepeat] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const [mismatch, setMismatch] = useState(false);
	const [done, setDone] = useState(false);
	const currentRef = useRef(null);
	const repeatRef = useRef(null);

	const submit = async (e) => {
		e.preventDefault();
		if (busy) return;
		setDone(false);
		setError(null);
		if (fresh !== repeat) {
			setMismatch(true);
			setError('The new passwords do not match.');
			if (repeatRef.current) repeatRef.current.focus();
			return;
		}
		setMismatch(false);
		setBusy(true);
		try {
			await apiPost('/me/password', { current_password: current, new_password: fresh });
			setCurrent('');
			setFresh('');
			setRepeat('');
			setDone(true);
		} catch (err) {
			setError(passwordMessage(err));
			if (err.code === 'wrong_password') {
				setCurrent('');
				if (currentRef.current) currentRef.current.focus();
			}
		} finally {
			setBusy(false);
		}
	};

	return (
		<form class="card" id="password-form" onSubmit={submit} aria-labelledby="home-password">
			<h2 id="home-password">Change password</h2>
			<ErrorBanner error={error} id="password-error" testid="password-error" />
			{done && (
				<Notice testid="password-done">
					Your password has been changed. Your other browser sessions have been logged out.
				</Notice>
			)}
			{/* For password managers: which account this form is for. */}
			<input type="text" name="username" autocomplete="username" value={username} readOnly hidden />
			<div class="row">
				<Field
					label="Current password"
					id="password-current"
					name="current-password"
					type="password"
					autocomplete="current-password"
					required
					ref={currentRef}
					value={current}
					onInput={(e) => setCurrent(e.currentTarget.value)}
				/>
				<Field
					label="New password"
					id="password-new"
					name="new-password"
					type="password"
					autocomplete="new-password"
					hint="At least 8 characters."
					required
					value={fresh}
					onInput={(e) => {
						setFresh(e.currentTarget.value);
						setMismatch(false);
					}}
				/>
				<Field
					label="Repeat new password"
					id="password-repeat"
					name="repeat-password"
					type="password"
					autocomplete="new-password"
					required
					ref={repeatRef}
					aria-invalid={mismatch ? 'true' : undefined}
					aria-errormessage={mismatch ? 'password-error' : undefined}
					value={repeat}
					onInput={(e) => {
						setRepeat(e.currentTarget.value);
						setMismatch(false);
					}}
				/>
			</div>
			<div class="form-actions form-actions-start">
				<button type="submit" class="btn btn-primary" id="password-submit" disabled={busy}>
					{busy ? 'Changing…' : 'Change password'}
				</button>
			</div>
		</form>
	);
}

export function HomePage({ me }) {
	const groups = me.groups || [];
	const name = me.display_name || me.username;
	return (
		<section class="page" data-testid="page-home">
			<PageHeader title="Home" />
			<p class="lead" data-testid="welcome">
				Welcome, <strong>{name}</strong>.
			</p>
			<div class="cards">
				<article class="card" aria-labelledby="home-account">
					<h2 id="home-account">Your account</h2>
					<dl class="facts">
						<dt>Username</dt>
						<dd data-testid="home-username">{me.username}</dd>
						{me.display_name && (
							<>
								<dt>Name</dt>
								<dd>{me.display_name}</dd>
							</>
						)}
						{me.email && (
							<>
								<dt>Email</dt>
								<dd>{me.email}</dd>
							</>
						)}
						<dt>Role</dt>
						<dd>{me.admin ? <Badge kind="info">administrator</Badge> : 'user'}</dd>
					</dl>
				</article>
				<article class="card" aria-labelledby="home-groups">
					<h2 id="home-groups">Your groups</h2>
					{groups.length === 0 ? (
						<p class="muted">You are in no group yet. An administrator can add you to one.</p>
					) : (
						<ul class="group-list" data-testid="home-groups">
							{groups.map((g, i) => (
								<li key={g}>
									<span class="mono">{g}</span>
									{i === 0 && groups.length > 1 && <Badge>primary</Badge>}
								</li>
							))}
						</ul>
					)}
					{groups.length > 0 && <p class="hint">The limits of your primary group apply to your work.</p>}
				</article>
				<article class="card" aria-labelledby="home-unix">
					<h2 id="home-unix">Unix account</h2>
					<dl class="facts">
						<dt>User</dt>
						<dd class="mono" data-testid="home-unix-user">
							{me.unix_user || '—'}
							{me.uid != null && <span class="muted"> (uid {me.uid})</span>}
						</dd>
						<dt>Home</dt>
						<dd class="mono break" data-testid="home-dir">
							{me.home || '—'}
						</dd>
					</dl>
				</article>
			</div>
			<ChangePassword username={me.username} />
			<p class="muted small">
				Scripts and the <span class="mono">kaon</span> command line reach the same API with a personal token: see{' '}
				<a href="#/tokens">API tokens</a>.
			</p>
		</section>
	);
}
