// components/ui.jsx — small building blocks shared by the pages.
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';

// Shows an API error's message (the error.message of the JSON body).
export function ErrorBanner({ error, id, testid = 'error' }) {
	if (!error) return null;
	const msg = typeof error === 'string' ? error : error.message;
	return (
		<div class="alert alert-error" role="alert" id={id} data-testid={testid}>
			<svg class="alert-icon" viewBox="0 0 20 20" aria-hidden="true">
				<path d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-.9 4h1.8v5.5H9.1V6Zm0 7h1.8v1.8H9.1V13Z" />
			</svg>
			<span>{msg}</span>
		</div>
	);
}

export function Notice({ children, testid }) {
	return (
		<div class="alert alert-ok" role="status" data-testid={testid}>
			{children}
		</div>
	);
}

// Loads data with fn() when deps change; reload() runs it again.
export function useLoad(fn, deps = []) {
	const [state, setState] = useState({ data: null, error: null, loading: true });
	const gen = useRef(0);
	const run = useCallback(async () => {
		const mine = ++gen.current;
		setState((s) => ({ ...s, loading: true }));
		try {
			const data = await fn();
			if (mine === gen.current) setState({ data, error: null, loading: false });
		} catch (error) {
			if (mine === gen.current) setState((s) => ({ data: s.data, error, loading: false }));
		}
	}, deps);
	useEffect(() => {
		run();
	}, [run]);
	return [state, run];
}

// The page heading takes the focus on navigation, so screen readers
// announce the new page and keyboard users start from its top.
export function PageHeader({ title, children }) {
	const ref = useRef(null);
	useEffect(() => {
		document.title = `${title} · kaon`;
		if (ref.current) ref.current.focus({ preventScroll: true });
	}, [title]);
	return (
		<div class="page-header">
			<h1 tabIndex={-1} ref={ref}>
				{title}
			</h1>
			{children && <div class="page-actions">{children}</div>}
		</div>
	);
}

// A modal built on <dialog>: focus is trapped and Escape closes it.
export function Dialog({ title, onClose, children, testid, wide }) {
	const ref = useRef(null);
	const titleId = useId();
	useEffect(() => {
		const d = ref.current;
		if (d && !d.open) d.showModal();
		return () => {
			if (d && d.open) d.close();
		};
	}, []);
	return (
		<dialog
			ref={ref}
			class={wide ? 'dialog dialog-wide' : 'dialog'}
			aria-labelledby={titleId}
			data-testid={testid}
			onCancel={(e) => {
				e.preventDefault();
				onClose();
			}}
		>
			<div class="dialog-head">
				<h2 id={titleId}>{title}</h2>
				<button type="button" class="btn-icon" aria-label="Close" onClick={onClose}>
					<svg viewBox="0 0 20 20" aria-hidden="true">
						<path d="M5 5l10 10M15 5L5 15" />
					</svg>
				</button>
			</div>
			{children}
		</dialog>
	);
}

export function ConfirmDialog({ title, children, confirmLabel = 'Delete', onConfirm, onClose, testid }) {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const go = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			await onConfirm();
			onClose();
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	return (
		<Dialog title={title} onClose={onClose} testid={testid}>
			<form onSubmit={go} class="dialog-body">
				<div>{children}</div>
				<ErrorBanner error={error} />
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-danger" disabled={busy} data-testid="confirm">
						{busy ? 'Working…' : confirmLabel}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

// A labelled input; extra props go to the <input>.
export function Field({ label, hint, id, ...props }) {
	const auto = useId();
	const fid = id || auto;
	const hid = hint ? fid + '-hint' : undefined;
	return (
		<div class="field">
			<label for={fid}>{label}</label>
			<input id={fid} aria-describedby={hid} {...props} />
			{hint && (
				<div class="hint" id={hid}>
					{hint}
				</div>
			)}
		</div>
	);
}

export function Check({ label, hint, id, ...props }) {
	const auto = useId();
	const fid = id || auto;
	return (
		<div class="check">
			<input type="checkbox" id={fid} {...props} />
			<label for={fid}>
				{label}
				{hint && <span class="hint"> {hint}</span>}
			</label>
		</div>
	);
}

export function Loading({ label = 'Loading…' }) {
	return (
		<p class="loading" role="status">
			<span class="spinner" aria-hidden="true" />
			{label}
		</p>
	);
}

export function Badge({ kind = 'neutral', children }) {
	return <span class={`badge badge-${kind}`}>{children}</span>;
}

export function Empty({ children }) {
	return <p class="empty">{children}</p>;
}

// Copies text to the clipboard; falls back to selecting an input, since the
// async Clipboard API is only there in secure contexts (https or localhost).
export function CopyButton({ text, inputRef, testid }) {
	const [done, setDone] = useState('');
	const copy = async () => {
		try {
			if (navigator.clipboard && window.isSecureContext) {
				await navigator.clipboard.writeText(text);
			} else {
				const el = inputRef && inputRef.current;
				if (!el) throw new Error('no clipboard');
				el.focus();
				el.select();
				if (!document.execCommand('copy')) throw new Error('copy refused');
			}
			setDone('Copied');
		} catch {
			setDone('Press Ctrl+C to copy');
			if (inputRef && inputRef.current) inputRef.current.select();
		}
	};
	useEffect(() => {
		if (!done) return undefined;
		const t = setTimeout(() => setDone(''), 2500);
		return () => clearTimeout(t);
	}, [done]);
	return (
		<span class="copy">
			<button type="button" class="btn" onClick={copy} data-testid={testid}>
				Copy
			</button>
			<span class="copy-status" role="status" aria-live="polite">
				{done}
			</span>
		</span>
	);
}
