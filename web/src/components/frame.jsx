// components/frame.jsx — the application frame: header with the product
// name, navigation, and the user menu (username, log out).
import { useEffect, useRef, useState } from 'preact/hooks';
import { routePath } from '../router.js';
import { Bell } from './bell.jsx';

export function Logo() {
	return (
		<svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
			<rect width="32" height="32" rx="7" class="logo-bg" />
			<circle cx="16" cy="16" r="4.5" class="logo-fg" />
			<ellipse cx="16" cy="16" rx="11" ry="5" class="logo-ring" transform="rotate(-30 16 16)" />
		</svg>
	);
}

function UserMenu({ me, onLogout }) {
	const [open, setOpen] = useState(false);
	const wrap = useRef(null);
	const button = useRef(null);
	const first = useRef(null);

	useEffect(() => {
		if (!open) return undefined;
		if (first.current) first.current.focus();
		const away = (e) => {
			if (wrap.current && !wrap.current.contains(e.target)) setOpen(false);
		};
		const key = (e) => {
			if (e.key === 'Escape') {
				setOpen(false);
				if (button.current) button.current.focus();
			} else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
				const items = [...wrap.current.querySelectorAll('[role="menuitem"]')];
				if (!items.length) return;
				e.preventDefault();
				const i = items.indexOf(document.activeElement);
				const step = e.key === 'ArrowDown' ? 1 : -1;
				items[(i + step + items.length) % items.length].focus();
			}
		};
		document.addEventListener('mousedown', away);
		document.addEventListener('keydown', key);
		return () => {
			document.removeEventListener('mousedown', away);
			document.removeEventListener('keydown', key);
		};
	}, [open]);

	const initial = (me.display_name || me.username || '?').trim().charAt(0).toUpperCase();
	return (
		<div class="user-menu" data-testid="user-menu" ref={wrap}>
			<button
				type="button"
				class="user-button"
				id="user-menu-button"
				aria-haspopup="menu"
				aria-expanded={open ? 'true' : 'false'}
				aria-controls="user-menu-list"
				ref={button}
				onClick={() => setOpen(!open)}
			>
				<span class="avatar" aria-hidden="true">
					{initial}
				</span>
				<span class="user-name" data-testid="user-name">
					{me.username}
				</span>
				<svg class="caret" viewBox="0 0 20 20" aria-hidden="true">
					<path d="M5 8l5 5 5-5" />
				</svg>
			</button>
			{open && (
				<div class="menu" id="user-menu-list" role="menu" aria-labelledby="user-menu-button">
					<div class="menu-info" role="none">
						<strong>{me.display_name || me.username}</strong>
						{me.email && <span>{me.email}</span>}
						{me.admin && <span class="badge badge-info">admin</span>}
					</div>
					<a
						href="#/tokens"
						role="menuitem"
						class="menu-item"
						ref={first}
						onClick={() => setOpen(false)}
					>
						API tokens
					</a>
					<button
						type="button"
						role="menuitem"
						class="menu-item"
						id="logout"
						data-testid="logout"
						onClick={() => {
							setOpen(false);
							onLogout();
						}}
					>
						Log out
					</button>
				</div>
			)}
		</div>
	);
}

// also: other first segments that belong to the same entry.
export const NAV = [
	{ path: '/', label: 'Home' },
	{ path: '/files', label: 'Files', also: ['/datasets', '/edit'] },
	{ path: '/jobs', label: 'Jobs' },
	{ path: '/sessions', label: 'Sessions' },
	{ path: '/models', label: 'Models' },
	{ path: '/calendar', label: 'Calendar' },
	{ path: '/cluster', label: 'Cluster' },
	{ path: '/terminal', label: 'Terminal' },
	{ path: '/tokens', label: 'API tokens' },
	{ path: '/users', label: 'Users', admin: true },
	{ path: '/groups', label: 'Groups', admin: true },
];

export function Frame({ me, route, onLogout, error, children }) {
	const items = NAV.filter((n) => !n.admin || me.admin);
	const section = '/' + (routePath(route).split('/')[1] || '');
	return (
		<div class="frame" data-testid="frame">
			<a class="skip" href="#main" onClick={(e) => {
				e.preventDefault();
				const m = document.getElementById('main');
				if (m) m.focus();
			}}>
				Skip to content
			</a>
			<header class="topbar">
				<a href="#/" class="brand" aria-label="kaon home">
					<Logo />
					<span class="brand-name" data-testid="product-name">kaon</span>
				</a>
				<nav class="nav" aria-label="Main">
					<ul>
						{items.map((n) => (
							<li key={n.path}>
								<a
									href={'#' + n.path}
									data-testid={'nav-' + (n.path.slice(1) || 'home')}
									aria-current={section === n.path || (n.also && n.also.includes(section)) ? 'page' : undefined}
								>
									{n.label}
								</a>
							</li>
						))}
					</ul>
				</nav>
				<Bell route={route} />
				<UserMenu me={me} onLogout={onLogout} />
			</header>
			{error}
			<main id="main" tabIndex={-1} class="main">
				{children}
			</main>
		</div>
	);
}
