// router.js — hash-based routing (#/path), so the daemon only ever serves "/".
import { useEffect, useState } from 'preact/hooks';

export function routeCurrent() {
	const h = window.location.hash.replace(/^#/, '');
	return h.startsWith('/') ? h : '/';
}

export function routeGo(path, { replace = false } = {}) {
	const url = '#' + path;
	if (replace) {
		window.history.replaceState(null, '', url);
		window.dispatchEvent(new HashChangeEvent('hashchange'));
	} else if (window.location.hash !== url) {
		window.location.hash = url;
	}
}

export function useRoute() {
	const [route, setRoute] = useState(routeCurrent());
	useEffect(() => {
		const on = () => setRoute(routeCurrent());
		window.addEventListener('hashchange', on);
		return () => window.removeEventListener('hashchange', on);
	}, []);
	return route;
}

// A route may carry a query (#/calendar?r=12): its path and its parameters.
export function routePath(route) {
	const q = route.indexOf('?');
	return q < 0 ? route : route.slice(0, q);
}

export function routeQuery(route) {
	const q = route.indexOf('?');
	return new URLSearchParams(q < 0 ? '' : route.slice(q + 1));
}
