// pages/login.jsx — username and password; POST /api/v1/login.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiPost } from '../api.js';
import { Logo } from '../components/frame.jsx';

// The server's message, made precise with Retry-After when it says how long.
function loginMessage(e) {
	if (e.status === 429 && e.retryAfter != null) {
		const n = String(e.retryAfter);
		if (!e.message.includes(n)) return `Too many attempts, try again in ${n} s.`;
	}
	return e.message;
}

export function LoginPage({ notice, onLogin }) {
	const [username, setUsername] = useState('');
	const [password, setPassword] = useState('');
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);
	const userRef = useRef(null);
	const passRef = useRef(null);

	useEffect(() => {
		document.title = 'Log in · kaon';
		if (userRef.current) userRef.current.focus();
	}, []);

	const submit = async (e) => {
		e.preventDefault();
		if (busy) return;
		setError(null);
		setBusy(true);
		try {
			const session = await apiPost('/login', { username: username.trim(), password }, { quiet401: true });
			await onLogin(session);
		} catch (err) {
			setError(loginMessage(err));
			setBusy(false);
			setPassword('');
			if (passRef.current) passRef.current.focus();
		}
	};

	const shown = error || notice;
	return (
		<div class="login-screen">
			<main class="login-card" data-testid="login-page">
				<div class="login-brand">
					<Logo />
					<span class="brand-name">kaon</span>
				</div>
				<h1>Log in</h1>
				<p class="muted">Use your kaon account to reach the lab's GPU machines.</p>
				<form id="login-form" onSubmit={submit} noValidate={false}>
					{shown && (
						<div class="alert alert-error" role="alert" id="login-error" data-testid="login-error">
							{shown}
						</div>
					)}
					<div class="field">
						<label for="username">Username</label>
						<input
							id="username"
							name="username"
							type="text"
							autocomplete="username"
							autocapitalize="none"
							spellcheck={false}
							required
							ref={userRef}
							value={username}
							onInput={(e) => setUsername(e.currentTarget.value)}
							aria-describedby={shown ? 'login-error' : undefined}
						/>
					</div>
					<div class="field">
						<label for="password">Password</label>
						<input
							id="password"
							name="password"
							type="password"
							autocomplete="current-password"
							required
							ref={passRef}
							value={password}
							onInput={(e) => setPassword(e.currentTarget.value)}
						/>
					</div>
					<button type="submit" id="login-submit" class="btn btn-primary btn-block" disabled={busy}>
						{busy ? 'Logging in…' : 'Log in'}
					</button>
				</form>
			</main>
		</div>
	);
}
