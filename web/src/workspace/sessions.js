// workspace/sessions.js — interactive sessions as the pages show them:
// which states are live, what a session waits for in words, how it
// ended, how long it has left, where it opens, and the launch form's
// remembered choice. The objects are the API's (docs/sessions.md).
import { fmtDuration, fmtMem } from '../format.js';
import { clock } from './jobs.js';

// The states of a session that has not ended. 'running' is a job's
// state: the API says 'starting' or 'ready' instead, but a session job
// seen between the two reads as starting.
const LIVE = ['pending', 'starting', 'running', 'ready', 'ending'];
export const isLive = (s) => s && LIVE.includes(s.state);
export const isReady = (s) => s && (s.state === 'ready' || (s.ready === true && s.state === 'running'));
// Still on its way to ready, or on its way out: worth polling often.
export const isMoving = (s) => isLive(s) && !isReady(s);

// Times come as RFC 3339 strings; Unix seconds are taken too.
export function timeMs(t) {
	if (t == null || t === '') return null;
	if (typeof t === 'number') return t * 1000;
	const ms = new Date(t).getTime();
	return Number.isNaN(ms) ? null : ms;
}

// Seconds until the session's wall time ends; null when it has none yet.
export function secondsLeft(s, now = Date.now()) {
	const at = timeMs(s.expires_at);
	return at == null ? null : Math.max(0, Math.round((at - now) / 1000));
}

// Within this of its end a session warns and offers to extend.
export const WARN_S = 15 * 60;

export const EXTEND_CHOICES = [
	{ seconds: 3600, label: '+1 h' },
	{ seconds: 4 * 3600, label: '+4 h' },
];

// "2 CPUs · 4 GiB · 1 GPU"
export function resourcesText(r) {
	if (!r) return '';
	const parts = [`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`, fmtMem(r.mem_mb)];
	if (r.gpus) parts.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
	return parts.join(' · ');
}

// "runs up to 8 h (extendable to 24 h), stopped after 1 h idle"
export function limitsText(p) {
	const parts = [];
	if (p.lifetime_s) {
		let t = `runs ${fmtDuration(p.lifetime_s)}`;
		if (p.max_lifetime_s && p.max_lifetime_s > p.lifetime_s) t += `, extendable to ${fmtDuration(p.max_lifetime_s)}`;
		parts.push(t);
	}
	parts.push(p.idle_timeout_s ? `stopped after ${fmtDuration(p.idle_timeout_s)} without use` : 'never stopped for being idle');
	return parts.join('; ');
}

// The names of a profile's options ("folder"); the API may give each as
// a name or as an object with a name.
export function optionNames(p) {
	return (p.options || []).map((o) => (typeof o === 'string' ? o : o && o.name)).filter(Boolean);
}

function ordinal(n) {
	const t = n % 100;
	if (t >= 11 && t <= 13) return n + 'th';
	return n + ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
}

// "waiting for a GPU: 2nd in the queue, expected start 14:05"
export function waitingText(s, profile) {
	let what;
	const r = s.resources || (profile && profile.resources);
	const gpus = r ? r.gpus : 0;
	switch (s.reason) {
		case 'resources':
			what = gpus > 0 ? `waiting for ${gpus === 1 ? 'a GPU' : gpus + ' GPUs'}` : 'waiting for free CPUs and memory';
			break;
		case 'priority':
			what = 'waiting for jobs with a higher priority';
			break;
		case 'group_limit':
			what = "waiting: your group's running jobs are at its limit";
			break;
		case 'held':
			what = 'held';
			break;
		default:
			what = s.reason_text || (s.reason ? s.reason.replace(/_/g, ' ') : 'waiting to be scheduled');
	}
	const parts = [];
	if (s.queue_position != null) parts.push(`${ordinal(s.queue_position)} in the queue`);
	if (s.est_start) parts.push(`expected start ${clock(s.est_start)}`);
	return parts.length ? `${what}: ${parts.join(', ')}` : what;
}

// How an ended session ended, in words: "NAME failed", "The session
// was stopped".
export function endText(s) {
	switch (s.end_reason) {
		case 'stopped':
			return 'was stopped';
		case 'idle':
			return s.idle_timeout_s ? `was stopped after ${fmtDuration(s.idle_timeout_s)} without use` : 'was stopped for being idle';
		case 'expired':
			return 'reached its time limit';
		case 'exited':
			return 'ended: its service exited by itself';
		case 'failed':
			return 'failed';
		default:
			break;
	}
	switch (s.state) {
		case 'completed':
			return 'ended: its service exited';
		case 'cancelled':
			return 'was stopped';
		case 'timeout':
			return 'reached its time limit';
		case 'oom':
			return 'ran out of memory';
		case 'failed':
		case 'lost':
			return 'failed';
		default:
			return s.state;
	}
}

// Beside the badge of how it ended (stopped, idle, expired, exited,
// failed): the
// detail the badge does not say.
export function endDetail(s) {
	switch (s.end_reason) {
		case 'stopped':
			return '';
		case 'idle':
			return s.idle_timeout_s ? `no use for ${fmtDuration(s.idle_timeout_s)}` : '';
		case 'expired':
			return 'reached its time limit';
		case 'exited':
			return 'its service ended by itself';
		case 'failed':
			return 'its job output says why';
		default:
			return endText(s);
	}
}

// What a badge shows for a session's state, and its colour.
export function stateLabel(s) {
	if (isReady(s)) return ['ready', 'ok'];
	switch (s.state) {
		case 'pending':
			return ['queued', 'neutral'];
		case 'starting':
		case 'running':
			return ['starting', 'info'];
		case 'ending':
			return ['stopping', 'neutral'];
		default:
			return [s.end_reason || s.state, s.end_reason === 'failed' || s.state === 'failed' || s.state === 'oom' || s.state === 'lost' ? 'error' : 'neutral'];
	}
}

// The profile kinds the page opens in a new tab at the session's url;
// shells open in kaon's own page.
export const isShell = (s) => s.kind === 'shell';
export const shellRoute = (id) => `/sessions/${id}/shell`;

export function baseUrl(s) {
	return `/s/${encodeURIComponent(s.id)}/`;
}

export function openUrl(s) {
	return s.url || baseUrl(s);
}

const KIND_NAMES = { jupyter: 'Jupyter', tensorboard: 'TensorBoard', shell: 'the shell', web: 'the service' };
export const kindName = (k) => KIND_NAMES[k] || 'the service';

// "14:05" / "2026-11-23 14:05"
export const at = (t) => (timeMs(t) == null ? '' : clock(timeMs(t)));

// What the launch form chose last: {profile, folder}, kept per user in
// localStorage.
const choiceKey = (user) => 'kaon.sessions.choice.' + user;

export function choiceLoad(user) {
	try {
		const v = JSON.parse(localStorage.getItem(choiceKey(user)) || 'null');
		return v && typeof v === 'object' ? v : {};
	} catch {
		return {};
	}
}

export function choiceSave(user, choice) {
	try {
		localStorage.setItem(choiceKey(user), JSON.stringify(choice));
	} catch {
		// storage disabled: nothing is remembered
	}
}

// The session this tab launched and follows to ready (sessionStorage, so
// a reload goes on following it).
const FOLLOW_KEY = 'kaon.sessions.follow';

export function followLoad() {
	try {
		const v = sessionStorage.getItem(FOLLOW_KEY);
		return v && /^\d+$/.test(v) ? Number(v) : null;
	} catch {
		return null;
	}
}

export function followSave(id) {
	try {
		if (id != null) sessionStorage.setItem(FOLLOW_KEY, String(id));
		else sessionStorage.removeItem(FOLLOW_KEY);
	} catch {
		// storage disabled: a reload stops following
	}
}
