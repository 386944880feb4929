// pages/models.jsx — the model catalog (docs/models.md) and each model's
// page: what it is (metadata, description as Markdown, how to call it
// with curl), a Try it form generated from its predict arguments that
// shows the answer (JSON pretty-printed, pictures inline, other types as
// a download), and a Train form generated from its train arguments with
// the user's trainings and the live log of the one selected.
//
// Routes: #/models?q=&keyword=   the catalog
//         #/models/NAME          about the model
//         #/models/NAME/try      Try it
//         #/models/NAME/train?t=UUID   Train, with that training selected
//
// Predictions and trainings go through the DEEPaaS API (/v2/models/...,
// docs/deepaas.md), the same a curl user calls; the catalog, the flags
// and the trainings with their job ids through kaon's own /api/v1/models.
import '../workspace.css';
import './models.css';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiGet, apiPatch, apiPost } from '../api.js';
import { fmtDuration, fmtMem, fmtTime } from '../format.js';
import { routeGo, routePath, routeQuery } from '../router.js';
import { waitingText } from '../workspace/jobs.js';
import { ArgFields } from '../components/argform.jsx';
import { JobLog, useJob } from '../components/joblog.jsx';
import { Icon } from '../components/icons.jsx';
import { Check, ConfirmDialog, CopyButton, Dialog, Empty, ErrorBanner, Field, Loading, PageHeader } from '../components/ui.jsx';
import {
	acceptChoices,
	curlLine,
	fieldKind,
	formEntries,
	initialValues,
	jsonBody,
	predictResult,
	resultFileName,
	trainingKind,
	v2Fetch,
	v2Json,
} from '../workspace/models.js';

const enc = encodeURIComponent;

// ---- Markdown --------------------------------------------------------------

let md = null;
async function markdownRender(src) {
	if (!md) {
		const { default: MarkdownIt } = await import('markdown-it');
		// html:false escapes every tag of the source; markdown-it refuses
		// javascript:, vbscript: and data: links by itself. Images are off:
		// the page's CSP loads pictures from kaon only, and a description
		// has no business fetching from elsewhere.
		md = new MarkdownIt({ html: false, linkify: true, typographer: false }).disable('image');
	}
	return md.render(src);
}

function Markdown({ src }) {
	const [html, setHtml] = useState(null);
	const [failed, setFailed] = useState(false);
	useEffect(() => {
		let live = true;
		setHtml(null);
		markdownRender(src)
			.then((h) => live && setHtml(h))
			.catch(() => live && setFailed(true));
		return () => {
			live = false;
		};
	}, [src]);
	if (failed)
		return (
			<p class="pre-wrap" data-testid="model-description">
				{src}
			</p>
		);
	if (html == null) return <Loading />;
	// Only the markup markdown-it generated itself (see above).
	return <div class="markdown model-markdown" data-testid="model-description" dangerouslySetInnerHTML={{ __html: html }} />;
}

// ---- shared bits -----------------------------------------------------------

function Thumb({ m, size = 'card' }) {
	const [broken, setBroken] = useState(false);
	if (!m.thumbnail || broken) {
		return (
			<div class={`model-thumb model-thumb-${size} model-thumb-none`} aria-hidden="true">
				<span>{(m.title || m.name).trim().charAt(0).toUpperCase()}</span>
			</div>
		);
	}
	return <img class={`model-thumb model-thumb-${size}`} src={m.thumbnail} alt="" loading="lazy" onError={() => setBroken(true)} data-testid="model-thumb" />;
}

function FlagBadges({ m }) {
	return (
		<>
			{m.public && <span class="badge badge-info">public</span>}
			{!m.predict_enabled && <span class="badge badge-warn">predict off</span>}
			{!m.train_enabled && m.has_train !== false && <span class="badge badge-warn">train off</span>}
		</>
	);
}

// ---- the catalog -------------------------------------------------------------

function RegisterDialog({ onClose, onDone }) {
	const [dir, setDir] = useState('');
	const [owner, setOwner] = useState('');
	const [pub, setPub] = useState(false);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const submit = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const body = { dir: dir.trim() };
			if (owner.trim()) body.owner = owner.trim();
			if (pub) body.public = true;
			onDone(await apiPost('/models', body));
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	return (
		<Dialog title="Add a model" onClose={onClose} testid="model-register">
			<form class="dialog-body" onSubmit={submit}>
				<p class="hint">
					A folder on the server with a <span class="mono">kaon-model.json</span> (docs/models.md). It is read with your Unix account's rights, copied into the catalog, and its code is imported once to learn its arguments, which takes a few seconds.
				</p>
				<Field label="Folder" value={dir} onInput={(e) => setDir(e.currentTarget.value)} required placeholder="/srv/models/digits" class="mono" data-testid="register-dir" autoFocus />
				<Field label="Owner (optional)" hint="The user whose account runs its predict workers; you when empty." value={owner} onInput={(e) => setOwner(e.currentTarget.value)} />
				<Check label="Anonymous users may predict" hint="(only if its kaon-model.json allows it)" checked={pub} onChange={(e) => setPub(e.currentTarget.checked)} />
				<ErrorBanner error={error} />
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-primary" disabled={busy || !dir.trim()} data-testid="register-submit">
						{busy ? 'Adding…' : 'Add'}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

function ModelCard({ m, onKeyword }) {
	return (
		<article class="card model-card" data-testid="model-card" data-name={m.name} aria-labelledby={`model-${m.name}-title`}>
			<a href={'#/models/' + enc(m.name)} tabIndex={-1} aria-hidden="true" class="model-card-thumb">
				<Thumb m={m} />
			</a>
			<div class="model-card-body">
				<h2 class="model-card-title" id={`model-${m.name}-title`}>
					<a href={'#/models/' + enc(m.name)} data-testid="model-card-link">
						{m.title || m.name}
					</a>
				</h2>
				<p class="model-card-name mono small muted">
					{m.name} {m.version}
				</p>
				{m.summary && <p class="model-card-summary">{m.summary}</p>}
				<div class="model-keywords">
					<FlagBadges m={m} />
					{(m.keywords || []).map((k) => (
						<button type="button" key={k} class="chip chip-button" onClick={() => onKeyword(k)} aria-label={`Only models with keyword ${k}`}>
							{k}
						</button>
					))}
				</div>
			</div>
		</article>
	);
}

function Catalog({ me, route }) {
	const query = routeQuery(route);
	const [q, setQ] = useState(query.get('q') || '');
	const keyword = query.get('keyword') || '';
	const [applied, setApplied] = useState(q);
	const [models, setModels] = useState(null);
	const [error, setError] = useState(null);
	const [adding, setAdding] = useState(false);
	const [reload, setReload] = useState(0);

	// The hash changed by other means (a link, back): the box follows.
	const routeQ = query.get('q') || '';
	useEffect(() => {
		if (routeQ !== applied) {
			setQ(routeQ);
			setApplied(routeQ);
		}
	}, [routeQ]);

	// The search follows typing after a pause; the hash keeps it, so that
	// back and a reload show the same list.
	useEffect(() => {
		const t = setTimeout(() => setApplied(q.trim()), 250);
		return () => clearTimeout(t);
	}, [q]);
	useEffect(() => {
		const p = new URLSearchParams();
		if (applied) p.set('q', applied);
		if (keyword) p.set('keyword', keyword);
		const want = '/models' + (p.toString() ? '?' + p.toString() : '');
		if (route !== want) routeGo(want, { replace: true });
	}, [applied, keyword]);

	useEffect(() => {
		let live = true;
		const p = new URLSearchParams();
		if (applied) p.set('q', applied);
		if (keyword) p.set('keyword', keyword);
		apiGet('/models' + (p.toString() ? '?' + p.toString() : ''))
			.then((d) => {
				if (!live) return;
				setModels(d.models || []);
				setError(null);
			})
			.catch((e) => live && setError(e));
		return () => {
			live = false;
		};
	}, [applied, keyword, reload]);

	const setKeyword = (k) => {
		const p = new URLSearchParams();
		if (applied) p.set('q', applied);
		if (k) p.set('keyword', k);
		routeGo('/models' + (p.toString() ? '?' + p.toString() : ''), { replace: true });
	};

	return (
		<section class="page page-wide" data-testid="page-models">
			<PageHeader title="Models">
				{me.admin && (
					<button type="button" class="btn btn-primary" onClick={() => setAdding(true)} data-testid="model-add">
						Add a model
					</button>
				)}
			</PageHeader>
			<p class="muted small">
				Trained models to use on your own data (Try it) or to retrain (Train), from this page, with <span class="mono">curl</span> or any DEEPaaS client (<a href="/api">the API</a>).
			</p>
			<form class="models-search" role="search" onSubmit={(e) => (e.preventDefault(), setApplied(q.trim()))}>
				<label for="models-q" class="sr-only">
					Search models
				</label>
				<input id="models-q" type="search" placeholder="Search by name, title, summary or keyword" value={q} onInput={(e) => setQ(e.currentTarget.value)} data-testid="models-search" />
				{keyword && (
					<span class="chip chip-primary models-keyword" data-testid="models-keyword">
						keyword: {keyword}
						<button type="button" class="btn-icon btn-chip-x" aria-label={`Remove the keyword ${keyword}`} onClick={() => setKeyword('')}>
							<svg viewBox="0 0 20 20" aria-hidden="true">
								<path d="M5 5l10 10M15 5L5 15" />
							</svg>
						</button>
					</span>
				)}
			</form>
			<ErrorBanner error={error} />
			{models == null ? (
				!error && <Loading />
			) : models.length === 0 ? (
				<Empty>
					<span data-testid="models-empty">
						{applied || keyword
							? `No model matches ${[applied && `“${applied}”`, keyword && `the keyword ${keyword}`].filter(Boolean).join(' and ')}.`
							: me.admin
								? 'The catalog is empty. Add a model folder with “Add a model” or kaon models add DIR.'
								: 'The catalog is empty. An administrator adds models to it.'}
					</span>
				</Empty>
			) : (
				<div class="model-grid" data-testid="model-list">
					{models.map((m) => (
						<ModelCard key={m.name} m={m} onKeyword={setKeyword} />
					))}
				</div>
			)}
			{adding && (
				<RegisterDialog
					onClose={() => setAdding(false)}
					onDone={(m) => {
						setAdding(false);
						setReload((n) => n + 1);
						routeGo('/models/' + enc(m.name));
					}}
				/>
			)}
		</section>
	);
}

// ---- one model: about ------------------------------------------------------------

function resourcesText(r) {
	if (!r) return '';
	const bits = [];
	if (r.cpus != null) bits.push(`${r.cpus} CPU${r.cpus === 1 ? '' : 's'}`);
	if (r.mem_mb != null) bits.push(fmtMem(r.mem_mb));
	if (r.gpus) bits.push(`${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`);
	if (r.walltime_s) bits.push(`at most ${fmtDuration(r.walltime_s)}`);
	return bits.join(', ');
}

function CurlLine({ text, testid }) {
	const ref = useRef(null);
	return (
		<div class="curl">
			<input ref={ref} class="mono curl-text" readOnly value={text} aria-label="Command" data-testid={testid} onFocus={(e) => e.currentTarget.select()} />
			<CopyButton text={text} inputRef={ref} />
		</div>
	);
}

// The DEEPaaS endpoints, as a curl user calls them.
function Endpoints({ m }) {
	const origin = window.location.origin;
	const base = `${origin}/v2/models/${m.name}`;
	const files = (m.predict_args || []).filter((p) => fieldKind(p) === 'file' || fieldKind(p) === 'files');
	const required = (m.predict_args || []).filter((p) => p.required && !files.includes(p) && p.name !== 'accept');
	const predictParts = ['curl -X POST -H "Authorization: Bearer $TOKEN"'];
	for (const p of files.slice(0, 1)) predictParts.push(`-F '${p.name}=@FILE'`);
	for (const p of required) predictParts.push(`-F '${p.name}=${p.default !== undefined ? p.default : 'VALUE'}'`);
	predictParts.push(`${base}/predict/`);
	return (
		<section class="card" aria-labelledby="endpoints-title">
			<h2 id="endpoints-title">From a terminal</h2>
			<p class="hint">
				kaon serves this model through the DEEPaaS v2 API (docs/deepaas.md), so DEEPaaS clients work unchanged. Make a token on the <a href="#/tokens">API tokens</a> page and put it in <span class="mono">$TOKEN</span>.
			</p>
			<dl class="facts endpoints">
				<dt>Metadata</dt>
				<dd>
					<CurlLine text={`curl -H "Authorization: Bearer $TOKEN" ${base}/`} />
				</dd>
				{m.has_predict !== false && (
					<>
						<dt>Predict</dt>
						<dd>
							<CurlLine text={predictParts.join(' ')} testid="curl-predict" />
						</dd>
					</>
				)}
				{m.has_train !== false && (
					<>
						<dt>Train</dt>
						<dd>
							<CurlLine text={`curl -X POST -H "Authorization: Bearer $TOKEN" ${base}/train/`} />
						</dd>
						<dt>Trainings</dt>
						<dd>
							<CurlLine text={`curl -H "Authorization: Bearer $TOKEN" ${base}/train/`} />
						</dd>
					</>
				)}
				<dt>Swagger</dt>
				<dd>
					<a href="/swagger.json" class="mono">
						/swagger.json
					</a>{' '}
					·{' '}
					<a href="/api" class="mono">
						/api
					</a>
				</dd>
			</dl>
		</section>
	);
}

// The admin's flags (PATCH /api/v1/models/NAME).
function AdminFlags({ m, onChange }) {
	// busy: {key, value} while its PATCH is on its way; the box shows the
	// value asked for until the answer says what holds.
	const [busy, setBusy] = useState(null);
	const [error, setError] = useState(null);
	const set = async (key, value) => {
		setBusy({ key, value });
		setError(null);
		try {
			onChange(await apiPatch('/models/' + enc(m.name), { [key]: value }));
		} catch (e) {
			setError(e);
		} finally {
			setBusy(null);
		}
	};
	const shown = (key) => (busy && busy.key === key ? busy.value : m[key]);
	return (
		<section class="card" aria-labelledby="flags-title" data-testid="model-flags">
			<h2 id="flags-title">Administration</h2>
			<Check
				label="Anonymous users may read it and predict"
				hint="(only if its kaon-model.json allows it)"
				checked={shown('public')}
				disabled={busy != null}
				onChange={(e) => set('public', e.currentTarget.checked)}
				data-testid="flag-public"
			/>
			<Check
				label="Predict"
				hint={m.has_predict === false ? '(the model has no predict)' : '(off: its predict endpoint answers 402 and its workers stop)'}
				checked={shown('predict_enabled')}
				disabled={busy != null || m.has_predict === false}
				onChange={(e) => set('predict_enabled', e.currentTarget.checked)}
				data-testid="flag-predict"
			/>
			<Check
				label="Train"
				hint={m.has_train === false ? '(the model has no train)' : '(off: its train endpoints answer 402)'}
				checked={shown('train_enabled')}
				disabled={busy != null || m.has_train === false}
				onChange={(e) => set('train_enabled', e.currentTarget.checked)}
				data-testid="flag-train"
			/>
			<ErrorBanner error={error} />
			<p class="hint">
				Owner: <span class="mono">{m.owner}</span>, whose account runs the predict workers. Remove the model with <span class="mono">kaon models remove {m.name}</span>.
			</p>
		</section>
	);
}

function About({ m, me, onChange }) {
	const meta = m.metadata || {};
	const authors = Array.isArray(m.authors) ? m.authors.join(', ') : meta.author || '';
	const url = m.url || meta.url || '';
	const res = m.resources || {};
	return (
		<div class="model-about">
			<div class="model-about-main">
				<section class="card" aria-label="Description">
					{m.description ? <Markdown src={m.description} /> : <p class="muted">{m.summary || 'No description.'}</p>}
				</section>
				{m.public && (
					<p class="hint" data-testid="public-link">
						Public: anyone may try it without an account at <a href={'#/try/' + enc(m.name)}>{window.location.origin + '/#/try/' + enc(m.name)}</a>.
					</p>
				)}
				<Endpoints m={m} />
			</div>
			<div class="model-about-side">
				<section class="card" aria-labelledby="facts-title">
					<h2 id="facts-title">Details</h2>
					<dl class="facts" data-testid="model-facts">
						<dt>Version</dt>
						<dd class="mono" data-testid="model-version">
							{m.version}
						</dd>
						{authors && (
							<>
								<dt>Authors</dt>
								<dd>{authors}</dd>
							</>
						)}
						{(m.license || meta.license) && (
							<>
								<dt>Licence</dt>
								<dd>{m.license || meta.license}</dd>
							</>
						)}
						{url && (
							<>
								<dt>URL</dt>
								<dd class="break">
									{/^https?:\/\//i.test(url) ? (
										<a href={url} target="_blank" rel="noopener noreferrer">
											{url}
										</a>
									) : (
										url
									)}
								</dd>
							</>
						)}
						{m.keywords && m.keywords.length > 0 && (
							<>
								<dt>Keywords</dt>
								<dd>
									{m.keywords.map((k) => (
										<a key={k} class="chip" href={'#/models?keyword=' + enc(k)}>
											{k}
										</a>
									))}
								</dd>
							</>
						)}
						{res.predict && m.has_predict !== false && (
							<>
								<dt>Predict</dt>
								<dd>
									{resourcesText(res.predict)}
									{m.workers ? `; up to ${m.workers.max} warm worker${m.workers.max === 1 ? '' : 's'}` : ''}
								</dd>
							</>
						)}
						{res.train && m.has_train !== false && (
							<>
								<dt>Train</dt>
								<dd>{resourcesText(res.train)}</dd>
							</>
						)}
						<dt>Updated</dt>
						<dd>{fmtTime(m.updated_at)}</dd>
					</dl>
				</section>
				{me.admin && <AdminFlags m={m} onChange={onChange} />}
			</div>
		</div>
	);
}

// ---- one model: Try it --------------------------------------------------------

function ResultView({ r }) {
	const size = r.size >= 1024 ? `${(r.size / 1024).toFixed(1)} KiB` : `${r.size} B`;
	return (
		<section class="card predict-result" aria-labelledby="result-title" data-testid="predict-result" data-kind={r.kind}>
			<h2 id="result-title">Result</h2>
			<p class="hint">
				<span class="mono">{r.type}</span> · {size} · {r.ms} ms
			</p>
			{r.kind === 'json' && (
				<pre class="result-json" data-testid="predict-json" tabIndex={0}>
					{JSON.stringify(r.json, null, 2)}
				</pre>
			)}
			{r.kind === 'image' && (
				<>
					<img class="result-image" src={r.url} alt="The model's answer" data-testid="predict-image" />
					<p>
						<a class="btn btn-small" href={r.url} download={resultFileName(r.type)}>
							<Icon name="download" /> Download
						</a>
					</p>
				</>
			)}
			{r.kind === 'file' && (
				<p>
					<a class="btn" href={r.url} download={resultFileName(r.type)} data-testid="predict-download">
						<Icon name="download" /> Download {resultFileName(r.type)}
					</a>
				</p>
			)}
		</section>
	);
}

// A request's error: the message, the fields the form does not show, how
// long to wait for a busy model.
function RequestError({ error, shown, testid }) {
	if (!error) return null;
	const other = error.fields ? Object.entries(error.fields).filter(([k]) => !shown.includes(k)) : [];
	let msg = error.message;
	if (error.status === 429) msg = `The model is busy: all its workers are taken and its queue is full. Try again${error.retryAfter != null ? ` in ${error.retryAfter} s` : ' in a moment'}.`;
	else if (error.status === 402) msg = `${error.message} An administrator turned it off.`;
	else if (error.fields && other.length === 0) msg = error.status === 422 ? 'Some arguments are not valid: see the messages under them.' : msg;
	return (
		<div data-testid={testid} data-status={error.status}>
			<ErrorBanner error={error.status >= 400 && error.status !== 422 && error.status !== 400 ? `${msg} (${error.status})` : msg} testid={testid + '-message'} />
			{other.length > 0 && (
				<ul class="field-errors">
					{other.map(([k, v]) => (
						<li key={k}>
							<span class="mono">{k}</span>: {[].concat(v).join(' ')}
						</li>
					))}
				</ul>
			)}
		</div>
	);
}

function TryIt({ m }) {
	const all = m.predict_args || [];
	const acceptParam = all.find((p) => p.name === 'accept');
	const params = all.filter((p) => p !== acceptParam);
	const choices = acceptChoices(m);
	const [values, setValues] = useState(() => initialValues(params));
	const [accept, setAccept] = useState(() => (acceptParam && acceptParam.default && acceptParam.default !== '*/*' ? acceptParam.default : choices[0] || ''));
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const [result, setResult] = useState(null);
	const abort = useRef(null);

	// A download's blob: URL lives as long as its result.
	useEffect(() => {
		const u = result && result.kind === 'file' ? result.url : null;
		return () => u && URL.revokeObjectURL(u);
	}, [result]);
	useEffect(() => () => abort.current && abort.current.abort(), []);

	const { entries, problems } = useMemo(() => formEntries(params, values), [values, m]);
	// For the curl line: how the response type travels.
	const acceptEntry = !accept ? [] : acceptParam ? [{ name: 'accept', value: accept, json: accept, header: acceptParam.in === 'header' }] : choices.length > 1 ? [{ name: 'Accept', value: accept, json: accept, header: true }] : [];
	const curl = curlLine({ origin: window.location.origin, model: m.name, op: 'predict', entries: [...entries, ...acceptEntry] });

	if (m.has_predict === false) return <Empty>This model has no predict function: it can only be trained.</Empty>;

	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		if (Object.keys(problems).length) {
			const err = new Error('Some arguments are not valid: see the messages under them.');
			err.fields = Object.fromEntries(Object.entries(problems).map(([k, v]) => [k, [v]]));
			err.status = 0;
			setError(err);
			return;
		}
		const fd = new FormData();
		const headers = {};
		for (const x of entries) {
			if (x.header) headers[x.name] = x.value;
			else if (x.value instanceof File) fd.append(x.name, x.value, x.value.name);
			else fd.append(x.name, x.value);
		}
		// The response type: the accept argument in the form, and the
		// Accept header, for a model that reads it from there.
		if (acceptParam && acceptParam.in !== 'header' && accept) fd.append('accept', accept);
		headers.Accept = accept || 'application/json';
		const ctl = new AbortController();
		abort.current = ctl;
		setBusy(true);
		const started = performance.now();
		try {
			const res = await v2Fetch('POST', `/v2/models/${enc(m.name)}/predict/`, { body: fd, headers, signal: ctl.signal });
			setResult(await predictResult(res, started));
		} catch (err) {
			if (err && err.name === 'AbortError') setError(new Error('Cancelled.'));
			else setError(err);
			setResult(null);
		} finally {
			abort.current = null;
			setBusy(false);
		}
	};

	const fieldErrors = error && error.fields ? error.fields : {};
	return (
		<div class="model-try">
			{!m.predict_enabled && (
				<div class="alert alert-error" role="status">
					An administrator turned predictions off for this model: the form answers 402 until they turn them on again.
				</div>
			)}
			<form class="card" onSubmit={submit} aria-labelledby="try-title" data-testid="try-form" noValidate={false}>
				<h2 id="try-title">Try it</h2>
				{params.length === 0 && <p class="muted">This model takes no arguments.</p>}
				<ArgFields params={params} values={values} setValue={(k, v) => setValues((s) => ({ ...s, [k]: v }))} errors={fieldErrors} />
				{choices.length > 1 && (
					<div class="field arg">
						<label for="try-accept">Response type</label>
						<select id="try-accept" value={accept} onChange={(e) => setAccept(e.currentTarget.value)} data-testid="try-accept">
							{choices.map((c) => (
								<option key={c} value={c}>
									{c}
								</option>
							))}
						</select>
						{fieldErrors.accept && <div class="hint hint-error">{[].concat(fieldErrors.accept).join(' ')}</div>}
					</div>
				)}
				{params.some((p) => p.required) && (
					<p class="hint">
						<span class="arg-required">*</span> required
					</p>
				)}
				<RequestError error={error} shown={params.map((p) => p.name).concat(choices.length > 1 ? ['accept'] : [])} testid="try-error" />
				<div class="form-actions form-actions-start">
					<button type="submit" class="btn btn-primary" disabled={busy} data-testid="try-submit">
						<Icon name="play" /> {busy ? 'Predicting…' : 'Predict'}
					</button>
					{busy && (
						<button type="button" class="btn" onClick={() => abort.current && abort.current.abort()}>
							Cancel
						</button>
					)}
				</div>
				<details class="curl-details">
					<summary>The same from a terminal</summary>
					<CurlLine text={curl} testid="try-curl" />
				</details>
			</form>
			{busy && <Loading label="Waiting for the model…" />}
			{result && <ResultView r={result} />}
		</div>
	);
}

// ---- one model: Train -------------------------------------------------------------

function argsText(args) {
	if (!args || typeof args !== 'object') return '';
	return Object.entries(args)
		.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
		.join(', ');
}

function TrainingStatus({ t }) {
	return (
		<span class={`badge badge-${trainingKind(t.status)}`} data-testid="training-status" data-status={t.status}>
			{t.status}
		</span>
	);
}

// Where the training's job is: queued (and why), or running where.
function JobWhere({ job, ahead }) {
	if (!job || (job.state !== 'pending' && job.state !== 'running')) return null;
	const text = job.state === 'pending' ? 'queued: ' + waitingText(job, ahead) : `running on ${job.allocated ? job.allocated.node : '?'}${job.allocated && job.allocated.gpus.length ? ', GPU ' + job.allocated.gpus.join(', ') : ''}`;
	return (
		<span class="small muted" data-testid="training-job-state" data-state={job.state}>
			{text}
		</span>
	);
}

// An admin makes a done training's outputs a new version of the model
// (POST /api/v1/models {from_training}, as kaon models add --from-training).
function RegisterVersion({ m, t }) {
	const [version, setVersion] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const [done, setDone] = useState(null);
	async function submit(e) {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const body = { from_training: t.uuid };
			if (version.trim()) body.version = version.trim();
			setDone(await apiPost('/models', body));
		} catch (err) {
			setError(err);
		} finally {
			setBusy(false);
		}
	}
	if (done)
		return (
			<p class="hint" data-testid="training-registered" data-version={done.version}>
				Registered as version <span class="mono">{done.version}</span> of <a href={'#/models/' + enc(m.name)}>{m.name}</a>: new predictions use it.
			</p>
		);
	return (
		<form class="register-version" onSubmit={submit} data-testid="training-register">
			<h3 class="training-sub">A new version from this training</h3>
			<p class="hint">
				The folder of version {t.version} with what the training wrote laid over it becomes a new version of the model (<span class="mono">kaon models add --from-training {t.uuid.slice(0, 8)}…</span>).
			</p>
			<label>
				Version{' '}
				<input type="text" value={version} maxLength={32} placeholder={`${t.version}+${t.uuid.slice(0, 8)}`} onInput={(e) => setVersion(e.currentTarget.value)} data-testid="register-version" />
			</label>{' '}
			<button type="submit" class="btn btn-small" disabled={busy} data-testid="register-submit">
				Register
			</button>
			<ErrorBanner error={error} testid="register-error" />
		</form>
	);
}

function TrainingDetail({ m, t, me, onDelete }) {
	// The DEEPaaS status says running for a queued training too; its job
	// says which.
	const { job, ahead } = useJob(t.job_id);
	return (
		<section class="card training" aria-labelledby="training-title" data-testid="training" data-uuid={t.uuid} data-status={t.status}>
			<div class="training-head">
				<h2 id="training-title">
					Training <span class="mono">{t.uuid.slice(0, 8)}</span>
				</h2>
				<TrainingStatus t={t} />
				<a href={'#/jobs/' + t.job_id} class="mono small">
					job {t.job_id}
				</a>
				{t.status === 'running' && <JobWhere job={job} ahead={ahead} />}
				{t.status === 'running' && (
					<button type="button" class="btn btn-small btn-danger" onClick={() => onDelete(t)} data-testid="training-cancel">
						<Icon name="stop" /> Cancel
					</button>
				)}
			</div>
			<dl class="facts">
				<dt>Started</dt>
				<dd>
					{t.date.slice(0, 19)} by {t.user} (version {t.version})
				</dd>
				<dt>Arguments</dt>
				<dd class="mono break">{argsText(t.args) || '(defaults)'}</dd>
				{t.result && (
					<>
						<dt>Finished</dt>
						<dd>
							{t.result.finish_date.slice(0, 19)} (took {t.result.duration.replace(/\.\d+$/, '')})
						</dd>
					</>
				)}
				{t.message && (
					<>
						<dt>Error</dt>
						<dd class="hint-error" data-testid="training-message">
							{t.message}
						</dd>
					</>
				)}
			</dl>
			{t.errors && (
				<ul class="field-errors">
					{Object.entries(t.errors).map(([k, v]) => (
						<li key={k}>
							<span class="mono">{k}</span>: {[].concat(v).join(' ')}
						</li>
					))}
				</ul>
			)}
			{t.result && t.result.output != null && (
				<>
					<h3 class="training-sub">Output</h3>
					<pre class="result-json" data-testid="training-output" tabIndex={0}>
						{JSON.stringify(t.result.output, null, 2)}
					</pre>
				</>
			)}
			{me.admin && t.status === 'done' && <RegisterVersion key={t.uuid} m={m} t={t} />}
			<h3 class="training-sub">Log</h3>
			<JobLog jobId={t.job_id} height="18rem" testid="training-log" />
			{t.user === me.username ? (
				<p class="hint">
					What the training wrote is in your home folder: <a href={`#/files/kaon-trainings/${enc(m.name)}/${t.uuid}`}>~/kaon-trainings/{m.name}/{t.uuid}</a>.
				</p>
			) : (
				<p class="hint">
					What the training wrote is in {t.user}'s home folder, under <span class="mono">kaon-trainings/{m.name}/{t.uuid}</span>.
				</p>
			)}
		</section>
	);
}

function TrainForm({ m, onStarted }) {
	const all = m.train_args || [];
	// Trainings take no uploads (docs/deepaas.md).
	const fileParams = all.filter((p) => fieldKind(p) === 'file' || fieldKind(p) === 'files');
	const params = all.filter((p) => !fileParams.includes(p));
	const [values, setValues] = useState(() => initialValues(params));
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const { entries, problems } = useMemo(() => formEntries(params, values), [values, m]);
	const curl = curlLine({ origin: window.location.origin, model: m.name, op: 'train', entries });

	const submit = async (e) => {
		e.preventDefault();
		setError(null);
		if (Object.keys(problems).length) {
			const err = new Error('Some arguments are not valid: see the messages under them.');
			err.fields = Object.fromEntries(Object.entries(problems).map(([k, v]) => [k, [v]]));
			err.status = 0;
			setError(err);
			return;
		}
		const headers = { 'Content-Type': 'application/json' };
		for (const x of entries) if (x.header) headers[x.name] = x.value;
		setBusy(true);
		try {
			onStarted(await v2Json('POST', `/v2/models/${enc(m.name)}/train/`, { body: JSON.stringify(jsonBody(params, entries)), headers }));
		} catch (err) {
			setError(err);
		} finally {
			setBusy(false);
		}
	};
	return (
		<form class="card" onSubmit={submit} aria-labelledby="train-title" data-testid="train-form">
			<h2 id="train-title">Train</h2>
			<p class="hint">
				A training runs as a job of yours under the scheduler{m.resources && m.resources.train ? ` (${resourcesText(m.resources.train)})` : ''}; what it writes goes to <span class="mono">~/kaon-trainings/{m.name}/</span>.
			</p>
			{params.length === 0 && <p class="muted">This model's training takes no arguments.</p>}
			<ArgFields params={params} values={values} setValue={(k, v) => setValues((s) => ({ ...s, [k]: v }))} errors={error && error.fields ? error.fields : {}} />
			{params.some((p) => p.required) && (
				<p class="hint">
					<span class="arg-required">*</span> required
				</p>
			)}
			{fileParams.length > 0 && <p class="hint">Files cannot be given to a training ({fileParams.map((p) => p.name).join(', ')}): put them in your home folder and name them in an argument.</p>}
			<RequestError error={error} shown={params.map((p) => p.name)} testid="train-error" />
			<div class="form-actions form-actions-start">
				<button type="submit" class="btn btn-primary" disabled={busy} data-testid="train-submit">
					<Icon name="play" /> {busy ? 'Starting…' : 'Start training'}
				</button>
			</div>
			<details class="curl-details">
				<summary>The same from a terminal</summary>
				<CurlLine text={curl} testid="train-curl" />
			</details>
		</form>
	);
}

function Train({ m, me, route }) {
	const selected = routeQuery(route).get('t');
	const [trainings, setTrainings] = useState(null);
	const [error, setError] = useState(null);
	const [deleting, setDeleting] = useState(null);
	const kick = useRef(null);

	// The list, every 2 s while a training runs (its status and result
	// come from the server), else on demand.
	useEffect(() => {
		let live = true;
		let timer = null;
		const poll = async () => {
			clearTimeout(timer);
			try {
				const d = await apiGet(`/models/${enc(m.name)}/trainings`);
				if (!live) return;
				const list = (d.trainings || []).slice().reverse();
				setTrainings(list);
				setError(null);
				if (list.some((t) => t.status === 'running')) timer = setTimeout(poll, 2000);
			} catch (e) {
				if (!live) return;
				setError(e);
				timer = setTimeout(poll, 5000);
			}
		};
		kick.current = poll;
		poll();
		return () => {
			live = false;
			kick.current = null;
			clearTimeout(timer);
		};
	}, [m.name]);

	const select = (uuid) => routeGo(`/models/${enc(m.name)}/train` + (uuid ? '?t=' + uuid : ''));
	const started = (rec) => {
		select(rec.uuid);
		if (kick.current) kick.current();
	};
	const sel = trainings && selected ? trainings.find((t) => t.uuid === selected) : null;

	if (m.has_train === false) return <Empty>This model has no train function.</Empty>;
	return (
		<div class="model-train">
			{!m.train_enabled ? (
				<div class="alert alert-error" role="status" data-testid="train-off">
					An administrator turned training off for this model.
				</div>
			) : (
				<TrainForm m={m} onStarted={started} />
			)}
			{sel && <TrainingDetail key={sel.uuid} m={m} t={sel} me={me} onDelete={setDeleting} />}
			<h2 class="section-title">
				{me.admin ? 'Trainings' : 'Your trainings'} <span class="muted small">{trainings ? trainings.length : ''}</span>
			</h2>
			<ErrorBanner error={error} />
			{trainings == null ? (
				!error && <Loading />
			) : trainings.length === 0 ? (
				<Empty>No training of this model yet.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="trainings">
						<thead>
							<tr>
								<th>Started</th>
								<th>Status</th>
								{me.admin && <th>User</th>}
								<th>Arguments</th>
								<th class="num">Job</th>
								<th>
									<span class="sr-only">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{trainings.map((t) => (
								<tr key={t.uuid} data-testid="training-row" data-uuid={t.uuid} data-status={t.status} class={t.uuid === selected ? 'row-selected' : undefined}>
									<td class="nowrap">{t.date.slice(0, 19)}</td>
									<td>
										<TrainingStatus t={t} />
									</td>
									{me.admin && <td>{t.user}</td>}
									<td class="mono small break">{argsText(t.args)}</td>
									<td class="num mono">
										<a href={'#/jobs/' + t.job_id}>{t.job_id}</a>
									</td>
									<td class="nowrap actions">
										<button type="button" class="btn btn-small" onClick={() => select(t.uuid)} aria-label={`Log and result of training ${t.uuid.slice(0, 8)}`} data-testid="training-open">
											Log
										</button>{' '}
										<button
											type="button"
											class="btn btn-small btn-danger-ghost"
											onClick={() => setDeleting(t)}
											aria-label={`${t.status === 'running' ? 'Cancel' : 'Remove'} training ${t.uuid.slice(0, 8)}`}
										>
											{t.status === 'running' ? 'Cancel' : 'Remove'}
										</button>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			{deleting && (
				<ConfirmDialog
					title={deleting.status === 'running' ? 'Cancel this training?' : 'Remove this training?'}
					confirmLabel={deleting.status === 'running' ? 'Cancel training' : 'Remove'}
					testid="training-delete"
					onClose={() => setDeleting(null)}
					onConfirm={async () => {
						await v2Fetch('DELETE', `/v2/models/${enc(m.name)}/train/${deleting.uuid}`);
						if (deleting.uuid === selected) select(null);
						if (kick.current) kick.current();
					}}
				>
					{deleting.status === 'running' ? 'Its job is stopped, and the training leaves this list and the DEEPaaS API.' : 'It leaves this list and the DEEPaaS API; what it wrote stays in your home folder.'}
				</ConfirmDialog>
			)}
		</div>
	);
}

// ---- one model: the page ------------------------------------------------------------

const TABS = [
	{ id: '', label: 'About' },
	{ id: 'try', label: 'Try it' },
	{ id: 'train', label: 'Train' },
];

function ModelPage({ name, tab, me, route }) {
	const [m, setM] = useState(null);
	const [error, setError] = useState(null);
	useEffect(() => {
		let live = true;
		setM(null);
		setError(null);
		apiGet('/models/' + enc(name))
			.then((d) => live && setM(d))
			.catch((e) => live && setError(e));
		return () => {
			live = false;
		};
	}, [name]);

	if (error)
		return (
			<section class="page page-wide" data-testid="page-model">
				<PageHeader title="Model" />
				<ErrorBanner error={error} />
				<p>
					<a href="#/models">All models</a>
				</p>
			</section>
		);
	if (!m) return <Loading />;
	return (
		<section class="page page-wide" data-testid="page-model" data-name={m.name}>
			<p class="small">
				<a href="#/models">Models</a> /
			</p>
			<div class="model-head">
				<Thumb m={m} size="head" />
				<div class="model-head-text">
					<PageHeader title={m.title || m.name} />
					<p class="mono small muted">
						{m.name} {m.version}
					</p>
					{m.summary && <p class="model-summary">{m.summary}</p>}
					<div class="model-keywords">
						<FlagBadges m={m} />
					</div>
				</div>
			</div>
			<nav class="model-tabs" aria-label="Model">
				{TABS.map((t) => (
					<a key={t.id} href={`#/models/${enc(m.name)}${t.id ? '/' + t.id : ''}`} aria-current={tab === t.id ? 'page' : undefined} data-testid={'model-tab-' + (t.id || 'about')}>
						{t.label}
					</a>
				))}
			</nav>
			{tab === '' && <About m={m} me={me} onChange={setM} />}
			{tab === 'try' && <TryIt key={m.name + m.version} m={m} />}
			{tab === 'train' && <Train key={m.name + m.version} m={m} me={me} route={route} />}
		</section>
	);
}

export function ModelsPage({ route, me }) {
	const path = routePath(route);
	const hit = /^\/models\/([^/]+)(?:\/(try|train))?$/.exec(path);
	if (hit) {
		let name;
		try {
			name = decodeURIComponent(hit[1]);
		} catch {
			name = hit[1];
		}
		return <ModelPage key={name} name={name} tab={hit[2] || ''} me={me} route={route} />;
	}
	return <Catalog me={me} route={route} />;
}

// ---- a public model's Try it page, without a session (#/try/NAME) -------------------

// What the page needs of a model, from what DEEPaaS serves anonymously
// for a public model: its metadata (GET /v2/models/NAME/) and its predict
// parameters and response types (GET /swagger.json).
async function publicModel(name) {
	const meta = await v2Json('GET', `/v2/models/${enc(name)}/`);
	const spec = await v2Json('GET', '/swagger.json');
	const op = ((spec.paths || {})[`/v2/models/${name}/predict/`] || {}).post;
	return {
		name,
		title: meta.name || name,
		summary: meta.summary || '',
		description: meta.description || '',
		version: meta.version || '',
		predict_args: op ? (op.parameters || []).filter((p) => p.in !== 'path') : [],
		accept: op ? op.produces || [] : [],
		has_predict: !!op,
		predict_enabled: true,
	};
}

export function PublicTryPage({ name, me }) {
	const [m, setM] = useState(null);
	const [error, setError] = useState(null);
	useEffect(() => {
		let live = true;
		publicModel(name)
			.then((x) => live && setM(x))
			.catch((e) => live && setError(e));
		return () => {
			live = false;
		};
	}, [name]);
	let body;
	if (error)
		body =
			error.status === 401 || error.status === 404 ? (
				<Empty>
					There is no public model named <span class="mono">{name}</span> here. <a href="#/login">Log in</a> to see the models you may use.
				</Empty>
			) : (
				<ErrorBanner error={error} />
			);
	else if (!m) body = <Loading />;
	else
		body = (
			<>
				<header class="public-try-head">
					<h1 data-testid="public-title">{m.title}</h1>
					{m.version && <span class="muted small">version {m.version}</span>}
					{m.summary && <p>{m.summary}</p>}
				</header>
				{m.description && (
					<details class="card">
						<summary>About this model</summary>
						<Markdown src={m.description} />
					</details>
				)}
				<TryIt m={m} />
			</>
		);
	return (
		<main class="public-try" data-testid="public-try">
			<p class="small muted">
				{me ? (
					<a href={'#/models/' + enc(name)}>This model in kaon</a>
				) : (
					<>
						Anyone may try this model. <a href="#/login">Log in</a> for the catalog, training and your own work.
					</>
				)}
			</p>
			{body}
		</main>
	);
}
