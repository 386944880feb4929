// components/groupspicker.jsx — choose a user's groups: the first is the
// primary group, whose limits apply, so it gets its own select.
import { useId } from 'preact/hooks';

export function GroupsPicker({ all, value, onChange, error }) {
	const pid = useId();
	const primary = value[0] || '';
	const others = value.slice(1);
	const names = all.map((g) => g.name);
	// Groups the user is in but the list does not have (should not happen).
	for (const g of value) if (!names.includes(g)) names.push(g);

	const setPrimary = (p) => {
		const rest = others.filter((g) => g !== p);
		onChange(p ? [p, ...rest] : rest);
	};
	const toggle = (g, on) => {
		if (on) onChange(primary ? [primary, ...others, g] : [g, ...others]);
		else onChange(value.filter((x) => x !== g));
	};
	return (
		<fieldset class="fieldset">
			<legend>Groups</legend>
			{error && <p class="hint hint-error">Could not load the groups: {error.message}</p>}
			<div class="field">
				<label for={pid}>Primary group</label>
				<select id={pid} data-testid="primary-group" value={primary} onChange={(e) => setPrimary(e.currentTarget.value)}>
					<option value="">(none)</option>
					{names.map((n) => (
						<option key={n} value={n}>
							{n}
						</option>
					))}
				</select>
				<div class="hint">Its limits apply to the user's jobs and sessions.</div>
			</div>
			{names.filter((n) => n !== primary).length > 0 && (
				<div class="checks" role="group" aria-label="Other groups">
					<div class="label">Other groups</div>
					{names
						.filter((n) => n !== primary)
						.map((n) => (
							<label class="check-inline" key={n}>
								<input
									type="checkbox"
									checked={others.includes(n)}
									onChange={(e) => toggle(n, e.currentTarget.checked)}
								/>
								<span class="mono">{n}</span>
							</label>
						))}
				</div>
			)}
		</fieldset>
	);
}
