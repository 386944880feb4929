// pages/files.jsx — the file manager: your home and the read-only
// datasets; breadcrumbs, a sortable listing paged by the server, new
// folders and files, rename/move, copy, delete, downloads (folders as
// tar), uploads with per-file progress (button or drag and drop), and
// previews. Text files open in the editor (#/edit/PATH).
import '../workspace.css';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiDelete, apiGet, apiPost } from '../api.js';
import { routeGo } from '../router.js';
import { fmtTime } from '../format.js';
import { ConfirmDialog, Dialog, Empty, ErrorBanner, Field, Loading, PageHeader } from '../components/ui.jsx';
import { Icon } from '../components/icons.jsx';
import { PreviewDialog } from '../components/preview.jsx';
import { UploadTray } from '../components/uploadtray.jsx';
import {
	HOME,
	apiPathOf,
	baseName,
	dirName,
	editRoute,
	editable,
	fileUrl,
	filesRoute,
	fmtBytes,
	folderTarUrl,
	joinPath,
	parseFilesRoute,
} from '../workspace/paths.js';
import { Uploader } from '../workspace/uploads.js';

const PAGE = 500;

function Breadcrumbs({ place, path }) {
	const segs = path ? path.split('/') : [];
	const rootLabel = place.kind === 'home' ? 'Home' : place.name;
	return (
		<nav class="crumbs" aria-label="Folder" data-testid="breadcrumbs">
			<ol>
				{place.kind === 'dataset' && (
					<li>
						<span class="muted">Datasets</span>
					</li>
				)}
				<li>
					{segs.length ? <a href={'#' + filesRoute(place, '')}>{rootLabel}</a> : <span aria-current="page">{rootLabel}</span>}
				</li>
				{segs.map((s, i) => {
					const p = segs.slice(0, i + 1).join('/');
					return (
						<li key={p}>
							{i === segs.length - 1 ? (
								<span aria-current="page">{s}</span>
							) : (
								<a href={'#' + filesRoute(place, p)}>{s}</a>
							)}
						</li>
					);
				})}
			</ol>
		</nav>
	);
}

function Places({ place }) {
	const [datasets, setDatasets] = useState(null);
	useEffect(() => {
		apiGet('/datasets')
			.then((d) => setDatasets(d.datasets || []))
			.catch(() => setDatasets([]));
	}, []);
	return (
		<nav class="places" aria-label="Places">
			<a href={'#' + filesRoute(HOME, '')} aria-current={place.kind === 'home' ? 'page' : undefined} data-testid="place-home">
				<Icon name="home" /> Home
			</a>
			<div class="places-title">Datasets</div>
			{datasets == null ? null : datasets.length === 0 ? (
				<p class="hint places-none">None shared yet.</p>
			) : (
				datasets.map((d) => (
					<a
						key={d.name}
						href={'#' + filesRoute({ kind: 'dataset', name: d.name }, '')}
						aria-current={place.kind === 'dataset' && place.name === d.name ? 'page' : undefined}
						data-testid="place-dataset"
					>
						<Icon name="database" /> {d.name}
					</a>
				))
			)}
		</nav>
	);
}

// Ask for one name or path, then run fn(value).
function NameDialog({ title, label, initial, confirmLabel, onSubmit, onClose, testid, hint }) {
	const [value, setValue] = useState(initial || '');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const ref = useRef(null);
	useEffect(() => {
		const el = ref.current;
		if (!el) return;
		el.focus();
		// Select the name without its extension, as file managers do.
		const base = el.value.lastIndexOf('/') + 1;
		const dot = el.value.lastIndexOf('.');
		el.setSelectionRange(base, dot > base ? dot : el.value.length);
	}, []);
	const go = async (e) => {
		e.preventDefault();
		const v = value.trim().replace(/^\/+|\/+$/g, '');
		if (!v) return;
		setBusy(true);
		setError(null);
		try {
			await onSubmit(v);
			onClose();
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	return (
		<Dialog title={title} onClose={onClose} testid={testid}>
			<form class="dialog-body" onSubmit={go}>
				<Field label={label} id="name-input" ref={ref} value={value} required hint={hint} onInput={(e) => setValue(e.currentTarget.value)} />
				<ErrorBanner error={error} testid="name-error" />
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-primary" disabled={busy} data-testid="name-submit">
						{busy ? 'Working…' : confirmLabel}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

const SORTS = {
	name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
	size: (a, b) => (a.size || 0) - (b.size || 0),
	mtime: (a, b) => (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : 0),
};

function SortHeader({ id, label, sort, setSort, class: cls }) {
	const active = sort.key === id;
	return (
		<th class={cls} aria-sort={active ? (sort.asc ? 'ascending' : 'descending') : 'none'}>
			<button
				type="button"
				class="th-sort"
				data-testid={'sort-' + id}
				onClick={() => setSort({ key: id, asc: active ? !sort.asc : true })}
			>
				{label}
				<span class="sort-arrow" aria-hidden="true">
					{active ? (sort.asc ? '▲' : '▼') : ''}
				</span>
			</button>
		</th>
	);
}

function typeLabel(e) {
	if (e.type === 'dir') return 'folder';
	if (e.type === 'link') return 'link';
	return 'file';
}

export function FilesPage({ route }) {
	const { place, path } = useMemo(() => parseFilesRoute(route), [route]);
	const readonly = !place || place.kind !== 'home';
	const [list, setList] = useState({ entries: [], next: null, loading: true, error: null });
	const [sort, setSort] = useState({ key: 'name', asc: true });
	const [dialog, setDialog] = useState(null);
	const [uploads, setUploads] = useState([]);
	const [dragging, setDragging] = useState(false);
	const [notice, setNotice] = useState(null);
	const [hidden, setHidden] = useState(() => localStorage.getItem('kaon.files.hidden') === '1');
	const fileInput = useRef(null);
	const gen = useRef(0);
	const uploader = useRef(null);
	if (!uploader.current) uploader.current = new Uploader(setUploads);

	const load = useCallback(
		async (after) => {
			if (!place) return;
			const mine = ++gen.current;
			setList((l) => ({ ...l, loading: true, error: after ? l.error : null }));
			try {
				const q = `?limit=${PAGE}` + (after ? '&after=' + encodeURIComponent(after) : '');
				const d = await apiGet(apiPathOf(place, path) + q);
				if (mine !== gen.current) return;
				setList((l) => ({
					entries: after ? [...l.entries, ...d.entries] : d.entries,
					next: d.next,
					loading: false,
					error: null,
				}));
			} catch (error) {
				if (mine === gen.current) setList({ entries: [], next: null, loading: false, error });
			}
		},
		[place && place.kind, place && place.name, path],
	);
	useEffect(() => {
		setList({ entries: [], next: null, loading: true, error: null });
		setNotice(null);
		load(null);
	}, [load]);

	const sorted = useMemo(() => {
		const cmp = SORTS[sort.key];
		const shown = hidden ? list.entries : list.entries.filter((e) => !e.name.startsWith('.'));
		const dirs = shown.filter((e) => e.type === 'dir');
		const rest = shown.filter((e) => e.type !== 'dir');
		const s = (a) => a.sort((x, y) => (sort.asc ? cmp(x, y) : -cmp(x, y)) || SORTS.name(x, y));
		return [...s(dirs), ...s(rest)];
	}, [list.entries, sort, hidden]);
	const hiddenCount = list.entries.length - (hidden ? list.entries.length : list.entries.filter((e) => !e.name.startsWith('.')).length);

	useEffect(() => {
		if (!place) routeGo('/files', { replace: true });
	}, [place]);
	if (!place) return <Loading />;

	const here = (name) => joinPath(path, name);
	const open = (e) => {
		if (e.type === 'dir') routeGo(filesRoute(place, here(e.name)));
		else if (e.type === 'file') setDialog({ kind: 'preview', path: here(e.name) });
	};

	const startUpload = (files) => {
		if (readonly || !files.length) return;
		const existing = new Set(list.entries.map((e) => e.name));
		const clash = files.filter((f) => existing.has(f.name));
		const go = (overwrite, which = files) => uploader.current.add(which, path, { overwrite, onDone: () => load(null) });
		if (clash.length) setDialog({ kind: 'replace', files, clash, go });
		else go(false);
	};

	const onDrop = (ev) => {
		ev.preventDefault();
		setDragging(false);
		const files = [...(ev.dataTransfer && ev.dataTransfer.files ? ev.dataTransfer.files : [])];
		if (readonly) {
			setNotice('Datasets are read-only: drop files into your home instead.');
			return;
		}
		startUpload(files);
	};
	const dragProps = readonly
		? {}
		: {
				onDragEnter: (ev) => {
					if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) {
						ev.preventDefault();
						setDragging(true);
					}
				},
				onDragOver: (ev) => {
					ev.preventDefault();
					if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
				},
				onDragLeave: (ev) => {
					if (!ev.currentTarget.contains(ev.relatedTarget)) setDragging(false);
				},
				onDrop,
			};

	const title = place.kind === 'home' ? 'Files' : `Dataset ${place.name}`;
	return (
		<section class="page page-wide" data-testid="page-files">
			<PageHeader title={title}>
				{!readonly && (
					<>
						<button type="button" class="btn" id="files-mkdir" onClick={() => setDialog({ kind: 'mkdir' })}>
							<Icon name="newfolder" /> New folder
						</button>
						<button type="button" class="btn" id="files-newfile" onClick={() => setDialog({ kind: 'newfile' })}>
							<Icon name="newfile" /> New file
						</button>
						<button type="button" class="btn btn-primary" id="files-upload" onClick={() => fileInput.current && fileInput.current.click()}>
							<Icon name="upload" /> Upload
						</button>
						<input
							type="file"
							multiple
							hidden
							ref={fileInput}
							data-testid="upload-input"
							onChange={(e) => {
								startUpload([...e.currentTarget.files]);
								e.currentTarget.value = '';
							}}
						/>
					</>
				)}
			</PageHeader>
			<div class="files-layout">
				<Places place={place} />
				<div class="files-main">
					<div class="files-bar">
						<Breadcrumbs place={place} path={path} />
						<div class="files-bar-actions">
							<label class="check-inline small">
								<input
									type="checkbox"
									checked={hidden}
									data-testid="show-hidden"
									onChange={(e) => {
										setHidden(e.currentTarget.checked);
										localStorage.setItem('kaon.files.hidden', e.currentTarget.checked ? '1' : '0');
									}}
								/>
								Hidden files
							</label>
							<a class="btn btn-small" href={folderTarUrl(place, path)} download data-testid="download-folder" title="Download this folder as a tar archive">
								<Icon name="download" /> Folder as .tar
							</a>
							<button type="button" class="btn btn-small" onClick={() => load(null)} aria-label="Refresh" title="Refresh">
								<Icon name="refresh" />
							</button>
						</div>
					</div>
					{notice && <ErrorBanner error={notice} testid="files-notice" />}
					<UploadTray items={uploads} uploader={uploader.current} />
					<div
						class={'dropzone' + (dragging ? ' dropzone-active' : '')}
						data-testid="dropzone"
						{...dragProps}
					>
						{dragging && (
							<div class="dropzone-hint" aria-hidden="true">
								<Icon name="upload" /> Drop to upload into {path || 'your home'}
							</div>
						)}
						<ErrorBanner error={list.error} testid="files-error" />
						{list.loading && !list.entries.length ? (
							<Loading />
						) : !list.error && !sorted.length ? (
							<Empty>
								This folder is empty{hiddenCount ? ` (but for ${hiddenCount} hidden file${hiddenCount === 1 ? '' : 's'})` : ''}.
								{!readonly && ' Drop files here or use Upload.'}
							</Empty>
						) : (
							sorted.length > 0 && (
								<div class="table-wrap">
									<table class="table files-table" data-testid="files-table">
										<thead>
											<tr>
												<SortHeader id="name" label="Name" sort={sort} setSort={setSort} />
												<SortHeader id="size" label="Size" sort={sort} setSort={setSort} class="num" />
												<SortHeader id="mtime" label="Modified" sort={sort} setSort={setSort} />
												<th class="actions">
													<span class="sr-only">Actions</span>
												</th>
											</tr>
										</thead>
										<tbody>
											{sorted.map((e) => (
												<FileRow
													key={e.name}
													e={e}
													place={place}
													path={here(e.name)}
													readonly={readonly}
													onOpen={() => open(e)}
													setDialog={setDialog}
												/>
											))}
										</tbody>
									</table>
								</div>
							)
						)}
						{list.next && (
							<div class="files-more">
								<span class="muted small">
									{list.entries.length} entries shown; sorting applies to those.
								</span>
								<button type="button" class="btn btn-small" data-testid="files-more" disabled={list.loading} onClick={() => load(list.next)}>
									{list.loading ? 'Loading…' : `Show ${PAGE} more`}
								</button>
							</div>
						)}
					</div>
				</div>
			</div>
			<FileDialogs dialog={dialog} setDialog={setDialog} place={place} path={path} reload={() => load(null)} />
		</section>
	);
}

function FileRow({ e, place, path, readonly, onOpen, setDialog }) {
	const isDir = e.type === 'dir';
	const canEdit = !readonly && e.type === 'file' && editable(e.name);
	return (
		<tr data-testid="file-row" data-name={e.name} data-type={e.type}>
			<td>
				<span class="file-name">
					<Icon name={isDir ? 'folder' : e.type === 'link' ? 'link' : 'file'} class={isDir ? 'icon-folder' : 'icon-file'} />
					{e.type === 'link' || e.type === 'other' ? (
						<span class="name-text" title="Links are not followed">
							{e.name}
						</span>
					) : (
						<button type="button" class="linkish name-text" onClick={onOpen} data-testid="file-open" title={isDir ? 'Open folder' : 'Preview'}>
							{e.name}
						</button>
					)}
					<span class="sr-only"> ({typeLabel(e)})</span>
				</span>
			</td>
			<td class="num">{isDir ? '—' : fmtBytes(e.size)}</td>
			<td class="nowrap">{fmtTime(e.mtime)}</td>
			<td class="actions row-actions">
				{canEdit && (
					<a class="btn-icon" href={'#' + editRoute(path)} aria-label={'Edit ' + e.name} title="Edit" data-testid="file-edit">
						<Icon name="edit" />
					</a>
				)}
				{e.type !== 'link' && e.type !== 'other' && (
					<a
						class="btn-icon"
						href={isDir ? folderTarUrl(place, path) : fileUrl(place, path, { download: true })}
						download
						aria-label={'Download ' + e.name + (isDir ? ' as tar' : '')}
						title={isDir ? 'Download as .tar' : 'Download'}
						data-testid="file-download"
					>
						<Icon name="download" />
					</a>
				)}
				{!readonly && (
					<>
						<button type="button" class="btn-icon" aria-label={'Rename or move ' + e.name} title="Rename / move" data-testid="file-rename" onClick={() => setDialog({ kind: 'move', path, entry: e })}>
							<Icon name="rename" />
						</button>
						<button type="button" class="btn-icon" aria-label={'Copy ' + e.name} title="Copy" data-testid="file-copy" onClick={() => setDialog({ kind: 'copy', path, entry: e })}>
							<Icon name="copy" />
						</button>
						<button type="button" class="btn-icon btn-icon-danger" aria-label={'Delete ' + e.name} title="Delete" data-testid="file-delete" onClick={() => setDialog({ kind: 'delete', path, entry: e })}>
							<Icon name="trash" />
						</button>
					</>
				)}
			</td>
		</tr>
	);
}

function copyName(p) {
	const dir = dirName(p);
	const name = baseName(p);
	const dot = name.lastIndexOf('.');
	const stem = dot > 0 ? name.slice(0, dot) : name;
	const ext = dot > 0 ? name.slice(dot) : '';
	return joinPath(dir, `${stem} copy${ext}`);
}

function FileDialogs({ dialog, setDialog, place, path, reload }) {
	if (!dialog) return null;
	const close = () => setDialog(null);
	const op = (p, body) => apiPost(apiPathOf(place, p), body);
	switch (dialog.kind) {
		case 'preview':
			return <PreviewDialog place={place} path={dialog.path} onClose={close} onEdit={() => routeGo(editRoute(dialog.path))} />;
		case 'mkdir':
			return (
				<NameDialog
					title="New folder"
					label="Folder name"
					confirmLabel="Create"
					testid="mkdir-dialog"
					onClose={close}
					onSubmit={async (v) => {
						await op(joinPath(path, v), { op: 'mkdir' });
						reload();
					}}
				/>
			);
		case 'newfile':
			return (
				<NameDialog
					title="New file"
					label="File name"
					initial="untitled.py"
					confirmLabel="Create and edit"
					testid="newfile-dialog"
					onClose={close}
					onSubmit={async (v) => {
						const p = joinPath(path, v);
						await op(p, { op: 'create' });
						if (editable(v)) routeGo(editRoute(p));
						else reload();
					}}
				/>
			);
		case 'move':
			return (
				<NameDialog
					title={`Rename or move “${dialog.entry.name}”`}
					label="New path (from your home)"
					hint="Change the name to rename; change the folders to move."
					initial={dialog.path}
					confirmLabel="Rename / move"
					testid="move-dialog"
					onClose={close}
					onSubmit={async (v) => {
						await op(dialog.path, { op: 'move', to: v });
						reload();
					}}
				/>
			);
		case 'copy':
			return (
				<NameDialog
					title={`Copy “${dialog.entry.name}”`}
					label="Copy to (path from your home)"
					initial={copyName(dialog.path)}
					confirmLabel="Copy"
					testid="copy-dialog"
					onClose={close}
					onSubmit={async (v) => {
						await op(dialog.path, { op: 'copy', to: v });
						reload();
					}}
				/>
			);
		case 'delete': {
			const isDir = dialog.entry.type === 'dir';
			return (
				<ConfirmDialog
					title={isDir ? 'Delete folder' : 'Delete file'}
					testid="delete-file-dialog"
					onClose={close}
					onConfirm={async () => {
						await apiDelete(apiPathOf(place, dialog.path) + (isDir ? '?recursive=1' : ''));
						reload();
					}}
				>
					<p>
						Delete <strong class="break">{dialog.entry.name}</strong>
						{isDir ? ' and everything in it' : ''}? This cannot be undone.
					</p>
				</ConfirmDialog>
			);
		}
		case 'replace':
			return (
				<Dialog title="Replace existing files?" onClose={close} testid="replace-dialog">
					<div class="dialog-body">
						<p>
							{dialog.clash.length === 1 ? 'A file with this name exists here:' : `${dialog.clash.length} files with these names exist here:`}
						</p>
						<ul class="replace-list">
							{dialog.clash.slice(0, 8).map((f) => (
								<li key={f.name} class="break">
									{f.name}
								</li>
							))}
						</ul>
						<div class="form-actions">
							<button type="button" class="btn" onClick={close}>
								Cancel
							</button>
							<button
								type="button"
								class="btn"
								onClick={() => {
									const names = new Set(dialog.clash.map((f) => f.name));
									const rest = dialog.files.filter((f) => !names.has(f.name));
									close();
									if (rest.length) dialog.go(false, rest);
								}}
							>
								Skip those
							</button>
							<button
								type="button"
								class="btn btn-primary"
								data-testid="replace-confirm"
								onClick={() => {
									close();
									dialog.go(true);
								}}
							>
								Replace
							</button>
						</div>
					</div>
				</Dialog>
			);
		default:
			return null;
	}
}
