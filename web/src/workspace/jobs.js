// workspace/jobs.js — jobs as the pages show them: state colours, the
// queue order and a pending job's place in it, what a waiting job waits
// for in words, and how a file from the editor becomes a job.
import { apiGet } from '../api.js';
import { baseName, dirName, extOf } from './paths.js';

export const ACTIVE = ['pending', 'running'];
export const isActive = (j) => j && ACTIVE.includes(j.state);

export function stateKind(state) {
	switch (state) {
		case 'running':
			return 'info';
		case 'completed':
			return 'ok';
		case 'pending':
			return 'neutral';
		case 'cancelled':
			return 'neutral';
		default:
			return 'error';
	}
}

const ts = (s) => (s ? new Date(s).getTime() : 0);

// The queue as the scheduler takes it: running jobs, then pending ones by
// priority (highest first), ties by submit time, then id (docs/scheduling.md).
export function queueOrder(jobs) {
	const running = jobs.filter((j) => j.state === 'running').sort((a, b) => ts(a.start_time) - ts(b.start_time));
	const pending = jobs
		.filter((j) => j.state === 'pending')
		.sort((a, b) => b.priority - a.priority || ts(a.submit_time) - ts(b.submit_time) || a.id - b.id);
	return { running, pending };
}

// Every pending and running job of everyone (all pages).
export async function loadQueue() {
	let jobs = [];
	let before = null;
	for (let i = 0; i < 20; i++) {
		const q = '/jobs?user=all&state=pending,running&limit=1000' + (before ? '&before=' + before : '');
		const d = await apiGet(q);
		jobs = jobs.concat(d.jobs);
		if (!d.next) break;
		before = d.next;
	}
	return jobs;
}

// How many pending jobs the scheduler looks at before this one.
export function jobsAhead(job, queue) {
	const { pending } = queueOrder(queue);
	const i = pending.findIndex((j) => j.id === job.id);
	return i < 0 ? null : i;
}

// "14:05" today, "2026-11-23 14:05" another day.
export function clock(s) {
	const d = new Date(s);
	const today = new Date();
	const p = (n) => String(n).padStart(2, '0');
	const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
	if (d.toDateString() === today.toDateString()) return hm;
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${hm}`;
}

// "waiting for a GPU: 3 jobs ahead of you, expected start 14:05"
export function waitingText(job, ahead) {
	let what;
	switch (job.reason) {
		case 'resources':
			what = job.resources.gpus > 0 ? `waiting for ${job.resources.gpus === 1 ? 'a GPU' : job.resources.gpus + ' GPUs'}` : 'waiting for free CPUs and memory';
			break;
		case 'priority':
			what = 'waiting for jobs with a higher priority';
			break;
		default:
			what = job.reason_text || (job.reason ? job.reason : 'waiting to be scheduled');
	}
	// The scheduler's own rank (1 = next) when it has one: it knows which
	// jobs compete for the same resources, the client-side count does not.
	if (job.queue_position != null) ahead = job.queue_position - 1;
	const parts = [];
	if (ahead != null) parts.push(ahead === 0 ? 'first in the queue' : `${ahead} job${ahead === 1 ? '' : 's'} ahead of you`);
	if (job.estimated_start) parts.push(`expected start ${clock(job.estimated_start)}`);
	return parts.length ? `${what}: ${parts.join(', ')}` : what;
}

// Seconds a job has run (so far).
export function elapsedS(job, now = Date.now()) {
	if (!job.start_time) return null;
	const end = job.end_time ? ts(job.end_time) : now;
	return Math.max(0, Math.round((end - ts(job.start_time)) / 1000));
}

export function fmtClock(sec) {
	if (sec == null) return '';
	const h = Math.floor(sec / 3600);
	const m = Math.floor((sec % 3600) / 60);
	const s = sec % 60;
	const p = (n) => String(n).padStart(2, '0');
	return h ? `${h}:${p(m)}:${p(s)}` : `${m}:${p(s)}`;
}

export function endText(job) {
	if (job.state === 'completed') return 'completed, exit status 0';
	if (job.state === 'failed') return job.signal ? `failed: killed by signal ${job.signal}` : `failed, exit status ${job.exit_code}`;
	if (job.state === 'cancelled') return job.reason === 'dependency_failed' ? 'cancelled: a dependency failed' : 'stopped (cancelled)';
	if (job.state === 'timeout') return 'stopped: wall time reached';
	if (job.state === 'oom') return 'stopped: out of memory';
	if (job.state === 'lost') return 'lost: its supervisor vanished';
	return job.state;
}

const shq = (s) => "'" + s.replace(/'/g, "'\\''") + "'";

const INTERPRETERS = {
	py: ['python3', '-u'],
	sh: ['bash'],
	bash: ['bash'],
	r: ['Rscript'],
	jl: ['julia'],
	pl: ['perl'],
	rb: ['ruby'],
	js: ['node'],
};

// The job that runs the file at path (home-relative) whose text is text:
// {name, command|script, workdir, env}, or {error}. The #! line wins;
// otherwise the extension picks the interpreter; C and C++ are compiled
// into a temporary folder and run.
export function jobForFile(path, text) {
	const name = baseName(path);
	const dir = dirName(path);
	const base = { name, env: { PYTHONUNBUFFERED: '1' } };
	if (dir) base.workdir = dir;
	const first = text.split('\n', 1)[0];
	if (first.startsWith('#!')) {
		const argv = first.slice(2).trim().split(/\s+/).filter(Boolean);
		if (argv.length) return { ...base, command: [...argv, name] };
	}
	const x = extOf(name);
	if (INTERPRETERS[x]) return { ...base, command: [...INTERPRETERS[x], name] };
	if (x === 'c' || x === 'cpp' || x === 'cc' || x === 'cxx') {
		const cc = x === 'c' ? 'cc -O2 -Wall -std=c17' : 'c++ -O2 -Wall -std=c++17';
		const script = [
			'#!/bin/bash',
			'# compiled and run by the kaon editor',
			'set -e',
			'out=$(mktemp -d)',
			"trap 'rm -rf \"$out\"' EXIT",
			`${cc} -o "$out/prog" ${shq(name)} -lm`,
			'"$out/prog"',
			'',
		].join('\n');
		return { ...base, script };
	}
	return { error: `kaon does not know how to run .${x || name} files. Add a #! line (like #!/bin/bash) as the first line.` };
}
