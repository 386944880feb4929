// pages/tokens.jsx — your API tokens: list, create (shown once), delete.
import { useRef, useState } from 'preact/hooks';
import { apiDelete, apiGet, apiPost } from '../api.js';
import { fmtTime } from '../format.js';
import {
	ConfirmDialog,
	CopyButton,
	Empty,
	ErrorBanner,
	Field,
	Loading,
	PageHeader,
	useLoad,
} from '../components/ui.jsx';

// expires_in_s must lie in 60..31622400 (one leap year).
const EXPIRY = [
	{ value: '', label: 'Never' },
	{ value: String(86400), label: '1 day' },
	{ value: String(7 * 86400), label: '7 days' },
	{ value: String(30 * 86400), label: '30 days' },
	{ value: String(90 * 86400), label: '90 days' },
	{ value: String(365 * 86400), label: '1 year' },
];

function NewToken({ token, onDone }) {
	const input = useRef(null);
	return (
		<div class="new-token" role="region" aria-labelledby="new-token-title" data-testid="new-token-box">
			<h2 id="new-token-title">Token “{token.name}” created</h2>
			<p>Copy it now: it is shown only this once and cannot be recovered.</p>
			<div class="token-row">
				<label class="sr-only" for="new-token">
					New API token
				</label>
				<input
					id="new-token"
					class="mono"
					readOnly
					value={token.token}
					ref={input}
					data-testid="new-token"
					onFocus={(e) => e.currentTarget.select()}
				/>
				<CopyButton text={token.token} inputRef={input} testid="copy-token" />
			</div>
			<p class="hint">
				Use it as <span class="mono">Authorization: Bearer …</span> or set <span class="mono">KAON_TOKEN</span>.
			</p>
			<button type="button" class="btn" onClick={onDone}>
				Done
			</button>
		</div>
	);
}

function CreateToken({ onCreated }) {
	const [name, setName] = useState('');
	const [expiry, setExpiry] = useState('');
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const submit = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		const body = { name: name.trim() };
		if (expiry) body.expires_in_s = Number(expiry);
		try {
			const t = await apiPost('/tokens', body);
			setName('');
			setExpiry('');
			onCreated(t);
		} catch (err) {
			setError(err);
		} finally {
			setBusy(false);
		}
	};
	return (
		<form class="card form-inline" onSubmit={submit} id="token-form" aria-labelledby="token-form-title">
			<h2 id="token-form-title">New token</h2>
			<ErrorBanner error={error} testid="token-error" />
			<div class="row">
				<Field
					label="Name"
					id="token-name"
					required
					maxLength={64}
					placeholder="e.g. laptop CLI"
					value={name}
					onInput={(e) => setName(e.currentTarget.value)}
				/>
				<div class="field">
					<label for="token-expiry">Expires</label>
					<select id="token-expiry" value={expiry} onChange={(e) => setExpiry(e.currentTarget.value)}>
						{EXPIRY.map((o) => (
							<option key={o.value} value={o.value}>
								{o.label}
							</option>
						))}
					</select>
				</div>
				<div class="field field-button">
					<button type="submit" class="btn btn-primary" id="token-create" disabled={busy}>
						{busy ? 'Creating…' : 'Create token'}
					</button>
				</div>
			</div>
		</form>
	);
}

export function TokensPage() {
	const [state, reload] = useLoad(() => apiGet('/tokens'));
	const [created, setCreated] = useState(null);
	const [deleting, setDeleting] = useState(null);
	const tokens = (state.data && state.data.tokens) || [];
	const now = Date.now();

	return (
		<section class="page" data-testid="page-tokens">
			<PageHeader title="API tokens" />
			<p class="muted">
				Tokens let scripts and the <span class="mono">kaon</span> command line act as you. Delete a token you no
				longer use.
			</p>
			{created ? (
				<NewToken token={created} onDone={() => setCreated(null)} />
			) : (
				<CreateToken
					onCreated={(t) => {
						setCreated(t);
						reload();
					}}
				/>
			)}
			<ErrorBanner error={state.error} />
			{state.loading && !state.data ? (
				<Loading />
			) : tokens.length === 0 ? (
				state.data && <Empty>You have no API tokens.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="tokens-table">
						<caption class="sr-only">Your API tokens</caption>
						<thead>
							<tr>
								<th scope="col">Name</th>
								<th scope="col">Prefix</th>
								<th scope="col">Created</th>
								<th scope="col">Expires</th>
								<th scope="col">Last used</th>
								<th scope="col">
									<span class="sr-only">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{tokens.map((t) => {
								const expired = t.expires_at && new Date(t.expires_at).getTime() < now;
								return (
									<tr key={t.id} data-testid="token-row">
										<td>{t.name}</td>
										<td class="mono">{t.prefix}…</td>
										<td title={t.created_at}>{fmtTime(t.created_at)}</td>
										<td title={t.expires_at || ''}>
											{t.expires_at ? fmtTime(t.expires_at) : 'never'}
											{expired && <span class="badge badge-warn">expired</span>}
										</td>
										<td title={t.last_used_at || ''}>
											{t.last_used_at ? fmtTime(t.last_used_at) : <span class="muted">never</span>}
										</td>
										<td class="actions">
											<button
												type="button"
												class="btn btn-small btn-danger-ghost"
												aria-label={`Delete token ${t.name}`}
												onClick={() => setDeleting(t)}
											>
												Delete
											</button>
										</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}
			{deleting && (
				<ConfirmDialog
					title="Delete token"
					testid="delete-token-dialog"
					onClose={() => setDeleting(null)}
					onConfirm={async () => {
						await apiDelete('/tokens/' + encodeURIComponent(deleting.id));
						reload();
					}}
				>
					Delete the token <strong>{deleting.name}</strong> ({deleting.prefix}…)? Anything using it stops working.
				</ConfirmDialog>
			)}
		</section>
	);
}
