// components/session.jsx — the pieces of one interactive session that
// both the Sessions page and a shell session's page show: its state
// badge, the Open link, Stop (asks first), the expiry warning and Extend,
// and what it is doing in words.
import { useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { fmtDuration } from '../format.js';
import { ConfirmDialog, ErrorBanner } from './ui.jsx';
import { Icon } from './icons.jsx';
import {
	at,
	endText,
	EXTEND_CHOICES,
	isLive,
	isReady,
	isShell,
	kindName,
	openUrl,
	secondsLeft,
	shellRoute,
	stateLabel,
	waitingText,
	WARN_S,
} from '../workspace/sessions.js';

export function StateBadge({ s }) {
	const [label, kind] = stateLabel(s);
	return (
		<span class={`badge badge-${kind} state-badge`} data-testid="session-state" data-state={s.state}>
			{label}
		</span>
	);
}

// The Open control: a link (a new tab for web services, this page for a
// shell), so no popup blocker stands in the way.
export function OpenLink({ s, primary, onOpen, children }) {
	const cls = 'btn' + (primary ? ' btn-primary btn-large' : ' btn-small');
	if (isShell(s)) {
		return (
			<a class={cls} href={'#' + shellRoute(s.id)} onClick={onOpen} data-testid="session-open">
				<Icon name="play" /> {children || 'Open'}
			</a>
		);
	}
	return (
		<a class={cls} href={openUrl(s)} target="_blank" rel="noopener" onClick={onOpen} data-testid="session-open">
			<Icon name="external" /> {children || 'Open'}
			<span class="sr-only"> (opens in a new tab)</span>
		</a>
	);
}

// +1 h / +4 h; the API refuses beyond the profile's and the group's
// maximum (422 with a message naming which), shown as it says.
export function ExtendControl({ s, onChange, compact }) {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const [done, setDone] = useState(null);
	const extend = async (seconds) => {
		setBusy(true);
		setError(null);
		setDone(null);
		try {
			const r = await apiPost(`/sessions/${s.id}/extend`, { seconds });
			const next = r && r.id != null ? r : await apiGet(`/sessions/${s.id}`);
			setDone(next.expires_at ? `Now ends at ${at(next.expires_at)}.` : 'Extended.');
			onChange(next);
		} catch (e) {
			setError(e);
		} finally {
			setBusy(false);
		}
	};
	return (
		<div class={'extend' + (compact ? ' extend-compact' : '')}>
			<span class="extend-label" id={`extend-${s.id}`}>
				Extend
			</span>
			<span role="group" aria-labelledby={`extend-${s.id}`} class="extend-buttons">
				{EXTEND_CHOICES.map((c) => (
					<button
						key={c.seconds}
						type="button"
						class="btn btn-small"
						disabled={busy}
						onClick={() => extend(c.seconds)}
						aria-label={`Extend by ${fmtDuration(c.seconds)}`}
						data-testid={`session-extend-${c.seconds}`}
					>
						{c.label}
					</button>
				))}
			</span>
			{s.max_lifetime_s > 0 && <span class="hint">up to {fmtDuration(s.max_lifetime_s)} in all</span>}
			{done && (
				<span class="extend-done small" role="status" data-testid="session-extended">
					{done}
				</span>
			)}
			{error && <ErrorBanner error={error} testid="session-extend-error" />}
		</div>
	);
}

// Extend, for a live session with an end time; within WARN_S of the end
// it becomes a warning that says when. One element either way, so the
// control (and what it last said) stays as the warning comes and goes;
// the text goes into a live region that is always there, so screen
// readers announce it when it appears.
export function SessionTime({ s, now, onChange }) {
	const left = secondsLeft(s, now);
	if (left == null || !isLive(s) || s.state === 'ending') return null;
	const near = left <= WARN_S;
	return (
		<div class={near ? 'alert alert-warn session-warning' : 'session-extend'} data-testid={near ? 'session-expiry-warning' : 'session-time'}>
			<div class="session-warning-text" aria-live="assertive">
				{near && (
					<>
						<strong>{left > 0 ? `This session ends in ${fmtDuration(Math.max(60, left - (left % 60)))}` : 'This session is ending'}</strong> (at{' '}
						{at(s.expires_at)}). Save your work, or extend it.
					</>
				)}
			</div>
			<ExtendControl s={s} onChange={onChange} compact={!near} />
		</div>
	);
}

export function StopButton({ s, onChange, label = 'Stop' }) {
	const [asking, setAsking] = useState(false);
	const stop = async () => {
		const r = await apiPost(`/sessions/${s.id}/stop`);
		onChange(r && r.id != null ? r : await apiGet(`/sessions/${s.id}`));
	};
	return (
		<>
			<button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setAsking(true)} disabled={s.state === 'ending'} data-testid="session-stop">
				<Icon name="stop" /> {s.state === 'ending' ? 'Stopping…' : label}
			</button>
			{asking && (
				<ConfirmDialog title={`Stop ${s.name}?`} confirmLabel="Stop session" onConfirm={stop} onClose={() => setAsking(false)} testid="session-stop-dialog">
					<p>
						Its processes get a moment to end, then the session is gone. {s.kind === 'jupyter' ? 'Save your notebooks first: ' : ''}
						Unsaved work is lost.
					</p>
				</ConfirmDialog>
			)}
		</>
	);
}

// What the session is doing, in words.
export function statusText(s, profile, now) {
	if (s.state === 'pending') {
		const w = waitingText(s, profile);
		return 'Queued: ' + w + '.';
	}
	if (s.state === 'ending') return 'Stopping…';
	if (isReady(s)) {
		const left = secondsLeft(s, now);
		return left == null ? 'Ready.' : `Ready. Ends in ${fmtDuration(left >= 60 ? left - (left % 60) : left)} (at ${at(s.expires_at)}).`;
	}
	if (isLive(s)) return `Starting: kaon waits for ${kindName(s.kind)} to answer…`;
	return `This session ${endText(s)}.`;
}

