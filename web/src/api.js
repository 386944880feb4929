// api.js — the one place the front-end talks to /api/v1.
//
// Cookie sessions need the session's CSRF token in X-CSRF-Token on every
// request other than GET/HEAD. The token lives only in memory: a reloaded
// page gets it back from GET /api/v1/me.

let csrfToken = null;
let onUnauthorized = null;

export function apiSetCsrf(token) {
	csrfToken = token || null;
}

// The session's CSRF token, for requests made without api() (uploads
// through XMLHttpRequest for their progress events).
export function apiCsrf() {
	return csrfToken;
}

// Called when a request made inside a session answers 401 (session ended).
export function apiOnUnauthorized(fn) {
	onUnauthorized = fn;
}

export class ApiError extends Error {
	// details: the whole error object of the answer, for the fields some
	// errors carry besides code and message (a 409's suggested windows).
	constructor(status, code, message, retryAfter, details) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
		this.details = details || {};
	}
}

// method, path under /api/v1, optional JSON body. Resolves to the parsed
// JSON answer (null for 204); rejects with an ApiError carrying the server's
// error.message.
export async function api(method, path, body, { quiet401 = false } = {}) {
	const headers = { Accept: 'application/json' };
	const opts = { method, headers, credentials: 'same-origin', cache: 'no-store' };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

	let res;
	try {
		res = await fetch('/api/v1' + path, opts);
	} catch (e) {
		throw new ApiError(0, 'network', 'Cannot reach the kaon server. Check your connection and try again.');
	}
	let data = null;
	const text = res.status === 204 ? '' : await res.text();
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = null;
		}
	}
	if (res.ok) return data;

	const err = data && typeof data === 'object' && data.error ? data.error : {};
	const retry = res.headers.get('Retry-After');
	const serverMsg = typeof err.message === 'string' && err.message ? err.message : '';
	const e = new ApiError(
		res.status,
		err.code || 'http_' + res.status,
		serverMsg ? serverMsg.charAt(0).toUpperCase() + serverMsg.slice(1) : `The server answered ${res.status} ${res.statusText}`.trim(),
		retry != null && /^\d+$/.test(retry) ? Number(retry) : null,
		err,
	);
	if (res.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(e);
	throw e;
}

export const apiGet = (path, opts) => api('GET', path, undefined, opts);
export const apiPost = (path, body, opts) => api('POST', path, body, opts);
export const apiPatch = (path, body, opts) => api('PATCH', path, body, opts);
export const apiDelete = (path, opts) => api('DELETE', path, undefined, opts);

// An ApiError from a Response (or an XMLHttpRequest) that is not ok.
export function apiErrorFrom(status, statusText, text, retryAfter) {
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		data = null;
	}
	const err = data && typeof data === 'object' && data.error ? data.error : {};
	const serverMsg = typeof err.message === 'string' && err.message ? err.message : '';
	const e = new ApiError(
		status,
		err.code || 'http_' + status,
		serverMsg ? serverMsg.charAt(0).toUpperCase() + serverMsg.slice(1) : `The server answered ${status} ${statusText || ''}`.trim(),
		retryAfter != null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null,
	);
	if (status === 401 && onUnauthorized) onUnauthorized(e);
	return e;
}

// A request whose body or answer is not JSON (file bytes). Resolves to the
// Response when it is ok, rejects with an ApiError otherwise. The CSRF
// token goes with every method other than GET/HEAD, as in api().
export async function apiRaw(method, path, { body, headers = {}, signal } = {}) {
	const h = { ...headers };
	if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
	let res;
	try {
		res = await fetch('/api/v1' + path, { method, headers: h, body, signal, credentials: 'same-origin', cache: 'no-store' });
	} catch (e) {
		if (e && e.name === 'AbortError') throw e;
		throw new ApiError(0, 'network', 'Cannot reach the kaon server. Check your connection and try again.');
	}
	if (res.ok || res.status === 304) return res;
	const text = await res.text();
	const e = apiErrorFrom(res.status, res.statusText, text, res.headers.get('Retry-After'));
	e.etag = res.headers.get('ETag');
	throw e;
}

export const apiPut = (path, body, opts) => api('PUT', path, body, opts);
