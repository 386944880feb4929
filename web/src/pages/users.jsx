// pages/users.jsx — admins: list, create, edit and delete users.
import { useState } from 'preact/hooks';
import { apiDelete, apiGet, apiPatch, apiPost } from '../api.js';
import { fmtTime } from '../format.js';
import { GroupsPicker } from '../components/groupspicker.jsx';
import {
	Badge,
	Check,
	ConfirmDialog,
	Dialog,
	Empty,
	ErrorBanner,
	Field,
	Loading,
	PageHeader,
	useLoad,
} from '../components/ui.jsx';

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function UserForm({ user, self, groups, groupsError, onSaved, onClose }) {
	const editing = !!user;
	const [f, setF] = useState({
		username: user ? user.username : '',
		display_name: (user && user.display_name) || '',
		email: (user && user.email) || '',
		password: '',
		admin: user ? !!user.admin : false,
		disabled: user ? !!user.disabled : false,
		groups: user ? [...(user.groups || [])] : [],
		unix_user: '',
	});
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState(null);
	const set = (k) => (e) =>
		setF({ ...f, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });

	const submit = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			let saved;
			if (editing) {
				// Send only what changed, so an untouched field never trips a rule.
				const body = {};
				if (f.display_name !== (user.display_name || '')) body.display_name = f.display_name;
				if (f.email !== (user.email || '')) body.email = f.email;
				if (f.admin !== !!user.admin) body.admin = f.admin;
				if (f.disabled !== !!user.disabled) body.disabled = f.disabled;
				if (!sameList(f.groups, user.groups || [])) body.groups = f.groups;
				if (f.password) body.password = f.password;
				saved = Object.keys(body).length
					? await apiPatch('/users/' + encodeURIComponent(user.username), body)
					: user;
			} else {
				const body = { username: f.username.trim() };
				if (f.password) body.password = f.password;
				if (f.display_name.trim()) body.display_name = f.display_name.trim();
				if (f.email.trim()) body.email = f.email.trim();
				if (f.admin) body.admin = true;
				if (f.groups.length) body.groups = f.groups;
				if (f.unix_user.trim()) body.unix_user = f.unix_user.trim();
				saved = await apiPost('/users', body);
			}
			onSaved(saved);
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};

	return (
		<Dialog
			title={editing ? `Edit user ${user.username}` : 'New user'}
			onClose={onClose}
			testid="user-dialog"
			wide
		>
			<form class="dialog-body" onSubmit={submit} id="user-form">
				{!editing && (
					<Field
						label="Username"
						id="user-username"
						required
						pattern="[a-z][a-z0-9_\-]{0,31}"
						maxLength={32}
						autocomplete="off"
						autocapitalize="none"
						spellcheck={false}
						hint="Lower-case letters, digits, _ and -, starting with a letter."
						value={f.username}
						onInput={set('username')}
					/>
				)}
				<div class="row">
					<Field label="Display name" id="user-display-name" value={f.display_name} onInput={set('display_name')} />
					<Field label="Email" id="user-email" type="email" value={f.email} onInput={set('email')} />
				</div>
				<Field
					label={editing ? 'New password' : 'Password'}
					id="user-password"
					type="password"
					autocomplete="new-password"
					minLength={8}
					maxLength={1024}
					hint={
						editing
							? 'Leave empty to keep the current password. Setting one ends the user\'s browser sessions.'
							: 'At least 8 characters. Leave empty for an account without a password.'
					}
					value={f.password}
					onInput={set('password')}
				/>
				{!editing && (
					<Field
						label="Unix account"
						id="user-unix"
						autocomplete="off"
						spellcheck={false}
						hint="Optional: the Unix user this account runs as. Empty for the default."
						value={f.unix_user}
						onInput={set('unix_user')}
					/>
				)}
				<GroupsPicker all={groups} error={groupsError} value={f.groups} onChange={(g) => setF({ ...f, groups: g })} />
				<div class="checks">
					<Check label="Administrator" id="user-admin" checked={f.admin} onChange={set('admin')} />
					{editing && (
						<Check
							label="Disabled"
							id="user-disabled"
							hint="(cannot log in; ends the user's browser sessions)"
							checked={f.disabled}
							onChange={set('disabled')}
						/>
					)}
				</div>
				{editing && self && (
					<p class="hint">This is your own account: you cannot remove your admin role or disable yourself.</p>
				)}
				<ErrorBanner error={error} testid="user-error" />
				<div class="form-actions">
					<button type="button" class="btn" onClick={onClose}>
						Cancel
					</button>
					<button type="submit" class="btn btn-primary" id="user-save" disabled={busy}>
						{busy ? 'Saving…' : editing ? 'Save changes' : 'Create user'}
					</button>
				</div>
			</form>
		</Dialog>
	);
}

export function UsersPage({ me, reloadMe }) {
	const [state, reload] = useLoad(() => apiGet('/users'));
	const [gstate] = useLoad(() => apiGet('/groups'));
	const [editing, setEditing] = useState(null); // a user, or 'new'
	const [deleting, setDeleting] = useState(null);
	const [done, setDone] = useState(null);
	const users = (state.data && state.data.users) || [];
	const groups = (gstate.data && gstate.data.groups) || [];

	return (
		<section class="page" data-testid="page-users">
			<PageHeader title="Users">
				<button type="button" class="btn btn-primary" id="user-new" onClick={() => setEditing('new')}>
					New user
				</button>
			</PageHeader>
			{done && (
				<div class="alert alert-ok" role="status" data-testid="user-done">
					{done}
				</div>
			)}
			<ErrorBanner error={state.error} />
			{state.loading && !state.data ? (
				<Loading />
			) : users.length === 0 ? (
				state.data && <Empty>No users.</Empty>
			) : (
				<div class="table-wrap">
					<table class="table" data-testid="users-table">
						<caption class="sr-only">Users</caption>
						<thead>
							<tr>
								<th scope="col">User</th>
								<th scope="col">Email</th>
								<th scope="col">Groups</th>
								<th scope="col">Status</th>
								<th scope="col">Unix account</th>
								<th scope="col">Created</th>
								<th scope="col">
									<span class="sr-only">Actions</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{users.map((u) => (
								<tr key={u.username} data-testid="user-row" data-username={u.username}>
									<td>
										<span class="mono strong">{u.username}</span>
										{u.display_name && <div class="muted small">{u.display_name}</div>}
									</td>
									<td class="break">{u.email || <span class="muted">—</span>}</td>
									<td>
										{(u.groups || []).length ? (
											(u.groups || []).map((g, i) => (
												<span key={g} class={i === 0 ? 'chip chip-primary' : 'chip'} title={i === 0 ? 'primary group' : undefined}>
													{g}
												</span>
											))
										) : (
											<span class="muted">—</span>
										)}
									</td>
									<td class="badges">
										{u.admin && <Badge kind="info">admin</Badge>}
										{u.disabled ? <Badge kind="warn">disabled</Badge> : <Badge kind="ok">active</Badge>}
										{!u.password_set && <Badge>no password</Badge>}
									</td>
									<td class="mono">
										{u.unix_user || '—'}
										{u.uid != null && <span class="muted"> ({u.uid})</span>}
									</td>
									<td title={u.created_at}>{fmtTime(u.created_at)}</td>
									<td class="actions">
										<button
											type="button"
											class="btn btn-small"
											aria-label={`Edit user ${u.username}`}
											onClick={() => setEditing(u)}
										>
											Edit
										</button>
										<button
											type="button"
											class="btn btn-small btn-danger-ghost"
											aria-label={`Delete user ${u.username}`}
											disabled={u.username === me.username}
											title={u.username === me.username ? 'You cannot delete your own account' : undefined}
											onClick={() => setDeleting(u)}
										>
											Delete
										</button>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			{editing && (
				<UserForm
					user={editing === 'new' ? null : editing}
					self={editing !== 'new' && editing.username === me.username}
					groups={groups}
					groupsError={gstate.error}
					onClose={() => setEditing(null)}
					onSaved={(u) => {
						setDone(editing === 'new' ? `User ${u.username} created.` : `User ${u.username} saved.`);
						if (u.username === me.username) reloadMe().catch(() => {});
						setEditing(null);
						reload();
					}}
				/>
			)}
			{deleting && (
				<ConfirmDialog
					title="Delete user"
					testid="delete-user-dialog"
					onClose={() => setDeleting(null)}
					onConfirm={async () => {
						await apiDelete('/users/' + encodeURIComponent(deleting.username));
						setDone(`User ${deleting.username} deleted.`);
						reload();
					}}
				>
					<p>
						Delete the user <strong>{deleting.username}</strong>? Their API tokens and sessions go too; their Unix
						account and home directory stay.
					</p>
				</ConfirmDialog>
			)}
		</section>
	);
}
