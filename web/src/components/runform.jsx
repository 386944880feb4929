// components/runform.jsx — what a run asks for: the group's defaults on
// CPUs, one GPU, or custom CPUs / memory / GPUs / time within the limits
// of the user's primary group (GET /api/v1/me "limits") and the largest
// node (GET /api/v1/nodes). The server checks again (422 names the limit).
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.js';
import { fmtDuration, fmtMem } from '../format.js';

function capOf(limit, node) {
	if (limit == null) return node;
	if (node == null) return limit;
	return Math.min(limit, node);
}

export function useCapacity(me) {
	const [nodes, setNodes] = useState(null);
	useEffect(() => {
		apiGet('/nodes')
			.then((d) => setNodes(d.nodes || []))
			.catch(() => setNodes([]));
	}, []);
	const l = (me && me.limits) || {};
	const maxNode = (k) => (nodes && nodes.length ? Math.max(...nodes.map((n) => (k === 'gpus' ? n.gpus.length : n[k]))) : null);
	return {
		loaded: nodes != null,
		group: l.group,
		cpus: capOf(l.max_cpus, maxNode('cpus')),
		mem_mb: capOf(l.max_mem_mb, maxNode('mem_mb')),
		gpus: capOf(l.max_gpus, maxNode('gpus')),
		walltime_s: l.max_walltime_s == null ? null : l.max_walltime_s,
		default_cpus: l.default_cpus || 1,
		default_mem_mb: l.default_mem_mb || 2048,
		default_walltime_s: l.default_walltime_s || 3600,
	};
}

// value: {mode: 'cpu'|'gpu'|'custom', cpus, mem_gib, gpus, minutes}
export function resourcesOf(value) {
	if (value.mode === 'cpu') return undefined;
	if (value.mode === 'gpu') return { gpus: 1 };
	const r = {};
	if (value.cpus) r.cpus = Number(value.cpus);
	if (value.mem_gib) r.mem_mb = Math.ceil(Number(value.mem_gib) * 1024);
	if (value.gpus !== '' && value.gpus != null) r.gpus = Number(value.gpus);
	if (value.minutes) r.walltime_s = Math.round(Number(value.minutes) * 60);
	return r;
}

export function RunResources({ me, value, onChange }) {
	const cap = useCapacity(me);
	const noGpu = cap.loaded && !(cap.gpus > 0);
	const set = (k, v) => onChange({ ...value, [k]: v });
	const limitsText = [
		cap.cpus != null && `${cap.cpus} CPUs`,
		cap.mem_mb != null && fmtMem(cap.mem_mb),
		cap.gpus != null && `${cap.gpus} GPU${cap.gpus === 1 ? '' : 's'}`,
		cap.walltime_s != null && fmtDuration(cap.walltime_s),
	]
		.filter(Boolean)
		.join(', ');
	return (
		<div class="run-resources">
			<label for="run-mode" class="sr-only">
				Resources
			</label>
			<select id="run-mode" value={value.mode} onChange={(e) => set('mode', e.currentTarget.value)} data-testid="run-mode">
				<option value="cpu">
					CPU ({cap.default_cpus} CPU{cap.default_cpus === 1 ? '' : 's'}, {fmtMem(cap.default_mem_mb)}, {fmtDuration(cap.default_walltime_s)})
				</option>
				<option value="gpu" disabled={noGpu}>
					1 GPU{noGpu ? ' (none available to you)' : ''}
				</option>
				<option value="custom">Custom…</option>
			</select>
			{value.mode === 'custom' && (
				<div class="run-custom" data-testid="run-custom">
					<label>
						CPUs
						<input type="number" min="1" max={cap.cpus || undefined} value={value.cpus} placeholder={String(cap.default_cpus)} onInput={(e) => set('cpus', e.currentTarget.value)} id="run-cpus" />
					</label>
					<label>
						Memory (GiB)
						<input type="number" min="0.25" step="0.25" max={cap.mem_mb ? cap.mem_mb / 1024 : undefined} value={value.mem_gib} placeholder={String(cap.default_mem_mb / 1024)} onInput={(e) => set('mem_gib', e.currentTarget.value)} id="run-mem" />
					</label>
					<label>
						GPUs
						<input type="number" min="0" max={cap.gpus == null ? undefined : cap.gpus} value={value.gpus} placeholder="0" onInput={(e) => set('gpus', e.currentTarget.value)} id="run-gpus" />
					</label>
					<label>
						Time (min)
						<input type="number" min="1" max={cap.walltime_s ? Math.floor(cap.walltime_s / 60) : undefined} value={value.minutes} placeholder={String(Math.round(cap.default_walltime_s / 60))} onInput={(e) => set('minutes', e.currentTarget.value)} id="run-minutes" />
					</label>
					{limitsText && (
						<span class="hint">
							Up to {limitsText}
							{cap.group ? ` (group ${cap.group})` : ''}.
						</span>
					)}
				</div>
			)}
		</div>
	);
}
