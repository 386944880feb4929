// pages/sessionshell.jsx — a shell session in the browser
// (#/sessions/ID/shell): xterm.js on the session's own terminal
// WebSocket, /s/ID/tty through kaon's proxy, which speaks the protocol of
// kaon's terminals (docs/terminal.md). The page waits until the session
// is ready, reconnects while it lives, warns before its time is up and
// offers to extend it.
import { useEffect, useRef, useState } from 'preact/hooks';
import './terminal.css';
import './sessions.css';
import { apiGet } from '../api.js';
import { ErrorBanner, PageHeader } from '../components/ui.jsx';
import { SessionTime, StateBadge, statusText, StopButton } from '../components/session.jsx';
import { wsUrlOf, xtermOpen } from '../components/xterm.js';
import { endText, isLive, isReady } from '../workspace/sessions.js';

export function ShellSession({ id }) {
	const box = useRef(null);
	const [s, setS] = useState(null);
	const [error, setError] = useState(null);
	const [status, setStatus] = useState('waiting'); // waiting | connecting | open | reconnecting | ended
	const [exited, setExited] = useState(null);
	const [now, setNow] = useState(Date.now());
	const kick = useRef(null);
	const ready = !!s && isReady(s);

	// The session: every 2 s until it is ready, then every 10 s for its
	// expiry; not at all once it has ended.
	useEffect(() => {
		let live = true;
		let timer = null;
		const poll = async () => {
			clearTimeout(timer);
			let next = 2000;
			try {
				const x = await apiGet('/sessions/' + id);
				if (!live) return;
				setS(x);
				setError(null);
				if (!isLive(x)) next = 0;
				else if (isReady(x)) next = 10000;
			} catch (e) {
				if (!live) return;
				setError(e);
				if (e.status === 404 || e.status === 403) next = 0;
				else next = 5000;
			}
			setNow(Date.now());
			if (next) timer = setTimeout(poll, next);
		};
		kick.current = poll;
		poll();
		return () => {
			live = false;
			kick.current = null;
			clearTimeout(timer);
		};
	}, [id]);

	useEffect(() => {
		const t = setInterval(() => setNow(Date.now()), 1000);
		return () => clearInterval(t);
	}, []);

	// Once ready, the terminal; it stays until the page goes away.
	useEffect(() => {
		if (!ready) return undefined;
		const x = xtermOpen(box.current);
		setStatus('connecting');
		x.connect(wsUrlOf(`/s/${encodeURIComponent(id)}/tty`), {
			alive: async () => {
				try {
					const now = await apiGet('/sessions/' + id, { quiet401: true });
					setS(now);
					return isLive(now);
				} catch (e) {
					if (e.status === 404) return false;
					throw e;
				}
			},
			onStatus: setStatus,
			onExit: (msg) => {
				setExited(msg);
				setStatus('ended');
				if (kick.current) kick.current();
			},
		});
		return () => x.dispose();
	}, [ready, id]);

	const update = (x) => {
		setS(x);
		if (kick.current) kick.current();
	};

	const ended = s && !isLive(s);
	const shown = ended ? 'ended' : status;
	const label = {
		waiting: s ? statusText(s, null, now) : 'Loading…',
		connecting: 'Connecting…',
		open: 'Connected',
		reconnecting: 'Connection lost; reconnecting…',
		ended: 'Ended',
	}[shown];

	return (
		<div class="terminal-page" data-testid="page-session-shell" data-session-id={id}>
			<PageHeader title={s ? `Shell: ${s.name}` : 'Shell session'}>
				<span class={'terminal-status terminal-status-' + shown} role="status" data-testid="shell-status">
					{label}
				</span>
				{s && <StateBadge s={s} />}
				{s && isLive(s) && <StopButton s={s} onChange={update} label="Stop session" />}
			</PageHeader>
			<p class="shell-back">
				<a href="#/sessions">← Sessions</a>
			</p>
			<ErrorBanner error={error} />
			{s && <SessionTime s={s} now={now} onChange={update} />}
			{(ended || exited) && (
				<p class="terminal-ended" data-testid="shell-ended">
					{exited && exited.reason === 'exited'
						? `The shell has ended${exited.status != null ? ` (exit status ${exited.status})` : ''}.`
						: 'The shell has ended.'}
					{ended ? ` The session ${endText(s)}.` : ''}
				</p>
			)}
			<div class={'terminal-box' + (ready || status !== 'waiting' ? '' : ' terminal-box-waiting')} ref={box} data-testid="terminal" />
			<p class="hint terminal-hint">
				Copy: select, then Ctrl+Shift+C. Paste: Ctrl+Shift+V. The shell lives as long as the session: closing the page does not end it.
			</p>
		</div>
	);
}
