// pages/cluster.jsx — the machine as a whole, for everyone: each node's
// CPU, memory and GPU occupancy and which job holds each GPU
// (GET /api/v1/nodes), the queue of everyone's pending and running jobs
// with their reasons (GET /api/v1/jobs?user=all&state=pending,running),
// and fair share (GET /api/v1/share). Refreshed every 3 s.
import '../workspace.css';
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.js';
import { fmtDuration, fmtMem, fmtTime } from '../format.js';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui.jsx';
import { ProgressBar } from '../components/uploadtray.jsx';
import { StateBadge } from '../components/joblog.jsx';
import { loadQueue, queueOrder, waitingText } from '../workspace/jobs.js';
import { resText } from './jobs.jsx';

// Memory in GiB with one decimal: machines report odd sizes.
const fmtGib = (mb) => (mb >= 1024 ? `${(mb / 1024).toFixed(1).replace(/\.0$/, '')} GiB` : `${Math.round(mb)} MiB`);

function Usage({ label, used, total, fmt = String, testid }) {
	const pct = total > 0 ? Math.round((used / total) * 100) : 0;
	return (
		<div class="usage" data-testid={testid}>
			<div class="usage-line">
				<span>{label}</span>
				<span class="muted small">
					{fmt(used)} of {fmt(total)} ({pct}%)
				</span>
			</div>
			<ProgressBar value={used} max={total} label={`${label} in use`} kind={pct >= 90 ? 'bar-warn' : ''} />
		</div>
	);
}

function NodeCard({ n }) {
	const gpusUsed = n.gpus.filter((g) => g.job != null).length;
	return (
		<article class="card node-card" data-testid="node" data-node={n.name}>
			<h2>
				<span class="mono">{n.name}</span>{' '}
				<span class="muted small">
					{n.running_jobs} job{n.running_jobs === 1 ? '' : 's'} running
				</span>
			</h2>
			<Usage label="CPUs" used={n.cpus_used} total={n.cpus} testid="node-cpus" />
			<Usage label="Memory" used={n.mem_used_mb} total={n.mem_mb} fmt={fmtGib} testid="node-mem" />
			{n.gpus.length > 0 && <Usage label="GPUs" used={gpusUsed} total={n.gpus.length} testid="node-gpus" />}
			{n.gpus.length > 0 ? (
				<ul class="gpu-grid" data-testid="gpu-list">
					{n.gpus.map((g) => (
						<li key={g.index} class={'gpu' + (g.job != null ? ' gpu-busy' : '')} data-testid="gpu" data-busy={g.job != null ? 'true' : 'false'}>
							<div class="gpu-head">
								<span class="mono strong">GPU {g.index}</span>
								{g.fake && <span class="badge">simulated</span>}
							</div>
							<div class="small break">{g.model}</div>
							<div class="small muted">{fmtMem(g.mem_mb)}</div>
							<div class="gpu-job small">{g.job != null ? <a href={'#/jobs/' + g.job}>job {g.job}</a> : <span class="muted">free</span>}</div>
						</li>
					))}
				</ul>
			) : (
				<p class="muted small">No GPUs on this node.</p>
			)}
		</article>
	);
}

export function ClusterPage({ me }) {
	const [data, setData] = useState(null);
	const [error, setError] = useState(null);
	useEffect(() => {
		let live = true;
		let timer = null;
		const poll = async () => {
			try {
				const [nodes, queue, share] = await Promise.all([apiGet('/nodes'), loadQueue(), apiGet('/share')]);
				if (live) {
					setData({ nodes: nodes.nodes, queue, share });
					setError(null);
				}
			} catch (e) {
				if (live) setError(e);
			}
			if (live) timer = setTimeout(poll, 3000);
		};
		poll();
		return () => {
			live = false;
			clearTimeout(timer);
		};
	}, []);

	if (!data) {
		return (
			<section class="page page-wide" data-testid="page-cluster">
				<PageHeader title="Cluster" />
				<ErrorBanner error={error} />
				{!error && <Loading />}
			</section>
		);
	}
	const { running, pending } = queueOrder(data.queue);
	const users = [...data.share.users].sort((a, b) => b.factor - a.factor);
	return (
		<section class="page page-wide" data-testid="page-cluster">
			<PageHeader title="Cluster" />
			<ErrorBanner error={error} />
			<h2 class="section-title">Nodes</h2>
			<div class="nodes">
				{data.nodes.map((n) => (
					<NodeCard key={n.name} n={n} />
				))}
			</div>

			<h2 class="section-title">
				Queue <span class="muted small">{running.length} running, {pending.length} waiting</span>
			</h2>
			{running.length + pending.length === 0 ? (
				<Empty>Nothing is running or waiting.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="queue-table">
						<thead>
							<tr>
								<th class="num">#</th>
								<th class="num">Job</th>
								<th>User</th>
								<th>Name</th>
								<th>State</th>
								<th>Resources</th>
								<th>Started / expected</th>
								<th>Why it waits</th>
							</tr>
						</thead>
						<tbody>
							{[...running, ...pending].map((j) => {
								const pos = j.state === 'pending' ? pending.indexOf(j) : null;
								return (
									<tr key={j.id} data-testid="queue-row" data-id={j.id} class={j.user === me.username ? 'row-mine' : ''}>
										<td class="num muted">{pos != null ? pos + 1 : ''}</td>
										<td class="num mono">
											<a href={'#/jobs/' + j.id}>{j.id}</a>
										</td>
										<td>{j.user}</td>
										<td class="break">{j.name}</td>
										<td>
											<StateBadge state={j.state} />
										</td>
										<td class="nowrap small">
											{resText(j.resources)}
											{j.allocated && j.allocated.gpus.length > 0 && <div class="muted">GPU {j.allocated.gpus.join(', ')}</div>}
										</td>
										<td class="nowrap">{j.state === 'running' ? fmtTime(j.start_time) : j.estimated_start ? fmtTime(j.estimated_start) : '—'}</td>
										<td class="small">{j.state === 'pending' ? waitingText(j, null) : ''}</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}

			<h2 class="section-title">Fair share</h2>
			<p class="muted small">
				Who has used less than their share runs first. Usage fades with a half-life of {fmtDuration(data.share.half_life_s)}; see{' '}
				<span class="mono">docs/scheduling.md</span>.
			</p>
			{users.length === 0 ? (
				<Empty>No usage yet.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="share-table">
						<thead>
							<tr>
								<th>User</th>
								<th>Group</th>
								<th class="num">Share</th>
								<th class="num">Usage</th>
								<th>Priority factor</th>
							</tr>
						</thead>
						<tbody>
							{users.map((u) => (
								<tr key={u.user} class={u.user === me.username ? 'row-mine' : ''}>
									<td>{u.user}</td>
									<td>{u.group}</td>
									<td class="num">{(u.share * 100).toFixed(1)}%</td>
									<td class="num">{(u.usage_norm * 100).toFixed(1)}%</td>
									<td class="share-factor">
										<ProgressBar value={u.factor} max={1} label={`Fair-share factor of ${u.user}`} kind={u.factor < 0.5 ? 'bar-warn' : 'bar-ok'} />
										<span class="mono small">{u.factor.toFixed(2)}</span>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
		</section>
	);
}
