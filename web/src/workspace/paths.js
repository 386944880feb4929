// workspace/paths.js — file paths, the two kinds of places (your home and
// the read-only datasets), and how they map to API URLs and to #/ routes.
//
// A path is relative to its place, '/'-separated, without leading or
// trailing slashes ('' is the place itself). Every segment is
// percent-encoded on its own, so names with '#', '?', '%' or spaces
// travel intact; the server decodes once (docs/files.md).

export const HOME = { kind: 'home' };
export const dataset = (name) => ({ kind: 'dataset', name });

export function encPath(p) {
	return (p || '')
		.split('/')
		.filter(Boolean)
		.map(encodeURIComponent)
		.join('/');
}

function decSegments(s) {
	return s
		.split('/')
		.filter(Boolean)
		.map((x) => {
			try {
				return decodeURIComponent(x);
			} catch {
				return x;
			}
		});
}

// The API path under /api/v1 of path in place.
export function apiPathOf(place, path) {
	const base = place.kind === 'home' ? '/files' : '/datasets/' + encodeURIComponent(place.name);
	const e = encPath(path);
	return e ? base + '/' + e : base;
}

// The URL the browser fetches a file's bytes from (same origin, cookie).
export function fileUrl(place, path, { download = false } = {}) {
	return '/api/v1' + apiPathOf(place, path) + (download ? '?download=1' : '');
}

export function folderTarUrl(place, path) {
	return '/api/v1' + apiPathOf(place, path) + '?archive=tar';
}

// #/files/PATH for the home, #/datasets/NAME/PATH for a dataset.
export function filesRoute(place, path) {
	const e = encPath(path);
	if (place.kind === 'home') return '/files' + (e ? '/' + e : '');
	return '/datasets/' + encodeURIComponent(place.name) + (e ? '/' + e : '');
}

export function editRoute(path) {
	return '/edit/' + encPath(path);
}

// The place and path a /files... or /datasets... route names.
export function parseFilesRoute(route) {
	const segs = decSegments(route);
	if (segs[0] === 'datasets') {
		if (segs.length < 2) return { place: null, path: '' };
		return { place: dataset(segs[1]), path: segs.slice(2).join('/') };
	}
	return { place: HOME, path: segs.slice(1).join('/') };
}

export function parseEditRoute(route) {
	return decSegments(route).slice(1).join('/');
}

export function joinPath(dir, name) {
	return dir ? dir + '/' + name : name;
}

export function dirName(p) {
	const i = p.lastIndexOf('/');
	return i < 0 ? '' : p.slice(0, i);
}

export function baseName(p) {
	const i = p.lastIndexOf('/');
	return i < 0 ? p : p.slice(i + 1);
}

export function extOf(name) {
	const i = name.lastIndexOf('.');
	return i <= 0 ? '' : name.slice(i + 1).toLowerCase();
}

const IMAGE = ['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'svg', 'ico'];
const VIDEO = ['mp4', 'webm'];
const AUDIO = ['mp3', 'wav', 'ogg'];
const TEXT = [
	'txt', 'log', 'csv', 'tsv', 'py', 'sh', 'bash', 'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'cu', 'r', 'jl',
	'json', 'ipynb', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'xml', 'css', 'js', 'mjs', 'ts', 'tex',
	'bib', 'rst', 'out', 'err', 'slurm', 'sbatch', 'makefile', 'mk', 'go', 'rs', 'java', 'm', 'lua', 'sql',
];

// How a file is previewed: image, pdf, markdown, html, video, audio, text,
// or none (open in the browser or download instead).
export function previewKind(name) {
	const x = extOf(name);
	if (IMAGE.includes(x)) return 'image';
	if (x === 'pdf') return 'pdf';
	if (x === 'md' || x === 'markdown') return 'markdown';
	if (x === 'html' || x === 'htm') return 'html';
	if (VIDEO.includes(x)) return 'video';
	if (AUDIO.includes(x)) return 'audio';
	if (TEXT.includes(x) || !x || /^(readme|license|makefile|dockerfile)/i.test(name)) return 'text';
	return 'none';
}

// Whether the editor opens it (text-like files, and html/markdown sources).
export function editable(name) {
	const k = previewKind(name);
	return k === 'text' || k === 'markdown' || k === 'html' || extOf(name) === 'svg';
}

export function fmtBytes(n) {
	if (n == null) return '';
	if (n < 1024) return `${n} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
	let v = n / 1024;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
