// pages/terminal.jsx — a shell in the browser: xterm.js on the terminal
// WebSocket (docs/terminal.md).
//
// The page attaches to the terminal this tab used last (its id is kept in
// sessionStorage, so a reload finds the same shell), else to your most
// recently active one, else it opens a new one. Keys go to the shell as
// bytes, verbatim; output, the scrollback first, comes back as bytes. A
// dropped connection reconnects by itself (the shell lives on on the
// server for [terminal] grace_s); when the shell ends the page says so.
// The xterm.js side is components/xterm.js, shared with shell sessions.
import { useEffect, useRef, useState } from 'preact/hooks';
import './terminal.css';
import { apiDelete, apiGet, apiPost } from '../api.js';
import { ErrorBanner, PageHeader } from '../components/ui.jsx';
import { wsUrlOf, xtermOpen } from '../components/xterm.js';

const STORE_KEY = 'kaon.terminal';

function rememberId(id) {
	try {
		if (id) sessionStorage.setItem(STORE_KEY, id);
		else sessionStorage.removeItem(STORE_KEY);
	} catch {
		// storage disabled: a reload opens a new terminal
	}
}

function rememberedId() {
	try {
		return sessionStorage.getItem(STORE_KEY);
	} catch {
		return null;
	}
}

// The terminal to attach to: this tab's, else the most recently active
// one, else a new one.
async function findTerminal(cols, rows, fresh) {
	if (!fresh) {
		const saved = rememberedId();
		if (saved) {
			try {
				return await apiGet('/terminals/' + encodeURIComponent(saved));
			} catch (e) {
				if (e.status !== 404) throw e;
			}
		}
		const { terminals } = await apiGet('/terminals');
		if (terminals.length) {
			return terminals.reduce((a, b) => (b.last_active_at > a.last_active_at ? b : a));
		}
	}
	return apiPost('/terminals', { cols, rows });
}

export function TerminalPage() {
	const box = useRef(null);
	const [status, setStatus] = useState('connecting'); // connecting | open | reconnecting | ended
	const [info, setInfo] = useState(null);
	const [ended, setEnded] = useState(null);
	const [error, setError] = useState(null);
	const [generation, setGeneration] = useState(0); // bumped to start over
	const fresh = useRef(false);

	useEffect(() => {
		const x = xtermOpen(box.current);
		let closed = false; // the page is going away
		const onEnd = (msg) => {
			rememberId(null);
			setEnded(msg);
			setStatus('ended');
		};
		(async () => {
			try {
				const t = await findTerminal(x.term.cols, x.term.rows, fresh.current);
				fresh.current = false;
				if (closed) return;
				rememberId(t.id);
				setInfo(t);
				x.connect(wsUrlOf(`/api/v1/terminals/${encodeURIComponent(t.id)}/ws`), {
					// Reattach unless the terminal has ended meanwhile (404).
					alive: async () => {
						try {
							await apiGet('/terminals/' + encodeURIComponent(t.id), { quiet401: true });
							return true;
						} catch (e) {
							if (e.status === 404) return false;
							throw e;
						}
					},
					onStatus: setStatus,
					onExit: onEnd,
				});
			} catch (e) {
				if (!closed) {
					setError(e);
					setStatus('ended');
				}
			}
		})();

		return () => {
			closed = true;
			x.dispose();
		};
	}, [generation]);

	const restart = () => {
		fresh.current = true;
		setEnded(null);
		setError(null);
		setInfo(null);
		setStatus('connecting');
		setGeneration((g) => g + 1);
	};

	const endTerminal = async () => {
		if (!info) return;
		try {
			await apiDelete('/terminals/' + encodeURIComponent(info.id));
		} catch (e) {
			if (e.status !== 404) setError(e);
		}
	};

	const label = {
		connecting: 'Connecting…',
		open: 'Connected',
		reconnecting: 'Connection lost; reconnecting…',
		ended: 'Ended',
	}[status];

	return (
		<div class="terminal-page" data-testid="page-terminal">
			<PageHeader title="Terminal">
				<span class={'terminal-status terminal-status-' + status} role="status" data-testid="terminal-status">
					{label}
				</span>
				{status === 'ended' ? (
					<button type="button" class="btn btn-primary" data-testid="terminal-new" onClick={restart}>
						New terminal
					</button>
				) : (
					<button
						type="button"
						class="btn btn-danger-ghost"
						data-testid="terminal-end"
						disabled={!info}
						onClick={endTerminal}
					>
						End terminal
					</button>
				)}
			</PageHeader>
			<ErrorBanner error={error} />
			{ended && (
				<p class="terminal-ended" data-testid="terminal-ended">
					The shell has ended
					{ended.reason === 'exited' && ended.status != null ? ` (exit status ${ended.status})` : ''}
					{ended.reason === 'idle' ? ' (idle for too long)' : ''}
					{ended.reason === 'grace' ? ' (no window was attached for too long)' : ''}
					{ended.reason === 'shutdown' ? ' (the server stopped)' : ''}.
				</p>
			)}
			<div class="terminal-box" ref={box} data-testid="terminal" data-terminal-id={info ? info.id : ''} />
			<p class="hint terminal-hint">
				Copy: select, then Ctrl+Shift+C. Paste: Ctrl+Shift+V. The shell keeps running when you close the page.
			</p>
		</div>
	);
}
