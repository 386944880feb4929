// pages/jobs.jsx — your jobs, refreshed every 2 s, and one job's detail:
// its spec, state and pending reason with queue position, resources and
// the GPUs it holds, the live output, and cancel / hold / release. A
// pending job says why it waits in the scheduler's words (reason_text),
// its place among the jobs competing for the same resources, when it is
// expected to start, and what would make it start sooner (hints); a job
// in a GPU reservation links to it on the calendar.
import '../workspace.css';
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { fmtDuration, fmtMem, fmtRelative, fmtTime } from '../format.js';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui.jsx';
import { JobLog, JobStatusLine, StateBadge, useJob } from '../components/joblog.jsx';
import { clock, elapsedS, fmtClock, isActive } from '../workspace/jobs.js';
import { filesRoute, HOME } from '../workspace/paths.js';

export function resText(r) {
	const parts = [`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`, fmtMem(r.mem_mb)];
	if (r.gpus) parts.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
	return parts.join(' · ');
}

// "in 2 h 10 min (14:05)"
function startText(s, now) {
	const rel = fmtRelative(s, now);
	if (rel === 'now') return `now (${clock(s)})`;
	return rel.endsWith('ago') ? `any moment now (expected ${clock(s)})` : `${rel} (${clock(s)})`;
}

export function ReservationLink({ id }) {
	return (
		<a href={'#/calendar?r=' + id} class="chip" data-testid="job-reservation">
			reservation {id}
		</a>
	);
}

// A pending job in a table row: why, where in the queue, when, and hints.
function PendingBrief({ job, now }) {
	const facts = [];
	if (job.queue_position != null) facts.push(`#${job.queue_position} in queue`);
	if (job.estimated_start) facts.push(`starts ${startText(job.estimated_start, now)}`);
	return (
		<div class="pending-brief" data-testid="job-pending">
			{job.reason_text && <div class="hint">{job.reason_text}</div>}
			{facts.length > 0 && <div class="hint strong">{facts.join(' · ')}</div>}
			{job.hints && job.hints.length > 0 && (
				<ul class="hint pending-hints">
					{job.hints.map((h) => (
						<li key={h}>{h}</li>
					))}
				</ul>
			)}
		</div>
	);
}

// The job detail's answer to "why is it pending?".
function WhyPending({ job, now }) {
	return (
		<article class="card why-card" data-testid="job-why">
			<h2>Why is it pending?</h2>
			<p class="why-reason" data-testid="job-reason">
				{job.reason_text || (job.hold ? 'It is held: release it to let it run.' : 'It waits for the scheduler to find room for it.')}
			</p>
			<dl class="facts">
				{job.queue_position != null && (
					<>
						<dt>Place</dt>
						<dd data-testid="job-queue-position">
							#{job.queue_position} in queue <span class="muted small">among the jobs that wait for the same resources</span>
						</dd>
					</>
				)}
				<dt>Expected start</dt>
				<dd data-testid="job-estimated-start">
					{job.estimated_start ? (
						<>
							{startText(job.estimated_start, now)} <span class="muted small">{fmtTime(job.estimated_start)}</span>
						</>
					) : (
						<span class="muted">not known yet</span>
					)}
				</dd>
				{job.reservation != null && (
					<>
						<dt>Reservation</dt>
						<dd>
							<ReservationLink id={job.reservation} />
						</dd>
					</>
				)}
			</dl>
			{job.hints && job.hints.length > 0 && (
				<>
					<h3 class="why-hints-title">What would help</h3>
					<ul class="why-hints" data-testid="job-hints">
						{job.hints.map((h) => (
							<li key={h}>{h}</li>
						))}
					</ul>
				</>
			)}
		</article>
	);
}

function JobsList({ me }) {
	const [scope, setScope] = useState('mine');
	const [data, setData] = useState({ jobs: null, next: null, error: null });
	const [older, setOlder] = useState({ jobs: [], next: null });
	const [now, setNow] = useState(Date.now());

	useEffect(() => {
		let live = true;
		let timer = null;
		setOlder({ jobs: [], next: null });
		const poll = async () => {
			try {
				const d = await apiGet('/jobs?limit=50' + (scope === 'all' ? '&user=all' : ''));
				if (live) setData({ jobs: d.jobs, next: d.next, error: null });
			} catch (error) {
				if (live) setData((x) => ({ ...x, error }));
			}
			if (live) {
				setNow(Date.now());
				timer = setTimeout(poll, 2000);
			}
		};
		poll();
		return () => {
			live = false;
			clearTimeout(timer);
		};
	}, [scope]);

	const more = async () => {
		const before = older.jobs.length ? older.next : data.next;
		const d = await apiGet('/jobs?limit=50&before=' + before + (scope === 'all' ? '&user=all' : ''));
		setOlder({ jobs: [...older.jobs, ...d.jobs], next: d.next });
	};

	const jobs = data.jobs ? [...data.jobs, ...older.jobs.filter((o) => !data.jobs.some((j) => j.id === o.id))] : null;
	const hasMore = older.jobs.length ? older.next : data.next;
	return (
		<section class="page page-wide" data-testid="page-jobs">
			<PageHeader title={scope === 'mine' ? 'My jobs' : 'All jobs'}>
				<div class="seg" role="group" aria-label="Whose jobs">
					<button type="button" class="btn btn-small" aria-pressed={scope === 'mine' ? 'true' : 'false'} onClick={() => setScope('mine')}>
						Mine
					</button>
					<button type="button" class="btn btn-small" aria-pressed={scope === 'all' ? 'true' : 'false'} onClick={() => setScope('all')} data-testid="jobs-all">
						Everyone's
					</button>
				</div>
			</PageHeader>
			<p class="muted small">
				Updated every 2 seconds. Run a file from the <a href="#/files">Files</a> page's editor, or use <span class="mono">kaon submit</span>.
			</p>
			<ErrorBanner error={data.error} />
			{jobs == null ? (
				<Loading />
			) : jobs.length === 0 ? (
				<Empty>No jobs yet. Open a script in the editor and press Run.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table jobs-table" data-testid="jobs-table">
						<thead>
							<tr>
								<th class="num">ID</th>
								<th>Name</th>
								{scope === 'all' && <th>User</th>}
								<th>State</th>
								<th>Resources</th>
								<th>Submitted</th>
								<th class="num">Run time</th>
							</tr>
						</thead>
						<tbody>
							{jobs.map((j) => (
								<tr key={j.id} data-testid="job-row" data-id={j.id}>
									<td class="num mono">
										<a href={'#/jobs/' + j.id}>{j.id}</a>
									</td>
									<td class="break">
										<a href={'#/jobs/' + j.id}>{j.name}</a>
									</td>
									{scope === 'all' && <td>{j.user}</td>}
									<td>
										<StateBadge state={j.state} />
										{j.state === 'pending' && <PendingBrief job={j} now={now} />}
										{j.reservation != null && (
											<div>
												<ReservationLink id={j.reservation} />
											</div>
										)}
										{!isActive(j) && j.exit_code != null && j.exit_code !== 0 && <div class="hint">exit {j.exit_code}</div>}
									</td>
									<td class="nowrap small">{resText(j.resources)}</td>
									<td class="nowrap">{fmtTime(j.submit_time)}</td>
									<td class="num mono">{fmtClock(elapsedS(j, now))}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			{hasMore && (
				<div class="files-more">
					<button type="button" class="btn btn-small" onClick={more}>
						Older jobs
					</button>
				</div>
			)}
		</section>
	);
}

function JobDetail({ id, me }) {
	const { job, setJob, ahead, error, now } = useJob(id);
	const [actError, setActError] = useState(null);
	if (!job && error) return <ErrorBanner error={error} />;
	if (!job) return <Loading />;
	const act = async (verb) => {
		setActError(null);
		try {
			setJob(await apiPost(`/jobs/${job.id}/${verb}`));
		} catch (e) {
			setActError(e);
		}
	};
	const mine = job.user === me.username || me.admin;
	const wd = job.workdir && me.home && (job.workdir === me.home || job.workdir.startsWith(me.home + '/')) ? job.workdir.slice(me.home.length + 1) : null;
	return (
		<section class="page page-wide" data-testid="page-job">
			<PageHeader title={`Job ${job.id}: ${job.name}`}>
				{job.state === 'pending' && mine && (
					<button type="button" class="btn" onClick={() => act(job.hold ? 'release' : 'hold')} data-testid="job-hold">
						{job.hold ? 'Release' : 'Hold'}
					</button>
				)}
			</PageHeader>
			<p>
				<a href="#/jobs">← My jobs</a>
			</p>
			<JobStatusLine job={job} ahead={ahead} now={now} onStopped={setJob} />
			<ErrorBanner error={actError || error} />
			{job.state === 'pending' && <WhyPending job={job} now={Date.now()} />}
			<div class="cards">
				<article class="card">
					<h2>State</h2>
					<dl class="facts" data-testid="job-facts">
						<dt>State</dt>
						<dd>
							<StateBadge state={job.state} />
						</dd>
						{job.state !== 'pending' && job.reason_text && (
							<>
								<dt>Reason</dt>
								<dd>{job.reason_text}</dd>
							</>
						)}
						{job.reservation != null && (
							<>
								<dt>Reservation</dt>
								<dd>
									<ReservationLink id={job.reservation} />
								</dd>
							</>
						)}
						<dt>Submitted</dt>
						<dd>{fmtTime(job.submit_time)}</dd>
						{job.start_time && (
							<>
								<dt>Started</dt>
								<dd>{fmtTime(job.start_time)}</dd>
							</>
						)}
						{job.end_time && (
							<>
								<dt>Ended</dt>
								<dd>{fmtTime(job.end_time)}</dd>
							</>
						)}
						{(job.exit_code != null || job.signal != null) && (
							<>
								<dt>Exit</dt>
								<dd>{job.signal ? `signal ${job.signal}` : `status ${job.exit_code}`}</dd>
							</>
						)}
						<dt>Priority</dt>
						<dd>{Math.round(job.priority)}</dd>
					</dl>
				</article>
				<article class="card">
					<h2>Resources</h2>
					<dl class="facts">
						<dt>Asked</dt>
						<dd>{resText(job.resources)}</dd>
						<dt>Wall time</dt>
						<dd>{fmtDuration(job.resources.walltime_s)}</dd>
						{job.allocated && (
							<>
								<dt>Node</dt>
								<dd class="mono" data-testid="job-node">
									{job.allocated.node}
								</dd>
								<dt>GPUs</dt>
								<dd class="mono" data-testid="job-gpus">
									{job.allocated.gpus.length ? job.allocated.gpus.join(', ') : 'none'}
								</dd>
							</>
						)}
					</dl>
				</article>
				<article class="card">
					<h2>Spec</h2>
					<dl class="facts">
						<dt>User</dt>
						<dd>
							{job.user} <span class="muted">({job.group})</span>
						</dd>
						<dt>Runs</dt>
						<dd class="mono break" data-testid="job-command">
							{job.command ? job.command.join(' ') : job.script ? 'a script' : '—'}
						</dd>
						{job.workdir && (
							<>
								<dt>Folder</dt>
								<dd class="mono break">{wd != null ? <a href={'#' + filesRoute(HOME, wd)}>{wd || '~'}</a> : job.workdir}</dd>
							</>
						)}
						{job.array_id != null && (
							<>
								<dt>Array</dt>
								<dd>
									{job.array_id} [{job.array_index}]
								</dd>
							</>
						)}
						{job.after && job.after.length > 0 && (
							<>
								<dt>After</dt>
								<dd>
									{job.after.map((a) => (
										<a key={a} href={'#/jobs/' + a} class="chip">
											{a}
										</a>
									))}
								</dd>
							</>
						)}
					</dl>
				</article>
			</div>
			<h2 class="section-title">Output</h2>
			{mine ? <JobLog jobId={job.id} height="420px" /> : <p class="muted">Only the owner and admins see a job's output.</p>}
		</section>
	);
}

export function JobsPage({ route, me }) {
	const id = route.split('/')[2];
	if (id && /^\d+$/.test(id)) return <JobDetail key={id} id={Number(id)} me={me} />;
	return <JobsList me={me} />;
}
