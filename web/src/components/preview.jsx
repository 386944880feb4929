// components/preview.jsx — a file's preview: images, PDF, video and audio
// from the file's URL; text (the first MiB) as text; Markdown rendered
// with HTML disabled; HTML in a sandboxed iframe.
//
// Nothing a user wrote ever runs as kaon: file responses carry
// `Content-Security-Policy: sandbox` (docs/files.md), the HTML iframe has
// an empty `sandbox` attribute on top (no scripts, an opaque origin, so no
// access to this page), text is rendered by Preact (escaped), and the
// Markdown renderer has raw HTML turned off and refuses javascript: links.
import { useEffect, useState } from 'preact/hooks';
import { apiRaw } from '../api.js';
import { apiPathOf, editable, fileUrl, fmtBytes, previewKind } from '../workspace/paths.js';
import { Dialog, ErrorBanner, Loading } from './ui.jsx';
import { Icon } from './icons.jsx';

const TEXT_MAX = 1 << 20;

let md = null;
async function markdownRender(src) {
	if (!md) {
		const { default: MarkdownIt } = await import('markdown-it');
		md = new MarkdownIt({ html: false, linkify: true, typographer: false });
	}
	return md.render(src);
}

// The first TEXT_MAX bytes of a file as text; null when it looks binary.
async function readText(place, path) {
	const res = await apiRaw('GET', apiPathOf(place, path), { headers: { Range: `bytes=0-${TEXT_MAX - 1}` } });
	const buf = new Uint8Array(await res.arrayBuffer());
	if (buf.subarray(0, 8192).includes(0)) return { text: null, cut: false };
	const range = res.headers.get('Content-Range');
	const total = range ? Number(range.split('/')[1]) : buf.length;
	return { text: new TextDecoder().decode(buf), cut: total > buf.length, total };
}

function TextPreview({ place, path, markdown }) {
	const [state, setState] = useState({ loading: true });
	useEffect(() => {
		let live = true;
		(async () => {
			try {
				const t = await readText(place, path);
				const html = markdown && t.text != null ? await markdownRender(t.text) : null;
				if (live) setState({ ...t, html, loading: false });
			} catch (error) {
				if (live) setState({ error, loading: false });
			}
		})();
		return () => {
			live = false;
		};
	}, [place, path, markdown]);
	if (state.loading) return <Loading />;
	if (state.error) return <ErrorBanner error={state.error} />;
	if (state.text == null) return <p class="muted">This file looks binary: download it to open it.</p>;
	return (
		<>
			{state.cut && (
				<p class="hint">
					Showing the first {fmtBytes(TEXT_MAX)} of {fmtBytes(state.total)}.
				</p>
			)}
			{state.html != null ? (
				// markdown-it with html:false escapes every tag in the source
				// and drops javascript:/vbscript:/data: links, so this HTML
				// holds only the markup it generated itself.
				<div class="markdown" data-testid="preview-markdown" dangerouslySetInnerHTML={{ __html: state.html }} />
			) : (
				<pre class="preview-text" data-testid="preview-text">
					{state.text}
				</pre>
			)}
		</>
	);
}

export function PreviewBody({ place, path }) {
	const kind = previewKind(path);
	const url = fileUrl(place, path);
	switch (kind) {
		case 'image':
			return (
				<div class="preview-media">
					<img src={url} alt={path} data-testid="preview-image" />
				</div>
			);
		case 'pdf':
			return <iframe class="preview-frame" src={url} title={'PDF ' + path} data-testid="preview-pdf" />;
		case 'html':
			return (
				<>
					<p class="hint">Shown as a page with scripts turned off; it cannot reach kaon or your session.</p>
					<iframe class="preview-frame" sandbox="" src={url} title={'HTML ' + path} referrerpolicy="no-referrer" data-testid="preview-html" />
				</>
			);
		case 'video':
			return <video class="preview-media" src={url} controls data-testid="preview-video" />;
		case 'audio':
			return <audio src={url} controls data-testid="preview-audio" />;
		case 'markdown':
			return <TextPreview place={place} path={path} markdown />;
		case 'text':
			return <TextPreview place={place} path={path} />;
		default:
			return <p class="muted">No preview for this kind of file. Download it, or open it in a new tab.</p>;
	}
}

export function PreviewDialog({ place, path, onClose, onEdit }) {
	return (
		<Dialog title={path.split('/').pop()} onClose={onClose} testid="preview-dialog" wide>
			<div class="dialog-body preview-body">
				<div class="preview-actions">
					{onEdit && place.kind === 'home' && editable(path) && (
						<button type="button" class="btn btn-small" onClick={onEdit} data-testid="preview-edit">
							<Icon name="edit" /> Edit
						</button>
					)}
					<a class="btn btn-small" href={fileUrl(place, path, { download: true })} download>
						<Icon name="download" /> Download
					</a>
					<a class="btn btn-small" href={fileUrl(place, path)} target="_blank" rel="noopener noreferrer">
						<Icon name="external" /> Open in new tab
					</a>
				</div>
				<PreviewBody place={place} path={path} />
			</div>
		</Dialog>
	);
}
