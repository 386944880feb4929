// app.jsx — session state and routing: the login page when there is no
// session, otherwise the frame with the page the hash names.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, apiOnUnauthorized, apiPost, apiSetCsrf } from './api.js';
import { routeGo, routePath, useRoute } from './router.js';
import { Frame, Logo } from './components/frame.jsx';
import { ErrorBanner, Loading } from './components/ui.jsx';
import { LoginPage } from './pages/login.jsx';
import { HomePage } from './pages/home.jsx';
import { TokensPage } from './pages/tokens.jsx';
import { UsersPage } from './pages/users.jsx';
import { GroupsPage } from './pages/groups.jsx';
import { TerminalPage } from './pages/terminal.jsx';
import { NotFoundPage } from './pages/notfound.jsx';
import { FilesPage } from './pages/files.jsx';
import { EditorPage } from './pages/editor.jsx';
import { JobsPage } from './pages/jobs.jsx';
import { ClusterPage } from './pages/cluster.jsx';
import { SessionsPage } from './pages/sessions.jsx';
import { CalendarPage } from './pages/calendar.jsx';
import { ModelsPage, PublicTryPage } from './pages/models.jsx';

const PAGES = [
	{ path: '/', page: HomePage },
	{ path: '/tokens', page: TokensPage },
	{ path: '/terminal', page: TerminalPage },
	{ path: '/users', page: UsersPage, admin: true },
	{ path: '/groups', page: GroupsPage, admin: true },
	// prefix: also every route below it (#/files/a/b, #/jobs/12, #/sessions/12/shell).
	{ path: '/files', page: FilesPage, prefix: true },
	{ path: '/datasets', page: FilesPage, prefix: true },
	{ path: '/edit', page: EditorPage, prefix: true },
	{ path: '/jobs', page: JobsPage, prefix: true },
	{ path: '/cluster', page: ClusterPage },
	// #/sessions/ID/shell: a shell session's terminal.
	{ path: '/sessions', page: SessionsPage, prefix: true },
	// #/calendar?r=ID: that reservation's details.
	{ path: '/calendar', page: CalendarPage },
	// #/models/NAME, #/models/NAME/try, #/models/NAME/train?t=UUID.
	{ path: '/models', page: ModelsPage, prefix: true },
];

// #/try/NAME: the model name, when the route is a public Try it page.
function publicRoute(route) {
	const hit = /^\/try\/([^/?]+)$/.exec(routePath(route));
	if (!hit) return null;
	try {
		return decodeURIComponent(hit[1]);
	} catch {
		return hit[1];
	}
}

export function App() {
	const route = useRoute();
	// undefined while GET /me is in flight, null without a session.
	const [me, setMe] = useState(undefined);
	const [notice, setNotice] = useState(null);
	const [logoutError, setLogoutError] = useState(null);
	const next = useRef('/');

	const reloadMe = useCallback(async () => {
		const m = await apiGet('/me', { quiet401: true });
		apiSetCsrf(m.csrf_token);
		setMe(m);
		return m;
	}, []);

	useEffect(() => {
		apiOnUnauthorized(() => {
			apiSetCsrf(null);
			setMe(null);
			setNotice('Your session has ended. Please log in again.');
		});
		reloadMe().catch((e) => {
			setMe(null);
			if (e.status !== 401) setNotice(e.message);
		});
	}, [reloadMe]);

	// Keep the hash in step with the session.
	useEffect(() => {
		if (me === null && route !== '/login' && !publicRoute(route)) {
			next.current = route;
			routeGo('/login', { replace: true });
		} else if (me && route === '/login') {
			// The session proxy sends a browser without a login here as
			// /?next=/s/ID/...#/login: back to that session page. Only a
			// session path, so the parameter cannot send anyone elsewhere.
			const back = new URLSearchParams(window.location.search).get('next');
			if (back && /^\/s\/[1-9][0-9]*\//.test(back) && !back.startsWith('//')) {
				window.location.assign(back);
				return;
			}
			routeGo(next.current && next.current !== '/login' ? next.current : '/', { replace: true });
		}
	}, [me, route]);

	const onLogin = async (session) => {
		apiSetCsrf(session.csrf_token);
		setNotice(null);
		try {
			await reloadMe();
		} catch {
			setMe({ ...session, groups: session.groups || [] });
		}
	};

	const onLogout = async () => {
		setLogoutError(null);
		try {
			await apiPost('/logout', undefined, { quiet401: true });
		} catch (e) {
			if (e.status !== 401) {
				setLogoutError(e);
				return;
			}
		}
		apiSetCsrf(null);
		next.current = '/';
		setNotice(null);
		setMe(null);
		routeGo('/login');
	};

	if (me === undefined) {
		return (
			<div class="splash">
				<Logo />
				<Loading />
			</div>
		);
	}
	// A public model's Try it page (#/try/NAME) needs no session.
	const tryName = publicRoute(route);
	if (tryName) return <PublicTryPage name={tryName} me={me} />;
	if (me === null) return <LoginPage notice={notice} onLogin={onLogin} />;

	// A query (#/calendar?r=12) is the page's business, not the match's.
	const path = routePath(route);
	const found = PAGES.find((p) => p.path === path || (p.prefix && path.startsWith(p.path + '/')));
	let body;
	if (route === '/login') body = <Loading />;
	else if (!found || (found.admin && !me.admin)) body = <NotFoundPage route={route} />;
	else {
		const Page = found.page;
		body = <Page me={me} reloadMe={reloadMe} route={route} />;
	}
	return (
		<Frame
			me={me}
			route={route}
			onLogout={onLogout}
			error={logoutError && (
				<div class="frame-alert">
					<ErrorBanner error={logoutError} />
				</div>
			)}
		>
			{body}
		</Frame>
	);
}
