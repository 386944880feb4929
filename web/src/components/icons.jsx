// components/icons.jsx — the small line icons of the workspace pages.
const PATHS = {
	folder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h3.6l1.6 1.8h5.8A1.5 1.5 0 0 1 17 8.3v6.2a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 3 14.5v-8Z',
	file: 'M5.5 2.5h6l3.5 3.5v10.5a1 1 0 0 1-1 1h-8.5a1 1 0 0 1-1-1v-13a1 1 0 0 1 1-1ZM11.5 2.5V6H15',
	link: 'M8.5 11.5l3-3M7 9.5 5.5 11a2.5 2.5 0 0 0 3.5 3.5l1.5-1.5M13 10.5l1.5-1.5A2.5 2.5 0 0 0 11 5.5L9.5 7',
	edit: 'M4 16l1-4 8.5-8.5 3 3L8 15l-4 1ZM12 5l3 3',
	download: 'M10 3v10M6 9.5l4 4 4-4M4 16.5h12',
	rename: 'M3 7h7M3 13h5M14 4v12M12 4h4M12 16h4',
	copy: 'M7 7h9v9H7zM4 13V4h9',
	trash: 'M4.5 6h11M8 6V4h4v2M6 6l.7 10h6.6L14 6',
	upload: 'M10 14V4M6 7.5l4-4 4 4M4 16.5h12',
	newfolder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h3.6l1.6 1.8h5.8A1.5 1.5 0 0 1 17 8.3v6.2a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 3 14.5v-8ZM10 9v5M7.5 11.5h5',
	newfile: 'M5.5 2.5h6l3.5 3.5v10.5a1 1 0 0 1-1 1h-8.5a1 1 0 0 1-1-1v-13a1 1 0 0 1 1-1ZM10 9v6M7 12h6',
	refresh: 'M15.5 8A6 6 0 1 0 16 11.5M16 4v4h-4',
	play: 'M6 4l10 6-10 6V4Z',
	stop: 'M5 5h10v10H5z',
	save: 'M4 4h9l3 3v9H4zM7 4v4h6V4M7 16v-5h6v5',
	eye: 'M2 10s3-6 8-6 8 6 8 6-3 6-8 6-8-6-8-6ZM10 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5Z',
	external: 'M11 4h5v5M16 4l-7 7M14 12v4H4V6h4',
	home: 'M3 9.5 10 4l7 5.5M5 8v8h10V8',
	database: 'M4 5c0-1.1 2.7-2 6-2s6 .9 6 2-2.7 2-6 2-6-.9-6-2ZM4 5v10c0 1.1 2.7 2 6 2s6-.9 6-2V5M4 10c0 1.1 2.7 2 6 2s6-.9 6-2',
};

export function Icon({ name, class: cls = '' }) {
	return (
		<svg class={'icon ' + cls} viewBox="0 0 20 20" aria-hidden="true">
			<path d={PATHS[name] || ''} />
		</svg>
	);
}
