// format.js — how times, sizes and limits are shown.

export function fmtTime(s) {
	if (!s) return '';
	const d = new Date(s);
	if (Number.isNaN(d.getTime())) return s;
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtDuration(sec) {
	if (sec == null) return '';
	if (sec === 0) return '0 s';
	const parts = [];
	const units = [
		['d', 86400],
		['h', 3600],
		['min', 60],
		['s', 1],
	];
	let rest = sec;
	for (const [u, n] of units) {
		if (rest >= n) {
			parts.push(`${Math.floor(rest / n)} ${u}`);
			rest %= n;
		}
		if (parts.length === 2) break;
	}
	return parts.join(' ');
}

export function fmtMem(mb) {
	if (mb == null) return '';
	if (mb >= 1024 * 1024 && mb % (1024 * 1024) === 0) return `${mb / (1024 * 1024)} TiB`;
	if (mb >= 1024 && mb % 1024 === 0) return `${mb / 1024} GiB`;
	return `${mb} MiB`;
}

// A limit: an integer, or null for "no limit".
export function fmtLimit(v, f = String) {
	return v == null ? 'no limit' : f(v);
}

// "in 5 min", "in 2 h 10 min", "5 min ago", "now": a time relative to now.
export function fmtRelative(s, now = Date.now()) {
	const t = new Date(s).getTime();
	if (Number.isNaN(t)) return '';
	const sec = Math.round((t - now) / 1000);
	if (Math.abs(sec) < 60) return 'now';
	// Whole minutes: seconds would only flicker.
	const d = fmtDuration(Math.round(Math.abs(sec) / 60) * 60);
	return sec > 0 ? `in ${d}` : `${d} ago`;
}
