// components/bell.jsx — the notifications bell in the header: the unread
// count of GET /api/v1/notifications (polled every 30 s and on every
// navigation), a dropdown listing them; choosing one marks it read
// (POST /api/v1/notifications/read) and follows its link, a hash route
// such as "/calendar?r=12".
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api.js';
import { fmtRelative, fmtTime } from '../format.js';
import { routeGo } from '../router.js';

const POLL_MS = 30000;

export function Bell({ route }) {
	const [data, setData] = useState(null);
	const [open, setOpen] = useState(false);
	const [error, setError] = useState(null);
	const wrap = useRef(null);
	const button = useRef(null);
	const gen = useRef(0);

	const load = async () => {
		const mine = ++gen.current;
		try {
			const d = await apiGet('/notifications?limit=30');
			if (mine === gen.current) setData(d);
		} catch {
			// The bell stays as it was: a missed poll is not worth a banner
			// on every page, and the next one comes soon.
		}
	};

	useEffect(() => {
		setOpen(false);
		load();
		const t = setInterval(load, POLL_MS);
		return () => clearInterval(t);
	}, [route]);

	useEffect(() => {
		if (!open) return undefined;
		load();
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
		const first = wrap.current && wrap.current.querySelector('[role="menuitem"]');
		if (first) first.focus();
		return () => {
			document.removeEventListener('mousedown', away);
			document.removeEventListener('keydown', key);
		};
	}, [open]);

	const markRead = async (body) => {
		setError(null);
		try {
			await apiPost('/notifications/read', body);
		} catch (e) {
			setError(e.message);
		}
		await load();
	};

	const choose = async (n) => {
		setOpen(false);
		if (!n.read) await markRead({ ids: [n.id] });
		if (n.link && n.link.startsWith('/')) routeGo(n.link);
	};

	const unread = data ? data.unread : 0;
	const list = data ? data.notifications : [];
	return (
		<div class="bell" ref={wrap} data-testid="bell">
			<button
				type="button"
				class="bell-button"
				id="bell-button"
				ref={button}
				aria-haspopup="menu"
				aria-expanded={open ? 'true' : 'false'}
				aria-controls="bell-list"
				aria-label={unread ? `Notifications, ${unread} unread` : 'Notifications'}
				onClick={() => setOpen(!open)}
			>
				<svg class="bell-icon" viewBox="0 0 20 20" aria-hidden="true">
					<path d="M10 3a4.5 4.5 0 0 0-4.5 4.5V11L4 13.5h12L14.5 11V7.5A4.5 4.5 0 0 0 10 3ZM8.2 15.5a1.9 1.9 0 0 0 3.6 0" />
				</svg>
				{unread > 0 && (
					<span class="bell-count" data-testid="bell-count">
						{unread > 99 ? '99+' : unread}
					</span>
				)}
			</button>
			{open && (
				<div class="menu bell-menu" id="bell-list" role="menu" aria-labelledby="bell-button">
					<div class="bell-head" role="none">
						<strong>Notifications</strong>
						{unread > 0 && (
							<button type="button" class="btn btn-small" onClick={() => markRead({})} data-testid="bell-read-all">
								Mark all read
							</button>
						)}
					</div>
					{error && (
						<p class="hint hint-error bell-empty" role="alert">
							{error}
						</p>
					)}
					{list.length === 0 ? (
						<p class="muted small bell-empty" role="none">
							Nothing yet. kaon tells you here when an admin reviews your booking or releases an unused one.
						</p>
					) : (
						list.map((n) => (
							<button
								type="button"
								role="menuitem"
								key={n.id}
								class={'menu-item bell-item' + (n.read ? '' : ' bell-unread')}
								data-testid="notification"
								data-id={n.id}
								data-read={n.read ? 'true' : 'false'}
								data-kind={n.kind}
								onClick={() => choose(n)}
							>
								<span class="bell-text">{n.text}</span>
								<span class="muted small" title={fmtTime(n.created_at)}>
									{fmtRelative(n.created_at)}
									{n.read ? '' : ' · unread'}
								</span>
							</button>
						))
					)}
				</div>
			)}
		</div>
	);
}
