// components/xterm.js — xterm.js in a box, on a WebSocket that speaks
// kaon's terminal protocol (docs/terminal.md): binary messages are the
// terminal's bytes both ways, text messages JSON control
// ({"type":"resize","cols","rows"} in, {"type":"exit","reason","status"}
// out), the scrollback replayed first on every (re)connection.
//
// Shared by the Terminal page (/api/v1/terminals/{id}/ws) and the shell
// sessions' page (/s/{id}/tty, served by the session's own backend
// through kaon's proxy). A dropped connection reconnects by itself after
// asking alive() whether there is still something to reconnect to.
// Copy: select with the mouse (Ctrl+Shift+C, or the browser's menu);
// paste: Ctrl+Shift+V or the browser's menu.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { xtermCspInstall } from '../xterm-csp.js';

const MAX_SEND = 16 * 1024; // the server refuses messages over 64 KiB
const RETRY_MS = [500, 1000, 2000, 5000];

const THEME = {
	background: '#12141b',
	foreground: '#e6e8ef',
	cursor: '#9aadff',
	selectionBackground: '#3d4a7a',
};

// ws:// or wss:// for a path on this server.
export function wsUrlOf(path) {
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${proto}//${location.host}${path}`;
}

// Opens a terminal in box (an element). Returns {term, connect, dispose}:
// connect(url, {alive, onStatus, onExit}) attaches it to the WebSocket at
// url; alive() (async) answers, before each reconnection, true to try
// again or false when the far end is gone for good (then onExit gets
// {reason: 'ended', status: null}), and throws when the server cannot be
// asked (tried again later). onStatus gets 'open' or 'reconnecting';
// onExit the server's exit message. dispose() undoes everything.
export function xtermOpen(box) {
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
	term.open(box);
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
	let closed = false; // disposed
	let over = false; // the far end ended
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
	observer.observe(box);

	const connect = (url, { alive, onStatus = () => {}, onExit = () => {} }) => {
		const open = () => {
			ws = new WebSocket(url);
			ws.binaryType = 'arraybuffer';
			ws.onopen = () => {
				attempt = 0;
				// The server replays the scrollback: start from a clean screen.
				term.reset();
				onStatus('open');
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
					onExit(msg);
				}
			};
			ws.onclose = () => {
				ws = null;
				if (closed || over) return;
				onStatus('reconnecting');
				reconnect();
			};
		};
		// Dropped: reattach, unless the far end has ended meanwhile.
		const reconnect = () => {
			const wait = RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)];
			retry = setTimeout(async () => {
				let yes;
				try {
					yes = await alive();
				} catch {
					if (!closed) reconnect(); // the server is unreachable: try again
					return;
				}
				if (closed || over) return;
				if (yes) {
					open();
				} else {
					over = true;
					onExit({ reason: 'ended', status: null });
				}
			}, wait);
		};
		open();
	};

	const dispose = () => {
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

	return { term, connect, dispose };
}
