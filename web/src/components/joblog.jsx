// components/joblog.jsx — a job's output, live, and its state line.
//
// JobLog follows GET /api/v1/jobs/ID/log?follow=1 (Server-Sent Events)
// for stdout and stderr with two EventSources; the browser reconnects by
// itself with Last-Event-ID, so nothing is lost or shown twice after a
// network blip. Each source is closed at its `end` event. useJob polls the
// job while it is pending or running, and the queue while it waits, to say
// what it waits for and how many jobs are ahead.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { elapsedS, endText, fmtClock, isActive, jobsAhead, loadQueue, stateKind, waitingText } from '../workspace/jobs.js';
import { ErrorBanner } from './ui.jsx';
import { Icon } from './icons.jsx';

const MAX_CHARS = 2 << 20; // what the panel keeps; older output is dropped

export function JobLog({ jobId, height, testid = 'job-output' }) {
	const [chunks, setChunks] = useState([]);
	const [dropped, setDropped] = useState(false);
	const [error, setError] = useState(null);
	const box = useRef(null);
	const stick = useRef(true);

	useEffect(() => {
		setChunks([]);
		setDropped(false);
		setError(null);
		if (jobId == null) return undefined;
		const sources = [];
		let ended = 0;
		for (const stream of ['stdout', 'stderr']) {
			const es = new EventSource(`/api/v1/jobs/${jobId}/log?follow=1&stream=${stream}`);
			sources.push(es);
			es.addEventListener('log', (ev) => {
				let d;
				try {
					d = JSON.parse(ev.data);
				} catch {
					return;
				}
				if (!d.text) return;
				setChunks((c) => {
					let next = [...c, { stream, text: d.text }];
					let total = next.reduce((n, x) => n + x.text.length, 0);
					while (total > MAX_CHARS && next.length > 1) {
						total -= next[0].text.length;
						next = next.slice(1);
						setDropped(true);
					}
					return next;
				});
			});
			es.addEventListener('end', () => {
				es.close();
				ended++;
			});
			es.onerror = () => {
				// CLOSED: the server refused (no reconnect); otherwise the
				// browser is already reconnecting with Last-Event-ID.
				if (es.readyState === EventSource.CLOSED && ended < 2) setError('The output could not be followed; reload the page to try again.');
			};
		}
		return () => sources.forEach((s) => s.close());
	}, [jobId]);

	useEffect(() => {
		const el = box.current;
		if (el && stick.current) el.scrollTop = el.scrollHeight;
	}, [chunks]);

	return (
		<div class="joblog">
			<ErrorBanner error={error} />
			<pre
				class="joblog-pre"
				ref={box}
				tabIndex={0}
				aria-label="Job output"
				aria-live="polite"
				data-testid={testid}
				style={height ? { height } : undefined}
				onScroll={(e) => {
					const el = e.currentTarget;
					stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
				}}
			>
				{dropped && <span class="joblog-note">[earlier output not shown]{'\n'}</span>}
				{chunks.map((c, i) =>
					c.stream === 'stderr' ? (
						<span key={i} class="joblog-err">
							{c.text}
						</span>
					) : (
						c.text
					),
				)}
				{chunks.length === 0 && <span class="joblog-note">No output yet.</span>}
			</pre>
		</div>
	);
}

// The job, refreshed every second while active; and, while it waits, how
// many jobs are ahead of it.
export function useJob(jobId, initial) {
	const [job, setJob] = useState(initial || null);
	const [ahead, setAhead] = useState(null);
	const [error, setError] = useState(null);
	const [now, setNow] = useState(Date.now());
	useEffect(() => {
		if (jobId == null) return undefined;
		let live = true;
		let timer = null;
		let tick = 0;
		const poll = async () => {
			try {
				const j = await apiGet('/jobs/' + jobId);
				if (!live) return;
				setJob(j);
				setError(null);
				if (j.state === 'pending' && j.queue_position == null && tick % 3 === 0) {
					const q = await loadQueue();
					if (live) setAhead(jobsAhead(j, q));
				}
				tick++;
				if (isActive(j)) timer = setTimeout(poll, 1000);
			} catch (e) {
				if (!live) return;
				setError(e);
				timer = setTimeout(poll, 3000);
			}
		};
		poll();
		return () => {
			live = false;
			clearTimeout(timer);
		};
	}, [jobId]);
	// The elapsed clock ticks between polls too.
	useEffect(() => {
		if (!job || job.state !== 'running') return undefined;
		const t = setInterval(() => setNow(Date.now()), 1000);
		return () => clearInterval(t);
	}, [job && job.state]);
	return { job, setJob, ahead, error, now };
}

export function StateBadge({ state }) {
	return (
		<span class={`badge badge-${stateKind(state)} state-badge`} data-testid="job-state" data-state={state}>
			{state}
		</span>
	);
}

// One line: state, what it waits for or how it ended, elapsed time, Stop.
export function JobStatusLine({ job, ahead, now, onStopped }) {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	if (!job) return null;
	const stop = async () => {
		setBusy(true);
		setError(null);
		try {
			const j = await apiPost(`/jobs/${job.id}/cancel`);
			if (onStopped) onStopped(j);
		} catch (e) {
			setError(e);
		} finally {
			setBusy(false);
		}
	};
	const el = elapsedS(job, now);
	return (
		<div class="job-status" data-testid="job-status">
			<StateBadge state={job.state} />
			<a href={'#/jobs/' + job.id} class="mono small">
				job {job.id}
			</a>
			<span class="job-status-text" data-testid="job-status-text">
				{job.state === 'pending' ? waitingText(job, ahead) : job.state === 'running' ? `running on ${job.allocated ? job.allocated.node : '?'}${job.allocated && job.allocated.gpus.length ? ', GPU ' + job.allocated.gpus.join(', ') : ''}` : endText(job)}
			</span>
			{el != null && (
				<span class="job-elapsed mono" title="Elapsed time" data-testid="job-elapsed">
					{fmtClock(el)}
				</span>
			)}
			{isActive(job) && (
				<button type="button" class="btn btn-small btn-danger" onClick={stop} disabled={busy} data-testid="job-stop">
					<Icon name="stop" /> {busy ? 'Stopping…' : 'Stop'}
				</button>
			)}
			{error && <ErrorBanner error={error} />}
		</div>
	);
}
