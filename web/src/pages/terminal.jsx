// pages/terminal.jsx — a shell in the browser: xterm.js on the terminal
// WebSocket (docs/terminal.md).
//
// The page attaches to the terminal this tab used last (its id is kept in
// sessionStorage, so a reload finds the same shell), else to your most
// recently active one, else it opens a new one. Keys go to the shell as
// bytes, verbatim; output, the scrollback first, comes back as bytes. A
// dropped connection reconnects by itself (the shell lives on on the
// server for [terminal] grace_s); when the shell ends the page says so.
// Copy: select with the mouse (Ctrl+Shift+C, or the browser's menu);
// paste: Ctrl+Shift+V or the browser's menu.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import './terminal.css';
import { apiDelete, apiGet, apiPost } from '../api.js';
import { ErrorBanner, PageHeader } from '../components/ui.jsx';
import { xtermCspInstall } from '../xterm-csp.js';

const STORE_KEY = 'kaon.terminal';
const MAX_SEND = 16 * 1024; // the server refuses messages over 64 KiB
const RETRY_MS = [500, 1000, 2000, 5000];

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

function wsUrl(id) {
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${proto}//${location.host}/api/v1/terminals/${encodeURIComponent(id)}/ws`;
}

const THEME = {
	background: '#12141b',
	foreground: '#e6e8ef',
	cursor: '#9aadff',
	selectionBackground: '#3d4a7a',
};

export function TerminalPage() {
	const box = useRef(null);
	const [status, setStatus] = useState('connecting'); // connecting | open | reconnecting | ended
	const [info, setInfo] = useState(null);
	const [ended, setEnded] = useState(null);
	const [error, setError] = useState(null);
	const [generation, setGeneration] = useState(0); // bumped to start over
	const fresh = useRef(false);

	useEffect(() => {
		const uninstall = xtermCspInstall();
		const term = new Terminal({
			cursorBlink: true,
			fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
			fontSize: 14,
			scrollback: 5000,
			theme: THEME,
		});
		const fit = new FitAddon();
		term.loadAddon(fit);
		term.open(box.current);
		try {
			fit.fit();
		} catch {
			// not laid out yet: the observer fits it
		}
		term.focus();
		// Ctrl+Shift+C copies the selection; Ctrl+Shift+V is left to the
		// browser, whose paste event xterm turns into input.
		term.attachCustomKeyEventHandler((e) => {
			if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
			if (e.code === 'KeyC') {
				if (term.hasSelection() && navigator.clipboard) {
					navigator.clipboard.writeText(term.getSelection()).catch(() => {});
				}
				e.preventDefault();
				return false;
			}
			return e.code !== 'KeyV';
		});

		let ws = null;
		let id = null;
		let closed = false; // the page is going away
		let over = false; // the shell ended
		let attempt = 0;
		let retry = null;
		const enc = new TextEncoder();

		const send = (data) => {
			if (!ws || ws.readyState !== WebSocket.OPEN) return;
			const bytes = typeof data === 'string' ? enc.encode(data) : data;
			for (let i = 0; i < bytes.length; i += MAX_SEND) ws.send(bytes.subarray(i, i + MAX_SEND));
		};
		const sendSize = () => {
			if (ws && ws.readyState === WebSocket.OPEN) {
				ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
			}
		};
		const dataSub = term.onData((d) => send(d));
		const binSub = term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 255)));
		const resizeSub = term.onResize(() => sendSize());
		const observer = new ResizeObserver(() => {
			try {
				fit.fit();
			} catch {
				// hidden
			}
		});
		observer.observe(box.current);

		const connect = () => {
			ws = new WebSocket(wsUrl(id));
			ws.binaryType = 'arraybuffer';
			ws.onopen = () => {
				attempt = 0;
				// The server replays the scrollback: start from a clean screen.
				term.reset();
				setStatus('open');
				sendSize();
			};
			ws.onmessage = (ev) => {
				if (typeof ev.data !== 'string') {
					term.write(new Uint8Array(ev.data));
					return;
				}
				let msg = null;
				try {
					msg = JSON.parse(ev.data);
				} catch {
					return;
				}
				if (msg && msg.type === 'exit') {
					over = true;
					rememberId(null);
					setEnded(msg);
					setStatus('ended');
				}
			};
			ws.onclose = () => {
				ws = null;
				if (closed || over) return;
				setStatus('reconnecting');
				reconnect();
			};
		};

		// Dropped: reattach, unless the terminal has ended meanwhile.
		const reconnect = () => {
			const wait = RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)];
			retry = setTimeout(async () => {
				try {
					await apiGet('/terminals/' + encodeURIComponent(id), { quiet401: true });
					if (!closed) connect();
				} catch (e) {
					if (closed) return;
					if (e.status === 404) {
						over = true;
						rememberId(null);
						setEnded({ reason: 'ended', status: null });
						setStatus('ended');
					} else {
						reconnect(); /* the server is unreachable: try again */
					}
				}
			}, wait);
		};

		(async () => {
			try {
				const t = await findTerminal(term.cols, term.rows, fresh.current);
				fresh.current = false;
				if (closed) return;
				id = t.id;
				rememberId(id);
				setInfo(t);
				connect();
			} catch (e) {
				if (!closed) {
					setError(e);
					setStatus('ended');
				}
			}
		})();

		return () => {
			closed = true;
			clearTimeout(retry);
			if (ws && ws.close) ws.close(1000, 'page closed');
			observer.disconnect();
			dataSub.dispose();
			binSub.dispose();
			resizeSub.dispose();
			term.dispose();
			uninstall();
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
