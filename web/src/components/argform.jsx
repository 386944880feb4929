// components/argform.jsx — the inputs of a form generated from a model's
// argument schema (Swagger 2.0 parameter objects, docs/models.md): a file
// input for a file, a number input with the parameter's minimum and
// maximum, a select for a choice, a checkbox for a boolean, a text input
// for a list (comma-separated) or a JSON textarea for an object; each
// with its default filled in, its description as help, required marked,
// and the server's messages for it (DEEPaaS's 422 {field: [messages]})
// under it.
import { useId } from 'preact/hooks';
import { boolIsTri, fieldKind } from '../workspace/models.js';

function Help({ p, id, errors }) {
	const kind = fieldKind(p);
	const bits = [];
	if (p.minimum !== undefined && p.maximum !== undefined) bits.push(`${p.minimum} to ${p.maximum}`);
	else if (p.minimum !== undefined) bits.push(`at least ${p.minimum}`);
	else if (p.maximum !== undefined) bits.push(`at most ${p.maximum}`);
	const items = p.items || {};
	if (kind === 'list') {
		const n = p.minItems !== undefined && p.minItems === p.maxItems ? `${p.minItems} ` : '';
		const what = items.type === 'integer' || items.type === 'number' ? 'numbers' : 'values';
		let range = '';
		if (items.minimum !== undefined && items.maximum !== undefined) range = ` from ${items.minimum} to ${items.maximum}`;
		bits.push(`${n}${what}${range}, separated by ${what === 'numbers' ? 'commas or spaces' : 'commas'}`);
	}
	if (kind === 'json') bits.push('JSON');
	if (kind === 'files') bits.push('one or more files');
	return (
		<>
			{(p.description || bits.length > 0) && (
				<div class="hint" id={id}>
					{p.description}
					{p.description && bits.length > 0 ? ' ' : ''}
					{bits.length > 0 && <span class="arg-format">({bits.join('; ')})</span>}
				</div>
			)}
			{errors && errors.length > 0 && (
				<div class="hint hint-error" id={id + '-err'} data-testid={'arg-error-' + p.name} role="alert">
					{errors.join(' ')}
				</div>
			)}
		</>
	);
}

function Label({ p, fid }) {
	return (
		<label for={fid}>
			<span class="mono">{p.name}</span>
			{p.required && (
				<span class="arg-required" title="required">
					{' '}*<span class="sr-only"> (required)</span>
				</span>
			)}
		</label>
	);
}

function Arg({ p, value, onChange, errors, idPrefix }) {
	const fid = `${idPrefix}-${p.name}`;
	const hid = fid + '-hint';
	const kind = fieldKind(p);
	const described = [p.description || kind === 'list' || kind === 'json' || p.minimum !== undefined || p.maximum !== undefined ? hid : null, errors && errors.length ? hid + '-err' : null].filter(Boolean).join(' ') || undefined;
	const common = {
		id: fid,
		name: p.name,
		'aria-describedby': described,
		'aria-invalid': errors && errors.length ? 'true' : undefined,
		'data-testid': 'arg-' + p.name,
		required: p.required || undefined,
	};
	let input;
	switch (kind) {
		case 'file':
		case 'files':
			input = <input type="file" {...common} multiple={kind === 'files'} onChange={(e) => onChange([...e.currentTarget.files])} />;
			break;
		case 'bool':
			if (boolIsTri(p)) {
				input = (
					<select {...common} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
						<option value="">(not given)</option>
						<option value="true">yes</option>
						<option value="false">no</option>
					</select>
				);
			} else {
				return (
					<div class="field arg">
						<div class="check">
							<input type="checkbox" {...common} required={undefined} checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
							<Label p={p} fid={fid} />
						</div>
						<Help p={p} id={hid} errors={errors} />
					</div>
				);
			}
			break;
		case 'enum':
			input = (
				<select {...common} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
					{(p.default === undefined || p.default === null) && <option value="">{p.required ? '(choose)' : '(not given)'}</option>}
					{p.enum.map((c) => (
						<option key={String(c)} value={String(c)}>
							{String(c)}
						</option>
					))}
				</select>
			);
			break;
		case 'multi':
			input = (
				<select {...common} multiple value={value} onChange={(e) => onChange([...e.currentTarget.selectedOptions].map((o) => o.value))}>
					{p.items.enum.map((c) => (
						<option key={String(c)} value={String(c)}>
							{String(c)}
						</option>
					))}
				</select>
			);
			break;
		case 'number':
			input = (
				<input
					type="number"
					{...common}
					step={p.type === 'integer' ? '1' : 'any'}
					min={p.minimum}
					max={p.maximum}
					value={value}
					onInput={(e) => onChange(e.currentTarget.value)}
				/>
			);
			break;
		case 'json':
			input = <textarea {...common} rows={3} class="mono" spellcheck={false} value={value} onInput={(e) => onChange(e.currentTarget.value)} />;
			break;
		default: {
			const type = p.format === 'email' ? 'email' : p.format === 'url' ? 'url' : p.format === 'date' ? 'date' : 'text';
			input = (
				<input
					type={type}
					{...common}
					class={kind === 'list' ? 'mono' : undefined}
					minLength={p.minLength}
					maxLength={p.maxLength}
					value={value}
					onInput={(e) => onChange(e.currentTarget.value)}
				/>
			);
		}
	}
	return (
		<div class="field arg">
			<Label p={p} fid={fid} />
			{input}
			<Help p={p} id={hid} errors={errors} />
		</div>
	);
}

// params: the parameters to show; values: {name: value}; errors: {name:
// [messages]}.
export function ArgFields({ params, values, setValue, errors }) {
	const idPrefix = 'arg' + useId().replace(/[^A-Za-z0-9_-]/g, '');
	return (
		<div class="args">
			{params.map((p) => (
				<Arg key={p.name} p={p} value={values[p.name]} onChange={(v) => setValue(p.name, v)} errors={errors && errors[p.name]} idPrefix={idPrefix} />
			))}
		</div>
	);
}
