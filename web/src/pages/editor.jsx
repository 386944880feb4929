// pages/editor.jsx — edit a file of your home with CodeMirror 6, save it
// (Ctrl-S or the button) without ever overwriting a change made on disk
// since it was opened (PUT with If-Match; a 409 offers reload or
// overwrite), and run it as a job whose output streams in below.
import '../workspace.css';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { apiPost, apiRaw } from '../api.js';
import { routeGo } from '../router.js';
import { Dialog, ErrorBanner, Loading, PageHeader } from '../components/ui.jsx';
import { Icon } from '../components/icons.jsx';
import { JobLog, JobStatusLine, useJob } from '../components/joblog.jsx';
import { RunResources, resourcesOf } from '../components/runform.jsx';
import { apiPathOf, baseName, dirName, filesRoute, HOME, parseEditRoute } from '../workspace/paths.js';
import { jobForFile } from '../workspace/jobs.js';

function ConflictDialog({ onReload, onOverwrite, onClose }) {
	return (
		<Dialog title="The file changed on disk" onClose={onClose} testid="conflict-dialog">
			<div class="dialog-body">
				<p>
					Someone or something (a job, a terminal, another tab) saved this file after you opened it. Saving now would throw
					their changes away.
				</p>
				<ul class="conflict-choices">
					<li>
						<strong>Reload</strong>: drop your edits and load the file as it is on disk now.
					</li>
					<li>
						<strong>Overwrite</strong>: save your version over theirs.
					</li>
				</ul>
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="button" class="btn" onClick={onReload} data-testid="conflict-reload">
						Reload from disk
					</button>
					<button type="button" class="btn btn-danger" onClick={onOverwrite} data-testid="conflict-overwrite">
						Overwrite
					</button>
				</div>
			</div>
		</Dialog>
	);
}

function RunOutput({ jobId, initial }) {
	const { job, setJob, ahead, error, now } = useJob(jobId, initial);
	return (
		<section class="run-output card" aria-label="Run output" data-testid="run-output">
			<JobStatusLine job={job} ahead={ahead} now={now} onStopped={setJob} />
			<ErrorBanner error={error} />
			<JobLog jobId={jobId} />
		</section>
	);
}

export function EditorPage({ route, me }) {
	const path = parseEditRoute(route);
	const name = baseName(path);
	const [state, setState] = useState({ loading: true, error: null });
	const [dirty, setDirty] = useState(false);
	const [saving, setSaving] = useState(false);
	const [saveError, setSaveError] = useState(null);
	const [savedAt, setSavedAt] = useState(null);
	const [conflict, setConflict] = useState(false);
	const [run, setRun] = useState(null); // {id, job}
	const [runError, setRunError] = useState(null);
	const [starting, setStarting] = useState(false);
	const [res, setRes] = useState({ mode: 'cpu', cpus: '', mem_gib: '', gpus: '', minutes: '' });
	const host = useRef(null);
	const cm = useRef(null);
	const etag = useRef(null);
	const disk = useRef('');
	const saveRef = useRef(null);

	useEffect(() => {
		if (!path) routeGo('/files', { replace: true });
	}, [path]);

	const fetchFile = useCallback(async () => {
		const r = await apiRaw('GET', apiPathOf(HOME, path));
		const text = await r.text();
		etag.current = r.headers.get('ETag');
		disk.current = text;
		return text;
	}, [path]);

	// Load the file, then CodeMirror (its own chunk), then mount it.
	useEffect(() => {
		let live = true;
		setState({ loading: true, error: null });
		setDirty(false);
		setRun(null);
		(async () => {
			try {
				const [text, { cmCreate }] = await Promise.all([fetchFile(), import('../workspace/cm.js')]);
				if (!live) return;
				setState({ loading: false, error: null });
				if (cm.current) cm.current.destroy();
				cm.current = cmCreate(host.current, {
					name,
					text,
					onChange: (doc) => setDirty(doc !== disk.current),
					onSave: () => saveRef.current && saveRef.current(false),
				});
				cm.current.focus();
			} catch (error) {
				if (live) setState({ loading: false, error });
			}
		})();
		return () => {
			live = false;
			if (cm.current) cm.current.destroy();
			cm.current = null;
		};
	}, [path]);

	// Returns true when saved.
	const save = async (force) => {
		if (!cm.current || saving) return false;
		setSaving(true);
		setSaveError(null);
		const text = cm.current.getText();
		try {
			const headers = { 'Content-Type': 'application/octet-stream' };
			if (!force && etag.current) headers['If-Match'] = etag.current;
			const r = await apiRaw('PUT', apiPathOf(HOME, path), { body: text, headers });
			etag.current = r.headers.get('ETag');
			disk.current = text;
			setDirty(cm.current.getText() !== text);
			setSavedAt(new Date());
			setConflict(false);
			return true;
		} catch (e) {
			if (e.status === 409 && e.code === 'conflict') setConflict(true);
			else setSaveError(e);
			return false;
		} finally {
			setSaving(false);
		}
	};
	saveRef.current = save;

	const reload = async () => {
		setConflict(false);
		setSaveError(null);
		try {
			const text = await fetchFile();
			cm.current.setText(text);
			setDirty(false);
		} catch (e) {
			setSaveError(e);
		}
	};

	// Ctrl-S anywhere on the page, not only inside the editor.
	useEffect(() => {
		const key = (e) => {
			if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
				e.preventDefault();
				if (saveRef.current) saveRef.current(false);
			}
		};
		document.addEventListener('keydown', key);
		return () => document.removeEventListener('keydown', key);
	}, []);

	// Unsaved edits: the browser asks before the tab goes.
	useEffect(() => {
		if (!dirty) return undefined;
		const warn = (e) => {
			e.preventDefault();
			e.returnValue = '';
		};
		window.addEventListener('beforeunload', warn);
		return () => window.removeEventListener('beforeunload', warn);
	}, [dirty]);

	const runIt = async () => {
		setRunError(null);
		if (!cm.current) return;
		setStarting(true);
		try {
			if (dirty && !(await save(false))) return;
			const spec = jobForFile(path, cm.current.getText());
			if (spec.error) {
				setRunError(spec.error);
				return;
			}
			const resources = resourcesOf(res);
			const job = await apiPost('/jobs', resources ? { ...spec, resources } : spec);
			setRun({ id: job.id, job });
		} catch (e) {
			setRunError(e);
		} finally {
			setStarting(false);
		}
	};

	const folder = dirName(path);
	return (
		<section class="page page-wide editor-page" data-testid="page-editor">
			<PageHeader title={name || 'Editor'}>
				<span class={'save-state small' + (dirty ? ' save-dirty' : '')} data-testid="save-state" role="status">
					{saving ? 'Saving…' : dirty ? 'Unsaved changes' : savedAt ? `Saved ${savedAt.toLocaleTimeString()}` : 'No changes'}
				</span>
				<button type="button" class="btn" id="editor-save" onClick={() => save(false)} disabled={saving || state.loading || !!state.error} title="Save (Ctrl-S)">
					<Icon name="save" /> Save
				</button>
			</PageHeader>
			<nav class="crumbs" aria-label="Folder">
				<ol>
					<li>
						<a href={'#' + filesRoute(HOME, '')}>Home</a>
					</li>
					{folder &&
						folder.split('/').map((s, i, all) => (
							<li key={i}>
								<a href={'#' + filesRoute(HOME, all.slice(0, i + 1).join('/'))}>{s}</a>
							</li>
						))}
					<li>
						<span aria-current="page">{name}</span>
					</li>
				</ol>
			</nav>
			<ErrorBanner error={state.error} testid="editor-error" />
			<ErrorBanner error={saveError} testid="save-error" />
			{state.loading && <Loading label="Opening…" />}
			<div class="editor-host" ref={host} data-testid="editor" hidden={state.loading || !!state.error} />
			{!state.error && !state.loading && (
				<div class="run-bar">
					<button type="button" class="btn btn-primary" id="editor-run" onClick={runIt} disabled={starting} data-testid="run">
						<Icon name="play" /> {starting ? 'Starting…' : 'Run'}
					</button>
					<RunResources me={me} value={res} onChange={setRes} />
					<span class="hint run-hint">
						Runs <span class="mono">{name}</span> as a job in <span class="mono">{folder || 'your home'}</span>.
					</span>
				</div>
			)}
			<ErrorBanner error={runError} testid="run-error" />
			{run && <RunOutput key={run.id} jobId={run.id} initial={run.job} />}
			{conflict && (
				<ConflictDialog
					onClose={() => setConflict(false)}
					onReload={reload}
					onOverwrite={async () => {
						setConflict(false);
						await save(true);
					}}
				/>
			)}
		</section>
	);
}
