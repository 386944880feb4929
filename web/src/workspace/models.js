// workspace/models.js — the model pages' pure parts: which input a
// Swagger 2.0 parameter gets (docs/models.md, "Arguments"), the values of
// a generated form turned into a DEEPaaS request (multipart for predict,
// JSON for train), the equivalent curl line, and the DEEPaaS calls
// themselves (/v2/..., outside /api/v1), whose errors come in two shapes:
// DEEPaaS's {field: [messages]} (400, 422) and kaon's {error: {...}}.
import { ApiError, apiCsrf, apiErrorFrom } from '../api.js';

// The input for a parameter: file, files, bool, enum, multi, number,
// list, json or text.
export function fieldKind(p) {
	const items = p.items || {};
	if (p.type === 'file') return 'file';
	if (p.type === 'array' && items.type === 'file') return 'files';
	if (p.type === 'boolean') return 'bool';
	if (Array.isArray(p.enum) && p.enum.length) return 'enum';
	if (p.type === 'integer' || p.type === 'number') return 'number';
	if (p.type === 'array') return Array.isArray(items.enum) && items.enum.length ? 'multi' : 'list';
	if (p.type === 'object') return 'json';
	return 'text';
}

// A boolean without a default that may be left out has three states
// (yes, no, not given): a select; otherwise a checkbox.
export const boolIsTri = (p) => p.default === undefined && !p.required;

// The form's first values: the parameters' defaults.
export function initialValues(params) {
	const v = {};
	for (const p of params) {
		const d = p.default;
		switch (fieldKind(p)) {
			case 'file':
			case 'files':
				v[p.name] = [];
				break;
			case 'bool':
				v[p.name] = boolIsTri(p) ? '' : d === true;
				break;
			case 'multi':
				v[p.name] = Array.isArray(d) ? d.map(String) : [];
				break;
			case 'list':
				v[p.name] = Array.isArray(d) ? d.join(', ') : '';
				break;
			case 'json':
				v[p.name] = d === undefined || d === null ? '' : JSON.stringify(d);
				break;
			default:
				v[p.name] = d === undefined || d === null ? '' : String(d);
		}
	}
	return v;
}

const isNumberType = (t) => t === 'integer' || t === 'number';

// One typed value from its text, for a JSON body; null when it is not one.
function typed(text, type) {
	if (isNumberType(type)) {
		const n = Number(text);
		if (text.trim() === '' || !Number.isFinite(n)) return null;
		return n;
	}
	if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : null;
	return text;
}

// A list field's text: numbers are separated by commas or spaces, other
// values by commas only (they may hold spaces).
export function listItems(p, text) {
	const sep = isNumberType((p.items || {}).type) ? /[\s,;]+/ : /\s*,\s*/;
	return text
		.trim()
		.split(sep)
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

// What the form's values send: [{name, value, json, header}], value a
// string or a File (sent in a form), json the same typed (sent in a JSON
// body). Values left empty are not sent, so the model's default holds.
// problems: {name: message} for what cannot be sent (a JSON field that
// does not parse), before anything goes to the server.
export function formEntries(params, values) {
	const entries = [];
	const problems = {};
	for (const p of params) {
		const v = values[p.name];
		const header = p.in === 'header';
		const add = (value, json) => entries.push({ name: p.name, value, json, header });
		switch (fieldKind(p)) {
			case 'file':
			case 'files':
				for (const f of v || []) add(f, null);
				break;
			case 'bool':
				if (v === '' || v == null) break;
				add(String(v === true || v === 'true'), v === true || v === 'true');
				break;
			case 'multi':
				for (const x of v || []) add(x, typed(x, (p.items || {}).type) ?? x);
				break;
			case 'list': {
				const items = listItems(p, v || '');
				const t = (p.items || {}).type;
				for (const x of items) {
					const j = typed(x, t);
					if (j === null && isNumberType(t)) {
						problems[p.name] = `"${x}" is not a number.`;
						break;
					}
					add(x, j ?? x);
				}
				break;
			}
			case 'json': {
				if (!v || !v.trim()) break;
				try {
					add(v, JSON.parse(v));
				} catch {
					problems[p.name] = 'Not valid JSON.';
				}
				break;
			}
			default: {
				if (v === '' || v == null) break;
				const j = typed(v, p.type);
				add(v, j === null ? v : j);
			}
		}
	}
	return { entries, problems };
}

// The arguments of a JSON body (train): lists as arrays.
export function jsonBody(params, entries) {
	const body = {};
	for (const e of entries) {
		if (e.header || e.value instanceof File) continue;
		const p = params.find((x) => x.name === e.name);
		if (p && p.type === 'array') (body[e.name] = body[e.name] || []).push(e.json);
		else body[e.name] = e.json;
	}
	return body;
}

// ---- curl -------------------------------------------------------------

// Quoted for a POSIX shell.
export function shq(s) {
	return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : "'" + String(s).replace(/'/g, "'\\''") + "'";
}

// The same request from a terminal, with a token (kaon tokens create).
// predict: multipart (-F), as DEEPaaS's documentation shows it; train:
// the arguments in the query string.
export function curlLine({ origin, model, op, entries }) {
	const parts = ['curl', '-X POST', '-H "Authorization: Bearer $TOKEN"'];
	const query = [];
	for (const e of entries) {
		if (e.header) parts.push('-H ' + shq(`${e.name}: ${e.value}`));
		else if (e.value instanceof File) parts.push('-F ' + shq(`${e.name}=@${e.value.name}${e.value.type ? ';type=' + e.value.type : ''}`));
		else if (op === 'predict') parts.push('-F ' + shq(`${e.name}=${e.value}`));
		else query.push(encodeURIComponent(e.name) + '=' + encodeURIComponent(e.value));
	}
	const url = `${origin}/v2/models/${model}/${op}/` + (query.length ? '?' + query.join('&') : '');
	parts.push(shq(url));
	return parts.join(' ');
}

// ---- the accept argument ----------------------------------------------

// The response types to choose among: the model's, without DEEPaaS's
// catch-all */*.
export function acceptChoices(model) {
	return (model.accept || []).filter((t) => t && t !== '*/*');
}

// ---- DEEPaaS calls ------------------------------------------------------

// An ApiError whose .fields holds DEEPaaS's {field: [messages]}.
function fieldsError(status, fields) {
	const names = Object.keys(fields);
	const first = names.length ? `${names[0]}: ${[].concat(fields[names[0]]).join(' ')}` : '';
	const e = new ApiError(status, 'invalid', status === 422 ? 'Some arguments are not valid' + (first ? ` (${first})` : '') + '.' : first || 'Bad request.');
	e.fields = fields;
	return e;
}

// Is this body DEEPaaS's {field: [messages]}?
function isFieldsBody(d) {
	return d && typeof d === 'object' && !Array.isArray(d) && !d.error && Object.keys(d).length > 0 && Object.values(d).every((v) => Array.isArray(v));
}

// A request to the DEEPaaS API, with the session's CSRF token on the
// methods that change something (as api.js does for /api/v1). Resolves
// to the Response when ok; rejects with an ApiError (.fields for 400 and
// 422 field errors, .retryAfter for 429).
export async function v2Fetch(method, path, { body, headers = {}, signal } = {}) {
	const h = { Accept: 'application/json', ...headers };
	if (method !== 'GET' && method !== 'HEAD' && apiCsrf()) h['X-CSRF-Token'] = apiCsrf();
	let res;
	try {
		res = await fetch(path, { method, headers: h, body, signal, credentials: 'same-origin', cache: 'no-store' });
	} catch (e) {
		if (e && e.name === 'AbortError') throw e;
		throw new ApiError(0, 'network', 'Cannot reach the kaon server. Check your connection and try again.');
	}
	if (res.ok) return res;
	const text = await res.text();
	if (res.status === 400 || res.status === 422) {
		let d = null;
		try {
			d = JSON.parse(text);
		} catch {
			d = null;
		}
		if (isFieldsBody(d)) throw fieldsError(res.status, d);
	}
	throw apiErrorFrom(res.status, res.statusText, text, res.headers.get('Retry-After'));
}

export async function v2Json(method, path, opts) {
	const res = await v2Fetch(method, path, opts);
	return res.json();
}

// A prediction's answer as the page shows it: {kind: json|image|file,
// type, json | url (data: for images, which the CSP allows; blob: for a
// download), size, ms}.
export async function predictResult(res, started) {
	const type = (res.headers.get('Content-Type') || 'application/octet-stream').split(';')[0].trim().toLowerCase();
	const blob = await res.blob();
	const ms = Math.round(performance.now() - started);
	if (type === 'application/json' || type.endsWith('+json')) {
		const text = await blob.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			return { kind: 'file', type, url: URL.createObjectURL(blob), size: blob.size, ms };
		}
		return { kind: 'json', type, json, size: blob.size, ms };
	}
	if (type.startsWith('image/')) {
		const url = await new Promise((resolve, reject) => {
			const r = new FileReader();
			r.onload = () => resolve(r.result);
			r.onerror = () => reject(r.error);
			r.readAsDataURL(blob);
		});
		return { kind: 'image', type, url, size: blob.size, ms };
	}
	return { kind: 'file', type, url: URL.createObjectURL(blob), size: blob.size, ms };
}

// A file name for a downloaded answer: prediction.EXT from its type.
export function resultFileName(type) {
	const known = { 'text/plain': 'txt', 'text/csv': 'csv', 'application/pdf': 'pdf', 'application/zip': 'zip', 'audio/wav': 'wav', 'audio/x-wav': 'wav', 'video/mp4': 'mp4' };
	const sub = (type.split('/')[1] || 'bin').replace(/^x-/, '').replace(/[^a-z0-9]+/g, '');
	return 'prediction.' + (known[type] || sub || 'bin');
}

// Training statuses as badges.
export function trainingKind(status) {
	return { running: 'info', done: 'ok', error: 'error', cancelled: 'neutral' }[status] || 'neutral';
}
