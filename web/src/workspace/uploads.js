// workspace/uploads.js — uploading files with per-file progress.
//
// Small files go in one PUT /api/v1/files/PATH. Larger ones use the
// resumable upload API (docs/files.md): POST /api/v1/uploads, then chunks
// with Content-Range; when a chunk fails (network, 5xx, 409
// offset_mismatch) the uploader asks the server for its offset and goes on
// from there, so an interrupted upload never starts over. Requests go
// through XMLHttpRequest because fetch() reports no upload progress; the
// CSRF token goes with each one, as api.js does.
import { api, apiCsrf, apiErrorFrom } from '../api.js';
import { apiPathOf, joinPath } from './paths.js';

export const UPLOAD_SMALL = 4 << 20; // up to this size: one PUT
export const UPLOAD_CHUNK = 4 << 20;
const MAX_RETRIES = 6;
const PARALLEL = 3;

let nextId = 1;

function xhrSend(method, path, body, headers, onProgress, item) {
	return new Promise((resolve, reject) => {
		const x = new XMLHttpRequest();
		item.xhr = x;
		x.open(method, '/api/v1' + path);
		x.withCredentials = true;
		for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
		const csrf = apiCsrf();
		if (csrf) x.setRequestHeader('X-CSRF-Token', csrf);
		x.upload.onprogress = (e) => onProgress(e.loaded);
		x.onload = () => {
			item.xhr = null;
			if (x.status >= 200 && x.status < 300) {
				let data = null;
				try {
					data = x.responseText ? JSON.parse(x.responseText) : null;
				} catch {
					data = null;
				}
				resolve(data);
			} else {
				reject(apiErrorFrom(x.status, x.statusText, x.responseText, x.getResponseHeader('Retry-After')));
			}
		};
		x.onerror = () => {
			item.xhr = null;
			const e = new Error('The connection broke during the upload.');
			e.status = 0;
			e.code = 'network';
			reject(e);
		};
		x.onabort = () => {
			item.xhr = null;
			const e = new Error('Cancelled');
			e.code = 'cancelled';
			reject(e);
		};
		x.send(body);
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Worth retrying: the network, the server busy or failing, or an offset
// the client had wrong (the server says where it is).
function retryable(e) {
	return e.status === 0 || e.status >= 500 || e.code === 'offset_mismatch' || e.status === 429;
}

// Human words for the errors a user can act on.
export function uploadErrorText(e) {
	if (e.code === 'quota_exceeded') return `Over your quota: ${e.message}`;
	if (e.code === 'insufficient_storage') return `The server's disk is full: ${e.message}`;
	if (e.status === 413) return `Too large: ${e.message}`;
	return e.message;
}

// The upload manager: items with their progress, a change callback, at
// most PARALLEL uploads at once.
export class Uploader {
	constructor(onChange) {
		this.items = [];
		this.onChange = onChange;
		this.running = 0;
	}

	changed() {
		this.onChange([...this.items]);
	}

	// files: File objects into dir (a home path); overwrite: replace files
	// that exist (otherwise the server refuses with 409).
	add(files, dir, { overwrite = false, onDone } = {}) {
		for (const file of files) {
			this.items.push({
				id: nextId++,
				file,
				name: file.name,
				path: joinPath(dir, file.name),
				size: file.size,
				sent: 0,
				state: 'queued',
				error: null,
				resumable: file.size > UPLOAD_SMALL,
				retries: 0,
				overwrite,
				onDone,
				uploadId: null,
				xhr: null,
			});
		}
		this.changed();
		this.pump();
	}

	pump() {
		while (this.running < PARALLEL) {
			const it = this.items.find((i) => i.state === 'queued');
			if (!it) return;
			this.running++;
			it.state = 'uploading';
			this.changed();
			this.run(it).finally(() => {
				this.running--;
				this.changed();
				if (it.onDone) it.onDone(it);
				this.pump();
			});
		}
	}

	async run(it) {
		try {
			if (it.name.includes('/') || it.name === '.' || it.name === '..')
				throw Object.assign(new Error(`“${it.name}” cannot be a file name here`), { code: 'invalid' });
			if (it.resumable) await this.runResumable(it);
			else await this.runSmall(it);
			it.sent = it.size;
			it.state = 'done';
		} catch (e) {
			if (it.state === 'cancelled') return;
			it.state = 'error';
			it.error = uploadErrorText(e);
		}
	}

	async runSmall(it) {
		const headers = { 'Content-Type': 'application/octet-stream' };
		if (!it.overwrite) headers['If-None-Match'] = '*';
		await xhrSend('PUT', apiPathOf({ kind: 'home' }, it.path), it.file, headers, (n) => {
			it.sent = n;
			this.changed();
		}, it);
	}

	async runResumable(it) {
		if (!it.uploadId) {
			const up = await api('POST', '/uploads', { path: it.path, size: it.size, overwrite: it.overwrite });
			it.uploadId = up.id;
			it.sent = up.offset;
		}
		let offset = it.sent;
		while (offset < it.size) {
			if (it.state === 'cancelled') throw Object.assign(new Error('Cancelled'), { code: 'cancelled' });
			const end = Math.min(offset + UPLOAD_CHUNK, it.size);
			try {
				const base = offset;
				const up = await xhrSend(
					'PUT',
					'/uploads/' + encodeURIComponent(it.uploadId),
					it.file.slice(offset, end),
					{ 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${offset}-${end - 1}/${it.size}` },
					(n) => {
						it.sent = base + n;
						this.changed();
					},
					it,
				);
				offset = up && typeof up.offset === 'number' ? up.offset : end;
				it.sent = offset;
				this.changed();
			} catch (e) {
				if (it.state === 'cancelled' || !retryable(e) || it.retries >= MAX_RETRIES) throw e;
				it.retries++;
				it.note = `Connection lost, resuming (try ${it.retries} of ${MAX_RETRIES})…`;
				this.changed();
				await sleep(Math.min(8000, 500 * 2 ** (it.retries - 1)));
				// Every byte that reached the server is kept: go on from its offset.
				const up = await api('GET', '/uploads/' + encodeURIComponent(it.uploadId));
				offset = up.offset;
				it.sent = offset;
				it.note = null;
				this.changed();
			}
		}
	}

	cancel(id) {
		const it = this.items.find((i) => i.id === id);
		if (!it || (it.state !== 'queued' && it.state !== 'uploading')) return;
		it.state = 'cancelled';
		if (it.xhr) it.xhr.abort();
		if (it.uploadId) api('DELETE', '/uploads/' + encodeURIComponent(it.uploadId)).catch(() => {});
		this.changed();
	}

	// Try a failed one again (resumable ones go on from the server's offset).
	retry(id) {
		const it = this.items.find((i) => i.id === id);
		if (!it || it.state !== 'error') return;
		it.state = 'queued';
		it.error = null;
		it.retries = 0;
		if (!it.resumable) it.sent = 0;
		this.changed();
		this.pump();
	}

	clearFinished() {
		this.items = this.items.filter((i) => i.state === 'queued' || i.state === 'uploading');
		this.changed();
	}
}
