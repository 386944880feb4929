// components/uploadtray.jsx — the uploads in progress: one progress bar per
// file with its size and speed-free percentage, cancel and retry.
import { fmtBytes } from '../workspace/paths.js';
import { Icon } from './icons.jsx';

export function ProgressBar({ value, max, label, kind = '' }) {
	const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 100;
	return (
		<div
			class={'bar ' + kind}
			role="progressbar"
			aria-label={label}
			aria-valuemin="0"
			aria-valuemax="100"
			aria-valuenow={String(pct)}
		>
			<div class="bar-fill" style={{ width: pct + '%' }} />
		</div>
	);
}

const STATE_TEXT = {
	queued: 'Waiting',
	uploading: 'Uploading',
	done: 'Done',
	error: 'Failed',
	cancelled: 'Cancelled',
};

export function UploadTray({ items, uploader }) {
	if (!items.length) return null;
	const active = items.filter((i) => i.state === 'queued' || i.state === 'uploading').length;
	return (
		<section class="uploads card" aria-labelledby="uploads-title" data-testid="uploads">
			<div class="uploads-head">
				<h2 id="uploads-title">
					{active ? `Uploading ${active} file${active === 1 ? '' : 's'}` : 'Uploads'}
				</h2>
				{active < items.length && (
					<button type="button" class="btn btn-small" onClick={() => uploader.clearFinished()}>
						Clear finished
					</button>
				)}
			</div>
			<ul class="uploads-list">
				{items.map((it) => {
					const pct = it.size > 0 ? Math.round((it.sent / it.size) * 100) : it.state === 'done' ? 100 : 0;
					return (
						<li key={it.id} class={'upload upload-' + it.state} data-testid="upload-item" data-name={it.name} data-state={it.state}>
							<div class="upload-line">
								<Icon name="file" />
								<span class="upload-name break">{it.name}</span>
								<span class="upload-size muted small">
									{it.state === 'uploading' ? `${fmtBytes(it.sent)} of ${fmtBytes(it.size)}` : fmtBytes(it.size)}
								</span>
								<span class={'upload-state small upload-state-' + it.state} role={it.state === 'error' ? 'alert' : undefined}>
									{STATE_TEXT[it.state]}
									{it.state === 'uploading' ? ` ${pct}%` : ''}
								</span>
								{(it.state === 'queued' || it.state === 'uploading') && (
									<button type="button" class="btn btn-small" onClick={() => uploader.cancel(it.id)} aria-label={'Cancel upload of ' + it.name}>
										Cancel
									</button>
								)}
								{it.state === 'error' && (
									<button type="button" class="btn btn-small" onClick={() => uploader.retry(it.id)} aria-label={'Retry upload of ' + it.name}>
										Retry
									</button>
								)}
							</div>
							<ProgressBar
								value={it.sent}
								max={it.size || 1}
								label={'Upload of ' + it.name}
								kind={it.state === 'error' ? 'bar-error' : it.state === 'done' ? 'bar-ok' : ''}
							/>
							{it.note && <div class="hint">{it.note}</div>}
							{it.error && (
								<div class="hint hint-error" data-testid="upload-error">
									{it.error}
								</div>
							)}
						</li>
					);
				})}
			</ul>
		</section>
	);
}
